#!/usr/bin/env python3
"""heapscope e2e: the graph queries (referrers, show, cycles, summary --by).

    test_refs.py --heapscope BIN (--python-version 3.12 | --python PATH)
                 [--chroot NAME] [--layout-source X] [--sessions S]
                 [--parents P] [--children C] [--garbage K] [--chain N]
                 [--timeout SECONDS] [--deadline SECONDS]

Starts tests/targets/refs_target.py under the interpreter.  Its heap (see
that file): S Session objects in hs_refs_registry.REGISTRY['sessions'], one
Session in the local 'sess' of handle() in each of the threads "worker-1"
and "worker-2", P Parent objects with C Child objects each (parent <->
child cycles) in REGISTRY['parents'], a chain of N slotted Node objects
from hs_refs_registry.CHAIN, and K garbage pairs of Cyc and of CycDel (with
__del__).  The target computes the ground truth itself (addresses, paths,
sizes, refcounts, the shapes of the parent/child cycles, and the kinds of
gc.garbage in a forked copy collected with gc.DEBUG_SAVEALL).  Checks:

  a) referrers --type hs_refs_app.Session: S+2 objects, 3 path shapes
     (the registry's [*], one per worker thread's frame local), counts,
     origins, hops == len(example) - 1, the example ends at a Session;
  b) referrers --type hs_refs_app.Child: one shape, P*C objects;
  c) referrers --addr of REGISTRY['sessions'][17] (and of a Parent and of
     each worker's Session): the concrete path;
  d) referrers --addr of the chain's last node: "CHAIN(.next)*M";
  e) referrers --type hs_refs_app.Node --paths 3: N shapes, the 3 shortest;
  f) show ADDR: kind, size, refcount, referrers and referents;
  g) cycles --all: the parent/child shapes; cycles --garbage --all: the
     Cyc and CycDel counts of gc.garbage, finalizer flags, no live kind in
     garbage;
  h) summary --by clodo/generation/module/size: rows add up, "untracked",
     the hs_refs_app module row;
  i) text output and --dot of a); every exit status 0 or 1 (1 =
     incomplete: reported, not a failure), never 2; the target is not left
     stopped or traced and still answers ping.

Exit 0 pass, 1 fail, 77 skip (no interpreter / chroot).  Python 3.8
compatible.
"""

import argparse
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hstest  # noqa: E402
from hstest import log  # noqa: E402

APP = "hs_refs_app"
REG = "hs_refs_registry"
SESSION = APP + ".Session"
PARENT = APP + ".Parent"
CHILD = APP + ".Child"
CYC = APP + ".Cyc"
CYCDEL = APP + ".CycDel"
NODE = APP + ".Node"
ALIVE_KINDS = (PARENT, CHILD, SESSION, NODE)
ORIGIN_KINDS = ("module", "thread", "interpreter", "gc-only", "external",
                "garbage")
HEX_RE = re.compile(r"^0x[0-9a-f]+$")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def fmt(v):
    return json.dumps(v, sort_keys=True)


def mismatch(what, expected, got):
    return "%s:\n    expected: %s\n    got:      %s" % (what, fmt(expected),
                                                      fmt(got))


def addr_int(a):
    if isinstance(a, str) and HEX_RE.match(a):
        return int(a, 16)
    return None


def wild(n, index):
    """Index text of a path shape over n objects: [*] when it varies."""
    return "[*]" if n > 1 else "[%d]" % index


def chain_path(hops):
    if hops >= 4:
        return "%s.CHAIN(.next)*%d" % (REG, hops)
    return "%s.CHAIN%s" % (REG, ".next" * hops)


def thread_path(native_id, name):
    return "<thread %d \"%s\"> frame handle() local 'sess'" % (native_id,
                                                              name)


def thread_path_re(name):
    return re.compile(r"^<thread \d+ \"%s\"> frame handle\(\) local 'sess'$"
                      % re.escape(name))


# --------------------------------------------------------------------------
# running heapscope

