#!/usr/bin/env bash
# The powerdns backend feeds a real PowerDNS Authoritative server (gsqlite3)
# through its HTTP API: every accepted UPDATE becomes a PATCH that replaces
# the child's NS, DS and glue RRsets; pdns's AXFR then equals the store and
# its SOA serial went up (SOA-EDIT-API INCREASE).  `dsyncd check` reads the
# zone through the API: a change made with pdnsutil behind dsyncd's back is
# found, and --repair undoes it.  While pdns_server is down, changes wait
# (through a SIGKILL of dsyncd) and all arrive once it is back.  An API key file others
# can read is refused; a wrong key gets a 401 and the change waits in the
# outbox until the key is right.  Once the zone is signed (pdnsutil
# secure-zone, while dsyncd runs), dsyncd's rectify after each change keeps
# it right: pdns does not rectify API changes itself here
# (default-api-rectify=no), so check-zone stays clean only through dsyncd,
# and the child's DS is served signed.  Then the dnsupdate backend against
# the same server (DNS UPDATE with TSIG, pdns's dnsupdate=yes): a fresh
# store finds the API phase's delegation as drift (dsyncd check), --repair
# removes it, and UPDATEs then reach pdns with the serial going up.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"
ADDR=127.0.0.29
PORT=5354
PADDR=127.0.0.30
PPORT=5330
WPORT=8081
need pdns_server pdnsutil kdig nsupdate sqlite3
[ -r "$(pdns_schema)" ] || { not_ok "the gsqlite3 schema of pdns-backend-sqlite3 is installed"; finish; }

k=$(mkkey child.example. ECDSAP256SHA256)
APIKEY=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
pdnsu() { pdnsutil --config-dir "$T/pdns" "$@" >>"$T/pdns/pdnsutil.log" 2>&1; }
check "pdnsutil creates zone example. with ns1.example. A (tests/bench/conf.sh pdns_init)" \
	pdns_init "$T/pdns" $PADDR $PPORT $WPORT "$APIKEY"
expect "API changes bump the serial (SOA-EDIT-API INCREASE)" "INCREASE" \
	"$(pdnsutil --config-dir "$T/pdns" get-meta example. SOA-EDIT-API 2>/dev/null | awk '$1 == "SOA-EDIT-API" {print $NF}')"
# for the dnsupdate phase: the TSIG key, allowed to update and to transfer
TSECRET=$(head -c 32 /dev/urandom | base64)
check "pdnsutil imports TSIG key bench." pdnsu import-tsig-key bench. hmac-sha256 "$TSECRET"
check "bench. may update example. (TSIG-ALLOW-DNSUPDATE)" \
	pdnsu set-meta example. TSIG-ALLOW-DNSUPDATE bench.
check "bench. may transfer example. (TSIG-ALLOW-AXFR)" pdnsu set-meta example. TSIG-ALLOW-AXFR bench.
check "DNS UPDATEs bump the serial (SOA-EDIT-DNSUPDATE INCREASE)" \
	pdnsu set-meta example. SOA-EDIT-DNSUPDATE INCREASE
pdns_start "$T/pdns" $PADDR $PPORT || { not_ok "pdns_server serves example."; cat "$T/pdns/pdns.log"; finish; }
ok "pdns_server serves example. on $PADDR@$PPORT, its API on port $WPORT"
s0=$(serial)

# conf KEYFILE: dsyncd with the powerdns backend reading the API key from KEYFILE
conf() {
	backend_conf "{ type = \"powerdns\"; url = \"http://$PADDR:$WPORT/\"; api-key-file = \"$1\";
                 server-id = \"localhost\"; timeout = 3; }"
}
printf '%s\n' "$APIKEY" >"$T/api.key"
chmod 644 "$T/api.key"
conf "$T/api.key"
expect_match "an API key file others can read is refused" \
	"api.key: the API key file has mode 0644, which gives group or others access; it must be 0600 or 0400" \
	"$("$BIN/dsyncd" -n -c "$T/dsyncd.conf" 2>&1)"
chmod 600 "$T/api.key"
check "config check (-n) accepts it at mode 0600" "$BIN/dsyncd" -n -c "$T/dsyncd.conf"

start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
add_deleg A 192.0.2.10
check "PowerDNS serves what the store holds" synced
expect_added A 192.0.2.10
s1=$(serial)
check "the SOA serial went up ($s0 -> $s1)" test "$s1" -gt "$s0"
drop_deleg A
check "the SOA serial went up again" test "$(serial)" -gt "$s1"

# the drift check: what the API says the zone holds against the store
rogue() { pdnsu replace-rrset example. child NS 3600 ns.provider.net. rogue.example.net.; }
drift_test powerdns rogue

