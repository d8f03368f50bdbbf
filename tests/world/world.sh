#!/usr/bin/env bash
# tests/world/world.sh -- a small signed DNS hierarchy on loopback, served by
# real Knot DNS instances, for dsyncd's key bootstrap tests.
#
#   world.sh start DIR       build keys, zones, trust anchor; start the servers
#   world.sh reload DIR      rebuild + re-sign every zone (DIR/extra hooks), reload
#   world.sh stop DIR        stop every server of the world in DIR
#   world.sh status DIR      one line per server; exit 0 when all answer
#   world.sh addr NAME [DIR] address of a server (instance name or host name)
#   world.sh key DIR ZONE    key file prefix of the SIG(0) key made for ZONE
#
# The layout, the files written into DIR and the hooks are described in
# tests/world/README.md.  Environment: WORLD_BASE (default 80): the servers
# use 127.0.0.BASE .. 127.0.0.BASE+7, port 53 (root needed).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD_BASE=${WORLD_BASE:-80}
ALG=ECDSAP256SHA256

# server instances, in address order (offset from WORLD_BASE)
INSTANCES="root tld parent prov1 prov2 uprov split1 split2"

# zone | signing (signed/unsigned) | instances serving it | zones whose DS it holds
ZONES="
.|signed|root|test.
test.|signed|tld|parent.test. provider.test.
parent.test.|signed|parent|signed.parent.test. bogus.parent.test.
provider.test.|signed|prov1 prov2|
unsigned-provider.test.|unsigned|uprov|
signed.parent.test.|signed|prov1 prov2|
unsigned.parent.test.|unsigned|prov1 prov2|
bogus.parent.test.|signed|prov1 prov2|
insecure-ns.parent.test.|unsigned|uprov|
split.parent.test.|unsigned|split1 split2|
"

# zones that get a SIG(0) key pair at start (published by the default hooks)
SIG0_ZONES="signed.parent.test. unsigned.parent.test. bogus.parent.test. insecure-ns.parent.test. split.parent.test."

die() {
	echo "world.sh: $*" >&2
	exit 1
}

# inst_addr INSTANCE -> 127.0.0.x
inst_addr() {
	local i=0 n
	for n in $INSTANCES; do
		if [ "$n" = "$1" ]; then
			echo "127.0.0.$((WORLD_BASE + i))"
			return 0
		fi
		i=$((i + 1))
	done
	return 1
}

# host name -> instance
host_inst() {
	case ${1%.} in
	a.root-servers.test) echo root ;;
	ns1.nic.test) echo tld ;;
	ns1.parent.test) echo parent ;;
	ns1.provider.test) echo prov1 ;;
	ns2.provider.test) echo prov2 ;;
	ns1.unsigned-provider.test) echo uprov ;;
	ns1.split.parent.test) echo split1 ;;
	ns2.split.parent.test) echo split2 ;;
	*) return 1 ;;
	esac
}

# file-name form of a zone: "." -> root, "test." -> test
zfile() { if [ "$1" = . ]; then echo root; else echo "${1%.}"; fi; }

# zone_field ZONE N: field N (2..4) of the zone's line in ZONES
zone_field() {
	echo "$ZONES" | awk -F'|' -v z="$1" -v n="$2" '$1 == z { print $n }'
}

zone_list() { echo "$ZONES" | awk -F'|' 'NF > 1 { print $1 }'; }

# ---- keys ------------------------------------------------------------------

