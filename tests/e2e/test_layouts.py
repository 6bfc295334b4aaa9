#!/usr/bin/env python3
"""heapscope e2e: a wrong layout table is corrected or refused, never used;
a forced layout source that cannot serve is an error.

    test_layouts.py --heapscope BIN --python-version 3.12

With the interpreter's own shipped table (python-layouts/), altered one way
at a time and passed with --layout-table:
* a field the binary states directly (PyThreadState.next from the code of
  PyThreadState_Next, func_globals from PyFunction_Type's member table, the
  GC list heads found in the process) is corrected: `info` says
  "corrected", and `summary` gives the very rows of the unaltered table;
* a disagreement that cannot be pinned on one field (interp->gc, a sum
  stated by PyGC_IsEnabled; tp_name, on which every type check rests) is
  refused: exit 2, one line naming it;
* a table for another version, or a damaged file: exit 2.
And on Debian's stripped /usr/bin/python3.11 (skipped by name if absent):
--layout-source=dwarf and --layout-source=debug-offsets cannot serve: exit 2.
Exit 0 pass, 1 fail, 77 skip.
"""

import argparse
import json
import os
import re
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hstest  # noqa: E402
from hstest import log  # noqa: E402

LAYOUTS = os.path.join(os.path.dirname(os.path.dirname(hstest.HERE)),
                       "python-layouts")
TIMEOUT = 120.0


def shipped_table(version):
    """Text of the shipped table covering `version` ("3.12.1")."""
    major, minor, micro = (int(x) for x in re.match(r"(\d+)\.(\d+)\.(\d+)",
                                                    version).groups())
    for name in sorted(os.listdir(LAYOUTS)):
        if not name.endswith(".layout"):
            continue
        text = open(os.path.join(LAYOUTS, name)).read()
        m = re.search(r"^covers 3\.(\d+)\.(\d+) 3\.(\d+)\.(\d+)$", text, re.M)
        if m and int(m.group(1)) == minor and \
                int(m.group(2)) <= micro <= int(m.group(4)):
            return name, text
    hstest.die("no shipped table covers %s" % version)


def altered(text, field, delta):
    """`text` with FIELD's offset moved by delta (or the size NAME)."""
    def bump(m):
        return "%s%d" % (m.group(1), int(m.group(2)) + delta)
    new, n = re.subn(r"^(field %s )(\d+)" % field, bump, text, flags=re.M)
    if n != 1:
        hstest.die("table has no field %s" % field)
    return new


def run(heapscope, args):
    return hstest.run([heapscope] + args, TIMEOUT)


def one_stderr_line(ck, what, res):
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    ck.check(len(lines) == 1, "%s: expected one line on stderr, got %d:\n%s"
             % (what, len(lines), res.stderr))
    return lines[0] if lines else ""


def rows(res):
    doc = json.loads(res.stdout)
    return {r["kind"]: (r["count"], r["size"]) for r in doc["rows"]}


