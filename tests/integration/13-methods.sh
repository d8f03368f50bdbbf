#!/usr/bin/env bash
# The automatic key bootstrap methods (keystate/methods.c) against the real
# Knot servers of tests/world, through tests/tools/bm-probe: every outcome
# of at-apex (secure, insecure, bogus, other key), at-ns (all/any, insecure
# provider, in-bailiwick only) and one unsigned round (agreement, a server
# that differs, lacks the key, refuses, does not exist, does not listen,
# never answers, several vantage points), each with its reason line.
. "$(dirname "$0")/lib.sh"
WS=$TOP/tests/world/world.sh
W=$T/world
PROBE=$BIN/bm-probe
export WORLD_BASE=80
for c in knotd knotc kdig dnssec-keygen dnssec-signzone dnssec-dsfromkey named-checkzone python3 ss; do
	command -v $c >/dev/null || { not_ok "$c is installed"; finish; }
done
[ -x "$PROBE" ] || { not_ok "bm-probe is built in $BUILD"; finish; }
trap 'bash "$WS" stop "$W" >/dev/null 2>&1; cleanup' EXIT

bash "$WS" start "$W" >"$T/start.log" 2>&1
rc=$?
expect "world.sh start succeeds" 0 $rc
[ $rc -eq 0 ] || { cat "$T/start.log"; finish; }

key() { bash "$WS" key "$W" "$1"; }
S1=$(bash "$WS" addr split1 "$W")
S2=$(bash "$WS" addr split2 "$W")
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# probe [bm-probe args]: run it with the world's resolver settings; sets OUT and RC
probe() {
	OUT=$(timeout 30 "$PROBE" --config "$W/unbound.conf" --timeout 3000 "$@" 2>>"$T/probe.err")
	RC=$?
}
# outcome DESC EXIT REGEX [bm-probe args]: the exit status and the printed line
outcome() {
	local desc=$1 want=$2 re=$3
	shift 3
	probe "$@"
	expect "$desc: exit $want" "$want" "$RC"
	expect_match "$desc: reason" "$re" "$OUT"
}

KS=$(key signed.parent.test.)
KU=$(key unsigned.parent.test.)
KB=$(key bogus.parent.test.)
KI=$(key insecure-ns.parent.test.)
KP=$(key split.parent.test.)

# --- at-apex ------------------------------------------------------------------------
outcome "at-apex, signed child" 0 \
	'^ok: at-apex: KEY RRset of signed\.parent\.test\. is secure and holds the key$' \
	at-apex signed.parent.test. "$KS.key"
outcome "at-apex, unsigned child" 3 \
	'^not-applicable: at-apex: unsigned\.parent\.test\. is not signed: .*insecure' \
	at-apex unsigned.parent.test. "$KU"
outcome "at-apex, bogus child (unbound's reason)" 1 \
	'^fail: at-apex: KEY RRset of bogus\.parent\.test\. is bogus \(.*(DS|chain of trust).*\)$' \
	at-apex bogus.parent.test. "$KB"
outcome "at-apex, signed child with another key" 1 \
	'^fail: at-apex: KEY RRset of signed\.parent\.test\. \(secure, 1 key\) does not hold the key$' \
	at-apex signed.parent.test. "$KU"
outcome "at-apex, a name that does not exist" 1 \
	'^fail: at-apex: nx\.parent\.test\. does not exist \(secure NXDOMAIN\)$' \
	at-apex nx.parent.test. "$KS"

# --- at-ns --------------------------------------------------------------------------
outcome "at-ns, both providers publish the key" 0 \
	'^ok: at-ns: all 2 nameservers of unsigned\.parent\.test\. outside its bailiwick' \
	at-ns unsigned.parent.test. "$KU" ns1.provider.test. ns2.provider.test.
outcome "at-ns, an in-bailiwick NS does not count" 0 \
	'^ok: at-ns: all 1 nameservers of unsigned\.parent\.test\.' \
	at-ns unsigned.parent.test. "$KU" ns1.provider.test. ns.unsigned.parent.test.=127.0.0.1
outcome "at-ns, provider zone unsigned" 1 \
	'^fail: at-ns: KEY RRset of _sig0key\.insecure-ns\.parent\.test\._signal\.ns1\.unsigned-provider\.test\. is insecure' \
	at-ns insecure-ns.parent.test. "$KI" ns1.unsigned-provider.test.
