#!/usr/bin/env bash
# One serving dsyncd per store: a second one pointed at the same store
# (listening elsewhere) refuses to start and names the process holding it;
# the first goes on serving; once it stopped, the second starts.  Operator
# commands still share the store with the running daemon.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.38
ADDR2=127.0.0.39
PORT=5354
k=$(mkkey child.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$k"
sed "s/\"$ADDR\"/\"$ADDR2\"/" "$T/dsyncd.conf" >"$T/second.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "the first dsyncd starts"; finish; }
first=$DSYNCD_PID
out=$(timeout 60 "$BIN/dsyncd" -c "$T/second.conf" 2>&1)
expect "a second dsyncd on the same store exits 75 (EX_TEMPFAIL: try again later)" 75 "$?"
expect_match "and names the process holding the store" \
	"store .*dsyncd.db is in use by another dsyncd \(pid $first, lock .*dsyncd.db.lock\)" "$out"
expect "the first one still serves" NOERROR "$(nsu "$k" $ADDR $PORT <<EOF
zone example.
update add child.example. 3600 NS ns1.provider.net.
update add child.example. 3600 NS ns2.provider.net.
EOF
)"
check "operator commands share the store with it" "$BIN/dsyncd" -c "$T/dsyncd.conf" key list
check "the first stops cleanly" stop_dsyncd
start_dsyncd "$T/second.conf" || { not_ok "the second starts once the first stopped"; finish; }
ok "the second starts once the first stopped"
check "the second stops cleanly" stop_dsyncd
finish
