#!/usr/bin/env bash
# dsyncd -n checks a configuration: errors come as file:line: message, all
# of them, before anything is served; a daemon never starts on a bad one.
# dsyncd config prints the effective one.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TOP/var" # the example's zonefile backend writes there
# the example's API reads var/api-tokens (make run writes it likewise)
[ -e "$TOP/var/api-tokens" ] || (umask 077 &&
	echo "admin-token admin $(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')" >"$TOP/var/api-tokens")
out=$("$BIN/dsyncd" -n -c "$TOP/examples/dsyncd.conf" 2>&1)
expect "the example configuration checks OK" "0" "$?"
expect_match "and says so" "configuration OK" "$out"
# dsyncd config: the effective configuration from the schema, defaults filled in
"$BIN/dsyncd" -c "$TOP/examples/dsyncd.conf" config >"$T/config.json"
expect "dsyncd config exits 0" 0 "$?"
expect "dsyncd config: port, a default, a word setting, the zone" "5354 256 rfc2931 example." \
	"$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["server"]["port"], d["server"]["commit-batch-max"], d["receiver"]["sign"], d["zones"][0]["name"])' "$T/config.json")"

k=$(mkkey child.example. ED25519)
big=$(mkkey big.example. RSASHA256 4096)
cat >"$T/bad.conf" <<EOC
server = { listen = [ "127.0.0.1", "not-an-address" ]; prot = 5354; };
zones = ( {
  name = "example.";
  min-ns = 0;
  children = (
    { name = "child.example."; keys = ( "$k.key" ); },
    { name = "child.other."; },
    { name = "deeper.child.example."; },
    { name = "wrong.example."; keys = ( "$k.key" ); }
  );
  backends = ( { type = "carrier-pigeon"; } );
} );
sig0 = { rsa-max-bits = 2048; };
zones2 = 1;
EOC
# the 4096-bit key is refused when the limit is 2048
sed -i "s|{ name = \"child.other.\"; }|{ name = \"big.example.\"; keys = ( \"$big.key\" ); }, { name = \"child.other.\"; }|" "$T/bad.conf"
out=$("$BIN/dsyncd" -n -c "$T/bad.conf" 2>&1)
expect "a bad configuration fails the check" 78 "$?"
echo "$out" >"$T/errors.txt"
all_reported "$T/errors.txt" "" \
	"bad.conf:1: .*not-an-address" \
	"bad.conf:1: unknown setting 'server.prot'" \
	"bad.conf:4: .*min-ns" \
	"bad.conf:[0-9]*: .*child.other. .*not .*below.*example" \
	"bad.conf:[0-9]*: .*deeper.child.example" \
	"bad.conf:[0-9]*: .*wrong.example" \
	"bad.conf:[0-9]*: .*carrier-pigeon" \
	"bad.conf:[0-9]*: .*4096.*2048" \
	"bad.conf:[0-9]*: unknown setting 'zones2'"
printf 'server = { port = 5354 \n' >"$T/syntax.conf"
out=$("$BIN/dsyncd" -n -c "$T/syntax.conf" 2>&1)
expect_match "a syntax error is reported with its line" "syntax.conf:[12]: " "$out"
# the daemon refuses to start on it and nothing listens
"$BIN/dsyncd" -c "$T/bad.conf" >"$T/start.log" 2>&1
expect "dsyncd does not start with a bad configuration" 78 "$?"
check "nothing was created from the bad configuration" test ! -e "$T/db"
finish
