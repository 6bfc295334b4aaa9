#!/usr/bin/env python3
"""A fake heapscope, for testing the e2e harness itself (not heapscope).

It implements the CLI contract by reading the ground truth that
heap_target.py wrote (found through /proc/PID/cmdline), so with
MOCK_MODE=good every check of test_summary.py / test_errors.py passes.
Other modes inject one fault each and the suite must fail:

    drop_via   a Via* own kind missing        size2pct  str sizes +2 %
    ownsize    an own kind 8 bytes off         extra500  500 objects of a new kind
    five       5 objects of a new kind (passes) count30  tuple count +30 (passes)
    threads    wrong thread count              exit1     exit status 1
    stop       leaves the target stopped       badtext   broken Cumulative column
    trunc      text table with "<N more rows>" (passes)

    MOCK_MODE=drop_via tests/e2e/test_summary.py \\
        --heapscope tests/e2e/mock_heapscope.py --python-version 3.12
"""
import json, os, sys, signal
mode = os.environ.get("MOCK_MODE", "good")
def usage(rc):
    (sys.stdout if rc == 0 else sys.stderr).write("usage: heapscope {summary,info} PID [--json]\n  summary  heap summary\n  info     target info\n  --json\n")
    sys.exit(rc)
a = sys.argv[1:]
if not a: usage(64)
if a[0] == "--help": usage(0)
cmd = a[0]
if cmd not in ("summary", "info"): usage(64)
rest = a[1:]
if "--help" in rest: usage(0)
js = False; ls = None; pos = []
i = 0
while i < len(rest):
    x = rest[i]
    if x == "--json": js = True
    elif x == "--layout-source": ls = rest[i+1]; i += 1
    elif x.startswith("-"): usage(64)
    else: pos.append(x)
    i += 1
if len(pos) != 1 or not pos[0].isdigit(): usage(64)
pid = int(pos[0])
try:
    argv = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")
except OSError:
    sys.stderr.write("heapscope: process %d: no such process\n" % pid); sys.exit(2)
argv = [x.decode() for x in argv]
if "--truth" not in argv:
    sys.stderr.write("heapscope: process %d is not a Python process\n" % pid); sys.exit(2)
truth = json.load(open(argv[argv.index("--truth") + 1]))
rows = {k: dict(v) for k, v in truth["rows"].items()}
if mode == "drop_via": del rows["hs_target_classes.ViaGenLocal"]
if mode == "size2pct": rows["str"]["size"] = int(rows["str"]["size"] * 1.02)
if mode == "ownsize": rows["hs_target_classes.MyInt"]["size"] += 8
if mode == "extra500": rows["bogus"] = {"count": 500, "size": 500 * 32}
if mode == "five": rows["bogus"] = {"count": 5, "size": 5 * 32}
if mode == "count30": rows["tuple"]["count"] += 30
tgt = {"pid": pid, "python": truth["python"], "layout_source": ls or "dwarf", "threads": truth["threads"]}
if mode == "threads": tgt["threads"] += 1
if cmd == "info":
    print(json.dumps({"target": tgt}) if js else "pid %d python %s" % (pid, truth["python"])); sys.exit(0)
rl = sorted(({"kind": k, "count": v["count"], "size": v["size"]} for k, v in rows.items()), key=lambda r: -r["size"])
tc = sum(r["count"] for r in rl); ts = sum(r["size"] for r in rl)
if mode == "stop": os.kill(pid, signal.SIGSTOP)
rc = 1 if mode == "exit1" else 0
if js:
    print(json.dumps({"target": tgt, "capture": {"paused_ms": 1.5, "bytes_read": 12345}, "partition": "type",
        "total": {"count": tc, "size": ts}, "rows": rl, "skipped": {"objects": 3 if rc else 0}}))
else:
    print("Partition of a set of %d objects. Total size = %d bytes." % (tc, ts))
    print(" Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)")
    cum = 0
    show = rl if mode != "trunc" else rl[:10]
    for i, r in enumerate(show):
        cum += r["size"]
        if mode == "badtext" and i == 3: cum += 1
        print("%6d %6d %3d %8d %3d %9d %3d %s" % (i, r["count"], 100*r["count"]//tc, r["size"], 100*r["size"]//ts, cum, 100*cum//ts, r["kind"]))
    if mode == "trunc": print("<%d more rows. Type e.g. '_.more' to view.>" % (len(rl) - 10))
sys.exit(rc)
