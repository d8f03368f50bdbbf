#!/usr/bin/env bash
# tests/bench/run.sh BUILDDIR -- benchmarks B1-B6 and B9 of doc/hardening.md
# (B5: a forged flood with DNS Cookies; B6: signed KeyState answers; B9: the
# verification budget under a flood); see tests/bench/README.md
# for what each one measures and how to read it.
#
#   make bench                     (= tests/bench/run.sh build, after make all bench-build)
#   ONLY="B1 B2" tests/bench/run.sh build
#
# Environment:
#   ONLY        benchmarks to run (default "B1 B2 B3"; B4 is part of B3; B5, B6, B9 on request)
#   PHASE_SECS  target length of each load phase in seconds (default 10, max 20)
#   LEVELS      outstanding requests for B3 (default "1 10 100 1000")
#   B2_SECS     seconds per B2 measurement (default 3, as openssl speed -seconds 3)
#   B1_SECS     openssl speed -seconds for B1 (default 3)
#   DSYNC_SEND  load generator binary (default BUILDDIR/dsync-send)
#   KEEP=1      keep the temporary folder (logs, configs, raw outputs)
#   PERF=1      record dsyncd with perf during the PERF_LEVEL-outstanding run (100)
#   KNOT=0      no Knot reference rows (quicker, for comparing dsyncd builds)
#   B5_CAP      B5: the verification capacity a second (default: b2's ED25519 verify/s)
#   B5_BUDGET   B5: sig0.verify-budget (default B5_CAP); the flood is 2x B5_CAP
#   B5_CHILDREN, B5_LEGIT, B5_SOURCES  B5: children (5), UPDATEs/s each (10), flood sources (8)
#   B9_BUDGET   B9: sig0.verify-budget (default 500; the flood is 10x it)
#   B9_LEGIT    B9: legitimate UPDATEs per second during each run (default 50)
#   BENCH_ADDR, BENCH_PORT            dsyncd's address and port (127.0.0.9, 5354)
#   BENCH_KNOT_ADDR, BENCH_KNOT_PORT  Knot's (127.0.0.19, BENCH_PORT)
#
# Never part of the pass/fail suite: it prints tables, and exits non-zero
# only when a benchmark asked for could not run (B2 without its program,
# dsyncd not starting).  dsyncd's configuration, with every rate limit set
# explicitly, is bench_conf in tests/bench/conf.sh.  Everything runs on loopback
# (dsyncd on 127.0.0.9, Knot on 127.0.0.19 by default), in a temporary folder, and
# every process it starts is stopped by PID at exit.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
BUILD=${1:-build}
BIN=$TOP/$BUILD
ONLY=${ONLY:-"B1 B2 B3"}
PHASE_SECS=${PHASE_SECS:-10}
[ "$PHASE_SECS" -gt 20 ] && PHASE_SECS=20
LEVELS=${LEVELS:-"1 10 100 1000"}
B2_SECS=${B2_SECS:-3}
B1_SECS=${B1_SECS:-3}
DSYNC_SEND=${DSYNC_SEND:-$BIN/dsync-send}
# listening addresses and ports (another pair when other tests on the
# machine use these; the two may share an address on different ports)
ADDR=${BENCH_ADDR:-127.0.0.9}
KADDR=${BENCH_KNOT_ADDR:-127.0.0.19}
PORT=${BENCH_PORT:-5354}
KPORT=${BENCH_KNOT_PORT:-$PORT}
T=$(mktemp -d /tmp/dsyncd-bench.XXXXXX)
PIDS=()
STATUS=0
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"

# shellcheck disable=SC2317 # (called by the trap)
cleanup() {
	stop_pids TERM
	if [ "${KEEP:-0}" = 1 ]; then echo "# files kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

want() { [[ " $ONLY " == *" $1 "* ]]; }
note() { echo "# $*"; }

# one CPU for the single-core measurements (B1, B2): the last one
PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c $(($(nproc) - 1))); fi

# kv NAME "k=v k=v ...": the value of NAME
kv() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
# ratio A B: A/B as a percentage (or "-")
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "") printf "%.0f%%", 100 * a / b; else printf "-" }'; }

echo "dsyncd benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPU(s): $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
echo "build: $BUILD   phases: ${PHASE_SECS}s   tmp: $T"

# ---- B1: crypto ceiling -----------------------------------------------------
declare -A SIGN VERIFY ALGNAME
ALGNAME=([8]="RSASHA256 (2048)" [13]="ECDSAP256SHA256" [15]="ED25519")
B1_ALGS=(rsa2048 ecdsap256 ed25519)
# B6 alone needs only ED25519 (the receiver's key and the children's)
want B1 || want B2 || B1_ALGS=(ed25519)
if want B1 || want B2 || want B6; then
	echo
	echo "== B1 crypto ceiling: openssl speed -seconds $B1_SECS ${B1_ALGS[*]}, one core (${PIN[*]:-not pinned})"
	"${PIN[@]}" openssl speed -seconds "$B1_SECS" "${B1_ALGS[@]}" >"$T/speed.out" 2>"$T/speed.err"
	read -r s v < <(awk '/^rsa 2048 bits/ { print $(NF-1), $NF }' "$T/speed.out")
	SIGN[8]=$s VERIFY[8]=$v
	read -r s v < <(awk '/ecdsa \(nistp256\)/ { print $(NF-1), $NF }' "$T/speed.out")
	SIGN[13]=$s VERIFY[13]=$v
	read -r s v < <(awk '/EdDSA \(Ed25519\)/ { print $(NF-1), $NF }' "$T/speed.out")
	SIGN[15]=$s VERIFY[15]=$v
	printf "%-4s %-18s %12s %12s\n" alg name sign/s verify/s
	for a in 8 13 15; do
		[ -n "${SIGN[$a]:-}" ] || continue
		printf "%-4s %-18s %12s %12s\n" "$a" "${ALGNAME[$a]}" "${SIGN[$a]:-?}" "${VERIFY[$a]:-?}"
	done
	echo "(reference: this is the reference; openssl $(openssl version | awk '{print $2}'))"
fi