# pdns down: changes wait (through a SIGKILL of dsyncd) and all arrive
stop_pdns() {
	kill "$PDNS_PID"
	wait "$PDNS_PID" 2>/dev/null
}
start_pdns() { pdns_start "$T/pdns" $PADDR $PPORT; }
outage_test stop_pdns start_pdns
expect "UPDATE removing the ten NS again: NOERROR" NOERROR "$(seq 10 | {
	echo "zone example."
	sed 's/.*/update delete child.example. NS ns&.more.net./'
} | nsu "$k" $ADDR $PORT)"
check "PowerDNS serves the two NS again" synced
check "dsyncd stops cleanly" stop_dsyncd

# a wrong key: PowerDNS answers 401, the change waits (across a restart)
log0=$(wc -l <"$T/dsyncd.log")
printf 'wrong-%s\n' "$APIKEY" >"$T/api.key"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts with a wrong key"; finish; }
expect "UPDATE with a third NS: NOERROR" NOERROR "$(nsu "$k" $ADDR $PORT <<EOF
zone example.
update add child.example. 3600 NS ns3.more.net.
EOF
)"
# failed: the failed deliveries logged since log0
failed() { tail -n +$((log0 + 1)) "$T/dsyncd.log" | grep "to backend powerdns failed"; }
for _ in $(seq 100); do failed >/dev/null && break; sleep 0.1; done
expect_match "a wrong key: PowerDNS's 401 is the delivery's error" \
	"failed .*: PATCH http://$PADDR:$WPORT/api/v1/servers/localhost/zones/example\.: HTTP 401: Unauthorized" \
	"$(failed | head -1)"
check "the key is not in the log" test "$(grep -c "$APIKEY" "$T/dsyncd.log")" = 0
check "the change waits in the outbox" test "$(pending)" -ge 1
expect "nothing of it reached PowerDNS" 0 "$(served | grep -c ns3.more.net)"
check "dsyncd stops cleanly" stop_dsyncd
printf '%s\n' "$APIKEY" >"$T/api.key"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts with the right key"; finish; }
check "after a restart with the right key, PowerDNS serves what the store holds" synced

# DNSSEC: the zone signed while dsyncd runs; dsyncd keeps it rectified
check "pdnsutil secures example." pdnsu secure-zone example.
check "check-zone is clean after secure-zone" pdnsu check-zone example.
rectified() { grep -c "powerdns: .* sent to .*, zone rectified" "$T/dsyncd.log"; }
r0=$(rectified)
add_deleg A 192.0.2.11
check "PowerDNS serves what the store holds, signed" synced
check "dsyncd rectified the signed zone" test "$(rectified)" -gt "$r0"
check "check-zone reports no errors after the change" pdnsu check-zone example.
expect_match "check-zone's summary" "Checked [0-9]+ records of 'example', 0 errors" \
	"$(pdnsutil --config-dir "$T/pdns" check-zone example. 2>&1 | tail -1)"
expect_match "the child's DS is served with its RRSIG" \
	"child\.example\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+RRSIG[[:space:]]+DS 13 " \
	"$(kdig @$PADDR -p $PPORT +dnssec +nocomments +noheader child.example. DS)"
expect_match "a name that is not there: signed NSEC denial" "IN[[:space:]]+NSEC[[:space:]]" \
	"$(kdig @$PADDR -p $PPORT +dnssec +nocomments +noheader nothere.example. A)"
check "dsyncd stops cleanly" stop_dsyncd

# the dnsupdate backend against the same PowerDNS, from a fresh store
rm -rf "$T/db"
backend_conf "{ type = \"dnsupdate\"; primaries = [ \"$PADDR@$PPORT\" ];
                 tsig-key = \"hmac-sha256:bench.:$TSECRET\"; timeout = 3; }"
out=$(check_out)
expect "dnsupdate: dsyncd check finds the API phase's delegation as drift (exit 1)" 1 "$?"
expect_match "it lists pdns's extra NS" "backend dnsupdate: - child.example. .*NS ns.provider.net." "$out"
expect_match "check --repair queues the removal" "backend dnsupdate: 1 re-sync\(s\) queued" \
	"$(check_out --repair)"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts with the dnsupdate backend"; finish; }
check "dnsupdate: the re-sync leaves pdns with what the store holds (nothing)" synced
expect "dnsupdate: no delegation served" "" "$(served)"
s2=$(serial)
add_deleg AAAA 2001:db8::11
check "dnsupdate: PowerDNS serves what the store holds" synced
expect_added AAAA 2001:db8::11 PowerDNS
check "dnsupdate: the serial went up ($s2 -> $(serial))" test "$(serial)" -gt "$s2"
drop_deleg AAAA
expect_match "dnsupdate: dsyncd check agrees" "backend dnsupdate: in sync" \
	"$(check_out)"
check "dnsupdate: the signed zone stays clean (pdns rectifies DNS UPDATEs itself)" \
	pdnsu check-zone example.
check "dsyncd stops cleanly at the end" stop_dsyncd
finish
