#!/usr/bin/env bash
# DNS Cookies (RFC 7873, server cookies of RFC 9018) and the verification
# budget when it runs short: every answer to a client cookie carries our
# server cookie (kdig, dig, dsync-send); one sent back is valid and kept; a
# bad one is treated as none; a COOKIE option of a wrong length is
# FORMERR.  Then, during a flood of forged signatures without cookies from
# another /24 (sig0.verify-budget 20 a second, the flood 300 a second): the flood's UDP requests get
# TC=1 (no verification) once the budget is short, and so does a request
# without a valid cookie (REFUSED, so that a client blind to TC sees no
# success); a request with its learned cookie, any request over TCP,
# nsupdate -v and dsync-agent (TC, then TCP) are answered NOERROR;
# nsupdate over UDP (no cookies, no TCP retry on TC) is refused, never
# falsely successful; dsync-agent sends back the server cookie it learned.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.60
PORT=5354
need kdig dig nsupdate
. "$(dirname "$0")/lib-send.sh"
AG=$BIN/dsync-agent

# kv NAME LINE: the value of NAME=... in a summary line
kv() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
# n_rcode NAME SUMMARY: how many answers had that RCODE (TC: truncated)
n_rcode() {
	local n
	n=$(kv rcodes "$2" | tr ',' '\n' | sed -n "s/^$1:\([0-9]*\)$/\1/p")
	echo "${n:-0}"
}
# opt10 LINE: the COOKIE option of a dsync-send answer line (hex)
opt10() { sed -n 's/.* opt10=\([0-9a-f]*\).*/\1/p' <<<"$1"; }
# upd ARGS...: a signed change of child.example. (no change after the first)
upd() { ds -k "$KC" --add "child.example. 3600 NS ns1.provider.net." --add "child.example. 3600 NS ns2.provider.net." "$@"; }

