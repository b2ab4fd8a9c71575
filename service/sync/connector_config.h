// A tracker connector's configuration section, as the connector declares it and the
// composition root (service/server/config.cc, config_file.cc) reads it without knowing
// the tracker: its top-level settings (`--<flag>` / OKR_* environment variables, secrets
// from the environment or `<VAR>_FILE` only), the key of its list of sites in the
// configuration file ("jira_sites") with the reader of one entry, the validation of its
// settings, and its log line. Each connector exports one ConnectorConfig<its site config>
// next to its factory (connectors/<tracker>/<tracker>_config.h); the registry
// (service/server/connector_registry.cc) erases the site type (ConfigSection).
//
//   ConnectorConfig<JiraSiteConfig> c;
//   c.settings = {{{"jira-url", "OKR_JIRA_URL", "Jira site base URL ..."}, &JiraSiteConfig::url}};
//   c.enabled_by = "jira-url";          // the default site runs when this setting is set
//   c.file_key = "jira_sites";          // {"jira_sites": [SITE...]}
//   c.read_entry = [](const ConfigObject& r, SiteNames& names, ...) { ... };
//
// Precedence for the default site (the file's entry named sync::kDefaultSiteName): flag >
// environment > the file's "default" entry > the setting's built-in default.
#ifndef OKR_SERVICE_SYNC_CONNECTOR_CONFIG_H_
#define OKR_SERVICE_SYNC_CONNECTOR_CONFIG_H_

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/sync/tracker_connector.h"

namespace okr::sync {

using GetEnvFn = std::function<const char*(const char*)>;

// One top-level setting: `--<flag>` with environment variable `env`; a secret comes from
// `env` or the file named by `<env>_FILE` only, never from a flag, and is never logged.
struct ConnectorSetting {
  std::string flag;                    // "jira-url"
  std::string env;                     // "OKR_JIRA_URL"
  std::string help;                    // one line of --help
  std::string default_value{};         // "" for none
  std::vector<std::string> allowed{};  // empty: any value
  bool secret = false;
};

// The final value of each of a tracker's settings, by flag ("jira-url" -> "https://...").
using SettingValues = std::map<std::string, std::string, std::less<>>;

// The value of `flag` in `values`, "" when absent.
const std::string& SettingValue(const SettingValues& values, absl::string_view flag);

// One JSON object of the configuration file: rejects unknown members, hands out typed
// members, and builds "<file>: <path>: <problem>" errors.
class ConfigObject {
 public:
  ConfigObject(const std::string& file, std::string path, const nlohmann::json& object)
      : file_(file), path_(std::move(path)), object_(object) {}

  absl::Status Error(absl::string_view member, absl::string_view problem) const;
  // "jira_sites[1].url" for member "url" of "jira_sites[1]".
  std::string Path(absl::string_view member) const;
  const std::string& file() const { return file_; }
  const nlohmann::json& object() const { return object_; }

  // OK if every member is one of `known`.
  absl::Status OnlyKnown(const std::vector<std::string>& known) const;
  bool Has(const std::string& member) const { return object_.contains(member); }
  // A non-empty string member, or "" when absent.
  absl::StatusOr<std::string> String(const std::string& member) const;
  // An array of non-empty strings, empty when absent.
  absl::StatusOr<std::vector<std::string>> Strings(const std::string& member) const;
  // The secret named by `<secret>_env` (an environment variable) or `<secret>_file` (a
  // file, trailing newlines dropped); "" when neither is given.
  absl::StatusOr<std::string> Secret(const std::string& secret, const GetEnvFn& env) const;
  // An object member (which must exist).
  absl::StatusOr<ConfigObject> Object(const std::string& member) const;

