#!/usr/bin/env bash
# The dnsupdate backend feeds real primaries, Knot DNS (DDNS allowed for a
# TSIG key) and BIND named (update-policy for that key): every accepted
# UPDATE reaches the primary as a TSIG-signed UPDATE that replaces the
# child's NS, DS and glue; the primary's AXFR then equals the store and its
# SOA serial went up.  With Knot: a wrong key is refused by the primary and
# the change waits in the outbox (across a restart) until the key is right;
# while the primary is down, changes wait too, through a SIGKILL of dsyncd,
# and all arrive once it is back.  `dsyncd check` finds a change made at
# the primary behind dsyncd's back, and --repair undoes it.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"
ADDR=127.0.0.26
PORT=5354
KADDR=127.0.0.27
KPORT=5300
BADDR=127.0.0.1 # named listens only on interface addresses
BPORT=5328
need knotd named kdig nsupdate sqlite3
# the primary the checks ask (Knot first, then BIND)
PADDR=$KADDR
PPORT=$KPORT

k=$(mkkey child.example. ECDSAP256SHA256)
mkdir -p "$T/knot/db"
KSECRET=$(head -c 32 /dev/urandom | base64)
# Knot as the bench configures it, the key also allowed to transfer the zone
# (dsyncd check), and AXFR for anyone on loopback (the test's own checks)
knot_conf "$T/knot" "$KADDR@$KPORT" changes "$T/knot/example.zone" "$KSECRET" |
	sed 's/^    action: update$/    action: [update, transfer]\n  - id: xfr\n    action: transfer/; s/^    acl: update$/    acl: [update, xfr]/' >"$T/knot.conf"
parent_zone "$KADDR" >"$T/knot/example.zone"
printf 'key "bench." {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$KSECRET" >"$T/tsig.key"

start_knot() {
	knotd -c "$T/knot.conf" >>"$T/knot.log" 2>&1 &
	KNOT_PID=$!
	PIDS+=("$KNOT_PID")
	wait_soa
}
conf() {
	backend_conf "{ type = \"dnsupdate\"; primaries = [ ${2:-\"127.0.0.1@1\", \"$KADDR@$KPORT\"} ];
                 $1; timeout = 3; }"
}

start_knot || { not_ok "Knot starts"; finish; }
ok "Knot serves example. with DDNS for TSIG key bench."
s0=$(serial)

# a wrong secret: the primary refuses, the change waits
conf "tsig-key = \"hmac-sha256:bench.:$(head -c 32 /dev/urandom | base64)\""
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
add_deleg A 192.0.2.10
for _ in $(seq 100); do grep -q "to backend dnsupdate failed" "$T/dsyncd.log" && break; sleep 0.1; done
expect_match "a wrong key: the primary's refusal is the delivery's error" \
	"primary $KADDR@$KPORT answered the UPDATE with NOTAUTH; TSIG error BADSIG" \
	"$(grep "to backend dnsupdate failed" "$T/dsyncd.log" | head -1)"
check "the first primary (nothing listens) was tried first" grep -q "127.0.0.1" "$T/dsyncd.log"
expect "nothing reached Knot" "" "$(served)"
check "dsyncd stops cleanly" stop_dsyncd

# the right key (a BIND key file): the waiting change is delivered; small
# UPDATEs from now on, so that a larger batch must be split
conf "tsig-key-file = \"$T/tsig.key\"; max-message-size = 1024"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts again"; finish; }
check "after a restart with the right key, Knot serves what the store holds" synced
expect_added A 192.0.2.10
s1=$(serial)
check "the SOA serial went up ($s0 -> $s1)" test "$s1" -gt "$s0"

# a change that drops the glue: the glue name is cleaned up at the primary too
drop_deleg A
check "the SOA serial went up again" test "$(serial)" -gt "$s1"

# the drift check: in sync; a change made at the primary behind dsyncd's
# back is found, and --repair makes the primary equal the store again
rogue() {
	nsupdate -y "hmac-sha256:bench.:$KSECRET" <<EOF
server $KADDR $KPORT
zone example.
update add child.example. 3600 NS rogue.example.net.
update delete child.example. NS ns2.provider.org.
send
EOF
}
drift_test dnsupdate rogue

# a batch larger than max-message-size: 60 imported children go out as
# several UPDATEs (each child whole in one), and Knot serves them all
n0=$(grep -c "DDNS, finished" "$T/knot.log")
{ parent_zone "$KADDR"; for i in $(seq 60); do
	echo "imp$i NS ns1.provider.net."
	echo "imp$i NS ns2.provider.org."
done; } >"$T/more.zone"
expect_match "60 more delegations imported" "60 delegation\(s\), 60 changed" \
	"$("$BIN/dsyncd" -c "$T/dsyncd.conf" import example. "$T/more.zone" 2>&1)"
check "Knot serves them all, as the store holds them" synced
check "in several UPDATEs ($(($(grep -c "DDNS, finished" "$T/knot.log") - n0)) for 60 children)" \
	test "$(($(grep -c "DDNS, finished" "$T/knot.log") - n0))" -ge 3

# the primary down: changes wait (through a SIGKILL of dsyncd) and all arrive
stop_knot() {
	kill "$KNOT_PID"
	wait "$KNOT_PID" 2>/dev/null
}
outage_test stop_knot start_knot
check "dsyncd stops cleanly" stop_dsyncd

# BIND named as the primary, with update-policy for the same key
mkdir -p "$T/named"
parent_zone "$BADDR" >"$T/named/example.zone"
cat "$T/tsig.key" - >"$T/named.conf" <<EOC
options { directory "$T/named"; pid-file "$T/named/named.pid";
  listen-on port $BPORT { $BADDR; }; listen-on-v6 { none; };
  recursion no; allow-transfer { any; }; dnssec-validation no; };
controls { };
zone "example." { type primary; file "$T/named/example.zone";
  update-policy { grant bench. subdomain example. NS DS A AAAA; }; };
EOC
named -g -c "$T/named.conf" >"$T/named.log" 2>&1 &
PIDS+=("$!")
PADDR=$BADDR
PPORT=$BPORT
check "named serves example." wait_soa
b0=$(serial)
rm -rf "$T/db"
conf "tsig-key-file = \"$T/tsig.key\"" "\"$BADDR@$BPORT\""
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts with named as the primary"; finish; }
add_deleg AAAA 2001:db8::10
check "named serves what the store holds" synced
expect_added AAAA 2001:db8::10 named
check "named's SOA serial went up" test "$(serial)" -gt "$b0"
drop_deleg AAAA
check "dsyncd stops cleanly at the end" stop_dsyncd
finish

