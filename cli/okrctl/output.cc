#include "cli/okrctl/output.h"

#include <time.h>

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/okrctl/names.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace okr::cli {

absl::StatusOr<Format> ParseFormat(const std::string& text) {
  if (text == "table") return Format::kTable;
  if (text == "json") return Format::kJson;
  if (text == "yaml") return Format::kYaml;
  return absl::InvalidArgumentError(
      absl::StrCat("-o must be table, json or yaml, not \"", text, "\""));
}

std::string Paint(const std::string& text, Colour colour, bool enabled) {
  if (!enabled || colour == Colour::kNone) return text;
  const char* code = "";
  switch (colour) {
    case Colour::kBold:
      code = "1";
      break;
    case Colour::kGreen:
      code = "32";
      break;
    case Colour::kYellow:
      code = "33";
      break;
    case Colour::kRed:
      code = "31";
      break;
    case Colour::kGrey:
      code = "90";
      break;
    case Colour::kNone:
      break;
  }
  return absl::StrCat("\033[", code, "m", text, "\033[0m");
}

namespace {

// Display width of UTF-8 text: one column per code point.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Pad(const std::string& s, size_t width) {
  const size_t w = Width(s);
  return w >= width ? "" : std::string(width - w, ' ');
}

}  // namespace

std::string Table::Render(bool colour) const {
  std::vector<size_t> widths(headers_.size(), 0);
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = Width(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], Width(row[i].text));
    }
  }
  std::string out;
  auto line = [&](const std::vector<Cell>& cells) {
    std::string l;
    for (size_t i = 0; i < headers_.size(); ++i) {
      const Cell cell = i < cells.size() ? cells[i] : Cell("");
      absl::StrAppend(&l, Paint(cell.text, cell.colour, colour));
      if (i + 1 < headers_.size()) absl::StrAppend(&l, Pad(cell.text, widths[i]), "  ");
    }
    // No trailing blanks when the last cells are empty.
    l.erase(l.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, l, "\n");
  };
  std::vector<Cell> header;
  for (const std::string& h : headers_) header.emplace_back(h, Colour::kBold);
  line(header);
  for (const auto& row : rows_) line(row);
  return out;
}

void Printer::Print(const google::protobuf::Message& message,
                    const std::function<std::string()>& text) {
  switch (format_) {
    case Format::kJson:
      out_ << ToJson(message) << "\n";
      break;
    case Format::kYaml:
      out_ << JsonToYaml(ToJson(message));
      break;
    case Format::kTable:
      out_ << text();
      break;
  }
  out_.flush();
}

void Printer::PrintStreamItem(const google::protobuf::Message& message,
                              const std::function<std::string()>& text) {
  if (format_ == Format::kYaml) out_ << "---\n";
  Print(message, text);
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

namespace {

using Json = nlohmann::ordered_json;

bool PlainScalarIsSafe(const std::string& s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  if (std::string("-?:,[]{}#&*!|>'\"%@`~.+").find(s.front()) != std::string::npos) return false;
  // Numbers, dates and times (YAML 1.1 readers turn 2026-10-01T00:00:00Z into a datetime).
  if (absl::ascii_isdigit(static_cast<unsigned char>(s.front()))) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  if (s.back() == ':') return false;
  const std::string lower = absl::AsciiStrToLower(s);
  for (const char* word : {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}) {
    if (lower == word) return false;
  }
  double d;
  return !absl::SimpleAtod(s, &d);  // .inf, nan, ...
}

std::string Scalar(const Json& j) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    return PlainScalarIsSafe(s) ? s : j.dump();
  }
  return j.dump();
}

bool IsEmptyContainer(const Json& j) { return (j.is_object() || j.is_array()) && j.empty(); }

void EmitYaml(const Json& j, int indent, std::string& out);

void EmitArrayItem(const Json& item, int indent, std::string& out) {
  const std::string spaces(indent, ' ');
  if (!item.is_structured() || IsEmptyContainer(item)) {
    absl::StrAppend(&out, spaces, "- ", Scalar(item), "\n");
    return;
  }
  // Render the item two columns deeper, then put "- " in front of its first line.
  std::string inner;
  EmitYaml(item, indent + 2, inner);
  absl::StrAppend(&out, spaces, "- ", inner.substr(indent + 2));
}

