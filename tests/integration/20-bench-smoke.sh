#!/usr/bin/env bash
# Benchmark smoke: the benchmarks still measure.  B2's
# program (tests/bench/b2, built by make bench-build, which make test runs)
# runs for a fraction of a second per algorithm and prints a positive rate
# for each; B3's load (dsync-send load mode, UDP, 10 and 100 outstanding)
# against the sanitized daemon with the benchmark's own configuration
# (bench_conf, tests/bench/conf.sh) gets NOERROR for at least 99% of its
# requests, each committed (commit_jobs), none a replay.  A control run with
# the default limits shows that the same load is then mostly REFUSED, so the
# 99% gate is what would catch limits coming back in the way.  No speed is
# asserted: speed is the benchmarks' business, this only checks that they
# measure the receiver.  B6 (tests/bench/run.sh, ONLY=B6, short phases)
# measures signed KeyState answers at 10 and 100 outstanding: one inquiry's
# answer carries state 4 and the receiver's signature, which verifies; at
# least 99% of the load is NOERROR, every answer signed, one verification
# per inquiry; B1's ED25519 sign and verify rates, its reference, are
# positive.  The control run shows that the default
# keystate.inquiries-per-source would refuse the same inquiries.
# B5: with cookies and a budget of 20 a second, a
# child sending its server cookie gets NOERROR throughout a small forged
# flood from another /24, which is mostly answered TC.  B10, B11 and B12
# (tests/bench/backlog.sh) run
# with 2000, 500 and 300 delegations: the zonefile backlog in one write,
# the dnsupdate one into Knot, the powerdns one into pdns_server, each with
# its reference measured.  B3 on both store engines (tests/bench/pgnodes.sh:
# SQLite, one and two nodes on PostgreSQL) runs with 1 s phases.  B7
# (tests/bench/million.sh) runs with 2000
# children: every figure printed, B3 at that size all NOERROR.  As in the
# benchmark, each UPDATE of the load replaces the child's NS set with a pair
# of its own ("{i}" in dsync-send's records), so every NOERROR must be a
# change: the audit rows that say so are counted, and the store holds one
# of the pairs sent.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"
ADDR=127.0.0.22
PORT=5354

# ---- helpers (local to this file) ---------------------------------------------

# kv NAME LINE: the value of NAME=... in a summary or stats line
kv() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
# l_rcode NAME SUMMARY: how many answers had that RCODE (0 if none)
l_rcode() {
	local n
	n=$(sed -n "s/.*rcodes=\([^ ]*\).*/\1/p" <<<"$2" | tr ',' '\n' | sed -n "s/^$1:\([0-9]*\)$/\1/p")
	echo "${n:-0}"
}
# load CHILD COUNT CONC: B3's dsync-send load run (as tests/bench/run.sh
# dsyncd_load): request i replaces the child's NS set with ns1-i and ns2-i,
# bounded in time; prints its summary line
load() {
	timeout 60 "$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 2000 -k "${KEY[$1]}" \
		--del-rrset "c$1.example. NS" --add "c$1.example. 3600 NS ns1-{i}.provider.net." \
		--add "c$1.example. 3600 NS ns2-{i}.provider.org." \
		--count "$2" --concurrency "$3" 2>&1 | tail -1
}
# changed CHILD: audit rows of UPDATEs of CHILD that changed its delegation
changed() {
	sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where actor = 'update' and
		child = '$1' and rcode = 0 and reason like 'changed%'"
}
# gate SUMMARY: at least 99% of the requests sent answered NOERROR (a
# timeout counts against it, as an answer that is not NOERROR)
gate() {
	local n ok
	n=$(kv count "$1")
	ok=$(l_rcode NOERROR "$1")
	[ -n "$n" ] && [ "$n" -gt 0 ] && [ $((ok * 100)) -ge $((n * 99)) ]
}
# delta NAME S0 S1: a counter's growth between two stats lines
delta() { echo $(($(kv "$1" "$3") - $(kv "$1" "$2"))); }

