#!/usr/bin/env python3
"""heapscope e2e: leak triage with snapshots, diff, watch and core files.

    test_leak.py --heapscope BIN (--python-version 3.12 | --python PATH)
                 [--chroot NAME] [--per-signal K] [--deadline SECONDS]

Starts tests/targets/leak_target.py, which appends K hs_leak_app.Leaked
objects to hs_leak_registry.CACHE['leaks'] each time it gets SIGUSR1 (and
says "leaked N").  One signal first (on 3.11+ the first signal makes a frame
object, see the target), then:

  a) snapshot OLD; three signals; snapshot NEW (files mode 0600);
     `diff OLD NEW --json`: the Leaked row grew by exactly 3K objects, all
     new, and no other kind changed its count; the suspects are Leaked
     alone, 3K objects on one path: hs_leak_registry.CACHE['leaks'][*];
     the text table and path say the same; `diff OLD PID` too;
  b) round trip: summary (text, --json, --by clodo), referrers --type and
     --addr, show, cycles and info give the same output from NEW as from
     the live process (times and the capture's own figures aside);
  c) a core file of the target (gcore): summary equals the live summary,
     referrers --type Leaked finds the same path, `diff OLD CORE` finds the
     leak, a snapshot of the core reads back the same;
  d) watch --fail-on-growth hs_leak_app.Leaked=N (N < K): a signal during
     the watch makes it exit 3 naming the kind; the same target started
     with --per-signal 0 (no leak), signalled the same way, under
     --fail-on-growth '*=0': exit 0;
  e) the target is never left stopped or traced and answers ping.

Exit 0 pass, 1 fail, 77 skip (no interpreter / chroot).  Python 3.8
compatible.
"""

import argparse
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hstest  # noqa: E402
from hstest import log  # noqa: E402

KIND = "hs_leak_app.Leaked"
SIGNALS = 3


def mismatch(what, expected, got):
    return "%s: expected %r, got %r" % (what, expected, got)


class Runner(object):
    """heapscope runs with a deadline; every run checks the target."""

    def __init__(self, ck, heapscope, target, deadline, sysroot=None):
        self.ck = ck
        self.heapscope = heapscope
        self.t = target
        self.deadline = deadline
        self.sysroot = sysroot

    def run(self, args, want=(0,), parse_json=False):
        cmd = [self.heapscope] + [str(a) for a in args]
        label = "`heapscope %s`" % " ".join(str(a) for a in args)
        left = self.deadline - time.monotonic()
        if left <= 5:
            self.ck.fail("%s not run: the test's deadline has passed" % label)
            return None, None
        res = hstest.run(cmd, min(300.0, left))
        log(res.describe())
        hstest.check_target_ok(self.ck, self.t, "after %s" % label)
        if res.timed_out or res.returncode not in want:
            self.ck.fail("%s: exit status %s, expected %s%s" % (
                label, res.returncode, " or ".join(map(str, want)),
                ": " + res.stderr.strip()[:400] if res.stderr.strip() else ""))
            return res, None
        if not parse_json:
            return res, None
        try:
            return res, json.loads(res.stdout)
        except ValueError as e:
            self.ck.fail("%s: stdout is not JSON (%s)" % (label, e))
            return res, None


def signal_target(ck, t, times, per_signal, before):
    """Send SIGUSR1 `times` times; each answer must say `before + k*K`."""
    for k in range(1, times + 1):
        line = t.signal_and_wait(signal.SIGUSR1, b"leaked")
        want = b"leaked %d" % (before + k * per_signal)
        if not ck.check(line == want, mismatch("target's answer to SIGUSR1",
                                               want, line)):
            return False
    return True


def check_file_mode(ck, path):
    st = os.stat(path)
    ck.check(stat.S_IMODE(st.st_mode) == 0o600,
             mismatch("mode of %s" % path, "0600", oct(stat.S_IMODE(st.st_mode))))
    tmp = [n for n in os.listdir(os.path.dirname(path)) if ".tmp-" in n]
    ck.check(not tmp, "temporary files left beside %s: %s" % (path, tmp))


