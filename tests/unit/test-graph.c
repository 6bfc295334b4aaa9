/* Unit test of the object graph and the by-type summary. */
#include "heapscope/graph.h"
#include "heapscope/summary.h"

#include <string.h>

#include "tap.h"

static void test_labels(void)
{
	uint32_t l = HS_EDGE_LABEL(HS_EDGE_VALUE, 12345);

	ok(HS_EDGE_KIND(l) == HS_EDGE_VALUE && HS_EDGE_VALUE(l) == 12345, "label round-trip");
	l = HS_EDGE_LABEL(HS_EDGE_TYPE, 0x0fffffffu);
	ok(HS_EDGE_KIND(l) == HS_EDGE_TYPE && HS_EDGE_VALUE(l) == 0x0fffffffu,
	   "largest kind with the largest value");
	l = HS_EDGE_LABEL(HS_EDGE_FIELD, 0);
	ok(l == 0 && HS_EDGE_KIND(l) == HS_EDGE_FIELD, "FIELD 0 is label 0");
	l = HS_EDGE_LABEL(HS_EDGE_INDEX, 0x10000005u);
	ok(HS_EDGE_KIND(l) == HS_EDGE_INDEX && HS_EDGE_VALUE(l) == 5,
	   "a value over 28 bits is masked, not spilled into the kind");
}

/*
 *   0 (list) -> 1 [INDEX 0], 2 [INDEX 1]
 *   1 (str)  -> (none)
 *   2 (dict) -> 1 [KEY 0], 3 [VALUE 1]
 *   3 (int)  -> (none)
 */