KC=$(mkkey child.example. ED25519) || { not_ok "keygen"; finish; }
KB=$(mkkey boot.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$KC boot.example.:" \
	"  backends = ( { type = \"null\"; } );
  bootstrap-methods = [ \"manual\" ];"
cat >>"$T/dsyncd.conf" <<EOF
sig0 = { verify-budget = 20; verify-share-per-network = 100; };
server = { updates-per-signer = 100000; updates-per-source = 100000; };
keystate = { inquiries-per-source = 1000; };
receiver = { name = "updater.example."; key-directory = "$T/rkeys"; };
EOF
# one server group: merge the second into the first
python3 - "$T/dsyncd.conf" <<'EOF'
import re, sys
p = sys.argv[1]
s = open(p).read()
extra = re.search(r'\nserver = \{ (updates-per-signer[^}]*)\};\n', s)
s = s.replace(extra.group(0), '\n')
s = s.replace('workers = 2; };', 'workers = 2; ' + extra.group(1) + '};', 1)
open(p, 'w').write(s)
EOF
check "the configuration passes the check (-n)" "$BIN/dsyncd" -n -c "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
RK=$(ls "$T"/rkeys/*.key)

# ---- cookies without a flood ----------------------------------------------------

out=$(kdig @$ADDR -p $PORT +cookie +timeout=2 +retry=0 example. SOA 2>&1)
expect_match "kdig +cookie: the answer carries a server cookie" ";; COOKIE: [0-9A-Fa-f]{48}" "$out"
out=$(dig @$ADDR -p $PORT +cookie +timeout=2 +tries=1 example. SOA 2>&1)
expect_match "dig +cookie: our client cookie and a server cookie, good" "; COOKIE: [0-9a-f]{48} \(good\)" "$out"

r=$(upd --ednsopt 10:0102030405060708)
expect "a signed UPDATE with a client cookie -> NOERROR" NOERROR "$(f_rcode "$r")"
C1=$(opt10 "$r")
expect_match "its answer: the client cookie and a 16-byte server cookie (version 1)" \
	"^010203040506070801000000[0-9a-f]{24}$" "$C1"
expect_match "the decision's log line says cookie=client" "cookie=client reason=" \
	"$(grep ' rcode=' "$T/dsyncd.log" | tail -1)"
r=$(upd --ednsopt "10:$C1")
expect "sent back -> NOERROR" NOERROR "$(f_rcode "$r")"
expect "and the same cookie comes back (it is fresh)" "$C1" "$(opt10 "$r")"
expect_match "the log line says cookie=valid" "cookie=valid reason=" "$(grep ' rcode=' "$T/dsyncd.log" | tail -1)"
BAD=${C1:0:46}$(printf '%02x' $((0x${C1:46:2} ^ 1)))
r=$(upd --ednsopt "10:$BAD")
expect "a bad server cookie -> still NOERROR (treated as none)" NOERROR "$(f_rcode "$r")"
C2=$(opt10 "$r")
expect_match "with a fresh server cookie" "^0102030405060708[0-9a-f]{32}$" "$C2"
[ "$C2" != "$BAD" ] && ok "not the bad one echoed" || not_ok "the bad cookie was echoed"
expect_match "the log line says cookie=bad" "cookie=bad reason=" "$(grep ' rcode=' "$T/dsyncd.log" | tail -1)"
bad "a COOKIE option of 12 bytes" FORMERR 0 "COOKIE option of 12 bytes" -k "$KC" \
	--add "child.example. 3600 NS ns3.provider.net." --ednsopt 10:0102030405060708090a0b0c
r=$(upd --ednsopt "10:$C1" -b 127.0.0.2)
expect "the cookie from another address: answered" NOERROR "$(f_rcode "$r")"
expect_match "as a bad one" "cookie=bad reason=" "$(grep ' rcode=' "$T/dsyncd.log" | tail -1)"

# dsync-agent: learns the server cookie from its first answer, sends it back
# in the next request of the same run (bootstrap: the upload, then inquiries)
"$AG" bootstrap boot.example. --server $ADDR --port $PORT --parent example. --receiver-key "$RK" \
	--key "$KB" --udp --timeout 30 --json >"$T/agent1.json" 2>"$T/agent1.err" &
AGPID=$!
PIDS+=("$AGPID")
wait_for 100 grep -q "child=boot.example. .*result=accepted" "$T/dsyncd.log"
expect_match "dsync-agent's upload (UDP) carried its client cookie" \
	"update zone=example. child=boot.example. client=127.0.0.1#[0-9]+ key=$(tagof "$KB") result=accepted rcode=NOERROR cookie=client" \
	"$(grep 'child=boot.example.' "$T/dsyncd.log" | head -1)"
"$BIN/dsyncd" -c "$T/dsyncd.conf" key trust boot.example. "$(tagof "$KB")" >/dev/null && hup
wait "$AGPID"
expect "dsync-agent bootstrap ends trusted (exit 0)" 0 $?
expect_match "its inquiries sent back the server cookie it learned" \
	"query zone=example. child=boot.example. .* cookie=valid reason=" \
	"$(grep 'query zone=example. child=boot.example.' "$T/dsyncd.log" | tail -1)"

# ---- the budget short: a flood of forged signatures, no cookies -------------------

v0=$(counter verifications)
"$BIN/dsync-send" -s $ADDR -p $PORT -b 127.60.0.1 --wait-ms 2000 -k "$KC" \
	--add "child.example. 3600 NS ns9.provider.net." --flip -1 \
	--count 4500 --rate 300 --concurrency 1000 >"$T/flood.out" 2>&1 &
FLOOD=$!
PIDS+=("$FLOOD")
# wait for it: the first TC answers of the flood
wait_for 200 grep -q 'result=refused rcode=REFUSED reason="verification budget short' "$T/dsyncd.log"
expect_match "the flood's TC answers are logged (debug)" \
	'client=127\.60\.0\.1#[0-9]+ key=[0-9]+ result=refused rcode=REFUSED reason="verification budget short: retry over TCP or with the server cookie"' \
	"$(grep 'reason="verification budget short' "$T/dsyncd.log" | head -1)"

# legitimate requests during the flood
out=$(timeout 60 "$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 3000 -k "$KC" \
	--add "child.example. 3600 NS ns1.provider.net." --add "child.example. 3600 NS ns2.provider.net." \
	--cookies --count 20 --rate 5 2>&1 | tail -1)
echo "# with cookies during the flood: $out"
expect "dsync-send --cookies: 20 NOERROR during the flood" 20 "$(n_rcode NOERROR "$out")"
out=$(timeout 60 "$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 3000 -k "$KC" \
	--add "child.example. 3600 NS ns1.provider.net." --ednsopt 10:1112131415161718 \
	--count 20 --rate 5 2>&1 | tail -1)
echo "# without a server cookie during the flood: $out"
# what is above sig0.verify-budget-low goes to whoever comes first, the
# flood mostly: some of these are verified, the others TC, nothing else
n=$(n_rcode TC "$out")
[ "$n" -ge 1 ] && [ $((n + $(n_rcode NOERROR "$out"))) = 20 ] &&
	ok "without a server cookie: $n of 20 answered TC, the others verified (NOERROR)" ||
	not_ok "without a server cookie: $out"
got=""
for _ in $(seq 20); do
	r=$(upd --ednsopt 10:2122232425262728)
	if [[ "$r" == *" tc=1"* ]]; then got=$r; break; fi
done
expect_match "a TC answer carries a fresh server cookie for the client cookie" \
	"^rcode=REFUSED ede=14 text=\"verification budget short: retry over TCP or with the server cookie\" id=[0-9]+ tc=1 opt10=2122232425262728[0-9a-f]{32}$" "$got"
r=$(upd --ednsopt "10:$(opt10 "$got")")
expect "retried with that cookie -> NOERROR, no TC" "NOERROR" "$(f_rcode "$r")$([[ "$r" == *tc=1* ]] && echo " tc")"
r=$(upd -t)
expect "over TCP without a cookie -> NOERROR" NOERROR "$(f_rcode "$r")"
# nsupdate (BIND 9.18) sends no cookie and does not retry an UPDATE over
# TCP on TC: it must see a refusal, never a NOERROR for an UPDATE not made
n0=$(grep -c 'client=127\.0\.0\.1#.* result=accepted rcode=NOERROR reason=' "$T/dsyncd.log")
noerr=0 refused=0
for i in 1 2 3; do
	r=$(nsu "$KC" $ADDR $PORT <<EOF
zone example.
update add child.example. 3600 NS ns1.provider.net.
EOF
)
	case $r in NOERROR) noerr=$((noerr + 1)) ;; REFUSED) refused=$((refused + 1)) ;; esac
done
n1=$(grep -c 'client=127\.0\.0\.1#.* result=accepted rcode=NOERROR reason=' "$T/dsyncd.log")
expect "nsupdate over UDP during the flood: each NOERROR was a real acceptance" "$noerr" "$((n1 - n0))"
[ $refused -ge 1 ] && [ $((refused + noerr)) = 3 ] &&
	ok "nsupdate over UDP during the flood: $refused of 3 REFUSED (TC), none silently lost" ||
	not_ok "nsupdate over UDP during the flood: $refused REFUSED, $noerr NOERROR of 3"
ok_n=0
for i in 1 2 3; do
	r=$(nsu "$KC" $ADDR $PORT -v <<EOF
zone example.
update add child.example. 3600 NS ns1.provider.net.
EOF
)
	[ "$r" = NOERROR ] && ok_n=$((ok_n + 1))
done
expect "nsupdate -v (TCP) during the flood: 3 of 3 NOERROR" 3 "$ok_n"
tcp_ok=0
for i in 1 2 3 4 5; do
	OUT=$("$AG" update child.example. --server $ADDR --port $PORT --parent example. --receiver-key "$RK" \
		--key "$KC" --udp --json --add "child.example. 3600 NS ns1.provider.net." 2>&1)
	echo "$OUT" >>"$T/agent2.log"
	[[ "$OUT" == *'"rcode": "NOERROR"'* ]] || { not_ok "dsync-agent update during the flood: $OUT"; break; }
	[[ "$OUT" == *'"transport": "tcp"'* ]] && tcp_ok=$((tcp_ok + 1))
	[ $tcp_ok -ge 1 ] && break
done
[ $tcp_ok -ge 1 ] && ok "dsync-agent update --udp during the flood: NOERROR, over TCP after TC" ||
	not_ok "dsync-agent never fell back to TCP during the flood"
wait "$FLOOD"
out=$(tail -1 "$T/flood.out")
echo "# the flood: $out"
n=$(n_rcode TC "$out")
[ "$n" -ge 2250 ] && ok "the flood: $n of 4500 answered TC, not verified (>= half)" ||
	not_ok "the flood: only $n of 4500 answered TC"
v=$(($(counter verifications) - v0))
echo "# verifications during the flood: $v"
expect "no flood request was committed" "" "$(grep 'client=127\.60\.0\.1' "$T/dsyncd.log" | grep 'result=accepted')"
check "dsyncd stops cleanly" stop_dsyncd
finish
