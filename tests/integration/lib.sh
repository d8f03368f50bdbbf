# tests/integration/lib.sh -- shared by the integration tests (bash).
#
# Each test file sources this, runs checks with ok/not_ok/check, and ends
# with `finish`.  Every daemon a test starts lives in the test's own
# temporary folder, listens only on 127.0.0.0/8, and is stopped by PID at
# exit.  BUILD selects the build (default build-san: ASan+UBSan).
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build-san}
BIN=$TOP/$BUILD
NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/dsyncd-$NAME.XXXXXX")
PASS=0
FAIL=0
PIDS=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}

ok() { PASS=$((PASS + 1)); echo "ok - $NAME: $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $NAME: $*"; }

# check "description" command...: passes when the command exits 0
check() {
	local desc=$1
	shift
	if "$@" >>"$T/check.log" 2>&1; then ok "$desc"; else not_ok "$desc"; echo "    (command: $*)"; fi
}

# expect "description" expected actual
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}

# expect_match "description" regex actual
expect_match() {
	if [[ "$3" =~ $2 ]]; then ok "$1"; else not_ok "$1: '$3' does not match /$2/"; fi
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ] || [ "$FAIL" -gt 0 ]; then
		echo "# $NAME: files kept in $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

finish() {
	echo "# $NAME: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}

# need CMD...: every command is installed, or the test ends here
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || { not_ok "$c is installed"; finish; }
	done
}

# ---- keys ----------------------------------------------------------------

# mkkey NAME ALG -> prints the key file prefix (no suffix)
mkkey() {
	mkdir -p "$T/keys"
	local k
	k=$(dnssec-keygen -q -T KEY -a "$2" ${3:+-b $3} -n HOST -K "$T/keys" "$1") || return 1
	echo "$T/keys/$k"
}
# tagof KEYPREFIX: the key tag in a key file's name
tagof() { basename "$1" | sed 's/.*+0*\([0-9][0-9]*\)$/\1/'; }
# keyrr KEYPREFIX: the KEY record of a key file, TTL 3600, for nsupdate
keyrr() { sed -n 's/^\([^;].*\) IN KEY \(.*\)$/\1 3600 KEY \2/p' "$1.key"; }

# ---- dsyncd --------------------------------------------------------------

