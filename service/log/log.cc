#include "service/log/log.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace okr::log {
namespace {

std::atomic<bool> json_format{false};
std::atomic<std::FILE*> output{nullptr};  // nullptr: stderr
absl::Mutex mu;
thread_local std::string current_request_id;

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
    if (!current_request_id.empty()) {
      absl::StrAppend(&line, ",\"request_id\":", JsonString(current_request_id));
    }
    line += "}\n";
  } else {
    line = absl::StrCat(time, " ", level, " ", message);
    for (const auto& [k, v] : fields) absl::StrAppend(&line, " ", k, "=", v);
    if (!current_request_id.empty()) absl::StrAppend(&line, " request_id=", current_request_id);
    line += "\n";
  }
  std::FILE* out = output.load();
  if (out == nullptr) out = stderr;
  absl::MutexLock lock(&mu);
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace

void SetJsonFormat(bool json) { json_format.store(json); }
void SetOutput(std::FILE* out) { output.store(out); }

std::string NewRequestId() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

std::string AcceptOrNewRequestId(absl::string_view incoming) {
  if (incoming.empty() || incoming.size() > kMaxRequestIdBytes) return NewRequestId();
  for (char c : incoming) {
    if (c < 0x21 || c > 0x7e) return NewRequestId();  // controls, space, DEL, non-ASCII
  }
  return std::string(incoming);
}

ScopedRequestId::ScopedRequestId(std::string request_id)
    : previous_(std::exchange(current_request_id, std::move(request_id))) {}

ScopedRequestId::~ScopedRequestId() { current_request_id = std::move(previous_); }

const std::string& CurrentRequestId() { return current_request_id; }
void Info(absl::string_view message, const Fields& fields) { Write("INFO", message, fields); }
void Warn(absl::string_view message, const Fields& fields) { Write("WARN", message, fields); }
void Error(absl::string_view message, const Fields& fields) { Write("ERROR", message, fields); }

}  // namespace okr::log
