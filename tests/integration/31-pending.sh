#!/usr/bin/env bash
# The keys waiting for the operator, as one queue over all children: three
# children of a manual zone upload self-signed keys (nsupdate), a fourth
# child's automatic validation (at-apex) gives up; `dsyncctl pending`, the
# API and `dsyncd key pending` list them longest waiting first with age,
# methods and last result, `dsyncctl children` counts them per child.  One
# key is trusted by its name with dsyncctl (the running daemon takes it at
# once), one with `dsyncd key trust` on the running daemon (taken on
# SIGHUP; the message names the PID), one by CHILD/TAG/ALG, the last in the
# older form CHILD TAG on a stopped daemon; the queue shrinks and each key
# signs an UPDATE that is accepted.  Names that fit no key are refused
# precisely and change nothing.
. "$(dirname "$0")/lib.sh"
need nsupdate dnssec-keygen sqlite3 python3
ADDR=127.0.0.44
DEAD=127.0.0.45 # the automatic zone's root: nothing answers there
PORT=5354
CTL=$BIN/dsyncctl
ADMIN_TOKEN=adm-31f0c2a4e6b8d0f2a4c6e8b0d2f4a6c8
umask 077
printf 'alice admin %s\n' "$ADMIN_TOKEN" >"$T/tokens"
echo "$ADMIN_TOKEN" >"$T/admin.tok"
unset DSYNCCTL_URL DSYNCCTL_TOKEN DSYNCCTL_TOKEN_FILE DSYNCCTL_CONFIG DSYNCCTL_CACERT \
	http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export XDG_CONFIG_HOME=$T/xdg HOME=$T/home
export DSYNCCTL_URL=http://$ADDR:8053 DSYNCCTL_TOKEN_FILE=$T/admin.tok

mkdir -p "$T/db"
printf '. 3600000 NS a.root.invalid.\na.root.invalid. 3600000 A %s\n' $DEAD >"$T/root.hints"
cat >"$T/dsyncd.conf" <<EOC
server = { listen = [ "$ADDR" ]; port = $PORT; workers = 2; tcp-idle-timeout = 3; };
store = { path = "$T/db/dsyncd.db"; };
log = { level = "debug"; };
bootstrap = { attempts = 1; retry-interval = 1; };
resolver = { root-hints = "$T/root.hints"; timeout = 2; };
api = { listen = "$ADDR"; port = 8053; tokens-file = "$T/tokens"; };
zones = ( { name = "example."; bootstrap-methods = [ "manual" ];
            children = ( { name = "a.example."; }, { name = "b.example."; },
                         { name = "c.example."; } );
            backends = ( { type = "null"; } ); },
          { name = "auto."; bootstrap-methods = [ "at-apex", "manual" ];
            children = ( { name = "x.auto."; } );
            backends = ( { type = "null"; } ); } );
EOC
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

upload() { # KEYPREFIX ZONE
	printf 'zone %s\nupdate add %s\n' "$2" "$(keyrr "$1")" | nsu "$1" $ADDR $PORT
}
nsadd() { # KEYPREFIX ZONE CHILD: an UPDATE signed by the key, two NS for the child
	nsu "$1" $ADDR $PORT <<-EOS
		zone $2
		update add $3 300 NS ns1.provider.net.
		update add $3 300 NS ns2.provider.net.
		EOS
}
# queue: the keys of `dsyncctl --json pending`, one line
queue() { c --json pending && j '" ".join(i["key"] for i in d["items"])'; }

c pending
rc_is "pending with nothing waiting" 0
expect "... prints the header only" "KEY  ID  ALG  STATE  AGE  WAITING-SINCE  METHODS  LAST-RESULT" "$OUT"

KA=$(mkkey a.example. ED25519)
KB=$(mkkey b.example. ECDSAP256SHA256)
KC=$(mkkey c.example. ED25519)
KX=$(mkkey x.auto. ED25519)
TA=$(tagof "$KA") TB=$(tagof "$KB") TC=$(tagof "$KC") TX=$(tagof "$KX")
# c first, then a, then b: the queue is in that order (by when each began to
# wait, then by key id), not in name order
for k in "$KC" "$KA" "$KB"; do
	expect "self-signed upload of $(basename "$k")" NOERROR "$(upload "$k" example.)"
