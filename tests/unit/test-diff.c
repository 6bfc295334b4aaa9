/*
 * Unit test of the comparison of two graphs (diff.c) on hand-built OLD
 * and NEW graphs.  Every expected number below is worked out by hand from
 * the tables, not computed the way diff.c computes it.
 */
#include "heapscope/diff.h"

#include <stdlib.h>
#include <string.h>

#include "heapscope/graph.h"
#include "tap.h"

struct obj {
	uint64_t addr;
	uint32_t type;
	uint64_t size;
};

static void build(struct hs_graph *g, const char *const *types, size_t ntypes,
		  const struct obj *objs, size_t nobjs)
{
	hs_graph_init(g);
	for (size_t t = 0; t < ntypes; t++)
		hs_graph_add_type(g, 0x10000 + 0x100 * t, strdup(types[t]), strdup("m"));
	for (size_t i = 0; i < nobjs; i++) {
		uint32_t o = hs_graph_add_object(g, objs[i].addr, objs[i].type, objs[i].size,
						 HS_GEN_2, 1);

		hs_graph_close_edges(g, o);
	}
}

/*
 * OLD: str x3 (one freed), dict x2 (one whose address NEW reuses for a
 * str), app.Node x2 through two type objects of that name, gone.Kind x1,
 * Stay x1.
 */
static const char *const old_types[] = {"str", "dict", "app.Node", "app.Node", "gone.Kind",
					"Stay"};
static const struct obj old_objs[] = {
	{0x1000, 0, 50},  /* str, kept */
	{0x1010, 0, 50},  /* str, kept (grows to 60) */
	{0x1020, 1, 200}, /* dict, kept */
	{0x1030, 2, 64},  /* app.Node (type 2), kept as type 5 of NEW */
	{0x1040, 3, 64},  /* app.Node (type 3), kept as type 0 of NEW */
	{0x1050, 4, 32},  /* gone.Kind, removed */
	{0x1060, 5, 16},  /* Stay, kept */
	{0x1070, 1, 100}, /* dict, removed: NEW has a str here */
	{0x1080, 0, 10},  /* str, removed */
};

/* NEW: types in another order, app.Node twice again, kinds OLD lacks;
 * new objects interleaved with kept ones. */
static const char *const new_types[] = {"app.Node", "dict", "str", "new.Kind", "Stay",
					"app.Node", "b.Same", "a.Same"};
