#!/usr/bin/env bash
# The catalogue of bad input: every kind of wrong UPDATE (keys, signatures,
# times, replays, tampering, scope, policy, prerequisites, malformed wire
# data, other opcodes, TCP framing) gets its RCODE, EDE code and text
# checked, and the store must not change.  Afterwards a good UPDATE still
# works, the store holds only the good changes and every UPDATE decision
# has an audit row.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.4
PORT=5354

# ---- helpers (local to this file) --------------------------------------------

. "$(dirname "$0")/lib-send.sh"

# ---- setup ------------------------------------------------------------------------

KC=$(mkkey child.example. ED25519) || { not_ok "keygen"; finish; }
KUNK=$(mkkey child.example. ED25519 2>/dev/null) # same name, never configured
KAB=$(mkkey ab.example. ED25519)
KCAB=$(mkkey cab.example. ED25519)
KO=$(mkkey other.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. \
	"child.example.:$KC ab.example.:$KAB cab.example.:$KCAB other.example.:$KO"
# key changes by UPDATE off here: a KEY add is then one more refusal to check
sed -i 's/^zones = ( { name = "example.";/& key-rollover = false;/' "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

r=$(ds -k "$KC" --add "child.example. 300 NS ns1.child.example." \
	--add "ns1.child.example. 300 A 192.0.2.1" --add "child.example. 300 NS ns2.provider.net.")
expect "initial delegation of child.example. -> NOERROR" NOERROR "$(f_rcode "$r")"
for c in ab cab; do
	k=$KAB
	[ $c = cab ] && k=$KCAB
	r=$(ds -k "$k" --add "$c.example. 300 NS ns1.provider.net." --add "$c.example. 300 NS ns2.provider.net.")
	expect "initial delegation of $c.example. -> NOERROR" NOERROR "$(f_rcode "$r")"
done
GOOD0=$(deleg_dump)
NS3="child.example. 300 NS ns3.provider.net."

# ---- keys and signers -----------------------------------------------------------------

bad "unknown key (OPT)" BADKEY 513 "is not known here" -k "$KUNK" --add "$NS3"
bad "unknown key (no OPT)" NOTAUTH - "is not known here" -k "$KUNK" --no-edns --add "$NS3"
bad "other.example.'s key changes child.example." REFUSED 18 "outside the signer's delegation other\.example\." \
	-k "$KO" --add "$NS3"
bad "ab.example.'s key changes cab.example. NS" REFUSED 18 "outside the signer's delegation ab\.example\." \
	-k "$KAB" --add "cab.example. 300 NS ns9.provider.net."
bad "cab.example.'s key changes ab.example. NS" REFUSED 18 "outside the signer's delegation cab\.example\." \
	-k "$KCAB" --add "ab.example. 300 NS ns9.provider.net."
bad "cab.example.'s key deletes ab.example. NS" REFUSED 18 "outside the signer's delegation" \
	-k "$KCAB" --del "ab.example. 0 NS ns1.provider.net."

# ---- signature times ----------------------------------------------------------------------

bad "expired signature (OPT)" REFUSED 7 "expired" -k "$KC" --inception-offset -1000 --expiration-offset -600 --add "$NS3"
bad "expired signature (no OPT)" NOTAUTH - "expired" -k "$KC" --no-edns --inception-offset -1000 --expiration-offset -600 --add "$NS3"
bad "signature from the future" REFUSED 8 "in the future" -k "$KC" --inception-offset 600 --expiration-offset 900 --add "$NS3"
bad "over-long validity (-60/+3000)" REFUSED 0 "max-validity" -k "$KC" --inception-offset -60 --expiration-offset 3000 --add "$NS3"
bad "over-long validity (no OPT)" NOTAUTH - "max-validity" -k "$KC" --no-edns --inception-offset -60 --expiration-offset 3000 --add "$NS3"

# ---- replay -------------------------------------------------------------------------------

n0=$(nout)
r=$(ds -k "$KC" --save "$T/replay.bin" --add "$NS3")
expect "replay: the original UPDATE -> NOERROR" NOERROR "$(f_rcode "$r")"
after_first=$(state_dump)
for i in 1 2; do
	r=$(ds --raw-file "$T/replay.bin")
	expect "replay $i: original RCODE" NOERROR "$(f_rcode "$r")"
	expect_match "replay $i: text says replayed" "replayed" "$(f_text "$r")"
done
expect "replay: applied once (one outbox change)" $((n0 + 1)) "$(nout)"
expect "replay: store as after the first" "$after_first" "$(state_dump)"
expect "replay: one ns3 NS record" 1 "$(deleg_dump | grep -c 'ns3.provider.net')"
# a refused message replayed gets its original REFUSED
r=$(ds -k "$KC" --save "$T/replay2.bin" --add "www.child.example. 300 TXT hello")
expect "replay of a refused UPDATE: first -> REFUSED" REFUSED "$(f_rcode "$r")"
bad "replay of a refused UPDATE: again" REFUSED 0 "replayed" --raw-file "$T/replay2.bin"
# the same bytes over TCP are a replay too
bad "replay over TCP" NOERROR 0 "replayed" -t --raw-file "$T/replay.bin"

# ---- one flipped byte ---------------------------------------------------------------------------
# layout of the messages below: header 12, zone entry 13 (example. SOA IN),
# update RR: owner child.example. (15) + 10, RDATA at offset 50; then OPT (11)
# and the SIG(0) last (ED25519: the signature is its last 64 bytes)
FLIPARGS=(-k "$KC" --add "child.example. 300 NS ns4.provider.net.")
for pos in 0 1 3 51 53 60 -1 -30 -64; do
	bad "byte $pos flipped (OPT)" REFUSED 6 "does not verify" "${FLIPARGS[@]}" --flip $pos
done
bad "byte 53 flipped (no OPT)" NOTAUTH - "does not verify" -k "$KC" --no-edns --add "child.example. 300 NS ns4.provider.net." --flip 53
# flips that may break parsing: FORMERR or a bad signature, nothing else
for pos in 5 7 9 11 12 20 25 38 48 50 -70 -77 -80; do
	before=$(state_dump)
	r=$(ds "${FLIPARGS[@]}" --flip $pos)
	expect_match "byte $pos flipped -> FORMERR, REFUSED/6, NOTAUTH or BADKEY" \
		"^(FORMERR ede=(0|-)|REFUSED ede=6|REFUSED ede=18|NOTAUTH ede=(-|20)|BADKEY ede=513|REFUSED ede=(0|7|8|1))$" \
		"$(f_rcode "$r") ede=$(f_ede "$r")"
	expect "byte $pos flipped: store unchanged" "$before" "$(state_dump)"
done

# ---- unsigned, TSIG -------------------------------------------------------------------------------

bad "unsigned UPDATE" REFUSED 18 "not signed" -z example. --add "$NS3"
bad "unsigned UPDATE (no OPT)" REFUSED - "not signed" -z example. --no-edns --add "$NS3"
bad "TSIG-signed UPDATE" REFUSED 18 "TSIG" -z example. --tsig "child.example.:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0" --add "$NS3"
bad "SIG(0) + TSIG" FORMERR 0 "both SIG\(0\) and TSIG" -k "$KC" --tsig "child.example.:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0" --add "$NS3"
# an OPT after the SIG(0): FORMERR before any crypto, and since the OPT can
# still be found, the answer carries the EDE that says why
ds -k "$KC" --no-edns --save "$T/sig0-first.bin" --add "www.child.example. 300 TXT refused" >/dev/null
python3 -c "
import sys
b = bytearray(open('$T/sig0-first.bin', 'rb').read())
b[11] += 1  # ARCOUNT
b += bytes.fromhex('0000290400000000000000')  # OPT, UDP size 1024
open('$T/sig0-then-opt.bin', 'wb').write(b)"
bad "SIG(0) before the OPT (EDE in the FORMERR)" FORMERR 0 "SIG\(0\) is not at the end" --raw-file "$T/sig0-then-opt.bin"

# ---- scope and policy -------------------------------------------------------------------------------

bad "two children in one UPDATE" REFUSED 18 "outside the signer's delegation" \
	-k "$KC" --add "$NS3" --add "ab.example. 300 NS ns9.provider.net."
bad "a name outside the zone" NOTZONE 0 "outside zone example\." -k "$KC" --add "child.other. 300 NS ns1.provider.net."
bad "deleting every NS" REFUSED 18 "minimum is 2" -k "$KC" --del-rrset "child.example. NS"
bad "glue for a name outside the child" REFUSED 18 "outside the signer's delegation" \
	-k "$KC" --add "ns1.ab.example. 300 A 192.0.2.9"
bad "glue for a name below the child that is no NS target" REFUSED 18 "only at NS targets" \
	-k "$KC" --add "x.child.example. 300 A 192.0.2.7"
bad "an in-child NS target without glue" REFUSED 18 "needs glue" \
	-k "$KC" --add "child.example. 300 NS ns5.child.example."
bad "DS with a wrong digest length" REFUSED 18 "digest length" \
	-k "$KC" --add "child.example. 300 DS 12345 13 2 AABBCCDD"
bad "DS with an unsupported digest type (1)" REFUSED 2 "digest type" \
	-k "$KC" --add "child.example. 300 DS 12345 13 1 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B"
bad "DS with an unsupported algorithm (5)" REFUSED 1 "DS algorithm" \
	-k "$KC" --add "child.example. 300 DS 12345 5 2 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4"
bad "TXT below the child" REFUSED 18 "not delegation data" -k "$KC" --add "www.child.example. 300 TXT hello"
bad "SOA at the apex" REFUSED 18 "outside the signer's delegation" \
	-k "$KC" --add "example. 300 SOA ns1.example. h.example. 1 2 3 4 5"
bad "ANY ANY at the child" REFUSED 18 "would remove the delegation" -k "$KC" --del-name child.example.
bad "another KEY at the child (key-rollover = false)" REFUSED 18 "KEY changes" \
	-k "$KC" --add "$(sed -n '/ KEY /p' "$KUNK.key" | head -1)"
before=$(state_dump)
out=$(ds -k "$KC" --add "$(sed -n '/ KEY /p' "$KC.key" | head -1)")
expect "the trusted key uploading itself again -> NOERROR" NOERROR "$(f_rcode "$out")"
expect "and nothing changes" "$before" "$(state_dump)"

# ---- prerequisites --------------------------------------------------------------------------------------

UPD=(-k "$KC" --add "child.example. 300 NS ns6.provider.net.")
bad "prereq name in use, on an unused name" NXDOMAIN 0 "name is not in use" "${UPD[@]}" --prereq-yxdomain nothing.child.example.
bad "prereq name not in use, on a used name" YXDOMAIN 0 "name is in use" "${UPD[@]}" --prereq-nxdomain child.example.
bad "prereq RRset exists, on an absent RRset" NXRRSET 0 "does not exist" "${UPD[@]}" --prereq-exists "child.example. DS"
bad "prereq RRset does not exist, on a present one" YXRRSET 0 "RRset exists" "${UPD[@]}" --prereq-nxrrset "child.example. NS"
bad "prereq value-dependent mismatch" NXRRSET 0 "RRset differs" "${UPD[@]}" --prereq-value "child.example. 0 NS ns1.nowhere."
bad "prereq on a sibling" REFUSED 18 "holds only the delegation" "${UPD[@]}" --prereq-yxdomain ab.example.
bad "prereq outside the zone" NOTZONE 0 "outside zone" "${UPD[@]}" --prereq-yxdomain child.other.
# prerequisite with TTL != 0: dsync-send always writes 0, so build and sign here
py "out('$T/pttl.bin', sign(msg(prereq=[rr('child.example.', 2, 1, 300, wname('ns2.provider.net.'))],
	update=[rr('child.example.', 2, 1, 300, wname('ns6.provider.net.'))], add=[opt()]), '$KC'))"
