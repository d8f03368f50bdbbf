# shellcheck shell=bash
# tests/bench/conf.sh -- dsyncd's configuration for the benchmarks, sourced
# by tests/bench/run.sh (B3/B4, B9) and tests/integration/20-bench-smoke.sh
# (which thereby checks that this configuration still lets the load through);
# and Knot's, for the benchmarks' reference and tests/integration/03-knot.sh.
#
# The benchmarks measure the receiver, not its rate limits, so every limit a
# benchmark's traffic could meet is set here explicitly instead of being left
# to the defaults (which would refuse a load generator within seconds):
#
#   server.updates-per-source     R9, default 600 a minute per /24 (/56)
#   server.updates-per-signer     R9, default 120 a minute per signer name
#   sig0.verify-budget            R8, default 5000 verifications a second;
#                                 0 = no budget (B3); B9 passes its own
#   keystate.inquiries-per-source default 120 a minute (no benchmark sends
#   bootstrap.uploads-per-child   KeyState inquiries or key uploads today;
#   bootstrap.uploads-per-source  raised so that adding one cannot skew it)
#
# All are set to the schema's maximum (config/config.c).

# bench_conf ADDR PORT STORE LOG_LEVEL VERIFY_BUDGET CHILDREN: the
# configuration on stdout.  STORE is the SQLite file; CHILDREN the zone's
# children as libconfig groups, comma-separated.  Zone example., null
# backend, one verification thread per CPU (workers = 0), queue-max 1024,
# commit-batch-max 64.
bench_conf() {
	cat <<EOC
server = { listen = [ "$1" ]; port = $2; workers = 0; queue-max = 1024; commit-batch-max = 64;
  updates-per-source = 100000000; updates-per-signer = 100000000; };
sig0 = { verify-budget = $5; };
keystate = { inquiries-per-source = 1000000; };
bootstrap = { uploads-per-child = 100000; uploads-per-source = 1000000; };
store = { path = "$3"; };
log = { level = "$4"; };
zones = ( { name = "example.";
  children = ( $6 );
  backends = ( { type = "null"; } );
} );
EOC
}

# parent_zone ADDR: zone example. as a primary starts with it (SOA serial 1,
# ns1.example. at ADDR), on stdout
parent_zone() {
	cat <<EOZ
\$ORIGIN example.
\$TTL 3600
@	SOA	ns1.example. hostmaster.example. 1 3600 900 604800 300
@	NS	ns1.example.
ns1	A	$1
EOZ
}

# knot_conf DIR LISTEN JOURNAL ZONEFILE [SECRET]: a Knot configuration on
# stdout for zone example. (its file ZONEFILE), state under DIR, listening
# on LISTEN (ADDR@PORT), journal-content JOURNAL.  With SECRET, UPDATEs
# signed with TSIG key bench. (hmac-sha256) are allowed and Knot logs to
# stderr (the benchmark); without, knotc controls it through DIR/knot.sock.
knot_conf() {
	cat <<EOC
server:
    rundir: "$1"
    listen: $2
EOC
	if [ -n "${5:-}" ]; then
		cat <<EOC
key:
  - id: bench.
    algorithm: hmac-sha256
    secret: $5
acl:
  - id: update
    key: bench.
    action: update
EOC
	else
		printf 'control:\n    listen: "%s/knot.sock"\n' "$1"
	fi
	cat <<EOC
database:
    storage: "$1/db"
template:
  - id: default
    storage: "$1"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: $3
zone:
  - domain: example.
    file: "$4"
EOC
	if [ -n "${5:-}" ]; then
		printf '    acl: update\nlog:\n  - target: stderr\n    any: info\n'
	fi
}
