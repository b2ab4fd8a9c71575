#include "service/metrics/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CounterRendersHelpTypeAndEscapedLabels) {
  Registry r;
  Counter& c = r.AddCounter("okr_things_total", "Things \\ done.\nMore.", {"kind"});
  c.Inc({"a\"b\\c\nd"});
  c.Inc({"a\"b\\c\nd"}, 2);
  std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# HELP okr_things_total Things \\\\ done.\\nMore.\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE okr_things_total counter\n"));
  EXPECT_THAT(text, HasSubstr("okr_things_total{kind=\"a\\\"b\\\\c\\nd\"} 3\n"));
  EXPECT_EQ(c.Value({"a\"b\\c\nd"}), 3);
  EXPECT_EQ(c.Value({"never"}), 0);
}

TEST(MetricsTest, CounterIgnoresNegativeDeltas) {
  Registry r;
  Counter& c = r.AddCounter("okr_x_total", "X.", {});
  c.Inc({}, 2);
  c.Inc({}, -1);
  EXPECT_EQ(c.Value({}), 2);
}

TEST(MetricsTest, UnlabelledCounterRendersZeroBeforeFirstUse) {
  Registry r;
  r.AddCounter("okr_idle_total", "Idle.", {});
  EXPECT_THAT(r.Render(), HasSubstr("\nokr_idle_total 0\n"));
}

