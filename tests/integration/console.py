# tests/integration/console.py -- drives the web console in a headless
# Chromium (Debian's chromium, chromium-driver, python3-selenium) for
# 38-console.sh.  Every wait is for an event (WebDriverWait), bounded.
#
#   console.py BASE READ_TOKEN ADMIN_TOKEN OUTDIR SCRIPT_CHILD
#
# Prints "ok DESC" or "not ok DESC" lines, which the shell test counts;
# each page is saved as OUTDIR/NN-name.png.
import json
import sys
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE, RD, ADM, OUT, SCRIPT_CHILD = sys.argv[1:6]
WAIT = 20  # seconds, for any one event
shots = 0


def report(good, desc):
    print(("ok " if good else "not ok ") + desc, flush=True)
    return good


def api(path, token=ADM):
    req = urllib.request.Request(BASE + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read().decode()
        return json.loads(body) if r.headers.get("Content-Type", "").startswith("application/json") else body


def metrics(text):
    m = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    return m


opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--window-size=1400,1000", "--user-data-dir=" + OUT + "/chromium",
          "--no-first-run", "--no-default-browser-check", "--disable-extensions"):
    opts.add_argument(a)
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
d.set_page_load_timeout(WAIT)
wait = WebDriverWait(d, WAIT)


def shot(name):
    global shots
    shots += 1
    d.save_screenshot("%s/%02d-%s.png" % (OUT, shots, name))


def drawn_after(before):
    """Wait until the console has drawn a page after the one numbered before."""
    wait.until(lambda _: int(d.find_element(By.TAG_NAME, "body").get_attribute("data-drawn") or 0) > before)


def drawn():
    return int(d.find_element(By.TAG_NAME, "body").get_attribute("data-drawn") or 0)


def go(hash_):
    before = drawn()
    d.execute_script("location.hash = arguments[0]", hash_)
    drawn_after(before)


def texts(css):
    return [e.text for e in d.find_elements(By.CSS_SELECTOR, css)]


def login(token):
    d.get(BASE + "/ui/")
    box = wait.until(lambda _: d.find_element(By.ID, "token"))
    box.send_keys(token)
    d.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
    wait.until(lambda _: d.find_element(By.CSS_SELECTOR, "#accepted"))


def no_alert():
    try:
        d.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


