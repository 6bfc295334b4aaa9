#!/usr/bin/env python3
"""heapscope e2e: `heapscope summary PID [--json]` against ground truth.

    test_summary.py --heapscope BIN --python-version 3.12 [--python PATH]
                    [--freeze] [--scale N] [--layout-source X]

Starts tests/targets/heap_target.py under the interpreter, which builds a
known heap and writes the ground truth computed inside the process
(tests/targets/groundtruth.py), then runs `BIN summary PID --json` and
`BIN summary PID` and compares:

* the target's own kinds (hs_target_classes.*): exact count, exact size;
* every other kind: count within max(1 %, 20 objects), size within
  max(1 %, 20 x mean object size of that kind) -- kinds found on one side
  only are judged by the same rule (5 objects vs none is fine, 500 is not);
* total count and size within 1 %;
* exit status 0 (1 = incomplete result: a failure), the JSON document's
  fields, and the text table's shape and totals;
* the target is not left stopped or traced and still answers ping.

Exit 0 pass, 1 fail, 77 skip (no interpreter).  Python 3.8 compatible.
"""

import argparse
import json
import os
import re
import sys

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hstest  # noqa: E402
from hstest import log  # noqa: E402

sys.path.insert(0, hstest.TARGETS)
from hs_target_classes import VIA_PATHS  # noqa: E402
OWN_PREFIX = "hs_target_classes."

COUNT_REL = 0.01
COUNT_ABS = 20
SIZE_REL = 0.01
SIZE_MEAN_FACTOR = 20
TOTAL_REL = 0.01

HEADER = " Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)"
FIRST_RE = re.compile(r"^Partition of a set of (\d+) objects?\. "
                      r"Total size = (\d+) bytes?\.$")
ROW_RE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)"
                    r"\s+(\d+) (\S.*)$")
MORE_RE = re.compile(r"^<(\d+) more rows?\..*>$")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


# --------------------------------------------------------------------------
# JSON document

def check_document(ck, doc, pid, truth, rc, layout_source):
    """Schema and self-consistency of `summary --json` output; returns the
    rows as {kind: (count, size)} (possibly partial)."""
    if not ck.check(isinstance(doc, dict), "JSON document is not an object"):
        return {}
    tgt = doc.get("target")
    if ck.check(isinstance(tgt, dict), "JSON: no 'target' object"):
        ck.check(tgt.get("pid") == pid, "JSON: target.pid = %r, expected %d"
                 % (tgt.get("pid"), pid))
        ck.check(tgt.get("python") == truth["python"],
                 "JSON: target.python = %r, expected %r"
                 % (tgt.get("python"), truth["python"]))
        ck.check(tgt.get("threads") == truth["threads"],
                 "JSON: target.threads = %r, expected %r (main + %d extra)"
                 % (tgt.get("threads"), truth["threads"],
                    truth["threads"] - 1))
        ls = tgt.get("layout_source")
        if layout_source:
            ck.check(ls == layout_source, "JSON: target.layout_source = %r, "
                     "expected %r (--layout-source)" % (ls, layout_source))
        else:
            ck.check(isinstance(ls, str) and ls != "",
                     "JSON: target.layout_source = %r" % (ls,))
    cap = doc.get("capture")
    if ck.check(isinstance(cap, dict), "JSON: no 'capture' object"):
        ck.check(is_num(cap.get("paused_ms")) and cap.get("paused_ms") >= 0,
                 "JSON: capture.paused_ms = %r" % (cap.get("paused_ms"),))
        ck.check(is_int(cap.get("bytes_read")) and cap.get("bytes_read") > 0,
                 "JSON: capture.bytes_read = %r" % (cap.get("bytes_read"),))
    ck.check(doc.get("partition") == "type",
             "JSON: partition = %r, expected 'type'" % (doc.get("partition"),))

    total = doc.get("total")
    tc = ts = None
    if ck.check(isinstance(total, dict) and is_int(total.get("count"))
                and is_int(total.get("size")),
                "JSON: total is not {count: int, size: int}: %r" % (total,)):
        tc, ts = total["count"], total["size"]

    rows = {}
    raw = doc.get("rows")
    if ck.check(isinstance(raw, list) and raw, "JSON: rows is not a "
                "non-empty list"):
        bad = 0
        for r in raw:
            ok = (isinstance(r, dict) and isinstance(r.get("kind"), str)
                  and r.get("kind") != "" and is_int(r.get("count"))
                  and r.get("count") > 0 and is_int(r.get("size"))
                  and r.get("size") >= 0)
            if not ok:
                bad += 1
                if bad <= 5:
                    ck.fail("JSON: malformed row %r" % (r,))
                continue
            if r["kind"] in rows:
                ck.fail("JSON: kind %r listed twice" % r["kind"])
                c, s = rows[r["kind"]]
                rows[r["kind"]] = (c + r["count"], s + r["size"])
            else:
                rows[r["kind"]] = (r["count"], r["size"])
        if bad > 5:
            ck.fail("JSON: %d malformed rows in all" % bad)
        if tc is not None:
            sc = sum(c for c, s in rows.values())
            ss = sum(s for c, s in rows.values())
            ck.check(sc == tc and ss == ts, "JSON: rows add up to count %d "
                     "size %d, total says count %d size %d" % (sc, ss, tc, ts))

    sk = doc.get("skipped")
    if ck.check(isinstance(sk, dict) and is_int(sk.get("objects")),
                "JSON: skipped is not an object with an int 'objects': %r"
                % (sk,)):
        if rc == 0:
            ck.check(sk["objects"] == 0, "JSON: exit status 0 (complete) but "
                     "skipped.objects = %d" % sk["objects"])
        elif rc == 1:
            ck.check(sk["objects"] > 0 or any(
                is_int(v) and v > 0 for v in sk.values()),
                "JSON: exit status 1 (incomplete) but nothing was skipped: %r"
                % (sk,))
    return rows


