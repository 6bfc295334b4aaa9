"""Ground truth for heapscope, computed inside the target interpreter.

    import groundtruth
    truth = groundtruth.compute()

returns
    {"python": "3.12.1",
     "total": {"count": N, "size": M},
     "rows": {kind: {"count": n, "size": m}, ...},
     "size_errors": 0,      # objects for which sys.getsizeof raised
     "tracked": T}          # how many of them are GC-tracked

"tracked" lets the caller check that its heap did not change afterwards:
as long as no object is created or freed, len(gc.get_objects()) == T (all
tracked objects are roots, so they are all counted).

The counted set is the closure, under "referents", of these roots:

  * gc.get_objects() (all generations; the permanent generation must be
    empty, call gc.unfreeze() first -- compute() raises otherwise);
  * for every thread's Python frames (sys._current_frames() values and their
    f_back chains; for the calling thread the chain starts at the caller of
    compute(), so compute()'s own frame is not part of the heap): the frame
    object, f_code, f_globals, f_builtins and, on 3.11+, the values of
    f.f_locals (plus f.f_locals itself when it is a real dict: on 3.11/3.12
    reading f_locals of a function frame stores a new dict on the frame,
    which is then part of the heap; on 3.13+ it is a transient
    FrameLocalsProxy that is not counted);
  * sys.modules values, builtins.__dict__, sys.__dict__;
  * extra_roots.

referents(o) = gc.get_referents(o) plus
  * dict instances (also subclasses), and 3.15+ frozendict instances (a
    dict-like mapping, not a dict subclass): the keys;
  * type objects: __mro__, __bases__, __base__, the dict behind __dict__,
    and for heap types __name__ and __qualname__ (the stored objects) and,
    on 3.11+, ht_slots (the sorted, mangled tuple of __slots__ names; read
    with ctypes, see _calibrate_ht_slots);
  * code objects: the object fields (see _code_fields; on 3.11+ some of them
    are read with ctypes after validating the layout, never guessed).

Kind = "module.qualname" of type(o), module omitted for builtins.
Size = sys.getsizeof(o).

compute() disables the cyclic GC and leaves it disabled, so that no
collection runs between the ground truth and heapscope's capture.  It keeps
references to every visited object while it runs (ids stay valid) and drops
all of its temporaries before it returns.

Keep this file Python 3.8 compatible.
"""

import _thread
import builtins
import gc
import platform
import sys
import types

__all__ = ["compute", "kind_of"]

_VER = sys.version_info[:2]
# Computed once at import: the first platform.python_version() call fills
# caches (a compiled regex, ...) that would appear in the heap after
# compute() without having been counted by it.
_PYTHON_VERSION = platform.python_version()

# --------------------------------------------------------------------------
# descriptors of `type`, used directly so that metaclasses cannot interfere
_T_MRO = type.__dict__["__mro__"].__get__
_T_BASES = type.__dict__["__bases__"].__get__
_T_BASE = type.__dict__["__base__"].__get__
_T_DICT = type.__dict__["__dict__"].__get__
_T_NAME = type.__dict__["__name__"].__get__
_T_QUALNAME = type.__dict__["__qualname__"].__get__
_T_MODULE = type.__dict__["__module__"].__get__
_T_FLAGS = type.__dict__["__flags__"].__get__
_HEAPTYPE = 1 << 9

_CodeType = types.CodeType
_dict_keys = dict.keys
# 3.15+ frozendict: no dict subclass, but it holds its keys like one (and
# like dict_traverse, its traverse does not visit str keys)
_frozendict = getattr(builtins, "frozendict", None)
_frozendict_keys = _frozendict.keys if _frozendict is not None else None
_get_referents = gc.get_referents
_getsizeof = sys.getsizeof

