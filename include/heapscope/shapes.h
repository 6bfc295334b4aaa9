/*
 * Path shapes: the objects of a query (say, every app.Session) grouped
 * by the shape of their shortest path, where list indices and dict keys
 * stand for any index or key; in each group's text, those that differ
 * between the group's objects are written "[*]" and those common to all
 * are written out, as are module, attribute and local names and fields.  Built as a
 * trie over the search tree, so a million paths of a million hops cost
 * linear time.  Reads only the graph and the paths.
 */
#ifndef HEAPSCOPE_SHAPES_H
#define HEAPSCOPE_SHAPES_H

#include <stddef.h>
#include <stdint.h>

#include "heapscope/graph.h"
#include "heapscope/pathtext.h"
#include "heapscope/paths.h"

struct hs_shape_group {
	uint64_t count;      /* objects with this shape */
	uint32_t example;    /* the lowest-numbered of them */
	uint32_t hops;
	uint32_t node;       /* internal: the shape's trie node */
	uint32_t example_node; /* internal: the example's concrete path */
	uint32_t vary_first, vary_count; /* internal: hops whose key varies */
};

struct hs_shape_node;

struct hs_shapes {
	struct hs_shape_group *groups; /* by count desc, hops asc, example asc */
	size_t count;
	struct hs_shape_node *nodes;
	size_t node_count;
	uint32_t *vary;      /* hop positions where a group's keys differ */
	size_t vary_count;
};

/* Group `members` (object indices) by path shape. */
int hs_shapes_group(const struct hs_graph *g, const struct hs_paths *p,
		    const uint32_t *members, size_t n, struct hs_shapes *out);
void hs_shapes_release(struct hs_shapes *s);

/* The hops of a group's shape, with `wild` where keys vary (the caller
 * frees *hops).  The origin is the example's. */
int hs_shape_hops(const struct hs_shapes *s, const struct hs_shape_group *grp,
		  struct hs_hop **hops, size_t *n);

#endif
