#!/usr/bin/env bash
# One section per rule of doc/hardening.md, each with the test that rule asks
# for: no crypto for QUERY/NOTIFY (R1) or unknown signers (R2), at most two
# verifications with colliding key tags (R3), SIG(0) placement (R4), cheap
# checks before crypto (R5), nothing unauthenticated changes state (R6), a
# signer touches only its own delegation, also under random UPDATEs (R7),
# replays after a restart (R10), size bounds (R12), linear-time parsing
# (R13), hostile names through to a zone file (R15), RSA key size (R16);
# then, with daemons of their own, signed UPDATEs limited per source prefix
# and per signer (R9) and the verification budget (R8).
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.6
PORT=5354

# ---- helpers (local to this file) --------------------------------------------

. "$(dirname "$0")/lib-send.sh"

# dump_noaudit: every table an unauthenticated request must not touch
# (delivery is left out: the outbox works on it in the background)
dump_noaudit() {
	sqlite3 "$T/db/dsyncd.db" "select * from zones; select * from children; select * from keys;
		select * from delegation; select * from outbox_change; select hex(digest), rcode from replay;" 2>/dev/null
}
naudit() { sqlite3 "$T/db/dsyncd.db" "select count(*) from audit"; }
vcount() { counter verifications; }

# nover DESC RCODE EDE TEXT ARGS...: like bad, and no signature verification was done
nover() {
	local v0
	v0=$(vcount)
	bad "$@"
	expect "$1: 0 verifications" "$v0" "$(vcount)"
}

# ---- setup ------------------------------------------------------------------------

KC=$(mkkey child.example. ED25519) || { not_ok "keygen"; finish; }
KUNK=$(mkkey child.example. ED25519 2>/dev/null) # same name, never configured
KSTR=$(mkkey stranger.example. ED25519)           # no such child
KEC=$(mkkey child.example. ECDSAP256SHA256)        # algorithm not in sig0.algorithms
KA=$(mkkey a.example. ED25519)
KB=$(mkkey b.example. ED25519)
KREAL=$(mkkey collide.example. ED25519)            # signs, never configured

# R3: three fake ED25519 keys for collide.example. with KREAL's key tag
py "
import random, base64, struct
owner, rd, _ = read_key('$KREAL')
want = keytag(rd)
for n in range(1, 4):
    body = bytes(random.getrandbits(8) for _ in range(30))
    for w in range(65536):
        cand = rd[:4] + body + struct.pack('!H', w)
        if keytag(cand) == want:
            break
    assert keytag(cand) == want
    open('$T/keys/fake%d.key' % n, 'w').write('collide.example. IN KEY %d %d %d %s\n' % (
        rd[0] << 8 | rd[1], rd[2], rd[3], base64.b64encode(cand[4:]).decode()))
"
TAG=$(basename "$KREAL" | sed 's/.*+0*//')
n=0
for f in "$T"/keys/fake?.key; do
	[ "$(py "print(keytag(read_key('${f%.key}')[1]))")" = "$TAG" ] && n=$((n + 1))
done
expect "R3: three fake keys with the tag $TAG of the real key" 3 "$n"

write_conf "$T/dsyncd.conf" $ADDR $PORT example. \
	"child.example.:$KC a.example.:$KA b.example.:$KB collide.example.:$T/keys/fake1"
sed -i "s|\"$T/keys/fake1.key\"|\"$T/keys/fake1.key\", \"$T/keys/fake2.key\", \"$T/keys/fake3.key\"|" "$T/dsyncd.conf"
sed -i 's/^store = .*/&\nsig0 = { algorithms = [ 15 ]; };/' "$T/dsyncd.conf"
# R7's property test sends 200 UPDATEs signed by a.example. within a minute
sed -i 's/workers = 2;/workers = 2; updates-per-signer = 1000;/' "$T/dsyncd.conf"
check "config with colliding keys and algorithms = [15] passes -n" "$BIN/dsyncd" -n -c "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
expect "verifications start at 0" 0 "$(vcount)"

for c in child a b; do
	case $c in child) k=$KC ;; a) k=$KA ;; b) k=$KB ;; esac
	r=$(ds -k "$k" --add "$c.example. 300 NS ns1.$c.example." --add "ns1.$c.example. 300 A 192.0.2.1" \
		--add "ns1.$c.example. 300 AAAA 2001:db8::1" --add "$c.example. 300 NS ns2.provider.net." \
		--add "$c.example. 300 DS 12345 15 2 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4")
	expect "initial delegation of $c.example. -> NOERROR" NOERROR "$(f_rcode "$r")"
done
expect "one verification per good UPDATE (the counter counts)" 3 "$(vcount)"
NS3="child.example. 300 NS ns3.provider.net."

# ---- R1: no crypto for QUERY or NOTIFY -----------------------------------------------

nover "R1: SIG(0)-signed QUERY" REFUSED 20 "answers no queries" -k "$KC" --opcode 0
nover "R1: SIG(0)-signed QUERY with an update section" REFUSED 20 "answers no queries" -k "$KC" --opcode 0 --add "$NS3"
nover "R1: SIG(0)-signed NOTIFY" NOTIMP 21 "opcode 4" -k "$KC" --opcode 4
nover "R1: SIG(0)-signed NOTIFY over TCP" NOTIMP 21 "opcode 4" -t -k "$KC" --opcode 4 --add "$NS3"
nover "R1: SIG(0)-signed opcode 6 (DSO)" NOTIMP 21 "opcode 6" -k "$KC" --opcode 6

# ---- R2: keys only from our own store -------------------------------------------------

