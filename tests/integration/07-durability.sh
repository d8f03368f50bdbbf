#!/usr/bin/env bash
# Durability: a replayed UPDATE gets its original RCODE and is applied once,
# also after a restart; NOERROR is sent only once the change is committed
# (the store is read from outside right after each answer); SIGTERM under
# load drains: every NOERROR seen is an accepted row in the audit log and
# nothing else is; group commit (several UPDATEs per transaction); SQLite
# integrity; a failing backend keeps deliveries pending and retried while
# UPDATEs go on, and a restart with a working one delivers them.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.7
PORT=5354

# ---- helpers (local to this file) ---------------------------------------------

DB=$T/db/dsyncd.db
q() { sqlite3 "$DB" "$1"; }
ndec() { grep -c ' rcode=' "$T/dsyncd.log"; }
# ds ARGS...: dsync-send to our daemon, the last output line
ds() { "$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 3000 "$@" 2>&1 | tail -1; }
# load-mode summary fields
l_field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
l_rcode() { # NAME SUMMARY -> count of that RCODE (0 if none)
	local n
	n=$(sed -n "s/.*rcodes=.*\b$1:\([0-9]*\).*/\1/p" <<<"$2")
	echo "${n:-0}"
}
naccepted() { q "select count(*) from audit where actor='update' and result='accepted' and id > ${1:-0}"; }
maxaudit() { q "select coalesce(max(id), 0) from audit"; }
nout() { q "select count(*) from outbox_change"; }
ns_count() { q "select count(*) from delegation where owner_text='child.example.' and type=2"; }
# fragment_ns: the child's NS targets in the zonefile backend's output, sorted
FRAG=$T/out/example.delegations
fragment_ns() { awk '$1 == "child.example." && $4 == "NS" {print $5}' "$FRAG" 2>/dev/null | sort | paste -sd' '; }
store_ns() { q "select rdata_text from delegation where owner_text='child.example.' and type=2 order by 1" | paste -sd' '; }
# wait_until SECONDS CMD...: poll (every 0.2 s) until CMD succeeds
wait_until() {
	local s=$1 i
	shift
	for i in $(seq $((s * 5))); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
# loads_done NAME LABEL: wait for the add and the del load (PIDs LA and LB,
# output in $T/NAME-add.out and $T/NAME-del.out); their summary lines in sa
# and sd (echoed), their NOERROR answers together in noerr
loads_done() {
	wait "$LA"
	wait "$LB"
	sa=$(tail -1 "$T/$1-add.out")
	sd=$(tail -1 "$T/$1-del.out")
	echo "# $2: add load: $sa"
	echo "# $2: del load: $sd"
	noerr=$(($(l_rcode NOERROR "$sa") + $(l_rcode NOERROR "$sd")))
}
# restart [CONF]: stop (checked), keep the old log, start again
RUN=1
restart() {
	check "dsyncd stops cleanly (run $RUN)" stop_dsyncd
	mv "$T/dsyncd.log" "$T/dsyncd-run$RUN.log"
	RUN=$((RUN + 1))
	start_dsyncd "${1:-$T/dsyncd.conf}" || { not_ok "dsyncd starts (run $RUN)"; finish; }
}

# ---- setup ------------------------------------------------------------------------

KC=$(mkkey child.example. ED25519) || { not_ok "keygen"; finish; }
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$KC"
# the loads below send thousands of UPDATEs of one child from one address
# within a minute: above the default R9 limits (server.updates-per-*)
sed -i 's/workers = 2;/workers = 2; updates-per-source = 100000; updates-per-signer = 100000;/' "$T/dsyncd.conf"
check "config check (-n)" "$BIN/dsyncd" -n -c "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
r=$(ds -k "$KC" --add "child.example. 300 NS ns1.provider.net." --add "child.example. 300 NS ns2.provider.net.")
expect "initial delegation -> NOERROR" NOERROR "$(f_rcode "$r")"

# ---- replay ---------------------------------------------------------------------------

n0=$(nout)
r=$(ds -k "$KC" --save "$T/rp.bin" --add "child.example. 300 NS ns10.provider.net.")
expect "replay: the original UPDATE -> NOERROR" NOERROR "$(f_rcode "$r")"
expect "replay: one outbox change" $((n0 + 1)) "$(nout)"
expect "replay: ns10 stored" 1 "$(q "select count(*) from delegation where rdata_text='ns10.provider.net.'")"
before=$(state_dump)
a0=$(maxaudit)
r=$(ds --raw-file "$T/rp.bin")
expect "replay: the same bytes again -> NOERROR (the original RCODE) with EDE 0" "NOERROR ede=0" "$(f_rcode "$r") ede=$(f_ede "$r")"
expect_match "replay: EDE text says replayed" "replayed message: already processed \(RCODE 0\), not applied again" "$(f_text "$r")"
expect "replay: store unchanged (delegation, outbox)" "$before" "$(state_dump)"
expect "replay: the audit row says replay" "replay|0" "$(q "select result, rcode from audit where id > $a0")"
r=$(ds -k "$KC" --save "$T/rp-refused.bin" --add "www.child.example. 300 TXT no")
expect "replay: an UPDATE that is refused -> REFUSED" "REFUSED ede=18" "$(f_rcode "$r") ede=$(f_ede "$r")"
r=$(ds --raw-file "$T/rp-refused.bin")
expect "replay: the refused one again -> REFUSED (original RCODE), EDE 0" "REFUSED ede=0" "$(f_rcode "$r") ede=$(f_ede "$r")"
expect_match "replay: its text says replayed" "replayed message: .*\(RCODE 5\)" "$(f_text "$r")"
# remove ns10: a replay that was applied again would bring it back
r=$(ds -k "$KC" --del "child.example. 0 NS ns10.provider.net.")
expect "replay: ns10 removed by a fresh UPDATE -> NOERROR" NOERROR "$(f_rcode "$r")"
r=$(ds --raw-file "$T/rp.bin")
expect "replay: the saved add of ns10 once more -> NOERROR replayed" "NOERROR ede=0" "$(f_rcode "$r") ede=$(f_ede "$r")"
expect "replay: ns10 not added again" 0 "$(q "select count(*) from delegation where rdata_text='ns10.provider.net.'")"
expect "replay: applied once (2 outbox changes: the add and the delete)" $((n0 + 2)) "$(nout)"

before=$(state_dump)
restart
expect "replay: store the same after the restart" "$before" "$(state_dump)"
r=$(ds --raw-file "$T/rp.bin")
expect "replay after restart: NOERROR (original), EDE 0" "NOERROR ede=0" "$(f_rcode "$r") ede=$(f_ede "$r")"
expect_match "replay after restart: text says replayed" "replayed message" "$(f_text "$r")"
r=$(ds --raw-file "$T/rp-refused.bin")
expect "replay after restart: the refused one -> REFUSED (original), EDE 0" "REFUSED ede=0" "$(f_rcode "$r") ede=$(f_ede "$r")"
expect "replay after restart: ns10 still absent, nothing applied" "$before" "$(state_dump)"
expect "replay after restart: counter replays=2" 2 "$(counter replays)"
expect "replay: 5 replay audit rows over both runs" 5 "$(q "select count(*) from audit where result='replay'")"

# ---- NOERROR only after commit ---------------------------------------------------------------

# UPDATE i adds d<i> and deletes d<i-1>; right after each NOERROR the store
# (read by another process) must hold d<i>, not d<i-1>, one more accepted
# audit row and one more outbox change
a0=$(naccepted)
o0=$(nout)
bad_i=""
for i in $(seq 1 50); do
	args=(--add "child.example. 300 NS d$i.provider.net.")
	[ "$i" -gt 1 ] && args+=(--del "child.example. 0 NS d$((i - 1)).provider.net.")
	[ $((i % 5)) = 0 ] && args+=(-t)
	r=$(ds -k "$KC" "${args[@]}")
	got=$(q "select (select count(*) from delegation where rdata_text='d$i.provider.net.'),
		(select count(*) from delegation where rdata_text='d$((i - 1)).provider.net.'),
		(select count(*) from audit where actor='update' and result='accepted'),
		(select count(*) from outbox_change)")
	want="1|0|$((a0 + i))|$((o0 + i))"
	if [ "$(f_rcode "$r")" != NOERROR ] || [ "$got" != "$want" ]; then
		bad_i="$bad_i $i:$(f_rcode "$r"):$got(want $want)"
	fi
done
expect "50 UPDATEs in a row: each NOERROR with its change, audit row and outbox row already in the store" "" "$bad_i"
r=$(ds -k "$KC" --del "child.example. 0 NS d50.provider.net.")
expect "d50 removed -> NOERROR" NOERROR "$(f_rcode "$r")"
expect "back to ns1, ns2" "ns1.provider.net. ns2.provider.net." "$(store_ns)"

# ---- SIGTERM under load: drain ---------------------------------------------------------------

# Two loads at once on the same child, always accepted: one adds ns3 (UDP),
# the other deletes it (TCP); ns1 and ns2 stay, so min-ns (2) always holds.
# UDP: 300 UPDATEs, 50 outstanding, 1 s answer timeout (after the stop the
# client waits that long per window of 50 unanswered); TCP: 2000 on 25
# connections (dsyncd answers ~4000/s here even under ASan; the TCP client
# ends as soon as its connections close).
a0=$(maxaudit)
o0=$(nout)
d0=$(ndec)
r0=$(q "select count(*) from replay")
# the TCP load first (it signs its 2000 before sending), the UDP one once
# the TCP one is answered, SIGTERM once both are
nop() { q "select count(*) from audit where id > $a0 and request like '%; $1 child.example. NS ns3.provider.net.'"; }
"$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 2000 -t -k "$KC" --count 2000 --concurrency 25 \
	--del "child.example. 0 NS ns3.provider.net." >"$T/drain-del.out" 2>&1 &
LB=$!
PIDS+=("$LB")
for _ in $(seq 1000); do [ "$(nop del)" -ge 20 ] && break; sleep 0.01; done
"$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 1000 -k "$KC" --count 300 --concurrency 50 \
	--add "child.example. 300 NS ns3.provider.net." >"$T/drain-add.out" 2>&1 &
LA=$!
PIDS+=("$LA")
for _ in $(seq 1000); do [ "$(nop add)" -ge 10 ] && break; sleep 0.01; done
check "drain: both loads under way (TCP del >= 20, UDP add >= 10 decisions)" \
	test "$(nop del)" -ge 20 -a "$(nop add)" -ge 10
kill -TERM "$DSYNCD_PID"
wait "$DSYNCD_PID"
rc=$?
expect "drain: dsyncd exits 0 after SIGTERM under load" 0 "$rc"
check "drain: no sanitizer report" test "$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/dsyncd.log")" = 0
check "drain: the log says shutting down" grep -q "shutting down" "$T/dsyncd.log"
echo "# drain: $(sed -n '/shutting down/,$p' "$T/dsyncd.log" | grep -c ' rcode=') decision(s) logged after SIGTERM (work in flight, answered in the drain)"
loads_done drain drain
answered=$(($(l_field answered "$sa") + $(l_field answered "$sd")))
acc=$(naccepted "$a0")
all=$(q "select count(*) from audit where id > $a0")
echo "# drain: $answered answered, $noerr NOERROR; audit: $all rows, $acc accepted"
ua=$(l_field answered "$sa")
ta=$(l_field answered "$sd")
[ "$ua" -gt 0 ] && [ "$ua" -lt 300 ] && [ "$ta" -gt 0 ] && [ "$ta" -lt 2000 ] &&
	ok "drain: SIGTERM came mid-way (UDP $ua of 300, TCP $ta of 2000 answered)" ||
	not_ok "drain: SIGTERM came mid-way (UDP $ua of 300, TCP $ta of 2000 answered)"
expect "drain: every answer was NOERROR" "$answered" "$noerr"
[ "$acc" -ge "$noerr" ] && ok "drain: accepted audit rows ($acc) >= NOERROR answers ($noerr)" ||
	not_ok "drain: accepted audit rows ($acc) < NOERROR answers ($noerr): acknowledged but not stored"
expect "drain: no accepted audit row without its answer (accepted rows = NOERROR answers)" "$noerr" "$acc"
expect "drain: every audit row of the load is accepted" "$all" "$acc"
expect "drain: one decision log line per audit row of the load" "$all" "$(($(ndec) - d0))"
changed=$(q "select count(*) from audit where id > $a0 and result='accepted' and reason like 'changed%'")
expect "drain: one outbox change per changing UPDATE ($changed)" $((o0 + changed)) "$(nout)"
mv "$T/dsyncd.log" "$T/dsyncd-run$RUN.log"
RUN=$((RUN + 1))
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd restarts after the drain"; finish; }
expect "drain: after the restart the store holds what was acknowledged" "$acc" "$(naccepted "$a0")"
expect_match "drain: ns1 and ns2 kept, ns3 maybe (min-ns 2 respected)" \
	"^ns1.provider.net. ns2.provider.net.( ns3.provider.net.)?$" "$(store_ns)"
# the last accepted UPDATE decides whether ns3 is there
last=$(q "select request from audit where id > $a0 and result='accepted' order by id desc limit 1")
case $last in
*"; add child.example. NS ns3.provider.net."*) want=3 ;;
*"; del child.example. NS ns3.provider.net."*) want=2 ;;
*) want="?($last)" ;;
esac
expect "drain: the delegation matches the last accepted UPDATE in the audit log" "$want" "$(ns_count)"
expect "drain: the replay cache holds every accepted UPDATE of the load" $((r0 + acc)) "$(q "select count(*) from replay")"
wait_until 10 test "$(fragment_ns)" = "$(store_ns)"
expect "drain: the zone file fragment catches up with the store" "$(store_ns)" "$(fragment_ns)"
expect "drain: no delivery left pending" 0 "$(q "select count(*) from delivery where state != 'done'")"

