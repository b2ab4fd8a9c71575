// Events through the public API: a real OkrServer (SQLite file, fake clock) on a loopback
// port, called through the generated stub. WatchEvents delivers the events of a check-in
// and of a linked item closing in order and resumes exactly after a sequence; webhook
// subscriptions reach a local HTTP receiver signed, survive failures without loss, and
// turn FAILING after the give-up age.
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "service/outbound/signature.h"
#include "service/server/okr_server.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kEnd = kStart + absl::Hours(100);
constexpr char kSecret[] = "s3cret-s3cret-s3cret";

// A webhook receiver on a loopback port: records every POST and answers 500 while told to.
class Receiver {
 public:
  struct Delivery {
    int status = 0;
    std::string signature;
    std::string event_id;
    std::string event_type;
    std::string body;
  };
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      Delivery d;
      d.status = fail_next_ > 0 ? 500 : 200;
      if (fail_next_ > 0) --fail_next_;
      d.signature = req.get_header_value("X-OKR-Signature");
      d.event_id = req.get_header_value("X-OKR-Event-Id");
      d.event_type = req.get_header_value("X-OKR-Event-Type");
      d.body = req.body;
      res.status = d.status;
      res.set_content("{}", "application/json");
      deliveries_.push_back(std::move(d));
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void FailNext(int n) {
    absl::MutexLock lock(&mu_);
    fail_next_ = n;
  }
  std::vector<Delivery> deliveries() {
    absl::MutexLock lock(&mu_);
    return deliveries_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Delivery> deliveries_ ABSL_GUARDED_BY(mu_);
};

class EventsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerConfig config;
    config.grpc_address = "127.0.0.1:0";
    config.http_address = "127.0.0.1:0";
    config.database = "sqlite:" + dir_.File("okr.db");
    config.sqlite_sync = "normal";
    config.auth = "none";  // these tests exercise the API, not access control
    config.outbound_allow_cidrs = "127.0.0.0/8";  // the receivers listen on loopback
    config.delivery_initial_backoff_d = absl::Seconds(1);
    config.delivery_max_backoff_d = absl::Seconds(4);
    config.delivery_give_up_after_d = absl::Hours(1);
    auto server = server::OkrServer::Start(config, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::OkrService::NewStub(channel_);
    CreateBasics();
  }
  void TearDown() override {
    stub_.reset();
    channel_.reset();
    if (server_) server_->Shutdown(absl::Seconds(1));
  }

