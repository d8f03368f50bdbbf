#!/usr/bin/env bash
# The DNS world of tests/world (test root, TLD, signed parent, signed and
# unsigned providers, signed/unsigned/bogus/split children, all on real Knot
# servers on 127.0.0.80-87:53) starts, validates the way dsyncd's libunbound
# will (secure / insecure / bogus), takes hook records on reload, restarts
# from the same folder, and stops leaving no socket behind.
. "$(dirname "$0")/lib.sh"
RES=$TOP/tests/world/resolve.py
world_init 80 knotd knotc kdig dnssec-keygen dnssec-signzone dnssec-dsfromkey named-checkzone python3 ss

# shellcheck disable=SC2086 # (${3:-}: an absent option must vanish)
# res NAME TYPE [--config]: validating lookup through libunbound
res() { timeout 30 python3 "$RES" ${3:-} "$W" "$1" "$2" 2>&1; }
# field of the status line: status, rcode, havedata
field() { sed -n "1s/.*\b$1=\([^ ]*\).*/\1/p"; }
# the KEY rdata of a key file, as resolve.py prints it
keydata() { grep -v '^;' "$1.key" | awk '{ s = ""; for (i = 7; i <= NF; i++) s = s $i; print "KEY", $4, $5, $6, s }'; }
# KEY RRset served by one server, sorted rdata, one line
# shellcheck disable=SC2086
served_keys() { kdig @"$1" +norec +time=2 +retry=0 ${3:-} +short "$2" KEY | tr -d ' ' | sort | paste -sd'|'; }
# timed ACTION LOG DESC: world.sh ACTION (output in LOG), its time reported
# (not judged: a loaded machine is slower), DESC checks that it succeeds;
# returns its exit status
timed() {
	local t0 rc
	t0=$(now)
	bash "$WS" "$1" "$W" >"$2" 2>&1
	rc=$?
	echo "# world $1 took $(secs "$t0" "$(now)") s"
	expect "$3" 0 $rc
	return $rc
}
# listening sockets of the world's range
world_sockets() { ss -Hlnut | awk '{ print $5 }' | grep -E '^127\.0\.0\.(8[0-9]|9[0-9]):' ; }

[ -z "$(world_sockets)" ] || { not_ok "127.0.0.80-99 is free: $(world_sockets | paste -sd' ')"; finish; }

# a hook written before start: extra records for the parent zone
mkdir -p "$W/extra"
echo 'hello.parent.test. 300 IN TXT "from the hook"' >"$W/extra/parent.test.records"

timed start "$T/start.log" "world.sh start succeeds" || { cat "$T/start.log"; finish; }
check "status: every server answers" bash "$WS" status "$W"
expect "status lists 8 servers up" 8 "$(bash "$WS" status "$W" | grep -c ' up:')"
for f in root.key root.ds root.hints anchors.conf unbound.conf world.env; do
	check "$f written" test -s "$W/$f"
done
expect_match "root.key is the root KSK" '^\. [0-9]+ IN DNSKEY 257 3 13 ' "$(cat "$W/root.key")"
expect_match "root.hints points at a.root-servers.test." 'a\.root-servers\.test\.[[:space:]]+[0-9]+ A 127\.0\.0\.80' "$(cat "$W/root.hints")"
if command -v delv >/dev/null; then
	# delv needs a recursive server for deeper names; the root answers these itself
	out=$(delv @127.0.0.80 -a "$W/anchors.conf" +root=. test. DS 2>&1)
	expect_match "delv + anchors.conf: DS test. from the root is fully validated" '; fully validated' "$out"
fi
expect "addr ns1.provider.test." 127.0.0.83 "$(bash "$WS" addr ns1.provider.test.)"
expect "addr split2 (instance name, from DIR)" 127.0.0.87 "$(bash "$WS" addr split2 "$W")"
expect "addr a.root-servers.test" 127.0.0.80 "$(bash "$WS" addr a.root-servers.test)"
kp=$(bash "$WS" key "$W" signed.parent.test.)
check "SIG(0) key made for signed.parent.test." test -s "$kp.private"
ku=$(bash "$WS" key "$W" unsigned.parent.test)
kb=$(bash "$WS" key "$W" bogus.parent.test.)

