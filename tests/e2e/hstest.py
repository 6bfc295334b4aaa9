"""Shared helpers of heapscope's end-to-end tests.

* find_python("3.12")       newest pyenv interpreter of that minor version
* Target(python, ...)       starts tests/targets/heap_target.py (or another
                             target script: script="refs_target.py"), waits
                             for its FIFO handshake, reads its ground truth,
                             pings it, always kills it (context manager)
* run(cmd, timeout)         runs a command with a deadline (never hangs)
* proc_state(pid)           State letter from /proc/PID/status
* Checker                   collects failures, prints them, exit status

Conventions: exit 0 = pass, 1 = fail, 77 = skipped (meson counts 77 as a
skip).  Every wait has a deadline.  Keep this file Python 3.8 compatible.
"""

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(os.path.dirname(HERE), "targets")
HEAP_TARGET = os.path.join(TARGETS, "heap_target.py")

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_SKIP = 77


def log(*args):
    print(*args)
    sys.stdout.flush()


def skip(msg):
    log("SKIP: " + msg)
    sys.exit(EXIT_SKIP)


def die(msg):
    log("FAIL: " + msg)
    sys.exit(EXIT_FAIL)


def install_signal_handlers():
    """Turn SIGTERM/SIGHUP (meson's timeout, a closed terminal) into
    SystemExit so that `finally` blocks kill the target."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


# --------------------------------------------------------------------------
# interpreters

def pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    if root and os.path.isdir(root):
        return root
    exe = shutil.which("pyenv")
    if exe:
        try:
            out = subprocess.run([exe, "root"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=15,
                                 universal_newlines=True)
            root = out.stdout.strip()
            if out.returncode == 0 and root and os.path.isdir(root):
                return root
        except (OSError, subprocess.SubprocessError):
            pass
    return os.path.expanduser("~/.pyenv")


_PRE_RANK = {"a": 0, "b": 1, "rc": 2}


def _version_key(version, name):
    """Sort key of a pyenv version directory name for minor `version`
    ("3.12"), or None if it is not a default (GIL) CPython build of it."""
    m = re.match(r"^%s\.(\d+)(?:(a|b|rc)(\d+))?$" % re.escape(version), name)
    if m:
        micro = int(m.group(1))
        if m.group(2):
            return (micro, _PRE_RANK[m.group(2)], int(m.group(3)))
        return (micro, 9, 0)
    if name in (version + "-dev", version + "-dev+"):
        return (-1, 0, 0)
    return None


def interpreter_version(python, timeout=30, chroot=None):
    """platform.python_version() of an interpreter, or None."""
    prefix = ["chroot", chroot] if chroot else []
    try:
        out = subprocess.run(
            prefix + [python, "-c",
                      "import platform; print(platform.python_version())"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=timeout,
            universal_newlines=True)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def find_python(version):
    """(path, looked_in): newest interpreter of minor `version` ("3.8")."""
    looked = []
    root = pyenv_root()
    vdir = os.path.join(root, "versions")
    looked.append(os.path.join(vdir, version + ".*", "bin", "python3"))
    cands = []
    try:
        names = os.listdir(vdir)
    except OSError:
        names = []
    for name in names:
        key = _version_key(version, name)
        if key is None:
            continue
        exe = os.path.join(vdir, name, "bin", "python3")
        if os.access(exe, os.X_OK):
            cands.append((key, exe))
    cands.sort(reverse=True)
    for key, exe in cands:
        v = interpreter_version(exe)
        if v and (v == version or v.startswith(version + ".")):
            return exe, looked
    # fall back to pythonX.Y on PATH (never pyenv's own directories: shims
    # re-exec, and versions/*/bin belong to other versions)
    name = "python" + version
    dirs = []
    rootp = os.path.realpath(root) + os.sep
    for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/local/bin",
                                                            "/usr/bin"]:
        if not d or d in dirs or \
                (os.path.realpath(d) + os.sep).startswith(rootp):
            continue
        dirs.append(d)
        exe = os.path.join(d, name)
        if os.access(exe, os.X_OK):
            v = interpreter_version(exe)
            if v and (v == version or v.startswith(version + ".")):
                return exe, looked + [exe]
    looked.append("%s in %s" % (name, os.pathsep.join(dirs)))
    return None, looked


def python_or_skip(version, python=None):
    """Interpreter path for --python / --python-version, or exit 77."""
    if python:
        if not os.access(python, os.X_OK):
            skip("interpreter %s not found or not executable" % python)
        return python
    exe, looked = find_python(version)
    if exe is None:
        skip("no Python %s interpreter found (looked in %s)"
             % (version, ", ".join(looked)))
    return exe


MAKE_CHROOT = os.path.join(os.path.dirname(HERE), "chroots", "make-chroot")


def chroot_or_skip(name):
    """Directory of the cached chroot `name`, made on first use, or exit 77
    when it cannot be made on this machine (make-chroot says why)."""
    base = os.environ.get("HEAPSCOPE_CHROOT_DIR",
                          "/var/cache/heapscope/chroots")
    try:
        res = subprocess.run([MAKE_CHROOT, name], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=1800,
                             universal_newlines=True)
    except (OSError, subprocess.SubprocessError) as e:
        die("make-chroot %s: %s" % (name, e))
    if res.returncode == EXIT_SKIP:
        skip(res.stderr.strip() or "chroot %s cannot be made" % name)
    if res.returncode != 0:
        die("make-chroot %s failed (%d): %s" % (name, res.returncode,
                                                 res.stderr.strip()))
    root = os.path.join(base, name)
    # targets (like processes in a container) expect a /proc of their own
    proc = os.path.join(root, "proc")
    if not os.path.ismount(proc):
        subprocess.run(["mount", "-t", "proc", "proc", proc],
                       stderr=subprocess.DEVNULL)
        if not os.path.ismount(proc):
            die("cannot mount /proc in chroot %s" % root)
    return root


def chroot_python_or_skip(root, python):
    """`python` (a path inside the chroot) if it exists there, else 77."""
    if not os.access(os.path.join(root, python.lstrip("/")), os.X_OK):
        skip("interpreter %s not found in chroot %s" % (python, root))
    return python


def select_interpreter(ap, args):
    """(python, version, chroot root or None) from the --python,
    --python-version and --chroot options; exits 77 when the interpreter or
    chroot is missing, 1 when it is not the version asked for."""
    if not args.python and not args.python_version:
        ap.error("--python-version or --python is required")
    root = None
    if args.chroot:
        if not args.python:
            ap.error("--chroot needs --python (a path inside the chroot)")
        root = chroot_or_skip(args.chroot)
        python = chroot_python_or_skip(root, args.python)
    else:
        python = python_or_skip(args.python_version, args.python)
    version = interpreter_version(python, chroot=root)
    if version is None:
        die("cannot run %s" % python)
    if args.python_version and not (version == args.python_version or
                                    version.startswith(args.python_version
                                                       + ".")):
        die("%s is Python %s, not %s" % (python, version, args.python_version))
    return python, version, root


# --------------------------------------------------------------------------
# processes

class Result(object):
    def __init__(self, cmd, returncode, stdout, stderr, elapsed, timed_out):
        self.cmd = cmd
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.timed_out = timed_out

    def describe(self):
        lines = ["$ " + " ".join(self.cmd),
                 "exit status: %s%s (%.2f s)" % (
                     self.returncode, " (TIMED OUT, killed)" if self.timed_out
                     else "", self.elapsed)]
        if self.stderr.strip():
            lines.append("stderr:")
            lines.extend("  " + l for l in self.stderr.rstrip().splitlines()[:40])
        return "\n".join(lines)


def run(cmd, timeout):
    """Run cmd (list) with a deadline; kills it on timeout."""
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, errors="replace")
    except OSError as e:
        return Result(cmd, None, "", "cannot run %s: %s\n" % (cmd[0], e),
                      time.monotonic() - t0, False)
    timed_out = False
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        p.kill()
        out, err = p.communicate()
    except BaseException:
        p.kill()
        p.wait()
        raise
    return Result(cmd, p.returncode, out, err, time.monotonic() - t0,
                  timed_out)


def proc_state(pid):
    """State letter of /proc/PID/status ('S', 'R', 't', 'T', 'Z', ...),
    or None if the process does not exist."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return line.split()[1]
    except OSError:
        return None
    return None


