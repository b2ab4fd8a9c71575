// Tests of the pages in-process against a real SQLite store: access (login, next, CSRF,
// roles, revoked tokens, proxy header, --auth=none), escaping, the content of each page,
// a check-in through the form, and HTML vs JSON 404s through a real HttpServer.
#include "service/web/web_pages.h"

#include <httplib.h>

#include <memory>
#include <regex>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/core/tokens_core.h"
#include "service/http/http_server.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "service/web/forms.h"
#include "service/web/web_sessions.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::web {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string HeaderOf(const http::HttpResponse& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

std::string CsrfIn(const std::string& html) {
  std::smatch m;
  static const std::regex re("name=\"csrf\" value=\"([^\"]+)\"");
  return std::regex_search(html, m, re) ? m[1].str() : "";
}

// "okr_session=abc; HttpOnly; ..." -> "okr_session=abc".
std::string CookiePair(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

class WebPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    core_ = std::make_unique<core::OkrCore>(*store_, clock_);
    events_ = std::make_unique<core::EventsCore>(*store_, clock_);
    tokens_ = std::make_unique<core::TokensCore>(*store_, clock_);
    sessions_ = std::make_unique<WebSessions>(*store_, clock_);
    Seed();
    MakePages(true);
  }

  void MakePages(bool auth, std::string proxy_header = "") {
    WebPagesOptions o;
    o.auth_enabled = auth;
    o.proxy_header = proxy_header;
    o.trusted_proxy = [](const std::string& peer) { return peer == "10.0.0.5"; };
    pages_ = std::make_unique<WebPages>(*core_, *events_, *tokens_, *sessions_, clock_, o);
  }

  void Seed() {
    clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 10, 20, 9, 0, 0), absl::UTCTimeZone()));
    for (auto [id, parent, name] :
         {std::tuple{"company", "", "Company"}, std::tuple{"payments", "company", "Payments & Co"},
          std::tuple{"search", "company", "Search"}}) {
      Team t;
      t.id = id;
      t.parent_id = parent;
      t.display_name = name;
      ASSERT_TRUE(core_->CreateTeam(t, "").ok());
    }
    Cycle c;
    c.id = "2026-q4";
    c.display_name = "2026 Q4";
    c.start_time = absl::FromCivil(absl::CivilDay(2026, 10, 1), absl::UTCTimeZone());
    c.end_time = absl::FromCivil(absl::CivilDay(2027, 1, 1), absl::UTCTimeZone());
    ASSERT_TRUE(core_->CreateCycle(c, "").ok());
    Objective top;
    top.id = "company-o";
    top.title = "Customers love paying";
    top.team_id = "company";
    top.cycle_id = "2026-q4";
    ASSERT_TRUE(core_->CreateObjective(top, "").ok());
    Objective dep;
    dep.id = "search-o";
    dep.title = "Search finds the product";
    dep.team_id = "search";
    dep.cycle_id = "2026-q4";
    ASSERT_TRUE(core_->CreateObjective(dep, "").ok());
    Objective o;
    o.id = "o1";
    o.title = "Make paying effortless";
    o.team_id = "payments";
    o.cycle_id = "2026-q4";
    o.parent_id = "company-o";
    o.depends_on = {"search-o"};
    ASSERT_TRUE(core_->CreateObjective(o, "").ok());
    KeyResult k1;
    k1.id = "k1";
    k1.objective_id = "o1";
    k1.title = "<script>alert(1)</script> drop-off";
    k1.type = KeyResultType::kMetric;
    k1.metric = MetricSpec{40, 20, 40, "%"};
    k1.metric_key = "checkout.dropoff";
    ASSERT_TRUE(core_->CreateKeyResult(k1, "").ok());
    KeyResult ks;  // pushes the same metric up: a contradiction with k1
    ks.id = "ks";
    ks.objective_id = "search-o";
    ks.title = "Show more steps";
    ks.type = KeyResultType::kMetric;
    ks.metric = MetricSpec{10, 30, 10, "%"};
    ks.metric_key = "checkout.dropoff";
    ASSERT_TRUE(core_->CreateKeyResult(ks, "").ok());
    KeyResult k2;
    k2.id = "k2";
    k2.objective_id = "o1";
    k2.title = "Ship the new checkout";
    k2.type = KeyResultType::kWorkItems;
    ASSERT_TRUE(core_->CreateKeyResult(k2, "").ok());
    for (const char* key : {"OKRX-101", "OKRX-102"}) {
      WorkItem item;
      item.tracker = Tracker::kJira;
      item.key = key;
      item.title = std::string("Checkout step ") + key;
      item.url = std::string("https://acme.atlassian.net/browse/") + key;
      ASSERT_TRUE(core_->LinkWorkItem("o1", "k2", item, "").ok());
    }
    clock_.Advance(absl::Hours(24 * 7));
    WorkItem closed;
    closed.tracker = Tracker::kJira;
    closed.key = "OKRX-102";
    closed.done = true;
    ASSERT_TRUE(core_->UpdateWorkItem(closed, {"done"}).ok());
    WorkItem added;  // a scope change: 1 of 2 done becomes 1 of 3
    added.tracker = Tracker::kJira;
    added.key = "OKRX-103";
    added.title = "Checkout step OKRX-103";
    ASSERT_TRUE(core_->LinkWorkItem("o1", "k2", added, "").ok());
    clock_.Advance(absl::Hours(24 * 3));
    CheckIn ci;
    ci.objective_id = "o1";
    ci.key_result_id = "k1";
    ci.value = 30;
    ci.confidence = 0.7;
    ci.note = "Fewer fields <b>helped</b>";
    ci.author = "Grace";
    ASSERT_TRUE(core_->CreateCheckIn(ci, "").ok());
    clock_.Advance(absl::Hours(24 * 5));  // 2026-11-04

    viewer_ = Token("vera", "Vera Viewer", Role::kViewer, {});
    editor_ = Token("ada", "Ada Editor", Role::kEditor, {"company"});
    other_editor_ = Token("sam", "Sam Search", Role::kEditor, {"search"});
  }

  std::string Token(const std::string& id, const std::string& name, Role role,
                    std::vector<std::string> teams) {
    ApiToken t;
    t.id = id;
    t.display_name = name;
    t.role = role;
    t.team_ids = std::move(teams);
    auto created = tokens_->CreateApiToken(t);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->secret : "";
  }

  http::HttpResponse Get(const std::string& path, const std::string& cookie = "",
                         std::map<std::string, std::string> query = {}) {
    http::HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.query = std::move(query);
    r.remote_addr = "127.0.0.1";
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    return pages_->Handle(r);
  }

  http::HttpResponse Post(const std::string& path, const std::string& body,
                          const std::string& cookie = "") {
    http::HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.body = body;
    r.remote_addr = "127.0.0.1";
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    return pages_->Handle(r);
  }

  // Logs in with `secret`; returns the Cookie header value for later requests.
  std::string LogIn(const std::string& secret) {
    http::HttpResponse page = Get("/login");
    EXPECT_EQ(page.status, 200);
    const std::string csrf_cookie = CookiePair(HeaderOf(page, "Set-Cookie"));
    http::HttpResponse r =
        Post("/login", "token=" + UrlEncode(secret) + "&csrf=" + CsrfIn(page.body) + "&next=/",
             csrf_cookie);
    EXPECT_EQ(r.status, 303) << r.body;
    return CookiePair(HeaderOf(r, "Set-Cookie"));
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<core::OkrCore> core_;
  std::unique_ptr<core::EventsCore> events_;
  std::unique_ptr<core::TokensCore> tokens_;
  std::unique_ptr<WebSessions> sessions_;
  std::unique_ptr<WebPages> pages_;
  std::string viewer_, editor_, other_editor_;
};

