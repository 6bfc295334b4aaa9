#!/usr/bin/env python3
"""Benchmark the graph queries (referrers --type, cycles, show) on a big heap.

    python3 bench/bench_queries.py [--objects N] [--rounds R]
                                   [--instances K] [--garbage G]
                                   [--python PATH|X.Y] [--heapscope PATH]
                                   [--json]

Starts the same mixed target as bench_summary.py (~N objects in total,
default 1,000,000), plus K instances of a class Item (default 100,000): half
in a module-level list ITEMS, half in a doubly linked list from the module
global CHAIN (CHAIN.next.next..., one K/2-object reference cycle), and G
garbage pairs of Junk objects that refer to each other (default 5,000; the
target's cyclic GC is off, so they stay).  Then, R times (default 5), runs

    heapscope summary PID --json                   (the baseline)
    heapscope referrers PID --type __main__.Item --json
    heapscope cycles PID --json
    heapscope cycles PID --garbage --json
    heapscope show PID ADDR --json                 (ADDR: the Item at the
                                                    far end of CHAIN)

and prints, per command, the medians of the wall time, capture.total_ms
(capture + walk), capture.analysis_ms (the command's own work after the
walk, before printing), the peak RSS, and wall time / summary's wall time
in the same run (the machines this runs on are noisy: never compare
against figures from another run).  The goal line checks the issue's
"referrers --type and cycles each finish in under 2 s after capture" as
analysis_ms < 2000.  The target is always killed at the end.

This prints figures; it checks no thresholds except that every command
succeeded.  heapscope needs ptrace rights over the target (root, or
ptrace_scope 0 and the same user).

Exit status: 0 done, 1 a command failed, 2 bad usage / missing binaries.
Keep this file Python 3.8 compatible.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_summary as bs  # noqa: E402
from bench_summary import log, fail, median, num, ratio  # noqa: E402

bs.PROG = "bench_queries"

KIND = "__main__.Item"      # `python -c` code runs as __main__
GOAL_MS = 2000.0

# --------------------------------------------------------------------------
# the target: bench_summary's heap (TARGET_HEAP, build(n)) plus the Items
# and the garbage; prints "ready PID COUNT SECONDS ADDR", ADDR the Item at
# the far end of CHAIN, then blocks in one read of stdin until EOF.
# argv: N K G.  Python 3.6+ compatible.

TARGET_QUERIES = r'''
class Item(object):
    def __init__(self, n):
        self.n = n
        self.next = None
        self.prev = None

class Junk(object):
    def __init__(self):
        self.other = None

ITEMS = []     # half of the Items: a flat module-level list
CHAIN = None   # the other half: a doubly linked list, CHAIN.next.next...

def build_items(k):
    global CHAIN
    half = k // 2
    for i in range(half):
        ITEMS.append(Item(i + 100000))          # instance + an int
    head = tail = None
    for i in range(k - half):
        it = Item(i + 100000)
        it.next = head
        if head is not None:
            head.prev = it
        else:
            tail = it
        head = it
    CHAIN = head
    # only CHAIN reaches the tail: no local or global keeps it
    return "0x%x" % id(tail) if tail is not None else "0x0"

def build_garbage(g):
    for i in range(g):
        a = Junk()
        b = Junk()
        a.other = b
        b.other = a                             # unreachable once we return

t0 = time.time()
n, k, g = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
build(max(9, n - 2 * k - 2 * g))                # Items and Junk: ~2 each
addr = build_items(k)
build_garbage(g)
elapsed = time.time() - t0
sys.stdout.write("ready %d %d %.3f %s\n" % (os.getpid(), len(HEAP) + k,
                                            elapsed, addr))
sys.stdout.flush()
os.read(0, 1)   # blocks until the benchmark closes our stdin
'''

TARGET_CODE = bs.TARGET_HEAP + TARGET_QUERIES


def commands(pid, addr):
    """(name, heapscope arguments) in the order of a round."""
    p = str(pid)
    return [
        ("summary", ["summary", p, "--json"]),
        ("referrers --type", ["referrers", p, "--type", KIND, "--json"]),
        ("cycles", ["cycles", p, "--json"]),
        ("cycles --garbage", ["cycles", p, "--garbage", "--json"]),
        ("show", ["show", p, addr, "--json"]),
    ]


def result_text(name, doc):
    """What the command found, to show it did the work."""
    if name == "summary":
        t = doc.get("total") or {}
        return "%s objects" % t.get("count")
    if name.startswith("referrers"):
        return "%s objects, %s paths" % (doc.get("objects"), doc.get("paths_total"))
    if name.startswith("cycles"):
        return "%s components, %s objects, %s shapes" % (
            doc.get("components"), doc.get("objects"), doc.get("shapes"))
    if name == "show":
        o = doc.get("object") or {}
        path = (o.get("path") or {})
        return "%s, %s hops" % (o.get("kind"), path.get("hops"))
    return ""


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--objects", type=int, default=1000000,
                    help="objects the target builds in all (default 1000000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--instances", type=int, default=100000,
                    help="Item instances: half in ITEMS, half in CHAIN "
                         "(default 100000)")
    ap.add_argument("--garbage", type=int, default=5000,
                    help="unreachable pairs of Junk objects (default 5000)")
    ap.add_argument("--python", default=None,
                    help="target interpreter: a path, or a version (3.12) "
                         "resolved under `pyenv root`/versions "
                         "(default: the newest pyenv interpreter)")
    ap.add_argument("--heapscope", default=os.path.join(bs.REPO, "build", "heapscope"))
    ap.add_argument("--json", action="store_true",
                    help="print the results as JSON too (after the table)")
    args = ap.parse_args()
    if args.objects < 1 or args.rounds < 1 or args.instances < 2 or args.garbage < 0:
        fail("--objects and --rounds must be positive, --instances >= 2, "
             "--garbage >= 0", 2)

    python = bs.resolve_python(args.python)
    for name, path in (("python", python), ("heapscope", args.heapscope)):
        if not os.access(path, os.X_OK):
            fail("%s: %s is not executable (build with `ninja -C build`)"
                 % (name, path), 2)
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None

    # a ^C or kill of the benchmark still kills the target (finally below)
    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    target = bs.Target(python, args.objects, code=TARGET_CODE,
                       args=(args.instances, args.garbage))
    fd, rss_file = tempfile.mkstemp(prefix="hs-bench-rss-")
    os.close(fd)
    rounds = []
    try:
        t0 = time.perf_counter()
        target.start()
        if len(target.extra) != 1:
            fail("target printed no Item address")
        addr = target.extra[0]
        log("target: %s pid %d, built ~%d objects in %.2f s (startup+build %.2f s); "
            "show %s" % (python, target.pid, args.objects, target.build_s,
                         time.perf_counter() - t0, addr))
        for r in range(args.rounds):
            row = {}
            for name, hs_args in commands(target.pid, addr):
                if not target.alive():
                    fail("the target died during round %d" % (r + 1))
                doc, wall, rss_kb, err = bs.heapscope_round(
                    args.heapscope, hs_args, gnu_time, rss_file)
                cap = doc.get("capture") or {}
                row[name] = {
                    "wall_ms": wall * 1000.0,
                    "walk_ms": num(cap, "walk_ms"),
                    "total_ms": num(cap, "total_ms"),
                    "analysis_ms": num(cap, "analysis_ms"),
                    "peak_rss_kb": rss_kb,
                    "complete": doc.get("complete"),
                    "python": (doc.get("target") or {}).get("python"),
                    "result": result_text(name, doc),
                }
                bs.log_command(r + 1, name, row[name], rss_kb, err, 16)
            rounds.append(row)
        if not target.alive():
            fail("the target died during the benchmark")
    except RuntimeError as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    finally:
        target.stop()
        try:
            os.unlink(rss_file)
        except OSError:
            pass

    report(args, python, target, rounds, gnu_time)
    return 0


def report(args, python, target, rounds, gnu_time):
    names = [n for n, _ in commands(0, "")]
    base = median([r["summary"]["wall_ms"] for r in rounds])
    res = {
        "python": python,
        "python_version": rounds[-1]["summary"]["python"],
        "objects_requested": args.objects,
        "instances": args.instances,
        "garbage_pairs": args.garbage,
        "kind": KIND,
        "rounds": len(rounds),
        "target_build_s": target.build_s,
        "peak_rss_source": ("/usr/bin/time -f %M" if gnu_time
                            else "getrusage(RUSAGE_CHILDREN) (upper bound)"),
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
            "median_walk_ms": median([x["walk_ms"] for x in rs]),
            "median_total_ms": median([x["total_ms"] for x in rs]),
            "median_analysis_ms": median([x["analysis_ms"] for x in rs]),
            "median_other_ms": median([x["wall_ms"] - x["total_ms"] - x["analysis_ms"]
                                       for x in rs]),
            "max_analysis_ms": max(x["analysis_ms"] for x in rs),
            "peak_rss_kb_max": max(x["peak_rss_kb"] for x in rs),
            "wall_over_summary": ratio(median(walls), base),
            "complete": all(x["complete"] for x in rs),
            "result": rs[-1]["result"],
        }

    print("heapscope graph-query benchmark: %d rounds, %d objects requested, "
          "%d %s, %d garbage pairs" % (len(rounds), args.objects,
                                       args.instances, KIND, args.garbage))
    print("target: %s (Python %s)" % (python, res["python_version"]))
    print("medians; wall/summary = median wall / median summary wall of this run; "
          "RSS: max over rounds (%s)" % res["peak_rss_source"])
    print("other = wall - total_ms - analysis_ms: exec, printing, freeing, exit")
    head = ("command", "wall ms (min-max)", "total_ms", "analysis_ms", "other ms",
            "peak RSS", "wall/summary")
    table = []
    for n in names:
        c = res["commands"][n]
        table.append((n, "%.0f (%.0f-%.0f)" % (c["median_wall_ms"], c["min_wall_ms"],
                                               c["max_wall_ms"]),
                      "%.1f" % c["median_total_ms"], "%.1f" % c["median_analysis_ms"],
                      "%.1f" % c["median_other_ms"],
                      "%.1f MiB" % (c["peak_rss_kb_max"] / 1024.0),
                      "%.2fx" % c["wall_over_summary"]))
    widths = [max(len(row[i]) for row in [head] + table) for i in range(len(head))]
    fmt = "  " + "  ".join(["%-*s"] + ["%*s"] * (len(head) - 1))
    for row in [head] + table:
        print(fmt % tuple(x for pair in zip(widths, row) for x in pair))
    print("results (last round):")
    for n in names:
        c = res["commands"][n]
        print("  %-16s  %s%s" % (n, c["result"],
                                 "" if c["complete"] else " (INCOMPLETE)"))

    goal = ["referrers --type", "cycles", "cycles --garbage"]
    med = [res["commands"][n]["median_analysis_ms"] for n in goal]
    worst = [res["commands"][n]["max_analysis_ms"] for n in goal]
    if max(worst) < GOAL_MS:
        verdict = "met"
    elif max(med) < GOAL_MS:
        verdict = "met at the median, not in every round"
    else:
        verdict = "not met"
    res["goal"] = verdict
    print("goal: referrers --type / cycles analysis_ms < %.0f on %s objects: %s "
          "(median/max ms: %s)%s" % (
              GOAL_MS, "1M" if args.objects == 1000000 else "%d" % args.objects,
              verdict,
              ", ".join("%s %.0f/%.0f" % (n, m, w) for n, m, w in zip(goal, med, worst)),
              "" if args.objects >= 1000000 else "; the goal is for 1M objects"))
    sys.stdout.flush()
    if args.json:
        print(json.dumps(res, indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
