#!/usr/bin/env bash
# The web console under /ui/: its files come with the security headers
# (Content-Security-Policy without inline script, no framing, nosniff, no
# referrer), only the known files are served (anything else 404, no other
# method than GET and HEAD); GET /api/v1/stats/updates counts the UPDATEs per
# minute.  Then a real headless Chromium (console.py, selenium) logs in
# with a read token (figures as the API has them, no buttons), with an
# admin token (trusts a waiting key, sees the child trusted and the new
# audit row, retries a pending delivery), filters and pages the audit log,
# and shows a child whose name holds <script> as text without running it.
# Screenshots of each page: $T/shots (kept with KEEP=1 or on failure).
. "$(dirname "$0")/lib.sh"
need dnssec-keygen nsupdate curl chromium chromedriver
PY=/usr/bin/python3 # Debian's python3, with python3-selenium
"$PY" -c 'import selenium' 2>/dev/null || { not_ok "python3-selenium is installed"; finish; }
ADDR=127.0.0.76
PORT=5354
BASE=http://$ADDR:8053
ADM=ops-admin-0123456789abcdef
RD=reader-0123456789abcdef-tok
# one label: "<script>window.xss=1</script>" (its dot escaped)
XSS='<script>window\.xss=1</script>.example.'

K1=$(mkkey child.example. ED25519)
KN=$(mkkey newchild.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$K1 newchild.example.:" \
	"  backends = ( { type = \"zonefile\"; path = \"$T/out/example.delegations\"; },
	               { type = \"exec\"; name = \"registry\"; command = [ \"/bin/false\" ]; } );"
cat >>"$T/dsyncd.conf" <<EOF
outbox = { retry-min = 600; retry-max = 3600; };
api = { listen = "$ADDR"; port = 8053; tokens-file = "$T/tokens"; ui-directory = "$TOP/api/ui"; };
EOF
printf 'ops admin %s\ngrafana read %s\n' "$ADM" "$RD" >"$T/tokens"
chmod 600 "$T/tokens"
# the <script> child comes with the parent's zone file (the API takes host
# names only; a zone file's names may hold any byte)
printf '%s\n' '$ORIGIN example.' '$TTL 3600' '@ SOA ns.example. h.example. 1 7200 3600 864000 300' \
	'@ NS ns.example.' 'ns A 192.0.2.53' "${XSS%.example.} NS ns1.x.net." "${XSS%.example.} NS ns2.x.net." \
	>"$T/example.zone"
check "the zone file with the <script> child is imported" \
	"$BIN/dsyncd" -c "$T/dsyncd.conf" import example. "$T/example.zone"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts with the console"; finish; }

# hdr PATH [curl args]: the answer's status line and headers (CR dropped)
hdr() { curl -s -o "$T/body" -D - "${@:2}" "$BASE$1" | tr -d '\r'; }
CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

# ---- the files and their headers ------------------------------------------------
for f in "/ui/ text/html" "/ui/app.js text/javascript" "/ui/app.css text/css"; do
	h=$(hdr "${f% *}")
	expect_match "GET ${f% *}: 200 without a token" "^HTTP/1.1 200" "$h"
	expect_match "GET ${f% *}: Content-Type ${f#* }" "Content-Type: ${f#* }; charset=utf-8" "$h"
	expect "GET ${f% *}: the Content-Security-Policy" "$CSP" \
		"$(sed -n 's/^Content-Security-Policy: //p' <<<"$h")"
	expect_match "GET ${f% *}: nosniff, no referrer, no framing, revalidated" \
		"Referrer-Policy: no-referrer X-Content-Type-Options: nosniff X-Frame-Options: DENY" \
		"$(grep -E '^(X-Content|Referrer|X-Frame)' <<<"$h" | sort | paste -sd' ')"
	expect_match "GET ${f% *}: Cache-Control" "Cache-Control: no-cache" "$h"
done
cmp -s "$T/body" "$TOP/api/ui/app.css" && ok "the file served is the file in api.ui-directory" ||
	not_ok "app.css served differs from the file"
check "index.html has no inline script or style" \
	bash -c "! grep -Eiq '<script>|<script [^>]*>[^<]|<style|\sstyle=|\son[a-z]+=' '$TOP/api/ui/index.html'"
check "app.js builds no markup from text (no innerHTML, eval, document.write)" \
	bash -c "! grep -Eq 'innerHTML|outerHTML|insertAdjacentHTML|eval\\(|new Function|document\\.write' '$TOP/api/ui/app.js'"
expect_match "GET /ui: 301 to /ui/" "^HTTP/1.1 301.*Location: /ui/" "$(hdr /ui | paste -sd' ')"
expect_match "HEAD /ui/app.js: 200" "^HTTP/1.1 200" "$(hdr /ui/app.js -I)"
for p in /ui/nope.js /ui/app.js/x /ui/.. /ui/../api/v1/zones "/ui/%2e%2e/api/v1/zones" /ui/index.html%00; do
	expect_match "GET $p: 404" "^HTTP/1.1 404" "$(hdr "$p" --path-as-is)"
done
expect_match "POST /ui/: 405, Allow: GET, HEAD" "^HTTP/1.1 405.*Allow: GET, HEAD" \
	"$(hdr /ui/ -X POST | paste -sd' ')"

# ---- what the console shows: UPDATEs accepted and refused, a waiting key,
# ---- a pending delivery, a child whose name holds <script> ---------------------------
for i in 1 2 3; do
	expect "UPDATE $i of child.example.: NOERROR" NOERROR "$(nsu "$K1" $ADDR $PORT <<EOF
zone example.
update add child.example. 3600 NS ns$i.provider.net.
update add child.example. 3600 NS ns$((i + 1)).provider.net.
EOF
	)"
done
for i in 1 2 3; do
	expect "UPDATE $i of newchild.example. signed by child.example.'s key: REFUSED" REFUSED \
		"$(nsu "$K1" $ADDR $PORT <<<"zone example.
update add newchild.example. 3600 NS ns$i.evil.net.")"
done
expect "newchild.example. uploads its key (self-signed): NOERROR" NOERROR \
	"$({ echo "zone example."; echo "update add $(keyrr "$KN")"; } | nsu "$KN" $ADDR $PORT)"
check "a delivery to the failing backend waits" \
	wait_for 200 bash -c "curl -s -H 'Authorization: Bearer $RD' '$BASE/api/v1/outbox?state=pending' | grep -q '\"attempts\":[1-9]'"

# ---- GET /api/v1/stats/updates -----------------------------------------------------
s=$(curl -s -H "Authorization: Bearer $RD" "$BASE/api/v1/stats/updates?minutes=5")
expect "stats/updates: 5 minutes, 4 accepted (3 changes, 1 key upload), 3 refused" "5 4 3" \
	"$("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); i=d["items"]; print(len(i), sum(x["accepted"] for x in i), sum(x["refused"] for x in i))' "$s")"
expect "stats/updates: minutes=0 -> 400" 400 \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $RD" "$BASE/api/v1/stats/updates?minutes=0")"
expect "stats/updates: needs a token (401)" 401 \
	"$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/v1/stats/updates")"
expect "whoami: the token's name and role" '{"token":"grafana","role":"read"}' \
	"$(curl -s -H "Authorization: Bearer $RD" "$BASE/api/v1/whoami")"

# ---- the browser ------------------------------------------------------------------
mkdir -p "$T/shots"
while read -r verdict rest; do
	case "$verdict" in
	ok) ok "console: ${rest}" ;;
	not) not_ok "console: ${rest#ok }" ;;
	*) echo "# $verdict $rest" ;;
	esac
