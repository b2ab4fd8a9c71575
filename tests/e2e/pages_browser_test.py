#!/usr/bin/python3
"""End-to-end test of the pages (issue #14) through the real okr-server binary and a real
browser: Debian's chromium in headless mode.

1. A server with access control on (--auth=tokens, OKR_ADMIN_TOKEN) is seeded over gRPC
   (python3-grpcio, messages from protoc). Over plain HTTP: a page without a session
   redirects to /login?next=...; logging in with an API token sets an HttpOnly session
   cookie (never the token) and sends back to the link; a check-in POSTed through the form
   with the session cookie and the CSRF token scraped from the page moves the chart; a
   POST without the token, or by a viewer, is refused (403). Chromium opening a link
   without a session lands on the login page.
2. The same database behind a proxy: --auth-proxy-header is a VIEWER only from
   --auth-proxy-cidrs; a malformed CIDR list stops the server.
3. The same database served with --auth=none: chromium loads every page (--dump-dom) and the
   DOM is checked; a screenshot of each page is written to <build dir>/screenshots/; a
   check-in through the form shows up as a new marker in the DOM chromium sees; a title
   with <script> stays text.

Usage: pages_browser_test.py OKR_SERVER_BINARY PROTO_ROOT SCREENSHOT_DIR
Prints 'N passed, M failed' and exits non-zero on any failure.
"""
import datetime
import html
import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

import grpc

XSS_TITLE = "<script>document.title='pwned'</script> stays text"


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   " + name)
        else:
            self.failed += 1
            print("FAIL " + name + (f": {detail}" if detail else ""))
        return cond

    def section(self, name, fn, *args):
        print(f"--- {name}")
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 -- report and go on
            self.check(f"{name} ran to the end", False, traceback.format_exc())


class Server:
    def __init__(self, binary, args, log_path, env):
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen([binary] + args, stdout=self._log, stderr=self._log, env=env)
        self.grpc_port = self.http_port = 0

    def wait_serving(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"serving grpc_port=(\d+) http_port=(\d+)", self.log())
            if m:
                self.grpc_port, self.http_port = int(m.group(1)), int(m.group(2))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"okr-server exited {self.proc.returncode}: {self.log()}")
            time.sleep(0.05)  # polling the log file, bounded by the deadline
        raise RuntimeError("okr-server did not start: " + self.log())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def child_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OKR_")}
    env.update(extra)
    return env


