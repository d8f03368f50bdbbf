#!/usr/bin/env bash
# dsync-agent end to end in the local DNS world (tests/world): the parent
# publishes what `dsyncd records` prints (DSYNC, A, KEY, SVCB) in its signed
# zone; `dsync-agent discover` finds the receiver with DNSSEC (the RFC 9859
# fallbacks included); for each bootstrap method (at-apex, at-ns, unsigned,
# manual) a child goes from nothing to a changed delegation with `bootstrap`
# and then `update`, which computes the difference between the child's zone
# (changed through a world hook) and what the parent's servers delegate;
# a key roll; a child whose key the parent revoked sees KeyState unknown
# and bootstraps again.  Every answer is authenticated with the receiver
# key learnt through DNSSEC (no --receiver-key).
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.20
PORT=5354
# the world on its own addresses (08/13 use .80-.87, 14 .112-.119)
world_init 120 knotd knotc kdig dnssec-keygen dnssec-signzone sqlite3 ss python3
[ -x "$BIN/dsync-agent" ] || { not_ok "$BIN/dsync-agent is built"; finish; }

world_started "the world starts" "$T/world.log"
SPLIT2=$(bash "$WS" addr split2 "$W")

# ---- helpers -------------------------------------------------------------------

# world.sh rewrites DSYNC into RFC 3597 form for Knot 3.2 (tests/world/README.md)
world_reload() { bash "$WS" reload "$W" >"$T/reload.log" 2>&1 || { cat "$T/reload.log" >&2; return 1; }; }

# conf METHODS: dsyncd's configuration with the zone's bootstrap methods
conf() {
	world_conf "$T" "$1" 2 1 >"$CONF"
}
CONF=$T/dsyncd.conf
LOG=$T/dsyncd.log
DB=$T/dsyncd.db
dump() { sqlite3 "$DB" "select owner_text || ' ' || type || ' ' || rdata_text from delegation order by 1" 2>/dev/null; }
nsof() { dump | sed -n "s/^$(sed 's/\./\\./g' <<<"$1") 2 //p" | paste -sd'|'; }
keyline() { "$BIN/dsyncd" -c "$CONF" key list 2>/dev/null | grep "^$1 tag $2 "; }
# agent ARGS...: dsync-agent with the world's validating resolver (no
# --receiver-key: the receiver's KEY comes from DNSSEC); stdout and stderr
# (everything it says also goes to $T/agent.log, checked for sanitizer reports at the end)
agent() {
	"$BIN/dsync-agent" "$@" --resolver-config "$W/unbound.conf" --query-timeout 3000 2>&1 |
		tee -a "$T/agent.log"
	return "${PIPESTATUS[0]}"
}
# publish [FILTER]: dsyncd's records (through grep -v FILTER) as the parent's hook, reload
publish() {
	"$BIN/dsyncd" -c "$CONF" records parent.test. 2>/dev/null | grep -v "${1:-^;}" >"$W/extra/parent.test.records"
	world_reload
}
# field LABEL: the value of "LABEL: value" lines (the first)
field() { sed -n "s/^$1: //p" | head -1; }

world_keys
TS=$(tagof "$KS") TU=$(tagof "$KU") TP=$(tagof "$KP") TI=$(tagof "$KI")