class Runner(object):
    def __init__(self, ck, heapscope, target, timeout, deadline,
                 layout_source):
        self.ck = ck
        self.heapscope = heapscope
        self.t = target
        self.timeout = timeout
        self.deadline = deadline
        self.layout_source = layout_source
        self.incomplete = []        # commands that exited 1

    def run(self, args, parse_json=True):
        """Run `heapscope args...` (PID is args[1]); returns (res, doc) or
        (res, None); res is None when the deadline has passed."""
        cmd = [self.heapscope] + [str(a) for a in args]
        if self.layout_source:
            cmd += ["--layout-source", self.layout_source]
        label = "`%s`" % " ".join(str(a) for a in args)
        left = self.deadline - time.monotonic()
        if left <= 5:
            self.ck.fail("%s not run: the test's deadline has passed" % label)
            return None, None
        timeout = min(self.timeout, left)
        res = hstest.run(cmd, timeout)
        log(res.describe())
        hstest.check_target_ok(self.ck, self.t, "after %s" % label)
        if res.timed_out:
            self.ck.fail("%s timed out after %.0f s" % (label, timeout))
            return res, None
        if res.returncode == 1:
            self.incomplete.append(label)
            log("note: %s exited 1 (result incomplete)" % label)
        elif res.returncode != 0:
            self.ck.fail("%s exit status %s (expected 0, or 1 = incomplete)"
                         "%s" % (label, res.returncode,
                                 ": " + res.stderr.strip()[:400]
                                 if res.stderr.strip() else ""))
            return res, None
        if not parse_json:
            return res, None
        try:
            doc = json.loads(res.stdout)
        except ValueError as e:
            self.ck.fail("%s: stdout is not one JSON document (%s); first "
                         "500 chars:\n%s" % (label, e, res.stdout[:500]))
            return res, None
        if not self.ck.check(isinstance(doc, dict), "%s: the JSON document "
                             "is not an object" % label):
            return res, None
        if "complete" in doc:
            self.ck.check(doc["complete"] is (res.returncode == 0),
                          mismatch("%s: 'complete' vs exit status %d"
                                   % (label, res.returncode),
                                   res.returncode == 0, doc["complete"]))
        return res, doc


# --------------------------------------------------------------------------
# referrers documents

def check_example(ck, label, p, want_kind):
    """Self-consistency of one path entry; returns its example or None."""
    name = "%s path %r" % (label, p.get("path"))
    ex = p.get("example")
    if not ck.check(isinstance(ex, list) and ex, "%s: 'example' is not a "
                    "non-empty list: %s" % (name, fmt(ex))):
        return None
    ck.check(is_int(p.get("count")) and p["count"] > 0,
             "%s: count %s" % (name, fmt(p.get("count"))))
    hops = p.get("hops")
    ck.check(hops == len(ex) - 1,
             mismatch("%s: hops == len(example) - 1 (example of %d elements)"
                      % (name, len(ex)), len(ex) - 1, hops))
    bad = []
    for i, h in enumerate(ex):
        # a 3.11+ frame is not an object: it starts the chain without an
        # address, the frame slot's object follows with the slot's edge
        frame = (i == 0 and isinstance(h, dict) and h.get("addr") is None
                 and h.get("kind") == "frame")
        if not isinstance(h, dict) or (addr_int(h.get("addr")) is None
                                       and not frame) or \
                not isinstance(h.get("kind"), str):
            bad.append("element %d: %s" % (i, fmt(h)))
        elif i == 0 and h.get("edge") is not None:
            bad.append("element 0 has edge %s (expected null)"
                       % fmt(h.get("edge")))
        elif i > 0 and not (isinstance(h.get("edge"), str) and h["edge"]):
            bad.append("element %d has edge %s (expected a text)"
                       % (i, fmt(h.get("edge"))))
    ck.check(not bad, "%s: malformed example:\n    %s"
             % (name, "\n    ".join(bad[:10])))
    last = ex[-1] if isinstance(ex[-1], dict) else {}
    ck.check(last.get("kind") == want_kind,
             mismatch("%s: kind of the example's last object" % name,
                      want_kind, last.get("kind")))
    ck.check(isinstance(p.get("example_path"), str) and p["example_path"],
             "%s: example_path %s" % (name, fmt(p.get("example_path"))))
    o = p.get("origin")
    if ck.check(isinstance(o, dict), "%s: origin %s" % (name, fmt(o))):
        ck.check(o.get("kind") in ORIGIN_KINDS,
                 "%s: origin kind %s is not one of %s"
                 % (name, fmt(o.get("kind")), ", ".join(ORIGIN_KINDS)))
    return ex


