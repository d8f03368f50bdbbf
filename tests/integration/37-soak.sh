#!/usr/bin/env bash
# Crash safety, short: tests/bench/soak.sh (B8, `make soak` runs 100 kills)
# with 5 SIGKILLs of the sanitized dsyncd under a load of numbered changes
# (8 children, one UPDATE outstanding each, unanswered ones resent after
# the restart).  After every kill the store passes PRAGMA integrity_check
# and holds every acknowledged change exactly once and complete; at the end
# every request was answered and each child's delegation is its last
# acknowledged change.  Then the check itself is shown to catch what it is
# for: on copies of the soak's store with one acknowledged change removed,
# one doubled, and one delegation cut in half, it fails and names it.
. "$(dirname "$0")/lib.sh"
need python3 sqlite3 dnssec-keygen
ADDR=127.0.0.65

out=$(KILLS=5 CHILDREN=8 MIN_ACKS=30 KEEP=1 SOAK_ADDR=$ADDR bash "$TOP/tests/bench/soak.sh" "$BUILD" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
S=$(sed -n 's/^# files kept in //p' <<<"$out")
# the soak's folder goes with this test's own (kept too when a check fails)
[ -n "$S" ] && trap 'cleanup; [ "$FAIL" -gt 0 ] || [ "${KEEP:-0}" = 1 ] || rm -rf "$S"' EXIT
expect "soak.sh exits 0" 0 "$rc"
expect "5 kills, each followed by a clean check" 5 \
	"$(grep -cE '^kill [0-9]+: integrity_check ok; [0-9]+ acknowledged change\(s\) of 8 children each accepted once, .* 0 problem\(s\)$' <<<"$out")"
expect "no check failed" "" "$(grep -E 'FAIL' <<<"$out")"
final=$(grep '^final: ' <<<"$out")
expect_match "final: integrity ok, every acknowledged change once, none in flight, no problem" \
	"^final: integrity_check ok; [1-9][0-9]* acknowledged change\(s\) of 8 children each accepted once, 0 accepted in flight, .* 0 problem\(s\)$" \
	"$final"
expect_match "every generator's last request was answered" "^generators: 0 of 8 ended with a request unanswered" \
	"$(grep '^generators: ' <<<"$out")"
expect_match "5 kills of 5 done" "^kills: 5 of 5 in " "$(grep '^kills: ' <<<"$out")"
expect "soak result PASS" "B8 soak: PASS" "$(grep "^B8 soak: " <<<"$out")"

# ---- the check catches what it is for -----------------------------------------------

if [ -z "$S" ] || [ ! -f "$S/db/dsyncd.db" ]; then
	not_ok "the soak's store is kept for the checks below"
	finish
fi
CHECK=$TOP/tests/bench/soak-check.py
# tampered NAME SQL: a copy of the store changed by SQL; soak-check.py's output on it
tampered() {
	mkdir -p "$T/$1"
	sqlite3 "$S/db/dsyncd.db" ".backup '$T/$1/db'"
	sqlite3 "$T/$1/db" "$2"
	python3 "$CHECK" "$T/$1/db" "$S/gen" final 2>&1
	return 0
}
out=$(python3 "$CHECK" "$S/db/dsyncd.db" "$S/gen" final 2>&1)
expect "the untouched store passes (exit 0)" 0 $?
last=$(sqlite3 "$S/db/dsyncd.db" "select id from audit where child = 'c3.example.' and result = 'accepted' order by id desc limit 1")
out=$(tampered lost "delete from audit where id = $last")
expect_match "an acknowledged change missing from the audit log is named" "FAIL c3.example. change [0-9]+ answered NOERROR but not in the audit log \(lost\)" "$out"
out=$(tampered doubled "insert into audit (time, client, zone, child, key_tag, actor, request, result, rcode, reason)
	select time, client, zone, child, key_tag, actor, request, result, rcode, reason from audit where id = $last")
expect_match "a change accepted twice is named" "FAIL c3.example. change [0-9]+ accepted 2 times \(doubled\)" "$out"
out=$(tampered partial "delete from delegation where owner_text = 'c5.example.' and rdata_text =
	(select max(rdata_text) from delegation where owner_text = 'c5.example.')")
expect_match "a delegation with one NS of its pair is named" "FAIL c5.example. delegation .* \(partial\?\)" "$out"
# a page of the store's file overwritten (the copy is in rollback mode, all in one file)
mkdir -p "$T/corrupt"
sqlite3 "$S/db/dsyncd.db" ".backup '$T/corrupt/db'"
sqlite3 "$T/corrupt/db" "pragma journal_mode = delete" >/dev/null
psize=$(sqlite3 "$T/corrupt/db" "pragma page_size")
npages=$(sqlite3 "$T/corrupt/db" "pragma page_count")
dd if=/dev/urandom of="$T/corrupt/db" bs="$psize" seek=$((npages / 2)) count=1 conv=notrunc status=none
out=$(python3 "$CHECK" "$T/corrupt/db" "$S/gen" final 2>&1)
expect "a store with a page overwritten fails the check (exit 1)" 1 $?
expect_match "and the failure names the integrity check or the unreadable store" "FAIL (integrity_check|the store cannot be read)" "$out"
finish