# --------------------------------------------------------------------------
# comparison

def fmt_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    out = []
    for i, r in enumerate([header] + rows):
        cells = []
        for j, (x, w) in enumerate(zip(r, widths)):
            cells.append(str(x).ljust(w) if j == 0 else str(x).rjust(w))
        out.append("  " + "  ".join(cells))
        if i == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(out)


def compare(ck, truth, got):
    exp = {k: (v["count"], v["size"]) for k, v in truth["rows"].items()}
    # every kind of hs_target_classes is exact, also one that heapscope
    # names differently from the ground truth (e.g. 'X.Inner' vs 'Inner')
    own = set(truth["own_kinds"]) | set(k for k in got
                                        if k.startswith(OWN_PREFIX))
    kinds = set(exp) | set(got) | own
    failed = []         # (severity, row)
    noted = []          # within tolerance but not identical
    one_side = []
    for k in kinds:
        ec, es = exp.get(k, (0, 0))
        gc_, gs = got.get(k, (0, 0))
        if k in own:
            ok = (ec == gc_ and es == gs)
            rule = "exact"
            sev = abs(gc_ - ec) + abs(gs - es)
        else:
            ctol = max(COUNT_REL * ec, COUNT_ABS)
            if ec:
                mean = es / float(ec)
            elif gc_:
                mean = gs / float(gc_)
            else:
                mean = 0.0
            stol = max(SIZE_REL * es, SIZE_MEAN_FACTOR * mean)
            ok = abs(gc_ - ec) <= ctol and abs(gs - es) <= stol
            rule = "+-%d obj, +-%d B" % (ctol, stol)
            sev = max(abs(gc_ - ec) / max(ctol, 1),
                      abs(gs - es) / max(stol, 1))
        row = [k, ec, gc_, "%+d" % (gc_ - ec), es, gs, "%+d" % (gs - es),
               rule]
        if (ec == 0) != (gc_ == 0):
            one_side.append((k, ec, gc_, ok))
        if not ok:
            failed.append((sev, row))
        elif (ec, es) != (gc_, gs):
            noted.append((abs(gs - es), row))

    header = ["kind", "exp count", "got count", "d count", "exp size",
              "got size", "d size", "tolerance"]
    if failed:
        failed.sort(key=lambda x: (-x[0], x[1][0]))
        hints = []
        for s, r in failed:
            path = VIA_PATHS.get(r[0].rpartition(".")[2]) \
                if r[0].startswith(OWN_PREFIX) else None
            if path:
                hints.append("  %s: the objects reachable only as: %s"
                             % (r[0], path))
        ck.fail("%d kind(s) disagree with the ground truth:\n%s%s"
                % (len(failed), fmt_table(header, [r for s, r in failed]),
                   "\n" + "\n".join(hints) if hints else ""))
    else:
        ck.ok("all %d kinds within tolerance (%d own kinds exact)"
              % (len(kinds), len(own)))
    if one_side:
        log("kinds present on one side only (expected count / got count):")
        for k, ec, gc_, ok in sorted(one_side):
            log("  %-50s %8d %8d  %s" % (k, ec, gc_, "ok" if ok else "FAIL"))
    if noted:
        noted.sort(key=lambda x: (-x[0], x[1][0]))
        log("within tolerance but not identical (largest size difference "
            "first, up to 25):")
        log(fmt_table(header, [r for s, r in noted[:25]]))

    et, es = truth["total"]["count"], truth["total"]["size"]
    gt = sum(c for c, s in got.values())
    gs = sum(s for c, s in got.values())
    log("total: expected count %d size %d, got count %d size %d "
        "(%+.3f %% / %+.3f %%)" % (et, es, gt, gs,
                                   100.0 * (gt - et) / max(et, 1),
                                   100.0 * (gs - es) / max(es, 1)))
    ck.check(abs(gt - et) <= TOTAL_REL * et,
             "total count %d differs from the ground truth %d by more than "
             "1 %%" % (gt, et))
    ck.check(abs(gs - es) <= TOTAL_REL * es,
             "total size %d differs from the ground truth %d by more than "
             "1 %%" % (gs, es))


