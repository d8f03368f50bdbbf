#!/usr/bin/env bash
# A full configuration reload under load.  While signed UPDATEs flow
# (dsync-send load runs, all for one child), 20 reloads come by SIGHUP and
# by `dsyncctl reload`: some add a zone and a child (with their backend),
# some take them away again, some are invalid (a syntax error, a missing
# key file, an unknown backend type, a bad value, a reload program that is
# not there).  Nothing that should be
# accepted is refused, every accepted change is in the store and goes out
# to the zone file, an invalid configuration is refused with its file:line
# reason (log and API answer) and the running one stays, a setting read
# only at start is kept and named, and the log level follows the file.
. "$(dirname "$0")/lib.sh"
need nsupdate sqlite3
ADDR=127.0.0.50
PORT=5354
CTL=$BIN/dsyncctl
ADMIN_TOKEN=adm-34reload-5b2d4c6e8f0a1b3c5d7e9f12
umask 077
printf 'alice admin %s\n' "$ADMIN_TOKEN" >"$T/tokens"
echo "$ADMIN_TOKEN" >"$T/admin.tok"
unset DSYNCCTL_URL DSYNCCTL_TOKEN DSYNCCTL_TOKEN_FILE DSYNCCTL_CONFIG
export DSYNCCTL_URL=http://$ADDR:8053 DSYNCCTL_TOKEN_FILE=$T/admin.tok
mkdir -p "$T/out" "$T/db"

KA=$(mkkey a.example. ED25519) # the load
KB=$(mkkey b.example. ED25519) # one change after another
KC=$(mkkey c.example. ED25519) # a child that comes and goes
KD=$(mkkey d.other. ED25519)   # in a zone that comes and goes

# conf VARIANT: base | plus (zone other. and child c.example. added) |
# syntax | nokey | nobackend | badvalue | noprog (invalid; noprog: a reload
# program that does not exist, found by the checks start-up makes beyond
# the text) | port (api.port changed)
# | quiet (log.level warning)
conf() {
	local v=$1 level=debug apiport=8053 tcp=256
	[ "$v" = quiet ] && level=warning
	[ "$v" = port ] && apiport=8054
	[ "$v" = plus ] && tcp=512
	[ "$v" = slow2 ] && tcp=300
	{
		echo "server = { listen = [ \"$ADDR\" ]; port = $PORT; workers = 2;"
		echo "  updates-per-signer = 1000000; updates-per-source = 1000000;"
		echo "  tcp-max-connections = $tcp; };"
		echo "store = { path = \"$T/db/dsyncd.db\"; };"
		echo "log = { level = \"$level\"; };"
		[ "$v" = badvalue ] && echo "outbox = { retry-min = 0; };"
		echo "api = { listen = \"$ADDR\"; port = $apiport; tokens-file = \"$T/tokens\"; };"
		echo "zones = ( { name = \"example.\";"
		echo "  children = ( { name = \"a.example.\"; keys = ( \"$KA.key\" ); },"
		echo "               { name = \"b.example.\"; keys = ( \"$KB.key\" ); }"
		[ "$v" = plus ] && echo "             , { name = \"c.example.\"; keys = ( \"$KC.key\" ); }"
		[ "$v" = nokey ] && echo "             , { name = \"c.example.\"; keys = ( \"$T/nothere.key\" ); }"
		echo "  );"
		if [ "$v" = nobackend ]; then
			echo "  backends = ( { type = \"carrier-pigeon\"; } );"
		elif [ "$v" = slow ] || [ "$v" = slow2 ]; then
			echo "  backends = ( { type = \"zonefile\"; path = \"$T/out/example.delegations\";"
			echo "                 reload = [ \"$T/slow.sh\" ]; reload-timeout = 300; } );"
		elif [ "$v" = noprog ]; then
			echo "  backends = ( { type = \"zonefile\"; path = \"$T/out/example.delegations\";"
			echo "                 reload = [ \"$T/no-such-program\" ]; } );"
		else
			echo "  backends = ( { type = \"zonefile\"; path = \"$T/out/example.delegations\"; } );"
		fi
		[ "$v" = syntax ] && echo "  min-ns = ;"
		echo "}"
		if [ "$v" = plus ]; then
			echo ", { name = \"other.\"; children = ( { name = \"d.other.\"; keys = ( \"$KD.key\" ); } );"
			echo "  backends = ( { type = \"zonefile\"; path = \"$T/out/other.delegations\"; } ); }"
		fi
		echo ");"
	} >"$T/dsyncd.conf"
}