# ---- B2: in-process parse + key lookup + verify -----------------------------
if want B2; then
	echo
	echo "== B2 parse + sig0_rr_parse + key lookup + verify, one core, in process"
	# built by the Makefile (make bench-build; make test builds it too)
	B2=$BIN/tests/bench/b2
	mkdir -p "$T/b2keys"
	if [ ! -x "$B2" ] || [ "$B2" -ot "$BIN/libdsync.a" ] || [ "$B2" -ot tests/bench/b2.c ]; then
		echo "$BUILD/tests/bench/b2 is missing or older than its sources: run" \
			"make BUILD=$BUILD bench-build (with SAN=1 for a sanitized build); B2 skipped"
		STATUS=1
	else
		keys=()
		for a in RSASHA256 ECDSAP256SHA256 ED25519; do
			bits=()
			[ $a = RSASHA256 ] && bits=(-b 2048)
			k=$(dnssec-keygen -q -T KEY -a $a "${bits[@]}" -n HOST -K "$T/b2keys" "b2-$a.example.")
			keys+=("$T/b2keys/$k")
		done
		"${PIN[@]}" "$B2" -t "$B2_SECS" "${keys[@]}" >"$T/b2.out" 2>&1 || { cat "$T/b2.out"; STATUS=1; }
		printf "%-4s %-16s %5s %11s %11s %6s %11s %12s %9s\n" alg name bytes full/s "B1 verify/s" ratio \
			verify/s "parse+lkp/s" "digest/s"
		while read -r line; do
			a=$(kv alg "$line")
			full=$(kv full "$line")
			printf "%-4s %-16s %5s %11.0f %11s %6s %11.0f %12.0f %9.0f\n" "$a" "$(kv name "$line")" \
				"$(kv bytes "$line")" "$full" "${VERIFY[$a]:-?}" "$(pct "$full" "${VERIFY[$a]:-}")" \
				"$(kv verify "$line")" "$(kv parse "$line")" "$(kv digest "$line")"
		done < <(grep '^b2 ' "$T/b2.out")
		echo "(full = the receiver's steps per message; ratio = full / B1 verify/s, goal >= 90%;"
		echo " verify = sig0_verify alone; parse+lkp = the steps without crypto; digest = replay-cache key)"
	fi
fi

# ---- B3/B4: end to end over loopback UDP --------------------------------------
# cpu_ticks PID: utime+stime of a process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK=$(getconf CLK_TCK)
# sock_drops IPV4 PORT: datagrams the kernel dropped at the UDP sockets bound
# there (full receive buffer), summed over them (/proc/net/udp, last column)
sock_drops() {
	local a b c d hex
	IFS=. read -r a b c d <<<"$1"
	hex=$(printf '%02X%02X%02X%02X:%04X' "$d" "$c" "$b" "$a" "$2")
	awk -v h="$hex" '$2 == h { n += $NF } END { print n + 0 }' /proc/net/udp
}

# stats_line: SIGUSR1 to dsyncd, print the new stats line
stats_line() {
	local before
	before=$(grep -c " stats " "$T/dsyncd.log")
	kill -USR1 "$DSYNCD_PID"
	for _ in $(seq 100); do
		[ "$(grep -c " stats " "$T/dsyncd.log")" -gt "$before" ] && break
		sleep 0.05
	done
	grep " stats " "$T/dsyncd.log" | tail -1
}

# percentiles of a file of latencies in seconds (one a line): "p50_ms p99_ms"
pctl() {
	sort -g "$1" | awk '{ a[NR - 1] = $1 } END {
		if (NR == 0) { print "- -"; exit }
		printf "%.3f %.3f\n", a[int((NR - 1) * 0.5)] * 1000, a[int((NR - 1) * 0.99)] * 1000 }'
}

# row LABEL RATE P50 P99 RCODES CPU% REFRATE
row() {
	printf "  %-40s %9s %8s %8s %6s %7s  %s\n" "$1" "$2" "$3" "$4" "$5" "$6" "$7"
}

# mkchildren LETTER N DIR ARRAY: ED25519 keys in DIR for children
# LETTER1.example. to LETTERN.example., their prefixes in ARRAY[1..N];
# sets CHILDREN to the children as bench_conf takes them
mkchildren() {
	local -n keyof=$4
	local i k
	CHILDREN=""
	mkdir -p "$3"
	for i in $(seq 1 "$2"); do
		k=$(dnssec-keygen -q -T KEY -a ED25519 -n HOST -K "$3" "$1$i.example.")
		# shellcheck disable=SC2034 # (keyof names the caller's array)
		keyof[$i]="$3/$k"
		CHILDREN+="${CHILDREN:+,}{ name = \"$1$i.example.\"; keys = ( \"$3/$k.key\" ); }"
	done
}

# ready PID LOG CHECK...: wait (10 s at most) until the server PID is
# ready, as CHECK says; the last lines of its LOG when it ends first or
# the time runs out
ready() {
	local pid=$1 log=$2
	shift 2
	for _ in $(seq 100); do
		"$@" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$log"
	return 1
}

# serve CONF: start dsyncd (its output appended to $T/dsyncd.log) and wait
# until it serves
serve() {
	"$BIN/dsyncd" -c "$1" >>"$T/dsyncd.log" 2>&1 &
	DSYNCD_PID=$!
	PIDS+=("$DSYNCD_PID")
	ready "$DSYNCD_PID" "$T/dsyncd.log" grep -q "dsyncd serving" "$T/dsyncd.log"
}

start_dsyncd() {
	mkdir -p "$T/dsyncd"
	mkchildren c 12 "$T/keys" CHILDKEY
	# no verification budget (0): B3 measures the receiver, not R8 (that is B9)
	bench_conf "$ADDR" "$PORT" "$T/dsyncd/dsyncd.db" "${LOG_LEVEL:-info}" 0 "$CHILDREN" >"$T/dsyncd.conf"
	"$BIN/dsyncd" -n -c "$T/dsyncd.conf" >"$T/dsyncd-check.log" 2>&1 || {
		cat "$T/dsyncd-check.log"
		return 1
	}
	serve "$T/dsyncd.conf"
}

