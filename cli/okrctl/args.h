// Command-line parsing for okrctl: a command declares its flags (FlagSpec), Parse() splits
// the words after the verb (and noun) into positional arguments and flag values.
//
//   std::vector<FlagSpec> flags = {{"title", "TEXT", "the objective's title"},
//                                  {"force", "", "also delete its key results"}};
//   absl::StatusOr<ParsedArgs> args = ParseArgs(words, flags);
//   if (args->Has("force")) ...
//
// Flags are `--name value` or `--name=value`; a flag without a value name is boolean.
// `--` ends the flags. Errors are INVALID_ARGUMENT with a sentence for the user.
#ifndef OKR_CLI_OKRCTL_ARGS_H_
#define OKR_CLI_OKRCTL_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace okr::cli {

// One flag a command accepts.
struct FlagSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // e.g. "TEXT"; empty for a boolean flag
  std::string help;
  bool repeated = false;  // may be given several times (values are kept in order)
};

// The result of parsing one command's words.
class ParsedArgs {
 public:
  std::vector<std::string> positional;

  bool Has(const std::string& flag) const { return values_.count(flag) > 0; }
  // The last value given for `flag`, or `fallback`.
  std::string Get(const std::string& flag, const std::string& fallback = "") const;
  // Every value given for a repeated flag, in order.
  std::vector<std::string> GetAll(const std::string& flag) const;
  void Add(const std::string& flag, std::string value) {
    values_[flag].push_back(std::move(value));
  }

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

// Parses `words` against `flags`. A word starting with '-' that is a number (e.g. "-3")
// is positional.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& words,
                                     const std::vector<FlagSpec>& flags);

// Parses a double / int, or INVALID_ARGUMENT naming `what`.
absl::StatusOr<double> ParseDouble(const std::string& text, const std::string& what);
absl::StatusOr<int> ParseInt(const std::string& text, const std::string& what);
// Parses true/false/yes/no/1/0.
absl::StatusOr<bool> ParseBool(const std::string& text, const std::string& what);

}  // namespace okr::cli

#endif  // OKR_CLI_OKRCTL_ARGS_H_
