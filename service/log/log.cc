#include "service/log/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace okr::log {
namespace {

std::atomic<bool> json_format{false};
absl::Mutex mu;

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void Write(absl::string_view level, absl::string_view message, const Fields& fields) {
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::string line;
  if (json_format.load(std::memory_order_relaxed)) {
    line = absl::StrCat("{\"time\":", JsonString(time), ",\"level\":", JsonString(level),
                        ",\"msg\":", JsonString(message));
    for (const auto& [k, v] : fields)
      absl::StrAppend(&line, ",", JsonString(k), ":", JsonString(v));
    line += "}\n";
  } else {
    line = absl::StrCat(time, " ", level, " ", message);
    for (const auto& [k, v] : fields) absl::StrAppend(&line, " ", k, "=", v);
    line += "\n";
  }
  absl::MutexLock lock(&mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void SetJsonFormat(bool json) { json_format.store(json); }
void Info(absl::string_view message, const Fields& fields) { Write("INFO", message, fields); }
void Warn(absl::string_view message, const Fields& fields) { Write("WARN", message, fields); }
void Error(absl::string_view message, const Fields& fields) { Write("ERROR", message, fields); }

}  // namespace okr::log