conf base
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

# ---- the load: bounded runs of 200 signed UPDATEs, until told to stop ----
touch "$T/load.on"
(
	for _ in $(seq 300); do
		[ -e "$T/load.on" ] || break
		"$BIN/dsync-send" -s $ADDR -p $PORT -k "$KA" --wait-ms 10000 \
			--add "a.example. 300 NS ns1.load.net." --add "a.example. 300 NS ns2.load.net." \
			--count 200 --concurrency 4 2>&1 | tail -1
	done >"$T/load.out"
) &
LOADER=$!
PIDS+=("$LOADER")
wait_for 600 test -s "$T/load.out" || not_ok "the load runs"

# reloaded HOW: reload by SIGHUP or dsyncctl; prints dsyncctl's output
reloaded() {
	if [ "$1" = hup ]; then
		hup
	else
		"$CTL" reload 2>&1
		echo "exit=$?"
	fi
}
upd() { # KEY ZONE CHILD NS1 NS2: an nsupdate replacing the child's NS set
	nsu "$1" $ADDR $PORT <<EOF
zone $2
update delete $3 NS
update add $3 300 NS $4
update add $3 300 NS $5
EOF
}
nrefused=$(grep -c "configuration not reloaded" "$T/dsyncd.log")
step=0
b_changes=0
b_ok=0
# change_b: three changes of b.example. in a row, each must be accepted
change_b() {
	local i r
	for i in 1 2 3; do
		step=$((step + 1))
		r=$(upd "$KB" example. b.example. "ns$step-a.b.net." "ns$step-b.b.net.")
		b_changes=$((b_changes + 1))
		[ "$r" = NOERROR ] && b_ok=$((b_ok + 1))
	done
}

variants=(plus base syntax plus base nokey plus port base nobackend
	plus base badvalue plus base noprog plus base nokey plus)
for n in $(seq 0 19); do
	v=${variants[$n]}
	how=$([ $((n % 2)) = 0 ] && echo hup || echo ctl)
	conf "$v"
	out=$(reloaded $how)
	case $v in
	plus)
		expect "reload $n ($how): child c.example. added, accepted" NOERROR \
			"$(upd "$KC" example. c.example. ns1.c.net. ns2.c.net.)"
		expect "reload $n ($how): zone other. added, d.other. accepted" NOERROR \
			"$(upd "$KD" other. d.other. ns1.d.net. ns2.d.net.)"
		;;
	base | port)
		expect "reload $n ($how): zone other. gone" NOTAUTH \
			"$(upd "$KD" other. d.other. ns1.d.net. ns2.d.net.)"
		r=$(upd "$KC" example. c.example. ns1.c.net. ns2.c.net.)
		[ "$r" != NOERROR ] && [ -n "$r" ] && ok "reload $n ($how): c.example.'s key no longer counts ($r)" ||
			not_ok "reload $n ($how): c.example.'s key no longer counts: got '$r'"
		;;
	*)
		nrefused=$((nrefused + 1))
		wait_for 100 test "$(grep -c "configuration not reloaded" "$T/dsyncd.log")" -ge $nrefused
		expect "reload $n ($how, $v): refused and logged" $nrefused \
			"$(grep -c "configuration not reloaded" "$T/dsyncd.log")"
		if [ $how = ctl ]; then
			expect_match "reload $n: dsyncctl says why, with file:line" \
				"dsyncd.conf:[0-9]+:.*exit=[1-9]" "$(tr '\n' ' ' <<<"$out")"
		fi
		# the configuration before the invalid one (base) still runs
		expect "reload $n ($how, $v): the running configuration stays" NOTAUTH \
			"$(upd "$KD" other. d.other. ns1.d.net. ns2.d.net.)"
		;;
	esac
	if [ "$v" = port ]; then
		expect_match "reload $n: api.port waits for a restart (dsyncctl)" \
			"takes effect at the next restart: api.port" "$out"
		expect_match "... and the log says so" "next restart: api.port" \
			"$(grep 'next restart' "$T/dsyncd.log" | tail -1)"
	fi
	change_b