def check_referrers_doc(ck, label, doc, query, want_kind, objects,
                        reached=None):
    """Fields common to every referrers document; returns the paths."""
    q = doc.get("query")
    if "addr" in query:         # 0x7f.. however it is written
        ok = isinstance(q, dict) and set(q) == set(["addr"]) and \
            addr_int(q.get("addr")) == addr_int(query["addr"])
    else:
        ok = q == query
    ck.check(ok, mismatch("%s: query" % label, query, q))
    ck.check(doc.get("objects") == objects,
             mismatch("%s: objects" % label, objects, doc.get("objects")))
    if reached is None:
        reached = objects
    ck.check(doc.get("reached") == reached,
             mismatch("%s: reached" % label, reached, doc.get("reached")))
    for k in ("target", "capture"):
        ck.check(isinstance(doc.get(k), dict), "%s: no %r object" % (label, k))
    paths = doc.get("paths")
    if not ck.check(isinstance(paths, list), "%s: 'paths' is not a list: %s"
                    % (label, fmt(paths)[:300])):
        return []
    paths = [p for p in paths if ck.check(isinstance(p, dict), "%s: path "
                                          "entry %s is not an object"
                                          % (label, fmt(p)))]
    for p in paths:
        check_example(ck, label, p, want_kind)
    keys = [(-p.get("count", 0), p.get("hops", 0)) for p in paths
            if is_int(p.get("count")) and is_int(p.get("hops"))]
    ck.check(keys == sorted(keys), "%s: paths not sorted by count desc, "
             "then hops asc: %s" % (label, fmt([(p.get("count"),
                                                 p.get("hops"))
                                                for p in paths])))
    ck.check(is_int(doc.get("paths_total")) and
             doc["paths_total"] >= len(paths),
             "%s: paths_total %s, %d paths printed"
             % (label, fmt(doc.get("paths_total")), len(paths)))
    return paths


def path_table(paths):
    return "\n".join("      %6s  hops %-5s %s  [%s]"
                     % (p.get("count"), p.get("hops"), p.get("path"),
                        (p.get("origin") or {}).get("kind"))
                     for p in paths) or "      (none)"


def find_path(paths, text):
    for p in paths:
        if p.get("path") == text:
            return p
    return None


def check_session_type(ck, hs, t, truth):
    """a) referrers --type Session (JSON)."""
    pid = t.pid
    S = truth["params"]["sessions"]
    n = truth["kinds"][SESSION]
    label = "referrers --type %s" % SESSION
    res, doc = hs.run(["referrers", pid, "--type", SESSION, "--json"])
    if doc is None:
        return
    paths = check_referrers_doc(ck, label, doc, {"type": SESSION}, SESSION, n)
    expected = []
    if S:
        expected.append({"path": "%s.REGISTRY['sessions']%s"
                         % (REG, wild(S, 0)),
                         "count": S, "origin": {"kind": "module",
                                                "name": REG}})
    for w in truth["threads"]:
        expected.append({"path": thread_path(w["native_id"], w["name"])
                         if w["native_id"] is not None else None,
                         "name": w["name"], "native_id": w["native_id"],
                         "count": 1, "origin": {"kind": "thread"}})
    ck.check(doc.get("paths_total") == len(expected),
             mismatch("%s: paths_total" % label, len(expected),
                      doc.get("paths_total")))
    missing = []
    for e in expected:
        if e["path"] is not None:
            p = find_path(paths, e["path"])
        else:
            rx = thread_path_re(e["name"])
            p = next((x for x in paths if rx.match(str(x.get("path")))), None)
        if p is None:
            missing.append(e["path"] or "<thread N \"%s\"> ..." % e["name"])
            continue
        ck.check(p.get("count") == e["count"],
                 mismatch("%s: count of %s" % (label, p.get("path")),
                          e["count"], p.get("count")))
        o = p.get("origin") or {}
        if e["origin"]["kind"] == "module":
            got = {"kind": o.get("kind"), "name": o.get("name")}
            ck.check(got == e["origin"], mismatch(
                "%s: origin of %s" % (label, e["path"]), e["origin"], got))
            ep = p.get("example_path")
            ck.check(isinstance(ep, str) and re.match(
                r"^%s\.REGISTRY\['sessions'\]\[\d+\]$" % REG, ep),
                mismatch("%s: example_path of %s" % (label, e["path"]),
                         "%s.REGISTRY['sessions'][<index>]" % REG, ep))
        else:
            want = {"kind": "thread", "thread_name": e["name"],
                    "function": "handle"}
            if e["native_id"] is not None:
                want["native_id"] = e["native_id"]
            got = dict((k, o.get(k)) for k in want)
            ck.check(got == want, mismatch("%s: origin of %s"
                                           % (label, p.get("path")),
                                           want, got))
            ck.check(is_int(o.get("thread_id")),
                     "%s: origin of %s: thread_id %s" % (
                         label, p.get("path"), fmt(o.get("thread_id"))))
            sess = next(x["session_addr"] for x in
                        truth["objects"]["worker_sessions"]
                        if x["name"] == e["name"])
            ex = p.get("example") or [{}]
            got_addr = ex[-1].get("addr") if isinstance(ex[-1], dict) \
                else None
            ck.check(addr_int(got_addr) == addr_int(sess),
                     mismatch("%s: %s: address of the example's Session "
                              "(handle()'s local 'sess')"
                              % (label, e["name"]), sess, got_addr))
    if missing:
        ck.fail("%s: path(s) missing:\n    expected: %s\n    got:\n%s"
                % (label, "\n              ".join(missing),
                   path_table(paths)))
    else:
        ck.ok("%s: %d objects, paths %s" % (label, n, fmt(
            [(p.get("path"), p.get("count")) for p in paths])))


