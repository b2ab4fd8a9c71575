#include "service/server/config_file.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "service/server/connector_registry.h"

namespace okr::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxFileBytes = 1 << 20;

// "OKR_JIRA_*": the common prefix (up to a '_') of a section's environment variables.
std::string EnvPattern(const std::vector<sync::ConnectorSetting>& settings) {
  if (settings.empty()) return "";
  std::string prefix = settings.front().env;
  for (const sync::ConnectorSetting& s : settings) {
    size_t n = 0;
    while (n < prefix.size() && n < s.env.size() && prefix[n] == s.env[n]) ++n;
    prefix.resize(n);
  }
  const size_t underscore = prefix.rfind('_');
  return underscore == std::string::npos ? prefix : prefix.substr(0, underscore + 1) + "*";
}

}  // namespace

absl::StatusOr<ConnectorsFile> ParseConnectorsFile(absl::string_view text, const std::string& path,
                                                   const GetEnvFn& env) {
  json root;
  try {
    root = json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/true,
                       /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -> one line.
    std::string what = absl::StrReplaceAll(e.what(), {{"\n", " "}, {"\r", " "}});
    const size_t bracket = what.find("] ");
    if (absl::StartsWith(what, "[json.exception.") && bracket != std::string::npos) {
      what = what.substr(bracket + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON: ", what));
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": must be a JSON object"));
  }
  const sync::ConfigObject top(path, "", root);
  std::vector<std::string> keys;
  for (const ConnectorRegistration& entry : ConnectorRegistry()) {
    keys.push_back(entry.config->file_key());
  }
  if (absl::Status known = top.OnlyKnown(keys); !known.ok()) return known;
  ConnectorsFile file;
  for (const ConnectorRegistration& entry : ConnectorRegistry()) {
    if (!top.Has(entry.config->file_key())) continue;
    absl::StatusOr<std::shared_ptr<const sync::ConfiguredSites>> section =
        entry.config->ReadFileSection(top, env);
    if (!section.ok()) return section.status();
    file.sections[entry.tracker] = *std::move(section);
  }
  return file;
}

absl::StatusOr<ConnectorsFile> LoadConnectorsFile(const std::string& path, const GetEnvFn& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read the file"));
  std::string text;
  text.resize(kMaxFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read the file"));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 1 MiB"));
  }
  return ParseConnectorsFile(text, path, env);
}

std::string ConnectorsFileHelp() {
  std::vector<std::string> sections;
  std::string entries;
  std::string webhooks;
  for (const ConnectorRegistration& entry : ConnectorRegistry()) {
    const sync::ConfigSection& c = *entry.config;
    sections.push_back(absl::StrCat("\"", c.file_key(), "\": [", c.file_entry(), "...]"));
    absl::StrAppend(&entries, c.file_help());
    const char* slug = TrackerSlug(entry.tracker);
    absl::StrAppend(&webhooks, "    ", EnvPattern(c.settings()), ": webhook POST ",
                    sync::WebhookPath(slug, kDefaultSiteName), ", named sites POST ",
                    sync::WebhookPath(slug, "<name>"), "\n");
  }
  return absl::StrCat(
      "Configuration file (--config, JSON; comments allowed):\n  {", absl::StrJoin(sections, ", "),
      "}\n", entries,
      "  Secrets are never in the file: *_env names an environment variable, *_file a file.\n"
      "  The entry named \"default\" is the site its tracker's top-level settings configure;\n"
      "  those settings override it:\n",
      webhooks,
      "  Every other entry needs url, projects and its secrets, owns the listed projects, and\n"
      "  its tracker ids are stored as \"<name>:<id>\". The default site owns every project no\n"
      "  other site lists.\n");
}

}  // namespace okr::server
