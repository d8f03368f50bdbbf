#!/usr/bin/env python3
"""tests/fuzz/gen_corpus.py -- seed corpora of the targets whose inputs are
mostly text or simple framing: keystate, config, api_body, tcp_framing and
zonefile (gen_corpus.c writes those of msg, dname, rrtext and pipeline).
Run from tests/fuzz (`make corpus`).  Seeds are small and made here; inputs
found by fuzzing are kept next to them as crash-* files and are not touched.
"""
import os
import re
import struct

KEY = "bW7TkfdIUmMC93jrOI0wqaQQWbw7OeSj+dNVat+zRUE="  # examples/keys, ED25519


def put(target, name, data):
    os.makedirs("corpus/" + target, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open("corpus/%s/%s" % (target, name), "wb") as f:
        f.write(data)


def wname(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


# ---- keystate: answer settings, EDE length, KeyState text length, write buffer; a query

def query(qname, qtype, opts, udp=1232, zone_count=1, opcode=0):
    hdr = struct.pack(">HHHHHH", 0x4242, opcode << 11, zone_count, 0, 0, 1)
    q = wname(qname) + struct.pack(">HH", qtype, 1)
    rdata = b"".join(struct.pack(">HH", c, len(v)) + v for c, v in opts)
    opt = b"\0" + struct.pack(">HHIH", 41, udp, 0, len(rdata)) + rdata
    return hdr + q + opt


def ks(tag, state, data=None, text=b""):
    v = struct.pack(">HB", tag, state)
    return v if data is None else v + bytes([data]) + text


def gen_keystate():
    seeds = {
        "inquiry": (0, 0, 0, 64, [(65002, ks(0x1234, 2, 0))]),
        "inquiry-tcp-ede": (3, 200, 150, 255, [(65002, ks(0x1234, 2, 0))]),
        "inquiry-small-udp": (2, 255, 199, 8, [(65002, ks(1, 2, 0, b"hello"))]),
        "legacy-3-bytes": (0, 0, 10, 16, [(65002, ks(7, 2))]),
        "short-2-bytes": (0, 0, 0, 16, [(65002, b"\x00\x07")]),
        "empty-option": (0, 0, 0, 16, [(65002, b"")]),
        "not-an-inquiry": (4, 0, 0, 16, [(65002, ks(9, 4, 0))]),
        "text-with-nul": (0, 0, 0, 40, [(65002, ks(9, 2, 0, b"a\0b"))]),
        "long-text": (0, 0, 0, 255, [(65002, ks(9, 2, 0, b"x" * 300))]),
        "two-options": (0, 0, 0, 64, [(15, b"\x00\x01"), (65002, ks(3, 2, 0)),
                                      (65002, ks(4, 2, 0))]),
        "other-option-only": (0, 0, 0, 64, [(10, b"12345678")]),
    }
    for name, (flags, ede, kst, wcap, opts) in seeds.items():
        msg = query("c1.example.", 25, opts)
        put("keystate", name, bytes([flags, ede, kst, wcap]) + msg)
    # an option list that runs past the RDATA, and a big name with a tiny UDP size
    msg = bytearray(query("c1.example.", 25, [(65002, ks(1, 2, 0))]))
    msg[-5] += 9  # the option's length past the end
    put("keystate", "truncated-option-list", bytes([0, 0, 0, 16]) + bytes(msg))
    long_name = ".".join(["a" * 63] * 3) + ".example."
    put("keystate", "long-name-udp-512",
        bytes([2, 255, 199, 255]) + query(long_name, 25, [(65002, ks(5, 2, 0))], udp=0))


# ---- config: whole configurations, with paths inside the fuzzer's folder

ZONE = """zones = ( { name = "example.";
  min-ns = 1;
  bootstrap-methods = [ %s ];
  children = ( { name = "c1.example."; keys = ( "c1.example. KEY 512 3 15 %s" ); } );
  backends = ( %s ); } );
"""


def gen_config():
    src = open("../../examples/dsyncd.conf").read()
    # the fuzzer skips inputs with '/': comments go, paths lose their folders
    src = "\n".join(l for l in src.splitlines() if "/" not in l or '"' in l)
    src = re.sub(r'"[^"]*/([^"/]*)"', r'"\1"', src)
    src = re.sub(r"#.*", "", src)
    src = "\n".join(l.rstrip() for l in src.splitlines() if l.strip()) + "\n"
    put("config", "example", src)
    backends = {
        "null": 'type = "null";',
        "zonefile": 'type = "zonefile"; path = "zone.db"; template = "zone.tmpl";',
        "zonefile-bad-dir": 'type = "zonefile"; path = "nothere..db";',
        "exec": 'type = "exec"; command = [ "true", "x" ]; environment = [ "A=1" ];',
        "dnsupdate": 'type = "dnsupdate"; primaries = [ "127.0.0.1@53" ];',
        "powerdns": 'type = "powerdns"; url = "http:..x"; api-key-file = "pdns.key";',
        "unknown": 'type = "nosuch";',
    }
    for name, b in backends.items():
        put("config", "backend-" + name, ZONE % ('"manual"', KEY, "{ %s }" % b))
    put("config", "two-backends-same-name",
        ZONE % ('"manual"', KEY, '{ type = "null"; }, { type = "null"; }'))
    put("config", "bootstrap-auto", ZONE % ('"at-apex", "at-ns", "manual"', KEY,
                                             '{ type = "null"; }'))
    put("config", "bad-key", ZONE % ('"manual"', "AAAA", '{ type = "null"; }'))
    put("config", "include", '@include "include.conf"\n' +
        ZONE % ('"manual"', KEY, '{ type = "null"; }'))
    put("config", "include-self-twice", '@include "dsyncd.conf"\n@include "dsyncd.conf"\n')
    put("config", "syntax-error", "server = { port = ; };\n")
    put("config", "unknown-setting", "server = { nosuch = 1; };\n")
    put("config", "wrong-type", 'server = { port = "53"; listen = 1; };\n')
    put("config", "empty", "")


# ---- api_body: request byte, (child name line), body

def gen_api_body():
    key = "c1.example. 3600 IN KEY 512 3 15 " + KEY
    seeds = {
        "reason": b"\x00" + b'{"reason": "rotation"}',
        "reason-empty-body": b"\x00",
        "reason-control": b"\x00" + b'{"reason": "a\\nb"}',
        "reason-long": b"\x00" + b'{"reason": "' + b"r" * 201 + b'"}',
        "reason-unknown-field": b"\x00" + b'{"why": "x"}',
        "reason-not-object": b"\x00" + b"[1, 2]",
        "reason-duplicate": b"\x00" + b'{"reason": "a", "reason": "b"}',
        "key": b"\x01" + ('{"key": "%s", "reason": "new key"}' % key).encode(),
        "key-missing": b"\x01" + b"{}",
        "key-not-key": b"\x01" + b'{"key": "c1.example. 3600 IN A 192.0.2.1"}',
        "key-other-owner": b"\x01" + ('{"key": "c2.example. IN KEY 512 3 15 %s"}' % KEY).encode(),
        "key-bad-base64": b"\x01" + b'{"key": "c1.example. IN KEY 512 3 15 not-base64!"}',
        "key-rsa-short": b"\x01" + b'{"key": "c1.example. IN KEY 512 3 8 AwEAAQ=="}',
        "key-number": b"\x01" + b'{"key": 5}',
        "deleg": b"\x02new.example.\n" + b'{"ns": ["ns1.provider.net.", "ns2.new.example."], '
                 b'"ds": ["12345 13 2 ' + b"ab" * 32 + b'"], "glue": [{"name": '
                 b'"ns2.new.example.", "address": "192.0.2.53"}], "reason": "onboarding"}',
        "deleg-empty": b"\x02empty.example.\n",
        "deleg-no-zone": b"\x02new.other.\n" + b'{"ns": ["ns1.provider.net."]}',
        "deleg-bad-name": b"\x02bad name!\n" + b"{}",
        "deleg-glue-shape": b"\x02g.example.\n" + b'{"glue": [{"name": "x"}]}',
        "deleg-ns-number": b"\x02g.example.\n" + b'{"ns": [1]}',
        "deleg-bad-ds": b"\x02g.example.\n" + b'{"ns": ["a.b."], "ds": ["1 2 3"]}',
        "deleg-glue-v6": b"\x02g.example.\n" + b'{"ns": ["ns.g.example."], "glue": '
                         b'[{"name": "ns.g.example.", "address": "2001:db8::53"}]}',
        "deleg-nested-zone": b"\x02c.sub.example.\n" + b'{"ns": ["a.net."], "ds": '
                             b'["1 13 2 ' + b"00" * 32 + b'", "2 13 2 ' + b"11" * 32 +
                             b'", "3 13 2 ' + b"22" * 32 + b'"]}',
        "any-required-empty": b"\x07",
        "any-bad-json": b"\x03{\"key\": ",
        "any-array-field": b"\x03" + b'{"ns": "x"}',
        "any-utf8": b"\x03" + '{"reason": "\u00e9\u4e2d"}'.encode(),
        "any-bad-utf8": b"\x03" + b'{"reason": "\xff\xfe"}',
    }
    for name, data in seeds.items():
        put("api_body", name, data)


# ---- tcp_framing: max-message-size, piece seed, stream

def frame(n, fill=b"\x42"):
    return struct.pack(">H", n) + (fill * n)[:n]


def gen_tcp_framing():
    m = struct.pack(">H", 16384)
    put("tcp_framing", "one-frame", m + b"\0" + frame(12))
    put("tcp_framing", "three-frames-pieces", m + b"\x07" + frame(12) + frame(100) + frame(13))
    put("tcp_framing", "incomplete-last", m + b"\x03" + frame(30) + frame(40)[:20])
    put("tcp_framing", "too-short", m + b"\x05" + frame(12) + struct.pack(">H", 11) + b"x" * 11)
    put("tcp_framing", "too-long", m + b"\x09" + frame(12) + struct.pack(">H", 16385))
    put("tcp_framing", "max-exactly", struct.pack(">H", 512) + b"\x11" + frame(512) + frame(12))
    put("tcp_framing", "zero-length", m + b"\0" + b"\0\0")
    put("tcp_framing", "one-byte", m + b"\x01" + b"\x00")
    put("tcp_framing", "max-65535", b"\xff\xff\x2a" + frame(4000) + frame(65535)[:3000])


# ---- zonefile: zone files of example.

def gen_zonefile():
    base = """$ORIGIN example.
$TTL 3600
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
"""
    put("zonefile", "apex-only", base)
    put("zonefile", "children", base + """child NS ns1.child
child NS ns2.provider.net.
child DS 12345 13 2 %s
ns1.child A 192.0.2.10
ns1.child AAAA 2001:db8::10
www.child A 192.0.2.99 ; occluded
other NS ns.other.net.
deep.below.example. NS ns1.deep.below
ns1.deep.below A 192.0.2.20
dsonly DS 1 13 2 %s
""" % ("ab" * 32, "cd" * 32))
    put("zonefile", "nested-cut", base + """a NS ns.a
ns.a A 192.0.2.1
b.a NS ns.b.a
ns.b.a A 192.0.2.2
""")
    put("zonefile", "case-and-duplicates", base + """Kid NS NS.kid
kid NS ns.KID
kid NS ns.kid.
NS.kid A 192.0.2.3
ns.kid A 192.0.2.3
""")
    put("zonefile", "parens-and-comments", base + """c ( NS
  ns.c ) ; a comment
ns.c 60 IN A 192.0.2.4
; trailing comment
""")
    put("zonefile", "include-skipped", base + "$INCLUDE other.zone\nc NS ns.c\n")
    put("zonefile", "origin-change", base + "$ORIGIN sub.example.\nc NS ns.c\nns.c A 192.0.2.5\n")
    put("zonefile", "outside-zone", base + "elsewhere.net. NS ns.example.\n")
    put("zonefile", "cut-short", base + "c NS\n")
    put("zonefile", "bad-ttl", "$TTL x\n" + base)
    put("zonefile", "other-class", base + "c CH NS ns.c\n")
    many = "".join("big NS ns%d.provider.net.\n" % i for i in range(140))
    put("zonefile", "child-over-deleg-max", base + many)


os.chdir(os.path.dirname(os.path.abspath(__file__)))
gen_keystate()
gen_config()
gen_api_body()
gen_tcp_framing()
gen_zonefile()
