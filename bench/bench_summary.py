#!/usr/bin/env python3
"""Benchmark `heapscope summary` against a raw copy of the same memory.

    python3 bench/bench_summary.py [--objects N] [--rounds R]
                                   [--python PATH|X.Y] [--heapscope PATH]
                                   [--raw-copy PATH] [--json]

Starts a target Python process that builds ~N objects of mixed kinds
(default 1,000,000) and then sits idle in one blocking read; waits for its
"ready" line on a pipe; then, R times (default 5), runs

    hs-raw-copy PID                   (3 unpaused copies of the mappings a
                                       capture copies: the baseline)
    heapscope summary PID --json      (wall time measured around the whole
                                       command, peak RSS via /usr/bin/time)

and prints medians, with ratios against the baseline measured in the same
run (the machines this runs on are noisy: never compare against figures
from another run).  The target is always killed at the end.

This prints figures; it is not a test and checks no thresholds except that
every command succeeded.  heapscope needs ptrace rights over the target
(root, or ptrace_scope 0 and the same user).

Exit status: 0 done, 1 a command failed, 2 bad usage / missing binaries.
Keep this file Python 3.8 compatible.
"""

import argparse
import json
import os
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

READY_TIMEOUT_S = 120.0    # target build (should take < 10 s)
COMMAND_TIMEOUT_S = 300.0  # one hs-raw-copy or heapscope run
EXIT_TIMEOUT_S = 5.0       # target exit after its stdin closes

# --------------------------------------------------------------------------
# the target: builds the heap, prints "ready PID COUNT SECONDS", then blocks
# in one read of stdin (no Python code runs, nothing is allocated) until
# EOF.  Python 3.6+ compatible.  TARGET_HEAP (the classes and build(n)) is
# shared with bench_queries.py, which adds to it and has its own main part.

TARGET_HEAP = r'''
import gc, os, sys, time
gc.disable()   # no collection during the build or while heapscope looks

class Plain(object):
    def __init__(self, a, b):
        self.a = a
        self.b = b

class Slotted(object):
    __slots__ = ("a", "b")
    def __init__(self, a, b):
        self.a = a
        self.b = b

HEAP = []   # module-level: everything built is reachable from here

def build(n):
    # one unit adds 9 new objects (+ a long str every 32nd unit):
    # int, str, float, Plain, Slotted, dict, list, tuple, bytes
    units = max(1, n // 9)
    keep = HEAP.append
    for i in range(units):
        big = i + 100000                        # int outside the small cache
        s = "x" * (i % 48) + str(i)             # str, 1..~55 chars
        if i % 32 == 0:
            s = s + "y" * (100 + (i * 7) % 4000)  # some long str
        f = i * 0.5                             # float
        p = Plain(big, s)                       # instance with __dict__
        q = Slotted(f, s)                       # instance with __slots__
        d = {"n": big, "s": s}                  # dict
        l = [big, f, s]                         # list
        t = (p, q)                              # tuple
        b = bytes(1 + i % 64)                   # bytes
        keep(p); keep(q); keep(d); keep(l); keep(t); keep(b)
'''

TARGET_MAIN = r'''
t0 = time.time()
build(int(sys.argv[1]))
elapsed = time.time() - t0
sys.stdout.write("ready %d %d %.3f\n" % (os.getpid(), len(HEAP), elapsed))
sys.stdout.flush()
os.read(0, 1)   # blocks until the benchmark closes our stdin
'''

TARGET_CODE = TARGET_HEAP + TARGET_MAIN

# --------------------------------------------------------------------------
# helpers

PROG = "bench_summary"   # the prefix of messages (bench_queries.py sets its own)


def log(*args):
    print(*args, file=sys.stderr)
    sys.stderr.flush()


def fail(msg, code=1):
    log(PROG + ": " + msg)
    sys.exit(code)


def version_key(name):
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)$", name)
    return tuple(int(x) for x in m.groups()) if m else None