nover "R2: unknown signer (no such child)" BADKEY 513 "stranger.example. .* is not known here" -k "$KSTR" --add "stranger.example. 300 NS ns1.provider.net."
nover "R2: unknown key of a known child" BADKEY 513 "is not known here" -k "$KUNK" --add "$NS3"
nover "R2: unknown key, no OPT" NOTAUTH - "is not known here" -k "$KUNK" --no-edns --add "$NS3"

# ---- R3: colliding key tags -------------------------------------------------------------

v0=$(vcount)
bad "R3: real key, three stored keys with its tag" REFUSED 6 "does not verify" -k "$KREAL" --add "collide.example. 300 NS ns1.provider.net." --add "collide.example. 300 NS ns2.provider.net."
d=$(( $(vcount) - v0 ))
[ "$d" -ge 1 ] && [ "$d" -le 2 ] && ok "R3: $d verification(s) for 3 colliding keys (at most 2)" ||
	not_ok "R3: $d verifications for 3 colliding keys (want 1..2)"
v0=$(vcount)
bad "R3: two SIG(0)s, each matching 3 stored keys" REFUSED 6 "does not verify" -k "$KREAL" --sign-twice "$KREAL" --add "collide.example. 300 NS ns1.provider.net."
d=$(( $(vcount) - v0 ))
[ "$d" -ge 1 ] && [ "$d" -le 2 ] && ok "R3: $d verification(s) for 2 SIG(0)s x 3 keys (at most 2)" ||
	not_ok "R3: $d verifications for 2 SIG(0)s x 3 keys (want 1..2)"
v0=$(vcount)
r=$(ds -k "$KC" --sign-twice "$KREAL" --add "$NS3")
expect "R3: good SIG(0) + a second one matching 3 colliding keys -> NOERROR" NOERROR "$(f_rcode "$r")"
d=$(( $(vcount) - v0 ))
[ "$d" -le 2 ] && ok "R3: $d verification(s) for a good SIG(0) plus a colliding one" ||
	not_ok "R3: $d verifications for a good SIG(0) plus a colliding one (want <= 2)"

# ---- R4: SIG(0) placement, FORMERR before crypto ------------------------------------------

UPD4="update=[rr('child.example.', 2, 1, 300, wname('ns4.provider.net.'))]"
py "m = msg($UPD4, add=[opt()]); s = sign(m, '$KC'); out('$T/r4-notlast.bin', bump_ar(s) + opt())"
nover "R4: SIG(0) followed by an OPT" FORMERR '*' "SIG\(0\) is not at the end" --raw-file "$T/r4-notlast.bin"
py "m = msg($UPD4, add=[opt()]); out('$T/r4-three.bin', bump_ar(m, 3) + sig_rr(m, '$KC') * 3)"
nover "R4: three SIG(0)s" FORMERR '*' "more than 2 SIG\(0\)" --raw-file "$T/r4-three.bin"
py "m = msg($UPD4, add=[opt()]); s = sig_rr(m, '$KC')
out('$T/r4-upd.bin', msg(update=[rr('child.example.', 2, 1, 300, wname('ns4.provider.net.')), s], add=[opt()]))"
nover "R4: SIG(0) in the update section" FORMERR '*' "SIG\(0\) record outside the additional section" --raw-file "$T/r4-upd.bin"
py "m = msg($UPD4, add=[opt()]); s = sig_rr(m, '$KC')
out('$T/r4-pre.bin', msg(prereq=[s], $UPD4, add=[opt()]))"
nover "R4: SIG(0) in the prerequisite section" FORMERR '*' "SIG\(0\) record outside the additional section" --raw-file "$T/r4-pre.bin"
py "m = msg($UPD4, add=[opt()]); s = bytearray(sig_rr(m, '$KC')); s[11 + 3] = 1; out('$T/r4-labels.bin', bump_ar(m) + bytes(s))"
nover "R4: SIG with labels 1 in the additional section" FORMERR '*' "not a SIG\(0\)" --raw-file "$T/r4-labels.bin"
py "m = msg($UPD4, add=[opt()]); s = bytearray(sig_rr(m, '$KC')); s[11 + 1] = 1; out('$T/r4-covered.bin', bump_ar(m) + bytes(s))"
nover "R4: SIG with type covered 1" FORMERR '*' "not a SIG\(0\)" --raw-file "$T/r4-covered.bin"
# and the python signer is right: the same message signed once verifies
py "out('$T/r4-good.bin', sign(msg($UPD4, add=[opt()]), '$KC'))"
r=$(ds --raw-file "$T/r4-good.bin")
expect "R4: control: the same message with one SIG(0) at the end -> NOERROR" NOERROR "$(f_rcode "$r")"

# ---- R5: cheap checks before crypto --------------------------------------------------------

nover "R5: expired" REFUSED 7 "expired" -k "$KC" --inception-offset -1000 --expiration-offset -600 --add "$NS3"
nover "R5: inception too old" REFUSED 7 "old" -k "$KC" --inception-offset -800 --expiration-offset 60 --add "$NS3"
nover "R5: not yet valid" REFUSED 8 "in the future" -k "$KC" --inception-offset 600 --expiration-offset 900 --add "$NS3"
nover "R5: validity longer than max-validity" REFUSED 0 "max-validity" -k "$KC" --inception-offset -60 --expiration-offset 3000 --add "$NS3"
nover "R5: expiration before inception" REFUSED 0 "max-validity" -k "$KC" --inception-offset 60 --expiration-offset -60 --add "$NS3"
nover "R5: algorithm 13 not in sig0.algorithms" REFUSED 1 "algorithm 13 .* not accepted" -k "$KEC" --add "$NS3"
nover "R5: algorithm 13, no OPT" REFUSED - "algorithm 13" -k "$KEC" --no-edns --add "$NS3"

