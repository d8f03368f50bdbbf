#!/usr/bin/env bash
# `dsyncd records`: the DSYNC, A/AAAA, KEY and SVCB records a parent publishes.
# They pass named-checkzone, load into a real Knot DNS, and a child-side
# lookup finds the receiver through them: <child>._dsync.<parent> (wildcard)
# gives the target, whose address and KEY are the receiver's.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.14
PORT=5354
KNOT=127.0.0.34
KPORT=5300

k=$(mkkey child.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$k"
echo "receiver = { name = \"updater.example.\"; key-directory = \"$T/rkeys\"; publish-ttl = 600; };" >>"$T/dsyncd.conf"
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" records 2>&1)
expect_match "before the first start there is no key to publish yet" "no receiver key is published yet" "$out"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
check "dsyncd stops cleanly" stop_dsyncd
"$BIN/dsyncd" -c "$T/dsyncd.conf" records example. >"$T/records.txt"
expect "two DSYNC records (wildcard and bare)" 2 "$(grep -c '_dsync.example. 600 IN TYPE66' "$T/records.txt")"
expect_match "SVCB lists exactly the configured methods (D2)" 'updater.example. 600 IN SVCB 1 \. key65282="manual"' "$(cat "$T/records.txt")"
# the SVCB follows the configured methods and their order
sed 's|^} );$|  bootstrap-methods = [ "at-ns", "at-apex", "manual" ];\n} );|' "$T/dsyncd.conf" >"$T/methods.conf"
expect_match "SVCB lists the methods in the configured order" \
	'updater.example. 600 IN SVCB 1 \. key65282="at-ns,at-apex,manual"' \
	"$("$BIN/dsyncd" -c "$T/methods.conf" records example. 2>&1)"
expect "the configured order was used (not the default)" 1 "$(grep -c 'bootstrap-methods = \[ "at-ns"' "$T/methods.conf")"
expect "the KEY is the receiver's" "$(sed -n 's/.* IN KEY //p' "$T"/rkeys/*.key)" "$(sed -n 's/.* IN KEY //p' "$T/records.txt")"

cat >"$T/example.zone" <<EOZ
\$ORIGIN example.
\$TTL 3600
@	SOA	ns1.example. hostmaster.example. 1 3600 900 604800 300
@	NS	ns1.example.
ns1	A	$KNOT
\$INCLUDE $T/records.txt
EOZ
check "named-checkzone accepts the records" named-checkzone -q example. "$T/example.zone"

mkdir -p "$T/knot/db"
cat >"$T/knot.conf" <<EOC
server:
    rundir: "$T/knot"
    listen: $KNOT@$KPORT
database:
    storage: "$T/knot/db"
zone:
  - domain: example.
    storage: "$T"
    file: "$T/example.zone"
    zonefile-load: whole
    journal-content: none
EOC
knotd -c "$T/knot.conf" >"$T/knot.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do kdig @$KNOT -p $KPORT +short example. SOA >/dev/null 2>&1 && break; sleep 0.1; done

# a child-side lookup: insert _dsync after the child's first label
raw=$(kdig @$KNOT -p $KPORT +short child._dsync.example. TYPE66)
expect_match "child._dsync.example. is answered by the wildcard" '^\\# 22 ' "$raw"
target=$(python3 -c '
import sys
h = "".join(sys.argv[1].split()[2:])
b = bytes.fromhex(h)
assert b[0:2] == b"\x00\xff", "RRtype ANY"
print("scheme", b[2], "port", int.from_bytes(b[3:5], "big"), end=" ")
i, labels = 5, []
while b[i]:
    labels.append(b[i + 1:i + 1 + b[i]].decode()); i += 1 + b[i]
print(".".join(labels) + ".")' "$raw")
expect "DSYNC: RRtype ANY, scheme UPDATE (2), port, target" "scheme 2 port $PORT updater.example." "$target"
tname=${target##* }
expect "the target's address" "$ADDR" "$(kdig @$KNOT -p $KPORT +short "$tname" A)"
expect "the target's KEY is the receiver's key" \
	"$(sed -n 's/.* IN KEY //p' "$T"/rkeys/*.key | tr -d ' ')" \
	"$(kdig @$KNOT -p $KPORT +short "$tname" KEY | tr -d ' ')"
svcb=$(kdig @$KNOT -p $KPORT +short "$tname" SVCB)
expect_match "the SVCB at the target is served" 'key65282' "$svcb"
expect "the bare _dsync.example. gives the same record" "$raw" \
	"$(kdig @$KNOT -p $KPORT +short _dsync.example. TYPE66)"
finish
