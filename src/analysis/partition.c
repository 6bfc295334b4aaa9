/*
 * The partitions other than by type (guppy3's byclodo, bysize, bymodule,
 * byrcs, bygeneration).  Each object gets a key of a few 32-bit words;
 * rows are counted in a hash table of keys, then named, merged by name
 * and sorted like the type partition.
 *
 * clodo: a dict's owner is its first referrer (in object order, as in
 * struct hs_referrers) whose edge to it is a __dict__ field: an instance's
 * or a type's (HS_F_TP_DICT), a module's, a function's.  One forward pass
 * over the edges finds it, so clodo needs no referrer index.
 *
 * rcs: the clodo kinds of an object's referrers as a sorted set.  A kind's
 * rank is its place among the sorted kind names, so the set is a few ranks:
 * the HS_RCS_MAX_KINDS + 1 smallest seen, which tells whether there are
 * more.  Each in-edge costs a few comparisons.
 */
#include "heapscope/summary.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/layout.h"
#include "heapscope/referrers.h"

#define KEY_WORDS (HS_RCS_MAX_KINDS + 1)
#define RCS_KEPT (HS_RCS_MAX_KINDS + 1)
/* the last key word of an rcs key: kinds in the row, and these flags */
#define RCS_COUNT_MASK 0xffu
#define RCS_MORE 0x100u
#define RCS_ROOT 0x200u
#define NO_RANK UINT32_MAX

/* NUL-terminated strings, referred to by offset while the pool grows. */
struct pool {
	char *buf;
	size_t len, cap;
};

struct prow {
	uint32_t key[KEY_WORDS];
	uint64_t count, size;
};

struct rowtab {
	struct prow *rows;
	size_t count, cap;
	uint32_t *slots;  /* row number + 1; 0 is empty */
	size_t mask;      /* slots - 1, 0 before the first row */
	size_t last;      /* the previous object's row: runs of one key are common */
};

/*
 * Clodo classes: c < ntypes is type c; ntypes + t is "dict of <type t>";
 * 2 * ntypes is "dict (no owner)".
 */
struct part {
	const struct hs_graph *g;
	enum hs_partition by;
	int py_minor;
	uint32_t ntypes;
	uint32_t *clodo;          /* per object: its clodo class */
	uint32_t *rank;           /* per clodo class: rank of its name (rcs) */
	const char **rank_name;   /* per rank, into names (rcs) */
	struct pool names;        /* clodo class names (rcs) */
	uint8_t *rooted;          /* bitmap of objects referenced by a root (rcs) */
	struct hs_referrers refs; /* (rcs) */
	struct rowtab tab;
};

static const char *const part_names[HS_PART_COUNT_] = {
	[HS_PART_TYPE] = "type",
	[HS_PART_CLODO] = "clodo",
	[HS_PART_SIZE] = "size",
	[HS_PART_MODULE] = "module",
	[HS_PART_RCS] = "rcs",
	[HS_PART_GENERATION] = "generation",
};

const char *hs_partition_name(enum hs_partition by)
{
	return (unsigned)by < HS_PART_COUNT_ ? part_names[by] : NULL;
}