# ---- R6: nothing unauthenticated changes state ---------------------------------------------

for how in garbage flipped; do
	before=$(dump_noaudit)
	a0=$(naudit)
	v0=$(vcount)
	if [ $how = garbage ]; then
		py "out('$T/r6.bin', sign(msg(update=[rr('child.example.', 2, 254, 0, b''), rr('child.example.', 2, 1, 300, wname('evil.example.net.'))], add=[opt()]), '$KC', garbage=True))"
		r=$(ds --raw-file "$T/r6.bin")
	else
		r=$(ds -k "$KC" --del-rrset "child.example. NS" --add "child.example. 300 NS evil.example.net." --flip -1 --flip -33)
	fi
	expect "R6: known key, $how signature -> REFUSED ede=6" "REFUSED ede=6" "$(f_rcode "$r") ede=$(f_ede "$r")"
	expect_match "R6: $how: text" "SIG\(0\) by child\.example\. tag [0-9]+ does not verify" "$(f_text "$r")"
	expect "R6: $how: one verification" $((v0 + 1)) "$(vcount)"
	expect "R6: $how: store unchanged (all but the audit log)" "$before" "$(dump_noaudit)"
	expect "R6: $how: one audit row added" $((a0 + 1)) "$(naudit)"
	expect "R6: $how: the audit row says badsig" "badsig|5" \
		"$(sqlite3 "$T/db/dsyncd.db" "select result, rcode from audit order by rowid desc limit 1")"
done
check "R6: evil NS never stored" test "$(deleg_dump | grep -c evil)" = 0

# ---- R7: a signer touches only its own delegation -----------------------------------------------

bad "R7: a.example.'s key adds NS to b.example." REFUSED 18 "outside the signer's delegation a\.example\." -k "$KA" --add "b.example. 300 NS ns9.provider.net."
bad "R7: a.example.'s key deletes b.example.'s NS" REFUSED 18 "outside the signer's delegation" -k "$KA" --del-rrset "b.example. NS"
bad "R7: a.example.'s key changes b.example.'s glue" REFUSED 18 "outside the signer's delegation" -k "$KA" --add "ns1.b.example. 300 A 192.0.2.66"
bad "R7: a.example.'s key removes b.example." REFUSED 18 "outside the signer's delegation" -k "$KA" --del-name "b.example."
bad "R7: a.example.'s key, DS at b.example." REFUSED 18 "outside the signer's delegation" -k "$KA" --add "b.example. 300 DS 1 15 2 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4"

# the property test: random owners and types from a.example.'s key
notA="select owner_text, type, ttl, rdata_text from delegation
	where not (owner_text = 'a.example.' or owner_text like '%.a.example.') order by 1, 2, 4"