start_knot() {
	mkdir -p "$T/knot/db"
	KSECRET=$(head -c 32 /dev/urandom | base64)
	knot_conf "$T/knot" "$KADDR@$KPORT" changes "$T/knot/example.zone" "$KSECRET" >"$T/knot.conf"
	parent_zone "$KADDR" >"$T/knot/example.zone"
	knotd -c "$T/knot.conf" >"$T/knot.log" 2>&1 &
	KNOT_PID=$!
	PIDS+=("$KNOT_PID")
	ready "$KNOT_PID" "$T/knot.log" knot_answers
}
# knot_answers: Knot has started and answers for example.
knot_answers() {
	grep -q "server started" "$T/knot.log" &&
		kdig @"$KADDR" -p "$KPORT" +short +timeout=1 +retry=0 example. SOA >/dev/null 2>&1
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# cpu_share T0 T1 SECS: CPU ticks T0 to T1 over SECS of wall time, as a
# percentage of one core ("-" without a time)
cpu_share() {
	awk -v a="$1" -v b="$2" -v s="$3" -v k="$CLK" \
		'BEGIN { if (s > 0) printf "%.0f%%", 100 * (b - a) / k / s; else printf "-" }'
}

# drive PID ADDR PORT DSYNC-SEND-ARGS...: a dsync-send load run against the
# server PID at ADDR PORT; sets OUT (its summary line), CPU (the server's
# share of a core), DROPS (datagrams its UDP sockets dropped)
drive() {
	local pid=$1 addr=$2 port=$3 c0 c1 u0
	shift 3
	c0=$(cpu_ticks "$pid")
	u0=$(sock_drops "$addr" "$port")
	OUT=$(timeout $((PHASE_SECS * 2 + 20)) "$DSYNC_SEND" -s "$addr" -p "$port" --wait-ms 1000 "$@" 2>&1 | tail -1)
	c1=$(cpu_ticks "$pid")
	DROPS=$(($(sock_drops "$addr" "$port") - u0))
	CPU=$(cpu_share "$c0" "$c1" "$(kv elapsed "$OUT")")
}

# the records of a load run at NAME: request i replaces NAME's NS set with
# ns1-i and ns2-i, so that every request is a real change of the delegation
ns_replace() {
	printf '%s\0' --del-rrset "$1 NS" --add "$1 3600 NS ns1-{i}.provider.net." \
		--add "$1 3600 NS ns2-{i}.provider.org."
}

# dsync-send load run against dsyncd, each with a child of its own; sets OUT,
# CPU, CHILD (the child's name)
NEXT_CHILD=1
dsyncd_load() {
	local conc=$1 count=$2 c=$NEXT_CHILD recs
	NEXT_CHILD=$((NEXT_CHILD + 1))
	CHILD=c$c.example.
	mapfile -d '' recs < <(ns_replace "$CHILD")
	drive "$DSYNCD_PID" "$ADDR" "$PORT" -k "${CHILDKEY[$c]}" "${recs[@]}" \
		--count "$count" --concurrency "$conc"
}

# changes_of CHILD: what dsyncd's store holds for CHILD after a load run:
# "changed=N outbox=N deleg=NS1,NS2" (audit rows of accepted UPDATEs that
# changed the delegation, its outbox changes, its NS records now)
changes_of() {
	local db=$T/dsyncd/dsyncd.db
	sqlite3 "$db" "select 'changed=' || count(*) from audit where actor = 'update' and
		child = '$1' and rcode = 0 and reason like 'changed%';
		select 'outbox=' || count(*) from outbox_change where child_text = '$1';
		select 'deleg=' || group_concat(rdata_text, ',') from
		(select rdata_text from delegation join children c on c.id = child_id
		 where c.name_text = '$1' and type = 2 order by rdata_text)" 2>&1 | paste -sd' '
}

# knot_ns NAME: the NS set of the delegation NAME at Knot (a referral: the
# authority section), comma-separated
knot_ns() {
	kdig @"$KADDR" -p "$KPORT" +noall +authority +timeout=2 "$1" NS 2>/dev/null |
		awk '$4 == "NS" { print $5 }' | sort | paste -sd,
}

# knot_serial: the SOA serial of example. at Knot (one per changeset)
knot_serial() {
	kdig @"$KADDR" -p "$KPORT" +short +timeout=2 +retry=1 example. SOA 2>/dev/null | awk '{ print $3 }'
}

# dnsperf against Knot: FILE CONC [extra dnsperf args]; sets RATE P50 P99 RC CPU
knot_dnsperf() {
	local file=$1 conc=$2
	shift 2
	local c0 c1 u0 out
	out="$T/dnsperf.$conc.$(basename "$file").out"
	c0=$(cpu_ticks "$KNOT_PID")
	u0=$(sock_drops "$KADDR" "$KPORT")
	timeout $((PHASE_SECS + 20)) dnsperf -u -s "$KADDR" -p "$KPORT" -y "hmac-sha256:bench.:$KSECRET" \
		-d "$file" -q "$conc" -t 1 -l "$PHASE_SECS" -v "$@" >"$out" 2>&1
	c1=$(cpu_ticks "$KNOT_PID")
	DROPS=$(($(sock_drops "$KADDR" "$KPORT") - u0))
	RATE=$(sed -n 's/^ *Updates per second: *\([0-9.]*\).*/\1/p' "$out")
	local run
	run=$(sed -n 's/^ *Run time (s): *\([0-9.]*\).*/\1/p' "$out")
	awk '$1 == ">" && $2 != "T" && $2 != "I" { print $NF }' "$out" >"$out.lat"
	read -r P50 P99 < <(pctl "$out.lat")
	RC=$(awk '$1 == ">" { n[$2]++ } END { s = ""; for (k in n) s = s (s ? "," : "") (k == "T" ? "timeout" : k) ":" n[k]; print (s ? s : "-") }' "$out")
	CPU=$(cpu_share "$c0" "$c1" "$run")
	RATE=$(printf "%.1f" "${RATE:-0}")
}

# dsync-send with TSIG against Knot (same tool and the same changes as for
# dsyncd: each request replaces the NS set of s<conc>.example.); sets OUT, CPU
knot_dsyncsend() {
	local conc=$1 count=$2 recs
	mapfile -d '' recs < <(ns_replace "s$conc.example.")
	drive "$KNOT_PID" "$KADDR" "$KPORT" -z example. --tsig "bench.:$KSECRET" "${recs[@]}" \
		--count "$count" --concurrency "$conc"
}

# RCODE mix of a dsync-send summary line, timeouts included
rcodes_of() {
	local t
	[[ "$1" == count=* ]] || { echo "driver stopped after $((PHASE_SECS * 2 + 20)) s: no summary"; return; }
	t=$(kv timeouts "$1")
	echo "$(kv rcodes "$1")$([ "${t:-0}" != 0 ] && echo ",timeout:$t")"
}

# count for a target phase length from a calibration line and the best rate
# seen at a lower level (a short calibration at 1000 outstanding is mostly
# its start-up burst); the calibration's own rate when it had time-outs,
# which stretch a run far beyond its answers' share
phase_count() {
	awk -v r="$(kv rate "$1")" -v t="$(kv timeouts "$1")" -v best="${3:-0}" -v s="$PHASE_SECS" \
		-v min="$2" 'BEGIN {
		if (best > r && t + 0 == 0) r = best
		n = int(r * s); if (n < min) n = min; if (n > 65000) n = 65000; print n }'
}
# (at most 65000: dsync-send numbers its requests with 16-bit IDs, and past
# 65536 a request can repeat an earlier one byte for byte, which dsyncd then
# answers from its replay cache)

