# tests/integration/lib-pg.sh -- a real PostgreSQL server for the tests.
#
#   pg_start DIR ADDR PORT   initdb in DIR (owned by the postgres user), start
#                            the server on ADDR:PORT only (its socket in DIR),
#                            wait until it accepts connections; creates the
#                            role dsyncd (password "dsyncd-test") and the
#                            database dsyncd owned by it.
#   pg_stop DIR              stop it (fast shutdown) and wait.
#   pg_kill DIR              SIGKILL the server's processes (a crash).
#   pg_restart DIR           start it again after pg_stop or pg_kill.
#   pg_psql DIR ARGS...      psql as the superuser over the socket (-d DB -c SQL)
#   pg_conninfo ADDR PORT    the connection string dsyncd uses.
#
# Debian's packages (postgresql): the server runs as the postgres user, as
# initdb refuses root.  Authentication is scram-sha-256 over TCP, trust on
# the private socket (for pg_psql only).

pg_bin() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

pg_as() {
	runuser -u postgres -- "$@"
}

pg_start() {
	local dir=$1 addr=$2 port=$3 bin i
	bin=$(pg_bin)
	[ -x "$bin/initdb" ] || { echo "# PostgreSQL is not installed (make deps)"; return 1; }
	mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
	pg_as "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust \
		--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log"; return 1; }
	cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '$addr'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 64MB
logging_collector = off
EOF
	echo "$addr $port" >"$dir/where"
	pg_restart "$dir" || return 1
	pg_psql "$dir" -d postgres -c "CREATE ROLE dsyncd LOGIN PASSWORD 'dsyncd-test'" \
		-c "CREATE DATABASE dsyncd OWNER dsyncd" >/dev/null || return 1
}

pg_restart() {
	local dir=$1 bin addr port i
	bin=$(pg_bin)
	read -r addr port <"$dir/where"
	pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start >/dev/null ||
		{ tail -20 "$dir/server.log"; return 1; }
	for i in $(seq 1 600); do
		pg_as "$bin/pg_isready" -q -h "$addr" -p "$port" && return 0
		sleep 0.1
	done
	return 1
}

pg_stop() {
	local dir=$1
	[ -d "$dir/data" ] || return 0
	pg_as "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w -t 120 stop >/dev/null 2>&1 || true
}

pg_kill() {
	local dir=$1 pid
	pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null) || return 0
	# the postmaster and every backend it started
	pkill -KILL -P "$pid" 2>/dev/null
	kill -KILL "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$dir/data/postmaster.pid"
}

pg_psql() {
	local dir=$1 addr port
	shift
	read -r addr port <"$dir/where"
	pg_as "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"
}

pg_conninfo() {
	echo "host=$1 port=$2 dbname=dsyncd user=dsyncd password=dsyncd-test"
}
