#include "service/sync/connector_config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

namespace okr::sync {
namespace {

constexpr size_t kMaxSiteNameBytes = 32;

bool IsSiteName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxSiteNameBytes) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool ok = absl::ascii_islower(c) || absl::ascii_isdigit(c) || (i > 0 && c == '-');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

const std::string& SettingValue(const SettingValues& values, absl::string_view flag) {
  static const std::string kEmpty;
  auto it = values.find(flag);
  return it == values.end() ? kEmpty : it->second;
}

absl::Status ConfigObject::Error(absl::string_view member, absl::string_view problem) const {
  return absl::InvalidArgumentError(absl::StrCat(file_, ": ", Path(member), ": ", problem));
}

std::string ConfigObject::Path(absl::string_view member) const {
  if (member.empty()) return path_;
  // Keys come from the file: escaped, so an error stays one line whatever a key holds.
  const std::string escaped = absl::CEscape(member);
  return path_.empty() ? escaped : absl::StrCat(path_, ".", escaped);
}

absl::Status ConfigObject::OnlyKnown(const std::vector<std::string>& known) const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    bool ok = false;
    for (const std::string& k : known) ok = ok || k == it.key();
    if (!ok) {
      return Error(it.key(), absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ConfigObject::String(const std::string& member) const {
  if (!Has(member)) return std::string();
  const nlohmann::json& v = object_.at(member);
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    return Error(member, "must be a non-empty string");
  }
  return v.get<std::string>();
}

absl::StatusOr<std::vector<std::string>> ConfigObject::Strings(const std::string& member) const {
  std::vector<std::string> out;
  if (!Has(member)) return out;
  const nlohmann::json& v = object_.at(member);
  if (!v.is_array()) return Error(member, "must be an array of strings");
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || v[i].get_ref<const std::string&>().empty()) {
      return Error(absl::StrCat(member, "[", i, "]"), "must be a non-empty string");
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

absl::StatusOr<std::string> ConfigObject::Secret(const std::string& secret,
                                                 const GetEnvFn& env) const {
  const std::string env_key = secret + "_env";
  const std::string file_key = secret + "_file";
  if (Has(env_key) && Has(file_key)) {
    return Error(env_key, absl::StrCat("give either ", env_key, " or ", file_key, ", not both"));
  }
  if (Has(env_key)) {
    absl::StatusOr<std::string> var = String(env_key);
    if (!var.ok()) return var.status();
    const char* value = env(var->c_str());
    if (value == nullptr || *value == '\0') {
      return Error(env_key, absl::StrCat("environment variable ", *var, " is not set"));
    }
    return std::string(value);
  }
  if (Has(file_key)) {
    absl::StatusOr<std::string> path = String(file_key);
    if (!path.ok()) return path.status();
    std::ifstream in(*path, std::ios::binary);
    if (!in) return Error(file_key, absl::StrCat("cannot read the file \"", *path, "\""));
    std::stringstream content;
    content << in.rdbuf();
    std::string value = content.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty()) return Error(file_key, absl::StrCat("the file \"", *path, "\" is empty"));
    return value;
  }
  return std::string();
}

absl::StatusOr<ConfigObject> ConfigObject::Object(const std::string& member) const {
  const nlohmann::json& v = object_.at(member);
  if (!v.is_object()) return Error(member, "must be an object");
  return ConfigObject(file_, Path(member), v);
}

absl::StatusOr<std::string> ReadSiteName(const ConfigObject& r, SiteNames& seen) {
  absl::StatusOr<std::string> name = r.String("name");
  if (!name.ok()) return name.status();
  if (name->empty()) return r.Error("name", "required");
  if (*name != kDefaultSiteName && !IsSiteName(*name)) {
    return r.Error("name", absl::StrCat("\"", *name,
                                        "\" is not a site name (lower-case letters, digits and "
                                        "'-', at most 32, starting with a letter or digit)"));
  }
  if (!seen.insert(*name).second) return r.Error("name", absl::StrCat("\"", *name, "\" repeated"));
  return name;
}

absl::StatusOr<std::map<std::string, double>> ReadCredit(const ConfigObject& rule,
                                                         absl::string_view what) {
  std::map<std::string, double> credit;
  if (!rule.Has("credit")) return credit;
  absl::StatusOr<ConfigObject> reader = rule.Object("credit");
  if (!reader.ok()) return reader.status();
  for (auto it = reader->object().begin(); it != reader->object().end(); ++it) {
    const std::string& name = it.key();
    if (name.empty()) return reader->Error("", absl::StrCat("names an empty ", what));
    const nlohmann::json& value = it.value();
    const double share = value.is_number() ? value.get<double>() : -1;
    if (!value.is_number() || !std::isfinite(share) || share < 0 || share > 1) {
      return reader->Error(name, "must be a number from 0 to 1 (the share of the weight)");
    }
    credit[name] = share;
  }
  return credit;
}

absl::Status CheckNoOverlap(const ConfigObject& r, absl::string_view member,
                            const std::vector<std::string>& mine, absl::string_view their_name,
                            const std::vector<std::string>& theirs, CoversFn covers) {
  for (const std::string& p : mine) {
    for (const std::string& q : theirs) {
      if (covers(p, q) || covers(q, p)) {
        return r.Error(member,
                       absl::StrCat(p, " overlaps ", q, " of instance \"", their_name, "\""));
      }
    }
  }
  return absl::OkStatus();
}

bool IsHttpUrl(absl::string_view url) {
  for (absl::string_view scheme : {"https://", "http://"}) {
    if (absl::StartsWith(url, scheme) && url.size() > scheme.size()) return true;
  }
  return false;
}

}  // namespace okr::sync
