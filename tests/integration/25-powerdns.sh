#!/usr/bin/env bash
# The powerdns backend feeds a real PowerDNS Authoritative server (gsqlite3)
# through its HTTP API: every accepted UPDATE becomes a PATCH that replaces
# the child's NS, DS and glue RRsets; pdns's AXFR then equals the store and
# its SOA serial went up (SOA-EDIT-API INCREASE).  An API key file others
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
ADDR=127.0.0.29
PORT=5354
PADDR=127.0.0.30
PPORT=5330
WPORT=8081
need pdns_server pdnsutil kdig nsupdate sqlite3
SCHEMA=$(dpkg -L pdns-backend-sqlite3 2>/dev/null | grep '/schema\.sqlite3\.sql$' | head -1)
[ -r "$SCHEMA" ] || { not_ok "the gsqlite3 schema of pdns-backend-sqlite3 is installed"; finish; }

k=$(mkkey child.example. ECDSAP256SHA256)
APIKEY=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
mkdir -p "$T/pdns"
sqlite3 "$T/pdns/pdns.db" <"$SCHEMA"
cat >"$T/pdns/pdns.conf" <<EOC
launch=gsqlite3
gsqlite3-database=$T/pdns/pdns.db
gsqlite3-dnssec=yes
local-address=$PADDR
local-port=$PPORT
api=yes
api-key=$APIKEY
webserver=yes
webserver-address=$PADDR
webserver-port=$WPORT
webserver-allow-from=127.0.0.0/8
default-api-rectify=no
dnssec-key-cache-ttl=0
zone-metadata-cache-ttl=0
allow-axfr-ips=127.0.0.0/8
disable-axfr=no
daemon=no
guardian=no
socket-dir=$T/pdns
security-poll-suffix=
default-soa-content=ns1.example. hostmaster.@ 0 10800 3600 604800 3600
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8
EOC
pdnsu() { pdnsutil --config-dir "$T/pdns" "$@" >>"$T/pdnsutil.log" 2>&1; }
check "pdnsutil creates zone example." pdnsu create-zone example. ns1.example.
check "pdnsutil adds ns1.example. A" pdnsu add-record example. ns1 A $PADDR
check "API changes bump the serial (SOA-EDIT-API INCREASE)" \
	pdnsu set-meta example. SOA-EDIT-API INCREASE
# for the dnsupdate phase: the TSIG key, allowed to update and to transfer
TSECRET=$(head -c 32 /dev/urandom | base64)
check "pdnsutil imports TSIG key bench." pdnsu import-tsig-key bench. hmac-sha256 "$TSECRET"
check "bench. may update example. (TSIG-ALLOW-DNSUPDATE)" \
	pdnsu set-meta example. TSIG-ALLOW-DNSUPDATE bench.
check "bench. may transfer example. (TSIG-ALLOW-AXFR)" pdnsu set-meta example. TSIG-ALLOW-AXFR bench.
check "DNS UPDATEs bump the serial (SOA-EDIT-DNSUPDATE INCREASE)" \
	pdnsu set-meta example. SOA-EDIT-DNSUPDATE INCREASE
pdns_server --config-dir="$T/pdns" >"$T/pdns.log" 2>&1 &
PIDS+=("$!")
wait_soa || { not_ok "pdns_server serves example."; cat "$T/pdns.log"; finish; }
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
check "dsyncd stops cleanly" stop_dsyncd

# a wrong key: PowerDNS answers 401, the change waits (across a restart)
printf 'wrong-%s\n' "$APIKEY" >"$T/api.key"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts with a wrong key"; finish; }
expect "UPDATE with a third NS: NOERROR" NOERROR "$(nsu "$k" $ADDR $PORT <<EOF
zone example.
update add child.example. 3600 NS ns3.more.net.
EOF
)"
for _ in $(seq 100); do grep -q "to backend powerdns failed" "$T/dsyncd.log" && break; sleep 0.1; done
expect_match "a wrong key: PowerDNS's 401 is the delivery's error" \
	"failed .*: PATCH http://$PADDR:$WPORT/api/v1/servers/localhost/zones/example\.: HTTP 401: Unauthorized" \
	"$(grep "to backend powerdns failed" "$T/dsyncd.log" | head -1)"
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
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" check example. 2>&1)
expect "dnsupdate: dsyncd check finds the API phase's delegation as drift (exit 1)" 1 "$?"
expect_match "it lists pdns's extra NS" "backend dnsupdate: - child.example. .*NS ns.provider.net." "$out"
expect_match "check --repair queues the removal" "backend dnsupdate: 1 re-sync\(s\) queued" \
	"$("$BIN/dsyncd" -c "$T/dsyncd.conf" check example. --repair 2>&1)"
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
	"$("$BIN/dsyncd" -c "$T/dsyncd.conf" check example. 2>&1)"
check "dnsupdate: the signed zone stays clean (pdns rectifies DNS UPDATEs itself)" \
	pdnsu check-zone example.
check "dsyncd stops cleanly at the end" stop_dsyncd
finish
