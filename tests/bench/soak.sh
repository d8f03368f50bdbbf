#!/usr/bin/env bash
# tests/bench/soak.sh BUILDDIR -- B8 crash safety: SIGKILL dsyncd again and
# again while signed UPDATEs stream in, and check after every kill that the
# store holds exactly what was acknowledged.  See tests/bench/README.md (B8).
#
#   make soak                        (= KILLS=100 tests/bench/soak.sh build)
#   KILLS=5 tests/bench/soak.sh build-san
#
# The load: one dsync-send in sequence mode (--seq) per child, CHILDREN of
# them at once (so CHILDREN UPDATEs outstanding), each UPDATE replacing
# its child's NS set with ns1-N.soak.net. and ns2-N.soak.net. (N: the
# request's sequence number); each generator logs every answer it gets
# (child, sequence, RCODE) and sends an unanswered request again, the same
# bytes, as a client does, so that requests in flight at a kill are
# answered after the restart (from the replay cache when they had been
# committed).  The cycle, KILLS times: wait until at least MIN_ACKS more
# changes have been acknowledged and a random 0-0.2 s more, SIGKILL,
# tests/bench/soak-check.py against the store (PRAGMA integrity_check;
# every acknowledged change accepted exactly once and complete; at most the
# change in flight accepted besides), start dsyncd again.  At the end the
# generators stop (each finishes its request in flight), and the same check
# runs in its final form: every request answered, the audit log's accepted
# changes are exactly the acknowledged ones, and each child's delegation is
# its last acknowledged change.
#
# Environment:
#   KILLS      SIGKILLs (default 100)
#   CHILDREN   children, one generator and one outstanding UPDATE each (default 32)
#   MIN_ACKS   acknowledged changes between two kills, at least (default 50)
#   WAIT_MS    the generators' resend interval in ms (default 500)
#   SOAK_ADDR, SOAK_PORT  where dsyncd listens (127.0.0.64, 5354)
#   KEEP=1     keep the temporary folder
#
# Exits 0 when every check passed, 1 when one failed, 2 when the soak could
# not run (dsyncd not starting, a generator missing).  Loopback only; every
# process it starts is stopped by PID at exit.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 2
BUILD=${1:-build}
BIN=$TOP/$BUILD
KILLS=${KILLS:-100}
NCHILD=${CHILDREN:-32}
MIN_ACKS=${MIN_ACKS:-50}
WAIT_MS=${WAIT_MS:-500}
ADDR=${SOAK_ADDR:-127.0.0.64}
PORT=${SOAK_PORT:-5354}
T=$(mktemp -d /tmp/dsyncd-soak.XXXXXX)
DB=$T/db/dsyncd.db
PIDS=()
GENS=()
FAILS=0
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"