def check_child_type(ck, hs, t, truth):
    """b) referrers --type Child."""
    P, C = truth["params"]["parents"], truth["params"]["children"]
    n = truth["kinds"][CHILD]
    label = "referrers --type %s" % CHILD
    res, doc = hs.run(["referrers", t.pid, "--type", CHILD, "--json"])
    if doc is None:
        return
    paths = check_referrers_doc(ck, label, doc, {"type": CHILD}, CHILD, n)
    if not n:
        return
    want = "%s.REGISTRY['parents']%s.children%s" % (REG, wild(P, 0),
                                                    wild(C, 0))
    p = find_path(paths, want)
    if ck.check(p is not None, "%s: path missing:\n    expected: %s (count "
                "%d)\n    got:\n%s" % (label, want, n, path_table(paths))):
        ck.check(p.get("count") == n, mismatch("%s: count of %s"
                                               % (label, want), n,
                                               p.get("count")))
        o = p.get("origin") or {}
        got = {"kind": o.get("kind"), "name": o.get("name")}
        ck.check(got == {"kind": "module", "name": REG},
                 mismatch("%s: origin" % label,
                          {"kind": "module", "name": REG}, got))
    ck.check(doc.get("paths_total") == 1,
             mismatch("%s: paths_total" % label, 1, doc.get("paths_total")))


def check_addr(ck, hs, t, what, addr, kind, want_path, want_hops=None):
    """c), d): referrers --addr; the first path is the expected one."""
    label = "referrers --addr %s (%s)" % (addr, what)
    res, doc = hs.run(["referrers", t.pid, "--addr", addr, "--json"])
    if doc is None:
        return
    paths = check_referrers_doc(ck, label, doc, {"addr": addr}, kind, 1)
    if not ck.check(paths, "%s: no path" % label):
        return
    p = paths[0]
    ok = ck.check(p.get("path") == want_path,
                  mismatch("%s: first path" % label, want_path,
                           p.get("path")))
    ck.check(p.get("count") == 1,
             mismatch("%s: count" % label, 1, p.get("count")))
    if want_path is not None and "*" not in want_path:
        ck.check(p.get("example_path") == want_path,
                 mismatch("%s: example_path" % label, want_path,
                          p.get("example_path")))
    ex = p.get("example") or [{}]
    last = ex[-1].get("addr") if isinstance(ex[-1], dict) else None
    ck.check(addr_int(last) == addr_int(addr),
             mismatch("%s: address of the example's last object" % label,
                      addr, last))
    if want_hops is not None:
        ck.check(p.get("hops") == want_hops,
                 mismatch("%s: hops (module, its __dict__, then one hop per "
                          "step: the __dict__ hop is counted)" % label,
                          want_hops, p.get("hops")))
    if ok:
        ck.ok("%s: %s" % (label, want_path))


def check_node_paths(ck, hs, t, truth):
    """e) referrers --type Node --paths 3."""
    N = truth["kinds"][NODE]
    label = "referrers --type %s --paths 3" % NODE
    res, doc = hs.run(["referrers", t.pid, "--type", NODE, "--paths", 3,
                       "--json"])
    if doc is None:
        return
    paths = check_referrers_doc(ck, label, doc, {"type": NODE}, NODE, N)
    ck.check(doc.get("paths_total") == N,
             mismatch("%s: paths_total (every node has its own depth)"
                      % label, N, doc.get("paths_total")))
    want = [{"path": chain_path(i), "count": 1, "hops": i + 2}
            for i in range(min(3, N))]
    got = [{"path": p.get("path"), "count": p.get("count"),
            "hops": p.get("hops")} for p in paths]
    if ck.check(got == want, mismatch("%s: the paths printed" % label, want,
                                      got)):
        ck.ok("%s: %s" % (label, ", ".join(p["path"] for p in want)))


# --------------------------------------------------------------------------
# show

def edges_of(obj, key):
    v = obj.get(key)
    return [e for e in v if isinstance(e, dict)] if isinstance(v, list) \
        else None