def pyenv_root():
    exe = shutil.which("pyenv")
    if exe:
        try:
            out = subprocess.run([exe, "root"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=10,
                                 universal_newlines=True)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            pass
    return os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def find_python(prefix=None):
    """Newest pyenv CPython (3.x.y), optionally of version `prefix` ("3.12")."""
    versions = os.path.join(pyenv_root(), "versions")
    best = None
    try:
        names = os.listdir(versions)
    except OSError:
        return None
    for name in names:
        key = version_key(name)
        if key is None or key[0] != 3:
            continue
        if prefix and not (name == prefix or name.startswith(prefix + ".")):
            continue
        exe = os.path.join(versions, name, "bin", "python3")
        if os.access(exe, os.X_OK) and (best is None or key > best[0]):
            best = (key, exe)
    return best[1] if best else None


def resolve_python(arg):
    if arg is None:
        exe = find_python()
        if not exe:
            fail("no pyenv interpreter found; use --python PATH", 2)
        return exe
    if "/" not in arg and re.match(r"^\d+(\.\d+){0,2}$", arg):
        exe = find_python(arg)
        if not exe:
            fail("no pyenv interpreter of version %s" % arg, 2)
        return exe
    return arg


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def num(d, key):
    """d[key] as a float, NaN when it is missing or not a number."""
    try:
        return float(d.get(key))
    except (TypeError, ValueError):
        return float("nan")


def log_command(round_no, name, row, rss_kb, err, width=16):
    """One line per command of a round (bench_queries, bench_snapshot)."""
    log("round %d: %-*s wall %7.1f ms, total %7.1f ms, analysis %7.1f ms, "
        "rss %s KiB; %s" % (round_no, width, name, row["wall_ms"], row["total_ms"],
                            row["analysis_ms"], rss_kb, row["result"]))
    if err:
        log("  heapscope stderr: " + err.replace("\n", "\n  "))


def ratio(a, b):
    return a / b if b else float("nan")


def run(cmd, timeout=COMMAND_TIMEOUT_S):
    """Run cmd with a deadline; returns (CompletedProcess, wall seconds)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout,
                           universal_newlines=True)
    except subprocess.TimeoutExpired:
        fail("timed out after %.0f s: %s" % (timeout, " ".join(cmd)))
    return p, time.perf_counter() - t0


# --------------------------------------------------------------------------
# the target process


class Target(object):
    """python -c CODE OBJECTS [ARGS]; CODE prints "ready PID COUNT SECONDS"
    and may add fields, which end up in self.extra."""

    def __init__(self, python, objects, code=None, args=()):
        self.python = python
        self.objects = objects
        self.code = TARGET_CODE if code is None else code
        self.args = [str(a) for a in args]
        self.proc = None
        self.pid = None
        self.build_s = None
        self.kept = None
        self.extra = []

    def start(self):
        self.proc = subprocess.Popen(
            [self.python, "-c", self.code, str(self.objects)] + self.args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
            start_new_session=True)   # a ^C here does not reach it first
        line = self._read_line(READY_TIMEOUT_S)
        parts = line.split()
        if len(parts) < 4 or parts[0] != "ready":
            raise RuntimeError("target did not say ready (got %r)" % line)
        self.pid = int(parts[1])
        self.kept = int(parts[2])
        self.build_s = float(parts[3])
        self.extra = parts[4:]
        if self.pid != self.proc.pid:
            raise RuntimeError("target PID %d != %d" % (self.pid, self.proc.pid))

    def _read_line(self, timeout):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("target not ready after %.0f s" % timeout)
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("target exited before ready (status %r)"
                                   % self.proc.poll())
            buf += chunk
        return buf.split(b"\n", 1)[0].decode("ascii", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        except OSError:
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                try:
                    self.proc.wait(timeout=EXIT_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    log("%s: warning: target %d did not die"
                        % (PROG, self.proc.pid))
            if self.proc.stdout:
                self.proc.stdout.close()


# --------------------------------------------------------------------------
# one round


def raw_copy_round(raw_copy, pid):
    p, _ = run([raw_copy, str(pid)])
    if p.returncode != 0:
        fail("hs-raw-copy failed (%d): %s" % (p.returncode, p.stderr.strip()))
    try:
        data = json.loads(p.stdout)
        return [float(x) for x in data["raw_copy_ms"]], int(data["bytes"])
    except (ValueError, KeyError, TypeError) as e:
        fail("hs-raw-copy printed unexpected output (%s): %r" % (e, p.stdout[:200]))


def summary_round(heapscope, pid, gnu_time, rss_file):
    return heapscope_round(heapscope, ["summary", str(pid), "--json"],
                           gnu_time, rss_file)


def heapscope_round(heapscope, hs_args, gnu_time, rss_file):
    """Runs `heapscope HS_ARGS` (with --json); returns (the JSON document,
    wall seconds, peak RSS KiB, stderr)."""
    cmd = [heapscope] + list(hs_args)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if gnu_time:
        cmd = [gnu_time, "-f", "%M", "-o", rss_file] + cmd
    p, wall = run(cmd)
    # 0 complete, 1 incomplete (still a full report); 2 fatal; 64 usage
    if p.returncode not in (0, 1):
        fail("heapscope %s failed (%d): %s" % (hs_args[0], p.returncode,
                                                p.stderr.strip()))
    try:
        data = json.loads(p.stdout)
    except ValueError as e:
        fail("heapscope printed no JSON (%s): %r" % (e, p.stdout[:200]))
    rss_kb = None
    if gnu_time:
        try:
            with open(rss_file) as f:
                lines = [x for x in f.read().split() if x.strip()]
            rss_kb = int(lines[-1])
        except (OSError, ValueError, IndexError):
            rss_kb = None
    if rss_kb is None:
        # RUSAGE_CHILDREN's maxrss is the largest child so far: exact only
        # when this run is the largest, otherwise an upper bound.
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rss_kb = after if after > before else before
    return data, wall, rss_kb, p.stderr.strip()


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
    ap.add_argument("--heapscope", default=os.path.join(REPO, "build", "heapscope"))
    ap.add_argument("--raw-copy", default=os.path.join(REPO, "build", "bench",
                                                       "hs-raw-copy"))
    ap.add_argument("--json", action="store_true",
                    help="print the results as JSON too (after the table)")
    args = ap.parse_args()
    if args.objects < 1 or args.rounds < 1:
        fail("--objects and --rounds must be positive", 2)

    python = resolve_python(args.python)
    for name, path in (("python", python), ("heapscope", args.heapscope),
                       ("raw-copy", args.raw_copy)):
        if not os.access(path, os.X_OK):
            fail("%s: %s is not executable (build with `ninja -C build`)"
                 % (name, path), 2)
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None

    # a ^C or kill of the benchmark still kills the target (finally below)
    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    target = Target(python, args.objects)
    fd, rss_file = tempfile.mkstemp(prefix="hs-bench-rss-")
    os.close(fd)
    rounds = []
    try:
        t0 = time.perf_counter()
        target.start()
        log("target: %s pid %d, built ~%d objects in %.2f s (startup+build %.2f s)"
            % (python, target.pid, args.objects, target.build_s,
               time.perf_counter() - t0))
        for r in range(args.rounds):
            if not target.alive():
                fail("the target died during round %d" % (r + 1))
            raw_ms, raw_bytes = raw_copy_round(args.raw_copy, target.pid)
            data, wall, rss_kb, err = summary_round(args.heapscope, target.pid,
                                                    gnu_time, rss_file)
            cap = data.get("capture", {})
            tot = data.get("total", {})
            rounds.append({
                "raw_copy_ms": raw_ms,
                "raw_bytes": raw_bytes,
                "paused_ms": float(cap.get("paused_ms", float("nan"))),
                "bytes_read": int(cap.get("bytes_read", 0)),
                "walk_ms": float(cap.get("walk_ms", float("nan"))),
                "total_ms": float(cap.get("total_ms", float("nan"))),
                "wall_ms": wall * 1000.0,
                "peak_rss_kb": rss_kb,
                "count": int(tot.get("count", 0)),
                "size": int(tot.get("size", 0)),
                "complete": data.get("complete"),
                "skipped": (data.get("skipped") or {}).get("objects"),
                "python": (data.get("target") or {}).get("python"),
            })
            log("round %d: raw %s ms, paused %.1f ms, walk %.1f ms, wall %.1f ms, "
                "rss %s KiB" % (r + 1, "/".join("%.1f" % x for x in raw_ms),
                                rounds[-1]["paused_ms"], rounds[-1]["walk_ms"],
                                rounds[-1]["wall_ms"], rss_kb))
            if err:
                log("  heapscope stderr: " + err.replace("\n", "\n  "))
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
    raw_all = [x for r in rounds for x in r["raw_copy_ms"]]
    res = {
        "python": python,
        "python_version": rounds[-1]["python"],
        "objects_requested": args.objects,
        "rounds": len(rounds),
        "target_build_s": target.build_s,
        "objects_counted": rounds[-1]["count"],
        "objects_counted_min_max": [min(r["count"] for r in rounds),
                                    max(r["count"] for r in rounds)],
        "total_size": rounds[-1]["size"],
        "complete": all(r["complete"] for r in rounds),
        "skipped_objects_max": max((r["skipped"] or 0) for r in rounds),
        "bytes_read": rounds[-1]["bytes_read"],
        "raw_bytes": rounds[-1]["raw_bytes"],
        "median_paused_ms": median([r["paused_ms"] for r in rounds]),
        "median_raw_copy_ms": median(raw_all),
        "min_raw_copy_ms": min(raw_all),
        "median_walk_ms": median([r["walk_ms"] for r in rounds]),
        "median_total_ms": median([r["total_ms"] for r in rounds]),
        "median_wall_ms": median([r["wall_ms"] for r in rounds]),
        "min_wall_ms": min(r["wall_ms"] for r in rounds),
        "max_wall_ms": max(r["wall_ms"] for r in rounds),
        "peak_rss_kb_max": max(r["peak_rss_kb"] for r in rounds),
        "peak_rss_source": ("/usr/bin/time -f %M" if gnu_time
                            else "getrusage(RUSAGE_CHILDREN) (upper bound)"),
        "per_round": rounds,
    }
    res["pause_over_raw"] = ratio(res["median_paused_ms"], res["median_raw_copy_ms"])
    res["wall_over_raw"] = ratio(res["median_wall_ms"], res["median_raw_copy_ms"])
    res["bytes_read_over_raw"] = ratio(res["bytes_read"], res["raw_bytes"])

    mib = 1024.0 * 1024.0
    rows = [
        ("target", "%s (Python %s)" % (python, res["python_version"])),
        ("objects counted", "%d (requested ~%d; %s%s)" % (
            res["objects_counted"], args.objects,
            "complete" if res["complete"] else "INCOMPLETE",
            "" if not res["skipped_objects_max"]
            else ", %d skipped" % res["skipped_objects_max"])),
        ("total size", "%d bytes (%.1f MiB)" % (res["total_size"],
                                                res["total_size"] / mib)),
        ("bytes_read", "%d (%.1f MiB); raw copy %d (x%.3f)" % (
            res["bytes_read"], res["bytes_read"] / mib, res["raw_bytes"],
            res["bytes_read_over_raw"])),
        ("median paused_ms", "%.1f" % res["median_paused_ms"]),
        ("median raw copy ms", "%.1f (min %.1f; %d copies)" % (
            res["median_raw_copy_ms"], res["min_raw_copy_ms"], len(raw_all))),
        ("pause / raw", "%.2fx" % res["pause_over_raw"]),
        ("median walk_ms", "%.1f" % res["median_walk_ms"]),
        ("median total_ms", "%.1f (heapscope's own figure)" % res["median_total_ms"]),
        ("median wall (summary)", "%.1f ms (min %.1f, max %.1f)" % (
            res["median_wall_ms"], res["min_wall_ms"], res["max_wall_ms"])),
        ("wall / raw", "%.1fx" % res["wall_over_raw"]),
        ("peak RSS (heapscope)", "%.1f MiB (max over rounds; %s)" % (
            res["peak_rss_kb_max"] / 1024.0, res["peak_rss_source"])),
    ]
    width = max(len(k) for k, _ in rows)
    print("heapscope summary benchmark: %d rounds, %d objects requested"
          % (len(rounds), args.objects))
    for k, v in rows:
        print("  %-*s  %s" % (width, k, v))
    sys.stdout.flush()
    if args.json:
        print(json.dumps(res, indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
