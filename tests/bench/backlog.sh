#!/usr/bin/env bash
# tests/bench/backlog.sh BUILDDIR -- how fast a backlog of changes reaches
# a backend.  A parent zone of N delegations is imported (`dsyncd import`:
# N changes queued), then dsyncd starts and the time until nothing is
# pending is measured.  References are measured in the same run:
#   B10 (BACKEND=zonefile, N 100,000 by default): the zonefile backend
#       writes the whole zone once for everything pending; reference: BIND's
#       named-checkzone reading the written data (what loading it costs).
#   B11 (BACKEND=dnsupdate, N 10,000 by default): TSIG-signed UPDATEs into
#       Knot DNS; reference: BIND's nsupdate sending the same delegations
#       straight to the same Knot, TSIG-signed, the same number of children
#       per UPDATE as dsyncd packs.
#
#   make bench                  (runs both after tests/bench/run.sh)
#   N=2000 BACKEND=dnsupdate tests/bench/backlog.sh build
#
# Environment: BACKEND, N (delegations), BENCH_ADDR (dsyncd's address,
# 127.0.0.9), BENCH_KNOT_ADDR (Knot's, 127.0.0.19; port 5300), KEEP=1
# (keep the temporary folder).  Not part of the pass/fail suite; exits
# non-zero only when the benchmark cannot run.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$TOP/${1:-build}
BACKEND=${BACKEND:-zonefile}
case $BACKEND in
zonefile) N=${N:-100000} B=B10 ;;
dnsupdate) N=${N:-10000} B=B11 ;;
*) echo "backlog: BACKEND is zonefile or dnsupdate"; exit 1 ;;
esac
ADDR=${BENCH_ADDR:-127.0.0.9}
KADDR=${BENCH_KNOT_ADDR:-127.0.0.19}
KPORT=5300
PER_UPDATE=400 # children per UPDATE of the reference (about what dsyncd packs in 64 KiB)
T=$(mktemp -d /tmp/dsyncd-backlog.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ]; then echo "# files kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"
need() {
	for c in "$@"; do command -v "$c" >/dev/null || { echo "$B: $c is not installed"; exit 1; }; done
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v q="$1" -v d="$2" 'BEGIN { printf "%.0f", q / d }'; }
pending() { sqlite3 "$T/db/dsyncd.db" "select count(*) from delivery where state = 'pending'"; }
# children: N delegations as zone-file lines (relative to example.)
children() { awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
	printf "c%d NS ns1.provider.net.\nc%d NS ns2.provider.org.\n", i, i }'; }

# dsyncd_conf BACKEND_GROUP
dsyncd_conf() {
	cat >"$T/dsyncd.conf" <<EOC
server = { listen = [ "$ADDR" ]; port = 5354; };
store = { path = "$T/db/dsyncd.db"; };
log = { level = "info"; };
zones = ( { name = "example."; backends = ( $1 ); } );
EOC
}

# deliver: import the N delegations (QUEUED: the changes queued), start
# dsyncd; SECS: the seconds until nothing is pending
deliver() {
	local t0 t1 left
	{ parent_zone 192.0.2.1; children; } >"$T/parent.zone"
	"$BIN/dsyncd" -c "$T/dsyncd.conf" import example. "$T/parent.zone" >"$T/import.log" 2>&1 ||
		{ echo "$B: import failed" >&2; cat "$T/import.log" >&2; return 1; }
	QUEUED=$(pending)
	t0=$(now)
	"$BIN/dsyncd" -c "$T/dsyncd.conf" >"$T/dsyncd.log" 2>&1 &
	PIDS+=("$!")
	for _ in $(seq 6000); do # at most 10 minutes
		left=$(pending)
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	t1=$(now)
	[ "$left" = 0 ] || { echo "$B: $left change(s) still pending" >&2; tail -5 "$T/dsyncd.log" >&2; return 1; }
	SECS=$(secs "$t0" "$t1")
}

