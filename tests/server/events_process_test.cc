// Process-level tests of the event features of the okr-server binary: signed webhook
// deliveries to a local HTTP receiver (signature, event id, JSON body), retries after 5xx
// without loss, a kill -9 in the middle of a retry; WatchEvents resumed from the last
// sequence seen, and a clean SIGTERM while a stream is open.
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::okr::testing::ServerProcess;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr char kSecret[] = "process-test-subscription-secret";
constexpr char kKeyResult[] = "objectives/o/keyResults/k";

// Lowercase hex HMAC-SHA256, computed here with OpenSSL rather than the service's helper.
std::string HmacHex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xf]);
  }
  return out;
}

// One POST the receiver got, with the status it answered.
struct Post {
  std::string body;
  std::string signature;
  std::string event_id;
  std::string event_type;
  std::string content_type;
  int answered = 0;
};

// A webhook receiver on a free loopback port: records every POST to /hook and answers 200,
// or 500 while told to fail.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      Post post;
      post.body = req.body;
      post.signature = req.get_header_value("X-OKR-Signature");
      post.event_id = req.get_header_value("X-OKR-Event-Id");
      post.event_type = req.get_header_value("X-OKR-Event-Type");
      post.content_type = req.get_header_value("Content-Type");
      absl::MutexLock lock(&mu_);
      if (fail_all_ || fail_next_ > 0) {
        if (fail_next_ > 0) --fail_next_;
        post.answered = 500;
      } else {
        post.answered = 200;
      }
      res.status = post.answered;
      res.set_content("{}", "application/json");
      posts_.push_back(std::move(post));
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!server_.is_running() && absl::Now() < deadline) std::this_thread::yield();
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hook"); }
  void FailNext(int n) {
    absl::MutexLock lock(&mu_);
    fail_next_ = n;
  }
  void FailAll(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_all_ = fail;
  }
  std::vector<Post> posts() {
    absl::MutexLock lock(&mu_);
    return posts_;
  }
  // Event ids answered 200, in the order of their first successful delivery.
  std::vector<int64_t> Delivered() {
    std::vector<int64_t> out;
    for (const Post& p : posts()) {
      int64_t id = 0;
      if (p.answered != 200 || !absl::SimpleAtoi(p.event_id, &id)) continue;
      bool seen = false;
      for (int64_t d : out) seen = seen || d == id;
      if (!seen) out.push_back(id);
    }
    return out;
  }
  // Waits until every id in `want` was answered 200 (deadline 30 s).
  bool WaitForDelivered(const std::vector<int64_t>& want) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      std::vector<int64_t> got = Delivered();
      bool all = true;
      for (int64_t w : want) {
        bool found = false;
        for (int64_t g : got) found = found || g == w;
        all = all && found;
      }
      if (all) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }
  // Waits until at least `n` POSTs arrived (deadline 30 s).
  bool WaitForPosts(size_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (posts().size() >= n) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<Post> posts_ ABSL_GUARDED_BY(mu_);
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  bool fail_all_ ABSL_GUARDED_BY(mu_) = false;
};