# ---- B2: b2 runs and measures ---------------------------------------------------

# the sanitized build's b2 when make built it there (and not before its
# library), else the optimised one (make test builds that: make all bench-build)
B2=$BIN/tests/bench/b2
{ [ -x "$B2" ] && ! [ "$B2" -ot "$BIN/libdsync.a" ]; } || B2=$TOP/build/tests/bench/b2
if [ ! -x "$B2" ]; then
	not_ok "B2: tests/bench/b2 is built (make bench-build)"
else
	echo "# B2 program: ${B2#"$TOP"/}"
	keys=()
	for a in RSASHA256 ECDSAP256SHA256 ED25519; do
		k=$(mkkey "b2-$a.example." $a "$([ $a = RSASHA256 ] && echo 2048)") || { not_ok "keygen $a"; finish; }
		keys+=("$k")
	done
	# 20 messages per algorithm, 0.2 s per measurement (about 0.6 s per algorithm)
	timeout 60 "$B2" -n 20 -t 0.2 "${keys[@]}" >"$T/b2.out" 2>&1
	expect "B2: b2 exits 0" 0 $?
	expect "B2: one line per algorithm" 3 "$(grep -c '^b2 ' "$T/b2.out")"
	for a in 8 13 15; do
		line=$(grep "^b2 alg=$a " "$T/b2.out")
		bad=""
		for f in msgs bytes full verify parse digest; do
			v=$(kv $f "$line")
			awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }' || bad+=" $f=${v:-missing}"
		done
		expect "B2: alg $a: every rate positive (full, verify, parse+lookup, digest)" "" "$bad"
	done
fi

# ---- B3: the bench configuration lets the load through ---------------------------

declare -A KEY
children=""
for i in 1 2 3; do
	KEY[$i]=$(mkkey "c$i.example." ED25519) || { not_ok "keygen c$i"; finish; }
	children+="${children:+,}{ name = \"c$i.example.\"; keys = ( \"${KEY[$i]}.key\" ); }"
done
mkdir -p "$T/db"
bench_conf $ADDR $PORT "$T/db/dsyncd.db" info 0 "$children" >"$T/bench.conf"
check "B3: the benchmark's configuration passes the check (-n)" "$BIN/dsyncd" -n -c "$T/bench.conf"
start_dsyncd "$T/bench.conf" || { not_ok "dsyncd starts with the benchmark's configuration"; finish; }

# more UPDATEs of one signer from one /24 than the default limits allow in
# a minute (updates-per-signer 120, updates-per-source 600)
for run in "1 2000 10" "2 2000 100"; do
	read -r c n conc <<<"$run"
	s0=$(stats_line)
	out=$(load "$c" "$n" "$conc")
	s1=$(stats_line)
	echo "# B3 $conc outstanding: $out"
	expect_match "B3 $conc outstanding: the driver's summary line" "^count=$n answered=" "$out"
	if gate "$out"; then ok "B3 $conc outstanding: >= 99% of $n NOERROR ($(kv rcodes "$out"))"; else
		not_ok "B3 $conc outstanding: under 99% of $n NOERROR: $(kv rcodes "$out") timeouts=$(kv timeouts "$out")"
	fi
	ok=$(l_rcode NOERROR "$out")
	expect "B3 $conc outstanding: every NOERROR was committed (commit_jobs)" "$ok" "$(delta commit_jobs "$s0" "$s1")"
	expect "B3 $conc outstanding: no replays, nothing dropped, nothing refused" "0 0 0" \
		"$(delta replays "$s0" "$s1") $(delta dropped "$s0" "$s1") $(delta refused "$s0" "$s1")"
	expect "B3 $conc outstanding: one verification per request" "$n" "$(delta verifications "$s0" "$s1")"
	expect "B3 $conc outstanding: every NOERROR changed the delegation (audit)" "$ok" "$(changed "c$c.example.")"
