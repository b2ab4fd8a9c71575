// How current a key result's items from one tracker are, in the words the key result page
// shows: "Jira: confirmed 3 minutes ago", "GitLab (internal): stale (last reconciliation
// failed: UNAVAILABLE: ...)". Plain text; the page's template escapes it.
//
//   std::string line = FreshnessInWords(freshness, clock.Now());
#ifndef OKR_SERVICE_WEB_FRESHNESS_WORDS_H_
#define OKR_SERVICE_WEB_FRESHNESS_WORDS_H_

#include <string>

#include "absl/time/time.h"
#include "service/okr/freshness.h"

namespace okr::web {

// "less than a minute ago", "1 minute ago", "5 hours ago", "2 days ago" (a time after
// `now` reads as "just now").
std::string AgoInWords(absl::Time then, absl::Time now);
std::string FreshnessInWords(const TrackerFreshness& freshness, absl::Time now);

}  // namespace okr::web

#endif  // OKR_SERVICE_WEB_FRESHNESS_WORDS_H_