/* Append n bytes (no NUL) to the string being built. */
static int pool_cat(struct pool *p, const char *s, size_t n)
{
	if (n > p->cap - p->len) {
		size_t cap = p->cap ? p->cap : 4096;
		char *buf;

		while (cap - p->len < n) {
			if (cap > SIZE_MAX / 2)
				return hs_error(HS_ENOMEM, "kind names over %zu bytes", p->len);
			cap *= 2;
		}
		if (!(buf = realloc(p->buf, cap)))
			return hs_error(HS_ENOMEM, "kind names of %zu bytes", cap);
		p->buf = buf;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	return 0;
}

static int pool_str(struct pool *p, const char *s)
{
	return pool_cat(p, s, strlen(s));
}

/* End the string that began at `start`; *off is where it is. */
static int pool_end(struct pool *p, size_t start, size_t *off)
{
	*off = start;
	return pool_cat(p, "", 1);
}

static const char *type_name(const struct hs_graph *g, uint32_t t)
{
	return t < g->type_count && g->types[t].name ? g->types[t].name : "?";
}

static const char *gen_name(int py_minor, uint32_t gen)
{
	static const char *const numbered[] = {"0", "1", "2", "permanent", "untracked"};
	/* 3.14's incremental collector: gc.get_objects(0..2) */
	static const char *const incremental[] = {"young", "old[0]", "old[1]",
						  "permanent", "untracked"};

	if (gen > HS_GEN_UNTRACKED)
		return "unknown";
	return py_minor >= 14 ? incremental[gen] : numbered[gen];
}

static uint64_t hash_key(const uint32_t *key)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < KEY_WORDS; i++) {
		h ^= key[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static int tab_grow(struct rowtab *t)
{
	size_t cap = t->mask ? (t->mask + 1) * 2 : 1024;
	uint32_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return hs_error(HS_ENOMEM, "a table of %zu partition rows", cap);
	for (size_t r = 0; r < t->count; r++) {
		size_t h = hash_key(t->rows[r].key) & (cap - 1);

		for (size_t probe = 0; probe < cap && slots[h]; probe++)
			h = (h + 1) & (cap - 1);
		slots[h] = (uint32_t)(r + 1);
	}
	free(t->slots);
	t->slots = slots;
	t->mask = cap - 1;
	return 0;
}

/* Count an object of `size` in the row of `key`. */
static int tab_add(struct rowtab *t, const uint32_t *key, uint64_t size)
{
	size_t h;
	int err;

	if (t->count && memcmp(t->rows[t->last].key, key, sizeof(t->rows->key)) == 0)
		goto found;
	if (2 * (t->count + 1) > t->mask + 1 && (err = tab_grow(t)) < 0)
		return err;
	h = hash_key(key) & t->mask;
	for (size_t probe = 0; probe <= t->mask && t->slots[h]; probe++) {
		if (memcmp(t->rows[t->slots[h] - 1].key, key, sizeof(t->rows->key)) == 0) {
			t->last = t->slots[h] - 1;
			goto found;
		}
		h = (h + 1) & t->mask;
	}
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct prow *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return hs_error(HS_ENOMEM, "%zu partition rows", cap);
		t->rows = rows;
		t->cap = cap;
	}
	memset(&t->rows[t->count], 0, sizeof(*t->rows));
	memcpy(t->rows[t->count].key, key, sizeof(t->rows->key));
	t->slots[h] = (uint32_t)(t->count + 1);
	t->last = t->count++;
found:
	t->rows[t->last].count++;
	t->rows[t->last].size += size;
	return 0;
}

static bool is_owner_label(uint32_t label)
{
	return label == HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_TP_DICT) ||
	       label == HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_MOD_DICT) ||
	       label == HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_FN_DICT);
}

static int find_clodo(struct part *p)
{
	const struct hs_graph *g = p->g;
	uint32_t unowned = 2 * p->ntypes;
	bool *is_dict = calloc(p->ntypes ? p->ntypes : 1, sizeof(*is_dict));

	p->clodo = malloc((g->count ? g->count : 1) * sizeof(*p->clodo));
	if (!is_dict || !p->clodo) {
		free(is_dict);
		return hs_error(HS_ENOMEM, "classifying %zu objects", g->count);
	}
	for (uint32_t t = 0; t < p->ntypes; t++)
		is_dict[t] = g->types[t].name && strcmp(g->types[t].name, "dict") == 0;
	for (size_t i = 0; i < g->count; i++) {
		if (g->type[i] >= p->ntypes) {
			free(is_dict);
			return hs_error(HS_EINCONSISTENT, "object %zu has type %u of %u", i,
					g->type[i], p->ntypes);
		}
		p->clodo[i] = is_dict[g->type[i]] ? unowned : g->type[i];
	}
	/* referrers in increasing order: the first owner wins */
	for (uint32_t src = 0; src < g->count; src++) {
		for (uint64_t e = g->edge_start[src]; e < g->edge_start[src + 1]; e++) {
			uint32_t dst = g->edges[e].dst;

			if (dst < g->count && p->clodo[dst] == unowned &&
			    is_owner_label(g->edges[e].label))
				p->clodo[dst] = p->ntypes + g->type[src];
		}
	}
	free(is_dict);
	return 0;
}

/* Append the kind of clodo class c to the string being built. */
static int cat_class(const struct part *p, struct pool *pool, uint32_t c)
{
	int err;

	if (c < p->ntypes)
		return pool_str(pool, type_name(p->g, c));
	if (c < 2 * p->ntypes) {
		if ((err = pool_str(pool, "dict of ")) < 0)
			return err;
		return pool_str(pool, type_name(p->g, c - p->ntypes));
	}
	return pool_str(pool, "dict (no owner)");
}

