#!/usr/bin/env python3
"""Benchmark snapshot, reading a snapshot, diff and core files on a big heap.

    python3 bench/bench_snapshot.py [--objects N] [--rounds R]
                                    [--python PATH|X.Y] [--heapscope PATH]
                                    [--no-core] [--json]

Starts the same mixed target as bench_summary.py (~N objects, default
1,000,000).  If gcore (gdb) is found, dumps a core of it once with
`gcore -o TMP/core PID` (timed on its own, not counted below).  Then, R
times (default 5), runs

    heapscope summary PID --json               (the baseline)
    heapscope snapshot PID -o TMP/a.hss --json (capture + walk + write)
    heapscope summary TMP/a.hss --json         (read the snapshot; no capture)
    heapscope snapshot PID -o TMP/b.hss --json (a second snapshot)
    heapscope diff TMP/a.hss TMP/b.hss --json  (two snapshots, no capture)
    heapscope summary TMP/core.PID --json      (read + walk the core; only
                                                with gcore)

and prints, per command, the medians of the wall time, capture.total_ms
and capture.analysis_ms where this run measured them, the peak RSS, and
wall time / summary's wall time in the same run (the machines this runs on
are noisy: never compare against figures from another run); then the
snapshot's size, in bytes per object and per reference.  TMP is a
temporary directory, removed at the end; the target is always killed.

This prints figures; it checks no thresholds except that every command
succeeded.  heapscope (and gcore) need ptrace rights over the target
(root, or ptrace_scope 0 and the same user).

Exit status: 0 done, 1 a command failed, 2 bad usage / missing binaries.
Keep this file Python 3.8 compatible.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_summary as bs  # noqa: E402
from bench_summary import log, fail, median, num, ratio  # noqa: E402

bs.PROG = "bench_snapshot"

NAMES = ["summary", "snapshot", "summary .hss", "snapshot (2nd)", "diff",
         "summary core"]
# commands whose `capture` block is the stored one of the file they read,
# not this run's: their total_ms is not shown
FROM_FILE = ("summary .hss", "diff")


def commands(pid, tmp, core):
    """(name, heapscope arguments, file written) in the order of a round."""
    p = str(pid)
    a = os.path.join(tmp, "a.hss")
    b = os.path.join(tmp, "b.hss")
    cmds = [
        ("summary", ["summary", p, "--json"], None),
        ("snapshot", ["snapshot", p, "-o", a, "--json"], a),
        ("summary .hss", ["summary", a, "--json"], None),
        ("snapshot (2nd)", ["snapshot", p, "-o", b, "--json"], b),
        ("diff", ["diff", a, b, "--json"], None),
    ]
    if core:
        cmds.append(("summary core", ["summary", core, "--json"], None))
    return cmds


def result_text(name, doc):
    """What the command found, to show it did the work."""
    if name.startswith("summary"):
        t = doc.get("total") or {}
        return "%s objects" % t.get("count")
    if name.startswith("snapshot"):
        return "%s objects, %s references, %s bytes, format %s" % (
            doc.get("objects"), doc.get("references"), doc.get("file_bytes"),
            doc.get("format_version"))
    if name == "diff":
        return "%s -> %s objects, %s added, %s removed, %d kinds changed, %d suspects" % (
            (doc.get("old") or {}).get("objects"), (doc.get("new") or {}).get("objects"),
            doc.get("added"), doc.get("removed"), len(doc.get("rows") or []),
            len(doc.get("suspects") or []))
    return ""


def count_of(name, doc):
    if name.startswith("summary"):
        return (doc.get("total") or {}).get("count")
    if name.startswith("snapshot"):
        return doc.get("objects")
    if name == "diff":
        return (doc.get("new") or {}).get("objects")
    return None


def make_core(gcore, tmp, pid):
    """gcore -o TMP/core PID; returns (path, seconds, bytes)."""
    prefix = os.path.join(tmp, "core")
    p, wall = bs.run([gcore, "-o", prefix, str(pid)])
    path = "%s.%d" % (prefix, pid)
    if p.returncode != 0 or not os.path.isfile(path):
        fail("gcore failed (%d): %s" % (p.returncode,
                                         (p.stderr or p.stdout).strip()[-500:]))
    return path, wall, os.path.getsize(path)


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--objects", type=int, default=1000000,
                    help="objects the target builds (default 1000000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--python", default=None,
                    help="target interpreter: a path, or a version (3.12) "
                         "resolved under `pyenv root`/versions "
                         "(default: the newest pyenv interpreter)")
    ap.add_argument("--heapscope", default=os.path.join(bs.REPO, "build", "heapscope"))
    ap.add_argument("--no-core", action="store_true",
                    help="skip the core file (gcore) comparison")
    ap.add_argument("--json", action="store_true",
                    help="print the results as JSON too (after the table)")
    args = ap.parse_args()
    if args.objects < 1 or args.rounds < 1:
        fail("--objects and --rounds must be positive", 2)

    python = bs.resolve_python(args.python)
    for name, path in (("python", python), ("heapscope", args.heapscope)):
        if not os.access(path, os.X_OK):
            fail("%s: %s is not executable (build with `ninja -C build`)"
                 % (name, path), 2)
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    gcore = None if args.no_core else shutil.which("gcore")
    if not gcore and not args.no_core:
        log("bench_snapshot: no gcore (gdb) found; skipping the core file")

    # a ^C or kill of the benchmark still kills the target (finally below)
    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    target = bs.Target(python, args.objects)
    tmp = tempfile.mkdtemp(prefix="hs-bench-snapshot-")
    rss_file = os.path.join(tmp, "rss")
    rounds = []
    core = None
    try:
        t0 = time.perf_counter()
        target.start()
        log("target: %s pid %d, built ~%d objects in %.2f s (startup+build %.2f s)"
            % (python, target.pid, args.objects, target.build_s,
               time.perf_counter() - t0))
        if gcore:
            path, secs, size = make_core(gcore, tmp, target.pid)
            core = {"path": path, "gcore_s": secs, "bytes": size}
            log("gcore: %.2f s, %.1f MiB" % (secs, size / 1048576.0))
            if not target.alive():
                fail("the target died during gcore")
        for r in range(args.rounds):
            row = {}
            for name, hs_args, out in commands(target.pid, tmp,
                                               core and core["path"]):
                if not target.alive():
                    fail("the target died during round %d" % (r + 1))
                if out:
                    try:    # every round writes a new file, none replaces one
                        os.unlink(out)
                    except OSError:
                        pass
                doc, wall, rss_kb, err = bs.heapscope_round(
                    args.heapscope, hs_args, gnu_time, rss_file)
                cap = doc.get("capture") or {}
                row[name] = {
                    "wall_ms": wall * 1000.0,
                    "total_ms": (float("nan") if name in FROM_FILE
                                 else num(cap, "total_ms")),
                    "analysis_ms": num(cap, "analysis_ms"),
                    "peak_rss_kb": rss_kb,
                    "complete": doc.get("complete"),
                    "count": count_of(name, doc),
                    "result": result_text(name, doc),
                }
                if name == "summary":
                    row[name]["python"] = (doc.get("target") or {}).get("python")
                if name.startswith("snapshot"):
                    row[name]["file_bytes"] = doc.get("file_bytes")
                    row[name]["objects"] = doc.get("objects")
                    row[name]["references"] = doc.get("references")
                    row[name]["format_version"] = doc.get("format_version")
                if name == "diff":
                    row[name]["added"] = doc.get("added")
                    row[name]["removed"] = doc.get("removed")
                bs.log_command(r + 1, name, row[name], rss_kb, err, 14)
            rounds.append(row)
        if not target.alive():
            fail("the target died during the benchmark")
    except RuntimeError as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    finally:
        target.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    report(args, python, target, rounds, gnu_time, core)
    return 0


def report(args, python, target, rounds, gnu_time, core):
    names = [n for n in NAMES if n in rounds[0]]
    base = median([r["summary"]["wall_ms"] for r in rounds])
    res = {
        "python": python,
        "python_version": rounds[-1]["summary"]["python"],
        "objects_requested": args.objects,
        "rounds": len(rounds),
        "target_build_s": target.build_s,
        "peak_rss_source": ("/usr/bin/time -f %M" if gnu_time
                            else "getrusage(RUSAGE_CHILDREN) (upper bound)"),
        "core": core and {"gcore_s": core["gcore_s"], "bytes": core["bytes"]},
        "commands": {},
        "per_round": rounds,
    }
    for n in names:
        rs = [r[n] for r in rounds]
        walls = [x["wall_ms"] for x in rs]
        res["commands"][n] = {
            "median_wall_ms": median(walls),
            "min_wall_ms": min(walls),
            "max_wall_ms": max(walls),
            "median_total_ms": median([x["total_ms"] for x in rs]),
            "median_analysis_ms": median([x["analysis_ms"] for x in rs]),
            "peak_rss_kb_max": max(x["peak_rss_kb"] for x in rs),
            "wall_over_summary": ratio(median(walls), base),
            "complete": all(x["complete"] for x in rs),
            "count": rs[-1]["count"],
            "result": rs[-1]["result"],
        }
    snaps = [r[n] for r in rounds for n in ("snapshot", "snapshot (2nd)")]
    file_bytes = median([float(s["file_bytes"]) for s in snaps])
    objects = median([float(s["objects"]) for s in snaps])
    refs = median([float(s["references"]) for s in snaps])
    res["snapshot"] = {
        "median_file_bytes": file_bytes,
        "min_file_bytes": min(s["file_bytes"] for s in snaps),
        "max_file_bytes": max(s["file_bytes"] for s in snaps),
        "objects": objects,
        "references": refs,
        "bytes_per_object": ratio(file_bytes, objects),
        "bytes_per_reference": ratio(file_bytes, refs),
        "format_version": snaps[-1]["format_version"],
    }

    print("heapscope snapshot benchmark: %d rounds, %d objects requested"
          % (len(rounds), args.objects))
    print("target: %s (Python %s)" % (python, res["python_version"]))
    print("medians; wall/summary = median wall / median summary wall of this run; "
          "RSS: max over rounds (%s)" % res["peak_rss_source"])
    print("total_ms = capture.total_ms (layout loading, capture or core read, walk; "
          "'-': read from a snapshot, whose figure is the stored capture's); "
          "analysis_ms = work after that (snapshot: writing the file)")
    head = ("command", "wall ms (min-max)", "total_ms", "analysis_ms",
            "peak RSS", "wall/summary")

    def opt(x):
        return "-" if x != x else "%.1f" % x     # NaN: not measured

    table = []
    for n in names:
        c = res["commands"][n]
        table.append((n, "%.0f (%.0f-%.0f)" % (c["median_wall_ms"], c["min_wall_ms"],
                                               c["max_wall_ms"]),
                      opt(c["median_total_ms"]), opt(c["median_analysis_ms"]),
                      "%.1f MiB" % (c["peak_rss_kb_max"] / 1024.0),
                      "%.2fx" % c["wall_over_summary"]))
    widths = [max(len(row[i]) for row in [head] + table) for i in range(len(head))]
    fmt = "  " + "  ".join(["%-*s"] + ["%*s"] * (len(head) - 1))
    for row in [head] + table:
        print(fmt % tuple(x for pair in zip(widths, row) for x in pair))
    sn = res["snapshot"]
    print("snapshot file: %.1f MiB (median of %d; %d-%d bytes), format %s: "
          "%.1f bytes/object (%d objects), %.1f bytes/reference (%d references)" % (
              sn["median_file_bytes"] / 1048576.0, len(snaps), sn["min_file_bytes"],
              sn["max_file_bytes"], sn["format_version"], sn["bytes_per_object"],
              sn["objects"], sn["bytes_per_reference"], sn["references"]))
    if core:
        print("core file: %.1f MiB, gcore %.2f s (once; not in the table); "
              "%.1fx the snapshot" % (core["bytes"] / 1048576.0, core["gcore_s"],
                                      ratio(core["bytes"], sn["median_file_bytes"])))
    else:
        print("core file: skipped (%s)" % ("--no-core" if args.no_core else "no gcore"))
    print("results (last round):")
    for n in names:
        c = res["commands"][n]
        print("  %-14s  %s%s" % (n, c["result"],
                                 "" if c["complete"] else " (INCOMPLETE)"))
    counts = set(res["commands"][n]["count"] for n in names)
    res["counts_agree"] = len(counts) == 1
    print("object counts: %s" % ("all equal" if len(counts) == 1 else "DIFFER: " + ", ".join(
        "%s %s" % (n, res["commands"][n]["count"]) for n in names)))
    sys.stdout.flush()
    if args.json:
        print(json.dumps(res, indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
