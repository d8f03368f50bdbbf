#!/usr/bin/env bash
# KeyState inquiries (EDNS option 65002): a child asks, in a QUERY for its
# KEY signed with its own key, where a key stands; the answer carries the
# state and is signed by the receiver (verified here with its KEY). Unsigned
# inquiries are refused unless allowed; a child asks only about itself; without
# a receiver key the option is left out (fail closed, D5). dig sends the option.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-send.sh"
ADDR=127.0.0.12
PORT=5354

K1=$(mkkey child.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$K1 newchild.example.:"
cp "$T/dsyncd.conf" "$T/nosign.conf"
echo "receiver = { name = \"updater.example.\"; key-directory = \"$T/rkeys\"; };" >>"$T/dsyncd.conf"
echo "keystate = { inquiries-per-source = 20; };" >>"$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
RK=$(ls "$T"/rkeys/*.key)

hex4() { printf '%04x' "$1"; }
ask() { # SIGNING-KEY CHILD TAG: signed inquiry; prints dsync-send's line
	ds -k "$1" --opcode 0 -z "$2" --qtype KEY --ednsopt "65002:$(hex4 "$3")0200" --verify-key "$RK"
}
T1=$(tagof "$K1")
out=$(ask "$K1" child.example. "$T1")
expect_match "signed inquiry about a trusted key -> state 4, answer signed by the receiver" \
	"^rcode=NOERROR .*sig0ok=rfc2931.*opt65002=$(hex4 "$T1")0400" "$out"

KN=$(mkkey newchild.example. ED25519)
TN=$(tagof "$KN")
r=$( { echo "zone example."; echo "update add $(sed -n 's/^\([^;].*\) IN KEY \(.*\)$/\1 3600 KEY \2/p' "$KN.key")"; } | nsu "$KN" $ADDR $PORT)
expect "the child uploads a new key" NOERROR "$r"
out=$(ask "$KN" newchild.example. "$TN")
expect_match "a known key with manual bootstrap only -> state 10" "opt65002=$(hex4 "$TN")0a00" "$out"
"$BIN/dsyncd" -c "$T/dsyncd.conf" key trust newchild.example. "$TN" >/dev/null
kill -HUP "$DSYNCD_PID"
sleep 0.5
out=$(ask "$KN" newchild.example. "$TN")
expect_match "after trust -> state 4" "opt65002=$(hex4 "$TN")0400" "$out"

KU=$(mkkey child.example. ED25519 2>/dev/null)
TU=$(tagof "$KU")
out=$(ask "$KU" child.example. "$TU")
expect_match "signed by an unknown key, about that key -> state 5" "^rcode=NOERROR .*opt65002=$(hex4 "$TU")0500" "$out"
out=$(ask "$K1" newchild.example. "$TN")
expect_match "a child asking about another child -> REFUSED" "^rcode=REFUSED ede=18 " "$out"
out=$(ds -k "$K1" --opcode 0 -z child.example. --qtype KEY --ednsopt "65002:$(hex4 "$T1")0400" --verify-key "$RK")
expect_match "an inquiry with a state other than 2 -> code 0 (malformed)" "opt65002=$(hex4 "$T1")0000" "$out"
out=$(ds -k "$K1" --opcode 0 -z child.example. --qtype KEY --ednsopt "65002:$(hex4 "$T1")0200" --flip -3)
expect_match "a broken signature -> REFUSED, no state" "^rcode=REFUSED ede=6 " "$out"
[[ "$out" != *opt65002* ]] && ok "and no KeyState option" || not_ok "KeyState option leaked: $out"

d=$(dig @$ADDR -p $PORT +norec +ednsopt=65002:$(hex4 "$T1")0200 child.example. KEY 2>&1)
expect_match "dig: an unsigned inquiry is refused" "status: REFUSED" "$d"

# D8: an upload that carries the option learns its key's state in the answer
KN3=$(mkkey newchild.example. ED25519 2>/dev/null)
TN3=$(tagof "$KN3")
out=$(ds -k "$KN3" -z example. --add "$(sed -n 's/^\([^;].*\) IN KEY \(.*\)$/\1 3600 KEY \2/p' "$KN3.key")" \
	--ednsopt "65002:$(hex4 "$TN3")0200" --verify-key "$RK")
expect_match "a bootstrap upload with the option -> NOERROR and state 10, signed" \
	"^rcode=NOERROR .*sig0ok=rfc2931.*opt65002=$(hex4 "$TN3")0a00" "$out"

# R17: inquiries are rate-limited per source network (20 a minute here).
# The limit counts per calendar minute, so a run that crosses a minute
# boundary starts counting anew: within 41 inquiries one must be refused.
last=""
for i in $(seq 41); do
	last=$(ask "$K1" child.example. "$T1")
	case $last in rcode=REFUSED*) break ;; esac
done
expect_match "beyond inquiries-per-source a minute -> REFUSED, EDE 15" \
	'^rcode=REFUSED ede=15 text="too many KeyState inquiries' "$last"
check "dsyncd stops cleanly" stop_dsyncd

# the zone's policy on key algorithms: an ED25519 upload where only ECDSA P-256
# is accepted is kept as refused (it proved possession), and KeyState says 7
sed 's|^} );$|  key-algorithms = [ 13 ];\n} );|' "$T/dsyncd.conf" | sed 's/inquiries-per-source = 20/inquiries-per-source = 1000/' >"$T/algs.conf"
start_dsyncd "$T/algs.conf" "$T/algs.log" || { not_ok "dsyncd starts with key-algorithms"; finish; }
KA=$(mkkey newchild.example. ED25519 2>/dev/null)
TA=$(tagof "$KA")
keytext() { sed -n 's/^\([^;].*\) IN KEY \(.*\)$/\1 3600 KEY \2/p' "$1.key"; }
out=$(ds -k "$KA" -z example. --add "$(keytext "$KA")" --ednsopt "65002:$(hex4 "$TA")0200" --verify-key "$RK")
expect_match "an upload with an algorithm the zone does not accept -> REFUSED, EDE 1, state 7 in the answer" \
	"^rcode=REFUSED ede=1 text=\"key newchild.example. tag $TA: algorithm 15 is not accepted for child keys of zone example. \(key-algorithms\); kept as refused\".*opt65002=$(hex4 "$TA")0700" "$out"
expect_match "an inquiry about it -> 7 (refused)" "opt65002=$(hex4 "$TA")0700" "$(ask "$KA" newchild.example. "$TA")"
expect_match "dsyncd key list shows it refused" "newchild.example. tag $TA alg 15: refused " "$("$BIN/dsyncd" -c "$T/algs.conf" key list)"
out=$(ds -k "$KA" -z example. --add "$(keytext "$KA")")
expect_match "uploaded again -> REFUSED again" '^rcode=REFUSED ede=1 text="key newchild.example. tag [0-9]*: algorithm 15 is not accepted' "$out"
KP=$(mkkey newchild.example. ECDSAP256SHA256 2>/dev/null)
TP=$(tagof "$KP")
out=$(ds -k "$KP" -z example. --add "$(keytext "$KP")" --ednsopt "65002:$(hex4 "$TP")0200" --verify-key "$RK")
expect_match "an ECDSA P-256 key of the same child -> NOERROR, state 10" "^rcode=NOERROR .*opt65002=$(hex4 "$TP")0a00" "$out"
check "dsyncd stops cleanly (key-algorithms)" stop_dsyncd "$T/algs.log"

# unsigned inquiries allowed, but no receiver key: the option is left out
echo 'keystate = { unsigned-inquiries = true; };' >>"$T/nosign.conf"
start_dsyncd "$T/nosign.conf" "$T/nosign.log" || { not_ok "dsyncd starts without a receiver key"; finish; }
d=$(dig @$ADDR -p $PORT +norec +ednsopt=65002:$(hex4 "$T1")0200 child.example. KEY 2>&1)
expect_match "dig: allowed unsigned inquiry -> NOERROR" "status: NOERROR" "$d"
[[ "$d" != *"OPT=65002"* ]] && ok "unsigned answer: the KeyState option is left out (fail closed)" || not_ok "option in an unsigned answer: $d"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd "$T/nosign.log"
finish