  grpc::Status Call(std::function<grpc::Status(grpc::ClientContext*)> fn) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return fn(&ctx);
  }

  void CreateBasics() {
    v1::CreateTeamRequest team;
    team.set_team_id("checkout");
    team.mutable_team()->set_display_name("Checkout");
    v1::Team t;
    ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateTeam(c, team, &t); }).ok());
    v1::CreateCycleRequest cycle;
    cycle.set_cycle_id("q4");
    cycle.mutable_cycle()->set_display_name("Q4");
    cycle.mutable_cycle()->mutable_start_time()->set_seconds(absl::ToUnixSeconds(kStart));
    cycle.mutable_cycle()->mutable_end_time()->set_seconds(absl::ToUnixSeconds(kEnd));
    v1::Cycle cy;
    ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateCycle(c, cycle, &cy); }).ok());
    v1::CreateObjectiveRequest obj;
    obj.set_objective_id("o1");
    obj.mutable_objective()->set_title("Delight customers at checkout");
    obj.mutable_objective()->set_team("teams/checkout");
    obj.mutable_objective()->set_cycle("cycles/q4");
    v1::Objective o;
    ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateObjective(c, obj, &o); }).ok());
    v1::CreateKeyResultRequest kr;
    kr.set_parent("objectives/o1");
    kr.set_key_result_id("nps");
    kr.mutable_key_result()->set_title("Raise NPS from 30 to 50");
    kr.mutable_key_result()->mutable_metric()->set_start_value(30);
    kr.mutable_key_result()->mutable_metric()->set_target_value(50);
    v1::KeyResult k;
    ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateKeyResult(c, kr, &k); }).ok());
    v1::CreateKeyResultRequest items;
    items.set_parent("objectives/o1");
    items.set_key_result_id("epics");
    items.mutable_key_result()->set_title("Ship the checkout epics");
    items.mutable_key_result()->mutable_work_items();
    ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateKeyResult(c, items, &k); }).ok());
  }

  grpc::Status CheckIn(double value) {
    v1::CreateCheckInRequest req;
    req.set_parent("objectives/o1/keyResults/nps");
    req.mutable_check_in()->set_value(value);
    v1::CheckIn out;
    return Call([&](auto* c) { return stub_->CreateCheckIn(c, req, &out); });
  }

  std::vector<v1::Event> History(const std::string& parent) {
    std::vector<v1::Event> all;
    v1::ListEventsRequest req;
    req.set_parent(parent);
    req.set_page_size(1000);
    v1::ListEventsResponse resp;
    grpc::Status s = Call([&](auto* c) { return stub_->ListEvents(c, req, &resp); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const v1::Event& e : resp.events()) all.push_back(e);
    return all;
  }

  // Reads from `reader` until `n` events arrived or 10 s passed.
  static std::vector<v1::Event> ReadN(grpc::ClientReader<v1::Event>& reader, size_t n) {
    std::vector<v1::Event> got;
    v1::Event e;
    while (got.size() < n && reader.Read(&e)) got.push_back(e);
    return got;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kStart + absl::Hours(50)};
  std::unique_ptr<server::OkrServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::OkrService::Stub> stub_;
};

TEST_F(EventsApiTest, Watcher_SeesCheckInThenItemClosing_InOrder_AndResumesExactly) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::WatchEventsRequest req;
  req.mutable_filter()->set_objective("objectives/o1");
  req.mutable_filter()->add_event_types(v1::PROGRESS_CHANGED);
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader = stub_->WatchEvents(&ctx, req);

  ASSERT_TRUE(CheckIn(45).ok());  // nps 0 -> 0.75; objective 0 -> 0.375
  v1::LinkWorkItemRequest link;
  link.set_parent("objectives/o1/keyResults/epics");
  link.mutable_work_item()->set_tracker(v1::JIRA);
  link.mutable_work_item()->set_key("OKRX-1");
  v1::WorkItemLink linked;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->LinkWorkItem(c, link, &linked); }).ok());
  v1::UpdateWorkItemRequest close;
  close.mutable_work_item()->set_tracker(v1::JIRA);
  close.mutable_work_item()->set_key("OKRX-1");
  close.mutable_work_item()->set_done(true);
  close.mutable_update_mask()->add_paths("done");
  v1::WorkItem item;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->UpdateWorkItem(c, close, &item); }).ok());

  // check-in: key result + objective; closing: key result + objective.
  std::vector<v1::Event> got = ReadN(*reader, 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].key_result(), "objectives/o1/keyResults/nps");
  EXPECT_EQ(got[0].cause().kind(), v1::CAUSE_CHECK_IN);
  EXPECT_DOUBLE_EQ(got[0].new_progress(), 0.75);
  EXPECT_EQ(got[1].subject(), "objectives/o1");
  EXPECT_EQ(got[1].cause().via(), "objectives/o1/keyResults/nps");
  EXPECT_EQ(got[2].key_result(), "objectives/o1/keyResults/epics");
  EXPECT_EQ(got[2].cause().kind(), v1::CAUSE_WORK_ITEM_CLOSED);
  EXPECT_EQ(got[2].cause().ref(), "JIRA OKRX-1");
  EXPECT_DOUBLE_EQ(got[2].old_progress(), 0);
  EXPECT_DOUBLE_EQ(got[2].new_progress(), 1);
  EXPECT_EQ(got[3].subject(), "objectives/o1");
  for (size_t i = 1; i < got.size(); ++i) EXPECT_GT(got[i].sequence(), got[i - 1].sequence());
  EXPECT_EQ(got[0].name(), "events/" + std::to_string(got[0].sequence()));
  ctx.TryCancel();
  reader->Finish();

  // Missed while disconnected: two more check-ins.
  const int64_t last_seen = got.back().sequence();
  ASSERT_TRUE(CheckIn(40).ok());
  ASSERT_TRUE(CheckIn(50).ok());
  std::vector<int64_t> missed;
  for (const v1::Event& e : History("objectives/o1")) {
    if (e.sequence() > last_seen && e.type() == v1::PROGRESS_CHANGED)
      missed.push_back(e.sequence());
  }
  ASSERT_EQ(missed.size(), 4u);

  grpc::ClientContext resume_ctx;
  resume_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  req.set_after_sequence(last_seen);
  std::unique_ptr<grpc::ClientReader<v1::Event>> resumed = stub_->WatchEvents(&resume_ctx, req);
  std::vector<int64_t> replayed;
  v1::Event e;
  while (resumed->Read(&e)) replayed.push_back(e.sequence());  // until the deadline
  EXPECT_EQ(replayed, missed);  // each exactly once, in order, nothing earlier
}

