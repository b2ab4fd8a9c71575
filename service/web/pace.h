// Pace: how fast a key result must still move to finish on time, in words for the pages
// ("needs about +4 points a week to finish on time"). A point is one percentage point of
// progress; for a metric key result the same pace is also given in its unit. Pure
// function of the key result, its cycle and `now`; the progress rules themselves are
// service/okr/progress.h's.
//
//   std::string words = PaceInWords(kr, cycle, clock.Now());
#ifndef OKR_SERVICE_WEB_PACE_H_
#define OKR_SERVICE_WEB_PACE_H_

#include <string>

#include "absl/time/time.h"
#include "service/okr/model.h"

namespace okr::web {

// One of:
//  - "done" (progress 1);
//  - "the cycle has not started yet" / "the cycle has ended";
//  - "needs about +4 points a week to finish on time (so far +3 a week)" (the part in
//    parentheses once a week has passed), with ", about -1.5 % a week" appended for a
//    metric key result (in its unit, signed in the metric's direction).
std::string PaceInWords(const KeyResult& kr, const Cycle& cycle, absl::Time now);

// "4", "1.5", "0.3": one decimal below 10, none above, no trailing ".0".
std::string RoundForPeople(double value);

}  // namespace okr::web

#endif  // OKR_SERVICE_WEB_PACE_H_