# DNSSEC keys (KSK + ZSK) for every signed zone, a decoy KSK for bogus.
# (its DS goes into the parent instead of the real one), a SIG(0) key per
# child.  Kept across restarts of the same DIR.
make_keys() {
	local z f kd ksk
	for z in $(zone_list); do
		[ "$(zone_field "$z" 2)" = signed ] || continue
		f=$(zfile "$z")
		kd=$DIR/keys/$f
		[ -s "$DIR/keys/$f.ds" ] && continue
		rm -rf "$kd"
		mkdir -p "$kd"
		ksk=$(dnssec-keygen -q -a $ALG -f KSK -L 3600 -K "$kd" "$z") || return 1
		dnssec-keygen -q -a $ALG -L 3600 -K "$kd" "$z" >/dev/null || return 1
		if [ "$z" = bogus.parent.test. ]; then
			mkdir -p "$kd-decoy"
			ksk=$(dnssec-keygen -q -a $ALG -f KSK -K "$kd-decoy" "$z") || return 1
			ksk=../$f-decoy/$ksk
		fi
		dnssec-dsfromkey -2 "$kd/$ksk.key" >"$DIR/keys/$f.ds.tmp" || return 1
		mv "$DIR/keys/$f.ds.tmp" "$DIR/keys/$f.ds"
	done
	for z in $SIG0_ZONES; do
		kd=$DIR/sig0/${z%.}
		ls "$kd"/K*.key >/dev/null 2>&1 && continue
		mkdir -p "$kd"
		dnssec-keygen -q -T KEY -a $ALG -n HOST -K "$kd" "$z" >/dev/null || return 1
	done
}

# sig0_prefix ZONE -> DIR/sig0/<zone>/K<zone>+013+NNNNN
sig0_prefix() {
	local k=("$DIR/sig0/${1%.}"/K*.key)
	[ -e "${k[0]}" ] && echo "${k[0]%.key}"
}

# the KEY RR of a zone's SIG(0) key, one line
sig0_rr() { grep -v '^;' "$(sig0_prefix "$1").key"; }

# owner-renamed copy: sig0_rr_at ZONE OWNER
sig0_rr_at() { sig0_rr "$1" | awk -v o="$2" '{ $1 = o; print }'; }

# Default hook files, written only when absent (a test may write its own
# before `start`, or change them and call `reload`).
default_extras() {
	local e=$DIR/extra z n
	mkdir -p "$e"
	for z in signed.parent.test. unsigned.parent.test. bogus.parent.test. insecure-ns.parent.test. split.parent.test.; do
		[ -e "$e/${z%.}.records" ] || sig0_rr "$z" >"$e/${z%.}.records"
	done
	if [ ! -e "$e/provider.test.records" ]; then
		for n in ns1 ns2; do
			sig0_rr_at unsigned.parent.test. "_sig0key.unsigned.parent.test._signal.$n.provider.test."
		done >"$e/provider.test.records"
	fi
	[ -e "$e/unsigned-provider.test.records" ] ||
		sig0_rr_at insecure-ns.parent.test. "_sig0key.insecure-ns.parent.test._signal.ns1.unsigned-provider.test." \
			>"$e/unsigned-provider.test.records"
	for n in split1 split2; do
		[ -e "$e/split.parent.test@$n.records" ] || : >"$e/split.parent.test@$n.records"
	done
}

# ---- zones -----------------------------------------------------------------

# subst: fill {{SERIAL}} and {{instance}} address placeholders
subst() {
	local args=(-e "s/{{SERIAL}}/$SERIAL/g") n
	for n in $INSTANCES; do args+=(-e "s/{{$n}}/$(inst_addr "$n")/g"); done
	sed "${args[@]}"
}

# zone_input ZONE [INSTANCE] -> the unsigned zone text on stdout
zone_input() {
	local z=$1 inst=${2:-} f c
	f=$(zfile "$z")
	subst <"$HERE/zones/$f.zone" || return 1
	echo
	if [ -f "$DIR/extra/$f.records" ]; then cat "$DIR/extra/$f.records"; echo; fi
	if [ -n "$inst" ] && [ -f "$DIR/extra/$f@$inst.records" ]; then
		cat "$DIR/extra/$f@$inst.records"
		echo
	fi
	for c in $(zone_field "$z" 4); do cat "$DIR/keys/$(zfile "$c").ds"; done
}

# served_file ZONE INSTANCE -> path of the file that instance loads
served_file() {
	local f
	f=$(zfile "$1")
	if [ "$(zone_field "$1" 2)" = signed ]; then
		echo "$DIR/zones/$f.zone.signed"
	else
		echo "$DIR/zones/$f@$2.zone"
	fi
}