def check_diff_doc(ck, label, doc, k3, truth):
    """The diff document finds exactly the leak."""
    if doc is None:
        return
    rows = doc.get("rows", [])
    leak = [r for r in rows if r["kind"] == KIND]
    if ck.check(len(leak) == 1, "%s: no row for %s in %s" % (label, KIND, rows[:5])):
        r = leak[0]
        ck.check(r["count_change"] == k3, mismatch("%s: %s count change" % (label, KIND),
                                                   k3, r["count_change"]))
        ck.check(r["added"] == k3, mismatch("%s: new %s objects" % (label, KIND),
                                            k3, r["added"]))
        ck.check(rows[0]["kind"] == KIND, mismatch("%s: the kind that grew most" % label,
                                                   KIND, rows[0]["kind"]))
    others = [(r["kind"], r["count_change"]) for r in rows
              if r["kind"] != KIND and r["count_change"] != 0]
    ck.check(not others, "%s: other kinds changed their count: %s" % (label, others[:10]))
    sus = doc.get("suspects", [])
    if ck.check(len(sus) == 1 and sus[0]["kind"] == KIND,
                mismatch("%s: suspects" % label, [KIND], [s["kind"] for s in sus])):
        s = sus[0]
        ck.check(s["added"] == k3, mismatch("%s: suspect's new objects" % label, k3,
                                            s["added"]))
        paths = [(p["path"], p["count"]) for p in s["paths"]]
        ck.check(paths == [(truth["path"], k3)],
                 mismatch("%s: paths of the new objects" % label,
                          [(truth["path"], k3)], paths))
        if s["paths"]:
            ck.check(s["paths"][0]["origin"]["kind"] == "module",
                     mismatch("%s: origin" % label, "module", s["paths"][0]["origin"]))


def check_diff_text(ck, label, text, k3, truth):
    row = re.search(r"^\s+0\s+\+(\d+)\s+[+-]\d+\s+(\d+)\s+\d+\s+\d+\s+(\S+)$", text, re.M)
    ck.check(row is not None and row.group(1) == str(k3) and row.group(2) == str(k3)
             and row.group(3) == KIND,
             "%s: first row should be +%d new %d %s:\n%s" % (label, k3, k3, KIND, text[:800]))
    ck.check(re.search(r"^\s+%d\s+%s\s+\(module hs_leak_registry" % (k3, re.escape(truth["path"])),
                       text, re.M) is not None,
             "%s: no path line '%d  %s':\n%s" % (label, k3, truth["path"], text[-800:]))


# what differs between two captures of one unchanged heap: times, and in
# info the capture's own figures
TIMES = re.compile(r"\d+(\.\d+)? ms")


def normalize_info(text):
    out = []
    for line in text.splitlines():
        if line.startswith(("pause:", "walk:", "captured:")):
            continue
        out.append(TIMES.sub("N ms", line))
    return "\n".join(out)


def drop_capture(doc):
    doc = dict(doc)
    doc.pop("capture", None)
    interp = doc.get("interpreter")
    if isinstance(interp, dict):
        interp = dict(interp)
        interp.pop("layout_ms", None)
        doc["interpreter"] = interp
    return doc


def check_round_trip(ck, hs, pid, snap, what, addr):
    """Each read command: the same output from `snap` as from the PID."""
    cmds = [
        (["summary"], None), (["summary", "--json"], drop_capture),
        (["summary", "--by", "clodo", "--all"], None),
        (["referrers", "--type", KIND], None),
        (["referrers", "--type", KIND, "--json"], drop_capture),
        (["referrers", "--addr", addr], None),
        (["show", addr], None), (["show", addr, "--json"], drop_capture),
        (["cycles", "--all"], None),
        (["info"], normalize_info), (["info", "--json"], drop_capture),
    ]
    for args, norm in cmds:
        live, _ = hs.run([args[0], pid] + args[1:], want=(0, 1))
        saved, _ = hs.run([args[0], snap] + args[1:], want=(0, 1))
        if live is None or saved is None:
            continue
        a, b = live.stdout, saved.stdout
        if norm is drop_capture:
            try:
                a, b = drop_capture(json.loads(a)), drop_capture(json.loads(b))
            except ValueError:
                ck.fail("%s %s: not JSON" % (what, args))
                continue
        elif norm:
            a, b = norm(a), norm(b)
        if not ck.check(a == b, "%s: `%s` differs from the live output" % (what, " ".join(args))):
            la = (a if isinstance(a, str) else json.dumps(a, sort_keys=True, indent=1)).splitlines()
            lb = (b if isinstance(b, str) else json.dumps(b, sort_keys=True, indent=1)).splitlines()
            for i, (x, y) in enumerate(zip(la, lb)):
                if x != y:
                    log("  first difference, line %d:\n    live: %s\n    file: %s" % (i + 1, x, y))
                    break
            else:
                log("  lengths differ: %d vs %d lines" % (len(la), len(lb)))