# ctypes is needed (and imported) only on 3.11+, to read code-object fields
# that Python does not expose.  Importing it adds its modules and types to
# the target's heap, like any program that uses ctypes.
if _VER >= (3, 11):
    import ctypes

    def _rd(addr):
        """One pointer-sized word of our own memory (0 for NULL)."""
        return ctypes.c_void_p.from_address(addr).value or 0

    def _obj_at(addr):
        return ctypes.cast(addr, ctypes.py_object).value

# Free-threaded builds (sys.abiflags contains "t", 3.13+) have a 32-byte
# PyObject header: every object field is 16 bytes further, ob_type at 24.
_FT = "t" in getattr(sys, "abiflags", "")
_HDR = 16 if _FT else 0
_OB_TYPE = 8 + _HDR


# --------------------------------------------------------------------------
# Code objects
#
# <= 3.10: every object field is reachable as a plain member attribute.
# 3.11+  : co_localsplusnames / co_localspluskinds are not exposed, and
#          co_code / co_varnames / co_cellvars / co_freevars build (and on
#          3.12+ cache) new objects, so they are read from memory:
#            3.11   PyObject *_co_code               (cached co_code bytes)
#            3.12+  _PyCoCached *_co_cached -> {_co_code, _co_varnames,
#                                               _co_cellvars, _co_freevars}
#          Offsets (x86-64, checked with gdb against DWARF of the pyenv
#          builds): localsplusnames 96, localspluskinds 104 (3.11-3.13);
#          _co_code 152 (3.11); _co_cached 152 (3.12), 160 (3.13, and 3.14
#          per the reference).  The offset of the cache pointer is also
#          calibrated at import time on a fresh code object (the only word
#          of the fixed header that changes when co_code is first read); a
#          disagreement with the table raises.

_OFF_CONSTS = 24 + _HDR
_OFF_NAMES = 32 + _HDR
_OFF_LPNAMES = 96 + _HDR
_OFF_LPKINDS = 104 + _HDR
_KNOWN_CACHE_OFF = {} if _FT else {(3, 11): 152, (3, 12): 152, (3, 13): 160,
                                   (3, 14): 160}

_CACHE_OFF = None      # offset of _co_code (3.11) / _co_cached (3.12+)
_CACHE_IS_STRUCT = _VER >= (3, 12)

if _VER <= (3, 9):
    _CODE_ATTRS = ("co_consts", "co_names", "co_filename", "co_name",
                   "co_code", "co_varnames", "co_freevars", "co_cellvars",
                   "co_lnotab")
elif _VER == (3, 10):
    _CODE_ATTRS = ("co_consts", "co_names", "co_filename", "co_name",
                   "co_code", "co_varnames", "co_freevars", "co_cellvars",
                   "co_linetable")
else:
    # never touch co_code / co_varnames / co_cellvars / co_freevars here
    _CODE_ATTRS = ("co_consts", "co_names", "co_filename", "co_name",
                   "co_qualname", "co_linetable", "co_exceptiontable")


class LayoutError(RuntimeError):
    pass