# ---- group commit -----------------------------------------------------------------------------

# 2000 UPDATEs, 100 outstanding: 1000 add ns3 over UDP, 1000 delete it over UDP
a0=$(maxaudit)
c0=$(counter commits)
j0=$(counter commit_jobs)
"$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 5000 -k "$KC" --count 1000 --concurrency 50 \
	--add "child.example. 300 NS ns3.provider.net." >"$T/gc-add.out" 2>&1 &
LA=$!
"$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 5000 -k "$KC" --count 1000 --concurrency 50 \
	--del "child.example. 0 NS ns3.provider.net." >"$T/gc-del.out" 2>&1 &
LB=$!
PIDS+=("$LA" "$LB")
loads_done gc "group commit"
expect "group commit: 2000 UPDATEs, all NOERROR" 2000 "$noerr"
c=$(($(counter commits) - c0))
j=$(($(counter commit_jobs) - j0))
ratio=$(awk -v j="$j" -v c="$c" 'BEGIN { printf "%.2f", c ? j / c : 0 }')
echo "# group commit: $j jobs in $c commits: $ratio UPDATEs per transaction"
[ "$c" -gt 0 ] && [ "$c" -lt "$j" ] && ok "group commit: commits ($c) < commit_jobs ($j), $ratio per transaction" ||
	not_ok "group commit: commits ($c) not below commit_jobs ($j)"
