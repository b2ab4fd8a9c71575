// The verbs beyond get/list/create/update/delete: objective lifecycle (propose, agree,
// reopen, close, carry-over), checkin, link/unlink, tree, findings, events, watch, sync.
#include <pthread.h>
#include <signal.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/okrctl/command_util.h"
#include "cli/okrctl/names.h"
#include "google/protobuf/empty.pb.h"

namespace okr::cli {

namespace {

using Stub = v1::OkrService::Stub;

int ShowObjective(CommandContext& ctx, const grpc::Status& s, const v1::Objective& o) {
  return Show(ctx, s, o, [&] { return ObjectiveTable(One(o), ctx.printer.colour()); });
}

void AddLifecycleCommands(std::vector<Command>& cs) {
  {
    Command& c = Add(cs, "propose", "", "OBJECTIVE", 1, 1,
                     "move a DRAFT objective to PROPOSED, ready for its teams to agree");
    c.flags = {{"etag", "ETAG", "fail with ABORTED unless this is the current etag"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ProposeObjectiveRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), ObjectiveName(a.positional[0]));
      req.set_etag(a.Get("etag"));
      v1::Objective resp;
      return ShowObjective(ctx, Call(ctx, &Stub::ProposeObjective, req, &resp), resp);
    };
  }
  {
    Command& c = Add(cs, "agree", "", "OBJECTIVE", 1, 1,
                     "record a team's binding agreement to an objective");
    c.details =
        "The objective becomes AGREED once its own team and the team of every objective "
        "it\ndepends on have agreed. With tokens, the agreeing party is the token's name.";
    c.flags = {{"team", "TEAM", "the agreeing team (default: the objective's own team)"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::AgreeObjectiveRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), ObjectiveName(a.positional[0]));
      if (a.Has("team")) {
        OKRCTL_ASSIGN(*req.mutable_team(), TeamName(a.Get("team")));
      } else {
        v1::GetObjectiveRequest get;
        get.set_name(req.name());
        v1::Objective o;
        grpc::Status s = Call(ctx, &Stub::GetObjective, get, &o);
        if (!s.ok()) return RpcError(ctx, s);
        req.set_team(o.team());
      }
      v1::Objective resp;
      return ShowObjective(ctx, Call(ctx, &Stub::AgreeObjective, req, &resp), resp);
    };
  }
  {
    Command& c = Add(cs, "reopen", "", "OBJECTIVE", 1, 1,
                     "send an objective back to DRAFT, clearing agreements");
    c.flags = {{"reason", "TEXT", "why it is reopened (required)"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ReopenObjectiveRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), ObjectiveName(a.positional[0]));
      if (!a.Has("reason")) return UsageError(ctx, "--reason is required");
      req.set_reason(a.Get("reason"));
      v1::Objective resp;
      return ShowObjective(ctx, Call(ctx, &Stub::ReopenObjective, req, &resp), resp);
    };
  }
  {
    Command& c =
        Add(cs, "close", "", "OBJECTIVE", 1, 1, "grade an objective: scores and MET / MISSED");
    c.details = "Key results without --score score their progress at close.";
    c.flags = {{"score", "KR=SCORE:REASON",
                "an explicit score for one key result, e.g. o1/k1=0.8:\"shipped late\"", true}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CloseObjectiveRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), ObjectiveName(a.positional[0]));
      for (const std::string& spec : a.GetAll("score")) {
        const size_t eq = spec.find('=');
        const size_t colon = spec.find(':', eq == std::string::npos ? 0 : eq);
        if (eq == std::string::npos || colon == std::string::npos) {
          return UsageError(ctx,
                            absl::StrCat("--score must be KR=SCORE:REASON, not \"", spec, "\""));
        }
        v1::KeyResultScore& score = *req.add_key_result_scores();
        OKRCTL_ASSIGN(*score.mutable_key_result(), KeyResultName(spec.substr(0, eq)));
        OKRCTL_ASSIGN(double value,
                      ParseDouble(spec.substr(eq + 1, colon - eq - 1), "--score SCORE"));
        score.set_score(value);
        score.set_reason(spec.substr(colon + 1));
      }
      v1::Objective resp;
      return ShowObjective(ctx, Call(ctx, &Stub::CloseObjective, req, &resp), resp);
    };
  }
  {
    Command& c = Add(cs, "carry-over", "", "OBJECTIVE", 1, 1,
                     "copy an unfinished aspirational objective into another cycle");
    c.flags = {{"cycle", "CYCLE", "the next cycle (required)"},
               {"id", "ID", "id of the copy (generated when omitted)"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CarryOverObjectiveRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), ObjectiveName(a.positional[0]));
      if (!a.Has("cycle")) return UsageError(ctx, "--cycle is required");
      OKRCTL_ASSIGN(*req.mutable_cycle(), CycleName(a.Get("cycle")));
      req.set_objective_id(a.Get("id"));
      v1::Objective resp;
      return ShowObjective(ctx, Call(ctx, &Stub::CarryOverObjective, req, &resp), resp);
    };
  }
}

