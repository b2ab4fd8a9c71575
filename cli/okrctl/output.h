// How okrctl prints responses: `-o json` is the proto3 JSON of the response
// (google::protobuf::util::MessageToJsonString, one object per line, also per item of a
// stream), `-o yaml` is the same data as YAML, `-o table` is aligned columns (and an
// indented tree for the alignment tree). Colours only when the caller says so (stdout is
// a terminal and NO_COLOR is unset).
#ifndef OKR_CLI_OKRCTL_OUTPUT_H_
#define OKR_CLI_OKRCTL_OUTPUT_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "okr/v1/okr_service.pb.h"

namespace okr::cli {

enum class Format { kTable, kJson, kYaml };
absl::StatusOr<Format> ParseFormat(const std::string& text);

enum class Colour { kNone, kBold, kGreen, kYellow, kRed, kGrey };
// `text` wrapped in the ANSI sequence of `colour` when `enabled`.
std::string Paint(const std::string& text, Colour colour, bool enabled);

// One table cell: text and an optional colour (which does not count towards its width).
struct Cell {
  Cell(std::string t) : text(std::move(t)) {}  // NOLINT: cells are built from strings
  Cell(const char* t) : text(t) {}             // NOLINT
  Cell(std::string t, Colour c) : text(std::move(t)), colour(c) {}
  std::string text;
  Colour colour = Colour::kNone;
};

// Columns aligned on the widest cell (UTF-8 aware), separated by two spaces; the header
// row in capitals.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void AddRow(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  std::string Render(bool colour) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<Cell>> rows_;
};

// Writes responses to one stream in one format.
class Printer {
 public:
  Printer(Format format, std::ostream& out, bool colour)
      : format_(format), out_(out), colour_(colour) {}
  Format format() const { return format_; }
  bool colour() const { return colour_; }

  // json/yaml: `message`; table: what `text` returns (usually Table::Render).
  void Print(const google::protobuf::Message& message, const std::function<std::string()>& text);
  // One item of a stream: json one line each; yaml one document each (`---`); table `text`.
  void PrintStreamItem(const google::protobuf::Message& message,
                       const std::function<std::string()>& text);

 private:
  Format format_;
  std::ostream& out_;
  bool colour_;
};

// Proto3 JSON of `message` on one line.
std::string ToJson(const google::protobuf::Message& message);
// The same data as a YAML block document (keys in JSON order, strings quoted when plain
// YAML would read them as something else).
std::string JsonToYaml(const std::string& json);

// Table helpers shared by the commands.
std::string Percent(double fraction);                 // " 50%"
std::string ProgressBar(double fraction, int width);  // "█████░░░░░"
Cell HealthCell(v1::Health health);
std::string FormatTime(const google::protobuf::Timestamp& t);  // date, or RFC 3339 in UTC
std::string FormatNumber(double value);                        // shortest round-trip form

// The alignment tree: one line per objective, children indented under their parent, with
// a progress bar, percent, health, state and team.
std::string RenderTree(const v1::AlignmentTree& tree, bool colour);

}  // namespace okr::cli

#endif  // OKR_CLI_OKRCTL_OUTPUT_H_