# --- validation through libunbound ------------------------------------------------
out=$(res signed.parent.test. KEY)
expect "signed.parent.test. KEY is secure" secure "$(echo "$out" | field status)"
expect "signed.parent.test. KEY is the child's SIG(0) key" "$(keydata "$kp")" "$(echo "$out" | sed -n 2p)"
out=$(res signed.parent.test. KEY --config)
expect "DIR/unbound.conf alone gives the same secure answer" secure "$(echo "$out" | field status)"
out=$(res unsigned.parent.test. KEY)
expect "unsigned.parent.test. KEY is insecure" insecure "$(echo "$out" | field status)"
expect "unsigned.parent.test. KEY has data" "$(keydata "$ku")" "$(echo "$out" | sed -n 2p)"
out=$(res bogus.parent.test. KEY)
expect "bogus.parent.test. KEY is bogus" bogus "$(echo "$out" | field status)"
expect "bogus.parent.test. KEY data is still what the zone holds" "$(keydata "$kb")" "$(echo "$out" | sed -n 2p)"
expect_match "bogus: libunbound explains the DS mismatch" 'why="[^"]*(DS|chain of trust)' "$out"
for n in ns1 ns2; do
	out=$(res _sig0key.unsigned.parent.test._signal.$n.provider.test. KEY)
	expect "_sig0key.unsigned.parent.test._signal.$n.provider.test. KEY is secure" secure "$(echo "$out" | field status)"
	expect "... and is unsigned.parent.test.'s key" "$(keydata "$ku")" "$(echo "$out" | sed -n 2p)"
done
out=$(res _sig0key.insecure-ns.parent.test._signal.ns1.unsigned-provider.test. KEY)
expect "_signal KEY under the unsigned provider is insecure" insecure "$(echo "$out" | field status)"
expect "... and present" 1 "$(echo "$out" | field havedata)"
out=$(res _sig0key.signed.parent.test._signal.ns1.provider.test. KEY)
expect "absent _signal name: secure NXDOMAIN" "secure NXDOMAIN" "$(echo "$out" | field status) $(echo "$out" | field rcode)"
out=$(res hello.parent.test. TXT)
expect "pre-start hook record in parent.test. is served and secure" "secure 1" "$(echo "$out" | field status) $(echo "$out" | field havedata)"

# --- split.parent.test.: two servers, two zone copies ---------------------------------
s1=$(bash "$WS" addr split1 "$W")
s2=$(bash "$WS" addr split2 "$W")
a=$(served_keys "$s1" split.parent.test.)
b=$(served_keys "$s2" split.parent.test.)
expect_match "split servers serve a KEY" '^512313' "$a"
expect "split servers agree at first" "$a" "$b"
k2=$(mkkey split.parent.test. ECDSAP256SHA256)
grep -v '^;' "$k2.key" >"$W/extra/split.parent.test@split2.records"
# provider hook: a _signal KEY for the signed child too
grep -v '^;' "$kp.key" | awk '{ $1 = "_sig0key.signed.parent.test._signal.ns1.provider.test."; print }' \
	>>"$W/extra/provider.test.records"
serial0=$(cat "$W/serial")
timed reload "$T/reload.log" "world.sh reload succeeds" || cat "$T/reload.log"
expect "reload bumps the serial" $((serial0 + 1)) "$(cat "$W/serial")"
expect "ns1.split unchanged after reload" "$a" "$(served_keys "$s1" split.parent.test.)"
b=$(served_keys "$s2" split.parent.test.)
if [ -n "$b" ] && [ "$a" != "$b" ]; then ok "ns2.split now answers a different KEY RRset"; else not_ok "split servers differ ($a / $b)"; fi
expect "ns2.split serves two KEYs" 2 "$(echo "$b" | tr '|' '\n' | grep -c .)"
expect "the split servers differ over TCP too" "$b" "$(served_keys "$s2" split.parent.test. +tcp)"
out=$(res _sig0key.signed.parent.test._signal.ns1.provider.test. KEY)
expect "provider hook record is secure after reload" secure "$(echo "$out" | field status)"
expect "... with the signed child's key" "$(keydata "$kp")" "$(echo "$out" | sed -n 2p)"
expect "signed child still secure after the re-sign" secure "$(res signed.parent.test. KEY | field status)"
expect "bogus child still bogus after the re-sign" bogus "$(res bogus.parent.test. KEY | field status)"

# --- stop, restart from the same folder, stop ----------------------------------------
pids=$(cat "$W"/run/*/pid | paste -sd' ')
anchor=$(cat "$W/root.key")
check "world.sh stop succeeds" bash "$WS" stop "$W"
expect "no socket left on 127.0.0.80-99" "" "$(world_sockets | paste -sd' ')"
left=""
# (a stopped knotd may stay a zombie until PID 1 reaps it: that is not running)
for p in $pids; do
	st=$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && left="$left $p"
done
expect "no knotd left running" "" "$left"
bash "$WS" status "$W" >/dev/null 2>&1
expect "status reports the world down" 1 $?
check "a second stop is harmless" bash "$WS" stop "$W"

timed start "$T/start2.log" "restart in the same folder succeeds"
expect "restart keeps the trust anchor (keys reused)" "$anchor" "$(cat "$W/root.key")"
expect "after restart signed.parent.test. KEY is secure" secure "$(res signed.parent.test. KEY | field status)"
expect "after restart ns2.split still differs (hooks kept)" "$b" "$(served_keys "$s2" split.parent.test.)"
bash "$WS" start "$W" >/dev/null 2>&1
expect "starting a running world is refused" 1 $?
check "world.sh stop succeeds again" bash "$WS" stop "$W"
expect "no socket left after the second stop" "" "$(world_sockets | paste -sd' ')"
finish