# build_zones: new serial, every zone rebuilt; signed zones re-signed in parallel
build_zones() {
	local z f i pids=() rc=0
	SERIAL=$(($(cat "$DIR/serial" 2>/dev/null || echo 1000) + 1))
	echo "$SERIAL" >"$DIR/serial"
	mkdir -p "$DIR/zones"
	for z in $(zone_list); do
		f=$(zfile "$z")
		if [ "$(zone_field "$z" 2)" = signed ]; then
			zone_input "$z" >"$DIR/zones/$f.zone" || return 1
			dnssec-signzone -q -S -K "$DIR/keys/$f" -d "$DIR/keys/$f" -o "$z" -N keep \
				-e +2592000 -f "$DIR/zones/$f.zone.signed.tmp" "$DIR/zones/$f.zone" \
				>"$DIR/zones/$f.sign.log" 2>&1 &
			pids+=($!)
		else
			for i in $(zone_field "$z" 3); do
				zone_input "$z" "$i" >"$DIR/zones/$f@$i.zone.tmp" || return 1
				if named-checkzone -q "$z" "$DIR/zones/$f@$i.zone.tmp"; then
					mv "$DIR/zones/$f@$i.zone.tmp" "$DIR/zones/$f@$i.zone"
				else
					echo "world.sh: zone $z for $i does not load:" >&2
					named-checkzone "$z" "$DIR/zones/$f@$i.zone.tmp" >&2
					rc=1
				fi
			done
		fi
	done
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	for z in $(zone_list); do
		f=$(zfile "$z")
		[ "$(zone_field "$z" 2)" = signed ] || continue
		if [ -s "$DIR/zones/$f.zone.signed.tmp" ] &&
			generic_dsync "$DIR/zones/$f.zone.signed.tmp"; then
			mv "$DIR/zones/$f.zone.signed.tmp" "$DIR/zones/$f.zone.signed"
		else
			echo "world.sh: signing $z failed:" >&2
			cat "$DIR/zones/$f.sign.log" >&2
			rc=1
		fi
	done
	return $rc
}

# Knot 3.2 (Debian 12) does not know DSYNC (type 66), and dnssec-signzone
# writes it by its mnemonic: rewrite such records (and the type in RRSIG and
# NSEC) into RFC 3597 form, which does not change what is signed.
generic_dsync() {
	grep -q 'DSYNC' "$1" || return 0
	python3 - "$1" <<-'EOF'
		import re, sys
		path = sys.argv[1]
		text = open(path).read()
		def wire(name):
		    out = b""
		    for label in name.rstrip(".").split("."):
		        if label:
		            out += bytes([len(label)]) + label.encode()
		    return out + b"\0"
		def generic(m):
		    t = m.group(2)
		    rrtype = 255 if t == "ANY" else int(t[4:]) if t.startswith("TYPE") else {"CDS": 59, "CSYNC": 62}[t]
		    rd = rrtype.to_bytes(2, "big") + bytes([int(m.group(3))]) + int(m.group(4)).to_bytes(2, "big") + wire(m.group(5))
		    return "%sTYPE66\t\\# %d %s" % (m.group(1), len(rd), rd.hex().upper())
		text = re.sub(r"^(\S*\s+\d+\s+(?:IN\s+)?)DSYNC\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)", generic, text, flags=re.M)
		text = re.sub(r"\bDSYNC\b", "TYPE66", text)
		open(path, "w").write(text)
	EOF
}

# ---- resolver configuration --------------------------------------------------

