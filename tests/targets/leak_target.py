#!/usr/bin/env python3
"""heapscope e2e target for leak triage (snapshot, diff, watch, core files).

    leak_target.py --ready FIFO --truth FILE [--per-signal K] [--steady S]

1. gc.disable(); gc.unfreeze()
2. makes S Steady objects in hs_leak_registry.CACHE['steady'];
3. installs a SIGUSR1 handler that appends K new hs_leak_app.Leaked objects
   to hs_leak_registry.CACHE['leaks'] (K = 0: a target that does not leak)
   and then writes "leaked N\\n" to stdout (N: the leaked objects so far);
   nothing else the handler makes outlives it;
4. writes its ground truth to FILE (JSON: pid, python, per_signal, kind,
   path, steady) and "ready T" to FIFO;
5. serves the control channel on stdin (target_control.serve: "ping" ->
   "pong", "exit"), blocked in one read(2), where the signals arrive.

On 3.11+ the first signal makes the frame object of the loop blocked in
read(2) (the handler's frame argument); the harness sends one signal before
its first capture so that only Leaked objects differ between captures.

Keep this file Python 3.8 compatible.
"""

import gc

gc.disable()
gc.unfreeze()

import argparse           # noqa: E402
import json               # noqa: E402
import os                 # noqa: E402
import platform           # noqa: E402
import signal             # noqa: E402
import sys                # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hs_leak_app as A           # noqa: E402
import hs_leak_registry as R      # noqa: E402
from target_control import serve, signal_ready, write_file_atomic  # noqa: E402

PYTHON_VERSION = platform.python_version()
PER_SIGNAL = [0]        # set by main(); a list so the handler makes no int


def leak(signum, frame):
    leaks = R.CACHE["leaks"]
    for _ in range(PER_SIGNAL[0]):
        leaks.append(A.Leaked())
    os.write(1, b"leaked %d\n" % len(leaks))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ready", required=True, help="FIFO to write 'ready' to")
    ap.add_argument("--truth", required=True, help="ground-truth JSON output")
    ap.add_argument("--per-signal", type=int, default=1000)
    ap.add_argument("--steady", type=int, default=500)
    args = ap.parse_args(argv)
    if args.per_signal < 0 or args.steady < 0:
        ap.error("counts must be >= 0")
    PER_SIGNAL[0] = args.per_signal
    R.CACHE["steady"].extend(A.Steady(i) for i in range(args.steady))
    signal.signal(signal.SIGUSR1, leak)
    truth = {
        "pid": os.getpid(),
        "python": PYTHON_VERSION,
        "per_signal": args.per_signal,
        "kind": "hs_leak_app.Leaked",
        "path": "hs_leak_registry.CACHE['leaks'][*]",
        "steady": args.steady,
    }
    write_file_atomic(args.truth, json.dumps(truth).encode())
    truth = None
    signal_ready(args.ready, len(gc.get_objects()))
    serve(0)


if __name__ == "__main__":
    main()
