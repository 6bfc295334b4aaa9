/*
 * Heapy's partition of the object set by type: one row per Kind with its
 * count and total size, largest size first.  Reads only the graph.
 */
#ifndef HEAPSCOPE_SUMMARY_H
#define HEAPSCOPE_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "heapscope/graph.h"

struct hs_summary_row {
	const char *kind; /* borrowed from the graph */
	uint64_t count;
	uint64_t size;
};

struct hs_summary {
	struct hs_summary_row *rows; /* sorted by size, then count, then kind */
	size_t count;
	uint64_t total_count;
	uint64_t total_size;
};

int hs_summary_by_type(const struct hs_graph *g, struct hs_summary *out);
void hs_summary_release(struct hs_summary *s);

#endif
