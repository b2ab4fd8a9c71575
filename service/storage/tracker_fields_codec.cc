#include "service/storage/tracker_fields_codec.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace okr::storage {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

absl::StatusOr<json> ParseObject(const std::string& text, const char* column) {
  if (text.empty()) return json::object();
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InternalError(absl::StrCat("stored ", column, " is not a JSON object"));
  }
  return j;
}

std::string StringAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string EncodeTrackerProjects(const std::map<Tracker, std::string>& projects) {
  json j = json::object();
  for (const auto& [tracker, project] : projects) {
    if (!project.empty() && FindTracker(tracker) != nullptr) j[TrackerSlug(tracker)] = project;
  }
  return Dump(j);
}

absl::StatusOr<std::map<Tracker, std::string>> DecodeTrackerProjects(const std::string& text) {
  absl::StatusOr<json> j = ParseObject(text, "tracker_projects");
  if (!j.ok()) return j.status();
  std::map<Tracker, std::string> out;
  for (const auto& [slug, value] : j->items()) {
    std::optional<Tracker> tracker = TrackerFromSlug(slug);
    if (!tracker.has_value() || !value.is_string()) continue;
    std::string project = value.get<std::string>();
    if (!project.empty()) out[*tracker] = std::move(project);
  }
  return out;
}

std::string EncodeTrackerScopes(const std::map<Tracker, TrackerScope>& scopes) {
  json j = json::object();
  for (const auto& [tracker, scope] : scopes) {
    if (scope.empty() || FindTracker(tracker) == nullptr) continue;
    json s = json::object();
    if (!scope.query.empty()) s["query"] = scope.query;
    if (!scope.project.empty()) s["project"] = scope.project;
    if (!scope.labels.empty()) s["labels"] = scope.labels;
    if (!scope.milestone.empty()) s["milestone"] = scope.milestone;
    j[TrackerSlug(tracker)] = std::move(s);
  }
  return Dump(j);
}

absl::StatusOr<std::map<Tracker, TrackerScope>> DecodeTrackerScopes(const std::string& text) {
  absl::StatusOr<json> j = ParseObject(text, "tracker_scopes");
  if (!j.ok()) return j.status();
  std::map<Tracker, TrackerScope> out;
  for (const auto& [slug, value] : j->items()) {
    std::optional<Tracker> tracker = TrackerFromSlug(slug);
    if (!tracker.has_value() || !value.is_object()) continue;
    TrackerScope scope;
    scope.query = StringAt(value, "query");
    scope.project = StringAt(value, "project");
    scope.milestone = StringAt(value, "milestone");
    if (auto labels = value.find("labels"); labels != value.end() && labels->is_array()) {
      for (const json& label : *labels) {
        if (label.is_string()) scope.labels.push_back(label.get<std::string>());
      }
    }
    if (!scope.empty()) out[*tracker] = std::move(scope);
  }
  return out;
}

}  // namespace okr::storage