write_anchors() {
	local ksk
	ksk=$(grep -l 'key-signing' "$DIR"/keys/root/K*.key | head -1)
	grep -v '^;' "$ksk" >"$DIR/root.key"
	dnssec-dsfromkey -2 "$ksk" >"$DIR/root.ds"
	awk '{ for (t = 2; $t != "DNSKEY"; t++);
	       printf "trust-anchors {\n\t\"%s\" static-key %s %s %s \"", $1, $(t + 1), $(t + 2), $(t + 3);
	       for (i = t + 4; i <= NF; i++) printf "%s", $i; printf "\";\n};\n" }' \
		"$DIR/root.key" >"$DIR/anchors.conf"
	{
		echo ".			3600000 NS a.root-servers.test."
		echo "a.root-servers.test.	3600000 A $(inst_addr root)"
	} >"$DIR/root.hints"
	{
		echo "# libunbound / unbound settings for the test world in $DIR"
		echo "server:"
		echo "	do-not-query-localhost: no"
		echo "	local-zone: \"test.\" transparent"
		echo "	root-hints: \"$DIR/root.hints\""
		echo "	trust-anchor-file: \"$DIR/root.key\""
	} >"$DIR/unbound.conf"
	{
		echo "WORLD_DIR=$DIR"
		echo "WORLD_BASE=$WORLD_BASE"
		for n in $INSTANCES; do echo "WORLD_ADDR_$n=$(inst_addr "$n")"; done
	} >"$DIR/world.env"
}

# ---- servers -----------------------------------------------------------------

# instance_zones INSTANCE -> the zones it serves
instance_zones() {
	local z
	for z in $(zone_list); do
		case " $(zone_field "$z" 3) " in *" $1 "*) echo "$z" ;; esac
	done
}

write_knot_conf() {
	local n=$1 r=$DIR/run/$1 z
	mkdir -p "$r/db"
	{
		echo "server:"
		echo "    rundir: \"$r\""
		echo "    listen: $(inst_addr "$n")@53"
		echo "    udp-workers: 1"
		echo "    tcp-workers: 1"
		echo "    background-workers: 1"
		echo "control:"
		echo "    listen: \"$r/knot.sock\""
		echo "database:"
		echo "    storage: \"$r/db\""
		echo "log:"
		echo "  - target: stderr"
		echo "    any: info"
		echo "template:"
		echo "  - id: default"
		echo "    storage: \"$DIR/zones\""
		echo "    zonefile-sync: -1"
		echo "    zonefile-load: whole"
		echo "    journal-content: none"
		echo "    dnssec-signing: off"
		echo "zone:"
		for z in $(instance_zones "$n"); do
			echo "  - domain: \"$z\""
			echo "    file: \"$(served_file "$z" "$n")\""
		done
	} >"$r/knot.conf"
}

pid_of() { cat "$DIR/run/$1/pid" 2>/dev/null; }

# running PID CONF: the process exists, is not a zombie (PID 1 may reap
# late, and a zombie holds no socket) and is the knotd of CONF (not a
# reused PID)
running() {
	local st
	[ -n "$1" ] && st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ] && [ "$st" != X ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}
alive() { running "$(pid_of "$1")" "$DIR/run/$1/knot.conf"; }

# soa_serial ADDR ZONE -> serial served (empty when no answer)
soa_serial() {
	kdig @"$1" -p 53 +norec +time=1 +retry=0 +short SOA "$2" 2>/dev/null | awk 'NR == 1 { print $3 }'
}

# wait_serving INSTANCE: every zone of the instance answers with $SERIAL (~5 s max)
wait_serving() {
	local n=$1 a z i
	a=$(inst_addr "$n")
	for z in $(instance_zones "$n"); do
		for i in $(seq 100); do
			[ "$(soa_serial "$a" "$z")" = "$SERIAL" ] && continue 2
			alive "$n" || break
			sleep 0.05
		done
		echo "world.sh: $n ($a) does not serve $z serial $SERIAL" >&2
		return 1
	done
}

port_busy() {
	ss -Hlnu "( sport = :53 )" 2>/dev/null | awk '{ print $4 }' | grep -qx "$1:53" ||
		ss -Hlnt "( sport = :53 )" 2>/dev/null | awk '{ print $4 }' | grep -qx "$1:53"
}

