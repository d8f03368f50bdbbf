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
#                                 0 = no budget (B3); B5 and B9 pass their own
#   sig0.verify-share-per-network default 10% of the budget per /24 while it
#                                 is short; 100 (no share): one load
#                                 generator's /24 is not a flood
#   cookies.enabled               default true; false unless asked for (B5):
#                                 B9 measures the budget alone
#   keystate.inquiries-per-source default 120 a minute per /24 (/56): B6
#                                 sends tens of thousands a minute
#   receiver.sign-budget          default 1000 signed answers a second to
#                                 requests that did not authenticate (B6's
#                                 inquiries are signed, so it does not meet
#                                 it; raised so that a failed signature
#                                 cannot turn into unsigned answers)
#   bootstrap.uploads-per-child   no benchmark sends key uploads today;
#   bootstrap.uploads-per-source  raised so that adding one cannot skew it
#
# All are set to the schema's maximum (config/config.c).

# bench_conf ADDR PORT STORE LOG_LEVEL VERIFY_BUDGET CHILDREN [COOKIES [KEYDIR [BACKENDS]]]:
# the configuration on stdout.  STORE is the SQLite file (or postgresql:
# and a connection string); CHILDREN the
# zone's children as libconfig groups, comma-separated; COOKIES true or
# false (default) for cookies.enabled.  Zone example., null backend (or the
# backend groups BACKENDS), one verification thread per CPU (workers = 0),
# queue-max 1024, commit-batch-max 256 (the default).  With KEYDIR, the receiver's key
# (receiver.name updater.example., ED25519, made there on the first start)
# signs the answers (B6).
bench_conf() {
	local rname="" backends=${9:-'{ type = "null"; }'} store="path = \"$3\";"
	# a PostgreSQL database: "postgresql:" and its connection string
	case $3 in postgresql:*) store="postgresql = \"${3#postgresql:}\";" ;; esac
	[ -n "${8:-}" ] && rname="name = \"updater.example.\"; key-directory = \"$8\"; "
	cat <<EOC
server = { listen = [ "$1" ]; port = $2; workers = 0; queue-max = 1024; commit-batch-max = 256;
  updates-per-source = 100000000; updates-per-signer = 100000000; };
sig0 = { verify-budget = $5; verify-share-per-network = 100; };
cookies = { enabled = ${7:-false}; };
keystate = { inquiries-per-source = 1000000; };
receiver = { ${rname}sign-budget = 1000000; };
bootstrap = { uploads-per-child = 100000; uploads-per-source = 1000000; };
store = { $store };
log = { level = "$4"; };
zones = ( { name = "example.";
  children = ( $6 );
  backends = ( $backends );
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

# ---- PowerDNS Authoritative (the powerdns backend's target) ----------------
# Used by tests/bench/backlog.sh (B12) and tests/integration/25-powerdns.sh.

# pdns_schema: the gsqlite3 schema of pdns-backend-sqlite3 (empty when missing)
pdns_schema() { dpkg -L pdns-backend-sqlite3 2>/dev/null | grep '/schema\.sqlite3\.sql$' | head -1; }

# pdns_init DIR ADDR PORT WEBPORT APIKEY: DIR/pdns.conf (gsqlite3 in
# DIR/pdns.db, DNS on ADDR@PORT, the API on ADDR:WEBPORT with APIKEY, DNS
# UPDATE and AXFR from loopback, no rectify of API changes, no key or
# metadata caches), the database, and zone example. with ns1.example. at
# ADDR whose serial API changes bump (SOA-EDIT-API INCREASE).  pdnsutil's
# output goes to DIR/pdnsutil.log; non-zero when a step fails.
pdns_init() {
	local schema
	schema=$(pdns_schema)
	[ -r "$schema" ] || { echo "the gsqlite3 schema of pdns-backend-sqlite3 is not installed" >&2; return 1; }
	mkdir -p "$1"
	sqlite3 "$1/pdns.db" <"$schema" || return 1
	cat >"$1/pdns.conf" <<EOC
launch=gsqlite3
gsqlite3-database=$1/pdns.db
gsqlite3-dnssec=yes
local-address=$2
local-port=$3
api=yes
api-key=$5
webserver=yes
webserver-address=$2
webserver-port=$4
webserver-allow-from=127.0.0.0/8
default-api-rectify=no
dnssec-key-cache-ttl=0
zone-metadata-cache-ttl=0
allow-axfr-ips=127.0.0.0/8
disable-axfr=no
daemon=no
guardian=no
socket-dir=$1
security-poll-suffix=
default-soa-content=ns1.example. hostmaster.@ 0 10800 3600 604800 3600
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8
EOC
	pdnsutil --config-dir "$1" create-zone example. ns1.example. >>"$1/pdnsutil.log" 2>&1 &&
		pdnsutil --config-dir "$1" add-record example. ns1 A "$2" >>"$1/pdnsutil.log" 2>&1 &&
		pdnsutil --config-dir "$1" set-meta example. SOA-EDIT-API INCREASE >>"$1/pdnsutil.log" 2>&1
}

# pdns_start DIR ADDR PORT: pdns_server with DIR/pdns.conf in the background
# (its log DIR/pdns.log, its pid PDNS_PID, added to PIDS); waits (10 s at
# most) until it serves example.'s SOA on ADDR@PORT
pdns_start() {
	pdns_server --config-dir="$1" >>"$1/pdns.log" 2>&1 &
	PDNS_PID=$!
	PIDS+=("$PDNS_PID")
	for _ in $(seq 200); do
		kdig @"$2" -p "$3" +short +timeout=1 +retry=0 example. SOA 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# stop_pids SIGNAL: send SIGNAL to every process in PIDS, then wait for each
# (the scripts' exit traps)
stop_pids() {
	local p
	for p in "${PIDS[@]}"; do kill -"$1" "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
