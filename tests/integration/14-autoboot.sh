#!/usr/bin/env bash
# Automatic key bootstrap end to end, in the local DNS world (tests/world):
# a child's self-signed upload leaves its key validating (KeyState 9) and
# dsyncd's scheduler proves it with the zone's methods in the configured
# order: at-apex (signed child), at-ns (_signal KEY under a signed provider),
# unsigned (rounds over time, every nameserver agreeing), or hands it to the
# operator (manual, KeyState 10).  Failures are retried and end as
# validation-failed (KeyState 8, EDE on UPDATEs); a forged bootstrap for a
# child with a trusted key changes nothing; a validation interrupted by
# SIGTERM or SIGKILL resumes when dsyncd starts again.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.16
PORT=5354
# the world on its own addresses (08-world.sh uses .80-.87)
world_init 112 knotd knotc kdig dnssec-keygen dnssec-signzone nsupdate sqlite3 ss
world_started "the world starts" "$T/world.log"
SPLIT1=$(bash "$WS" addr split1 "$W")
SPLIT2=$(bash "$WS" addr split2 "$W")

# ---- helpers -------------------------------------------------------------------

# phase NAME METHODS ROUNDS INTERVAL: a fresh store and config in $T/NAME,
# with the world's parent.test. delegations imported; sets P CONF LOG DB
phase() {
	P=$T/$1
	CONF=$P/dsyncd.conf
	LOG=$P/dsyncd.log
	DB=$P/dsyncd.db
	mkdir -p "$P"
	world_conf "$P" "$2" "$3" "$4" "unsigned-inquiries = true; " >"$CONF"
	# the parent side as the world's parent.test. zone file has it (NS, DS, glue)
	"$BIN/dsyncd" -c "$CONF" import parent.test. "$W/zones/parent.test.zone" >"$P/import.log" 2>&1
}
dump() { sqlite3 "$DB" "select owner_text || ' ' || type || ' ' || rdata_text from delegation order by 1" 2>/dev/null; }
audit_n() { # CHILD RESULT ACTOR
	sqlite3 "$DB" "select count(*) from audit where child='$1' and result='$2' and actor='$3'" 2>/dev/null
}
# upload KEYPREFIX: the self-signed bootstrap UPDATE, as nsupdate sends it
upload() { { echo "zone parent.test."; echo "update add $(keyrr "$1")"; } | nsu "$1" $ADDR $PORT; }
# dsend ARGS...: dsync-send to dsyncd, the answer line
dsend() { "$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 3000 "$@" 2>&1 | tail -1; }
# ksq_line CHILD TAG [SIGNING-KEY]: KeyState inquiry (unsigned unless a key
# is given; the answer is checked against the receiver's key), the answer line
ksq_line() {
	local args=(--opcode 0 -z "$1" --qtype KEY --ednsopt "65002:$(printf %04x "$2")0200" --verify-key "$RK")
	[ -n "${3:-}" ] && args+=(-k "$3")
	dsend "${args[@]}"
}
# ksq CHILD TAG [SIGNING-KEY]: the state code in decimal, or the answer line when it has none
ksq() {
	local out h
	out=$(ksq_line "$@")
	h=$(sed -n "s/.* opt65002=$(printf %04x "$2")\([0-9a-f][0-9a-f]\).*/\1/p" <<<"$out")
	if [ -n "$h" ]; then echo $((16#$h)); else echo "$out"; fi
}
# upload_ks KEYPREFIX CHILD: self-signed upload carrying the KeyState option;
# prints the RCODE and the state code of the signed answer (D8), which is
# the state the upload left the key in, whatever happens a moment later
upload_ks() {
	local out h tag
	tag=$(tagof "$1")
	out=$(dsend -k "$1" -z parent.test. --add "$(keyrr "$1")" \
		--ednsopt "65002:$(printf %04x "$tag")0200" --verify-key "$RK")
	h=$(sed -n "s/.* opt65002=$(printf %04x "$tag")\([0-9a-f][0-9a-f]\).*/\1/p" <<<"$out")
	echo "$(f_rcode "$out") ${h:+$((16#$h))}"
}
# round_logged CHILD TAG N [AFTER]: the log says round N was consistent
# (only lines after line AFTER of the log count); rounds_after LOGLINE CHILD
# TAG: the highest round logged after that log line (0 when none)
round_logged() {
	tail -n +"$((${4:-0} + 1))" "$LOG" | grep -q "bootstrap: $1 key $2: unsigned: round $3 of $ROUNDS consistent"
}
last_round() {
	tail -n +"$((${3:-0} + 1))" "$LOG" |
		sed -n "s/.*bootstrap: $1 key $2: unsigned: round \([0-9]*\) of $ROUNDS consistent.*/\1/p" | tail -1
}
# wait_round CHILD TAG N [AFTER]: until round N (or a later one) is logged (bounded: 60 s)
wait_round() {
	local i r
	for ((i = 0; i < 600; i++)); do
		r=$(last_round "$1" "$2" "${4:-0}")
		[ "${r:-0}" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
# keyblock CHILD TAG: the key's line of `dsyncd key list` and its validation line, joined
keyblock() {
	"$BIN/dsyncd" -c "$CONF" key list 2>/dev/null |
		awk -v h="$1 tag $2 alg " 'index($0, h) == 1 { p = 1; print; next }
			p && /^    / { print; next } { p = 0 }' | sed 's/^ *//' | paste -sd'|'
}
# wait_key CHILD TAG REGEX SECONDS: poll `key list` every 0.5 s until the
# key's block matches; prints the last block seen
wait_key() {
	local i b=""
	for ((i = 0; i < $4 * 2; i++)); do
		b=$(keyblock "$1" "$2")
		[[ "$b" =~ $3 ]] && break
		sleep 0.5
	done
	echo "$b"
}
# upload_phase NAME LABEL DESC SED: a phase of unsigned rounds an hour
# apart (the first validation stays pending), its configuration edited by
# SED; dsyncd started and insecure-ns.parent.test.'s key uploaded (DESC
# checks the NOERROR)
upload_phase() {
	phase "$1" '"unsigned"' 3 3600
	sed -i "$4" "$CONF"
	start_dsyncd "$CONF" "$LOG" || { not_ok "dsyncd starts ($2)"; finish; }
	expect "$3 -> NOERROR" NOERROR "$(upload "$KI")"
}
# wait_file FILE REGEX SECONDS: the backend's output catches up
wait_file() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

world_keys
TS=$(tagof "$KS") TU=$(tagof "$KU") TB=$(tagof "$KB") TI=$(tagof "$KI") TP=$(tagof "$KP")

# ==== phase 1: at-apex, then at-ns ================================================
phase p1 '"at-apex", "at-ns"' 3 2
expect_match "import of the world's parent.test. zone" "5 delegation\(s\), 5 changed" "$(cat "$P/import.log")"
expect "the store has split.parent.test.'s in-bailiwick NS and glue" \
	"ns1.split.parent.test. 1 $SPLIT1|ns2.split.parent.test. 1 $SPLIT2|split.parent.test. 2 ns1.split.parent.test.|split.parent.test. 2 ns2.split.parent.test." \
	"$(dump | grep split | paste -sd'|')"
expect "the store has insecure-ns.parent.test.'s NS" "insecure-ns.parent.test. 2 ns1.unsigned-provider.test." \
	"$(dump | grep '^insecure-ns')"
start_dsyncd "$CONF" "$LOG" || { not_ok "dsyncd starts (phase 1)"; finish; }
RK=$(ls "$P"/rkeys/*.key)

# signed.parent.test.: the upload carries a KeyState option, so its answer
# says where the key stands when the upload was decided (D8)
out=$(dsend -k "$KS" -z parent.test. --add "$(keyrr "$KS")" --ednsopt "65002:$(printf %04x "$TS")0200" --verify-key "$RK")
expect_match "signed: self-signed upload -> NOERROR, KeyState 9 (validating) in the signed answer" \
	"^rcode=NOERROR .*sig0ok=rfc2931.*opt65002=$(printf %04x "$TS")09" "$out"
# bogus first, and looked at at once: its two attempts are 1 s apart
expect "bogus.parent.test.: self-signed upload (nsupdate) -> NOERROR" NOERROR "$(upload "$KB")"
expect_match "bogus: right after the upload the key is validating" "bogus\.parent\.test\. tag $TB alg 13: validating" "$(keyblock bogus.parent.test. "$TB")"
expect "bogus: KeyState 9 while it is retried" 9 "$(ksq bogus.parent.test. "$TB")"
for k in "$KU" "$KI" "$KP"; do
	expect "$(basename "$k" | sed 's/^K\(.*\)+013+.*/\1/'): self-signed upload (nsupdate) -> NOERROR" NOERROR "$(upload "$k")"
done

b=$(wait_key signed.parent.test. "$TS" "alg 13: (trusted|validation-failed|known) " 20)
expect_match "signed: trusted by at-apex" "tag $TS alg 13: trusted by at-apex .*validation: ended: at-apex: " "$b"
expect "signed: KeyState 4" 4 "$(ksq signed.parent.test. "$TS")"
expect_match "signed: a SIG(0)-signed inquiry -> 4, answer signed by the receiver" \
	"^rcode=NOERROR .*sig0ok=rfc2931.*opt65002=$(printf %04x "$TS")04" "$(ksq_line signed.parent.test. "$TS" "$KS")"
expect "signed: the trust is audited (actor bootstrap)" 1 "$(audit_n signed.parent.test. trusted bootstrap)"
grep -q "bootstrap: signed.parent.test. key $TS trusted (at-apex: " "$LOG" && ok "signed: the trust is logged" || not_ok "signed: trust logged"
out=$(dsend -k "$KS" --add "signed.parent.test. 300 NS ns3.provider.test.")
expect "signed: an UPDATE signed with the key changes the NS set -> NOERROR" NOERROR "$(f_rcode "$out")"
expect "signed: the store has the new NS set" \
	"ns1.provider.test.|ns2.provider.test.|ns3.provider.test." "$(dump | sed -n 's/^signed\.parent\.test\. 2 //p' | paste -sd'|')"
check "signed: the backend output has ns3.provider.test." wait_file "$P/parent.test.delegations" "^signed\.parent\.test\..*NS[[:space:]]+ns3\.provider\.test\." 10

b=$(wait_key unsigned.parent.test. "$TU" "alg 13: (trusted|validation-failed|known) " 20)
expect_match "unsigned: trusted by at-ns" "tag $TU alg 13: trusted by at-ns .*validation: ended: at-ns: " "$b"
expect "unsigned: KeyState 4" 4 "$(ksq unsigned.parent.test. "$TU")"
out=$(dsend -k "$KU" --del "unsigned.parent.test. 300 NS ns2.provider.test." --add "unsigned.parent.test. 300 NS ns4.provider.test.")
expect "unsigned: an UPDATE with the key changes the NS set -> NOERROR" NOERROR "$(f_rcode "$out")"
expect "unsigned: the store has it" "ns1.provider.test.|ns4.provider.test." \
	"$(dump | sed -n 's/^unsigned\.parent\.test\. 2 //p' | paste -sd'|')"

b=$(wait_key bogus.parent.test. "$TB" "alg 13: (trusted|validation-failed|known) " 20)
expect_match "bogus: validation-failed after 2 attempts, at-apex (bogus) tried before at-ns" \
	"tag $TB alg 13: validation-failed .*validation: ended: failed after 2 attempt\(s\): at-apex: [^;]*bogus[^;]*; at-ns: " "$b"
expect "bogus: KeyState 8" 8 "$(ksq bogus.parent.test. "$TB")"
# kstext CHILD TAG: the EXTRA-TEXT of the KeyState answer, decoded
kstext() {
	sed -n "s/.* opt65002=$(printf %04x "$2")[0-9a-f]\{4\}\([0-9a-f]*\).*/\1/p" <<<"$(ksq_line "$1" "$2")" |
		python3 -c 'import sys; print(bytes.fromhex(sys.stdin.read().strip()).decode("utf-8", "replace"))'
}
expect_match "bogus: the KeyState answer's EXTRA-TEXT says why (8)" "failed after 2 attempt\(s\): at-apex: .*bogus" "$(kstext bogus.parent.test. "$TB")"
grep -q "bootstrap: bogus.parent.test. key $TB attempt 1 of 2: .*retry in 1 s" "$LOG" &&
	ok "bogus: the first failure was retried after 1 s" || not_ok "bogus: retry logged"
out=$(dsend -k "$KB" --add "bogus.parent.test. 300 NS ns3.provider.test.")
expect "bogus: an UPDATE signed with the key -> REFUSED, EDE 515" "REFUSED 515" "$(f_rcode "$out") $(f_ede "$out")"
expect_match "... the EDE text says it failed validation" "key bogus\.parent\.test\. tag $TB failed validation" "$(f_text "$out")"

b=$(wait_key insecure-ns.parent.test. "$TI" "alg 13: (trusted|validation-failed|known) " 20)
expect_match "insecure-ns: validation-failed: its _signal KEY is not secure" \
	"tag $TI alg 13: validation-failed .*validation: ended: failed after 2 attempt\(s\): .*at-ns: .*(insecure|not secure)" "$b"
expect "insecure-ns: KeyState 8" 8 "$(ksq insecure-ns.parent.test. "$TI")"

b=$(wait_key split.parent.test. "$TP" "alg 13: (trusted|validation-failed|known) " 20)
expect_match "split: in-bailiwick NS only, no manual -> validation-failed, no bootstrap method applies" \
	"tag $TP alg 13: validation-failed .*validation: ended: no bootstrap method applies" "$b"
expect "split: KeyState 8" 8 "$(ksq split.parent.test. "$TP")"
out=$(dsend -k "$KP" --add "split.parent.test. 300 NS ns3.split.parent.test.")
expect_match "split: an UPDATE signed with the key -> REFUSED, EDE 515 'failed validation'" \
	"^REFUSED 515 key split\.parent\.test\. tag $TP failed validation" "$(f_rcode "$out") $(f_ede "$out") $(f_text "$out")"

# a forged bootstrap for signed.parent.test., whose key is trusted
KF=$(mkkey signed.parent.test. ECDSAP256SHA256)
TF=$(tagof "$KF")
before=$(dump)
expect "forged: self-signed upload of another key for signed.parent.test. -> NOERROR" NOERROR "$(upload "$KF")"
b=$(wait_key signed.parent.test. "$TF" "alg 13: (trusted|validation-failed|known) " 20)
expect_match "forged: the new key ends validation-failed (its KEY is not in the signed zone)" \
	"tag $TF alg 13: validation-failed .*failed after 2 attempt\(s\): at-apex: " "$b"
expect_match "forged: the old key is still trusted by at-apex" "tag $TS alg 13: trusted by at-apex" "$(keyblock signed.parent.test. "$TS")"
expect "forged: KeyState of the old key 4" 4 "$(ksq signed.parent.test. "$TS")"
expect "forged: KeyState of the forged key 8 (asked with its own signature)" 8 "$(ksq signed.parent.test. "$TF" "$KF")"
expect "forged: the delegation is unchanged" "$before" "$(dump)"
out=$(dsend -k "$KF" --del "signed.parent.test. 300 NS ns3.provider.test.")
expect "forged: an UPDATE with the forged key -> REFUSED, EDE 515" "REFUSED 515" "$(f_rcode "$out") $(f_ede "$out")"
out=$(dsend -k "$KS" --del "signed.parent.test. 300 NS ns3.provider.test.")
expect "forged: the old key still changes the delegation -> NOERROR" NOERROR "$(f_rcode "$out")"
expect "... and the store follows" "ns1.provider.test.|ns2.provider.test." \
	"$(dump | sed -n 's/^signed\.parent\.test\. 2 //p' | paste -sd'|')"
check "dsyncd stops cleanly (phase 1)" stop_dsyncd "$LOG"

# ==== phase 2: unsigned over rounds, then manual ================================
# (five rounds three seconds apart: the restarts below must fall between two
# rounds, and the log tells which rounds ran; nothing depends on catching a
# state in the moment)
ROUNDS=5
phase p2 '"unsigned", "manual"' $ROUNDS 3
# ns2.split.parent.test. serves a second KEY: the nameservers disagree
KX=$(mkkey split.parent.test. ECDSAP256SHA256)
grep -v '^;' "$KX.key" >"$W/extra/split.parent.test@split2.records"
check "world reload with a second KEY at ns2.split" bash "$WS" reload "$W"
start_dsyncd "$CONF" "$LOG" || { not_ok "dsyncd starts (phase 2)"; finish; }
RK=$(ls "$P"/rkeys/*.key)

expect "split (servers disagree): upload -> NOERROR, KeyState 9 (validating) in its answer" \
	"NOERROR 9" "$(upload_ks "$KP")"
b=$(wait_key split.parent.test. "$TP" "alg 13: (trusted|validation-failed|known) " 20)
expect_match "split: the disagreement fails both attempts -> validation-failed, naming ns2.split" \
	"tag $TP alg 13: validation-failed .*failed after 2 attempt\(s\): unsigned: .*(ns2\.split\.parent\.test|${SPLIT2//./\\.})" "$b"
expect "split: KeyState 8" 8 "$(ksq split.parent.test. "$TP")"

expect "signed (a signed child): upload -> NOERROR" NOERROR "$(upload "$KS")"
b=$(wait_key signed.parent.test. "$TS" "alg 13: (trusted|validation-failed|known) " 20)
expect_match "signed: unsigned does not apply to a signed child -> known, waiting for the operator" \
	"tag $TS alg 13: known .*validation: ended: no automatic method applies \(unsigned: .*signed.*\); waiting for the operator" "$b"
expect "signed: KeyState 10 (manual)" 10 "$(ksq signed.parent.test. "$TS")"
expect_match "signed: dsyncd key trust" "is now trusted; send SIGHUP" \
	"$("$BIN/dsyncd" -c "$CONF" key trust signed.parent.test. "$TS" 2>&1)"
hup "$LOG"
expect "signed: after trust + SIGHUP KeyState 4" 4 "$(ksq signed.parent.test. "$TS")"
expect_match "signed: trusted by manual" "tag $TS alg 13: trusted by manual" "$(keyblock signed.parent.test. "$TS")"
expect_match "signed: its validation row says how it ended" "validation: ended: the key became trusted \(operator-trust\)" "$(keyblock signed.parent.test. "$TS")"
out=$(dsend -k "$KS" --add "signed.parent.test. 300 NS ns3.provider.test.")
expect "signed: the key changes the delegation -> NOERROR" NOERROR "$(f_rcode "$out")"

: >"$W/extra/split.parent.test@split2.records"
check "world reload: the split servers agree again" bash "$WS" reload "$W"
nlog=$(wc -l <"$LOG")
expect "split: the same key uploaded again -> NOERROR, KeyState 9 between rounds" "NOERROR 9" "$(upload_ks "$KP")"
b=$(wait_key split.parent.test. "$TP" "alg 13: (trusted|validation-failed|known) " 60)
expect_match "split: trusted by unsigned after $ROUNDS consistent rounds" "tag $TP alg 13: trusted by unsigned .*$ROUNDS consistent rounds" "$b"
for n in 1 2 $((ROUNDS - 1)); do
	check "split: round $n of $ROUNDS was consistent (log)" round_logged split.parent.test. "$TP" $n "$nlog"
done
expect "split: no round before the upload's (round 1 logged once)" 1 \
	"$(tail -n +$((nlog + 1)) "$LOG" | grep -c "bootstrap: split.parent.test. key $TP: unsigned: round 1 of $ROUNDS consistent")"
expect "split: KeyState 4" 4 "$(ksq split.parent.test. "$TP")"
out=$(dsend -k "$KP" --add "split.parent.test. 300 NS ns3.split.parent.test." --add "ns3.split.parent.test. 300 A $SPLIT2")
expect "split: the key changes the delegation (NS + glue) -> NOERROR" NOERROR "$(f_rcode "$out")"
expect "split: the store has the new glue" "ns3.split.parent.test. 1 $SPLIT2" "$(dump | grep '^ns3\.split')"

# restarts: both validations are in their rounds when dsyncd gets SIGTERM,
# go on in the restarted daemon, are interrupted by SIGKILL and end in the
# third daemon; every step is in the store
nres() { grep -Ec "bootstrap: resuming [0-9]+ pending validation" "$LOG"; }
# trusted_after N CHILD: the trust of CHILD was logged after the Nth "serving" line
trusted_after() {
	awk -v n="$1" -v c="bootstrap: $2 key " '/dsyncd serving/ { s++ }
		s >= n && index($0, c) && / trusted \(unsigned: / { f = 1 } END { exit !f }' "$LOG"
}
# round_in_store CHILD TAG: the round the store holds for the key's validation
round_in_store() { keyblock "$1" "$2" | sed -n 's/.*validation: attempt [0-9]*, round \([0-9]*\),.*/\1/p'; }
expect "insecure-ns: upload -> NOERROR" NOERROR "$(upload "$KI")"
expect "unsigned: upload -> NOERROR" NOERROR "$(upload "$KU")"
for c in "insecure-ns.parent.test. $TI" "unsigned.parent.test. $TU"; do
	check "${c% *}: round 1 of $ROUNDS logged" wait_round ${c% *} ${c#* } 1
done
check "dsyncd stops cleanly on SIGTERM in the middle of the validations" stop_dsyncd "$LOG"
r1=()
for c in "insecure-ns.parent.test. $TI" "unsigned.parent.test. $TU"; do
	ch=${c% *} tg=${c#* }
	r=$(round_in_store "$ch" "$tg")
	r1+=("${r:-0}")
	expect_match "$ch: the store keeps the validation between rounds (validating, round 1..$((ROUNDS - 2)))" \
		"tag $tg alg 13: validating .*validation: attempt 1, round [1-$((ROUNDS - 2))], " "$(keyblock "$ch" "$tg")"
done
n0=$(nres)
nlog=$(wc -l <"$LOG")
start_dsyncd "$CONF" "$LOG" || { not_ok "dsyncd starts again"; finish; }
expect "the restart logs that pending validations resume" $((n0 + 1)) "$(nres)"
i=0
for c in "insecure-ns.parent.test. $TI" "unsigned.parent.test. $TU"; do
	ch=${c% *} tg=${c#* }
	check "$ch: the restarted daemon runs the next round (after ${r1[i]})" wait_round "$ch" "$tg" $((r1[i] + 1)) "$nlog"
	i=$((i + 1))
done
kill -KILL "$DSYNCD_PID"
wait "$DSYNCD_PID" 2>/dev/null
for c in "insecure-ns.parent.test. $TI" "unsigned.parent.test. $TU"; do
	ch=${c% *} tg=${c#* }
	expect_match "$ch: after SIGKILL the store still has the validation (validating)" \
		"tag $tg alg 13: validating .*validation: attempt 1, round [2-$((ROUNDS - 1))], " "$(keyblock "$ch" "$tg")"
done
start_dsyncd "$CONF" "$LOG" || { not_ok "dsyncd starts after SIGKILL"; finish; }
expect "the start after SIGKILL logs the resume too" $((n0 + 2)) "$(nres)"
nserv=$(grep -c "dsyncd serving" "$LOG")
for c in "insecure-ns.parent.test. $TI" "unsigned.parent.test. $TU"; do
	ch=${c% *} tg=${c#* }
	b=$(wait_key "$ch" "$tg" "alg 13: (trusted|validation-failed|known) " 60)
	expect_match "$ch: resumed and trusted by unsigned" "tag $tg alg 13: trusted by unsigned .*$ROUNDS consistent rounds" "$b"
	check "$ch: ... by the daemon started after SIGKILL" trusted_after "$nserv" "$ch"
	expect "$ch: KeyState 4" 4 "$(ksq "$ch" "$tg")"
	expect "$ch: one trust audited" 1 "$(audit_n "$ch" trusted bootstrap)"
	expect "$ch: both resumes audited" 2 "$(sqlite3 "$DB" "select count(*) from audit where child='$ch' and actor='bootstrap' and result='validating' and reason like 'restart: validation resumes%'")"
done
expect "no reason repeats its method name" 0 "$("$BIN/dsyncd" -c "$CONF" key list 2>&1 | grep -Ec '(at-apex|at-ns|unsigned): (at-apex|at-ns|unsigned):')"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd "$LOG"

# ==== phase 3: the overall cap on queued validations (R9) =======================
# unsigned rounds an hour apart keep the first validation pending
upload_phase p3 "phase 3" "cap: a first upload is queued" \
	's/retry-interval = 1;/max-pending-total = 1; retry-interval = 1;/'
b=$(wait_key insecure-ns.parent.test. "$TI" "round 1 of 3" 10)
expect_match "cap: it stays pending between rounds" "validating .*round 1 of 3" "$b"
expect "cap: a second child's upload while the queue is full -> REFUSED" REFUSED "$(upload "$KU")"
expect "cap: nothing was stored for it" 0 "$(sqlite3 "$DB" "select count(*) from keys k join children c on c.id = k.child_id where c.name_text = 'unsigned.parent.test.'")"
expect "cap: the refusal is logged with its reason" 1 "$(grep -c 'unsigned.parent.test.*key validations are pending at this receiver (bootstrap.max-pending-total)' "$LOG")"
expect "cap: KeyState of the refused key is 5 (unknown)" 5 "$(ksq unsigned.parent.test. "$TU")"
check "dsyncd stops cleanly (phase 3)" stop_dsyncd "$LOG"

# ==== phase 4: a resolver vantage point from the configuration ==================
# (13-methods.sh checks rounds through a real unbound; here only that the
# configured address and port are the ones asked: nothing listens there)
upload_phase p4 "phase 4" "resolver vantage: upload" \
	's/query-timeout = 2;/query-timeout = 2; unsigned-resolvers = [ "127.0.0.99@5399" ];/'
b=$(wait_key insecure-ns.parent.test. "$TI" "alg 13: (trusted|validation-failed|known) " 15)
expect_match "resolver vantage: the configured resolver is asked; unreachable -> retried, then failed" \
	"validation-failed .*failed after 2 attempt\(s\): unsigned: .*via resolver 127\.0\.0\.99#5399" "$b"
check "dsyncd stops cleanly (phase 4)" stop_dsyncd "$LOG"
finish