constexpr char kKrPage[] = "/objectives/o1/keyResults/k1";

TEST_F(WebPagesTest, PageWithoutSession_RedirectsToLoginWithNext) {
  http::HttpResponse r = Get(kKrPage, "", {{"x", "1"}});
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(HeaderOf(r, "Location"), "/login?next=/objectives/o1/keyResults/k1%3Fx%3D1");
}

TEST_F(WebPagesTest, Login_SetsSessionCookieNotTheToken_AndSendsBackToNext) {
  http::HttpResponse page = Get("/login", "", {{"next", kKrPage}});
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("value=\"/objectives/o1/keyResults/k1\""));
  EXPECT_THAT(page.body, HasSubstr("keeps only a session cookie for 12 hours"));
  const std::string csrf_cookie = CookiePair(HeaderOf(page, "Set-Cookie"));
  EXPECT_THAT(csrf_cookie, StartsWith("okr_csrf="));
  http::HttpResponse r = Post(
      "/login",
      "token=" + UrlEncode(viewer_) + "&csrf=" + CsrfIn(page.body) + "&next=" + UrlEncode(kKrPage),
      csrf_cookie);
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(HeaderOf(r, "Location"), kKrPage);
  const std::string set_cookie = HeaderOf(r, "Set-Cookie");
  EXPECT_THAT(set_cookie, AllOf(StartsWith("okr_session=okr_"), HasSubstr("; HttpOnly"),
                                HasSubstr("; SameSite=Lax"), HasSubstr("; Path=/"),
                                Not(HasSubstr("Secure")), Not(HasSubstr(viewer_))));
  http::HttpResponse kr = Get(kKrPage, CookiePair(set_cookie));
  EXPECT_EQ(kr.status, 200);
  EXPECT_THAT(kr.body, HasSubstr("Vera Viewer"));
}

