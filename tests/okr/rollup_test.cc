#include "service/okr/rollup.h"

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/okr/progress.h"

namespace okr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

KeyResult Kr(std::string objective, std::string id, double progress, double weight) {
  KeyResult kr;
  kr.objective_id = std::move(objective);
  kr.id = std::move(id);
  kr.progress = progress;
  kr.weight = weight;
  return kr;
}

Objective Obj(std::string id, std::string parent, ProgressSource source, double weight = 1) {
  Objective o;
  o.id = std::move(id);
  o.parent_id = std::move(parent);
  o.progress_source = source;
  o.weight = weight;
  return o;
}

std::vector<std::string> Describe(const std::vector<ProgressChange>& changes) {
  std::vector<std::string> out;
  for (const ProgressChange& c : changes) {
    out.push_back(absl::StrCat(c.objective_id, " ", c.old_progress, "->", c.new_progress));
  }
  return out;
}

constexpr ProgressSource kKrs = ProgressSource::kKeyResults;
constexpr ProgressSource kWithChildren = ProgressSource::kKeyResultsAndChildren;

// root (with children) <- mid (with children, weight 2) <- leaf; root <- side.
//   leaf = (0.25 + 0.75*3) / 4             = 0.625
//   mid  = (0 + 0.625) / 2                 = 0.3125
//   side = 1
//   root = (0.5 + 0.3125*2 + 1*1) / (1+2+1) = 0.53125
RollupTree SampleTree() {
  absl::StatusOr<RollupTree> tree =
      RollupTree::Build({Obj("root", "", kWithChildren), Obj("mid", "root", kWithChildren, 2),
                         Obj("leaf", "mid", kKrs), Obj("side", "root", kKrs)},
                        {Kr("root", "r1", 0.5, 1), Kr("mid", "m1", 0, 1), Kr("leaf", "l1", 0.25, 1),
                         Kr("leaf", "l2", 0.75, 3), Kr("side", "s1", 1, 1)});
  EXPECT_TRUE(tree.ok()) << tree.status();
  return *std::move(tree);
}

// ---------------------------------------------------------------------------------------
// The plain rule

TEST(ObjectiveProgressWithChildrenTest, KeyResultsOnly_IgnoresChildren) {
  EXPECT_DOUBLE_EQ(
      ObjectiveProgressWithChildren({Kr("o", "a", 1, 1), Kr("o", "b", 0.5, 2)}, {{0, 10}}, kKrs),
      2.0 / 3.0);
}

TEST(ObjectiveProgressWithChildrenTest, WithChildren_WeighsChildrenLikeKeyResults) {
  EXPECT_DOUBLE_EQ(
      ObjectiveProgressWithChildren({Kr("o", "a", 1, 1)}, {{0.5, 2}, {0, 1}}, kWithChildren),
      (1 + 1 + 0) / 4.0);
  // Only children, and zero-weight entries count for nothing.
  EXPECT_DOUBLE_EQ(ObjectiveProgressWithChildren({Kr("o", "a", 1, 0)}, {{0.25, 1}}, kWithChildren),
                   0.25);
  EXPECT_DOUBLE_EQ(ObjectiveProgressWithChildren({}, {}, kWithChildren), 0);
}

TEST(ChildProgressAndWeightTest, TakesProgressAndWeight) {
  Objective a = Obj("a", "", kKrs, 2);
  a.progress = 0.5;
  EXPECT_THAT(ChildProgressAndWeight({a}), ElementsAre(std::make_pair(0.5, 2.0)));
}

// ---------------------------------------------------------------------------------------
// RollupTree

