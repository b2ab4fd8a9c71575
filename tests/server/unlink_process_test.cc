// Clean unlinks through the okr-server binary against the fake Jira and the fake GitLab:
// an issue serving two key results (of two objectives, both with key result id "nps")
// shows two remote links / two labels and a note listing both; unlinking one removes its
// link / label and the note lists the other; deleting a key result or an objective removes
// everything of theirs, and the GitLab note then says the issue no longer serves a key
// result. A tracker answering 500 for a while does not lose a removal: it is retried.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "okr/v1/okr_service.grpc.pb.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
#include "tests/testing/okr_api.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace okr {
namespace {

using ::okr::testing::Connect;
using ::okr::testing::DeleteKeyResult;
using ::okr::testing::DeleteObjective;
using ::okr::testing::Eventually;
using ::okr::testing::FakeGitLabEndpoint;
using ::okr::testing::FakeGitLabIssue;
using ::okr::testing::FakeGitLabNote;
using ::okr::testing::FakeGitLabServer;
using ::okr::testing::FakeJiraFailure;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::FakeRemoteLink;
using ::okr::testing::Link;
using ::okr::testing::ServerProcess;
using ::okr::testing::Unlink;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr char kNoLongerServed[] =
    "<!-- okr-service -->\n**OKR:** this issue no longer serves a key result of okr-service.\n";

// Team "t", cycle "now", objectives o1 (key results "nps", "bugs") and o2 (key result
// "nps"), all work-items key results.
void CreateObjectives(v1::OkrService::Stub& stub) {
  testing::CreateTeamAndCycle(stub, "t");
  testing::CreateWorkItemsKeyResult(stub, "t", "o1", "nps");
  testing::CreateWorkItemsKeyResult(stub, "t", "o1", "bugs");
  testing::CreateWorkItemsKeyResult(stub, "t", "o2", "nps");
}

TEST(UnlinkProcessTest, Jira_RemoteLinksOfKeyResultsNoLongerServedAreDeleted) {
  auto fake = FakeJiraServer::Start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  for (int n : {1, 2}) {
    FakeJiraIssue issue;
    issue.id = absl::StrCat(10000 + n);
    issue.key = absl::StrCat("OKRX-", n);
    issue.summary = absl::StrCat("Issue ", n);
    (*fake)->PutIssue(issue);
  }
  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_JIRA_URL=" + (*fake)->base_url(), "OKR_JIRA_EMAIL=" + (*fake)->options().email,
       "OKR_JIRA_API_TOKEN=" + (*fake)->options().api_token, "OKR_JIRA_WEBHOOK_SECRET=secret",
       "OKR_PUBLIC_URL=https://okr.example.test", "OKR_RECONCILE_INTERVAL=1h",
       "OKR_WRITEBACK_INTERVAL=200ms"});
  auto stub = Connect(server);
  CreateObjectives(*stub);
  auto global_ids = [&](const std::string& issue) {
    std::vector<std::string> ids;
    for (const FakeRemoteLink& link : (*fake)->RemoteLinks(issue)) ids.push_back(link.global_id);
    std::sort(ids.begin(), ids.end());
    return ids;
  };

  // OKRX-1 serves o1/nps and o2/nps; OKRX-2 serves o1/bugs.
  ASSERT_TRUE(Link(*stub, "objectives/o1/keyResults/nps", v1::JIRA, "OKRX-1").ok());
  ASSERT_TRUE(Link(*stub, "objectives/o2/keyResults/nps", v1::JIRA, "OKRX-1").ok());
  ASSERT_TRUE(Link(*stub, "objectives/o1/keyResults/bugs", v1::JIRA, "OKRX-2").ok());
  ASSERT_TRUE(Eventually([&] {
    return global_ids("OKRX-1").size() == 2 && global_ids("OKRX-2").size() == 1;
  })) << server.Log();
  EXPECT_THAT(global_ids("OKRX-1"), ElementsAre("okr-service:objectives/o1/keyResults/nps",
                                                "okr-service:objectives/o2/keyResults/nps"));

  // Unlinked from o2/nps: that remote link is deleted by its globalId, the other stays.
  ASSERT_TRUE(Unlink(*stub, "objectives/o2/keyResults/nps", v1::JIRA, "OKRX-1").ok());
  ASSERT_TRUE(Eventually([&] { return global_ids("OKRX-1").size() == 1; })) << server.Log();
  EXPECT_THAT(global_ids("OKRX-1"), ElementsAre("okr-service:objectives/o1/keyResults/nps"));
  EXPECT_GE((*fake)->RequestCount(okr::testing::FakeJiraEndpoint::kRemoteLinkDelete), 1);

  // Jira fails while o1/nps is deleted: the removal is retried until Jira accepts it.
  FakeJiraFailure failure;
  failure.status = 500;
  failure.retry_after.reset();
  (*fake)->FailNextRequests(1000000, failure);
  ASSERT_TRUE(DeleteKeyResult(*stub, "objectives/o1/keyResults/nps").ok());
  ASSERT_TRUE(Eventually([&] { return (*fake)->InjectedFailureCount() >= 6; })) << server.Log();
  EXPECT_THAT(global_ids("OKRX-1"), ElementsAre("okr-service:objectives/o1/keyResults/nps"));
  (*fake)->FailNextRequests(0);  // Jira is back
  ASSERT_TRUE(Eventually([&] { return global_ids("OKRX-1").empty(); })) << server.Log();

  // Objective o1 deleted (with key result bugs): OKRX-2's link goes too.
  ASSERT_TRUE(DeleteObjective(*stub, "objectives/o1").ok());
  ASSERT_TRUE(Eventually([&] { return global_ids("OKRX-2").empty(); })) << server.Log();
  EXPECT_THAT(server.Log(), Not(HasSubstr((*fake)->options().api_token)));
}