 private:
  const std::string& file_;
  std::string path_;
  const nlohmann::json& object_;
};

// The names of a section's entries read so far.
using SiteNames = std::set<std::string>;

// Member "name" of a file entry: kDefaultSiteName or a site name ([a-z0-9][a-z0-9-]*, at
// most 32), not yet in `seen` (where it is added).
absl::StatusOr<std::string> ReadSiteName(const ConfigObject& entry, SiteNames& seen);

// True for "http(s)://" followed by something.
bool IsHttpUrl(absl::string_view url);

// A done rule's optional member "credit": {"<name>": <share of the weight in [0, 1]>, ...}
// (empty without the member). An empty name is an error "names an empty <what>".
absl::StatusOr<std::map<std::string, double>> ReadCredit(const ConfigObject& rule,
                                                         absl::string_view what);

// Whether the owned entry `owned` (a group, owner, project, ...) covers `item`.
using CoversFn = bool (*)(absl::string_view owned, absl::string_view item);

// No entry of `mine` (member `member` of `r`) and entry of `theirs` (owned by the earlier
// site `their_name`) cover one another; else the error on `member`:
// "<p> overlaps <q> of instance \"<their_name>\"".
absl::Status CheckNoOverlap(const ConfigObject& r, absl::string_view member,
                            const std::vector<std::string>& mine, absl::string_view their_name,
                            const std::vector<std::string>& theirs, CoversFn covers);

// A tracker's configuration section over its site configuration `Site` (the type its
// factory takes), which has `std::string name` and `bool is_default() const`.
template <typename Site>
struct ConnectorConfig {
  // A setting of the default site and the member of `Site` it sets (nullptr: none). The
  // file's "default" entry supplies a setting's value when its member is non-empty there.
  struct Row {
    ConnectorSetting setting;
    std::string Site::*field = nullptr;
  };
  std::vector<Row> settings;
  // The setting whose (non-empty) value enables the default site ("jira-url").
  std::string enabled_by;
  // The configuration file: {"<file_key>": [<file_entry>...]}; `file_help` are the --help
  // lines describing one entry (each starting with two spaces, ending with '\n').
  std::string file_key;
  std::string file_entry;
  std::string file_help;
  // Reads one entry of the file's list (names through ReadSiteName(entry, names));
  // `earlier` are the entries before it, for collisions. Errors via entry.Error(...).
  std::function<absl::StatusOr<Site>(const ConfigObject& entry, SiteNames& names,
                                     const std::vector<Site>& earlier, const GetEnvFn& env)>
      read_entry;
  // Checks the final settings (called whatever they are; OK when the tracker is off).
  std::function<absl::Status(const SettingValues& values)> validate;
  // The log line of one configured site (secrets never in it).
  std::function<std::string(const Site& site)> describe;
};

// A tracker's configured sites, in order (the default site first), opaque to the
// composition root.
class ConfiguredSites {
 public:
  virtual ~ConfiguredSites() = default;
  virtual size_t size() const = 0;
  virtual const std::string& name(size_t i) const = 0;
  virtual bool is_default(size_t i) const = 0;
};

template <typename Site>
class SiteList final : public ConfiguredSites {
 public:
  explicit SiteList(std::vector<Site> sites) : sites_(std::move(sites)) {}
  size_t size() const override { return sites_.size(); }
  const std::string& name(size_t i) const override { return sites_[i].name; }
  bool is_default(size_t i) const override { return sites_[i].is_default(); }
  const std::vector<Site>& sites() const { return sites_; }

