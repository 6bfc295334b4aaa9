/* Unit test of the partitions: clodo, size, module, rcs, generation. */
#include "heapscope/graph.h"
#include "heapscope/layout.h"
#include "heapscope/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#define TP_DICT HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_TP_DICT)
#define MOD_DICT HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_MOD_DICT)
#define FN_DICT HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_FN_DICT)
#define INDEX(i) HS_EDGE_LABEL(HS_EDGE_INDEX, (i))
#define END UINT32_MAX

struct want {
	const char *kind;
	uint64_t count, size;
};

static uint32_t type(struct hs_graph *g, const char *name, const char *module)
{
	return hs_graph_add_type(g, 0x100 + 16 * g->type_count, strdup(name), strdup(module));
}

/* An object with edges given as dst, label pairs ending with END. */
static uint32_t obj(struct hs_graph *g, uint32_t t, uint64_t size, uint8_t gen, ...)
{
	uint32_t o = hs_graph_add_object(g, 0x10000 + 16 * g->count, t, size, gen, 1);
	va_list ap;
	uint32_t dst;

	va_start(ap, gen);
	for (int i = 0; i < 64 && (dst = va_arg(ap, uint32_t)) != END; i++)
		hs_graph_add_edge(g, dst, va_arg(ap, uint32_t));
	va_end(ap);
	hs_graph_close_edges(g, o);
	return o;
}

static void show(const struct hs_summary *s)
{
	for (size_t i = 0; i < s->count; i++)
		diag("  row %zu: %-50s %6llu %8llu", i, s->rows[i].kind,
		     (unsigned long long)s->rows[i].count, (unsigned long long)s->rows[i].size);
}

/* Exact rows in order, and totals equal to the graph's and to the rows'. */
static void check(const char *what, const struct hs_graph *g, const struct hs_summary *s,
		  const struct want *w, size_t n)
{
	uint64_t gsize = 0, rcount = 0, rsize = 0;
	bool same = s->count == n;

	for (size_t i = 0; i < g->count; i++)
		gsize += g->size[i];
	for (size_t i = 0; i < s->count; i++) {
		rcount += s->rows[i].count;
		rsize += s->rows[i].size;
	}
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(s->rows[i].kind, w[i].kind) == 0 && s->rows[i].count == w[i].count &&
		       s->rows[i].size == w[i].size;
	if (!ok(same, "%s: %zu rows as expected (got %zu)", what, n, s->count))
		show(s);
	ok(s->total_count == g->count && s->total_size == gsize && rcount == g->count &&
	   rsize == gsize, "%s: totals %llu objects, %llu bytes (graph %zu, %llu; rows %llu, %llu)",
	   what, (unsigned long long)s->total_count, (unsigned long long)s->total_size, g->count,
	   (unsigned long long)gsize, (unsigned long long)rcount, (unsigned long long)rsize);
}

/*
 * Dicts owned through each owner field, a dict without owner, a non-dict
 * and a type not named exactly "dict" behind an owner field, a dict with
 * two owners.
 */
