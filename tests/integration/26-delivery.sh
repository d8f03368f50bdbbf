#!/usr/bin/env bash
# Delivery per (zone, backend): a zone with three backends, one of them a
# zonefile whose reload command hangs until its reload-timeout.  After an
# accepted UPDATE the other backends of the zone, and the backend of a
# second zone, deliver while the hung reload still runs; the status (API,
# dsyncctl backends, /metrics) shows the hung backend's pending change with
# its age, and after the timeout its last error.  An exec backend that
# records every batch gets 20 more UPDATEs of one child in commit order.
# Waits are for events, with bounds well under the hang's timeout where
# the order of events matters.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.31
PORT=5354
API=http://$ADDR:8053
HANG=30 # seconds the reload may hang
need nsupdate dnssec-keygen sqlite3 python3 curl

TOKEN=read-4b1d7e9a2c6f8e0d3a5c7b9e1f2d4a6c
umask 077
printf '# name role token\nops read %s\n' "$TOKEN" >"$T/tokens"
echo "$TOKEN" >"$T/read.tok"
unset DSYNCCTL_URL DSYNCCTL_TOKEN DSYNCCTL_TOKEN_FILE DSYNCCTL_CONFIG DSYNCCTL_CACERT \
	http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export XDG_CONFIG_HOME=$T/xdg HOME=$T/home
export DSYNCCTL_URL=$API DSYNCCTL_TOKEN_FILE=$T/read.tok

k1=$(mkkey c1.example. ED25519) || { not_ok "keygen"; finish; }
k2=$(mkkey c2.other. ED25519) || { not_ok "keygen"; finish; }
mkdir -p "$T/out" "$T/db"
# the recording backend: every batch's document appended to one file
printf '#!/bin/sh\ncat >>"$1"\n' >"$T/record.sh"
cat >"$T/dsyncd.conf" <<EOC
server = { listen = [ "$ADDR" ]; port = $PORT; tcp-idle-timeout = 3; workers = 2; };
store = { path = "$T/db/dsyncd.db"; };
log = { level = "debug"; };
outbox = { retry-min = 3600; retry-max = 3600; };
api = { listen = "$ADDR"; port = 8053; tokens-file = "$T/tokens"; };
zones = (
  { name = "example.";
    children = ( { name = "c1.example."; keys = ( "$k1.key" ); } );
    backends = (
      { type = "zonefile"; name = "hung"; path = "$T/out/hung";
        reload = [ "/bin/sleep", "3600" ]; reload-timeout = $HANG; },
      { type = "zonefile"; name = "good"; path = "$T/out/good"; },
      { type = "exec"; name = "record"; command = [ "/bin/sh", "$T/record.sh", "$T/batches" ]; }
    ); },
  { name = "other.";
    children = ( { name = "c2.other."; keys = ( "$k2.key" ); } );
    backends = ( { type = "zonefile"; path = "$T/out/other"; } ); }
);
EOC
check "config check (-n) accepts two zones and four backends" "$BIN/dsyncd" -n -c "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

q() { sqlite3 "$T/db/dsyncd.db" "$1" 2>/dev/null; }
# setns CHILD ZONE KEY N: replace the child's NS with nsNa and nsNb
setns() {
	nsu "$3" $ADDR $PORT <<-EOS
		zone $2
		update delete $1 NS
		update add $1 300 NS ns$4a.provider.net.
		update add $1 300 NS ns$4b.provider.net.
		EOS
}
# hung_row: state|attempts|last_error of the hung backend's first delivery
hung_row() { q "select state || '|' || attempts || '|' || coalesce(last_error, '') from delivery where backend = 'hung' order by id limit 1"; }
has() { grep -q "$2" "$1" 2>/dev/null; }
# pair ZONE BACKEND: the item of dsyncctl --json backends for it, as d
pair() { echo "[i for i in d['items'] if i['zone'] == '$1' and i['backend'] == '$2'][0]"; }
metric() { curl -s -H "Authorization: Bearer $TOKEN" "$API/metrics" | sed -n "s/^$1 //p"; }

# ---- a hung backend holds up no other ------------------------------------
expect "nsupdate c1.example. (NS ns0) -> NOERROR" NOERROR "$(setns c1.example. example. "$k1" 0)"
check "the hung backend wrote its file and runs its reload" wait_for 200 has "$T/out/hung" "ns0a.provider.net."
check "the good backend of the same zone delivers meanwhile (20 s bound)" \
	wait_for 200 has "$T/out/good" "ns0a.provider.net."
expect "... while the hung delivery is still in its first attempt" "pending|0|" "$(hung_row)"
expect "nsupdate c2.other. (NS ns0) -> NOERROR" NOERROR "$(setns c2.other. other. "$k2" 0)"
check "the second zone's backend delivers meanwhile (20 s bound)" \
	wait_for 200 has "$T/out/other" "ns0a.provider.net."
expect "... the hung delivery is still in its first attempt" "pending|0|" "$(hung_row)"

# ---- its status: API, dsyncctl, metrics ------------------------------------
OUT=$(curl -s -H "Authorization: Bearer $TOKEN" "$API/api/v1/backends")
expect "GET /api/v1/backends: every configured (zone, backend), in order" \
	"example./hung/zonefile example./good/zonefile example./record/exec other./zonefile/zonefile" \
	"$(j "' '.join(i['zone'] + '/' + i['backend'] + '/' + i['type'] for i in d['items'])")"