done
expect "20 reloads done or refused" 20 \
	"$(grep -cE "configuration (not )?reloaded" "$T/dsyncd.log")"
expect "every change of b.example. accepted" "$b_changes" "$b_ok"

rm -f "$T/load.on"
wait "$LOADER"
runs=$(wc -l <"$T/load.out")
[ "$runs" -ge 1 ] && ok "the load ran $runs time(s) during the reloads" || not_ok "the load ran"
bad=$(grep -vc 'count=200 answered=200 .*rcodes=NOERROR:200 ' "$T/load.out")
expect "every loaded UPDATE answered NOERROR" 0 "$bad"
[ "$bad" = 0 ] || head -3 "$T/load.out" | sed 's/^/    /'

# nothing lost: every accepted UPDATE has its audit row, the last change is
# in the store and delivered to the zone file
audited() { sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where child = '$1' and result = 'accepted'"; }
# (dsync-send's random IDs meet now and then: Ed25519 signs the same bytes
# the same way within a second, and the receiver answers such a message as
# the replay it is, with the first answer's NOERROR)
replays=$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where child = 'a.example.' and result = 'replay'")
expect "every loaded UPDATE audited as accepted (or as a replay of one)" $((runs * 200)) \
	$(($(audited a.example.) + replays))
expect "every change of b.example. audited as accepted" "$b_changes" "$(audited b.example.)"
expect "the store holds b.example.'s last NS set" \
	"b.example. 2 ns$step-a.b.net.|b.example. 2 ns$step-b.b.net." \
	"$(deleg_dump | grep '^b.example. 2 ' | paste -sd'|')"
delivered() { grep -q "ns$step-a.b.net" "$T/out/example.delegations" 2>/dev/null; }
check "the last change reached the zone file" wait_for 300 delivered
check "the added zone's backend delivered d.other." grep -q "ns1.d.net" "$T/out/other.delegations"

# a reload does not wait for a slow delivery: the backend's reload program
# holds the delivery until the test releases it (bounded: 60 s); meanwhile a
# reload is done and the receiver answers
cat >"$T/slow.sh" <<SLOW
#!/bin/sh
touch "$T/busy"
i=0
while [ ! -e "$T/release" ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
rm -f "$T/busy"
SLOW
chmod +x "$T/slow.sh"
conf slow
hup
upd "$KB" example. b.example. nss1-a.b.net. nss1-b.b.net. >/dev/null
check "a delivery is held by the slow backend" wait_for 300 test -e "$T/busy"
n0=$(grep -c "configuration reloaded: " "$T/dsyncd.log")
conf slow2
hup
expect "while it is held, a reload is done" $((n0 + 1)) \
	"$(grep -c "configuration reloaded: " "$T/dsyncd.log")"
expect "and an UPDATE is answered" NOERROR \
	"$(upd "$KB" example. b.example. nss2-a.b.net. nss2-b.b.net.)"
check "... with the delivery still held" test -e "$T/busy"
touch "$T/release"
check "released, the held delivery ends" wait_for 300 test ! -e "$T/busy"
delivered2() { grep -q "nss2-a.b.net" "$T/out/example.delegations" 2>/dev/null; }
check "the new lanes deliver the change made meanwhile" wait_for 300 delivered2

# the log level follows the file
conf quiet
hup
before=$(grep -c ' rcode=' "$T/dsyncd.log")
upd "$KB" example. b.example. nsq-a.b.net. nsq-b.b.net. >/dev/null
expect "log.level warning: an accepted change is not logged" "$before" \
	"$(grep -c ' rcode=' "$T/dsyncd.log")"
conf base
out=$(reloaded ctl)
expect_match "dsyncctl reload back to debug" "configuration reloaded: 1 zone" "$out"
upd "$KB" example. b.example. nsr-a.b.net. nsr-b.b.net. >/dev/null
wait_for 50 test "$(grep -c ' rcode=' "$T/dsyncd.log")" -gt "$before"
expect "log.level debug: it is logged again" $((before + 1)) "$(grep -c ' rcode=' "$T/dsyncd.log")"

check "dsyncd stops cleanly (no leak of the replaced configurations)" stop_dsyncd
finish