outcome "at-ns, only in-bailiwick nameservers" 3 \
	'^not-applicable: at-ns: split\.parent\.test\. has no nameserver outside its own bailiwick' \
	at-ns split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.="$S2"
outcome "at-ns, no _signal name for this child" 1 \
	'^fail: at-ns: _sig0key\.signed\.parent\.test\._signal\.ns1\.provider\.test\. does not exist \(secure NXDOMAIN\)' \
	at-ns signed.parent.test. "$KS" ns1.provider.test.
probe --rounds 2 at-ns unsigned.parent.test. "$KU" ns1.provider.test. ns2.provider.test.
expect "at-ns twice, the resolver flushed in between: exit 0" 0 "$RC"
expect "... both rounds ok" "ok ok" "$(echo "$OUT" | cut -d: -f1 | paste -sd' ')"

# ns2.provider.test. now publishes another key for unsigned.parent.test.
sed -n '/_signal\.ns1\.provider\.test\./p' "$W/extra/provider.test.records" >"$T/prov.records"
grep -v '^;' "$KS.key" | awk '{ $1 = "_sig0key.unsigned.parent.test._signal.ns2.provider.test."; print }' \
	>>"$T/prov.records"
cp "$T/prov.records" "$W/extra/provider.test.records"
# split2's copy of split.parent.test. gets a second KEY
K2=$(mkkey split.parent.test. ECDSAP256SHA256)
grep -v '^;' "$K2.key" >"$W/extra/split.parent.test@split2.records"
bash "$WS" reload "$W" >"$T/reload.log" 2>&1
rc=$?
expect "world.sh reload succeeds" 0 $rc
[ $rc -eq 0 ] || cat "$T/reload.log"

outcome "at-ns, one provider differs, require all" 1 \
	'^fail: at-ns: KEY RRset of _sig0key\.unsigned\.parent\.test\._signal\.ns2\.provider\.test\. \(secure, 1 key\) does not hold the key \(1 of 2' \
	at-ns unsigned.parent.test. "$KU" ns1.provider.test. ns2.provider.test.
outcome "at-ns, one provider differs, --any" 0 \
	'^ok: at-ns: KEY RRset of _sig0key\.unsigned\.parent\.test\._signal\.ns1\.provider\.test\. is secure and holds the key \(1 of 2 nameservers; failing: .*ns2\.provider\.test\.' \
	--any at-ns unsigned.parent.test. "$KU" ns1.provider.test. ns2.provider.test.

# --- unsigned -----------------------------------------------------------------------
outcome "unsigned, NS names resolved through the resolver" 0 \
	'^ok: unsigned: 2 addresses of 2 nameservers of unsigned\.parent\.test\. answer the same KEY RRset \(1 key\)' \
	unsigned unsigned.parent.test. "$KU" ns1.provider.test. ns2.provider.test.
outcome "unsigned, one split server (glue)" 0 \
	'^ok: unsigned: 1 address of 1 nameserver of split\.parent\.test\. answer the same KEY RRset \(1 key\)' \
	unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1"
outcome "unsigned, ns2.split serves another KEY RRset" 1 \
	"^fail: unsigned: split\\.parent\\.test\\. KEY RRset at ns2\\.split\\.parent\\.test\\. ${S2//./\\.}#53 \\(2 keys\\) differs from the one at ns1\\.split\\.parent\\.test\\. ${S1//./\\.}#53 \\(1 key\\)$" \
	unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.="$S2"
outcome "unsigned, the servers do not hold the key" 1 \
	"^fail: unsigned: split\\.parent\\.test\\. KEY at ns1\\.split\\.parent\\.test\\. ${S1//./\\.}#53: the KEY RRset \\(1 key\\) lacks the key$" \
	unsigned split.parent.test. "$KS" ns1.split.parent.test.="$S1"
outcome "unsigned, the child does not exist there" 1 \
	'^fail: unsigned: nx\.split\.parent\.test\. KEY at .*: NXDOMAIN$' \
	unsigned nx.split.parent.test. "$KP" ns.nx.split.parent.test.="$S1"
outcome "unsigned, a server that does not serve the child" 2 \
	'^temporary: unsigned: signed\.parent\.test\. KEY at .*: answered REFUSED$' \
	unsigned signed.parent.test. "$KS" ns.signed.parent.test.="$S1"