expect "... the hung backend: 1 pending, not tried to the end yet, no error" "1 0 None None" \
	"$(j "(lambda i: f\"{i['pending']} {i['oldest_attempts']} {i['last_error']} {i['last_success_time']}\")($(pair example. hung))")"
expect "... its oldest change has an age" True \
	"$(j "(lambda i: i['oldest_age'] >= 0 and i['oldest_created'] > 0)($(pair example. hung))")"
expect "... the good one: nothing pending, a last success" "0 None True" \
	"$(j "(lambda i: f\"{i['pending']} {i['oldest_age']} {i['last_success_time'] > 0}\")($(pair example. good))")"
OUT=$("$BIN/dsyncctl" backends 2>&1)
expect_match "dsyncctl backends: a table with the status columns" \
	'^ZONE +BACKEND +TYPE +PENDING +OLDEST-AGE +ATTEMPTS +NEXT-ATTEMPT +LAST-SUCCESS +LAST-FAILURE +LAST-ERROR' "$OUT"
expect_match "... the hung backend's row: 1 pending, 0 attempts" \
	$'\n''example\. +hung +zonefile +1 +[0-9]+ +0 ' "$OUT"
OUT=$("$BIN/dsyncctl" --json backends 2>&1)
expect "dsyncctl --json backends: the API's items" "4 1" \
	"$(j "len(d['items']), $(pair example. hung)['pending']")"
expect "metrics: dsyncd_delivery_pending of the hung backend" 1 \
	"$(metric 'dsyncd_delivery_pending{zone="example.",backend="hung"}')"
expect "metrics: dsyncd_delivery_lag_seconds of the good backend" 0 \
	"$(metric 'dsyncd_delivery_lag_seconds{zone="example.",backend="good"}')"

# ---- strict order: 20 UPDATEs, each batch recorded -------------------------
for i in $(seq 1 20); do
	r=$(setns c1.example. example. "$k1" "$i")
	[ "$r" = NOERROR ] || break
done
expect "20 more UPDATEs of c1.example. -> NOERROR" NOERROR "$r"
# recorded: the N of every added nsNa, batch after batch, in the file's order
recorded() {
	python3 - "$T/batches" <<-'EOP'
		import json, re, sys
		s, dec, i, seq = open(sys.argv[1]).read(), json.JSONDecoder(), 0, []
		while True:
		    while i < len(s) and s[i].isspace():
		        i += 1
		    if i == len(s):
		        break
		    doc, i = dec.raw_decode(s, i)
		    for c in doc["changes"]:
		        seq += [int(m) for a in c["add"] for m in re.findall(r" NS ns(\d+)a\.", a)]
		print(" ".join(map(str, seq)))
	EOP
}
all_recorded() { [ "$(recorded 2>/dev/null | wc -w)" -ge 21 ]; }
check "the recording backend got all 21 changes" wait_for 600 all_recorded
expect "... in commit order, none missing, none twice" "$(seq -s ' ' 0 20)" "$(recorded)"
expect "the store agrees: every delivery of the recording backend done" 0 \
	"$(q "select count(*) from delivery where backend = 'record' and state != 'done'")"
check "the good backend has the last change" wait_for 200 has "$T/out/good" "ns20a.provider.net."

# ---- after the hang's timeout: its last error -------------------------------
hung_failed() { [ "$(q "select attempts from delivery where backend = 'hung' order by id limit 1")" = 1 ]; }
check "the hung reload is killed at its timeout and the attempt fails" wait_for $((HANG * 20)) hung_failed
expect_match "its delivery stays pending with the reload's error" \
	"^pending\|1\|reload command /bin/sleep timed out after $HANG s" "$(hung_row)"
OUT=$("$BIN/dsyncctl" --json backends 2>&1)
expect_match "dsyncctl: the hung backend's last error and failure time" \
	"^21 1 reload command /bin/sleep timed out after $HANG s.* True None$" \
	"$(j "(lambda i: f\"{i['pending']} {i['oldest_attempts']} {i['last_error']} {i['last_failure_time'] > 0} {i['last_success_time']}\")($(pair example. hung))")"
OUT=$("$BIN/dsyncctl" backends 2>&1)
expect_match "dsyncctl backends (table): the error in the hung backend's row" \
	$'\n''example\. +hung +zonefile +21 .*timed out after' "$OUT"
lag=$(metric 'dsyncd_delivery_lag_seconds{zone="example.",backend="hung"}')
expect_match "metrics: the hung backend's lag is at least the hang ($lag s)" '^[0-9]+$' "$lag"
check "... and not less than the reload-timeout" test "${lag:-0}" -ge $HANG
expect "metrics: 21 pending for the hung backend" 21 \
	"$(metric 'dsyncd_delivery_pending{zone="example.",backend="hung"}')"
expect_match "metrics: the good backend's last success" '^[1-9][0-9]+$' \
	"$(metric 'dsyncd_delivery_last_success_timestamp_seconds{zone="example.",backend="good"}')"
check "the outbox logged the failure" grep -q "backend hung failed (attempt 1, next in 3600 s)" "$T/dsyncd.log"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd

# ---- the hung backend configured away: its changes wait, and it is said ------
sed -i '/name = "hung"/,/reload-timeout/d' "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts without the hung backend"; finish; }
check "the start says that 21 changes wait for a backend that is not configured" \
	wait_for 200 grep -q "outbox: 21 change(s) of zone example. wait for backend hung, which is not configured" "$T/dsyncd.log"
expect "... they stay pending" 21 "$(q "select count(*) from delivery where backend = 'hung' and state = 'pending'")"
check "dsyncd stops cleanly again" stop_dsyncd
finish
