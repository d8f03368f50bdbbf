#!/usr/bin/env bash
# tests/run.sh BUILD -- the whole suite: unit programs, fuzz-corpus replay,
# integration tests.  Prints every result and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build-san}
export BUILD
pass=0
fail=0
log=$(mktemp /tmp/dsyncd-suite.XXXXXX)

# add the "X passed, Y failed" of one program's output
tally() {
	local p f
	p=$(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log" | tail -1)
	f=$(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | tail -1)
	if [ -z "$p" ]; then
		# no summary line: the program died; count it as one failure
		echo "not ok - $1 ended without a summary"
		p=0
		f=1
	elif [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $1 exited with status $2"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}

echo "== documentation against the code's tables"
python3 tests/docs/check.py >"$log" 2>&1
rc=$?
grep -v '^ok ' "$log"
tally docs $rc

# the store's unit tests run on SQLite and on a real PostgreSQL server
. tests/integration/lib-pg.sh
pgdir=$(mktemp -d /tmp/dsyncd-pg.XXXXXX)
chmod 755 "$pgdir"
trap 'pg_stop "$pgdir/pg"; rm -rf "$pgdir"' EXIT
echo "== PostgreSQL for the store's tests"
if pg_start "$pgdir/pg" 127.0.7.1 15432 >"$log" 2>&1; then
	DSYNC_TEST_PG=$(pg_conninfo 127.0.7.1 15432)
	export DSYNC_TEST_PG
else
	cat "$log"
	echo "not ok - PostgreSQL did not start"
	fail=$((fail + 1))
fi

echo "== unit tests ($BUILD)"
for t in "$BUILD"/test_*; do
	[ -x "$t" ] || continue
	"$t" >"$log" 2>&1
	rc=$?
	grep -v '^ok ' "$log" | tail -30
	tally "$(basename "$t")" $rc
done
pg_stop "$pgdir/pg"
unset DSYNC_TEST_PG

if [ -f tests/fuzz/Makefile ]; then
	echo "== fuzz corpus replay"
	make -s -C tests/fuzz replay >"$log" 2>&1
	rc=$?
	tail -5 "$log"
	tally fuzz-replay $rc
fi

echo "== integration tests"
for t in tests/integration/[0-9]*.sh; do
	start=$(date +%s)
	bash "$t" >"$log" 2>&1
	rc=$?
	grep -E '^(not ok|#)' "$log"
	echo "   ($(basename "$t"): $(( $(date +%s) - start )) s)"
	tally "$(basename "$t")" $rc
done
rm -f "$log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