TEST(RollupTreeTest, Build_ComputesEveryObjective) {
  RollupTree tree = SampleTree();
  EXPECT_EQ(tree.objective_count(), 4u);
  EXPECT_EQ(tree.key_result_count(), 5u);
  EXPECT_DOUBLE_EQ(*tree.Progress("leaf"), 0.625);
  EXPECT_DOUBLE_EQ(*tree.Progress("mid"), 0.3125);
  EXPECT_DOUBLE_EQ(*tree.Progress("side"), 1);
  EXPECT_DOUBLE_EQ(*tree.Progress("root"), 0.53125);
  EXPECT_EQ(tree.Progress("nope"), std::nullopt);
  EXPECT_EQ(*tree.Parent("leaf"), "mid");
  EXPECT_EQ(*tree.Parent("root"), "");
  EXPECT_GT(tree.MemoryUsageBytes(), 0u);
}

TEST(RollupTreeTest, Build_ReportsStoredProgressThatWasWrong) {
  Objective a = Obj("a", "", kKrs);
  a.progress = 0.9;  // stale
  Objective b = Obj("b", "", kKrs);
  b.progress = 0.5;  // right
  std::vector<ProgressChange> corrected;
  absl::StatusOr<RollupTree> tree =
      RollupTree::Build({a, b}, {Kr("a", "k", 0.25, 1), Kr("b", "k", 0.5, 1)}, &corrected);
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_THAT(Describe(corrected), ElementsAre("a 0.9->0.25"));
}

TEST(RollupTreeTest, Build_UnknownParentIsARootAndUnknownKeyResultsAreIgnored) {
  absl::StatusOr<RollupTree> tree = RollupTree::Build(
      {Obj("a", "elsewhere", kKrs)}, {Kr("a", "k", 0.5, 1), Kr("ghost", "k", 1, 1)});
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_EQ(*tree->Parent("a"), "");
  EXPECT_EQ(tree->key_result_count(), 1u);
  EXPECT_DOUBLE_EQ(*tree->Progress("a"), 0.5);
}

TEST(RollupTreeTest, Build_RejectsLoopsDuplicatesAndBadWeights) {
  absl::Status s =
      RollupTree::Build({Obj("a", "b", kKrs), Obj("b", "a", kKrs), Obj("c", "", kKrs)}, {})
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("objective.parent: objectives/a is on or below a loop"));
  s = RollupTree::Build({Obj("a", "", kKrs), Obj("a", "", kKrs)}, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("objectives/a is listed twice"));
  s = RollupTree::Build({Obj("a", "", kKrs, -1)}, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("objective.weight must be a finite number >= 0"));
  s = RollupTree::Build({Obj("a", "", kKrs)},
                        {Kr("a", "k", 0, std::numeric_limits<double>::infinity())})
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("key_result.weight"));
}

TEST(RollupTreeTest, SetKeyResult_PropagatesUpEveryAncestorAndReportsEachChange) {
  RollupTree tree = SampleTree();
  absl::StatusOr<std::vector<ProgressChange>> changes = tree.SetKeyResult("leaf", "l1", 1, 1);
  ASSERT_TRUE(changes.ok()) << changes.status();
  // leaf = (1 + 2.25) / 4; mid = 0.8125 / 2; root = (0.5 + 0.8125 + 1) / 4.
  EXPECT_THAT(Describe(*changes),
              ElementsAre("leaf 0.625->0.8125", "mid 0.3125->0.40625", "root 0.53125->0.578125"));
  EXPECT_DOUBLE_EQ(*tree.Progress("root"), 0.578125);
}

TEST(RollupTreeTest, SetKeyResult_Unchanged_ReportsNothing) {
  RollupTree tree = SampleTree();
  absl::StatusOr<std::vector<ProgressChange>> changes = tree.SetKeyResult("leaf", "l1", 0.25, 1);
  ASSERT_TRUE(changes.ok());
  EXPECT_THAT(*changes, IsEmpty());
}

