#!/usr/bin/env python3
"""tests/docs/check.py -- documentation that drifts from the code.

Compares the tables in the code with what the documentation says, both
ways, so that a setting, a KeyState code, an EDE code or an API route added
on one side and forgotten on the other fails `make test`:

- every setting of the configuration schema (config/config.c, and the
  settings each backend declares in backends/) has its entry in
  dsyncd.conf(5), and every entry there is a setting;
- every setting appears in examples/dsyncd.conf (commented or not);
- every KeyState code of keystate/keystate.h is in the code table of
  doc/protocol.md, and back;
- every route of the admin API (api/routes.c) has its heading in
  doc/api.md, and back;
- the settings a reload cannot change (schema flag RESTART) are the ones
  dsyncd.conf(5) lists as read only at start, and back;
- every metric family /metrics renders (receiver/metrics.c, and
  dsyncd_ready from api/health.c) is in the metrics list of doc/api.md,
  and back;
- every Extended DNS Error code the receiver sends (common/dns.h EDE_*, and
  the configurable ede.* codes) is in doc/protocol.md or doc/decisions.md.

Run from anywhere; prints TAP-like lines and ends with
"docs: N passed, N failed".
"""
import os
import re
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
passed = failed = 0


def read(path):
    with open(os.path.join(TOP, path), encoding="utf-8") as f:
        return f.read()


def report(desc, missing):
    global passed, failed
    if missing:
        failed += 1
        print(f"not ok - docs: {desc}: {', '.join(sorted(missing))}")
    else:
        passed += 1
        print(f"ok - docs: {desc}")


# ---- settings ------------------------------------------------------------
schema, headings = [], set()
for m in re.finditer(r'^\s*\{"([a-z0-9.\[\]-]+)",\s*(CT_[A-Z]+)', read("config/config.c"), re.M):
    name, kind = m.groups()
    # groups and lists are headings; "x.[]" rows are the elements of array x
    if kind in ("CT_GROUP", "CT_LIST") or name.endswith(".[]"):
        headings.add(name)
        continue
    schema.append(name)
# each backend declares its own settings (struct cfg_setting tables)
import glob
for path in sorted(glob.glob(os.path.join(TOP, "backends", "*.c"))):
    with open(path, encoding="utf-8") as f:
        for name, kind in re.findall(r'^\s*(?:\{|[A-Z_]+\()"([a-z0-9-]+)",\s*(CFG_[A-Z]+)',
                                     f.read(), re.M):
            schema.append("zones.[].backends.[]." + name)
if len(schema) < 50:
    report("the schema table of config/config.c could be read", ["found %d rows" % len(schema)])

man = read("doc/dsyncd.conf.5").replace("\\-", "-")
documented = set(re.findall(r"^\.B ([a-z][a-z0-9-]*(?:\.(?:\[\]|[a-z0-9-]+))+)\s*$", man, re.M))
report("every setting of the schema is in dsyncd.conf(5)", set(schema) - documented)
report("every setting in dsyncd.conf(5) is in the schema", documented - set(schema) - headings)

example = read("examples/dsyncd.conf")
missing = [s for s in schema
           if not re.search(r"(^|[\s#{;])" + re.escape(s.split(".")[-1]) + r"\s*=", example, re.M)]
report("every setting appears in examples/dsyncd.conf", missing)

# ---- settings read only at start (flag RESTART): the list in dsyncd.conf(5)
restart = set(re.findall(r'^\s*\{"([a-z0-9.\[\]-]+)",[^\n]*\bRESTART\b', read("config/config.c"), re.M))
conf5 = read("doc/dsyncd.conf.5")
para = conf5[conf5.index("These settings are read only at start"):]
para = para[:para.index(".SH")]
doc_restart = {n.replace("\\-", "-") for n in re.findall(r"^\.BR? ([a-z0-9.\\-]+)", para, re.M)}
report("every setting read only at start is listed so in dsyncd.conf(5)", restart - doc_restart)
report("every setting dsyncd.conf(5) lists as read only at start is so", doc_restart - restart)

# ---- KeyState codes --------------------------------------------------------
ks = {int(v) for v in re.findall(r"^\s*KS_[A-Z_]+\s*=\s*(\d+),", read("keystate/keystate.h"), re.M)}
proto = read("doc/protocol.md")
table = proto[proto.index("| code | meaning | sent by dsyncd when |"):]
table = table[:table.index("\n\n")]
doc_ks = {int(v) for v in re.findall(r"^\|\s*(\d+)\s*\|", table, re.M)}
report("every KeyState code of keystate.h is in doc/protocol.md", {str(c) for c in ks - doc_ks})
report("every KeyState code of doc/protocol.md is in keystate.h", {str(c) for c in doc_ks - ks})

# ---- API routes -------------------------------------------------------------
routes = set(re.findall(r'^\s*\{"(GET|POST|DELETE|PUT|PATCH)",\s*"([^"]+)"', read("api/routes.c"), re.M))
api_md = read("doc/api.md")
doc_routes = set()
for heading in re.findall(r"^### (.*)$", api_md, re.M):
    for method, path in re.findall(r"`(GET|POST|DELETE|PUT|PATCH) ([^`?]+)", heading):
        doc_routes.add((method, path.strip()))
report("every API route of api/routes.c has its heading in doc/api.md",
       {f"{m} {p}" for m, p in routes - doc_routes})
report("every API heading of doc/api.md is a route", {f"{m} {p}" for m, p in doc_routes - routes})

# ---- metrics -----------------------------------------------------------------
metrics = set(re.findall(r'(?:family|simple)\(\s*out,\s*"(dsyncd_[a-z0-9_]+)"',
                         read("receiver/metrics.c")))
metrics |= set(re.findall(r'"# TYPE (dsyncd_[a-z0-9_]+) ', read("api/health.c")))
section = api_md[api_md.index("### `GET /metrics`"):]
section = section[:section.index("\n### ", 1)]
doc_metrics = set(re.findall(r"`(dsyncd_[a-z0-9_]+)`", section))
if len(metrics) < 20:
    report("the metric families of receiver/metrics.c could be read", ["found %d" % len(metrics)])
report("every metric of receiver/metrics.c is in doc/api.md", metrics - doc_metrics)
report("every metric of doc/api.md is in receiver/metrics.c", doc_metrics - metrics)

# ---- EDE codes ---------------------------------------------------------------
ede = set(re.findall(r"^\s*EDE_[A-Z_]+\s*=\s*(\d+)", read("common/dns.h"), re.M))
ede |= set(re.findall(r'\{"ede\.[a-z-]+",\s*CT_INT,\s*"(\d+)"', read("config/config.c")))
docs = proto + read("doc/decisions.md")
report("every EDE code the receiver sends is in doc/protocol.md or doc/decisions.md",
       {c for c in ede if not re.search(r"(EDE|code)s?\s[^.\n]*\b" + c + r"\b|\|\s*" + c + r"\s*\|", docs)})

print(f"docs: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