before_notA=$(sqlite3 "$T/db/dsyncd.db" "$notA")
OTHER="select name_text from children order by 1; select * from keys order by 1;"
before_other=$(sqlite3 "$T/db/dsyncd.db" "$OTHER")
owners=(a.example. ns1.a.example. x.a.example. deep.x.a.example. b.example. ns1.b.example. y.b.example. example. ns1.example. other.net. ab.example. a.example.net.)
types=(NS DS A AAAA TXT SOA CNAME KEY RRSIG)
KEYDATA=$(sed -n 's/.* KEY //p' "$KA.key" | head -1)
rdata_for() { # TYPE n
	case $1 in
	NS) echo "ns$2.provider.net." ;;
	DS) echo "$2 15 2 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4" ;;
	A) echo "192.0.2.$(($2 % 250))" ;;
	AAAA) echo "2001:db8::$2" ;;
	TXT) echo "\"t$2\"" ;;
	SOA) echo "ns1.example. h.example. $2 3600 900 604800 300" ;;
	CNAME) echo "t$2.example.net." ;;
	KEY) echo "$KEYDATA" ;;
	RRSIG) echo "A 15 2 300 20300101000000 20200101000000 $2 a.example. AAAA" ;;
	esac
}
declare -A seen=()
for i in $(seq 200); do
	args=()
	for _ in $(seq $((RANDOM % 3 + 1))); do
		o=${owners[RANDOM % ${#owners[@]}]}
		t=${types[RANDOM % ${#types[@]}]}
		case $((RANDOM % 4)) in
		0 | 1) args+=(--add "$o 300 $t $(rdata_for "$t" $i)") ;;
		2) args+=(--del "$o 0 $t $(rdata_for "$t" $i)") ;;
		3) args+=(--del-rrset "$o $t") ;;
		esac
	done
	r=$(ds -k "$KA" "${args[@]}")
	rc=$(f_rcode "$r")
	seen[$rc]=$((${seen[$rc]:-0} + 1))
done
summary=$(for k in "${!seen[@]}"; do echo "$k:${seen[$k]}"; done | sort | paste -sd,)
echo "# R7 random UPDATEs: $summary"
expect_match "R7: 200 random UPDATEs all answered, none SERVFAIL" "^([A-Z]+:[0-9]+,?)+$" "$(tr -d '\n' <<<"$summary" | sed 's/SERVFAIL.*//;s/^-.*//')"
[ -z "${seen[SERVFAIL]:-}" ] && [ -z "${seen[-]:-}" ] && ok "R7: no SERVFAIL and no unanswered request" ||
	not_ok "R7: SERVFAIL or unanswered among the random UPDATEs: $summary"
expect "R7: everything not under a.example. unchanged" "$before_notA" "$(sqlite3 "$T/db/dsyncd.db" "$notA")"
expect "R7: children and keys unchanged" "$before_other" "$(sqlite3 "$T/db/dsyncd.db" "$OTHER")"
expect "R7: under a.example. only NS/DS at the child and A/AAAA strictly below" "" \
	"$(sqlite3 "$T/db/dsyncd.db" "select owner_text, type from delegation
		where (owner_text = 'a.example.' and type not in (2, 43))
		   or (owner_text like '%.a.example.' and type not in (1, 28))")"
expect "R7: a.example. still has at least 2 NS" 1 \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) >= 2 from delegation where owner_text = 'a.example.' and type = 2")"
r=$(ds -k "$KB" --add "b.example. 300 NS ns7.provider.net.")
expect "R7: b.example.'s own key still works" NOERROR "$(f_rcode "$r")"

# ---- R12: hard bounds ------------------------------------------------------------------------------

# 20 TXT records of 1000 bytes: ~20 KB, above max-message-size (16384)
py "out('$T/big.bin', sign(msg(update=[rr('child.example.', 16, 1, 300, bytes([250]) + b'x' * 250 + bytes([250]) + b'y' * 250 + bytes([250]) + b'z' * 250 + bytes([245]) + b'w' * 245) for _ in range(20)], add=[opt()]), '$KC'))"
check "R12: the big message is over 16384 bytes" test "$(stat -c %s "$T/big.bin")" -gt 16384
before=$(state_dump)
v0=$(vcount)
r=$(ds -t --raw-file "$T/big.bin")
expect_match "R12: UPDATE over max-message-size on TCP: connection closed" "^rcode=- .*closed=1" "$r"
bad "R12: UPDATE over max-message-size on UDP" REFUSED 15 "exceeds server.max-message-size" --raw-file "$T/big.bin"
expect "R12: no verification for oversized messages" "$v0" "$(vcount)"
r=$(ds -t -k "$KC" --add "$NS3")
expect "R12: a new TCP connection works after the closed one" NOERROR "$(f_rcode "$r")"
ns_file "$T/r12-257.bin" 256 "$KC"
nover "R12: 258 records" REFUSED 15 "at most 256" --raw-file "$T/r12-257.bin"
nover "R12: 258 records over TCP" REFUSED 15 "at most 256" -t --raw-file "$T/r12-257.bin"
too_many "R12: 65 records (max-update-records 64)" "maximum is 64" "$KC" 65 "child.example. 300 NS n%d.provider.net."
too_many "R12: NS beyond max-ns (3 + 12 > 13)" "NS set would have 1[0-9] record\(s\); the maximum is 13" "$KC" 12 \
	"child.example. 300 NS n%d.provider.net."
too_many "R12: DS beyond max-ds (8)" "maximum is 8" "$KC" 9 \
	"child.example. 300 DS %d 15 2 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4"

# ---- R10: replay after a restart ----------------------------------------------------------------------

n0=$(nout)
r=$(ds -k "$KC" --save "$T/r10.bin" --add "child.example. 300 NS ns10.provider.net.")
expect "R10: the original UPDATE -> NOERROR" NOERROR "$(f_rcode "$r")"
r=$(ds -k "$KC" --save "$T/r10-refused.bin" --add "www.child.example. 300 TXT no")
expect "R10: an UPDATE that is refused -> REFUSED" REFUSED "$(f_rcode "$r")"
before=$(state_dump)
check "R10: dsyncd stops" stop_dsyncd
mv "$T/dsyncd.log" "$T/dsyncd-run1.log"
# the second run also allows 64 KiB messages (for R13 below)
sed -i 's/workers = 2;/workers = 2; max-message-size = 65535;/' "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd restarts"; finish; }
expect "R10: the store is the same after the restart" "$before" "$(state_dump)"
bad "R10: replayed after the restart" NOERROR 0 "replayed" --raw-file "$T/r10.bin"
bad "R10: replayed refused UPDATE after the restart" REFUSED 0 "replayed" --raw-file "$T/r10-refused.bin"
expect "R10: applied once (one outbox change)" $((n0 + 1)) "$(nout)"
expect "R10: ns10 stored once" 1 "$(deleg_dump | grep -c "^child\\.example\\. [0-9]* ns10\\.provider\\.net\\.$")"
r=$(ds -k "$KC" --del "child.example. 0 NS ns10.provider.net.")
expect "R10: a fresh UPDATE after the restart -> NOERROR" NOERROR "$(f_rcode "$r")"

# ---- R13: linear-time parsing ----------------------------------------------------------------------------

# ~64 KiB: the first update RR's RDATA (TXT, opaque) holds a chain of 120
# one-label names, each pointing at the one before, and pointer-to-pointer
# chains as filler; then 250 RRs whose owner and NS RDATA point at the
# deepest name (121 labels, 251 octets, 121 jumps to resolve each)
py "
import struct
h = 12 + 13 + 2 + 10   # header, zone entry, first RR (owner = pointer to 12), its fixed fields
blob = b''
prev = 12
for i in range(120):
    at = h + len(blob)
    blob += b'\x01a' + struct.pack('!H', 0xc000 | prev)
    prev = at + 0   # the label starts the name
deep = prev
# filler: chains of pointers to pointers (each pointing at the one before)
while h + len(blob) < 65535 - 250 * 16 - 400:
    at = h + len(blob)
    blob += struct.pack('!H', 0xc000 | (at - 2))
first = b'\xc0\x0c' + struct.pack('!HHIH', 16, 1, 0, len(blob)) + blob
ptr = struct.pack('!H', 0xc000 | deep)
rest = [ptr + struct.pack('!HHIH', 2, 1, 300, 2) + ptr for _ in range(250)]
m = msg(update=[first] + rest, add=[opt()])
assert len(m) <= 65535, len(m)
out('$T/r13.bin', m)
print(len(m))
" >"$T/r13.len"
echo "# R13 message: $(cat "$T/r13.len") bytes"
t0=$(date +%s%N)
r=$(ds -t --raw-file "$T/r13.bin")
t1=$(date +%s%N)
expect_match "R13: 64 KiB pointer-heavy message answered (REFUSED: unsigned)" "^rcode=REFUSED ede=18 " "$r"
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt 1000 ] && ok "R13: answered in $ms ms (< 1000)" || not_ok "R13: answered in $ms ms (>= 1000)"
t0=$(date +%s%N)
r=$("$BIN/dsync-send" -s $ADDR -p $PORT -t --repeat 20 --raw-file "$T/r13.bin" | grep -c '^rcode=REFUSED')
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
expect "R13: 20 of them on one connection all answered" 20 "$r"
[ "$ms" -lt 3000 ] && ok "R13: 20 answered in $ms ms (< 3000)" || not_ok "R13: 20 answered in $ms ms (>= 3000)"
# the deepest name one label deeper than allowed, and a pointer-to-pointer chain of 200: FORMERR
py "
import struct
blob = b''
h = 12 + 13 + 2 + 10
for i in range(200):
    at = h + len(blob)
    blob += struct.pack('!H', 0xc000 | (at - 2 if i else 12))