done
expect "x.auto.: self-signed upload (validation queued)" NOERROR "$(upload "$KX" auto.)"
gave_up() { [ "$(sqlite3 "$T/db/dsyncd.db" "select state from keys where key_tag = $TX")" = validation-failed ]; }
check "x.auto.: at-apex cannot reach the root, the one attempt fails" wait_for 300 gave_up

expect "pending: longest waiting first" \
	"c.example./$TC a.example./$TA b.example./$TB x.auto./$TX" "$(queue)"
c --json pending
expect "pending --json: state, algorithm, methods, last result of c.example." \
	"known 15 ['manual'] None 0" \
	"$(j 'd["items"][0]["state"], d["items"][0]["algorithm"], d["items"][0]["methods"], d["items"][0]["last_result"], d["items"][0]["attempts"]')"
expect "... ages are whole seconds, oldest first; waiting_since in order" "True True" \
	"$(j 'all(isinstance(i["age"], int) and i["age"] >= 0 for i in d["items"]), [i["waiting_since"] for i in d["items"]] == sorted(i["waiting_since"] for i in d["items"])')"
expect "... the ECDSA key of b.example." "13 b.example. example." \
	"$(j 'd["items"][2]["algorithm"], d["items"][2]["child"], d["items"][2]["zone"]')"
expect_match "... x.auto.: what the scheduler recorded" \
	"^validation-failed \['at-apex'\] 1 failed after 1 attempt\(s\): at-apex: " \
	"$(j 'd["items"][3]["state"], d["items"][3]["methods"], d["items"][3]["attempts"], d["items"][3]["last_result"]')"
c pending
rc_is "pending (table)" 0
expect_match "pending table: c.example. first, known, manual, no result" \
	"^c\.example\./$TC +[0-9]+ +ED25519 +known +[0-9][0-9a-z]* +20[0-9-]+T[0-9:]+Z +manual +-$" "$(sed -n 2p <<<"$OUT")"
expect_match "pending table: b.example.'s algorithm by name" "^b\.example\./$TB +[0-9]+ +ECDSAP256SHA256 +known " \
	"$(sed -n 4p <<<"$OUT")"
expect_match "pending table: x.auto. last, the method tried and its result" \
	"^x\.auto\./$TX +[0-9]+ +ED25519 +validation-failed +[0-9][0-9a-z]* +[^ ]+ +at-apex +failed after 1 attempt" \
	"$(sed -n 5p <<<"$OUT")"
c --json --limit 3 pending
expect "pending --limit 3: three items and a cursor" "3 True" "$(j 'len(d["items"]), d["next"] is not None')"
expect_match "pending paged one at a time gives the same queue" \
	"^c\.example\./$TC a\.example\./$TA b\.example\./$TB x\.auto\./$TX$" \
	"$(python3 - "$T/admin.tok" <<-'EOP'
		import json, sys, urllib.request
		tok = open(sys.argv[1]).read().strip()
		out, after = [], None
		for _ in range(10):
		    url = "http://127.0.0.44:8053/api/v1/pending?limit=1" + ("&after=" + after if after else "")
		    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + tok})
		    d = json.load(urllib.request.urlopen(req))
		    out += [i["key"] for i in d["items"]]
		    after = d["next"]
		    if after is None:
		        break
		print(" ".join(out))
	EOP
	)"
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" key pending)
expect "dsyncd key pending: the same queue, locally" \
	"c.example./$TC a.example./$TA b.example./$TB x.auto./$TX" "$(cut -d' ' -f1 <<<"$out" | paste -sd' ')"
expect_match "... with methods and the last result" \
	"^x\.auto\./$TX id [0-9]+ alg 15: validation-failed for [0-9]+s; methods at-apex; last result: failed after 1 attempt" \
	"$(sed -n 4p <<<"$out")"
c children example.
expect_match "children: a PENDING column, one key waiting for a.example." \
	"^NAME +NS +DS +GLUE +TRUSTED +VALIDATING +PENDING"$'\n'"a\.example\. +- +0 +0 +0 +0 +1$" "$(head -2 <<<"$OUT")"
c validations
expect "validations: the automatic validation has ended, so none is listed" \
	"KEY  ID  ALG  METHODS  ATTEMPTS  ROUNDS  NEXT  LAST-RESULT" "$OUT"

