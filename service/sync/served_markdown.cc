#include "service/sync/served_markdown.h"

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/okr/names.h"

namespace okr::sync {

std::string ServedKeyResultId(const ServedKeyResult& served) {
  absl::StatusOr<names::KeyResultName> name = names::ParseKeyResult(served.key_result, "");
  if (name.ok()) return name->key_result_id;
  const size_t slash = served.key_result.rfind('/');
  return slash == std::string::npos ? served.key_result : served.key_result.substr(slash + 1);
}

std::string ServedObjectiveId(const ServedKeyResult& served) {
  absl::StatusOr<names::KeyResultName> name = names::ParseKeyResult(served.key_result, "");
  return name.ok() ? name->objective_id : "";
}

std::string ServedObjectiveUrl(const ServedKeyResult& served) {
  const std::string tail = absl::StrCat("/keyResults/", ServedKeyResultId(served));
  if (absl::EndsWith(served.url, tail)) {
    return served.url.substr(0, served.url.size() - tail.size());
  }
  return served.url;
}

std::string MarkdownLinkText(absl::string_view text, const MarkdownDialect& dialect) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      out.push_back(' ');
      continue;
    }
    if (absl::StrContains("\\`*_[]<>()!#~|&$", c) || (dialect.escape_at && c == '@')) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

std::string MarkdownLink(absl::string_view text, absl::string_view url,
                         const MarkdownDialect& dialect) {
  if (absl::StartsWith(url, "https://") || absl::StartsWith(url, "http://")) {
    std::string destination;
    for (char c : url) {
      if (c == ' ' || c == '(' || c == ')' || c == '<' || c == '>' ||
          absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
        absl::StrAppend(&destination, "%",
                        absl::Hex(static_cast<unsigned char>(c), absl::PadSpec::kZeroPad2));
      } else {
        destination.push_back(c);
      }
    }
    return absl::StrCat("[", MarkdownLinkText(text, dialect), "](", destination, ")");
  }
  if (!dialect.code_span_without_url) return MarkdownLinkText(text, dialect);
  std::string code(text);
  for (char& c : code) {
    if (c == '`' || absl::ascii_iscntrl(static_cast<unsigned char>(c))) c = '\'';
  }
  return absl::StrCat("`", code, "`");
}

std::string ServedKeyResultsMarkdown(absl::string_view marker,
                                     const std::vector<ServedKeyResult>& served,
                                     const MarkdownDialect& dialect) {
  std::string body = absl::StrCat(marker, "\n**OKR:** this issue serves ",
                                  served.size() == 1 ? "a key result" : "these key results",
                                  " (kept up to date by okr-service):\n");
  for (const ServedKeyResult& s : served) {
    const std::string objective = s.team_name.empty()
                                      ? s.objective_title
                                      : absl::StrCat(s.objective_title, " (", s.team_name, ")");
    absl::StrAppend(&body, "\n- key result ", MarkdownLink(s.key_result_title, s.url, dialect),
                    ": ", DescribeProgress(s), "  \n  objective ",
                    MarkdownLink(objective, ServedObjectiveUrl(s), dialect));
  }
  absl::StrAppend(&body, "\n");
  return body;
}

std::string NoLongerServesMarkdown(absl::string_view marker) {
  return absl::StrCat(marker,
                      "\n**OKR:** this issue no longer serves a key result of okr-service.\n");
}

}  // namespace okr::sync