first = b'\xc0\x0c' + struct.pack('!HHIH', 16, 1, 0, len(blob)) + blob
last = h + len(blob) - 2
m = msg(update=[first, struct.pack('!H', 0xc000 | last) + struct.pack('!HHIH', 2, 1, 300, 0)], add=[opt()])
out('$T/r13-jumps.bin', m)
"
bad "R13: a name behind 200 pointers to pointers" FORMERR - "bad owner name in the update section" -t --raw-file "$T/r13-jumps.bin"
check "R13: daemon alive" kill -0 "$DSYNCD_PID"

# ---- R15: hostile names through store and zone file ---------------------------------------------------

H1='a\$b\@c\"d\;e\(f\)g\\h\032i.child.example.'  # in the child: needs glue
H2='x\;y\032z\(\)\.w\"q.provider.net.'
H3='t\009ab\127\255.provider.net.'
H4='n\010\$INCLUDE\032/etc/passwd.provider.net.'
r=$(ds -k "$KC" --add "child.example. 300 NS $H1" --add "$H1 300 A 192.0.2.53" \
	--add "child.example. 300 NS $H2" --add "child.example. 300 NS $H3" --add "child.example. 300 NS $H4")
expect "R15: NS targets and glue with hostile names -> NOERROR" NOERROR "$(f_rcode "$r")"
expect "R15: 5 hostile records in the store" 5 \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) from delegation where rdata_text like '%passwd%' or rdata_text like '%provider.net.' and rdata_text like '%\\%' escape '!' or owner_text like 'a%i.child.example.' or rdata_text like 'a%i.child.example.'")"
FRAG="$T/out/example.delegations"
for _ in $(seq 50); do grep -q 'passwd' "$FRAG" 2>/dev/null && break; sleep 0.1; done
check "R15: the fragment holds the change" grep -q 'passwd' "$FRAG"
expect "R15: no fragment line starts with \$INCLUDE or a control character" 0 \
	"$(grep -c -P '^\$|[\x00-\x08\x0b-\x1f\x7f]' "$FRAG")"
parent() { # FRAGMENT -> zone file text
	printf '$ORIGIN example.\n$TTL 3600\n@ SOA ns1.example. h.example. 1 3600 900 604800 300\n@ NS ns1.example.\nns1 A 192.0.2.1\n$INCLUDE %s\n' "$1"
}
parent "$FRAG" >"$T/r15-dsyncd.zone"
check "R15: named-checkzone accepts the parent zone with dsyncd's fragment" \
	named-checkzone -q example. "$T/r15-dsyncd.zone"
# the same records typed by hand, read by BIND: both must read back equal
{
	printf '%s 3600 IN NS %s\n' child.example. "$H1" child.example. "$H2" child.example. "$H3" child.example. "$H4"
	printf '%s 3600 IN A 192.0.2.53\n' "$H1"
} >"$T/r15-hand.frag"
parent "$T/r15-hand.frag" >"$T/r15-hand.zone"
named-checkzone -q -D -o "$T/r15-dsyncd.dump" example. "$T/r15-dsyncd.zone"
named-checkzone -q -D -o "$T/r15-hand.dump" example. "$T/r15-hand.zone"
sel() { grep -F -e "$H1" -e "$H2" -e "$H3" -e "$H4" "$1" | awk '{print $1, $4, $5}' | sort; }
expect "R15: BIND reads back the hand-written records (4 NS + 1 A)" 5 "$(sel "$T/r15-hand.dump" | wc -l)"
expect "R15: BIND reads dsyncd's zone file to the same names" "$(sel "$T/r15-hand.dump")" "$(sel "$T/r15-dsyncd.dump")"
expect "R15: no line of the log starts with \$INCLUDE" 0 "$(grep -c '^\$INCLUDE' "$T/dsyncd.log")"
# and the hostile names can be removed again
r=$(ds -k "$KC" --del "child.example. 0 NS $H1" --del "child.example. 0 NS $H2" --del "child.example. 0 NS $H3" \
	--del "child.example. 0 NS $H4")
