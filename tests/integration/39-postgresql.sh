#!/usr/bin/env bash
# Several dsyncd on one PostgreSQL store: a real PostgreSQL server (Debian's,
# initdb in the test's folder, on a loopback address) and three dsyncd nodes
# sharing its database, clients spread over them.  A replayed UPDATE is
# refused by every node; two nodes changing the same child at the same
# moment take turns (no lost update, both audited in order); a key added or
# revoked through one node's API holds on the others; deliveries to a
# backend are leased (one node at a time; a dead holder's lease runs out and
# another node delivers); the bootstrap lease is held by one node; with the
# database down UPDATEs get SERVFAIL with an EDE saying so and the nodes
# recover by themselves when it is back; a node SIGKILLed under load loses
# no acknowledged change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-send.sh"
need nsupdate dnssec-keygen curl
PGA=127.0.7.2
PGP=15433
NODES=(127.0.7.3 127.0.7.4 127.0.7.5)
PORT=5354
ADM=admin-0123456789abcdef-token

chmod 711 "$T" # the server runs as the postgres user, in $T/pg
pg_start "$T/pg" $PGA $PGP || { not_ok "PostgreSQL starts"; finish; }
ok "PostgreSQL starts on $PGA:$PGP"
trap 'pg_stop "$T/pg"; cleanup' EXIT
export DSYNC_TEST_PGDIR=$T/pg
printf '%s\n' "$(pg_conninfo $PGA $PGP)" >"$T/pg.conninfo"
chmod 600 "$T/pg.conninfo"
# short leases: a dead node's run out within seconds
export DSYNC_TEST_STORE="store = { postgresql-file = \"$T/pg.conninfo\"; lease-time = 5; };"

