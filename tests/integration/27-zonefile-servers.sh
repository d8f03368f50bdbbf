#!/usr/bin/env bash
# The zonefile backend in the setups doc/backends.md documents, each with a
# real name server reloading the zone: the served SOA serial goes up with
# every delivered change.
#   Knot DNS, fragment mode: the parent's zone file $INCLUDEs dsyncd's file;
#     Knot (zonefile-load: difference-no-serial) raises the serial itself.
#   BIND named and NSD, template mode: dsyncd writes the whole zone with
#     {{SERIAL}}; rndc / nsd-control reload it.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/bench/conf.sh
. "$TOP/tests/bench/conf.sh"
ADDR=127.0.0.32
PORT=5354
need knotd knotc named rndc rndc-confgen nsd nsd-control kdig nsupdate
k=$(mkkey child.example. ECDSAP256SHA256)

# serial SERVER PORT: the SOA serial it serves ("" when it does not answer)
serial() { kdig @"$1" -p "$2" +short +timeout=1 +retry=0 example. SOA 2>/dev/null | awk '{print $3}'; }
# ns_of SERVER PORT: the NS names of child.example. it refers to
ns_of() {
	kdig @"$1" -p "$2" +norec +noall +authority +timeout=1 +retry=0 child.example. A 2>/dev/null |
		awk '$4 == "NS" {print $5}' | sort | paste -sd' '
}
# wait_for WHAT CMD...: poll (bounded, 30 s) until CMD succeeds
wait_for() {
	local what=$1
	shift
	for _ in $(seq 300); do "$@" && { ok "$what"; return 0; }; sleep 0.1; done
	not_ok "$what"
}
served_ns() { [ "$(ns_of "$1" "$2")" = "$3" ]; }
answers() { [ -n "$(serial "$1" "$2")" ]; }
# two changes through dsyncd (backend config $1); after each the server
# ($2, $3) serves the new NS set with a higher serial
two_changes() {
	local s0 s1 srv=$2 sport=$3 name=$4
	write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$k" "$1"
	rm -rf "$T/db"
	start_dsyncd "$T/dsyncd.conf" || { not_ok "$name: dsyncd starts"; return; }
	s0=$(serial "$srv" "$sport")
	expect "$name: first UPDATE NOERROR" NOERROR "$(nsu "$k" $ADDR $PORT <<-EOF
		zone example.
		update add child.example. 3600 NS ns1.provider.net.
		update add child.example. 3600 NS ns2.provider.net.
	EOF
	)"
	wait_for "$name: the first change is served" served_ns "$srv" "$sport" "ns1.provider.net. ns2.provider.net."
	s1=$(serial "$srv" "$sport")
	check "$name: the serial went up ($s0 -> $s1)" test "${s1:-0}" -gt "${s0:-0}"
	expect "$name: second UPDATE NOERROR" NOERROR "$(nsu "$k" $ADDR $PORT <<-EOF
		zone example.
		update delete child.example. NS ns2.provider.net.
		update add child.example. 3600 NS ns3.provider.net.
	EOF
	)"
	wait_for "$name: the second change is served" served_ns "$srv" "$sport" "ns1.provider.net. ns3.provider.net."
	check "$name: the serial went up again" test "$(serial "$srv" "$sport")" -gt "$s1"
	check "$name: dsyncd stops cleanly" stop_dsyncd
}