static void test_clodo(void)
{
	struct hs_graph g;
	struct hs_summary s;

	hs_graph_init(&g);
	uint32_t t_dict = type(&g, "dict", "builtins");
	uint32_t t_user = type(&g, "app.models.User", "app.models");
	uint32_t t_mod = type(&g, "module", "builtins");
	uint32_t t_type = type(&g, "type", "builtins");
	uint32_t t_fn = type(&g, "function", "builtins");
	uint32_t t_list = type(&g, "list", "builtins");
	uint32_t t_str = type(&g, "str", "builtins");
	uint32_t t_appdict = type(&g, "app.dict", "app");

	obj(&g, t_user, 48, HS_GEN_0, 5, TP_DICT, END);          /* 0 */
	obj(&g, t_user, 48, HS_GEN_0, 6, TP_DICT, END);          /* 1 */
	obj(&g, t_mod, 72, HS_GEN_2, 7, MOD_DICT, END);          /* 2 */
	obj(&g, t_type, 900, HS_GEN_2, 8, TP_DICT, 13, TP_DICT, END); /* 3: tp_dict, str */
	obj(&g, t_fn, 150, HS_GEN_2, 9, FN_DICT, 10, INDEX(0), END); /* 4 */
	obj(&g, t_dict, 104, HS_GEN_0, END);                     /* 5 dict of User */
	obj(&g, t_dict, 104, HS_GEN_0, END);                     /* 6 dict of User */
	obj(&g, t_dict, 1000, HS_GEN_2, END);                    /* 7 dict of module */
	obj(&g, t_dict, 300, HS_GEN_2, END);                     /* 8 dict of type */
	obj(&g, t_dict, 60, HS_GEN_2, END);                      /* 9 dict of function */
	obj(&g, t_dict, 200, HS_GEN_1, END);                     /* 10 no owner: INDEX */
	obj(&g, t_list, 64, HS_GEN_1, 10, INDEX(1), 12, INDEX(0),
	    12, HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_TP_MRO), END); /* 11 */
	obj(&g, t_dict, 200, HS_GEN_1, END);                     /* 12 no owner: other field */
	obj(&g, t_str, 50, HS_GEN_UNTRACKED, END);               /* 13 str behind TP_DICT */
	obj(&g, t_fn, 150, HS_GEN_2, 16, FN_DICT, END);          /* 14 first owner of 16 */
	obj(&g, t_user, 48, HS_GEN_0, 16, TP_DICT, 17, TP_DICT, END); /* 15 */
	obj(&g, t_dict, 60, HS_GEN_2, END);                      /* 16 dict of function */
	obj(&g, t_appdict, 40, HS_GEN_0, END);                   /* 17 app.dict */

	ok(hs_summary_partition(&g, HS_PART_CLODO, NULL, &s) == 0, "clodo partition");
	static const struct want want[] = {
		{"dict of module", 1, 1000}, {"type", 1, 900}, {"dict (no owner)", 2, 400},
		{"function", 2, 300}, {"dict of type", 1, 300}, {"dict of app.models.User", 2, 208},
		{"app.models.User", 3, 144}, {"dict of function", 2, 120}, {"module", 1, 72},
		{"list", 1, 64}, {"str", 1, 50}, {"app.dict", 1, 40},
	};
	check("clodo", &g, &s, want, sizeof(want) / sizeof(want[0]));
	ok(s.pool != NULL, "clodo kinds are in the summary's pool");
	hs_summary_release(&s);
	ok(s.rows == NULL && s.pool == NULL && s.count == 0, "release empties the summary");

	/* the type partition is unchanged: dicts are all "dict" */
	ok(hs_summary_partition(&g, HS_PART_TYPE, NULL, &s) == 0, "type partition");
	static const struct want by_type[] = {
		{"dict", 8, 2028}, {"type", 1, 900}, {"function", 2, 300},
		{"app.models.User", 3, 144}, {"module", 1, 72}, {"list", 1, 64},
		{"str", 1, 50}, {"app.dict", 1, 40},
	};
	check("type", &g, &s, by_type, sizeof(by_type) / sizeof(by_type[0]));
	hs_summary_release(&s);
	hs_graph_release(&g);
}

/*
 * Object 0 (str) has 1M referrers of 6 kinds (two types are named
 * app.Node; one owner of a referring dict); 1 has 4 kinds; 2 one kind
 * twice over; 3 only roots; 4 nothing; 5 a root and a referrer.
 */