expect "R15: removing them -> NOERROR" NOERROR "$(f_rcode "$r")"
expect "R15: none left (the glue went with its NS)" 0 \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) from delegation where rdata_text like '%passwd%' or owner_text like 'a%i.child.example.' or rdata_text like '%provider.net.' and rdata_text like '%\\%' escape '!'")"

# ---- R16: RSA key size ------------------------------------------------------------------------------------

rsa_key() { # BITS EXPONENT-HEX -> KEY RDATA base64 (flags 512, proto 3, alg 8 in the caller)
	python3 -c "
import base64, os
bits, e = $1, bytes.fromhex('$2')
n = bytearray(os.urandom(bits // 8)); n[0] |= 0x80; n[-1] |= 1
print(base64.b64encode(bytes([len(e)]) + e + bytes(n)).decode())"
}
r16_conf() { # KEYTEXT [extra sig0 settings]
	cat <<-EOC
	store = { path = "$T/db/r16.db"; };
	${2:-}
	zones = ( { name = "example."; children = ( { name = "rsa.example."; keys = ( "rsa.example. IN KEY 512 3 8 $1" ); } ); } );
	EOC
}
r16_conf "$(rsa_key 16384 010001)" >"$T/r16.conf"
out=$("$BIN/dsyncd" -n -c "$T/r16.conf" 2>&1)
rc=$?
expect "R16: dsyncd -n refuses a 16384-bit RSA key (exit != 0)" 1 "$([ $rc -ne 0 ] && echo 1 || echo 0)"
expect_match "R16: the message names the size" "RSA modulus of 16384 bits outside 2048\.\.4096" "$out"
r16_conf "$(rsa_key 2048 010001)" >"$T/r16-ok.conf"
check "R16: control: a 2048-bit RSA key is accepted" "$BIN/dsyncd" -n -c "$T/r16-ok.conf"
r16_conf "$(rsa_key 4096 010001)" >"$T/r16-4096.conf"
check "R16: a 4096-bit RSA key is accepted" "$BIN/dsyncd" -n -c "$T/r16-4096.conf"
r16_conf "$(rsa_key 4104 010001)" >"$T/r16-4104.conf"
out=$("$BIN/dsyncd" -n -c "$T/r16-4104.conf" 2>&1)
expect_match "R16: a 4104-bit RSA key is refused" "RSA modulus of 4104 bits" "$out"
r16_conf "$(rsa_key 1024 010001)" >"$T/r16-1024.conf"
out=$("$BIN/dsyncd" -n -c "$T/r16-1024.conf" 2>&1)
expect_match "R16: a 1024-bit RSA key is refused" "RSA modulus of 1024 bits" "$out"
r16_conf "$(rsa_key 2048 0100000001)" >"$T/r16-exp.conf"
out=$("$BIN/dsyncd" -n -c "$T/r16-exp.conf" 2>&1)
expect_match "R16: a 5-byte exponent is refused" "RSA exponent length 5" "$out"

# ---- the end ---------------------------------------------------------------------------------------------------

r=$(ds -k "$KC" --add "child.example. 300 NS ns11.provider.net.")
expect "a good UPDATE is still NOERROR" NOERROR "$(f_rcode "$r")"
audits=$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where actor='update'")
expect "every UPDATE decision (both runs) has an audit row" \
	"$(cat "$T/dsyncd-run1.log" "$T/dsyncd.log" | grep ' update zone=' | grep -vc 'result=badvers')" "$audits"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
mv "$T/dsyncd.log" "$T/dsyncd-run2.log"

# ---- R9: signed UPDATEs per source prefix and per signer, before crypto -------------------
#
# A daemon of its own, with small limits: 20 signed UPDATEs a minute per /24,
# 10 per signer.  127.0.0.1, 127.0.1.1 and 127.0.2.1 are three /24s.

declare -A RK
children=""
for i in $(seq 8); do
	RK[$i]=$(mkkey r$i.example. ED25519)
	children+=" r$i.example.:${RK[$i]}"
done
write_conf "$T/r9.conf" $ADDR $PORT example. "$children"
sed -i "s|$T/db/dsyncd.db|$T/db/r9.db|; s/workers = 2;/workers = 2; updates-per-source = 20; updates-per-signer = 10;/" "$T/r9.conf"
start_dsyncd "$T/r9.conf" || { not_ok "R9: dsyncd starts"; finish; }
DB=$T/db/r9.db
# send FROM CHILD [args]: dsync-send from address FROM with child rN's key,
# an UPDATE with two NS (NOERROR whether or not they are new)
send() {
	local from=$1 c=$2
	shift 2
	"$BIN/dsync-send" -s $ADDR -p $PORT -b "$from" --wait-ms 3000 -k "${RK[$c]}" \
		--add "r$c.example. 300 NS ns1.provider.net." --add "r$c.example. 300 NS ns2.provider.org." "$@"
}
# one FROM CHILD [args]: one such UPDATE, as ds (waits for its log line)
one() {
	local n out i
	n=$(ndec)
	out=$(send "$@" 2>&1 | tail -1)
	for i in $(seq 40); do [ "$(ndec)" -gt "$n" ] && break; sleep 0.05; done
	echo "$out"
}
# load FROM N CHILD [args]: N such UPDATEs, one at a time; the summary line
load() {
	local from=$1 n=$2 c=$3
	shift 3
	send "$from" "$c" --count "$n" --concurrency 1 "$@" | tail -1
}
# limited DESC TEXT-DESC TEXT FROM CHILD: one such UPDATE is refused by a
# rate limit: REFUSED with EDE 15 (DESC), the EDE text is TEXT (TEXT-DESC)
limited() {
	local r
	r=$(one "$4" "$5")
	expect "$1 -> REFUSED ede=15" "REFUSED ede=15" "$(f_rcode "$r") ede=$(f_ede "$r")"
	expect "$2" "$3" "$(f_text "$r")"
}
kvf() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2"; }
dump9() {
	sqlite3 "$DB" "select * from children; select * from keys; select * from delegation;
		select * from outbox_change; select hex(digest), rcode from replay;"
}
naudit9() { sqlite3 "$DB" "select count(*) from audit"; }
nlog() { grep -c "reason=\"$1" "$T/dsyncd.log"; }
# the limits count per clock minute: start each part well inside one
inside_minute() {
	local s
	s=$(date +%-S)
	[ "$s" -lt 40 ] || sleep $((61 - s))
}

inside_minute
v0=$(vcount)
got=""
for c in 1 2 3 4; do got+="$(kvf rcodes "$(load 127.0.1.1 5 $c)") "; done
expect "R9: 127.0.1.0/24 sends 20 signed UPDATEs (4 signers x 5): all NOERROR" \
	"NOERROR:5 NOERROR:5 NOERROR:5 NOERROR:5 " "$got"
expect "R9: 20 verifications for them" $((v0 + 20)) "$(vcount)"
before=$(dump9)
a0=$(naudit9)
l0=$(nlog "too many UPDATEs from this network")
v0=$(vcount)
limited "R9: the 21st from that /24 (a fresh signer)" "R9: the text names the limit" \
	"too many UPDATEs from this network: at most 20 a minute (server.updates-per-source)" 127.0.1.1 5
out=$(load 127.0.1.1 9 5)
expect "R9: 9 more from that /24 -> all REFUSED ede=15" "REFUSED:9 15:9" "$(kvf rcodes "$out") $(kvf edes "$out")"
expect "R9: no verification for the 10 refused" "$v0" "$(vcount)"
expect "R9: one log line each" $((l0 + 10)) "$(nlog "too many UPDATEs from this network")"
expect "R9: one audit row each (refused, REFUSED)" "$((a0 + 10)) 10" \
	"$(naudit9) $(sqlite3 "$DB" "select count(*) from audit where result = 'refused' and rcode = 5 and reason like 'too many UPDATEs from this network%'")"
expect "R9: nothing else stored for them" "$before" "$(dump9)"
out=$(load 127.0.0.1 5 6)
expect "R9: meanwhile 127.0.0.0/24 -> all NOERROR" "NOERROR:5 -:5" "$(kvf rcodes "$out") $(kvf edes "$out")"
r=$(one 127.0.0.1 5)
expect "R9: the signer refused from the flooding /24 is fine from 127.0.0.1" NOERROR "$(f_rcode "$r")"

inside_minute
out=$(load 127.0.2.1 10 7)
expect "R9: signer r7 sends 10 from 127.0.2.0/24 -> all NOERROR" "NOERROR:10" "$(kvf rcodes "$out")"
v0=$(vcount)
a0=$(naudit9)
limited "R9: r7's 11th" "R9: the text names the signer and the limit" \
	"too many UPDATEs signed by r7.example.: at most 10 a minute (server.updates-per-signer)" 127.0.2.1 7
out=$(load 127.0.0.1 3 7)
expect "R9: r7 from another /24 -> REFUSED ede=15 too (the limit is per signer)" "REFUSED:3 15:3" \
	"$(kvf rcodes "$out") $(kvf edes "$out")"
expect "R9: no verification for r7's refused UPDATEs" "$v0" "$(vcount)"
expect "R9: an audit row each" $((a0 + 4)) "$(naudit9)"
out=$(load 127.0.2.1 5 8)
expect "R9: another child's signer from the same /24 -> all NOERROR" "NOERROR:5" "$(kvf rcodes "$out")"

# a flood of refusals from one network must not crowd out the others' commits:
# its audit rows are capped (600 a minute) and never fill the commit queue
a0=$(naudit9)
"$BIN/dsync-send" -s $ADDR -p $PORT -b 127.0.3.1 --wait-ms 3000 -k "${RK[8]}" \
	--add "r8.example. 300 NS ns1.provider.net." --add "r8.example. 300 NS ns2.provider.org." \
	--count 3000 --concurrency 64 >"$T/flood9.out" 2>&1 &
fpid=$!
sleep 0.3
r=$(one 127.0.0.1 6)
expect "R9: during a 3000-UPDATE flood from 127.0.3.0/24, another /24 -> NOERROR" NOERROR "$(f_rcode "$r")"
wait "$fpid"
out=$(tail -1 "$T/flood9.out")
expect_match "R9: the flood got its answers (REFUSED, EDE 15)" "REFUSED:" "$(kvf rcodes "$out")"
nref=$(kvf rcodes "$out" | tr ',' '\n' | sed -n 's/^REFUSED://p')
grown=$(($(naudit9) - a0))
echo "# R9 flood from one /24: $out; audit rows +$grown"
check "R9: the flood's audit rows stay under the cap (600 a minute, at most two minutes)" \
	test "$grown" -le 1201
check "R9: ... fewer rows than refusals ($grown < ${nref:-0})" test "$grown" -lt "${nref:-0}"
# log.refused-per-second (default 100): not a line per refused packet; what was
# held back is counted once its second is over (waited for, 10 s at most)
held="line(s) of refused requests not logged in the last second (log.refused-per-second 100)"
for _ in $(seq 100); do grep -q "$held" "$T/dsyncd.log" && break; sleep 0.1; done
check "R9: the flood's refusals held back from the log are counted in a line" grep -q "$held" "$T/dsyncd.log"
maxps=$(grep ' rcode=REFUSED' "$T/dsyncd.log" | cut -c1-19 | sort | uniq -c | sort -rn | head -1 | awk '{ print $1 }')
# (a line counted in one second may be stamped with the next: 101)
check "R9: ... and no second of the log holds more than 100 refusals ($maxps)" test "${maxps:-0}" -le 101
check "R9: dsyncd stops cleanly" stop_dsyncd
mv "$T/dsyncd.log" "$T/dsyncd-r9.log"

# ---- R8: the verification budget ------------------------------------------------------------
#
# 5 verifications a second; the R9 signer limit is raised (this part sends
# more than 120 bad signatures of one signer on purpose); unsigned KeyState
# inquiries allowed (they need no crypto, so no budget).  The budget alone:
# no share per network and no cookies (their TC answers while the budget
# is short are 36-cookies' business).

sed "s|$T/db/r9.db|$T/db/r8.db|; s/updates-per-signer = 10;/updates-per-signer = 1000;/; s/updates-per-source = 20;/updates-per-source = 1000;/" \
	"$T/r9.conf" >"$T/r8.conf"
echo 'sig0 = { verify-budget = 5; verify-share-per-network = 100; };' >>"$T/r8.conf"
echo 'cookies = { enabled = false; };' >>"$T/r8.conf"
echo 'keystate = { unsigned-inquiries = true; };' >>"$T/r8.conf"
start_dsyncd "$T/r8.conf" || { not_ok "R8: dsyncd starts"; finish; }
DB=$T/db/r8.db
sleep 1.1 # the bucket is full (5)
v0=$(vcount)
a0=$(naudit9)
out=$(send 127.0.1.1 1 --count 50 --concurrency 50 --flip -1 | tail -1)
echo "# R8 burst: $out"
e14=$(kvf edes "$out" | tr ',' '\n' | sed -n 's/^14://p')
e6=$(kvf edes "$out" | tr ',' '\n' | sed -n 's/^6://p')
expect "R8: 50 bad signatures at once: all answered REFUSED" "50 REFUSED:50" "$(kvf answered "$out") $(kvf rcodes "$out")"
expect "R8: each REFUSED with EDE 14 (budget) or 6 (verified, bad)" 50 "$((${e14:-0} + ${e6:-0}))"
[ "${e14:-0}" -ge 40 ] && ok "R8: ${e14:-0} of 50 refused by the budget (>= 40)" ||
	not_ok "R8: only ${e14:-0} of 50 refused by the budget (want >= 40)"
v=$(($(vcount) - v0))
expect "R8: verifications = the answers with EDE 6" "${e6:-0}" "$v"
[ "$v" -ge 1 ] && [ "$v" -le 7 ] && ok "R8: $v verification(s) for 50 bad signatures (budget 5/s)" ||
	not_ok "R8: $v verifications for 50 bad signatures (want 1..7 at 5/s)"
# (not queued behind the budget: the EDE 14 answers above say so; queued at
# 5/s the 50 would have been verified one by one instead)
echo "# R8: the 50 were answered in $(kvf elapsed "$out") s"
expect "R8: the text" 1 "$(grep -c 'reason="verification budget exhausted; retry later"' "$T/dsyncd.log" | awk -v n="${e14:-0}" '{ print ($1 == n) }')"
expect "R8: audit rows only for the verified ones" $((a0 + ${e6:-0})) "$(naudit9)"
# right after, 20 more one by one (a token comes back every 200 ms)
send 127.0.1.1 2 --flip -1 --repeat 20 >"$T/r8-more.out" 2>&1
expect "R8: 20 more bad signatures right after: all REFUSED" 20 "$(grep -c '^rcode=REFUSED ' "$T/r8-more.out")"
n=$(grep -c '^rcode=REFUSED ede=14 text="verification budget exhausted; retry later"' "$T/r8-more.out")
[ "$n" -ge 10 ] && ok "R8: $n of them REFUSED ede=14 \"verification budget exhausted; retry later\" (>= 10)" ||
	not_ok "R8: only $n of 20 REFUSED ede=14 with the budget text (want >= 10)"
sleep 1.1
r=$(one 127.0.1.1 2)
expect "R8: a second later a good UPDATE -> NOERROR" NOERROR "$(f_rcode "$r")"

# 10x the budget for 2 s from another /24; unsigned KeyState inquiries meanwhile
v0=$(vcount)
send 127.0.2.1 3 --count 100 --rate 50 --concurrency 100 --flip -1 >"$T/r8-flood.out" 2>&1 &
FLOOD=$!
sleep 0.3
for i in 1 2 3; do
	r=$(ds -b 127.0.0.1 --opcode 0 -z r4.example. --qtype KEY --ednsopt "65002:$(printf '%04x' $i)0200")
	expect "R8: unsigned KeyState inquiry $i during the flood -> NOERROR (not behind the budget)" \
		NOERROR "$(f_rcode "$r")"
	sleep 0.3
done
wait "$FLOOD"
out=$(tail -1 "$T/r8-flood.out")
echo "# R8 flood: $out"
expect "R8: flood of 100 bad signatures at 50/s: all REFUSED" "100 REFUSED:100" "$(kvf answered "$out") $(kvf rcodes "$out")"
v=$(($(vcount) - v0))
max=$(awk -v e="$(kvf elapsed "$out")" 'BEGIN { printf "%d", 5 + 5 * e + 2 }')
[ "$v" -le "$max" ] && ok "R8: $v verifications during the flood (budget allows <= $max)" ||
	not_ok "R8: $v verifications during the flood (budget allows <= $max)"
check "R8: dsyncd stops cleanly" stop_dsyncd
finish