TEST_F(WebPagesTest, Login_NextOffSite_GoesHome) {
  for (const char* next :
       {"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"}) {
    http::HttpResponse page = Get("/login");
    http::HttpResponse r = Post(
        "/login",
        "token=" + UrlEncode(viewer_) + "&csrf=" + CsrfIn(page.body) + "&next=" + UrlEncode(next),
        CookiePair(HeaderOf(page, "Set-Cookie")));
    ASSERT_EQ(r.status, 303) << next;
    EXPECT_EQ(HeaderOf(r, "Location"), "/") << next;
  }
}

TEST_F(WebPagesTest, Login_UnknownToken_Is401_WithoutCsrf_Is403) {
  http::HttpResponse page = Get("/login");
  const std::string cookie = CookiePair(HeaderOf(page, "Set-Cookie"));
  http::HttpResponse wrong = Post("/login", "token=okr_nope&csrf=" + CsrfIn(page.body), cookie);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_THAT(wrong.body, HasSubstr("unknown or has been revoked"));
  EXPECT_THAT(HeaderOf(wrong, "Set-Cookie"), Not(HasSubstr("okr_session")));
  http::HttpResponse no_csrf = Post("/login", "token=" + UrlEncode(viewer_), cookie);
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(no_csrf.content_type, "text/html; charset=utf-8");
}

