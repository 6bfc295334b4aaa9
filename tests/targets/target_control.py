"""Handshake and control channel shared by the e2e targets.

write_file_atomic(path, data)   the ground truth, written whole or not at all
signal_ready(fifo, tracked)     "ready T" on the harness's FIFO
serve(fd)                       the control loop: one blocking read(2) while
                                idle; "ping" -> "pong", "exit" or EOF -> exit
wait_threads_blocked(threads, native_ids)
                                until the extra threads sit blocked in C

Keep this file Python 3.8 compatible.
"""

import errno
import os
import sys
import time


def write_file_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:      # binary: no codec lookup, no caches
        f.write(data)
    os.rename(tmp, path)


def signal_ready(path, tracked_now, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as e:
            if e.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        os.write(fd, b"ready %d\n" % tracked_now)
    finally:
        os.close(fd)


def serve(fd):
    """Control loop: one blocking read(2) while idle."""
    buf = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except InterruptedError:       # pragma: no cover (PEP 475 retries)
            continue
        if not chunk:
            os._exit(0)
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            line = line.strip()
            if line == b"ping":
                os.write(1, b"pong\n")
            elif line == b"exit":
                os._exit(0)
            elif line:
                os.write(1, b"unknown command\n")


def _task_state(tid):
    try:
        with open("/proc/self/task/%d/stat" % tid) as f:
            data = f.read()
    except OSError:
        return "?"
    return data[data.rindex(")") + 2]


def wait_threads_blocked(threads, native_ids, timeout=60.0):
    """Wait until every thread in `threads` sits in an Event.wait() (blocked
    in C, kernel state S) and stays there: then the heap holds still."""
    deadline = time.monotonic() + timeout
    last = None
    stable = 0
    while True:
        time.sleep(0.02)
        frames = sys._current_frames()
        sig = []
        for t in threads:
            f = frames.get(t.ident)
            sig.append(None if f is None else (f.f_code.co_name, f.f_lasti))
        f = None
        frames = None
        states = [_task_state(n) if n else "S" for n in native_ids]
        ok = all(x is not None and x[0] == "wait" for x in sig) and \
            all(st == "S" for st in states)
        stable = stable + 1 if ok and sig == last else 0
        last = sig
        if stable >= 5:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("threads did not block: %r %r" % (sig, states))