done < <(timeout 300 "$PY" "$TOP/tests/integration/console.py" "$BASE" "$RD" "$ADM" "$T/shots" "$XSS" 2>"$T/console.err")
[ -s "$T/console.err" ] && sed 's/^/# /' "$T/console.err" | tail -20
expect "a screenshot of each page" 10 "$(ls "$T/shots"/*.png 2>/dev/null | wc -l)"
expect "the key trusted in the browser is trusted in the store" trusted \
	"$(sqlite3 "$T/db/dsyncd.db" "select state from keys k join children c on c.id = k.child_id where c.name_text = 'newchild.example.'")"
expect "the trust is audited with the admin token and the reason" 1 \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where actor = 'api:ops' and result = 'trusted' and reason like '%console test%'")"

# ---- a reload reads the files again -------------------------------------------------
cp -r "$TOP/api/ui" "$T/ui2"
echo "/* reloaded */" >>"$T/ui2/app.css"
sed -i "s|ui-directory = \"$TOP/api/ui\"|ui-directory = \"$T/ui2\"|" "$T/dsyncd.conf"
hup
check "after SIGHUP the files of the new api.ui-directory are served" \
	bash -c "curl -s '$BASE/ui/app.css' | grep -q reloaded"
rm "$T/ui2/app.js"
hup
expect_match "a folder that lacks a file: logged" "lacks a file it needs" "$(tail -5 "$T/dsyncd.log")"
expect_match "and the console answers 404, saying so" "^HTTP/1.1 404" "$(hdr /ui/)"
expect "the API itself serves on" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $RD" "$BASE/api/v1/zones")"
check "dsyncd stops cleanly" stop_dsyncd
finish