TEST(UnlinkProcessTest, GitLab_LabelsCoexistAndAreRemoved_NoteSaysWhenNothingIsServed) {
  okr::testing::FakeGitLabOptions options;
  options.scoped_labels_exclusive = true;  // GitLab Premium/Ultimate
  auto fake = FakeGitLabServer::Start(options);
  ASSERT_TRUE(fake.ok()) << fake.status();
  constexpr char kProject[] = "acme/checkout";
  (*fake)->AddProject(kProject);
  for (int64_t iid : {1, 2}) {
    FakeGitLabIssue issue;
    issue.iid = iid;
    issue.title = absl::StrCat("Issue ", iid);
    issue.labels = {"bug"};
    ASSERT_TRUE((*fake)->AddIssue(kProject, issue).ok());
  }
  testing::TempDir dir;
  ServerProcess server(
      {"--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
       "--database=sqlite:" + dir.File("okr.db")},
      dir.File("server.log"),
      {"OKR_GITLAB_URL=" + (*fake)->base_url(), "OKR_GITLAB_TOKEN=" + (*fake)->private_token(),
       "OKR_GITLAB_WEBHOOK_TOKEN=hook-token", "OKR_PUBLIC_URL=https://okr.example.test",
       "OKR_RECONCILE_INTERVAL=1h", "OKR_WRITEBACK_INTERVAL=200ms"});
  auto stub = Connect(server);
  CreateObjectives(*stub);
  auto labels = [&](int64_t iid) {
    absl::StatusOr<FakeGitLabIssue> issue = (*fake)->GetIssue(kProject, iid);
    return issue.ok() ? issue->labels : std::vector<std::string>{};
  };
  auto note = [&](int64_t iid) {
    std::vector<FakeGitLabNote> notes = (*fake)->Notes(kProject, iid);
    return notes.size() == 1 ? notes[0].body : absl::StrCat("<", notes.size(), " notes>");
  };

  // Issue 1 serves o1/nps and o2/nps: two labels (not scoped: both stay on Premium), one
  // note listing both. Issue 2 serves o1/bugs.
  ASSERT_TRUE(Link(*stub, "objectives/o1/keyResults/nps", v1::GITLAB, "acme/checkout#1").ok());
  ASSERT_TRUE(Link(*stub, "objectives/o2/keyResults/nps", v1::GITLAB, "acme/checkout#1").ok());
  ASSERT_TRUE(Link(*stub, "objectives/o1/keyResults/bugs", v1::GITLAB, "acme/checkout#2").ok());
  ASSERT_TRUE(Eventually([&] {
    return labels(1).size() == 3 && absl::StrContains(note(1), "/objectives/o2/keyResults/nps") &&
           absl::StrContains(note(1), "/objectives/o1/keyResults/nps") && labels(2).size() == 2;
  })) << server.Log();
  EXPECT_THAT(labels(1), UnorderedElementsAre("OKR:o1/nps", "OKR:o2/nps", "bug"));
  EXPECT_THAT(note(1), HasSubstr("these key results"));
  EXPECT_THAT(labels(2), UnorderedElementsAre("OKR:o1/bugs", "bug"));

  // Unlinked from o2/nps: its label goes, the note lists o1/nps only.
  ASSERT_TRUE(Unlink(*stub, "objectives/o2/keyResults/nps", v1::GITLAB, "acme/checkout#1").ok());
  ASSERT_TRUE(Eventually([&] {
    return labels(1).size() == 2 && !absl::StrContains(note(1), "/objectives/o2/");
  })) << server.Log()
      << absl::StrJoin(labels(1), ",") << "\n"
      << note(1) << [&] {
           std::string out;
           for (const auto& r : (*fake)->Requests()) {
             absl::StrAppend(&out, r.method, " ", r.target, " ", r.status, " ", r.body, "\n");
           }
           return out;
         }();
  EXPECT_THAT(labels(1), UnorderedElementsAre("OKR:o1/nps", "bug"));
  EXPECT_THAT(note(1), HasSubstr("/objectives/o1/keyResults/nps"));
  EXPECT_THAT(note(1), HasSubstr("this issue serves a key result"));

  // GitLab fails while o1/nps is deleted: the removal is retried until GitLab accepts it.
  const int64_t edits = (*fake)->RequestCount(FakeGitLabEndpoint::kEditIssue);
  constexpr int kFaults = 12;
  (*fake)->FailNextRequests(kFaults, 500);
  ASSERT_TRUE(DeleteKeyResult(*stub, "objectives/o1/keyResults/nps").ok());
  // The labels and the note are two requests: wait for both.
  ASSERT_TRUE(Eventually([&] {
    return labels(1) == std::vector<std::string>{"bug"} && note(1) == kNoLongerServed;
  })) << server.Log()
      << absl::StrJoin(labels(1), ",") << "\n"
      << note(1);
  EXPECT_GE((*fake)->RequestCount(FakeGitLabEndpoint::kEditIssue), edits + kFaults + 1);
  EXPECT_EQ((*fake)->Notes(kProject, 1).size(), 1u);  // edited in place, not a second note

  // Objective o1 deleted (with key result bugs): issue 2's label goes, its note says so.
  ASSERT_TRUE(DeleteObjective(*stub, "objectives/o1").ok());
  ASSERT_TRUE(Eventually([&] {
    return note(2) == kNoLongerServed && labels(2) == std::vector<std::string>{"bug"};
  })) << server.Log();
  EXPECT_EQ((*fake)->NoteCreates(kProject, 1), 1);
  EXPECT_EQ((*fake)->NoteCreates(kProject, 2), 1);
}

TEST(UnlinkProcessTest, GitLab_ScopedLabelPrefixRefusedAtStartup) {
  testing::TempDir dir;
  ServerProcess server({"--grpc-address=127.0.0.1:0", "--database=sqlite:" + dir.File("okr.db")},
                       dir.File("server.log"),
                       {"OKR_GITLAB_URL=http://127.0.0.1:9", "OKR_GITLAB_TOKEN=token",
                        "OKR_GITLAB_WEBHOOK_TOKEN=hook-token", "OKR_GITLAB_LABEL_PREFIX=OKR::"});
  ASSERT_TRUE(server.WaitForExit(absl::Seconds(20))) << server.Log();
  EXPECT_NE(server.Wait(), 0);
  EXPECT_THAT(server.Log(), HasSubstr("OKR_GITLAB_LABEL_PREFIX"));
  EXPECT_THAT(server.Log(), HasSubstr("scoped label"));
}

}  // namespace
}  // namespace okr
