/*
 * Differences between two captured graphs of one process (leak triage):
 * per kind, the objects and bytes then and now, and which objects are new.
 * An object of NEW is old when OLD had an object of the same kind at the
 * same address; anything else is new (a freed address reused by another
 * kind counts as new).  Reads only the two graphs.
 */
#ifndef HEAPSCOPE_DIFF_H
#define HEAPSCOPE_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "heapscope/graph.h"

struct hs_diff_row {
	const char *kind;       /* borrowed from one of the graphs */
	uint64_t old_count, new_count;
	uint64_t old_size, new_size;
	uint64_t added;         /* objects of NEW that OLD did not have */
	uint64_t added_size;
};

struct hs_diff {
	struct hs_diff_row *rows; /* by count growth, then size growth, then kind */
	size_t count;
	uint64_t old_count, new_count, old_size, new_size;
	uint64_t added, removed;  /* objects in NEW only, in OLD only */
};

static inline int64_t hs_diff_count_change(const struct hs_diff_row *r)
{
	return (int64_t)(r->new_count - r->old_count);
}

static inline int64_t hs_diff_size_change(const struct hs_diff_row *r)
{
	return (int64_t)(r->new_size - r->old_size);
}

int hs_diff_build(const struct hs_graph *old, const struct hs_graph *new,
		  struct hs_diff *out);
void hs_diff_release(struct hs_diff *d);

/* The objects of NEW of this kind that OLD did not have, in object order
 * (*objs malloc'ed). */
int hs_diff_added_of(const struct hs_graph *old, const struct hs_graph *new,
		     const char *kind, uint32_t **objs, size_t *n);

#endif
