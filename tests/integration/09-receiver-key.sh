#!/usr/bin/env bash
# The receiver's own SIG(0) key (D5): created on the first start with
# private permissions, kept across restarts, signing every answer over the
# request and the response (verified here with the published KEY), answers
# to unauthenticated requests signed only within the budget (R17), and a
# rollover: the new key is published first, signs after roll-publish
# seconds, the old one stays published for roll-retire seconds more.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.10
PORT=5354

k=$(mkkey child.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$k"
cat >>"$T/dsyncd.conf" <<EOC
receiver = { name = "updater.example."; key-directory = "$T/rkeys"; algorithm = 13;
             roll-publish = 3; roll-retire = 3; sign-budget = 5; };
EOC
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

rk=$(ls "$T"/rkeys/Kupdater.example.+013+*.private 2>/dev/null)
expect "one receiver key created on the first start" 1 "$(echo "$rk" | grep -c private)"
rk=${rk%.private}
expect "its private file is readable by the owner only" 600 "$(stat -c %a "$rk.private")"
expect "its folder too" 700 "$(stat -c %a "$T/rkeys")"

send() { "$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 2000 "$@" 2>&1 | tail -1; }
out=$(send -k "$k" --add "child.example. 300 NS ns1.provider.net." --add "child.example. 300 NS ns2.provider.net." --verify-key "$rk")
expect_match "an accepted UPDATE's answer is signed over request and response" "^rcode=NOERROR .*sig0ok=rfc2931" "$out"
out=$(send -t -k "$k" --del "child.example. 300 NS ns9.provider.net." --verify-key "$rk")
expect_match "over TCP too" "^rcode=NOERROR .*sig0ok=rfc2931" "$out"
out=$(send -k "$k" --del-rrset "child.example. NS" --verify-key "$rk")
expect_match "a policy refusal is signed" "^rcode=REFUSED .*sig0ok=rfc2931" "$out"
r=$(nsu "$k" $ADDR $PORT <<-EOS
	zone example.
	update add child.example. 300 NS ns3.provider.org.
	EOS
)
expect "BIND's nsupdate accepts signed answers" NOERROR "$r"

# unauthenticated requests: at most sign-budget (5) signed per second
signed=0
unsigned=0
for i in $(seq 20); do
	out=$(send -z example. --add "child.example. 300 NS ns1.provider.net." --verify-key "$rk")
	case "$out" in
	*sig0ok=rfc2931*) signed=$((signed + 1)) ;;
	*sig0=0*) unsigned=$((unsigned + 1)) ;;
	esac
done
[ $signed -ge 1 ] && [ $signed -le 15 ] && [ $unsigned -ge 5 ] &&
	ok "unsigned UPDATEs: $signed answers signed, $unsigned unsigned (budget 5/s)" ||
	not_ok "sign budget: $signed signed, $unsigned unsigned"

# a restart keeps the key
check "dsyncd stops cleanly" stop_dsyncd
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd restarts"; finish; }
expect "a restart keeps the same single key" 1 "$(ls "$T"/rkeys/*.private | wc -l)"
out=$(send -k "$k" --add "child.example. 300 NS ns4.provider.org." --verify-key "$rk")
expect_match "and signs with it" "sig0ok=rfc2931" "$out"

# rollover
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" receiver-key roll 2>&1)
expect_match "receiver-key roll creates a new key" "new key .*Kupdater.example.\+013\+" "$out"
new=$(ls "$T"/rkeys/*.private | grep -v "$(basename "$rk")")
new=${new%.private}
# file names carry '+': escape them for the regexes below
re_old=$(basename "$rk" | sed 's/[.+]/\\&/g')
re_new=$(basename "$new" | sed 's/[.+]/\\&/g')
show=$("$BIN/dsyncd" -c "$T/dsyncd.conf" receiver-key show)
expect_match "show: the old key still signs" "$re_old tag [0-9]+ alg 13: signing, published" "$show"
expect_match "show: the new key is published, not signing yet" "$re_new tag [0-9]+ alg 13: not signing, published" "$show"
kill -HUP "$DSYNCD_PID"
sleep 0.3
out=$(send -k "$k" --add "child.example. 300 NS ns5.provider.org." --verify-key "$rk")
expect_match "after SIGHUP and before activation: still the old key" "sig0ok=rfc2931" "$out"
sleep 3.5
out=$(send -k "$k" --add "child.example. 300 NS ns6.provider.org." --verify-key "$new")
expect_match "after roll-publish seconds: the new key signs" "sig0ok=rfc2931" "$out"
out=$(send -k "$k" --add "child.example. 300 NS ns7.provider.org." --verify-key "$rk")
expect_match "and the old one no more" "sig0ok=0" "$out"
show=$("$BIN/dsyncd" -c "$T/dsyncd.conf" receiver-key show)
expect_match "show: the old key is still published during roll-retire" "$re_old tag [0-9]+ alg 13: not signing, published" "$show"
sleep 3.2
show=$("$BIN/dsyncd" -c "$T/dsyncd.conf" receiver-key show)
expect_match "show: then it is no longer published" "$re_old tag [0-9]+ alg 13: not signing publish" "$show"
grep -q "receiver keys reloaded" "$T/dsyncd.log" && ok "the reload is logged" || not_ok "reload logged"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
finish