TEST_F(EventsApiTest, WatchEvents_RejectsBadRequests) {
  grpc::ClientContext ctx;
  v1::WatchEventsRequest req;
  req.mutable_filter()->set_objective("not-a-name");
  auto reader = stub_->WatchEvents(&ctx, req);
  v1::Event e;
  EXPECT_FALSE(reader->Read(&e));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("filter.objective"));

  v1::ListEventsRequest list;
  list.set_parent("objectives/missing");
  v1::ListEventsResponse resp;
  EXPECT_EQ(Call([&](auto* c) { return stub_->ListEvents(c, list, &resp); }).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(EventsApiTest, Subscription_SignedDeliveries_SurviveThreeFailures_WithoutLoss) {
  Receiver receiver;
  v1::CreateSubscriptionRequest create;
  create.mutable_subscription()->set_target_url(receiver.url());
  create.mutable_subscription()->set_secret(kSecret);
  create.mutable_subscription()->mutable_filter()->set_objective("objectives/o1");
  v1::Subscription sub;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateSubscription(c, create, &sub); }).ok());
  EXPECT_TRUE(sub.secret().empty());
  EXPECT_EQ(sub.state(), v1::SUBSCRIPTION_ACTIVE);

  receiver.FailNext(3);
  ASSERT_TRUE(CheckIn(45).ok());
  ASSERT_TRUE(CheckIn(50).ok());
  std::vector<int64_t> expected;
  for (const v1::Event& e : History("objectives/o1")) expected.push_back(e.sequence());
  ASSERT_FALSE(expected.empty());

  // Retries are scheduled on the service clock: move it until everything arrived.
  std::vector<int64_t> delivered;
  for (int round = 0; round < 200; ++round) {
    delivered.clear();
    for (const Receiver::Delivery& d : receiver.deliveries()) {
      int64_t id = 0;
      if (d.status == 200 && absl::SimpleAtoi(d.event_id, &id)) delivered.push_back(id);
    }
    if (delivered.size() >= expected.size()) break;
    clock_.Advance(absl::Seconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(delivered, expected);  // every event once (acknowledged), in order

  std::vector<Receiver::Delivery> all = receiver.deliveries();
  ASSERT_GE(all.size(), expected.size() + 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(all[i].status, 500);
    EXPECT_EQ(all[i].event_id, all[3].event_id);  // the same event was retried
  }
  for (const Receiver::Delivery& d : all) {
    EXPECT_EQ(d.signature, "sha256=" + outbound::HmacSha256Hex(kSecret, d.body));
    EXPECT_THAT(d.body, HasSubstr("\"sequence\":\"" + d.event_id + "\""));
    EXPECT_THAT(d.body, HasSubstr("\"type\":\"" + d.event_type + "\""));
  }

  v1::GetSubscriptionRequest get;
  get.set_name(sub.name());
  v1::Subscription after;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->GetSubscription(c, get, &after); }).ok());
  EXPECT_EQ(after.delivered_sequence(), expected.back());
  EXPECT_EQ(after.state(), v1::SUBSCRIPTION_ACTIVE);
  EXPECT_TRUE(after.last_error().empty());
}

