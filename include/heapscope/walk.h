/*
 * The heap walk: from a captured image of a CPython process to the object
 * graph.  Reads only the memory source; never touches the process.
 *
 * The object set is Heapy's: every object in the GC generation lists (the
 * permanent generation too), the roots (interpreter state, thread states,
 * the frames of every thread), and everything reachable from them through
 * the references objects hold.  Built-in types are decoded field by
 * field; the bodies of GC types we cannot decode (C extensions) are scanned
 * for words that point at valid objects, and those edges are marked
 * conservative.  Every loop over target pointers is bounded; what is
 * inconsistent is skipped and counted in graph->skips.
 */
#ifndef HEAPSCOPE_WALK_H
#define HEAPSCOPE_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "heapscope/graph.h"
#include "heapscope/memsrc.h"
#include "heapscope/resolve.h"

struct hs_walk_opts {
	uint64_t max_objects; /* 0: no limit beyond the capture size */
};

/*
 * Walk the heap of the interpreter `py` as seen through `mem` and fill
 * `out` (initialised by the caller).  Returns 0 (check out->skips for
 * completeness) or a negative hs_err when nothing sensible can be walked
 * (e.g. no interpreter at _PyRuntime).
 */
int hs_walk(struct hs_memsrc *mem, const struct hs_python *py,
	    const struct hs_walk_opts *opts, struct hs_graph *out);

/*
 * A short text of the object `obj` of a walked graph, for showing it: the
 * repr of a str, bytes (cut after 40 characters), int, float, bool, None
 * or tuple of those.  Returns false when the object has no such text.
 */
bool hs_walk_object_text(struct hs_memsrc *mem, const struct hs_python *py,
			 struct hs_graph *g, uint32_t obj, char *buf, size_t max);

#endif
