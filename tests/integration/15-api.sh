#!/usr/bin/env bash
# The admin HTTP API (doc/api.md), driven with curl: a key uploaded by a child
# (nsupdate, self-signed) is trusted through the API and the child's next
# nsupdate is accepted at once; revoked, the next one is refused; both are in
# the audit log.  Keys added by KEY text and deleted; outbox deliveries listed
# and retried (a zonefile backend whose reload command fails); the receiver
# key shown and rolled; records; config without secrets; healthz; metrics
# checked by promtool.  Security: every wrong request gets its 4xx with a JSON
# error and leaves the keys table as it was; a tokens file that others may
# read stops dsyncd from starting; HTTPS with a self-signed certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-send.sh"
ADDR=127.0.0.17
PORT=5354
BASE=http://$ADDR:8053
ADM=admin-0123456789abcdef-token
RD=reader-0123456789abcdef-token

K1=$(mkkey child.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. \
	"child.example.:$K1 newchild.example.: other.example.: third.example.:" \
	"  backends = ( { type = \"zonefile\"; path = \"$T/out/exampledelegations\"; reload = [ \"false\" ]; },
	               { type = \"null\"; } );"
cat >>"$T/dsyncd.conf" <<EOF
outbox = { retry-min = 600; retry-max = 3600; };
receiver = { name = "updater.example."; key-directory = "$T/rkeys"; };
api = { listen = "$ADDR"; port = 8053; tokens-file = "$T/tokens"; max-body = 2048; };
EOF
printf '# name role token\nops admin %s\ngrafana read %s # a comment\n' "$ADM" "$RD" >"$T/tokens"
chmod 600 "$T/tokens"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts with the API"; finish; }
grep -q "admin API on http://$ADDR:8053/ (2 token(s))" "$T/dsyncd.log" && ok "the API listens" || not_ok "API start line"

# api METHOD PATH [TOKEN [BODY [curl args...]]]: prints the status; body in $T/resp
api() {
	local m=$1 p=$2 tok=${3-$ADM} body=${4-} args
	args=(-s -o "$T/resp" -D "$T/hdr" -w '%{http_code}' -X "$m")
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	curl "${args[@]}" "${@:5}" "$BASE$p"
}
# j EXPR: a Python expression over the last answer d, printed
j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/resp" "$1" 2>&1; }
upload() { { echo "zone example."; echo "update add $(keyrr "$1")"; } | nsu "$1" $ADDR $PORT; }
nsadd() { # KEYPREFIX CHILD NS: an UPDATE adding one NS (the child has two already or gets two)
	{ echo "zone example."; echo "update add $2 300 NS ns1.$3."; echo "update add $2 300 NS ns2.$3."; } |
		nsu "$1" $ADDR $PORT
}
keyid() { # CHILD TAG: the API's id of that key
	api GET "/api/v1/children/$1/keys" >/dev/null
	j "[k['id'] for k in d['items'] if k['tag'] == $2][0]"
}
audit_n() { sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where $1"; }

expect "GET /healthz -> 200" 200 "$(api GET /healthz)"
expect "healthz: ok and nothing more" "ok" "$(cat "$T/resp")"

# ---- trust and revoke a child's uploaded key -------------------------------
KN=$(mkkey newchild.example. ED25519)
TN=$(tagof "$KN")
expect "newchild uploads a key (nsupdate, self-signed) -> NOERROR" NOERROR "$(upload "$KN")"
ID=$(keyid newchild.example. "$TN")
expect "the API lists it as known" known "$(j "[k['state'] for k in d['items'] if k['id'] == $ID][0]")"
expect "before trust its UPDATE is refused" REFUSED "$(nsadd "$KN" newchild.example. a.net)"
expect "POST /keys/{id}/trust -> 200" 200 "$(api POST "/api/v1/keys/$ID/trust" "$ADM" '{"reason": "ticket 42"}')"
expect "the answer is the key, trusted by manual" "('trusted', 'manual', $TN)" "$(j 'd["state"], d["trust_method"], d["tag"]')"
expect "at once (no SIGHUP) the child's nsupdate is accepted" NOERROR "$(nsadd "$KN" newchild.example. a.net)"
expect "the delegation is stored" 2 "$(deleg_dump | grep -c '^newchild.example. 2 ns[12].a.net.')"
expect "trusting it again -> 409 (the table does not allow it)" 409 "$(api POST "/api/v1/keys/$ID/trust")"
expect_match "and the error names the state" "is trusted; it cannot be trusted" "$(j 'd["error"]')"
expect "POST /keys/{id}/revoke -> 200" 200 "$(api POST "/api/v1/keys/$ID/revoke")"
expect "the key is revoked" revoked "$(j 'd["state"]')"
expect "the child's next nsupdate is refused (the key is unknown now)" NOTAUTH "$(nsadd "$KN" newchild.example. b.net)"
expect "revoked -> trust: 409" 409 "$(api POST "/api/v1/keys/$ID/trust")"
expect "GET /audit?child= -> 200" 200 "$(api GET "/api/v1/audit?child=NEWCHILD.example&limit=50")"
expect "the audit shows the trust and the revoke by api:ops" \
	"[('revoked', 'api:ops'), ('trusted', 'api:ops')]" \
	"$(j "[(r['result'], r['actor']) for r in d['items'] if r['actor'].startswith('api')]")"
expect_match "the trust row carries the reason" "trusted \(operator-trust\): through the admin API: ticket 42" \
	"$(j "[r['reason'] for r in d['items'] if r['result'] == 'trusted'][0]")"
expect "and the accepted and the refused UPDATE of the child" "['badkey', 'accepted', 'refused']" \
	"$(j "[r['result'] for r in d['items'] if r['actor'] == 'update' and ' NS ' in r['request']]")"
expect "audit filter by result" "['revoked']" "$(api GET "/api/v1/audit?child=newchild.example.&result=revoked" >/dev/null; j "[r['result'] for r in d['items']]")"
api GET "/api/v1/audit?limit=2" >/dev/null
first=$(j 'd["items"][1]["id"]')
next=$(j 'd["next"]')
expect "audit pages: next is the last row's id" "$first" "$next"
api GET "/api/v1/audit?limit=2&after=$next" >/dev/null
expect "the next page starts below it" "True" "$(j "d['items'][0]['id'] < $next")"
now=$(date +%s)
expect "audit since/until: nothing in the future" "[]" "$(api GET "/api/v1/audit?since=$((now + 3600))" >/dev/null; j 'd["items"]')"

# ---- add a key by KEY text, delete an untrusted one --------------------------
KO=$(mkkey other.example. ED25519 2>/dev/null)
body=$(printf '{"key": "%s", "reason": "registrar ticket 7"}' "$(keyrr "$KO")")
expect "POST /children/other.example/keys -> 201" 201 "$(api POST /api/v1/children/other.example/keys "$ADM" "$body")"
expect "added as trusted (manual)" "('trusted', 'manual', $(tagof "$KO"))" "$(j 'd["state"], d["trust_method"], d["tag"]')"
IDO=$(j 'd["id"]')
expect "the add is audited as a trust by api:ops, with the reason" 1 \
	"$(audit_n "actor='api:ops' and child='other.example.' and result='trusted' and reason like '%key added through the admin API: registrar ticket 7'")"
expect "its nsupdate is accepted" NOERROR "$(nsadd "$KO" other.example. c.net)"
expect "the same key again -> 409" 409 "$(api POST /api/v1/children/other.example/keys "$ADM" "$body")"
expect "a key of another owner -> 400" 400 "$(api POST /api/v1/children/third.example/keys "$ADM" "$body")"
expect_match "  saying so" "owner other.example. is not the child third.example." "$(j 'd["error"]')"
expect "not a KEY record -> 400" 400 "$(api POST /api/v1/children/third.example/keys "$ADM" '{"key": "third.example. 3600 IN A 192.0.2.1"}')"
expect "garbage key text -> 400" 400 "$(api POST /api/v1/children/third.example/keys "$ADM" '{"key": "no key here"}')"
expect "a key file path is not read -> 400" 400 "$(api POST /api/v1/children/other.example/keys "$ADM" "{\"key\": \"$KO.key\"}")"
expect "a name that is no delegation -> 404" 404 "$(api POST /api/v1/children/nochild.example/keys "$ADM" "$body")"
expect "the key field missing -> 400" 400 "$(api POST /api/v1/children/other.example/keys "$ADM" '{}')"
KD=$(mkkey third.example. ED25519 2>/dev/null)
expect "third uploads a key" NOERROR "$(upload "$KD")"
IDD=$(keyid third.example. "$(tagof "$KD")")
expect "DELETE a trusted key -> 409" 409 "$(api DELETE "/api/v1/keys/$IDO")"
expect "DELETE the untrusted key -> 204" 204 "$(api DELETE "/api/v1/keys/$IDD")"
expect "it is gone from the store" 0 "$(sqlite3 "$T/db/dsyncd.db" "select count(*) from keys where id=$IDD")"
expect "the delete is audited with its tag" 1 "$(audit_n "actor='api:ops' and result='deleted' and key_tag=$(tagof "$KD")")"
expect "DELETE it again -> 404" 404 "$(api DELETE "/api/v1/keys/$IDD")"
expect "its UPDATE is refused as from an unknown key" NOTAUTH "$(nsadd "$KD" third.example. d.net)"

# ---- a key listed in the configuration: not revoked or deleted here ------------
T1=$(tagof "$K1")
IDC=$(keyid child.example. "$T1")
ck_before=$(sqlite3 "$T/db/dsyncd.db" "select id, state, trust_method from keys where id=$IDC")
expect "the configured key is trusted by config" "$IDC|trusted|config" "$ck_before"
expect "POST /keys/{id}/revoke of a configured key -> 409" 409 "$(api POST "/api/v1/keys/$IDC/revoke")"
expect_match "... saying where it is listed" "^key $IDC of child\.example\. is listed in the configuration \(.*dsyncd\.conf:[0-9]+.*\); remove it there$" "$(j 'd["error"]')"
expect "DELETE /keys/{id} of a configured key -> 409" 409 "$(api DELETE "/api/v1/keys/$IDC")"
expect_match "... the same reason" "is listed in the configuration .*; remove it there$" "$(j 'd["error"]')"
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" key revoke child.example. "$T1" 2>&1)
expect "dsyncd key revoke of a configured key exits non-zero" 1 $?
expect_match "... saying where it is listed" "^key: child\.example\./$T1 is listed in the configuration \(.*dsyncd\.conf:[0-9]+.*\); remove it there$" "$out"
expect "the configured key is unchanged in the store" "$ck_before" \
	"$(sqlite3 "$T/db/dsyncd.db" "select id, state, trust_method from keys where id=$IDC")"
expect "its UPDATE is still accepted" NOERROR "$(nsadd "$K1" child.example. g.net)"

# ---- reading: zones, children, child, validations ----------------------------
expect "GET /zones -> 200" 200 "$(api GET /api/v1/zones)"
expect "zone example. with its backends and 4 children" "('example.', 4, ['zonefile', 'null'], ['manual'])" \
	"$(j 'd["items"][0]["name"], d["items"][0]["children"], d["items"][0]["backends"], d["items"][0]["bootstrap_methods"]')"
expect "GET /zones/example/children?limit=2 -> 200" 200 "$(api GET "/api/v1/zones/example/children?limit=2")"
expect "two children and a cursor" "(['child.example.', 'newchild.example.'], 'newchild.example.')" \
	"$(j '[c["name"] for c in d["items"]], d["next"]')"
api GET "/api/v1/zones/example/children?limit=2&after=newchild.example." >/dev/null
expect "the next page, and no further" "(['other.example.', 'third.example.'], None)" \
	"$(j '[c["name"] for c in d["items"]], d["next"]')"
expect "other.example. has its NS and one trusted key" "(['ns1.c.net.', 'ns2.c.net.'], 1)" "$(j 'd["items"][0]["ns"], d["items"][0]["keys"]["trusted"]')"
expect "GET /children/other.example -> 200" 200 "$(api GET /api/v1/children/other.example)"
expect "its zone, delegation lines and keys" "('example.', 2, 1)" "$(j 'd["zone"], len(d["delegation"]), len(d["keys"])')"
expect "GET /children/nope.example -> 404" 404 "$(api GET /api/v1/children/nope.example)"
expect "GET /zones/nope/children -> 404" 404 "$(api GET /api/v1/zones/nope/children)"
# a NUL byte in the path would cut it short (c1's data for a path that is not c1's)
expect "GET /children/other.example%00/../../etc/passwd -> 400" 400 \
	"$(api GET '/api/v1/children/other.example%00/../../etc/passwd' "$ADM" '' --path-as-is)"
expect "its error says why" "the path holds a NUL byte (%00)" "$(j 'd["error"]')"
expect_match "the log shows the whole path" 'GET /api/v1/children/other\.example%00/\.\./\.\./etc/passwd' \
	"$(grep 'other.example%00' "$T/dsyncd.log" | tail -1)"
expect "GET /children/other.example%00 -> 400" 400 "$(api GET '/api/v1/children/other.example%00')"
expect "a %00 in a query argument -> 400" 400 "$(api GET '/api/v1/audit?child=other.example%00x')"
expect "other escapes still work: GET /children/other%2Eexample -> 200" 200 "$(api GET '/api/v1/children/other%2Eexample')"
expect "GET /validations -> 200 (none pending: manual only)" "200 []" "$(api GET /api/v1/validations) $(j 'd["items"]')"

# ---- outbox: list and retry ------------------------------------------------------
expect "GET /outbox?state=pending -> 200" 200 "$(api GET "/api/v1/outbox?state=pending")"
# the oldest (listed last): a backend's changes go in order, so later ones
# wait behind it for its backoff
DID=$(j 'd["items"][-1]["id"]')
expect "pending deliveries are the zonefile backend's (its reload fails)" "zonefile" \
	"$(j 'sorted(set(i["backend"] for i in d["items"]))[0]')"
for _ in $(seq 50); do
	api GET "/api/v1/outbox?state=pending" >/dev/null
	[ "$(j "[i['attempts'] for i in d['items'] if i['id'] == $DID][0]")" -ge 1 ] && break
	sleep 0.1
done
att=$(j "[i['attempts'] for i in d['items'] if i['id'] == $DID][0]")
expect_match "it was attempted and its error kept" "^[1-9][0-9]* reload command .*false exited with status 1" \
	"$att $(j "[i['last_error'] for i in d['items'] if i['id'] == $DID][0]")"
expect "its next attempt is far away (retry-min 600)" True \
	"$(j "[i['next_attempt'] for i in d['items'] if i['id'] == $DID][0] > $(date +%s) + 300")"
expect "GET /outbox?state=done lists the null backend's deliveries" "['null']" \
	"$(api GET "/api/v1/outbox?state=done" >/dev/null; j 'sorted(set(i["backend"] for i in d["items"]))')"
DONE=$(j 'd["items"][0]["id"]')
expect "POST /outbox/{id}/retry -> 200" 200 "$(api POST "/api/v1/outbox/$DID/retry")"
expect "the attempts are kept, and it is due now (or tried again already)" True \
	"$(j "d['attempts'] == $att and d['next_attempt'] <= $(date +%s) + 1 or d['attempts'] > $att")"
for _ in $(seq 50); do
	api GET "/api/v1/outbox?state=pending" >/dev/null
	[ "$(j "[i['attempts'] for i in d['items'] if i['id'] == $DID][0]")" -gt "$att" ] && break
	sleep 0.1
done
expect "the outbox tried it again at once" $((att + 1)) "$(j "[i['attempts'] for i in d['items'] if i['id'] == $DID][0]")"
expect "the retry is audited" 1 "$(audit_n "actor='api:ops' and result='retried'")"
expect "retry of a delivered one -> 409" 409 "$(api POST "/api/v1/outbox/$DONE/retry")"
expect "retry of an unknown one -> 404" 404 "$(api POST "/api/v1/outbox/999999/retry")"

# ---- the receiver key, records, config ----------------------------------------
expect "GET /receiver-key -> 200" 200 "$(api GET /api/v1/receiver-key)"
expect "one key, active and published" "('updater.example.', 1, True, True)" \
	"$(j 'd["name"], len(d["keys"]), d["keys"][0]["active"], d["keys"][0]["published"]')"
RK1=$(j 'd["keys"][0]["tag"]')
n=$(grep -c "receiver keys reloaded" "$T/dsyncd.log")
expect "POST /receiver-key/roll -> 200" 200 "$(api POST /api/v1/receiver-key/roll)"
expect "two keys: the old one signing, the new one published, not yet active" "(2, True, False, True)" \
	"$(j "len(d['keys']), [k['active'] for k in d['keys'] if k['tag'] == $RK1][0], [k['active'] for k in d['keys'] if k['tag'] != $RK1][0], [k['published'] for k in d['keys'] if k['tag'] != $RK1][0]")"
expect "the new key signs after receiver.roll-publish" True \
	"$(j "[k['activate_time'] for k in d['keys'] if k['tag'] != $RK1][0] >= $(date +%s) + 172000")"
for _ in $(seq 50); do [ "$(grep -c "receiver keys reloaded" "$T/dsyncd.log")" -gt "$n" ] && break; sleep 0.1; done
expect "the running daemon reloads its keys" $((n + 1)) "$(grep -c "receiver keys reloaded" "$T/dsyncd.log")"
expect "the roll is audited" 1 "$(audit_n "actor='api:ops' and result='rolled'")"
expect "GET /records -> 200" 200 "$(api GET /api/v1/records)"
grep -qi '^Content-Type: text/plain' "$T/hdr" && ok "records are text/plain" || not_ok "records content type"
expect "records are what dsyncd records prints" "$("$BIN/dsyncd" -c "$T/dsyncd.conf" records)" "$(cat "$T/resp")"
expect "both receiver keys are in them" 2 "$(grep -c ' IN KEY ' "$T/resp")"
expect "GET /records?zone=nope. -> 404" 404 "$(api GET "/api/v1/records?zone=nope.")"
expect "GET /receiver-key with the read token -> 200" 200 "$(api GET /api/v1/receiver-key "$RD")"
expect "GET /config -> 200" 200 "$(api GET /api/v1/config)"
# every setting documented in dsyncd.conf(5) is in the effective configuration
missing=$(grep -E '^\.B [a-z]+(\\-[a-z]+)*\.(\[\]\.)?[a-z]+(\\-[a-z]+)*$' "$TOP/doc/dsyncd.conf.5" | sed 's/^\.B //; s/\\//g' |
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for name in sys.stdin.read().split():
    g, _, k = name.partition(".")
    if g == "zones":
        k = k[3:]
        if "." in k or k not in d["zones"][0]:
            print(name)
    elif g not in d or k not in d[g]:
        print(name)' "$T/resp" | paste -sd' ')
expect "GET /config shows every setting of dsyncd.conf(5)" "" "$missing"
expect "config: ports, tokens file path, zone backends" "(5354, 8053, '$T/tokens', ['zonefile', 'null'])" \
	"$(j 'd["server"]["port"], d["api"]["port"], d["api"]["tokens-file"], [b["name"] for b in d["zones"][0]["backends"]]')"
grep -q -e "$ADM" -e "$RD" "$T/resp" && not_ok "config holds a token" || ok "no token in the config"
# the drift check: the zonefile backend's file against the store (whether
# they agree depends on its retries here); the null backend cannot tell
expect "GET /zones/example./check -> 200" 200 "$(api GET /api/v1/zones/example./check "$RD")"
expect "check: one line for each backend" "(True, True)" \
	"$(j 'any(l.startswith("backend zonefile: ") and ("in sync" in l or "differs" in l) for l in d["report"]), "backend null: not checked: backend null cannot tell what its target holds" in d["report"]')"
expect "GET /zones/nope./check -> 404" 404 "$(api GET /api/v1/zones/nope./check "$RD")"
expect "POST /zones/example./check/repair with the read token -> 403" 403 \
	"$(api POST /api/v1/zones/example./check/repair "$RD")"
expect "POST /zones/example./check/repair -> 200" 200 "$(api POST /api/v1/zones/example./check/repair)"

# ---- security: every wrong request -> its 4xx, a JSON error, nothing changed ----
keys_before=$(sqlite3 "$T/db/dsyncd.db" .dump | grep -i 'INSERT INTO keys')
expect "there are key rows to compare" 3 "$(grep -c . <<<"$keys_before")"
st_before=$(state_dump)
unauth=$(audit_n "result='unauthorized'")
forb=$(audit_n "result='forbidden'")
# bad DESC STATUS api-args...: the status, a JSON {"error": "..."} answer
bad() {
	local desc=$1 want=$2 got
	shift 2
	got=$(api "$@")
	if [ "$got" = "$want" ] && [ -n "$(j 'd["error"]' 2>/dev/null | grep -v Traceback)" ]; then
		ok "$desc -> $want: $(j 'd["error"]')"
	else
		not_ok "$desc: expected $want with a JSON error, got $got: $(head -c 200 "$T/resp")"
	fi
}
bad "no token" 401 GET /api/v1/zones ""
grep -qi '^WWW-Authenticate: Bearer' "$T/hdr" && ok "401 carries WWW-Authenticate: Bearer" || not_ok "WWW-Authenticate"
bad "no token on a write" 401 POST "/api/v1/keys/$IDO/revoke" ""
bad "wrong token" 401 POST "/api/v1/keys/$IDO/revoke" "wrong-0123456789abcdef-token"
bad "not a Bearer token" 401 GET /api/v1/zones "" "" -H "Authorization: Basic b3BzOnB3"
bad "a token with more after it" 401 GET /api/v1/zones "" "" -H "Authorization: Bearer $RD x"
bad "no token on /metrics" 401 GET /metrics ""
expect "each 401 wrote an audit row" $((unauth + 6)) "$(audit_n "result='unauthorized'")"
# bytes outside printable ASCII in the path reach the audit row escaped
bad "no token, a path of bytes 0xFF 0xFE" 401 GET "/%FF%FE" ""
expect "GET /audit after it -> 200 (the rows are valid JSON)" 200 "$(api GET "/api/v1/audit?result=unauthorized&limit=5")"
expect "the row shows the request escaped" 'GET /\xFF\xFE' "$(j "d['items'][0]['request']")"
bad "a child name with 0xFF in the path" 404 GET "/api/v1/children/a%FFb.example"
bad "a key id of byte 0xFF (a decoded path parameter in the error)" 400 POST "/api/v1/keys/%FF/trust"
expect "... the error shows it escaped" 'bad key name "\xFF": want CHILD/TAG, CHILD/TAG/ALG or the key'"'"'s id' "$(j 'd["error"]')"
expect "GET /audit -> 200 after all that" 200 "$(api GET "/api/v1/audit?limit=50")"
# a source that keeps guessing gets 401s but at most 30 audit rows a minute:
# 70 guesses span at most two minutes, so at most 60 rows, and some are not
# audited (the 6 above may share the first minute)
codes=""
for i in $(seq 70); do codes="$codes $(api GET /api/v1/zones "guess-$i-0123456789abcdef")"; done
expect "70 guesses: 70 times 401" 70 "$(tr ' ' '\n' <<<"$codes" | grep -c '^401$')"
n=$(audit_n "result='unauthorized'")
check "... the audit table grew by 60 at most (30 a minute)" test "$n" -le $((unauth + 6 + 60))
check "... and by at least 24 (the first minute filled up)" test "$n" -ge $((unauth + 30))
check "... so some guesses were logged only" grep -q "not audited: over 30 a minute" "$T/dsyncd.log"
bad "read token: add a key" 403 POST /api/v1/children/third.example/keys "$RD" "$body"
bad "read token: trust" 403 POST "/api/v1/keys/$ID/trust" "$RD"
bad "read token: revoke" 403 POST "/api/v1/keys/$IDO/revoke" "$RD"
bad "read token: delete" 403 DELETE "/api/v1/keys/$ID" "$RD"
bad "read token: retry" 403 POST "/api/v1/outbox/$DID/retry" "$RD"
bad "read token: roll" 403 POST /api/v1/receiver-key/roll "$RD"
expect "each 403 wrote an audit row with the token's name" $((forb + 6)) "$(audit_n "result='forbidden' and actor='api:grafana'")"
big=$(printf '{"reason": "%s"}' "$(head -c 3000 /dev/zero | tr '\0' x)")
bad "a body above api.max-body" 413 POST "/api/v1/keys/$IDO/revoke" "$ADM" "$big"
bad "a chunked body (no Content-Length)" 411 POST "/api/v1/keys/$IDO/revoke" "$ADM" '{}' -H 'Transfer-Encoding: chunked'
bad "malformed JSON" 400 POST "/api/v1/keys/$IDO/revoke" "$ADM" '{"reason": '
bad "duplicate JSON keys" 400 POST "/api/v1/keys/$IDO/revoke" "$ADM" '{"reason": "a", "reason": "b"}'
bad "not an object" 400 POST "/api/v1/keys/$IDO/revoke" "$ADM" '["reason"]'
bad "a field of the wrong type" 400 POST "/api/v1/keys/$IDO/revoke" "$ADM" '{"reason": 5}'
bad "key as a number" 400 POST /api/v1/children/third.example/keys "$ADM" '{"key": 7}'
bad "an unknown field" 400 POST "/api/v1/keys/$IDO/revoke" "$ADM" '{"reason": "x", "force": true}'
bad "a reason with a newline" 400 POST "/api/v1/keys/$IDO/revoke" "$ADM" '{"reason": "a\nb"}'
bad "not application/json" 415 POST "/api/v1/keys/$IDO/revoke" "$ADM" "" -H 'Content-Type: text/plain' --data-binary '{}'
bad "unknown route" 404 GET /api/v1/nothing
bad "unknown route with a read token" 404 GET /api/v2/zones "$RD"
bad "wrong method" 405 PUT "/api/v1/keys/$IDO/trust"
grep -qi '^Allow: POST' "$T/hdr" && ok "405 names the allowed method (Allow: POST)" || not_ok "Allow header: $(cat "$T/hdr")"
bad "GET on a DELETE-only path" 405 GET "/api/v1/keys/$IDO"
grep -qi '^Allow: DELETE' "$T/hdr" && ok "Allow: DELETE" || not_ok "Allow header"
bad "a key id that is no number" 400 POST "/api/v1/keys/abc/trust"
bad "key id 0" 400 POST "/api/v1/keys/0/trust"
bad "an unknown key id" 404 POST "/api/v1/keys/424242/trust"
bad "an unknown query parameter" 400 GET "/api/v1/audit?chidl=x"
bad "limit out of range" 400 GET "/api/v1/audit?limit=0"
bad "limit not a number" 400 GET "/api/v1/outbox?limit=ten"
bad "a bad outbox state" 400 GET "/api/v1/outbox?state=lost"
bad "a bad child name" 400 GET "/api/v1/audit?child=a..b"
bad "a bad validations cursor" 400 GET "/api/v1/validations?after=7"
expect "the keys table is unchanged" "$keys_before" "$(sqlite3 "$T/db/dsyncd.db" .dump | grep -i 'INSERT INTO keys')"
expect "nothing else an UPDATE may change moved either" "$st_before" "$(state_dump)"

# ---- tokens reload on SIGHUP ------------------------------------------------------
NEW=newtoken-0123456789#abcdef # a '#' inside a token is part of it
echo "later read $NEW" >>"$T/tokens"
expect "a token not yet loaded -> 401" 401 "$(api GET /api/v1/zones "$NEW")"
kill -HUP "$DSYNCD_PID"
for _ in $(seq 50); do grep -q "api: 3 token(s) loaded" "$T/dsyncd.log" && break; sleep 0.1; done
expect "after SIGHUP it works" 200 "$(api GET /api/v1/zones "$NEW")"
echo "broken line" >>"$T/tokens"
kill -HUP "$DSYNCD_PID"
for _ in $(seq 50); do grep -q "not reloaded; the old tokens stay" "$T/dsyncd.log" && break; sleep 0.1; done
grep -q "tokens:5: want three fields" "$T/dsyncd.log" && ok "a bad line on reload is logged with file:line" || not_ok "reload error line"
expect "and the old tokens stay" 200 "$(api GET /api/v1/zones "$NEW")"
sed -i '$d' "$T/tokens"

# ---- metrics -----------------------------------------------------------------------
expect "GET /metrics -> 200" 200 "$(api GET /metrics "$RD")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/hdr" && ok "Prometheus text format 0.0.4" || not_ok "metrics content type"
check "promtool check metrics accepts the scrape" promtool check metrics <"$T/resp"
sum_req() { awk '/^dsyncd_requests_total[{ ]/ { s += $NF } END { print s + 0 }' "$T/resp"; }
acc_req() { sed -n 's/^dsyncd_requests_total{result="accepted",rcode="NOERROR"} \([0-9]*\)$/\1/p' "$T/resp"; }
before=$(sum_req)
acc=$(acc_req)
expect "an UPDATE by the configured key" NOERROR "$(nsadd "$K1" child.example. e.net)"
expect "and another one" NOERROR "$(nsadd "$K1" child.example. f.net)"
for _ in $(seq 40); do # counted just after the answer is sent
	api GET /metrics "$RD" >/dev/null
	[ "$(sum_req)" -ge $((before + 2)) ] && break
	sleep 0.05
done
expect "dsyncd_requests_total moved by two" $((before + 2)) "$(sum_req)"
expect "both counted as accepted NOERROR" $((${acc:-0} + 2)) "$(acc_req)"
check "the second scrape passes promtool too" promtool check metrics <"$T/resp"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd

# ---- a tokens file that others may read: no start -----------------------------------
# no_start CONF LOG DESC REGEX: dsyncd with CONF does not start, exiting
# 78 (the configuration check refuses it before anything is built; sanitizer
# reports exit 86 or 87); its output, in LOG, says why (REGEX)
no_start() {
	local rc
	timeout 20 "$BIN/dsyncd" -c "$1" >"$2" 2>&1
	rc=$?
	[ $rc -eq 78 ] && ok "$3 (exit $rc)" || not_ok "$3: exit $rc"
	expect_match "and says why" "$4" "$(cat "$2")"
}
chmod 644 "$T/tokens"
no_start "$T/dsyncd.conf" "$T/mode.log" "with mode 0644 dsyncd refuses to start" \
	"tokens: the API tokens file has mode 0644, which gives group or others access; it must be 0600 or 0400"
chmod 600 "$T/tokens"
printf 'x admin short\n' >>"$T/tokens"
timeout 20 "$BIN/dsyncd" -c "$T/dsyncd.conf" >"$T/bad.log" 2>&1
[ $? -ne 0 ] && grep -q "$T/tokens:5: the token must have 16 to 256 characters" "$T/bad.log" &&
	ok "a bad tokens line stops the start, logged as file:line" || not_ok "bad line: $(cat "$T/bad.log")"
sed -i '$d' "$T/tokens"

# ---- HTTPS -------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=$ADDR -days 1 \
	-keyout "$T/api.key" -out "$T/api.crt" >/dev/null 2>&1
chmod 600 "$T/api.key"
sed "s|max-body = 2048;|max-body = 2048; tls-certificate = \"$T/api.crt\"; tls-key = \"$T/api.key\";|" \
	"$T/dsyncd.conf" >"$T/tls.conf"
start_dsyncd "$T/tls.conf" "$T/tls.log" || { not_ok "dsyncd starts with TLS"; finish; }
BASE=https://$ADDR:8053
expect "https with --cacert: GET /healthz -> 200" 200 "$(api GET /healthz "$RD" "" --cacert "$T/api.crt")"
expect "the answer is ok" ok "$(cat "$T/resp")"
expect "https: a write with the admin token" 200 "$(api POST "/api/v1/keys/$IDO/revoke" "$ADM" "" --cacert "$T/api.crt")"
expect "https: no token -> 401" 401 "$(api GET /api/v1/zones "" "" --cacert "$T/api.crt")"
expect "an unknown CA is refused by curl" 000 "$(api GET /healthz "$RD")"
# only TLS 1.2 and 1.3 are offered (the client allows 1.1 at security level 0)
tlsv() { timeout 10 openssl s_client -connect $ADDR:8053 -CAfile "$T/api.crt" "$@" </dev/null >"$T/s_client.log" 2>&1; }
tlsv -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
check "openssl s_client -tls1_1 fails" test $? -ne 0
check "openssl s_client -tls1_2 works" tlsv -tls1_2
grep -q "Protocol *: TLSv1.2" "$T/s_client.log" && ok "... and speaks TLS 1.2" || not_ok "TLS 1.2: $(grep -i protocol "$T/s_client.log")"
check "openssl s_client -tls1_3 works" tlsv -tls1_3
BASE=http://$ADDR:8053
expect "plain http to the TLS port gets no answer" 000 "$(api GET /healthz "$RD")"
check "dsyncd stops cleanly (TLS)" stop_dsyncd "$T/tls.log"
chmod 644 "$T/api.key"
no_start "$T/tls.conf" "$T/keymode.log" "a TLS key file of mode 0644: dsyncd refuses to start" \
	"api.key: the API TLS key file has mode 0644, which gives group or others access"
finish