# ---- trust a by its name with dsyncctl: the running daemon takes it at once ----
expect "a.example.'s key cannot sign yet" REFUSED "$(nsadd "$KA" example. a.example.)"
c key trust "a.example./$TA"
rc_is "dsyncctl key trust CHILD/TAG" 0
expect_match "... answers the key row, trusted by manual" "^[0-9]+ +a\.example\./$TA +$TA +ED25519 +trusted +manual " \
	"$(sed -n 2p <<<"$OUT")"
expect "a.example.'s key signs an accepted UPDATE at once" NOERROR "$(nsadd "$KA" example. a.example.)"

# ---- trust b with dsyncd key trust on the running daemon: applied on SIGHUP ----
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" key trust "B.Example/$TB" 2>&1)
expect "dsyncd key trust on a running daemon exits 0" 0 $?
expect_match "... says it is trusted and which process to send SIGHUP" \
	"^key: b\.example\./$TB \(id [0-9]+\) is now trusted; send SIGHUP to a running dsyncd to apply it \(the last one to serve this store was pid $DSYNCD_PID\)$" "$out"
expect "before the SIGHUP the daemon still refuses b.example.'s key" REFUSED "$(nsadd "$KB" example. b.example.)"
hup
expect "after it, b.example.'s key signs an accepted UPDATE" NOERROR "$(nsadd "$KB" example. b.example.)"
expect "the queue shrank to two" "c.example./$TC x.auto./$TX" "$(queue)"
c children example.
expect_match "children: nothing waits for a.example. any more" "^a\.example\. +ns1\.provider\.net\.,ns2\.provider\.net\. +0 +0 +1 +0 +0$" \
	"$(sed -n 2p <<<"$OUT")"

# ---- names that fit no key: precise, nothing changed ---------------------------
before=$(sqlite3 "$T/db/dsyncd.db" "select id, state from keys order by id")
c key trust "nosuch.example./$TC"
rc_is "dsyncctl: a child that is not a delegation" 1
expect_match "... the API says so" "nosuch\.example\. is not a delegation of zone example\." "$ERR"
c key trust "c.example./$TC/13"
rc_is "dsyncctl: the right tag with the wrong algorithm" 1
expect_match "... names both" "c\.example\. has no key with tag $TC and algorithm 13" "$ERR"
c key trust "c.example./99999"
rc_is "dsyncctl: a tag above 65535" 1
c key trust "c.example."
rc_is "dsyncctl: no tag at all is a usage error" 64
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" key trust "x.auto./$TX/13" 2>&1)
expect "dsyncd key trust: the wrong algorithm exits 66 (no such key)" 66 $?
expect "... and says why" "key: x.auto. has no key with tag $TX and algorithm 13; not changed" "$out"
expect "nothing changed in the store" "$before" "$(sqlite3 "$T/db/dsyncd.db" "select id, state from keys order by id")"

# ---- x.auto. by CHILD/TAG/ALG through the API; c.example. in the older form, daemon stopped
c key trust "x.auto./$TX/15"
rc_is "dsyncctl key trust CHILD/TAG/ALG of a key whose validation failed" 0
expect "x.auto.'s key signs an accepted UPDATE" NOERROR "$(nsadd "$KX" auto. x.auto.)"
check "dsyncd stops cleanly" stop_dsyncd
out=$("$BIN/dsyncd" -c "$T/dsyncd.conf" key trust c.example. "$TC" 2>&1)
expect_match "dsyncd key trust CHILD TAG (the older form) on a stopped daemon" "^key: c\.example\./$TC \(id [0-9]+\) is now trusted" "$out"
expect "dsyncd key pending: nothing waits any more" "" "$("$BIN/dsyncd" -c "$T/dsyncd.conf" key pending)"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts again"; finish; }
expect "c.example.'s key signs an accepted UPDATE after the restart" NOERROR "$(nsadd "$KC" example. c.example.)"
expect "pending is empty" "" "$(queue)"
expect "each trust is audited, by its actor" "api:alice api:alice operator operator" \
	"$(sqlite3 "$T/db/dsyncd.db" "select actor from audit where result = 'trusted' order by actor" | tr '\n' ' ' | sed 's/ $//')"
check "dsyncd stops cleanly" stop_dsyncd
finish
