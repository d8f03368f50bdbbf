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
# measure the receiver.  B10, B11 and B12 (tests/bench/backlog.sh) run
# with 2000, 500 and 300 delegations: the zonefile backlog in one write,
# the dnsupdate one into Knot, the powerdns one into pdns_server, each with
# its reference measured.  As in the benchmark, each UPDATE of the load
# replaces the child's NS set with a pair of its own ("{i}" in dsync-send's
# records), so every NOERROR must be a change: the audit rows that say so
# are counted, and the store holds one of the pairs sent.
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

# ---- control: the default limits would refuse the same load ----------------------

# the same server without the limit settings: then the gate above fails
sed -e 's/ updates-per-source = [0-9]*; updates-per-signer = [0-9]*;//' \
	-e '/^sig0 = /d;/^keystate = /d;/^bootstrap = /d' \
	-e "s|$T/db/dsyncd.db|$T/db/defaults.db|" "$T/bench.conf" >"$T/defaults.conf"
expect "control: no limit left in the configuration" "" \
	"$(grep -oE 'updates-per|verify-budget|inquiries-per|uploads-per' "$T/defaults.conf")"
: >"$T/defaults.log"
start_dsyncd "$T/defaults.conf" "$T/defaults.log" || { not_ok "dsyncd starts with the default limits"; finish; }
out=$(load 3 700 10)
echo "# control, default limits: $out"
if gate "$out"; then not_ok "control: default limits, yet >= 99% NOERROR: $(kv rcodes "$out")"; else
	ok "control: default limits refuse most of 700 from one signer ($(kv rcodes "$out") edes=$(kv edes "$out"))"
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

finish