struct named {
	const char *name;
	uint32_t cls;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->cls > y->cls) - (x->cls < y->cls);
}

/* Rank every clodo class by its name; classes with one name share a rank. */
static int rank_classes(struct part *p)
{
	size_t n = 2 * (size_t)p->ntypes + 1, *off, r = 0;
	struct named *named;
	int err = 0;

	off = malloc(n * sizeof(*off));
	named = malloc(n * sizeof(*named));
	p->rank = malloc(n * sizeof(*p->rank));
	p->rank_name = malloc(n * sizeof(*p->rank_name));
	if (!off || !named || !p->rank || !p->rank_name) {
		err = hs_error(HS_ENOMEM, "ranking %zu kinds", n);
		goto out;
	}
	for (uint32_t c = 0; c < n && !err; c++) {
		size_t start = p->names.len;

		if ((err = cat_class(p, &p->names, c)) == 0)
			err = pool_end(&p->names, start, &off[c]);
	}
	if (err)
		goto out;
	/* the pool no longer moves */
	for (uint32_t c = 0; c < n; c++)
		named[c] = (struct named){p->names.buf + off[c], c};
	qsort(named, n, sizeof(*named), cmp_named);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(named[i].name, named[i - 1].name) != 0)
			r++;
		p->rank[named[i].cls] = (uint32_t)r;
		p->rank_name[r] = named[i].name;
	}
out:
	free(off);
	free(named);
	return err;
}

static int find_rooted(struct part *p)
{
	const struct hs_graph *g = p->g;

	p->rooted = calloc(g->count / 8 + 1, 1);
	if (!p->rooted)
		return hs_error(HS_ENOMEM, "marking the roots of %zu objects", g->count);
	for (size_t r = 0; r < g->root_count; r++) {
		uint32_t obj = g->roots[r].obj;

		if (obj < g->count)
			p->rooted[obj / 8] |= (uint8_t)(1u << (obj % 8));
	}
	return 0;
}

/* Insert v into the sorted set of the RCS_KEPT smallest values. */
static void set_insert(uint32_t *set, unsigned *n, uint32_t v)
{
	unsigned i = 0, last;

	while (i < *n && set[i] < v)
		i++;
	if (i == RCS_KEPT || (i < *n && set[i] == v))
		return;
	last = *n < RCS_KEPT ? (*n)++ : RCS_KEPT - 1;
	memmove(&set[i + 1], &set[i], (last - i) * sizeof(*set));
	set[i] = v;
}

static void rcs_key(const struct part *p, uint32_t obj, uint32_t *key)
{
	const struct hs_edge *e, *end;
	uint32_t set[RCS_KEPT];
	unsigned n = 0;

	for (e = hs_referrers_of(&p->refs, obj, &end); e < end; e++)
		set_insert(set, &n, p->rank[p->clodo[e->dst]]);
	for (unsigned i = 0; i < HS_RCS_MAX_KINDS; i++)
		key[i] = i < n ? set[i] : NO_RANK;
	if (n > HS_RCS_MAX_KINDS)
		key[HS_RCS_MAX_KINDS] = HS_RCS_MAX_KINDS | RCS_MORE;
	else if (n)
		key[HS_RCS_MAX_KINDS] = n;
	else
		key[HS_RCS_MAX_KINDS] = (p->rooted[obj / 8] >> (obj % 8) & 1) ? RCS_ROOT : 0;
}

static void key_of(const struct part *p, uint32_t obj, uint32_t *key)
{
	const struct hs_graph *g = p->g;

	memset(key, 0, KEY_WORDS * sizeof(*key));
	switch (p->by) {
	case HS_PART_CLODO:
		key[0] = p->clodo[obj];
		break;
	case HS_PART_SIZE:
		key[0] = (uint32_t)g->size[obj];
		key[1] = (uint32_t)(g->size[obj] >> 32);
		break;
	case HS_PART_MODULE:
		key[0] = g->type[obj];
		break;
	case HS_PART_RCS:
		rcs_key(p, obj, key);
		break;
	case HS_PART_GENERATION:
		key[0] = g->gen[obj];
		break;
	case HS_PART_TYPE:
	case HS_PART_COUNT_:
		break;
	}
}

