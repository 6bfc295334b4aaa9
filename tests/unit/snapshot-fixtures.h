/*
 * Graphs and capture information built by hand for snapshot tests: the
 * unit test (test-snapshot.c) and the fuzz seeds (tests/fuzz/make-seeds.c)
 * write the same fixtures.  A failure to build one bails out (TAP).
 */
#ifndef HEAPSCOPE_TESTS_SNAPSHOT_FIXTURES_H
#define HEAPSCOPE_TESTS_SNAPSHOT_FIXTURES_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/capinfo.h"
#include "heapscope/checks.h"
#include "heapscope/error.h"
#include "heapscope/graph.h"
#include "heapscope/layout.h"

#define L(kind, value) HS_EDGE_LABEL(HS_EDGE_##kind, value)
#define FIELD(f) L(FIELD, HS_F_##f)
#define NONE HS_NO_OBJECT
#define FIXTURE static __attribute__((unused))

FIXTURE void bail(const char *what)
{
	printf("Bail out! %s (%s)\n", what, hs_errmsg());
	exit(1);
}

FIXTURE uint32_t add_type(struct hs_graph *g, uint64_t addr, const char *name, const char *module,
			  uint8_t flags)
{
	uint32_t t = hs_graph_add_type(g, addr, strdup(name), strdup(module));

	if (t == NONE)
		bail("add_type");
	g->types[t].flags = flags;
	return t;
}

FIXTURE void add_object(struct hs_graph *g, uint64_t addr, uint32_t type, uint64_t size,
			uint8_t gen, uint64_t refcnt, const uint32_t (*edges)[2], size_t n)
{
	uint32_t o = hs_graph_add_object(g, addr, type, size, gen, refcnt);

	if (o == NONE)
		bail("add_object");
	for (size_t i = 0; i < n; i++)
		if (hs_graph_add_edge(g, edges[i][0], edges[i][1]) < 0)
			bail("add_edge");
	hs_graph_close_edges(g, o);
}

FIXTURE void add_root(struct hs_graph *g, uint32_t obj, uint8_t kind, uint32_t detail,
		      uint32_t frame, uint32_t label)
{
	struct hs_root r = {.obj = obj, .kind = kind, .detail = detail, .frame = frame,
			    .label = label};

	if (hs_graph_add_root(g, &r) < 0)
		bail("add_root");
}

FIXTURE void set_threads(struct hs_graph *g, const struct hs_thread *t, size_t n)
{
	g->threads = calloc(n, sizeof(*g->threads));
	for (size_t i = 0; i < n; i++) {
		g->threads[i] = t[i];
		g->threads[i].name = t[i].name ? strdup(t[i].name) : NULL;
	}
	g->thread_count = n;
}

FIXTURE void add_check(struct hs_capinfo *info, const char *source, const char *what,
		       int64_t expected, int64_t derived, enum hs_check_status status)
{
	struct hs_check c = {.expected = expected, .derived = derived, .status = status};

	snprintf(c.source, sizeof(c.source), "%s", source);
	snprintf(c.what, sizeof(c.what), "%s", what);
	hs_checks_add(&info->checks, &c);
}

/* Capture information with every field set to a value of its own. */
FIXTURE void full_info(struct hs_capinfo *info)
{
	memset(info, 0, sizeof(*info));
	info->origin = HS_ORIGIN_CORE;
	info->pid = 424242;
	info->taken_at = -1700000001; /* signed on purpose */
	snprintf(info->python, sizeof(info->python), "3.12.1+");
	info->py_minor = 12;
	snprintf(info->version_from, sizeof(info->version_from), "Py_Version");
	memset(info->binary, 'b', sizeof(info->binary) - 1); /* the longest path */
	info->binary[0] = '/';
	snprintf(info->build_id, sizeof(info->build_id), "0123456789abcdef0123456789abcdef01234567");
	snprintf(info->layout_source, sizeof(info->layout_source), "dwarf");
	snprintf(info->layout_detail, sizeof(info->layout_detail), "/usr/lib/debug/.build-id/01/23.debug");
	snprintf(info->debug_offsets_note, sizeof(info->debug_offsets_note),
		 "cookie \"xdebugpy\" not found; key=value\tand tabs");
	info->debug_build = true;
	info->layout_ms = 1.0 / 3.0;
	add_check(info, "PyThreadState_Next", "PyThreadState.next", 8, 8, HS_CHECK_OK);
	add_check(info, "PyList_Type.tp_basicsize", "sizeof(PyListObject)", 40, 48,
		  HS_CHECK_CORRECTED);
	add_check(info, "gc", "PyGC_Head.prev", -1, INT64_MIN, HS_CHECK_MISMATCH);
	add_check(info, "a source of exactly sixty-three characters, which is the limit!",
		  "what", INT64_MAX, 0, HS_CHECK_UNAVAILABLE);
	info->checks.dropped = 7;
	info->os_threads = 5;
	info->paused_ms = 0.1;
	info->copy_ms = 1e-300;
	info->bytes_read = UINT64_MAX;
	info->regions_short = 3;
	info->guard_pages = 4;
	info->signals_passed = UINT_MAX;
	info->walk_ms = 12345.678;
	info->total_ms = 2.5e10;
}