TEST(RollupTreeTest, SetKeyResult_ClampsProgressLikeTheProgressRules) {
  RollupTree tree = SampleTree();
  ASSERT_TRUE(tree.SetKeyResult("side", "s1", 1.7, 1).ok());
  EXPECT_DOUBLE_EQ(*tree.Progress("side"), 1);
  ASSERT_TRUE(tree.SetKeyResult("side", "s1", std::nan(""), 1).ok());
  EXPECT_DOUBLE_EQ(*tree.Progress("side"), 0);
}

TEST(RollupTreeTest, SetKeyResult_NewKeyResultJoinsTheMean) {
  RollupTree tree = SampleTree();
  absl::StatusOr<std::vector<ProgressChange>> changes = tree.SetKeyResult("side", "s2", 0, 1);
  ASSERT_TRUE(changes.ok());
  // side = 0.5; root = (0.5 + 0.625 + 0.5) / 4.
  EXPECT_THAT(Describe(*changes), ElementsAre("side 1->0.5", "root 0.53125->0.40625"));
  EXPECT_EQ(tree.key_result_count(), 6u);
}

TEST(RollupTreeTest, KeyResultsOnlyParent_StopsThePropagation) {
  RollupTree tree = SampleTree();
  absl::StatusOr<std::vector<ProgressChange>> changes = tree.SetProgressSource("mid", kKrs);
  ASSERT_TRUE(changes.ok());
  EXPECT_THAT(Describe(*changes), ElementsAre("mid 0.3125->0", "root 0.53125->0.375"));
  changes = tree.SetKeyResult("leaf", "l1", 1, 1);
  ASSERT_TRUE(changes.ok());
  EXPECT_THAT(Describe(*changes), ElementsAre("leaf 0.625->0.8125"));
  // Switching back picks up the child's current progress.
  changes = tree.SetProgressSource("mid", kWithChildren);
  ASSERT_TRUE(changes.ok());
  EXPECT_THAT(Describe(*changes), ElementsAre("mid 0->0.40625", "root 0.375->0.578125"));
}