TEST_F(WebPagesTest, KeyResultPage_ShowsWhereItStandsAndWhatMovedIt) {
  http::HttpResponse r = Get(kKrPage, LogIn(viewer_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(HeaderOf(r, "Content-Security-Policy"),
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'");
  EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
  const std::string& b = r.body;
  // 40 -> 20 %, now 30: half way.
  EXPECT_THAT(b, HasSubstr("<dd class=\"big\" id=\"kr-progress\">50%</dd>"));
  // 2026-11-04 09:00 in Oct 1 .. Jan 1: 34.4 of 92 days.
  EXPECT_THAT(b, HasSubstr("<dd id=\"kr-expected\">37%</dd>"));
  EXPECT_THAT(b, HasSubstr("id=\"kr-health\">on track</span>"));
  EXPECT_THAT(b, HasSubstr("needs about +6.1 points a week to finish on time (so far +10 a week)"));
  EXPECT_THAT(b, HasSubstr("about -1.2 % a week"));
  EXPECT_THAT(b, HasSubstr("<a href=\"/objectives/o1\">Make paying effortless</a>"));
  EXPECT_THAT(b, HasSubstr("<a href=\"/teams/payments\">Payments &amp; Co</a>"));
  EXPECT_THAT(b, HasSubstr("<a href=\"/cycles/2026-q4\">2026 Q4</a>"));
  EXPECT_THAT(b, HasSubstr("<a href=\"/objectives/company-o\">Customers love paying</a>"));
  EXPECT_THAT(b, HasSubstr("30 % <span class=\"muted\">from 40 % to 20 %</span>"));
  // The chart: expected and actual lines, one marker for the check-in.
  EXPECT_THAT(b, HasSubstr("<svg id=\"progress-chart\""));
  EXPECT_THAT(b, HasSubstr("<polyline class=\"expected\" points=\"44.0,230.0 704.0,14.0\""));
  EXPECT_EQ(Count(b, "<circle class=\"mark m-checkin\""), 1);
  EXPECT_THAT(b, HasSubstr("check-in by Grace: 0% → 50%"));
  // Check-in history, escaped.
  EXPECT_THAT(b, HasSubstr("<td>Fewer fields &lt;b&gt;helped&lt;/b&gt;</td><td>Grace</td>"));
  EXPECT_THAT(b, HasSubstr("<td class=\"num\">0.7</td>"));
  // A viewer reads, but gets no form.
  EXPECT_THAT(b, Not(HasSubstr("checkin-form")));
}

TEST_F(WebPagesTest, KeyResultTitleWithScript_IsText) {
  http::HttpResponse r = Get(kKrPage, LogIn(viewer_));
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, Not(HasSubstr("<script")));
  EXPECT_THAT(r.body,
              HasSubstr("<h1 id=\"kr-title\">&lt;script&gt;alert(1)&lt;/script&gt; drop-off</h1>"));
  EXPECT_THAT(r.body,
              HasSubstr("<title>&lt;script&gt;alert(1)&lt;/script&gt; drop-off · OKRs</title>"));
}

TEST_F(WebPagesTest, WorkItemsKeyResult_ListsItemsAndTheClosedMarker) {
  http::HttpResponse r = Get("/objectives/o1/keyResults/k2", LogIn(viewer_));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string& b = r.body;
  EXPECT_THAT(b, HasSubstr("Linked work items (3)"));
  EXPECT_THAT(b,
              HasSubstr("<td>Jira</td><td><a href=\"https://acme.atlassian.net/browse/OKRX-102\">"
                        "OKRX-102</a></td><td>Checkout step OKRX-102</td><td>done</td>"
                        "<td class=\"num\">1</td><td>yes</td>"));
  EXPECT_THAT(b, HasSubstr("<td>open</td>"));
  EXPECT_THAT(b, HasSubstr("1 of 3 done"));
  EXPECT_THAT(b, HasSubstr("<td>OKRX-103</td>"));  // no URL known: no link
  EXPECT_THAT(b, HasSubstr("OKRX-102 closed: 0% → 50%"));
  EXPECT_EQ(Count(b, "<circle class=\"mark m-item\""), 1);
  EXPECT_EQ(Count(b, "<circle class=\"mark m-scope\""), 1);
  EXPECT_THAT(b, HasSubstr("scope change: OKRX-103 linked: 50% → 33%"));
}

TEST_F(WebPagesTest, WorkItemsKeyResult_MarksExcludedAndCreditedItems) {
  WorkItem cancelled;
  cancelled.tracker = Tracker::kJira;
  cancelled.key = "OKRX-101";
  cancelled.done = true;
  cancelled.status = "Closed";
  cancelled.exclusion = "Won't <b>Do</b>";
  cancelled.source_updated = clock_.Now();
  ASSERT_TRUE(core_->ApplyTrackerUpdate(cancelled, "").ok());
  WorkItem review;
  review.tracker = Tracker::kJira;
  review.key = "OKRX-103";
  review.status = "In Review";
  review.partial_credit = 0.5;
  review.source_updated = clock_.Now();
  ASSERT_TRUE(core_->ApplyTrackerUpdate(review, "").ok());

  http::HttpResponse r = Get("/objectives/o1/keyResults/k2", LogIn(viewer_));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string& b = r.body;
  EXPECT_THAT(b, HasSubstr("1 of 2 done"));
  EXPECT_THAT(b, HasSubstr("<span id=\"kr-excluded\">1 excluded</span>"));
  EXPECT_THAT(b, HasSubstr("<tr class=\"excluded\"><td>Jira</td>"));
  EXPECT_THAT(b, HasSubstr("<td>Closed <span class=\"muted\">(excluded: Won&#39;t "
                           "&lt;b&gt;Do&lt;/b&gt;)</span></td>"));
  EXPECT_THAT(b, HasSubstr("<td>excluded</td>"));
  EXPECT_THAT(b, HasSubstr("<td>In Review <span class=\"muted\">(credit 50%)</span></td>"));
  EXPECT_THAT(b, Not(HasSubstr("<b>Do</b>")));
  // What moved it, in the item's own words.
  EXPECT_THAT(b,
              HasSubstr("OKRX-101 closed as Won&#39;t &lt;b&gt;Do&lt;/b&gt;: left the key result"));
  EXPECT_THAT(b, HasSubstr("OKRX-103 moved to In Review (credit 50%)"));
}

TEST_F(WebPagesTest, EditorChecksInThroughTheForm_MovesTheChart) {
  const std::string cookie = LogIn(editor_);
  http::HttpResponse before = Get(kKrPage, cookie);
  ASSERT_EQ(before.status, 200);
  ASSERT_THAT(before.body, HasSubstr("id=\"checkin-form\""));
  EXPECT_THAT(before.body, HasSubstr("Checking in as Ada Editor."));
  EXPECT_THAT(before.body, HasSubstr("<label for=\"ci-value\">Current value (%)</label>"));
  const std::string csrf = CsrfIn(before.body);
  ASSERT_FALSE(csrf.empty());
  const std::string action = std::string(kKrPage) + "/checkIns";

  http::HttpResponse no_csrf = Post(action, "value=25&confidence=0.8", cookie);
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_THAT(no_csrf.body, HasSubstr("security token does not match"));
  http::HttpResponse wrong_csrf = Post(action, "value=25&csrf=okr_forged", cookie);
  EXPECT_EQ(wrong_csrf.status, 403);

  clock_.Advance(absl::Hours(1));
  http::HttpResponse r = Post(action,
                              "value=25&confidence=0.8&note=" + UrlEncode("<i>new</i> form") +
                                  "&csrf=" + csrf + "&author=Mallory",
                              cookie);
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(HeaderOf(r, "Location"), std::string(kKrPage) + "#checkins");
  http::HttpResponse after = Get(kKrPage, cookie);
  EXPECT_THAT(after.body, HasSubstr("id=\"kr-progress\">75%</dd>"));
  EXPECT_EQ(Count(after.body, "<circle class=\"mark m-checkin\""), 2);
  EXPECT_THAT(after.body, HasSubstr("check-in by Ada Editor: 50% → 75%"));
  EXPECT_THAT(after.body, HasSubstr("<td>&lt;i&gt;new&lt;/i&gt; form</td><td>Ada Editor</td>"));
  EXPECT_THAT(after.body, Not(HasSubstr("Mallory")));
}

TEST_F(WebPagesTest, CheckIn_BadValue_Is400WithTheReason) {
  const std::string cookie = LogIn(editor_);
  const std::string csrf = CsrfIn(Get(kKrPage, cookie).body);
  http::HttpResponse r = Post(std::string(kKrPage) + "/checkIns", "value=abc&csrf=" + csrf, cookie);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("The value must be a number."));
  http::HttpResponse missing = Post(std::string(kKrPage) + "/checkIns", "csrf=" + csrf, cookie);
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.body, HasSubstr("check_in.value"));
}

