#!/usr/bin/env bash
# Exit statuses (doc/exit-status.md): --help, --version and a bad option of
# every program; dsyncd -n (and start-up) refusing what start-up needs
# besides the configuration's text, each problem as file:line with 78, all
# of them at once, nothing made; a few representative statuses of the
# subcommands, of dsyncctl and of dsync-agent with nothing listening.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.56
ADDR2=127.0.0.57

# ---- --help, --version, a bad option ---------------------------------------------
for p in dsyncd dsyncctl dsync-agent dsync-send; do
	out=$("$BIN/$p" --help 2>"$T/err")
	expect "$p --help: exit 0" 0 "$?"
	expect_match "$p --help: the usage on stdout" "^usage: $p" "$out"
	expect "$p --help: nothing on stderr" "" "$(cat "$T/err")"
	for v in --version -V; do
		out=$("$BIN/$p" $v 2>&1)
		expect "$p $v: exit 0" 0 "$?"
		expect_match "$p $v: the version" "^$p [0-9]+\.[0-9]+\.[0-9]+$" "$out"
	done
	out=$("$BIN/$p" --no-such-option 2>"$T/err")
	expect "$p --no-such-option: exit 64" 64 "$?"
	expect_match "$p --no-such-option: the usage on stderr" "usage: $p" "$(cat "$T/err")"
	expect "$p --no-such-option: nothing on stdout" "" "$out"
done

# ---- dsyncd -n: what start-up needs ----------------------------------------------
mkdir -p "$T/ok/out" "$T/bad/out"
printf 'ops admin 0123456789abcdef0123\n' >"$T/ok/tokens"
chmod 600 "$T/ok/tokens"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=$ADDR -days 1 \
	-keyout "$T/ok/api.key" -out "$T/ok/api.crt" >/dev/null 2>&1
chmod 600 "$T/ok/api.key"
cat >"$T/ok/dsyncd.conf" <<EOF
server = { listen = [ "$ADDR" ]; port = 5354; };
store = { path = "db/dsyncd.db"; };
api = { listen = "$ADDR"; tokens-file = "tokens";
  tls-certificate = "api.crt"; tls-key = "api.key"; };
receiver = { name = "ns.example."; key-directory = "rkeys"; };
zones = ( { name = "example.";
  backends = ( { type = "zonefile"; path = "out/example.zone"; reload = [ "true" ]; },
               { type = "exec"; command = [ "/bin/true" ]; } ); } );
EOF
out=$("$BIN/dsyncd" -n -c "$T/ok/dsyncd.conf" 2>&1)
expect "-n: a configuration whose files are in place: exit 0" 0 "$?"
expect_match "-n: ... and says so" "configuration OK" "$out"
check "-n made nothing (the store's and the key folder are made at start-up)" \
	test ! -e "$T/ok/db" -a ! -e "$T/ok/rkeys"

cp "$T/ok/tokens" "$T/bad/tokens"
chmod 644 "$T/bad/tokens"
echo "not a certificate" >"$T/bad/api.crt"
cp "$T/ok/api.key" "$T/bad/api.key"
printf '#!/bin/sh\nexit 0\n' >"$T/bad/reload.sh"
chmod 644 "$T/bad/reload.sh"
cat >"$T/bad/dsyncd.conf" <<EOF
server = { listen = [ "$ADDR" ]; port = 5354; };
store = { path = "nodir/db/dsyncd.db"; };
api = { listen = "$ADDR"; tokens-file = "tokens";
  tls-certificate = "api.crt";
  tls-key = "api.key"; };
receiver = { name = "ns.example."; key-directory = "no/rkeys"; };
zones = ( { name = "example.";
  backends = ( { type = "zonefile"; path = "out/example.zone"; reload = [ "$T/bad/reload.sh" ]; },
               { type = "exec"; command = [ "/nonexistent/epp" ]; } ); } );
EOF
C=$T/bad/dsyncd.conf
out=$("$BIN/dsyncd" -n -c "$C" 2>&1)
expect "-n: files not in place: exit 78" 78 "$?"
echo "$out" >"$T/errors.txt"
all_reported "$T/errors.txt" "-n " \
	"^$C:2: store.path: folder .*nodir/db does not exist and cannot be made" \
	"^$C:3: api.tokens-file: .*tokens: the API tokens file has mode 0644, which gives group or others access" \
	"^$C:4: api.tls-certificate: .*api.crt holds no PEM certificate" \
	"^$C:6: receiver.key-directory: folder .*no/rkeys does not exist and cannot be made" \
	"^$C:8: backend 'zonefile': reload: the program $T/bad/reload.sh cannot be run: Permission denied" \
	"^$C:9: backend 'exec': command: the program /nonexistent/epp does not exist"
