#!/usr/bin/env python3
"""exec-epp.py -- an example program for dsyncd's "exec" backend.

dsyncd runs it with one batch of accepted delegation changes as a JSON
document on stdin (version 1; see "exec" in doc/backends.md).  For each
child it prints an RFC 5731 <domain:update> command: NS changes as
<domain:hostObj> in <domain:add>/<domain:rem>, DS changes through the
RFC 5910 secDNS-1.1 extension.  Glue (A/AAAA of name servers below the
child) belongs to host objects (RFC 5732 <host:create>/<host:update>),
which this example leaves out.

    exec-epp.py            the commands on stdout, one after the other
    exec-epp.py DIR        each command into DIR/<clTRID>.xml

This is an example only.  A real integration sends each command over an
EPP session (RFC 5734: TLS to the registry, <login> first) and reads the
result code: on 1000/1001 it goes on; on any other result, or when the
session breaks, it prints the reason to stderr and exits non-zero, so
that dsyncd keeps the batch and delivers it again later.  Deliveries may
repeat, so it must be idempotent: "object exists" (2302) for an NS or DS
already there, or a missing one on removal, counts as done; or it asks
<domain:info> first and sends only the difference to the complete "ns"
and "ds" sets of the document.

Exit status 0 tells dsyncd the batch was delivered.
"""
import json
import os
import sys
import time
import xml.etree.ElementTree as ET

EPP = "urn:ietf:params:xml:ns:epp-1.0"
DOMAIN = "urn:ietf:params:xml:ns:domain-1.0"
SECDNS = "urn:ietf:params:xml:ns:secDNS-1.1"
ET.register_namespace("", EPP)
ET.register_namespace("domain", DOMAIN)
ET.register_namespace("secDNS", SECDNS)


def rr_fields(line):
    """'owner ttl IN TYPE rdata...' -> (TYPE, [rdata fields])."""
    f = line.split()
    return f[3].upper(), f[4:]


def epp_name(name):
    """EPP names have no trailing dot."""
    return name[:-1] if name.endswith(".") and name != "." else name


def sub(parent, ns, tag, text=None):
    el = ET.SubElement(parent, "{%s}%s" % (ns, tag))
    if text is not None:
        el.text = text
    return el


def ns_block(parent, tag, lines):
    """<domain:add>/<domain:rem> with the NS targets of lines, if any."""
    hosts = [epp_name(rd[0]) for t, rd in map(rr_fields, lines) if t == "NS"]
    if hosts:
        ns = sub(sub(parent, DOMAIN, tag), DOMAIN, "ns")
        for h in hosts:
            sub(ns, DOMAIN, "hostObj", h)


def ds_block(parent, tag, lines):
    """<secDNS:add>/<secDNS:rem> with the DS records of lines, if any."""
    ds = [rd for t, rd in map(rr_fields, lines) if t == "DS"]
    if ds:
        block = sub(parent, SECDNS, tag)
        for key_tag, alg, digest_type, *digest in ds:
            d = sub(block, SECDNS, "dsData")
            sub(d, SECDNS, "keyTag", key_tag)
            sub(d, SECDNS, "alg", alg)
            sub(d, SECDNS, "digestType", digest_type)
            sub(d, SECDNS, "digest", "".join(digest).upper())


def update_command(change, cltrid):
    """One <epp><command><update> for a child's change."""
    epp = ET.Element("{%s}epp" % EPP)
    cmd = sub(epp, EPP, "command")
    upd = sub(sub(cmd, EPP, "update"), DOMAIN, "update")
    sub(upd, DOMAIN, "name", epp_name(change["child"]))
    ns_block(upd, "add", change["add"])
    ns_block(upd, "rem", change["remove"])
    ext = ET.Element("{%s}update" % SECDNS)
    ds_block(ext, "rem", change["remove"])  # RFC 5910 order: rem before add
    ds_block(ext, "add", change["add"])
    if len(ext):
        sub(cmd, EPP, "extension").append(ext)
    sub(cmd, EPP, "clTRID", cltrid)
    return epp


def write(doc, outdir, cltrid):
    ET.indent(doc)
    text = ET.tostring(doc, encoding="unicode", xml_declaration=True) + "\n"
    if outdir is None:
        sys.stdout.write(text)
        return
    # whole files only: a reader never sees a half-written command
    path = os.path.join(outdir, cltrid + ".xml")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def main():
    batch = json.load(sys.stdin)
    if batch.get("version") != 1:
        sys.exit("exec-epp: document version %r is not supported" % batch.get("version"))
    outdir = sys.argv[1] if len(sys.argv) > 1 else None
    stamp = "%d-%d" % (time.time(), os.getpid())
    for i, change in enumerate(batch["changes"]):
        if change.get("truncated"):
            # the add/remove lists are incomplete: a real integration compares
            # the complete "ns" and "ds" sets with <domain:info> instead
            print("exec-epp: %s: change list truncated" % change["child"], file=sys.stderr)
        cltrid = "dsyncd-%s-%d" % (stamp, i)
        write(update_command(change, cltrid), outdir, cltrid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
