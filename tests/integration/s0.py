# tests/integration/s0.py -- raw DNS message pieces and an ED25519 SIG(0)
# signer in plain python, for the messages dsync-send cannot build (more
# than 256 records, prerequisite TTLs, hand-placed SIG records).  Used by
# lib-send.sh's py().
import struct, time, base64, os

def wname(s):
    s = s.rstrip('.')
    out = b''
    if s:
        for l in s.split('.'):
            out += bytes([len(l)]) + l.encode()
    return out + b'\0'

def rr(owner, rtype, rclass, ttl, rdata):
    if isinstance(owner, str):
        owner = wname(owner)
    return owner + struct.pack('!HHIH', rtype, rclass, ttl, len(rdata)) + rdata

def zone_entry(name='example.', qtype=6, qclass=1):
    return (wname(name) if isinstance(name, str) else name) + struct.pack('!HH', qtype, qclass)

def opt(version=0, udp=1232, ext=0, flags=0, rdata=b''):
    return b'\0' + struct.pack('!HHBBHH', 41, udp, ext, version, flags, len(rdata)) + rdata

def msg(zone=None, prereq=(), update=(), add=(), opcode=5, mid=0x1234, flags=0, counts=None):
    if zone is None:
        zone = [zone_entry()]
    c = counts or (len(zone), len(prereq), len(update), len(add))
    h = struct.pack('!HHHHHH', mid, (opcode << 11) | flags, *c)
    return h + b''.join(zone) + b''.join(prereq) + b''.join(update) + b''.join(add)

def keytag(rdata):
    ac = 0
    for i, b in enumerate(rdata):
        ac += b << 8 if i % 2 == 0 else b
    ac += (ac >> 16) & 0xffff
    return ac & 0xffff

def read_key(prefix):
    line = [l for l in open(prefix + '.key').read().splitlines()
            if l and not l.startswith(';')][0].split()
    i = line.index('KEY')
    rdata = struct.pack('!HBB', int(line[i + 1]), int(line[i + 2]), int(line[i + 3]))
    rdata += base64.b64decode(''.join(line[i + 4:]))
    seed = None
    if os.path.exists(prefix + '.private'):
        for l in open(prefix + '.private'):
            if l.startswith('PrivateKey:'):
                seed = base64.b64decode(l.split(':', 1)[1].strip())
    return line[0], rdata, seed

def sig_rr(m, prefix, inc=-60, exp=300, garbage=False):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    owner, rdata, seed = read_key(prefix)
    now = int(time.time())
    pre = struct.pack('!HBBIIIH', 0, 15, 0, 0, (now + exp) & 0xffffffff,
                      (now + inc) & 0xffffffff, keytag(rdata)) + wname(owner.lower())
    sig = os.urandom(64) if garbage else Ed25519PrivateKey.from_private_bytes(seed).sign(pre + m)
    return rr(b'\0', 24, 255, 0, pre + sig)

def bump_ar(m, n=1):
    ar = struct.unpack('!H', m[10:12])[0]
    return m[:10] + struct.pack('!H', ar + n) + m[12:]

def sign(m, prefix, **kw):
    return bump_ar(m) + sig_rr(m, prefix, **kw)

def out(path, data):
    open(path, 'wb').write(data)