expect "-n: all six problems, one line each" 6 "$(wc -l <"$T/errors.txt")"

# start-up refuses the same, before it builds anything
timeout 20 "$BIN/dsyncd" -c "$C" >"$T/start.log" 2>&1
expect "start-up with files not in place: exit 78" 78 "$?"
expect "start-up: the same six lines" 6 "$(grep -c "^$C:[0-9]*: " "$T/start.log")"
check "start-up: nothing made" test ! -e "$T/bad/nodir" -a ! -e "$T/bad/no"

# a certificate and a key that do not belong together; the tokens file gone
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other -days 1 \
	-keyout "$T/bad/other.key" -out "$T/bad/api.crt" >/dev/null 2>&1
rm -f "$T/bad/tokens"
out=$("$BIN/dsyncd" -n -c "$C" 2>&1)
expect "-n: exit 78 again" 78 "$?"
expect_match "-n: a missing tokens file" "$C:3: api.tokens-file: .*tokens: cannot open the API tokens file: No such file" "$out"
expect_match "-n: a key that is not the certificate's" "$C:5: api.tls-key: .*api.key is not the key of the certificate" "$out"
expect_match "-n: the reload program, now missing" "$C:8: backend 'zonefile': reload: the program .*reload.sh does not exist" \
	"$(rm -f "$T/bad/reload.sh"; "$BIN/dsyncd" -n -c "$C" 2>&1)"

# ---- dsyncd subcommands ----------------------------------------------------------
S=$T/ok/dsyncd.conf
"$BIN/dsyncd" -c "$S" frobnicate >/dev/null 2>&1
expect "dsyncd: an unknown subcommand: 64" 64 "$?"
"$BIN/dsyncd" -c "$S" import example. "$T/no-such.zone" >/dev/null 2>&1
expect "dsyncd import of a zone file that does not exist: 66" 66 "$?"
printf 'example. 3600 IN SOA garbage\n' >"$T/bad.zone"
"$BIN/dsyncd" -c "$S" import example. "$T/bad.zone" >/dev/null 2>&1
expect "dsyncd import of a zone file that does not parse: 65" 65 "$?"
"$BIN/dsyncd" -c "$S" check other. >/dev/null 2>&1
expect "dsyncd check of a zone that is not configured: 66" 66 "$?"
"$BIN/dsyncd" -c "$S" key trust child.example. 1 >/dev/null 2>&1
expect "dsyncd key trust of a key that does not exist: 66" 66 "$?"
"$BIN/dsyncd" -c "$T/no-such.conf" config >/dev/null 2>&1
expect "dsyncd with a configuration file that does not exist: 78" 78 "$?"

# ---- dsyncctl and dsync-agent with nothing listening -------------------------------
"$BIN/dsyncctl" --url "http://$ADDR2:8053" --timeout 5 health >/dev/null 2>"$T/err"
expect "dsyncctl, nothing listening: 69 (unavailable)" 69 "$?"
"$BIN/dsyncctl" --url "http://$ADDR2:8053" key add child.example. "$T/no-such.key" >/dev/null 2>&1
expect "dsyncctl key add of a key file that does not exist: 66" 66 "$?"
"$BIN/dsync-agent" keygen child.example. --dir "$T" >"$T/keygen.out" 2>&1
expect "dsync-agent keygen: 0" 0 "$?"
K=$(ls "$T"/Kchild.example.+*.key 2>/dev/null | head -1)
K=${K%.key}
"$BIN/dsync-agent" inquire child.example. --server $ADDR2 --port 5354 --parent example. \
	--key "$K" --tcp --retries 0 --quiet >/dev/null 2>&1
expect "dsync-agent, nothing listening: 69 (unavailable)" 69 "$?"
"$BIN/dsync-agent" inquire child.example. --server $ADDR2 --port 5354 --parent example. \
	--key "$T/Kchild.example.+015+00000" --retries 0 >/dev/null 2>&1
expect "dsync-agent with a key file that does not exist: 66" 66 "$?"
"$BIN/dsync-agent" keygen child.example. --dir "$T/no/such/folder" >/dev/null 2>&1
expect "dsync-agent keygen into a folder that does not exist: 73" 73 "$?"
finish