def check_show(ck, hs, t, truth):
    """f) show ADDR for REGISTRY['sessions'][17]."""
    s = truth["objects"].get("session")
    if not s:
        return
    addr = s["addr"]
    label = "show %s (REGISTRY['sessions'][%d])" % (addr, s["index"])
    res, doc = hs.run(["show", t.pid, addr, "--json"])
    if doc is None:
        return
    obj = doc.get("object")
    if not ck.check(isinstance(obj, dict), "%s: no 'object' object: %s"
                    % (label, fmt(doc)[:300])):
        return
    ck.check(addr_int(obj.get("addr")) == addr_int(addr),
             mismatch("%s: addr" % label, addr, obj.get("addr")))
    ck.check(obj.get("kind") == SESSION,
             mismatch("%s: kind" % label, SESSION, obj.get("kind")))
    ck.check(obj.get("size") == s["size"],
             mismatch("%s: size (sys.getsizeof in the target)" % label,
                      s["size"], obj.get("size")))
    ck.check(obj.get("refcount") == s["refcount"], mismatch(
        "%s: refcount (sys.getrefcount(REGISTRY['sessions'][%d]) was %d in "
        "the target, one of them its own argument; the only holder is the "
        "list, referrer kinds %s)" % (label, s["index"], s["getrefcount"],
                                      s["referrer_kinds"]),
        s["refcount"], obj.get("refcount")))
    ck.check(obj.get("generation") is not None,
             "%s: generation %s" % (label, fmt(obj.get("generation"))))
    ck.check(isinstance(obj.get("roots"), list),
             "%s: roots %s" % (label, fmt(obj.get("roots"))))
    rr = edges_of(obj, "referrers")
    if ck.check(rr is not None, "%s: referrers is not a list" % label):
        want = {"addr": s["list_addr"], "kind": "list",
                "edge": "[%d]" % s["index"]}
        hit = [e for e in rr if e.get("kind") == "list" and
               e.get("edge") == want["edge"]]
        if ck.check(hit, mismatch("%s: referrers include" % label, want,
                                  rr)):
            ck.check(any(addr_int(e.get("addr")) == addr_int(s["list_addr"])
                         for e in hit),
                     mismatch("%s: address of the referring list "
                              "(REGISTRY['sessions'])" % label,
                              s["list_addr"], [e.get("addr") for e in hit]))
        ck.check(len(rr) == len(s["referrer_kinds"]),
                 mismatch("%s: referrer kinds (gc.get_referrers in the "
                          "target)" % label, s["referrer_kinds"],
                          sorted(str(e.get("kind")) for e in rr)))
    rf = edges_of(obj, "referents")
    if not ck.check(rf is not None, "%s: referents is not a list" % label):
        return
    direct = [e for e in rf if e.get("edge") == ".name"]
    if direct:
        ck.check(direct[0].get("kind") == "str",
                 mismatch("%s: kind of referent .name" % label, "str",
                          direct[0].get("kind")))
        return
    # an instance with a real __dict__ (3.8-3.10, a materialized dict):
    # the attribute is a referent of the dict
    d = [e for e in rf if e.get("edge") == ".__dict__"]
    if not ck.check(d, mismatch("%s: referents include" % label,
                                {"edge": ".name", "kind": "str"}, rf)):
        return
    log("note: %s: 'name' is held by the instance's __dict__ (%s); showing "
        "it" % (label, d[0].get("addr")))
    label2 = "show %s (the __dict__ of REGISTRY['sessions'][%d])" \
        % (d[0].get("addr"), s["index"])
    res, doc2 = hs.run(["show", t.pid, d[0].get("addr"), "--json"])
    if doc2 is None:
        return
    obj2 = doc2.get("object") or {}
    rf2 = edges_of(obj2, "referents") or []
    hit = [e for e in rf2 if e.get("edge") in (".name", "['name']")]
    if ck.check(hit, mismatch("%s: referents include" % label2,
                              {"edge": "['name']", "kind": "str"}, rf2)):
        ck.check(hit[0].get("kind") == "str",
                 mismatch("%s: kind of 'name'" % label2, "str",
                          hit[0].get("kind")))


# --------------------------------------------------------------------------
# cycles

def group_totals(ck, label, g):
    """{kind: objects} over all components of group g.  The document's
    "kinds" may count the objects of all the group's components or of one
    component: "objects" (all of them) tells which."""
    kinds = g.get("kinds")
    comps = g.get("components")
    objs = g.get("objects")
    if not (isinstance(kinds, list) and is_int(comps) and comps > 0 and
            is_int(objs)):
        ck.fail("%s: malformed group %s" % (label, fmt(g)[:300]))
        return None
    d = {}
    for k in kinds:
        if not (isinstance(k, dict) and isinstance(k.get("kind"), str) and
                is_int(k.get("count")) and k["count"] > 0):
            ck.fail("%s: malformed kind %s in group %s"
                    % (label, fmt(k), fmt(g)[:300]))
            return None
        d[k["kind"]] = d.get(k["kind"], 0) + k["count"]
    s = sum(d.values())
    if s == objs:
        return d
    if s * comps == objs:
        return dict((k, v * comps) for k, v in d.items())
    ck.fail("%s: group kinds add up to %d objects, 'objects' is %d with %d "
            "component(s): %s" % (label, s, objs, comps, fmt(g)[:300]))
    return None