if want B3 || want B4; then
	echo
	echo "== B3/B4 end to end over loopback UDP, signed UPDATE (zone SOA + NS RRset delete + 2 NS adds + OPT + signature; each one a new NS set)"
	declare -A CHILDKEY
	HAVE_DNSPERF=0
	if ! command -v dnsperf >/dev/null; then
		note "dnsperf missing: apt-get install dnsperf"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q dnsperf >"$T/apt.log" 2>&1 ||
			{ apt-get update -q >>"$T/apt.log" 2>&1 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q dnsperf >>"$T/apt.log" 2>&1; }
	fi
	command -v dnsperf >/dev/null && HAVE_DNSPERF=1
	[ $HAVE_DNSPERF = 1 ] || note "dnsperf is not installable here: the Knot reference uses dsync-send --tsig only (same tool on both sides)"
	HAVE_KNOT=0
	if [ "${KNOT:-1}" != 1 ]; then
		note "KNOT=0: no Knot reference in this run"
	elif command -v knotd >/dev/null; then
		HAVE_KNOT=1
	else
		note "knotd is not installed (apt-get install knot): no reference"
	fi

	if ! start_dsyncd; then
		echo "dsyncd does not start; B3 skipped"
		exit 1
	fi
	[ $HAVE_KNOT = 1 ] && { start_knot || { note "knotd does not start; no reference"; HAVE_KNOT=0; }; }
	echo "dsyncd: $BUILD/dsyncd on $ADDR:$PORT, $(sed -n 's/.*serving .*, \([0-9]*\) verification worker.*/\1/p' "$T/dsyncd.log") verification worker(s), 12 children with ED25519 keys, null backend, SQLite in $T (synchronous=FULL), log level ${LOG_LEVEL:-info}"
	echo "        limits (tests/bench/conf.sh): updates-per-source and updates-per-signer 100000000 a minute, sig0.verify-budget 0 (none)"
	[ $HAVE_KNOT = 1 ] && echo "Knot:   $(knotd --version | head -1) on $KADDR:$KPORT, DDNS with TSIG hmac-sha256, journal in $T (robust), log level info"
	echo "driver: dsync-send (pre-signs every request; load phase about ${PHASE_SECS}s each); dnsperf $(dnsperf -h 2>&1 | sed -n 's/^Version //p' | head -1)"
	declare -A B4
	BEST_D=0
	BEST_K=0
	for conc in $LEVELS; do
		echo
		echo "-- $conc outstanding"
		row "server / driver" "rate/s" "p50 ms" "p99 ms" "CPU" "ratio" "RCODEs"
		# calibration (own child: no replay overlap with the measured run)
		mincount=$((conc * 3 > 300 ? conc * 3 : 300))
		dsyncd_load "$conc" "$mincount"
		count=$(phase_count "$OUT" "$mincount" "$BEST_D")
		s0=$(stats_line)
		PERF_PID=
		if [ "${PERF:-0}" = 1 ] && [ "$conc" = "${PERF_LEVEL:-100}" ] && command -v perf >/dev/null; then
			perf record -e cpu-clock -g -o "$T/perf.data" -p "$DSYNCD_PID" >"$T/perf.log" 2>&1 &
			PERF_PID=$!
		fi
		dsyncd_load "$conc" "$count"
		if [ -n "$PERF_PID" ]; then
			kill -INT "$PERF_PID"
			wait "$PERF_PID" 2>/dev/null
		fi
		s1=$(stats_line)
		D_RATE=$(kv rate "$OUT")
		BEST_D=$(awk -v a="$BEST_D" -v b="$D_RATE" 'BEGIN { print (b > a ? b : a) }')
		row "dsyncd SIG(0) ED25519 / dsync-send" "$D_RATE" "$(kv p50_ms "$OUT")" "$(kv p99_ms "$OUT")" \
			"$CPU" "" "$(rcodes_of "$OUT")"
		[ "$conc" = 1 ] && B4[dsyncd]="$(kv p50_ms "$OUT") $(kv p99_ms "$OUT")"
		kline=""
		d=()
		for f in commits commit_jobs received accepted refused dropped replays; do
			d+=("$f=$(($(kv "$f" "$s1") - $(kv "$f" "$s0")))")
		done
		fc=$(awk -v j="$(kv commit_jobs "${d[*]}")" -v c="$(kv commits "${d[*]}")" \
			'BEGIN { if (c > 0) printf "%.1f", j / c; else printf "-" }')
		dline="  dsyncd counters: ${d[*]}  group-commit factor=$fc  server socket drops=$DROPS"
		# every NOERROR of the phase must be a change in the store
		dstore="  dsyncd store, $CHILD after the phase: $(changes_of "$CHILD") (NOERROR answers: $(sed -n 's/.*NOERROR:\([0-9]*\).*/\1/p' <<<"$(kv rcodes "$OUT")"))"
		if [ $HAVE_KNOT = 1 ]; then
			if [ $HAVE_DNSPERF = 1 ]; then
				# every update adds NS at a new name: each one is a durable zone change
				awk -v n=$((PHASE_SECS * 20000)) -v p="r$conc" 'BEGIN { for (i = 0; i < n; i++)
					printf "example.\nadd %s-%d 3600 NS ns1.provider.net.\nadd %s-%d 3600 NS ns2.provider.org.\nsend\n", p, i, p, i }' >"$T/new.$conc.txt"
				k0=$(knot_serial)
				knot_dnsperf "$T/new.$conc.txt" "$conc" -n 1
				rm -f "$T/new.$conc.txt"
				row "Knot TSIG, new name each / dnsperf" "$RATE" "$P50" "$P99" "$CPU" \
					"$(pct "$D_RATE" "$RATE")" "$RC$([ "$DROPS" != 0 ] && echo " (server socket drops=$DROPS)")"
				kline="  Knot SOA serial: new name each +$(($(knot_serial) - k0))"
				[ "$conc" = 1 ] && B4[knot_new]="$P50 $P99"
				# the same content every time, as in the dsyncd run: no change after the first
				printf 'example.\nadd same%s 3600 NS ns1.provider.net.\nadd same%s 3600 NS ns2.provider.org.\nsend\n' \
					"$conc" "$conc" >"$T/same.$conc.txt"
				k0=$(knot_serial)
				knot_dnsperf "$T/same.$conc.txt" "$conc"
				kline+=", same content +$(($(knot_serial) - k0))"
				row "Knot TSIG, same content / dnsperf" "$RATE" "$P50" "$P99" "$CPU" \
					"$(pct "$D_RATE" "$RATE")" "$RC$([ "$DROPS" != 0 ] && echo " (server socket drops=$DROPS)")"
				[ "$conc" = 1 ] && B4[knot_same]="$P50 $P99"
			fi
			knot_dsyncsend "$conc" "$mincount"
			k0=$(knot_serial)
			knot_dsyncsend "$conc" "$(phase_count "$OUT" "$mincount" "$BEST_K")"
			kline+="${kline:+, }NS replaced each +$(($(knot_serial) - k0)), s$conc.example. NS now $(knot_ns "s$conc.example.")"
			BEST_K=$(awk -v a="$BEST_K" -v b="$(kv rate "$OUT")" 'BEGIN { print (b > a ? b : a) }')
			row "Knot TSIG, NS replaced each / dsync-send" "$(kv rate "$OUT")" "$(kv p50_ms "$OUT")" \
				"$(kv p99_ms "$OUT")" "$CPU" "$(pct "$D_RATE" "$(kv rate "$OUT")")" \
				"$(rcodes_of "$OUT")$([ "$DROPS" != 0 ] && echo " (server socket drops=$DROPS)")"
			[ "$conc" = 1 ] && B4[knot_ds]="$(kv p50_ms "$OUT") $(kv p99_ms "$OUT")"
		fi
		echo "$dline"
		echo "$dstore"
		[ -n "$kline" ] && echo "$kline (the serial grows by one per changeset: Knot applies the UPDATEs it has queued as one)"
		if [ -s "$T/perf.data" ] && [ "$conc" = "${PERF_LEVEL:-100}" ]; then
			echo "  perf, dsyncd during the run above (cpu-clock samples by library, then symbols):"
			perf report -i "$T/perf.data" --no-children --sort dso --stdio 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -6 | sed 's/^ */    /'
			perf report -i "$T/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -15 | sed 's/^ */    /'
			echo "  by thread (pid:comm; the two busiest libcrypto ones are the verification workers):"
			perf report -i "$T/perf.data" --no-children --sort pid,dso --stdio 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -12 | sed 's/^ */    /'
		fi
	done
	echo
	echo "(ratio = dsyncd rate / that row's rate; CPU = server CPU time / wall time, 100% = one core;"
	echo " RCODEs as counted by the driver; server socket drops = requests the kernel dropped at the
 server's UDP socket (receive buffer full), from /proc/net/udp)"

	if [[ " $LEVELS " == *" 1 "* ]]; then
		echo
		echo "== B4 serial latency (1 outstanding), from the B3 run above"
		printf "  %-40s %8s %8s  %s\n" "server / driver" "p50 ms" "p99 ms" "dsyncd p50 / this p50"
		read -r dp50 _ <<<"${B4[dsyncd]:-- -}"
		b4row() {
			local p50 p99
			[ -n "${2:-}" ] || return 0
			read -r p50 p99 <<<"$2"
			printf "  %-40s %8s %8s  %s\n" "$1" "$p50" "$p99" "$3"
		}
		b4row "dsyncd SIG(0) ED25519 / dsync-send" "${B4[dsyncd]:-}" ""
		for k in knot_new:"Knot TSIG, new name each / dnsperf" knot_same:"Knot TSIG, same content / dnsperf" \
			knot_ds:"Knot TSIG, NS replaced each / dsync-send"; do
			v=${B4[${k%%:*}]:-}
			b4row "${k#*:}" "$v" "$(awk -v a="$dp50" -v b="${v%% *}" 'BEGIN { if (b + 0 > 0) printf "%.2fx", a / b }')"
		done
	fi
	stop_pid "$DSYNCD_PID"
	[ $HAVE_KNOT = 1 ] && stop_pid "$KNOT_PID"
	grep " stats " "$T/dsyncd.log" | tail -1 | sed 's/^/dsyncd at exit: /'