expect "group commit: every job counted" 2000 "$j"
expect "group commit: 2000 accepted audit rows" "$noerr" "$(naccepted "$a0")"
expect_match "group commit: ns1, ns2 kept" "^ns1.provider.net. ns2.provider.net.( ns3.provider.net.)?$" "$(store_ns)"

# ---- SQLite integrity ---------------------------------------------------------------------------

expect "integrity_check ok (daemon running)" ok "$(q "pragma integrity_check")"
expect "foreign_key_check empty" "" "$(q "pragma foreign_key_check")"
expect "journal mode is WAL" wal "$(q "pragma journal_mode")"

# ---- a failing backend ---------------------------------------------------------------------------

zf_conf() { # FILE RELOAD-COMMAND
	write_conf "$1" $ADDR $PORT example. "child.example.:$KC" \
		"  backends = ( { type = \"zonefile\"; path = \"$FRAG\"; reload = [ \"$2\" ]; } );"
	sed -i 's/^store = .*/&\noutbox = { retry-min = 1; retry-max = 2; };/' "$1"
}
zf_conf "$T/false.conf" /bin/false
zf_conf "$T/true.conf" /bin/true
check "config with reload /bin/false passes -n" "$BIN/dsyncd" -n -c "$T/false.conf"
wait_until 10 test "$(q "select count(*) from delivery where state != 'done'")" = 0
restart "$T/false.conf"
cmax=$(q "select coalesce(max(id), 0) from outbox_change")
for n in 21 22 23; do
	r=$(ds -k "$KC" --add "child.example. 300 NS ns$n.provider.net.")
	expect "failing backend: add ns$n -> NOERROR" NOERROR "$(f_rcode "$r")"
