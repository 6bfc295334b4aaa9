#!/usr/bin/env python3
"""heapscope e2e target: builds a known heap, writes its ground truth, waits.

    heap_target.py --ready FIFO --truth FILE [--scale N] [--freeze]
                   [--threads K] [--control PATH]

1. gc.disable(); gc.unfreeze()
2. builds the heap (module-level structures of this module, objects of the
   classes in hs_target_classes.py, K extra threads holding own objects only
   in local variables and blocked on a threading.Event, and a few objects
   held only by the main thread's frames);
3. groundtruth.compute() -> FILE (JSON; see write_truth() for the keys);
4. with --freeze: gc.freeze() (everything moves to the permanent generation);
5. writes "ready T\\n" to FIFO (T = len(gc.get_objects()) measured after
   the truth was written and before gc.freeze(); it must equal the truth's
   "tracked" count, else the heap changed after the ground truth);
6. serves the control channel (stdin, or --control PATH) line by line:
   "ping" -> "pong" on stdout, "exit" -> exit 0, EOF -> exit 0.
   While idle the process sits in one blocking read(2): no Python code runs,
   nothing is allocated.

--scale N multiplies the number of objects built (default 1: ~50k objects
including the interpreter's own).

Keep this file Python 3.8 compatible.
"""

import gc

gc.disable()
gc.unfreeze()

import argparse           # noqa: E402
import collections        # noqa: E402
import json               # noqa: E402
import os                 # noqa: E402
import sys                # noqa: E402
import threading          # noqa: E402
import time               # noqa: E402
import weakref            # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import groundtruth        # noqa: E402
from target_control import (serve, signal_ready, wait_threads_blocked,  # noqa: E402
                            write_file_atomic)  # noqa: E402
import hs_target_classes as C   # noqa: E402

# --------------------------------------------------------------------------
# module-level structures (the heap)

KEEP = {}                 # category -> container
EXPECTED = {}             # own kind -> number of objects built and kept
STOP = threading.Event()  # the extra threads block on this forever
THREADS = []
MODULE_GLOBAL_LEAVES = None

_MOD = C.__name__


def new(cls, *args):
    k = _MOD + "." + cls.__qualname__
    EXPECTED[k] = EXPECTED.get(k, 0) + 1
    return cls(*args)


def count(cls, n=1):
    k = _MOD + "." + cls.__qualname__
    EXPECTED[k] = EXPECTED.get(k, 0) + n


def make_default_fn(v):
    def fn(a=v):
        return a
    return fn


def make_kwdefault_fn(v):
    def fn(*, k=v):
        return k
    return fn


def make_plain_fn():
    def fn():
        return None
    return fn


