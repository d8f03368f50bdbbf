#!/usr/bin/env bash
# Key bootstrap, manual method: a child uploads a new SIG(0) key with a
# self-signed UPDATE (BIND's nsupdate), the key is stored as known (NOERROR
# once durable, D8), refused for delegation changes until the operator trusts
# it (`dsyncd key trust` + SIGHUP), then accepted; revocation, restarts, the
# pending cap (keys waiting for the operator never give way) and the upload rate limit
# (verified uploads only); a forged upload for a child with a trusted key
# disturbs nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-send.sh"
ADDR=127.0.0.11
PORT=5354

K1=$(mkkey child.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. \
	"child.example.:$K1 newchild.example.: third.example.: busy.example.:"
echo 'bootstrap = { uploads-per-child = 5; };' >>"$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

upload() { # KEYPREFIX [extra nsupdate line]: self-signed upload of that key
	# (no blank line: nsupdate sends on a blank line)
	{ echo "zone example."; [ -n "${2:-}" ] && echo "$2"; echo "update add $(keyrr "$1")"; } |
		nsu "$1" $ADDR $PORT
}
nsadd() { # KEYPREFIX CHILD: an UPDATE giving CHILD two NS, via dsync-send
	ds -k "$1" --add "$2 300 NS ns1.provider.net." --add "$2 300 NS ns2.provider.net."
}

KN=$(mkkey newchild.example. ED25519)
TN=$(tagof "$KN")
expect "self-signed upload of a new key -> NOERROR" NOERROR "$(upload "$KN")"
expect_match "the key is stored as known" "newchild\.example\. tag $TN alg 15: known \(upload from 127" "$(keys)"
out=$(nsadd "$KN" newchild.example.)
expect_match "a known key cannot change the delegation (REFUSED, EDE 514)" '^rcode=REFUSED ede=514 text="key newchild.example. tag [0-9]+ is known but not trusted' "$out"
expect "uploading it again -> NOERROR, nothing changes" NOERROR "$(upload "$KN")"
expect "still one key row for it" 1 "$(keys | grep -c "tag $TN ")"
grep -q "key newchild.example. tag $TN is already known" "$T/dsyncd.log" && ok "the repeat is logged as such" || not_ok "repeat logged"

out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" key trust newchild.example. "$TN")
expect_match "dsyncd key trust" "is now trusted; send SIGHUP" "$out"
hup
out=$(nsadd "$KN" newchild.example.)
expect_match "after trust and SIGHUP the key changes the delegation" "^rcode=NOERROR" "$out"
expect "the new delegation is stored" 2 "$(deleg_dump | grep -c '^newchild.example. 2 ')"
expect "the trust is audited" 1 \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where actor='operator' and child='newchild.example.' and result='trusted'")"

# a new key for the same child: the trusted one stays until the new one is trusted
KN2=$(mkkey newchild.example. ED25519 2>/dev/null)
TN2=$(tagof "$KN2")
expect "an upload with 'delete ANY KEY' first -> NOERROR" NOERROR \
	"$(upload "$KN2" "update delete newchild.example. KEY")"
expect_match "the delete was not acted upon: the old key is still trusted" "tag $TN alg 15: trusted by manual" "$(keys)"
expect_match "the old key still changes the delegation" "^rcode=NOERROR" \
	"$(ds -k "$KN" --add "newchild.example. 300 NS ns3.provider.net.")"
"$BIN/dsyncd" -c "$T/dsyncd.conf" key trust newchild.example. "$TN2" >/dev/null
expect_match "trusting the new key supersedes the old one" "tag $TN alg 15: revoked" "$(keys)"
hup
expect_match "the old key is now unknown to dsyncd (BADKEY)" "^rcode=BADKEY ede=513" \
	"$(ds -k "$KN" --add "newchild.example. 300 NS ns4.provider.net.")"
expect_match "the new key works" "^rcode=NOERROR" \
	"$(ds -k "$KN2" --add "newchild.example. 300 NS ns4.provider.net.")"

# a forged upload for a child whose key is trusted changes nothing for it
KF=$(mkkey child.example. ED25519 2>/dev/null)
before=$(deleg_dump)
expect "forged upload for child.example. -> NOERROR (stored as known only)" NOERROR "$(upload "$KF")"
expect_match "the forger's key cannot change the delegation" "^rcode=REFUSED ede=514" \
	"$(nsadd "$KF" child.example.)"
expect "the delegation is unchanged" "$before" "$(deleg_dump)"
expect_match "the configured key still works" "^rcode=NOERROR" "$(nsadd "$K1" child.example.)"

# refusals
KS=$(mkkey stranger.example. ED25519)
expect "upload for a name that is not a delegation -> REFUSED" REFUSED "$(upload "$KS")"
before=$(state_dump)
KT=$(mkkey third.example. ED25519)
out=$(ds -k "$KT" -z example. --add "$(keyrr "$KT")" --flip -5)
expect_match "an upload with a broken signature -> REFUSED, EDE 6" '^rcode=REFUSED ede=6 ' "$out"
expect "and changes nothing" "$before" "$(state_dump)"
# bootstrap-max-pending (3): keys waiting for the operator never give way to
# newer uploads (throwaway keys cannot push the real one out); a new key is
# refused instead, with nothing written, until the operator has decided
TH=()
for i in 1 2 3; do
	TH[i]=$(mkkey third.example. ED25519 2>/dev/null)
	expect "third.example. upload $i -> NOERROR" NOERROR "$(upload "${TH[i]}")"
done
T1=$(tagof "${TH[1]}")
k=$(mkkey third.example. ED25519 2>/dev/null)
before=$(state_dump)
out=$(ds -k "$k" -z example. --add "$(keyrr "$k")")
expect_match "a fourth key -> REFUSED, EDE 15, saying why (bootstrap-max-pending 3)" \
	'^rcode=REFUSED ede=15 text="3 keys of third\.example\. wait for a decision \(bootstrap-max-pending\) and none can give way' "$out"
expect "the refused fourth upload wrote nothing" "$before" "$(state_dump)"
expect "third.example.: the 3 keys still wait for the operator" 3 "$(keys | grep -c 'third\.example\..*: known')"
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" key trust third.example. "$T1")
expect_match "the operator can trust the first key (the real one)" "is now trusted" "$out"
hup
expect "its trust supersedes the two other waiting keys" "1 2" \
	"$(keys | grep -c 'third\.example\..*: trusted') $(keys | grep -c 'third\.example\..*: revoked')"
expect_match "the real key changes its delegation" "^rcode=NOERROR" "$(nsadd "${TH[1]}" third.example.)"
# (the fourth verified upload of third.example. this minute: uploads-per-child is 5)
expect "then the fourth key can be uploaded -> NOERROR, stored as known" "NOERROR 1" \
	"$(upload "$k") $(keys | grep -c 'third\.example\..*: known')"
# bootstrap.uploads-per-child (5 here) counts verified uploads only: forged
# ones (broken signature, spoofable over UDP, from another /24) take nothing
KB=$(mkkey busy.example. ED25519)
nf=0
for i in $(seq 10); do
	out=$(ds -b 127.0.5.1 -k "$KB" -z example. --add "$(keyrr "$KB")" --flip -5)
	[[ "$out" =~ ^rcode=REFUSED\ ede=6\  ]] && nf=$((nf + 1))
done
expect "10 forged uploads for busy.example. -> REFUSED, EDE 6" 10 "$nf"
expect_match "then the real upload -> NOERROR" '^rcode=NOERROR' "$(ds -k "$KB" -z example. --add "$(keyrr "$KB")")"
for i in 2 3 4 5; do ds -k "$KB" -z example. --add "$(keyrr "$KB")" >/dev/null; done
out=$(ds -k "$KB" -z example. --add "$(keyrr "$KB")")
expect_match "a sixth verified upload within a minute is rate-limited (EDE 15)" '^rcode=REFUSED ede=15 text="too many key uploads for busy.example.: at most 5 a minute' "$out"

# key rollover by UPDATE (zones.[].key-rollover, on by default)
KR=$(mkkey child.example. ED25519 2>/dev/null)
TR=$(tagof "$KR")
out=$(ds -k "$K1" --add "$(keyrr "$KR")")
expect_match "the trusted key adds a new key -> NOERROR" "^rcode=NOERROR" "$out"
expect_match "the new key is trusted by rollover" "child\.example\. tag $TR alg 15: trusted by rollover" "$(keys)"
expect_match "and works at once (no SIGHUP)" "^rcode=NOERROR" \
	"$(ds -k "$KR" --add "child.example. 300 NS ns7.provider.net.")"
KR2=$(mkkey child.example. ED25519 2>/dev/null)
TR2=$(tagof "$KR2")
out=$(ds -k "$KR" --del-rrset "child.example. KEY" --add "$(keyrr "$KR2")")
expect_match "delete ANY KEY + add: a complete roll -> NOERROR" "^rcode=NOERROR" "$out"
expect_match "the signing key is revoked, its successor trusted" \
	"tag $TR alg 15: revoked.*tag $TR2 alg 15: trusted by rollover|tag $TR2 alg 15: trusted by rollover.*tag $TR alg 15: revoked" \
	"$(keys | tr '\n' ' ')"
expect_match "the configured key stays trusted" "child\.example\. tag $(tagof "$K1") alg 15: trusted by config" "$(keys)"
expect_match "the rolled-out key gets BADKEY" "^rcode=BADKEY" \
	"$(ds -k "$KR" --add "child.example. 300 NS ns8.provider.net.")"
expect_match "its successor works" "^rcode=NOERROR" \
	"$(ds -k "$KR2" --add "child.example. 300 NS ns8.provider.net.")"
KW=$(mkkey child.example. RSASHA256 1024 2>/dev/null)
out=$(ds -k "$KR2" --add "$(keyrr "$KW")")
expect_match "a rollover to an unacceptable key (RSA 1024) -> REFUSED" \
	'^rcode=REFUSED ede=18 text="KEY of child.example. is not acceptable' "$out"

# restart: states persist
keys >"$T/keys.before"
check "dsyncd stops cleanly" stop_dsyncd
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd restarts"; finish; }
expect "key states survive a restart" "$(cat "$T/keys.before")" "$(keys)"
expect_match "the trusted bootstrapped key still works after the restart" "^rcode=NOERROR" \
	"$(ds -k "$KN2" --del "newchild.example. 300 NS ns4.provider.net.")"
"$BIN/dsyncd" -c "$T/dsyncd.conf" key revoke newchild.example. "$TN2" >/dev/null
hup
expect_match "after revoke + SIGHUP the key is unknown (BADKEY)" "^rcode=BADKEY" \
	"$(ds -k "$KN2" --add "newchild.example. 300 NS ns5.provider.net.")"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
finish
