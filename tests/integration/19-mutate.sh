#!/usr/bin/env bash
# The sanitized daemon under a stream of mutated valid messages, over UDP
# and TCP (tests/tools/mutate.py: flipped bits and bytes, truncation,
# inserted and deleted bytes, section counts, RDLENGTH and other 16-bit
# fields, compression pointers).  The stream is bounded in time and count.
# Passes when the daemon is still alive and serving afterwards, and its log
# holds no AddressSanitizer or UBSan report; the datagram of the audit
# writer's overread (an update record whose RDATA runs past the end) is
# checked by itself first, over UDP and TCP, with its audit row.
# make test runs the stream for 24 s; `make mutate` for ten minutes
# (MUTATE_SECONDS, MUTATE_COUNT).
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.21
PORT=5354
. "$(dirname "$0")/lib-send.sh"
SECONDS_MUTATE=${MUTATE_SECONDS:-24}
COUNT_MUTATE=${MUTATE_COUNT:-100000}

KC=$(mkkey child.example. ED25519) || { not_ok "keygen"; finish; }
KN=$(mkkey newchild.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$KC newchild.example."
# limits out of the way: the stream is one source
cat >>"$T/dsyncd.conf" <<CONF
keystate = { unsigned-inquiries = true; inquiries-per-source = 1000000; };
bootstrap = { uploads-per-source = 1000000; uploads-per-child = 100000; };
CONF
sed -i 's/^server = {/server = { updates-per-source = 100000000; updates-per-signer = 100000000;/' \
	"$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

# ---- the overread datagram and its unknown-type twin ------------------------
OVERREAD=278228000001000000010001076578616d706c650000060001026331c00c0002000100000e100013036e733109656c7365776865
UNKNOWN=${OVERREAD:0:60}ff${OVERREAD:62}
for tr in udp tcp; do
	t=
	[ $tr = tcp ] && t=-t
	for v in ns unknown; do
		hex=$OVERREAD
		[ $v = unknown ] && hex=$UNKNOWN
		bad "overread datagram ($v type, $tr)" FORMERR - "update section runs past the end" \
			$t --raw-hex "$hex"
		row=$(sqlite3 "$T/db/dsyncd.db" "select result || '|' || request from audit order by id desc limit 1")
		expect "overread datagram ($v type, $tr): audit row describes only the size and counts" \
			"formerr|malformed message of 52 bytes (header counts 1/0/1/1, 1 record(s) read whole)" "$row"
	done
done

# ---- seeds: valid messages of every kind ---------------------------------------
mkdir -p "$T/seeds"
s=0
seed() { s=$((s + 1)); ds --save "$T/seeds/$s" "$@" >/dev/null; }
seed -k "$KC" --add "child.example. 300 NS ns1.child.example." --add "ns1.child.example. 300 A 192.0.2.1" \
	--add "ns1.child.example. 300 AAAA 2001:db8::1" --add "child.example. 300 NS ns2.provider.net."
seed -k "$KC" --add "child.example. 300 DS 12345 15 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
seed -k "$KC" --prereq-exists "child.example. NS" --prereq-nxdomain "x.child.example." \
	--prereq-value "child.example. 300 NS ns2.provider.net." --del "child.example. 0 NS ns2.provider.net." \
	--add "child.example. 300 NS ns3.provider.net."
seed -k "$KC" --del-rrset "child.example. DS" --del-name "ns9.child.example." --no-edns
seed -k "$KC" -t --add "child.example. 300 NS ns4.provider.net."
seed -k "$KC" --opcode 0 -z child.example. --qtype KEY --ednsopt "65002:00000200"
seed --opcode 0 -z newchild.example. --qtype KEY --ednsopt "65002:00000200"
seed -z example. --add "child.example. 300 NS ns5.provider.net."
seed -z example. --tsig "child.example.:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0" --add "child.example. 300 NS ns6.provider.net."
python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex('$OVERREAD'))" >"$T/seeds/overread"
r=$({ echo "zone example."; echo "update add $(keyrr "$KN")"; } | nsu "$KN" $ADDR $PORT)
expect "a self-signed key upload (not a seed: nsupdate sends it) -> NOERROR" NOERROR "$r"
expect "seed messages saved" 10 "$(ls "$T/seeds" | wc -l)"

# ---- the stream -------------------------------------------------------------------
out=$(python3 "$TOP/tests/tools/mutate.py" --server $ADDR --port $PORT \
	--seconds "$SECONDS_MUTATE" --count "$COUNT_MUTATE" --rate 1500 "$T/seeds" 2>>"$T/check.log")
echo "# $out"
expect_match "mutated messages sent over UDP and TCP" "^sent=[0-9]+ udp=[1-9][0-9]* tcp=[1-9][0-9]* " "$out"
answers=$(sed -n 's/.* answers=\([0-9]*\).*/\1/p' <<<"$out")
check "the daemon answered mutated messages ($answers)" test "${answers:-0}" -gt 100
check "dsyncd is alive after the stream" kill -0 "$DSYNCD_PID"
check "no sanitizer report in the log" bash -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$T/dsyncd.log'"
r=$(ds -k "$KC" --add "child.example. 300 NS ns7.provider.net.")
expect "a good UPDATE after the stream -> NOERROR" NOERROR "$(f_rcode "$r")"
check "dsyncd stops cleanly (no sanitizer report, no leak)" stop_dsyncd
finish