fi

# ---- B6: signed KeyState answers against the sign rate ----------------------
#
# KeyState inquiries (QUERY child KEY with the KeyState option, 65002),
# SIG(0)-signed by the child's trusted ED25519 key, so authenticated: each
# costs one verification (the child's signature) and one signature (the
# receiver's ED25519 key over request and answer, receiver.sign rfc2931),
# on a verification worker, without a commit.  Unsigned inquiries are not
# measured (they are refused unless keystate.unsigned-inquiries allows them,
# and their answers are signed only within receiver.sign-budget).
if want B6; then
	echo
	echo "== B6 KeyState inquiries over loopback UDP, SIG(0)-signed by the child (authenticated), answers signed with the receiver's ED25519 key"
	declare -A B6KEY
	mkchildren k 12 "$T/b6keys" B6KEY
	mkdir -p "$T/b6db"
	bench_conf "$ADDR" "$PORT" "$T/b6db/dsyncd.db" "${LOG_LEVEL:-info}" 0 "$CHILDREN" false "$T/b6rkeys" >"$T/b6.conf"
	: >"$T/dsyncd.log"
	serve "$T/b6.conf" || { echo "dsyncd does not start; B6 skipped"; exit 1; }
	RKEY=$(printf '%s\n' "$T"/b6rkeys/K*.key | head -1)
	S15=${SIGN[15]:-0} V15=${VERIFY[15]:-0}
	CEIL=$(awk -v s="$S15" -v v="$V15" 'BEGIN { if (s > 0 && v > 0) printf "%.0f", 1 / (1 / s + 1 / v); else print 0 }')
	echo "dsyncd: $BUILD/dsyncd on $ADDR:$PORT, $(sed -n 's/.*serving .*, \([0-9]*\) verification worker.*/\1/p' "$T/dsyncd.log") verification worker(s), 12 children with trusted ED25519 keys, receiver updater.example. ($(basename "$RKEY" .key)), log level ${LOG_LEVEL:-info}"
	echo "        limits (tests/bench/conf.sh): keystate.inquiries-per-source 1000000 a minute, sig0.verify-budget 0 (none), receiver.sign-budget 1000000 (not used: the inquiries authenticate)"
	echo "reference (B1 above, one core): ED25519 sign/s $S15, verify/s $V15; an inquiry costs one of each: at most $CEIL answers/s per core"
	# b6_args N: dsync-send's arguments for an inquiry of child kN about its own key
	b6_args() {
		local tag
		tag=$(basename "${B6KEY[$1]}" | sed 's/.*+0*\([0-9][0-9]*\)$/\1/')
		echo "-k ${B6KEY[$1]} --opcode 0 -z k$1.example. --qtype KEY --ednsopt 65002:$(printf '%04x' "$tag")0200"
	}
	# shellcheck disable=SC2046 # (b6_args is words on purpose)
	one=$("$DSYNC_SEND" -s "$ADDR" -p "$PORT" --wait-ms 2000 $(b6_args 1) --verify-key "$RKEY" 2>&1 | tail -1)
	state=$(sed -n 's/.* opt65002=[0-9a-f]\{4\}\([0-9a-f]\{2\}\).*/\1/p' <<<"$one")
	echo "one inquiry: $(sed -n 's/^rcode=\([^ ]*\).*/\1/p' <<<"$one"), KeyState $((16#${state:-ff})) $([ "$state" = 04 ] && echo "(KEY_TRUSTED)"), receiver's signature: $(sed -n 's/.* sig0ok=\([^ ]*\).*/\1/p' <<<"$one")"
	printf "  %-11s %9s %8s %8s %6s %13s %10s %14s  %s\n" outstanding answers/s "p50 ms" "p99 ms" CPU answers/CPU-s "of ceiling" "signed" RCODEs
	BEST_6=0
	NEXT_K=2
	for conc in $LEVELS; do
		mincount=$((conc * 3 > 300 ? conc * 3 : 300))
		for phase in calibrate measure; do
			[ "$phase" = measure ] && mincount=$(phase_count "$OUT" "$mincount" "$BEST_6")
			s0=$(stats_line)
			# shellcheck disable=SC2046
			drive "$DSYNCD_PID" "$ADDR" "$PORT" $(b6_args $NEXT_K) --count "$mincount" --concurrency "$conc"
			s1=$(stats_line)
			NEXT_K=$((NEXT_K % 12 + 1))
		done
		rate=$(kv rate "$OUT")
		BEST_6=$(awk -v a="$BEST_6" -v b="$rate" 'BEGIN { print (b > a ? b : a) }')
		percpu=$(awk -v r="$rate" -v c="${CPU%\%}" 'BEGIN { if (c + 0 > 0) printf "%.0f", r / (c / 100); else printf "-" }')
		printf "  %-11s %9s %8s %8s %6s %13s %10s %14s  %s\n" "$conc" "$rate" "$(kv p50_ms "$OUT")" "$(kv p99_ms "$OUT")" \
			"$CPU" "$percpu" "$(pct "$percpu" "$CEIL")" "$(kv signed "$OUT")/$(kv answered "$OUT")" \
			"$(rcodes_of "$OUT")$([ "$DROPS" != 0 ] && echo " (server socket drops=$DROPS)")"
		echo "    dsyncd counters: verifications=$(($(kv verifications "$s1") - $(kv verifications "$s0"))) refused=$(($(kv refused "$s1") - $(kv refused "$s0")))"
	done
	echo "(answers/CPU-s = answers/s / dsyncd's CPU share: answers per second of one core's time; of ceiling ="
	echo " that / (1 / (1/sign + 1/verify)) from B1; signed = answers carrying the receiver's SIG(0) / answers)"
	stop_pid "$DSYNCD_PID"
	echo "dsyncd stopped (exit $?)"