# write_conf FILE ADDR PORT ZONE "CHILD:KEYPREFIX ..." [extra zone settings]
# The zonefile backend writes $T/out/<zone>delegations.
write_conf() {
	local file=$1 addr=$2 port=$3 zone=$4 children=$5 extra=${6:-} c name key
	mkdir -p "$T/out" "$T/db"
	{
		echo "server = { listen = [ \"$addr\" ]; port = $port; tcp-idle-timeout = 3; workers = 2; };"
		# DSYNC_TEST_STORE: another store group (the PostgreSQL tests)
		local store="store = { path = \"$T/db/dsyncd.db\"; };"
		echo "${DSYNC_TEST_STORE:-$store}"
		echo "log = { level = \"debug\"; };"
		echo "zones = ( { name = \"$zone\";"
		echo "  children = ("
		local first=1
		for c in $children; do
			name=${c%%:*}
			key=${c#*:}
			[ $first = 1 ] || echo "    ,"
			first=0
			if [ "$key" = "$c" ] || [ -z "$key" ]; then
				echo "    { name = \"$name\"; }"
			else
				echo "    { name = \"$name\"; keys = ( \"$key.key\" ); }"
			fi
		done
		echo "  );"
		if [ -n "$extra" ]; then echo "$extra"; else
			echo "  backends = ( { type = \"zonefile\"; path = \"$T/out/${zone}delegations\"; } );"
		fi
		echo "} );"
	} >"$file"
}

# start_dsyncd CONF [LOG]: start and wait until it serves
start_dsyncd() {
	local conf=$1 log=${2:-$T/dsyncd.log} i before
	# the log is appended to across restarts: wait for a new "serving" line
	before=$(grep -c "dsyncd serving" "$log" 2>/dev/null)
	"$BIN/dsyncd" -c "$conf" >>"$log" 2>&1 &
	DSYNCD_PID=$!
	PIDS+=("$DSYNCD_PID")
	for i in $(seq 100); do
		[ "$(grep -c "dsyncd serving" "$log" 2>/dev/null)" -gt "${before:-0}" ] && return 0
		kill -0 "$DSYNCD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "dsyncd did not start:" >&2
	tail -20 "$log" >&2
	return 1
}

# stop_dsyncd [LOG]: SIGTERM, wait; fails on a non-zero exit (sanitizers exit 86/87)
stop_dsyncd() {
	local log=${1:-$T/dsyncd.log} rc
	kill -TERM "$DSYNCD_PID" 2>/dev/null
	wait "$DSYNCD_PID"
	rc=$?
	if [ $rc -ne 0 ] || grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$log"; then
		echo "dsyncd exited with $rc" >&2
		grep -E -A20 "Sanitizer|runtime error" "$log" | head -40 >&2
		return 1
	fi
	return 0
}

# stats_line: ask the running daemon for its counters (SIGUSR1), print the line
stats_line() {
	local log=${1:-$T/dsyncd.log} before
	before=$(grep -c " stats " "$log")
	kill -USR1 "$DSYNCD_PID"
	for _ in $(seq 50); do
		[ "$(grep -c " stats " "$log")" -gt "$before" ] && break
		sleep 0.05
	done
	grep " stats " "$log" | tail -1
}

# counter NAME: one counter from a fresh stats line
counter() {
	stats_line | sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}

# keys: the child keys of $T/dsyncd.conf (`dsyncd key list`)
keys() { "$BIN/dsyncd" -c "$T/dsyncd.conf" key list; }

# hup [LOG]: SIGHUP to dsyncd, wait until the reload is over (done or refused)
hup() {
	local log=${1:-$T/dsyncd.log} n
	n=$(grep -cE "configuration (not )?reloaded" "$log")
	kill -HUP "$DSYNCD_PID"
	for _ in $(seq 300); do
		[ "$(grep -cE "configuration (not )?reloaded" "$log")" -gt "$n" ] && break
		sleep 0.05
	done
}

# all_reported FILE LABEL PATTERN...: each pattern (ERE) matches a line of FILE
all_reported() {
	local file=$1 label=$2 pat
	shift 2
	for pat in "$@"; do
		grep -Eq "$pat" "$file" && ok "${label}reported: $pat" ||
			not_ok "${label}did not report: $pat (got: $(tr '\n' '|' <"$file"))"
	done
}

# wait_for N COMMAND...: until the command succeeds, at most N tenths of a second
wait_for() {
	local n=$1
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# now: the time in seconds, with nanoseconds; secs T0 T1: T1 - T0, two decimals
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ---- dsync-send answer lines ------------------------------------------------

# f_rcode, f_ede, f_text LINE: the RCODE, the EDE code and the EDE text of
# a dsync-send answer line
f_rcode() { sed -n 's/^rcode=\([^ ]*\).*/\1/p' <<<"$1"; }
f_ede() { sed -n 's/^rcode=[^ ]* ede=\([^ ]*\).*/\1/p' <<<"$1"; }
f_text() { sed -n 's/^rcode=[^ ]* ede=[^ ]* text="\(.*\)" id=.*/\1/p' <<<"$1"; }

# ---- nsupdate ------------------------------------------------------------

# nsu KEYPREFIX SERVER PORT [-v] <<script : prints the RCODE name
# (NOERROR when nsupdate reports success)
nsu() {
	local key=$1 server=$2 port=$3 tcp=${4:-} out
	out=$({ echo "server $server $port"; cat; echo "send"; } |
		nsupdate $tcp -t 5 -k "$key.private" 2>&1)
	if [ $? -eq 0 ]; then
		echo NOERROR
	else
		echo "$out" | sed -n 's/.*update failed: \([A-Z]*\).*/\1/p;s/.*could not talk to.*/TIMEOUT/p;s/.*timed out.*/TIMEOUT/p' | head -1
	fi
}

# ---- dsyncctl ----------------------------------------------------------------

# c ARGS...: run dsyncctl; sets RC, OUT (stdout) and ERR (stderr)
c() {
	"$BIN/dsyncctl" "$@" >"$T/c.out" 2>"$T/c.err"
	RC=$?
	OUT=$(cat "$T/c.out")
	ERR=$(cat "$T/c.err")
}
# j 'EXPR': EXPR over d, the JSON in $OUT, printed by python3
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$OUT" 2>&1; }
# rc_is DESC WANT: the last dsyncctl exit status
rc_is() { expect "$1 (exit $2)" "$2" "$RC"; }

# two_ns_stored DESC KEYPREFIX ADDR PORT: an UPDATE of child.example.'s two NS
# signed with the key is accepted, and the store then holds exactly them
two_ns_stored() {
	expect "$1" NOERROR "$(nsu "$2" "$3" "$4" <<EOF
zone example.
update add child.example. 3600 NS ns1.provider.net.
update add child.example. 3600 NS ns2.provider.net.
EOF
)"
	expect "$1: in the store" \
		"child.example. 2 ns1.provider.net.|child.example. 2 ns2.provider.net." \
		"$(deleg_dump | paste -sd'|')"
}

# ---- the store -------------------------------------------------------------

. "$(dirname "${BASH_SOURCE[0]}")/lib-pg.sh"

# sql QUERY...: run SQL on the test's store, rows as "a|b" lines: the SQLite
# file, or with DSYNC_TEST_PGDIR the PostgreSQL server there (lib-pg.sh)
sql() {
	if [ -n "${DSYNC_TEST_PGDIR:-}" ]; then
		pg_psql "$DSYNC_TEST_PGDIR" -d dsyncd -At -c "$*" 2>/dev/null
	else
		sqlite3 "$T/db/dsyncd.db" "$@" 2>/dev/null
	fi
}

# deleg_dump: every delegation record in the store, one line each, sorted
deleg_dump() {
	sql "select owner_text || ' ' || type || ' ' || rdata_text from delegation order by 1"
}

# state_dump: everything an UPDATE may change (not the audit log)
state_dump() {
	sql "select 'D', owner_text, type, ttl, rdata_text from delegation order by 2,3,5;
		 select 'K', key_tag, state from keys order by 2;
		 select 'C', name_text from children order by 2;
		 select 'O', count(*) from outbox_change;"
}

# ---- a parent's primary (the backends that feed one) -----------------------
# For zone example. served by a primary at $PADDR port $PPORT, dsyncd at
# $ADDR $PORT with child child.example. signing with key prefix $k.

# backend_conf "GROUP": $T/dsyncd.conf for example. with child.example.
# (key $k) on $ADDR $PORT, the one backend GROUP, retries 1 to 2 s apart
backend_conf() {
	write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$k" "  backends = ( $1 );"
	sed -i 's/^store = .*/&\noutbox = { retry-min = 1; retry-max = 2; };/' "$T/dsyncd.conf"
}
# serial: the zone's SOA serial as the primary serves it
serial() { kdig @$PADDR -p $PPORT +short +timeout=2 +retry=0 example. SOA 2>/dev/null | awk '{print $3}'; }
# wait_soa: wait (10 s at most) until the primary serves the zone's SOA
wait_soa() {
	for _ in $(seq 200); do
		[ -n "$(serial)" ] && return 0
		sleep 0.05
	done
	return 1
}
# served: the delegations the primary serves (AXFR, all but the apex and
# ns1.example.; NS, DS, A and AAAA only), as deleg_dump prints the store
served() {
	kdig @$PADDR -p $PPORT +timeout=2 +nocomments +noheader example. AXFR |
		awk '$1 != "example." && $1 != "ns1.example." && $4 ~ /^(NS|DS|A|AAAA)$/ {
			t = $4 == "NS" ? 2 : $4 == "DS" ? 43 : $4 == "A" ? 1 : 28
			r = $5; for (i = 6; i <= NF; i++) r = r " " $i
			print $1 " " t " " r }' | sort
}
# pending: deliveries waiting in the outbox
pending() { sql "select count(*) from delivery where state = 'pending'"; }
# synced: wait (30 s at most) until the primary serves what the store holds
# and the outbox is empty
synced() {
	for _ in $(seq 300); do
		[ "$(served)" = "$(deleg_dump | sort)" ] && [ "$(pending)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
DELEG_DS="12345 13 2 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4"
# add_deleg TYPE ADDR: NS (one in-bailiwick), its glue (A or AAAA) and a DS
# for child.example., one UPDATE that must succeed
add_deleg() {
	expect "UPDATE with NS, $1 glue and DS: NOERROR" NOERROR "$(nsu "$k" $ADDR $PORT <<EOF
zone example.
update add child.example. 3600 NS ns1.child.example.
update add child.example. 3600 NS ns.provider.net.
update add ns1.child.example. 3600 $1 $2
update add child.example. 3600 DS $DELEG_DS
EOF
	)"
}
# expect_added TYPE ADDR [WHO]: the primary (WHO, for the check's name)
# serves exactly what add_deleg TYPE ADDR added
expect_added() {
	local t=1
	[ "$1" = AAAA ] && t=28
	expect "NS, DS and glue served${3:+ by $3}" \
		"child.example. 2 ns.provider.net.|child.example. 2 ns1.child.example.|child.example. 43 $DELEG_DS|ns1.child.example. $t $2" \
		"$(served | paste -sd'|')"
}
# drop_deleg TYPE: the in-bailiwick NS and its glue replaced, the DS removed;
# then the primary must serve exactly the two outside NS
drop_deleg() {
	expect "UPDATE replacing the in-bailiwick NS, dropping glue and DS: NOERROR" NOERROR \
		"$(nsu "$k" $ADDR $PORT <<EOF
zone example.
update delete child.example. NS ns1.child.example.
update delete ns1.child.example. $1
update add child.example. 3600 NS ns2.provider.org.
update delete child.example. DS
EOF
	)"
	check "the primary serves the new delegation, without the old glue and DS" synced
	expect "served now" "child.example. 2 ns.provider.net.|child.example. 2 ns2.provider.org." \
		"$(served | paste -sd'|')"
}