static void test_rcs(void)
{
	enum { MANY = 1 << 20 };
	struct hs_graph g;
	struct hs_summary s;
	int err = 0;

	hs_graph_init(&g);
	uint32_t t_str = type(&g, "str", "builtins");
	uint32_t t_list = type(&g, "list", "builtins");
	uint32_t t_tuple = type(&g, "tuple", "builtins");
	uint32_t t_set = type(&g, "set", "builtins");
	uint32_t t_dict = type(&g, "dict", "builtins");
	uint32_t t_node = type(&g, "app.Node", "app");
	uint32_t t_node2 = type(&g, "app.Node", "app");
	uint32_t t_user = type(&g, "app.models.User", "app.models");

	obj(&g, t_str, 50, HS_GEN_UNTRACKED, END);           /* 0 */
	obj(&g, t_str, 60, HS_GEN_UNTRACKED, END);           /* 1 */
	obj(&g, t_str, 70, HS_GEN_UNTRACKED, END);           /* 2 */
	obj(&g, t_str, 80, HS_GEN_UNTRACKED, END);           /* 3 */
	obj(&g, t_str, 90, HS_GEN_UNTRACKED, END);           /* 4 */
	obj(&g, t_str, 100, HS_GEN_UNTRACKED, END);          /* 5 */
	obj(&g, t_user, 48, HS_GEN_0, 7, TP_DICT, END);      /* 6 owns 7 */
	obj(&g, t_dict, 104, HS_GEN_0, 0, HS_EDGE_LABEL(HS_EDGE_VALUE, 0), END); /* 7 */
	obj(&g, t_dict, 104, HS_GEN_0, 0, HS_EDGE_LABEL(HS_EDGE_VALUE, 0),
	    1, HS_EDGE_LABEL(HS_EDGE_VALUE, 0), END);        /* 8 no owner */
	obj(&g, t_node2, 48, HS_GEN_0, 0, HS_EDGE_LABEL(HS_EDGE_ATTR, 0),
	    1, HS_EDGE_LABEL(HS_EDGE_ATTR, 0), END);         /* 9 */
	obj(&g, t_set, 216, HS_GEN_0, 1, HS_EDGE_LABEL(HS_EDGE_SET_ITEM, 0),
	    0, HS_EDGE_LABEL(HS_EDGE_SET_ITEM, 0), END);     /* 10 */
	obj(&g, t_list, 64, HS_GEN_0, 2, INDEX(0), 5, INDEX(1), END); /* 11 */
	obj(&g, t_list, 64, HS_GEN_0, 2, INDEX(0), 2, INDEX(1), 1, INDEX(0), END); /* 12 */
	const uint32_t kinds[3] = {t_list, t_tuple, t_node};

	for (uint32_t i = 0; i < MANY; i++)
		err |= obj(&g, kinds[i % 3], 8, HS_GEN_1, 0, INDEX(0), END) == HS_NO_OBJECT;
	ok(err == 0, "%d referrers added", MANY);
	hs_graph_add_root(&g, &(struct hs_root){.obj = 3, .kind = HS_ROOT_INTERP,
						.frame = HS_NO_OBJECT});
	hs_graph_add_root(&g, &(struct hs_root){.obj = 3, .kind = HS_ROOT_THREAD,
						.frame = HS_NO_OBJECT});
	hs_graph_add_root(&g, &(struct hs_root){.obj = 5, .kind = HS_ROOT_THREAD,
						.frame = HS_NO_OBJECT});

	ok(hs_summary_partition(&g, HS_PART_RCS, NULL, &s) == 0, "rcs partition");
	/* 4, 6 and 8..12 and the MANY have no referrers */
	static const struct want want[] = {
		{"<none>", 7 + MANY, 90 + 48 + 104 + 48 + 216 + 64 + 64 + 8ull * MANY},
		{"list", 2, 170},
		{"app.models.User", 1, 104},
		{"<root>", 1, 80},
		{"app.Node, dict (no owner), list, set", 1, 60},
		{"app.Node, dict (no owner), dict of app.models.User, list, ...", 1, 50},
	};
	check("rcs", &g, &s, want, sizeof(want) / sizeof(want[0]));
	hs_summary_release(&s);

	/* clodo of the same graph: the two app.Node types share a row */
	const uint64_t nodes = (MANY - 2) / 3 + 1;
	const struct want clodo[] = {
		{"list", (MANY + 2) / 3 + 2, 8 * ((MANY + 2) / 3) + 128},
		{"app.Node", nodes + 1, 8 * nodes + 48},
		{"tuple", (MANY + 1) / 3, 8 * ((MANY + 1) / 3)},
		{"str", 6, 450},
		{"set", 1, 216},
		{"dict (no owner)", 1, 104},
		{"dict of app.models.User", 1, 104},
		{"app.models.User", 1, 48},
	};
	ok(hs_summary_partition(&g, HS_PART_CLODO, NULL, &s) == 0, "clodo partition");
	check("clodo, many", &g, &s, clodo, sizeof(clodo) / sizeof(clodo[0]));
	hs_summary_release(&s);
	hs_graph_release(&g);
}