def _calibrate_code_cache():
    """Find the offset of the code object's lazily filled cache pointer."""
    if _VER < (3, 11):
        return None
    ns = {}
    exec(compile("def outer(x):\n"
                 "    y = x\n"
                 "    def inner():\n"
                 "        return x + y\n"
                 "    return inner\n",
                 "<heapscope-groundtruth-calibration>", "exec"), ns)
    outer = ns["outer"].__code__
    inner = outer.co_consts[[type(c) for c in outer.co_consts].index(_CodeType)]
    ns.clear()
    base = id(outer)
    end = type(outer).__basicsize__
    start = _OFF_LPKINDS + 8
    before = [_rd(base + off) for off in range(start, end - 7, 8)]
    code_bytes = outer.co_code          # fills the cache
    after = [_rd(base + off) for off in range(start, end - 7, 8)]
    changed = [start + 8 * i for i, (a, b) in enumerate(zip(before, after))
               if a == 0 and b != 0]
    if len(changed) != 1:
        raise LayoutError("cannot calibrate code-object cache pointer: words "
                          "changed at offsets %r" % (changed,))
    off = changed[0]
    p = _rd(base + off)
    if _CACHE_IS_STRUCT:
        if _rd(p) != id(code_bytes):
            raise LayoutError("_co_cached->_co_code does not hold co_code")
        varnames = outer.co_varnames
        cellvars = outer.co_cellvars
        freevars = inner.co_freevars
        pi = _rd(id(inner) + off)
        if (_rd(p + 8) != id(varnames) or _rd(p + 16) != id(cellvars)
                or pi == 0 or _rd(pi + 24) != id(freevars)):
            raise LayoutError("_co_cached struct layout is not "
                              "{_co_code, _co_varnames, _co_cellvars, "
                              "_co_freevars}")
        del varnames, cellvars, freevars
    else:
        if p != id(code_bytes):
            raise LayoutError("_co_code does not hold co_code")
    known = _KNOWN_CACHE_OFF.get(_VER)
    if known is not None and known != off:
        raise LayoutError("code-object cache pointer at offset %d, expected "
                          "%d for %d.%d" % ((off, known) + _VER))
    del code_bytes, outer, inner, ns
    return off


if _VER >= (3, 11):
    _CACHE_OFF = _calibrate_code_cache()


# --------------------------------------------------------------------------
# Heap types: ht_slots
#
# A class with __slots__ holds, in PyHeapTypeObject.ht_slots, a tuple of the
# slot names (mangled, sorted, without __dict__/__weakref__) that nothing
# else references and that gc.get_referents(type) does not visit.  Up to 3.13
# the tuple was created GC-tracked, so gc.get_objects() found it (unless a
# collection had untracked it); since 3.14 (gh-139951) tuples of untracked
# items are created untracked and the tuple is reachable only through the
# type.  Its offset (x86-64, DWARF of
# the builds): 856 (3.11), 864 (3.12-3.14), 872 (3.15); it is calibrated on
# _SlotsProbe below and checked against this table.

_KNOWN_HT_SLOTS_OFF = {} if _FT else {(3, 11): 856, (3, 12): 864, (3, 13): 864,
                                      (3, 14): 864, (3, 15): 872}
_HT_SLOTS_OFF = None


class _SlotsProbe(object):
    # not in sorted order: ht_slots is a new, sorted tuple
    __slots__ = ("_probe_b", "_probe_a")


def _calibrate_ht_slots():
    """Offset of ht_slots in PyHeapTypeObject, found on _SlotsProbe.

    ht_name, ht_slots and ht_qualname are adjacent in every version: look
    for the words holding the ids of __name__ and __qualname__ two words
    apart (comparisons only: an unknown word is never dereferenced)."""
    base = id(_SlotsProbe)
    name = id(_T_NAME(_SlotsProbe))
    qualname = id(_T_QUALNAME(_SlotsProbe))
    found = [off for off in range(0, type.__basicsize__ - 23, 8)
             if _rd(base + off) == name and _rd(base + off + 16) == qualname]
    if len(found) != 1:
        raise LayoutError("cannot calibrate ht_slots: ht_name/ht_qualname "
                          "pattern at offsets %r" % (found,))
    off = found[0] + 8
    p = _rd(base + off)
    if not p or _rd(p + _OB_TYPE) != id(tuple) or \
            _obj_at(p) != ("_probe_a", "_probe_b"):
        raise LayoutError("no ht_slots tuple at offset %d" % off)
    known = _KNOWN_HT_SLOTS_OFF.get(_VER)
    if known is not None and known != off:
        raise LayoutError("ht_slots at offset %d, expected %d for %d.%d"
                          % ((off, known) + _VER))
    return off


def _ht_slots(t):
    """ht_slots of heap type t, or None."""
    p = _rd(id(t) + _HT_SLOTS_OFF)
    if not p:
        return None
    if _rd(p + _OB_TYPE) != id(tuple):
        raise LayoutError("type %r: ht_slots is not a tuple" % (t,))
    return _obj_at(p)


