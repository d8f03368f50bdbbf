#!/usr/bin/env bash
# The automatic key bootstrap methods (keystate/methods.c) against the real
# Knot servers of tests/world, through tests/tools/bm-probe: every outcome
# of at-apex (secure, insecure, bogus, other key), at-ns (all/any, insecure
# provider, in-bailiwick only) and one unsigned round (agreement, a server
# that differs, lacks the key, refuses, does not exist, does not listen,
# never answers, several vantage points), each with its reason line.
# The unsigned round also goes through a real recursive resolver (an unbound
# daemon with the world's settings on 127.0.0.88): alone, together with the
# nameservers, disagreeing with one of them, NXDOMAIN, NODATA, SERVFAIL, a
# server that does not recurse, a silent and a stopped resolver.
. "$(dirname "$0")/lib.sh"
PROBE=$BIN/bm-probe
world_init 80 knotd knotc kdig dnssec-keygen dnssec-signzone dnssec-dsfromkey named-checkzone python3 ss
[ -x "$PROBE" ] || { not_ok "bm-probe is built in $BUILD"; finish; }

# The recursive resolver for the resolver vantage points: unbound in the
# foreground (its PID is ours), on a loopback address of its own.
RES=127.0.0.88
RES_RE=${RES//./\\.}
UB=$T/unbound
UB_PID=
ubc() { timeout 10 unbound-control -c "$UB/unbound.conf" "$@"; }
alive() { # PID: running and not a zombie
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}
start_unbound() {
	mkdir -p "$UB"
	cat >"$UB/unbound.conf" <<EOF
server:
	interface: $RES
	port: 53
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$UB"
	pidfile: "$UB/unbound.pid"
	use-syslog: no
	logfile: "$UB/unbound.log"
	num-threads: 1
	do-ip6: no
	module-config: "validator iterator"
	access-control: 127.0.0.0/8 allow
include: "$W/unbound.conf"
remote-control:
	control-enable: yes
	control-use-cert: no
	control-interface: "$UB/control.sock"
EOF
	unbound -d -c "$UB/unbound.conf" >>"$UB/stderr.log" 2>&1 &
	UB_PID=$!
	for _ in $(seq 50); do
		ubc status >/dev/null 2>&1 && return 0
		alive "$UB_PID" || break
		sleep 0.1
	done
	return 1
}
stop_unbound() { # SIGTERM, SIGKILL after 5 s
	[ -n "$UB_PID" ] || return 0
	kill -TERM "$UB_PID" 2>/dev/null
	for _ in $(seq 50); do
		alive "$UB_PID" || break
		sleep 0.1
	done
	kill -KILL "$UB_PID" 2>/dev/null
	wait "$UB_PID" 2>/dev/null
	UB_PID=
}
trap 'stop_unbound; world_stop; cleanup' EXIT

world_started "world.sh start succeeds" "$T/start.log"

S1=$(bash "$WS" addr split1 "$W")
S2=$(bash "$WS" addr split2 "$W")

# probe [bm-probe args]: run it with the world's resolver settings; sets OUT and RC
probe() {
	OUT=$(timeout 30 "$PROBE" --config "$W/unbound.conf" --timeout 3000 "$@" 2>>"$T/probe.err")
	RC=$?
}
# outcome DESC EXIT REGEX [bm-probe args]: the exit status and the printed line
outcome() {
	local desc=$1 want=$2 re=$3
	shift 3
	probe "$@"
	expect "$desc: exit $want" "$want" "$RC"
	expect_match "$desc: reason" "$re" "$OUT"
}
# outcomes: one outcome for each record on stdin, a record being three
# lines (EXIT DESC; REGEX; the bm-probe arguments, split at blanks) and
# records separated by an empty line
outcomes() {
	local want desc re args
	while read -r want desc; do
		[ -n "$want" ] || continue
		IFS= read -r re
		read -ra args
		outcome "$desc" "$want" "$re" "${args[@]}" </dev/null
	done
}

# timed_outcome DESC EXIT REGEX WHEN WHEN-REGEX [bm-probe args]: an
# outcome whose time in seconds must match WHEN-REGEX ("... WHEN (N s)")
timed_outcome() {
	local desc=$1 want=$2 re=$3 when=$4 wre=$5 t0 d
	shift 5
	t0=$(now)
	outcome "$desc" "$want" "$re" "$@"
	d=$(secs "$t0" "$(now)")
	expect_match "... $when ($d s)" "$wre" "$d"
}

world_keys
# the split servers' addresses as regular expressions
S1_RE=${S1//./\\.}
S2_RE=${S2//./\\.}

# --- at-apex ------------------------------------------------------------------------
outcomes <<EOF
0 at-apex, signed child
^ok: at-apex: KEY RRset of signed\.parent\.test\. is secure and holds the key$
at-apex signed.parent.test. $KS.key

3 at-apex, unsigned child
^not-applicable: at-apex: unsigned\.parent\.test\. is not signed: .*insecure
at-apex unsigned.parent.test. $KU

1 at-apex, bogus child (unbound's reason)
^fail: at-apex: KEY RRset of bogus\.parent\.test\. is bogus \(.*(DS|chain of trust).*\)$
at-apex bogus.parent.test. $KB

1 at-apex, signed child with another key
^fail: at-apex: KEY RRset of signed\.parent\.test\. \(secure, 1 key\) does not hold the key$
at-apex signed.parent.test. $KU

1 at-apex, a name that does not exist
^fail: at-apex: nx\.parent\.test\. does not exist \(secure NXDOMAIN\)$
at-apex nx.parent.test. $KS
EOF

# --- the resolver settings a private root needs (doc/bootstrap.md) ---------------------
# root hints and the root's trust anchor; libunbound already allows
# loopback servers (do-not-query-localhost only matters when a config file
# sets it to yes); a tree under test. also needs test. out of unbound's
# default local zones, which only a config file can say
minimal() { # DESC EXIT REGEX [extra bm-probe args]
	local desc=$1 want=$2 re=$3
	shift 3
	OUT=$(timeout 30 "$PROBE" --ta "$W/root.key" --hints "$W/root.hints" --timeout 3000 "$@" \
		at-apex signed.parent.test. "$KS.key" 2>>"$T/probe.err")
	RC=$?
	expect "$desc: exit $want" "$want" "$RC"
	expect_match "$desc: result" "$re" "$OUT"
}
printf 'server:\n\tlocal-zone: "test." transparent\n' >"$T/test-zone.conf"
minimal "root hints + trust anchor + test. transparent" 0 '^ok: at-apex: .* is secure' \
	--config "$T/test-zone.conf"
minimal "root hints + trust anchor alone: unbound answers test. itself (insecure NXDOMAIN)" 3 \
	'^not-applicable: at-apex: signed\.parent\.test\. is not signed: .*does not exist \(insecure NXDOMAIN\)'
printf 'server:\n\tlocal-zone: "test." transparent\n\tdo-not-query-localhost: yes\n' >"$T/no-local.conf"
minimal "do-not-query-localhost: yes set by a config file: the loopback root is not asked" 2 \
	'^temporary: at-apex: signed\.parent\.test\. KEY: the resolver answered SERVFAIL' --config "$T/no-local.conf"

# --- at-ns --------------------------------------------------------------------------
outcomes <<EOF
0 at-ns, both providers publish the key
^ok: at-ns: all 2 nameservers of unsigned\.parent\.test\. outside its bailiwick
at-ns unsigned.parent.test. $KU ns1.provider.test. ns2.provider.test.

0 at-ns, an in-bailiwick NS does not count
^ok: at-ns: all 1 nameservers of unsigned\.parent\.test\.
at-ns unsigned.parent.test. $KU ns1.provider.test. ns.unsigned.parent.test.=127.0.0.1

1 at-ns, provider zone unsigned
^fail: at-ns: KEY RRset of _sig0key\.insecure-ns\.parent\.test\._signal\.ns1\.unsigned-provider\.test\. is insecure
at-ns insecure-ns.parent.test. $KI ns1.unsigned-provider.test.

3 at-ns, only in-bailiwick nameservers
^not-applicable: at-ns: split\.parent\.test\. has no nameserver outside its own bailiwick
at-ns split.parent.test. $KP ns1.split.parent.test.=$S1 ns2.split.parent.test.=$S2

1 at-ns, no _signal name for this child
^fail: at-ns: _sig0key\.signed\.parent\.test\._signal\.ns1\.provider\.test\. does not exist \(secure NXDOMAIN\)
at-ns signed.parent.test. $KS ns1.provider.test.
EOF
probe --rounds 2 at-ns unsigned.parent.test. "$KU" ns1.provider.test. ns2.provider.test.
expect "at-ns twice, the resolver flushed in between: exit 0" 0 "$RC"
expect "... both rounds ok" "ok ok" "$(echo "$OUT" | cut -d: -f1 | paste -sd' ')"

# --- unsigned through a recursive resolver -----------------------------------------
UB_UP=0
if ! command -v unbound >/dev/null || ! command -v unbound-control >/dev/null; then
	not_ok "unbound is installed (Debian package unbound): resolver checks skipped"
elif ss -Hlntu | awk '{ print $5 }' | grep -qx "$RES:53"; then
	not_ok "$RES port 53 is free for the resolver: resolver checks skipped"
elif start_unbound; then
	UB_UP=1
	ok "unbound serves on $RES#53 (PID $UB_PID)"
else
	not_ok "unbound starts on $RES#53"
	tail -5 "$UB/unbound.log" "$UB/stderr.log" 2>/dev/null
fi
if [ $UB_UP = 1 ]; then
	# no glue and no address lookups: the nameservers are not asked
	outcomes <<EOF
0 unsigned, through the resolver only
^ok: unsigned: split\.parent\.test\. KEY RRset via resolver $RES_RE#53 \(1 key\) holds the key \(the nameservers themselves were not asked\)$
--via-resolver $RES unsigned split.parent.test. $KP ns1.split.parent.test. ns2.split.parent.test.

0 unsigned, both split servers and the resolver agree
^ok: unsigned: 2 addresses of 2 nameservers of split\.parent\.test\. answer the same KEY RRset \(1 key\) holding the key, from 1 vantage point and through 1 resolver$
--vantage any --via-resolver $RES#53 unsigned split.parent.test. $KP ns1.split.parent.test.=$S1 ns2.split.parent.test.=$S2

1 unsigned via the resolver, the RRset lacks the key
^fail: unsigned: split\.parent\.test\. KEY via resolver $RES_RE#53: the KEY RRset \(1 key\) lacks the key$
--via-resolver $RES unsigned split.parent.test. $KS ns1.split.parent.test.

1 unsigned via the resolver, NXDOMAIN
^fail: unsigned: nx\.split\.parent\.test\. KEY via resolver $RES_RE#53: NXDOMAIN$
--via-resolver $RES unsigned nx.split.parent.test. $KP ns.nx.split.parent.test.

1 unsigned via the resolver, NODATA
^fail: unsigned: ns1\.split\.parent\.test\. KEY via resolver $RES_RE#53: no KEY RRset \(NODATA\)$
--via-resolver $RES unsigned ns1.split.parent.test. $KP ns.split.parent.test.

2 unsigned via the resolver, SERVFAIL (bogus child) is temporary
^temporary: unsigned: bogus\.parent\.test\. KEY via resolver $RES_RE#53: answered SERVFAIL$
--via-resolver $RES unsigned bogus.parent.test. $KB ns1.provider.test.
EOF
	# the authoritative server answers AA with the key, but does not recurse
	outcome "unsigned via a server that does not recurse is temporary" 2 \
		"^temporary: unsigned: split\\.parent\\.test\\. KEY via resolver $S1_RE#53: the server does not offer recursion \\(RA clear\\)\$" \
		--via-resolver "$S1" unsigned split.parent.test. "$KP" ns1.split.parent.test.
fi

# ns2.provider.test. now publishes another key for unsigned.parent.test.
sed -n '/_signal\.ns1\.provider\.test\./p' "$W/extra/provider.test.records" >"$T/prov.records"
grep -v '^;' "$KS.key" | awk '{ $1 = "_sig0key.unsigned.parent.test._signal.ns2.provider.test."; print }' \
	>>"$T/prov.records"
cp "$T/prov.records" "$W/extra/provider.test.records"
# split2's copy of split.parent.test. gets a second KEY
K2=$(mkkey split.parent.test. ECDSAP256SHA256)
grep -v '^;' "$K2.key" >"$W/extra/split.parent.test@split2.records"
bash "$WS" reload "$W" >"$T/reload.log" 2>&1
rc=$?
expect "world.sh reload succeeds" 0 $rc
[ $rc -eq 0 ] || cat "$T/reload.log"

outcomes <<EOF
1 at-ns, one provider differs, require all
^fail: at-ns: KEY RRset of _sig0key\.unsigned\.parent\.test\._signal\.ns2\.provider\.test\. \(secure, 1 key\) does not hold the key \(1 of 2
at-ns unsigned.parent.test. $KU ns1.provider.test. ns2.provider.test.

0 at-ns, one provider differs, --any
^ok: at-ns: KEY RRset of _sig0key\.unsigned\.parent\.test\._signal\.ns1\.provider\.test\. is secure and holds the key \(1 of 2 nameservers; failing: .*ns2\.provider\.test\.
--any at-ns unsigned.parent.test. $KU ns1.provider.test. ns2.provider.test.
EOF

# --- unsigned -----------------------------------------------------------------------
outcomes <<EOF
0 unsigned, NS names resolved through the resolver
^ok: unsigned: 2 addresses of 2 nameservers of unsigned\.parent\.test\. answer the same KEY RRset \(1 key\)
unsigned unsigned.parent.test. $KU ns1.provider.test. ns2.provider.test.

0 unsigned, one split server (glue)
^ok: unsigned: 1 address of 1 nameserver of split\.parent\.test\. answer the same KEY RRset \(1 key\)
unsigned split.parent.test. $KP ns1.split.parent.test.=$S1

1 unsigned, ns2.split serves another KEY RRset
^fail: unsigned: split\.parent\.test\. KEY RRset at ns2\.split\.parent\.test\. $S2_RE#53 \(2 keys\) differs from the one at ns1\.split\.parent\.test\. $S1_RE#53 \(1 key\)$
unsigned split.parent.test. $KP ns1.split.parent.test.=$S1 ns2.split.parent.test.=$S2
EOF
if [ $UB_UP = 1 ]; then
	# The resolver asks either split server; what it got is cached (TTL 60 s),
	# so it answers the same to both probes.  Whichever server it asked, the
	# other one's direct answer disagrees with it.
	ubc flush_zone split.parent.test. >>"$T/ubc.log" 2>&1
	expect "unbound-control flush_zone split.parent.test." 0 $?
	NRES=$(kdig @$RES +tcp +time=3 +retry=0 +short split.parent.test. KEY | grep -c .)
	expect_match "the resolver answers one split server's KEY RRset ($NRES key(s))" '^[12]$' "$NRES"
	probe --vantage any --via-resolver $RES unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1"
	OUT1=$OUT RC1=$RC
	probe --vantage any --via-resolver $RES unsigned split.parent.test. "$KP" ns2.split.parent.test.="$S2"
	OUT2=$OUT RC2=$RC
	if [ "$NRES" = 2 ]; then
		expect "resolver (split2's set) and ns1 disagree: exit 1" 1 "$RC1"
		expect_match "... reason names the resolver and ns1" \
			"^fail: unsigned: split\\.parent\\.test\\. KEY RRset via resolver $RES_RE#53 \\(2 keys\\) differs from the one at ns1\\.split\\.parent\\.test\\. $S1_RE#53 \\(1 key\\)\$" "$OUT1"
		expect "resolver (split2's set) and ns2 agree: exit 0" 0 "$RC2"
		expect_match "... reason" '^ok: unsigned: 1 address .* \(2 keys\) .* and through 1 resolver$' "$OUT2"
	else
		expect "resolver (split1's set) and ns1 agree: exit 0" 0 "$RC1"
		expect_match "... reason" '^ok: unsigned: 1 address .* \(1 key\) .* and through 1 resolver$' "$OUT1"
		expect "resolver (split1's set) and ns2 disagree: exit 1" 1 "$RC2"
		expect_match "... reason names the resolver and ns2" \
			"^fail: unsigned: split\\.parent\\.test\\. KEY RRset via resolver $RES_RE#53 \\(1 key\\) differs from the one at ns2\\.split\\.parent\\.test\\. $S2_RE#53 \\(2 keys\\)\$" "$OUT2"
	fi
fi
outcomes <<EOF
1 unsigned, the servers do not hold the key
^fail: unsigned: split\.parent\.test\. KEY at ns1\.split\.parent\.test\. $S1_RE#53: the KEY RRset \(1 key\) lacks the key$
unsigned split.parent.test. $KS ns1.split.parent.test.=$S1

1 unsigned, the child does not exist there
^fail: unsigned: nx\.split\.parent\.test\. KEY at .*: NXDOMAIN$
unsigned nx.split.parent.test. $KP ns.nx.split.parent.test.=$S1

2 unsigned, a server that does not serve the child
^temporary: unsigned: signed\.parent\.test\. KEY at .*: answered REFUSED$
unsigned signed.parent.test. $KS ns.signed.parent.test.=$S1

2 unsigned, in-bailiwick NS without glue
^temporary: unsigned: no glue address for ns1\.split\.parent\.test\.
unsigned split.parent.test. $KP ns1.split.parent.test.
EOF

# split2 back to the common copy: both servers, two vantage points
: >"$W/extra/split.parent.test@split2.records"
bash "$WS" reload "$W" >"$T/reload2.log" 2>&1
expect "world.sh reload (split2 restored) succeeds" 0 $?
outcome "unsigned, both split servers agree" 0 \
	'^ok: unsigned: 2 addresses of 2 nameservers of split\.parent\.test\. answer the same KEY RRset \(1 key\) holding the key, from 1 vantage point$' \
	unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.="$S2"
outcome "unsigned, two vantage points" 0 \
	'from 2 vantage points$' \
	--vantage 127.0.0.1 --vantage 127.0.0.2 \
	unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.="$S2"
if [ $UB_UP = 1 ]; then
	ubc flush_zone split.parent.test. >>"$T/ubc.log" 2>&1
	expect "unbound-control flush_zone split.parent.test. (split2 restored)" 0 $?
	outcome "unsigned, two vantage points and the resolver agree" 0 \
		'^ok: unsigned: 2 addresses of 2 nameservers of split\.parent\.test\. answer the same KEY RRset \(1 key\) holding the key, from 2 vantage points and through 1 resolver$' \
		--vantage 127.0.0.1 --vantage 127.0.0.2 --via-resolver $RES \
		unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.="$S2"
fi
# a source address this host does not have: the vantage point is really used
outcome "unsigned, a vantage point that cannot be bound" 2 \
	'^temporary: unsigned: .* from 192\.0\.2\.1: cannot bind source 192\.0\.2\.1#0' \
	--vantage 192.0.2.1 unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1"

# --- unreachable servers and the deadline ------------------------------------------
timed_outcome "unsigned, nothing listens on the NS address" 2 \
	'^temporary: unsigned: split\.parent\.test\. KEY at ns1\.split\.parent\.test\. 127\.0\.0\.99#53: connection refused$' \
	"answered within the timeout + 1 s" '^[0-2]\.' \
	--timeout 2000 unsigned split.parent.test. "$KP" ns1.split.parent.test.=127.0.0.99

# a server that accepts the connection and never answers
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.98", 53))
s.listen(16)
print("listening", flush=True)
time.sleep(60)
' >"$T/silent.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$T/silent.log" && break; sleep 0.1; done
timed_outcome "unsigned, a server that never answers" 2 \
	'^temporary: unsigned: split\.parent\.test\. KEY at ns1\.split\.parent\.test\. 127\.0\.0\.98#53: no answer within 2000 ms$' \
	"gave up after the 2 s timeout, within 3 s" '^2\.' \
	--timeout 2000 unsigned split.parent.test. "$KP" ns1.split.parent.test.=127.0.0.98
timed_outcome "unsigned, a silent server makes the round temporary, not a fail" 2 \
	'^temporary: .*127\.0\.0\.98#53: no answer within 1000 ms$' \
	"within the timeout + 1 s" '^1\.' \
	--timeout 1000 unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.=127.0.0.98

# at most 4 addresses per NS name: 6 glue addresses in this order, the two
# after the first four (the silent server, then nothing listening) not asked
timed_outcome "unsigned, 6 glue addresses of one NS: the first 4 asked" 0 \
	'^ok: unsigned: 4 addresses of 1 nameserver of split\.parent\.test\. answer the same KEY RRset \(1 key\) holding the key, from 1 vantage point \(2 more addresses not asked\)$' \
	"the silent 5th address not waited for, within 2 s" '^[01]\.' \
	--timeout 2000 unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" \
	ns1.split.parent.test.="$S2" ns1.split.parent.test.="$S1" ns1.split.parent.test.="$S2" \
	ns1.split.parent.test.=127.0.0.98 ns1.split.parent.test.=127.0.0.99
# the round's budget: queries x timeout at most 60 s, so 3 queries at 20 s
outcome "unsigned, a round stops at its 60 s budget" 2 \
	'^temporary: unsigned: round stopped after 3 queries: one more at 20000 ms each would exceed the round.s budget of 60 s$' \
	--timeout 20000 unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" \
	ns2.split.parent.test.="$S2" ns1.split.parent.test.="$S2" ns2.split.parent.test.="$S1"

timed_outcome "unsigned, a resolver that never answers" 2 \
	'^temporary: unsigned: split\.parent\.test\. KEY via resolver 127\.0\.0\.98#53: no answer within 1000 ms$' \
	"within the timeout + 1 s" '^1\.' \
	--timeout 1000 --via-resolver 127.0.0.98 unsigned split.parent.test. "$KP" ns1.split.parent.test.
if [ $UB_UP = 1 ]; then
	stop_unbound
	if ss -Hlntu | awk '{ print $5 }' | grep -qx "$RES:53"; then
		not_ok "unbound stopped: $RES port 53 is closed"
	else
		ok "unbound stopped: $RES port 53 is closed"
	fi
	timed_outcome "unsigned, the nameservers agree but the resolver is down" 2 \
		"^temporary: unsigned: split\\.parent\\.test\\. KEY via resolver $RES_RE#53: connection refused\$" \
		"answered within the timeout + 1 s" '^[0-2]\.' \
		--timeout 2000 --vantage any --via-resolver $RES \
		unsigned split.parent.test. "$KP" ns1.split.parent.test.="$S1" ns2.split.parent.test.="$S2"
fi

# --- setup errors -------------------------------------------------------------------
"$PROBE" --ta "$T/nonexistent" at-apex signed.parent.test. "$KS" >/dev/null 2>"$T/err.txt"
expect "a missing trust anchor file is a setup error" 64 $?
expect_match "... that names the file" 'trust anchor file .*nonexistent' "$(cat "$T/err.txt")"
printf 'server:\n\tdo-not-query-localhost: no\n' >"$T/noanchor.conf"
"$PROBE" --config "$T/noanchor.conf" at-apex signed.parent.test. "$KS" >/dev/null 2>"$T/err.txt"
expect "an unbound config without a trust anchor is refused" 64 $?
expect_match "... saying why" 'no DNSSEC trust anchor' "$(cat "$T/err.txt")"
"$PROBE" frobnicate signed.parent.test. "$KS" >/dev/null 2>&1
expect "an unknown method is a usage error" 64 $?
"$PROBE" --via-resolver "$RES#x" unsigned split.parent.test. "$KP" ns1.split.parent.test. >/dev/null 2>"$T/err.txt"
expect "a bad --via-resolver address is a usage error" 64 $?
expect_match "... saying which" 'bad --via-resolver address "127\.0\.0\.88#x"' "$(cat "$T/err.txt")"

if grep -qE "Sanitizer|runtime error" "$T/probe.err"; then
	not_ok "bm-probe ran without sanitizer reports"
	grep -E -A10 "Sanitizer|runtime error" "$T/probe.err" | head -30
else
	ok "bm-probe ran without sanitizer reports"
fi
finish
