#!/usr/bin/env bash
# bootstrap-max-pending in a zone with an automatic method: a key whose
# validation has failed an attempt (waiting for its retry) gives way to a
# newer upload, and stays trustable: it becomes validation-failed (not
# revoked), the operator can still trust it, and a re-upload validates it
# anew.  The at-apex method fails here at once: its resolver's only root
# server is a loopback address where nothing listens.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-send.sh"
ADDR=127.0.0.23
PORT=5354

echo ". 3600 NS a.root.
a.root. 3600 A 127.0.0.99" >"$T/hints"
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example." \
	"  bootstrap-methods = [ \"at-apex\" ]; bootstrap-max-pending = 2;
  backends = ( { type = \"null\"; } );"
cat >>"$T/dsyncd.conf" <<CONF
bootstrap = { retry-interval = 3600; query-timeout = 1; };
resolver = { root-hints = "$T/hints"; timeout = 2; };
CONF
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

upload() { { echo "zone example."; echo "update add $(keyrr "$1")"; } | nsu "$1" $ADDR $PORT; }
# failed_once N: until N keys of child.example. wait for their second attempt (bounded)
failed_once() {
	for _ in $(seq 300); do
		[ "$(keys | grep -c 'validation: attempt 2,')" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

KA=()
for i in 1 2; do
	KA[i]=$(mkkey child.example. ED25519 2>/dev/null)
	expect "upload $i -> NOERROR" NOERROR "$(upload "${KA[i]}")"
done
T1=$(tagof "${KA[1]}")
check "both validations failed their first attempt (retry in an hour)" failed_once 2
expect "two keys validating" 2 "$(keys | grep -c 'child\.example\..*: validating')"

# a third key: the older of the two in retry gives way
KA[3]=$(mkkey child.example. ED25519 2>/dev/null)
expect "upload 3 -> NOERROR (bootstrap-max-pending 2)" NOERROR "$(upload "${KA[3]}")"
expect_match "the oldest key gave way: validation-failed, not revoked" \
	"child\.example\. tag $T1 alg 15: validation-failed" "$(keys)"
expect "nothing was revoked" 0 "$(keys | grep -c ': revoked')"
expect "its audit row says why (actor update)" 1 \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where actor='update' and key_tag=$T1 and result='validation-failed' and reason like '%displaced: at most 2 keys of child.example. wait for a decision%'")"

# while the third is in its first attempt it cannot give way; once it has
# failed, a fourth key displaces the next oldest
check "the third validation failed its first attempt" failed_once 2
KA[4]=$(mkkey child.example. ED25519 2>/dev/null)
expect "upload 4 -> NOERROR" NOERROR "$(upload "${KA[4]}")"
expect "two keys displaced, none revoked" "2 0" \
	"$(keys | grep -c ': validation-failed') $(keys | grep -c ': revoked')"

# the displaced first key is still trustable by the operator
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" key trust child.example. "$T1")
expect_match "the operator trusts the displaced key" "is now trusted" "$out"
kill -HUP "$DSYNCD_PID"
for _ in $(seq 50); do grep -q "child keys reloaded" "$T/dsyncd.log" && break; sleep 0.1; done
r=$(ds -k "${KA[1]}" --add "child.example. 300 NS ns1.provider.net." --add "child.example. 300 NS ns2.provider.net.")
expect "the trusted key changes the delegation" NOERROR "$(f_rcode "$r")"

# a re-upload of a displaced key starts its validation anew
T2=$(tagof "${KA[2]}")
expect "re-upload of the second (displaced, then superseded) key" NOERROR "$(upload "${KA[2]}")"
expect_match "it is validating again" "child\.example\. tag $T2 alg 15: validating" "$(keys)"
check "dsyncd stops cleanly" stop_dsyncd
finish
