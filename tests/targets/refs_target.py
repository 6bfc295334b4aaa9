#!/usr/bin/env python3
"""heapscope e2e target for the graph queries (referrers, show, cycles).

    refs_target.py --ready FIFO --truth FILE [--sessions S] [--parents P]
                   [--children C] [--garbage K] [--chain N] [--threads [2]]
                   [--control PATH]

1. gc.disable(); gc.unfreeze()
2. builds, with the classes of hs_refs_app.py, in hs_refs_registry's
   globals:
     REGISTRY['sessions']  S Session objects
     REGISTRY['parents']   P Parent objects, each with C Child objects in
                           parent.children (child.parent = parent: a cycle
                           per parent)
     CHAIN                 N Node objects linked by node.next, value = index
   and K garbage pairs of Cyc and K of CycDel (a.other = b, b.other = a,
   then dropped; CycDel has __del__): the GC stays disabled, so they stay;
3. forks a child that collects with gc.DEBUG_SAVEALL and reports the kinds
   of gc.garbage through a pipe (the garbage ground truth), and waits for it;
4. starts the worker threads "worker-1" and "worker-2" (--threads 0: none),
   each running handle(), which holds a Session('local') only in its local
   variable 'sess' and blocks on a threading.Event forever; waits until both
   are blocked;
5. computes the ground truth inside the process and writes it to FILE
   (JSON; see compute_truth() for the keys);
6. writes "ready T\\n" to FIFO (T = len(gc.get_objects()) then; it must
   equal the truth's "tracked", measured before the truth was computed,
   else the truth computation changed the heap);
7. serves the control channel (stdin, or --control PATH) line by line:
   "ping" -> "pong", "exit" -> exit 0, EOF -> exit 0, in one blocking
   read(2): nothing is allocated while idle.

Keep this file Python 3.8 compatible.
"""

import gc

gc.disable()
gc.unfreeze()

import argparse           # noqa: E402
import json               # noqa: E402
import os                 # noqa: E402
import platform           # noqa: E402
import sys                # noqa: E402
import threading          # noqa: E402
import time               # noqa: E402
import types              # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Only as module objects: a global REGISTRY or CHAIN here would be a second
# path ("__main__.REGISTRY...") exactly as short as the expected one.
import hs_refs_app as A           # noqa: E402
import hs_refs_registry as R      # noqa: E402
from target_control import (serve, signal_ready, wait_threads_blocked,  # noqa: E402
                            write_file_atomic)  # noqa: E402

# the first call fills caches; made here, before anything is measured
PYTHON_VERSION = platform.python_version()

STOP = threading.Event()          # the workers block on this forever
THREADS = []
WORKERS = 2

APP = "hs_refs_app"
REG = "hs_refs_registry"

_T_MODULE = type.__dict__["__module__"].__get__
_T_QUALNAME = type.__dict__["__qualname__"].__get__


def kind_of(t):
    """'module.qualname' of type t, without 'builtins.'."""
    mod = _T_MODULE(t)
    qn = _T_QUALNAME(t)
    if not isinstance(mod, str) or mod == "builtins":
        return qn
    return mod + "." + qn


APP_KINDS = [kind_of(c) for c in A.CLASSES]


# --------------------------------------------------------------------------
# the heap

def build_sessions(n):
    lst = R.REGISTRY["sessions"]
    for i in range(n):
        lst.append(A.Session("session-%d" % i))


def build_parents(p, c):
    lst = R.REGISTRY["parents"]
    for i in range(p):
        par = A.Parent("parent-%d" % i)
        for j in range(c):
            par.children.append(A.Child(par))
        lst.append(par)


def build_garbage(k):
    for i in range(k):
        a = A.Cyc()
        b = A.Cyc()
        a.other = b
        b.other = a
    for i in range(k):
        a = A.CycDel()
        b = A.CycDel()
        a.other = b
        b.other = a
    a = b = None


def build_chain(n):
    head = None
    for i in range(n - 1, -1, -1):
        head = A.Node(i, head)
    R.CHAIN = head


