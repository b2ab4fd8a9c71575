#include "cli/okrctl/args.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace okr::cli {

std::string ParsedArgs::Get(const std::string& flag, const std::string& fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(const std::string& flag) const {
  auto it = values_.find(flag);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

namespace {

bool IsNumber(const std::string& word) {
  double d;
  return absl::SimpleAtod(word, &d);
}

const FlagSpec* Find(const std::vector<FlagSpec>& flags, const std::string& name) {
  for (const FlagSpec& f : flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& words,
                                     const std::vector<FlagSpec>& flags) {
  ParsedArgs args;
  bool flags_done = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (flags_done || w.empty() || w[0] != '-' || w == "-" || IsNumber(w)) {
      args.positional.push_back(w);
      continue;
    }
    if (w == "--") {
      flags_done = true;
      continue;
    }
    if (!absl::StartsWith(w, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", w));
    }
    std::string name = w.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = Find(flags, name);
    if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    if (spec->value_name.empty()) {
      if (has_value) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      }
    } else if (!has_value) {
      if (i + 1 >= words.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value (", spec->value_name, ")"));
      }
      value = words[++i];
    }
    if (!spec->repeated && args.Has(name)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " given twice"));
    }
    args.Add(name, std::move(value));
  }
  return args;
}

absl::StatusOr<double> ParseDouble(const std::string& text, const std::string& what) {
  double d;
  if (!absl::SimpleAtod(text, &d)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be a number, not \"", text, "\""));
  }
  return d;
}

absl::StatusOr<int> ParseInt(const std::string& text, const std::string& what) {
  int n;
  if (!absl::SimpleAtoi(text, &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be an integer, not \"", text, "\""));
  }
  return n;
}

absl::StatusOr<bool> ParseBool(const std::string& text, const std::string& what) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "true" || t == "yes" || t == "1") return true;
  if (t == "false" || t == "no" || t == "0") return false;
  return absl::InvalidArgumentError(
      absl::StrCat(what, " must be true or false, not \"", text, "\""));
}

}  // namespace okr::cli
