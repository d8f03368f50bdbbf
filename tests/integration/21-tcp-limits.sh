#!/usr/bin/env bash
# TCP clients that hold connections: a slowloris that dribbles one byte at a
# time from many connections of one network, a client that half-closes
# after its UPDATE.  With the default connection limits (256 in all, 32 per
# client network): the dribbling network gets at most 32 connections, each
# closed tcp-idle-timeout after its message's first byte although bytes
# keep coming, while a client of another network is served throughout; an
# UPDATE followed by shutdown(SHUT_WR) is applied and answered.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.22
PORT=5356
. "$(dirname "$0")/lib-send.sh"

KC=$(mkkey child.example. ED25519) || { not_ok "keygen"; finish; }
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$KC"
check "config: tcp-idle-timeout 3, default connection limits" \
	grep -q "tcp-idle-timeout = 3; workers = 2; };" "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }

cat >"$T/tcp.py" <<'EOPY'
import socket, struct, sys, time

def tcp(host, port, src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(5)
    s.connect((host, port))
    return s

def dribble(host, port, src, n, ready, bound):
    """n connections from src; each sends a 2-byte length (300) at once and
    then one byte every 0.25 s (one connection after the other); prints,
    per connection, whether the server closed it and how long after its
    first byte, and how many were refused at once"""
    conns, refused, first, closed = [], 0, {}, {}
    for _ in range(n):
        try:
            s = tcp(host, port, src)
            s.setblocking(False)
        except OSError:
            refused += 1
            continue
        try:
            s.send(b'\x01\x2c')  # the message starts now: its deadline runs
            first[len(conns)] = time.monotonic()
        except OSError:
            pass
        conns.append(s)
    time.sleep(0.3)
    t_end = time.monotonic() + bound
    k = 0
    open(ready, 'w').write('ready\n')
    while len(closed) < len(conns) and time.monotonic() < t_end:
        for i, s in enumerate(conns):
            if i in closed:
                continue
            # a refused connection is closed by the server at once
            try:
                if s.recv(1) == b'':
                    closed[i] = time.monotonic()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                closed[i] = time.monotonic()
                continue
            try:
                s.send(b'\x01' if i in first else b'\x01\x2c')
                first.setdefault(i, time.monotonic())
            except OSError:
                closed[i] = time.monotonic()
        k += 1
        time.sleep(0.25)
    held = [closed[i] - first[i] for i in closed if i in first]
    early = [i for i in closed if i not in first or closed[i] - first[i] < 0.5]
    print('opened=%d refused=%d at_once=%d held=%d min_held=%.1f open_at_end=%d' %
          (len(conns), refused, len(early), len(held) - len([i for i in early if i in first]),
           min([h for h in held if h >= 0.5], default=0), len(conns) - len(closed)))

def halfclose(host, port, path):
    m = open(path, 'rb').read()
    s = tcp(host, port)
    s.sendall(struct.pack('!H', len(m)) + m)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(20)
    h = s.recv(2)
    if len(h) < 2:
        print('no answer')
        return
    n = struct.unpack('!H', h)[0]
    a = b''
    while len(a) < n:
        c = s.recv(n - len(a))
        if not c:
            break
        a += c
    rc = a[3] & 15 if len(a) >= 4 else -1
    rest = s.recv(10)
    print('answer id_ok=%d rcode=%d then=%s' % (a[:2] == m[:2], rc, 'eof' if rest == b'' else 'data'))

cmd = sys.argv[1]
if cmd == 'dribble':
    dribble(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6],
            float(sys.argv[7]))
else:
    halfclose(sys.argv[2], int(sys.argv[3]), sys.argv[4])
EOPY

# ---- slowloris from one network, another network served meanwhile -----------
nlog=$(grep -c "message not complete" "$T/dsyncd.log")
python3 "$T/tcp.py" dribble $ADDR $PORT 127.0.9.1 40 "$T/ready" 30 >"$T/dribble.out" 2>&1 &
DPID=$!
PIDS+=("$DPID")
for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.1; done
check "the dribbler has its connections open" test -e "$T/ready"
served=0
for i in 1 2 3; do
	r=$(ds -t -k "$KC" --add "child.example. 300 NS d$i.provider.net." \
		--add "child.example. 300 NS ns.provider.org.")
	[ "$(f_rcode "$r")" = NOERROR ] && served=$((served + 1))
done
expect "a client of another network is served over TCP during the dribble (3 UPDATEs)" 3 "$served"
wait "$DPID"
out=$(cat "$T/dribble.out")
echo "# dribble: $out"
expect_match "40 connections from one /24: 32 accepted, 8 refused at once" "^opened=40 refused=0 at_once=8 held=32 " "$out"
min=$(sed -n 's/.* min_held=\([0-9.]*\).*/\1/p' <<<"$out")
awk -v t="$min" 'BEGIN { exit !(t >= 2.9) }' &&
	ok "each dribbling connection held at least tcp-idle-timeout after its first byte ($min s)" ||
	not_ok "a dribbling connection was closed before tcp-idle-timeout ($min s)"
expect_match "every dribbling connection was closed although bytes kept coming" " open_at_end=0$" "$out"
for _ in $(seq 50); do
	[ "$(grep -c "message not complete" "$T/dsyncd.log")" -ge $((nlog + 32)) ] && break
	sleep 0.1
done
expect "log: one line per dribbling connection closed" $((nlog + 32)) "$(grep -c "message not complete" "$T/dsyncd.log")"
expect_match "log: the refusal names the per-network limit" \
	"refused TCP connection from 127\.0\.9\.1#[0-9]+: 32 connections open from its network \(server\.tcp-connections-per-network 32\)" \
	"$(grep "refused TCP connection" "$T/dsyncd.log" | tail -1)"

# ---- half-close --------------------------------------------------------------------
ds -k "$KC" --save "$T/hc.bin" --wait-ms 1 -s 127.0.0.1 -p 9 --add "child.example. 300 NS hc.provider.net." >/dev/null
n0=$(nout)
r=$(python3 "$T/tcp.py" halfclose $ADDR $PORT "$T/hc.bin")
expect "UPDATE then shutdown(SHUT_WR): answered NOERROR, then the server closes" "answer id_ok=1 rcode=0 then=eof" "$r"
expect "half-closed UPDATE applied" $((n0 + 1)) "$(nout)"
check "dsyncd stops cleanly" stop_dsyncd
finish