static void test_graph(void)
{
	struct hs_graph g;
	uint32_t t_list, t_str, t_dict, t_int, o[4];
	int err = 0;

	hs_graph_init(&g);
	t_list = hs_graph_add_type(&g, 0x1000, strdup("list"), strdup("builtins"));
	t_str = hs_graph_add_type(&g, 0x2000, strdup("str"), strdup("builtins"));
	t_dict = hs_graph_add_type(&g, 0x3000, strdup("dict"), strdup("builtins"));
	t_int = hs_graph_add_type(&g, 0x4000, strdup("int"), strdup("builtins"));
	ok(t_list == 0 && t_str == 1 && t_dict == 2 && t_int == 3 && g.type_count == 4,
	   "types numbered in order");
	ok(strcmp(g.types[t_dict].name, "dict") == 0 && g.types[t_dict].addr == 0x3000,
	   "type name and address stored");

	o[0] = hs_graph_add_object(&g, 0x7f0000000010, t_list, 56, HS_GEN_2, 1);
	err |= hs_graph_add_edge(&g, 1, HS_EDGE_LABEL(HS_EDGE_INDEX, 0));
	err |= hs_graph_add_edge(&g, 2, HS_EDGE_LABEL(HS_EDGE_INDEX, 1));
	err |= hs_graph_close_edges(&g, o[0]);
	o[1] = hs_graph_add_object(&g, 0x7f0000000020, t_str, 54, HS_GEN_UNTRACKED, 1);
	err |= hs_graph_close_edges(&g, o[1]);
	o[2] = hs_graph_add_object(&g, 0x7f0000000030, t_dict, 232, HS_GEN_0, 1);
	err |= hs_graph_add_edge(&g, 1, HS_EDGE_LABEL(HS_EDGE_KEY, 0));
	err |= hs_graph_add_edge(&g, 3, HS_EDGE_LABEL(HS_EDGE_VALUE, 1));
	err |= hs_graph_close_edges(&g, o[2]);
	o[3] = hs_graph_add_object(&g, 0x7f0000000040, t_int, 28, HS_GEN_UNTRACKED, 1);
	err |= hs_graph_close_edges(&g, o[3]);

	ok(err == 0, "edges added and closed");
	ok(o[0] == 0 && o[1] == 1 && o[2] == 2 && o[3] == 3 && g.count == 4,
	   "objects numbered in order");
	ok(hs_graph_find(&g, 0x7f0000000030) == 2, "find by address");
	ok(hs_graph_find(&g, 0x7f0000000050) == HS_NO_OBJECT, "unknown address -> HS_NO_OBJECT");
	ok(g.size[2] == 232 && g.type[2] == t_dict && g.gen[2] == HS_GEN_0 &&
	   g.addr[3] == 0x7f0000000040, "per-object arrays");

	const uint64_t want_start[] = {0, 2, 2, 4, 4};
	int starts_ok = g.edge_count == 4;

	for (int i = 0; i <= 4; i++)
		starts_ok &= g.edge_start[i] == want_start[i];
	ok(starts_ok, "CSR edge_start = {0,2,2,4,4} (got %llu %llu %llu %llu %llu)",
	   (unsigned long long)g.edge_start[0], (unsigned long long)g.edge_start[1],
	   (unsigned long long)g.edge_start[2], (unsigned long long)g.edge_start[3],
	   (unsigned long long)g.edge_start[4]);

	const struct hs_edge *e = &g.edges[g.edge_start[2]];

	ok(g.edge_start[3] - g.edge_start[2] == 2 && e[0].dst == 1 &&
	   HS_EDGE_KIND(e[0].label) == HS_EDGE_KEY && e[1].dst == 3 &&
	   HS_EDGE_KIND(e[1].label) == HS_EDGE_VALUE && HS_EDGE_VALUE(e[1].label) == 1,
	   "dict's out-edges: KEY->1, VALUE->3");
	ok(g.edges[1].dst == 2 && HS_EDGE_VALUE(g.edges[1].label) == 1, "list's second edge");

	ok(hs_graph_add_root(&g, &(struct hs_root){.obj = 0, .kind = HS_ROOT_GC_LIST}) == 0 &&
	   hs_graph_add_root(&g, &(struct hs_root){.obj = 2, .kind = HS_ROOT_THREAD, .detail = 7}) == 0 &&
	   g.root_count == 2 &&
	   g.roots[1].obj == 2 && g.roots[1].kind == HS_ROOT_THREAD && g.roots[1].detail == 7,
	   "roots");

	g.skips.bad_pointer = 3;
	g.skips.limits = 4;
	ok(hs_skips_total(&g.skips) == 7, "skips total");

	/* many objects: storage grows past its first capacity */
	int grown_ok = 1;

	for (uint32_t i = 4; i < 10000; i++) {
		grown_ok &= hs_graph_add_object(&g, 0x7f0000100000 + 16 * (uint64_t)i, t_int, 28,
						HS_GEN_1, 1) == i;
		grown_ok &= hs_graph_add_edge(&g, i - 1, HS_EDGE_LABEL(HS_EDGE_CONSERVATIVE, 0)) == 0;
		grown_ok &= hs_graph_close_edges(&g, i) == 0;
	}
	ok(grown_ok && g.count == 10000 && g.edge_count == 4 + 9996, "10000 objects added");
	ok(g.edge_start[4] == 4 && g.edge_start[10000] == 10000 && g.edges[g.edge_start[9999]].dst == 9998 &&
	   hs_graph_find(&g, 0x7f0000100000 + 16 * 9999ull) == 9999 &&
	   hs_graph_find(&g, 0x7f0000000010) == 0, "ranges and index after growth");
	hs_graph_release(&g);
	ok(g.count == 0 && g.addr == NULL && hs_graph_find(&g, 0x7f0000000010) == HS_NO_OBJECT,
	   "release empties the graph");
}

static void add_objects(struct hs_graph *g, uint32_t type, int n, uint64_t size, uint64_t *addr)
{
	for (int i = 0; i < n; i++) {
		hs_graph_add_object(g, *addr, type, size, HS_GEN_2, 1);
		hs_graph_close_edges(g, (uint32_t)(g->count - 1));
		*addr += 16;
	}
}

