#!/usr/bin/env bash
# dsync-agent, the child side, against dsyncd (no DNS world: --server,
# --parent and --receiver-key stand in for discovery). Keys made by
# `dsync-agent keygen` work with nsupdate -k; keys made by dnssec-keygen work
# with dsync-agent; bootstrap polls until the operator trusts the key (exit 75
# on timeout, 0 once trusted); update with explicit records (accepted,
# refused with RCODE + EDE text, bounded retries when the receiver does not
# answer); roll; re-bootstrap after the parent lost the key; an answer whose
# signature does not verify is not acted upon (exit 76).
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.19
PORT=5354
AG=$BIN/dsync-agent

write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.: nsu.example.: bind.example.:" \
	"  backends = ( { type = \"zonefile\"; path = \"$T/out/example.delegations\"; } );
  bootstrap-methods = [ \"manual\" ];"
echo "receiver = { name = \"updater.example.\"; key-directory = \"$T/rkeys\"; };" >>"$T/dsyncd.conf"
echo "keystate = { inquiries-per-source = 1000; };" >>"$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
RK=$(ls "$T"/rkeys/*.key)
mkdir -p "$T/agent"

trust() { "$BIN/dsyncd" -c "$T/dsyncd.conf" key trust "$1" "$2" >/dev/null && hup; }
revoke() { "$BIN/dsyncd" -c "$T/dsyncd.conf" key revoke "$1" "$2" >/dev/null && hup; }
# agent CMD ZONE ARGS...: dsync-agent against our dsyncd; stdout+stderr in $OUT, status in $RC
agent() {
	local cmd=$1 zone=$2
	shift 2
	OUT=$("$AG" "$cmd" "$zone" --server $ADDR --port $PORT --parent example. \
		--receiver-key "$RK" "$@" 2>&1)
	RC=$?
	echo "$OUT" >>"$T/agent.log"
}

# ---- keygen -> nsupdate -k --------------------------------------------------
out=$("$AG" keygen nsu.example. --dir "$T/agent" --ns ns1.provider.net. --ns ns2.provider.net. 2>&1)
expect "keygen exits 0" 0 $?
KA=$(ls "$T"/agent/Knsu.example.+015+*.key | sed 's/\.key$//')
check "keygen writes a .key and a .private (mode 0600)" \
	test -f "$KA.key" -a "$(stat -c %a "$KA.private")" = 600
expect_match "keygen prints the apex KEY" "nsu\.example\. 3600 IN KEY 512 3 15 " "$out"
expect_match "and the at-ns signal name for each --ns" \
	"_sig0key\.nsu\.example\._signal\.ns2\.provider\.net\. 3600 IN KEY 512 3 15 " "$out"
L=$(printf 'a%.0s' $(seq 60))
"$AG" keygen nsu.example. --dir "$T/agent" --ns "$L.$L.$L.$L." >/dev/null 2>&1
expect "a signal name over 255 octets is refused (64)" 64 $?
expect "and no key is made for it" 1 "$(ls "$T"/agent/Knsu.example.*.key | wc -l)"
out=$("$AG" keygen nsu.example. --dir "$T/agent" --algorithm 13 --json)
expect_match "keygen --json, ECDSA P-256" '"algorithm": 13' "$out"
rm -f "$T"/agent/Knsu.example.+013+*

r=$({ echo "zone example."; echo "update add $(keyrr "$KA")"; } | nsu "$KA" $ADDR $PORT)
expect "nsupdate -k with the agent's key: self-signed upload -> NOERROR" NOERROR "$r"
expect_match "the key is stored as known" "nsu\.example\. tag $(tagof "$KA") alg 15: known" "$(keys)"
trust nsu.example. "$(tagof "$KA")"
r=$(printf 'zone example.\nupdate add nsu.example. 300 NS ns1.provider.net.\nupdate add nsu.example. 300 NS ns2.provider.net.\n' |
	nsu "$KA" $ADDR $PORT)
expect "after trust, nsupdate -k changes the delegation -> NOERROR" NOERROR "$r"
expect "the delegation is stored" 2 "$(deleg_dump | grep -c '^nsu.example. 2 ')"

# ---- dnssec-keygen key used by dsync-agent ------------------------------------
KB=$(mkkey bind.example. ECDSAP256SHA256)
TB=$(tagof "$KB")
agent bootstrap bind.example. --key "$KB" --timeout 2
expect "bootstrap with a dnssec-keygen ECDSA key: exit 75 while waiting for the operator" 75 $RC
expect_match "the upload was accepted and signed by the receiver" \
	"rcode: NOERROR.*authenticated: yes \(rfc2931" "$(tr '\n' ' ' <<<"$OUT")"
expect_match "state 10 printed with a timestamp" \
	"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z state 10 bootstrap-manual \(key $TB\)" "$OUT"
trust bind.example. "$TB"
agent inquire bind.example. --key "$KB"
expect "inquire with that key after trust: exit 0" 0 $RC
expect_match "keystate 4 trusted" "keystate: 4 trusted \(key $TB\)" "$OUT"
agent update bind.example. --key "$KB" --add "bind.example. 300 NS ns1.provider.net." \
	--add "bind.example. 300 NS ns2.provider.net."
expect "update --key (dnssec-keygen key) -> exit 0" 0 $RC
expect_match "rcode NOERROR" "rcode: NOERROR" "$OUT"
expect "bind.example. is delegated" 2 "$(deleg_dump | grep -c '^bind.example. 2 ')"

# ---- bootstrap: timeout, then trust -----------------------------------------
"$AG" keygen child.example. --dir "$T/agent" >/dev/null
K=$(ls "$T"/agent/Kchild.example.+015+*.key | sed 's/\.key$//')
TK=$(tagof "$K")
t0=$(date +%s)
agent bootstrap child.example. --key "$K" --timeout 3 --poll-max 1
t1=$(date +%s)
expect "bootstrap: exit 75 on timeout while waiting for the operator" 75 $RC
expect_match "bootstrap printed state 10 (manual)" "state 10 bootstrap-manual \(key $TK\)" "$OUT"
expect_match "and said it timed out" "not trusted after 3 s; last state: bootstrap-manual" "$OUT"
[ $((t1 - t0)) -ge 3 ] && [ $((t1 - t0)) -le 12 ] && ok "the polling took the --timeout (3..12 s: $((t1 - t0)))" ||
	not_ok "the polling took $((t1 - t0)) s"
agent inquire child.example. --key "$K"
expect "inquire while known: exit 75 (pending)" 75 $RC
trust child.example. "$TK"
agent bootstrap child.example. --key "$K" --timeout 10 --json
expect "after dsyncd key trust + SIGHUP, bootstrap: exit 0" 0 $RC
expect_match "the JSON says trusted" '"name": "trusted"' "$OUT"
agent inquire child.example. --key "$K"
expect "inquire: exit 0" 0 $RC
expect_match "inquire prints the state and that the answer is authenticated" \
	"keystate: 4 trusted \(key $TK\).*authenticated: yes \(rfc2931" "$(tr '\n' ' ' <<<"$OUT")"

# a bootstrap that polls while the operator trusts the key
mkdir -p "$T/agent2"
"$AG" keygen child.example. --dir "$T/agent2" >/dev/null
K2=$(ls "$T"/agent2/Kchild.example.+015+*.key | sed 's/\.key$//')
"$AG" bootstrap child.example. --server $ADDR --port $PORT --parent example. --receiver-key "$RK" \
	--key "$K2" --timeout 20 --poll-max 1 >"$T/boot2.out" 2>&1 &
BP=$!
for _ in $(seq 50); do grep -q "state 10" "$T/boot2.out" && break; sleep 0.1; done
trust child.example. "$(tagof "$K2")"
wait $BP
expect "bootstrap polling sees the trust: exit 0" 0 $?
expect_match "state changes printed: 10 then 4" "state 10 bootstrap-manual.*state 4 trusted" \
	"$(tr '\n' ' ' <"$T/boot2.out")"
# K2 trusted superseded K: K is revoked now (D8); go on with K2
expect_match "the first key was superseded" "child\.example\. tag $TK alg 15: revoked" "$(keys)"
K=$K2
TK=$(tagof "$K")

# ---- update with explicit records --------------------------------------------
agent update child.example. --key "$K" --add "child.example. 300 NS ns1.provider.net." \
	--add "child.example. 300 NS ns2.provider.net."
expect "update --add: exit 0" 0 $RC
expect_match "prints the changes and NOERROR" "add: child\.example\. 300 IN NS ns1\.provider\.net\..*rcode: NOERROR" \
	"$(tr '\n' ' ' <<<"$OUT")"
expect "the store has the NS set" 2 "$(deleg_dump | grep -c '^child.example. 2 ')"
agent update child.example. --key "$K" --del "child.example. 300 NS ns2.provider.net." \
	--add "child.example. 300 NS ns3.provider.net."
expect "update --del + --add: exit 0" 0 $RC
expect "ns2 replaced by ns3" "child.example. 2 ns1.provider.net. child.example. 2 ns3.provider.net." \
	"$(deleg_dump | grep '^child.example. 2 ' | tr '\n' ' ' | sed 's/ $//')"
before=$(deleg_dump)
agent update child.example. --key "$K" --add "child.example. 300 A 192.0.2.1"
expect "a policy refusal: exit 1" 1 $RC
expect_match "shows RCODE REFUSED" "rcode: REFUSED" "$OUT"
expect_match "and the EDE code and text" 'ede: [0-9]+ ".*child\.example\..*"' "$OUT"
expect "the store is unchanged" "$before" "$(deleg_dump)"
agent update child.example. --key "$K" --udp --json --del-rrset "child.example. DS"
expect "update over UDP, --json, --del-rrset: exit 0" 0 $RC
expect_match "the JSON has the RCODE and the transport" '"rcode": "NOERROR"' "$OUT"
expect_match "(udp)" '"transport": "udp"' "$OUT"
agent update child.example. --key "$K" --add "not a record"
expect "an unparsable --add: exit 64, nothing sent" 64 $RC

# ---- retries: the receiver does not answer ------------------------------------
kill -STOP "$DSYNCD_PID"
t0=$(date +%s)
agent update child.example. --key "$K" --retries 1 --add "child.example. 300 NS ns4.provider.net."
t1=$(date +%s)
kill -CONT "$DSYNCD_PID"
expect "no answer (dsyncd stopped with SIGSTOP): exit 69 after the retries" 69 $RC
expect_match "each failed try is noted" "try 1/2 over TCP: .*no answer within 5000 ms" "$OUT"
expect_match "and the end says how many tries" "no answer after 2 tries" "$OUT"
[ $((t1 - t0)) -ge 11 ] && [ $((t1 - t0)) -le 20 ] &&
	ok "two tries of at least 5 s each plus 1 s backoff ($((t1 - t0)) s)" || not_ok "the tries took $((t1 - t0)) s"
kill -STOP "$DSYNCD_PID"
t0=$(date +%s)
agent inquire child.example. --key "$K" --query-timeout 500 --retries 3 --quiet
t1=$(date +%s)
kill -CONT "$DSYNCD_PID"
expect "inquiry (UDP) without an answer, 4 short tries: exit 69" 69 $RC
[ $((t1 - t0)) -ge 9 ] && [ $((t1 - t0)) -le 16 ] &&
	ok "4 x 0.5 s + backoff 1+2+4 s ($((t1 - t0)) s)" || not_ok "the tries took $((t1 - t0)) s"
sleep 1 # dsyncd answers what queued while it was stopped

# retries only on no answer and SERVFAIL: a stand-in server that answers
# every TCP request with a fixed RCODE and counts them
cat >"$T/fake.py" <<'EOF'
import socket, struct, sys, time
rcode, count = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.19", 5355)); s.listen(8); s.settimeout(1)
n, end = 0, time.time() + 30
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    c.settimeout(5)
    try:
        ln = struct.unpack("!H", c.recv(2))[0]
        q = b""
        while len(q) < ln:
            q += c.recv(ln - len(q))
        i = 12
        while q[i]:
            i += q[i] + 1
        hdr = q[:2] + bytes([0x80 | (q[2] & 0x78), rcode]) + b"\0\1\0\0\0\0\0\0"
        a = hdr + q[12:i + 5]
        c.sendall(struct.pack("!H", len(a)) + a)
    except Exception:
        pass
    c.close()
    n += 1
    open(count, "w").write(str(n))
EOF
# fake_update RCODE: start the stand-in answering RCODE, wait until it
# listens, send it an update allowing 2 retries (stdout+stderr in OUT,
# status in RC), note the requests it got in TRIES and stop it
fake_update() {
	rm -f "$T/fake.count"
	python3 "$T/fake.py" "$1" "$T/fake.count" &
	FAKE=$!
	PIDS+=("$FAKE")
	for _ in $(seq 50); do ss -ltn 2>/dev/null | grep -q "127.0.0.19:5355 " && break; sleep 0.1; done
	OUT=$("$AG" update child.example. --server $ADDR --port 5355 --parent example. --key "$K" \
		--insecure-ok --retries 2 --add "child.example. 300 NS ns4.provider.net." 2>&1)
	RC=$?
	TRIES=$(cat "$T/fake.count" 2>/dev/null)
	kill "$FAKE" 2>/dev/null
	wait "$FAKE" 2>/dev/null
}
fake_update 2
expect "SERVFAIL every time: exit 69 after the retries" 69 $RC
expect "3 tries were made (1 + 2 retries)" 3 "$TRIES"
expect_match "each SERVFAIL is noted" "try 2/3: 127.0.0.19#5355 over TCP answered SERVFAIL" "$OUT"
fake_update 5
expect "REFUSED: exit 1" 1 $RC
expect "and no retry" 1 "$TRIES"
expect_match "an unsigned answer is reported as such" "authenticated: no \(unsigned" "$OUT"

# ---- a forged receiver signature, no receiver key --------------------------------
FK=$(mkkey updater.example. ED25519)
OUT=$("$AG" inquire child.example. --server $ADDR --port $PORT --key "$K" --receiver-key "$FK" 2>&1)
expect "an answer that does not verify with the given receiver key: exit 76" 76 $?
expect_match "reported as not authenticated" "authenticated: no \(bad-signature" "$OUT"
OUT=$("$AG" inquire child.example. --server $ADDR --port $PORT --key "$K" --receiver-key "$FK" --insecure-ok 2>&1)
expect "with --insecure-ok the state is used: exit 0" 0 $?
OUT=$("$AG" update child.example. --server $ADDR --port $PORT --key "$K" --receiver-key "$FK" \
	--add "child.example. 300 NS ns5.provider.net." 2>&1)
expect "an UPDATE answer that is not authenticated: exit 76" 76 $?
OUT=$("$AG" inquire child.example. --server $ADDR --port $PORT --key "$K" 2>&1)
expect "no receiver key at all: exit 76" 76 $?
expect_match "(said so)" "authenticated: no \(no-receiver-key" "$OUT"

# ---- roll ------------------------------------------------------------------------
agent roll child.example. --key "$K"
expect "roll: exit 0" 0 $RC
NK=$(sed -n 's/^new key: \(.*\) (tag [0-9]*)$/\1/p' <<<"$OUT")
TN=$(tagof "$NK")
check "the new key pair is beside the old one" test -f "$NK.private" -a "$(dirname "$NK")" = "$(dirname "$K")"
expect_match "the new key is trusted by rollover" "child\.example\. tag $TN alg 15: trusted by rollover" "$(keys)"
expect_match "the old key is revoked" "child\.example\. tag $TK alg 15: revoked" "$(keys)"
expect_match "roll confirmed the state by an inquiry" "keystate: 4 trusted \(key $TN\)" "$OUT"
agent update child.example. --key "$NK" --add "child.example. 300 NS ns4.provider.net."
expect "the new key changes the delegation" 0 $RC
agent update child.example. --key "$K" --add "child.example. 300 NS ns6.provider.net."
expect "the old key is refused (exit 1)" 1 $RC
expect_match "with BADKEY" "rcode: BADKEY" "$OUT"

# ---- the parent lost the key: re-bootstrap ---------------------------------------
revoke child.example. "$TN"
agent inquire child.example. --key "$NK"
expect "inquire after the parent lost the key: exit 1" 1 $RC
expect_match "keystate 5 unknown" "keystate: 5 unknown \(key $TN\)" "$OUT"
agent bootstrap child.example. --key "$NK" --timeout 2
expect "bootstrap again: uploaded, exit 75 while waiting" 75 $RC
expect_match "state 10" "state 10 bootstrap-manual \(key $TN\)" "$OUT"
trust child.example. "$TN"
agent inquire child.example. --key "$NK"
expect "after trust: exit 0" 0 $RC
agent update child.example. --key "$NK" --add "child.example. 300 NS ns5.provider.net."
expect "and the key changes the delegation again" 0 $RC

# ---- usage ---------------------------------------------------------------------------
"$AG" frobnicate child.example. >/dev/null 2>&1
expect "unknown command: 64" 64 $?
"$AG" keygen child.example. --add "x. 1 A 1.2.3.4" >/dev/null 2>&1
expect "an option of another command: 64" 64 $?
"$AG" inquire child.example. --server $ADDR --port $PORT --key "$KB" >/dev/null 2>&1
expect "a key of another zone: 64" 64 $?

check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
t0=$(date +%s)
agent update child.example. --key "$NK" --retries 2 --add "child.example. 300 NS ns6.provider.net."
t1=$(date +%s)
expect "dsyncd gone (connection refused): exit 69" 69 $RC
expect_match "connection refused, three tries" "try 3/3 over TCP: .*connection refused" "$OUT"
[ $((t1 - t0)) -ge 3 ] && [ $((t1 - t0)) -le 8 ] && ok "backoff 1 + 2 s between the tries ($((t1 - t0)) s)" ||
	not_ok "took $((t1 - t0)) s"
grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/agent.log" &&
	not_ok "sanitizer reports from dsync-agent" || ok "no sanitizer reports from dsync-agent"
finish
