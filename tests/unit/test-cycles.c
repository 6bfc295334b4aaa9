/* Unit test of the cycle analysis (strongly connected components by shape). */
#include "heapscope/cycles.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heapscope/error.h"
#include "heapscope/graph.h"
#include "heapscope/layout.h"
#include "tap.h"

#define L(kind, value) HS_EDGE_LABEL(HS_EDGE_##kind, value)

struct e {
	uint32_t src, dst, label;
};

/* Objects 0..n-1 of the given types (sizes: 16 unless given); edges in
 * any order, kept in their order per source.  Type t has address
 * 0x10000000 + 0x1000 * t; objects live at 0x100000 + 16 * i. */
static void build(struct hs_graph *g, const uint32_t *types, const uint64_t *sizes, uint32_t n,
		  const struct e *edges, size_t ne)
{
	for (uint32_t i = 0; i < n; i++) {
		hs_graph_add_object(g, 0x100000 + 16 * (uint64_t)i, types[i], sizes ? sizes[i] : 16,
				    HS_GEN_2, 1);
		for (size_t k = 0; k < ne; k++)
			if (edges[k].src == i)
				hs_graph_add_edge(g, edges[k].dst, edges[k].label);
		hs_graph_close_edges(g, i);
	}
}

static uint32_t add_type(struct hs_graph *g, const char *name)
{
	return hs_graph_add_type(g, 0x10000000 + 0x1000 * g->type_count, strdup(name), strdup("m"));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool hops_are(const struct hs_cycle_group *gr, const struct hs_cycle_hop *want, size_t n)
{
	if (gr->example_len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (gr->example[i].obj != want[i].obj || gr->example[i].label != want[i].label)
			return false;
	return true;
}

static const char *kind_name(const struct hs_graph *g, const struct hs_cycle_group *gr, size_t k)
{
	return k < gr->kind_count ? g->types[gr->kinds[k].type].name : "";
}

/* The group whose first kind has this name, or NULL. */
static const struct hs_cycle_group *group_named(const struct hs_graph *g,
						const struct hs_cycles *c, const char *name)
{
	for (size_t i = 0; i < c->count; i++)
		if (!strcmp(kind_name(g, &c->groups[i], 0), name))
			return &c->groups[i];
	return NULL;
}

static void test_no_cycles(void)
{
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	struct hs_cycles_opts o = {.keep_components = true};
	hs_graph_init(&g);
	uint32_t t = add_type(&g, "node");
	const uint32_t ty[] = {t, t, t, t, t};
	/* a diamond with a tail and an edge out of range */
	const struct e ed[] = {
		{0, 1, L(INDEX, 0)}, {0, 2, L(INDEX, 1)}, {1, 3, 0}, {2, 3, 0}, {3, 4, 0},
		{4, 99, 0},
	};

	build(&g, ty, NULL, 5, ed, 6);
	ok(hs_cycles_find(&g, &o, &c) == 0, "find on a DAG");
	ok(c.count == 0 && c.components == 0 && c.objects == 0 && c.size == 0,
	   "no cycles in a DAG (%zu groups)", c.count);
	bool all_single = c.component_count == 5;

	for (uint32_t i = 0; i < 5 && all_single; i++)
		all_single = c.component[i] == i && c.component_size[i] == 1 &&
			     !hs_cycles_on_cycle(&g, &c, i);
	ok(all_single, "five singleton components, numbered by object, none on a cycle");
	hs_cycles_release(&c);
	ok(c.groups == NULL && c.component == NULL && c.count == 0, "release empties");
	hs_graph_release(&g);

	hs_graph_init(&g);
	rc = hs_cycles_find(&g, NULL, &c);
	ok(rc == 0 && c.count == 0 && c.components == 0,
	   "empty graph, no options");
	hs_cycles_release(&c);
	o.garbage_only = true;
	ok(hs_cycles_find(&g, &o, &c) == HS_EUSAGE, "garbage_only without alive flags refused");
	hs_graph_release(&g);
}

static void test_self_loop(void)
{
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	struct hs_cycles_opts o = {.keep_components = true};
	hs_graph_init(&g);
	uint32_t tl = add_type(&g, "list"), ti = add_type(&g, "int");
	const uint32_t ty[] = {ti, tl, ti};
	const uint64_t sz[] = {28, 72, 28};
	const struct e ed[] = {{0, 2, 0}, {1, 0, L(INDEX, 0)}, {1, 1, L(INDEX, 1)}};

	build(&g, ty, sz, 3, ed, 3);
	rc = hs_cycles_find(&g, &o, &c);
	ok(rc == 0 && c.count == 1, "one group for a list holding itself");
	if (c.count == 1) {
		const struct hs_cycle_group *gr = &c.groups[0];
		const struct hs_cycle_hop want[] = {{1, L(INDEX, 1)}};

		ok(gr->components == 1 && gr->objects == 1 && gr->size == 72 &&
		   gr->kind_count == 1 && gr->kinds[0].type == tl && gr->kinds[0].count == 1,
		   "group: 1 component, 1 list, 72 bytes");
		ok(hops_are(gr, want, 1), "example is the self-edge (len %zu)", gr->example_len);
		ok(gr->example_component == 1 && gr->example_objects == 1,
		   "example component 1 of 1 object");
	}
	ok(c.components == 1 && c.objects == 1 && c.size == 72, "totals");
	ok(hs_cycles_on_cycle(&g, &c, 1) && !hs_cycles_on_cycle(&g, &c, 0) &&
	   !hs_cycles_on_cycle(&g, &c, 2), "only the list is on a cycle");
	hs_cycles_release(&c);
	hs_graph_release(&g);
}

/* Two Node<->dict pairs; the second Node is a distinct type of the same
 * name.  One group of two components. */
static void test_same_shape(void)
{
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	hs_graph_init(&g);
	uint32_t tn = add_type(&g, "Node"), td = add_type(&g, "dict"), tn2 = add_type(&g, "Node");
	const uint32_t ty[] = {tn, td, tn2, td};
	const uint64_t sz[] = {48, 100, 48, 200};
	const struct e ed[] = {
		{0, 1, L(FIELD, HS_F_TP_DICT)}, {1, 0, L(VALUE, 7)},
		{2, 3, L(FIELD, HS_F_TP_DICT)}, {3, 2, L(VALUE, 7)},
	};

	build(&g, ty, sz, 4, ed, 4);
	rc = hs_cycles_find(&g, NULL, &c);
	ok(rc == 0 && c.count == 1, "two pairs of one shape: one group (%zu)",
	   c.count);
	if (c.count == 1) {
		const struct hs_cycle_group *gr = &c.groups[0];
		const struct hs_cycle_hop want[] = {{0, L(FIELD, HS_F_TP_DICT)}, {1, L(VALUE, 7)}};

		ok(gr->components == 2 && gr->objects == 4 && gr->size == 396,
		   "2 components, 4 objects, 396 bytes");
		ok(gr->kind_count == 2 && gr->kinds[0].type == tn && gr->kinds[0].count == 1 &&
		   gr->kinds[1].type == td && gr->kinds[1].count == 1,
		   "shape: Node 1 (lowest type index), dict 1 (name order on a tie)");
		ok(hops_are(gr, want, 2) && gr->example_component == 0,
		   "example: the first component, 0 -> 1 -> 0");
		ok(!gr->finalizer, "no finalizer");
	}
	hs_cycles_release(&c);
	hs_graph_release(&g);
}

/* Parent -> list -> children -> parent, with 3 and with 2 children. */
static void test_parent_child(void)
{
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	hs_graph_init(&g);
	uint32_t tp = add_type(&g, "Parent"), tl = add_type(&g, "list"), tc = add_type(&g, "Child");
	const uint32_t ty[] = {tp, tl, tc, tc, tc, tp, tl, tc, tc, tc};
	const struct e ed[] = {
		{0, 1, L(ATTR, 50)}, {1, 2, L(INDEX, 0)}, {1, 3, L(INDEX, 1)}, {1, 4, L(INDEX, 2)},
		{2, 0, L(ATTR, 51)}, {3, 0, L(ATTR, 51)}, {4, 0, L(ATTR, 51)},
		{5, 6, L(ATTR, 50)}, {6, 7, L(INDEX, 0)}, {6, 8, L(INDEX, 1)},
		{7, 5, L(ATTR, 51)}, {8, 5, L(ATTR, 51)},
		{9, 5, L(ATTR, 52)}, /* a child outside: not in the cycle */
	};

	build(&g, ty, NULL, 10, ed, sizeof(ed) / sizeof(ed[0]));
	rc = hs_cycles_find(&g, NULL, &c);
	ok(rc == 0 && c.count == 2, "two shapes (%zu)", c.count);
	if (c.count == 2) {
		const struct hs_cycle_group *a = &c.groups[0], *b = &c.groups[1];
		const struct hs_cycle_hop wa[] = {{0, L(ATTR, 50)}, {1, L(INDEX, 0)}, {2, L(ATTR, 51)}};
		const struct hs_cycle_hop wb[] = {{5, L(ATTR, 50)}, {6, L(INDEX, 0)}, {7, L(ATTR, 51)}};

		ok(a->objects == 5 && a->size == 80 && b->objects == 4 && b->size == 64,
		   "bigger shape first (%llu, %llu bytes)", (unsigned long long)a->size,
		   (unsigned long long)b->size);
		ok(a->kind_count == 3 && a->kinds[0].type == tc && a->kinds[0].count == 3 &&
		   a->kinds[1].type == tp && a->kinds[2].type == tl,
		   "kinds: Child 3, Parent 1, list 1");
		ok(b->kind_count == 3 && b->kinds[0].type == tc && b->kinds[0].count == 2,
		   "kinds: Child 2, ...");
		ok(hops_are(a, wa, 3) && hops_are(b, wb, 3), "examples start at the parents");
	}
	ok(c.objects == 9, "the outside child is not counted (%llu)", (unsigned long long)c.objects);
	hs_cycles_release(&c);
	hs_graph_release(&g);
}

/* Strongly connected pieces joined one way stay apart. */
static void test_one_way(void)
{
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	struct hs_cycles_opts o = {.keep_components = true};
	hs_graph_init(&g);
	uint32_t t = add_type(&g, "X"), u = add_type(&g, "Y");
	const uint32_t ty[] = {t, t, t, u, u};
	/* ring 0->1->2->0 (with a chord 1->0), 2 -> 3 one way, 3 <-> 4 */
	const struct e ed[] = {
		{0, 1, 0}, {1, 2, 0}, {1, 0, 0}, {2, 0, 0}, {2, 3, 0}, {3, 4, 0}, {4, 3, 0},
	};

	build(&g, ty, NULL, 5, ed, 7);
	rc = hs_cycles_find(&g, &o, &c);
	ok(rc == 0 && c.count == 2 && c.components == 2,
	   "two components");
	ok(c.component_count == 2 && c.component[0] == 0 && c.component[1] == 0 &&
	   c.component[2] == 0 && c.component[3] == 1 && c.component[4] == 1 &&
	   c.component_size[0] == 3 && c.component_size[1] == 2,
	   "{0,1,2} and {3,4}");
	if (c.count == 2) {
		const struct hs_cycle_hop want[] = {{0, 0}, {1, 0}};

		ok(c.groups[0].objects == 3 && hops_are(&c.groups[0], want, 2),
		   "shortest cycle through 0 uses the chord");
	}
	hs_cycles_release(&c);
	hs_graph_release(&g);

	/* the search finishes {2,3} before {0,1}; numbering follows objects */
	hs_graph_init(&g);
	t = add_type(&g, "X");
	const uint32_t ty2[] = {t, t, t, t};
	const struct e ed2[] = {{0, 2, 0}, {0, 1, 0}, {1, 0, 0}, {2, 3, 0}, {3, 2, 0}};

	build(&g, ty2, NULL, 4, ed2, 5);
	rc = hs_cycles_find(&g, &o, &c);
	ok(rc == 0 && c.count == 1 && c.components == 2 &&
	   c.component[0] == 0 && c.component[1] == 0 && c.component[2] == 1 &&
	   c.component[3] == 1, "components numbered by their lowest object");
	if (c.count == 1)
		ok(c.groups[0].example_component == 0 && c.groups[0].example[0].obj == 0,
		   "example from component 0");
	hs_cycles_release(&c);
	hs_graph_release(&g);

	/* the root sees its child again after the child joined it: still
	 * the root of {0,1}; 2 hangs off and is its own component */
	hs_graph_init(&g);
	t = add_type(&g, "X");
	const uint32_t ty3[] = {t, t, t};
	const struct e ed3[] = {{0, 1, 0}, {0, 1, 1}, {0, 2, 0}, {1, 0, 0}, {1, 2, 0}};

	build(&g, ty3, NULL, 3, ed3, 5);
	rc = hs_cycles_find(&g, &o, &c);
	ok(rc == 0 && c.count == 1 && c.components == 1 && c.objects == 2 &&
	   c.component_count == 2 && c.component[0] == 0 && c.component[1] == 0 &&
	   c.component[2] == 1, "two edges to one child: {0,1} and {2}");
	hs_cycles_release(&c);
	hs_graph_release(&g);
}

/* The shortest cycle, not the first one found; edges out of range or out
 * of the component are not followed. */
static void test_example_hops(void)
{
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	hs_graph_init(&g);
	uint32_t t = add_type(&g, "T");
	const uint32_t ty[] = {t, t, t, t, t, t, t};
	/* component {1,2,3,4}; object 0 points in; {5,6} apart */
	const struct e ed[] = {
		{0, 1, 0},
		{1, 1000, L(INDEX, 9)},             /* out of range */
		{1, 5, L(INDEX, 8)},                /* out of the component */
		{1, 2, L(INDEX, 0)}, {1, 3, L(INDEX, 1)},
		{2, 4, L(FIELD, 5)}, {4, 1, L(ATTR, 9)},
		{3, 1, L(ATTR, 8)}, {3, 1, L(INDEX, 3)}, /* parallel: the first wins */
		{5, 6, 0}, {6, 5, 0},
	};

	build(&g, ty, NULL, 7, ed, sizeof(ed) / sizeof(ed[0]));
	rc = hs_cycles_find(&g, NULL, &c);
	ok(rc == 0 && c.count == 2, "two groups (%zu)", c.count);
	if (c.count == 2) {
		const struct hs_cycle_hop want[] = {{1, L(INDEX, 1)}, {3, L(ATTR, 8)}};
		const struct hs_cycle_hop want2[] = {{5, 0}, {6, 0}};

		ok(c.groups[0].objects == 4 && hops_are(&c.groups[0], want, 2),
		   "1 -[1]-> 3 -.attr-> 1 (len %zu, first %u)", c.groups[0].example_len,
		   c.groups[0].example_len ? c.groups[0].example[0].obj : 0);
		ok(c.groups[1].objects == 2 && hops_are(&c.groups[1], want2, 2), "5 -> 6 -> 5");
	}
	hs_cycles_release(&c);
	hs_graph_release(&g);
}

static void test_big(void)
{
	const uint32_t n = 1000000;
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	struct hs_cycles_opts o = {.keep_components = true};
	double t0;
	bool good;

	/* a chain: depth n for a depth-first search */
	hs_graph_init(&g);
	uint32_t t = add_type(&g, "Link");

	for (uint32_t i = 0; i < n; i++) {
		hs_graph_add_object(&g, 0x100000 + 16 * (uint64_t)i, t, 56, HS_GEN_2, 1);
		if (i + 1 < n)
			hs_graph_add_edge(&g, i + 1, L(ATTR, 1));
		hs_graph_close_edges(&g, i);
	}
	t0 = now();
	rc = hs_cycles_find(&g, &o, &c);
	ok(rc == 0 && c.count == 0 && c.component_count == n,
	   "1M chain: no cycle, 1M components");
	diag("1M chain: %.3f s", now() - t0);
	hs_cycles_release(&c);
	hs_graph_release(&g);

	/* a ring: one component of n objects */
	hs_graph_init(&g);
	t = add_type(&g, "Link");
	for (uint32_t i = 0; i < n; i++) {
		hs_graph_add_object(&g, 0x100000 + 16 * (uint64_t)i, t, 56, HS_GEN_2, 1);
		hs_graph_add_edge(&g, (i + 1) % n, L(INDEX, i));
		hs_graph_close_edges(&g, i);
	}
	t0 = now();
	rc = hs_cycles_find(&g, &o, &c);
	ok(rc == 0 && c.count == 1, "1M ring: one group");
	diag("1M ring: %.3f s", now() - t0);
	if (c.count == 1) {
		const struct hs_cycle_group *gr = &c.groups[0];

		ok(gr->components == 1 && gr->objects == n && gr->size == 56ull * n &&
		   gr->kinds[0].count == n && c.component_count == 1 && c.component_size[0] == n,
		   "one component of 1M");
		good = gr->example_len == n;
		for (uint32_t i = 0; good && i < n; i++)
			good = gr->example[i].obj == i && gr->example[i].label == L(INDEX, i);
		ok(good, "the example is the whole ring, in order (len %zu)", gr->example_len);
	}
	hs_cycles_release(&c);
	hs_graph_release(&g);

	/* the ring backwards: object 0 -> n-1 -> ... -> 1 -> 0 */
	hs_graph_init(&g);
	t = add_type(&g, "Link");
	for (uint32_t i = 0; i < n; i++) {
		hs_graph_add_object(&g, 0x100000 + 16 * (uint64_t)i, t, 56, HS_GEN_2, 1);
		hs_graph_add_edge(&g, (i + n - 1) % n, 0);
		hs_graph_close_edges(&g, i);
	}
	t0 = now();
	rc = hs_cycles_find(&g, NULL, &c);
	ok(rc == 0 && c.count == 1 && c.objects == n &&
	   c.groups[0].example_len == n && c.groups[0].example[1].obj == n - 1,
	   "1M ring backwards: one component, example 0 -> %u", n - 1);
	diag("1M backward ring: %.3f s", now() - t0);
	hs_cycles_release(&c);
	hs_graph_release(&g);

	/* a giant component (a ring of 50k with chords) and 200k pairs of
	 * 1000 shapes */
	hs_graph_init(&g);
	uint32_t types[1000], big = 50000, pairs = 200000, i = 0;
	char name[32];

	for (int k = 0; k < 1000; k++) {
		snprintf(name, sizeof(name), "K%03d", k);
		types[k] = add_type(&g, name);
	}
	for (; i < big; i++) {
		hs_graph_add_object(&g, 0x100000 + 16 * (uint64_t)i, types[i % 7], 10, HS_GEN_2, 1);
		hs_graph_add_edge(&g, (i + 1) % big, 0);
		hs_graph_add_edge(&g, (i * 7919u) % big, 0);
		hs_graph_close_edges(&g, i);
	}
	for (uint32_t p = 0; p < pairs; p++, i += 2) {
		hs_graph_add_object(&g, 0x100000 + 16 * (uint64_t)i, types[p % 1000], 10, HS_GEN_2, 1);
		hs_graph_add_edge(&g, i + 1, 0);
		hs_graph_close_edges(&g, i);
		hs_graph_add_object(&g, 0x100000 + 16 * (uint64_t)(i + 1), types[0], 10, HS_GEN_2, 1);
		hs_graph_add_edge(&g, i, 0);
		hs_graph_close_edges(&g, i + 1);
	}
	t0 = now();
	rc = hs_cycles_find(&g, NULL, &c);
	ok(rc == 0 && c.count == 1001 && c.components == pairs + 1,
	   "giant component and 200k pairs: 1001 groups (%zu), %llu components", c.count,
	   (unsigned long long)c.components);
	diag("50k giant + 200k pairs: %.3f s", now() - t0);
	good = c.count == 1001 && c.groups[0].objects == big && c.groups[0].kind_count == 7;
	for (size_t k = 1; good && k < c.count; k++)
		good = c.groups[k].components == 200 && c.groups[k].objects == 400;
	ok(good, "the giant first, then 1000 groups of 200 pairs");
	good = c.count == 1001 && c.groups[1].kind_count == 1 && c.groups[1].kinds[0].count == 2 &&
	       !strcmp(kind_name(&g, &c.groups[1], 0), "K000") &&
	       !strcmp(kind_name(&g, &c.groups[2], 0), "K000") && c.groups[2].kind_count == 2 &&
	       !strcmp(kind_name(&g, &c.groups[2], 1), "K001") &&
	       !strcmp(kind_name(&g, &c.groups[1000], 0), "K000") &&
	       !strcmp(kind_name(&g, &c.groups[1000], 1), "K999");
	ok(good, "ties ordered by kinds: [K000 2], [K000 1, K001 1] ... [K000 1, K999 1]");
	hs_cycles_release(&c);
	hs_graph_release(&g);
}

static void test_garbage(void)
{
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	hs_graph_init(&g);
	uint32_t t = add_type(&g, "Node");
	const uint32_t ty[] = {t, t, t, t, t, t};
	const uint64_t sz[] = {10, 10, 20, 20, 30, 30};
	const struct e ed[] = {{0, 1, 0}, {1, 0, 0}, {2, 3, 0}, {3, 2, 0}, {4, 5, 1}, {5, 4, 2}};
	const uint8_t alive[] = {0, 1, 0, 0, 1, 1};
	struct hs_cycles_opts o = {.alive = alive, .garbage_only = true};

	build(&g, ty, sz, 6, ed, 6);
	rc = hs_cycles_find(&g, &o, &c);
	ok(rc == 0 && c.count == 1 && c.components == 1 &&
	   c.objects == 2 && c.size == 40, "garbage only: the pair with no alive object");
	if (c.count == 1)
		ok(c.groups[0].example_len == 2 && c.groups[0].example[0].obj == 2 &&
		   c.groups[0].example_component == 1, "its example is the garbage pair {2,3}");
	hs_cycles_release(&c);
	o.garbage_only = false;
	rc = hs_cycles_find(&g, &o, &c);
	ok(rc == 0 && c.count == 1 && c.components == 3 &&
	   c.size == 120 && c.groups[0].example[0].obj == 0,
	   "without garbage_only all three pairs");
	hs_cycles_release(&c);
	const uint8_t all_alive[] = {1, 1, 1, 1, 1, 1};

	o = (struct hs_cycles_opts){.alive = all_alive, .garbage_only = true};
	rc = hs_cycles_find(&g, &o, &c);
	ok(rc == 0 && c.count == 0 && c.components == 0,
	   "everything alive: no garbage cycles");
	hs_cycles_release(&c);
	hs_graph_release(&g);
}

/*
 * Finalizers from the graph: Derived(Base) and Plain are classes (type
 * objects with an MRO tuple and a dict); Base's dict has '__del__'.
 */
static void test_finalizer(void)
{
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	hs_graph_init(&g);
	uint32_t t_type = add_type(&g, "type"), t_tuple = add_type(&g, "tuple");
	uint32_t t_dict = add_type(&g, "dict"), t_str = add_type(&g, "str");
	uint32_t t_base = add_type(&g, "Base"), t_der = add_type(&g, "Derived");
	uint32_t t_plain = add_type(&g, "Plain"), t_keyed = add_type(&g, "Keyed");
	uint32_t t_func = add_type(&g, "function");
	/*
	 *  0 Base      type   -> 3 mro (Base), 4 dict {'__del__': 11}
	 *  1 Derived   type   -> 5 mro (Derived, Base), 6 dict {'x': 12}
	 *  2 Plain     type   -> 7 mro (Plain), 8 dict {'__init__': 11, '__del__'
	 *                        only as a value, not a key}
	 *  9 Keyed     type   -> no mro edge; 10 dict with a KEY edge to '__del__'
	 * 11 function, 12 function, 13 '__del__', 14 'x', 15 '__init__'
	 * 16 <-> 17 Derived instances; 18 <-> 19 Plain; 20 <-> 21 Keyed
	 */
	uint32_t ty[22] = {t_type, t_type, t_type, t_tuple, t_dict, t_tuple, t_dict, t_tuple,
			   t_dict, t_type, t_dict, t_func, t_func, t_str, t_str, t_str,
			   t_der, t_der, t_plain, t_plain, t_keyed, t_keyed};
	const uint32_t mro = L(FIELD, HS_F_TP_MRO), dict = L(FIELD, HS_F_TP_DICT);
	const struct e ed[] = {
		{0, 3, mro}, {0, 4, dict}, {3, 0, L(INDEX, 0)}, {4, 11, L(VALUE, 13)},
		{1, 5, mro}, {1, 6, dict}, {5, 1, L(INDEX, 0)}, {5, 0, L(INDEX, 1)},
		{6, 12, L(VALUE, 14)},
		{2, 7, mro}, {2, 8, dict}, {7, 2, L(INDEX, 0)}, {8, 13, L(VALUE, 15)},
		{9, 10, dict}, {10, 13, L(KEY, 0)}, {10, 11, L(VALUE, HS_LABEL_NONE)},
		{16, 17, 0}, {17, 16, 0}, {18, 19, 0}, {19, 18, 0}, {20, 21, 0}, {21, 20, 0},
		{16, 1, L(TYPE, 0)}, {17, 1, L(TYPE, 0)},
	};

	g.types[t_base].addr = 0x100000 + 16 * 0;
	g.types[t_der].addr = 0x100000 + 16 * 1;
	g.types[t_plain].addr = 0x100000 + 16 * 2;
	g.types[t_keyed].addr = 0x100000 + 16 * 9;
	build(&g, ty, NULL, 22, ed, sizeof(ed) / sizeof(ed[0]));
	hs_graph_add_text(&g, 14, "'x'");
	hs_graph_add_text(&g, 13, "'__del__'");
	hs_graph_add_text(&g, 15, "'__init__'");
	hs_graph_sort_texts(&g);

	ok(hs_cycles_find(&g, NULL, &c) == 0, "find with classes");
	const struct hs_cycle_group *d = group_named(&g, &c, "Derived");
	const struct hs_cycle_group *p = group_named(&g, &c, "Plain");
	const struct hs_cycle_group *k = group_named(&g, &c, "Keyed");

	ok(d && d->finalizer, "Derived has __del__ through its base's dict");
	ok(p && !p->finalizer, "Plain has none ('__del__' only as a value)");
	ok(k && k->finalizer, "Keyed: no MRO, its own dict has the key '__del__'");
	/* the class objects form cycles with their MRO tuples: no finalizer */
	bool others = true;

	for (size_t i = 0; i < c.count; i++)
		if (&c.groups[i] != d && &c.groups[i] != p && &c.groups[i] != k)
			others &= !c.groups[i].finalizer;
	ok(others && c.count == 4, "class/MRO cycles have none (%zu groups)", c.count);
	hs_cycles_release(&c);

	g.types[t_plain].flags |= HS_TYPE_FINALIZER;
	rc = hs_cycles_find(&g, NULL, &c);
	ok(rc == 0 && (p = group_named(&g, &c, "Plain")) &&
	   p->finalizer, "the type flag counts too");
	hs_cycles_release(&c);
	hs_graph_release(&g);
}

static void test_order(void)
{
	struct hs_graph g;
	struct hs_cycles c;
	int rc;
	hs_graph_init(&g);
	uint32_t a = add_type(&g, "a"), b = add_type(&g, "b"), cc = add_type(&g, "c");
	/*
	 * C: c<->c 300 | B: two b<->b of 50 | A: a<->a 100 | D: a self 100
	 * E: a<->b 100
	 */
	const uint32_t ty[] = {a, a, a, b, b, b, b, cc, cc, a, b};
	const uint64_t sz[] = {100, 50, 50, 25, 25, 25, 25, 150, 150, 50, 50};
	const struct e ed[] = {
		{0, 0, 0}, {1, 2, 0}, {2, 1, 0}, {3, 4, 0}, {4, 3, 0}, {5, 6, 0}, {6, 5, 0},
		{7, 8, 0}, {8, 7, 0}, {9, 10, 0}, {10, 9, 0},
	};

	build(&g, ty, sz, 11, ed, sizeof(ed) / sizeof(ed[0]));
	rc = hs_cycles_find(&g, NULL, &c);
	ok(rc == 0 && c.count == 5, "five shapes (%zu)", c.count);
	if (c.count == 5) {
		ok(c.groups[0].kinds[0].type == cc && c.groups[0].size == 300, "c<->c first (size)");
		ok(c.groups[1].kinds[0].type == b && c.groups[1].components == 2,
		   "b pairs second (components)");
		ok(c.groups[2].kinds[0].type == a && c.groups[2].kinds[0].count == 2,
		   "a<->a third (a 2 before a 1)");
		ok(c.groups[3].kind_count == 1 && c.groups[3].kinds[0].count == 1 &&
		   c.groups[3].example_len == 1 && c.groups[3].example[0].obj == 0,
		   "the a self-loop fourth (fewer kinds first)");
		ok(c.groups[4].kind_count == 2 && c.groups[4].kinds[0].type == a &&
		   c.groups[4].kinds[1].type == b, "a<->b last");
	}
	ok(c.components == 6 && c.objects == 11 && c.size == 700, "totals 6, 11, 700");
	hs_cycles_release(&c);
	hs_graph_release(&g);
}

int main(void)
{
	test_no_cycles();
	test_self_loop();
	test_same_shape();
	test_parent_child();
	test_one_way();
	test_example_hops();
	test_garbage();
	test_finalizer();
	test_order();
	test_big();
	return done();
}