def check_cycles_doc(ck, label, doc):
    groups = doc.get("cycles")
    if not ck.check(isinstance(groups, list), "%s: 'cycles' is not a list"
                    % label):
        return []
    groups = [g for g in groups if isinstance(g, dict)]
    for key in ("components", "objects"):
        total = sum(g.get(key, 0) for g in groups if is_int(g.get(key)))
        ck.check(doc.get(key) == total,
                 mismatch("%s: %s (sum over all the groups)" % (label, key),
                          total, doc.get(key)))
    for g in groups:
        ck.check(isinstance(g.get("finalizer"), bool),
                 "%s: finalizer %s in group %s"
                 % (label, fmt(g.get("finalizer")), fmt(g.get("kinds"))))
        ex = g.get("example")
        ck.check(isinstance(ex, dict) and isinstance(ex.get("path"), str) and
                 isinstance(ex.get("hops"), list) and ex["hops"],
                 "%s: malformed example %s" % (label, fmt(ex)[:300]))
    return groups


def check_cycles(ck, hs, t, truth):
    """g) cycles, cycles --garbage (--all: every shape, not the largest
    10, so the groups add up to the document's totals)."""
    label = "cycles --all"
    res, doc = hs.run(["cycles", t.pid, "--all", "--json"])
    if doc is not None:
        groups = check_cycles_doc(ck, label, doc)
        found = []
        for g in groups:
            tot = group_totals(ck, label, g)
            if tot is not None:
                found.append((g, tot))
        for shape in truth["cycles"]:
            per = dict((k["kind"], k["count"]) for k in shape["kinds"])
            n = shape["components"]
            match = [(g, tot) for g, tot in found
                     if is_int(g.get("components")) and
                     all(tot.get(k, 0) == v * g["components"]
                         for k, v in per.items()) and
                     set(tot) == set(per)]
            if not match:
                near = [g for g, tot in found if PARENT in tot]
                ck.fail("%s: no group of the parent/child shape:\n"
                        "    expected: %s x %d components\n"
                        "    got (groups holding %s): %s"
                        % (label, fmt(per), n, PARENT, fmt(near)[:1500]))
                continue
            g = match[0][0]
            if ck.check(g.get("components") == n,
                        mismatch("%s: components of shape %s" % (label,
                                                                 fmt(per)),
                                 n, g.get("components"))):
                ck.ok("%s: %d components of %s" % (label, n, fmt(per)))
            ck.check(g.get("objects") == n * sum(per.values()),
                     mismatch("%s: objects of shape %s" % (label, fmt(per)),
                              n * sum(per.values()), g.get("objects")))
            ck.check(g.get("finalizer") is False,
                     mismatch("%s: finalizer of shape %s" % (label,
                                                             fmt(per)),
                              False, g.get("finalizer")))

    label = "cycles --garbage --all"
    res, doc = hs.run(["cycles", t.pid, "--garbage", "--all", "--json"])
    if doc is None:
        return
    groups = check_cycles_doc(ck, label, doc)
    gk = truth["garbage"]["kinds"]
    got = {CYC: 0, CYCDEL: 0}
    for g in groups:
        tot = group_totals(ck, label, g)
        if tot is None:
            continue
        for k in got:
            got[k] += tot.get(k, 0)
        live = sorted(k for k in ALIVE_KINDS if k in tot)
        ck.check(not live, "%s: a garbage group holds live kind(s) %s: %s"
                 % (label, ", ".join(live), fmt(g)[:400]))
        if CYCDEL in tot:
            ck.check(g.get("finalizer") is True,
                     mismatch("%s: finalizer of group %s" % (label,
                                                             fmt(tot)),
                              True, g.get("finalizer")))
        elif CYC in tot:
            ck.check(g.get("finalizer") is False,
                     mismatch("%s: finalizer of group %s" % (label,
                                                             fmt(tot)),
                              False, g.get("finalizer")))
    want = {CYC: gk.get(CYC, 0), CYCDEL: gk.get(CYCDEL, 0)}
    if ck.check(got == want, mismatch(
            "%s: objects of the app's garbage kinds (gc.garbage of a forked "
            "copy after gc.collect() with DEBUG_SAVEALL)" % label, want,
            got)):
        ck.ok("%s: %s" % (label, fmt(got)))


# --------------------------------------------------------------------------
# summary --by

