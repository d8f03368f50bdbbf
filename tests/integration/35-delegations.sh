#!/usr/bin/env bash
# The delegation lifecycle: a child's delegation created and deleted through
# the admin API (curl), dsyncctl and `dsyncd delegation add|delete`; each
# change reaches the zonefile backend's output and the audit log with its
# actor; a deleted child's keys stop working (at once through the API, on
# SIGHUP after the local command); 404/409 and bad records change nothing;
# a delegation added while dsyncd is stopped is served after its start.
# Import: a file of another zone is refused, a file cut short or broken
# anywhere changes nothing, --dry-run prints the difference and changes
# nothing, children the file lacks are kept unless --prune, progress shows
# on a terminal only.
. "$(dirname "$0")/lib.sh"
need dnssec-keygen nsupdate curl sqlite3
ADDR=127.0.0.42
PORT=5354
BASE=http://$ADDR:8053
ADM=ops-admin-0123456789abcdef
RD=reader-0123456789abcdef-tok
OUTF=$T/out/example.delegations
CTL=$BIN/dsyncctl
DS="12345 13 2 $(printf 'AB%.0s' $(seq 32))"

mkdir -p "$T/out" "$T/db"
cat >"$T/dsyncd.conf" <<EOF
server = { listen = [ "$ADDR" ]; port = $PORT; workers = 2; };
store = { path = "$T/db/dsyncd.db"; };
log = { level = "debug"; };
outbox = { retry-min = 1; retry-max = 2; };
zones = ( { name = "example.";
            children = ( { name = "config.example."; } );
            backends = ( { type = "zonefile"; path = "$OUTF"; } ); },
          { name = "other.test."; backends = ( { type = "null"; } ); } );
api = { listen = "$ADDR"; port = 8053; tokens-file = "$T/tokens"; };
EOF
printf 'ops admin %s\ngrafana read %s\n' "$ADM" "$RD" >"$T/tokens"
chmod 600 "$T/tokens"
echo "$ADM" >"$T/admin.tok"
chmod 600 "$T/admin.tok"
unset DSYNCCTL_URL DSYNCCTL_TOKEN DSYNCCTL_TOKEN_FILE DSYNCCTL_CONFIG DSYNCCTL_CACERT \
	http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export XDG_CONFIG_HOME=$T/xdg HOME=$T/home DSYNCCTL_URL=$BASE DSYNCCTL_TOKEN_FILE=$T/admin.tok

D() { "$BIN/dsyncd" -c "$T/dsyncd.conf" "$@"; }
# api METHOD PATH [TOKEN [BODY]]: prints the status; the body in $T/resp
api() {
	local m=$1 p=$2 tok=${3-$ADM} body=${4-} args
	args=(-s -o "$T/resp" -w '%{http_code}' -X "$m")
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	curl "${args[@]}" "$BASE$p"
}
j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/resp" "$1" 2>&1; }
# in_out REGEX / not_in_out REGEX: the zonefile backend's output has (lacks) a line
in_out() { grep -qE "$1" "$OUTF" 2>/dev/null; }
not_in_out() { [ -f "$OUTF" ] && ! grep -qE "$1" "$OUTF"; }
# audit_rows CHILD: actor and result of its rows about the delegation (not its keys)
audit_rows() { sqlite3 "$T/db/dsyncd.db" "select actor || ' ' || result from audit where child = '$1' and request != 'key' order by id"; }
children() { sqlite3 "$T/db/dsyncd.db" "select name_text from children order by 1" | tr '\n' ' '; }
nsadd() { # KEYPREFIX CHILD: the child's nsupdate of two NS, signed with the key
	{ echo "zone example."; echo "update add $2 300 NS ns1.b.net."; echo "update add $2 300 NS ns2.b.net."; } |
		nsu "$1" $ADDR $PORT
}

# ---- while stopped: dsyncd delegation add -----------------------------------
OUT=$(D delegation add offline.example. --ns ns1.offline.example. --ns ns2.provider.net. \
	--glue ns1.offline.example. 192.0.2.7 --glue ns1.offline.example. 2001:db8::7 --reason "ticket 7" 2>&1)
