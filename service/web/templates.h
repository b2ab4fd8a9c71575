// Templates: the HTML of the pages (Google ctemplate, auto-escaping per context: every
// value is HTML-escaped in text and attributes, URL-checked in href, so user-provided
// titles, notes and names can never become markup) and the one stylesheet.
//
// The templates are compiled into the binary and loaded into ctemplate's default cache
// from strings (StringToTemplateCache) on first use, rather than read from files: the
// server image then needs no template directory, a page can never be served by a
// template of another version, and tests render exactly what production renders.
//
//   RegisterTemplates();                                   // idempotent, thread-safe
//   ctemplate::TemplateDictionary dict("page");
//   dict.AddIncludeDictionary("CONTENT")->SetFilename(kKeyResultTemplate);
//   std::string html = RenderPage(dict);
#ifndef OKR_SERVICE_WEB_TEMPLATES_H_
#define OKR_SERVICE_WEB_TEMPLATES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ctemplate {
class TemplateDictionary;
}

namespace okr::web {

// Names of the content templates (the layout includes one as CONTENT).
inline constexpr char kHomeTemplate[] = "okr/home.tpl";
inline constexpr char kKeyResultTemplate[] = "okr/key_result.tpl";
inline constexpr char kObjectiveTemplate[] = "okr/objective.tpl";
inline constexpr char kCycleTemplate[] = "okr/cycle.tpl";
inline constexpr char kTeamTemplate[] = "okr/team.tpl";
inline constexpr char kLoginTemplate[] = "okr/login.tpl";
inline constexpr char kErrorTemplate[] = "okr/error.tpl";

// Loads every template into ctemplate's default cache (once per process).
void RegisterTemplates();

// Expands the layout with `dict` (which must have TITLE and a CONTENT include).
std::string RenderPage(const ctemplate::TemplateDictionary& dict);

// The stylesheet served at /static/okr.css.
absl::string_view Stylesheet();

}  // namespace okr::web

#endif  // OKR_SERVICE_WEB_TEMPLATES_H_
