#!/usr/bin/env bash
# server.user: dsyncd started as root binds its sockets, opens and locks the
# store, gives the files it made to the user and switches to it, every
# thread; it cannot become root again.  It still answers, commits UPDATEs
# durably and writes the zonefile backend's output as that user.  An
# unknown user is a configuration error with file:line; a store folder the
# user cannot write stops the start with a message naming it.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.41
PORT=5354
need nsupdate sqlite3 ps
[ "$(id -u)" = 0 ] || { not_ok "the test runs as root"; finish; }
NOBODY=$(id -u nobody)

chmod 0755 "$T" # the user must reach its folders below
k=$(mkkey child.example. ED25519)
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$k"
sed -i 's/^server = { /server = { user = "nobody"; /' "$T/dsyncd.conf"
chown nobody "$T/out" # the zonefile backend writes there once switched

# an unknown user or group: dsyncd -n names the line
sed 's/user = "nobody"/user = "no-such-user-dsyncd"/' "$T/dsyncd.conf" >"$T/bad.conf"
out=$("$BIN/dsyncd" -n -c "$T/bad.conf" 2>&1)
expect "an unknown user fails the check (exit 78, EX_CONFIG)" 78 "$?"
expect_match "with file:line" "bad.conf:1: 'server.user': unknown user \"no-such-user-dsyncd\"" "$out"
check "the configuration with user nobody passes the check" "$BIN/dsyncd" -n -c "$T/dsyncd.conf"

start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts as root with server.user nobody"; finish; }
if wait_for 100 grep -q "running as nobody uid $NOBODY" "$T/dsyncd.log"; then
	ok "dsyncd says it runs as nobody"
else
	not_ok "dsyncd says it runs as nobody"
fi
expect "the serving process's user" nobody "$(ps -o user= -p "$DSYNCD_PID" | tr -d ' ')"
expect "every thread's user" nobody "$(ps -L -o user= -p "$DSYNCD_PID" | tr -d ' ' | sort -u)"
ids=$(awk '/^Uid:|^Gid:/ { print $2, $3, $4, $5 }' "/proc/$DSYNCD_PID/status" | paste -sd' ')
gid=$(id -g nobody)
expect "real, effective, saved and file uid and gid" \
	"$NOBODY $NOBODY $NOBODY $NOBODY $gid $gid $gid $gid" "$ids"
expect "no capabilities left (permitted)" 0000000000000000 \
	"$(awk '/^CapPrm:/ { print $2 }' "/proc/$DSYNCD_PID/status")"

two_ns_stored "an UPDATE is accepted after the switch" "$k" $ADDR $PORT
if wait_for 100 grep -q "ns2.provider.net" "$T/out/example.delegations" 2>/dev/null; then
	ok "the zonefile backend wrote it as nobody"
else
	not_ok "the zonefile backend wrote it as nobody"
fi
for f in db db/dsyncd.db db/dsyncd.db-wal db/dsyncd.db-shm db/dsyncd.db.lock out/example.delegations; do
	expect "$f belongs to nobody" nobody "$(stat -c %U "$T/$f" 2>&1)"
done
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd

# the switched process closed the store cleanly: the data is there after a restart
start_dsyncd "$T/dsyncd.conf" || not_ok "dsyncd starts again on the same store"
expect "the delegation survived the restart" \
	"child.example. 2 ns1.provider.net.|child.example. 2 ns2.provider.net." \
	"$(deleg_dump | paste -sd'|')"
expect "another UPDATE is accepted" NOERROR "$(nsu "$k" $ADDR $PORT <<EOF
zone example.
update delete child.example. NS ns1.provider.net.
update add child.example. 3600 NS ns3.provider.net.
EOF
)"
check "dsyncd stops cleanly again" stop_dsyncd

# a store folder of root's that holds other files: not given away, so the
# start stops with a message naming it
mkdir -p "$T/shared"
touch "$T/shared/other"
sed "s|\"$T/db/dsyncd.db\"|\"$T/shared/dsyncd.db\"|" "$T/dsyncd.conf" >"$T/shared.conf"
out=$(timeout 60 "$BIN/dsyncd" -c "$T/shared.conf" 2>&1)
expect "a store folder nobody cannot write stops the start (exit 69, EX_UNAVAILABLE)" 69 "$?"
expect_match "with a message naming the folder" \
	"store folder $T/shared is not writable by uid $NOBODY" "$out"
expect "the folder is still root's" root "$(stat -c %U "$T/shared")"
finish