fi

# ---- B5 helpers ------------------------------------------------------------------

# paced_send FROM KEYPREFIX CHILD COUNT RATE [args]: a paced load of the
# child's UPDATEs (two NS) signed with the key, sent from FROM; the summary line
paced_send() {
	local from=$1 key=$2 child=$3 n=$4 rate=$5
	shift 5
	timeout $((PHASE_SECS * 3 + 30)) "$DSYNC_SEND" -s "$ADDR" -p "$PORT" -b "$from" --wait-ms 2000 \
		-k "$key" --add "$child 3600 NS ns1.provider.net." \
		--add "$child 3600 NS ns2.provider.org." --count "$n" --rate "$rate" "$@" 2>&1 | tail -1
}
# b5_send FROM CHILD COUNT RATE [args]: child lN's UPDATEs
b5_send() { paced_send "$1" "${B5KEY[$2]}" "l$2.example." "${@:3}"; }
# b5_flood: B5_SOURCES forged-signature senders, one /24 each in
# 127.60.0.0/22, B5_FLOOD a second in all, for PHASE_SECS + 3 s; their
# summaries in $T/b5-flood.N; sets B5FLOOD (their PIDs); returns once the
# flood arrives
b5_flood() {
	local i rate=$((B5_FLOOD / B5_SOURCES)) r0
	B5FLOOD=()
	for i in $(seq 0 $((B5_SOURCES - 1))); do
		b5_send "127.$((60 + i % 4)).$((i / 4)).1" 1 $((rate * (PHASE_SECS + 3))) "$rate" \
			--concurrency 2000 --flip -1 >"$T/b5-flood.$i" &
		B5FLOOD+=($!)
	done
	# each signs everything first: wait until the flood arrives
	r0=$(kv received "$(stats_line)")
	for _ in $(seq 600); do
		[ "$(kv received "$(stats_line)")" -gt $((r0 + B5_FLOOD / 2)) ] && break
		sleep 0.1
	done
}
# b5_sum FIELD FILES...: a summary field's NAME:N counts added up over files
b5_sum() {
	local f=$1
	shift
	for x in "$@"; do sed -n "s/.* $f=\([^ ]*\).*/\1/p" "$x" | tail -1; done | tr ',' '\n' |
		awk -F: 'NF == 2 { n[$1] += $2 } END { s = ""; for (k in n) s = s (s ? "," : "") k ":" n[k]; print s ? s : "-" }'
}
# b5_run LABEL FLOOD(0/1) COOKIES(true/false): one run on a fresh dsyncd;
# prints its row, sets B5OK (success %) and B5P99 (the worst child's p99)
b5_run() {
	local label=$1 flood=$2 n=$((B5_LEGIT * PHASE_SECS)) c s0 s1 c0 c1 t0 t1 secs ok=0 all=0 p50=0 p99=0 to=0 out
	B5FLOOD=()
	rm -rf "$T/b5db" "$T"/b5-legit.* "$T"/b5-flood.*
	mkdir -p "$T/b5db"
	bench_conf "$ADDR" "$PORT" "$T/b5db/dsyncd.db" "${LOG_LEVEL:-info}" "$B5_BUDGET" "$b5children" "$3" >"$T/b5.conf"
	: >"$T/dsyncd.log"
	serve "$T/b5.conf" || { echo "  $label: dsyncd does not start"; STATUS=1; return 1; }
	sleep 1.2 # a full bucket
	[ "$flood" = 1 ] && b5_flood
	s0=$(stats_line)
	c0=$(cpu_ticks "$DSYNCD_PID")
	t0=$(date +%s%N)
	local legit=()
	for c in $(seq 1 "$B5_CHILDREN"); do
		b5_send 127.0.0.1 "$c" "$n" "$B5_LEGIT" --concurrency 10 --cookies >"$T/b5-legit.$c" &
		legit+=($!)
	done
	wait "${legit[@]}"
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$DSYNCD_PID")
	s1=$(stats_line)
	[ "$flood" = 1 ] && wait "${B5FLOOD[@]}"
	stop_pid "$DSYNCD_PID"
	for c in $(seq 1 "$B5_CHILDREN"); do
		out=$(cat "$T/b5-legit.$c")
		ok=$((ok + $(sed -n 's/.*NOERROR:\([0-9]*\).*/\1/p' <<<"$(kv rcodes "$out")" | grep . || echo 0)))
		all=$((all + n))
		to=$((to + $(kv timeouts "$out" | grep . || echo 0)))
		p50=$(awk -v a="$p50" -v b="$(kv p50_ms "$out")" 'BEGIN { print ((b + 0 > a) ? b : a) }')
		p99=$(awk -v a="$p99" -v b="$(kv p99_ms "$out")" 'BEGIN { print ((b + 0 > a) ? b : a) }')
	done
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	B5OK=$(awk -v a="$ok" -v b="$all" 'BEGIN { printf "%.1f", (b > 0 ? 100 * a / b : 0) }')
	B5P99=$p99
	b5_row "$label" "$(cpu_share "$c0" "$c1" "$secs")" \
		"$(awk -v a="$(kv verifications "$s0")" -v b="$(kv verifications "$s1")" -v s="$secs" 'BEGIN { printf "%.0f", (b - a) / s }')" \
		"$ok/$all" "$B5OK%" "$p50" "$p99" "$to" \
		"$([ "$flood" = 1 ] && echo "$(b5_sum rcodes "$T"/b5-flood.*) timeouts=$(cat "$T"/b5-flood.* | sed -n 's/.* timeouts=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')")"
}