TEST_F(WebPagesTest, ViewerOrEditorOfAnotherTeam_CannotCheckIn) {
  for (const std::string* secret : {&viewer_, &other_editor_}) {
    const std::string cookie = LogIn(*secret);
    http::HttpResponse page = Get(kKrPage, cookie);
    ASSERT_EQ(page.status, 200);
    EXPECT_THAT(page.body, Not(HasSubstr("checkin-form")));
    const std::string csrf = CsrfIn(page.body);  // the logout form's
    ASSERT_FALSE(csrf.empty());
    http::HttpResponse r =
        Post(std::string(kKrPage) + "/checkIns", "value=21&csrf=" + csrf, cookie);
    EXPECT_EQ(r.status, 403);
    EXPECT_THAT(r.body, HasSubstr("EDITOR on teams/payments needed"));
  }
  auto check_ins = core_->ListCheckIns("o1", "k1", {});
  ASSERT_TRUE(check_ins.ok());
  EXPECT_EQ(check_ins->items.size(), 1u);
}

TEST_F(WebPagesTest, BearerToken_OpensPagesAndChecksInWithoutCookies) {
  http::HttpRequest get;
  get.method = "GET";
  get.path = kKrPage;
  get.remote_addr = "127.0.0.1";
  get.headers["authorization"] = "Bearer " + viewer_;
  http::HttpResponse page = pages_->Handle(get);
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("Vera Viewer"));
  EXPECT_THAT(HeaderOf(page, "Set-Cookie"), Not(HasSubstr("okr_session")));

  get.headers["authorization"] = "Bearer okr_unknown";
  EXPECT_EQ(pages_->Handle(get).status, 401);
  get.headers["authorization"] = "Basic dXNlcjpwYXNz";
  EXPECT_EQ(pages_->Handle(get).status, 401);

  // No cookie rides along, so no CSRF token is needed; the team rule still holds.
  http::HttpRequest post;
  post.method = "POST";
  post.path = std::string(kKrPage) + "/checkIns";
  post.body = "value=25";
  post.remote_addr = "127.0.0.1";
  post.headers["authorization"] = "Bearer " + other_editor_;
  EXPECT_EQ(pages_->Handle(post).status, 403);
  post.headers["authorization"] = "Bearer " + editor_;
  http::HttpResponse moved = pages_->Handle(post);
  EXPECT_EQ(moved.status, 303) << moved.body;
  auto check_ins = core_->ListCheckIns("o1", "k1", {});
  ASSERT_TRUE(check_ins.ok());
  ASSERT_EQ(check_ins->items.size(), 2u);
  EXPECT_EQ(check_ins->items.back().author, "Ada Editor");
}