done
for c in 1 2; do
	# two NS records, ns1-K and ns2-K of one request K
	recs=$(deleg_dump | awk -v c="c$c.example." '$1 == c && $2 == 2 { print $3 }')
	expect "B3: c$c.example. holds one NS pair it was sent" "2 1 ns1-,ns2-" \
		"$(wc -l <<<"$recs") $(sed 's/^ns[12]-\([0-9]*\)\..*/\1/' <<<"$recs" | sort -u | wc -l) $(sed 's/-[0-9]*\..*/-/' <<<"$recs" | paste -sd,)"
done
check "B3: dsyncd stops cleanly (no sanitizer report)" stop_dsyncd

# ---- B6: signed KeyState answers (run.sh, short) ---------------------------------

out=$(ONLY=B6 PHASE_SECS=1 LEVELS="10 100" B1_SECS=1 BENCH_ADDR=$ADDR BENCH_PORT=$PORT \
	timeout 300 bash "$TOP/tests/bench/run.sh" "$BUILD" 2>&1)
expect "B6: run.sh exits 0" 0 $?
echo "$out" | sed 's/^/# /'
expect_match "B6: B1's ED25519 sign and verify rates measured in the same run" \
	"15 +ED25519 +[1-9][0-9.]* +[1-9][0-9.]*" "$(grep -E '^15 ' <<<"$out")"
expect "B6: one inquiry about a trusted key: state 4, the receiver's signature verifies (RFC 2931)" \
	"one inquiry: NOERROR, KeyState 4 (KEY_TRUSTED), receiver's signature: rfc2931" "$(grep '^one inquiry: ' <<<"$out")"
