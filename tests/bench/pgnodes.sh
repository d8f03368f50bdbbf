#!/usr/bin/env bash
# tests/bench/pgnodes.sh BUILDDIR -- B3 on the two store engines: signed
# UPDATEs per second, each one a real change (a child's NS set replaced by a
# new pair), at 1, 100 and 1000 outstanding, on
#   sqlite   one dsyncd, its SQLite file (the reference of the same run)
#   pg1      one dsyncd on a PostgreSQL database
#   pg2      two dsyncd sharing that database, the load split between them
#            (each node gets half the outstanding requests, its own child;
#            at "1 outstanding" each node gets one)
# PostgreSQL is Debian's, started by this script in its own folder on a
# loopback address (initdb, fsync on, synchronous_commit on).
#
# Environment:
#   PHASE_SECS   length of each load phase in seconds (default 5)
#   LEVELS       outstanding requests (default "1 100 1000")
#   BENCH_ADDR   the first node's address (default 127.0.7.10; the second
#                node is on .11, PostgreSQL on .12)
#   KEEP=1       keep the temporary folder
#
# Prints one table; exits non-zero only when something could not run.
# Never part of the pass/fail suite (tests/integration/20-bench-smoke.sh
# runs it briefly to see that it still measures).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
BUILD=${1:-build}
BIN=$TOP/$BUILD
PHASE_SECS=${PHASE_SECS:-5}
LEVELS=${LEVELS:-"1 100 1000"}
A1=${BENCH_ADDR:-127.0.7.10}
A2=${A1%.*}.$((${A1##*.} + 1))
PGA=${A1%.*}.$((${A1##*.} + 2))
PGP=15435
PORT=5354
T=$(mktemp -d /tmp/dsyncd-pgnodes.XXXXXX)
chmod 711 "$T"
PIDS=()
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"
# shellcheck source=tests/integration/lib-pg.sh
. "$TOP/tests/integration/lib-pg.sh"

# shellcheck disable=SC2317 # (called by the trap)
cleanup() {
	stop_pids TERM
	pg_stop "$T/pg"
	if [ "${KEEP:-0}" = 1 ]; then echo "# files kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
# noerror SUMMARY: the NOERROR answers of a load run
noerror() {
	local n
	n=$(sed -n 's/.*NOERROR:\([0-9]*\).*/\1/p' <<<"$(kv rcodes "$1")")
	echo "${n:-0}"
}

mkdir -p "$T/keys"
children=""
for c in c1 c2 c3 c4; do
	k=$(dnssec-keygen -q -T KEY -a ED25519 -n HOST -K "$T/keys" "$c.example.") || exit 1
	declare "KEY_$c=$T/keys/$k"
	children+="${children:+, }{ name = \"$c.example.\"; keys = ( \"$T/keys/$k.key\" ); }"
done

pg_start "$T/pg" "$PGA" $PGP >"$T/pg.log" 2>&1 || { cat "$T/pg.log"; echo "PostgreSQL does not start"; exit 1; }
PGSPEC="postgresql:$(pg_conninfo "$PGA" $PGP)"

# node ADDR STORE NAME: start one dsyncd, wait until it serves
node() {
	bench_conf "$1" $PORT "$2" notice 0 "$children" >"$T/$3.conf"
	"$BIN/dsyncd" -c "$T/$3.conf" >"$T/$3.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 300); do
		grep -q "dsyncd serving" "$T/$3.log" && return 0
		sleep 0.1
	done
	tail -5 "$T/$3.log"
	return 1
}

# send ADDR CHILD COUNT CONC: a load of COUNT UPDATEs, each a new NS pair
send() {
	local key="KEY_$2"
	"$BIN/dsync-send" -s "$1" -p $PORT -k "${!key}" --wait-ms 5000 --count "$3" --concurrency "$4" \
		--del-rrset "$2.example. NS" --add "$2.example. 3600 NS a{i}-$RANDOM.$2.net." \
		--add "$2.example. 3600 NS b{i}.$2.net." 2>&1 | tail -1
}

# phase SETUP CONC: one measured phase (count calibrated by a short run);
# prints "rate p50 p99 noerror/count"
phase() {
	local setup=$1 conc=$2 cal count out o2 rate
	local half=$((conc / 2 > 0 ? conc / 2 : 1))
	if [ "$setup" = pg2 ]; then
		cal=$(send "$A1" c1 300 "$half")
	else
		cal=$(send "$A1" c1 300 "$conc")
	fi
	rate=$(kv rate "$cal")
	count=$(awk -v r="${rate:-100}" -v s="$PHASE_SECS" 'BEGIN { c = int(r * s); print (c < 300 ? 300 : c) }')
	if [ "$setup" = pg2 ]; then
		send "$A1" c1 $((count / 2)) "$half" >"$T/o1" &
		local p=$!
		send "$A2" c2 $((count / 2)) "$half" >"$T/o2"
		wait $p
		out=$(cat "$T/o1")
		o2=$(cat "$T/o2")
		awk -v a="$(kv rate "$out")" -v b="$(kv rate "$o2")" -v p="$(kv p50_ms "$out")" \
			-v q="$(kv p99_ms "$out")" 'BEGIN { printf "%.0f %s %s", a + b, p, q }'
		echo " $(($(noerror "$out") + $(noerror "$o2")))/$((count / 2 * 2))"
	else
		out=$(send "$A1" c1 "$count" "$conc")
		echo "$(kv rate "$out") $(kv p50_ms "$out") $(kv p99_ms "$out") $(noerror "$out")/$count"
	fi
}

declare -A R
for setup in sqlite pg1 pg2; do
	stop_pids TERM
	PIDS=()
	case $setup in
	sqlite) node "$A1" "$T/db/dsyncd.db" n1 || exit 1 ;;
	pg1) node "$A1" "$PGSPEC" n1 || exit 1 ;;
	pg2)
		node "$A1" "$PGSPEC" n1 || exit 1
		node "$A2" "$PGSPEC" n2 || exit 1
		;;
	esac
	for conc in $LEVELS; do
		R[$setup,$conc]=$(phase $setup "$conc")
	done
done
stop_pids TERM

echo "== B3 on both store engines (each UPDATE a new NS pair; dsync-send; phases of about ${PHASE_SECS}s)"
echo "   $(nproc) CPU(s); dsyncd, PostgreSQL $(pg_as "$(pg_bin)/postgres" --version | awk '{print $3}') and the load generator share them"
printf '%-12s %-8s %10s %8s %8s %12s %8s\n' outstanding store rate/s "p50 ms" "p99 ms" NOERROR "/sqlite"
for conc in $LEVELS; do
	base=$(awk '{print $1}' <<<"${R[sqlite,$conc]}")
	for setup in sqlite pg1 pg2; do
		read -r rate p50 p99 ans <<<"${R[$setup,$conc]}"
		ratio=$(awk -v a="$rate" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
		printf '%-12s %-8s %10s %8s %8s %12s %8s\n' "$conc" "$setup" "$rate" "$p50" "$p99" "$ans" "$ratio"
	done
done
echo "(pg2: two nodes, rates added; p50/p99 of the first node; NOERROR: answers NOERROR / UPDATEs sent)"