def request(port, method, path, body=None, cookie=None, bearer=None):
    """(status, headers dict lower-cased, body text); redirects are not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {}
    if cookie:
        headers["Cookie"] = cookie
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if body is not None:
        body = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode())
    conn.close()
    return out


def csrf_of(page):
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    return m.group(1) if m else ""


def cookie_pair(set_cookie):
    return set_cookie.split(";", 1)[0]


def build_messages(proto_root, out_dir):
    os.makedirs(out_dir)
    subprocess.run(["protoc", f"-I{proto_root}", f"--python_out={out_dir}",
                    "okr/v1/okr_service.proto"], check=True)
    sys.path.insert(0, out_dir)
    from okr.v1 import okr_service_pb2  # noqa: E402
    return okr_service_pb2


class Rpc:
    def __init__(self, port, pb, secret):
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.pb, self.md = pb, [("authorization", f"Bearer {secret}")]

    def __call__(self, name, req, out):
        call = self.channel.unary_unary(f"/okr.v1.OkrService/{name}",
                                        request_serializer=lambda m: m.SerializeToString(),
                                        response_deserializer=out.FromString)
        return call(req, timeout=10, metadata=self.md)


def seed(rpc, pb):
    """A small organisation in a cycle that is running now. Returns the token secrets."""
    for tid, name, parent in [("acme", "Acme", ""), ("payments", "Payments", "teams/acme"),
                              ("search", "Search", "teams/acme"),
                              ("checkout", "Checkout", "teams/payments")]:
        rpc("CreateTeam", pb.CreateTeamRequest(team_id=tid, team=pb.Team(
            display_name=name, parent=parent)), pb.Team)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    cycle = pb.Cycle(display_name="Current quarter")
    cycle.start_time.FromDatetime((now - datetime.timedelta(days=40)).replace(tzinfo=None))
    cycle.end_time.FromDatetime((now + datetime.timedelta(days=51)).replace(tzinfo=None))
    rpc("CreateCycle", pb.CreateCycleRequest(cycle_id="q", cycle=cycle), pb.Cycle)

    def objective(oid, title, team, parent="", depends_on=()):
        rpc("CreateObjective", pb.CreateObjectiveRequest(objective_id=oid, objective=pb.Objective(
            title=title, team=f"teams/{team}", cycle="cycles/q", parent=parent,
            depends_on=list(depends_on))), pb.Objective)

    objective("company", "Customers love paying us", "acme")
    objective("search-o", "Search finds the right product", "search", "objectives/company")
    objective("pay", "Make paying effortless", "payments", "objectives/company",
              ["objectives/search-o"])
    objective("one-page", "One-page checkout for every market", "checkout", "objectives/pay")

    def kr(parent, kid, **fields):
        rpc("CreateKeyResult", pb.CreateKeyResultRequest(parent=f"objectives/{parent}",
                                                         key_result_id=kid,
                                                         key_result=pb.KeyResult(**fields)),
            pb.KeyResult)

    kr("pay", "dropoff", title="Cut checkout drop-off from 40% to 20%",
       metric=pb.MetricKeyResult(start_value=40, target_value=20, unit="%"))
    kr("pay", "ship", title="Ship the new checkout", work_items=pb.WorkItemsKeyResult())
    kr("pay", "xss", title=XSS_TITLE, milestone=pb.MilestoneKeyResult())
    kr("search-o", "relevance", title="Raise search conversion from 2% to 4%",
       metric=pb.MetricKeyResult(start_value=2, target_value=4, unit="%"))
    kr("one-page", "markets", title="Live in 5 markets",
       metric=pb.MetricKeyResult(start_value=0, target_value=5, unit="markets"))
    for i, title in [(101, "Address form in one step"), (102, "Remember the card"),
                     (103, "Apple Pay"), (104, "Faster 3-D Secure")]:
        rpc("LinkWorkItem", pb.LinkWorkItemRequest(
            parent="objectives/pay/keyResults/ship", work_item=pb.WorkItem(
                tracker=pb.JIRA, key=f"OKRX-{i}", title=title,
                url=f"https://acme.atlassian.net/browse/OKRX-{i}")), pb.WorkItemLink)
    from google.protobuf import field_mask_pb2
    for key in ("OKRX-101", "OKRX-102"):
        rpc("UpdateWorkItem", pb.UpdateWorkItemRequest(
            work_item=pb.WorkItem(tracker=pb.JIRA, key=key, done=True),
            update_mask=field_mask_pb2.FieldMask(paths=["done"])), pb.WorkItem)
    for value, confidence, note in [(37, 0.6, "Fewer fields in the address form"),
                                    (33, 0.7, "Card remembered for returning buyers <b>")]:
        rpc("CreateCheckIn", pb.CreateCheckInRequest(
            parent="objectives/pay/keyResults/dropoff",
            check_in=pb.CheckIn(value=value, confidence=confidence, note=note)), pb.CheckIn)
    rpc("CreateCheckIn", pb.CreateCheckInRequest(
        parent="objectives/one-page/keyResults/markets",
        check_in=pb.CheckIn(value=1, confidence=0.5, note="Germany live")), pb.CheckIn)
    editor = rpc("CreateApiToken", pb.CreateApiTokenRequest(api_token=pb.ApiToken(
        display_name="Ada Editor", role=pb.EDITOR, teams=["teams/payments"])), pb.ApiToken)
    viewer = rpc("CreateApiToken", pb.CreateApiTokenRequest(api_token=pb.ApiToken(
        display_name="Vera Viewer", role=pb.VIEWER)), pb.ApiToken)
    return editor.secret, viewer.secret


KR_PAGE = "/objectives/pay/keyResults/dropoff"


def login(r, port, secret, next_path):
    status, headers, page = request(port, "GET", "/login?next=" + urllib.parse.quote(next_path))
    r.check("GET /login is a page with a form", status == 200 and 'name="token"' in page, status)
    csrf_cookie = cookie_pair(headers.get("set-cookie", ""))
    status, headers, _ = request(port, "POST", "/login", {
        "token": secret, "csrf": csrf_of(page), "next": next_path}, cookie=csrf_cookie)
    set_cookie = headers.get("set-cookie", "")
    r.check("login sends back to the link", status == 303 and headers.get("location") == next_path,
            (status, headers.get("location")))
    r.check("the session cookie is HttpOnly, SameSite=Lax and not the token",
            set_cookie.startswith("okr_session=") and "HttpOnly" in set_cookie and
            "SameSite=Lax" in set_cookie and secret not in set_cookie, set_cookie)
    return cookie_pair(set_cookie)


class Browser:
    def __init__(self, tmp):
        self.tmp = tmp
        self.runs = 0

    def _run(self, url, extra):
        self.runs += 1
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.tmp)
        cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-extensions", "--hide-scrollbars",
               f"--user-data-dir={profile}"] + extra + [url]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        shutil.rmtree(profile, ignore_errors=True)
        return p

    def dom(self, url):
        return self._run(url, ["--dump-dom"]).stdout

    def screenshot(self, url, path, height=900):
        self._run(url, [f"--screenshot={path}", f"--window-size=1280,{height}"])
        return os.path.exists(path) and os.path.getsize(path) > 1000


def with_tokens(r, binary, pb, tmp, db, browser, shots):
    admin = secrets.token_urlsafe(24)
    srv = Server(binary, ["--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                          f"--database=sqlite:{db}", "--sqlite-sync=normal"],
                 os.path.join(tmp, "tokens.log"), child_env(OKR_ADMIN_TOKEN=admin)).wait_serving()
    try:
        rpc = Rpc(srv.grpc_port, pb, admin)
        editor, viewer = seed(rpc, pb)
        port = srv.http_port

        status, headers, _ = request(port, "GET", KR_PAGE + "?from=jira")
        r.check("a link without a session redirects to the login page",
                status == 303 and headers.get("location") ==
                "/login?next=/objectives/pay/keyResults/dropoff%3Ffrom%3Djira",
                (status, headers.get("location")))
        status, headers, body = request(port, "GET", "/nope")
        r.check("an unknown page is an HTML 404", status == 404 and
                headers.get("content-type", "").startswith("text/html") and "Page not found" in body)
        status, _, body = request(port, "GET", "/webhooks/nope")
        r.check("an unknown webhook path keeps the JSON 404",
                status == 404 and body == '{"error":{"code":404,"message":"not found"}}', body)

        cookie = login(r, port, editor, KR_PAGE)
        status, headers, page = request(port, "GET", KR_PAGE, cookie=cookie)
        r.check("the key result page opens with the session", status == 200, status)
        r.check("it has the CSP header", headers.get("content-security-policy", "").startswith(
            "default-src 'none'; style-src 'self'"), headers.get("content-security-policy"))
        r.check("an editor of the team sees the check-in form", 'id="checkin-form"' in page)
        markers = page.count('<circle class="mark m-checkin"')
        action = KR_PAGE + "/checkIns"
        status, _, _ = request(port, "POST", action, {"value": "30"}, cookie=cookie)
        r.check("a check-in without the CSRF token is refused (403)", status == 403, status)
        status, headers, _ = request(port, "POST", action, {
            "value": "30", "confidence": "0.8", "note": "Wallets on the first step",
            "csrf": csrf_of(page)}, cookie=cookie)
        r.check("a check-in through the form is accepted (303 back)", status == 303 and
                headers.get("location", "").startswith(KR_PAGE), (status, headers))
        _, _, after = request(port, "GET", KR_PAGE, cookie=cookie)
        r.check("the chart has one more check-in marker",
                after.count('<circle class="mark m-checkin"') == markers + 1,
                (markers, after.count('<circle class="mark m-checkin"')))
        r.check("the check-in's author is the token's name",
                "<td>Wallets on the first step</td><td>Ada Editor</td>" in after)
        r.check("progress moved to 50%", 'id="kr-progress">50%</dd>' in after)

        # A program sends its API token as an Authorization header instead of a session.
        status, headers, bpage = request(port, "GET", KR_PAGE, bearer=viewer)
        r.check("a bearer token opens the page without a session",
                status == 200 and "Vera Viewer" in bpage and "set-cookie" not in headers, status)
        status, _, _ = request(port, "GET", KR_PAGE, bearer="okr_unknown")
        r.check("an unknown bearer token is 401", status == 401, status)
        status, _, body = request(port, "POST", action, {"value": "21"}, bearer=viewer)
        r.check("a viewer's bearer check-in is refused (403)", status == 403, (status, body[:200]))

        vcookie = login(r, port, viewer, "/")
        _, _, vpage = request(port, "GET", KR_PAGE, cookie=vcookie)
        r.check("a viewer reads the page without a form",
                "Vera Viewer" in vpage and 'id="checkin-form"' not in vpage)
        status, _, body = request(port, "POST", action, {"value": "21", "csrf": csrf_of(vpage)},
                                  cookie=vcookie)
        r.check("a viewer's check-in is refused (403)",
                status == 403 and "EDITOR on teams/payments needed" in body, (status, body[:200]))

        status, headers, _ = request(port, "POST", "/logout", {"csrf": csrf_of(page)}, cookie=cookie)
        r.check("logout ends the session", status == 303 and
                request(port, "GET", KR_PAGE, cookie=cookie)[0] == 303, status)

        base = f"http://127.0.0.1:{port}"
        dom = browser.dom(base + KR_PAGE)
        r.check("chromium opening a link without a session lands on the login form",
                '<label for="login-token">API token</label>' in dom and
                'value="/objectives/pay/keyResults/dropoff"' in dom, dom[:300])
        r.check("screenshot: login", browser.screenshot(base + "/login", os.path.join(shots, "login.png"), 600))
    finally:
        srv.stop()


def behind_proxy(r, binary, tmp, db):
    """--auth-proxy-header trusted only from --auth-proxy-cidrs (the TCP peer address)."""
    def request_with(port, header):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", KR_PAGE, headers={"X-Forwarded-Email": header})
        resp = conn.getresponse()
        out = resp.status, resp.read().decode()
        conn.close()
        return out

    base = ["--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
            f"--database=sqlite:{db}", "--sqlite-sync=normal",
            "--auth-proxy-header=X-Forwarded-Email"]
    env = child_env(OKR_ADMIN_TOKEN=secrets.token_urlsafe(24))
    for cidrs, trusted in (("127.0.0.0/8,::1", True), ("10.0.0.0/8", False)):
        srv = Server(binary, base + [f"--auth-proxy-cidrs={cidrs}"],
                     os.path.join(tmp, "proxy.log"), env).wait_serving()
        try:
            status, body = request_with(srv.http_port, "lin@example.com")
            if trusted:
                r.check("from a trusted proxy address the header is a VIEWER",
                        status == 200 and 'lin@example.com <span class="role">VIEWER</span>' in body
                        and 'id="checkin-form"' not in body, status)
            else:
                r.check("from any other address the header is ignored (login)", status == 303,
                        status)
        finally:
            srv.stop()
    bad = subprocess.run([binary] + base + ["--auth-proxy-cidrs=10.0.0.0/33"],
                         capture_output=True, text=True, timeout=30, env=env)
    r.check("a malformed --auth-proxy-cidrs stops the server with a clear message",
            bad.returncode != 0 and "auth_proxy_cidrs" in bad.stderr + bad.stdout,
            (bad.returncode, bad.stderr[-300:]))


def without_auth(r, binary, tmp, db, browser, shots):
    srv = Server(binary, ["--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                          f"--database=sqlite:{db}", "--sqlite-sync=normal", "--auth=none"],
                 os.path.join(tmp, "none.log"), child_env()).wait_serving()
    try:
        base = f"http://127.0.0.1:{srv.http_port}"
        pages = {
            "key_result": KR_PAGE,
            "work_items_key_result": "/objectives/pay/keyResults/ship",
            "objective": "/objectives/pay",
            "cycle": "/cycles/q",
            "team": "/teams/payments",
            "home": "/",
            "not_found": "/no/such/page",
        }
        doms = {name: browser.dom(base + path) for name, path in pages.items()}
        kr = doms["key_result"]
        r.check("key result: title, progress, expected, health and pace",
                "Cut checkout drop-off from 40% to 20%</h1>" in kr and
                'id="kr-progress">50%</dd>' in kr and 'id="kr-expected">' in kr and
                'id="kr-health">' in kr and "points a week to finish on time" in kr, kr[:500])
        r.check("key result: objective, team, cycle and alignment path links",
                '<a href="/objectives/pay">Make paying effortless</a>' in kr and
                '<a href="/teams/payments">Payments</a>' in kr and
                '<a href="/cycles/q">Current quarter</a>' in kr and
                '<a href="/objectives/company">Customers love paying us</a>' in kr)
        r.check("key result: the chart with actual and expected lines and 3 check-in markers",
                '<svg id="progress-chart"' in kr and 'class="actual"' in kr and
                'class="expected"' in kr and kr.count('class="mark m-checkin"') == 3,
                kr.count('class="mark m-checkin"'))
        r.check("key result: check-in history with author and escaped note",
                "Card remembered for returning buyers &lt;b&gt;" in kr and "Ada Editor" in kr)
        ship = doms["work_items_key_result"]
        r.check("work items: linked items with links into Jira, state and weight",
                '<a href="https://acme.atlassian.net/browse/OKRX-101">OKRX-101</a>' in ship and
                "Remember the card" in ship and "<td>done</td>" in ship and "<td>open</td>" in ship)
        r.check("work items: the chart names what moved it", "OKRX-102 closed" in ship)
        o = doms["objective"]
        r.check("objective: key results with bars, child, dependency, agreement",
                '<a href="/objectives/pay/keyResults/ship">Ship the new checkout</a>' in o and
                'class="fill h-' in o and
                '<a href="/objectives/one-page">One-page checkout for every market</a>' in o and
                '<a href="/objectives/search-o">Search finds the right product</a>' in o and
                "has not agreed yet" in o)
        c = doms["cycle"]
        r.check("cycle: the alignment tree as SVG with 4 nodes, edges and a dependency",
                '<svg id="alignment-tree"' in c and c.count('<rect class="node h-') == 4 and
                c.count('<path class="edge"') == 3 and c.count('<path class="dependency"') == 1,
                (c.count('<rect class="node h-'), c.count('<path class="edge"')))
        filtered = browser.dom(base + "/cycles/q?team=checkout")
        r.check("cycle: filtered by team", filtered.count('<rect class="node h-') == 1 and
                "Alignment tree of Checkout" in filtered)
        t = doms["team"]
        r.check("team: objectives in the running cycle and the teams below",
                '<a href="/objectives/pay">Make paying effortless</a>' in t and
                '<a href="/teams/checkout">Checkout</a>' in t)
        h = doms["home"]
        r.check("home: cycles, teams, key results needing attention, recent events",
                '<a href="/cycles/q">Current quarter</a>' in h and
                '<a href="/teams/search">Search</a>' in h and 'id="home-attention"' in h and
                '<ol id="home-events"><li>' in h)
        r.check("home: the off-track search key result needs attention",
                '<a href="/objectives/search-o/keyResults/relevance">' in h)
        r.check("404 page in the browser", "Page not found" in doms["not_found"])

        xss = browser.dom(base + "/objectives/pay/keyResults/xss")
        # Had the script run, document.title (the <title> chromium serializes) would be "pwned".
        title = re.search(r"<title>(.*?)</title>", xss, re.S)
        r.check("a title with <script> stays text (no script element, title unchanged)",
                "<script" not in xss and title is not None and
                title.group(1) == html.escape(XSS_TITLE, quote=False) + " · OKRs" and
                f'<h1 id="kr-title">{html.escape(XSS_TITLE, quote=False)}</h1>' in xss, xss[:400])

        # A check-in through the form without access control (double-submit CSRF cookie).
        status, headers, page = request(srv.http_port, "GET", KR_PAGE)
        csrf_cookie = cookie_pair(headers.get("set-cookie", ""))
        status, _, _ = request(srv.http_port, "POST", KR_PAGE + "/checkIns", {
            "value": "26", "confidence": "0.9", "note": "Wallets everywhere",
            "author": "Lin", "csrf": csrf_of(page)}, cookie=csrf_cookie)
        r.check("--auth=none: a check-in through the form", status == 303, status)
        after = browser.dom(base + KR_PAGE)
        r.check("chromium sees the new marker and point after the check-in",
                after.count('class="mark m-checkin"') == 4 and 'id="kr-progress">70%</dd>' in after
                and "check-in by Lin: 50% → 70%" in after, after.count('class="mark m-checkin"'))

        heights = {"cycle": 900, "home": 900, "objective": 1400, "key_result": 2000,
                   "work_items_key_result": 1500, "team": 800}
        for name, height in heights.items():
            path = os.path.join(shots, f"{name}.png")
            r.check(f"screenshot: {name}", browser.screenshot(base + pages[name], path, height))
        r.check("screenshot: not_found", browser.screenshot(
            base + "/no/such/page", os.path.join(shots, "not_found.png"), 400))
    finally:
        srv.stop()


def main():
    binary, proto_root, shots = sys.argv[1], sys.argv[2], sys.argv[3]
    started = time.time()
    os.makedirs(shots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="okr-pages-e2e-")
    r = Results()
    try:
        if shutil.which("chromium") is None:
            r.check("chromium is installed (.ci/install-deps.sh)", False)
            return 1
        pb = build_messages(proto_root, os.path.join(tmp, "pb"))
        db = os.path.join(tmp, "okr.db")
        browser = Browser(tmp)
        r.section("--auth=tokens: login, sessions, CSRF, roles", with_tokens, r, binary, pb, tmp,
                  db, browser, shots)
        r.section("--auth-proxy-header", behind_proxy, r, binary, tmp, db)
        r.section("--auth=none: every page in chromium", without_auth, r, binary, tmp, db,
                  browser, shots)
        print(f"({browser.runs} chromium runs)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"({time.time() - started:.1f} s)")
    print(f"{r.passed} passed, {r.failed} failed")
    return 1 if r.failed or not r.passed else 0


if __name__ == "__main__":
    sys.exit(main())