TEST_F(WebPagesTest, RevokedToken_EndsItsSessions) {
  const std::string cookie = LogIn(viewer_);
  ASSERT_EQ(Get(kKrPage, cookie).status, 200);
  ASSERT_TRUE(tokens_->DeleteApiToken("vera").ok());
  http::HttpResponse r = Get(kKrPage, cookie);
  EXPECT_EQ(r.status, 303);
  EXPECT_THAT(HeaderOf(r, "Location"), StartsWith("/login?next="));
}

TEST_F(WebPagesTest, SessionExpiresAfterTwelveHours) {
  const std::string cookie = LogIn(viewer_);
  clock_.Advance(absl::Hours(11));
  ASSERT_EQ(Get(kKrPage, cookie).status, 200);
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(Get(kKrPage, cookie).status, 303);
}

TEST_F(WebPagesTest, Logout_EndsTheSession) {
  const std::string cookie = LogIn(viewer_);
  http::HttpResponse page = Get("/", cookie);
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(Post("/logout", "", cookie).status, 403);  // no CSRF token
  http::HttpResponse r = Post("/logout", "csrf=" + CsrfIn(page.body), cookie);
  EXPECT_EQ(r.status, 303);
  EXPECT_THAT(HeaderOf(r, "Set-Cookie"), StartsWith("okr_session=; HttpOnly"));
  EXPECT_THAT(HeaderOf(r, "Set-Cookie"), HasSubstr("Max-Age=0"));
  EXPECT_EQ(Get("/", cookie).status, 303);
}