/*
 * A graph with every kind of content: types with flags (two of one name),
 * objects of every generation, refcounts up to the saturated maximum,
 * edges of every kind with values including HS_LABEL_NONE, roots of every
 * kind, threads with a name, without one and with an empty one, frames,
 * texts (one object given two, the first wins), slot names, skips and GC
 * totals.
 */
FIXTURE void full_graph(struct hs_graph *g)
{
	static const struct hs_thread threads[] = {
		{0x7f00000000aaull, 1234, 2, "MainThread"},
		{0x7f00000000bbull, 0, 1, NULL},
		{0x7f00000000ccull, 99999, 0, ""},
	};
	uint32_t t_str, t_dict, t_node, t_node2, t_frame, slot_a, slot_b;
	const uint64_t base = 0x7f1234560000ull;

	hs_graph_init(g);
	t_str = add_type(g, 0x55550001000ull, "str", "builtins", 0);
	t_dict = add_type(g, 0x55550002000ull, "dict", "builtins", 0);
	t_node = add_type(g, 0x7f0000100000ull, "app.Node", "app", HS_TYPE_FINALIZER);
	t_node2 = add_type(g, 0x7f0000200000ull, "app.Node", "app.other", 0x81);
	t_frame = add_type(g, 0x55550003000ull, "frame", "", 0xff);
	slot_a = hs_graph_add_name(g, "slot_a");
	hs_graph_add_text(g, 5, "'name'");
	hs_graph_add_text(g, 1, "42");
	hs_graph_add_text(g, 5, "'second text of 5'");
	hs_graph_add_text(g, 0, "");
	slot_b = hs_graph_add_name(g, "slot_b");
	hs_graph_add_text(g, 11, "b'k'");
	if (hs_graph_add_name(g, "slot_a") != slot_a || slot_b != 1)
		bail("names");
	hs_graph_sort_texts(g);

	const uint32_t e0[][2] = {
		{1, FIELD(IS_MODULES)}, {2, FIELD(TP_WEAKLIST)}, {3, L(FIELD, HS_LABEL_NONE)},
		{4, L(FIELD, 0)}, {5, L(INDEX, 0)}, {6, L(INDEX, 0x0ffffffe)},
		{7, L(KEY, 3)}, {8, L(VALUE, 7)}, {9, L(VALUE, HS_LABEL_NONE)},
		{10, L(ATTR, 11)}, {11, L(ATTR, HS_LABEL_NONE)}, {1, L(SLOT, slot_a)},
		{2, L(SLOT, slot_b)}, {3, L(SLOT, HS_LABEL_NONE)}, {4, L(SET_ITEM, 0)},
		{5, L(LOCAL, 1)}, {6, L(LOCAL, HS_LABEL_NONE)}, {7, L(CONSERVATIVE, 0x18)},
		{8, L(TYPE, 0)}, {9, L(STACK, 7)}, {9, L(STACK, HS_LABEL_NONE)},
		{0, L(SET_ITEM, HS_LABEL_NONE)},
	};
	const uint32_t e2[][2] = {{0, FIELD(OB_TYPE)}, {2, L(INDEX, 1)}};
	const uint32_t e11[][2] = {{11, L(CONSERVATIVE, 0)}};

	add_object(g, base + 0x00, t_dict, 1184, HS_GEN_0, 1, e0, sizeof(e0) / sizeof(e0[0]));
	add_object(g, base + 0x10, t_str, 49, HS_GEN_1, 0, NULL, 0);
	add_object(g, base + 0x20, t_node, 56, HS_GEN_2, 2, e2, 2);
	add_object(g, base + 0x30, t_node2, 0, HS_GEN_PERMANENT, 1000, NULL, 0);
	add_object(g, base + 0x40, t_str, UINT64_MAX, HS_GEN_UNTRACKED, 1ull << 40, NULL, 0);
	add_object(g, base + 0x50, t_str, 55, HS_GEN_UNTRACKED, HS_REFCNT_MAX - 1, NULL, 0);
	add_object(g, 0xfffffffffffffff0ull, t_frame, 400, HS_GEN_2, HS_REFCNT_MAX, NULL, 0);
	add_object(g, 0x10, t_frame, 400, HS_GEN_0, 3, NULL, 0);
	add_object(g, base + 0x80, t_frame, 400, HS_GEN_1, 3, NULL, 0);
	add_object(g, base + 0x90, t_node, 56, HS_GEN_2, 7, NULL, 0);
	add_object(g, base + 0xa0, t_dict, 64, HS_GEN_PERMANENT, 1, NULL, 0);
	add_object(g, base + 0xb0, t_str, 37, HS_GEN_UNTRACKED, 9, e11, 1);

	set_threads(g, threads, 3);
	hs_graph_add_frame(g, 0, 0, 7);
	hs_graph_add_frame(g, 0, 1, NONE);
	hs_graph_add_frame(g, 1, 0, 8);
	add_root(g, 0, HS_ROOT_GC_LIST, 0, NONE, L(FIELD, HS_LABEL_NONE));
	add_root(g, 1, HS_ROOT_INTERP, 0, NONE, FIELD(IS_MODULES));
	add_root(g, 2, HS_ROOT_INTERP, 0, NONE, FIELD(IS_BUILTINS));
	add_root(g, 3, HS_ROOT_THREAD, 0, NONE, FIELD(TS_DICT));
	add_root(g, 4, HS_ROOT_THREAD, 1, 0, L(LOCAL, 0));
	add_root(g, 5, HS_ROOT_THREAD, 2, 2, L(STACK, 3));
	add_root(g, 6, HS_ROOT_THREAD, 1, 1, L(LOCAL, HS_LABEL_NONE));
	add_root(g, 9, HS_ROOT_INTERP, 0, NONE, L(SLOT, slot_b));

	g->skips = (struct hs_skips){.bad_pointer = 1, .bad_type = 2, .bad_object = 3,
				     .gc_list = 4, .frames = 5, .limits = UINT64_MAX};
	g->gc_counts[0] = 10;
	g->gc_counts[1] = 20;
	g->gc_counts[2] = 0;
	g->gc_counts[3] = UINT64_MAX;
	g->gc_collecting = 1;
}