def check_summary_by(ck, hs, t, truth):
    """h) summary --by clodo / generation / module / size."""
    for by in ("clodo", "generation", "module", "size"):
        label = "summary --by %s" % by
        res, doc = hs.run(["summary", t.pid, "--by", by, "--json"])
        if doc is None:
            continue
        ck.check(doc.get("partition") == by,
                 mismatch("%s: partition" % label, by, doc.get("partition")))
        total = doc.get("total")
        rows = doc.get("rows")
        if not ck.check(isinstance(total, dict) and is_int(total.get("count"))
                        and is_int(total.get("size")) and
                        isinstance(rows, list) and rows,
                        "%s: no total {count, size} or no rows" % label):
            continue
        byk = {}
        for r in rows:
            if not (isinstance(r, dict) and isinstance(r.get("kind"), str) and
                    is_int(r.get("count")) and is_int(r.get("size"))):
                ck.fail("%s: malformed row %s" % (label, fmt(r)))
                continue
            ck.check(r["kind"] not in byk, "%s: row %r listed twice"
                     % (label, r["kind"]))
            byk[r["kind"]] = (r["count"], r["size"])
        sums = {"count": sum(c for c, s in byk.values()),
                "size": sum(s for c, s in byk.values())}
        ck.check(sums == {"count": total["count"], "size": total["size"]},
                 mismatch("%s: the rows' sums vs total" % label,
                          {"count": total["count"], "size": total["size"]},
                          sums))
        if by == "clodo":
            n = truth["kinds"][SESSION]
            got = byk.get(SESSION, (0, 0))[0]
            ck.check(got == n, mismatch("%s: row %s (the instances)"
                                        % (label, SESSION), n, got))
            d = byk.get("dict of " + SESSION)
            log("%s: 'dict of %s': %s" % (label, SESSION,
                                          "%d objects" % d[0] if d else
                                          "no row (no materialized dicts)"))
        elif by == "generation":
            ck.check("untracked" in byk, mismatch(
                "%s: rows include 'untracked'" % label, "untracked",
                sorted(byk)))
        elif by == "module":
            n = truth["app_instances"]
            got = byk.get(APP, (0, 0))[0]
            ck.check(got == n, mismatch(
                "%s: row %s (instances of the classes of %s: %s)"
                % (label, APP, APP, fmt(truth["kinds"])), n, got))


# --------------------------------------------------------------------------
# text and dot

def check_text(ck, hs, t, truth):
    """i) referrers --type Session without --json, and with --dot."""
    n = truth["kinds"][SESSION]
    S = truth["params"]["sessions"]
    shapes = (1 if S else 0) + len(truth["threads"])
    label = "referrers --type %s (text)" % SESSION
    res, _ = hs.run(["referrers", t.pid, "--type", SESSION],
                    parse_json=False)
    if res is not None and res.returncode in (0, 1) and not res.timed_out:
        lines = [l.strip() for l in res.stdout.splitlines()]
        head = "%d of %d %s objects, %d distinct paths" % (n, n, SESSION,
                                                           shapes)
        # the line may go on (" (most common first):")
        ck.check(any(l.startswith(head) for l in lines),
                 mismatch("%s: a header line starting with" % label, head,
                          lines[:5]))
        if S:
            want = "%s.REGISTRY['sessions']%s" % (REG, wild(S, 0))
            ck.check(any(want in l for l in lines),
                     mismatch("%s: a line with the path" % label, want,
                              lines[:20]))
    label = "referrers --type %s --dot" % SESSION
    res, _ = hs.run(["referrers", t.pid, "--type", SESSION, "--dot"],
                    parse_json=False)
    if res is not None and res.returncode in (0, 1) and not res.timed_out:
        ck.check(res.stdout.lstrip().startswith("digraph"),
                 mismatch("%s: output starts with" % label, "digraph",
                          res.stdout[:80]))


# --------------------------------------------------------------------------