TEST_F(WebPagesTest, ProxyHeader_TrustedOnlyFromTheProxyAddress) {
  MakePages(true, "X-Forwarded-Email");
  http::HttpRequest r;
  r.method = "GET";
  r.path = kKrPage;
  r.headers["x-forwarded-email"] = "lin@example.com";
  r.remote_addr = "10.0.0.5";
  http::HttpResponse trusted = pages_->Handle(r);
  ASSERT_EQ(trusted.status, 200);
  EXPECT_THAT(trusted.body, HasSubstr("lin@example.com <span class=\"role\">VIEWER</span>"));
  EXPECT_THAT(trusted.body, Not(HasSubstr("checkin-form")));
  r.remote_addr = "10.0.0.6";
  EXPECT_EQ(pages_->Handle(r).status, 303);
}

TEST_F(WebPagesTest, AuthNone_PagesOpen_FormAsksForAName) {
  MakePages(false);
  http::HttpResponse r = Get(kKrPage);
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("id=\"checkin-form\""));
  EXPECT_THAT(r.body, HasSubstr("<label for=\"ci-author\">Your name</label>"));
  const std::string cookie = CookiePair(HeaderOf(r, "Set-Cookie"));
  ASSERT_THAT(cookie, StartsWith("okr_csrf="));
  http::HttpResponse posted = Post(std::string(kKrPage) + "/checkIns",
                                   "value=35&author=Lin&csrf=" + CsrfIn(r.body), cookie);
  EXPECT_EQ(posted.status, 303) << posted.body;
  EXPECT_THAT(Get(kKrPage, cookie).body, HasSubstr("<td>Lin</td>"));
  // Without the cookie the form token does not count (a cross-site form).
  EXPECT_EQ(Post(std::string(kKrPage) + "/checkIns", "value=35&csrf=" + CsrfIn(r.body)).status,
            403);
}

TEST_F(WebPagesTest, ObjectivePage_KeyResultsChildrenDependenciesAgreement) {
  const std::string cookie = LogIn(viewer_);
  http::HttpResponse r = Get("/objectives/o1", cookie);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string& b = r.body;
  EXPECT_THAT(b, HasSubstr("<h1 id=\"o-title\">Make paying effortless</h1>"));
  EXPECT_THAT(b, HasSubstr("<a href=\"/objectives/o1/keyResults/k2\">Ship the new checkout</a>"));
  EXPECT_THAT(b, HasSubstr("<rect class=\"fill h-on-track\" width=\"50.0\""));
  EXPECT_THAT(b, HasSubstr("<a href=\"/objectives/search-o\">Search finds the product</a>"));
  EXPECT_THAT(b, HasSubstr("id=\"o-state\">draft</span>"));
  EXPECT_THAT(b, HasSubstr("<a href=\"/teams/payments\">payments</a> has not agreed yet"));
  EXPECT_THAT(b, HasSubstr("<a href=\"/teams/search\">search</a> has not agreed yet"));
  http::HttpResponse top = Get("/objectives/company-o", cookie);
  EXPECT_THAT(top.body, HasSubstr("<a href=\"/objectives/o1\">Make paying effortless</a>"));
  EXPECT_THAT(b, HasSubstr("<code>CONTRADICTION</code>"));
  EXPECT_THAT(b, HasSubstr("at risk: this objective is at risk too"));  // search-o is off track
}

TEST_F(WebPagesTest, CyclePage_DrawsTheAlignmentTree_FilterableByTeam) {
  const std::string cookie = LogIn(viewer_);
  http::HttpResponse r = Get("/cycles/2026-q4", cookie);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Count(r.body, "<a href=\"/objectives/"), 3 + 3);  // tree nodes + table rows
  EXPECT_EQ(Count(r.body, "<path class=\"edge\""), 1);        // o1 -> company-o
  EXPECT_EQ(Count(r.body, "<path class=\"dependency\""), 1);  // o1 -> search-o
  EXPECT_THAT(r.body, HasSubstr("<rect class=\"node h-"));
  http::HttpResponse filtered = Get("/cycles/2026-q4", cookie, {{"team", "search"}});
  ASSERT_EQ(filtered.status, 200);
  EXPECT_THAT(filtered.body, HasSubstr("Alignment tree of Search"));
  EXPECT_THAT(filtered.body, HasSubstr("<option value=\"search\" selected>Search</option>"));
  EXPECT_EQ(Count(filtered.body, "<a href=\"/objectives/"), 2);
  EXPECT_EQ(Get("/cycles/2026-q4", cookie, {{"team", "nope"}}).status, 404);
}

