#!/usr/bin/env python3
"""tests/world/resolve.py -- validating lookup in the test world via libunbound.

    resolve.py [--config] DIR NAME TYPE

Builds a libunbound context the way dsyncd does for the world in DIR (the
four settings: do-not-query-localhost: no, local-zone: "test." transparent,
root-hints: DIR/root.hints, trust anchor DIR/root.key; with --config: ub_ctx_config(DIR/unbound.conf)
instead), resolves NAME/TYPE and prints one status line

    status=secure|insecure|bogus rcode=NAME havedata=0|1 nxdomain=0|1 why="..."

then one line per RR of the answer: "TYPE RDATA" (KEY/DNSKEY as
"flags protocol algorithm base64", A as a dotted quad, others as \\# hex).
Exit status: 0 when a result came back, 2 on a libunbound error.
"""
import base64
import ctypes
import ctypes.util
import sys


class UbResult(ctypes.Structure):
    """struct ub_result from unbound.h (libunbound 1.17)."""

    _fields_ = [
        ("qname", ctypes.c_char_p),
        ("qtype", ctypes.c_int),
        ("qclass", ctypes.c_int),
        ("data", ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))),
        ("len", ctypes.POINTER(ctypes.c_int)),
        ("canonname", ctypes.c_char_p),
        ("rcode", ctypes.c_int),
        ("answer_packet", ctypes.c_void_p),
        ("answer_len", ctypes.c_int),
        ("havedata", ctypes.c_int),
        ("nxdomain", ctypes.c_int),
        ("secure", ctypes.c_int),
        ("bogus", ctypes.c_int),
        ("why_bogus", ctypes.c_char_p),
        ("was_ratelimited", ctypes.c_int),
        ("ttl", ctypes.c_int),
    ]


TYPES = {"A": 1, "NS": 2, "SOA": 6, "TXT": 16, "KEY": 25, "AAAA": 28,
         "DS": 43, "DNSKEY": 48, "SVCB": 64, "DSYNC": 66}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED"}


def rdata_text(qtype, rd):
    if qtype in (25, 48) and len(rd) >= 4:
        flags = rd[0] << 8 | rd[1]
        return "%d %d %d %s" % (flags, rd[2], rd[3],
                                base64.b64encode(rd[4:]).decode())
    if qtype == 1 and len(rd) == 4:
        return ".".join(str(b) for b in rd)
    return "\\# %d %s" % (len(rd), rd.hex())


def main(argv):
    use_config = False
    if argv and argv[0] == "--config":
        use_config = True
        argv = argv[1:]
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    wdir, name, tname = argv
    tname = tname.upper()
    if tname in TYPES:
        qtype = TYPES[tname]
    elif tname.startswith("TYPE") and tname[4:].isdigit():
        qtype = int(tname[4:])
    else:
        sys.stderr.write("unknown type %s\n" % tname)
        return 2

    lib = ctypes.CDLL(ctypes.util.find_library("unbound") or "libunbound.so.8")
    lib.ub_ctx_create.restype = ctypes.c_void_p
    lib.ub_ctx_delete.argtypes = [ctypes.c_void_p]
    lib.ub_ctx_set_option.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                      ctypes.c_char_p]
    lib.ub_ctx_config.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.ub_ctx_add_ta_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.ub_resolve.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                               ctypes.c_int,
                               ctypes.POINTER(ctypes.POINTER(UbResult))]
    lib.ub_resolve_free.argtypes = [ctypes.POINTER(UbResult)]
    lib.ub_strerror.restype = ctypes.c_char_p

    ctx = lib.ub_ctx_create()
    if not ctx:
        sys.stderr.write("ub_ctx_create failed\n")
        return 2

    def step(what, err):
        if err != 0:
            sys.stderr.write("%s: %s\n" % (what, lib.ub_strerror(err).decode()))
            lib.ub_ctx_delete(ctx)
            sys.exit(2)

    if use_config:
        step("ub_ctx_config",
             lib.ub_ctx_config(ctx, (wdir + "/unbound.conf").encode()))
    else:
        step("do-not-query-localhost",
             lib.ub_ctx_set_option(ctx, b"do-not-query-localhost:", b"no"))
        # test. is one of unbound's built-in local zones (RFC 6761): without
        # this every name under it is answered NXDOMAIN locally
        step("local-zone",
             lib.ub_ctx_set_option(ctx, b"local-zone:", b"test. transparent"))
        step("root-hints",
             lib.ub_ctx_set_option(ctx, b"root-hints:",
                                   (wdir + "/root.hints").encode()))
        step("ub_ctx_add_ta_file",
             lib.ub_ctx_add_ta_file(ctx, (wdir + "/root.key").encode()))

    res = ctypes.POINTER(UbResult)()
    step("ub_resolve", lib.ub_resolve(ctx, name.encode(), qtype, 1,
                                      ctypes.byref(res)))
    r = res.contents
    status = "bogus" if r.bogus else ("secure" if r.secure else "insecure")
    why = (r.why_bogus or b"").decode(errors="replace").replace('"', "'")
    print('status=%s rcode=%s havedata=%d nxdomain=%d why="%s"' %
          (status, RCODES.get(r.rcode, str(r.rcode)), r.havedata, r.nxdomain,
           why))
    i = 0
    while r.havedata and r.data[i]:
        n = r.len[i]
        print("%s %s" % (tname, rdata_text(qtype, bytes(r.data[i][:n]))))
        i += 1
    lib.ub_resolve_free(res)
    lib.ub_ctx_delete(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
