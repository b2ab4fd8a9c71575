#include "service/sync/tracker_connector.h"

#include "absl/strings/str_cat.h"

namespace okr::sync {

std::string WebhookPath(absl::string_view slug, absl::string_view site) {
  if (site == kDefaultSiteName) return absl::StrCat("/webhooks/", slug);
  return absl::StrCat("/webhooks/", slug, "/", site);
}

}  // namespace okr::sync