bad "prereq with TTL != 0" FORMERR 0 "TTL must be 0" --raw-file "$T/pttl.bin"
# the same signer accepts a correct message built the same way (the builder is right)
py "out('$T/pok.bin', sign(msg(prereq=[rr('child.example.', 2, 1, 0, wname('ns2.provider.net.'))],
	update=[rr('child.example.', 2, 254, 0, wname('ns9.provider.net.'))], add=[opt()]), '$KC'))"
r=$(ds --raw-file "$T/pok.bin")
expect_match "python-signed control message is verified (prereq mismatch -> NXRRSET)" "^NXRRSET" "$(f_rcode "$r")"

# ---- zone section --------------------------------------------------------------------------------------------

py "out('$T/z2.bin', sign(msg(zone=[zone_entry(), zone_entry()], update=[rr('child.example.', 2, 1, 300, wname('ns6.provider.net.'))], add=[opt()]), '$KC'))"
bad "zone section with two entries" FORMERR 0 "exactly one SOA" --raw-file "$T/z2.bin"
bad "zone section of type NS" FORMERR 0 "exactly one SOA" -k "$KC" --qtype NS --add "$NS3"
bad "zone not served" NOTAUTH 20 "not served" -k "$KC" -z other. --add "child.example. 300 NS ns9.provider.net."
bad "zone is a child, not the zone" NOTAUTH 20 "not served" -k "$KC" -z child.example. --add "child.example. 300 NS ns9.provider.net."

