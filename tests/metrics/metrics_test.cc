#include "service/metrics/metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, CounterRendersHelpTypeAndEscapedLabels) {
  Registry r;
  Counter& c = r.AddCounter("okr_things_total", "Things.\nMore.", {"kind"});
  c.Inc({"a\"b\\c"});
  c.Inc({"a\"b\\c"}, 2);
  std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# HELP okr_things_total Things.\\nMore.\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE okr_things_total counter\n"));
  EXPECT_THAT(text, HasSubstr("okr_things_total{kind=\"a\\\"b\\\\c\"} 3\n"));
  EXPECT_EQ(c.Value({"a\"b\\c"}), 3);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  Histogram& h = r.AddHistogram("okr_latency_seconds", "Latency.", {"m"}, {0.1, 1});
  h.Observe({"x"}, 0.05);
  h.Observe({"x"}, 0.5);
  h.Observe({"x"}, 5);
  std::string text = r.Render();
  EXPECT_THAT(text,
              HasSubstr("okr_latency_seconds_bucket{m=\"x\",le=\"0.10000000000000001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("okr_latency_seconds_bucket{m=\"x\",le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("okr_latency_seconds_bucket{m=\"x\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("okr_latency_seconds_sum{m=\"x\"} 5.5499999999999998\n"));
  EXPECT_THAT(text, HasSubstr("okr_latency_seconds_count{m=\"x\"} 3\n"));
  EXPECT_EQ(h.Count({"x"}), 3u);
}

TEST(MetricsTest, CallbackGaugeIsReadAtRender) {
  Registry r;
  double depth = 4;
  r.AddCallbackGauge("okr_queue_depth", "Depth.", [&] { return depth; });
  EXPECT_THAT(r.Render(), HasSubstr("okr_queue_depth 4\n"));
  depth = 7;
  EXPECT_THAT(r.Render(), HasSubstr("okr_queue_depth 7\n"));
}

TEST(MetricsTest, RegisteringTwiceReturnsTheSameFamily) {
  Registry r;
  Counter& a = r.AddCounter("okr_x_total", "X.", {});
  Counter& b = r.AddCounter("okr_x_total", "X.", {});
  EXPECT_EQ(&a, &b);
}

}  // namespace
}  // namespace okr::metrics