# --------------------------------------------------------------------------
# garbage ground truth: a forked copy of this process collects

def garbage_truth():
    """Kinds of gc.garbage in a forked child after gc.set_debug(SAVEALL)
    and gc.collect(): {"kinds": {kind: count}, "objects": n,
    "collected": gc.collect()'s return}.  Call while there is one thread."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                   # the child
        code = 1
        try:
            os.close(r)
            gc.set_debug(gc.DEBUG_SAVEALL)
            collected = gc.collect()
            kinds = {}
            for o in gc.garbage:
                k = kind_of(type(o))
                kinds[k] = kinds.get(k, 0) + 1
            o = None
            data = json.dumps({"kinds": kinds, "objects": len(gc.garbage),
                               "collected": collected}).encode()
            while data:
                data = data[os.write(w, data):]
            code = 0
        except BaseException:
            import traceback
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError("garbage child exited with status %#x" % status)
    return json.loads(b"".join(chunks).decode())


# --------------------------------------------------------------------------
# worker threads

def handle(i, started, info):
    sess = A.Session("local")          # held only by this local
    nid = threading.get_native_id() \
        if hasattr(threading, "get_native_id") else None
    info[i] = (id(sess), nid)
    started.set()
    STOP.wait()
    return sess


def start_threads(n):
    info = [None] * n
    for i in range(n):
        started = threading.Event()
        t = threading.Thread(target=handle, name="worker-%d" % (i + 1),
                             args=(i, started, info), daemon=True)
        t.start()
        if not started.wait(60):
            raise RuntimeError("thread %s did not start" % t.name)
        THREADS.append(t)
    return info


# --------------------------------------------------------------------------
# ground truth

def chain_path(hops):
    """Path text of the node `hops` .next hops after CHAIN."""
    if hops >= 4:
        return "%s.CHAIN(.next)*%d" % (REG, hops)
    return "%s.CHAIN%s" % (REG, ".next" * hops)


def _skip_node(o):
    return isinstance(o, (type, types.ModuleType, types.FunctionType,
                          types.BuiltinFunctionType))


def parent_cycles():
    """Shapes of the strongly connected components (with a cycle) among the
    objects reachable from REGISTRY['parents'] without passing through
    types, modules or functions; edges = gc.get_referents minus edges to
    those.  Iterative Tarjan.  Returns [{"kinds": [{"kind", "count"}],
    "components": n}] and the number of components holding a Parent."""
    objs = {}
    succ = {}
    start = R.REGISTRY["parents"]
    objs[id(start)] = start
    work = [start]
    while work:
        o = work.pop()
        out = []
        for x in gc.get_referents(o):
            if _skip_node(x):
                continue
            i = id(x)
            out.append(i)
            if i not in objs:
                objs[i] = x
                work.append(x)
        succ[id(o)] = out
    o = x = start = None

    index = {}
    low = {}
    onstack = set()
    stack = []
    comps = []
    counter = 0
    for v in succ:
        if v in index:
            continue
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        onstack.add(v)
        work = [(v, iter(succ[v]))]
        while work:
            node, it = work[-1]
            pushed = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    onstack.add(w)
                    work.append((w, iter(succ[w])))
                    pushed = True
                    break
                if w in onstack and index[w] < low[node]:
                    low[node] = index[w]
            if pushed:
                continue
            work.pop()
            if work:
                up = work[-1][0]
                if low[node] < low[up]:
                    low[up] = low[node]
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    onstack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1 or node in succ[node]:
                    comps.append(comp)
        it = None
    shapes = {}
    with_parent = 0
    pk = kind_of(A.Parent)
    for comp in comps:
        kinds = {}
        for i in comp:
            k = kind_of(type(objs[i]))
            kinds[k] = kinds.get(k, 0) + 1
        if pk in kinds:
            with_parent += 1
        key = tuple(sorted(kinds.items()))
        shapes[key] = shapes.get(key, 0) + 1
    objs.clear()
    result = [{"kinds": [{"kind": k, "count": c} for k, c in key],
               "components": n}
              for key, n in sorted(shapes.items(), key=lambda x: -x[1])]
    return result, with_parent


def compute_truth(args, info, garbage, tracked, build_s):
    """The ground truth as JSON text.  Allocates only temporaries."""
    t0 = time.monotonic()
    errors = []             # the truth's self-checks (a test bug if any)
    S, P, C, K, N = (args.sessions, args.parents, args.children,
                     args.garbage, args.chain)

    # ---- instances of each app kind, from the GC lists
    by_type = {}
    for c in A.CLASSES:
        by_type[c] = 0
    objs = gc.get_objects()
    for o in objs:
        t = type(o)
        if t in by_type:
            by_type[t] += 1
    o = t = None
    objs = None
    kinds = {}
    for c, n in by_type.items():
        kinds[kind_of(c)] = n
    by_type = None

    # ---- ... and by walking what was built
    chain_len = 0
    last_addr = None
    n = R.CHAIN
    while n is not None:
        chain_len += 1
        if n.next is None:
            last_addr = id(n)
        n = n.next
    children = 0
    for p in R.REGISTRY["parents"]:
        children += len(p.children)
    p = None
    workers = [x for x in info if x is not None]
    walked = {
        kind_of(A.Session): len(R.REGISTRY["sessions"]) + len(workers),
        kind_of(A.Parent): len(R.REGISTRY["parents"]),
        kind_of(A.Child): children,
        kind_of(A.Cyc): 2 * K,
        kind_of(A.CycDel): 2 * K,
        kind_of(A.Node): chain_len,
    }
    built = {
        kind_of(A.Session): S + len(info),
        kind_of(A.Parent): P,
        kind_of(A.Child): P * C,
        kind_of(A.Cyc): 2 * K,
        kind_of(A.CycDel): 2 * K,
        kind_of(A.Node): N,
    }
    for k in APP_KINDS:
        if not (kinds[k] == walked[k] == built[k]):
            errors.append("%s: %d in gc.get_objects(), %d walked, %d built"
                          % (k, kinds[k], walked[k], built[k]))

    # ---- specific objects
    objects = {}
    if S > 0:
        idx = min(17, S - 1)
        ss = R.REGISTRY["sessions"]
        # no local names the session: sys.getrefcount sees the list's
        # reference and its own argument only
        refs = gc.get_referrers(ss[idx])
        rkinds = sorted(kind_of(type(x)) for x in refs
                        if not isinstance(x, types.FrameType))
        nframes = sum(1 for x in refs if isinstance(x, types.FrameType))
        refs = None
        getrefcount = sys.getrefcount(ss[idx])
        objects["session"] = {
            "index": idx,
            "addr": "0x%x" % id(ss[idx]),
            "kind": kind_of(A.Session),
            "path": "%s.REGISTRY['sessions'][%d]" % (REG, idx),
            "size": sys.getsizeof(ss[idx]),
            "getrefcount": getrefcount,
            "refcount": getrefcount - 1,
            "referrer_kinds": rkinds,
            "referrer_frames_excluded": nframes,
            "list_addr": "0x%x" % id(ss),
        }
        ss = None
        if rkinds != ["list"]:
            errors.append("referrers of REGISTRY['sessions'][%d]: %r, "
                          "expected ['list']" % (idx, rkinds))
        if getrefcount != 2:
            errors.append("sys.getrefcount(REGISTRY['sessions'][%d]) = %d, "
                          "expected 2 (the list + the argument)"
                          % (idx, getrefcount))
    if last_addr is not None:
        objects["chain_last"] = {
            "index": chain_len - 1,
            "addr": "0x%x" % last_addr,
            "kind": kind_of(A.Node),
            "path": chain_path(chain_len - 1),
            "hops": chain_len - 1,
        }
    if P > 0:
        objects["parent"] = {
            "index": 0,
            "addr": "0x%x" % id(R.REGISTRY["parents"][0]),
            "kind": kind_of(A.Parent),
            "path": "%s.REGISTRY['parents'][0]" % REG,
        }
    threads = []
    for t in THREADS:
        i = int(t.name.rpartition("-")[2]) - 1
        addr, nid = info[i]
        threads.append({
            "name": t.name,
            "native_id": nid,
            "session_addr": "0x%x" % addr,
            "path": None if nid is None else
            "<thread %d \"%s\"> frame handle() local 'sess'" % (nid, t.name),
        })
    t = None
    objects["worker_sessions"] = threads

    # ---- cycles among the parents and children
    shapes, with_parent = parent_cycles()
    if with_parent != P:
        errors.append("%d components hold a Parent, expected %d"
                      % (with_parent, P))

    # ---- garbage (from the forked child)
    gk = garbage["kinds"]
    app_garbage = sorted(k for k in gk if k.startswith(APP + "."))
    for k in APP_KINDS:
        want = 2 * K if k in (kind_of(A.Cyc), kind_of(A.CycDel)) else 0
        if gk.get(k, 0) != want:
            errors.append("forked child: %d %s in gc.garbage, expected %d"
                          % (gk.get(k, 0), k, want))

    doc = {
        "pid": os.getpid(),
        "python": PYTHON_VERSION,
        "version_info": list(sys.version_info[:2]),
        "executable": sys.executable,
        "params": {"sessions": S, "parents": P, "children": C,
                   "garbage": K, "chain": N, "threads": len(info)},
        "kinds": kinds,
        "kinds_walked": walked,
        "app_instances": sum(kinds.values()),
        "objects": objects,
        "threads": [{"name": x["name"], "native_id": x["native_id"]}
                    for x in threads],
        "cycles": shapes,
        "garbage": {"kinds": gk, "objects": garbage["objects"],
                    "collected": garbage.get("collected"),
                    "app_kinds": app_garbage},
        "tracked": tracked,
        "errors": errors,
        "build_seconds": round(build_s, 3),
        "truth_seconds": round(time.monotonic() - t0, 3),
    }
    # default encoder only: no indent/sort_keys, which before 3.13 run the
    # pure-Python encoder whose closures form cycles (garbage that stays)
    return json.dumps(doc)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ready", required=True, help="FIFO to write 'ready' to")
    ap.add_argument("--truth", required=True, help="ground-truth JSON output")
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--parents", type=int, default=50)
    ap.add_argument("--children", type=int, default=3)
    ap.add_argument("--garbage", type=int, default=20)
    ap.add_argument("--chain", type=int, default=1000)
    ap.add_argument("--threads", type=int, nargs="?", const=WORKERS,
                    default=WORKERS, choices=(0, WORKERS),
                    help="worker threads: %d (the default) or 0" % WORKERS)
    ap.add_argument("--control", default=None,
                    help="read commands from this path instead of stdin")
    args = ap.parse_args(argv)
    for name in ("sessions", "parents", "children", "garbage", "chain"):
        if getattr(args, name) < 0:
            ap.error("--%s must be >= 0" % name)

    t0 = time.monotonic()
    build_sessions(args.sessions)
    build_parents(args.parents, args.children)
    build_garbage(args.garbage)
    build_chain(args.chain)
    garbage = garbage_truth()           # before any other thread exists
    info = start_threads(args.threads)
    wait_threads_blocked(THREADS, [x[1] for x in info])
    build_s = time.monotonic() - t0
    tracked = len(gc.get_objects())
    text = compute_truth(args, info, garbage, tracked, build_s)
    # From here on no object may be created that stays alive (the GC is
    # disabled: a cycle made now would stay as garbage).
    write_file_atomic(args.truth, text.encode())
    text = None
    after = len(gc.get_objects())
    fd = 0 if args.control is None else os.open(args.control, os.O_RDWR)
    signal_ready(args.ready, after)
    serve(fd)
    return info, garbage        # not reached; keeps them live locals


if __name__ == "__main__":
    main()