if _VER >= (3, 11):
    _HT_SLOTS_OFF = _calibrate_ht_slots()


def _code_fields(c, out):
    """Append the objects held by code object c to list out."""
    for a in _CODE_ATTRS:
        v = getattr(c, a, None)
        if v is not None:
            out.append(v)
    if _VER < (3, 11):
        return
    base = id(c)
    if _rd(base + _OFF_CONSTS) != id(c.co_consts) or \
            _rd(base + _OFF_NAMES) != id(c.co_names):
        raise LayoutError("code object %r: co_consts/co_names not at "
                          "offsets 24/32" % (c,))
    pn = _rd(base + _OFF_LPNAMES)
    pk = _rd(base + _OFF_LPKINDS)
    if not pn or not pk or _rd(pn + _OB_TYPE) != id(tuple) or \
            _rd(pk + _OB_TYPE) != id(bytes):
        raise LayoutError("code object %r: no tuple/bytes at offsets 96/104"
                          % (c,))
    names = _obj_at(pn)
    kinds = _obj_at(pk)
    if len(names) != len(kinds):
        raise LayoutError("code object %r: co_localsplusnames and "
                          "co_localspluskinds differ in length" % (c,))
    out.append(names)
    out.append(kinds)
    p = _rd(base + _CACHE_OFF)
    if not p:
        return
    if not _CACHE_IS_STRUCT:                   # 3.11: PyObject *_co_code
        if _rd(p + _OB_TYPE) != id(bytes):
            raise LayoutError("code object %r: _co_code is not bytes" % (c,))
        out.append(_obj_at(p))
        return
    for i, want in enumerate((bytes, tuple, tuple, tuple)):
        q = _rd(p + 8 * i)
        if q:
            if _rd(q + _OB_TYPE) != id(want):
                raise LayoutError("code object %r: _co_cached field %d is not "
                                  "a %s" % (c, i, want.__name__))
            out.append(_obj_at(q))


# --------------------------------------------------------------------------
# kinds

def kind_of(t):
    """'module.qualname' of type t; module omitted for builtins (and when
    the type has no usable __module__)."""
    try:
        qn = _T_QUALNAME(t)
    except Exception:
        qn = None
    if not isinstance(qn, str):
        try:
            qn = _T_NAME(t)
        except Exception:
            qn = None
        if not isinstance(qn, str):
            qn = "?"
    try:
        mod = _T_MODULE(t)
    except Exception:
        mod = None
    if not isinstance(mod, str) or mod == "builtins":
        return qn
    return mod + "." + qn


# --------------------------------------------------------------------------

def _frame_roots(frame, out):
    """Append roots for frame and its f_back chain."""
    new_locals = _VER >= (3, 11)
    f = frame
    while f is not None:
        out.append(f)
        out.append(f.f_code)
        out.append(f.f_globals)
        out.append(f.f_builtins)
        if new_locals:
            loc = f.f_locals
            if type(loc) is dict:
                out.append(loc)
                out.extend(dict.values(loc))
            else:
                out.extend(loc.values())
            del loc
        f = f.f_back


