#include "heapscope/referrers.h"

#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"

int hs_referrers_build(const struct hs_graph *g, struct hs_referrers *out)
{
	uint64_t *fill;

	memset(out, 0, sizeof(*out));
	out->count = g->count;
	out->start = calloc(g->count + 1, sizeof(*out->start));
	out->edges = malloc((g->edge_count ? g->edge_count : 1) * sizeof(*out->edges));
	fill = malloc((g->count + 1) * sizeof(*fill));
	if (!out->start || !out->edges || !fill) {
		free(fill);
		hs_referrers_release(out);
		return hs_error(HS_ENOMEM, "indexing the referrers of %zu objects", g->count);
	}
	/* counting sort by destination: stable, so referrers stay in order */
	for (size_t e = 0; e < g->edge_count; e++)
		if (g->edges[e].dst < g->count)
			out->start[g->edges[e].dst + 1]++;
	for (size_t i = 0; i < g->count; i++)
		out->start[i + 1] += out->start[i];
	memcpy(fill, out->start, (g->count + 1) * sizeof(*fill));
	for (uint32_t src = 0; src < g->count; src++) {
		for (uint64_t e = g->edge_start[src]; e < g->edge_start[src + 1]; e++) {
			uint32_t dst = g->edges[e].dst;

			if (dst < g->count)
				out->edges[fill[dst]++] = (struct hs_edge){src, g->edges[e].label};
		}
	}
	free(fill);
	return 0;
}

void hs_referrers_release(struct hs_referrers *r)
{
	free(r->start);
	free(r->edges);
	memset(r, 0, sizeof(*r));
}
