#!/usr/bin/env bash
# dsyncctl(1) against a running dsyncd: every command as a table and as
# --json; the manual bootstrap driven by dsyncctl (nsupdate self-signed
# upload, `keys` shows it known, `key trust`, the child's next nsupdate is
# accepted, `audit --child` shows both); a dnssec-keygen key added with
# `key add`; revoke and delete; a failing backend's delivery retried; the
# receiver key rolled; where the URL and token come from and in what order;
# and the exit status of each class of failure (0, 1, 64, 69, 75, 76, 77,
# 78), with a small fake API server for the answers dsyncd never gives
# (paging over several pages, 5xx, 503, broken JSON, a redirect, a slow
# answer).
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.18
PORT=5354
API=http://$ADDR:8053
MOCK=http://$ADDR:8054
CTL=$BIN/dsyncctl

ADMIN_TOKEN=adm-7f3c9a1e5b2d4c6e8f0a1b3c5d7e9f12
READ_TOKEN=read-0e2d4c6b8a9f1e3d5c7b9a0f2e4d6c8b
umask 077
cat >"$T/tokens" <<EOT
# name    role   token
alice     admin  $ADMIN_TOKEN
grafana   read   $READ_TOKEN
EOT
printf '# the admin token\n\n%s\n' "$ADMIN_TOKEN" >"$T/admin.tok"
echo "$READ_TOKEN" >"$T/read.tok"
echo "not-a-token-of-this-server-0000" >"$T/wrong.tok"

# a clean environment: nothing from the caller's settings or config file
unset DSYNCCTL_URL DSYNCCTL_TOKEN DSYNCCTL_TOKEN_FILE DSYNCCTL_CONFIG DSYNCCTL_CACERT \
	http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export XDG_CONFIG_HOME=$T/xdg HOME=$T/home
export DSYNCCTL_URL=$API DSYNCCTL_TOKEN_FILE=$T/admin.tok

