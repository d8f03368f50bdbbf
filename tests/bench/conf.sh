# shellcheck shell=bash
# tests/bench/conf.sh -- dsyncd's configuration for the benchmarks, sourced
# by tests/bench/run.sh (B3/B4, B9) and tests/integration/20-bench-smoke.sh
# (which thereby checks that this configuration still lets the load through).
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