void AddKeyResultActions(std::vector<Command>& cs) {
  {
    Command& c =
        Add(cs, "checkin", "", "KEY_RESULT [VALUE]", 1, 2, "record a check-in of a key result");
    c.details =
        "VALUE becomes a metric's current value; for a milestone 1 is done, 0 not done;\n"
        "work-items key results take no VALUE (their items measure them).";
    c.flags = {{"confidence", "C", "confidence of reaching the target, in [0, 1]"},
               {"note", "TEXT", "what happened, what we do next"},
               {"request-id", "ID", "idempotency key"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CreateCheckInRequest req;
      OKRCTL_ASSIGN(*req.mutable_parent(), KeyResultName(a.positional[0]));
      v1::CheckIn& c = *req.mutable_check_in();
      if (a.positional.size() > 1) {
        OKRCTL_ASSIGN(double value, ParseDouble(a.positional[1], "VALUE"));
        c.set_value(value);
      }
      if (a.Has("confidence")) {
        OKRCTL_ASSIGN(double confidence, ParseDouble(a.Get("confidence"), "--confidence"));
        c.set_confidence(confidence);
      }
      c.set_note(a.Get("note"));
      req.set_request_id(a.Get("request-id"));
      v1::CheckIn resp;
      grpc::Status s = Call(ctx, &Stub::CreateCheckIn, req, &resp);
      return Show(ctx, s, resp, [&] { return CheckInTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c =
        Add(cs, "link", "", "KEY_RESULT TRACKER KEY", 3, 3,
            "link a work-items key result to a tracker item (jira OKRX-101, gitlab g/p#7)");
    c.flags = {{"title", "TEXT", "title of the item, until the tracker reports it"},
               {"url", "URL", "web URL of the item"},
               {"weight", "W", "weight (story points); default 1"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::LinkWorkItemRequest req;
      OKRCTL_ASSIGN(*req.mutable_parent(), KeyResultName(a.positional[0]));
      v1::WorkItem& w = *req.mutable_work_item();
      OKRCTL_ASSIGN(int tracker, EnumValue(v1::Tracker_descriptor(), a.positional[1], "TRACKER"));
      w.set_tracker(static_cast<v1::Tracker>(tracker));
      w.set_key(a.positional[2]);
      w.set_title(a.Get("title"));
      w.set_url(a.Get("url"));
      if (a.Has("weight")) {
        OKRCTL_ASSIGN(double weight, ParseDouble(a.Get("weight"), "--weight"));
        w.set_weight(weight);
      }
      v1::WorkItemLink resp;
      grpc::Status s = Call(ctx, &Stub::LinkWorkItem, req, &resp);
      return Show(ctx, s, resp, [&] { return LinkTable(One(resp), ctx.printer.colour()); });
    };
  }
  {
    Command& c = Add(cs, "unlink", "", "KEY_RESULT TRACKER KEY", 3, 3,
                     "remove a key result's link to an item");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::UnlinkWorkItemRequest req;
      OKRCTL_ASSIGN(*req.mutable_parent(), KeyResultName(a.positional[0]));
      OKRCTL_ASSIGN(int tracker, EnumValue(v1::Tracker_descriptor(), a.positional[1], "TRACKER"));
      req.set_tracker(static_cast<v1::Tracker>(tracker));
      req.set_key(a.positional[2]);
      google::protobuf::Empty resp;
      grpc::Status s = Call(ctx, &Stub::UnlinkWorkItem, req, &resp);
      return Show(ctx, s, resp, [&] {
        return absl::StrCat("unlinked ", v1::Tracker_Name(req.tracker()), " ", req.key(), " from ",
                            req.parent(), "\n");
      });
    };
  }
  {
    Command& c = Add(cs, "sync", "", "KEY_RESULT", 1, 1,
                     "re-read a work-items key result's tracker items now");
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::SyncKeyResultRequest req;
      OKRCTL_ASSIGN(*req.mutable_name(), KeyResultName(a.positional[0]));
      v1::KeyResult resp;
      grpc::Status s = Call(ctx, &Stub::SyncKeyResult, req, &resp);
      return Show(ctx, s, resp, [&] { return KeyResultTable(One(resp), ctx.printer.colour()); });
    };
  }
}

// The trees of every top objective of a cycle: those aligned to nothing in the cycle.
grpc::Status CycleTree(CommandContext& ctx, const std::string& cycle, int depth,
                       v1::AlignmentTree* tree) {
  v1::ListObjectivesRequest list;
  list.set_cycle(cycle);
  v1::ListObjectivesResponse objectives;
  grpc::Status s = ListAll(ctx, &Stub::ListObjectives, list, &objectives);
  if (!s.ok()) return s;
  std::set<std::string> in_cycle;
  for (const v1::Objective& o : objectives.objectives()) in_cycle.insert(o.name());
  for (const v1::Objective& o : objectives.objectives()) {
    if (!o.parent().empty() && in_cycle.count(o.parent())) continue;
    v1::GetAlignmentTreeRequest req;
    req.set_root(o.name());
    req.set_depth(depth);
    v1::AlignmentTree part;
    s = Call(ctx, &Stub::GetAlignmentTree, req, &part);
    if (!s.ok()) return s;
    tree->MergeFrom(part);
  }
  return grpc::Status::OK;
}

void AddAlignmentCommands(std::vector<Command>& cs) {
  {
    Command& c = Add(cs, "tree", "", "OBJECTIVE|CYCLE", 1, 1,
                     "show the alignment tree with progress and health");
    c.details =
        "OBJECTIVE: the tree under it. CYCLE: every objective of the cycle, under the top ones\n"
        "(with --team: that team's top objectives). A bare id is tried as an objective first.";
    c.flags = {{"team", "TEAM", "with a CYCLE: only the trees of this team's top objectives"},
               {"depth", "N", "levels below the roots to show; 0 (default) is all"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      const std::string arg = a.positional[0];
      int depth = 0;
      if (a.Has("depth")) {
        OKRCTL_ASSIGN(depth, ParseInt(a.Get("depth"), "--depth"));
      }
      bool is_cycle = arg.rfind("cycles/", 0) == 0 || a.Has("team");
      if (!is_cycle && arg.find('/') == std::string::npos) {
        // A bare id: an objective if one exists, else a cycle.
        v1::GetObjectiveRequest get;
        get.set_name(absl::StrCat("objectives/", arg));
        v1::Objective o;
        grpc::Status s = Call(ctx, &Stub::GetObjective, get, &o);
        if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
          is_cycle = true;
        } else if (!s.ok()) {
          return RpcError(ctx, s);
        }
      }
      v1::AlignmentTree tree;
      grpc::Status s;
      if (is_cycle) {
        OKRCTL_ASSIGN(std::string cycle, CycleName(arg));
        if (a.Has("team")) {
          v1::GetAlignmentTreeRequest req;
          req.set_cycle(cycle);
          OKRCTL_ASSIGN(*req.mutable_team(), TeamName(a.Get("team")));
          req.set_depth(depth);
          s = Call(ctx, &Stub::GetAlignmentTree, req, &tree);
        } else {
          v1::GetCycleRequest get;
          get.set_name(cycle);
          v1::Cycle c;
          s = Call(ctx, &Stub::GetCycle, get, &c);
          if (s.ok()) s = CycleTree(ctx, cycle, depth, &tree);
        }
      } else {
        v1::GetAlignmentTreeRequest req;
        OKRCTL_ASSIGN(*req.mutable_root(), ObjectiveName(arg));
        req.set_depth(depth);
        s = Call(ctx, &Stub::GetAlignmentTree, req, &tree);
      }
      return Show(ctx, s, tree, [&] {
        return tree.roots().empty() ? std::string("No objectives.\n")
                                    : RenderTree(tree, ctx.printer.colour());
      });
    };
  }
  {
    Command& c = Add(cs, "findings", "", "CYCLE", 1, 1,
                     "check alignment in a cycle: loops, orphans, contradictions, ...");
    c.flags = {{"team", "TEAM", "only findings involving this team's objectives"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::CheckAlignmentRequest req;
      OKRCTL_ASSIGN(*req.mutable_cycle(), CycleName(a.positional[0]));
      if (a.Has("team")) {
        OKRCTL_ASSIGN(*req.mutable_team(), TeamName(a.Get("team")));
      }
      v1::CheckAlignmentResponse resp;
      grpc::Status s = Call(ctx, &Stub::CheckAlignment, req, &resp);
      return Show(ctx, s, resp,
                  [&] { return FindingTable(resp.findings(), ctx.printer.colour()); });
    };
  }
}

// Cancels the current call when SIGINT or SIGTERM arrives (Run() blocks them, and SIGUSR2,
// before any thread starts when the verb is watch); the destructor ends the waiting thread.
class InterruptCanceller {
 public:
  InterruptCanceller() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    sigaddset(&signals_, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    thread_ = std::thread([this] {
      int received = 0;
      sigwait(&signals_, &received);
      if (received == SIGUSR2) return;
      std::lock_guard<std::mutex> lock(mu_);
      interrupted_ = true;
      if (call_ != nullptr) call_->TryCancel();
    });
  }
  ~InterruptCanceller() {
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
  }
  // The call to cancel from now on (nullptr: none). Cancelled at once if interrupted.
  void Guard(grpc::ClientContext* call) {
    std::lock_guard<std::mutex> lock(mu_);
    call_ = call;
    if (interrupted_ && call_ != nullptr) call_->TryCancel();
  }
  bool interrupted() {
    std::lock_guard<std::mutex> lock(mu_);
    return interrupted_;
  }

 private:
  sigset_t signals_;
  std::mutex mu_;
  bool interrupted_ = false;
  grpc::ClientContext* call_ = nullptr;
  std::thread thread_;
};

void AddEventCommands(std::vector<Command>& cs) {
  {
    Command& c = Add(cs, "events", "", "PARENT", 1, 1,
                     "the event history of a key result, an objective or a team, oldest first");
    c.details = "PARENT: objectives/O/keyResults/K (or O/K), objectives/O (or O), teams/T.";
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::ListEventsRequest req;
      OKRCTL_ASSIGN(*req.mutable_parent(), EventParentName(a.positional[0]));
      v1::ListEventsResponse resp;
      grpc::Status s = ListAll(ctx, &Stub::ListEvents, req, &resp);
      return Show(ctx, s, resp, [&] { return EventTable(resp.events(), ctx.printer.colour()); });
    };
  }
  {
    Command& c =
        Add(cs, "watch", "", "", 0, 0, "stream events as they happen, until interrupted (Ctrl-C)");
    c.details =
        "First the retained history after --after (default: all of it), then live.\n"
        "-o json prints one event per line.";
    c.flags = {{"team", "TEAM", "only events of this team"},
               {"objective", "OBJECTIVE", "only events of this objective and everything below it"},
               {"cycle", "CYCLE", "only events of this cycle"},
               {"type", "EVENT_TYPE", "only this type, e.g. HEALTH_CHANGED", true},
               {"after", "SEQUENCE", "start after this event sequence (resume)"}};
    c.run = [](CommandContext& ctx, const ParsedArgs& a) {
      v1::WatchEventsRequest req;
      v1::EventFilter& f = *req.mutable_filter();
      if (a.Has("team")) {
        OKRCTL_ASSIGN(*f.mutable_team(), TeamName(a.Get("team")));
      }
      if (a.Has("objective")) {
        OKRCTL_ASSIGN(*f.mutable_objective(), ObjectiveName(a.Get("objective")));
      }
      if (a.Has("cycle")) {
        OKRCTL_ASSIGN(*f.mutable_cycle(), CycleName(a.Get("cycle")));
      }
      for (const std::string& t : a.GetAll("type")) {
        OKRCTL_ASSIGN(int type, EnumValue(v1::EventType_descriptor(), t, "--type"));
        f.add_event_types(static_cast<v1::EventType>(type));
      }
      if (a.Has("after")) {
        int64_t after = 0;
        if (!absl::SimpleAtoi(a.Get("after"), &after) || after < 0) {
          return UsageError(ctx, "--after must be an event sequence (0 or more)");
        }
        req.set_after_sequence(after);
      }
      InterruptCanceller canceller;
      for (;;) {
        std::unique_ptr<grpc::ClientContext> call = ctx.connection.NewContext(/*stream=*/true);
        canceller.Guard(call.get());
        std::unique_ptr<grpc::ClientReader<v1::Event>> reader =
            ctx.connection.stub().WatchEvents(call.get(), req);
        v1::Event event;
        bool progressed = false;
        while (reader->Read(&event)) {
          progressed = true;
          ctx.printer.PrintStreamItem(event,
                                      [&] { return EventLine(event, ctx.printer.colour()); });
          req.set_after_sequence(event.sequence());
        }
        grpc::Status s = reader->Finish();
        canceller.Guard(nullptr);
        if (canceller.interrupted()) return kExitOk;
        // A watcher that fell behind is ended by the server; resume after the last event
        // printed, which the service then sends exactly once (only after progress, so that
        // a refusal to start does not loop).
        if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && progressed) continue;
        return s.ok() ? kExitOk : RpcError(ctx, s);
      }
    };
  }
}

}  // namespace

void AddActionCommands(std::vector<Command>& commands) {
  AddLifecycleCommands(commands);
  AddKeyResultActions(commands);
  AddAlignmentCommands(commands);
  AddEventCommands(commands);
}

}  // namespace okr::cli
