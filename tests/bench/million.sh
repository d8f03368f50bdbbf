#!/usr/bin/env bash
# tests/bench/million.sh BUILDDIR -- benchmark B7 of doc/hardening.md: a
# store with a million children, each with a delegation (2 NS + 1 DS, one
# child in ten with in-bailiwick NS and A/AAAA glue) and a trusted ED25519
# SIG(0) key.  Measured, in this order:
#
#   import     `dsyncd import` of the parent zone file (N changes queued)
#   keys       tests/bench/b7keys: a real key pair per child, stored trusted
#              in one transaction (not a dsyncd code path: see README.md)
#   store      bytes of the store file per child, and per table and index
#              (SQLite's dbstat)
#   cold start dsyncd started on that store: seconds until a signed UPDATE
#              (one sample child's) is answered NOERROR; goal under 2 s
#   backlog    seconds from the start until the N imported changes (and the
#              one above) are delivered to the zonefile backend (a snapshot
#              backend: one write for everything pending)
#   RSS        dsyncd's VmRSS (and peak, VmHWM) once the backlog is delivered
#   one change seconds from sending one more signed UPDATE until its record
#              is in the zonefile backend's file
#   B3         signed UPDATEs/s at CONC outstanding (dsync-send load mode with
#              the arguments tests/bench/run.sh gives it), on this store and
#              on a reference store holding only the sample children, with
#              the same configuration, both dsyncd running, ROUNDS rounds
#              taking turns; goal: the median at least 90% of the reference's
#
#   make bench                    (runs it after tests/bench/run.sh and backlog.sh)
#   MILLION_N=100000 tests/bench/million.sh build
#
# Environment: MILLION_N (children, default 1000000), MILLION_SAMPLE
# (children whose key files are written for the load, default 4, at least
# 4), PHASE_SECS (B3 phase, default 10, max 20), CONC (outstanding, 100),
# ROUNDS (B3 rounds, 3), BENCH_ADDR and BENCH_PORT (dsyncd's, 127.0.0.9 and
# 5354; the reference's dsyncd listens on BENCH_PORT + 1), DSYNC_SEND,
# B7KEYS (the key program, default BUILDDIR/tests/bench/b7keys), KEEP=1
# (keep the temporary folder), MILLION_STORE (a folder where the imported
# store with its keys is kept, per N and SAMPLE: when it holds one already,
# import and keys are skipped and the measurements start from a copy of it;
# for repeated cold-start measurements).  It needs about 1.4 KB of disk per
# child (twice that with MILLION_STORE) and, at a million, about five
# minutes on two cores (one and a half reusing a kept store).  Not part of
# the pass/fail suite; exits non-zero only when the benchmark cannot run.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
BIN=$TOP/$BUILD
N=${MILLION_N:-1000000}
SAMPLE=${MILLION_SAMPLE:-4}
[ "$SAMPLE" -lt 4 ] && SAMPLE=4
[ "$SAMPLE" -gt "$N" ] && { echo "B7: MILLION_N must be at least MILLION_SAMPLE ($SAMPLE)"; exit 1; }
PHASE_SECS=${PHASE_SECS:-10}
[ "$PHASE_SECS" -gt 20 ] && PHASE_SECS=20
CONC=${CONC:-100}
ROUNDS=${ROUNDS:-3}
ADDR=${BENCH_ADDR:-127.0.0.9}
PORT=${BENCH_PORT:-5354}
DSYNC_SEND=${DSYNC_SEND:-$BIN/dsync-send}
B7KEYS=${B7KEYS:-$BIN/tests/bench/b7keys}
T=$(mktemp -d /tmp/dsyncd-million.XXXXXX)
PID= PIDB=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$PIDB" ] && kill "$PIDB" 2>/dev/null && wait "$PIDB" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "# files kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"
for c in sqlite3 "$B7KEYS" "$DSYNC_SEND" "$BIN/dsyncd"; do
	command -v "$c" >/dev/null || { echo "B7: $c is missing (make bench-build)"; exit 1; }
done

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
kv() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
per() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.0f", a / b; else printf "-" }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "") printf "%.0f%%", 100 * a / b; else printf "-" }'; }

# zone COUNT: the parent zone example. with children c0 .. c<COUNT-1>
zone() {
	parent_zone 192.0.2.1
	awk -v n="$1" 'BEGIN { srand(7); for (i = 0; i < n; i++) {
		if (i % 10 == 0)
			printf "c%d NS ns1.c%d\nc%d NS ns2.c%d\nns1.c%d A 192.0.2.%d\nns2.c%d AAAA 2001:db8::%x\n",
				i, i, i, i, i, i % 250 + 1, i, i % 65535 + 1
		else
			printf "c%d NS ns1.provider-%d.net.\nc%d NS ns2.provider-%d.org.\n", i, i % 100, i, i % 100
		h = ""; for (j = 0; j < 8; j++) h = h sprintf("%08X", int(rand() * 4294967296))
		printf "c%d DS %d 13 2 %s\n", i, i % 65536, h } }'
}