TEST(MetricsTest, LabelsRenderSortedByName) {
  Registry r;
  Counter& c = r.AddCounter("okr_calls_total", "Calls.", {"method", "code"});
  c.Inc({"GetObjective", "NOT_FOUND"});
  EXPECT_THAT(r.Render(),
              HasSubstr("okr_calls_total{code=\"NOT_FOUND\",method=\"GetObjective\"} 1\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  Histogram& h = r.AddHistogram("okr_latency_seconds", "Latency.", {"m"}, {0.1, 1});
  h.Observe({"x"}, 0.05);
  h.Observe({"x"}, 0.5);
  h.Observe({"x"}, 5);
  std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE okr_latency_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("okr_latency_seconds_bucket{m=\"x\",le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("okr_latency_seconds_bucket{m=\"x\",le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("okr_latency_seconds_bucket{m=\"x\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("okr_latency_seconds_sum{m=\"x\"} 5.55\n"));
  EXPECT_THAT(text, HasSubstr("okr_latency_seconds_count{m=\"x\"} 3\n"));
  EXPECT_EQ(h.Count({"x"}), 3u);
  EXPECT_EQ(h.Count({"y"}), 0u);
}

// Issue #18: the hand-written renderer printed le="0.00025000000000000001", so a query on
// le="0.00025" matched nothing. Every latency bound prints as written in the code.
TEST(MetricsTest, LatencyBucketBoundsPrintInShortestForm) {
  Registry r;
  Histogram& h = r.AddHistogram("okr_rpc_seconds", "RPCs.", {}, LatencyBuckets());
  h.Observe({}, 0.0002);
  const std::string text = r.Render();
  for (const char* le : {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
                         "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"}) {
    EXPECT_THAT(text, HasSubstr(std::string("okr_rpc_seconds_bucket{le=\"") + le + "\"}"));
  }
  EXPECT_THAT(text, HasSubstr("okr_rpc_seconds_bucket{le=\"0.00025\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("okr_rpc_seconds_bucket{le=\"0.0001\"} 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("000000000")));
}

TEST(MetricsTest, CallbackGaugeIsReadAtRender) {
  Registry r;
  double depth = 4;
  r.AddCallbackGauge("okr_queue_depth", "Depth.", [&] { return depth; });
  EXPECT_THAT(r.Render(), HasSubstr("# TYPE okr_queue_depth gauge\nokr_queue_depth 4\n"));
  depth = 7;
  EXPECT_THAT(r.Render(), HasSubstr("okr_queue_depth 7\n"));
}

TEST(MetricsTest, LabelledCallbackGaugesShareOneFamily) {
  Registry r;
  r.AddCallbackGauge("okr_pool_connections", "Pool.", {{"state", "idle"}}, [] { return 3; });
  r.AddCallbackGauge("okr_pool_connections", "Pool.", {{"state", "in_use"}}, [] { return 5; });
  r.AddCallbackGauge("okr_build_info", "Build.", {{"version", "1.2.3"}, {"revision", "abc"}},
                     [] { return 1; });
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE okr_pool_connections gauge\n"
                              "okr_pool_connections{state=\"idle\"} 3\n"
                              "okr_pool_connections{state=\"in_use\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("okr_build_info{revision=\"abc\",version=\"1.2.3\"} 1\n"));
}

TEST(MetricsTest, FamiliesRenderInRegistrationOrder) {
  Registry r;
  r.AddCallbackGauge("okr_c", "C.", [] { return 1; });
  r.AddHistogram("okr_b_seconds", "B.", {}, {1});
  r.AddCounter("okr_a_total", "A.", {});
  const std::string text = r.Render();
  const size_t c = text.find("# HELP okr_c ");
  const size_t b = text.find("# HELP okr_b_seconds ");
  const size_t a = text.find("# HELP okr_a_total ");
  ASSERT_NE(c, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(a, std::string::npos);
  EXPECT_LT(c, b);
  EXPECT_LT(b, a);
}

TEST(MetricsTest, RegisteringTwiceReturnsTheSameFamily) {
  Registry r;
  Counter& a = r.AddCounter("okr_x_total", "X.", {});
  Counter& b = r.AddCounter("okr_x_total", "X.", {});
  EXPECT_EQ(&a, &b);
  Histogram& h1 = r.AddHistogram("okr_h_seconds", "H.", {}, {1});
  Histogram& h2 = r.AddHistogram("okr_h_seconds", "H.", {}, {1});
  EXPECT_EQ(&h1, &h2);
}

TEST(MetricsDeathTest, InvalidNameAbortsAtRegistration) {
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("okr bad name", "X.", {});
      },
      "okr bad name");
}

TEST(MetricsDeathTest, OneNameAsTwoKindsAborts) {
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("okr_x_total", "X.", {});
        r.AddHistogram("okr_x_total", "X.", {}, {1});
      },
      "different kinds");
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  Counter& c = r.AddCounter("okr_n_total", "N.", {"t"});
  Histogram& h = r.AddHistogram("okr_n_seconds", "N.", {"t"}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        c.Inc({t % 2 == 0 ? "even" : "odd"});
        h.Observe({"all"}, 0.5);
        if (i % 100 == 0) r.Render();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(c.Value({"even"}) + c.Value({"odd"}), 4000);
  EXPECT_EQ(h.Count({"all"}), 4000u);
}

TEST(MetricsTest, BoundSeriesAreTheSeriesOfTheirLabels) {
  Registry r;
  Counter& c = r.AddCounter("okr_bound_total", "Bound.", {"t"});
  Histogram& h = r.AddHistogram("okr_bound_seconds", "Bound.", {"t"}, {1});
  const CounterSeries a = c.Bind({"a"});
  const HistogramSeries ha = h.Bind({"a"});
  // Bound series render at once, with their zero value.
  EXPECT_THAT(r.Render(), HasSubstr("okr_bound_total{t=\"a\"} 0\n"));
  a.Inc();
  a.Inc(2);
  a.Inc(-5);  // ignored, as by Counter::Inc
  c.Inc({"a"});
  ha.Observe(0.5);
  ha.Observe(3);
  EXPECT_EQ(c.Value({"a"}), 4);
  EXPECT_EQ(h.Count({"a"}), 2u);
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("okr_bound_total{t=\"a\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("okr_bound_seconds_bucket{t=\"a\",le=\"1\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("t=\"b\"")));
}

}  // namespace
}  // namespace okr::metrics
