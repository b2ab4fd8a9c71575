// What Markdown trackers (GitHub, GitLab) show of the key results an issue serves: the
// ids and objective page taken from a ServedKeyResult, Markdown link helpers that keep
// user-chosen titles from being read as markup or references, and the body of the one
// okr-service comment/note per issue. Each connector passes its MarkdownDialect.
//
//   constexpr sync::MarkdownDialect kDialect{/*escape_at=*/true, /*code_span_without_url=*/false};
//   client.UpdateComment(..., sync::ServedKeyResultsMarkdown(kMarker, served, kDialect));
//
// Pure functions; safe on any title or URL.
#ifndef OKR_SERVICE_SYNC_SERVED_MARKDOWN_H_
#define OKR_SERVICE_SYNC_SERVED_MARKDOWN_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "service/sync/tracker_sync.h"

namespace okr::sync {

// Where trackers' Markdown differs.
struct MarkdownDialect {
  // Also backslash-escape '@' in link text (GitHub turns @name into a mention).
  bool escape_at = false;
  // Text without an absolute http(s) URL becomes a code span (GitLab: no references are
  // expanded inside); otherwise it is escaped link text.
  bool code_span_without_url = false;
};

// The key result id of "objectives/{o}/keyResults/{k}" (the last segment if the name does
// not parse, which the WriteBackWorker never produces).
std::string ServedKeyResultId(const ServedKeyResult& served);

// The objective id of "objectives/{o}/keyResults/{k}" ("" if the name does not parse).
std::string ServedObjectiveId(const ServedKeyResult& served);

// The objective's page: served.url without its "/keyResults/{k}" tail.
std::string ServedObjectiveUrl(const ServedKeyResult& served);

// `text` as Markdown link text: control characters become spaces and the ASCII punctuation
// Markdown or the tracker's HTML pass could read is backslash-escaped.
std::string MarkdownLinkText(absl::string_view text, const MarkdownDialect& dialect);

// A Markdown link to an absolute http(s) URL (' ', '(', ')', '<', '>' and control
// characters of the URL percent-encoded); without one, see code_span_without_url.
std::string MarkdownLink(absl::string_view text, absl::string_view url,
                         const MarkdownDialect& dialect);

// `marker`, "**OKR:** this issue serves a key result|these key results (kept up to date by
// okr-service):", then per key result its linked title, DescribeProgress and its linked
// objective (with the team in parentheses).
std::string ServedKeyResultsMarkdown(absl::string_view marker,
                                     const std::vector<ServedKeyResult>& served,
                                     const MarkdownDialect& dialect);

// `marker` and "**OKR:** this issue no longer serves a key result of okr-service."
std::string NoLongerServesMarkdown(absl::string_view marker);

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_SERVED_MARKDOWN_H_
