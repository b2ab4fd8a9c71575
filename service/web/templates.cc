#include "service/web/templates.h"

#include <ctemplate/template.h>

#include <mutex>

namespace okr::web {
namespace {

constexpr char kLayoutTemplate[] = "okr/layout.tpl";

// Every template starts with the AUTOESCAPE pragma: ctemplate then escapes each variable
// for where it stands (text, attribute, URL) and refuses javascript: URLs in href.
constexpr char kLayout[] = R"tpl({{%AUTOESCAPE context="HTML"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}} · OKRs</title>
<link rel="stylesheet" href="/static/okr.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
<a class="brand" href="/">OKRs</a>
<nav aria-label="Main"><ul>
<li><a href="/">Overview</a></li>
{{#USER}}<li class="who">{{NAME}} <span class="role">{{ROLE}}</span></li>
{{#LOGOUT}}<li><form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{{CSRF}}"><button type="submit" class="link">Log out</button></form></li>{{/LOGOUT}}
{{/USER}}
</ul></nav>
</header>
<main id="main">
{{>CONTENT}}
</main>
<footer class="site"><p>okr-service · shown {{NOW}}</p></footer>
</body>
</html>
)tpl";

constexpr char kError[] = R"tpl({{%AUTOESCAPE context="HTML"}}<h1>{{HEADING}}</h1>
<p class="error" role="alert">{{MESSAGE}}</p>
{{#BACK}}<p><a href="{{HREF}}">{{TEXT}}</a></p>{{/BACK}}
<p><a href="/">Go to the overview</a></p>
)tpl";

constexpr char kLogin[] = R"tpl({{%AUTOESCAPE context="HTML"}}<h1>Log in</h1>
{{#FAILED}}<p class="error" role="alert">{{MESSAGE}}</p>{{/FAILED}}
{{#OPEN}}<p>Access control is off on this server (--auth=none): every page is open.</p>{{/OPEN}}
{{#FORM}}<p>Paste an API token (ask an admin for one with <code>CreateApiToken</code>). The token
stays on this server; your browser keeps only a session cookie for {{SESSION_HOURS}} hours.</p>
<form method="post" action="/login" class="stack">
<input type="hidden" name="csrf" value="{{CSRF}}">
<input type="hidden" name="next" value="{{NEXT}}">
<label for="login-token">API token</label>
<input id="login-token" name="token" type="password" autocomplete="off" required>
<button type="submit">Log in</button>
</form>{{/FORM}}
)tpl";

constexpr char kKeyResult[] =
    R"tpl({{%AUTOESCAPE context="HTML"}}<nav aria-label="Breadcrumb" class="crumbs"><ol>
<li><a href="/cycles/{{CYCLE_ID}}">{{CYCLE_NAME}}</a></li>
{{#PATH}}<li><a href="/objectives/{{ID}}">{{TITLE}}</a></li>{{/PATH}}
<li aria-current="page">{{KR_TITLE}}</li>
</ol></nav>
<h1 id="kr-title">{{KR_TITLE}}</h1>
<p class="meta">{{KIND}} key result of <a href="/objectives/{{O_ID}}">{{O_TITLE}}</a> · team <a href="/teams/{{TEAM_ID}}">{{TEAM_NAME}}</a> · cycle <a href="/cycles/{{CYCLE_ID}}">{{CYCLE_NAME}}</a></p>

<section class="summary" aria-labelledby="where-h">
<h2 id="where-h" class="visually-hidden">Where it stands</h2>
<dl class="facts">
<div><dt>Progress</dt><dd class="big" id="kr-progress">{{PROGRESS}}</dd></div>
{{#OVERSHOOT}}<div><dt>Raw ratio</dt><dd id="kr-raw">{{RAW}} (beyond the target)</dd></div>{{/OVERSHOOT}}
<div><dt>Expected now</dt><dd id="kr-expected">{{EXPECTED}}</dd></div>
<div><dt>Health</dt><dd><span class="health h-{{HEALTH_CLASS}}" id="kr-health">{{HEALTH}}</span></dd></div>
{{#METRIC}}<div><dt>Value</dt><dd>{{CURRENT}}{{UNIT}} <span class="muted">from {{START}}{{UNIT}} to {{TARGET}}{{UNIT}}</span></dd></div>{{/METRIC}}
{{#MILESTONE}}<div><dt>Milestone</dt><dd>{{DONE}}</dd></div>{{/MILESTONE}}
{{#TOTALS}}<div><dt>Work items</dt><dd>{{DONE_COUNT}} of {{COUNT}} done <span class="muted">(weight {{DONE_WEIGHT}} of {{TOTAL_WEIGHT}}){{#EXCLUDED}} · <span id="kr-excluded">{{EXCLUDED_COUNT}} excluded</span> (cancelled work, not counted){{/EXCLUDED}}</span></dd></div>{{/TOTALS}}
{{#FRESHNESS}}<div><dt>Tracker data</dt><dd id="kr-freshness">{{#SOURCE}}<span class="source{{#STALE}} stale{{/STALE}}">{{TEXT}}</span>{{#SOURCE_separator}}; {{/SOURCE_separator}}{{/SOURCE}}</dd></div>{{/FRESHNESS}}
</dl>
<svg class="bar big" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false"><rect class="track" width="100" height="10"/><rect class="fill h-{{HEALTH_CLASS}}" width="{{PCT}}" height="10"/><line class="expected-mark" x1="{{EXPECTED_PCT}}" x2="{{EXPECTED_PCT}}" y1="0" y2="10"/></svg>
<p class="pace" id="kr-pace">Pace: {{PACE}}.</p>
</section>

<section aria-labelledby="align-h">
<h2 id="align-h">Alignment</h2>
<ol class="path" id="kr-alignment">
{{#ALIGN}}<li><a href="/objectives/{{ID}}">{{TITLE}}</a> <span class="muted">{{TEAM}} · {{PROGRESS}} · <span class="health h-{{HEALTH_CLASS}}">{{HEALTH}}</span></span></li>{{/ALIGN}}
<li aria-current="page">{{KR_TITLE}}</li>
</ol>
{{#TOP}}<p class="muted">{{TEXT}}</p>{{/TOP}}
</section>

<section aria-labelledby="chart-h">
<h2 id="chart-h">Progress over time</h2>
<figure class="chart">
<svg id="progress-chart" class="chart" viewBox="0 0 {{W}} {{H}}" role="img" aria-labelledby="chart-title chart-desc">
<title id="chart-title">Progress over time</title>
<desc id="chart-desc">{{CHART_DESC}}</desc>
{{#YTICK}}<line class="grid" x1="{{L}}" x2="{{R}}" y1="{{Y}}" y2="{{Y}}"/><text class="tick y" x="{{TX}}" y="{{Y}}">{{T}}</text>
{{/YTICK}}{{#XTICK}}<text class="tick x" x="{{X}}" y="{{TY}}">{{T}}</text>
{{/XTICK}}<polyline class="expected" points="{{EXPECTED_POINTS}}"/>
<polyline class="actual" points="{{ACTUAL_POINTS}}"/>
{{#NOW}}<line class="now" x1="{{X}}" x2="{{X}}" y1="{{TOP}}" y2="{{BOTTOM}}"/><text class="tick now" x="{{X}}" y="{{LABEL_Y}}">today</text>
{{/NOW}}{{#MARK}}<circle class="mark m-{{MARKER}}" cx="{{X}}" cy="{{Y}}" r="4.5" data-progress="{{P}}"><title>{{WHEN}}: {{LABEL}} ({{P}})</title></circle>
{{/MARK}}</svg>
<figcaption><span class="key k-actual">actual</span> <span class="key k-expected">expected (elapsed share of the cycle)</span> <span class="key k-checkin">check-in</span> <span class="key k-item">work item</span> <span class="key k-scope">scope change</span> <span class="key k-other">other</span></figcaption>
</figure>
<h3>What moved it</h3>
{{#NO_MOVES}}<p class="muted">Nothing has moved it yet.</p>{{/NO_MOVES}}
<ol class="moves" id="kr-moves" reversed>
{{#MOVE}}<li><time datetime="{{ISO}}">{{WHEN}}</time> {{LABEL}}: {{OLD}} → {{NEW}}</li>
{{/MOVE}}</ol>
{{#MORE_MOVES}}<p class="muted">{{COUNT}} earlier changes are in the chart.</p>{{/MORE_MOVES}}
</section>

{{#FORM}}<section aria-labelledby="checkin-h">
<h2 id="checkin-h">Check in</h2>
<form method="post" action="/objectives/{{O_ID}}/keyResults/{{K_ID}}/checkIns" class="stack" id="checkin-form">
<input type="hidden" name="csrf" value="{{CSRF}}">
{{#VALUE}}<label for="ci-value">Current value{{#HAS_UNIT}} ({{UNIT}}){{/HAS_UNIT}}</label>
<input id="ci-value" name="value" type="number" step="any" required>{{/VALUE}}
{{#DONE_FIELD}}<fieldset><legend>Milestone reached?</legend>
<label><input type="radio" name="value" value="1"> yes</label>
<label><input type="radio" name="value" value="0" checked> not yet</label></fieldset>{{/DONE_FIELD}}
<label for="ci-confidence">Confidence (0 to 1)</label>
<input id="ci-confidence" name="confidence" type="number" min="0" max="1" step="0.05">
<label for="ci-note">Note</label>
<textarea id="ci-note" name="note" rows="3"></textarea>
{{#AUTHOR}}<label for="ci-author">Your name</label>
<input id="ci-author" name="author" autocomplete="name">{{/AUTHOR}}
{{#AS}}<p class="muted">Checking in as {{NAME}}.</p>{{/AS}}
<button type="submit">Check in</button>
</form>
</section>{{/FORM}}

<section aria-labelledby="items-h">
<h2 id="items-h">Linked work items ({{ITEM_COUNT}})</h2>
{{#NO_ITEMS}}<p class="muted">No tracker items are linked.</p>{{/NO_ITEMS}}
{{#ITEMS}}<div class="scroll"><table id="kr-items">
<thead><tr><th scope="col">Tracker</th><th scope="col">Key</th><th scope="col">Title</th><th scope="col">State</th><th scope="col" class="num">Weight</th><th scope="col">Done</th></tr></thead>
<tbody>
{{#ITEM}}<tr{{#EXCLUDED}} class="excluded"{{/EXCLUDED}}><td>{{TRACKER}}</td><td>{{#URL}}<a href="{{HREF}}">{{KEY}}</a>{{/URL}}{{#NO_URL}}{{KEY}}{{/NO_URL}}</td><td>{{TITLE}}</td><td>{{STATE}}{{#CREDIT}} <span class="muted">(credit {{PERCENT}})</span>{{/CREDIT}}{{#EXCLUDED}} <span class="muted">(excluded: {{REASON}})</span>{{/EXCLUDED}}</td><td class="num">{{WEIGHT}}</td><td>{{DONE}}</td></tr>
{{/ITEM}}</tbody></table></div>{{/ITEMS}}
</section>

<section aria-labelledby="checkins-h" id="checkins">
<h2 id="checkins-h">Check-ins ({{CHECKIN_COUNT}})</h2>
{{#NO_CHECKINS}}<p class="muted">No check-ins yet.</p>{{/NO_CHECKINS}}
{{#CHECKINS}}<div class="scroll"><table id="kr-checkins">
<thead><tr><th scope="col">When</th><th scope="col" class="num">Value</th><th scope="col" class="num">Confidence</th><th scope="col">Note</th><th scope="col">Author</th></tr></thead>
<tbody>
{{#CHECKIN}}<tr><td><time datetime="{{ISO}}">{{WHEN}}</time></td><td class="num">{{VALUE}}</td><td class="num">{{CONFIDENCE}}</td><td>{{NOTE}}</td><td>{{AUTHOR}}</td></tr>
{{/CHECKIN}}</tbody></table></div>{{/CHECKINS}}
</section>
)tpl";

constexpr char kObjective[] =
    R"tpl({{%AUTOESCAPE context="HTML"}}<nav aria-label="Breadcrumb" class="crumbs"><ol>
<li><a href="/cycles/{{CYCLE_ID}}">{{CYCLE_NAME}}</a></li>
{{#PATH}}<li><a href="/objectives/{{ID}}">{{TITLE}}</a></li>{{/PATH}}
<li aria-current="page">{{O_TITLE}}</li>
</ol></nav>
<h1 id="o-title">{{O_TITLE}}</h1>
<p class="meta">{{KIND}} objective · <span class="state" id="o-state">{{STATE}}</span> · team <a href="/teams/{{TEAM_ID}}">{{TEAM_NAME}}</a> · cycle <a href="/cycles/{{CYCLE_ID}}">{{CYCLE_NAME}}</a></p>
{{#DESCRIPTION}}<p class="description">{{TEXT}}</p>{{/DESCRIPTION}}
<section class="summary" aria-labelledby="where-h">
<h2 id="where-h" class="visually-hidden">Where it stands</h2>
<dl class="facts">
<div><dt>Progress</dt><dd class="big" id="o-progress">{{PROGRESS}}</dd></div>
<div><dt>Expected now</dt><dd>{{EXPECTED}}</dd></div>
<div><dt>Health</dt><dd><span class="health h-{{HEALTH_CLASS}}" id="o-health">{{HEALTH}}</span></dd></div>
{{#SCORE}}<div><dt>Score</dt><dd>{{VALUE}} ({{OUTCOME}})</dd></div>{{/SCORE}}
</dl>
<svg class="bar big" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false"><rect class="track" width="100" height="10"/><rect class="fill h-{{HEALTH_CLASS}}" width="{{PCT}}" height="10"/><line class="expected-mark" x1="{{EXPECTED_PCT}}" x2="{{EXPECTED_PCT}}" y1="0" y2="10"/></svg>
</section>

<section aria-labelledby="krs-h">
<h2 id="krs-h">Key results</h2>
{{#NO_KRS}}<p class="muted">No key results yet.</p>{{/NO_KRS}}
<ul class="cards" id="o-key-results">
{{#KR}}<li><a href="/objectives/{{O_ID}}/keyResults/{{ID}}">{{TITLE}}</a>
<span class="muted">{{KIND}} · {{PROGRESS}} (expected {{EXPECTED}}) · <span class="health h-{{HEALTH_CLASS}}">{{HEALTH}}</span></span>
<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false"><rect class="track" width="100" height="10"/><rect class="fill h-{{HEALTH_CLASS}}" width="{{PCT}}" height="10"/></svg></li>
{{/KR}}</ul>
</section>

<section aria-labelledby="children-h">
<h2 id="children-h">Aligned below</h2>
{{#NO_CHILDREN}}<p class="muted">No objective is aligned to this one.</p>{{/NO_CHILDREN}}
<ul class="cards" id="o-children">
{{#CHILD}}<li><a href="/objectives/{{ID}}">{{TITLE}}</a> <span class="muted">{{TEAM}} · {{PROGRESS}} · <span class="health h-{{HEALTH_CLASS}}">{{HEALTH}}</span></span></li>
{{/CHILD}}</ul>
</section>

<section aria-labelledby="deps-h">
<h2 id="deps-h">Depends on</h2>
{{#NO_DEPS}}<p class="muted">No dependencies.</p>{{/NO_DEPS}}
<ul class="cards" id="o-dependencies">
{{#DEP}}<li><a href="/objectives/{{ID}}">{{TITLE}}</a> <span class="muted">{{TEAM}} · {{PROGRESS}} · <span class="health h-{{HEALTH_CLASS}}">{{HEALTH}}</span></span>{{#RISK}} <strong class="warn">at risk: this objective is at risk too</strong>{{/RISK}}</li>
{{/DEP}}</ul>
{{#CONTRIBUTES}}<p>Contributes to: {{#TO}}<a href="/objectives/{{O}}/keyResults/{{K}}">{{TEXT}}</a>{{#TO_separator}}, {{/TO_separator}}{{/TO}}</p>{{/CONTRIBUTES}}
</section>

<section aria-labelledby="findings-h">
<h2 id="findings-h">Open alignment findings</h2>
{{#NO_FINDINGS}}<p class="muted">None.</p>{{/NO_FINDINGS}}
<ul id="o-findings">
{{#FINDING}}<li><span class="sev s-{{SEV_CLASS}}">{{SEVERITY}}</span> <code>{{CODE}}</code> {{MESSAGE}}</li>
{{/FINDING}}</ul>
</section>

<section aria-labelledby="agree-h">
<h2 id="agree-h">Agreement</h2>
<p>State: <strong>{{STATE}}</strong>{{#REOPENED}} · last reopened: {{REASON}}{{/REOPENED}}</p>
<ul id="o-agreement">
{{#AGREED}}<li>✓ <a href="/teams/{{TEAM}}">{{TEAM}}</a> agreed ({{BY}}, {{WHEN}})</li>
{{/AGREED}}{{#PENDING}}<li>… <a href="/teams/{{TEAM}}">{{TEAM}}</a> has not agreed yet</li>
{{/PENDING}}</ul>
</section>
)tpl";

constexpr char kCycle[] = R"tpl({{%AUTOESCAPE context="HTML"}}<h1 id="c-title">{{CYCLE_NAME}}</h1>
<p class="meta">{{START}} to {{END}} · {{STATUS}} · expected progress now {{EXPECTED}}</p>
<form method="get" action="/cycles/{{CYCLE_ID}}" class="filter">
<label for="team-filter">Team</label>
<select id="team-filter" name="team">
<option value="">all teams</option>
{{#TEAM}}<option value="{{ID}}"{{#SELECTED}} selected{{/SELECTED}}>{{NAME}}</option>
{{/TEAM}}</select>
<button type="submit">Filter</button>
</form>
<section aria-labelledby="tree-h">
<h2 id="tree-h">Alignment tree{{#FILTERED}} of {{TEAM_NAME}}{{/FILTERED}}</h2>
{{#EMPTY}}<p class="muted">No objectives.</p>{{/EMPTY}}
{{#TREE}}<div class="scroll"><svg id="alignment-tree" class="tree" width="{{W}}" height="{{H}}" viewBox="0 0 {{W}} {{H}}" role="img" aria-labelledby="tree-title">
<title id="tree-title">Alignment tree: {{COUNT}} objectives, each linked to the one it aligns to</title>
{{#EDGE}}<path class="edge" d="{{D}}"/>
{{/EDGE}}{{#DEP}}<path class="dependency" d="{{D}}"/>
{{/DEP}}{{#NODE}}<a href="/objectives/{{ID}}" class="node-link"><title>{{FULL_TITLE}} ({{TEAM}}, {{PROGRESS}}, {{HEALTH}})</title><rect class="node h-{{HEALTH_CLASS}}" x="{{X}}" y="{{Y}}" width="{{W}}" height="{{H}}" rx="5"/><text class="node-title" x="{{TX}}" y="{{TY}}">{{TITLE}}</text><text class="node-sub" x="{{TX}}" y="{{SY}}">{{TEAM}} · {{PROGRESS}} · {{HEALTH}}{{#OUTSIDE}} · aligned to {{PARENT}}{{/OUTSIDE}}</text></a>
{{/NODE}}</svg></div>
<p class="legend"><span class="key k-on">on track</span> <span class="key k-risk">at risk</span> <span class="key k-off">off track</span> <span class="key k-ns">not started</span> <span class="key k-dep">depends on (dashed)</span></p>{{/TREE}}
</section>
<section aria-labelledby="list-h">
<h2 id="list-h">Objectives</h2>
{{#LIST}}<div class="scroll"><table id="c-objectives">
<thead><tr><th scope="col">Objective</th><th scope="col">Team</th><th scope="col">State</th><th scope="col" class="num">Progress</th><th scope="col">Health</th></tr></thead>
<tbody>
{{#ROW}}<tr><td class="indent-{{DEPTH}}"><a href="/objectives/{{ID}}">{{TITLE}}</a></td><td><a href="/teams/{{TEAM}}">{{TEAM}}</a></td><td>{{STATE}}</td><td class="num">{{PROGRESS}}</td><td><span class="health h-{{HEALTH_CLASS}}">{{HEALTH}}</span></td></tr>
{{/ROW}}</tbody></table></div>{{/LIST}}
</section>
)tpl";

constexpr char kTeam[] = R"tpl({{%AUTOESCAPE context="HTML"}}<h1 id="t-title">{{TEAM_NAME}}</h1>
<p class="meta">team <code>{{TEAM_ID}}</code>{{#PARENT}} · part of <a href="/teams/{{ID}}">{{NAME}}</a>{{/PARENT}}</p>
<section aria-labelledby="sub-h">
<h2 id="sub-h">Teams below</h2>
{{#NO_SUBTEAMS}}<p class="muted">None.</p>{{/NO_SUBTEAMS}}
<ul id="t-subteams">{{#SUBTEAM}}<li><a href="/teams/{{ID}}">{{NAME}}</a></li>{{/SUBTEAM}}</ul>
</section>
{{#NO_CYCLES}}<p class="muted">No cycle is running.</p>{{/NO_CYCLES}}
{{#CYCLE}}<section aria-labelledby="cycle-{{ID}}-h">
<h2 id="cycle-{{ID}}-h">Objectives in <a href="/cycles/{{ID}}?team={{TEAM_ID}}">{{NAME}}</a></h2>
<p class="meta">{{START}} to {{END}} · expected progress now {{EXPECTED}}</p>
{{#NONE}}<p class="muted">No objectives in this cycle.</p>{{/NONE}}
<ul class="cards t-objectives">
{{#OBJ}}<li><a href="/objectives/{{ID}}">{{TITLE}}</a> <span class="muted">{{STATE}} · {{PROGRESS}} · <span class="health h-{{HEALTH_CLASS}}">{{HEALTH}}</span></span>
<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false"><rect class="track" width="100" height="10"/><rect class="fill h-{{HEALTH_CLASS}}" width="{{PCT}}" height="10"/></svg></li>
{{/OBJ}}</ul>
</section>{{/CYCLE}}
)tpl";

constexpr char kHome[] = R"tpl({{%AUTOESCAPE context="HTML"}}<h1>OKRs</h1>
<section aria-labelledby="attention-h">
<h2 id="attention-h">Key results at risk or off track</h2>
{{#NO_ATTENTION}}<p class="muted">None in the running cycles.</p>{{/NO_ATTENTION}}
<ul class="cards" id="home-attention">
{{#ATTENTION}}<li><a href="/objectives/{{O_ID}}/keyResults/{{ID}}">{{TITLE}}</a> <span class="muted">{{O_TITLE}} · {{TEAM}} · {{PROGRESS}} (expected {{EXPECTED}}) · <span class="health h-{{HEALTH_CLASS}}">{{HEALTH}}</span></span></li>
{{/ATTENTION}}</ul>
</section>
<div class="columns">
<section aria-labelledby="cycles-h">
<h2 id="cycles-h">Cycles</h2>
{{#NO_CYCLES}}<p class="muted">No cycles yet.</p>{{/NO_CYCLES}}
<ul id="home-cycles">{{#CYCLE}}<li><a href="/cycles/{{ID}}">{{NAME}}</a> <span class="muted">{{START}} to {{END}}{{#RUNNING}} · running{{/RUNNING}}</span></li>
{{/CYCLE}}</ul>
</section>
<section aria-labelledby="teams-h">
<h2 id="teams-h">Teams</h2>
{{#NO_TEAMS}}<p class="muted">No teams yet.</p>{{/NO_TEAMS}}
<ul id="home-teams">{{#TEAM}}<li class="indent-{{DEPTH}}"><a href="/teams/{{ID}}">{{NAME}}</a></li>
{{/TEAM}}</ul>
</section>
</div>
<section aria-labelledby="events-h">
<h2 id="events-h">Recent events</h2>
{{#NO_EVENTS}}<p class="muted">Nothing has happened yet.</p>{{/NO_EVENTS}}
<ol id="home-events">{{#EVENT}}<li><time datetime="{{ISO}}">{{WHEN}}</time> <span class="etype">{{TYPE}}</span> {{#LINK}}<a href="{{HREF}}">{{SUBJECT}}</a>{{/LINK}}: {{MESSAGE}}</li>
{{/EVENT}}</ol>
</section>
)tpl";

constexpr char kCss[] = R"css(/* okr-service pages: one stylesheet, no external assets. */
:root { --fg: #1f2328; --muted: #57606a; --bg: #ffffff; --line: #d0d7de; --accent: #0550ae;
  --on: #1a7f37; --risk: #9a6700; --off: #cf222e; --ns: #57606a; }
* { box-sizing: border-box; }
html { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 1; }
header.site { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: #f6f8fa; }
header.site .brand { font-weight: 700; text-decoration: none; color: var(--fg); font-size: 1.1rem; }
header.site ul { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; margin: 0; padding: 0; align-items: center; }
.role { font-size: .8rem; color: var(--muted); border: 1px solid var(--line); border-radius: 3px; padding: 0 .3rem; }
main { max-width: 64rem; margin: 0 auto; padding: 1rem; }
footer.site { max-width: 64rem; margin: 2rem auto 1rem; padding: 0 1rem; color: var(--muted); font-size: .85rem; }
h1 { font-size: 1.6rem; margin: .4rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
.meta, .muted { color: var(--muted); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.crumbs ol { display: flex; flex-wrap: wrap; list-style: none; padding: 0; margin: 0; font-size: .9rem; }
.crumbs li + li::before { content: "›"; padding: 0 .4rem; color: var(--muted); }
.facts { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: .5rem 0; }
.facts div { min-width: 8rem; }
.facts dt { font-size: .8rem; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.facts dd { margin: 0; }
.facts dd.big { font-size: 1.8rem; font-weight: 700; }
.health { display: inline-block; padding: 0 .45rem; border-radius: 3px; color: #fff; font-size: .85rem; font-weight: 600; }
.h-on-track { background: var(--on); } .h-at-risk { background: var(--risk); }
.h-off-track { background: var(--off); } .h-not-started { background: var(--ns); }
svg.bar { display: block; width: 100%; max-width: 28rem; height: .55rem; margin: .3rem 0; }
svg.bar.big { height: .9rem; }
svg.bar .track { fill: #eaeef2; }
svg.bar .fill.h-on-track { fill: var(--on); } svg.bar .fill.h-at-risk { fill: var(--risk); }
svg.bar .fill.h-off-track { fill: var(--off); } svg.bar .fill.h-not-started { fill: var(--ns); }
svg.bar .expected-mark { stroke: var(--fg); stroke-width: .8; }
.pace { font-weight: 600; }
ol.path { padding-left: 1.2rem; }
figure.chart { margin: 0; }
svg.chart { width: 100%; height: auto; max-width: 48rem; display: block; }
svg.chart .grid { stroke: #eaeef2; stroke-width: 1; }
svg.chart .tick { font-size: 11px; fill: var(--muted); }
svg.chart .tick.y { text-anchor: end; dominant-baseline: middle; }
svg.chart .tick.x { text-anchor: middle; }
svg.chart .tick.now { text-anchor: middle; }
svg.chart .expected { fill: none; stroke: #8c959f; stroke-width: 1.5; stroke-dasharray: 5 4; }
svg.chart .actual { fill: none; stroke: var(--accent); stroke-width: 2.5; stroke-linejoin: round; }
svg.chart .now { stroke: #8c959f; stroke-width: 1; stroke-dasharray: 2 3; }
svg.chart .mark { stroke: #fff; stroke-width: 1.5; }
.m-checkin { fill: #8250df; } .m-item { fill: var(--on); } .m-scope { fill: #bc4c00; } .m-other { fill: var(--muted); }
figcaption { font-size: .85rem; color: var(--muted); display: flex; flex-wrap: wrap; gap: .3rem 1rem; }
.key::before { content: ""; display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -.1rem; border-radius: 2px; }
.k-actual::before { background: var(--accent); } .k-expected::before { background: #8c959f; }
.k-checkin::before { background: #8250df; border-radius: 50%; } .k-item::before { background: var(--on); border-radius: 50%; }
.k-scope::before { background: #bc4c00; border-radius: 50%; } .k-other::before { background: var(--muted); border-radius: 50%; }
.k-on::before { background: #dafbe1; border: 2px solid var(--on); } .k-risk::before { background: #fff8c5; border: 2px solid var(--risk); }
.k-off::before { background: #ffebe9; border: 2px solid var(--off); } .k-ns::before { background: #f6f8fa; border: 2px solid var(--ns); }
.k-dep::before { border-top: 2px dashed #6e7781; height: 0; border-radius: 0; }
ol.moves { font-size: .9rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { background: #f6f8fa; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
ul.cards { list-style: none; padding: 0; }
ul.cards li { padding: .45rem 0; border-bottom: 1px solid var(--line); }
.warn { color: var(--off); }
.sev { font-size: .8rem; font-weight: 700; padding: 0 .3rem; border-radius: 3px; color: #fff; }
.s-error { background: var(--off); } .s-warning { background: var(--risk); }
form.stack { display: grid; gap: .35rem; max-width: 26rem; }
form.stack label { font-weight: 600; margin-top: .4rem; }
fieldset { border: 1px solid var(--line); border-radius: 4px; }
fieldset label { font-weight: 400 !important; margin-right: 1rem; }
input, textarea, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid #8c959f; border-radius: 4px; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; justify-self: start; }
button.link { background: none; color: var(--accent); border: none; padding: 0; text-decoration: underline; }
form.inline { display: inline; }
form.filter { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }
.error { color: var(--off); font-weight: 600; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 0 2rem; }
.indent-1 { padding-left: 1.4rem; } .indent-2 { padding-left: 2.8rem; } .indent-3 { padding-left: 4.2rem; }
.indent-4 { padding-left: 5.6rem; } .indent-5 { padding-left: 7rem; }
svg.tree { display: block; max-width: none; }
svg.tree .edge { fill: none; stroke: #8c959f; stroke-width: 1.5; }
svg.tree .dependency { fill: none; stroke: #6e7781; stroke-width: 1.5; stroke-dasharray: 6 4; }
svg.tree .node { stroke-width: 2; }
svg.tree .node.h-on-track { fill: #dafbe1; stroke: var(--on); } svg.tree .node.h-at-risk { fill: #fff8c5; stroke: var(--risk); }
svg.tree .node.h-off-track { fill: #ffebe9; stroke: var(--off); } svg.tree .node.h-not-started { fill: #f6f8fa; stroke: var(--ns); }
svg.tree .node-title { font-size: 13px; font-weight: 600; fill: var(--fg); }
svg.tree .node-sub { font-size: 11px; fill: var(--muted); }
svg.tree a:focus .node, svg.tree a:hover .node { stroke-width: 3.5; }
code { font-size: .9em; background: #f6f8fa; padding: 0 .2rem; border-radius: 3px; }
@media (max-width: 40rem) {
  html { font-size: 15px; }
  main { padding: .6rem; }
  .facts dd.big { font-size: 1.5rem; }
}
@media print {
  header.site nav, form, .skip, figcaption .key::before { display: none; }
  html { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  .health { color: #000; background: none !important; border: 1px solid #000; }
  .scroll { overflow: visible; }
  section { break-inside: avoid-page; }
  svg.tree { max-width: 100%; height: auto; }
}
)css";

}  // namespace

void RegisterTemplates() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::pair<const char*, const char*> templates[] = {
        {kLayoutTemplate, kLayout},       {kErrorTemplate, kError},
        {kLoginTemplate, kLogin},         {kKeyResultTemplate, kKeyResult},
        {kObjectiveTemplate, kObjective}, {kCycleTemplate, kCycle},
        {kTeamTemplate, kTeam},           {kHomeTemplate, kHome},
    };
    for (const auto& [name, text] : templates) {
      ctemplate::StringToTemplateCache(name, text, ctemplate::STRIP_BLANK_LINES);
    }
  });
}

std::string RenderPage(const ctemplate::TemplateDictionary& dict) {
  RegisterTemplates();
  std::string out;
  if (!ctemplate::ExpandTemplate(kLayoutTemplate, ctemplate::STRIP_BLANK_LINES, &dict, &out)) {
    return "<!DOCTYPE html><title>error</title><p>The page could not be rendered.</p>";
  }
  return out;
}

absl::string_view Stylesheet() { return kCss; }

}  // namespace okr::web