expect "dsyncd delegation add (stopped) exits 0" 0 $?
expect_match "it says what it created" "offline.example. created in zone example. with 4 record" "$OUT"
expect "the audit row names the local command" "dsyncd-cli created" "$(audit_rows offline.example.)"
expect_match "with the reason and the records" "ticket 7.*ns1.offline.example. 3600 IN AAAA 2001:db8::7" \
	"$(sqlite3 "$T/db/dsyncd.db" "select reason from audit where child = 'offline.example.'" | tr '\n' ' ')"
OUT=$(D delegation add offline.example. --ns a.net. --ns b.net. 2>&1)
expect "adding it again exits 1" 1 $?
expect_match "saying it exists" "is a delegation of zone example. already; nothing changed" "$OUT"
OUT=$(D delegation add bad.example. --ns only.one.net. 2>&1)
expect "one NS where the zone wants two: exit 65 (EX_DATAERR)" 65 $?
expect_match "the policy's text" "NS set would have 1 record\(s\); the minimum is 2" "$OUT"
OUT=$(D delegation add bad.example. --ns ns1.bad.example. --ns ns2.net. 2>&1)
expect "an in-bailiwick NS without glue: exit 65" "65 needs glue" "$? $(grep -o 'needs glue' <<<"$OUT")"
OUT=$(D delegation add bad.example. --ns a.net. --ns b.net. --ds "1 2 3" 2>&1)
expect "a malformed DS: exit 65" 65 $?
OUT=$(D delegation add "bad example." --ns a.net. --ns b.net. 2>&1)
expect "a child name with a blank: exit 65" 65 $?
OUT=$(D delegation add x.nowhere. --ns a.net. --ns b.net. 2>&1)
expect "a child of no configured zone: exit 65" "65 no configured zone is a parent of x.nowhere." \
	"$? $(grep -o 'no configured zone is a parent of x.nowhere.' <<<"$OUT")"
D delegation add x.example. --frobnicate >/dev/null 2>&1
expect "an unknown option: exit 64 (EX_USAGE)" 64 $?
expect "none of them is stored" "offline.example. " "$(children)"

start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
check "after the start the zonefile backend serves the offline delegation" \
	wait_for 100 in_out '^offline\.example\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+NS[[:space:]]+ns1\.offline\.example\.'
check "with its glue" in_out '^ns1\.offline\.example\.[[:space:]].*AAAA[[:space:]]+2001:db8::7'

# ---- the admin API -------------------------------------------------------------
BODY="{\"ns\": [\"ns1.api.example.\", \"ns2.provider.net\"], \"ds\": [\"$DS\"],
       \"glue\": [{\"name\": \"ns1.api.example.\", \"address\": \"192.0.2.1\"}], \"reason\": \"order 17\"}"
expect "a read token may not create: 403" 403 "$(api POST /api/v1/children/api.example. "$RD" "$BODY")"
expect "POST /api/v1/children/api.example. -> 201" 201 "$(api POST /api/v1/children/api.example. "$ADM" "$BODY")"
expect "the answer is the child as GET shows it" "('api.example.', 'example.', 4)" \
	"$(j '(d["name"], d["zone"], len(d["delegation"]))')"
check "the zonefile backend gets its NS" wait_for 100 in_out '^api\.example\.[[:space:]].*NS[[:space:]]+ns2\.provider\.net\.'
check "its DS" in_out '^api\.example\.[[:space:]].*DS[[:space:]]+12345 13 2 ABAB'
check "and its glue" in_out '^ns1\.api\.example\.[[:space:]].*A[[:space:]]+192\.0\.2\.1'
expect "audited with the token's name" "api:ops created" "$(audit_rows api.example.)"
expect_match "the audit row carries the reason" "order 17" \
	"$(sqlite3 "$T/db/dsyncd.db" "select reason from audit where child = 'api.example.'")"