# check_out [ARG...]: `dsyncd check example.` with $T/dsyncd.conf, its output
check_out() { "$BIN/dsyncd" -c "$T/dsyncd.conf" check example. "$@" 2>&1; }
# drift_test BACKEND CMD...: after drop_deleg, with dsyncd running: check
# finds nothing; CMD then changes the primary behind dsyncd's back
# (child.example.'s NS ns2.provider.org. replaced by rogue.example.net.),
# check exits 1 listing both, --repair queues a re-sync that dsyncd delivers
drift_test() {
	local be=$1 out
	shift
	out=$(check_out)
	expect "dsyncd check exits 0 when the primary holds what the store holds ($be)" 0 "$?"
	expect_match "and says so" "backend $be: in sync: 0 record" "$out"
	check "the primary is changed behind dsyncd's back" "$@"
	out=$(check_out)
	expect "dsyncd check exits 1 on drift" 1 "$?"
	expect_match "the primary's extra NS is listed" "backend $be: - child.example. .*NS rogue.example.net." "$out"
	expect_match "the NS missing at the primary is listed" "backend $be: \+ child.example. .*NS ns2.provider.org." "$out"
	expect_match "check --repair queues a re-sync" "backend $be: 1 re-sync\(s\) queued" "$(check_out --repair)"
	check "the re-sync makes the primary equal the store" synced
	expect_match "and dsyncd check agrees" "backend $be: in sync" "$(check_out)"
}
# outage_test STOP START: with dsyncd running and child.example. served
# with two NS, STOP the primary; 10 UPDATEs (NS ns1..ns10.more.net.) are
# accepted, dsyncd SIGKILLed and restarted after 5; once START has the
# primary back, all of them are delivered and served
outage_test() {
	local stop=$1 start=$2 i r
	$stop
	for i in $(seq 10); do
		r=$(nsu "$k" $ADDR $PORT <<EOF
zone example.
update add child.example. 3600 NS ns$i.more.net.
EOF
		)
		[ "$r" = NOERROR ] || not_ok "UPDATE $i while the primary is down: $r"
		if [ "$i" = 5 ]; then
			kill -KILL "$DSYNCD_PID"
			wait "$DSYNCD_PID" 2>/dev/null
			start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd restarts after SIGKILL"; finish; }
		fi
	done
	ok "10 UPDATEs accepted while the primary is down, dsyncd killed after 5"
	check "they wait in the outbox" test "$(pending)" -ge 1
	$start || { not_ok "the primary starts again"; finish; }
	check "once the primary is back, everything is delivered and served" synced
	expect "12 NS records of child.example. served" 12 "$(served | grep -c '^child.example. 2 ')"
}

