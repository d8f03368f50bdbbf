#!/usr/bin/env bash
# Health and monitoring: /healthz and /readyz answer without a token and
# write no audit row (other routes still refuse and audit a missing token);
# /readyz turns 503 naming the backend once a zonefile backend whose reload
# fails holds a change longer than api.ready-max-lag, and 200 again once it
# delivers; the metrics operators alert on are there and sane (promtool,
# version, start time, lag, keys waiting for the operator, dsyncd_ready);
# the example alerting rules pass promtool's checks and unit tests, and
# every metric the rules and the Grafana dashboard use is one this dsyncd
# serves.
. "$(dirname "$0")/lib.sh"
need curl promtool python3 sqlite3 nsupdate dnssec-keygen
ADDR=127.0.0.46
PORT=5354
BASE=http://$ADDR:8053
RD=reader-health-0123456789abcdef
ADM=admin-health-0123456789abcdef
EX=$TOP/examples

K1=$(mkkey child.example. ED25519)
KN=$(mkkey newchild.example. ED25519)
# the reload fails while $T/fail exists
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$K1 newchild.example.:" \
	"  bootstrap-methods = [ \"manual\" ];
  backends = ( { type = \"zonefile\"; path = \"$T/out/example.delegations\";
                 reload = [ \"/bin/sh\", \"-c\", \"test ! -e $T/fail\" ]; } );"
cat >>"$T/dsyncd.conf" <<EOF
outbox = { retry-min = 1; retry-max = 2; };
api = { listen = "$ADDR"; port = 8053; tokens-file = "$T/tokens"; ready-max-lag = 2; };
EOF
printf 'prom read %s\nops admin %s\n' "$RD" "$ADM" >"$T/tokens"
chmod 600 "$T/tokens"
T0=$(date +%s)
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts with the API"; finish; }

# api METHOD PATH [TOKEN [curl args...]]: prints the status; body in $T/resp
api() {
	local m=$1 p=$2 tok=${3-} args
	args=(-s -o "$T/resp" -w '%{http_code}' -X "$m")
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	curl "${args[@]}" "${@:4}" "$BASE$p"
}
j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/resp" "$1" 2>&1; }
audit_n() { sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where $1"; }
# metric SERIES: its value in the last scrape ($T/metrics), "" when absent
metric() { awk -v s="$1" '$1 == s { print $2 }' "$T/metrics"; }
scrape() { [ "$(api GET /metrics "$RD")" = 200 ] && cp "$T/resp" "$T/metrics"; }
LANE='{zone="example.",backend="zonefile"}'

# ---- the probes, without a token ---------------------------------------------
audit0=$(audit_n 1)
expect "GET /healthz without a token -> 200" 200 "$(api GET /healthz)"
expect "... its body is ok" ok "$(cat "$T/resp")"
expect "GET /healthz with a wrong token -> 200 (a probe's token is not looked at)" 200 \
	"$(api GET /healthz wrong-token-0123456789abcdef)"
expect "GET /readyz without a token -> 200" 200 "$(api GET /readyz)"
expect "... ready, with the store, backend and bootstrap queue checks" \
	"(True, ['store', 'backend example./zonefile', 'bootstrap queue'])" \
	"$(j 'd["ready"], [c["name"] for c in d["checks"]]')"
expect "the probes wrote no audit row" "$audit0" "$(audit_n 1)"
check "a successful probe is logged at debug" grep -qE "\[debug\]: api: [0-9.]+#[0-9]+ - GET /readyz -> 200" "$T/dsyncd.log"

# ---- every other route still needs a token, and a refusal is audited ----------
expect "GET /metrics without a token -> 401" 401 "$(api GET /metrics)"
expect "GET /nonexistent without a token -> 401 (routes are not revealed)" 401 "$(api GET /nonexistent)"
expect "POST /healthz without a token -> 401 (only GET is open)" 401 "$(api POST /healthz)"
expect "GET /healthz/x without a token -> 401" 401 "$(api GET /healthz/x)"
expect "... each wrote its audit row" $((audit0 + 4)) "$(audit_n "result='unauthorized'")"
expect "GET /readyz?x=1 -> 400 (no query parameters), not audited" "400 $((audit0 + 4))" \
	"$(api GET "/readyz?x=1") $(audit_n 1)"

# ---- metrics when all is well ---------------------------------------------------
check "GET /metrics with the read token" scrape
check "promtool check metrics accepts the scrape" promtool check metrics <"$T/metrics"
expect "dsyncd_build_info names the version" 1 "$(metric "dsyncd_build_info{version=\"$("$BIN/dsyncd" -V 2>&1 | awk '{print $NF}')\"}")"
st=$(metric dsyncd_start_time_seconds)
check "dsyncd_start_time_seconds is when it started ($st, test began $T0)" \
	test "${st:-0}" -ge "$T0" -a "${st:-0}" -le "$(date +%s)"
expect "dsyncd_ready 1" 1 "$(metric dsyncd_ready)"
expect "dsyncd_keys_awaiting_operator 0" 0 "$(metric dsyncd_keys_awaiting_operator)"
expect "the lane's lag is 0" 0 "$(metric "dsyncd_delivery_lag_seconds$LANE")"

# ---- a key waiting for the operator ---------------------------------------------
expect "newchild uploads its key (manual zone): NOERROR" NOERROR \
	"$(printf 'zone example.\nupdate add %s\n' "$(keyrr "$KN")" | nsu "$KN" $ADDR $PORT)"
check "scrape" scrape
expect "dsyncd_keys_awaiting_operator 1" 1 "$(metric dsyncd_keys_awaiting_operator)"
expect "... as dsyncd_keys{state=\"known\"}" 1 "$(metric 'dsyncd_keys{state="known"}')"
api GET /api/v1/children/newchild.example./keys "$RD" >/dev/null
KID=$(j '[k["id"] for k in d["items"] if k["state"] == "known"][0]')
expect "the operator trusts it" 200 "$(api POST "/api/v1/keys/$KID/trust" "$ADM")"
check "scrape" scrape
expect "dsyncd_keys_awaiting_operator 0 again" 0 "$(metric dsyncd_keys_awaiting_operator)"

# ---- a backend that fails: not ready, then ready again ----------------------------
touch "$T/fail"
expect "an UPDATE while the reload fails: NOERROR" NOERROR "$(nsu "$K1" $ADDR $PORT <<EOF
zone example.
update add child.example. 3600 NS ns1.provider.net.
update add child.example. 3600 NS ns2.provider.org.
EOF
)"
unready() { [ "$(api GET /readyz)" = 503 ]; }
check "/readyz turns 503 once the change is older than ready-max-lag" wait_for 300 unready
expect "... not ready" False "$(j 'd["ready"]')"
expect_match "... the reason names the backend, the age, the limit and the last error" \
	"^\['backend example./zonefile: oldest undelivered change [0-9]+ s old \(limit 2 s\), 1 pending, [0-9]+ failed attempt\(s\): last error: .+'\]$" \
	"$(j 'd["reasons"]')"
expect "... and only it failed" "[('store', True), ('backend example./zonefile', False), ('bootstrap queue', True)]" \
	"$(j '[(c["name"], c["ok"]) for c in d["checks"]]')"
check "a 503 of /readyz is logged at info" grep -qE "\[info\]: api: [0-9.]+#[0-9]+ - GET /readyz -> 503" "$T/dsyncd.log"
expect "no audit row from the probes, 503 included" 0 "$(audit_n "request in ('GET /healthz', 'GET /readyz')")"
check "scrape" scrape
expect "dsyncd_ready 0" 0 "$(metric dsyncd_ready)"
lag=$(metric "dsyncd_delivery_lag_seconds$LANE")
check "dsyncd_delivery_lag_seconds of the lane is over the limit ($lag)" test "${lag:-0}" -gt 2
expect "dsyncd_delivery_pending of the lane is 1" 1 "$(metric "dsyncd_delivery_pending$LANE")"
fails=$(metric 'dsyncd_backend_deliveries_total{zone="example.",backend="zonefile",outcome="fail"}')
check "dsyncd_backend_deliveries_total counts the failures ($fails)" test "${fails:-0}" -ge 1
env -u DSYNCCTL_TOKEN -u DSYNCCTL_TOKEN_FILE -u DSYNCCTL_CONFIG HOME="$T/home" XDG_CONFIG_HOME="$T/xdg" \
	"$BIN/dsyncctl" --url "$BASE" health >"$T/ctl.out" 2>"$T/ctl.err"
expect "dsyncctl health exits 1 (answered: not ready)" 1 "$?"
expect_match "... and says why" "^dsyncctl: dsyncd is not ready: backend example./zonefile: oldest undelivered change" "$(cat "$T/ctl.err")"

rm -f "$T/fail"
ready() { [ "$(api GET /readyz)" = 200 ]; }
check "/readyz is 200 again once the backend delivered" wait_for 300 ready
check "scrape" scrape
expect "dsyncd_ready 1, the lane's lag 0 and nothing pending" "1 0 0" \
	"$(metric dsyncd_ready) $(metric "dsyncd_delivery_lag_seconds$LANE") $(metric "dsyncd_delivery_pending$LANE")"
expect "dsyncd_decisions_total counts the accepted UPDATEs" 2 "$(metric 'dsyncd_decisions_total{result="accepted"}')"
expect "dsyncd_verify_budget_exhausted_total 0" 0 "$(metric dsyncd_verify_budget_exhausted_total)"

# ---- the examples: alerting rules and the dashboard ---------------------------------
check "promtool check rules examples/prometheus/dsyncd.rules.yml" \
	promtool check rules "$EX/prometheus/dsyncd.rules.yml"
(cd "$EX/prometheus" && promtool test rules dsyncd.rules.test.yml) >"$T/promtool-test.log" 2>&1
expect "promtool test rules: every alert fires when it should and only then" 0 "$?"
# known: the metric names this dsyncd serves (histograms with their series)
python3 - "$T/metrics" "$EX/prometheus/dsyncd.rules.yml" "$EX/grafana/dsyncd.json" >"$T/names.log" 2>&1 <<'EOP'
import json, re, sys
known = set()
for m in re.finditer(r"^# TYPE (\S+) (\S+)$", open(sys.argv[1]).read(), re.M):
    known.add(m.group(1))
    if m.group(2) == "histogram":
        known |= {m.group(1) + s for s in ("_bucket", "_sum", "_count")}
rules = open(sys.argv[2]).read()
exprs = re.findall(r"^\s*expr:\s*(.+)$", rules, re.M)
dash = json.load(open(sys.argv[3]))
assert dash["__inputs"][0]["name"] == "DS_PROMETHEUS", "the data source input"
targets = [t for p in dash["panels"] for t in p["targets"]]
assert all(p["datasource"]["uid"] == "${DS_PROMETHEUS}" for p in dash["panels"]), "panel data sources"
assert all(t["datasource"]["uid"] == "${DS_PROMETHEUS}" for t in targets), "target data sources"
queries = [t["expr"] for t in targets]
queries += [v["definition"] for v in dash["templating"]["list"] if "definition" in v]
bad = 0
for what, texts in (("rules", exprs), ("dashboard", queries)):
    used = {n for e in texts for n in re.findall(r"\bdsyncd_[a-z0-9_]+", e)}
    print(f"{what}: {len(texts)} queries, {len(used)} metrics")
    for n in sorted(used - known):
        print(f"{what}: unknown metric {n}")
        bad += 1
    if len(used) < 8:
        print(f"{what}: too few metrics used")
        bad += 1
sys.exit(1 if bad else 0)
EOP
expect "the rules and the dashboard use only metrics this dsyncd serves (JSON valid)" "0" "$?"
grep -q "^rules: 10 queries" "$T/names.log" && ok "$(paste -sd';' "$T/names.log")" || not_ok "names: $(cat "$T/names.log")"

check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
finish