expect "creating it again: 409" 409 "$(api POST /api/v1/children/api.example. "$ADM" "$BODY")"
expect_match "with a JSON error" "is a delegation of zone example. already" "$(j 'd["error"]')"
before=$(state_dump)
expect "one NS: 400" 400 "$(api POST /api/v1/children/p.example. "$ADM" '{"ns": ["a.net."]}')"
expect_match "naming the rule" "the minimum is 2" "$(j 'd["error"]')"
expect "glue that is no IP address: 400" 400 \
	"$(api POST /api/v1/children/p.example. "$ADM" '{"ns": ["a.net.", "b.net."], "glue": [{"name": "a.p.example.", "address": "nope"}]}')"
expect "an unknown field: 400" 400 "$(api POST /api/v1/children/p.example. "$ADM" '{"nameservers": []}')"
expect "ns not an array: 400" 400 "$(api POST /api/v1/children/p.example. "$ADM" '{"ns": "a.net."}')"
expect "a child of no configured zone: 404" 404 "$(api POST /api/v1/children/p.nowhere. "$ADM" '{}')"
expect "deleting an unknown child: 404" 404 "$(api DELETE /api/v1/children/nope.example.)"
expect_match "saying so" "nope.example. is not a delegation of zone example." "$(j 'd["error"]')"
expect "deleting a child the configuration lists: 409" 409 "$(api DELETE /api/v1/children/config.example.)"
expect "none of these changed anything" "$before" "$(state_dump)"

# a key of the child works, and stops working when the child is deleted
K=$(mkkey api.example. ED25519)
expect "a key added to api.example. through the API -> 201" 201 \
	"$(api POST /api/v1/children/api.example./keys "$ADM" "{\"key\": \"$(keyrr "$K")\"}")"
expect "the child's nsupdate with it is accepted" NOERROR "$(nsadd "$K" api.example.)"
expect "DELETE /api/v1/children/api.example. -> 204" 204 "$(api DELETE /api/v1/children/api.example. "$ADM" '{"reason": "domain expired"}')"
check "the zonefile backend drops its NS, DS and glue" wait_for 100 not_in_out 'api\.example\.'
expect "its keys are gone from the store" 0 "$(sqlite3 "$T/db/dsyncd.db" "select count(*) from keys k join children c on k.child_id = c.id where c.name_text = 'api.example.'")"
expect "its key stops working at once" NOTAUTH "$(nsadd "$K" api.example.)"
expect_match "the delete is audited with the reason and the key count" \
	"api:ops deleted delegation deleted with its 1 key\(s\): domain expired - api.example. 3600 IN NS" "$(sqlite3 "$T/db/dsyncd.db" "select actor || ' ' || result || ' ' || reason from audit where child = 'api.example.' and result = 'deleted'" | tr '\n' ' ')"
expect "GET of the deleted child: 404" 404 "$(api GET /api/v1/children/api.example.)"
expect "creating it anew is fine: 201" 201 "$(api POST /api/v1/children/api.example. "$ADM" '{}')"
expect "an empty delegation (its first UPDATE sets it)" 0 "$(j 'len(d["delegation"])')"

# ---- dsyncctl --------------------------------------------------------------
"$CTL" delegation add ctl.example --ns ns1.ctl.example. --ns ns2.provider.net. \
	--glue ns1.ctl.example. 192.0.2.9 --ds "$DS" --reason "via ctl" >"$T/c.out" 2>"$T/c.err"
expect "dsyncctl delegation add exits 0" 0 $?
expect_match "and shows the child" "ns1.ctl.example. 3600 IN A 192.0.2.9" "$(cat "$T/c.out")"
check "the zonefile backend gets it" wait_for 100 in_out '^ctl\.example\.[[:space:]].*NS[[:space:]]+ns1\.ctl\.example\.'
expect "audited as api:ops" "api:ops created" "$(audit_rows ctl.example.)"
"$CTL" delegation add ctl.example --ns a.net. --ns b.net. >/dev/null 2>"$T/c.err"
expect "adding it again: exit 1 (refused)" 1 $?
expect_match "with the API's error" "already" "$(cat "$T/c.err")"
"$CTL" delegation add g.example --glue ns1.g.example. >/dev/null 2>&1
expect "--glue without its address: exit 64" 64 $?
"$CTL" delegation delete ctl.example --ns a.net. >/dev/null 2>&1
expect "delete takes no --ns: exit 64" 64 $?
"$CTL" --json delegation delete ctl.example. --reason "via ctl" >"$T/c.out" 2>&1
expect "dsyncctl delegation delete exits 0" 0 $?
check "the zonefile backend drops it" wait_for 100 not_in_out 'ctl\.example\.'
"$CTL" delegation delete ctl.example >/dev/null 2>"$T/c.err"
expect "deleting it again: exit 1" 1 $?
expect_match "not a delegation" "not a delegation of zone example." "$(cat "$T/c.err")"

