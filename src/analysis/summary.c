#include "heapscope/summary.h"

#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"

static int cmp_rows_by_size(const void *a, const void *b)
{
	const struct hs_summary_row *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->kind, y->kind);
}

static int cmp_rows_by_kind(const void *a, const void *b)
{
	return strcmp(((const struct hs_summary_row *)a)->kind,
		      ((const struct hs_summary_row *)b)->kind);
}

int hs_summary_by_type(const struct hs_graph *g, struct hs_summary *out)
{
	struct hs_summary_row *rows;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	rows = calloc(g->type_count ? g->type_count : 1, sizeof(*rows));
	if (!rows)
		return hs_error(HS_ENOMEM, "summarising %zu types", g->type_count);
	for (size_t t = 0; t < g->type_count; t++)
		rows[t].kind = g->types[t].name;
	for (size_t i = 0; i < g->count; i++) {
		rows[g->type[i]].count++;
		rows[g->type[i]].size += g->size[i];
		out->total_count++;
		out->total_size += g->size[i];
	}
	/* distinct types with one name (two classes Node in one module)
	 * share a row, as in Heapy */
	qsort(rows, g->type_count, sizeof(*rows), cmp_rows_by_kind);
	for (size_t t = 0; t < g->type_count; t++) {
		if (!rows[t].count)
			continue;
		if (n && strcmp(rows[n - 1].kind, rows[t].kind) == 0) {
			rows[n - 1].count += rows[t].count;
			rows[n - 1].size += rows[t].size;
		} else {
			rows[n++] = rows[t];
		}
	}
	qsort(rows, n, sizeof(*rows), cmp_rows_by_size);
	out->rows = rows;
	out->count = n;
	return 0;
}

void hs_summary_release(struct hs_summary *s)
{
	free(s->rows);
	memset(s, 0, sizeof(*s));
}