for conc in 10 100; do
	r=$(grep -E "^  $conc +[0-9]" <<<"$out")
	read -r _ rate _ _ _ _ _ signed rcodes _ <<<"$r"
	n=${signed#*/}
	ok=$(sed -n 's/.*NOERROR:\([0-9]*\).*/\1/p' <<<"$rcodes")
	if [ -n "$n" ] && [ "$n" -gt 0 ] && [ $((${ok:-0} * 100)) -ge $((n * 99)) ]; then
		ok "B6 $conc outstanding: >= 99% of $n answers NOERROR ($rcodes, $rate answers/s)"
	else
		not_ok "B6 $conc outstanding: under 99% NOERROR or no row: '$r'"
	fi
	expect "B6 $conc outstanding: every answer signed by the receiver" "$n/$n" "$signed"
	expect "B6 $conc outstanding: one verification per inquiry, none refused" \
		"verifications=${ok:-0} refused=0" \
		"$(grep -A1 -E "^  $conc +[0-9]" <<<"$out" | sed -n 's/^ *dsyncd counters: //p')"
done
expect "B6: dsyncd stops cleanly (no sanitizer report)" "dsyncd stopped (exit 0)" "$(grep '^dsyncd stopped' <<<"$out")"

# ---- B5: a small forged flood with a small budget, cookies on ---------------------

# the benchmark's configuration with cookies, sig0.verify-budget 20; a flood
# of forged signatures without cookies from 127.60.1.1 at 200/s for 6 s;
# meanwhile a child with --cookies at 5/s: all NOERROR, the flood mostly TC
bench_conf $ADDR $PORT "$T/db/b5.db" info 20 "$children" true >"$T/b5.conf"
check "B5: the configuration with cookies passes the check (-n)" "$BIN/dsyncd" -n -c "$T/b5.conf"
: >"$T/b5.log"
start_dsyncd "$T/b5.conf" "$T/b5.log" || { not_ok "B5: dsyncd starts"; finish; }
timeout 60 "$BIN/dsync-send" -s $ADDR -p $PORT -b 127.60.1.1 --wait-ms 2000 -k "${KEY[1]}" \
	--add "c1.example. 3600 NS ns9.provider.net." --flip -1 --count 1200 --rate 200 \
	--concurrency 1000 >"$T/b5-flood.out" 2>&1 &
FLOOD=$!
PIDS+=("$FLOOD")
wait_for 200 grep -q 'reason="verification budget short' "$T/b5.log"
out=$(timeout 60 "$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 2000 -k "${KEY[2]}" \
	--add "c2.example. 3600 NS ns1.provider.net." --add "c2.example. 3600 NS ns2.provider.org." \
	--cookies --count 15 --rate 5 2>&1 | tail -1)
echo "# B5 child with cookies during the flood: $out"
expect "B5: the child with cookies: 15 of 15 NOERROR during the flood" 15 "$(l_rcode NOERROR "$out")"
wait "$FLOOD"
out=$(tail -1 "$T/b5-flood.out")
echo "# B5 flood: $out"
n=$(l_rcode TC "$out")
[ "$n" -ge 600 ] && ok "B5: the forged flood: $n of 1200 answered TC, unverified (>= half)" ||
	not_ok "B5: the forged flood: only $n of 1200 TC ($(kv rcodes "$out"))"
check "B5: dsyncd stops cleanly" stop_dsyncd "$T/b5.log"

# ---- control: the default limits would refuse the same load ----------------------

# the same server without the limit settings: then the gate above fails
sed -e 's/ updates-per-source = [0-9]*; updates-per-signer = [0-9]*;//' \
	-e '/^sig0 = /d;/^cookies = /d;/^keystate = /d;/^bootstrap = /d;/^receiver = /d' \
	-e "s|$T/db/dsyncd.db|$T/db/defaults.db|" "$T/bench.conf" >"$T/defaults.conf"
expect "control: no limit left in the configuration" "" \
	"$(grep -oE 'updates-per|verify-budget|verify-share|cookies|inquiries-per|uploads-per|sign-budget' "$T/defaults.conf")"
: >"$T/defaults.log"
start_dsyncd "$T/defaults.conf" "$T/defaults.log" || { not_ok "dsyncd starts with the default limits"; finish; }
out=$(load 3 700 10)
echo "# control, default limits: $out"
if gate "$out"; then not_ok "control: default limits, yet >= 99% NOERROR: $(kv rcodes "$out")"; else
	ok "control: default limits refuse most of 700 from one signer ($(kv rcodes "$out") edes=$(kv edes "$out"))"
fi
# B6's inquiries, signed by c3's trusted key: keystate.inquiries-per-source (120 a minute)
out=$(timeout 60 "$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 2000 -k "${KEY[3]}" --opcode 0 -z c3.example. \
	--qtype KEY --ednsopt "65002:$(printf '%04x' "$(tagof "${KEY[3]}")")0200" --count 700 --concurrency 10 2>&1 | tail -1)
echo "# control, B6 inquiries, default limits: $out"
if gate "$out"; then not_ok "control: default limits, yet >= 99% of the inquiries NOERROR: $(kv rcodes "$out")"; else
	ok "control: default limits refuse most of 700 inquiries from one network ($(kv rcodes "$out") edes=$(kv edes "$out"))"
fi
check "control: dsyncd stops cleanly" stop_dsyncd "$T/defaults.log"

# ---- B10: a backlog to a snapshot backend, short -----------------------------

out=$(N=2000 BENCH_ADDR=$ADDR bash "$TOP/tests/bench/backlog.sh" "$BUILD" 2>&1)
echo "$out" | sed 's/^/# /'
expect_match "B10: 2000 imported changes delivered to zonefile in one write" \
	"B10 zonefile backlog: 2000 change\(s\) of 2000 delegation\(s\) delivered in [0-9.]+ s \([0-9]+ changes/s\), 1 write\(s\)" \
	"$out"
expect_match "B10: it measures its reference too" "B10 reference: named-checkzone reads the written zone in [0-9.]+ s" "$out"
out=$(N=500 BACKEND=dnsupdate BENCH_ADDR=$ADDR BENCH_KNOT_ADDR=127.0.0.36 bash "$TOP/tests/bench/backlog.sh" "$BUILD" 2>&1)
echo "$out" | sed 's/^/# /'
expect_match "B11: 500 changes delivered into Knot by dnsupdate" \
	"B11 dnsupdate backlog into Knot: 500 change\(s\) delivered in [0-9.]+ s" "$out"
expect_match "B11: nsupdate's reference measured" "B11 reference: nsupdate sends the same 500 delegations to Knot in [0-9.]+ s" "$out"
out=$(N=300 BACKEND=powerdns BENCH_ADDR=$ADDR BENCH_PDNS_ADDR=127.0.0.37 bash "$TOP/tests/bench/backlog.sh" "$BUILD" 2>&1)
echo "$out" | sed 's/^/# /'
expect_match "B12: 300 changes delivered into pdns_server by powerdns" \
	"B12 powerdns backlog into pdns_server: 300 change\(s\) delivered in [0-9.]+ s" "$out"
expect_match "B12: pdnsutil load-zone's reference measured" \
	"B12 reference: pdnsutil load-zone loads the same 300 delegations in [0-9.]+ s" "$out"

# ---- B7: a store of many children, short -------------------------------------

# b7keys of the sanitized build when make built it there, else the optimised one
B7KEYS=$BIN/tests/bench/b7keys
{ [ -x "$B7KEYS" ] && ! [ "$B7KEYS" -ot "$BIN/libdsync.a" ]; } || B7KEYS=$TOP/build/tests/bench/b7keys
out=$(MILLION_N=2000 PHASE_SECS=2 ROUNDS=2 B7KEYS=$B7KEYS BENCH_ADDR=127.0.0.68 bash "$TOP/tests/bench/million.sh" "$BUILD" 2>&1)
echo "$out" | sed 's/^/# /'
expect_match "B7: 2000 delegations imported and 2000 keys stored" \
	"B7 import: 2000 delegation\(s\) in [0-9.]+ s .*keys: 2000 ED25519 key pairs generated and stored" "$out"
expect_match "B7: the store's bytes per child, per table" "B7 store:   delegation +[0-9.]+" "$out"
expect_match "B7: a signed UPDATE answered after the start, the backlog delivered" \
	"B7 cold start: first NOERROR [0-9.]+ s after the start .*backlog of 2000 imported change\(s\) delivered in [0-9.]+ s" "$out"
expect_match "B7: memory measured" "B7 memory: VmRSS [0-9]+ MiB" "$out"
expect_match "B7: one change reaches the zonefile backend's file" "B7 one change: NOERROR and in the zonefile backend's file [0-9.]+ s" "$out"
for round in 1 2; do
	expect_match "B7: B3 at that size, round $round, every request NOERROR" \
		"B7 B3 round $round at 2000 children, 100 outstanding: count=([0-9]+) answered=\1 timeouts=0 .*rcodes=NOERROR:\1 " "$out"
	expect_match "B7: and its reference on a store of the sample children, round $round" \
		"B7 B3 round $round reference, 4 children, 100 outstanding: count=([0-9]+) answered=\1 timeouts=0 .*rcodes=NOERROR:\1 " "$out"
done
expect_match "B7: the ratio of the medians" \
	"B7 B3 at 2000 / reference, medians of 2 round\(s\): [0-9.]+ / [0-9.]+ updates/s = [0-9]+%" "$out"

# ---- B3 on both store engines (PostgreSQL: one node, two nodes), short ---------
out=$(PHASE_SECS=1 LEVELS="1 100" BENCH_ADDR=127.0.7.13 bash "$TOP/tests/bench/pgnodes.sh" "$BUILD" 2>&1)
echo "$out" | sed 's/^/# /'
for lv in 1 100; do
	for st in sqlite pg1 pg2; do
		# every UPDATE of the phase answered NOERROR: each one a committed change
		expect_match "B3 engines: $st at $lv outstanding, every UPDATE NOERROR" \
			"^$lv +$st +[0-9.]+ +[0-9.]+ +[0-9.]+ +([0-9]+)/\1 +[0-9.]+$" \
			"$(grep -E "^$lv +$st " <<<"$out")"
	done
done

finish