static void test_summary(void)
{
	struct hs_graph g;
	struct hs_summary s;
	uint64_t addr = 0x10000;

	hs_graph_init(&g);
	uint32_t t_str = hs_graph_add_type(&g, 1, strdup("str"), strdup("builtins"));
	uint32_t t_node1 = hs_graph_add_type(&g, 2, strdup("app.Node"), strdup("app"));
	uint32_t t_list = hs_graph_add_type(&g, 3, strdup("list"), strdup("builtins"));
	uint32_t t_unused = hs_graph_add_type(&g, 4, strdup("unused"), strdup("builtins"));
	uint32_t t_node2 = hs_graph_add_type(&g, 5, strdup("app.Node"), strdup("app"));
	uint32_t t_tuple = hs_graph_add_type(&g, 6, strdup("tuple"), strdup("builtins"));
	uint32_t t_bytes = hs_graph_add_type(&g, 7, strdup("bytes"), strdup("builtins"));
	(void)t_unused;

	add_objects(&g, t_str, 10, 50, &addr);   /* str:      10, 500 */
	add_objects(&g, t_node1, 2, 100, &addr); /* app.Node: 2+3, 500 */
	add_objects(&g, t_list, 4, 100, &addr);  /* list:     4, 400 */
	add_objects(&g, t_node2, 3, 100, &addr);
	add_objects(&g, t_tuple, 1, 1000, &addr); /* tuple:   1, 1000 */
	add_objects(&g, t_bytes, 8, 50, &addr);   /* bytes:   8, 400 */

	ok(hs_summary_by_type(&g, &s) == 0, "summary");
	ok(s.count == 5, "5 rows: unused type dropped, two app.Node merged (got %zu)", s.count);
	ok(s.total_count == 28 && s.total_size == 2800,
	   "totals %llu objects, %llu bytes", (unsigned long long)s.total_count,
	   (unsigned long long)s.total_size);

	/* size desc, then count desc, then kind asc */
	static const struct { const char *kind; uint64_t count, size; } want[] = {
		{"tuple", 1, 1000}, {"str", 10, 500}, {"app.Node", 5, 500},
		{"bytes", 8, 400}, {"list", 4, 400},
	};
	for (size_t i = 0; i < 5 && i < s.count; i++)
		ok(strcmp(s.rows[i].kind, want[i].kind) == 0 && s.rows[i].count == want[i].count &&
		   s.rows[i].size == want[i].size, "row %zu: %s %llu %llu", i, s.rows[i].kind,
		   (unsigned long long)s.rows[i].count, (unsigned long long)s.rows[i].size);
	hs_summary_release(&s);
	ok(s.rows == NULL && s.count == 0, "summary release");

	/* same size and count: the kind breaks the tie */
	hs_graph_release(&g);
	hs_graph_init(&g);
	uint32_t tb = hs_graph_add_type(&g, 1, strdup("b"), strdup("m"));
	uint32_t ta = hs_graph_add_type(&g, 2, strdup("a"), strdup("m"));

	add_objects(&g, tb, 2, 8, &addr);
	add_objects(&g, ta, 2, 8, &addr);
	ok(hs_summary_by_type(&g, &s) == 0 && s.count == 2 && strcmp(s.rows[0].kind, "a") == 0 &&
	   strcmp(s.rows[1].kind, "b") == 0, "full tie ordered by kind");
	hs_summary_release(&s);
	hs_graph_release(&g);

	hs_graph_init(&g);
	ok(hs_summary_by_type(&g, &s) == 0 && s.count == 0 && s.total_count == 0 &&
	   s.total_size == 0, "empty graph -> empty summary");
	hs_summary_release(&s);
	hs_graph_release(&g);
}

int main(void)
{
	test_labels();
	test_graph();
	test_summary();
	return done();
}