K1=$(mkkey child.example. ED25519)
K2=$(mkkey new.example. ED25519)
K3=$(mkkey kid.example. ED25519)
printf 'ops admin %s\n' "$ADM" >"$T/tokens"
chmod 600 "$T/tokens"
NPID=()
# dsn NODE ARGS...: dsync-send to a node, its one answer line
dsn() {
	local i=$1
	shift
	"$BIN/dsync-send" -s "${NODES[$i]}" -p $PORT --wait-ms 3000 "$@" 2>&1 | tail -1
}
# node I: its configuration (one zone file, shared by all: one backend
# target) and its start
node_conf() {
	local i=$1 a=${NODES[$1]}
	# an automatic method: each node has a bootstrap scheduler
	write_conf "$T/n$i.conf" "$a" $PORT example. \
		"child.example.:$K1 new.example.: kid.example.:$K3" \
		"  bootstrap-methods = [ \"unsigned\", \"manual\" ];
  backends = ( { type = \"zonefile\"; path = \"$T/out/example.delegations\"; } );"
	cat >>"$T/n$i.conf" <<EOF
api = { listen = "$a"; port = 8053; tokens-file = "$T/tokens"; };
outbox = { retry-min = 1; retry-max = 2; };
EOF
}
node_start() {
	start_dsyncd "$T/n$1.conf" "$T/n$1.log" || return 1
	NPID[$1]=$DSYNCD_PID
}
for i in 0 1 2; do
	node_conf $i
	node_start $i || { not_ok "node $i starts"; finish; }
done
ok "three nodes serve on one database"
expect "one schema version in the database" 9 "$(sql 'select version from schema_version')"

# ---- updates spread over the nodes -------------------------------------------
two_ns_stored "node 0: an UPDATE is stored" "$K1" ${NODES[0]} $PORT
# two nodes, the same child, the same moment: both applied, one after the other
for r in 1 2 3 4; do
	jobs_=()
	for i in 1 2; do
		{ echo "zone example."; echo "update add child.example. 3600 NS n$i-$r.provider.net."; } |
			nsu "$K1" ${NODES[$i]} $PORT >"$T/conc.$r.$i" &
		jobs_+=($!)
	done
	wait "${jobs_[@]}"
done
answers=$(cat "$T"/conc.* | sort | uniq -c | paste -sd' ')
expect "8 concurrent UPDATEs on two nodes answered" "8 NOERROR" "$(echo $answers)"
expect "no update lost: 10 NS for the child" 10 \
	"$(sql "select count(*) from delegation where owner_text = 'child.example.' and type = 2")"
expect "every one audited as accepted" 9 \
	"$(sql "select count(*) from audit where child = 'child.example.' and result = 'accepted'")"
for r in 1 2 3 4; do
	expect "round $r: both nodes' changes audited" 2 \
		"$(sql "select count(*) from audit where result = 'accepted' and request like '%n_-$r.provider.net.%'")"
done

# a replay: the same bytes to the other nodes get the first answer, once
dsn 0 -k "$K1" --save "$T/upd.bin" --add "child.example. 3600 NS ns-r.provider.net." >"$T/first"
expect "the original UPDATE" NOERROR "$(f_rcode "$(cat "$T/first")")"
before=$(state_dump)
for i in 1 2; do
	out=$(dsn $i --raw-file "$T/upd.bin")
	expect "node $i: the replay gets the first RCODE" NOERROR "$(f_rcode "$out")"
	expect_match "node $i: said to be a replay" "replayed message" "$(f_text "$out")"
done
expect "the replays changed nothing" "$before" "$(state_dump)"
expect "each replay audited as such" 2 "$(sql "select count(*) from audit where result = 'replay'")"

# ---- keys: a change on one node holds on every node --------------------------
api() { # NODE METHOD PATH [BODY]: the status; the body in $T/resp
	local args=(-s -o "$T/resp" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $ADM")
	[ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	curl "${args[@]}" "http://${NODES[$1]}:8053$3"
}
nsnew() { { echo "zone example."; echo "update add new.example. 3600 NS ns1.new.net."; echo "update add new.example. 3600 NS ns2.new.net."; } | nsu "$K2" ${NODES[$1]} $PORT; }
expect "node 2 does not know new.example.'s key yet" NOTAUTH "$(nsnew 2)"
body=$(python3 -c 'import json,sys; print(json.dumps({"key": sys.argv[1]}))' "$(keyrr "$K2")")
t0=$(now)
expect "node 0's API adds the key" 201 "$(api 0 POST /api/v1/children/new.example./keys "$body")"
kid=$(python3 -c 'import json; print(json.load(open("'"$T/resp"'"))["id"])')
node2_knows() { grep -q "keys: key $kid changed on a node" "$T/n2.log"; }
wait_for 300 node2_knows && ok "node 2 heard of the key" || not_ok "node 2 heard of the key"
echo "# key added through node 0, known to node 2 after $(secs "$t0" "$(now)") s"
expect "node 2 accepts an UPDATE signed with it" NOERROR "$(nsnew 2)"
expect "node 0's API revokes it" 200 "$(api 0 POST "/api/v1/keys/$kid/revoke")"
node1_revoked() { grep -q "keys: key $kid changed on a node: now revoked" "$T/n1.log"; }
wait_for 300 node1_revoked && ok "node 1 heard of the revocation" || not_ok "node 1 heard of the revocation"
expect "node 1 refuses the revoked key" NOTAUTH "$(nsnew 1)"
expect "node 0's API deletes it" 204 "$(api 0 DELETE "/api/v1/keys/$kid")"
node2_deleted() { grep -q "keys: key $kid changed on a node: now deleted" "$T/n2.log"; }
wait_for 300 node2_deleted && ok "node 2 heard of the deletion (without reading every key)" ||
	not_ok "node 2 heard of the deletion"
expect "no node read every key for it" 0 "$(cat "$T"/n?.log | grep -c "keys: read again")"

# ---- leases ------------------------------------------------------------------
backend=$(sql "select distinct backend from delivery")
file_ns() { awk '$1 == "child.example." && $4 == "NS" {print $5}' "$T/out/example.delegations" 2>/dev/null | sort | paste -sd' '; }
store_ns() { sql "select rdata_text from delegation where owner_text = 'child.example.' and type = 2 order by 1" | paste -sd' '; }
in_sync() { [ "$(pending)" = 0 ] && [ "$(file_ns)" = "$(store_ns)" ]; }
wait_for 300 in_sync && ok "the shared zone file holds the store's delegations" ||
	not_ok "zone file and store differ: $(file_ns) / $(store_ns)"
expect "no delivery lease left once all is delivered" 0 "$(sql "select count(*) from leases where name like 'outbox %'")"
bootlease() { [ -n "$(sql "select holder from leases where name = 'bootstrap'")" ]; }
wait_for 300 bootlease
holder=$(sql "select holder from leases where name = 'bootstrap'")
expect_match "the bootstrap lease is one node's" ":(${NPID[0]}|${NPID[1]}|${NPID[2]})$" "$holder"
# a node that died holding the lease: nobody delivers until it runs out
until=$(($(date +%s) + 12))
sql "insert into leases (name, holder, expires) values ('outbox example. $backend', 'gone:1', $until)" >/dev/null
expect "a change while a dead node holds the lease" NOERROR "$( { echo "zone example."; echo "update add child.example. 3600 NS ns-l.provider.net."; } | nsu "$K1" ${NODES[1]} $PORT)"
expect "it waits in the outbox" 1 "$(pending)"
wait_for 600 in_sync && ok "after the lease ran out another node delivered it" ||
	not_ok "not delivered after the dead node's lease ran out"
[ "$(date +%s)" -ge "$until" ] && ok "not before the lease ran out" || not_ok "delivered before the lease ran out"
expect "the dead node's lease is gone" 0 "$(sql "select count(*) from leases where holder = 'gone:1'")"

# the node holding the bootstrap lease killed: another node takes it over
for i in 0 1 2; do [[ "$holder" == *":${NPID[$i]}" ]] && dead=$i; done
kill -KILL "${NPID[$dead]}"
wait "${NPID[$dead]}" 2>/dev/null
moved() { [[ "$(sql "select holder from leases where name = 'bootstrap'")" =~ :(${NPID[$(((dead + 1) % 3))]}|${NPID[$(((dead + 2) % 3))]})$ ]]; }
wait_for 600 moved && ok "node $dead killed: its bootstrap lease moved to a live node" ||
	not_ok "the dead node's bootstrap lease did not move"
node_start $dead || not_ok "node $dead starts again"

# ---- the database away ---------------------------------------------------------
pg_stop "$T/pg"
out=$(dsn 0 -k "$K1" --add "child.example. 3600 NS ns-down.provider.net.")
expect "database down: SERVFAIL" SERVFAIL "$(f_rcode "$out")"
expect_match "with an EDE saying the store is unavailable" "store unavailable" "$(f_text "$out")"
ready() { curl -s -o /dev/null -w '%{http_code}' "http://${NODES[$1]}:8053/readyz"; }
expect "database down: /readyz says not ready (load balancers route elsewhere)" 503 "$(ready 2)"
expect "nsupdate: SERVFAIL" SERVFAIL "$( { echo "zone example."; echo "update add child.example. 3600 NS ns-down.provider.net."; } | nsu "$K1" ${NODES[1]} $PORT)"
pg_restart "$T/pg" || not_ok "PostgreSQL starts again"
back() {
	[ "$(f_rcode "$(dsn $1 -k "$K3" --del-rrset "kid.example. NS" --add "kid.example. 300 NS x$1.kid.net." \
		--add "kid.example. 300 NS y$1.kid.net.")")" = NOERROR ]
}
for i in 0 1 2; do
	wait_for 300 back $i && ok "node $i: UPDATEs accepted again once the database is back" ||
		not_ok "node $i did not recover"
done
# the API's own connection tries again at most once a second
ready_again() { [ "$(ready 2)" = 200 ]; }
wait_for 300 ready_again && ok "database back: /readyz says ready again" ||
	not_ok "database back: /readyz still $(ready 2)"
expect "what was refused is not there" 0 \
	"$(sql "select count(*) from delegation where rdata_text = 'ns-down.provider.net.'")"
reread() { grep -q "keys: read again" "$T/n$1.log"; }
wait_for 300 reread 2 && ok "node 2 read every key again after the outage" || not_ok "node 2 key re-read"

# ---- a node killed under load --------------------------------------------------
kid_before=$(sql "select count(*) from audit where child = 'kid.example.' and result = 'accepted'")
"$BIN/dsync-send" -s ${NODES[1]} -p $PORT -k "$K3" --wait-ms 500 --seq 80 \
	--del-rrset "kid.example. NS" --add "kid.example. 300 NS a{i}.kid.net." \
	--add "kid.example. 300 NS b{i}.kid.net." >"$T/seq.out" 2>&1 &
SEQ=$!
answered() { [ "$(grep -c '^seq=' "$T/seq.out")" -ge "$1" ]; }
wait_for 600 answered 20 || not_ok "the load did not start"
kill -KILL "${NPID[1]}"
wait "${NPID[1]}" 2>/dev/null
node_start 1 || not_ok "node 1 starts again"
wait $SEQ
expect "every request answered NOERROR after the restart" "count=80 answered=80" \
	"$(sed -n 's/^\(count=[0-9]* answered=[0-9]*\).*/\1/p' "$T/seq.out")"
expect "no answer but NOERROR" 80 "$(grep -c '^seq=[0-9]* rcode=NOERROR' "$T/seq.out")"
expect "the last change is the one stored" "a80.kid.net.|b80.kid.net." \
	"$(sql "select rdata_text from delegation where owner_text = 'kid.example.' order by 1" | paste -sd'|')"
expect "every change accepted once" $((kid_before + 80)) \
	"$(sql "select count(*) from audit where child = 'kid.example.' and result = 'accepted'")"

for i in 0 1 2; do
	DSYNCD_PID=${NPID[$i]}
	stop_dsyncd "$T/n$i.log" && ok "node $i stops cleanly" || not_ok "node $i stop"
done

# ---- store-copy: PostgreSQL to SQLite and back ---------------------------------
"$BIN/dsyncd" -c "$T/n0.conf" store-copy --to "$T/copy.db" >"$T/copy.out" 2>"$T/copy.err"
expect "store-copy into a SQLite file (exit 0)" 0 $?
expect "every table the same in both" 12 "$(grep -c ' same$' "$T/copy.out")"
expect "the copy's delegations are the database's" "$(deleg_dump | md5sum)" \
	"$(sqlite3 "$T/copy.db" "select owner_text || ' ' || type || ' ' || rdata_text from delegation order by 1" | md5sum)"
pg_psql "$T/pg" -d postgres -c "CREATE DATABASE dsyncd2 OWNER dsyncd" >/dev/null
sed 's/dbname=dsyncd /dbname=dsyncd2 /' "$T/pg.conninfo" >"$T/pg2.conninfo"
chmod 600 "$T/pg2.conninfo"
"$BIN/dsyncd" -c "$T/n0.conf" store-copy --from "$T/copy.db" --to "postgresql-file:$T/pg2.conninfo" \
	>"$T/copy2.out" 2>>"$T/copy.err"
expect "store-copy from SQLite into an empty database (exit 0)" 0 $?
expect "every table the same again" 12 "$(grep -c ' same$' "$T/copy2.out")"
"$BIN/dsyncd" -c "$T/n0.conf" store-copy --from "$T/copy.db" --to "postgresql-file:$T/pg2.conninfo" \
	>"$T/copy3.out" 2>>"$T/copy.err"
expect "store-copy into a store that has rows (exit 1)" 1 $?
expect_match "says so" "not empty; nothing copied" "$(cat "$T/copy3.out")"
expect "the refused copy left it as it was" \
	"$(sqlite3 "$T/copy.db" "select count(*) from audit")" \
	"$(pg_psql "$T/pg" -d dsyncd2 -At -c "select count(*) from audit")"
finish