try:
    # ---- a read token --------------------------------------------------------
    login(RD)
    report("(read)" in d.find_element(By.ID, "who").text, "the header names the read token's role")
    zones = api("/api/v1/zones", RD)["items"]
    m = metrics(api("/metrics", RD))
    shown = d.find_element(By.CSS_SELECTOR, 'tr[data-zone="example."] td[data-k=children]').text
    report(shown == str(zones[0]["children"]), "overview: children of example. as the API counts them (%s)" % shown)
    good = all(d.find_element(By.CSS_SELECTOR, "td[data-k=keys-%s]" % s).text ==
               str(int(m.get('dsyncd_keys{state="%s"}' % s, 0)))
               for s in ("trusted", "known", "validating", "validation-failed", "revoked"))
    report(good, "overview: keys by state as /metrics counts them")
    waiting = int(m['dsyncd_keys{state="known"}'] + m['dsyncd_keys{state="validation-failed"}'])
    report(d.find_element(By.ID, "waiting").text == str(waiting),
           "overview: keys waiting for the operator (%d)" % waiting)
    st = api("/api/v1/stats/updates?minutes=60", RD)["items"]
    acc, ref = sum(i["accepted"] for i in st), sum(i["refused"] for i in st)
    report(d.find_element(By.ID, "accepted").text == str(acc) and
           d.find_element(By.ID, "refused").text == str(ref) and acc > 0 and ref > 0,
           "overview: the chart's accepted (%d) and refused (%d) UPDATEs as the API counts them" % (acc, ref))
    report(len(d.find_elements(By.CSS_SELECTOR, "svg.chart rect.acc")) > 0 and
           len(d.find_elements(By.CSS_SELECTOR, "svg.chart rect.ref")) > 0, "overview: the chart has bars")
    lag = texts("table.backends td[data-k=pending]")
    report(sorted(lag) == sorted(str(b["pending"]) for b in api("/api/v1/backends", RD)["items"]),
           "overview: pending deliveries per backend as the API has them")
    shot("overview-read")

    go("#/pending")
    rows = d.find_elements(By.CSS_SELECTOR, "table.pending tbody tr")
    report(len(rows) >= 1, "read token: the waiting queue lists the waiting key")
    report(not d.find_elements(By.CSS_SELECTOR, "button.trust, button.revoke, button.confirm"),
           "read token: no trust or revoke button")
    shot("pending-read")
    go("#/deliveries")
    report(len(d.find_elements(By.CSS_SELECTOR, "table.deliveries tbody tr")) >= 1 and
           not d.find_elements(By.CSS_SELECTOR, "button.retry"),
           "read token: pending deliveries shown, no retry button")
    d.find_element(By.ID, "logout").click()
    wait.until(lambda _: d.find_element(By.ID, "token"))
    report(d.execute_script("return sessionStorage.getItem('dsyncd-token')") is None,
           "log out forgets the token")

    # ---- an admin token: trust the waiting key --------------------------------
    login(ADM)
    report("(admin)" in d.find_element(By.ID, "who").text, "the header names the admin token's role")
    go("#/pending")
    key = api("/api/v1/pending")["items"][0]
    row = d.find_element(By.CSS_SELECTOR, 'tr[data-key="%d"]' % key["id"])
    report(bool(row.find_elements(By.CSS_SELECTOR, "button.trust")), "admin token: a trust button on the waiting key")
    shot("pending-admin")
    last_audit = api("/api/v1/audit?limit=1")["items"][0]["id"]
    row.find_element(By.CSS_SELECTOR, "button.trust").click()
    row.find_element(By.CSS_SELECTOR, "input.reason").send_keys("console test")
    before = drawn()
    row.find_element(By.CSS_SELECTOR, "button.confirm.trust").click()
    drawn_after(before)
    report("is now trusted" in d.find_element(By.ID, "msg").text, "trust: the console says the key is trusted")
    report(str(key["id"]) not in [r.get_attribute("data-key") for r in
                                  d.find_elements(By.CSS_SELECTOR, "table.pending tbody tr")],
           "trust: the key left the queue")
    go("#/child/" + urllib.parse.quote(key["child"], safe=""))
    state = d.find_element(By.CSS_SELECTOR, 'table.keys tr[data-key="%d"] td.state' % key["id"]).text
    report(state == "trusted", "the child's page shows the key trusted (%s)" % state)
    report(key["child"] == d.find_element(By.ID, "child-name").text, "the child's page names the child")
    report(any(r == "trusted" for r in texts("table.audit td.result")), "the child's history shows the trust")
    shot("child-after-trust")
    go("#/audit")
    new = [r for r in api("/api/v1/audit?limit=5")["items"] if r["id"] > last_audit and r["result"] == "trusted"]
    report(len(new) == 1 and bool(d.find_elements(By.CSS_SELECTOR, 'table.audit tr[data-id="%d"]' % new[0]["id"])),
           "the audit page shows the new row of the trust")
    if new:
        reason = d.find_element(By.CSS_SELECTOR, 'table.audit tr[data-id="%d"] td.reason' % new[0]["id"]).text
        report("console test" in reason, "with the reason typed in")
    shot("audit")

    # ---- audit filter and paging ------------------------------------------------
    go("#/audit?limit=2")
    d.find_element(By.ID, "f-result").send_keys("refused")
    before = drawn()
    d.find_element(By.CSS_SELECTOR, "#audit-filter button[type=submit]").click()
    drawn_after(before)
    p1 = api("/api/v1/audit?result=refused&limit=2")
    p2 = api("/api/v1/audit?result=refused&limit=2&after=%d" % p1["next"]) if p1["next"] else {"items": []}
    ids1 = [r.get_attribute("data-id") for r in d.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")]
    report(ids1 == [str(r["id"]) for r in p1["items"]] and set(texts("table.audit td.result")) == {"refused"},
           "audit filter: the first page of the refused rows (%s)" % ",".join(ids1))
    shot("audit-filtered")
    before = drawn()
    d.find_element(By.CSS_SELECTOR, ".pager a.next").click()
    drawn_after(before)
    ids2 = [r.get_attribute("data-id") for r in d.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")]
    report(len(ids2) >= 1 and ids2 == [str(r["id"]) for r in p2["items"]] and
           set(texts("table.audit td.result")) == {"refused"},
           "audit paging: the next page holds the older ones (%s)" % ",".join(ids2))
    shot("audit-next-page")

    # ---- deliveries: retry -------------------------------------------------------
    go("#/deliveries")
    pend = api("/api/v1/outbox?state=pending")["items"]
    row = d.find_element(By.CSS_SELECTOR, 'table.deliveries tr[data-id="%d"]' % pend[0]["id"])
    report(bool(row.find_elements(By.CSS_SELECTOR, "button.retry")), "admin token: a retry button on a pending delivery")
    shot("deliveries")
    before = drawn()
    row.find_element(By.CSS_SELECTOR, "button.retry").click()
    drawn_after(before)
    report("is retried now" in d.find_element(By.ID, "msg").text, "retry: the console says the delivery is retried")

    # ---- a child whose name holds <script> ----------------------------------------
    go("#/zone/example.")
    names = texts("table.children td a.name")
    report(SCRIPT_CHILD in names, "the zone's children list the <script> child literally")
    shot("children")
    go("#/child/" + urllib.parse.quote(SCRIPT_CHILD, safe=""))
    report(d.find_element(By.ID, "child-name").text == SCRIPT_CHILD, "its page shows the name as text")
    report(not d.find_elements(By.CSS_SELECTOR, "main script"), "no script element came from the name")
    report(d.execute_script("return typeof window.xss") == "undefined", "the name's script did not run")
    report(no_alert(), "no alert")
    shot("script-child")

    # ---- what the browser said ----------------------------------------------------
    bad = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]
    report(not bad, "no error and no Content-Security-Policy violation in the browser's log" +
           (": " + " | ".join(bad)[:600] if bad else ""))
except TimeoutException as e:
    shot("timeout")
    report(False, "a wait timed out: %s at %s" % (e.msg or "", d.current_url))
except Exception as e:  # any other failure is one failed check, with a picture
    shot("failure")
    report(False, "%s: %s" % (type(e).__name__, e))
finally:
    d.quit()