class EventsProcessTest : public ::testing::Test {
 protected:
  std::vector<std::string> Args() {
    return {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
            "--database=sqlite:" + dir_.File("okr.db"), "--delivery-initial-backoff=200ms",
            "--delivery-max-backoff=1s",
            // The receivers listen on loopback, which deliveries may not reach by default.
            "--outbound-allow-cidrs=127.0.0.0/8"};
  }
  std::unique_ptr<v1::OkrService::Stub> Connect(int port) {
    return v1::OkrService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  static std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 10) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return ctx;
  }
  // Team t, cycle c, objective o and metric key result k (0 -> 1000).
  void CreateBasics(v1::OkrService::Stub& stub) {
    v1::CreateTeamRequest team;
    team.set_team_id("t");
    team.mutable_team()->set_display_name("T");
    v1::Team t;
    ASSERT_TRUE(stub.CreateTeam(Ctx().get(), team, &t).ok());
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    v1::CreateCycleRequest cycle;
    cycle.set_cycle_id("c");
    cycle.mutable_cycle()->set_display_name("C");
    cycle.mutable_cycle()->mutable_start_time()->set_seconds(now - 45 * 86400);
    cycle.mutable_cycle()->mutable_end_time()->set_seconds(now + 45 * 86400);
    v1::Cycle c;
    ASSERT_TRUE(stub.CreateCycle(Ctx().get(), cycle, &c).ok());
    v1::CreateObjectiveRequest obj;
    obj.set_objective_id("o");
    obj.mutable_objective()->set_title("O");
    obj.mutable_objective()->set_team("teams/t");
    obj.mutable_objective()->set_cycle("cycles/c");
    v1::Objective o;
    ASSERT_TRUE(stub.CreateObjective(Ctx().get(), obj, &o).ok());
    v1::CreateKeyResultRequest kr;
    kr.set_parent("objectives/o");
    kr.set_key_result_id("k");
    kr.mutable_key_result()->set_title("K");
    kr.mutable_key_result()->mutable_metric()->set_start_value(0);
    kr.mutable_key_result()->mutable_metric()->set_target_value(1000);
    v1::KeyResult k;
    ASSERT_TRUE(stub.CreateKeyResult(Ctx().get(), kr, &k).ok());
  }
  static v1::CheckIn CheckIn(v1::OkrService::Stub& stub, double value) {
    v1::CreateCheckInRequest req;
    req.set_parent(kKeyResult);
    req.mutable_check_in()->set_value(value);
    v1::CheckIn out;
    grpc::Status status = stub.CreateCheckIn(Ctx().get(), req, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }
  // Every event of `parent`, oldest first.
  static std::vector<v1::Event> ListEvents(v1::OkrService::Stub& stub, const std::string& parent) {
    std::vector<v1::Event> out;
    std::string token;
    do {
      v1::ListEventsRequest req;
      req.set_parent(parent);
      req.set_page_size(100);
      req.set_page_token(token);
      v1::ListEventsResponse resp;
      grpc::Status status = stub.ListEvents(Ctx().get(), req, &resp);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      out.insert(out.end(), resp.events().begin(), resp.events().end());
      token = resp.next_page_token();
    } while (!token.empty());
    return out;
  }
  static std::vector<int64_t> SequencesAfter(const std::vector<v1::Event>& events, int64_t after) {
    std::vector<int64_t> out;
    for (const v1::Event& e : events) {
      if (e.sequence() > after) out.push_back(e.sequence());
    }
    return out;
  }
  static int64_t LastSequence(const std::vector<v1::Event>& events) {
    return events.empty() ? 0 : events.back().sequence();
  }
  // A subscription to the objective's subtree (the objective and its key result).
  static v1::Subscription Subscribe(v1::OkrService::Stub& stub, const std::string& url) {
    v1::CreateSubscriptionRequest req;
    req.set_subscription_id("hook");
    req.mutable_subscription()->set_target_url(url);
    req.mutable_subscription()->set_secret(kSecret);
    req.mutable_subscription()->mutable_filter()->set_objective("objectives/o");
    v1::Subscription out;
    grpc::Status status = stub.CreateSubscription(Ctx().get(), req, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  testing::TempDir dir_;
};

TEST_F(EventsProcessTest, Subscription_ReceivesSignedProgressEventsOfCheckIns) {
  Receiver receiver;
  ServerProcess p(Args(), dir_.File("server.log"));
  const int port = p.WaitForGrpcPort();
  ASSERT_GT(port, 0) << p.Log();
  auto stub = Connect(port);
  CreateBasics(*stub);
  const int64_t before = LastSequence(ListEvents(*stub, "objectives/o"));
  v1::Subscription sub = Subscribe(*stub, receiver.url());
  EXPECT_EQ(sub.name(), "subscriptions/hook");
  EXPECT_TRUE(sub.secret().empty()) << "the secret is input only";

  const v1::CheckIn first = CheckIn(*stub, 100);   // 0 -> 0.1
  const v1::CheckIn second = CheckIn(*stub, 300);  // 0.1 -> 0.3
  const std::vector<int64_t> want = SequencesAfter(ListEvents(*stub, "objectives/o"), before);
  ASSERT_FALSE(want.empty());
  ASSERT_TRUE(receiver.WaitForDelivered(want)) << p.Log();
  EXPECT_EQ(receiver.Delivered(), want);

  std::vector<nlohmann::json> kr_progress;
  for (const Post& post : receiver.posts()) {
    EXPECT_EQ(post.signature, "sha256=" + HmacHex(kSecret, post.body)) << post.body;
    EXPECT_THAT(post.content_type, HasSubstr("application/json"));
    nlohmann::json body = nlohmann::json::parse(post.body, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(body.is_object()) << post.body;
    // int64 is a JSON string in proto3 JSON.
    EXPECT_EQ(body.value("sequence", ""), post.event_id) << post.body;
    EXPECT_EQ(body.value("type", ""), post.event_type) << post.body;
    if (post.event_type == "PROGRESS_CHANGED" && body.value("subject", "") == kKeyResult) {
      kr_progress.push_back(body);
    }
  }
  ASSERT_EQ(kr_progress.size(), 2u);
  // Proto3 JSON leaves out zero values: the first check-in's old progress of 0 is absent.
  EXPECT_DOUBLE_EQ(kr_progress[0].value("oldProgress", 0.0), 0.0);
  EXPECT_DOUBLE_EQ(kr_progress[0].at("newProgress").get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(kr_progress[1].at("oldProgress").get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(kr_progress[1].at("newProgress").get<double>(), 0.3);
  EXPECT_EQ(kr_progress[0]["cause"].value("kind", ""), "CAUSE_CHECK_IN");
  EXPECT_EQ(kr_progress[0]["cause"].value("ref", ""), first.name());
  EXPECT_EQ(kr_progress[1]["cause"].value("ref", ""), second.name());
  EXPECT_EQ(kr_progress[1].value("keyResult", ""), kKeyResult);
  EXPECT_EQ(kr_progress[1].value("team", ""), "teams/t");

  v1::GetSubscriptionRequest get;
  get.set_name("subscriptions/hook");
  // The cursor is saved after the round's POSTs; poll for it.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  v1::Subscription got;
  do {
    ASSERT_TRUE(stub->GetSubscription(Ctx().get(), get, &got).ok());
    if (got.delivered_sequence() >= want.back()) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  EXPECT_EQ(got.delivered_sequence(), want.back());
  EXPECT_EQ(got.state(), v1::SUBSCRIPTION_ACTIVE);
}

TEST_F(EventsProcessTest, Receiver500ThreeTimes_EventRetriedThenEverythingDeliveredInOrder) {
  Receiver receiver;
  ServerProcess p(Args(), dir_.File("server.log"));
  const int port = p.WaitForGrpcPort();
  ASSERT_GT(port, 0) << p.Log();
  auto stub = Connect(port);
  CreateBasics(*stub);
  const int64_t before = LastSequence(ListEvents(*stub, "objectives/o"));
  Subscribe(*stub, receiver.url());
  receiver.FailNext(3);
  for (double v : {100, 300, 600}) CheckIn(*stub, v);

  const std::vector<int64_t> want = SequencesAfter(ListEvents(*stub, "objectives/o"), before);
  ASSERT_TRUE(receiver.WaitForDelivered(want)) << p.Log();
  const std::vector<Post> posts = receiver.posts();
  ASSERT_GE(posts.size(), 4u);
  // The first event: three 500s, then the same event once more, answered 200.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(posts[i].event_id, absl::StrCat(want.front())) << i;
    EXPECT_EQ(posts[i].answered, i < 3 ? 500 : 200) << i;
    EXPECT_EQ(posts[i].body, posts[0].body) << "a retry sends the same body";
  }
  // After that, each event exactly once, in sequence order: nothing lost, nothing repeated.
  std::vector<int64_t> after_retries;
  for (size_t i = 3; i < posts.size(); ++i) {
    EXPECT_EQ(posts[i].answered, 200);
    int64_t id = 0;
    ASSERT_TRUE(absl::SimpleAtoi(posts[i].event_id, &id));
    after_retries.push_back(id);
  }
  EXPECT_EQ(after_retries, want);
  // The key result's own history is among them, in order.
  std::vector<int64_t> kr_events = SequencesAfter(ListEvents(*stub, kKeyResult), before);
  ASSERT_GE(kr_events.size(), 3u);
  std::vector<int64_t> delivered_kr;
  for (int64_t id : after_retries) {
    for (int64_t k : kr_events) {
      if (k == id) delivered_kr.push_back(id);
    }
  }
  EXPECT_THAT(delivered_kr, ElementsAreArray(kr_events));
}

TEST_F(EventsProcessTest, KillNineMidRetry_RestartDeliversEveryEventInOrder) {
  Receiver receiver;
  receiver.FailAll(true);
  int64_t before = 0;
  std::vector<int64_t> want;
  {
    ServerProcess p(Args(), dir_.File("server1.log"));
    const int port = p.WaitForGrpcPort();
    ASSERT_GT(port, 0) << p.Log();
    auto stub = Connect(port);
    CreateBasics(*stub);
    before = LastSequence(ListEvents(*stub, "objectives/o"));
    Subscribe(*stub, receiver.url());
    for (double v : {100, 300, 600}) CheckIn(*stub, v);
    want = SequencesAfter(ListEvents(*stub, "objectives/o"), before);
    // Two failed attempts: the first event is being retried (backoff stored).
    ASSERT_TRUE(receiver.WaitForPosts(2)) << p.Log();
    p.Signal(SIGKILL);
    EXPECT_EQ(p.Wait(), 128 + SIGKILL);
  }
  ASSERT_FALSE(want.empty());
  EXPECT_TRUE(receiver.Delivered().empty());
  receiver.FailAll(false);

  ServerProcess p(Args(), dir_.File("server2.log"));
  const int port = p.WaitForGrpcPort();
  ASSERT_GT(port, 0) << p.Log();
  auto stub = Connect(port);
  ASSERT_TRUE(receiver.WaitForDelivered(want)) << p.Log();
  // At least once, in order of first delivery, none lost.
  EXPECT_EQ(receiver.Delivered(), want);
  for (const Post& post : receiver.posts()) {
    EXPECT_EQ(post.signature, "sha256=" + HmacHex(kSecret, post.body));
  }
  // The restarted server's history is the one that was delivered.
  EXPECT_EQ(SequencesAfter(ListEvents(*stub, "objectives/o"), before), want);
}

// Reads from `reader` until an event with sequence `last` arrived; false if the stream ends.
bool ReadThrough(grpc::ClientReader<v1::Event>& reader, int64_t last, std::vector<v1::Event>* out) {
  v1::Event e;
  while (out->empty() || out->back().sequence() < last) {
    if (!reader.Read(&e)) return false;
    out->push_back(e);
  }
  return true;
}

std::vector<int64_t> Sequences(const std::vector<v1::Event>& events) {
  std::vector<int64_t> out;
  for (const v1::Event& e : events) out.push_back(e.sequence());
  return out;
}

TEST_F(EventsProcessTest, WatchEvents_ResumeFromLastSequenceReplaysExactlyTheMissedEvents) {
  ServerProcess p(Args(), dir_.File("server.log"));
  const int port = p.WaitForGrpcPort();
  ASSERT_GT(port, 0) << p.Log();
  auto stub = Connect(port);
  CreateBasics(*stub);

  v1::WatchEventsRequest watch;
  watch.mutable_filter()->set_team("teams/t");
  watch.set_after_sequence(0);
  std::unique_ptr<grpc::ClientContext> ctx = Ctx(30);
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader = stub->WatchEvents(ctx.get(), watch);
  const v1::CheckIn first = CheckIn(*stub, 100);
  const std::vector<v1::Event> history = ListEvents(*stub, "teams/t");
  ASSERT_FALSE(history.empty());
  std::vector<v1::Event> seen;
  ASSERT_TRUE(ReadThrough(*reader, history.back().sequence(), &seen));
  EXPECT_EQ(Sequences(seen), Sequences(history));
  bool saw_check_in = false;
  for (const v1::Event& e : seen) {
    saw_check_in = saw_check_in || (e.type() == v1::PROGRESS_CHANGED && e.subject() == kKeyResult &&
                                    e.cause().ref() == first.name());
  }
  EXPECT_TRUE(saw_check_in);
  const int64_t last = seen.back().sequence();
  ctx->TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  CheckIn(*stub, 300);
  CheckIn(*stub, 600);
  const std::vector<int64_t> missed = SequencesAfter(ListEvents(*stub, "teams/t"), last);
  ASSERT_FALSE(missed.empty());

  watch.set_after_sequence(last);
  ctx = Ctx(30);
  reader = stub->WatchEvents(ctx.get(), watch);
  std::vector<v1::Event> replayed;
  ASSERT_TRUE(ReadThrough(*reader, missed.back(), &replayed));
  EXPECT_EQ(Sequences(replayed), missed);
  // Nothing more is pending: the next event on the stream is the next change's.
  const v1::CheckIn next = CheckIn(*stub, 900);
  v1::Event e;
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_GT(e.sequence(), missed.back());
  EXPECT_EQ(e.cause().ref(), next.name());
  ctx->TryCancel();
  reader->Finish();
}

TEST_F(EventsProcessTest, Sigterm_WithOpenWatchStream_EndsTheStreamAndExitsZero) {
  ServerProcess p(Args(), dir_.File("server.log"));
  const int port = p.WaitForGrpcPort();
  ASSERT_GT(port, 0) << p.Log();
  auto stub = Connect(port);
  CreateBasics(*stub);
  v1::WatchEventsRequest watch;
  std::unique_ptr<grpc::ClientContext> ctx = Ctx(60);
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader = stub->WatchEvents(ctx.get(), watch);
  CheckIn(*stub, 100);
  v1::Event e;
  ASSERT_TRUE(reader->Read(&e));  // the stream is open and live

  p.Signal(SIGTERM);
  // The stream ends at once with UNAVAILABLE (retryable: resume from the last sequence),
  // not cancelled at the end of the server's 10 s shutdown grace period.
  while (reader->Read(&e)) {
  }
  const grpc::Status ended = reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << ended.error_message();
  EXPECT_THAT(ended.error_message(), HasSubstr("shutting down"));
  ASSERT_TRUE(p.WaitForExit(absl::Seconds(30))) << p.Log();
  EXPECT_EQ(p.Wait(), 0) << p.Log();
  EXPECT_THAT(p.Log(), HasSubstr("stopped"));
}

}  // namespace
}  // namespace okr
