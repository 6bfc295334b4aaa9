/*
 * Who refers to each object: the graph's edges reversed, in compressed
 * sparse rows like the out-edges.  Reads only the graph.
 */
#ifndef HEAPSCOPE_REFERRERS_H
#define HEAPSCOPE_REFERRERS_H

#include <stddef.h>
#include <stdint.h>

#include "heapscope/graph.h"

struct hs_referrers {
	uint64_t *start;       /* count + 1 entries */
	struct hs_edge *edges; /* .dst is the referring object, .label its edge's */
	size_t count;          /* objects */
};

int hs_referrers_build(const struct hs_graph *g, struct hs_referrers *out);
void hs_referrers_release(struct hs_referrers *r);

/* In-edges of an object, in the order of the referrers' numbers. */
static inline const struct hs_edge *hs_referrers_of(const struct hs_referrers *r, uint32_t obj,
						    const struct hs_edge **end)
{
	*end = r->edges + r->start[obj + 1];
	return r->edges + r->start[obj];
}

#endif