# --------------------------------------------------------------------------
# text table

def check_text(ck, text, jtotal, jrows):
    lines = [l.rstrip("\n") for l in text.splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    if not ck.check(len(lines) >= 3, "text: fewer than 3 lines:\n%s" % text):
        return
    m = FIRST_RE.match(lines[0].rstrip())
    if ck.check(m is not None, "text: first line is not 'Partition of a set "
                "of N objects. Total size = M bytes.': %r" % lines[0]):
        n, size = int(m.group(1)), int(m.group(2))
        if jtotal is not None:
            ck.check((n, size) == jtotal, "text: N = %d, M = %d, but the JSON "
                     "totals are count %d size %d" % ((n, size) + jtotal))
    else:
        n = size = None
    ck.check(lines[1].rstrip() == HEADER, "text: header line is\n  %r\n"
             "expected\n  %r" % (lines[1], HEADER))
    rows = []
    more = None
    for i, l in enumerate(lines[2:]):
        mm = MORE_RE.match(l.strip())
        if mm and i == len(lines) - 3:
            more = int(mm.group(1))
            break
        r = ROW_RE.match(l)
        if not ck.check(r is not None, "text: line %d is not a table row: %r"
                        % (i + 3, l)):
            return
        rows.append(tuple(int(r.group(j)) for j in range(1, 8)) +
                    (r.group(8).rstrip(),))
    if not ck.check(rows, "text: no rows"):
        return
    cum = 0
    prev_size = None
    problems = []
    for i, (idx, cnt, pc, sz, ps, cu, pcu, kind) in enumerate(rows):
        if idx != i:
            problems.append("row %d has index %d" % (i, idx))
        if prev_size is not None and sz > prev_size:
            problems.append("row %d (%s): size %d larger than the previous "
                            "row's %d (rows must be sorted by size)"
                            % (i, kind, sz, prev_size))
        prev_size = sz
        cum += sz
        if cu != cum:
            problems.append("row %d (%s): cumulative %d, sum of sizes is %d"
                            % (i, kind, cu, cum))
            cum = cu            # report each break once
        if n:
            if abs(pc - 100.0 * cnt / n) > 1:
                problems.append("row %d (%s): count %% %d, expected ~%.1f"
                                % (i, kind, pc, 100.0 * cnt / n))
        if size:
            if abs(ps - 100.0 * sz / size) > 1:
                problems.append("row %d (%s): size %% %d, expected ~%.1f"
                                % (i, kind, ps, 100.0 * sz / size))
            if abs(pcu - 100.0 * cu / size) > 1:
                problems.append("row %d (%s): cumulative %% %d, expected ~%.1f"
                                % (i, kind, pcu, 100.0 * cu / size))
        if not jrows:
            pass                # no usable JSON output to compare with
        elif kind not in jrows:
            problems.append("row %d: kind %r is not a kind of the JSON output"
                            % (i, kind))
        elif jrows[kind] != (cnt, sz):
            problems.append("row %d (%s): count %d size %d, JSON says count "
                            "%d size %d" % ((i, kind, cnt, sz) + jrows[kind]))
    shown = len(rows) + (more or 0)
    if jrows and shown != len(jrows):
        problems.append("table has %d rows%s, the JSON output %d kinds"
                        % (len(rows), " + %d more" % more if more else "",
                           len(jrows)))
    if more is None and size is not None and cum != size:
        problems.append("all rows shown but their sizes add up to %d, not %d"
                        % (cum, size))
    if problems:
        ck.fail("text table:\n  " + "\n  ".join(problems[:30]) +
                ("\n  ... %d more" % (len(problems) - 30)
                 if len(problems) > 30 else ""))
    else:
        ck.ok("text table: %d rows%s, consistent%s"
              % (len(rows), " (+%d more)" % more if more else "",
                 ", totals and rows match the JSON output" if jrows else
                 " (no JSON output to compare with)"))


# --------------------------------------------------------------------------

def check_truth(ck, truth, python_version, ready_tracked):
    """Sanity of the ground truth itself (a failure here is a test bug)."""
    if ready_tracked is not None and "tracked" in truth:
        ck.check(ready_tracked == truth["tracked"], "GROUND TRUTH STALE (test "
                 "bug): the target has %d GC-tracked objects when ready, the "
                 "ground truth counted %d: the heap changed after the ground "
                 "truth was computed" % (ready_tracked, truth["tracked"]))
    ck.check(truth["python"] == python_version,
             "ground truth python %r, interpreter says %r"
             % (truth["python"], python_version))
    bad = []
    for k in truth["own_kinds"]:
        e = truth["expected_own"].get(k, 0)
        g = truth["rows"].get(k, {}).get("count", 0)
        if e != g:
            bad.append("%s built %d, ground truth %d" % (k, e, g))
    ck.check(not bad, "GROUND TRUTH BROKEN (test bug): own-kind counts "
             "differ from what the target built:\n  " + "\n  ".join(bad))
    if truth.get("size_errors"):
        log("note: sys.getsizeof raised for %d objects in the target"
            % truth["size_errors"])


def run_json(ck, heapscope, t, source, timeout, command="summary"):
    cmd = [heapscope, command, str(t.pid), "--json"]
    if source:
        cmd += ["--layout-source", source]
    res = hstest.run(cmd, timeout)
    log(res.describe())
    hstest.check_target_ok(ck, t, "after `%s --json`" % command)
    if not ck.check(res.returncode == 0 and not res.timed_out,
                    "`%s` exit status %s: %s" % (" ".join(cmd[1:]), res.returncode,
                                                  res.stderr.strip()[:300])):
        return None
    try:
        return json.loads(res.stdout)
    except ValueError as e:
        ck.fail("`%s` output is not JSON: %s" % (" ".join(cmd[1:]), e))
        return None


def rows_of(doc):
    rows = {}
    for r in doc.get("rows", []) if isinstance(doc, dict) else []:
        if isinstance(r, dict):
            rows[r.get("kind")] = (r.get("count"), r.get("size"))
    return rows


def check_layout_checks(ck, heapscope, t, source, timeout, allow_corrections):
    """The layout heapscope used must agree with the binary: no check may
    mismatch (it would have refused), and with shipped tables that were
    generated for this very layout nothing needs correcting either."""
    doc = run_json(ck, heapscope, t, source, timeout, command="info")
    if doc is None:
        return
    checks = doc.get("interpreter", {}).get("layout_checks")
    if not ck.check(isinstance(checks, list), "info --json: no layout_checks"):
        return
    by = {}
    for c in checks:
        by.setdefault(c.get("result"), []).append(c)
    summary = ", ".join("%d %s" % (len(v), k) for k, v in sorted(by.items()))
    log("layout checks: %s" % summary)
    for c in by.get("corrected", []) + by.get("MISMATCH", []):
        log("  %s: %s says %s, layout had %s" % (c.get("result"), c.get("source"),
                                                c.get("binary"), c.get("layout")))
    ck.check(not by.get("MISMATCH"), "layout checks mismatched: %s" % summary)
    if not allow_corrections:
        ck.check(not by.get("corrected"), "layout checks corrected the layout: %s"
                 % summary)
    ck.check(len(by.get("ok", [])) >= 40, "only %d layout checks passed (%s); "
             "expected at least 40" % (len(by.get("ok", [])), summary))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--heapscope", required=True)
    ap.add_argument("--python-version", default=None,
                    help="minor version, e.g. 3.12 (newest pyenv install)")
    ap.add_argument("--python", default=None, help="interpreter to use")
    ap.add_argument("--freeze", action="store_true",
                    help="target calls gc.freeze() after the ground truth")
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layout-source", default=None)
    ap.add_argument("--expect-source", default=None, metavar="SOURCE",
                    help="layout_source heapscope must report")
    ap.add_argument("--allow-corrections", action="store_true",
                    help="the layout checks may correct the layout (a table "
                    "used for a release it was not generated from)")
    ap.add_argument("--same-as", default=None, metavar="SOURCE",
                    help="also run with --layout-source SOURCE; the rows "
                    "must be identical")
    ap.add_argument("--chroot", default=None, metavar="NAME",
                    help="run the target in this chroot (made by "
                    "tests/chroots/make-chroot NAME); --python is then "
                    "the interpreter's path inside it")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per heapscope run (default 120 + 4*scale)")
    args = ap.parse_args(argv)
    hstest.install_signal_handlers()

    python, version, root = hstest.select_interpreter(ap, args)
    heapscope = hstest.heapscope_or_die(args.heapscope)
    timeout = args.timeout or (120.0 + 4.0 * args.scale)
    log("interpreter: %s (Python %s)" % (python, version))
    log("heapscope:   %s" % heapscope)

    ck = hstest.Checker()
    name = "e2e-summary-%s%s" % (version, "-frozen" if args.freeze else "")
    try:
        with hstest.Target(python, scale=args.scale, freeze=args.freeze,
                           threads=args.threads, chroot=root) as t:
            truth = t.truth
            log("target pid %d: %d objects / %d bytes in %d kinds (ground "
                "truth; gc objects %d; build %.2f s, truth %.2f s)"
                % (t.pid, truth["total"]["count"], truth["total"]["size"],
                   len(truth["rows"]), truth["gc_objects"],
                   truth["build_seconds"], truth["truth_seconds"]))
            check_truth(ck, truth, version, t.ready_tracked)
            if not ck.check(t.ping(), "target does not answer ping before "
                            "heapscope ran (harness problem)"):
                return ck.finish(name)

            # ---- JSON
            cmd = [heapscope, "summary", str(t.pid), "--json"]
            if args.layout_source:
                cmd += ["--layout-source", args.layout_source]
            res = hstest.run(cmd, timeout)
            log(res.describe())
            hstest.check_target_ok(ck, t, "after `summary --json`")
            doc = None
            if res.timed_out:
                ck.fail("heapscope timed out after %.0f s" % timeout)
            elif res.returncode not in (0, 1):
                ck.fail("heapscope exit status %s (expected 0)"
                        % res.returncode)
            else:
                try:
                    doc = json.loads(res.stdout)
                except ValueError as e:
                    ck.fail("stdout is not one JSON document (%s); first 500 "
                            "chars:\n%s" % (e, res.stdout[:500]))
                if res.returncode == 1:
                    sk = doc.get("skipped") if isinstance(doc, dict) else None
                    ck.fail("heapscope exit status 1: result incomplete; "
                            "skipped: %s" % json.dumps(sk))
            jrows = {}
            jtotal = None
            if doc is not None:
                if isinstance(doc, dict) and isinstance(doc.get("capture"),
                                                        dict):
                    log("capture: %s" % json.dumps(doc["capture"]))
                jrows = check_document(ck, doc, t.pid, truth, res.returncode,
                                       args.expect_source or args.layout_source)
                tot = doc.get("total") if isinstance(doc, dict) else None
                if isinstance(tot, dict):
                    jtotal = (tot.get("count"), tot.get("size"))
                if jrows:
                    compare(ck, truth, jrows)

            # ---- layout checks against the binary (info --json)
            check_layout_checks(ck, heapscope, t, args.layout_source, timeout,
                                args.allow_corrections)

            # ---- the same heap through another layout source
            if args.same_as and jrows:
                other = run_json(ck, heapscope, t, args.same_as, timeout)
                if other is not None:
                    orows = rows_of(other)
                    diff = sorted(k for k in set(jrows) | set(orows)
                                  if jrows.get(k) != orows.get(k))
                    ck.check(not diff, "--layout-source %s gives other rows than %s "
                             "for %d kind(s): %s" % (args.same_as,
                                                     args.layout_source or "auto",
                                                     len(diff), ", ".join(
                                                         "%s %r vs %r" % (k, jrows.get(k), orows.get(k))
                                                         for k in diff[:8])))
                    if not diff:
                        ck.ok("rows identical with --layout-source %s (%d kinds)"
                              % (args.same_as, len(jrows)))

            # ---- text table
            cmd = [heapscope, "summary", str(t.pid)]
            if args.layout_source:
                cmd += ["--layout-source", args.layout_source]
            res = hstest.run(cmd, timeout)
            log(res.describe())
            hstest.check_target_ok(ck, t, "after `summary`")
            if res.timed_out:
                ck.fail("heapscope (text) timed out after %.0f s" % timeout)
            elif not ck.check(res.returncode == 0, "heapscope (text) exit "
                              "status %s (expected 0)" % res.returncode) \
                    and res.returncode != 1:
                pass
            else:
                # exit 1 still produces a table: check its shape as well
                log("text output (first 15 lines):")
                for l in res.stdout.splitlines()[:15]:
                    log("| " + l)
                check_text(ck, res.stdout, jtotal, jrows)
    except hstest.TargetError as e:
        ck.fail("target: %s" % e)
    return ck.finish(name)


if __name__ == "__main__":
    sys.exit(main())