# ---- B5: a forged-signature flood from many sources, with DNS Cookies --------
#
# The verification capacity C is B2's ED25519 verify rate on one core,
# measured here (b2, 1 s; B5_CAP to give it).  dsyncd runs with
# sig0.verify-budget = B5_BUDGET (default C) and cookies on.  B5_CHILDREN
# legitimate children, each with its own key and its own dsync-send at
# B5_LEGIT UPDATEs a second over UDP, learn their server cookie first and
# send it back (--cookies).  Runs on a fresh dsyncd each, PHASE_SECS long:
# the children alone (the reference); the same with a flood of forged
# signatures (a known child's key, last byte flipped: each passes every
# cheap check) at 2x C from B5_SOURCES addresses in 127.60.0.0/22 (one
# /24 each, no cookies); and that flood again with cookies off, to show
# what they buy.  R9 is out of the way (bench_conf), and so is the share
# per network (the children all come from 127.0.0.1).
if want B5; then
	B5_CHILDREN=${B5_CHILDREN:-5}
	B5_LEGIT=${B5_LEGIT:-10}
	B5_SOURCES=${B5_SOURCES:-8}
	B2=$BIN/tests/bench/b2
	if [ -z "${B5_CAP:-}" ] && [ -x "$B2" ]; then
		mkdir -p "$T/b5cap"
		k=$(dnssec-keygen -q -T KEY -a ED25519 -n HOST -K "$T/b5cap" b5-cap.example.)
		B5_CAP=$("${PIN[@]}" "$B2" -t 1 "$T/b5cap/$k" 2>/dev/null | sed -n 's/.* verify=\([0-9]*\).*/\1/p' | head -1)
	fi
	echo
	if [ -z "${B5_CAP:-}" ] || [ "${B5_CAP:-0}" -le 0 ]; then
		echo "== B5: no verification capacity (b2 missing: make bench-build, or set B5_CAP); B5 skipped"
		STATUS=1
	else
		B5_BUDGET=${B5_BUDGET:-$B5_CAP}
		B5_FLOOD=$((B5_CAP * 2))
		echo "== B5 forged-signature flood at 2x the verification capacity ($B5_CAP/s, B2 ED25519 on one core -> flood $B5_FLOOD/s from $B5_SOURCES sources), sig0.verify-budget $B5_BUDGET, $B5_CHILDREN children at $B5_LEGIT/s each with DNS Cookies"
		declare -A B5KEY
		mkchildren l "$B5_CHILDREN" "$T/b5keys" B5KEY
		b5children=$CHILDREN
		b5_row() { printf "  %-30s %7s %8s %11s %8s %8s %8s %8s  %s\n" "$@"; }
		b5_row "run" "CPU" "verif/s" "legit ok" "success" "p50 ms" "p99 ms" "timeouts" "flood answers"
		b5_run "children alone (reference)" 0 true
		b5_run "flood 2x capacity, cookies" 1 true
		B5_OK=$B5OK B5_P99=$B5P99
		b5_run "flood 2x capacity, no cookies" 1 false
		echo "  goal: with the flood and cookies, legitimate success >= 99% and p99 < 100 ms:" \
			"$(awk -v ok="$B5_OK" -v p="$B5_P99" 'BEGIN { print ((ok >= 99 && p != "-" && p < 100) ? "met" : "not met") }')" \
			"(success $B5_OK%, p99 $B5_P99 ms)"
		echo "(CPU = dsyncd's user+system time / wall time, 100% = one core; legit ok = NOERROR answers of the"
		echo " children, all together; p50/p99 = the worst child's; flood answers = the flood's RCODEs summed"
		echo " over its sources, TC = truncated: no verification; the machine may be shared: compare the runs)"
	fi
fi