TEST_F(EventsApiTest, Subscription_FailingPastTheGiveUpAge_IsVisible_ThenRecovers) {
  Receiver receiver;
  v1::CreateSubscriptionRequest create;
  create.set_subscription_id("audit");
  create.mutable_subscription()->set_target_url(receiver.url());
  create.mutable_subscription()->set_secret(kSecret);
  v1::Subscription sub;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateSubscription(c, create, &sub); }).ok());
  EXPECT_EQ(sub.name(), "subscriptions/audit");
  receiver.FailNext(1000000);
  ASSERT_TRUE(CheckIn(45).ok());
  v1::GetSubscriptionRequest get;
  get.set_name("subscriptions/audit");
  v1::Subscription state;
  for (int round = 0; round < 200; ++round) {
    ASSERT_TRUE(Call([&](auto* c) { return stub_->GetSubscription(c, get, &state); }).ok());
    if (state.state() == v1::SUBSCRIPTION_FAILING) break;
    clock_.Advance(absl::Minutes(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(state.state(), v1::SUBSCRIPTION_FAILING);
  EXPECT_THAT(state.last_error(), HasSubstr("HTTP 500"));
  EXPECT_TRUE(state.has_failing_since());

  receiver.FailNext(0);
  for (int round = 0; round < 200; ++round) {
    ASSERT_TRUE(Call([&](auto* c) { return stub_->GetSubscription(c, get, &state); }).ok());
    if (state.state() == v1::SUBSCRIPTION_ACTIVE) break;
    clock_.Advance(absl::Minutes(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(state.state(), v1::SUBSCRIPTION_ACTIVE);
  EXPECT_GT(state.delivered_sequence(), 0);
}

TEST_F(EventsApiTest, Rules_CreateGetListDelete_AndValidation) {
  v1::CreateRuleRequest create;
  create.set_rule_id("pace");
  create.mutable_rule()->set_parent("objectives/o1");
  create.mutable_rule()->mutable_condition()->set_type(v1::BEHIND_PACE);
  create.mutable_rule()->mutable_condition()->set_threshold(0.2);
  create.mutable_rule()->mutable_action()->set_type(v1::EMIT_EVENT);
  v1::Rule rule;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->CreateRule(c, create, &rule); }).ok());
  EXPECT_EQ(rule.name(), "rules/pace");
  EXPECT_EQ(rule.parent(), "objectives/o1");

  v1::CreateRuleRequest bad = create;
  bad.set_rule_id("bad");
  bad.mutable_rule()->mutable_action()->set_type(v1::OPEN_ISSUE);
  bad.mutable_rule()->mutable_action()->set_tracker(v1::JIRA);
  grpc::Status s = Call([&](auto* c) { return stub_->CreateRule(c, bad, &rule); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("jira_project_key"));

  v1::ListRulesRequest list;
  v1::ListRulesResponse rules;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->ListRules(c, list, &rules); }).ok());
  ASSERT_EQ(rules.rules_size(), 1);
  v1::DeleteRuleRequest del;
  del.set_name("rules/pace");
  google::protobuf::Empty empty;
  ASSERT_TRUE(Call([&](auto* c) { return stub_->DeleteRule(c, del, &empty); }).ok());
  EXPECT_EQ(Call([&](auto* c) { return stub_->DeleteRule(c, del, &empty); }).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace okr