# shellcheck disable=SC2317 # (called by the trap)
cleanup() {
	stop_pids KILL
	if [ "${KEEP:-0}" = 1 ] || [ "$FAILS" -gt 0 ]; then echo "# files kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# serve: start dsyncd (log appended to $T/dsyncd.log), wait (30 s at most)
# until it serves; sets DSYNCD_PID
serve() {
	local before
	before=$(grep -c "dsyncd serving" "$T/dsyncd.log" 2>/dev/null)
	"$BIN/dsyncd" -c "$T/dsyncd.conf" >>"$T/dsyncd.log" 2>&1 &
	DSYNCD_PID=$!
	PIDS+=("$DSYNCD_PID")
	for _ in $(seq 300); do
		[ "$(grep -c "dsyncd serving" "$T/dsyncd.log")" -gt "${before:-0}" ] && return 0
		kill -0 "$DSYNCD_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$T/dsyncd.log"
	return 1
}

# acks: NOERROR answers the generators have logged so far
acks() { cat "$T"/gen/c*.log | grep -c '^seq=[0-9]* rcode=NOERROR '; }

# check MODE PREFIX: soak-check.py against the store; its summary line
# (after PREFIX) and its failures on stdout; counts a failure
check() {
	local out rc
	out=$(python3 "$TOP/tests/bench/soak-check.py" "$DB" "$T/gen" "$1" 2>&1)
	rc=$?
	echo "$2$(echo "$out" | tail -1)"
	if [ $rc -ne 0 ]; then
		FAILS=$((FAILS + 1))
		echo "$out" | grep "^FAIL " | head -20 | sed 's/^/  /'
	fi
	return $rc
}

if [ ! -x "$BIN/dsyncd" ] || [ ! -x "$BIN/dsync-send" ]; then
	echo "$BUILD/dsyncd or $BUILD/dsync-send is missing: make BUILD=$BUILD all bench-build"
	exit 2
fi

# ---- set-up: keys, configuration, dsyncd --------------------------------------------

mkdir -p "$T/keys" "$T/db" "$T/gen"
declare -A KEY
children=""
for i in $(seq 1 "$NCHILD"); do
	k=$(dnssec-keygen -q -T KEY -a ED25519 -n HOST -K "$T/keys" "c$i.example.") || exit 2
	KEY[$i]=$T/keys/$k
	children+="${children:+,}{ name = \"c$i.example.\"; keys = ( \"$T/keys/$k.key\" ); }"
done
# the benchmarks' configuration: limits out of the way, no verification budget
bench_conf "$ADDR" "$PORT" "$DB" notice 0 "$children" >"$T/dsyncd.conf"
"$BIN/dsyncd" -n -c "$T/dsyncd.conf" >"$T/check.log" 2>&1 || { cat "$T/check.log"; exit 2; }
serve || { echo "dsyncd does not start"; exit 2; }

echo "B8 crash safety: $KILLS SIGKILL(s) of $BUILD/dsyncd on $ADDR:$PORT under load, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPU(s)"
echo "load: $NCHILD children, one dsync-send --seq each (one UPDATE outstanding per child, $NCHILD in all)," \
	"each UPDATE replaces the child's NS set with a numbered pair; unanswered requests resent every $WAIT_MS ms"
echo "kill: after at least $MIN_ACKS more acknowledged changes and a random 0-0.2 s; store: SQLite WAL, synchronous=FULL"

for i in $(seq 1 "$NCHILD"); do
	"$BIN/dsync-send" -s "$ADDR" -p "$PORT" --wait-ms "$WAIT_MS" --give-up-ms 120000 -k "${KEY[$i]}" \
		--seq 100000000 --del-rrset "c$i.example. NS" \
		--add "c$i.example. 3600 NS ns1-{i}.soak.net." --add "c$i.example. 3600 NS ns2-{i}.soak.net." \
		>"$T/gen/c$i.log" 2>"$T/gen/c$i.err" &
	GENS+=($!)
	PIDS+=($!)
done

# ---- the kills -------------------------------------------------------------------------

T0=$(date +%s.%N)
KILLED=0
RESTART_MS=()
for k in $(seq 1 "$KILLS"); do
	a0=$(acks)
	# at least MIN_ACKS more acknowledged (2 minutes at most: a stalled
	# load is a failure, not a reason to wait for ever)
	for _ in $(seq 1200); do
		[ "$(acks)" -ge $((a0 + MIN_ACKS)) ] && break
		sleep 0.1
	done
	if [ "$(acks)" -lt $((a0 + MIN_ACKS)) ]; then
		echo "kill $k: FAIL the load stalled ($(($(acks) - a0)) acknowledged in 2 minutes)"
		FAILS=$((FAILS + 1))
		break
	fi
	sleep "0.$(printf '%03d' $((RANDOM % 200)))"
	kill -KILL "$DSYNCD_PID"
	wait "$DSYNCD_PID" 2>/dev/null
	KILLED=$((KILLED + 1))
	check kill "kill $k: "
	t1=$(date +%s%N)
	serve || { echo "dsyncd does not start again after kill $k"; FAILS=$((FAILS + 1)); break; }
	RESTART_MS+=($((($(date +%s%N) - t1) / 1000000)))
done

# ---- the end: generators finish their requests in flight, final check -------------------

for p in "${GENS[@]}"; do kill -TERM "$p" 2>/dev/null; done
GEN_FAIL=0
for p in "${GENS[@]}"; do wait "$p" || GEN_FAIL=$((GEN_FAIL + 1)); done
T1=$(date +%s.%N)
echo "generators: $GEN_FAIL of $NCHILD ended with a request unanswered;" \
	"$(sed -n 's/^count=\([0-9]*\) .* resends=\([0-9]*\) .*/\1 \2/p' "$T"/gen/c*.log |
		awk '{ c += $1; r += $2 } END { printf "%d request(s), %d resend(s)", c, r }')"
[ "$GEN_FAIL" = 0 ] || FAILS=$((FAILS + 1))
# deliveries run behind the commits: the outbox is drained before the final check
# looks (an event, waited for 120 s at most)
for _ in $(seq 1200); do
	[ "$(sqlite3 "$DB" "select count(*) from delivery where state != 'done'" 2>/dev/null)" = 0 ] && break
	sleep 0.1
done
check final "final: "
kill -TERM "$DSYNCD_PID"
wait "$DSYNCD_PID"
rc=$?
if [ $rc -ne 0 ] || grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/dsyncd.log"; then
	echo "dsyncd's last run exited with $rc or a sanitizer report: FAIL"
	FAILS=$((FAILS + 1))
fi
sorted=$(printf '%s\n' "${RESTART_MS[@]}" | sort -n)
echo "kills: $KILLED of $KILLS in $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.0f", b - a }') s;" \
	"restart until serving: median $(sed -n "$(((${#RESTART_MS[@]} + 1) / 2))p" <<<"$sorted") ms, max $(tail -1 <<<"$sorted") ms"
if [ "$FAILS" = 0 ] && [ "$KILLED" = "$KILLS" ]; then
	echo "B8 soak: PASS"
	exit 0
fi
echo "B8 soak: FAIL ($FAILS failed check(s))"
exit 1
