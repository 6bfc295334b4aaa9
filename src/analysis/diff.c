#include "heapscope/diff.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"

/* One type of either graph, to be sorted by name. */
struct named_type {
	const char *name;
	uint32_t type;
	uint8_t side; /* 0: old, 1: new */
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named_type *)a)->name, ((const struct named_type *)b)->name);
}

static int cmp_growth(const void *a, const void *b)
{
	const struct hs_diff_row *x = a, *y = b;
	int64_t cx = hs_diff_count_change(x), cy = hs_diff_count_change(y);
	int64_t sx = hs_diff_size_change(x), sy = hs_diff_size_change(y);

	if (cx != cy)
		return cx > cy ? -1 : 1;
	if (sx != sy)
		return sx > sy ? -1 : 1;
	return strcmp(x->kind, y->kind);
}

/* Rows by kind name: every type of both graphs gets the row of its name
 * (row_of[side][type]). */
static int make_rows(const struct hs_graph *g[2], uint32_t *row_of[2], struct hs_diff *d)
{
	size_t n = g[0]->type_count + g[1]->type_count, k = 0;
	struct named_type *all = malloc((n ? n : 1) * sizeof(*all));

	if (!all || !(d->rows = calloc(n ? n : 1, sizeof(*d->rows)))) {
		free(all);
		return hs_error(HS_ENOMEM, "comparing snapshots");
	}
	for (uint8_t side = 0; side < 2; side++)
		for (uint32_t t = 0; t < g[side]->type_count; t++)
			all[k++] = (struct named_type){g[side]->types[t].name, t, side};
	if (n)
		qsort(all, n, sizeof(*all), cmp_named);
	for (size_t i = 0; i < n; i++) {
		if (!d->count || strcmp(d->rows[d->count - 1].kind, all[i].name))
			d->rows[d->count++].kind = all[i].name;
		row_of[all[i].side][all[i].type] = (uint32_t)(d->count - 1);
	}
	free(all);
	return 0;
}

int hs_diff_build(const struct hs_graph *old, const struct hs_graph *new,
		  struct hs_diff *out)
{
	const struct hs_graph *g[2] = {old, new};
	uint32_t *row_of[2];
	uint64_t kept = 0;
	int err;

	memset(out, 0, sizeof(*out));
	row_of[0] = malloc((old->type_count ? old->type_count : 1) * sizeof(uint32_t));
	row_of[1] = malloc((new->type_count ? new->type_count : 1) * sizeof(uint32_t));
	if (!row_of[0] || !row_of[1])
		err = hs_error(HS_ENOMEM, "comparing snapshots");
	else
		err = make_rows(g, row_of, out);
	if (err < 0)
		goto out;
	for (size_t i = 0; i < old->count; i++) {
		struct hs_diff_row *r = &out->rows[row_of[0][old->type[i]]];

		r->old_count++;
		r->old_size += old->size[i];
		out->old_size += old->size[i];
	}
	for (size_t i = 0; i < new->count; i++) {
		uint32_t row = row_of[1][new->type[i]], o = hs_graph_find(old, new->addr[i]);
		struct hs_diff_row *r = &out->rows[row];

		r->new_count++;
		r->new_size += new->size[i];
		out->new_size += new->size[i];
		if (o != HS_NO_OBJECT && row_of[0][old->type[o]] == row) {
			kept++;
			continue;
		}
		r->added++;
		r->added_size += new->size[i];
	}
	out->old_count = old->count;
	out->new_count = new->count;
	out->added = new->count - kept;
	out->removed = old->count - kept;
	if (out->count)
		qsort(out->rows, out->count, sizeof(*out->rows), cmp_growth);
out:
	free(row_of[0]);
	free(row_of[1]);
	if (err < 0)
		hs_diff_release(out);
	return err;
}

void hs_diff_release(struct hs_diff *d)
{
	free(d->rows);
	memset(d, 0, sizeof(*d));
}

int hs_diff_added_of(const struct hs_graph *old, const struct hs_graph *new,
		     const char *kind, uint32_t **objs, size_t *n)
{
	bool *of_kind = calloc(new->type_count ? new->type_count : 1, sizeof(*of_kind));
	size_t cap = 0;

	*objs = NULL;
	*n = 0;
	if (!of_kind)
		return hs_error(HS_ENOMEM, "selecting new objects");
	for (size_t t = 0; t < new->type_count; t++)
		of_kind[t] = !strcmp(new->types[t].name, kind);
	for (uint32_t i = 0; i < new->count; i++) {
		uint32_t o;

		if (!of_kind[new->type[i]])
			continue;
		o = hs_graph_find(old, new->addr[i]);
		if (o != HS_NO_OBJECT && !strcmp(old->types[old->type[o]].name, kind))
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			uint32_t *grown = realloc(*objs, ncap * sizeof(*grown));

			if (!grown) {
				free(of_kind);
				free(*objs);
				*objs = NULL;
				return hs_error(HS_ENOMEM, "selecting new objects");
			}
			*objs = grown;
			cap = ncap;
		}
		(*objs)[(*n)++] = i;
	}
	free(of_kind);
	return 0;
}