/* Three objects with a little of everything: what the loops over every
 * truncation and every byte flip read, and the base of crafted streams. */
FIXTURE void small_graph(struct hs_graph *g, struct hs_capinfo *info)
{
	static const struct hs_thread thread = {7, 8, 1, "T"};
	const uint32_t e0[][2] = {{1, FIELD(IS_MODULES)}, {2, L(INDEX, 0)}};
	const uint32_t e2[][2] = {{0, L(SLOT, 0)}};
	uint32_t t_a, t_b;

	hs_graph_init(g);
	memset(info, 0, sizeof(*info));
	info->pid = 7;
	snprintf(info->python, sizeof(info->python), "3.11.4");
	info->py_minor = 11;
	add_check(info, "s", "w", 1, 2, HS_CHECK_OK);
	t_a = add_type(g, 0x1000, "a", "m", 0);
	t_b = add_type(g, 0x2000, "b", "m", 1);
	hs_graph_add_name(g, "n");
	hs_graph_add_text(g, 1, "'x'");
	hs_graph_sort_texts(g);
	add_object(g, 0x100, t_a, 16, HS_GEN_0, 1, e0, 2);
	add_object(g, 0x110, t_b, 32, HS_GEN_2, 2, NULL, 0);
	add_object(g, 0x120, t_a, 48, HS_GEN_UNTRACKED, 3, e2, 1);
	set_threads(g, &thread, 1);
	hs_graph_add_frame(g, 0, 0, 2);
	add_root(g, 0, HS_ROOT_THREAD, 0, 0, L(LOCAL, 1));
	add_root(g, 2, HS_ROOT_INTERP, 0, NONE, FIELD(IS_SYSDICT));
}

/* Many objects with random sizes: a file larger than the reader's input
 * buffer, so it is read in several pieces. */
FIXTURE void large_graph(struct hs_graph *g, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t t = 0;

	hs_graph_init(g);
	add_type(g, 0x1000, "int", "builtins", 0);
	for (size_t i = 0; i < n; i++) {
		uint32_t e[3][2];
		size_t k = 0;

		for (; k < i % 4 && k < 3; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			e[k][0] = (uint32_t)(x % n);
			e[k][1] = L(INDEX, (uint32_t)k);
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		add_object(g, 0x7f0000000000ull + 16 * (uint64_t)i, t, x, (uint8_t)(i % 5), x >> 40,
			   (const uint32_t(*)[2])e, k);
	}
}

#endif