/* Append the kind of a row to the string being built. */
static int cat_kind(const struct part *p, struct pool *pool, const uint32_t *key)
{
	const struct hs_graph *g = p->g;
	uint32_t flags = key[HS_RCS_MAX_KINDS];
	char num[24];
	int err = 0;

	switch (p->by) {
	case HS_PART_CLODO:
		return cat_class(p, pool, key[0]);
	case HS_PART_SIZE:
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)key[0] | (unsigned long long)key[1] << 32);
		return pool_str(pool, num);
	case HS_PART_MODULE:
		return pool_str(pool, key[0] < g->type_count && g->types[key[0]].module ?
				g->types[key[0]].module : "?");
	case HS_PART_GENERATION:
		return pool_str(pool, gen_name(p->py_minor, key[0]));
	case HS_PART_RCS:
		if (!(flags & RCS_COUNT_MASK))
			return pool_str(pool, flags & RCS_ROOT ? "<root>" : "<none>");
		for (unsigned i = 0; i < (flags & RCS_COUNT_MASK) && !err; i++) {
			if (i && (err = pool_str(pool, ", ")) < 0)
				break;
			err = pool_str(pool, p->rank_name[key[i]]);
		}
		if (!err && (flags & RCS_MORE))
			err = pool_str(pool, ", ...");
		return err;
	case HS_PART_TYPE:
	case HS_PART_COUNT_:
		break;
	}
	return pool_str(pool, "?");
}

static int prepare(struct part *p)
{
	int err;

	if (p->by != HS_PART_CLODO && p->by != HS_PART_RCS)
		return 0;
	if ((err = find_clodo(p)) < 0 || p->by == HS_PART_CLODO)
		return err;
	if ((err = rank_classes(p)) < 0 || (err = find_rooted(p)) < 0)
		return err;
	return hs_referrers_build(p->g, &p->refs);
}

static int count_rows(struct part *p, struct hs_summary *out)
{
	const struct hs_graph *g = p->g;
	uint32_t key[KEY_WORDS];
	int err;

	for (uint32_t i = 0; i < g->count; i++) {
		key_of(p, i, key);
		if ((err = tab_add(&p->tab, key, g->size[i])) < 0)
			return err;
		out->total_count++;
		out->total_size += g->size[i];
	}
	return 0;
}

static int name_rows(struct part *p, struct hs_summary *out)
{
	const struct rowtab *t = &p->tab;
	struct pool pool = {0};
	size_t *off;
	int err = 0;

	out->rows = calloc(t->count ? t->count : 1, sizeof(*out->rows));
	off = malloc((t->count ? t->count : 1) * sizeof(*off));
	if (!out->rows || !off) {
		free(off);
		return hs_error(HS_ENOMEM, "naming %zu partition rows", t->count);
	}
	for (size_t r = 0; r < t->count && !err; r++) {
		size_t start = pool.len;

		if ((err = cat_kind(p, &pool, t->rows[r].key)) == 0)
			err = pool_end(&pool, start, &off[r]);
	}
	if (!err) {
		/* the pool no longer moves */
		for (size_t r = 0; r < t->count; r++)
			out->rows[r] = (struct hs_summary_row){pool.buf + off[r],
							       t->rows[r].count, t->rows[r].size};
		out->count = t->count;
	}
	out->pool = pool.buf;
	free(off);
	return err;
}

static void part_release(struct part *p)
{
	free(p->clodo);
	free(p->rank);
	free(p->rank_name);
	free(p->names.buf);
	free(p->rooted);
	hs_referrers_release(&p->refs);
	free(p->tab.rows);
	free(p->tab.slots);
}

int hs_summary_partition(const struct hs_graph *g, enum hs_partition by,
			 const struct hs_partition_opts *opts, struct hs_summary *out)
{
	struct part p = {.g = g, .by = by, .py_minor = opts ? opts->py_minor : 0};
	int err;

	if (by == HS_PART_TYPE)
		return hs_summary_by_type(g, out);
	memset(out, 0, sizeof(*out));
	if ((unsigned)by >= HS_PART_COUNT_)
		return hs_error(HS_EUSAGE, "no partition number %d", (int)by);
	if (g->type_count > (UINT32_MAX - 1) / 2)
		return hs_error(HS_EINCONSISTENT, "%zu types", g->type_count);
	p.ntypes = (uint32_t)g->type_count;
	err = prepare(&p);
	if (!err)
		err = count_rows(&p, out);
	if (!err)
		err = name_rows(&p, out);
	part_release(&p);
	if (err)
		hs_summary_release(out);
	else
		hs_summary_finish(out);
	return err;
}