static void test_size(void)
{
	struct hs_graph g;
	struct hs_summary s;

	hs_graph_init(&g);
	uint32_t t_a = type(&g, "a", "m");
	uint32_t t_b = type(&g, "b", "m");

	obj(&g, t_a, 48, HS_GEN_0, END);
	obj(&g, t_b, 48, HS_GEN_0, END);
	obj(&g, t_a, 48, HS_GEN_2, END);
	obj(&g, t_a, 1000, HS_GEN_0, END);
	obj(&g, t_b, 56, HS_GEN_0, END);
	obj(&g, t_b, 56, HS_GEN_0, END);
	obj(&g, t_a, 50, HS_GEN_0, END);
	obj(&g, t_a, 50, HS_GEN_0, END);
	obj(&g, t_a, 100, HS_GEN_0, END);
	obj(&g, t_b, 1ull << 33, HS_GEN_0, END);
	obj(&g, t_b, 0, HS_GEN_0, END);
	/* (1 << 32) + 48 must not fall in the row of 48 */
	obj(&g, t_b, (1ull << 32) + 48, HS_GEN_0, END);

	ok(hs_summary_partition(&g, HS_PART_SIZE, NULL, &s) == 0, "size partition");
	static const struct want want[] = {
		{"8589934592", 1, 1ull << 33}, {"4294967344", 1, (1ull << 32) + 48},
		{"1000", 1, 1000}, {"48", 3, 144}, {"56", 2, 112}, {"50", 2, 100},
		{"100", 1, 100}, {"0", 1, 0},
	};
	check("size", &g, &s, want, sizeof(want) / sizeof(want[0]));
	hs_summary_release(&s);
	hs_graph_release(&g);

	/* 3000 sizes, three objects each, never two in a row: the row table
	 * grows and its probes meet other keys */
	enum { SIZES = 3000 };
	bool rows_ok = true;

	hs_graph_init(&g);
	t_a = type(&g, "a", "m");
	for (uint32_t i = 0; i < 3 * SIZES; i++)
		obj(&g, t_a, (i * 7919u) % SIZES + 1, HS_GEN_0, END);
	ok(hs_summary_partition(&g, HS_PART_SIZE, NULL, &s) == 0 && s.count == SIZES,
	   "%d sizes: %d rows (got %zu)", SIZES, SIZES, s.count);
	for (size_t i = 0; i < s.count && rows_ok; i++) {
		char kind[16];

		snprintf(kind, sizeof(kind), "%zu", SIZES - i);
		rows_ok = strcmp(s.rows[i].kind, kind) == 0 && s.rows[i].count == 3 &&
			  s.rows[i].size == 3 * (SIZES - i);
		if (!rows_ok)
			diag("row %zu: %s %llu %llu", i, s.rows[i].kind,
			     (unsigned long long)s.rows[i].count, (unsigned long long)s.rows[i].size);
	}
	ok(rows_ok, "row i is size %d - i, 3 objects", SIZES);
	hs_summary_release(&s);
	hs_graph_release(&g);
}

static void test_module(void)
{
	struct hs_graph g;
	struct hs_summary s;

	hs_graph_init(&g);
	uint32_t t_str = type(&g, "str", "builtins");
	uint32_t t_user = type(&g, "app.models.User", "app.models");
	uint32_t t_group = type(&g, "app.models.Group", "app.models");
	uint32_t t_app = type(&g, "app.App", "app");
	uint32_t t_int = type(&g, "int", "builtins");

	obj(&g, t_str, 50, HS_GEN_UNTRACKED, END);
	obj(&g, t_int, 28, HS_GEN_UNTRACKED, END);
	obj(&g, t_user, 48, HS_GEN_0, END);
	obj(&g, t_group, 48, HS_GEN_0, END);
	obj(&g, t_app, 100, HS_GEN_0, END);
	obj(&g, t_int, 22, HS_GEN_UNTRACKED, END);

	ok(hs_summary_partition(&g, HS_PART_MODULE, NULL, &s) == 0, "module partition");
	static const struct want want[] = {
		{"builtins", 3, 100}, {"app", 1, 100}, {"app.models", 2, 96},
	};
	check("module", &g, &s, want, sizeof(want) / sizeof(want[0]));
	hs_summary_release(&s);
	hs_graph_release(&g);
}