# ---- dsyncd delegation delete while dsyncd runs: keys stop on SIGHUP ---------
K2=$(mkkey cli.example. ED25519)
D delegation add cli.example. --ns a.net. --ns b.net. >/dev/null 2>&1
expect "a key for cli.example. -> 201" 201 "$(api POST /api/v1/children/cli.example./keys "$ADM" "{\"key\": \"$(keyrr "$K2")\"}")"
expect "its nsupdate is accepted" NOERROR "$(nsadd "$K2" cli.example.)"
OUT=$(D delegation delete cli.example. 2>&1)
expect "dsyncd delegation delete (running) exits 0" 0 $?
expect_match "says its keys went and SIGHUP applies it" "deleted with 1 key\(s\).*SIGHUP" "$(tr '\n' ' ' <<<"$OUT")"
hup
expect "after SIGHUP the deleted child's key is refused" NOTAUTH "$(nsadd "$K2" cli.example.)"
check "the outbox takes the removal to the backend" wait_for 100 not_in_out '^cli\.example\.'
expect "audited as dsyncd-cli" "dsyncd-cli created dsyncd-cli deleted" "$(audit_rows cli.example. | grep dsyncd-cli | tr '\n' ' ' | sed 's/ $//')"
check "dsyncd stops cleanly" stop_dsyncd

# ---- import ----------------------------------------------------------------
zone() { # the parent's zone file with the children given as NAME:NS-TARGET...
	echo '$ORIGIN example.'
	echo '$TTL 3600'
	echo '@ SOA ns.example. hostmaster.example. 1 7200 3600 864000 300'
	echo '@ NS ns.example.'
	echo 'ns A 192.0.2.53'
	local c
	for c in "$@"; do
		echo "${c%%:*} NS ns1.${c%%:*}"
		echo "${c%%:*} NS ${c#*:}."
		echo "ns1.${c%%:*} A 192.0.2.$((RANDOM % 250 + 1))"
	done
}
zone imp1:x.net imp2:y.net offline:z.net >"$T/a.zone"
before=$(state_dump)
OUT=$(D import other.test. "$T/a.zone" 2>&1)
expect "importing example.'s file as other.test.: exit 65 (EX_DATAERR)" 65 $?
expect_match "saying whose file it is" "is not the zone file of other.test.: it has the SOA record of example." "$OUT"
{ zone imp1:x.net; echo "\$INCLUDE $T/more.zone"; } >"$T/inc.zone"
zone imp2:y.net | tail -3 >"$T/more.zone"
OUT=$(D import example. "$T/inc.zone" 2>&1)
expect "a file with \$INCLUDE: exit 65, not its records silently left out" 65 $?
expect_match "saying where and what to do" "inc.zone:9: \\\$INCLUDE is not followed; give the zone as one file" "$OUT"
expect "and nothing changed" "$before" "$(state_dump)"
D import example. "$T/none.zone" >/dev/null 2>&1
expect "a missing file: exit 66 (EX_NOINPUT)" 66 $?
D import example. >/dev/null 2>&1
expect "no file argument: exit 64" 64 $?
head -c -9 "$T/a.zone" >"$T/cut.zone"
OUT=$(D import example. "$T/cut.zone" 2>&1)
expect "a file cut inside its last glue line: exit 65" 65 $?
expect_match "said" "does not end with a newline" "$OUT"
{ head -n -1 "$T/a.zone"; echo "ns1.offline A 192.0.2."; } >"$T/bad.zone"
OUT=$(D import example. "$T/bad.zone" 2>&1)
expect "a file whose last glue is broken: exit 65" 65 $?
expect_match "naming the line" "bad.zone:[0-9]+:" "$OUT"
{ head -n 6 "$T/a.zone"; echo "imp1 NS"; tail -n +7 "$T/a.zone"; } >"$T/mid.zone"
D import example. "$T/mid.zone" >/dev/null 2>&1
expect "a file broken in the middle: exit 65" 65 $?
{ cat "$T/a.zone"; for i in $(seq 130); do echo "big NS ns$i.provider.net."; done; } >"$T/big.zone"
OUT=$(D import example. "$T/big.zone" 2>&1)
expect "a child with 130 NS records: exit 65" 65 $?
expect_match "naming it" "delegation of big.example. .*more than 128 records" "$OUT"
expect "none of these changed anything" "$before" "$(state_dump)"

