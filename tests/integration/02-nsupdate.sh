#!/usr/bin/env bash
# BIND's nsupdate, with keys made by dnssec-keygen -T KEY for every
# supported algorithm, adds and removes NS, DS and glue; every RCODE is
# checked and the store is read back.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.2
PORT=5354

children=""
for alg in RSASHA256 RSASHA512 ECDSAP256SHA256 ECDSAP384SHA384 ED25519 ED448; do
	c=$(echo "$alg" | tr 'A-Z' 'a-z').example.
	k=$(mkkey "$c" "$alg" $([ "${alg#RSA}" != "$alg" ] && echo 2048)) || { not_ok "keygen $alg"; finish; }
	eval "KEY_$alg=$k"
	children="$children $c:$k"
done
# a child whose key is configured but is not the one that signs below
other=$(mkkey other.example. ED25519)
children="$children other.example.:$other"
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "$children"
check "config check (-n) accepts the generated config" "$BIN/dsyncd" -n -c "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

for alg in RSASHA256 RSASHA512 ECDSAP256SHA256 ECDSAP384SHA384 ED25519 ED448; do
	eval "k=\$KEY_$alg"
	c=$(echo "$alg" | tr 'A-Z' 'a-z').example.
	tcp=""
	[ "$alg" = ECDSAP384SHA384 ] || [ "$alg" = ED448 ] && tcp=-v
	r=$(nsu "$k" $ADDR $PORT $tcp <<-EOS
		zone example.
		update add $c 300 NS ns1.$c
		update add $c 300 NS ns2.provider.net.
		update add ns1.$c 300 A 192.0.2.1
		update add ns1.$c 300 AAAA 2001:db8::1
		update add $c 300 DS 12345 13 2 8B3D2CE0A5B37E5DA69B7C20F9E91A1B7B69CA4B5A6D9FE8C3E1E3A3E3B1C2D4
		EOS
	)
	expect "$alg${tcp:+ (tcp)}: add NS, glue and DS -> NOERROR" NOERROR "$r"
	n=$(deleg_dump | grep -c "^$c\|^ns1.$c")
	expect "$alg: 5 records stored" 5 "$n"
	ttl=$(sql "select distinct ttl from delegation where owner_text like '%$c'")
	expect "$alg: TTLs normalised to the delegation TTL" 3600 "$ttl"

	# replace an NS whose glue then becomes orphaned
	r=$(nsu "$k" $ADDR $PORT $tcp <<-EOS
		zone example.
		update delete $c NS ns1.$c
		update add $c 300 NS ns3.provider.org.
		EOS
	)
	expect "$alg: swap NS -> NOERROR" NOERROR "$r"
	expect "$alg: orphaned glue removed" 0 "$(deleg_dump | grep -c "^ns1.$c")"
	r=$(nsu "$k" $ADDR $PORT $tcp <<-EOS
		zone example.
		update delete $c DS
		EOS
	)
	expect "$alg: delete DS RRset -> NOERROR" NOERROR "$r"
	expect "$alg: 2 NS left, no DS" "2 0" "$(deleg_dump | grep -c "^$c 2 ") $(deleg_dump | grep -c "^$c 43 ")"
done

k=$KEY_ED25519
c=ed25519.example.
# policy refusals
r=$(nsu "$k" $ADDR $PORT <<-EOS
	zone example.
	update delete $c NS
	EOS
)
expect "deleting every NS -> REFUSED" REFUSED "$r"
r=$(nsu "$k" $ADDR $PORT <<-EOS
	zone example.
	update add other.example. 300 NS ns1.provider.net.
	EOS
)
expect "key of one child on another child -> REFUSED" REFUSED "$r"
r=$(nsu "$k" $ADDR $PORT <<-EOS
	zone example.
	update add www.$c 300 TXT "hello"
	EOS
)
expect "TXT below the child -> REFUSED" REFUSED "$r"
r=$(nsu "$k" $ADDR $PORT <<-EOS
	zone example.
	update add x.$c 300 A 192.0.2.7
	EOS
)
expect "glue for a name that is no NS target -> REFUSED" REFUSED "$r"
# (a DS with a wrong digest length is in 04-badinput: BIND will not send one)
r=$(nsu "$k" $ADDR $PORT <<-EOS
	zone other.
	update add $c 300 NS ns9.provider.net.
	EOS
)
expect "zone not served -> NOTAUTH" NOTAUTH "$r"

# prerequisites, all forms
pre() { # expected-rcode description prereq-line
	local r
	r=$(nsu "$k" $ADDR $PORT <<-EOS
		zone example.
		prereq $3
		update add $c 300 NS ns9.provider.net.
		update delete $c NS ns9.provider.net.
		EOS
	)
	expect "prerequisite $2 -> $1" "$1" "$r"
}
pre NOERROR "yxdomain (name in use)" "yxdomain $c"
pre NXDOMAIN "yxdomain on an unused name" "yxdomain nothing.$c"
pre YXDOMAIN "nxdomain on a used name" "nxdomain $c"
pre NOERROR "nxdomain on an unused name" "nxdomain nothing.$c"
pre NOERROR "yxrrset (value-independent)" "yxrrset $c NS"
pre NXRRSET "yxrrset on an absent RRset" "yxrrset $c DS"
pre YXRRSET "nxrrset on a present RRset" "nxrrset $c NS"
pre NOERROR "nxrrset on an absent RRset" "nxrrset $c DS"
pre NXRRSET "yxrrset (value-dependent) mismatch" "yxrrset $c NS ns1.nowhere."
pre NOERROR "yxrrset (value-dependent) match" "yxrrset $c NS ns2.provider.net.
prereq yxrrset $c NS ns3.provider.org."
pre REFUSED "on a name outside the child" "yxdomain ed448.example."

# the store holds exactly what the accepted UPDATEs left
expect "ED25519 child delegation after all of it" \
	"ed25519.example. 2 ns2.provider.net.|ed25519.example. 2 ns3.provider.org." \
	"$(deleg_dump | grep '^ed25519' | paste -sd'|')"
audits=$(sql "select count(*) from audit where actor='update'")
expect "every decision has an audit row" "$(grep -c ' update zone=' "$T/dsyncd.log")" "$audits"
grep -q 'result=refused rcode=REFUSED reason="ed25519.example. NS set would have 0 record(s); the minimum is 2"' "$T/dsyncd.log" &&
	ok "one log line names the refused rule" || not_ok "log line for the NS refusal"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
finish
