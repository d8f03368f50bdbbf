#!/usr/bin/env bash
# The exec backend hands each batch, as the JSON document of
# doc/backends.md, to examples/exec-epp.py, which turns it into EPP
# <domain:update> commands: a SIG(0)-signed nsupdate adds NS, glue and DS
# for a child, and the EPP output is checked with xmllint (well-formed,
# hostObj and secDNS dsData as sent).  A second exec backend fails until a
# flag file exists: its delivery is retried with the program's error text
# in the store, and is delivered once the flag is there.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.24
PORT=5354
need nsupdate dnssec-keygen sqlite3 xmllint python3

EPP_NS=urn:ietf:params:xml:ns:epp-1.0
DOM_NS=urn:ietf:params:xml:ns:domain-1.0
SEC_NS=urn:ietf:params:xml:ns:secDNS-1.1
DIGEST=8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4
c=c1.example.
k=$(mkkey $c ED25519) || { not_ok "keygen"; finish; }
mkdir -p "$T/epp" "$T/epp2"

# The failing backend's program: it keeps its input and environment, fails
# until $FLAG exists, then runs the example like the other backend.
cat >"$T/flaky.sh" <<'EOS'
#!/bin/sh
cat >"$WORK/doc.json"
env | grep -v '^PWD=' | sort >"$WORK/flaky.env"
[ -e "$WORK/fixed" ] || { echo "EPP server unavailable: 2400 command failed" >&2; exit 2; }
exec python3 "$EXAMPLE" "$WORK/epp2" <"$WORK/doc.json"
EOS
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "$c:$k" "
  backends = (
    { type = \"exec\"; name = \"epp\"; timeout = 20;
      command = [ \"/usr/bin/python3\", \"$TOP/examples/exec-epp.py\", \"$T/epp\" ]; },
    { type = \"exec\"; name = \"flaky\"; max-output = 200;
      command = [ \"/bin/sh\", \"$T/flaky.sh\" ];
      environment = [ \"WORK=$T\", \"EXAMPLE=$TOP/examples/exec-epp.py\" ]; }
  );"
echo 'outbox = { retry-min = 1; retry-max = 2; };' >>"$T/dsyncd.conf"
check "config check (-n) accepts the exec backends" "$BIN/dsyncd" -n -c "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

q() { sqlite3 "$T/db/dsyncd.db" "$1" 2>/dev/null; }
# nfiles DIR: the EPP commands written to DIR
nfiles() { find "$1" -name '*.xml' | wc -l; }
# has_files DIR N: DIR holds N EPP commands or more
has_files() { [ "$(nfiles "$1")" -ge "$2" ]; }
# xp FILE XPATH: the text of the nodes, space-separated
xp() { xmllint --xpath "$2" "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
el() { echo "*[local-name()='$1' and namespace-uri()='$2']"; }

r=$(nsu "$k" $ADDR $PORT <<-EOS
	zone example.
	update add $c 300 NS ns1.$c
	update add $c 300 NS ns2.provider.net.
	update add ns1.$c 300 A 192.0.2.1
	update add $c 300 DS 12345 13 2 $DIGEST
	EOS
)
expect "nsupdate: add NS, glue and DS -> NOERROR" NOERROR "$r"

# ---- the working backend: EPP commands from the example --------------------
check "the epp backend delivered (one EPP command written)" wait_for 150 has_files "$T/epp" 1
f=$(find "$T/epp" -name '*.xml' | head -1)
check "the EPP command is well-formed XML" xmllint --noout "$f"
expect "EPP: one <update> command in the EPP namespace" 1 \
	"$(xp "$f" "count(/$(el epp $EPP_NS)/$(el command $EPP_NS)/$(el update $EPP_NS))")"
expect "EPP: domain:name is the child" "c1.example" "$(xp "$f" "//$(el name $DOM_NS)/text()")"
expect "EPP: domain:add holds both hostObj" "ns1.c1.example ns2.provider.net" \
	"$(xp "$f" "//$(el add $DOM_NS)/$(el ns $DOM_NS)/$(el hostObj $DOM_NS)/text()")"
expect "EPP: no domain:rem" 0 "$(xp "$f" "count(//$(el rem $DOM_NS))")"
ds="//$(el update $SEC_NS)/$(el add $SEC_NS)/$(el dsData $SEC_NS)"
expect "EPP: secDNS dsData keyTag/alg/digestType" "12345 13 2" \
	"$(xp "$f" "$ds/$(el keyTag $SEC_NS)/text() | $ds/$(el alg $SEC_NS)/text() | $ds/$(el digestType $SEC_NS)/text()")"
expect "EPP: secDNS dsData digest" "$DIGEST" "$(xp "$f" "$ds/$(el digest $SEC_NS)/text()")"
expect_match "EPP: a clTRID" '^dsyncd-[0-9]+-[0-9]+-0$' "$(xp "$f" "//$(el clTRID $EPP_NS)/text()")"

# ---- the failing backend: retried, with the program's words, until fixed ---
flaky_row() { q "select state || '|' || attempts || '|' || coalesce(last_error, '') from delivery where backend = 'flaky'"; }
flaky_attempts() { [ "$(q "select attempts from delivery where backend = 'flaky'")" -ge "$1" ]; }
check "the flaky backend is tried again (2 attempts)" wait_for 150 flaky_attempts 2
row=$(flaky_row)
expect_match "its delivery stays pending with the program's error text" \
	'^pending\|[0-9]+\|command /bin/sh exited with status 2: EPP server unavailable: 2400 command failed$' "$row"
check "the outbox logged the failure" grep -q "backend flaky failed (attempt .*EPP server unavailable" "$T/dsyncd.log"
expect "nothing written by the flaky backend yet" 0 "$(nfiles "$T/epp2")"
expect "the program's environment: the minimal one and the configured entries" \
	"DSYNCD_BACKEND=flaky|DSYNCD_ZONE=example.|EXAMPLE=$TOP/examples/exec-epp.py|PATH=/usr/bin:/bin|WORK=$T" \
	"$(paste -sd'|' "$T/flaky.env")"
doc=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["changes"][0]
print(d["version"], d["zone"], d["backend"], len(d["changes"]), c["child"], len(c["add"]),
      len(c["remove"]), len(c["ns"]), len(c["ds"]), c["glue"])' "$T/doc.json")
expect "the JSON document: version, zone, backend, the child's sets" \
	"1 example. flaky 1 c1.example. 4 0 2 1 ['ns1.c1.example. 3600 IN A 192.0.2.1']" "$doc"
touch "$T/fixed"
flaky_done() { [ "$(q "select state from delivery where backend = 'flaky'")" = done ]; }
check "once the program works, the retry delivers" wait_for 100 flaky_done
check "the fixed program wrote the EPP command" test "$(nfiles "$T/epp2")" -eq 1

# ---- a removal: secDNS:rem ------------------------------------------------
r=$(nsu "$k" $ADDR $PORT <<-EOS
	zone example.
	update delete $c DS
	EOS
)
expect "nsupdate: delete the DS -> NOERROR" NOERROR "$r"
check "the epp backend delivered the removal" wait_for 150 has_files "$T/epp" 2
f=$(find "$T/epp" -name '*.xml' ! -name "$(basename "$f")" | head -1)
rem="//$(el update $SEC_NS)/$(el rem $SEC_NS)/$(el dsData $SEC_NS)"
expect "EPP: secDNS:rem names the DS removed" "12345 $DIGEST" \
	"$(xp "$f" "$rem/$(el keyTag $SEC_NS)/text() | $rem/$(el digest $SEC_NS)/text()")"
expect "EPP: no domain:add or domain:rem for the NS" 0 \
	"$(xp "$f" "count(//$(el add $DOM_NS) | //$(el rem $DOM_NS))")"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
finish