void EmitYaml(const Json& j, int indent, std::string& out) {
  const std::string spaces(indent, ' ');
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string key = Scalar(Json(it.key()));
      const Json& v = it.value();
      if (!v.is_structured() || IsEmptyContainer(v)) {
        absl::StrAppend(&out, spaces, key, ": ", Scalar(v), "\n");
      } else {
        absl::StrAppend(&out, spaces, key, ":\n");
        EmitYaml(v, indent + 2, out);
      }
    }
  } else if (j.is_array()) {
    for (const Json& item : j) EmitArrayItem(item, indent, out);
  } else {
    absl::StrAppend(&out, spaces, Scalar(j), "\n");
  }
}

}  // namespace

std::string JsonToYaml(const std::string& json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return json + "\n";
  if (IsEmptyContainer(j)) return Scalar(j) + "\n";
  std::string out;
  EmitYaml(j, 0, out);
  return out;
}

std::string Percent(double fraction) {
  return absl::StrFormat("%3.0f%%", std::round(fraction * 100));
}

std::string ProgressBar(double fraction, int width) {
  const int filled = std::clamp(static_cast<int>(std::lround(fraction * width)), 0, width);
  std::string bar;
  for (int i = 0; i < width; ++i) bar += i < filled ? "\u2588" : "\u2591";
  return bar;
}

Cell HealthCell(v1::Health health) {
  switch (health) {
    case v1::ON_TRACK:
      return Cell("ON_TRACK", Colour::kGreen);
    case v1::AT_RISK:
      return Cell("AT_RISK", Colour::kYellow);
    case v1::OFF_TRACK:
      return Cell("OFF_TRACK", Colour::kRed);
    case v1::NOT_STARTED:
      return Cell("NOT_STARTED", Colour::kGrey);
    default:
      return Cell("-");
  }
}

std::string FormatTime(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  const time_t secs = static_cast<time_t>(t.seconds());
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  if (tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0 && t.nanos() == 0) {
    strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  } else {
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  return buf;
}

std::string FormatNumber(double value) { return absl::StrFormat("%.15g", value); }

namespace {

struct TreeLine {
  std::string label;
  const v1::AlignmentNode* node;
};

void CollectTree(const v1::AlignmentNode& node, const std::string& prefix,
                 const std::string& child_prefix, std::vector<TreeLine>& lines) {
  lines.push_back({absl::StrCat(prefix, ShortId(node.objective()), "  ", node.title()), &node});
  for (int i = 0; i < node.children_size(); ++i) {
    const bool last = i + 1 == node.children_size();
    CollectTree(node.children(i), child_prefix + (last ? "\u2514\u2500 " : "\u251c\u2500 "),
                child_prefix + (last ? "   " : "\u2502  "), lines);
  }
}

}  // namespace

std::string RenderTree(const v1::AlignmentTree& tree, bool colour) {
  std::vector<TreeLine> lines;
  for (const v1::AlignmentNode& root : tree.roots()) CollectTree(root, "", "", lines);
  size_t label_width = 0;
  size_t health_width = 0;
  size_t state_width = 0;
  for (const TreeLine& l : lines) {
    label_width = std::max(label_width, Width(l.label));
    health_width = std::max(health_width, HealthCell(l.node->health()).text.size());
    state_width = std::max(state_width, v1::ObjectiveState_Name(l.node->state()).size());
  }
  std::string out;
  for (const TreeLine& l : lines) {
    const v1::AlignmentNode& n = *l.node;
    const Cell health = HealthCell(n.health());
    const std::string state = v1::ObjectiveState_Name(n.state());
    absl::StrAppend(&out, l.label, Pad(l.label, label_width), "  ", ProgressBar(n.progress(), 20),
                    " ", Percent(n.progress()), "  ", Paint(health.text, health.colour, colour),
                    std::string(health_width - health.text.size(), ' '), "  ", state,
                    std::string(state_width - state.size(), ' '), "  ", ShortId(n.team()), "\n");
  }
  return out;
}

}  // namespace okr::cli