static void test_generation(void)
{
	struct hs_graph g;
	struct hs_summary s;

	hs_graph_init(&g);
	uint32_t t = type(&g, "x", "m");

	obj(&g, t, 10, HS_GEN_0, END);
	obj(&g, t, 10, HS_GEN_0, END);
	obj(&g, t, 10, HS_GEN_1, END);
	obj(&g, t, 40, HS_GEN_2, END);
	obj(&g, t, 5, HS_GEN_PERMANENT, END);
	obj(&g, t, 100, HS_GEN_UNTRACKED, END);
	obj(&g, t, 1, HS_GEN_PERMANENT, END);

	ok(hs_summary_partition(&g, HS_PART_GENERATION, &(struct hs_partition_opts){.py_minor = 12},
				&s) == 0, "generation partition (3.12)");
	static const struct want want[] = {
		{"untracked", 1, 100}, {"2", 1, 40}, {"0", 2, 20}, {"1", 1, 10}, {"permanent", 2, 6},
	};
	check("generation 3.12", &g, &s, want, sizeof(want) / sizeof(want[0]));
	hs_summary_release(&s);

	ok(hs_summary_partition(&g, HS_PART_GENERATION, &(struct hs_partition_opts){.py_minor = 14},
				&s) == 0, "generation partition (3.14)");
	static const struct want want14[] = {
		{"untracked", 1, 100}, {"old[1]", 1, 40}, {"young", 2, 20}, {"old[0]", 1, 10},
		{"permanent", 2, 6},
	};
	check("generation 3.14", &g, &s, want14, sizeof(want14) / sizeof(want14[0]));
	hs_summary_release(&s);

	ok(hs_summary_partition(&g, HS_PART_GENERATION, NULL, &s) == 0 && s.count == 5 &&
	   strcmp(s.rows[1].kind, "2") == 0, "no options: generations numbered");
	hs_summary_release(&s);
	hs_graph_release(&g);
}

static void test_api(void)
{
	static const char *const names[] = {"type", "clodo", "size", "module", "rcs", "generation"};
	struct hs_graph g;
	struct hs_summary s;
	bool named = true, empty = true;

	for (int i = 0; i < HS_PART_COUNT_; i++)
		named &= hs_partition_name((enum hs_partition)i) &&
			 strcmp(hs_partition_name((enum hs_partition)i), names[i]) == 0;
	ok(named && hs_partition_name(HS_PART_COUNT_) == NULL, "partition names");

	hs_graph_init(&g);
	for (int i = 0; i < HS_PART_COUNT_; i++) {
		memset(&s, 0xff, sizeof(s));
		empty &= hs_summary_partition(&g, (enum hs_partition)i, NULL, &s) == 0 &&
			 s.count == 0 && s.total_count == 0 && s.total_size == 0;
		hs_summary_release(&s);
	}
	ok(empty, "empty graph: every partition is empty");
	memset(&s, 0xff, sizeof(s));
	ok(hs_summary_partition(&g, HS_PART_COUNT_, NULL, &s) < 0 && s.rows == NULL && s.count == 0,
	   "unknown partition is an error");

	/* an object whose type number is out of range */
	type(&g, "dict", "builtins");
	obj(&g, 0, 8, HS_GEN_0, END);
	obj(&g, 7, 8, HS_GEN_0, END);
	ok(hs_summary_partition(&g, HS_PART_RCS, NULL, &s) < 0 && s.rows == NULL,
	   "rcs: a type out of range is an error");
	ok(hs_summary_partition(&g, HS_PART_CLODO, NULL, &s) < 0 && s.rows == NULL,
	   "clodo: a type out of range is an error");
	hs_graph_release(&g);
}

int main(void)
{
	test_clodo();
	test_rcs();
	test_size();
	test_module();
	test_generation();
	test_api();
	return done();
}