K0=$(mkkey other.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. \
	"child.example.: other.example.:$K0 third.example.: flaky.example.:" \
	"  backends = ( { type = \"zonefile\"; path = \"$T/out/example.delegations\"; },
	                { name = \"flaky\"; type = \"zonefile\"; path = \"$T/out/flaky\";
	                  reload = [ \"/bin/false\" ]; } );"
cat >>"$T/dsyncd.conf" <<EOC
receiver = { name = "updater.example."; key-directory = "$T/rkeys"; roll-publish = 3; };
api = { listen = "$ADDR"; port = 8053; tokens-file = "$T/tokens"; };
EOC
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

nsadd() { # KEYPREFIX CHILD NS NS: nsupdate signed with the key, two NS (min-ns)
	nsu "$1" $ADDR $PORT <<-EOS
		zone example.
		update add $2 300 NS $3
		update add $2 300 NS $4
		EOS
}
upload() { # KEYPREFIX: self-signed upload of that key
	nsu "$1" $ADDR $PORT <<-EOS
		zone example.
		update add $(keyrr "$1")
		EOS
}

# ---- read-only commands, tables and JSON --------------------------------------
c health
rc_is "health" 0
expect_match "health table: ready" "^ready +yes" "$OUT"
c --json health
expect "health --json: ready, the store check first" "True store" "$(j 'd["ready"], d["checks"][0]["name"]')"

c zones
rc_is "zones" 0
expect_match "zones table: header and the zone" "^NAME +CHILDREN +BOOTSTRAP.*"$'\n'"example\. +4 +manual +zonefile,flaky +yes" "$OUT"
c --json zones
expect "zones --json: name, children, backends" "example. 4 ['zonefile', 'flaky']" \
	"$(j 'd["items"][0]["name"], d["items"][0]["children"], d["items"][0]["backends"]')"

c children example.
rc_is "children" 0
expect "children table: a header and 4 rows" 5 "$(wc -l <<<"$OUT")"
expect_match "children table: other.example. has 1 trusted key" "other\.example\. +- +0 +0 +1 +0" "$OUT"
c --json children example.
expect "children --json: the 4 children" "['child.example.', 'flaky.example.', 'other.example.', 'third.example.'] None" \
	"$(j '[i["name"] for i in d["items"]], d["next"]')"
c --json --limit 2 children example.
expect "children --limit 2: 2 items and a cursor to go on" "2 True" "$(j 'len(d["items"]), d["next"] is not None')"

c validations
rc_is "validations" 0
expect_match "validations table: the header" "^KEY +ID +ALG +METHODS +ATTEMPTS +ROUNDS +NEXT +LAST-RESULT$" "$OUT"
c --json validations
expect "validations --json: a list" "[] None" "$(j 'd["items"], d["next"]')"

c config
rc_is "config" 0
expect_match "config table: the tokens file's path" "api\.tokens-file +$T/tokens" "$OUT"
c --json config
expect "config --json: api settings" "$T/tokens 8053" "$(j 'd["api"]["tokens-file"], d["api"]["port"]')"
check "config never shows a token" bash -c "! grep -q -e '$ADMIN_TOKEN' -e '$READ_TOKEN' '$T/c.out'"

c receiver-key
rc_is "receiver-key" 0
expect_match "receiver-key table: name and one key" "^name +updater\.example\."$'\n\n'"TAG +ALG +ACTIVE.*"$'\n'"[0-9]+ +ED25519 +yes +yes " "$OUT"
c --json receiver-key show
expect "receiver-key show --json: one active key" "updater.example. 1 True" \
	"$(j 'd["name"], len(d["keys"]), d["keys"][0]["active"]')"

c records example.
rc_is "records example." 0
expect_match "records: the DSYNC and KEY records, as text" "_dsync\.example\..*DSYNC.*"$'\n'".*updater\.example\..* KEY " "$(grep -E 'DSYNC|KEY' <<<"$OUT")"
c --json records
expect "records takes no zone too (and stays text with --json)" "0 yes" \
	"$RC $(grep -q 'DSYNC' <<<"$OUT" && echo yes)"

# ---- manual bootstrap through dsyncctl --------------------------------------------
K1=$(mkkey child.example. ED25519)
T1=$(tagof "$K1")
expect "nsupdate: self-signed upload of child.example.'s new key" NOERROR "$(upload "$K1")"
c keys child.example.
rc_is "keys" 0
expect_match "keys table: the key is known, from an upload" "^[0-9]+ +child\.example\./$T1 +$T1 +ED25519 +known +- .*upload from 127" "$(sed -n 2p <<<"$OUT")"
c --json keys child.example.
expect "keys --json: tag, algorithm, state" "$T1 15 known None" \
	"$(j 'd["items"][0]["tag"], d["items"][0]["algorithm"], d["items"][0]["state"], d["items"][0]["trust_method"]')"
ID1=$(j 'd["items"][0]["id"]')
expect "the known key cannot change the delegation yet" REFUSED \
	"$(nsadd "$K1" child.example. ns1.provider.net. ns2.provider.net.)"

c --token-file "$T/read.tok" key trust "$ID1"
rc_is "key trust with the read-only token" 77
expect_match "... says why, prefixed" "^dsyncctl: " "$ERR"
c --json keys child.example.
expect "... and the key is still known" known "$(j 'd["items"][0]["state"]')"

c key trust "$ID1"
rc_is "key trust" 0
expect_match "key trust: the key row, now trusted by manual" "^$ID1 +child\.example\./$T1 +$T1 +ED25519 +trusted +manual " "$(sed -n 2p <<<"$OUT")"
expect "nsupdate signed with the trusted key is accepted" NOERROR \
	"$(nsadd "$K1" child.example. ns1.provider.net. ns2.provider.net.)"

c audit --child child.example.
rc_is "audit --child" 0
expect_match "audit table: the upload" "update +accepted +NOERROR +key child\.example\. tag $T1 uploaded" "$OUT"
expect_match "audit table: the trust, by the admin token" "api:alice +trusted " "$OUT"
expect_match "audit table: the accepted NS change" "update +accepted +NOERROR +changed \+ child\.example\. [0-9]+ IN NS ns1" "$OUT"
c --json audit --child child.example.
expect "audit --json: newest first; actors and results" \
	"['update/accepted', 'api:alice/trusted', 'update/refused', 'update/accepted']" \
	"$(j '[i["actor"] + "/" + i["result"] for i in d["items"]]')"
expect "audit --json: every row is child.example.'s" "True" "$(j 'all(i["child"] == "child.example." for i in d["items"])')"
c --json audit --result trusted
expect "audit --result trusted: only trust rows" "True 1" \
	"$(j 'all(i["result"] == "trusted" for i in d["items"]), len(d["items"])')"
c --json audit --limit 2
expect "audit --limit 2: two rows and a cursor" "2 True" "$(j 'len(d["items"]), d["next"] is not None')"
c --json audit --since 1h --until "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
expect "audit --since 1h --until in an hour (ISO): every row" "True" "$(j 'len(d["items"]) >= 5')"
c --json audit --until 2001-01-01
expect "audit --until 2001-01-01: nothing" "[]" "$(j 'd["items"]')"

c child show child.example.
rc_is "child show" 0
expect_match "child show: the delegation" "delegation +child\.example\. [0-9]+ IN NS ns1\.provider\.net\."$'\n'" +child\.example\. [0-9]+ IN NS ns2\.provider\.net\." "$OUT"
expect_match "child show: the key table" "trusted +manual" "$OUT"
c --json child show child.example.
expect "child show --json" "example. 2 trusted" "$(j 'd["zone"], len(d["delegation"]), d["keys"][0]["state"]')"

c outbox --state 'done'
rc_is "outbox" 0
expect_match "outbox table: a delivered change" "child\.example\. +zonefile +done +1 " "$OUT"
c --json outbox --state all
DONE=$(j '[i["id"] for i in d["items"] if i["state"] == "done"][0]')
PEND=$(j '[i["id"] for i in d["items"] if i["state"] == "pending"][0]')
expect "outbox --json: the failing backend's delivery stays pending" "flaky" \
	"$(j '[i["backend"] for i in d["items"] if i["id"] == '"$PEND"'][0]')"
c retry "$PEND"
rc_is "retry a pending delivery" 0
expect_match "retry: the delivery row, still pending" "^$PEND +[0-9]+ +child\.example\. +flaky +pending " "$(sed -n 2p <<<"$OUT")"
c --json retry "$PEND"
expect "retry --json: due now" "pending True" "$(j 'd["state"], d["next_attempt"] is None or d["next_attempt"] <= '"$(($(date +%s) + 1))"'')"
c retry "$DONE"
rc_is "retry a delivered one: refused" 1
expect_match "... with the API's reason" "^dsyncctl: .+" "$ERR"
c --json outbox --state pending
expect "outbox --state pending: only pending rows" "True" "$(j 'len(d["items"]) > 0 and all(i["state"] == "pending" for i in d["items"])')"

# revoke, delete
c key revoke "$ID1"
rc_is "key revoke" 0
expect_match "key revoke: now revoked" "^$ID1 +child\.example\./$T1 +$T1 +ED25519 +revoked " "$(sed -n 2p <<<"$OUT")"
expect "the revoked key's next UPDATE is refused (BADKEY: NOTAUTH to nsupdate)" NOTAUTH \
	"$(nsadd "$K1" child.example. ns3.provider.net. ns4.provider.net.)"
c key delete "$ID1"
rc_is "key delete" 0
expect "key delete says so" "key $ID1 deleted" "$OUT"
c --json keys child.example.
expect "the key is gone" "[]" "$(j 'd["items"]')"
c key delete "$ID1"
rc_is "key delete again: unknown key" 1
c key trust 999999
rc_is "key trust of an unknown key id" 1
expect_match "... the API's error text on stderr, prefixed" "^dsyncctl: .*999999" "$ERR"

# key add: a dnssec-keygen key, as text and as a file
K3=$(mkkey third.example. ED25519)
T3=$(tagof "$K3")
c key add third.example. "$(grep -v '^;' "$K3.key")"
rc_is "key add (KEY text from dnssec-keygen -T KEY)" 0
expect_match "key add: trusted by manual" "^[0-9]+ +third\.example\./$T3 +$T3 +ED25519 +trusted +manual " "$(sed -n 2p <<<"$OUT")"
expect "the added key's UPDATE is accepted" NOERROR \
	"$(nsadd "$K3" third.example. ns1.provider.net. ns2.provider.net.)"
c key add third.example. "$(grep -v '^;' "$K3.key")"
rc_is "key add of the same key again: refused" 1
K4=$(mkkey third.example. ECDSAP256SHA256 2>/dev/null)
c --json key add third.example. "$K4.key"
rc_is "key add KFILE.key" 0
expect "key add --json: the key" "$(tagof "$K4") 13 trusted" "$(j 'd["tag"], d["algorithm"], d["state"]')"
c --json keys third.example.
expect "the new key supersedes the one before" "revoked" "$(j '[i["state"] for i in d["items"] if i["tag"] == '"$T3"'][0]')"
c key add third.example. "third.example. 3600 IN KEY 512 3 15 not-base64!"
rc_is "key add of garbage: refused by the API" 1
c key add third.example. "$K4.private"
rc_is "key add of a private key file: usage" 64

# receiver-key roll
c --json receiver-key roll
rc_is "receiver-key roll" 0
expect "receiver-key roll --json: two keys now" 2 "$(j 'len(d["keys"])')"
c receiver-key show
expect "receiver-key show: two key rows" 2 "$(grep -cE '^[0-9]+ +ED25519 ' <<<"$OUT")"

# every command parses as JSON with --json
for cmd in "zones" "children example." "child show other.example." "keys other.example." \
	"validations" "audit" "outbox" "receiver-key" "config" "health"; do
	# shellcheck disable=SC2086
	c --json $cmd
	expect "--json $cmd is JSON (exit 0)" "0 ok" "$RC $(j '"ok"')"
done

# ---- authorisation and exit statuses ---------------------------------------------
c --token-file "$T/wrong.tok" zones
rc_is "a wrong token" 77
expect_match "... the API's 401 text" "^dsyncctl: " "$ERR"
c --token-file "$T/read.tok" --json zones
rc_is "the read-only token reads" 0
DSYNCCTL_TOKEN_FILE='' c zones
rc_is "no token at all" 77
expect_match "... with a hint where a token comes from" "no token given" "$ERR"
n=$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where result='unauthorized'")
expect "each refused token left an audit row" 2 "$n"

for bad in "" "nosuch" "key" "key trust" "key trust abc" "key trust 0" "children" \
	"children a b" "zones --state all" "keys x --child y" "audit --since yesterday" \
	"outbox --state bogus" "--token $ADMIN_TOKEN zones" "--timeout 0 zones" \
	"--limit 0 audit" "--bogus zones" "--url ftp://$ADDR/ zones" "--url nonsense zones" \
	"--url http://user:pw@$ADDR:8053 zones"; do
	# shellcheck disable=SC2086
	c $bad
	rc_is "usage: dsyncctl $bad" 64
done
c --token "$ADMIN_TOKEN" zones
expect_match "--token is refused with the reason" "never taken from the command line" "$ERR"
check "... and the token is not echoed" bash -c "! grep -q '$ADMIN_TOKEN' '$T/c.err'"

# ---- where URL and token come from -----------------------------------------------
DSYNCCTL_TOKEN=wrong-token-0000000000 c --token-file "$T/admin.tok" zones
rc_is "--token-file beats DSYNCCTL_TOKEN" 0
DSYNCCTL_TOKEN=$ADMIN_TOKEN DSYNCCTL_TOKEN_FILE='' c zones
rc_is "DSYNCCTL_TOKEN alone" 0
DSYNCCTL_TOKEN=wrong-token-0000000000 c zones
rc_is "DSYNCCTL_TOKEN beats DSYNCCTL_TOKEN_FILE" 77
mkdir -p "$T/cfg"
echo "$READ_TOKEN" >"$T/cfg/ro.tok"
cat >"$T/cfg/dsyncctl.conf" <<EOC
# dsyncctl settings
url = "http://$ADDR:8053"

token-file = ro.tok
timeout = 5
EOC
DSYNCCTL_CONFIG=$T/cfg/dsyncctl.conf DSYNCCTL_URL='' DSYNCCTL_TOKEN_FILE='' c zones
rc_is "URL and token file (relative to the config file) from DSYNCCTL_CONFIG" 0
DSYNCCTL_CONFIG=$T/cfg/dsyncctl.conf DSYNCCTL_URL='' DSYNCCTL_TOKEN_FILE='' c key delete 999999
rc_is "... it is the read-only token: a write is forbidden" 77
DSYNCCTL_CONFIG=$T/cfg/dsyncctl.conf DSYNCCTL_URL='' c key delete 999999
rc_is "DSYNCCTL_TOKEN_FILE beats the config file (admin: unknown key)" 1
DSYNCCTL_CONFIG=$T/cfg/dsyncctl.conf DSYNCCTL_URL=http://$ADDR:9 c zones
rc_is "DSYNCCTL_URL beats the config file (nothing listens there)" 69
DSYNCCTL_URL=http://$ADDR:9 c --url "$API" zones
rc_is "--url beats DSYNCCTL_URL" 0
mkdir -p "$T/xdg"
printf 'url = http://%s:8053\ntoken-file = %s\n' $ADDR "$T/admin.tok" >"$T/xdg/dsyncctl.conf"
DSYNCCTL_URL='' DSYNCCTL_TOKEN_FILE='' c zones
rc_is "the default config file (\$XDG_CONFIG_HOME/dsyncctl.conf)" 0
rm "$T/xdg/dsyncctl.conf"
printf 'url = %s\ntoken = %s\n' "$API" "$ADMIN_TOKEN" >"$T/cfg/bad.conf"
DSYNCCTL_CONFIG=$T/cfg/bad.conf c zones
rc_is "a token in the config file itself is refused" 78
expect_match "... naming the line" "bad\.conf:2: " "$ERR"
printf 'colour = blue\n' >"$T/cfg/bad.conf"
DSYNCCTL_CONFIG=$T/cfg/bad.conf c zones
rc_is "an unknown config setting" 78
DSYNCCTL_CONFIG=$T/cfg/missing.conf c zones
rc_is "a DSYNCCTL_CONFIG that does not exist" 78
c --token-file "$T/missing.tok" zones
rc_is "a token file that does not exist" 78
chmod 644 "$T/read.tok"
c --token-file "$T/read.tok" zones
rc_is "a group/other-readable token file still works" 0
expect_match "... with a warning" "warning: token file .* is readable by group or others" "$ERR"
chmod 600 "$T/read.tok"
c --token-file "$T/read.tok" zones
expect "no warning at 0600" "" "$ERR"

# ---- a fake API for answers dsyncd does not give ------------------------------------
cat >"$T/mock.py" <<'EOP'
import json, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
LOG = sys.argv[1]
ITEMS = [{"id": i, "time": 1764740000 + i, "client": "192.0.2.1#53", "child": "c.example.",
          "key_tag": i, "actor": "update", "result": "accepted", "rcode": 0,
          "reason": "r%d" % i} for i in range(7, 0, -1)]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, body, ctype="application/json", extra=()):
        b = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        for k, v in extra: self.send_header(k, v)
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        with open(LOG, "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Authorization")))
        if u.path == "/api/v1/audit":   # pages of at most 3, cursor = last id
            after = int(q.get("after", "1000"))
            rest = [i for i in ITEMS if i["id"] < after][:min(int(q["limit"]), 3)]
            more = rest and rest[-1]["id"] > 1
            self.send(200, {"items": rest, "next": rest[-1]["id"] if more else None})
        elif u.path == "/api/v1/validations":   # a cursor that never moves
            self.send(200, {"items": [{"key_id": 1}], "next": "same"})
        elif u.path == "/api/v1/zones":
            self.send(500, {"error": "store is broken"})
        elif u.path == "/api/v1/config":
            self.send(200, "this is not JSON {")
        elif u.path == "/api/v1/receiver-key":
            self.send(302, "", "text/plain", [("Location", "http://192.0.2.1/steal")])
        elif u.path == "/readyz":
            self.send(503, {"ready": False, "reasons": ["backend example./zf: oldest undelivered change 412 s old (limit 300 s)"],
                            "checks": [{"name": "store", "ok": True, "detail": "writable"}]})
        elif u.path == "/api/v1/outbox":
            time.sleep(3)
            self.send(200, {"items": [], "next": None})
        elif u.path == "/api/v1/children/busy.":   # a 503: try again later
            self.send(503, {"error": "the store is busy"})
        elif u.path == "/api/v1/children/evil./keys":
            self.send(200, {"items": [{"id": 1, "state": "kn\u001b[31mown\nfake line"}], "next": None})
        else:
            self.send(404, "no such thing", "text/plain")
