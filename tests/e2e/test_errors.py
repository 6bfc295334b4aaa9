#!/usr/bin/env python3
"""heapscope e2e: exit statuses and messages for bad input.

    test_errors.py --heapscope BIN [--python PATH | --python-version 3.12]

* dead PID (a reaped `true`)            -> exit 2, one stderr line naming it
* non-Python process (`sleep 60`)        -> exit 2, "not a Python process",
                                            and `sleep` is not left stopped
* bad usage (no PID, `abc`, unknown option, unknown command, ...) -> exit 64
* --help, summary --help, info --help    -> exit 0 with usage text
* info PID --json on a Python target     -> exit 0, JSON, target.python is
                                            the interpreter's version; the
                                            target still runs afterwards
* info PID (text)                         -> exit 0, some output

The interpreter for the `info` checks: --python, else the newest pyenv
install of --python-version, else the interpreter running this script.
Exit 0 pass, 1 fail.  Python 3.8 compatible.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hstest  # noqa: E402
from hstest import log  # noqa: E402

TIMEOUT = 60.0


def dead_pid():
    """PID of a process that existed and was reaped (not reused, checked)."""
    for _ in range(20):
        p = subprocess.Popen(["true"])
        p.wait()
        if hstest.proc_state(p.pid) is None:
            return p.pid
    hstest.die("could not obtain an unused PID")


def one_line(ck, what, res):
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    ck.check(len(lines) == 1, "%s: expected exactly one line on stderr, got "
             "%d:\n%s" % (what, len(lines), res.stderr.rstrip()))
    return lines[0] if lines else ""


def expect_status(ck, what, res, status):
    if res.timed_out:
        ck.fail("%s: timed out after %.0f s (%s)" % (what, TIMEOUT,
                                                     " ".join(res.cmd)))
        return False
    ok = ck.check(res.returncode == status, "%s: exit status %s, expected "
                  "%d\n%s" % (what, res.returncode, status, res.describe()))
    if ok:
        ck.ok("%s: exit %d" % (what, status))
    return ok


READERS = (["summary"], ["info"], ["cycles"], ["referrers", "--type", "dict"],
           ["show", "0x7f0000001000"], ["snapshot", "-o", "/dev/null/x"])


def bad_files(tmp, good):
    """(what, path, word in the message) of files no reader may accept."""
    with open(good, "rb") as f:
        data = f.read()
    made = []

    def put(name, content):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(content)
        return path

    made.append(("an empty file", put("empty", b""), "neither"))
    made.append(("a text file", put("text", b"hello, world\n" * 10), "neither"))
    made.append(("a snapshot cut after its header", put("header", data[:32]),
                 "truncated"))
    made.append(("a snapshot cut in half", put("half", data[:len(data) // 2]),
                 "truncated"))
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    made.append(("a snapshot with a flipped byte", put("flipped", bytes(flipped)),
                 "corrupt"))
    newer = bytearray(data)
    newer[8:12] = (99).to_bytes(4, "little")
    made.append(("a snapshot of format version 99", put("newer", bytes(newer)),
                 "version 99"))
    made.append(("a snapshot with trailing data", put("trailing", data + b"x" * 100),
                 "after its end"))
    made.append(("an ELF file that is not a core", "/bin/true", "neither"))
    return made


def make_core(tmp, python):
    """A core of a small Python process (gcore), or None."""
    gcore = shutil.which("gcore")
    if not gcore:
        return None
    proc = subprocess.Popen([python, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.5)
        prefix = os.path.join(tmp, "core")
        hstest.run([gcore, "-o", prefix, str(proc.pid)], 120)
        path = "%s.%d" % (prefix, proc.pid)
        return path if os.path.exists(path) else None
    finally:
        proc.kill()
        proc.wait()


def check_bad_files(ck, run, args, pid):
    tmp = tempfile.mkdtemp(prefix="hs-errors-")
    try:
        python = args.python or sys.executable
        proc = subprocess.Popen([python, "-c", "import time; time.sleep(60)"])
        good = os.path.join(tmp, "good.hss")
        try:
            time.sleep(0.5)
            res = run("snapshot", str(proc.pid), "-o", good)
        finally:
            proc.kill()
            proc.wait()
        if not ck.check(res.returncode in (0, 1) and os.path.exists(good),
                        "could not make a snapshot to damage:\n" + res.describe()):
            return
        files = bad_files(tmp, good)
        core = make_core(tmp, python)
        ck.check(core is not None, "could not make a core file with gcore (gdb)")
        if core:
            with open(core, "rb") as f:
                head = f.read(1 << 20)
            cut = os.path.join(tmp, "core-cut")
            with open(cut, "wb") as f:
                f.write(head[:4096])
            files.append(("a core file cut after 4 KiB", cut, None))
            with open(os.path.join(tmp, "core-header"), "wb") as f:
                f.write(head[:64])
            files.append(("a core file of 64 bytes", os.path.join(tmp, "core-header"), None))
        for what, path, word in files:
            for cmd in READERS:
                argv = [cmd[0], path] + cmd[1:]
                label = "`%s` on %s" % (" ".join(cmd), what)
                res = run(*argv)
                if expect_status(ck, label, res, 2):
                    line = one_line(ck, label, res)
                    if word:
                        ck.check(word in line, "%s: message does not say %r: %r"
                                 % (label, word, line))
            res = run("diff", good, path)
            label = "`diff` of a good snapshot and %s" % what
            if expect_status(ck, label, res, 2):
                one_line(ck, label, res)
        # a good one still reads, and a directory is not a file
        res = run("summary", good)
        expect_status(ck, "`summary` of the undamaged snapshot", res, 0)
        res = run("summary", tmp)
        if expect_status(ck, "`summary` of a directory", res, 2):
            one_line(ck, "`summary` of a directory", res)
        fifo = os.path.join(tmp, "fifo")
        os.mkfifo(fifo, 0o600)
        res = run("summary", fifo)          # must not block in open(2)
        if expect_status(ck, "`summary` of a FIFO", res, 2):
            one_line(ck, "`summary` of a FIFO", res)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--heapscope", required=True)
    ap.add_argument("--python", default=None)
    ap.add_argument("--python-version", default=None)
    args = ap.parse_args(argv)
    hstest.install_signal_handlers()
    hs = hstest.heapscope_or_die(args.heapscope)
    ck = hstest.Checker()

    def run(*a):
        return hstest.run([hs] + list(a), TIMEOUT)

    # ---- dead PID
    pid = dead_pid()
    for cmd in (["summary", str(pid), "--json"], ["summary", str(pid)],
                ["info", str(pid)], ["referrers", str(pid), "--type", "dict"],
                ["show", str(pid), "0x7f0000001000"], ["cycles", str(pid)]):
        what = "`%s` on a dead PID" % " ".join(cmd)
        res = run(*cmd)
        if expect_status(ck, what, res, 2):
            line = one_line(ck, what, res)
            ck.check(str(pid) in line or "process" in line.lower(),
                     "%s: stderr does not mention the process: %r"
                     % (what, line))
            ck.check(res.stdout.strip() == "", "%s: unexpected stdout: %r"
                     % (what, res.stdout[:300]))

    # ---- not a Python process
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        time.sleep(0.1)
        for cmd in (["summary", str(sleeper.pid), "--json"],
                    ["info", str(sleeper.pid)],
                    ["cycles", str(sleeper.pid), "--json"]):
            what = "`%s` on `sleep`" % " ".join(cmd)
            res = run(*cmd)
            if expect_status(ck, what, res, 2):
                line = one_line(ck, what, res)
                ck.check("not a python process" in line.lower(),
                         "%s: stderr does not say 'not a Python process': %r"
                         % (what, line))
                ck.check(res.stdout.strip() == "", "%s: unexpected stdout: "
                         "%r" % (what, res.stdout[:300]))
            st = hstest.proc_state(sleeper.pid)
            ck.check(st is not None and st not in ("t", "T"),
                     "%s: `sleep` left in state %r" % (what, st))
            ck.check(not hstest.tracer_pid(sleeper.pid),
                     "%s: `sleep` still traced" % what)
    finally:
        sleeper.kill()
        sleeper.wait()

    # ---- unsupported interpreters (too old): a one-line error naming them
    old = []
    for v in ("2.7", "3.6", "3.7"):
        found = sorted(glob.glob(os.path.join(hstest.pyenv_root(), "versions",
                                              v + ".*", "bin", "python" + v)))
        py = found[-1] if found else None
        if py:
            old.append((v, py))
        else:
            print("SKIP: unsupported-version check for Python %s: not installed" % v)
    for v, py in old:
        proc = subprocess.Popen([py, "-c", "import time; time.sleep(60)"])
        try:
            time.sleep(0.3)
            what = "`summary` on Python %s" % v
            res = run("summary", str(proc.pid))
            if expect_status(ck, what, res, 2):
                line = one_line(ck, what, res)
                ck.check("not supported" in line and ("Python " + v) in line,
                         "%s: stderr does not name the unsupported version: %r"
                         % (what, line))
            st = hstest.proc_state(proc.pid)
            ck.check(st is not None and st not in ("t", "T"),
                     "%s: target left in state %r" % (what, st))
        finally:
            proc.kill()
            proc.wait()

    # ---- bad snapshot and core files: one line, exit 2, for every reader
    check_bad_files(ck, run, args, pid)

    # ---- bad usage
    usage = [
        ("`summary` without a PID", ["summary"]),
        ("`summary --json` without a PID", ["summary", "--json"]),
        ("`summary abc`", ["summary", "abc"]),
        ("`summary 12abc`", ["summary", "12abc"]),
        ("`summary PID --no-such-option`",
         ["summary", str(pid), "--no-such-option"]),
        ("`summary PID PID` (extra argument)", ["summary", str(pid),
                                                 str(pid)]),
        ("`info` without a PID", ["info"]),
        ("`info abc`", ["info", "abc"]),
        ("`info PID --no-such-option`", ["info", str(pid), "--no-such-option"]),
        ("unknown command", ["no-such-command", str(pid)]),
        ("`referrers PID` without --type or --addr", ["referrers", str(pid)]),
        ("`referrers PID --type K --addr A` (both)",
         ["referrers", str(pid), "--type", "dict", "--addr", "0x1000"]),
        ("`referrers PID --addr xyz`", ["referrers", str(pid), "--addr", "xyz"]),
        ("`referrers PID --type K --paths 0`",
         ["referrers", str(pid), "--type", "dict", "--paths", "0"]),
        ("`show PID` without an address", ["show", str(pid)]),
        ("`show PID notanaddress`", ["show", str(pid), "notanaddress"]),
        ("`summary PID --by nonsense`", ["summary", str(pid), "--by", "nonsense"]),
        ("`cycles PID --type K` (not a cycles option)",
         ["cycles", str(pid), "--type", "dict"]),
        ("no command at all", []),
        ("`snapshot PID` without -o", ["snapshot", str(pid)]),
        ("`snapshot PID -o` without a file", ["snapshot", str(pid), "-o"]),
        ("`diff OLD` without NEW", ["diff", "old.hss"]),
        ("`diff` without files", ["diff"]),
        ("`watch FILE` (not a PID)", ["watch", "/etc/hostname"]),
        ("`watch PID --interval 0`", ["watch", str(pid), "--interval", "0"]),
        ("`watch PID --count 1`", ["watch", str(pid), "--count", "1"]),
        ("`watch PID --fail-on-growth dict`",
         ["watch", str(pid), "--fail-on-growth", "dict"]),
        ("`watch PID --fail-on-growth dict=-1`",
         ["watch", str(pid), "--fail-on-growth", "dict=-1"]),
        ("`summary PID --sysroot /`", ["summary", str(pid), "--sysroot", "/"]),
        ("`summary nosuchfile`", ["summary", "/nonexistent/heapscope-test.hss"]),
    ]
    for what, cmd in usage:
        res = run(*cmd)
        if expect_status(ck, what, res, 64):
            ck.check(res.stderr.strip() != "", "%s: nothing on stderr" % what)

    # ---- help
    for what, cmd, word in (("--help", ["--help"], None),
                            ("summary --help", ["summary", "--help"],
                             "summary"),
                            ("info --help", ["info", "--help"], "info"),
                            ("referrers --help", ["referrers", "--help"], "--type"),
                            ("show --help", ["show", "--help"], "ADDR"),
                            ("cycles --help", ["cycles", "--help"], "--garbage"),
                            ("snapshot --help", ["snapshot", "--help"], "--output"),
                            ("diff --help", ["diff", "--help"], "NEW"),
                            ("watch --help", ["watch", "--help"], "--fail-on-growth")):
        res = run(*cmd)
        if expect_status(ck, what, res, 0):
            text = res.stdout
            ck.check("usage" in text.lower(), "%s: no usage text on stdout: "
                     "%r" % (what, text[:300]))
            if word:
                ck.check(word in text, "%s: usage text does not mention %r"
                         % (what, word))
            if what == "summary --help":
                ck.check("--json" in text, "summary --help does not mention "
                         "--json")

    # ---- info on a Python target
    if args.python:
        python = args.python
    elif args.python_version:
        python, looked = hstest.find_python(args.python_version)
        if python is None:
            log("no Python %s found (looked in %s); using %s"
                % (args.python_version, ", ".join(looked), sys.executable))
            python = sys.executable
    else:
        python = sys.executable
    version = hstest.interpreter_version(python)
    if version is None or tuple(int(x) for x in version.split(".")[:2]) < (3, 8):
        ck.fail("no usable Python >= 3.8 for the info checks (%s: %s)"
                % (python, version))
    else:
        log("info target interpreter: %s (Python %s)" % (python, version))
        try:
            with hstest.Target(python) as t:
                res = run("info", str(t.pid), "--json")
                log(res.describe())
                hstest.check_target_ok(ck, t, "after `info --json`")
                if expect_status(ck, "`info PID --json`", res, 0):
                    try:
                        doc = json.loads(res.stdout)
                    except ValueError as e:
                        doc = None
                        ck.fail("`info --json`: stdout is not JSON (%s): %r"
                                % (e, res.stdout[:500]))
                    if doc is not None:
                        tgt = doc.get("target") if isinstance(doc, dict) \
                            else None
                        if ck.check(isinstance(tgt, dict), "`info --json`: "
                                    "no 'target' object: %r" % (doc,)):
                            ck.check(tgt.get("python") == version,
                                     "`info --json`: target.python = %r, "
                                     "expected %r" % (tgt.get("python"),
                                                      version))
                            ck.check(tgt.get("pid") == t.pid,
                                     "`info --json`: target.pid = %r, "
                                     "expected %d" % (tgt.get("pid"), t.pid))
                            log("info: %s" % json.dumps(doc)[:600])
                # queries that find nothing: a clear error, exit 2
                for what, cmd in (
                        ("`referrers PID --type NoSuchKind`",
                         ["referrers", str(t.pid), "--type", "NoSuchKind"]),
                        ("`referrers PID --addr` of no object",
                         ["referrers", str(t.pid), "--addr", "0x10"]),
                        ("`show PID` of no object",
                         ["show", str(t.pid), "0x10"])):
                    res = run(*cmd)
                    if expect_status(ck, what, res, 2):
                        one_line(ck, what, res)
                hstest.check_target_ok(ck, t, "after queries that find nothing")
                res = run("info", str(t.pid))
                hstest.check_target_ok(ck, t, "after `info`")
                if expect_status(ck, "`info PID`", res, 0):
                    ck.check(res.stdout.strip() != "", "`info PID`: no output")
        except hstest.TargetError as e:
            ck.fail("target: %s" % e)
    return ck.finish("e2e-errors")


if __name__ == "__main__":
    sys.exit(main())