def build(s):
    """Build the heap; s = scale.  Returns objects held only by main()."""
    global MODULE_GLOBAL_LEAVES
    V = 20 * s            # objects per reachability path (Via* kinds)

    # ---- Via* marker paths -------------------------------------------------
    MODULE_GLOBAL_LEAVES = [new(C.ViaModuleGlobal, i) for i in range(V)]
    KEEP["leaf"] = [new(C.Leaf, i) for i in range(10 * s)]
    C.ClassAttrHolder.items = [new(C.ViaClassAttr, i) for i in range(V)]
    C.MetaBase.registry = [new(C.ViaMetaClassAttr, i) for i in range(V)]

    # plain instances (__dict__ / inline values), parent <-> child cycles
    nodes = []
    for t in range(150 * s):
        root = new(C.Node, "tree-%d" % t)
        nodes.append(root)
        for c in range(6):
            child = new(C.Node, "n%d.%d" % (t, c), root)
            new(C.Node, "n%d.%d.0" % (t, c), child)
    for i in range(V):
        nodes[i * 7].value = new(C.ViaInlineValues, i)
    KEEP["trees"] = nodes
    KEEP["bound"] = [n.describe for n in nodes[:100 * s]]

    wides = [new(C.Wide, i) for i in range(60 * s)]
    for i in range(V):                 # V = 20 s <= 60 s instances
        wides[i].w39 = new(C.ViaWideDict, i)
    KEEP["wide"] = wides

    mats = [new(C.Materialized, i) for i in range(300 * s)]
    KEEP["mat_dicts"] = [vars(m) for m in mats[::2]]   # materialize half
    for i in range(V):
        m = mats[2 * i]
        vars(m)["c"] = new(C.ViaMaterializedDict, i)
    KEEP["mat"] = mats

    dels = [new(C.Deleted, i) for i in range(300 * s)]
    for i, d in enumerate(dels):
        del d.a
        if i % 2:
            del d.c
            del d.d
    for i in range(V):
        dels[2 * i + 1].e = new(C.ViaDeletedNeighbour, i)
    KEEP["deleted"] = dels

    # __slots__
    slotted = [new(C.Slotted, i, "s%d" % i, None) for i in range(1000 * s)]
    for i in range(V):
        slotted[3 * i].c = new(C.ViaSlot, i)
    children = [new(C.SlottedChild, i, None) for i in range(500 * s)]
    for i in range(V):
        children[2 * i].d = new(C.ViaChildSlot, i)
    withdict = [new(C.SlottedWithDict, i) for i in range(200 * s)]
    for i in range(V):
        withdict[i].y = new(C.ViaSlotDict, i)
    KEEP["slotted"] = slotted
    KEEP["slotted_child"] = children
    KEEP["slotted_dict"] = withdict
    KEEP["weakrefs"] = [weakref.ref(o) for o in withdict[::2]]

    # subclasses of builtins with instance attributes
    mydicts = []
    for i in range(200 * s):
        d = new(C.MyDict)
        for j in range(i % 12):
            d["k%d" % j] = j * 1.25
        d.attr = i
        mydicts.append(d)
    for i in range(V):
        mydicts[3 * i]["via"] = new(C.ViaDictSubclassItem, i)
        mydicts[3 * i + 1].attr = new(C.ViaDictSubclassAttr, i)
    KEEP["mydict"] = mydicts

    mylists = []
    for i in range(200 * s):
        lst = new(C.MyList, range(i % 17))
        lst.attr = "list-%d" % i
        mylists.append(lst)
    for i in range(V):
        mylists[3 * i].append(new(C.ViaListSubclassItem, i))
        mylists[3 * i + 1].attr = new(C.ViaListSubclassAttr, i)
    KEEP["mylist"] = mylists

    myints = []
    for i in range(300 * s):
        # 0 .. 5 digits, negative ones too: the dict of an int subclass sits
        # at the *end* of a variable-sized object (<= 3.11)
        v = (7 ** (i % 70)) * (-1 if i % 3 == 0 else 1) + i
        myints.append(new(C.MyInt, v))
    for i in range(V):
        myints[5 * i].tag = new(C.ViaIntSubclassAttr, i)
    for i in range(0, len(myints), 4):
        myints[i].note = i
    KEEP["myint"] = myints

    mytuples = []
    for i in range(200 * s):
        mytuples.append(new(C.MyTuple, tuple(range(i % 9))))
    for i in range(V):
        mytuples[3 * i].tag = new(C.ViaTupleSubclassAttr, i)
    KEEP["mytuple"] = mytuples

    strs = ("abc", "caf\xe9", "\u03a9\u4e2d", "\U0001d11e!", "")
    mystrs = []
    for i in range(300 * s):
        mystrs.append(new(C.MyStr, strs[i % 5] * (i % 11) + "%d" % i))
    for i in range(V):
        mystrs[4 * i].tag = new(C.ViaStrSubclassAttr, i)
    KEEP["mystr"] = mystrs

    # metaclass, nested class
    KEEP["meta"] = [new(C.MetaBase, i) for i in range(100 * s)] + \
                   [new(C.MetaChild, i) for i in range(100 * s)]
    count(C.Meta, 2)       # the classes MetaBase and MetaChild
    KEEP["inner"] = [new(C.Outer.Inner, i) for i in range(100 * s)]

    # plain containers
    KEEP["dict_keys"] = {new(C.ViaDictKey, i): i for i in range(V)}
    KEEP["dict_values"] = {"dv%d" % i: new(C.ViaDictValue, i)
                           for i in range(V)}
    KEEP["odict"] = collections.OrderedDict(
        ("od%d" % i, new(C.ViaOrderedDict, i)) for i in range(V))
    KEEP["set"] = set([new(C.ViaSet, i) for i in range(V)] +
                      list(range(100 * s)))
    KEEP["small_sets"] = [{new(C.ViaSmallSet, i), i} for i in range(V)]
    KEEP["frozenset"] = frozenset(new(C.ViaFrozenset, i) for i in range(V))
    dq = collections.deque()
    for i in range(200 * s):
        item = new(C.ViaDeque, i) if i % 10 == 0 else "dq%d" % i
        if i % 4 == 0:
            dq.appendleft(item)
        else:
            dq.append(item)
    KEEP["deque"] = dq
    KEEP["nested"] = [[i, (i, {"k": [frozenset([i]),
                                     (new(C.ViaNested, i), [{i: (i,)}])]})]
                      for i in range(V)]
    KEEP["tuple"] = tuple(new(C.ViaTuple, i) for i in range(V))

    # functions, cells, generators, bound methods
    KEEP["closures"] = [C.make_closure(new(C.ViaCell, i), "c%d" % i)
                        for i in range(V)]
    KEEP["defaults"] = [make_default_fn(new(C.ViaDefaultArg, i))
                        for i in range(V)]
    KEEP["kwdefaults"] = [make_kwdefault_fn(new(C.ViaKwDefault, i))
                          for i in range(V)]
    fns = []
    for i in range(V):
        fn = make_plain_fn()
        fn.attr = new(C.ViaFunctionDict, i)
        fns.append(fn)
    KEEP["fn_dict"] = fns
    KEEP["bound_self"] = [new(C.ViaBoundSelf, i).touch for i in range(V)]
    gens = []
    for i in range(V):
        g = C.gen_with_local(new(C.ViaGenLocal, i))
        next(g)
        gens.append(g)
    KEEP["gens"] = gens
    KEEP["gens_new"] = [C.gen_never_started(new(C.ViaGenArg, i))
                        for i in range(V)]

    # builtin-typed bulk
    n = 600 * s
    KEEP["ascii"] = ["ascii-%d" % i for i in range(2 * n)]
    KEEP["latin1"] = ["caf\xe9-%d" % i for i in range(n // 2)]
    KEEP["ucs2"] = ["\u03a9\u4e2d-%d" % i for i in range(n // 2)]
    KEEP["ucs4"] = ["\U0001d11e-%d" % i for i in range(n // 2)]
    KEEP["long_str"] = ["L" * 10000 + "%d" % i for i in range(10 * s)] + \
        ["\U0001f600" * 3000 + "%d" % i for i in range(5 * s)]
    KEEP["ints"] = [i * 1000003 for i in range(n)] + \
        [-(2 ** 100) - i for i in range(n // 10)] + \
        [10 ** 60 + i for i in range(n // 10)] + \
        [i % 200 - 5 for i in range(n // 10)]        # small ints (shared)
    KEEP["floats"] = [i * 0.5 + 0.1 for i in range(n)]
    KEEP["bytes"] = [b"b%d" % i for i in range(n // 2)] + \
        [bytes(100 + i % 50) for i in range(n // 10)]
    KEEP["bytearray"] = [bytearray(b"x" * (i % 100)) for i in range(n // 10)]
    KEEP["containers"] = [
        [[i, i + 1], (i, "t%d" % i), {"a": i, i: [i]}, {i, i + 1},
         frozenset((i, -i))] for i in range(n // 2)]
    KEEP["big_dict"] = {"bd%d" % i: i for i in range(n)}
    KEEP["big_list"] = list(range(n))

    main_only = [new(C.ViaMainLocal, i) for i in range(V)]
    return main_only


def thread_main(i, n, started, native_ids):
    solo = C.ViaThreadLocal(i)                       # only in this local
    keep = [C.ViaThreadList(j) for j in range(n)]    # only in this local
    native_ids[i] = threading.get_native_id() \
        if hasattr(threading, "get_native_id") else None
    started.set()
    STOP.wait()
    return solo, keep


def start_threads(k, s):
    n = 10 * s
    native_ids = [None] * k
    for i in range(k):
        started = threading.Event()
        t = threading.Thread(target=thread_main, name="hs-target-%d" % i,
                             args=(i, n, started, native_ids), daemon=True)
        t.start()
        if not started.wait(60):
            raise RuntimeError("thread %d did not start" % i)
        THREADS.append(t)
    count(C.ViaThreadLocal, k)
    count(C.ViaThreadList, k * n)
    return native_ids


def write_truth(path, truth, scale, freeze, build_s, truth_s, gc_objects):
    doc = {
        "pid": os.getpid(),
        "python": truth["python"],
        "executable": sys.executable,
        "scale": scale,
        "freeze": freeze,
        "threads": len(THREADS) + 1,
        "build_seconds": round(build_s, 3),
        "truth_seconds": round(truth_s, 3),
        "gc_objects": gc_objects,
        "own_kinds": sorted(C.own_kinds()),
        "expected_own": EXPECTED,
        "size_errors": truth["size_errors"],
        "tracked": truth["tracked"],
        "total": truth["total"],
        "rows": truth["rows"],
    }
    # default encoder only: no indent/sort_keys, which before 3.13 run the
    # pure-Python encoder whose closures form cycles (garbage that stays)
    write_file_atomic(path, json.dumps(doc).encode())


def gc_object_count():
    return len(gc.get_objects())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ready", required=True, help="FIFO to write 'ready' to")
    ap.add_argument("--truth", required=True, help="ground-truth JSON output")
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--freeze", action="store_true")
    ap.add_argument("--control", default=None,
                    help="read commands from this path instead of stdin")
    args = ap.parse_args(argv)
    if args.scale < 1:
        ap.error("--scale must be >= 1")

    t0 = time.monotonic()
    main_only = build(args.scale)
    native_ids = start_threads(args.threads, args.scale)
    wait_threads_blocked(THREADS, native_ids)
    native_ids = None
    build_s = time.monotonic() - t0
    ngc = gc_object_count()
    t1 = time.monotonic()
    truth = groundtruth.compute()
    # From here on no object may be created that stays alive.
    # (Careful: with the GC disabled, any reference cycle made from here on
    # stays as garbage in the GC lists, where heapscope rightly finds it;
    # e.g. json.dumps(indent=...) builds cyclic closures before 3.13.)
    write_truth(args.truth, truth, args.scale, args.freeze, build_s,
                time.monotonic() - t1, ngc)
    truth = None
    # Self-check for the harness: the number of GC-tracked objects must
    # still be the number the ground truth counted ("tracked").
    after = gc_object_count()
    if args.freeze:
        gc.freeze()
    fd = 0 if args.control is None else os.open(args.control, os.O_RDWR)
    signal_ready(args.ready, after)
    serve(fd)
    return main_only            # not reached; keeps main_only a live local


if __name__ == "__main__":
    main()