TEST(RollupTreeTest, AddObjective_ANewChildAtZeroCountsInItsParent) {
  RollupTree tree = SampleTree();
  absl::StatusOr<std::vector<ProgressChange>> changes = tree.AddObjective("new", "root", kKrs, 4);
  ASSERT_TRUE(changes.ok()) << changes.status();
  // root = 2.125 / (4 + 4).
  EXPECT_THAT(Describe(*changes), ElementsAre("root 0.53125->0.265625"));
  EXPECT_EQ(tree.AddObjective("new", "", kKrs, 1).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(tree.AddObjective("x", "nope", kKrs, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tree.AddObjective("", "", kKrs, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RollupTreeTest, SetWeight_ZeroTakesAChildOutOfTheMean) {
  RollupTree tree = SampleTree();
  absl::StatusOr<std::vector<ProgressChange>> changes = tree.SetWeight("mid", 0);
  ASSERT_TRUE(changes.ok());
  // root = (0.5 + 1) / 2.
  EXPECT_THAT(Describe(*changes), ElementsAre("root 0.53125->0.75"));
  EXPECT_EQ(tree.SetWeight("mid", -1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tree.SetWeight("mid", std::nan("")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RollupTreeTest, SetParent_MovesTheContributionAndRejectsLoops) {
  RollupTree tree = SampleTree();
  absl::StatusOr<std::vector<ProgressChange>> changes = tree.SetParent("leaf", "root");
  ASSERT_TRUE(changes.ok()) << changes.status();
  // mid = 0 (only m1); root = (0.5 + 0*2 + 1 + 0.625) / 5.
  EXPECT_THAT(Describe(*changes), ElementsAre("mid 0.3125->0", "root 0.53125->0.425"));
  EXPECT_EQ(*tree.Parent("leaf"), "root");

  const absl::Status loop = tree.SetParent("root", "leaf").status();
  EXPECT_EQ(loop.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(loop.message(), HasSubstr("objective.parent: aligning objectives/root to "
                                        "objectives/leaf would make it its own ancestor"));
  EXPECT_EQ(*tree.Parent("root"), "");

  changes = tree.SetParent("leaf", "");
  ASSERT_TRUE(changes.ok());
  EXPECT_THAT(Describe(*changes), ElementsAre("root 0.425->0.375"));
}

TEST(RollupTreeTest, RemoveObjective_NeedsNoChildrenAndUpdatesTheParent) {
  RollupTree tree = SampleTree();
  EXPECT_EQ(tree.RemoveObjective("mid").status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<std::vector<ProgressChange>> changes = tree.RemoveObjective("leaf");
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_THAT(Describe(*changes), ElementsAre("mid 0.3125->0", "root 0.53125->0.375"));
  EXPECT_EQ(tree.objective_count(), 3u);
  EXPECT_EQ(tree.key_result_count(), 3u);
  EXPECT_EQ(tree.Progress("leaf"), std::nullopt);
  EXPECT_EQ(tree.RemoveObjective("leaf").status().code(), absl::StatusCode::kNotFound);
  // Freed slots are reused.
  ASSERT_TRUE(tree.AddObjective("leaf2", "mid", kKrs, 1).ok());
  ASSERT_TRUE(tree.SetKeyResult("leaf2", "k", 1, 1).ok());
  EXPECT_DOUBLE_EQ(*tree.Progress("mid"), 0.5);
}

TEST(RollupTreeTest, RemoveKeyResult_LastOneLeavesExactlyZero) {
  RollupTree tree = SampleTree();
  ASSERT_TRUE(tree.SetKeyResult("side", "s1", 1.0 / 3.0, 1).ok());
  absl::StatusOr<std::vector<ProgressChange>> changes = tree.RemoveKeyResult("side", "s1");
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(*tree.Progress("side"), 0.0);
  EXPECT_EQ(tree.RemoveKeyResult("side", "s1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tree.SetKeyResult("nope", "k", 1, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tree.SetKeyResult("side", "k", 1, -2).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The reference: every objective recomputed bottom-up with the plain function.
struct Reference {
  struct Node {
    std::string parent;
    ProgressSource source = kKrs;
    double weight = 1;
    std::map<std::string, std::pair<double, double>> krs;  // id -> (progress, weight)
  };
  std::map<std::string, Node> nodes;

  bool IsAncestor(const std::string& a, std::string of) const {
    for (; !of.empty(); of = nodes.at(of).parent) {
      if (of == a) return true;
    }
    return false;
  }

  std::map<std::string, double> Compute() const {
    std::map<std::string, std::vector<std::string>> children;
    std::vector<std::string> order;
    for (const auto& [id, n] : nodes) {
      if (n.parent.empty()) {
        order.push_back(id);
      } else {
        children[n.parent].push_back(id);
      }
    }
    for (size_t i = 0; i < order.size(); ++i) {
      for (const std::string& c : children[order[i]]) order.push_back(c);
    }
    std::map<std::string, double> progress;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      const Node& n = nodes.at(*it);
      std::vector<KeyResult> krs;
      for (const auto& [id, pw] : n.krs) krs.push_back(Kr(*it, id, pw.first, pw.second));
      std::vector<std::pair<double, double>> kids;
      for (const std::string& c : children[*it]) {
        kids.emplace_back(progress.at(c), nodes.at(c).weight);
      }
      progress[*it] = ObjectiveProgressWithChildren(krs, kids, n.source);
    }
    return progress;
  }
};

TEST(RollupTreeTest, HundredThousandRandomChanges_MatchFullRecomputeAndThePlainRule) {
  std::mt19937_64 rng(20260101);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const double kWeights[] = {0, 0.5, 1, 1, 2, 3.7, 13};
  auto weight = [&] { return kWeights[pick(7)]; };

  constexpr int kObjectives = 2000;
  Reference ref;
  std::vector<Objective> objectives;
  std::vector<KeyResult> key_results;
  std::vector<std::string> ids;
  for (int i = 0; i < kObjectives; ++i) {
    const std::string id = absl::StrCat("o", i);
    const std::string parent = i == 0 || pick(20) == 0 ? "" : ids[pick(ids.size())];
    const ProgressSource source = pick(4) == 0 ? kKrs : kWithChildren;
    const double w = weight();
    objectives.push_back(Obj(id, parent, source, w));
    ref.nodes[id] = {parent, source, w, {}};
    for (size_t k = pick(5); k > 0; --k) {
      const std::string kr = absl::StrCat("k", k);
      const double p = uniform(-0.1, 1.1), kw = weight();
      key_results.push_back(Kr(id, kr, p, kw));
      ref.nodes[id].krs[kr] = {p, kw};
    }
    ids.push_back(id);
  }
  absl::StatusOr<RollupTree> built = RollupTree::Build(objectives, key_results);
  ASSERT_TRUE(built.ok()) << built.status();
  RollupTree& tree = *built;

  // What a caller persists: the initial values plus every reported change.
  std::map<std::string, double> persisted;
  for (const std::string& id : ids) persisted[id] = *tree.Progress(id);

  for (int op = 0; op < 100'000; ++op) {
    const std::string& id = ids[pick(ids.size())];
    Reference::Node& node = ref.nodes[id];
    absl::StatusOr<std::vector<ProgressChange>> changes;
    const size_t kind = pick(100);
    if (kind < 75) {  // a tracker item or check-in moves a key result
      const std::string kr = absl::StrCat("k", pick(6));
      const double p = uniform(-0.1, 1.1);
      const double w = node.krs.count(kr) && pick(2) ? node.krs[kr].second : weight();
      changes = tree.SetKeyResult(id, kr, p, w);
      node.krs[kr] = {Clamp01(p), w};
    } else if (kind < 82) {
      const double w = weight();
      changes = tree.SetWeight(id, w);
      node.weight = w;
    } else if (kind < 86) {
      const ProgressSource s = pick(2) ? kKrs : kWithChildren;
      changes = tree.SetProgressSource(id, s);
      node.source = s;
    } else if (kind < 94) {
      const std::string parent = pick(10) == 0 ? "" : ids[pick(ids.size())];
      changes = tree.SetParent(id, parent);
      if (!parent.empty() && ref.IsAncestor(id, parent)) {
        ASSERT_EQ(changes.status().code(), absl::StatusCode::kInvalidArgument);
        continue;
      }
      node.parent = parent;
    } else {
      if (node.krs.empty()) continue;
      auto it = node.krs.begin();
      std::advance(it, pick(node.krs.size()));
      changes = tree.RemoveKeyResult(id, it->first);
      node.krs.erase(it);
    }
    ASSERT_TRUE(changes.ok()) << changes.status();
    for (const ProgressChange& c : *changes) {
      ASSERT_EQ(persisted[c.objective_id], c.old_progress) << c.objective_id;
      persisted[c.objective_id] = c.new_progress;
    }
  }

  // The reported changes were complete: what was persisted is what the tree holds.
  for (const std::string& id : ids) ASSERT_EQ(persisted[id], *tree.Progress(id)) << id;
  // The plain rule agrees.
  const std::map<std::string, double> expected = ref.Compute();
  double worst = 0;
  for (const std::string& id : ids) {
    worst = std::max(worst, std::abs(*tree.Progress(id) - expected.at(id)));
  }
  EXPECT_LE(worst, 1e-9);
  // And so does a full recompute of the tree.
  const std::map<std::string, double> incremental = persisted;
  for (const ProgressChange& c : tree.RecomputeAll()) {
    EXPECT_LE(std::abs(c.new_progress - c.old_progress), 1e-9) << c.objective_id;
  }
  for (const std::string& id : ids) {
    EXPECT_NEAR(*tree.Progress(id), incremental.at(id), 1e-9) << id;
  }
}

}  // namespace
}  // namespace okr