def summary_rows(doc):
    return [(r["kind"], r["count"], r["size"]) for r in doc["rows"]] if doc else None


def check_core(ck, hs, t, tmp, old, k3, truth, root):
    gcore = shutil.which("gcore")
    if not ck.check(gcore is not None, "gcore (gdb) is not installed: core files "
                    "cannot be tested"):
        return
    prefix = os.path.join(tmp, "core")
    res = hstest.run([gcore, "-o", prefix, str(t.pid)], 300)
    core = "%s.%d" % (prefix, t.pid)
    hstest.check_target_ok(ck, t, "after gcore")
    if not ck.check(res.returncode == 0 and os.path.exists(core),
                    "gcore failed: %s" % res.describe()):
        return
    extra = ["--sysroot", root] if root else []
    _, live = hs.run(["summary", t.pid, "--json", "--all"], want=(0, 1), parse_json=True)
    _, dead = hs.run(["summary", core, "--json", "--all"] + extra, want=(0, 1),
                     parse_json=True)
    if live and dead:
        ck.check(summary_rows(live) == summary_rows(dead),
                 "summary of the core differs from the live summary")
        ck.check(dead["target"]["pid"] == t.pid,
                 mismatch("pid of the core", t.pid, dead["target"]["pid"]))
        ck.check(dead["capture"]["origin"] == "core",
                 mismatch("origin of the core's capture", "core", dead["capture"]["origin"]))
    _, doc = hs.run(["referrers", core, "--type", KIND, "--json"] + extra, want=(0, 1),
                    parse_json=True)
    if doc:
        ck.check([(p["path"], p["count"]) for p in doc["paths"]] ==
                 [(truth["path"], k3 + truth["per_signal"])],
                 "referrers of the core: %s" % [(p["path"], p["count"]) for p in doc["paths"]])
    _, doc = hs.run(["diff", old, core, "--json"] + extra, want=(0, 1), parse_json=True)
    check_diff_doc(ck, "diff OLD CORE", doc, k3, truth)
    csnap = os.path.join(tmp, "core.hss")
    hs.run(["snapshot", core, "-o", csnap] + extra, want=(0, 1))
    _, back = hs.run(["summary", csnap, "--json", "--all"], want=(0, 1), parse_json=True)
    if dead and back:
        ck.check(summary_rows(dead) == summary_rows(back),
                 "the snapshot of the core reads back another summary")