def checks_with(doc, result):
    return [c for c in doc["interpreter"]["layout_checks"]
            if c["result"] == result]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--heapscope", required=True)
    ap.add_argument("--python-version", required=True)
    args = ap.parse_args()
    hstest.install_signal_handlers()
    heapscope = hstest.heapscope_or_die(args.heapscope)
    python = hstest.python_or_skip(args.python_version)
    version = hstest.interpreter_version(python)
    name, text = shipped_table(version)
    log("interpreter %s (%s), shipped table %s" % (python, version, name))
    ck = hstest.Checker()
    tmp = tempfile.mkdtemp(prefix="hs-layouts-")

    def table_file(tag, body):
        path = os.path.join(tmp, tag + ".layout")
        with open(path, "w") as f:
            f.write(body)
        return path

    corrections = [
        # (field, delta, the check that must correct it)
        # (3.13+: _Py_DebugOffsets states it first)
        ("TS_NEXT", 8, ("PyThreadState_Next", "_Py_DebugOffsets")),
        ("FN_GLOBALS", 8, ("PyFunction_Type.__globals__",)),
        ("GCS_GENERATIONS", 4, ("GC list heads in the process",)),
    ]
    refusals = [
        ("IS_GC", 8, "gc"),
        ("TP_NAME", 8, "tp_name"),
    ]
    try:
        with hstest.Target(python, threads=1) as t:
            pid = str(t.pid)
            base = table_file("shipped", text)
            res = run(heapscope, ["summary", pid, "--json", "--layout-table", base])
            if not ck.check(res.returncode == 0, "unaltered table: exit %s\n%s"
                            % (res.returncode, res.describe())):
                return ck.finish("e2e-layouts")
            ck.ok("unaltered table %s: %d kinds" % (name, len(rows(res))))
            for field, delta, source in corrections:
                path = table_file(field, altered(text, field, delta))
                res = run(heapscope, ["info", pid, "--json", "--layout-table", path])
                hstest.check_target_ok(ck, t, "after info with a wrong %s" % field)
                if not ck.check(res.returncode == 0, "%s%+d: info exit %s\n%s"
                                % (field, delta, res.returncode, res.describe())):
                    continue
                fixed = [c for c in checks_with(json.loads(res.stdout), "corrected")
                         if c["source"] in source]
                ck.check(len(fixed) == 1, "%s%+d: no 'corrected' check from %s "
                         "(corrected: %s)" % (field, delta, source, json.dumps(
                             checks_with(json.loads(res.stdout), "corrected"))))
                # back to back, so that nothing changes the heap in between
                # (the liveness ping does, on some versions)
                ref = run(heapscope, ["summary", pid, "--json", "--layout-table", base])
                res = run(heapscope, ["summary", pid, "--json", "--layout-table", path])
                if ck.check(res.returncode == 0 and ref.returncode == 0,
                            "%s%+d: summary exit %s" % (field, delta, res.returncode)) and \
                        ck.check(rows(res) == rows(ref), "%s%+d: corrected table "
                                 "gives other rows" % (field, delta)):
                    ck.ok("%s%+d corrected by %s; same rows" % (field, delta,
                                                                 fixed[0]["source"] if fixed else "?"))
            for field, delta, word in refusals:
                if not re.search(r"^field %s \d" % field, text, re.M):
                    log("%s: absent in Python %s, case skipped" % (field, version))
                    continue
                path = table_file(field, altered(text, field, delta))
                res = run(heapscope, ["summary", pid, "--layout-table", path])
                hstest.check_target_ok(ck, t, "after a refused table")
                line = one_stderr_line(ck, field, res)
                if ck.check(res.returncode == 2 and word in line,
                            "%s%+d: expected exit 2 naming '%s', got %s: %s"
                            % (field, delta, word, res.returncode, line)):
                    ck.ok("%s%+d refused: %s" % (field, delta, line))
            # a table for another minor version, and garbage
            other = re.sub(r"^python 3\.(\d+)$", "python 3.99", text, flags=re.M)
            other = re.sub(r"^covers 3\.\d+\.", "covers 3.99.", other, flags=re.M)
            other = re.sub(r"^(covers 3\.99\.\d+) 3\.\d+\.", r"\1 3.99.", other,
                           flags=re.M)
            for tag, body in (("other-version", other),
                              ("garbage", "\x00\x01 not a table\n" * 100)):
                res = run(heapscope, ["summary", pid, "--layout-table",
                                      table_file(tag, body)])
                line = one_stderr_line(ck, tag, res)
                if ck.check(res.returncode == 2, "%s table: exit %s, expected 2: %s"
                            % (tag, res.returncode, line)):
                    ck.ok("%s table refused: %s" % (tag, line))
    except hstest.TargetError as e:
        ck.fail("target: %s" % e)

    stripped = "/usr/bin/python3.11"
    if os.access(stripped, os.X_OK):
        with hstest.Target(stripped, threads=1) as t:
            for src, word in (("dwarf", "DWARF"), ("debug-offsets", "_Py_DebugOffsets")):
                res = run(heapscope, ["summary", str(t.pid), "--layout-source", src])
                line = one_stderr_line(ck, src, res)
                if ck.check(res.returncode == 2 and word in line,
                            "stripped 3.11 --layout-source %s: exit %s: %s"
                            % (src, res.returncode, line)):
                    ck.ok("stripped 3.11 --layout-source %s refused: %s" % (src, line))
    else:
        log("skipped: %s not installed (stripped-interpreter cases)" % stripped)
    return ck.finish("e2e-layouts-%s" % version)


if __name__ == "__main__":
    sys.exit(main())
