#!/usr/bin/env bash
# tests/bench/backlog.sh BUILDDIR -- B10: how fast a backlog of changes
# reaches a snapshot backend.  A parent zone of N delegations (default
# 100,000) is imported (`dsyncd import`: N changes queued for the zonefile
# backend), then dsyncd starts and the time until nothing is pending is
# measured: the zonefile backend writes the whole zone once for everything
# pending.  The reference, measured in the same run on the same machine, is
# BIND's named-checkzone reading the written data (what loading that zone
# costs a name server).
#
#   make bench                  (runs it after tests/bench/run.sh)
#   N=2000 tests/bench/backlog.sh build
#
# Environment: N (delegations), BENCH_ADDR (dsyncd's address, 127.0.0.9),
# KEEP=1 (keep the temporary folder).  Not part of the pass/fail suite;
# exits non-zero only when the benchmark cannot run.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$TOP/${1:-build}
N=${N:-100000}
ADDR=${BENCH_ADDR:-127.0.0.9}
T=$(mktemp -d /tmp/dsyncd-backlog.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "# files kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
for c in named-checkzone sqlite3; do
	command -v $c >/dev/null || { echo "B10: $c is not installed"; exit 1; }
done
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
pending() { sqlite3 "$T/db/dsyncd.db" "select count(*) from delivery where state = 'pending'"; }

mkdir -p "$T/db" "$T/out"
awk -v n="$N" 'BEGIN {
	print "$ORIGIN example.\n$TTL 3600\n@ SOA ns1.example. h.example. 1 3600 900 604800 300"
	print "@ NS ns1.example.\nns1 A 192.0.2.1"
	for (i = 0; i < n; i++) printf "c%d NS ns1.provider.net.\nc%d NS ns2.provider.org.\n", i, i
}' >"$T/parent.zone"
cat >"$T/dsyncd.conf" <<EOC
server = { listen = [ "$ADDR" ]; port = 5354; };
store = { path = "$T/db/dsyncd.db"; };
log = { level = "info"; };
zones = ( { name = "example.";
  backends = ( { type = "zonefile"; path = "$T/out/example.delegations"; } ); } );
EOC
"$BIN/dsyncd" -c "$T/dsyncd.conf" import example. "$T/parent.zone" >"$T/import.log" 2>&1 ||
	{ echo "B10: import failed"; cat "$T/import.log"; exit 1; }
queued=$(pending)

t0=$(now)
"$BIN/dsyncd" -c "$T/dsyncd.conf" >"$T/dsyncd.log" 2>&1 &
PID=$!
left=$queued
for _ in $(seq 6000); do # at most 10 minutes
	left=$(pending)
	[ "$left" = 0 ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
t1=$(now)
[ "$left" = 0 ] || { echo "B10: $left change(s) still pending"; tail -5 "$T/dsyncd.log"; exit 1; }
writes=$(grep -c "zonefile backend: wrote" "$T/dsyncd.log")
{ echo "\$ORIGIN example."; echo "\$TTL 3600"
  echo "@ SOA ns1.example. h.example. 1 3600 900 604800 300"; echo "@ NS ns1.example."
  echo "ns1 A 192.0.2.1"; cat "$T/out/example.delegations"; } >"$T/served.zone"
r0=$(now)
named-checkzone -q example. "$T/served.zone" || { echo "B10: named-checkzone refuses the zone"; exit 1; }
r1=$(now)
d=$(secs "$t0" "$t1")
r=$(secs "$r0" "$r1")
echo "B10 zonefile backlog: $queued change(s) of $N delegation(s) delivered in $d s" \
	"($(awk -v q="$queued" -v d="$d" 'BEGIN { printf "%.0f", q / d }') changes/s), $writes write(s)" \
	"of $(wc -c <"$T/out/example.delegations") bytes"
echo "B10 reference: named-checkzone reads the written zone in $r s;" \
	"delivery / reference = $(awk -v d="$d" -v r="$r" 'BEGIN { printf "%.2f", d / r }')"