# ---- B9: invalid signatures at 10x the verification budget -------------------
#
# Three runs on a fresh dsyncd each, PHASE_SECS long: legitimate UPDATEs at
# B9_LEGIT/s alone (the reference), then the same with a flood of invalid
# signatures (a known child's key, last signature byte flipped: each one
# passes every cheap check and would cost a verification) at 10x
# B9_BUDGET/s, once with sig0.verify-budget = B9_BUDGET and once with 0 (no
# budget).  The R9 limits are raised out of the way: the flood comes from
# one /24 and one signer, which R9 alone would cut to 600 a minute; B9
# measures R8 by itself.
if want B9; then
	B9_BUDGET=${B9_BUDGET:-500}
	B9_LEGIT=${B9_LEGIT:-50}
	FLOOD_RATE=$((B9_BUDGET * 10))
	echo
	echo "== B9 verification budget: invalid signatures at 10x sig0.verify-budget ($B9_BUDGET/s -> flood $FLOOD_RATE/s), legitimate UPDATEs at $B9_LEGIT/s"
	declare -A B9KEY
	mkchildren b 8 "$T/b9keys" B9KEY
	b9children=$CHILDREN
	# b9_start BUDGET RUN: a fresh dsyncd with its own store
	b9_start() {
		rm -rf "$T/b9db"
		mkdir -p "$T/b9db"
		# the same limits as B3 (R9 out of the way), but this run's verify-budget
		bench_conf "$ADDR" "$PORT" "$T/b9db/dsyncd.db" "${LOG_LEVEL:-info}" "$1" "$b9children" >"$T/b9.conf"
		: >"$T/dsyncd.log"
		serve "$T/b9.conf"
	}
	# b9_send FROM CHILD COUNT RATE [args]: a paced load of child bN's UPDATEs
	b9_send() { paced_send "$1" "${B9KEY[$2]}" "b$2.example." "${@:3}"; }
	# b9_run LABEL BUDGET FLOOD(0/1) CHILD: one run; prints its row, sets B9CPU B9P99
	b9_row() { printf "  %-26s %7s %8s %9s %9s %8s %8s  %s\n" "$@"; }
	b9_run() {
		local label=$1 budget=$2 flood=$3 c=$4 s0 s1 c0 c1 t0 t1 legit fl="" v cpu ok n
		b9_start "$budget" || { echo "  $label: dsyncd does not start"; return 1; }
		sleep 1.2 # a full bucket
		n=$((B9_LEGIT * PHASE_SECS))
		if [ "$flood" = 1 ]; then
			# it outlasts the legitimate load by 3 s; past 65536 its IDs
			# repeat, which is harmless here: invalid signatures never
			# enter the replay cache, and few are outstanding at a time
			b9_send 127.0.1.1 8 $((FLOOD_RATE * (PHASE_SECS + 3))) "$FLOOD_RATE" \
				--concurrency 1000 --flip -1 >"$T/b9-flood.out" &
			local fpid=$! r0
			# dsync-send signs everything first: wait until the flood arrives
			r0=$(kv received "$(stats_line)")
			for _ in $(seq 300); do
				[ "$(kv received "$(stats_line)")" -gt $((r0 + FLOOD_RATE / 5)) ] && break
				sleep 0.1
			done
		fi
		s0=$(stats_line)
		c0=$(cpu_ticks "$DSYNCD_PID")
		t0=$(date +%s%N)
		legit=$(b9_send 127.0.0.1 "$c" "$n" "$B9_LEGIT" --concurrency 10)
		t1=$(date +%s%N)
		c1=$(cpu_ticks "$DSYNCD_PID")
		s1=$(stats_line)
		[ "$flood" = 1 ] && { wait "$fpid"; fl=$(cat "$T/b9-flood.out"); }
		stop_pid "$DSYNCD_PID"
		local secs
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
		cpu=$(awk -v a="$c0" -v b="$c1" -v s="$secs" -v k="$CLK" 'BEGIN { printf "%.0f", 100 * (b - a) / k / s }')
		v=$(awk -v a="$(kv verifications "$s0")" -v b="$(kv verifications "$s1")" -v s="$secs" \
			'BEGIN { printf "%.0f", (b - a) / s }')
		ok=$(sed -n 's/.*NOERROR:\([0-9]*\).*/\1/p' <<<"$(kv rcodes "$legit")")
		b9_row "$label" "$cpu%" "$v" "${ok:-0}/$n" "$(kv p50_ms "$legit")" "$(kv p99_ms "$legit")" \
			"$(kv timeouts "$legit")" "${fl:+$(kv rcodes "$fl") edes=$(kv edes "$fl") timeouts=$(kv timeouts "$fl")}"
		B9CPU=$cpu
		B9P99=$(kv p99_ms "$legit")
		B9OK=${ok:-0}
	}
	echo "dsyncd: $BUILD/dsyncd on $ADDR:$PORT, workers = 0 ($(nproc) CPUs), queue-max 1024, ED25519 keys, null backend, SQLite (synchronous=FULL), log level ${LOG_LEVEL:-info}"
	echo "legitimate: $B9_LEGIT/s from 127.0.0.1 for ${PHASE_SECS}s, 10 outstanding at most; flood: $FLOOD_RATE/s from 127.0.1.1, invalid signatures of a known child"
	b9_row "run" "CPU" "verif/s" "legit ok" "p50 ms" "p99 ms" "timeouts" "flood answers"
	b9_run "no flood (reference)" "$B9_BUDGET" 0 1
	R_CPU=$B9CPU R_P99=$B9P99
	b9_run "flood, budget $B9_BUDGET/s" "$B9_BUDGET" 1 2
	F_CPU=$B9CPU F_P99=$B9P99
	b9_run "flood, no budget (0)" 0 1 3
	N_CPU=$B9CPU N_P99=$B9P99
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "") printf "%.2fx", a / b; else printf "-" }'; }
	echo "  ratios to the reference: with the budget CPU $(ratio "$F_CPU" "$R_CPU"), legitimate p99 $(ratio "$F_P99" "$R_P99");" \
		"without it CPU $(ratio "$N_CPU" "$R_CPU"), legitimate p99 $(ratio "$N_P99" "$R_P99")"
	echo "(CPU = dsyncd's user+system time / the run's wall time, 100% = one core; verif/s = signature"
	echo " verifications per second from dsyncd's counters; legit ok = NOERROR answers of the legitimate"
	echo " load; flood answers = the flood's RCODEs and first EDEs: 14 budget, 6 verified and bad, 15 blocked)"
fi
exit $STATUS