# ---- malformed wire data ---------------------------------------------------------------------------------

before=$(state_dump)
r=$(ds --wait-ms 500 --raw-hex 1234280000)
expect "5-byte datagram: no answer" "- timeout=1" "$(f_rcode "$r") $(grep -o 'timeout=1' <<<"$r")"
check "daemon alive after a 5-byte datagram" kill -0 "$DSYNCD_PID"
bad "header only, counts larger than the data" FORMERR - "larger than the data" --raw-hex 123428000001000000000000
bad "header only, all counts 0xffff" FORMERR - "larger than the data" --raw-hex 12342800ffffffffffffffff
# zone entry owner is a pointer to itself
bad "compression pointer to itself" FORMERR - "bad owner name in the zone section" --raw-hex 123428000001000000000000c00c00060001
# two pointers pointing at each other: 12 -> 18 -> 12
bad "two pointers at each other" FORMERR - "bad owner name in the zone section" --raw-hex 123428000001000000000000c01200060001c00c
# a forward pointer to a good name
bad "forward pointer" FORMERR - "bad owner name in the zone section" --raw-hex 123428000001000000000000c01200060001076578616d706c6500
# a label of type 0x40 (extended label)
bad "label type 0x40" FORMERR - "bad owner name in the zone section" --raw-hex 123428000001000000000000416578616d706c650000060001
# label longer than the data
bad "label runs past the end" FORMERR - "bad owner name|runs past the end" --raw-hex 123428000001000000000000076578616d70
# trailing garbage
bad "trailing data" FORMERR - "trailing data" --raw-hex 123428000001000000000000076578616d706c6500000600010000
# RDATA length past the end
py "m = msg(update=[rr('child.example.', 2, 1, 300, wname('ns6.provider.net.'))]); out('$T/rdl.bin', m[:-20] + b'\x00\x40' + m[-18:])"
bad "RDATA length past the end" FORMERR - "runs past the end" --raw-file "$T/rdl.bin"
# more than 256 records: refused before the records are parsed; the OPT is
# still found, so the answer carries the EDE that says why
# (dsync-send takes at most 256 records: built and signed here)
ns_file "$T/257.bin" 256 "$KC"
bad "258 records (256 + OPT + SIG(0))" REFUSED 15 "at most 256" --raw-file "$T/257.bin"
ns_file "$T/300.bin" 299 "$KC"
bad "300 records" REFUSED 15 "at most 256" --raw-file "$T/300.bin"
too_many "65 records (max-update-records 64)" "maximum is 64" "$KC" 65 "child.example. 300 NS n%d.provider.net."
too_many "14 NS records (max-ns 13)" "maximum is 13" "$KC" 14 "child.example. 300 NS n%d.provider.net."

