/*
 * Heapy's partitions of the object set: one row per Kind with its count
 * and total size, largest size first.  The Kind is the object's type by
 * default, or what --by asks for (as guppy3's by* equivalence relations).
 * Reads only the graph.
 */
#ifndef HEAPSCOPE_SUMMARY_H
#define HEAPSCOPE_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "heapscope/graph.h"

enum hs_partition {
	HS_PART_TYPE,       /* the type's name */
	HS_PART_CLODO,      /* class, or "dict of <owner's kind>" for a __dict__ */
	HS_PART_SIZE,       /* the individual size, "48" */
	HS_PART_MODULE,     /* the module of the type, "builtins" */
	HS_PART_RCS,        /* the clodo kinds of the referrers, "dict of app.Node, list" */
	HS_PART_GENERATION, /* the GC generation the object was found in */
	HS_PART_COUNT_,
};

struct hs_partition_opts {
	int py_minor; /* 3.<minor> of the target: 14+ names generations
		       * young, old[0], old[1]; 0 if unknown */
};

/* At most this many kinds name a row of the rcs partition (then ", ..."). */
#define HS_RCS_MAX_KINDS 4

struct hs_summary_row {
	const char *kind; /* borrowed from the graph, or in the summary's pool */
	uint64_t count;
	uint64_t size;
};

struct hs_summary {
	struct hs_summary_row *rows; /* sorted by size, then count, then kind */
	size_t count;
	uint64_t total_count;
	uint64_t total_size;
	char *pool;                  /* kinds made for this summary */
};

/* Partition by type (hs_summary_partition with HS_PART_TYPE). */
int hs_summary_by_type(const struct hs_graph *g, struct hs_summary *out);
/* Partition by `by`; opts may be NULL.  Rows with one Kind are one row. */
int hs_summary_partition(const struct hs_graph *g, enum hs_partition by,
			 const struct hs_partition_opts *opts, struct hs_summary *out);
void hs_summary_release(struct hs_summary *s);
/* For builders of partitions: merge the rows with one kind, drop empty
 * rows, and sort by size, then count, then kind. */
void hs_summary_finish(struct hs_summary *s);

/* "type", "clodo", "size", "module", "rcs", "generation"; NULL if unknown */
const char *hs_partition_name(enum hs_partition by);

#endif
