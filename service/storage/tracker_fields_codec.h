// TrackerFieldsCodec: the one encoding of the tracker-keyed fields of teams (their project
// per tracker) and key results (their scope per tracker) as JSON text columns, shared by
// the SQLite and PostgreSQL stores. Keys are the trackers' slugs (service/okr/trackers.h),
// so a new tracker needs no schema change:
//
//   teams.tracker_projects       {"gitlab":"acme/checkout","jira":"OKRX"}
//   key_results.tracker_scopes   {"gitlab":{"labels":["nps"],"milestone":"Q4",
//                                           "project":"acme/checkout"},
//                                 "jira":{"query":"project = OKRX"}}
//
// Empty values are left out; no entry at all is "{}". The encoding is canonical (sorted
// keys, compact), so equal values encode to equal text.
#ifndef OKR_SERVICE_STORAGE_TRACKER_FIELDS_CODEC_H_
#define OKR_SERVICE_STORAGE_TRACKER_FIELDS_CODEC_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "service/okr/model.h"

namespace okr::storage {

std::string EncodeTrackerProjects(const std::map<Tracker, std::string>& projects);
// INTERNAL for text that is not such an object (a corrupt row); entries of trackers this
// build does not know are dropped.
absl::StatusOr<std::map<Tracker, std::string>> DecodeTrackerProjects(const std::string& text);

std::string EncodeTrackerScopes(const std::map<Tracker, TrackerScope>& scopes);
absl::StatusOr<std::map<Tracker, TrackerScope>> DecodeTrackerScopes(const std::string& text);

}  // namespace okr::storage

#endif  // OKR_SERVICE_STORAGE_TRACKER_FIELDS_CODEC_H_