def watch(ck, heapscope, t, per_signal, limit, want_status, deadline):
    """Run watch; signal the target once after its first capture."""
    cmd = [heapscope, "watch", str(t.pid), "--interval", "2", "--count", "3", "--json",
           "--fail-on-growth", limit]
    log("$ " + " ".join(cmd))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    try:
        first = p.stdout.readline()
        ck.check(first.startswith("{"), "watch: no first capture: %r" % first)
        signal_target(ck, t, 1, per_signal, t.leaked)
        t.leaked += per_signal
        out, err = p.communicate(timeout=max(10.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        ck.fail("watch did not finish")
        return
    lines = [first] + out.splitlines()
    log("".join(first) + out + ("stderr: " + err if err else ""))
    ck.check(p.returncode == want_status,
             mismatch("watch --fail-on-growth %s: exit status" % limit, want_status,
                      p.returncode))
    docs = []
    for line in lines:
        try:
            docs.append(json.loads(line))
        except ValueError:
            ck.fail("watch: a line is not JSON: %r" % line[:200])
    if want_status == 3 and docs:
        lp = docs[-1].get("limit_passed")
        ck.check(lp is not None and lp["kind"] == KIND and lp["grew"] == per_signal,
                 mismatch("watch: limit passed", {"kind": KIND, "grew": per_signal}, lp))
        ck.check(KIND in err, "watch: stderr does not name %s: %r" % (KIND, err))
    if want_status == 0:
        ck.check(len(docs) == 3, mismatch("watch: captures", 3, len(docs)))
        grown = [g for d in docs for g in d.get("growth", []) if g["since_first"] > 0]
        ck.check(not grown, "watch: kinds grew on a target that does not leak: %s" % grown)
    hstest.check_target_ok(ck, t, "after watch")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--heapscope", required=True)
    ap.add_argument("--python-version", default=None)
    ap.add_argument("--python", default=None)
    ap.add_argument("--chroot", default=None, metavar="NAME")
    ap.add_argument("--per-signal", type=int, default=1000)
    ap.add_argument("--deadline", type=float, default=540.0)
    args = ap.parse_args(argv)
    if args.per_signal < 10:
        ap.error("--per-signal must be >= 10")
    hstest.install_signal_handlers()
    python, version, root = hstest.select_interpreter(ap, args)
    heapscope = hstest.heapscope_or_die(args.heapscope)
    log("interpreter: %s (Python %s)%s" % (python, version,
                                           " in chroot %s" % root if root else ""))
    ck = hstest.Checker()
    name = "e2e-leak-%s" % version
    K = args.per_signal
    k3 = SIGNALS * K
    tmp = tempfile.mkdtemp(prefix="hs-leak-")
    try:
        with hstest.Target(python, script="leak_target.py", chroot=root,
                           extra_args=["--per-signal", str(K)]) as t:
            deadline = time.monotonic() + args.deadline
            truth = t.truth
            hs = Runner(ck, heapscope, t, deadline)
            log("target pid %d: %s" % (t.pid, truth))
            # warm-up; and a ping, as after every heapscope run: serve()'s
            # locals then hold the bytes of a ping at every capture
            if not signal_target(ck, t, 1, K, 0) or not ck.check(t.ping(), "no pong"):
                return ck.finish(name)
            old, new = os.path.join(tmp, "old.hss"), os.path.join(tmp, "new.hss")
            hs.run(["snapshot", t.pid, "-o", old], want=(0, 1))      # a
            if not signal_target(ck, t, SIGNALS, K, K):
                return ck.finish(name)
            hs.run(["snapshot", t.pid, "-o", new], want=(0, 1))
            for f in (old, new):
                check_file_mode(ck, f)
            _, doc = hs.run(["diff", old, new, "--json"], want=(0, 1), parse_json=True)
            check_diff_doc(ck, "diff OLD NEW", doc, k3, truth)
            res, _ = hs.run(["diff", old, new], want=(0, 1))
            if res:
                check_diff_text(ck, "diff OLD NEW (text)", res.stdout, k3, truth)
            _, doc = hs.run(["diff", old, t.pid, "--json"], want=(0, 1), parse_json=True)
            check_diff_doc(ck, "diff OLD PID", doc, k3, truth)
            _, ref = hs.run(["referrers", new, "--type", KIND, "--json"], want=(0, 1),
                            parse_json=True)
            addr = ref["paths"][0]["example"][-1]["addr"] if ref and ref["paths"] else None
            if ck.check(addr is not None, "no example object of %s" % KIND):   # b
                check_round_trip(ck, hs, t.pid, new, "snapshot round trip", addr)
            check_core(ck, hs, t, tmp, old, k3, truth, root)           # c
        t = None
        with hstest.Target(python, script="leak_target.py", chroot=root,       # d
                           extra_args=["--per-signal", str(K)]) as t:
            t.leaked = 0
            if signal_target(ck, t, 1, K, 0) and t.ping():
                t.leaked = K
                watch(ck, heapscope, t, K, "%s=%d" % (KIND, K // 2), 3,
                      time.monotonic() + 120)
        with hstest.Target(python, script="leak_target.py", chroot=root,
                           extra_args=["--per-signal", "0"]) as t:
            t.leaked = 0
            if signal_target(ck, t, 1, 0, 0) and t.ping():
                watch(ck, heapscope, t, 0, "*=0", 0, time.monotonic() + 120)
    except hstest.TargetError as e:
        ck.fail("target: %s" % e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ck.finish(name)


if __name__ == "__main__":
    sys.exit(main())