# ---- other opcodes, flags, EDNS -----------------------------------------------------------------------

bad "NOTIFY" NOTIMP 21 "opcode 4" -k "$KC" --opcode 4 --add "$NS3"
bad "IQUERY" NOTIMP 21 "opcode 1" -z example. --opcode 1
bad "opcode 15" NOTIMP 21 "opcode 15" -z example. --opcode 15
bad "QUERY" REFUSED 20 "answers no queries" -z example. --opcode 0
r=$(ds --wait-ms 500 --raw-hex "$(py "import binascii; print(binascii.hexlify(msg(flags=0x8000)).decode())")")
expect_match "QR=1 message: no answer" "^rcode=- .*timeout=1" "$r"
py "out('$T/ev1.bin', sign(msg(update=[rr('child.example.', 2, 1, 300, wname('ns6.provider.net.'))], add=[opt(version=1)]), '$KC'))"
bad "EDNS version 1" BADVERS - "EDNS version 1 not supported" --raw-file "$T/ev1.bin"
py "out('$T/opt2.bin', msg(update=[rr('child.example.', 2, 1, 300, wname('ns6.provider.net.'))], add=[opt(), opt()]))"
bad "two OPT records" FORMERR 0 "more than one OPT" --raw-file "$T/opt2.bin"

# ---- TCP framing ---------------------------------------------------------------------------------------

before=$(state_dump)
r=$(ds -t --frame-len 65535 -k "$KC" --add "$NS3")
expect_match "TCP frame length 65535 (> max-message-size): connection closed" "^rcode=- .*closed=1" "$r"
r=$(ds -t --frame-len 5 -k "$KC" --add "$NS3")
expect_match "TCP frame of 5 bytes: connection closed" "^rcode=- .*closed=1" "$r"
expect "bad TCP frames: store unchanged" "$before" "$(state_dump)"
r=$(ds -t -k "$KC" --add "child.example. 300 NS ns7.provider.net.")
expect "a new TCP connection still works (good UPDATE)" NOERROR "$(f_rcode "$r")"

# ---- after all of it --------------------------------------------------------------------------------

r=$(ds -k "$KC" --del "child.example. 0 NS ns7.provider.net." --add "child.example. 300 NS ns8.provider.net.")
expect "a good UPDATE is still NOERROR" NOERROR "$(f_rcode "$r")"
expect "the store holds exactly the good changes" \
	"$(printf '%s\n' "$GOOD0" "child.example. 2 ns3.provider.net." "child.example. 2 ns8.provider.net." | sort)" \
	"$(deleg_dump)"
audits=$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where actor='update' and result != 'badvers'")
expect "every UPDATE decision has an audit row" "$(grep ' update zone=' "$T/dsyncd.log" | grep -vc 'result=badvers')" "$audits"
expect "the UPDATE answered BADVERS has an audit row too" 1 \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where actor='update' and rcode=16")"
expect "audit rows: one per good change in the outbox" "$(nout)" \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where actor='update' and rcode=0 and reason like 'changed%'")"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
finish