done
expect "failing backend: ns21..23 in the store" 3 "$(q "select count(*) from delegation where rdata_text like 'ns2_.provider.net.'")"
pend() { q "select count(*) from delivery where change_id > $cmax and state = 'pending'"; }
att() { q "select min(attempts) from delivery where change_id > $cmax"; }
two_tries() { [ "$(att)" -ge 2 ]; }
check "failing backend: each delivery tried at least twice (retry-min 1)" wait_until 10 two_tries
expect "failing backend: 3 deliveries pending" 3 "$(pend)"
expect "failing backend: last_error names the reload failure" \
	"command /bin/false exited with status 1" \
	"$(q "select distinct last_error from delivery where change_id > $cmax" | sed 's/^reload //')"
a1=$(att)
sleep 3
a2=$(att)
[ "$a2" -gt "$a1" ] && ok "failing backend: attempts grow ($a1 -> $a2 in 3 s, retry-max 2)" ||
	not_ok "failing backend: attempts do not grow ($a1 -> $a2 in 3 s)"
expect "failing backend: still pending" 3 "$(pend)"
expect "failing backend: nothing delivered" 0 "$(q "select count(*) from delivery where change_id > $cmax and delivered_at is not null")"
check "failing backend: the log says so" grep -q "outbox: delivery of [0-9]* change(s) of zone example. to backend zonefile failed (attempt [0-9]*, next in [12] s): reload command /bin/false exited with status 1" "$T/dsyncd.log"
r=$(ds -t -k "$KC" --del "child.example. 0 NS ns23.provider.net.")
expect "failing backend: UPDATEs still NOERROR" NOERROR "$(f_rcode "$r")"
expect "failing backend: 4 pending" 4 "$(pend)"

restart "$T/true.conf"
done4() { [ "$(q "select count(*) from delivery where change_id > $cmax and state = 'done'")" = 4 ]; }
check "working backend after the restart: the 4 pending deliveries are done" wait_until 15 done4
expect "working backend: delivered_at set, none pending" "0|4" \
	"$(q "select sum(state = 'pending'), sum(delivered_at is not null) from delivery where change_id > $cmax")"
check "working backend: the log says delivered" grep -q "outbox: delivered [0-9]* change(s) of zone example. to backend zonefile" "$T/dsyncd.log"
wait_until 10 test "$(fragment_ns)" = "$(store_ns)"
expect "working backend: the fragment holds ns21, ns22 (not ns23)" "$(store_ns)" "$(fragment_ns)"
check "working backend: ns22 in the fragment" grep -q "ns22.provider.net." "$FRAG"

# ---- the end -------------------------------------------------------------------------------------------

r=$(ds -k "$KC" --del "child.example. 0 NS ns21.provider.net." --del "child.example. 0 NS ns22.provider.net.")
expect "a good UPDATE is still NOERROR" NOERROR "$(f_rcode "$r")"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
expect "integrity_check ok (after the stop)" ok "$(q "pragma integrity_check")"
finish
