#!/usr/bin/env bash
# The zonefile backend feeds a real Knot DNS: existing delegations are
# imported from the parent's zone file, dsyncd writes the zone from a
# template, knotc reloads it (failing first, while Knot is not running:
# the outbox retries), and kdig shows each new delegation being served.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"
ADDR=127.0.0.3
PORT=5354
KNOT=127.0.0.33
KPORT=5300
need knotd

k=$(mkkey child.example. ECDSAP256SHA256)
mkdir -p "$T/knot/db" "$T/out"
knot_conf "$T/knot" "$KNOT@$KPORT" none "$T/out/example.zone" >"$T/knot.conf"
cat >"$T/example.tmpl" <<'EOZ'
$ORIGIN example.
$TTL 3600
@	SOA	ns1.example. hostmaster.example. {{SERIAL}} 3600 900 604800 300
@	NS	ns1.example.
ns1	A	127.0.0.33
{{DELEGATIONS}}
EOZ
# the parent's zone as it is today, with one delegation and glue
cat >"$T/parent.zone" <<'EOZ'
$ORIGIN example.
$TTL 86400
@	SOA	ns1.example. hostmaster.example. 2026010101 3600 900 604800 300
@	NS	ns1.example.
ns1	A	127.0.0.33
www	A	192.0.2.80
old	NS	ns1.old
old	NS	ns.provider.net.
ns1.old	A	192.0.2.53
old	DS	12345 13 2 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4
deep.old	NS	ns.elsewhere.
EOZ
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$k" "
  backends = ( { type = \"zonefile\"; path = \"$T/out/example.zone\";
                 template = \"$T/example.tmpl\";
                 reload = [ \"/usr/sbin/knotc\", \"-c\", \"$T/knot.conf\", \"zone-reload\", \"example.\" ];
                 reload-timeout = 10; } );"
sed -i 's/^store = .*/&\noutbox = { retry-min = 1; retry-max = 2; };/' "$T/dsyncd.conf"

out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" import example. "$T/parent.zone" 2>&1)
expect_match "import reports one delegation" "1 delegation\(s\), 1 changed" "$out"
expect "imported NS, DS and glue; occluded and apex data left out" \
	"ns1.old.example. 1 192.0.2.53|old.example. 2 ns.provider.net.|old.example. 2 ns1.old.example.|old.example. 43 12345 13 2 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4" \
	"$(deleg_dump | paste -sd'|')"
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" import example. "$T/parent.zone" 2>&1)
expect_match "a second import changes nothing" "1 delegation\(s\), 0 changed" "$out"

start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
# the imported change is delivered: the file is written, the reload fails (no Knot yet)
for _ in $(seq 50); do grep -q "delivery .* failed" "$T/dsyncd.log" && break; sleep 0.1; done
check "zone file written from the template" test -s "$T/out/example.zone"
grep -q "delivery of 1 change(s) of zone example. to backend zonefile failed" "$T/dsyncd.log" &&
	ok "failed reload is logged and kept for retry" || not_ok "failed reload logged"
expect "delivery stays pending with its error" "1" \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) from delivery where state='pending' and last_error like '%knotc%'")"
check "named-checkzone accepts the generated zone" named-checkzone -q example. "$T/out/example.zone"

knotd -c "$T/knot.conf" >"$T/knot.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$T/knot/knot.sock" ] && break; sleep 0.1; done
# the retry (backoff 1-2 s) reloads Knot and the delivery is done
for _ in $(seq 60); do
	[ "$(sqlite3 "$T/db/dsyncd.db" "select count(*) from delivery where state='pending'")" = 0 ] && break
	sleep 0.1
done
expect "retried delivery succeeds once Knot runs" 0 \
	"$(sqlite3 "$T/db/dsyncd.db" "select count(*) from delivery where state='pending'")"
ns=$(kdig @$KNOT -p $KPORT +norec +noall +authority old.example. A | awk '$4=="NS"{print $5}' | sort | paste -sd' ')
expect "Knot serves the imported delegation" "ns.provider.net. ns1.old.example." "$ns"

serial1=$(kdig @$KNOT -p $KPORT +short example. SOA | awk '{print $3}')
r=$(nsu "$k" $ADDR $PORT -v <<-EOS
	zone example.
	update add child.example. 300 NS ns1.child.example.
	update add child.example. 300 NS ns2.provider.net.
	update add ns1.child.example. 300 A 192.0.2.10
	update add ns1.child.example. 300 AAAA 2001:db8::10
	update add child.example. 300 DS 4711 13 2 0E5E1A0F6C4D46F8D9B2A8E1F2F3E4D5C6B7A8998A7B6C5D4E3F2A1B0C9D8E7F
	EOS
)
expect "nsupdate (TCP) creates the child delegation" NOERROR "$r"
for _ in $(seq 50); do
	got=$(kdig @$KNOT -p $KPORT +norec +noall +authority child.example. A | awk '$4=="NS"{print $5}' | sort | paste -sd' ')
	[ -n "$got" ] && break
	sleep 0.1
done
expect "Knot serves the new NS set" "ns1.child.example. ns2.provider.net." "$got"
glue=$(kdig @$KNOT -p $KPORT +norec +noall +additional child.example. A | awk '{print $4, $5}' | sort | paste -sd' ')
expect "Knot serves the glue" "A 192.0.2.10 AAAA 2001:db8::10" "$glue"
ds=$(kdig @$KNOT -p $KPORT +norec +short child.example. DS)
expect "Knot serves the DS" "4711 13 2 0E5E1A0F6C4D46F8D9B2A8E1F2F3E4D5C6B7A8998A7B6C5D4E3F2A1B0C9D8E7F" "$ds"
serial2=$(kdig @$KNOT -p $KPORT +short example. SOA | awk '{print $3}')
[ "$serial2" -gt "$serial1" ] && ok "SOA serial increased ($serial1 -> $serial2)" || not_ok "serial $serial1 -> $serial2"
# the drift check reads the zone file the backend wrote: it holds the store's delegations
for _ in $(seq 60); do
	[ "$(sqlite3 "$T/db/dsyncd.db" "select count(*) from delivery where state='pending'")" = 0 ] && break
	sleep 0.1
done
expect_match "dsyncd check: the zone file is in sync with the store" "backend zonefile: in sync" \
	"$("$BIN/dsyncd" -c "$T/dsyncd.conf" check example. 2>&1)"

r=$(nsu "$k" $ADDR $PORT <<-EOS
	zone example.
	update delete child.example. NS ns1.child.example.
	update add child.example. 300 NS ns3.provider.org.
	update delete child.example. DS
	EOS
)
expect "nsupdate (UDP) replaces an NS and drops the DS" NOERROR "$r"
for _ in $(seq 50); do
	got=$(kdig @$KNOT -p $KPORT +norec +noall +authority child.example. A | awk '$4=="NS"{print $5}' | sort | paste -sd' ')
	[ "$got" = "ns2.provider.net. ns3.provider.org." ] && break
	sleep 0.1
done
expect "Knot serves the changed NS set" "ns2.provider.net. ns3.provider.org." "$got"
expect "the orphaned glue is gone from Knot" "" \
	"$(kdig @$KNOT -p $KPORT +norec +noall +additional child.example. A | awk '{print $5}')"
expect "the DS is gone from Knot" "" "$(kdig @$KNOT -p $KPORT +norec +short child.example. DS)"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
knotc -c "$T/knot.conf" stop >/dev/null 2>&1
finish