static const struct obj new_objs[] = {
	{0x1000, 2, 50},  /*  0 str, kept */
	{0x10a0, 0, 64},  /*  1 app.Node, new */
	{0x1010, 2, 60},  /*  2 str, kept */
	{0x1070, 2, 40},  /*  3 str, new: the address was a dict's */
	{0x1030, 5, 64},  /*  4 app.Node, kept */
	{0x10b0, 5, 64},  /*  5 app.Node, new */
	{0x1020, 1, 200}, /*  6 dict, kept */
	{0x1090, 2, 5},   /*  7 str, new */
	{0x10d0, 3, 8},   /*  8 new.Kind, new */
	{0x1040, 0, 64},  /*  9 app.Node, kept */
	{0x10c0, 0, 64},  /* 10 app.Node, new */
	{0x1060, 4, 16},  /* 11 Stay, kept */
	{0x10e0, 3, 8},   /* 12 new.Kind, new */
	{0x10f0, 6, 8},   /* 13 b.Same, new */
	{0x1100, 7, 8},   /* 14 a.Same, new */
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A row as expected: kind, old/new count, old/new size, added, added size. */
struct want {
	const char *kind;
	uint64_t old_count, new_count, old_size, new_size, added, added_size;
};

/* In the expected order: count growth (+3 +2 +1 +1 +1 0 -1 -1), then size
 * growth (str +45 before the +8s; gone.Kind -32 before dict -100), then
 * name (a.Same before b.Same, declared the other way round). */
static const struct want rows[] = {
	{"app.Node", 2, 5, 128, 320, 3, 192},
	{"new.Kind", 0, 2, 0, 16, 2, 16},
	{"str", 3, 4, 110, 155, 2, 45},
	{"a.Same", 0, 1, 0, 8, 1, 8},
	{"b.Same", 0, 1, 0, 8, 1, 8},
	{"Stay", 1, 1, 16, 16, 0, 0},
	{"gone.Kind", 1, 0, 32, 0, 0, 0},
	{"dict", 2, 1, 300, 200, 0, 0},
};

static bool row_is(const struct hs_diff_row *r, const struct want *w)
{
	bool same = !strcmp(r->kind, w->kind) && r->old_count == w->old_count &&
		    r->new_count == w->new_count && r->old_size == w->old_size &&
		    r->new_size == w->new_size && r->added == w->added &&
		    r->added_size == w->added_size;

	if (!same)
		diag("row %s %llu->%llu objects, %llu->%llu bytes, %llu added (%llu bytes); "
		     "expected %s", r->kind, (unsigned long long)r->old_count,
		     (unsigned long long)r->new_count, (unsigned long long)r->old_size,
		     (unsigned long long)r->new_size, (unsigned long long)r->added,
		     (unsigned long long)r->added_size, w->kind);
	return same;
}

static const struct hs_diff_row *find_row(const struct hs_diff *d, const char *kind)
{
	for (size_t i = 0; i < d->count; i++)
		if (!strcmp(d->rows[i].kind, kind))
			return &d->rows[i];
	return NULL;
}

static void test_rows(const struct hs_graph *old, const struct hs_graph *new)
{
	struct hs_diff d;
	size_t good = 0;
	int err = hs_diff_build(old, new, &d);

	if (!ok(err == 0, "hs_diff_build"))
		return;
	ok(d.count == COUNT(rows), "%zu rows: one per kind name, two type objects of one name "
	   "are one kind (expected %zu)", d.count, COUNT(rows));
	for (size_t i = 0; i < d.count && i < COUNT(rows); i++)
		good += row_is(&d.rows[i], &rows[i]);
	ok(good == COUNT(rows), "every row's counts, sizes and additions, in order (%zu of %zu)",
	   good, COUNT(rows));

	const struct hs_diff_row *node = find_row(&d, "app.Node"), *str = find_row(&d, "str"),
				 *dict = find_row(&d, "dict"), *gone = find_row(&d, "gone.Kind"),
				 *newk = find_row(&d, "new.Kind"), *stay = find_row(&d, "Stay");

	ok(node && node->old_count == 2 && node->new_count == 5 && node->added == 3,
	   "app.Node grows, matched by name across type objects: 2 kept, 3 added");
	ok(str && str->added == 2 && str->added_size == 45,
	   "str: an address reused by another kind counts as new (2 added, 45 bytes)");
	ok(str && str->new_size - str->old_size == 45 && hs_diff_size_change(str) == 45 &&
	   hs_diff_count_change(str) == 1, "str: a kept object's growth shows in its size");
	ok(dict && hs_diff_count_change(dict) == -1 && hs_diff_size_change(dict) == -100 &&
	   dict->added == 0, "dict shrinks: -1 object, -100 bytes, none added");
	ok(gone && gone->new_count == 0 && gone->new_size == 0 && hs_diff_count_change(gone) == -1,
	   "a kind only in OLD has a row with nothing new");
	ok(newk && newk->old_count == 0 && newk->added == newk->new_count && newk->new_count == 2,
	   "a kind only in NEW is all added");
	ok(stay && hs_diff_count_change(stay) == 0 && hs_diff_size_change(stay) == 0 &&
	   stay->added == 0, "a kind that stays is unchanged");
	ok(d.old_count == 9 && d.new_count == 15 && d.old_size == 586 && d.new_size == 723,
	   "totals: 9 -> 15 objects, 586 -> 723 bytes (%llu, %llu, %llu, %llu)",
	   (unsigned long long)d.old_count, (unsigned long long)d.new_count,
	   (unsigned long long)d.old_size, (unsigned long long)d.new_size);
	ok(d.added == 9 && d.removed == 3, "9 objects added, 3 removed (%llu, %llu)",
	   (unsigned long long)d.added, (unsigned long long)d.removed);
	hs_diff_release(&d);
	ok(d.rows == NULL && d.count == 0, "hs_diff_release empties the result");
}

static bool list_is(const uint32_t *objs, size_t n, const uint32_t *want, size_t nwant)
{
	return n == nwant && (n == 0 || !memcmp(objs, want, n * sizeof(*objs)));
}

static void test_added_of(const struct hs_graph *old, const struct hs_graph *new)
{
	static const struct {
		const char *kind;
		uint32_t objs[4];
		size_t n;
	} cases[] = {
		{"app.Node", {1, 5, 10}, 3},
		{"str", {3, 7}, 2},
		{"new.Kind", {8, 12}, 2},
		{"a.Same", {14}, 1},
		{"dict", {0}, 0},
		{"gone.Kind", {0}, 0},
		{"Stay", {0}, 0},
		{"no.such.Kind", {0}, 0},
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		uint32_t *objs = NULL;
		size_t n = 99;
		int err = hs_diff_added_of(old, new, cases[i].kind, &objs, &n);

		ok(err == 0 && list_is(objs, n, cases[i].objs, cases[i].n),
		   "hs_diff_added_of %s: exactly its %zu new objects, in object order (got %zu)",
		   cases[i].kind, cases[i].n, n);
		free(objs);
	}
}

/* Many new objects of one kind: the list grows past its first allocation. */
static void test_added_many(void)
{
	static const char *const types[] = {"x"};
	struct obj *objs = calloc(1000, sizeof(*objs));
	struct hs_graph old, new;
	uint32_t *list;
	size_t n, in_order = 0;

	for (size_t i = 0; i < 1000; i++)
		objs[i] = (struct obj){0x100000 + 16 * i, 0, 8};
	build(&old, types, 1, objs, 10);
	build(&new, types, 1, objs, 1000);
	ok(hs_diff_added_of(&old, &new, "x", &list, &n) == 0 && n == 990,
	   "990 of 1000 objects are new");
	for (size_t i = 0; i < n; i++)
		in_order += list[i] == 10 + i;
	ok(in_order == 990, "listed in object order");
	free(list);
	hs_graph_release(&old);
	hs_graph_release(&new);
	free(objs);
}

static void test_edge_cases(const struct hs_graph *old, const struct hs_graph *new)
{
	struct hs_graph empty;
	struct hs_diff d;
	size_t unchanged = 0;

	hs_graph_init(&empty);
	ok(hs_diff_build(new, new, &d) == 0 && d.added == 0 && d.removed == 0 &&
	   d.old_count == 15 && d.new_count == 15, "a graph against itself: nothing added or removed");
	for (size_t i = 0; i < d.count; i++)
		unchanged += !hs_diff_count_change(&d.rows[i]) && !hs_diff_size_change(&d.rows[i]) &&
			     !d.rows[i].added;
	ok(d.count == 7 && unchanged == 7, "and every one of its 7 kinds unchanged");
	hs_diff_release(&d);

	ok(hs_diff_build(new, old, &d) == 0 && d.added == 3 && d.removed == 9,
	   "swapped: 3 added, 9 removed");
	hs_diff_release(&d);

	ok(hs_diff_build(&empty, new, &d) == 0 && d.added == 15 && d.removed == 0 &&
	   d.old_size == 0 && d.new_size == 723, "from an empty graph everything is added");
	hs_diff_release(&d);

	ok(hs_diff_build(&empty, &empty, &d) == 0 && d.count == 0 && d.added == 0 &&
	   d.removed == 0, "two empty graphs: no rows");
	hs_diff_release(&d);
}

int main(void)
{
	struct hs_graph old, new;

	build(&old, old_types, COUNT(old_types), old_objs, COUNT(old_objs));
	build(&new, new_types, COUNT(new_types), new_objs, COUNT(new_objs));
	test_rows(&old, &new);
	test_added_of(&old, &new);
	test_added_many();
	test_edge_cases(&old, &new);
	hs_graph_release(&old);
	hs_graph_release(&new);
	return done();
}