# ---- the DNS world (tests/world) -------------------------------------------

WS=$TOP/tests/world/world.sh
# world_init BASE CMD...: this test's world lives in $T/world on 127.0.0.BASE
# and up (each test its own range) and is stopped at exit; the commands
# it needs besides must be installed
world_init() {
	W=$T/world
	export WORLD_BASE=$1
	shift
	need "$@"
	trap 'world_stop; cleanup' EXIT
}
world_stop() { bash "$WS" stop "$W" >/dev/null 2>&1; }
# world_started DESC LOG: start the world (its output in LOG); one check,
# with the world's summary line; the test ends here when it does not start
world_started() {
	if bash "$WS" start "$W" >"$2" 2>&1; then
		ok "$1 ($(tail -1 "$2"))"
	else
		not_ok "$1"
		cat "$2"
		finish
	fi
}
# world_conf DIR METHODS ROUNDS INTERVAL [KEYSTATE]: dsyncd's configuration
# on stdout, on $ADDR $PORT, for the world's parent.test. with bootstrap
# methods METHODS and ROUNDS unsigned rounds INTERVAL seconds apart; its
# store, receiver keys and zonefile output in DIR; KEYSTATE: more keystate
# settings
world_conf() {
	cat <<-EOF
		server = { listen = [ "$ADDR" ]; port = $PORT; workers = 2; tcp-idle-timeout = 3; };
		store = { path = "$1/dsyncd.db"; };
		log = { level = "debug"; };
		keystate = { ${5:-}inquiries-per-source = 100000; };
		bootstrap = { retry-interval = 1; retry-max-interval = 2; attempts = 2;
		              unsigned-rounds = $3; unsigned-interval = $4; query-timeout = 2; };
		resolver = { config-file = "$W/unbound.conf"; timeout = 5; };
		receiver = { name = "updater.parent.test."; key-directory = "$1/rkeys"; };
		zones = ( { name = "parent.test.";
		  bootstrap-methods = [ $2 ];
		  backends = ( { type = "zonefile"; path = "$1/parent.test.delegations"; } );
		} );
	EOF
}
# world_keys: the SIG(0) keys the world made for its children, as
# KS (signed), KU (unsigned), KB (bogus), KI (insecure-ns), KP (split)
# shellcheck disable=SC2034 # (set for the test)
world_keys() {
	KS=$(bash "$WS" key "$W" signed.parent.test.)
	KU=$(bash "$WS" key "$W" unsigned.parent.test.)
	KB=$(bash "$WS" key "$W" bogus.parent.test.)
	KI=$(bash "$WS" key "$W" insecure-ns.parent.test.)
	KP=$(bash "$WS" key "$W" split.parent.test.)
}