def _walk(objs, caller, extra_roots, exclude):
    """The actual computation; returns the result dict."""
    roots = objs            # extended in place; objs is ours anyway
    # --- thread frames
    frames = sys._current_frames()
    me = _thread.get_ident()
    for tid, f in frames.items():
        if tid == me:
            f = caller
        _frame_roots(f, roots)
    f = None
    frames.clear()
    del frames
    roots.extend(sys.modules.values())
    roots.append(builtins.__dict__)
    roots.append(sys.__dict__)
    roots.extend(extra_roots)

    # --- closure
    seen = {}               # id -> object (keeps the objects alive)
    for i in exclude:
        seen[i] = None
    work = roots
    roots = objs = None
    dict_ = dict
    type_ = type
    code_ = _CodeType
    CHUNK = 20000
    while work:
        batch = []
        for o in work:
            i = id(o)
            if i not in seen:
                seen[i] = o
                batch.append(o)
        work = None
        nxt = []
        for s in range(0, len(batch), CHUNK):
            nxt.extend(_get_referents(*batch[s:s + CHUNK]))
        for o in batch:
            # type(o), not isinstance(): proxies (weakref.proxy, mocks)
            # forward __class__ to something else.
            t = type_(o)
            if t is dict_:
                nxt.extend(_dict_keys(o))
            elif t is code_:
                _code_fields(o, nxt)
            elif issubclass(t, dict_):
                nxt.extend(_dict_keys(o))
            elif _frozendict is not None and issubclass(t, _frozendict):
                nxt.extend(_frozendict_keys(o))
            elif issubclass(t, type_):
                nxt.append(_T_MRO(o))
                nxt.append(_T_BASES(o))
                b = _T_BASE(o)
                if b is not None:
                    nxt.append(b)
                mp = _T_DICT(o)
                nxt.extend(_get_referents(mp))
                mp = None
                if _T_FLAGS(o) & _HEAPTYPE:
                    nxt.append(_T_NAME(o))
                    nxt.append(_T_QUALNAME(o))
                    if _HT_SLOTS_OFF is not None:
                        sl = _ht_slots(o)
                        if sl is not None:
                            nxt.append(sl)
                        sl = None
        o = t = None
        batch = None
        work = nxt
        nxt = None

    # --- accounting
    for i in exclude:
        del seen[i]
    per_type = {}           # id(type) -> [type, count, size]
    size_errors = 0
    tracked = 0
    is_tracked = gc.is_tracked
    for o in seen.values():
        t = type_(o)
        if is_tracked(o):
            tracked += 1
        try:
            sz = _getsizeof(o)
        except Exception:
            sz = 0
            size_errors += 1
        rec = per_type.get(id(t))
        if rec is None:
            per_type[id(t)] = [t, 1, sz]
        else:
            rec[1] += 1
            rec[2] += sz
    o = t = rec = None
    seen.clear()
    seen = None
    rows = {}
    tc = ts = 0
    for t, c, s in per_type.values():
        k = kind_of(t)
        r = rows.get(k)
        if r is None:
            rows[k] = {"count": c, "size": s}
        else:
            r["count"] += c
            r["size"] += s
        tc += c
        ts += s
    t = r = None
    per_type.clear()
    per_type = None
    return {"python": _PYTHON_VERSION,
            "total": {"count": tc, "size": ts},
            "rows": rows,
            "size_errors": size_errors,
            "tracked": tracked}


def compute(extra_roots=()):
    """Compute the ground-truth heap summary (see the module docstring)."""
    gc.disable()
    objs = gc.get_objects()     # first: nothing of ours exists yet
    if gc.get_freeze_count():
        n = gc.get_freeze_count()
        objs = None
        raise RuntimeError("%d objects in the permanent generation; call "
                           "gc.unfreeze() before groundtruth.compute()" % n)
    me = sys._getframe()
    caller = me.f_back
    exclude = (id(objs), id(me))
    try:
        result = _walk(objs, caller, tuple(extra_roots), exclude)
    finally:
        # Drop everything that refers to frames or to the visited objects so
        # nothing of ours outlives this call (a frame object kept alive by
        # its own locals would be cyclic garbage that heapscope finds in the
        # GC lists, since the GC is disabled).
        objs = caller = me = exclude = None
    return result


if __name__ == "__main__":          # manual check
    import json
    gc.unfreeze()
    r = compute()
    print(json.dumps({"python": r["python"], "total": r["total"],
                      "kinds": len(r["rows"]),
                      "size_errors": r["size_errors"]}))
    print("len(gc.get_objects()) =", len(gc.get_objects()))