def check_truth(ck, truth, version, ready_tracked, params):
    """Sanity of the ground truth itself (a failure here is a test bug)."""
    ck.check(truth["python"] == version, "ground truth python %r, "
             "interpreter says %r" % (truth["python"], version))
    ck.check(truth["params"] == params,
             mismatch("GROUND TRUTH (test bug): the target's parameters",
                      params, truth["params"]))
    if ready_tracked is not None:
        ck.check(ready_tracked == truth["tracked"], "GROUND TRUTH STALE (test "
                 "bug): %d GC-tracked objects when ready, %d before the "
                 "ground truth was computed: computing it changed the heap"
                 % (ready_tracked, truth["tracked"]))
    ck.check(not truth["errors"], "GROUND TRUTH BROKEN (test bug):\n  "
             + "\n  ".join(truth["errors"]))
    ck.check(len(truth["threads"]) == 2 and
             [w["name"] for w in truth["threads"]] == ["worker-1", "worker-2"],
             mismatch("GROUND TRUTH (test bug): worker threads",
                      ["worker-1", "worker-2"],
                      [w["name"] for w in truth["threads"]]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--heapscope", required=True)
    ap.add_argument("--python-version", default=None,
                    help="minor version, e.g. 3.12 (newest pyenv install)")
    ap.add_argument("--python", default=None, help="interpreter to use")
    ap.add_argument("--chroot", default=None, metavar="NAME",
                    help="run the target in this chroot (made by "
                    "tests/chroots/make-chroot NAME); --python is then "
                    "the interpreter's path inside it")
    ap.add_argument("--layout-source", default=None)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--parents", type=int, default=50)
    ap.add_argument("--children", type=int, default=3)
    ap.add_argument("--garbage", type=int, default=20)
    ap.add_argument("--chain", type=int, default=None,
                    help="nodes of the linked list (default 1000, with --deep 1000000)")
    ap.add_argument("--deep", action="store_true",
                    help="only the checks that walk the linked list (d, e) and "
                         "the cycles (g): for a long list on every interpreter")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per heapscope run (default 120 + "
                    "chain / 10000)")
    ap.add_argument("--ready-timeout", type=float, default=120.0,
                    help="seconds for the target to build its heap")
    ap.add_argument("--deadline", type=float, default=540.0,
                    help="seconds for the whole test once the target runs")
    args = ap.parse_args(argv)
    if args.chain is None:
        args.chain = 1000000 if args.deep else 1000
    if min(args.sessions, args.parents, args.children, args.garbage, args.chain) < 1:
        ap.error("--sessions, --parents, --children, --garbage and --chain "
                 "must be >= 1")
    hstest.install_signal_handlers()

    python, version, root = hstest.select_interpreter(ap, args)
    heapscope = hstest.heapscope_or_die(args.heapscope)
    timeout = args.timeout or (120.0 + args.chain / 10000.0)
    log("interpreter: %s (Python %s)%s" % (python, version,
                                           " in chroot %s" % root
                                           if root else ""))
    log("heapscope:   %s" % heapscope)

    params = {"sessions": args.sessions, "parents": args.parents,
              "children": args.children, "garbage": args.garbage,
              "chain": args.chain, "threads": 2}
    extra = []
    for k in ("sessions", "parents", "children", "garbage", "chain"):
        extra += ["--%s" % k, str(params[k])]
    ck = hstest.Checker()
    name = "e2e-refs-%s%s" % ("deep-" if args.deep else "", version)
    try:
        with hstest.Target(python, script="refs_target.py", extra_args=extra,
                           chroot=root,
                           ready_timeout=args.ready_timeout) as t:
            deadline = time.monotonic() + args.deadline
            truth = t.truth
            log("target pid %d: %s (build %.2f s, truth %.2f s)"
                % (t.pid, fmt(truth["kinds"]), truth["build_seconds"],
                   truth["truth_seconds"]))
            log("ground truth: objects %s" % fmt(truth["objects"]))
            log("ground truth: parent/child cycles %s" % fmt(truth["cycles"]))
            log("ground truth: app kinds in gc.garbage %s" % fmt(
                dict((k, v) for k, v in truth["garbage"]["kinds"].items()
                     if k.startswith(APP + "."))))
            check_truth(ck, truth, version, t.ready_tracked, params)
            if not ck.check(t.ping(), "target does not answer ping before "
                            "heapscope ran (harness problem)"):
                return ck.finish(name)
            hs = Runner(ck, heapscope, t, timeout, deadline,
                        args.layout_source)
            objs = truth["objects"]

            if not args.deep:
                check_session_type(ck, hs, t, truth)               # a
                check_child_type(ck, hs, t, truth)                 # b
                s = objs["session"]                                # c
                check_addr(ck, hs, t, "REGISTRY['sessions'][%d]" % s["index"],
                           s["addr"], SESSION, s["path"])
                check_addr(ck, hs, t, "REGISTRY['parents'][0]",
                           objs["parent"]["addr"], PARENT, objs["parent"]["path"])
                for w in objs["worker_sessions"]:
                    check_addr(ck, hs, t, "Session of %s" % w["name"],
                               w["session_addr"], SESSION, w["path"])
            c = objs["chain_last"]                                 # d
            check_addr(ck, hs, t, "last node of the chain", c["addr"], NODE,
                       c["path"], want_hops=c["hops"] + 2)
            check_node_paths(ck, hs, t, truth)                     # e
            if not args.deep:
                check_show(ck, hs, t, truth)                       # f
            check_cycles(ck, hs, t, truth)                         # g
            if not args.deep:
                check_summary_by(ck, hs, t, truth)                 # h
                check_text(ck, hs, t, truth)                       # i
            hstest.check_target_ok(ck, t, "at the end")
            if hs.incomplete:
                log("\nnote: %d command(s) exited 1 (result incomplete):\n  %s"
                    % (len(hs.incomplete), "\n  ".join(hs.incomplete)))
    except hstest.TargetError as e:
        ck.fail("target: %s" % e)
    return ck.finish(name)


if __name__ == "__main__":
    sys.exit(main())
