#!/usr/bin/env python3
"""Derive a layout table for releases no DWARF build is available for.

usage: derive-layout.py BASE.layout --covers 3.N.LO-3.N.HI --origin TEXT
           [--size NAME=BYTES]... [--shift-after FIELD:DELTA]... > OUT.layout

--shift-after F:D adds D to every field of F's struct that lies after F,
and to the sizes of that struct and of the runtime (the main interpreter
is embedded in _PyRuntime from 3.11).  A derived table says so in its
origin line; heapscope checks it against the binary like any other.
"""
import argparse
import re
import sys

# the struct each interpreter-state field belongs to, by name prefix
STRUCT_PREFIX = {"IS_": ("INTERP", "RUNTIME")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--covers", required=True)
    ap.add_argument("--origin", required=True)
    ap.add_argument("--size", action="append", default=[])
    ap.add_argument("--shift-after", action="append", default=[])
    args = ap.parse_args()
    m = re.fullmatch(r"3\.(\d+)\.(\d+)-3\.(\d+)\.(\d+)", args.covers)
    if not m or m.group(1) != m.group(3):
        ap.error("bad --covers")
    lines = open(args.base).read().splitlines()
    fields, sizes = {}, {}
    for l in lines:
        w = l.split()
        if w and w[0] == "field" and w[2] != "-":
            fields[w[1]] = int(w[2])
        if w and w[0] == "size":
            sizes[w[1]] = int(w[2])
    shifts = {}
    size_delta = {}
    for spec in args.shift_after:
        name, delta = spec.split(":")
        delta = int(delta)
        prefix = name.split("_")[0] + "_"
        if name not in fields or prefix not in STRUCT_PREFIX:
            ap.error("cannot shift after %s" % name)
        for f, off in fields.items():
            if f.startswith(prefix) and off > fields[name]:
                shifts[f] = shifts.get(f, 0) + delta
        for s in STRUCT_PREFIX[prefix]:
            size_delta[s] = size_delta.get(s, 0) + delta
    new_sizes = dict(s.split("=") for s in args.size)
    out = []
    for l in lines:
        w = l.split()
        if not w:
            out.append(l)
        elif w[0] == "covers":
            out.append("covers 3.%s.%s 3.%s.%s" % m.groups())
        elif w[0] == "origin":
            out.append("origin %s" % args.origin)
        elif w[0] == "size":
            v = int(new_sizes.get(w[1], int(w[2]) + size_delta.get(w[1], 0)))
            out.append("size %s %d" % (w[1], v))
        elif w[0] == "field" and w[1] in shifts:
            out.append("field %s %d %s" % (w[1], int(w[2]) + shifts[w[1]], w[3]))
        else:
            out.append(l)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
