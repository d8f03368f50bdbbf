# tests/integration/lib-send.sh -- helpers for tests that drive dsyncd with
# dsync-send and hand-built messages (sourced after lib.sh; needs ADDR, PORT).

# py 'CODE': run python with s0.py imported
py() { python3 -c "import sys; sys.path.insert(0, '$TOP/tests/integration'); from s0 import *; $1"; }
# ds ARGS...: dsync-send to our daemon, prints the last output line; when
# the request was answered, waits for its decision's log line (written just
# after the answer) so that the next request's line cannot be mistaken for it
ndec() { grep -c ' rcode=' "$T/dsyncd.log"; }
ds() {
	local n out i
	n=$(ndec)
	out=$("$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 2000 "$@" 2>&1 | tail -1)
	if [[ "$out" =~ ^rcode=[A-Z] ]]; then
		for i in $(seq 40); do [ "$(ndec)" -gt "$n" ] && break; sleep 0.05; done
	fi
	echo "$out"
}
# last_reason N: the reason of the first decision logged after N decision lines
last_reason() {
	grep ' rcode=' "$T/dsyncd.log" | sed -n "$(($1 + 1))p" | sed -n 's/.* reason="\(.*\)".*/\1/p'
}
nout() { sqlite3 "$T/db/dsyncd.db" "select count(*) from outbox_change"; }
# ns_file FILE N KEYPREFIX: a hand-built UPDATE of N NS records for
# child.example. and an OPT, signed with the key (dsync-send takes at most 256)
ns_file() {
	py "out('$1', sign(msg(update=[rr('child.example.', 2, 1, 300, wname('n%d.provider.net.' % i)) for i in range($2)], add=[opt()]), '$3'))"
}
# too_many DESC REGEX KEYPREFIX N RECORD: an UPDATE of N records (RECORD,
# its %d numbering them 1 to N) signed with the key, refused as over a
# limit: REFUSED, EDE 18, the text matching REGEX (see bad)
too_many() {
	local desc=$1 re=$2 key=$3 n=$4 fmt=$5 i args=()
	for i in $(seq "$n"); do args+=(--add "$(printf "$fmt" "$i")"); done
	bad "$desc" REFUSED 18 "$re" -k "$key" "${args[@]}"
}

# bad DESC RCODE EDE TEXT-REGEX DSYNC-SEND-ARGS...: one refused request;
# checks RCODE + EDE (EDE "*" = any, "-" = none), the text (unless the
# regex is empty) and that the store did not change
bad() {
	local desc=$1 rc=$2 ede=$3 re=$4 out before got nlog
	shift 4
	before=$(state_dump)
	nlog=$(ndec)
	out=$(ds "$@")
	got="$(f_rcode "$out") ede=$(f_ede "$out")"
	if [ "$ede" = "*" ]; then
		expect_match "$desc -> $rc" "^$rc ede=" "$got"
	else
		expect "$desc -> $rc ede=$ede" "$rc ede=$ede" "$got"
	fi
	if [ -n "$re" ] && { [ "$ede" = - ] || { [ "$ede" = "*" ] && [ -z "$(f_text "$out")" ]; }; }; then
		# no OPT in the answer: the reason is in the log line of the decision
		expect_match "$desc: logged reason" "$re" "$(last_reason "$nlog")"
	elif [ -n "$re" ]; then
		expect_match "$desc: EDE text" "$re" "$(f_text "$out")"
	fi
	expect "$desc: store unchanged" "$before" "$(state_dump)"
}