def tracer_pid(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _set_pdeathsig():
    """preexec_fn: the child gets SIGKILL when the harness dies."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)   # PR_SET_PDEATHSIG
    except Exception:
        pass


# --------------------------------------------------------------------------
# the target

class TargetError(Exception):
    pass


class Target(object):
    """heap_target.py under a given interpreter.

        with Target(python, scale=1, freeze=False) as t:
            t.truth      # ground truth (dict) written by the target
            t.pid
            t.ping()     # True if the target answered "pong"

    script: another target of tests/targets (a file name, e.g.
    "refs_target.py") that speaks the same protocol (--ready FIFO --truth
    FILE, "ready [T]" on the FIFO, ping/exit on stdin); it gets only
    --ready, --truth and extra_args (scale, freeze and threads are
    heap_target.py's options).
    """

    def __init__(self, python, scale=1, freeze=False, threads=2,
                 ready_timeout=None, extra_args=(), chroot=None,
                 script=None):
        self.python = python
        self.script = script        # None: heap_target.py
        self.chroot = chroot        # run `python` inside this root dir
        self.scale = scale
        self.freeze = freeze
        self.threads = threads
        self.ready_timeout = ready_timeout or (120.0 + 6.0 * scale)
        self.extra_args = list(extra_args)
        self.proc = None
        self.pid = None
        self.truth = None
        self.ready_tracked = None   # len(gc.get_objects()) reported at ready
        self.tmpdir = None
        self._stdout_buf = b""

    # -- lifecycle
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        inner = lambda p: p        # path as the target sees it
        if self.chroot:
            # the target's files must live inside its root: copy them there
            tmp = os.path.join(self.chroot, "tmp")
            self.tmpdir = tempfile.mkdtemp(prefix="hs-e2e-", dir=tmp)
            for name in os.listdir(TARGETS):
                if name.endswith(".py"):
                    shutil.copy(os.path.join(TARGETS, name), self.tmpdir)
            heap_target = os.path.join(self.tmpdir,
                                       self.script or "heap_target.py")
            root = os.path.realpath(self.chroot)
            inner = lambda p: "/" + os.path.relpath(os.path.realpath(p), root)
            prefix = ["chroot", self.chroot]
        else:
            self.tmpdir = tempfile.mkdtemp(prefix="hs-e2e-")
            heap_target = os.path.join(TARGETS, self.script) \
                if self.script else HEAP_TARGET
            prefix = []
        fifo = os.path.join(self.tmpdir, "ready.fifo")
        truth = os.path.join(self.tmpdir, "truth.json")
        self.stderr_path = os.path.join(self.tmpdir, "target.stderr")
        os.mkfifo(fifo, 0o600)
        # open our end first (non-blocking) so the target's open never blocks
        rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        # chroot(8) execs the interpreter, so the PID stays the target's
        cmd = prefix + [self.python, inner(heap_target), "--ready",
                        inner(fifo), "--truth", inner(truth)]
        if not self.script:
            cmd += ["--scale", str(self.scale), "--threads",
                    str(self.threads)]
            if self.freeze:
                cmd.append("--freeze")
        cmd.extend(self.extra_args)
        self.cmd = cmd
        try:
            env = dict(os.environ)
            env["PYTHONDONTWRITEBYTECODE"] = "1"    # keep the tree clean
            with open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(
                    cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=err, preexec_fn=_set_pdeathsig, close_fds=True,
                    env=env)
            self.pid = self.proc.pid
            self._wait_ready(rfd)
        finally:
            os.close(rfd)
        with open(truth) as f:
            self.truth = json.load(f)
        if self.truth.get("pid") != self.pid:
            raise TargetError("truth file names pid %r, target is %d"
                              % (self.truth.get("pid"), self.pid))

    def _ready_line(self, buf):
        """True once buf holds the line "ready [T]"; sets ready_tracked."""
        for line in buf.split(b"\n")[:-1]:
            f = line.split()
            if f and f[0] == b"ready":
                self.ready_tracked = int(f[1]) if len(f) > 1 else None
                return True
        return False

    def _wait_ready(self, rfd):
        deadline = time.monotonic() + self.ready_timeout
        buf = b""
        while True:
            if self._ready_line(buf):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TargetError("target did not signal readiness within "
                                  "%.0f s\n%s" % (self.ready_timeout,
                                                  self.stderr_text()))
            r, _, _ = select.select([rfd], [], [], min(left, 0.2))
            if r:
                try:
                    chunk = os.read(rfd, 4096)
                except BlockingIOError:
                    chunk = None
                if chunk:
                    buf += chunk
                    continue
            if self.proc.poll() is not None:
                # one last read: it may have written and exited
                try:
                    chunk = os.read(rfd, 4096)
                except BlockingIOError:
                    chunk = b""
                buf += chunk or b""
                if self._ready_line(buf):
                    return
                raise TargetError("target exited with status %s before it "
                                  "was ready\n%s" % (self.proc.returncode,
                                                     self.stderr_text()))
            if r and not chunk:
                # writer closed without "ready" (EOF): avoid a busy loop
                time.sleep(0.05)

    def stderr_text(self, limit=60):
        try:
            with open(self.stderr_path, errors="replace") as f:
                lines = f.read().rstrip().splitlines()
        except (OSError, AttributeError):
            return "(no target stderr)"
        if not lines:
            return "(target stderr is empty)"
        return "target stderr:\n" + "\n".join("  " + l
                                              for l in lines[-limit:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def state(self):
        return proc_state(self.pid)

    def read_line(self, timeout=10.0):
        """The next line the target writes to stdout (without the newline),
        or None if none comes within timeout."""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._stdout_buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            self._stdout_buf += chunk
        line, self._stdout_buf = self._stdout_buf.split(b"\n", 1)
        return line.strip()

    def wait_blocked_in_read(self, timeout=10.0):
        """Wait until the target's main thread sits in read(0, ...) again,
        so that a capture sees it idle, not half way through answering
        (/proc/PID/syscall: "0 0x0 ..." is read(2) on fd 0)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open("/proc/%d/syscall" % self.pid) as f:
                    if f.read().startswith("0 0x0 "):
                        return True
            except OSError:
                return False
            time.sleep(0.005)
        return False

    def ping(self, timeout=10.0):
        """Send "ping", expect "pong" within timeout."""
        if not self.alive():
            return False
        try:
            self.proc.stdin.write(b"ping\n")
            self.proc.stdin.flush()
        except OSError:
            return False
        return self.read_line(timeout) == b"pong" and self.wait_blocked_in_read()

    def signal_and_wait(self, sig, prefix, timeout=30.0):
        """Send signal sig and return the target's answer line, which must
        start with prefix (bytes); None if it does not come."""
        # the signal must find the target blocked in its read(2): handled
        # anywhere else, it runs in another frame (on 3.11+ it makes that
        # frame's object)
        if not self.alive() or not self.wait_blocked_in_read():
            return None
        os.kill(self.pid, sig)
        line = self.read_line(timeout)
        if line is None or not line.startswith(prefix) or not self.wait_blocked_in_read():
            return None
        return line

    def close(self):
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                p.stdin.write(b"exit\n")
                p.stdin.flush()
            except (OSError, ValueError):
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            if p.poll() is None:
                p.kill()            # SIGKILL also ends a stopped process
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        if p is not None:
            for s in (p.stdin, p.stdout):
                try:
                    if s:
                        s.close()
                except OSError:
                    pass
        if self.tmpdir and not os.environ.get("HS_E2E_KEEP_TMP"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)


def check_target_ok(checker, target, when):
    """The target must not be left stopped or traced, and must answer."""
    st = target.state()
    checker.check(st is not None, "%s: target process %d is gone"
                  % (when, target.pid))
    if st is None:
        return
    checker.check(st not in ("t", "T"),
                  "%s: target left stopped (State: %s)" % (when, st))
    tp = tracer_pid(target.pid)
    checker.check(not tp, "%s: target still traced by pid %s" % (when, tp))
    checker.check(target.ping(), "%s: target does not answer ping" % when)


# --------------------------------------------------------------------------
# results

class Checker(object):
    def __init__(self):
        self.failures = []

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return bool(cond)

    def fail(self, msg):
        self.failures.append(msg)
        log("FAIL: " + msg)

    def ok(self, msg):
        log("ok: " + msg)

    def finish(self, name):
        if self.failures:
            log("\n%s: %d check(s) failed" % (name, len(self.failures)))
            return EXIT_FAIL
        log("\n%s: all checks passed" % name)
        return EXIT_PASS


def heapscope_or_die(path):
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        die("heapscope binary %r not found or not executable" % (path,))
    return os.path.abspath(path)