stop_instance() {
	local n=$1 p i
	p=$(pid_of "$n") || return 0
	if alive "$n"; then
		kill -TERM "$p" 2>/dev/null
		for i in $(seq 100); do
			alive "$n" || break
			sleep 0.05
		done
		if alive "$n"; then
			echo "world.sh: $n (pid $p) ignores SIGTERM, killing" >&2
			kill -KILL "$p" 2>/dev/null
			sleep 0.1
		fi
	fi
	rm -f "$DIR/run/$n/pid"
}

cmd_stop() {
	local n
	for n in $INSTANCES; do stop_instance "$n"; done
	return 0
}

cmd_start() {
	local n a t0 t1
	t0=$(date +%s.%N)
	mkdir -p "$DIR/run" || die "cannot create $DIR"
	DIR=$(cd "$DIR" && pwd)
	for n in $INSTANCES; do
		alive "$n" && die "$n is already running in $DIR (pid $(pid_of "$n"))"
		a=$(inst_addr "$n")
		port_busy "$a" && die "$a:53 is already in use"
	done
	make_keys || die "key generation failed"
	default_extras
	build_zones || die "zone build failed"
	write_anchors
	for n in $INSTANCES; do
		write_knot_conf "$n"
		setsid knotd -c "$DIR/run/$n/knot.conf" >"$DIR/run/$n/knotd.log" 2>&1 </dev/null &
		echo $! >"$DIR/run/$n/pid"
	done
	for n in $INSTANCES; do
		if ! wait_serving "$n"; then
			tail -5 "$DIR/run/$n/knotd.log" >&2
			cmd_stop
			die "start failed"
		fi
	done
	t1=$(date +%s.%N)
	echo "world started in $DIR ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s), serial $SERIAL"
}

cmd_reload() {
	local n
	[ -f "$DIR/world.env" ] || die "no world in $DIR"
	DIR=$(cd "$DIR" && pwd)
	build_zones || die "zone build failed"
	for n in $INSTANCES; do
		alive "$n" || die "$n is not running"
		knotc -c "$DIR/run/$n/knot.conf" -b zone-reload >>"$DIR/run/$n/knotc.log" 2>&1 ||
			die "knotc zone-reload failed for $n"
	done
	for n in $INSTANCES; do wait_serving "$n" || die "reload failed"; done
	echo "world reloaded, serial $SERIAL"
}

cmd_status() {
	local n a z s up=0 down=0
	for n in $INSTANCES; do
		a=$(inst_addr "$n")
		if alive "$n"; then
			s=""
			for z in $(instance_zones "$n"); do s="$s $z=$(soa_serial "$a" "$z")"; done
			if [[ "$s" =~ =( |$) ]]; then
				echo "$n $a pid $(pid_of "$n") NOT ANSWERING:$s"
				down=$((down + 1))
			else
				echo "$n $a pid $(pid_of "$n") up:$s"
				up=$((up + 1))
			fi
		else
			echo "$n $a down"
			down=$((down + 1))
		fi
	done
	[ $down -eq 0 ]
}

cmd_addr() {
	local n=$1
	if [ -n "${2:-}" ] && [ -f "$2/world.env" ]; then
		WORLD_BASE=$(sed -n 's/^WORLD_BASE=//p' "$2/world.env")
	fi
	inst_addr "$n" 2>/dev/null && return 0
	n=$(host_inst "$n") || die "unknown server name $1"
	inst_addr "$n"
}

usage() {
	sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

[ $# -ge 2 ] || usage
case $1 in
start | stop | status | reload)
	DIR=$2
	if [ "$1" != start ] && [ -f "$DIR/world.env" ]; then
		WORLD_BASE=$(sed -n 's/^WORLD_BASE=//p' "$DIR/world.env")
	fi
	"cmd_$1"
	;;
addr) cmd_addr "$2" "${3:-}" ;;
key)
	[ $# -ge 3 ] || usage
	DIR=$2
	z=$3
	sig0_prefix "${z%.}." || die "no SIG(0) key for $z in $DIR"
	;;
*) usage ;;
esac