# ==== the parent publishes its receiver ============================================
conf '"at-apex", "at-ns", "unsigned"'
"$BIN/dsyncd" -c "$CONF" import parent.test. "$W/zones/parent.test.zone" >"$T/import.log" 2>&1
expect_match "dsyncd imports the world's parent.test. delegations" "5 delegation\(s\)" "$(cat "$T/import.log")"
start_dsyncd "$CONF" "$LOG" || { not_ok "dsyncd starts"; finish; }
RKEY=$(sed -n 's/.* IN KEY //p' "$T"/rkeys/*.key)

# first only the bare _dsync.parent.test. (the fallback of RFC 9859)
check "the bare _dsync.parent.test. DSYNC is published and served" publish '^;\|^\*\._dsync'
out=$(agent discover signed.parent.test.)
rc=$?
expect "discover (bare _dsync only) -> exit 0" 0 $rc
expect_match "... signed._dsync.parent.test. is a secure NXDOMAIN" "DSYNC signed\._dsync\.parent\.test\.: NXDOMAIN \(secure\)" "$out"
expect_match "... then _dsync.parent.test. answers, secure" "DSYNC _dsync\.parent\.test\.: secure: ANY 2 $PORT updater\.parent\.test\." "$out"

check "the wildcard *._dsync.parent.test. is published too" publish
out=$(agent discover signed.parent.test.)
rc=$?
expect "discover signed.parent.test. -> exit 0" 0 $rc
expect_match "... the wildcard answers the first lookup" "DSYNC signed\._dsync\.parent\.test\.: secure: ANY 2 $PORT updater\.parent\.test\." "$out"
expect "... parent" "parent.test." "$(field parent <<<"$out")"
expect "... receiver and port, DSYNC secure" "updater.parent.test. port $PORT (DSYNC secure)" "$(field receiver <<<"$out")"
expect "... the receiver's address, secure" "$ADDR#$PORT (secure)" "$(field address <<<"$out")"
expect_match "... the receiver's KEY is dsyncd's key, secure" "KEY ${RKEY//+/\\+} \(secure: answers can be authenticated\)" "$(field "receiver key" <<<"$out")"
expect "... the bootstrap methods from SVCB, secure" "at-apex,at-ns,unsigned (secure)" "$(field "bootstrap methods" <<<"$out")"
out=$(agent discover a.b.parent.test.)
expect_match "discover a.b.parent.test. (b is no zone): _dsync re-inserted at the parent the SOA names" \
	"DSYNC a\._dsync\.b\.parent\.test\.: NXDOMAIN \(secure\).*DSYNC a\.b\._dsync\.parent\.test\.: secure" "$(paste -sd' ' <<<"$out")"
out=$(agent discover child.unsigned-provider.test.)
rc=$?
expect "discover under a parent without DSYNC -> exit 69" 69 $rc
expect_match "... saying what was asked" "DSYNC _dsync\.unsigned-provider\.test\.: NXDOMAIN \(INSECURE" "$out"

# ==== bootstrap: at-apex, at-ns and unsigned at once ==================================
agent bootstrap signed.parent.test. --key "$KS" --timeout 30 --poll-max 1 >"$T/boot-signed.out" &
p1=$!
agent bootstrap unsigned.parent.test. --key "$KU" --timeout 30 --poll-max 1 >"$T/boot-unsigned.out" &
p2=$!
agent bootstrap split.parent.test. --key "$KP" --timeout 30 --poll-max 1 >"$T/boot-split.out" &
p3=$!
wait $p1
r1=$?
wait $p2
r2=$?
wait $p3
r3=$?
for x in "signed $r1 $TS at-apex" "unsigned $r2 $TU at-ns" "split $r3 $TP unsigned"; do
	read -r c r t m <<<"$x"
	out=$(cat "$T/boot-$c.out")
	expect "$c: bootstrap -> exit 0" 0 "$r"
	expect_match "$c: the upload is answered NOERROR, authenticated by the receiver's key" \
		"rcode: NOERROR.*authenticated: yes \(" "$(paste -sd' ' <<<"$out")"
	expect_match "$c: KeyState goes to 4 (trusted)" "state 4 [^ ]* \(key $t\)" "$out"
	expect_match "$c: dsyncd trusts it by $m" "tag $t alg 13: trusted by $m " "$(keyline $c.parent.test. "$t")"
done
expect_match "split: KeyState 9 (automatic bootstrap running) was seen first" "state 9 .*\(key $TP\)" "$(cat "$T/boot-split.out")"

# ==== the parent loses a key: KeyState unknown, bootstrap again ======================
expect_match "revoke unsigned.parent.test.'s key (dsyncd key revoke)" "revoked" \
	"$("$BIN/dsyncd" -c "$CONF" key revoke unsigned.parent.test. "$TU" 2>&1)"
hup
out=$(agent inquire unsigned.parent.test. --key "$KU")
rc=$?
expect "inquire after the revocation -> exit 1" 1 $rc
expect_match "... KeyState 5 (unknown), authenticated" "keystate: 5 .*authenticated: yes" "$(paste -sd' ' <<<"$out")"
out=$(agent bootstrap unsigned.parent.test. --key "$KU" --timeout 30 --poll-max 1)
rc=$?
expect "bootstrap again -> exit 0" 0 $rc
expect_match "... trusted again (KeyState 4)" "state 4 .*\(key $TU\)" "$out"
expect_match "... by at-ns" "tag $TU alg 13: trusted by at-ns " "$(keyline unsigned.parent.test. "$TU")"

# ==== the children change their NS sets; update sends the difference ==================
echo "signed.parent.test. 60 IN NS ns3.provider.test." >>"$W/extra/signed.parent.test.records"
echo "unsigned.parent.test. 60 IN NS ns4.provider.test." >>"$W/extra/unsigned.parent.test.records"
printf '%s\n' "split.parent.test. 60 IN NS ns3.split.parent.test." "ns3.split.parent.test. 60 IN A $SPLIT2" \
	>>"$W/extra/split.parent.test.records"
echo "insecure-ns.parent.test. 60 IN NS ns2.unsigned-provider.test." >>"$W/extra/insecure-ns.parent.test.records"
check "world reload with the children's new NS records" world_reload

out=$(agent update signed.parent.test. --key "$KS")
rc=$?
expect "signed: update -> exit 0" 0 $rc
expect "signed: the difference is the new NS alone (the DS from its KSK is the parent's)" \
	"add: signed.parent.test. 60 IN NS ns3.provider.test." "$(grep -E '^(add|delete|delete-rrset): ' <<<"$out")"
expect_match "signed: NOERROR, authenticated" "rcode: NOERROR.*authenticated: yes" "$(paste -sd' ' <<<"$out")"
expect "signed: dsyncd's store has the new NS set" "ns1.provider.test.|ns2.provider.test.|ns3.provider.test." "$(nsof signed.parent.test.)"

out=$(agent update unsigned.parent.test. --key "$KU")
rc=$?
expect "unsigned: update -> exit 0, NOERROR" "0 NOERROR" "$rc $(field rcode <<<"$out")"
expect "unsigned: the difference is the new NS (no DS: the child is unsigned)" \
	"add: unsigned.parent.test. 60 IN NS ns4.provider.test." "$(grep -E '^(add|delete|delete-rrset): ' <<<"$out")"
expect "unsigned: the store has it" "ns1.provider.test.|ns2.provider.test.|ns4.provider.test." "$(nsof unsigned.parent.test.)"

out=$(agent update split.parent.test. --key "$KP")
rc=$?
expect "split: update -> exit 0, NOERROR" "0 NOERROR" "$rc $(field rcode <<<"$out")"
expect "split: the difference is the new NS and its glue" \
	"add: ns3.split.parent.test. 60 IN A $SPLIT2|add: split.parent.test. 60 IN NS ns3.split.parent.test." \
	"$(grep -E '^(add|delete|delete-rrset): ' <<<"$out" | sort | paste -sd'|')"
expect "split: the store has the NS" "ns1.split.parent.test.|ns2.split.parent.test.|ns3.split.parent.test." "$(nsof split.parent.test.)"
expect "split: ... and the glue" "ns3.split.parent.test. 1 $SPLIT2" "$(dump | grep '^ns3\.split')"

# a receiver key that is not the receiver's: the answer is not authenticated
out=$(agent update signed.parent.test. --key "$KS" --receiver-key "$KU.key")
rc=$?
expect "with a wrong --receiver-key the answer is not authenticated -> exit 76" 76 $rc
expect_match "... and says so" "authenticated: no" "$out"

# ==== key roll ========================================================================
mkdir -p "$T/roll"
out=$(agent roll signed.parent.test. --key "$KS" --dir "$T/roll")
rc=$?
expect "signed: roll -> exit 0" 0 $rc
NK=$(ls "$T"/roll/Ksigned.parent.test.+*.key 2>/dev/null | head -1)
NK=${NK%.key}
TN=$(tagof "$NK")
expect_match "signed: roll made a new key" "^[0-9]+$" "$TN"
expect_match "signed: the new key is trusted by rollover" "tag $TN alg [0-9]+: trusted by rollover" "$(keyline signed.parent.test. "$TN")"
expect_match "signed: the old key is no longer trusted" "tag $TS alg 13: (revoked|removed)" "$(keyline signed.parent.test. "$TS")"
out=$(agent inquire signed.parent.test. --key "$NK")
expect "signed: inquire with the new key -> KeyState 4" 4 "$(field keystate <<<"$out" | cut -d' ' -f1)"
out=$(agent update signed.parent.test. --key "$NK" --del "signed.parent.test. 60 NS ns3.provider.test.")
expect "signed: the new key changes the delegation -> NOERROR" NOERROR "$(field rcode <<<"$out")"
expect "signed: the store follows" "ns1.provider.test.|ns2.provider.test." "$(nsof signed.parent.test.)"
out=$(agent update signed.parent.test. --key "$KS" --add "signed.parent.test. 60 NS ns3.provider.test.")
rc=$?
expect "signed: the old key is refused -> exit 1" 1 $rc
expect "... and changes nothing" "ns1.provider.test.|ns2.provider.test." "$(nsof signed.parent.test.)"
check "dsyncd stops cleanly" stop_dsyncd "$LOG"

# ==== manual: a zone that offers only the operator ======================================
conf '"manual"'
start_dsyncd "$CONF" "$LOG" || { not_ok "dsyncd starts (manual only)"; finish; }
check "the parent publishes manual as its only method" publish
out=$(agent discover insecure-ns.parent.test.)
expect "discover: the bootstrap methods are manual" "manual (secure)" "$(field "bootstrap methods" <<<"$out")"
agent bootstrap insecure-ns.parent.test. --key "$KI" --timeout 30 --poll-max 1 >"$T/boot-manual.out" &
pm=$!
for _ in $(seq 100); do grep -q "state 10 " "$T/boot-manual.out" && break; sleep 0.1; done
expect_match "manual: KeyState 10 (manual bootstrap) while waiting for the operator" "state 10 .*\(key $TI\)" "$(cat "$T/boot-manual.out")"
expect_match "manual: dsyncd key trust" "is now trusted" "$("$BIN/dsyncd" -c "$CONF" key trust insecure-ns.parent.test. "$TI" 2>&1)"
hup
wait $pm
rc=$?
expect "manual: bootstrap -> exit 0 once the operator trusted the key" 0 $rc
expect_match "manual: KeyState 4 seen" "state 4 .*\(key $TI\)" "$(cat "$T/boot-manual.out")"
out=$(agent update insecure-ns.parent.test. --key "$KI")
rc=$?
expect "manual: update -> exit 0, NOERROR" "0 NOERROR" "$rc $(field rcode <<<"$out")"
expect "manual: the difference is the new NS" "add: insecure-ns.parent.test. 60 IN NS ns2.unsigned-provider.test." \
	"$(grep -E '^(add|delete|delete-rrset): ' <<<"$out")"
expect "manual: the store has it" "ns1.unsigned-provider.test.|ns2.unsigned-provider.test." "$(nsof insecure-ns.parent.test.)"

# ==== an insecure DSYNC pointing to a receiver in a signed zone ======================
# whoever controls an insecure DSYNC could name a target whose KEY is secure:
# that KEY must not authenticate answers
# (in RFC 3597 form: world.sh rewrites DSYNC for Knot 3.2 in signed zones only)
python3 -c '
import sys
port = int(sys.argv[1])
rd = (255).to_bytes(2, "big") + bytes([2]) + port.to_bytes(2, "big")
rd += b"".join(bytes([len(l)]) + l.encode() for l in "updater.parent.test".split(".")) + b"\0"
print("evil._dsync.unsigned-provider.test. 60 IN TYPE66 \\# %d %s" % (len(rd), rd.hex().upper()))
' "$PORT" >>"$W/extra/unsigned-provider.test.records"
check "an insecure _dsync under unsigned-provider.test. is published" world_reload
out=$(agent discover evil.unsigned-provider.test.)
expect "discover evil.unsigned-provider.test. -> the signed receiver, DSYNC NOT secure" \
	"updater.parent.test. port $PORT (DSYNC NOT secure)" "$(field receiver <<<"$out")"
expect_match "... its secure KEY is NOT used, because the DSYNC RRset is not secure" \
	"\(NOT used: not secure: the DSYNC RRset\)$" "$(field "receiver key" <<<"$out")"
KE=$(cd "$T" && dnssec-keygen -q -T KEY -a ED25519 -n ZONE evil.unsigned-provider.test.)
out=$(agent inquire evil.unsigned-provider.test. --key "$T/$KE")
rc=$?
expect "inquire through the insecure DSYNC -> exit 76 (not authenticated)" 76 $rc
expect_match "... the discovered KEY is not used, saying why" \
	"receiver KEY from discovery not used: not secure: the DSYNC RRset" "$out"
expect_match "... and the answer is not authenticated" "authenticated: no" "$out"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd "$LOG"
expect "dsync-agent: no sanitizer reports in any run" "" \
	"$(cat "$T/agent.log" "$T"/boot-*.out | grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' | head -3)"
finish