TEST_F(WebPagesTest, TeamAndHomePages) {
  const std::string cookie = LogIn(viewer_);
  http::HttpResponse team = Get("/teams/company", cookie);
  ASSERT_EQ(team.status, 200);
  EXPECT_THAT(team.body, HasSubstr("<a href=\"/teams/payments\">Payments &amp; Co</a>"));
  EXPECT_THAT(team.body, HasSubstr("<a href=\"/objectives/company-o\">Customers love paying</a>"));
  http::HttpResponse home = Get("/", cookie);
  ASSERT_EQ(home.status, 200);
  EXPECT_THAT(home.body, HasSubstr("<a href=\"/cycles/2026-q4\">2026 Q4</a>"));
  EXPECT_THAT(home.body, HasSubstr("class=\"indent-1\"><a href=\"/teams/search\">Search</a>"));
  EXPECT_THAT(home.body, HasSubstr("<a href=\"/objectives/o1/keyResults/k1\">"));
  EXPECT_THAT(home.body, HasSubstr("<ol id=\"home-events\"><li>"));
  // k1 (50%) and k2 (33%) are on track at 37% expected; ks (0%) is off track.
  EXPECT_THAT(home.body,
              HasSubstr("<a href=\"/objectives/search-o/keyResults/ks\">Show more steps</a>"));
  EXPECT_EQ(Count(home.body, "<li><a href=\"/objectives/"), 1);
}

TEST_F(WebPagesTest, UnknownThings_AreHtml404) {
  const std::string cookie = LogIn(viewer_);
  for (const char* path : {"/objectives/nope", "/objectives/o1/keyResults/nope", "/cycles/nope",
                           "/teams/nope", "/no/such/page"}) {
    http::HttpResponse r = Get(path, cookie);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
  }
  EXPECT_EQ(pages_->NotFound(http::HttpRequest{"GET", "/webhooks/jira/x"}).content_type,
            "application/json");
}

TEST_F(WebPagesTest, ThroughTheHttpServer_RoutesPagesAndKeepsJsonErrors) {
  auto server = http::HttpServer::Create({.address = "127.0.0.1:0"});
  ASSERT_TRUE(server.ok());
  (*server)->Handle("GET", "/healthz", [](const http::HttpRequest&) {
    return http::HttpResponse{200, "application/json", "{\"status\":\"SERVING\"}"};
  });
  (*server)->Handle("POST", "/webhooks/jira", [](const http::HttpRequest&) {
    return http::HttpResponse{202, "application/json", "{}"};
  });
  pages_->RegisterRoutes(**server);
  ASSERT_TRUE((*server)->Start().ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  auto kr = client.Get("/objectives/o1/keyResults/k1?from=jira");
  ASSERT_TRUE(kr);
  EXPECT_EQ(kr->status, 303);
  // (cpp-httplib's client percent-decodes header values; the wire has %3F and %3D.)
  EXPECT_EQ(kr->get_header_value("Location"), "/login?next=/objectives/o1/keyResults/k1?from=jira");
  auto css = client.Get("/static/okr.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_THAT(css->get_header_value("Content-Type"), StartsWith("text/css"));
  auto missing = client.Get("/nothing/here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(missing->get_header_value("Content-Type"), StartsWith("text/html"));
  EXPECT_THAT(missing->body, HasSubstr("Page not found"));
  EXPECT_FALSE(missing->get_header_value("X-Request-Id").empty());
  auto hook = client.Get("/webhooks/jira");  // GET on a POST-only webhook
  ASSERT_TRUE(hook);
  EXPECT_EQ(hook->status, 404);
  EXPECT_EQ(hook->body, "{\"error\":{\"code\":404,\"message\":\"not found\"}}");
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "{\"status\":\"SERVING\"}");
  (*server)->Stop();
}

}  // namespace
}  // namespace okr::web