# ---- Knot, fragment mode --------------------------------------------------
KN=127.0.0.34
mkdir -p "$T/knot/db" "$T/frag"
knot_conf "$T/knot" "$KN@5300" all "$T/knot/example.zone" |
	sed 's/zonefile-load: whole/zonefile-load: difference-no-serial/' >"$T/knot.conf"
{ parent_zone "$KN"; echo "\$INCLUDE $T/frag/example.delegations"; } >"$T/knot/example.zone"
: >"$T/frag/example.delegations"
knotd -c "$T/knot.conf" >"$T/knot.log" 2>&1 &
PIDS+=("$!")
wait_for "Knot serves example." answers $KN 5300
two_changes "  backends = ( { type = \"zonefile\"; path = \"$T/frag/example.delegations\";
    reload = [ \"/usr/sbin/knotc\", \"-c\", \"$T/knot.conf\", \"zone-reload\", \"example.\" ]; } );" \
	$KN 5300 "Knot, fragment"

# ---- the template the BIND and NSD setups share ---------------------------
cat >"$T/example.tmpl" <<'EOZ'
$ORIGIN example.
$TTL 3600
@	SOA	ns1.example. hostmaster.example. {{SERIAL}} 3600 900 604800 300
@	NS	ns1.example.
ns1	A	127.0.0.1
{{DELEGATIONS}}
EOZ

# ---- BIND named, template mode --------------------------------------------
# (a date-style serial to continue from, in the sidecar: it must survive
# dsyncd's start, which cleans up temporary files beside the output)
mkdir -p "$T/bind"
echo 2026010100 >"$T/bind/example.zone.serial"
rndc-confgen -a -A hmac-sha256 -k rndc-key -c "$T/rndc.key" >/dev/null 2>&1
# a first zone file, made from the template by hand (dsyncd writes it from now on)
sed 's/{{SERIAL}}/2026010100/; s/{{DELEGATIONS}}//' "$T/example.tmpl" >"$T/bind/example.zone"
cat "$T/rndc.key" - >"$T/named.conf" <<EOC
controls { inet 127.0.0.1 port 5326 allow { 127.0.0.1; } keys { rndc-key; }; };
options { directory "$T/bind"; pid-file "$T/bind/named.pid";
  listen-on port 5325 { 127.0.0.1; }; listen-on-v6 { none; };
  recursion no; dnssec-validation no; allow-transfer { 127.0.0.1; }; };
zone "example." { type primary; file "$T/bind/example.zone"; };
EOC
named -g -c "$T/named.conf" >"$T/named.log" 2>&1 &
PIDS+=("$!")
wait_for "named serves example." answers 127.0.0.1 5325
two_changes "  backends = ( { type = \"zonefile\"; path = \"$T/bind/example.zone\";
    template = \"$T/example.tmpl\"; check-server = \"127.0.0.1@5325\";
    reload = [ \"/usr/sbin/rndc\", \"-k\", \"$T/rndc.key\", \"-s\", \"127.0.0.1\", \"-p\", \"5326\",
               \"reload\", \"example.\" ]; } );" \
	127.0.0.1 5325 "BIND, template"
expect_match "BIND: dsyncd check transfers the served zone: in sync with the store" \
	"backend zonefile: in sync" "$("$BIN/dsyncd" -c "$T/dsyncd.conf" check example. 2>&1)"

# ---- NSD, template mode ---------------------------------------------------
NS=127.0.0.35
mkdir -p "$T/nsd"
echo 2026010100 >"$T/nsd/example.zone.serial"
sed 's/{{SERIAL}}/2026010100/; s/{{DELEGATIONS}}//' "$T/example.tmpl" >"$T/nsd/example.zone"
cat >"$T/nsd.conf" <<EOC
server:
    ip-address: $NS@5331
    port: 5331
    username: ""
    zonesdir: "$T/nsd"
    database: ""
    pidfile: "$T/nsd/nsd.pid"
    xfrdfile: "$T/nsd/xfrd.state"
    zonelistfile: "$T/nsd/zone.list"
    logfile: "$T/nsd.log"
remote-control:
    control-enable: yes
    control-interface: "$T/nsd/nsd.sock"
zone:
    name: example.
    zonefile: "$T/nsd/example.zone"
    provide-xfr: 127.0.0.0/8 NOKEY
EOC
nsd -d -c "$T/nsd.conf" >>"$T/nsd.log" 2>&1 &
PIDS+=("$!")
wait_for "NSD serves example." answers $NS 5331
two_changes "  backends = ( { type = \"zonefile\"; path = \"$T/nsd/example.zone\";
    template = \"$T/example.tmpl\"; check-server = \"$NS@5331\";
    reload = [ \"/usr/sbin/nsd-control\", \"-c\", \"$T/nsd.conf\", \"reload\", \"example.\" ]; } );" \
	$NS 5331 "NSD, template"
expect_match "NSD: dsyncd check transfers the served zone: in sync with the store" \
	"backend zonefile: in sync" "$("$BIN/dsyncd" -c "$T/dsyncd.conf" check example. 2>&1)"
finish