b10() {
	need named-checkzone sqlite3
	local d r r0 writes
	dsyncd_conf "{ type = \"zonefile\"; path = \"$T/out/example.delegations\"; }"
	deliver || exit 1
	d=$SECS
	writes=$(grep -c "zonefile backend: wrote" "$T/dsyncd.log")
	{ parent_zone 192.0.2.1; cat "$T/out/example.delegations"; } >"$T/served.zone"
	r0=$(now)
	named-checkzone -q example. "$T/served.zone" || { echo "B10: named-checkzone refuses the zone"; exit 1; }
	r=$(secs "$r0" "$(now)")
	echo "B10 zonefile backlog: $QUEUED change(s) of $N delegation(s) delivered in $d s" \
		"($(rate "$QUEUED" "$d") changes/s), $writes write(s) of $(wc -c <"$T/out/example.delegations") bytes"
	echo "B10 reference: named-checkzone reads the written zone in $r s;" \
		"delivery / reference = $(awk -v d="$d" -v r="$r" 'BEGIN { printf "%.2f", d / r }')"
}

# knot_start DIR: Knot with zone example. (empty of delegations), UPDATEs with TSIG key bench.
knot_start() {
	mkdir -p "$1/db"
	knot_conf "$1" "$KADDR@$KPORT" changes "$1/example.zone" "$SECRET" >"$1/knot.conf"
	parent_zone "$KADDR" >"$1/example.zone"
	knotd -c "$1/knot.conf" >"$1/knot.log" 2>&1 &
	PIDS+=("$!")
	for _ in $(seq 200); do
		kdig @"$KADDR" -p $KPORT +short +timeout=1 +retry=0 example. SOA >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "B11: knotd does not start" >&2
	return 1
}
knot_stop() { kill "${PIDS[-1]}" && wait "${PIDS[-1]}" 2>/dev/null; }
# served CHILD: Knot refers to CHILD.example.'s two NS
served() {
	[ "$(kdig @"$KADDR" -p $KPORT +norec +noall +authority "$1.example." A |
		awk '$4 == "NS"' | wc -l)" = 2 ]
}

b11() {
	need knotd kdig nsupdate sqlite3
	local d r r0
	SECRET=$(head -c 32 /dev/urandom | base64)
	mkdir -p "$T/db" "$T/k1" "$T/k2"
	knot_start "$T/k1" || exit 1
	dsyncd_conf "{ type = \"dnsupdate\"; primaries = [ \"$KADDR@$KPORT\" ];
  tsig-key = \"hmac-sha256:bench.:$SECRET\"; }"
	deliver || exit 1
	d=$SECS
	served c0 && served "c$((N - 1))" || { echo "B11: Knot does not serve the delegations"; exit 1; }
	knot_stop
	# the reference: the same delegations straight to a fresh Knot
	knot_start "$T/k2" || exit 1
	awk -v n="$N" -v per=$PER_UPDATE -v s="$KADDR $KPORT" 'BEGIN {
		print "server " s; print "zone example."
		for (i = 0; i < n; i++) {
			printf "update add c%d.example. 3600 NS ns1.provider.net.\n", i
			printf "update add c%d.example. 3600 NS ns2.provider.org.\n", i
			if ((i + 1) % per == 0) print "send"
		}
		print "send" }' >"$T/nsupdate.txt"
	r0=$(now)
	nsupdate -v -y "hmac-sha256:bench.:$SECRET" "$T/nsupdate.txt" >"$T/nsupdate.log" 2>&1 ||
		{ echo "B11: nsupdate failed"; tail -3 "$T/nsupdate.log"; exit 1; }
	r=$(secs "$r0" "$(now)")
	echo "B11 dnsupdate backlog into Knot: $QUEUED change(s) delivered in $d s" \
		"($(rate "$QUEUED" "$d") changes/s), $(grep -c "delivered" "$T/dsyncd.log") batch(es)"
	echo "B11 reference: nsupdate sends the same $N delegations to Knot in $r s" \
		"($(rate "$N" "$r") children/s, $PER_UPDATE per UPDATE); dsyncd / nsupdate =" \
		"$(awk -v d="$d" -v r="$r" 'BEGIN { printf "%.2f", d / r }')"
}

mkdir -p "$T/db" "$T/out"
case $BACKEND in
zonefile) b10 ;;
dnsupdate) b11 ;;
esac
