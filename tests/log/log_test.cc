// Request ids on log lines: scoped per thread, in both formats, and only acceptable ids
// from callers.
#include "service/log/log.h"

#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::log {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// Captures log lines in a temporary file for the test's lifetime.
class LogCapture {
 public:
  LogCapture() : file_(std::tmpfile()) { SetOutput(file_); }
  ~LogCapture() {
    SetOutput(nullptr);
    SetJsonFormat(false);
    std::fclose(file_);
  }
  std::vector<std::string> Lines() {
    std::fflush(file_);
    std::rewind(file_);
    std::string text;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file_)) > 0) text.append(buffer, n);
    return absl::StrSplit(text, '\n', absl::SkipEmpty());
  }

 private:
  std::FILE* file_;
};

TEST(LogRequestIdTest, TextLinesCarryTheScopedRequestId) {
  LogCapture capture;
  Info("before");
  {
    ScopedRequestId scope("req-1");
    Info("inside", {{"k", "v"}});
    {
      ScopedRequestId nested("req-2");
      Warn("nested");
    }
    Error("inside again");
  }
  Info("after");
  std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_THAT(lines[0], Not(HasSubstr("request_id")));
  EXPECT_THAT(lines[1], EndsWith("INFO inside k=v request_id=req-1"));
  EXPECT_THAT(lines[2], EndsWith("WARN nested request_id=req-2"));
  EXPECT_THAT(lines[3], EndsWith("ERROR inside again request_id=req-1"));
  EXPECT_THAT(lines[4], Not(HasSubstr("request_id")));
  EXPECT_EQ(CurrentRequestId(), "");
}

TEST(LogRequestIdTest, JsonLinesCarryRequestIdField) {
  LogCapture capture;
  SetJsonFormat(true);
  {
    ScopedRequestId scope("abc\"def");
    Info("webhook delivery", {{"outcome", "accepted"}});
  }
  Info("no request");
  std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], EndsWith(R"("msg":"webhook delivery","outcome":"accepted",)"
                                 R"("request_id":"abc\"def"})"));
  EXPECT_THAT(lines[1], Not(HasSubstr("request_id")));
}

TEST(LogRequestIdTest, ScopeIsPerThread) {
  LogCapture capture;
  ScopedRequestId scope("main-thread");
  std::thread other([] { Info("from other thread"); });
  other.join();
  std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], Not(HasSubstr("request_id")));
}

TEST(LogRequestIdTest, CallerIdsAreKeptOnlyWhenBoundedPrintableAscii) {
  EXPECT_EQ(AcceptOrNewRequestId("3f2a-client.id_7"), "3f2a-client.id_7");
  EXPECT_EQ(AcceptOrNewRequestId(std::string(kMaxRequestIdBytes, 'a')),
            std::string(kMaxRequestIdBytes, 'a'));
  const std::string kGenerated = "[0-9a-f]{32}";
  for (const std::string& bad :
       {std::string(), std::string(kMaxRequestIdBytes + 1, 'a'), std::string("two words"),
        std::string("line\nbreak"), std::string("tab\t"), std::string("caf\xc3\xa9"),
        std::string("nul\0x", 5), std::string("del\x7f")}) {
    const std::string id = AcceptOrNewRequestId(bad);
    EXPECT_THAT(id, MatchesRegex(kGenerated)) << bad;
  }
  EXPECT_NE(NewRequestId(), NewRequestId());
}

}  // namespace
}  // namespace okr::log
