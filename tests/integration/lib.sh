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
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=67}

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

# ---- keys ----------------------------------------------------------------

# mkkey NAME ALG -> prints the key file prefix (no suffix)
mkkey() {
	mkdir -p "$T/keys"
	local k
	k=$(dnssec-keygen -q -T KEY -a "$2" ${3:+-b $3} -n HOST -K "$T/keys" "$1") || return 1
	echo "$T/keys/$k"
}

# ---- dsyncd --------------------------------------------------------------

# write_conf FILE ADDR PORT ZONE "CHILD:KEYPREFIX ..." [extra zone settings]
# The zonefile backend writes $T/out/<zone>delegations.
write_conf() {
	local file=$1 addr=$2 port=$3 zone=$4 children=$5 extra=${6:-} c name key
	mkdir -p "$T/out" "$T/db"
	{
		echo "server = { listen = [ \"$addr\" ]; port = $port; tcp-idle-timeout = 3; workers = 2; };"
		echo "store = { path = \"$T/db/dsyncd.db\"; };"
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

# stop_dsyncd [LOG]: SIGTERM, wait; fails on a non-zero exit (sanitizers exit 66/67)
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

# ---- the store -------------------------------------------------------------

# deleg_dump: every delegation record in the store, one line each, sorted
deleg_dump() {
	sqlite3 "$T/db/dsyncd.db" "select owner_text || ' ' || type || ' ' || rdata_text from delegation order by 1" 2>/dev/null
}

# state_dump: everything an UPDATE may change (not the audit log)
state_dump() {
	sqlite3 "$T/db/dsyncd.db" \
		"select 'D', owner_text, type, ttl, rdata_text from delegation order by 2,3,5;
		 select 'K', key_tag, state from keys order by 2;
		 select 'C', name_text from children order by 2;
		 select 'O', count(*) from outbox_change;" 2>/dev/null
}
