#!/usr/bin/env python3
"""tests/bench/soak-check.py DB GENDIR kill|final -- the crash-safety soak's
check of the store against what the load generators were told.

GENDIR holds one log per child (cN.log: dsync-send --seq output, one line
per request: seq=N rcode=... ede=...).  Request N of child cN replaced the
child's NS set with ns1-N.soak.net. and ns2-N.soak.net.; requests of one
child go one after another (the next is sent once the one before is
answered), so the store's order of a child's changes is their sequence
order.

Checked against the store (DB, read while dsyncd is stopped after a SIGKILL,
or running after the last restart):

- PRAGMA integrity_check is ok and foreign_key_check finds nothing;
- every change answered NOERROR has exactly one accepted audit row (none
  missing, none doubled), and no change answered otherwise has one;
- a child's accepted changes are in sequence order in the audit log;
- its delegation is complete: the two NS of its last accepted change, and
  nothing else; one outbox change per accepted change;
- "kill": besides the acknowledged changes, at most the one in flight (sent,
  not yet answered) may be accepted (committed, its answer lost in the kill);
- "final": every request was answered; accepted = acknowledged exactly, so
  the delegation is the last acknowledged change; no delivery pending.

Prints one line per failed check and a summary line; exits 1 on any failure.
"""
import collections
import glob
import os
import re
import sqlite3
import sys

LINE = re.compile(r'^seq=(\d+) rcode=(\S+) ede=(\S+) tries=(\d+) ')
NS = re.compile(r'^ns([12])-(\d+)\.soak\.net\.$')
SEQ = re.compile(r'\bns1-(\d+)\.soak\.net\.')


def read_logs(gendir):
    """child -> {seq: (rcode, ede)}; child -> highest seq with a line"""
    answers, sent = {}, {}
    for path in sorted(glob.glob(os.path.join(gendir, 'c*.log'))):
        child = os.path.basename(path)[:-4] + '.example.'
        got = {}
        with open(path, encoding='utf-8', errors='replace') as f:
            for line in f:
                m = LINE.match(line)
                if m and line.endswith('\n'):
                    got[int(m.group(1))] = (m.group(2), m.group(3))
        answers[child] = got
        sent[child] = max(got) if got else 0
    return answers, sent


def read_store(db):
    con = sqlite3.connect(db, timeout=30)
    integrity = [r[0] for r in con.execute('pragma integrity_check')]
    fk = con.execute('pragma foreign_key_check').fetchall()
    accepted = collections.defaultdict(list)  # child -> [seq] in audit order
    for child, request in con.execute(
            "select child, request from audit where actor = 'update' and result = 'accepted' "
            "order by id"):
        m = SEQ.search(request or '')
        accepted[child].append(int(m.group(1)) if m else -1)
    deleg = collections.defaultdict(list)
    for owner, typ, rdata in con.execute(
            'select owner_text, type, rdata_text from delegation order by owner_text, type, rdata_text'):
        deleg[owner].append((typ, rdata))
    changes = dict(con.execute('select child_text, count(*) from outbox_change group by child_text'))
    pending = con.execute("select count(*) from delivery where state != 'done'").fetchone()[0]
    con.close()
    return integrity, fk, accepted, deleg, changes, pending


def check_child(child, got, acc, deleg, nchanges, final, bad):
    """the checks of one child; returns (acknowledged, in flight, replayed)"""
    ok = {s for s, (rc, _) in got.items() if rc == 'NOERROR'}
    count = collections.Counter(acc)
    for s in sorted(ok - set(count)):
        bad.append(f'{child} change {s} answered NOERROR but not in the audit log (lost)')
    for s, n in sorted(count.items()):
        if n > 1:
            bad.append(f'{child} change {s} accepted {n} times (doubled)')
    if -1 in count:
        bad.append(f'{child}: an accepted audit row that is none of the load\'s changes')
    for s in sorted(set(count) & {s for s, (rc, _) in got.items() if rc != 'NOERROR'}):
        bad.append(f'{child} change {s} answered {got[s][0]} yet accepted')
    extra = sorted(set(count) - set(got))
    last_line = max(got) if got else 0
    if final and extra:
        bad.append(f'{child} changes {extra} accepted but never answered')
    elif extra and extra != [last_line + 1]:
        bad.append(f'{child} changes {extra} accepted but not answered (only {last_line + 1} may be in flight)')
    if acc != sorted(acc):
        bad.append(f'{child} changes accepted out of order: {acc[:20]}')
    want = []
    if acc:
        want = sorted([(2, f'ns1-{acc[-1]}.soak.net.'), (2, f'ns2-{acc[-1]}.soak.net.')])
    if sorted(deleg) != want:
        bad.append(f'{child} delegation {sorted(deleg)}, want the last accepted change {want} (partial?)')
    if final and ok and max(ok) != (acc[-1] if acc else None):
        bad.append(f'{child} holds change {acc[-1] if acc else None}, the last acknowledged is {max(ok)}')
    if nchanges != len(acc):
        bad.append(f'{child}: {nchanges} outbox change(s) for {len(acc)} accepted change(s)')
    if final:
        for s, (rc, _) in sorted(got.items()):
            if rc == '-':
                bad.append(f'{child} change {s} never answered (given up)')
    replayed = sum(1 for s, (rc, ede) in got.items() if rc == 'NOERROR' and ede == '0')
    return len(ok), len(extra), replayed


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ('kill', 'final'):
        sys.stderr.write('usage: soak-check.py DB GENDIR kill|final\n')
        return 64
    db, gendir, mode = sys.argv[1:]
    final = mode == 'final'
    answers, _ = read_logs(gendir)
    try:
        integrity, fk, accepted, deleg, changes, pending = read_store(db)
    except sqlite3.DatabaseError as e:
        print(f'FAIL the store cannot be read: {e}')
        print('integrity_check FAILED; 1 problem(s)')
        return 1
    bad = []
    if integrity != ['ok']:
        bad.append(f'integrity_check: {"; ".join(integrity[:5])}')
    if fk:
        bad.append(f'foreign_key_check: {fk[:5]}')
    acked = flight = replayed = 0
    for child in sorted(set(answers) | set(accepted)):
        a, f, r = check_child(child, answers.get(child, {}), accepted.get(child, []),
                              deleg.get(child, []), changes.get(child, 0), final, bad)
        acked, flight, replayed = acked + a, flight + f, replayed + r
    if final and pending:
        bad.append(f'{pending} delivery(ies) still pending')
    for b in bad[:40]:
        print(f'FAIL {b}')
    rcodes = collections.Counter(rc for got in answers.values() for rc, _ in got.values())
    print(f'integrity_check {"ok" if integrity == ["ok"] else "FAILED"}; {acked} acknowledged '
          f'change(s) of {len(answers)} children each accepted once, {flight} accepted in flight, '
          f'{replayed} acknowledged from the replay cache; answers {dict(sorted(rcodes.items()))}; '
          f'{len(bad)} problem(s)')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