outcome "unsigned, in-bailiwick NS without glue" 2 \
	'^temporary: unsigned: no glue address for ns1\.split\.parent\.test\.' \
	unsigned split.parent.test. "$KP" ns1.split.parent.test.

# split2 back to the common copy: both servers, two vantage points
: >"$W/extra/split.parent.test@split2.records"
bash "$WS" reload "$W" >"$T/reload2.log" 2>&1
expect "world.sh reload (split2 restored) succeeds" 0 $?
outcome "unsigned, both split servers agree" 0 \
	'^ok: unsigned: 2 addresses of 2 nameservers of split\.parent\.test\. answer the same KEY RRset \(1 key\) holding the key, from 1 vantage point$' \
	unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.="$S2"
outcome "unsigned, two vantage points" 0 \
	'from 2 vantage points$' \
	--vantage 127.0.0.1 --vantage 127.0.0.2 \
	unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.="$S2"
# a source address this host does not have: the vantage point is really used
outcome "unsigned, a vantage point that cannot be bound" 2 \
	'^temporary: unsigned: .* from 192\.0\.2\.1: cannot bind source 192\.0\.2\.1#0' \
	--vantage 192.0.2.1 unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1"

# --- unreachable servers and the deadline ------------------------------------------
t0=$(now)
outcome "unsigned, nothing listens on the NS address" 2 \
	'^temporary: unsigned: split\.parent\.test\. KEY at ns1\.split\.parent\.test\. 127\.0\.0\.99#53: connection refused$' \
	--timeout 2000 unsigned split.parent.test. "$KP" ns1.split.parent.test.=127.0.0.99
t1=$(now)
expect_match "... answered within the timeout + 1 s ($(secs "$t0" "$t1") s)" '^[0-2]\.' "$(secs "$t0" "$t1")"

# a server that accepts the connection and never answers
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.98", 53))
s.listen(16)
print("listening", flush=True)
time.sleep(60)
' >"$T/silent.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$T/silent.log" && break; sleep 0.1; done
t0=$(now)
outcome "unsigned, a server that never answers" 2 \
	'^temporary: unsigned: split\.parent\.test\. KEY at ns1\.split\.parent\.test\. 127\.0\.0\.98#53: no answer within 2000 ms$' \
	--timeout 2000 unsigned split.parent.test. "$KP" ns1.split.parent.test.=127.0.0.98
t1=$(now)
expect_match "... gave up after the 2 s timeout, within 3 s ($(secs "$t0" "$t1") s)" '^2\.' "$(secs "$t0" "$t1")"
t0=$(now)
outcome "unsigned, a silent server makes the round temporary, not a fail" 2 \
	'^temporary: .*127\.0\.0\.98#53: no answer within 1000 ms$' \
	--timeout 1000 unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.=127.0.0.98
t1=$(now)
expect_match "... within the timeout + 1 s ($(secs "$t0" "$t1") s)" '^1\.' "$(secs "$t0" "$t1")"

# --- setup errors -------------------------------------------------------------------
"$PROBE" --ta "$T/nonexistent" at-apex signed.parent.test. "$KS" >/dev/null 2>"$T/err.txt"
expect "a missing trust anchor file is a setup error" 64 $?
expect_match "... that names the file" 'trust anchor file .*nonexistent' "$(cat "$T/err.txt")"
printf 'server:\n\tdo-not-query-localhost: no\n' >"$T/noanchor.conf"
"$PROBE" --config "$T/noanchor.conf" at-apex signed.parent.test. "$KS" >/dev/null 2>"$T/err.txt"
expect "an unbound config without a trust anchor is refused" 64 $?
expect_match "... saying why" 'no DNSSEC trust anchor' "$(cat "$T/err.txt")"
"$PROBE" frobnicate signed.parent.test. "$KS" >/dev/null 2>&1
expect "an unknown method is a usage error" 64 $?

if grep -qE "Sanitizer|runtime error" "$T/probe.err"; then
	not_ok "bm-probe ran without sanitizer reports"
	grep -E -A10 "Sanitizer|runtime error" "$T/probe.err" | head -30
else
	ok "bm-probe ran without sanitizer reports"
fi
finish