 private:
  std::vector<Site> sites_;
};

// The sites of type `Site` in `sites` (empty when null or of another type).
template <typename Site>
const std::vector<Site>& SitesOf(const ConfiguredSites* sites) {
  static const std::vector<Site> kNone;
  const auto* list = dynamic_cast<const SiteList<Site>*>(sites);
  return list == nullptr ? kNone : list->sites();
}

// A ConnectorConfig with its site type erased.
class ConfigSection {
 public:
  virtual ~ConfigSection() = default;
  virtual std::vector<ConnectorSetting> settings() const = 0;
  virtual const std::string& file_key() const = 0;
  virtual const std::string& file_entry() const = 0;
  virtual const std::string& file_help() const = 0;
  // Reads the file's `file_key()` member of `top` (which has it).
  virtual absl::StatusOr<std::shared_ptr<const ConfiguredSites>> ReadFileSection(
      const ConfigObject& top, const GetEnvFn& env) const = 0;
  // The file's "default" entry's non-empty settings into `values`.
  virtual void ApplyFileDefault(const ConfiguredSites* file, SettingValues& values) const = 0;
  virtual absl::Status Validate(const SettingValues& values) const = 0;
  // The sites to run: the default site (from `values` over the file's "default" entry)
  // when enabled, then the file's named sites.
  virtual std::shared_ptr<const ConfiguredSites> Collect(const SettingValues& values,
                                                         const ConfiguredSites* file) const = 0;
  virtual std::vector<std::string> DescribeForLog(const ConfiguredSites& sites) const = 0;
};

template <typename Site>
class TypedConfigSection final : public ConfigSection {
 public:
  explicit TypedConfigSection(ConnectorConfig<Site> config) : config_(std::move(config)) {}

  std::vector<ConnectorSetting> settings() const override {
    std::vector<ConnectorSetting> out;
    for (const auto& row : config_.settings) out.push_back(row.setting);
    return out;
  }
  const std::string& file_key() const override { return config_.file_key; }
  const std::string& file_entry() const override { return config_.file_entry; }
  const std::string& file_help() const override { return config_.file_help; }

  absl::StatusOr<std::shared_ptr<const ConfiguredSites>> ReadFileSection(
      const ConfigObject& top, const GetEnvFn& env) const override {
    const nlohmann::json& entries = top.object().at(config_.file_key);
    if (!entries.is_array()) return top.Error(config_.file_key, "must be an array");
    std::vector<Site> sites;
    SiteNames names;
    for (size_t i = 0; i < entries.size(); ++i) {
      const std::string at = absl::StrCat(config_.file_key, "[", i, "]");
      if (!entries[i].is_object()) return top.Error(at, "must be an object");
      absl::StatusOr<Site> site =
          config_.read_entry(ConfigObject(top.file(), at, entries[i]), names, sites, env);
      if (!site.ok()) return site.status();
      sites.push_back(*std::move(site));
    }
    return std::make_shared<SiteList<Site>>(std::move(sites));
  }

  void ApplyFileDefault(const ConfiguredSites* file, SettingValues& values) const override {
    for (const Site& site : SitesOf<Site>(file)) {
      if (!site.is_default()) continue;
      for (const auto& row : config_.settings) {
        if (row.field != nullptr && !(site.*row.field).empty()) {
          values[row.setting.flag] = site.*row.field;
        }
      }
    }
  }

  absl::Status Validate(const SettingValues& values) const override {
    return config_.validate ? config_.validate(values) : absl::OkStatus();
  }

  std::shared_ptr<const ConfiguredSites> Collect(const SettingValues& values,
                                                 const ConfiguredSites* file) const override {
    const std::vector<Site>& from_file = SitesOf<Site>(file);
    std::vector<Site> sites;
    if (!SettingValue(values, config_.enabled_by).empty()) {
      Site site;
      for (const Site& s : from_file) {
        if (s.is_default()) site = s;
      }
      site.name = std::string(kDefaultSiteName);
      for (const auto& row : config_.settings) {
        if (row.field != nullptr) site.*row.field = SettingValue(values, row.setting.flag);
      }
      sites.push_back(std::move(site));
    }
    for (const Site& s : from_file) {
      if (!s.is_default()) sites.push_back(s);
    }
    return std::make_shared<SiteList<Site>>(std::move(sites));
  }

  std::vector<std::string> DescribeForLog(const ConfiguredSites& sites) const override {
    std::vector<std::string> lines;
    for (const Site& site : SitesOf<Site>(&sites)) lines.push_back(config_.describe(site));
    return lines;
  }

 private:
  ConnectorConfig<Site> config_;
};

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_CONNECTOR_CONFIG_H_
