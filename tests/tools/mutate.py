#!/usr/bin/env python3
"""tests/tools/mutate.py -- a bounded stream of mutated DNS messages.

Reads seed messages (files of raw DNS bytes, e.g. saved by `dsync-send
--save`), and sends mutated copies to one server over UDP and TCP: bit and
byte flips, truncation, inserted and deleted bytes, changed section counts
and 16-bit fields (RDLENGTH, types, classes), duplicated slices.  Answers are
read and counted but not judged: the test that runs this judges the server
(alive, no sanitizer report, still serving).

Stops by itself after --seconds or --count messages, whichever comes first;
sends only to the given address (a loopback address in the tests).  Prints
one line: sent= udp= tcp= answers= tcp_closed= seconds=
"""
import argparse
import os
import random
import select
import socket
import struct
import sys
import time


def mutate(rng, msg):
    b = bytearray(msg)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        n = len(b)
        if n == 0:
            b = bytearray(rng.randbytes(rng.randint(1, 40)))
            continue
        at = rng.randrange(n)
        if op == 0:  # flip one bit
            b[at] ^= 1 << rng.randrange(8)
        elif op == 1:  # replace a byte
            b[at] = rng.randrange(256)
        elif op == 2:  # truncate
            del b[at:]
        elif op == 3:  # insert bytes
            b[at:at] = rng.randbytes(rng.randint(1, 8))
        elif op == 4:  # delete a range
            del b[at:at + rng.randint(1, 16)]
        elif op == 5 and n >= 12:  # a section count
            s = 4 + 2 * rng.randrange(4)
            b[s:s + 2] = struct.pack("!H", rng.choice([0, 1, 2, 3, 255, 256, 257, 0xFFFF,
                                                       rng.randrange(65536)]))
        elif op == 6 and n >= 2:  # a 16-bit field anywhere (RDLENGTH, type, class)
            at = min(at, n - 2)
            b[at:at + 2] = struct.pack("!H", rng.choice([0, 1, 2, 0x7F, 0x80, 0xFF, 0x100,
                                                         0xFFFF, rng.randrange(65536)]))
        elif op == 7:  # duplicate a slice
            ln = rng.randint(1, 32)
            b[at:at] = b[at:at + ln]
        elif op == 8 and n > 12:  # compression pointer somewhere
            at = max(12, min(at, n - 2))
            b[at:at + 2] = struct.pack("!H", 0xC000 | rng.randrange(min(n, 0x3FFF)))
    return bytes(b[:65535])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--count", type=int, default=200000)
    ap.add_argument("--rate", type=int, default=2000, help="messages a second at most")
    ap.add_argument("--tcp-every", type=int, default=4, help="one message in N goes over TCP")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("seeds", nargs="+", help="seed message files or folders")
    a = ap.parse_args()

    seeds = []
    for p in a.seeds:
        files = [os.path.join(p, f) for f in sorted(os.listdir(p))] if os.path.isdir(p) else [p]
        for f in files:
            with open(f, "rb") as fh:
                seeds.append(fh.read())
    if not seeds:
        sys.exit("mutate.py: no seed messages")
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    print(f"mutate.py: {len(seeds)} seeds, random seed {seed}", file=sys.stderr)

    fam = socket.AF_INET6 if ":" in a.server else socket.AF_INET
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    udp.setblocking(False)
    tcp = None
    sent = n_udp = n_tcp = answers = closed = 0
    t0 = time.monotonic()
    deadline = t0 + a.seconds
    gap = 1.0 / a.rate if a.rate > 0 else 0.0
    next_send = t0

    def tcp_open():
        s = socket.create_connection((a.server, a.port), timeout=2)
        s.setblocking(False)
        return s

    while sent < a.count and time.monotonic() < deadline:
        msg = mutate(rng, rng.choice(seeds))
        # a message a server could take for a response is still sent: it
        # must be dropped without an answer
        try:
            if a.tcp_every and sent % a.tcp_every == 0:
                if tcp is None:
                    tcp = tcp_open()
                try:
                    tcp.sendall(struct.pack("!H", len(msg)) + msg)
                except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                    tcp.close()
                    tcp = None
                    closed += 1
                n_tcp += 1
            else:
                udp.sendto(msg, (a.server, a.port))
                n_udp += 1
        except (BlockingIOError, ConnectionRefusedError, OSError) as e:
            if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", 0) == 111:
                if tcp is not None:
                    tcp.close()
                tcp = None
                closed += 1
        sent += 1
        # read whatever came back, without waiting
        socks = [udp] + ([tcp] if tcp is not None else [])
        r, _, _ = select.select(socks, [], [], 0)
        for s in r:
            try:
                if s is udp:
                    while True:
                        udp.recvfrom(65535)
                        answers += 1
                else:
                    data = s.recv(65536)
                    if not data:
                        s.close()
                        tcp = None
                        closed += 1
                    else:
                        answers += 1
            except (BlockingIOError, ConnectionResetError, ConnectionRefusedError):
                if s is not udp:
                    s.close()
                    tcp = None
                    closed += 1
        next_send += gap
        pause = next_send - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    if tcp is not None:
        tcp.close()
    print(f"sent={sent} udp={n_udp} tcp={n_tcp} answers={answers} tcp_closed={closed} "
          f"seconds={time.monotonic() - t0:.1f}")


if __name__ == "__main__":
    main()