# setup DIR COUNT: DIR/dsyncd.conf (zonefile backend into DIR/out), the
# zone of COUNT children imported into DIR/db, a key for each, the first
# SAMPLE's key files in DIR/keys (KEY[i]: c<i>'s); IMPORT, KEYSECS: seconds
declare -A KEY
setup() {
	local dir=$1 count=$2 t0 t1 c p kept="" keys=$1/keys
	mkdir -p "$dir/db" "$dir/out" "$dir/keys"
	bench_conf "$ADDR" "$PORT" "$dir/db/dsyncd.db" info 0 "" false "" \
		"{ type = \"zonefile\"; path = \"$dir/out/example.delegations\"; }" >"$dir/dsyncd.conf"
	if [ -n "${MILLION_STORE:-}" ]; then
		kept=$MILLION_STORE/n$count-s$SAMPLE
		keys=$kept/keys
		if [ -s "$kept/keys.out" ]; then
			cp "$kept/dsyncd.db" "$dir/db/dsyncd.db" || return 1
			[ -e "$kept/dsyncd.db-wal" ] && cp "$kept/dsyncd.db-wal" "$dir/db/"
			cp "$kept/keys.out" "$dir/keys.out"
			# a store kept by an older build is migrated here, not in the
			# cold start below (and kept so: once per version)
			local v0
			v0=$(sqlite3 "$dir/db/dsyncd.db" "select version from schema_version")
			"$BIN/dsyncd" -c "$dir/dsyncd.conf" key pending >/dev/null 2>&1
			[ "$(sqlite3 "$dir/db/dsyncd.db" "select version from schema_version")" = "$v0" ] ||
				{ cp "$dir/db/dsyncd.db" "$kept/dsyncd.db" && rm -f "$kept/dsyncd.db-wal"; }
			IMPORT="(kept store)" KEYSECS="(kept store)"
			while read -r _ c p; do KEY[${c#c}]=$p; done < <(grep '^key ' "$dir/keys.out")
			return 0
		fi
		rm -rf "$kept" && mkdir -p "$keys" || return 1
	fi
	zone "$count" >"$dir/parent.zone"
	t0=$(now)
	"$BIN/dsyncd" -c "$dir/dsyncd.conf" import example. "$dir/parent.zone" >"$dir/import.log" 2>&1 ||
		{ echo "B7: import failed"; tail -3 "$dir/import.log"; return 1; }
	t1=$(now)
	IMPORT=$(secs "$t0" "$t1")
	"$B7KEYS" "$dir/db/dsyncd.db" example. "$count" "$SAMPLE" "$keys" >"$dir/keys.out" 2>&1 ||
		{ echo "B7: b7keys failed"; tail -3 "$dir/keys.out"; return 1; }
	KEYSECS=$(kv secs "$(tail -1 "$dir/keys.out")")
	if [ -n "$kept" ]; then # keys.out last: it marks the kept store complete
		cp "$dir/db/dsyncd.db" "$kept/dsyncd.db" || return 1
		[ -e "$dir/db/dsyncd.db-wal" ] && cp "$dir/db/dsyncd.db-wal" "$kept/"
		cp "$dir/keys.out" "$kept/keys.out" || return 1
	fi
	while read -r _ c p; do KEY[${c#c}]=$p; done < <(grep '^key ' "$dir/keys.out")
}

pending() { sqlite3 "$1/db/dsyncd.db" "select count(*) from delivery where state = 'pending'" 2>/dev/null; }
# update CHILD RR: one signed UPDATE of c<CHILD> adding RR; prints the answer
update() {
	"$DSYNC_SEND" -s "$ADDR" -p "$PORT" --wait-ms 200 -k "${KEY[$1]}" --add "$2" 2>&1 | tail -1
}

# start DIR: dsyncd on DIR's store; FIRST: seconds until c0's UPDATE is
# answered NOERROR, DRAIN: until nothing is pending; T0: the start
start() {
	local dir=$1 a left t1
	: >"$dir/dsyncd.log"
	T0=$(now)
	"$BIN/dsyncd" -c "$dir/dsyncd.conf" >>"$dir/dsyncd.log" 2>&1 &
	PID=$!
	FIRST=
	local until=$(($(date +%s) + 120)) # 120 s at most (an attempt refused at once is not 200 ms)
	while [ "$(date +%s)" -lt "$until" ]; do
		a=$(update 0 "c0.example. 3600 NS b7-start.provider.net.")
		case $a in rcode=NOERROR*) FIRST=$(secs "$T0" "$(now)"); break ;; esac
		kill -0 "$PID" 2>/dev/null || break
		case $a in *refused=1*) sleep 0.01 ;; esac # not listening yet: no 200 ms wait
	done
	[ -n "$FIRST" ] || { echo "B7: no NOERROR from dsyncd (last answer: $a)"; tail -5 "$dir/dsyncd.log"; return 1; }
	for _ in $(seq 6000); do # 10 minutes at most
		left=$(pending "$dir")
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	t1=$(now)
	[ "$left" = 0 ] || { echo "B7: $left change(s) still pending"; return 1; }
	DRAIN=$(secs "$T0" "$t1")
}

# b3 C DIR: B3's load at CONC outstanding as tests/bench/run.sh runs it: a
# calibration with c<C>, then, once the outbox of the store in DIR is empty
# again, about PHASE_SECS with c<C> again; OUT: its line.  The calibration's
# first UPDATE changes c<C>'s NS set and the phase's change nothing more, so
# that no rewrite of the whole zone file (seconds, at a million children)
# overlaps the phase: it measures the receiver on the store
b3() {
	local n out
	load() {
		timeout $((PHASE_SECS * 2 + 20)) "$DSYNC_SEND" -s "$ADDR" -p "$PORT" --wait-ms 1000 -k "${KEY[$1]}" \
			--add "c$1.example. 3600 NS ns1.provider.net." --add "c$1.example. 3600 NS ns2.provider.org." \
			--count "$2" --concurrency "$CONC" 2>&1 | tail -1
	}
	out=$(load "$1" $((CONC * 3 > 300 ? CONC * 3 : 300)))
	n=$(awk -v r="$(kv rate "$out")" -v s="$PHASE_SECS" 'BEGIN { n = int(r * s)
		if (n < 300) n = 300; if (n > 65000) n = 65000; print n }')
	for _ in $(seq 3000); do [ "$(pending "$2")" = 0 ] && break; sleep 0.1; done
	out=$(load "$1" $((CONC * 3 > 300 ? CONC * 3 : 300))) # the same rate, warm
	n=$(awk -v r="$(kv rate "$out")" -v s="$PHASE_SECS" 'BEGIN { n = int(r * s)
		if (n < 300) n = 300; if (n > 65000) n = 65000; print n }')
	OUT=$(load "$1" "$n")
}

stop() { kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=; }

echo "B7 $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPU(s), build $BUILD: $N children, $SAMPLE sample keys, dsyncd on $ADDR:$PORT"
setup "$T/m" "$N" || exit 1
if [ "$IMPORT" = "(kept store)" ]; then
	echo "B7 import: none, the store kept in $MILLION_STORE was copied (MILLION_STORE)"
else
	echo "B7 import: $N delegation(s) in $IMPORT s ($(per "$N" "$IMPORT") children/s); keys: $N ED25519 key pairs generated and stored in $KEYSECS s"
fi
DB=$T/m/db/dsyncd.db
bytes=$(stat -c %s "$DB")
echo "B7 store: $bytes bytes, $(per "$bytes" "$N") bytes per child (tables and indexes over 1 byte per child:)"
sqlite3 "$DB" "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC" |
	awk -F'|' -v n="$N" '$2 / n >= 1 { printf "B7 store:   %-28s %7.1f\n", $1, $2 / n }'
start "$T/m" || exit 1
read -r rss hwm < <(awk '/^VmRSS/ { r = $2 } /^VmHWM/ { h = $2 } END { print r, h }' "/proc/$PID/status")
echo "B7 cold start: first NOERROR $FIRST s after the start (goal < 2 s); backlog of $N imported change(s)" \
	"delivered in $DRAIN s, $(grep -c "zonefile backend: wrote" "$T/m/dsyncd.log") write(s) of" \
	"$(stat -c %s "$T/m/out/example.delegations") bytes"
echo "B7 memory: VmRSS $((rss / 1024)) MiB ($(per $((rss * 1024)) "$N") bytes per child), peak VmHWM $((hwm / 1024)) MiB"
mark="b7-$$.provider.net."
t0=$(now)
a=$(update 1 "c1.example. 3600 NS $mark")
for _ in $(seq 3000); do
	grep -q "$mark" "$T/m/out/example.delegations" 2>/dev/null && break
	sleep 0.01
done
t1=$(now)
grep -q "$mark" "$T/m/out/example.delegations" || { echo "B7: the change never reached the file ($a)"; exit 1; }
echo "B7 one change: NOERROR and in the zonefile backend's file $(secs "$t0" "$t1") s after it was sent"
# B3 on both stores, both dsyncd running (the idle one costs nothing),
# ROUNDS times in turn: the machine's drift over a minute or two then
# touches both alike, and the medians are compared
KEYB=${KEY[2]} PORTB=$PORT PIDB=$PID
PORT=$((PORTB + 1))
setup "$T/r" "$SAMPLE" || exit 1
start "$T/r" || exit 1
KEYR=${KEY[2]} PORTR=$PORT
big=() ref=()
for round in $(seq "$ROUNDS"); do
	PORT=$PORTB KEY[2]=$KEYB
	b3 2 "$T/m"
	echo "B7 B3 round $round at $N children, $CONC outstanding: $OUT"
	big+=("$(kv rate "$OUT")")
	PORT=$PORTR KEY[2]=$KEYR
	b3 2 "$T/r"
	echo "B7 B3 round $round reference, $SAMPLE children, $CONC outstanding: $OUT"
	ref+=("$(kv rate "$OUT")")
done
stop
PID=$PIDB
stop
mb=$(median "${big[@]}") mr=$(median "${ref[@]}")
echo "B7 B3 at $N / reference, medians of $ROUNDS round(s): $mb / $mr updates/s = $(pct "$mb" "$mr") (goal >= 90%)"
