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
#   B12 (BACKEND=powerdns, N 10,000 by default): API PATCHes into a
#       PowerDNS Authoritative server (gsqlite3); reference: pdnsutil
#       load-zone of the same zone into a fresh database of the same kind
#       (PowerDNS's own bulk path; tests/bench/README.md says why).
#
#   make bench                  (runs all three after tests/bench/run.sh)
#   N=2000 BACKEND=dnsupdate tests/bench/backlog.sh build
#
# Environment: BACKEND, N (delegations), BENCH_ADDR (dsyncd's address,
# 127.0.0.9), BENCH_KNOT_ADDR (Knot's, 127.0.0.19; port 5300),
# BENCH_PDNS_ADDR (pdns_server's, 127.0.0.49; port 5300, API 8082), KEEP=1
# (keep the temporary folder).  Not part of the pass/fail suite; exits
# non-zero only when the benchmark cannot run.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$TOP/${1:-build}
BACKEND=${BACKEND:-zonefile}
case $BACKEND in
zonefile) N=${N:-100000} B=B10 ;;
dnsupdate) N=${N:-10000} B=B11 ;;
powerdns) N=${N:-10000} B=B12 ;;
*) echo "backlog: BACKEND is zonefile, dnsupdate or powerdns"; exit 1 ;;
esac
ADDR=${BENCH_ADDR:-127.0.0.9}
KADDR=${BENCH_KNOT_ADDR:-127.0.0.19}
KPORT=5300
PDADDR=${BENCH_PDNS_ADDR:-127.0.0.49}
WPORT=8082
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

# reference NAME LOG CMD...: run a backend's reference, its output in LOG;
# R: its seconds.  Stops the benchmark when it fails.
reference() {
	local name=$1 log=$2 r0
	shift 2
	r0=$(now)
	"$@" >"$log" 2>&1 || { echo "$B: $name failed"; tail -3 "$log"; exit 1; }
	R=$(secs "$r0" "$(now)")
}
# report WHAT SECS REFNAME REFTEXT: the delivery's line and its reference's,
# with the ratio of SECS (dsyncd's) to R
report() {
	echo "$B $1: $QUEUED change(s) delivered in $2 s" \
		"($(rate "$QUEUED" "$2") changes/s), $(grep -c "delivered" "$T/dsyncd.log") batch(es)"
	echo "$B reference: $4; dsyncd / $3 =" \
		"$(awk -v d="$2" -v r="$R" 'BEGIN { printf "%.2f", d / r }')"
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
# served ADDR CHILD: the server at ADDR (port 5300) refers to CHILD.example.'s two NS
served() {
	[ "$(kdig @"$1" -p $KPORT +norec +noall +authority "$2.example." A |
		awk '$4 == "NS"' | wc -l)" = 2 ]
}

b11() {
	need knotd kdig nsupdate sqlite3
	local d
	SECRET=$(head -c 32 /dev/urandom | base64)
	mkdir -p "$T/db" "$T/k1" "$T/k2"
	knot_start "$T/k1" || exit 1
	dsyncd_conf "{ type = \"dnsupdate\"; primaries = [ \"$KADDR@$KPORT\" ];
  tsig-key = \"hmac-sha256:bench.:$SECRET\"; }"
	deliver || exit 1
	d=$SECS
	served "$KADDR" c0 && served "$KADDR" "c$((N - 1))" ||
		{ echo "B11: Knot does not serve the delegations"; exit 1; }
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
	reference nsupdate "$T/nsupdate.log" nsupdate -v -y "hmac-sha256:bench.:$SECRET" "$T/nsupdate.txt"
	report "dnsupdate backlog into Knot" "$d" nsupdate \
		"nsupdate sends the same $N delegations to Knot in $R s ($(rate "$N" "$R") children/s, $PER_UPDATE per UPDATE)"
}

b12() {
	need pdns_server pdnsutil kdig sqlite3
	local d key
	key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	pdns_init "$T/p1" "$PDADDR" $KPORT $WPORT "$key" || { echo "B12: pdns_init failed"; exit 1; }
	pdns_start "$T/p1" "$PDADDR" $KPORT || { echo "B12: pdns_server does not start"; exit 1; }
	printf '%s\n' "$key" >"$T/api.key"
	chmod 600 "$T/api.key"
	dsyncd_conf "{ type = \"powerdns\"; url = \"http://$PDADDR:$WPORT\"; api-key-file = \"$T/api.key\"; }"
	deliver || exit 1
	d=$SECS
	served "$PDADDR" c0 && served "$PDADDR" "c$((N - 1))" ||
		{ echo "B12: pdns_server does not serve the delegations"; exit 1; }
	kill "$PDNS_PID" && wait "$PDNS_PID" 2>/dev/null
	# the reference: the same zone loaded by pdnsutil into a fresh database
	pdns_init "$T/p2" "$PDADDR" $KPORT $WPORT "$key" || { echo "B12: pdns_init failed"; exit 1; }
	reference "pdnsutil load-zone" "$T/load-zone.log" \
		pdnsutil --config-dir "$T/p2" load-zone example. "$T/parent.zone"
	report "powerdns backlog into pdns_server" "$d" load-zone \
		"pdnsutil load-zone loads the same $N delegations in $R s ($(rate "$N" "$R") children/s)"
}

mkdir -p "$T/db" "$T/out"
case $BACKEND in
zonefile) b10 ;;
dnsupdate) b11 ;;
powerdns) b12 ;;
esac