OUT=$(D import --dry-run example. "$T/a.zone" 2>&1)
expect "--dry-run exits 0" 0 $?
expect_match "it prints the new children" "imp1.example. \(new\).*\+ imp1.example. 3600 IN NS ns1.imp1.example." "$(tr '\n' ' ' <<<"$OUT")"
expect_match "and what changes at a known one" "offline.example..*- ns1.offline.example. 3600 IN AAAA 2001:db8::7" "$(tr '\n' ' ' <<<"$OUT")"
expect_match "and the kept ones (api.example., config.example.)" "dry run, nothing changed.*3 delegation\(s\), 3 changed.*2 child\(ren\) not in the file kept \(--prune deletes them\)" "$OUT"
expect "--dry-run changed nothing" "$before" "$(state_dump)"
OUT=$(D import --dry-run --prune example. "$T/a.zone" 2>&1)
expect_match "--dry-run --prune prints the deletions" "api.example. \(deleted: not in the file\)" "$OUT"
expect "and changes nothing either" "$before" "$(state_dump)"

OUT=$(D import example. "$T/a.zone" 2>/dev/null)
expect "the import exits 0" 0 $?
expect_match "children the file lacks are kept and counted" "3 delegation\(s\), 3 changed.*; 2 child\(ren\) not in the file kept \(--prune deletes them\)" "$OUT"
expect "api.example. is still there (config.example. too)" "api.example. config.example. imp1.example. imp2.example. offline.example. " "$(children)"
expect "the import is audited" "import imported" "$(audit_rows imp1.example.)"
OUT=$(D import --prune example. "$T/a.zone" 2>&1)
expect_match "--prune deletes what the file lacks, not what the configuration lists" "0 changed,.*; 1 child\(ren\) not in the file deleted; 1 child\(ren\) not in the file kept \(listed in the configuration\)" "$OUT"
expect "api.example. is gone" "config.example. imp1.example. imp2.example. offline.example. " "$(children)"
expect "audited as deleted by the import" "import deleted" "$(audit_rows api.example. | tail -1)"

# progress: on a terminal only
{ echo '$ORIGIN example.'; echo '@ SOA ns.example. h.example. 1 2 3 4 5'
  for i in $(seq 2500); do echo "p$i NS a.net."; echo "p$i NS b.net."; done; } >"$T/big.zone"
D import --dry-run example. "$T/big.zone" >/dev/null 2>"$T/prog.err"
expect "no progress when stderr is no terminal" "" "$(cat "$T/prog.err")"
if command -v script >/dev/null; then
	script -qec "$BIN/dsyncd -c $T/dsyncd.conf import --dry-run example. $T/big.zone >/dev/null" /dev/null >"$T/prog.tty" 2>&1
	expect_match "progress on a terminal" "import: 2000 delegation\(s\) read.*import: 2500 delegation\(s\) read" "$(tr '\r' ' ' <"$T/prog.tty")"
fi

start_dsyncd "$T/dsyncd.conf" || not_ok "dsyncd starts again"
check "the imported children reach the zonefile backend" wait_for 100 in_out '^imp2\.example\.[[:space:]].*NS[[:space:]]+y\.net\.'
check "the pruned one has left it" not_in_out '^api\.example\.'
check "dsyncd stops cleanly" stop_dsyncd
finish