ThreadingHTTPServer(("127.0.0.18", 8054), H).serve_forever()
EOP
python3 "$T/mock.py" "$T/mock.log" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
for _ in $(seq 50); do curl -s -o /dev/null "$MOCK/" && break; sleep 0.1; done
m() { c --url "$MOCK" "$@"; }

m --json audit
rc_is "mock: a list over several pages" 0
expect "mock: every page's items, in order" "[7, 6, 5, 4, 3, 2, 1] None" "$(j '[i["id"] for i in d["items"]], d["next"]')"
expect "mock: the pages were asked with the cursor" \
	"/api/v1/audit?limit=1000 /api/v1/audit?limit=1000&after=5 /api/v1/audit?limit=1000&after=2" \
	"$(grep '^/api/v1/audit' "$T/mock.log" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
expect "mock: the bearer token was sent" "Bearer $ADMIN_TOKEN" \
	"$(grep '^/api/v1/audit' "$T/mock.log" | head -1 | cut -d' ' -f2-)"
m --json --limit 4 audit --child 'a b&c'
expect "mock: --limit 4 stops after 4, next says where to go on" "[7, 6, 5, 4] 4" "$(j '[i["id"] for i in d["items"]], d["next"]')"
expect_match "mock: query values are escaped" "child=a%20b%26c" "$(grep 'child=' "$T/mock.log")"
m audit --limit 5
expect "mock: the table has the header and 5 rows" 6 "$(wc -l <<<"$OUT")"
m validations
rc_is "mock: a paging cursor that does not move" 76
m zones
rc_is "mock: HTTP 500" 69
expect "mock: ... its error text" "dsyncctl: server error 500: store is broken" "$ERR"
m config
rc_is "mock: invalid JSON" 76
expect_match "mock: ... said so" "invalid JSON from the server" "$ERR"
m receiver-key
rc_is "mock: a redirect is not followed" 76
m health
rc_is "mock: readyz 503 (answered: not ready)" 1
expect_match "mock: ... the report is still shown" "^ready +no" "$OUT"
expect "mock: ... the first reason said" "dsyncctl: dsyncd is not ready: backend example./zf: oldest undelivered change 412 s old (limit 300 s)" "$ERR"
start=$(date +%s%N)
m --timeout 0.5 outbox
rc_is "mock: a slow answer with --timeout 0.5" 69
took=$((($(date +%s%N) - start) / 1000000))
[ "$took" -lt 2500 ] && ok "mock: ... gave up after ${took} ms" || not_ok "mock: timeout took $took ms"
m keys evil.
expect_match "mock: control characters from the server are neutralised" "kn\?\[31mown fake line" "$OUT"
check "mock: ... no escape byte reaches the terminal" bash -c "! grep -q $'\x1b' '$T/c.out'"
m child show busy.
rc_is "mock: HTTP 503: try again later" 75
m child show nothing.
rc_is "mock: a non-JSON 404" 1
expect "mock: ... its first line shown" "dsyncctl: HTTP 404: no such thing" "$ERR"

# ---- TLS, then dsyncd stopped -------------------------------------------------------
check "dsyncd stops cleanly" stop_dsyncd
c health
rc_is "dsyncd stopped: connection refused" 69
expect_match "... said so" "^dsyncctl: GET $API/readyz: .*(refused|connect)" "$ERR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$T/api.key" -out "$T/api.crt" -subj "/CN=$ADDR" \
	-addext "subjectAltName=IP:$ADDR" >/dev/null 2>&1
sed -i "s|tokens-file = \"$T/tokens\";|& tls-certificate = \"$T/api.crt\"; tls-key = \"$T/api.key\";|" "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd restarts with TLS"; finish; }
c --url "https://$ADDR:8053" --cacert "$T/api.crt" --json health
expect "https with --cacert" "0 True" "$RC $(j 'd["ready"]')"
DSYNCCTL_CACERT=$T/api.crt c --url "https://$ADDR:8053" zones
rc_is "https with DSYNCCTL_CACERT" 0
c --url "https://$ADDR:8053" health
rc_is "https without the CA: TLS failure" 69
c health
rc_is "http to the https port" 69
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
finish
