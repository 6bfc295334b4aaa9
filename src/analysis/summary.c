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

void hs_summary_finish(struct hs_summary *s)
{
	size_t n = 0;

	qsort(s->rows, s->count, sizeof(*s->rows), cmp_rows_by_kind);
	for (size_t i = 0; i < s->count; i++) {
		if (!s->rows[i].count)
			continue;
		if (n && strcmp(s->rows[n - 1].kind, s->rows[i].kind) == 0) {
			s->rows[n - 1].count += s->rows[i].count;
			s->rows[n - 1].size += s->rows[i].size;
		} else {
			s->rows[n++] = s->rows[i];
		}
	}
	qsort(s->rows, n, sizeof(*s->rows), cmp_rows_by_size);
	s->count = n;
}

int hs_summary_by_type(const struct hs_graph *g, struct hs_summary *out)
{
	struct hs_summary_row *rows;

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
	out->rows = rows;
	out->count = g->type_count;
	hs_summary_finish(out);
	return 0;
}

void hs_summary_release(struct hs_summary *s)
{
	free(s->rows);
	free(s->pool);
	memset(s, 0, sizeof(*s));
}
