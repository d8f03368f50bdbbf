#!/usr/bin/env bash
# Transport: UDP and TCP on IPv4 and IPv6 (dsync-send and BIND's nsupdate),
# several messages on one TCP connection, a frame split over several
# writes, the TCP idle timeout and connection cap, oversized and too-short
# frames (only that connection is closed), answers without EDNS (<= 512
# bytes, no OPT) and with it (OPT + EDE), and the answer header (ID and
# opcode copied, QR set), read from the raw bytes.  Each decision and each
# connection the server closes has its log line.
. "$(dirname "$0")/lib.sh"
ADDR=127.0.0.5
ADDR6=::1
PORT=5355

# ---- helpers (local to this file) ----------------------------------------------

# t5.py: raw sockets and a small answer parser
cat >"$T/t5.py" <<'EOPY'
import socket, struct, sys, time

def fam(host):
    return socket.AF_INET6 if ':' in host else socket.AF_INET

def tcp(host, port):
    s = socket.socket(fam(host), socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(5)
    s.connect((host, port))
    return s

def frame(m):
    return struct.pack('!H', len(m)) + m

def read_exact(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b

def read_frame(s):
    h = read_exact(s, 2)
    if h is None:
        return None
    return read_exact(s, struct.unpack('!H', h)[0])

def eof(s, timeout):
    """'eof' when the peer closes within timeout, else what happened"""
    s.settimeout(timeout)
    t0 = time.time()
    try:
        d = s.recv(100)
        r = 'eof' if not d else 'data'
    except ConnectionResetError:
        r = 'eof'
    except socket.timeout:
        r = 'timeout'
    return r, time.time() - t0

def skip_name(m, o):
    while True:
        l = m[o]
        if l == 0:
            return o + 1
        if l & 0xc0 == 0xc0:
            return o + 2
        o += 1 + l

def parse(m):
    """the fields a test looks at, as key=value words"""
    mid, fl, qd, an, ns, ar = struct.unpack('!6H', m[:12])
    o = 12
    for _ in range(qd):
        o = skip_name(m, o) + 4
    for _ in range(an + ns):
        o = skip_name(m, o)
        o += 10 + struct.unpack('!H', m[o + 8:o + 10])[0]
    opt, ede, text, ext = 0, '-', '', 0
    for _ in range(ar):
        o = skip_name(m, o)
        t, cls, ttl, rdl = struct.unpack('!HHIH', m[o:o + 10])
        rd = m[o + 10:o + 10 + rdl]
        o += 10 + rdl
        if t == 41:
            opt += 1
            ext = ttl >> 24
            p = 0
            while p + 4 <= len(rd):
                code, ln = struct.unpack('!HH', rd[p:p + 4])
                if code == 15 and ede == '-':
                    ede = struct.unpack('!H', rd[p + 4:p + 6])[0]
                    text = rd[p + 6:p + 4 + ln].decode('utf-8', 'replace')
                p += 4 + ln
    return ('len=%d id=%d qr=%d opcode=%d rcode=%d qd=%d ar=%d opt=%d ede=%s text="%s" trailing=%d'
            % (len(m), mid, fl >> 15, (fl >> 11) & 15, (fl & 15) | (ext << 4), qd, ar, opt, ede,
               text, len(m) - o))

def rid(path):
    m = open(path, 'rb').read()
    return m, struct.unpack('!H', m[:2])[0]

def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a = sys.argv[4:]
    if cmd == 'udp':
        m, i = rid(a[0])
        s = socket.socket(fam(host), socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(m, (host, port))
        r = s.recv(65535)
        print('req_id=%d req_opcode=%d %s' % (i, (m[2] >> 3) & 15, parse(r)))
    elif cmd == 'pipeline':
        # three framed requests in ONE write, then three framed answers
        ms = [rid(p) for p in a]
        s = tcp(host, port)
        s.sendall(b''.join(frame(m) for m, _ in ms))
        got = []
        for _ in ms:
            r = read_frame(s)
            if r is None:
                break
            got.append(struct.unpack('!H', r[:2])[0])
        print('sent=%s got=%s' % (','.join(str(i) for _, i in sorted(ms, key=lambda x: x[1])),
                                  ','.join(str(i) for i in sorted(got))))
    elif cmd == 'split':
        # one frame in four writes with pauses: 1 + 1 + 10 bytes, then the rest
        m, i = rid(a[0])
        f = frame(m)
        s = tcp(host, port)
        for piece in (f[:1], f[1:2], f[2:12], f[12:]):
            s.sendall(piece)
            time.sleep(0.4)
        r = read_frame(s)
        print('req_id=%d %s' % (i, parse(r)) if r else 'eof')
    elif cmd == 'idle':
        s = tcp(host, port)
        r, t = eof(s, float(a[0]))
        print('%s after=%.1f' % (r, t))
    elif cmd == 'cap':
        # N idle connections, then one more; the N still work; after
        # closing them a new connection works
        n = int(a[0])
        conns = [tcp(host, port) for _ in range(n)]
        time.sleep(0.3)
        extra = tcp(host, port)
        r, t = eof(extra, 1.0)
        out = ['extra=%s' % r]
        m, i = rid(a[1])
        conns[-1].sendall(frame(m))
        ans = read_frame(conns[-1])
        out.append('last_of_%d=%s' % (n, 'answered' if ans and ans[:2] == m[:2] else 'no'))
        for c in conns + [extra]:
            c.close()
        time.sleep(0.3)
        m, i = rid(a[2])
        s = tcp(host, port)
        s.sendall(frame(m))
        ans = read_frame(s)
        out.append('after=%s' % ('answered' if ans and ans[:2] == m[:2] else 'no'))
        print(' '.join(out))
    elif cmd == 'oversize':
        # A: half a request; B: a length prefix above the limit; B is
        # closed, A finishes its request and gets the answer
        m, i = rid(a[0])
        f = frame(m)
        A = tcp(host, port)
        A.sendall(f[:len(f) // 2])
        B = tcp(host, port)
        B.sendall(struct.pack('!H', int(a[1])) + b'\0' * 100)
        r, t = eof(B, 1.5)
        A.sendall(f[len(f) // 2:])
        ans = read_frame(A)
        print('big=%s other=%s' % (r, 'answered' if ans and ans[:2] == m[:2] else 'no'))
    elif cmd == 'short':
        # a frame of N < 12 bytes
        n = int(a[0])
        s = tcp(host, port)
        s.sendall(struct.pack('!H', n) + b'\x12' * n)
        r, t = eof(s, 1.5)
        print(r)

main()
EOPY
t5() { python3 "$T/t5.py" "$@"; }
ndec() { grep -c ' rcode=' "$T/dsyncd.log"; }
# wait_log N REGEX: until the log has at least N lines matching REGEX (bounded)
wait_log() {
	for _ in $(seq 40); do
		[ "$(grep -cE "$2" "$T/dsyncd.log")" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# ds ARGS...: dsync-send to the IPv4 address (override with -s), last line
ds() { "$BIN/dsync-send" -s $ADDR -p $PORT --wait-ms 3000 "$@" 2>&1 | tail -1; }
# mk FILE ARGS...: build and sign a request into FILE without it reaching
# the daemon (sent to a closed UDP port)
mk() {
	local f=$1
	shift
	"$BIN/dsync-send" -s 127.0.0.5 -p 9 --wait-ms 50 --save "$f" "$@" >/dev/null 2>&1
	test -s "$f"
}
# field NAME LINE: one key=value of a t5 output line
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
# decided DESC N0 K: exactly K decision lines were added after N0
decided() {
	wait_log $(($2 + $3)) ' rcode=' || true
	sleep 0.1
	expect "$1: $3 decision log line(s)" "$3" "$(($(ndec) - $2))"
}

# ---- setup ------------------------------------------------------------------------

KC=$(mkkey child.example. ED25519) || { not_ok "keygen"; finish; }
write_conf "$T/dsyncd.conf" $ADDR $PORT example. "child.example.:$KC"
sed -i -e "s/listen = \[ \"$ADDR\" \]/listen = [ \"$ADDR\", \"$ADDR6\" ]/" \
	-e 's/tcp-idle-timeout = 3;/tcp-idle-timeout = 2; tcp-max-connections = 4;/' "$T/dsyncd.conf"
check "config: listen on $ADDR and $ADDR6, idle timeout 2, cap 4" \
	grep -q "listen = \[ \"$ADDR\", \"$ADDR6\" \]; port = $PORT; tcp-idle-timeout = 2; tcp-max-connections = 4;" "$T/dsyncd.conf"
check "config check (-n)" "$BIN/dsyncd" -n -c "$T/dsyncd.conf"
start_dsyncd "$T/dsyncd.conf" || { not_ok "dsyncd starts"; finish; }
check "log: listening on $ADDR" grep -q "listening on $ADDR port $PORT (udp, tcp)" "$T/dsyncd.log"
check "log: listening on $ADDR6" grep -q "listening on $ADDR6 port $PORT (udp, tcp)" "$T/dsyncd.log"

# ---- UDP and TCP, IPv4 and IPv6 ---------------------------------------------------------

r=$(ds -k "$KC" --add "child.example. 300 NS ns1.provider.net." --add "child.example. 300 NS ns2.provider.net.")
expect "IPv4 UDP: initial delegation -> NOERROR" NOERROR "$(f_rcode "$r")"
i=3
for via in "$ADDR udp" "$ADDR tcp" "$ADDR6 udp" "$ADDR6 tcp"; do
	set -- $via
	n0=$(ndec)
	r=$(ds -s "$1" $([ "$2" = tcp ] && echo -t) -k "$KC" --add "child.example. 300 NS ns$i.provider.net.")
	expect "dsync-send $1 $2: add ns$i -> NOERROR" NOERROR "$(f_rcode "$r")"
	check "$1 $2: ns$i stored" grep -q "ns$i.provider.net." <(deleg_dump)
	decided "$1 $2" "$n0" 1
	if [ "$1" = "$ADDR6" ]; then
		check "$1 $2: the decision's log line names the IPv6 client" \
			grep -q "client=::1#[0-9]* key=[0-9]* result=accepted rcode=NOERROR" <(tail -1 <(grep ' rcode=' "$T/dsyncd.log"))
	fi
	i=$((i + 1))
done
for via in "$ADDR -" "$ADDR -v" "$ADDR6 -" "$ADDR6 -v"; do
	set -- $via
	tcp=$([ "$2" = -v ] && echo -v)
	n0=$(ndec)
	r=$(nsu "$KC" "$1" $PORT $tcp <<-EOS
		zone example.
		update add child.example. 300 NS ns$i.provider.net.
		EOS
	)
	expect "nsupdate $1 ${tcp:-(udp)}: add ns$i -> NOERROR" NOERROR "$r"
	check "nsupdate $1 ${tcp:-(udp)}: ns$i stored" grep -q "ns$i.provider.net." <(deleg_dump)
	decided "nsupdate $1 ${tcp:-(udp)}" "$n0" 1
	i=$((i + 1))
done
# back to two NS (ns1, ns2)
args=()
for k in $(seq 3 $((i - 1))); do args+=(--del "child.example. 0 NS ns$k.provider.net."); done
r=$(ds -t -k "$KC" "${args[@]}")
expect "TCP: remove ns3..ns$((i - 1)) -> NOERROR" NOERROR "$(f_rcode "$r")"
expect "two NS left" 2 "$(deleg_dump | grep -c '^child.example. 2 ')"

# ---- several messages on one TCP connection --------------------------------------------------

mk "$T/p1.bin" -k "$KC" --id 1001 --add "child.example. 300 NS p1.provider.net." &&
	mk "$T/p2.bin" -k "$KC" --id 1002 --add "child.example. 300 NS p2.provider.net." &&
	mk "$T/p3.bin" -k "$KC" --id 1003 --add "child.example. 300 NS p3.provider.net."
check "three signed UPDATEs saved (not sent)" test -s "$T/p3.bin"
check "none of them reached the store" test "$(deleg_dump | grep -c 'p[123].provider')" = 0
n0=$(ndec)
r=$(t5 pipeline $ADDR $PORT "$T/p1.bin" "$T/p2.bin" "$T/p3.bin")
expect "3 pipelined UPDATEs in one write: 3 answers, IDs matched" "sent=1001,1002,1003 got=1001,1002,1003" "$r"
expect "pipelined: all three applied" 3 "$(deleg_dump | grep -c 'p[123].provider')"
decided "pipelined" "$n0" 3
expect "pipelined: the three decisions are NOERROR" 3 \
	"$(grep ' rcode=' "$T/dsyncd.log" | tail -3 | grep -c 'result=accepted rcode=NOERROR')"
ta=$(counter tcp_accepted)
mk "$T/p4.bin" -k "$KC" --id 1004 --del "child.example. 0 NS p1.provider.net." &&
	mk "$T/p5.bin" -k "$KC" --id 1005 --del "child.example. 0 NS p2.provider.net." &&
	mk "$T/p6.bin" -k "$KC" --id 1006 --del "child.example. 0 NS p3.provider.net."
r=$(t5 pipeline $ADDR6 $PORT "$T/p4.bin" "$T/p5.bin" "$T/p6.bin")
expect "IPv6: 3 pipelined UPDATEs: 3 answers, IDs matched" "sent=1004,1005,1006 got=1004,1005,1006" "$r"
expect "IPv6 pipelined: all three applied" 0 "$(deleg_dump | grep -c 'p[123].provider')"
expect "each pipeline used one connection" $((ta + 1)) "$(counter tcp_accepted)"

# more than the 16 requests a connection may have in processing at once:
# reading pauses and resumes, every one is answered
pipe40=()
for k in $(seq 1 40); do
	if [ $((k % 2)) = 1 ]; then op=(--add "child.example. 300 NS q.provider.net."); else op=(--del "child.example. 0 NS q.provider.net."); fi
	mk "$T/q$k.bin" -k "$KC" --id $((7000 + k)) "${op[@]}" && pipe40+=("$T/q$k.bin")
done
expect "40 signed UPDATEs saved" 40 "${#pipe40[@]}"
n0=$(ndec)
r=$(t5 pipeline $ADDR $PORT "${pipe40[@]}")
expect "40 pipelined UPDATEs in one write: 40 answers, IDs matched" \
	"sent=$(seq -s, 7001 7040) got=$(seq -s, 7001 7040)" "$r"
decided "40 pipelined" "$n0" 40
expect "40 pipelined: all NOERROR" 40 "$(grep ' rcode=' "$T/dsyncd.log" | tail -40 | grep -c 'rcode=NOERROR')"
# (workers may reorder them; the store must match the last one committed)
lastq=$(sqlite3 "$T/db/dsyncd.db" "select request from audit where request like '%NS q.provider.net.' order by id desc limit 1")
case $lastq in *"; add "*) want=1 ;; *"; del "*) want=0 ;; *) want="?" ;; esac
expect "40 pipelined: q present iff the last committed of them adds it" "$want" "$(deleg_dump | grep -c q.provider.net)"
r=$(ds -k "$KC" --del "child.example. 0 NS q.provider.net.")
expect "q removed -> NOERROR" NOERROR "$(f_rcode "$r")"

# ---- a frame split over several writes -------------------------------------------------------

mk "$T/s1.bin" -k "$KC" --id 2001 --add "child.example. 300 NS s1.provider.net."
n0=$(ndec)
r=$(t5 split $ADDR $PORT "$T/s1.bin")
expect_match "frame in 4 writes with 0.4 s pauses: answered NOERROR, same ID" "^req_id=2001 .* id=2001 qr=1 opcode=5 rcode=0 " "$r"
check "split frame: applied" grep -q "s1.provider.net." <(deleg_dump)
decided "split frame" "$n0" 1

# ---- idle timeout ----------------------------------------------------------------------------

nidle=$(grep -c "closed idle TCP connection" "$T/dsyncd.log")
r=$(t5 idle $ADDR $PORT 6)
expect_match "idle connection (tcp-idle-timeout 2) closed by the server: read gives EOF" "^eof " "$r"
t=$(field after "$r")
# not before the timeout (the upper bound is the 6 s of waiting above: no
# wall-clock speed is asserted)
awk -v t="$t" 'BEGIN { exit !(t >= 1.9) }' && ok "idle connection closed after $t s (not before tcp-idle-timeout 2)" ||
	not_ok "idle connection closed after $t s (before tcp-idle-timeout 2)"
wait_log $((nidle + 1)) "closed idle TCP connection from 127\.0\.0\.[0-9]+#" || true
expect "log: one line for the idle close" $((nidle + 1)) "$(grep -cE "closed idle TCP connection from 127\.0\.0\.[0-9]+#" "$T/dsyncd.log")"
r=$(t5 idle $ADDR6 $PORT 6)
expect_match "IPv6: idle connection closed by the server" "^eof " "$r"

# ---- connection cap ----------------------------------------------------------------------------

mk "$T/c1.bin" -k "$KC" --id 3001 --add "child.example. 300 NS c1.provider.net."
mk "$T/c2.bin" -k "$KC" --id 3002 --del "child.example. 0 NS c1.provider.net."
nref=$(grep -c "refused TCP connection" "$T/dsyncd.log")
rf=$(counter tcp_refused_full)
r=$(t5 cap $ADDR $PORT 4 "$T/c1.bin" "$T/c2.bin")
expect "tcp-max-connections 4: the 5th is closed at once, the 4 work, new ones work after" \
	"extra=eof last_of_4=answered after=answered" "$r"
expect "counter tcp_refused_full +1" $((rf + 1)) "$(counter tcp_refused_full)"
expect_match "log: the refusal names the limit" "refused TCP connection from 127\.0\.0\.[0-9]+#[0-9]+: 4 connections open \(limit 4\)" \
	"$(grep "refused TCP connection" "$T/dsyncd.log" | tail -1)"
expect "log: one line for the refused connection" $((nref + 1)) "$(grep -c "refused TCP connection" "$T/dsyncd.log")"
check "cap: c1 added then removed" test "$(deleg_dump | grep -c c1.provider)" = 0

# ---- oversized and too-short frames ---------------------------------------------------------------

mk "$T/o1.bin" -k "$KC" --id 4001 --add "child.example. 300 NS o1.provider.net."
nbad=$(grep -c "closed TCP connection from" "$T/dsyncd.log")
cb=$(counter tcp_closed_bad)
n0=$(ndec)
r=$(t5 oversize $ADDR $PORT "$T/o1.bin" 20000)
expect "frame length 20000 > max-message-size: that connection closed, another one still answered" \
	"big=eof other=answered" "$r"
check "oversize: the other connection's UPDATE applied" grep -q o1.provider.net. <(deleg_dump)
decided "oversize: only the other connection's request" "$n0" 1
expect_match "log: the close names the rule" "closed TCP connection from 127\.0\.0\.[0-9]+#[0-9]+: frame longer than server.max-message-size \(20000\)" \
	"$(grep "closed TCP connection from" "$T/dsyncd.log" | tail -1)"
r=$(t5 oversize $ADDR $PORT "$T/o1.bin" 65535)
expect "frame length 65535: closed, the other connection answered (a replay)" "big=eof other=answered" "$r"
r=$(t5 short $ADDR $PORT 5)
expect "frame of 5 bytes (< 12): connection closed" eof "$r"
expect_match "log: the close names the short frame" "closed TCP connection from 127\.0\.0\.[0-9]+#[0-9]+: frame shorter than a DNS header \(5\)" \
	"$(grep "closed TCP connection from" "$T/dsyncd.log" | tail -1)"
r=$(t5 short $ADDR6 $PORT 0)
expect "IPv6: frame of 0 bytes: connection closed" eof "$r"
expect_match "log: the zero-length frame" "closed TCP connection from ::1#[0-9]+: frame shorter than a DNS header \(0\)" \
	"$(grep "closed TCP connection from" "$T/dsyncd.log" | tail -1)"
r=$(t5 short $ADDR $PORT 11)
expect "frame of 11 bytes: connection closed" eof "$r"
expect "log: one line per closed connection (5)" $((nbad + 5)) "$(grep -c "closed TCP connection from" "$T/dsyncd.log")"
expect "counter tcp_closed_bad +5" $((cb + 5)) "$(counter tcp_closed_bad)"
expect "no decision for the closed connections (only o1's and its replay)" 2 "$(($(ndec) - n0))"

# ---- the answer: without EDNS, with EDNS, header copied ----------------------------------------------

# a long zone name so that the echo is not tiny: 4 labels of 60 (unserved -> NOTAUTH)
L60=$(printf 'a%.0s' $(seq 60))
LONGZ="$L60.$L60.$L60.$L60."
mk "$T/u-noedns.bin" -k "$KC" --no-edns --id 5001 --add "child.example. 300 NS u1.provider.net."
mk "$T/u-noedns-bad.bin" -z example. --no-edns --id 5002 --add "child.example. 300 NS u1.provider.net."
mk "$T/u-noedns-long.bin" --no-edns --id 5003 -z "$LONGZ" --add "child.example. 300 NS u1.provider.net."
mk "$T/u-edns-bad.bin" -z example. --id 5004 --add "child.example. 300 NS u1.provider.net."
mk "$T/u-edns-long.bin" --id 5005 --udp-size 512 -z "$LONGZ" --add "child.example. 300 NS u1.provider.net."
mk "$T/u-query.bin" -k "$KC" --opcode 0 --id 5006
mk "$T/u-notify.bin" -z example. --opcode 4 --id 5007 --no-edns
mk "$T/u-small.bin" -z example. --id 5008 --udp-size 100 --add "child.example. 300 NS u1.provider.net."
mk "$T/u-edns-ok.bin" -k "$KC" --id 5009 --add "child.example. 300 NS u2.provider.net."

udp() { # DESC FILE REGEX [ADDR]
	local n0 r
	n0=$(ndec)
	r=$(t5 udp "${4:-$ADDR}" $PORT "$2")
	expect_match "$1" "$3" "$r"
	local len
	len=$(field len "$r")
	[ -n "$len" ] && [ "$len" -le 512 ] && ok "$1: answer of $len bytes <= 512" || not_ok "$1: answer of '$len' bytes"
	expect "$1: header copied (ID, opcode), QR set" "$(field req_id "$r") $(field req_opcode "$r") 1" \
		"$(field id "$r") $(field opcode "$r") $(field qr "$r")"
	expect "$1: nothing after the last record" 0 "$(field trailing "$r")"
	decided "$1" "$n0" 1
}
udp "no EDNS, signed UPDATE" "$T/u-noedns.bin" ' rcode=0 qd=1 ar=0 opt=0 ede=- '
check "no EDNS: u1 stored" grep -q u1.provider.net. <(deleg_dump)
udp "no EDNS, unsigned UPDATE" "$T/u-noedns-bad.bin" ' rcode=5 qd=1 ar=0 opt=0 ede=- '
udp "no EDNS, unserved 244-octet zone" "$T/u-noedns-long.bin" ' rcode=9 qd=1 ar=0 opt=0 ede=- '
udp "EDNS, unsigned UPDATE" "$T/u-edns-bad.bin" ' rcode=5 qd=1 ar=1 opt=1 ede=18 text="UPDATE is not signed; a SIG\(0\) by the child.s key is required" '
udp "EDNS 512, unserved 244-octet zone" "$T/u-edns-long.bin" ' rcode=9 qd=1 ar=1 opt=1 ede=20 text="zone a+\.'
udp "EDNS, signed QUERY" "$T/u-query.bin" ' opcode=0 rcode=5 qd=1 ar=1 opt=1 ede=20 text="this is a DNS UPDATE receiver; it answers no queries"'
udp "no EDNS, NOTIFY" "$T/u-notify.bin" ' opcode=4 rcode=4 qd=1 ar=0 opt=0 ede=- '
udp "IPv6: EDNS, unsigned UPDATE" "$T/u-edns-bad.bin" ' rcode=5 qd=1 ar=1 opt=1 ede=18 text="UPDATE is not signed' "$ADDR6"
udp "EDNS, signed UPDATE accepted" "$T/u-edns-ok.bin" ' rcode=0 qd=1 ar=1 opt=1 ede=- '
# RFC 6891 6.2.5: a requestor's UDP payload size below 512 is treated as 512
udp "EDNS with UDP size 100 (treated as 512): still OPT and EDE" "$T/u-small.bin" ' rcode=5 qd=1 ar=1 opt=1 ede=18 text="UPDATE is not signed'
mk "$T/u-small-badkey.bin" -k "$(mkkey stranger.example. ED25519)" --id 5010 --udp-size 0 --add "stranger.example. 300 NS u1.provider.net."
udp "EDNS with UDP size 0, unknown key: BADKEY needs the OPT" "$T/u-small-badkey.bin" ' rcode=17 qd=1 ar=1 opt=1 ede=513 '

# TCP answers carry the same header
r=$(ds -t -z example. --id 6001 --no-edns --add "child.example. 300 NS u1.provider.net.")
expect_match "TCP, no EDNS, unsigned: REFUSED, no EDE, same ID" "^rcode=REFUSED ede=- .* id=6001" "$r"
r=$(ds -t -z example. --id 6002 --add "child.example. 300 NS u1.provider.net.")
expect_match "TCP, EDNS, unsigned: REFUSED, EDE 18, same ID" "^rcode=REFUSED ede=18 .* id=6002" "$r"

# ---- the end ---------------------------------------------------------------------------------------------

r=$(ds -s $ADDR6 -t -k "$KC" --del "child.example. 0 NS u1.provider.net." --del "child.example. 0 NS u2.provider.net." \
	--del "child.example. 0 NS s1.provider.net." --del "child.example. 0 NS o1.provider.net.")
expect "a good UPDATE is still NOERROR" NOERROR "$(f_rcode "$r")"
expect "the delegation is back to ns1, ns2" "child.example. 2 ns1.provider.net.|child.example. 2 ns2.provider.net." \
	"$(deleg_dump | paste -sd'|')"
audits=$(sqlite3 "$T/db/dsyncd.db" "select count(*) from audit where actor='update'")
expect "every UPDATE decision has an audit row" "$(grep -c ' update zone=' "$T/dsyncd.log")" "$audits"
check "dsyncd stops cleanly (no sanitizer reports)" stop_dsyncd
finish
