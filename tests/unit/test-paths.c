/* Unit test of the shortest-path search (paths.c), path text (pathtext.c)
 * and path shapes (shapes.c) on hand-built graphs. */
#include "heapscope/paths.h"
#include "heapscope/pathtext.h"
#include "heapscope/shapes.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heapscope/error.h"
#include "heapscope/graph.h"
#include "heapscope/layout.h"
#include "heapscope/referrers.h"
#include "tap.h"

#define L(kind, value) HS_EDGE_LABEL(HS_EDGE_##kind, value)
#define FIELD(f) L(FIELD, HS_F_##f)
#define NONE HS_NO_OBJECT
#define MAXO 128
#define MAXE 256

struct e {
	uint32_t src, dst, label;
};

/*
 * A graph described object by object, edges in any order (kept in their
 * order per source), then built with finish().  Object i lives at
 * 0x100000 + 16 * i.
 */
struct spec {
	struct hs_graph g;
	uint32_t n;
	uint32_t type[MAXO];
	uint8_t gen[MAXO];
	uint32_t refcnt[MAXO];
	size_t ne;
	struct e ed[MAXE];
	uint32_t t_dict, t_str, t_module, t_list, t_tuple, t_code, t_frame, t_node, t_session,
		t_bytes;
};

static uint32_t add_type(struct hs_graph *g, const char *name, const char *module)
{
	return hs_graph_add_type(g, 0x10000000 + 0x1000 * (uint64_t)g->type_count, strdup(name),
				 strdup(module));
}

static void spec_init(struct spec *s)
{
	memset(s, 0, sizeof(*s));
	hs_graph_init(&s->g);
	s->t_dict = add_type(&s->g, "dict", "builtins");
	s->t_str = add_type(&s->g, "str", "builtins");
	s->t_module = add_type(&s->g, "module", "builtins");
	s->t_list = add_type(&s->g, "list", "builtins");
	s->t_tuple = add_type(&s->g, "tuple", "builtins");
	s->t_code = add_type(&s->g, "code", "builtins");
	s->t_frame = add_type(&s->g, "frame", "builtins");
	s->t_node = add_type(&s->g, "app.Node", "app");
	s->t_session = add_type(&s->g, "app.Session", "app");
	s->t_bytes = add_type(&s->g, "bytes", "builtins");
}

static uint32_t obj(struct spec *s, uint32_t type, uint8_t gen, uint32_t refcnt)
{
	if (s->n >= MAXO)
		abort();
	s->type[s->n] = type;
	s->gen[s->n] = gen;
	s->refcnt[s->n] = refcnt;
	return s->n++;
}

/* A tracked app.Node. */
static uint32_t node(struct spec *s, uint32_t refcnt)
{
	return obj(s, s->t_node, HS_GEN_2, refcnt);
}

/* A str with its repr as text. */
static uint32_t str(struct spec *s, const char *repr)
{
	uint32_t o = obj(s, s->t_str, HS_GEN_UNTRACKED, 1);

	hs_graph_add_text(&s->g, o, repr);
	return o;
}

static void edge(struct spec *s, uint32_t src, uint32_t dst, uint32_t label)
{
	if (s->ne >= MAXE)
		abort();
	s->ed[s->ne++] = (struct e){src, dst, label};
}

/* dict[key] = value, as entry number `entry` */
static void dict_set(struct spec *s, uint32_t dict, uint32_t entry, uint32_t key, uint32_t value)
{
	edge(s, dict, key, L(KEY, entry));
	edge(s, dict, value, L(VALUE, key));
}

/* A module, its name (the sys.modules key) and its dict; not yet in
 * sys.modules. */
static uint32_t module(struct spec *s, const char *repr, uint32_t *key, uint32_t *dict)
{
	uint32_t m;

	*key = str(s, repr);
	m = obj(s, s->t_module, HS_GEN_2, 1);
	*dict = obj(s, s->t_dict, HS_GEN_2, 1);
	edge(s, m, *dict, FIELD(MOD_DICT));
	return m;
}

static void root(struct spec *s, uint32_t o, uint8_t kind, uint32_t detail, uint32_t frame,
		 uint32_t label)
{
	hs_graph_add_root(&s->g, &(struct hs_root){.obj = o, .kind = kind, .detail = detail,
						    .frame = frame, .label = label});
}

static void set_threads(struct hs_graph *g, const struct hs_thread *t, size_t n)
{
	g->threads = malloc(n * sizeof(*g->threads));
	for (size_t i = 0; i < n; i++) {
		g->threads[i] = t[i];
		g->threads[i].name = t[i].name ? strdup(t[i].name) : NULL;
	}
	g->thread_count = n;
}

static int finish(struct spec *s)
{
	int bad = 0;

	for (uint32_t i = 0; i < s->n; i++) {
		bad |= hs_graph_add_object(&s->g, 0x100000 + 16 * (uint64_t)i, s->type[i], 16,
					   s->gen[i], s->refcnt[i]) != i;
		for (size_t k = 0; k < s->ne; k++)
			if (s->ed[k].src == i)
				bad |= hs_graph_add_edge(&s->g, s->ed[k].dst, s->ed[k].label) != 0;
		bad |= hs_graph_close_edges(&s->g, i) != 0;
	}
	hs_graph_sort_texts(&s->g);
	return bad;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool has_edge(const struct hs_graph *g, uint32_t src, uint32_t dst, uint32_t label)
{
	const struct hs_edge *e, *end;

	for (e = hs_graph_edges(g, src, &end); e < end; e++)
		if (e->dst == dst && e->label == label)
			return true;
	return false;
}

/* Invariants every search result must satisfy. */
static void check_consistent(const struct hs_graph *g, const struct hs_paths *p, const char *what)
{
	size_t n = g->count, bad = 0, first_bad = SIZE_MAX;
	uint32_t *pos = malloc((n ? n : 1) * sizeof(*pos));
	bool perm = p->count == n;

	memset(pos, 0xff, (n ? n : 1) * sizeof(*pos));
	for (size_t k = 0; k < n && perm; k++) {
		uint32_t o = p->order[k];

		if (o >= n || pos[o] != UINT32_MAX)
			perm = false;
		else
			pos[o] = (uint32_t)k;
	}
	ok(perm, "%s: order is a permutation of the %zu objects", what, n);
	if (!perm) {
		free(pos);
		return;
	}
	for (uint32_t o = 0; o < n; o++) {
		bool good;

		if (p->origin[o] >= p->origin_count) {
			good = false;
		} else if (p->parent[o] == NONE) {
			const struct hs_origin *org = &p->origins[p->origin[o]];
			const struct hs_root *r = org->root < g->root_count ? &g->roots[org->root] : NULL;

			good = org->obj == o &&
			       ((p->depth[o] == 0 && p->via[o] == HS_LABEL_NONE) ||
				(p->depth[o] == 1 && org->kind == HS_ORIGIN_FRAME && r &&
				 hs_root_in_frame(r) && p->via[o] == r->label));
		} else {
			uint32_t u = p->parent[o];

			good = u < n && pos[u] < pos[o] && p->depth[o] == p->depth[u] + 1 &&
			       p->origin[o] == p->origin[u] && has_edge(g, u, o, p->via[o]);
		}
		if (!good && bad++ == 0)
			first_bad = o;
	}
	ok(bad == 0, "%s: every object's origin, depth (parent's + 1), via and order agree "
	   "(%zu bad, first %zu)", what, bad, first_bad == SIZE_MAX ? (size_t)0 : first_bad);

	bad = 0;
	for (size_t i = 0; i < p->origin_count; i++) {
		uint32_t o = p->origins[i].obj;

		if (o >= n || p->origin[o] != i || p->parent[o] != NONE)
			bad++;
	}
	ok(bad == 0, "%s: each origin starts at its own object (%zu bad)", what, bad);

	/* breadth first: a neighbour of a root-reached object is at most one
	 * hop deeper; nothing alive refers to garbage */
	size_t not_bfs = 0, to_garbage = 0;

	for (uint32_t u = 0; u < n; u++) {
		const struct hs_edge *e, *end;

		for (e = hs_graph_edges(g, u, &end); e < end; e++) {
			if (e->dst >= n)
				continue;
			if (hs_paths_from_root(p, u) &&
			    (!hs_paths_from_root(p, e->dst) || p->depth[e->dst] > p->depth[u] + 1))
				not_bfs++;
			if (hs_paths_alive(p, u) && !hs_paths_alive(p, e->dst))
				to_garbage++;
		}
	}
	ok(not_bfs == 0 && to_garbage == 0,
	   "%s: shortest from the roots (%zu edges skip a level), nothing alive holds garbage "
	   "(%zu edges)", what, not_bfs, to_garbage);
	free(pos);
}

static void expect(const struct hs_paths *p, uint32_t o, uint32_t parent, uint32_t depth,
		   uint32_t via, const char *what)
{
	ok(p->parent[o] == parent && p->depth[o] == depth && p->via[o] == via,
	   "%s: parent %u depth %u via %#x (got parent %d depth %u via %#x)", what, parent, depth,
	   via, (int)p->parent[o], p->depth[o], p->via[o]);
}

static uint8_t okind(const struct hs_paths *p, uint32_t o)
{
	return p->origins[p->origin[o]].kind;
}

/*
 * Named roots: two modules, a 3.11 frame with slots, a <= 3.10 frame
 * object, sys.modules itself and a thread state field; then what they do
 * not reach: gc-only, external, garbage, permanent.
 */
static void test_search(void)
{
	struct spec s;
	struct hs_referrers r;
	struct hs_paths p;
	int rc;

	spec_init(&s);
	uint32_t nx = hs_graph_add_name(&s.g, "next"), pv = hs_graph_add_name(&s.g, "prev");
	uint32_t sysmods = obj(&s, s.t_dict, HS_GEN_2, 1);
	uint32_t kz, zd, ka, ad;
	uint32_t mz = module(&s, "'app.z'", &kz, &zd);
	uint32_t ma = module(&s, "'app.a'", &ka, &ad);

	/* sys.modules lists app.a first, though app.z has the lower numbers */
	dict_set(&s, sysmods, 0, ka, ma);
	dict_set(&s, sysmods, 1, kz, mz);

	/* two routes to t: app.a.long.next.next.next (first in the dict,
	 * 4 hops) and app.a.short.next (3 hops) */
	uint32_t k_long = str(&s, "'long'"), k_short = str(&s, "'short'");
	uint32_t l1 = node(&s, 1), l2 = node(&s, 1), l3 = node(&s, 1), s1 = node(&s, 1);
	uint32_t t = node(&s, 2);

	dict_set(&s, ad, 0, k_long, l1);
	dict_set(&s, ad, 1, k_short, s1);
	edge(&s, l1, l2, L(SLOT, nx));
	edge(&s, l2, l3, L(SLOT, nx));
	edge(&s, l3, t, L(SLOT, nx));
	edge(&s, s1, t, L(SLOT, nx));

	/* both modules hold `shared`, app.z's (lower numbered) dict first */
	uint32_t k_shared = str(&s, "'shared'"), shared = node(&s, 2);

	dict_set(&s, zd, 0, k_shared, shared);
	dict_set(&s, ad, 2, k_shared, shared);

	/* a thread with a 3.11 frame (slots are roots) and a <= 3.10 frame
	 * object, both running code named handle */
	set_threads(&s.g, (struct hs_thread[]){{.thread_id = 140001, .native_id = 4242,
						.frames = 2, .name = "worker-2"}}, 1);
	uint32_t code = obj(&s, s.t_code, HS_GEN_2, 2), k_handle = str(&s, "'handle'");
	uint32_t names = obj(&s, s.t_tuple, HS_GEN_2, 1);
	uint32_t k_x = str(&s, "'x'"), k_y = str(&s, "'y'"), k_g = str(&s, "'g'");
	uint32_t k_child = str(&s, "'child'"), k_tie = str(&s, "'tie'"), k_fs = str(&s, "'fs'");

	edge(&s, code, k_handle, FIELD(CO_NAME));
	edge(&s, code, names, FIELD(CO_VARNAMES));
	edge(&s, names, k_x, L(INDEX, 0));
	edge(&s, names, k_y, L(INDEX, 1));
	edge(&s, names, k_g, L(INDEX, 2));
	edge(&s, names, k_child, L(INDEX, 3));
	uint32_t frame0 = hs_graph_add_frame(&s.g, 0, 0, code);
	uint32_t frame1 = hs_graph_add_frame(&s.g, 0, 1, code);

	/* x (local): x.child at 2 hops; x.tie and app.a.tie both 2 hops */
	uint32_t x = node(&s, 1), xc = node(&s, 1), tie = node(&s, 2), fs = node(&s, 2);

	edge(&s, x, xc, L(ATTR, k_child));
	edge(&s, x, tie, L(ATTR, k_tie));
	dict_set(&s, ad, 3, k_tie, tie);
	/* fs: local y (1 hop) and app.a.fs (2 hops) */
	dict_set(&s, ad, 4, k_fs, fs);

	uint32_t fo = obj(&s, s.t_frame, HS_GEN_2, 1), tsd = obj(&s, s.t_dict, HS_GEN_2, 1);

	edge(&s, fo, code, FIELD(FR_CODE));

	/* roots, deliberately not in pass order */
	root(&s, x, HS_ROOT_THREAD, 0, frame0, L(LOCAL, k_x));                 /* 0 */
	root(&s, sysmods, HS_ROOT_INTERP, 0, NONE, FIELD(IS_MODULES));         /* 1 */
	root(&s, fo, HS_ROOT_THREAD, 0, frame1, FIELD(TS_FRAME));              /* 2 */
	root(&s, fs, HS_ROOT_THREAD, 0, frame0, L(LOCAL, k_y));                /* 3 */
	root(&s, ad, HS_ROOT_THREAD, 0, frame0, L(LOCAL, k_g));                /* 4 */
	root(&s, tsd, HS_ROOT_THREAD, 0, NONE, FIELD(TS_DICT));                /* 5 */

	/* unreached by the roots */
	uint32_t g0 = obj(&s, s.t_list, HS_GEN_2, 1), g1 = node(&s, 1);       /* gc-only */
	uint32_t e1 = node(&s, 1), e2 = node(&s, 2);                            /* e2: refcnt + 1 */
	uint32_t u = obj(&s, s.t_tuple, HS_GEN_UNTRACKED, 1), x2 = node(&s, 1); /* held by untracked */
	uint32_t ga = node(&s, 1), gb = node(&s, 1), gd = node(&s, 2);          /* garbage; gd extra ref */
	uint32_t c1 = node(&s, 1), c2 = node(&s, 1);                            /* conservative */
	uint32_t p1 = obj(&s, s.t_node, HS_GEN_PERMANENT, 1);
	uint32_t p2 = obj(&s, s.t_node, HS_GEN_PERMANENT, 1);
	uint32_t h1 = node(&s, 1), h2 = node(&s, 1);                            /* more garbage */

	edge(&s, g0, g1, L(INDEX, 0));
	edge(&s, e1, e2, L(SLOT, nx));
	edge(&s, e2, e1, L(SLOT, pv));
	edge(&s, u, x2, L(INDEX, 0));
	edge(&s, x2, u, L(SLOT, nx));
	edge(&s, ga, gb, L(SLOT, nx));
	edge(&s, gb, ga, L(SLOT, pv));
	edge(&s, gb, gd, L(SLOT, nx));
	edge(&s, c1, c2, L(CONSERVATIVE, 0x18));
	edge(&s, c2, c1, L(SLOT, nx));
	edge(&s, p1, p2, L(SLOT, nx));
	edge(&s, p2, p1, L(SLOT, pv));
	edge(&s, h1, h2, L(SLOT, nx));
	edge(&s, h2, h1, L(SLOT, pv));

	ok(finish(&s) == 0, "search graph built (%u objects)", s.n);
	ok(hs_referrers_build(&s.g, &r) == 0, "referrers");
	rc = hs_paths_build(&s.g, &r, &p);
	ok(rc == 0 && p.count == s.n, "paths built (rc %d)", rc);
	if (rc != 0) {
		hs_referrers_release(&r);
		hs_graph_release(&s.g);
		return;
	}

	/* origins, in the order they are tried */
	const struct hs_origin want_origins[] = {
		{HS_ORIGIN_MODULE, NONE, ka, ma},
		{HS_ORIGIN_MODULE, NONE, kz, mz},
		{HS_ORIGIN_FRAME, 2, NONE, fo},
		{HS_ORIGIN_INTERP, 1, NONE, sysmods},
		{HS_ORIGIN_THREAD, 5, NONE, tsd},
		{HS_ORIGIN_FRAME, 0, NONE, x},
		{HS_ORIGIN_FRAME, 3, NONE, fs},
		{HS_ORIGIN_GC_ONLY, NONE, NONE, g0},
		{HS_ORIGIN_EXTERNAL, NONE, NONE, e2},
		{HS_ORIGIN_EXTERNAL, NONE, NONE, x2},
		{HS_ORIGIN_EXTERNAL, NONE, NONE, gd},
		{HS_ORIGIN_EXTERNAL, NONE, NONE, c2},
		{HS_ORIGIN_EXTERNAL, NONE, NONE, p1},
		{HS_ORIGIN_EXTERNAL, NONE, NONE, p2},
		{HS_ORIGIN_GARBAGE, NONE, NONE, ga},
		{HS_ORIGIN_GARBAGE, NONE, NONE, h1},
	};
	size_t nwant = sizeof(want_origins) / sizeof(want_origins[0]);

	ok(p.origin_count == nwant, "%zu origins (got %zu)", nwant, p.origin_count);
	for (size_t i = 0; i < nwant && i < p.origin_count; i++) {
		const struct hs_origin *w = &want_origins[i], *o = &p.origins[i];
		bool named = w->kind == HS_ORIGIN_FRAME || w->kind == HS_ORIGIN_INTERP ||
			     w->kind == HS_ORIGIN_THREAD;

		ok(o->kind == w->kind && o->obj == w->obj &&
		   (w->kind != HS_ORIGIN_MODULE || o->key == w->key) && (!named || o->root == w->root),
		   "origin %zu: %s obj %u key %d root %d (got %s obj %u key %d root %d)", i,
		   hs_origin_kind_name(w->kind), w->obj, (int)w->key, (int)w->root,
		   hs_origin_kind_name(o->kind), o->obj, (int)o->key, (int)o->root);
	}

	/* shortest wins */
	expect(&p, ma, NONE, 0, HS_LABEL_NONE, "module app.a");
	expect(&p, ad, ma, 1, FIELD(MOD_DICT),
	       "app.a's dict: from the module, not from local g (equal depth)");
	expect(&p, l1, ad, 2, L(VALUE, k_long), "app.a.long");
	expect(&p, s1, ad, 2, L(VALUE, k_short), "app.a.short");
	expect(&p, l2, l1, 3, L(SLOT, nx), "app.a.long.next");
	expect(&p, t, s1, 3, L(SLOT, nx), "t: the short route (3 hops), not the long one (4)");
	expect(&p, l3, l2, 4, L(SLOT, nx), "app.a.long.next.next");
	ok(p.origin[t] == 0 && p.origin[l3] == 0, "t and l3 start at app.a");
	/* ties */
	expect(&p, shared, ad, 2, L(VALUE, k_shared),
	       "shared: app.a (first in sys.modules) beats app.z (lower numbers)");
	ok(p.origins[p.origin[shared]].key == ka, "shared's origin key is 'app.a'");
	expect(&p, tie, ad, 2, L(VALUE, k_tie), "tie: module beats the frame slot at equal depth");
	ok(okind(&p, tie) == HS_ORIGIN_MODULE, "tie's origin is a module");
	/* frame slots (3.11) */
	expect(&p, x, NONE, 1, L(LOCAL, k_x), "frame slot x: depth 1, via its slot label");
	ok(okind(&p, x) == HS_ORIGIN_FRAME && p.origins[p.origin[x]].root == 0,
	   "x's origin: frame, root 0");
	expect(&p, xc, x, 2, L(ATTR, k_child), "x.child");
	ok(p.origin[xc] == p.origin[x], "x.child starts where x does");
	expect(&p, fs, NONE, 1, L(LOCAL, k_y),
	       "fs: local y (1 hop) beats the module global (2 hops)");
	/* frame object (<= 3.10) */
	expect(&p, fo, NONE, 0, HS_LABEL_NONE, "frame object: depth 0, no via");
	ok(okind(&p, fo) == HS_ORIGIN_FRAME, "frame object's origin kind is frame");
	expect(&p, code, fo, 1, FIELD(FR_CODE), "the frame's code");
	expect(&p, k_handle, code, 2, FIELD(CO_NAME), "the code's name");
	/* interpreter and thread fields */
	expect(&p, sysmods, NONE, 0, HS_LABEL_NONE, "sys.modules");
	expect(&p, ka, sysmods, 1, L(KEY, 0), "'app.a' via sys.modules' keys");
	expect(&p, tsd, NONE, 0, HS_LABEL_NONE, "thread state dict");
	ok(okind(&p, tsd) == HS_ORIGIN_THREAD, "thread state dict's origin kind is thread");

	/* what the roots do not reach */
	expect(&p, g0, NONE, 0, HS_LABEL_NONE, "in-degree 0 list");
	ok(okind(&p, g0) == HS_ORIGIN_GC_ONLY, "in-degree 0: gc-only");
	expect(&p, g1, g0, 1, L(INDEX, 0), "what the gc-only list holds");
	ok(okind(&p, g1) == HS_ORIGIN_GC_ONLY, "... starts at the gc-only list");
	expect(&p, e2, NONE, 0, HS_LABEL_NONE, "refcnt 2, one internal ref");
	ok(okind(&p, e2) == HS_ORIGIN_EXTERNAL, "refcnt over internal refs: external");
	expect(&p, e1, e2, 1, L(SLOT, pv), "its partner (refcnt == refs) hangs off it");
	ok(okind(&p, x2) == HS_ORIGIN_EXTERNAL && p.parent[x2] == NONE,
	   "held only by an untracked object: external (untracked refs are not internal)");
	expect(&p, u, x2, 1, L(SLOT, nx), "the untracked holder hangs off it");
	ok(okind(&p, ga) == HS_ORIGIN_GARBAGE && okind(&p, gb) == HS_ORIGIN_GARBAGE,
	   "2-cycle with refcnts == internal refs: garbage");
	expect(&p, gb, ga, 1, L(SLOT, nx), "garbage partner");
	ok(!hs_paths_alive(&p, ga) && !hs_paths_alive(&p, gb) && !hs_paths_from_root(&p, ga),
	   "garbage is not alive");
	ok(okind(&p, gd) == HS_ORIGIN_EXTERNAL && hs_paths_alive(&p, gd) && p.parent[gd] == NONE,
	   "held by garbage but refcnt one over: external, alive");
	ok(okind(&p, c2) == HS_ORIGIN_EXTERNAL && p.parent[c2] == NONE,
	   "held only through a conservative edge: external (guess not counted)");
	expect(&p, c1, c2, 1, L(SLOT, nx), "conservative pair partner");
	ok(okind(&p, p1) == HS_ORIGIN_EXTERNAL && okind(&p, p2) == HS_ORIGIN_EXTERNAL &&
	   hs_paths_alive(&p, p1) && hs_paths_alive(&p, p2),
	   "permanent-generation 2-cycle: never garbage");
	ok(okind(&p, h1) == HS_ORIGIN_GARBAGE && p.origin[h1] != p.origin[ga] &&
	   p.parent[h2] == h1, "a second garbage cycle: its own origin");

	size_t dead = 0, from_root = 0;

	for (uint32_t i = 0; i < s.n; i++) {
		dead += !hs_paths_alive(&p, i);
		from_root += hs_paths_from_root(&p, i);
	}
	ok(dead == 4, "4 garbage objects (got %zu)", dead);
	/* everything numbered below g0 is reached from a named root */
	ok(from_root == g0, "%u objects reached from named roots (got %zu)", g0, from_root);
	check_consistent(&s.g, &p, "search");

	ok(strcmp(hs_origin_kind_name(HS_ORIGIN_GARBAGE), "garbage") == 0 &&
	   strcmp(hs_origin_kind_name(HS_ORIGIN_FRAME), "thread") == 0 &&
	   strcmp(hs_origin_kind_name((enum hs_origin_kind)99), "?") == 0, "origin kind names");

	hs_paths_release(&p);
	ok(p.parent == NULL && p.origins == NULL && p.count == 0, "paths release empties");
	hs_referrers_release(&r);
	hs_graph_release(&s.g);

	/* the empty graph */
	struct hs_graph g;

	hs_graph_init(&g);
	ok(hs_referrers_build(&g, &r) == 0 && hs_paths_build(&g, &r, &p) == 0 && p.count == 0 &&
	   p.origin_count == 0, "empty graph: no paths");
	hs_paths_release(&p);
	hs_referrers_release(&r);
	hs_graph_release(&g);
}

/* The text of obj's path, malloc'd. */
static char *path_text(const struct hs_graph *g, const struct hs_paths *p, uint32_t o)
{
	struct hs_hop *hops;
	uint32_t *objs;
	size_t nh, no;
	struct hs_strbuf b = {0};
	char *res;

	if (hs_path_of(p, o, &hops, &nh, &objs, &no) < 0)
		return strdup("<error>");
	hs_path_text(g, p, p->origin[o], hops, nh, &b);
	res = strdup(b.oom ? "<oom>" : hs_strbuf_str(&b));
	hs_strbuf_release(&b);
	free(hops);
	free(objs);
	return res;
}

static void expect_path(const struct hs_graph *g, const struct hs_paths *p, uint32_t o,
			const char *want)
{
	char *got = path_text(g, p, o);

	ok(strcmp(got, want) == 0, "path of %u: %s (got %s)", o, want, got);
	free(got);
}

static void expect_hops(const struct hs_graph *g, const struct hs_hop *hops, size_t n,
			const char *want)
{
	struct hs_strbuf b = {0};

	hs_hops_text(g, hops, n, &b);
	ok(strcmp(hs_strbuf_str(&b), want) == 0, "hops text \"%s\" (got \"%s\")", want,
	   hs_strbuf_str(&b));
	hs_strbuf_release(&b);
}

static bool hops_equal(const struct hs_hop *a, size_t na, const struct hs_hop *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].label != b[i].label || a[i].wild != b[i].wild)
			return false;
	return true;
}

static bool objs_equal(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static void test_text(void)
{
	struct spec s;
	struct hs_referrers r;
	struct hs_paths p;
	struct hs_strbuf b = {0};
	int rc;

	spec_init(&s);
	uint32_t nx = hs_graph_add_name(&s.g, "next"), owner = hs_graph_add_name(&s.g, "owner");
	uint32_t sysmods = obj(&s, s.t_dict, HS_GEN_2, 1);
	uint32_t km, md, kab, abd;
	uint32_t m = module(&s, "'app.registry'", &km, &md);
	uint32_t ab = module(&s, "'a-b'", &kab, &abd);

	dict_set(&s, sysmods, 0, km, m);
	dict_set(&s, sysmods, 1, kab, ab);

	/* app.registry.REGISTRY['sessions'][0..3] */
	uint32_t k_reg = str(&s, "'REGISTRY'"), reg = obj(&s, s.t_dict, HS_GEN_2, 1);
	uint32_t k_sess = str(&s, "'sessions'"), sl = obj(&s, s.t_list, HS_GEN_2, 1);
	uint32_t ss[4];

	dict_set(&s, md, 0, k_reg, reg);
	dict_set(&s, reg, 0, k_sess, sl);
	for (uint32_t i = 0; i < 4; i++) {
		ss[i] = obj(&s, s.t_session, HS_GEN_2, 1);
		edge(&s, sl, ss[i], L(INDEX, i));
	}
	uint32_t k_name = str(&s, "'name'"), alice = str(&s, "'alice'"), ow = node(&s, 1);

	edge(&s, ss[3], alice, L(ATTR, k_name));
	edge(&s, ss[3], ow, L(SLOT, owner));

	/* a global whose name is not an identifier */
	uint32_t k_ab = str(&s, "'a b'"), w = node(&s, 1);

	dict_set(&s, md, 1, k_ab, w);

	/* app.registry.head, then .next 6 times */
	uint32_t k_head = str(&s, "'head'"), nodes[7];

	str(&s, "'next'"); /* a dict key text for the hops below */

	for (int i = 0; i < 7; i++)
		nodes[i] = node(&s, 1);
	dict_set(&s, md, 2, k_head, nodes[0]);
	for (int i = 0; i < 6; i++)
		edge(&s, nodes[i], nodes[i + 1], L(SLOT, nx));

	/* a guessed reference from an undecoded body */
	uint32_t k_blob = str(&s, "'blob'"), blob = obj(&s, s.t_bytes, HS_GEN_UNTRACKED, 1);
	uint32_t y = node(&s, 1);

	dict_set(&s, md, 3, k_blob, blob);
	edge(&s, blob, y, L(CONSERVATIVE, 0x18));

	/* threads and frames */
	set_threads(&s.g, (struct hs_thread[]){
		{.thread_id = 140001, .native_id = 4242, .frames = 2, .name = "worker-2"},
		{.thread_id = 77, .native_id = 0, .frames = 0, .name = NULL},
	}, 2);
	uint32_t co = obj(&s, s.t_code, HS_GEN_2, 1), k_handle = str(&s, "'handle'");
	uint32_t co2 = obj(&s, s.t_code, HS_GEN_2, 1), k_run = str(&s, "'run'");
	uint32_t k_fname = str(&s, "'frame_name_decoy'");

	/* a str field that is not co_name comes first: not the name */
	edge(&s, co, k_fname, FIELD(CO_QUALNAME));
	edge(&s, co, k_handle, FIELD(CO_NAME));
	edge(&s, co2, k_run, FIELD(CO_NAME));
	uint32_t frame0 = hs_graph_add_frame(&s.g, 0, 0, co);
	uint32_t frame1 = hs_graph_add_frame(&s.g, 0, 1, co2);
	uint32_t k_x = str(&s, "'x'"), lx = node(&s, 1);
	uint32_t k_items = str(&s, "'items'"), lxl = obj(&s, s.t_list, HS_GEN_2, 1);

	edge(&s, lx, lxl, L(ATTR, k_items));
	uint32_t fo = obj(&s, s.t_frame, HS_GEN_2, 1), fl = obj(&s, s.t_dict, HS_GEN_2, 1);

	edge(&s, fo, fl, FIELD(FR_LOCALS));
	uint32_t tsd = obj(&s, s.t_dict, HS_GEN_2, 1);

	root(&s, sysmods, HS_ROOT_INTERP, 0, NONE, FIELD(IS_MODULES));
	root(&s, lx, HS_ROOT_THREAD, 0, frame0, L(LOCAL, k_x));
	root(&s, fo, HS_ROOT_THREAD, 0, frame1, FIELD(TS_FRAME));
	root(&s, tsd, HS_ROOT_THREAD, 1, NONE, FIELD(TS_DICT));

	/* unreached */
	uint32_t ga = node(&s, 1), gb = node(&s, 1), go = node(&s, 1);
	uint32_t ex = node(&s, 1), ux = obj(&s, s.t_tuple, HS_GEN_UNTRACKED, 1);

	edge(&s, ga, gb, L(SLOT, nx));
	edge(&s, gb, ga, L(SLOT, nx));
	edge(&s, ex, ux, L(SLOT, nx));
	edge(&s, ux, ex, L(INDEX, 0));

	ok(finish(&s) == 0, "text graph built (%u objects)", s.n);
	ok(hs_referrers_build(&s.g, &r) == 0, "referrers");
	rc = hs_paths_build(&s.g, &r, &p);
	ok(rc == 0, "paths built (rc %d)", rc);
	if (rc != 0) {
		hs_referrers_release(&r);
		hs_graph_release(&s.g);
		return;
	}
	check_consistent(&s.g, &p, "text");

	/* origins alone */
	hs_origin_text(&s.g, &p, p.origin[m], &b);
	ok(strcmp(hs_strbuf_str(&b), "app.registry") == 0, "module origin: %s", hs_strbuf_str(&b));
	hs_strbuf_reset(&b);
	hs_origin_text(&s.g, &p, p.origin[ab], &b);
	ok(strcmp(hs_strbuf_str(&b), "sys.modules['a-b']") == 0,
	   "non-identifier module key: %s", hs_strbuf_str(&b));
	hs_strbuf_reset(&b);
	hs_origin_text(&s.g, &p, p.origin[lx], &b);
	ok(strcmp(hs_strbuf_str(&b), "<thread 4242 \"worker-2\"> frame handle()") == 0,
	   "frame origin: %s", hs_strbuf_str(&b));
	hs_strbuf_reset(&b);
	hs_origin_text(&s.g, &p, (uint32_t)p.origin_count, &b);
	ok(strcmp(hs_strbuf_str(&b), "<?>") == 0, "no such origin: %s", hs_strbuf_str(&b));
	hs_strbuf_reset(&b);

	char fn[8];

	ok(strcmp(hs_frame_function(&s.g, frame1, fn, sizeof(fn)), "run") == 0 &&
	   strcmp(hs_frame_function(&s.g, 99, fn, sizeof(fn)), "") == 0,
	   "frame function names");

	/* whole paths */
	expect_path(&s.g, &p, m, "app.registry");
	expect_path(&s.g, &p, md, "app.registry.__dict__");
	expect_path(&s.g, &p, reg, "app.registry.REGISTRY");
	expect_path(&s.g, &p, sl, "app.registry.REGISTRY['sessions']");
	expect_path(&s.g, &p, ss[3], "app.registry.REGISTRY['sessions'][3]");
	expect_path(&s.g, &p, alice, "app.registry.REGISTRY['sessions'][3].name");
	expect_path(&s.g, &p, ow, "app.registry.REGISTRY['sessions'][3].owner");
	expect_path(&s.g, &p, w, "app.registry.__dict__['a b']");
	expect_path(&s.g, &p, ab, "sys.modules['a-b']");
	expect_path(&s.g, &p, abd, "sys.modules['a-b'].__dict__");
	expect_path(&s.g, &p, nodes[3], "app.registry.head.next.next.next");
	expect_path(&s.g, &p, nodes[4], "app.registry.head(.next)*4");
	expect_path(&s.g, &p, nodes[5], "app.registry.head(.next)*5");
	expect_path(&s.g, &p, y, "app.registry.blob <conservative +0x18>");
	expect_path(&s.g, &p, lx, "<thread 4242 \"worker-2\"> frame handle() local 'x'");
	expect_path(&s.g, &p, lxl, "<thread 4242 \"worker-2\"> frame handle() local 'x'.items");
	expect_path(&s.g, &p, fo, "<thread 4242 \"worker-2\"> frame run()");
	expect_path(&s.g, &p, fl, "<thread 4242 \"worker-2\"> frame run().f_locals");
	expect_path(&s.g, &p, tsd, "<thread 77> TS_DICT");
	expect_path(&s.g, &p, sysmods, "sys.modules");
	expect_path(&s.g, &p, km, "sys.modules.keys()[0]");
	expect_path(&s.g, &p, ga, "<garbage app.Node>");
	expect_path(&s.g, &p, gb, "<garbage app.Node>.next");
	expect_path(&s.g, &p, go, "<gc-only app.Node>");
	expect_path(&s.g, &p, ex, "<external app.Node>");
	expect_path(&s.g, &p, ux, "<external app.Node>.next");

	/* hops alone, from hs_path_of */
	struct hs_hop *hops;
	uint32_t *objs;
	size_t nh, no;

	rc = hs_path_of(&p, ss[3], &hops, &nh, &objs, &no);
	{
		const struct hs_hop wh[] = {{FIELD(MOD_DICT), false}, {L(VALUE, k_reg), false},
					    {L(VALUE, k_sess), false}, {L(INDEX, 3), false}};
		const uint32_t wo[] = {m, md, reg, sl, ss[3]};

		ok(rc == 0 && hops_equal(hops, nh, wh, 4) && objs_equal(objs, no, wo, 5),
		   "path_of sessions[3]: 4 hops, 5 objects (got %zu, %zu)", nh, no);
		if (rc == 0)
			expect_hops(&s.g, hops, nh, ".REGISTRY['sessions'][3]");
	}
	free(hops);
	free(objs);

	rc = hs_path_of(&p, lxl, &hops, &nh, &objs, &no);
	{
		const struct hs_hop wh[] = {{L(LOCAL, k_x), false}, {L(ATTR, k_items), false}};
		const uint32_t wo[] = {lx, lxl};

		ok(rc == 0 && hops_equal(hops, nh, wh, 2) && objs_equal(objs, no, wo, 2),
		   "path_of a frame slot's attribute: hops [local x, .items], objects [lx, lxl] "
		   "(got %zu, %zu)", nh, no);
	}
	free(hops);
	free(objs);

	rc = hs_path_of(&p, lx, &hops, &nh, &objs, &no);
	ok(rc == 0 && nh == 1 && hops[0].label == L(LOCAL, k_x) && no == 1 && objs[0] == lx,
	   "path_of a frame slot: 1 hop (the slot), 1 object");
	free(hops);
	free(objs);

	rc = hs_path_of(&p, fo, &hops, &nh, &objs, &no);
	ok(rc == 0 && nh == 0 && no == 1 && objs[0] == fo, "path_of a frame object: no hops");
	free(hops);
	free(objs);

	rc = hs_path_of(&p, m, &hops, &nh, &objs, &no);
	ok(rc == 0 && nh == 0 && no == 1 && objs[0] == m, "path_of a module: no hops");
	free(hops);
	free(objs);

	rc = hs_path_of(&p, gb, &hops, &nh, &objs, &no);
	ok(rc == 0 && nh == 1 && hops[0].label == L(SLOT, nx) && no == 2 && objs[0] == ga &&
	   objs[1] == gb, "path_of a garbage partner");
	free(hops);
	free(objs);

	rc = hs_path_of(&p, s.n, &hops, &nh, &objs, &no);
	ok(rc == HS_EUSAGE && hops == NULL && objs == NULL && nh == 0 && no == 0,
	   "path_of an object out of range: usage error (rc %d)", rc);

	/* hand-made hops */
	const struct hs_hop dict_head[] = {
		{FIELD(FN_DICT), false}, {L(VALUE, k_head), false}, {FIELD(FN_DICT), false},
		{L(VALUE, k_head), false}, {FIELD(TP_DICT), false}, {L(VALUE, k_head), false},
		{FIELD(MOD_DICT), false}, {L(VALUE, k_head), false},
	};
	const struct hs_hop stack4[] = {
		{L(STACK, 2), false}, {L(STACK, 2), false}, {L(STACK, 2), false}, {L(STACK, 2), false},
	};
	const struct hs_hop idx[] = {
		{L(INDEX, 0), false}, {L(INDEX, 1), false}, {L(INDEX, 2), false}, {L(INDEX, 3), false},
	};
	const struct hs_hop idx3[] = {{L(INDEX, 1), false}, {L(INDEX, 1), false}, {L(INDEX, 1), false}};
	const struct hs_hop idx4[] = {
		{L(INDEX, 1), false}, {L(INDEX, 1), false}, {L(INDEX, 1), false}, {L(INDEX, 1), false},
	};
	const struct hs_hop wild[] = {{FIELD(MOD_DICT), false}, {L(VALUE, k_head), true},
				      {L(INDEX, 5), true}, {L(KEY, 2), true}};
	const struct hs_hop split[] = {{FIELD(TP_DICT), false}, {L(ATTR, k_name), false},
				       {FIELD(TP_DICT), false}, {L(ATTR, k_ab), false}};
	const struct hs_hop slot_then_dict[] = {
		{L(SLOT, nx), false}, {L(SLOT, nx), false}, {FIELD(FN_DICT), false},
		{L(VALUE, k_sess), false}, {L(SLOT, nx), false}, {L(SLOT, nx), false},
	};

	/* equal text from one hop and from two: 5 steps, 6 hops, all written */
	uint32_t k_next = HS_NO_OBJECT;

	for (uint32_t i = 0; i < s.n && k_next == HS_NO_OBJECT; i++)
		if (hs_graph_text(&s.g, i) && !strcmp(hs_graph_text(&s.g, i), "'next'"))
			k_next = i;
	const struct hs_hop mixed_next[] = {
		{L(SLOT, nx), false}, {L(SLOT, nx), false}, {FIELD(FN_DICT), false},
		{L(VALUE, k_next), false}, {L(SLOT, nx), false}, {L(SLOT, nx), false},
	};

	hs_hops_text(&s.g, mixed_next, 6, &b);
	ok(k_next != HS_NO_OBJECT && (!strcmp(hs_strbuf_str(&b), ".next.next.next.next.next") ||
				      !strcmp(hs_strbuf_str(&b), "(.next)*5")),
	   "'.next' from one hop and from two (__dict__['next']): 5 steps (got %s)",
	   hs_strbuf_str(&b));
	hs_strbuf_reset(&b);
	expect_hops(&s.g, dict_head, 8, "(.head)*4");
	expect_hops(&s.g, stack4, 4, "(stack[2])*4");
	expect_hops(&s.g, stack4, 3, " stack[2] stack[2] stack[2]");
	expect_hops(&s.g, idx, 4, "[0][1][2][3]");
	expect_hops(&s.g, idx3, 3, "[1][1][1]");
	expect_hops(&s.g, idx4, 4, "([1])*4");
	expect_hops(&s.g, wild, 4, ".__dict__[*][*].keys()[*]");
	expect_hops(&s.g, split, 4, ".name.__dict__['a b']");
	expect_hops(&s.g, slot_then_dict, 6, ".next.next.sessions.next.next");
	expect_hops(&s.g, idx, 0, "");
	expect_hops(&s.g, (const struct hs_hop[]){{FIELD(MOD_DICT), false}}, 1, ".__dict__");
	expect_hops(&s.g, (const struct hs_hop[]){{L(LOCAL, k_x), false}, {L(LOCAL, k_x), false},
						   {L(LOCAL, k_x), false}, {L(LOCAL, k_x), false}},
		    4, "(local 'x')*4");

	/* single edges */
	hs_edge_text(&s.g, (struct hs_hop){L(CONSERVATIVE, 0x18), false}, &b);
	hs_edge_text(&s.g, (struct hs_hop){L(TYPE, 0), false}, &b);
	hs_edge_text(&s.g, (struct hs_hop){L(SET_ITEM, 0), false}, &b);
	hs_edge_text(&s.g, (struct hs_hop){L(VALUE, HS_LABEL_NONE), false}, &b);
	hs_edge_text(&s.g, (struct hs_hop){L(SLOT, 999), false}, &b);
	hs_edge_text(&s.g, (struct hs_hop){FIELD(TS_DICT), false}, &b);
	ok(strcmp(hs_strbuf_str(&b),
		  " <conservative +0x18>.__class__{*}[?].<slot>.<TS_DICT>") == 0,
	   "edge texts: %s", hs_strbuf_str(&b));
	hs_strbuf_release(&b);

	ok(hs_text_is_identifier("'abc_1'") && !hs_text_is_identifier("'a b'") &&
	   !hs_text_is_identifier("'1a'") && !hs_text_is_identifier("''") &&
	   !hs_text_is_identifier("abc") && !hs_text_is_identifier(NULL),
	   "identifier texts");

	hs_paths_release(&p);
	hs_referrers_release(&r);
	hs_graph_release(&s.g);
}

/* The text of a group: its shape's hops after its example's origin. */
static char *group_text(const struct hs_graph *g, const struct hs_paths *p,
			const struct hs_shapes *sh, const struct hs_shape_group *grp)
{
	struct hs_hop *hops;
	size_t n;
	struct hs_strbuf b = {0};
	char *res;

	if (hs_shape_hops(sh, grp, &hops, &n) < 0)
		return strdup("<error>");
	hs_path_text(g, p, p->origin[grp->example], hops, n, &b);
	res = strdup(b.oom ? "<oom>" : hs_strbuf_str(&b));
	hs_strbuf_release(&b);
	free(hops);
	return res;
}

struct want_group {
	uint64_t count;
	uint32_t example, hops;
	const char *text;
};

static void expect_groups(const struct hs_graph *g, const struct hs_paths *p,
			  const uint32_t *members, size_t n, const struct want_group *want,
			  size_t nwant, const char *what)
{
	struct hs_shapes sh;
	int rc = hs_shapes_group(g, p, members, n, &sh);

	ok(rc == 0 && sh.count == nwant, "%s: %zu groups (rc %d, got %zu)", what, nwant, rc,
	   sh.count);
	for (size_t i = 0; rc == 0 && i < nwant && i < sh.count; i++) {
		char *t = group_text(g, p, &sh, &sh.groups[i]);

		ok(sh.groups[i].count == want[i].count && sh.groups[i].example == want[i].example &&
		   sh.groups[i].hops == want[i].hops && strcmp(t, want[i].text) == 0,
		   "%s: group %zu: %llu x %s, hops %u, example %u (got %llu x %s, hops %u, "
		   "example %u)", what, i, (unsigned long long)want[i].count, want[i].text,
		   want[i].hops, want[i].example, (unsigned long long)sh.groups[i].count, t,
		   sh.groups[i].hops, sh.groups[i].example);
		free(t);
	}
	hs_shapes_release(&sh);
}

static void test_shapes(void)
{
	struct spec s;
	struct hs_referrers r;
	struct hs_paths p;
	int rc;

	spec_init(&s);
	uint32_t sysmods = obj(&s, s.t_dict, HS_GEN_2, 1);
	uint32_t km, md;
	uint32_t m = module(&s, "'app.registry'", &km, &md);

	dict_set(&s, sysmods, 0, km, m);
	uint32_t k_reg = str(&s, "'REGISTRY'"), reg = obj(&s, s.t_dict, HS_GEN_2, 1);
	uint32_t k_sess = str(&s, "'sessions'"), sl = obj(&s, s.t_list, HS_GEN_2, 1);
	uint32_t ss[5];

	dict_set(&s, md, 0, k_reg, reg);
	dict_set(&s, reg, 0, k_sess, sl);
	for (uint32_t i = 0; i < 5; i++) {
		ss[i] = obj(&s, s.t_session, HS_GEN_2, 1);
		edge(&s, sl, ss[i], L(INDEX, i));
	}
	/* REGISTRY['cache']['k1'], ['k2'] */
	uint32_t k_cache = str(&s, "'cache'"), cache = obj(&s, s.t_dict, HS_GEN_2, 1);
	uint32_t k1 = str(&s, "'k1'"), k2 = str(&s, "'k2'");
	uint32_t c1 = obj(&s, s.t_session, HS_GEN_2, 1), c2 = obj(&s, s.t_session, HS_GEN_2, 1);

	dict_set(&s, reg, 1, k_cache, cache);
	dict_set(&s, cache, 0, k1, c1);
	dict_set(&s, cache, 1, k2, c2);
	/* app.registry.current */
	uint32_t k_cur = str(&s, "'current'"), cur = obj(&s, s.t_session, HS_GEN_2, 1);

	dict_set(&s, md, 1, k_cur, cur);
	/* app.registry.__dict__['x y'], ['p q'] */
	uint32_t k_xy = str(&s, "'x y'"), k_pq = str(&s, "'p q'");
	uint32_t d1 = obj(&s, s.t_session, HS_GEN_2, 1), d2 = obj(&s, s.t_session, HS_GEN_2, 1);

	dict_set(&s, md, 2, k_xy, d1);
	dict_set(&s, md, 3, k_pq, d2);
	/* app.registry.pair[0], [1] */
	uint32_t k_pair = str(&s, "'pair'"), pair = obj(&s, s.t_list, HS_GEN_2, 1);
	uint32_t q1 = obj(&s, s.t_session, HS_GEN_2, 1), q2 = obj(&s, s.t_session, HS_GEN_2, 1);

	dict_set(&s, md, 4, k_pair, pair);
	edge(&s, pair, q1, L(INDEX, 0));
	edge(&s, pair, q2, L(INDEX, 1));
	/* a frame local */
	set_threads(&s.g, (struct hs_thread[]){{.thread_id = 9, .native_id = 4242,
						.frames = 1, .name = "worker-2"}}, 1);
	uint32_t co = obj(&s, s.t_code, HS_GEN_2, 1), k_handle = str(&s, "'handle'");
	uint32_t k_sv = str(&s, "'sess'"), lv = obj(&s, s.t_session, HS_GEN_2, 1);

	edge(&s, co, k_handle, FIELD(CO_NAME));
	root(&s, sysmods, HS_ROOT_INTERP, 0, NONE, FIELD(IS_MODULES));
	root(&s, lv, HS_ROOT_THREAD, 0, hs_graph_add_frame(&s.g, 0, 0, co), L(LOCAL, k_sv));

	ok(finish(&s) == 0, "shapes graph built (%u objects)", s.n);
	ok(hs_referrers_build(&s.g, &r) == 0, "referrers");
	rc = hs_paths_build(&s.g, &r, &p);
	ok(rc == 0, "paths built (rc %d)", rc);
	if (rc != 0) {
		hs_referrers_release(&r);
		hs_graph_release(&s.g);
		return;
	}
	check_consistent(&s.g, &p, "shapes");

	{
		const uint32_t mem[] = {ss[3], ss[1], ss[0], ss[4], ss[2]};
		const struct want_group w[] = {
			{5, ss[0], 4, "app.registry.REGISTRY['sessions'][*]"},
		};

		expect_groups(&s.g, &p, mem, 5, w, 1, "5 in one list");
	}
	{
		const uint32_t mem[] = {ss[3]};
		const struct want_group w[] = {{1, ss[3], 4, "app.registry.REGISTRY['sessions'][3]"}};

		expect_groups(&s.g, &p, mem, 1, w, 1, "one member: its index stays");
	}
	{
		const uint32_t mem[] = {c2, c1};
		const struct want_group w[] = {{2, c1, 4, "app.registry.REGISTRY['cache'][*]"}};

		expect_groups(&s.g, &p, mem, 2, w, 1, "keys differing between members");
	}
	{
		const uint32_t mem[] = {cur, ss[0], ss[1], ss[2], ss[3], ss[4]};
		const struct want_group w[] = {
			{5, ss[0], 4, "app.registry.REGISTRY['sessions'][*]"},
			{1, cur, 2, "app.registry.current"},
		};

		expect_groups(&s.g, &p, mem, 6, w, 2, "a member elsewhere: a second group");
	}
	{
		/* groups appear as current, pair, __dict__, sessions */
		const uint32_t mem[] = {cur, q2, q1, d1, d2, ss[4], ss[3], ss[2], ss[1], ss[0]};
		const struct want_group w[] = {
			{5, ss[0], 4, "app.registry.REGISTRY['sessions'][*]"},
			{2, d1, 2, "app.registry.__dict__[*]"},
			{2, q1, 3, "app.registry.pair[*]"},
			{1, cur, 2, "app.registry.current"},
		};

		expect_groups(&s.g, &p, mem, 10, w, 4, "by count desc, then hops asc");
	}
	{
		const uint32_t mem[] = {lv, cur};
		const struct want_group w[] = {
			{1, lv, 1, "<thread 4242 \"worker-2\"> frame handle() local 'sess'"},
			{1, cur, 2, "app.registry.current"},
		};

		expect_groups(&s.g, &p, mem, 2, w, 2, "a frame local: the slot is a hop");
	}
	{
		struct hs_shapes sh;

		ok(hs_shapes_group(&s.g, &p, NULL, 0, &sh) == 0 && sh.count == 0,
		   "no members: no groups");
		hs_shapes_release(&sh);
		ok(sh.groups == NULL && sh.nodes == NULL && sh.count == 0, "shapes release empties");
	}
	{
		/*
		 * The sessions list and the cache dict are both REGISTRY values:
		 * one shape, but each group keeps the key its members share.
		 */
		const uint32_t mem[] = {ss[0], ss[1], ss[2], ss[3], ss[4], c1, c2};
		struct hs_shapes sh;
		char *t0 = NULL, *t1 = NULL;

		ok(hs_shapes_group(&s.g, &p, mem, 7, &sh) == 0 && sh.count == 2,
		   "sessions + cache: two groups");
		if (sh.count == 2) {
			t0 = group_text(&s.g, &p, &sh, &sh.groups[0]);
			t1 = group_text(&s.g, &p, &sh, &sh.groups[1]);
			ok(sh.groups[0].count == 5 && t0 &&
			   !strcmp(t0, "app.registry.REGISTRY['sessions'][*]"),
			   "sessions + cache: 5 x %s", t0 ? t0 : "?");
			ok(sh.groups[1].count == 2 && t1 &&
			   !strcmp(t1, "app.registry.REGISTRY['cache'][*]"),
			   "sessions + cache: 2 x %s", t1 ? t1 : "?");
		}
		free(t0);
		free(t1);
		hs_shapes_release(&sh);
	}

	hs_paths_release(&p);
	hs_referrers_release(&r);
	hs_graph_release(&s.g);
}

/* A 100000-node linked list held by a module global. */
static void test_long_list(void)
{
	enum { N = 100000 };
	struct hs_graph g;
	struct hs_referrers r;
	struct hs_paths p;
	struct hs_shapes sh;
	uint32_t t_dict, t_str, t_mod, t_node, nx, first;
	int bad = 0, rc;
	double t0;

	hs_graph_init(&g);
	t_dict = add_type(&g, "dict", "builtins");
	t_str = add_type(&g, "str", "builtins");
	t_mod = add_type(&g, "module", "builtins");
	t_node = add_type(&g, "app.Node", "app");
	nx = hs_graph_add_name(&g, "next");
	/* 0 sys.modules, 1 'app.registry', 2 module, 3 its dict, 4 'head' */
	bad |= hs_graph_add_object(&g, 0x1000, t_dict, 64, HS_GEN_2, 1) != 0;
	bad |= hs_graph_add_edge(&g, 1, L(KEY, 0)) | hs_graph_add_edge(&g, 2, L(VALUE, 1));
	bad |= hs_graph_close_edges(&g, 0);
	bad |= hs_graph_add_object(&g, 0x1010, t_str, 64, HS_GEN_UNTRACKED, 1) != 1;
	bad |= hs_graph_close_edges(&g, 1);
	bad |= hs_graph_add_object(&g, 0x1020, t_mod, 64, HS_GEN_2, 1) != 2;
	bad |= hs_graph_add_edge(&g, 3, FIELD(MOD_DICT));
	bad |= hs_graph_close_edges(&g, 2);
	bad |= hs_graph_add_object(&g, 0x1030, t_dict, 64, HS_GEN_2, 1) != 3;
	bad |= hs_graph_add_edge(&g, 4, L(KEY, 0)) | hs_graph_add_edge(&g, 5, L(VALUE, 4));
	bad |= hs_graph_close_edges(&g, 3);
	bad |= hs_graph_add_object(&g, 0x1040, t_str, 64, HS_GEN_UNTRACKED, 1) != 4;
	bad |= hs_graph_close_edges(&g, 4);
	first = 5;
	for (uint32_t i = 0; i < N; i++) {
		uint32_t o = first + i;

		bad |= hs_graph_add_object(&g, 0x100000 + 16 * (uint64_t)o, t_node, 48, HS_GEN_2, 1) != o;
		if (i + 1 < N)
			bad |= hs_graph_add_edge(&g, o + 1, L(SLOT, nx));
		bad |= hs_graph_close_edges(&g, o);
	}
	hs_graph_add_text(&g, 1, "'app.registry'");
	hs_graph_add_text(&g, 4, "'head'");
	hs_graph_sort_texts(&g);
	hs_graph_add_root(&g, &(struct hs_root){.obj = 0, .kind = HS_ROOT_INTERP, .frame = NONE,
						.label = FIELD(IS_MODULES)});
	ok(bad == 0, "100000-node list built");

	t0 = now();
	rc = hs_referrers_build(&g, &r);
	rc = rc ? rc : hs_paths_build(&g, &r, &p);
	diag("100000-node list: paths %.3f s", now() - t0);
	ok(rc == 0, "paths of the list");
	if (rc != 0) {
		hs_graph_release(&g);
		return;
	}
	ok(p.depth[first + N - 1] == N + 1 && p.parent[first + N - 1] == first + N - 2,
	   "last node at depth %u (got %u)", N + 1, p.depth[first + N - 1]);

	uint32_t *members = malloc(N * sizeof(*members));

	/* members listed backwards */
	for (uint32_t i = 0; i < N; i++)
		members[i] = first + N - 1 - i;
	t0 = now();
	rc = hs_shapes_group(&g, &p, members, N, &sh);
	diag("100000-node list: shapes %.3f s", now() - t0);
	ok(rc == 0 && sh.count == N, "100000 groups (got %zu)", sh.count);
	if (rc == 0 && sh.count == N) {
		size_t wrong = 0;

		for (uint32_t i = 0; i < N; i++)
			wrong += sh.groups[i].count != 1 || sh.groups[i].hops != i + 2 ||
				 sh.groups[i].example != first + i;
		ok(wrong == 0, "each of count 1, by hops: node i at i + 2 hops (%zu wrong)", wrong);

		char *t = group_text(&g, &p, &sh, &sh.groups[N - 1]);

		ok(strstr(t, "(.next)*99999") != NULL &&
		   strcmp(t, "app.registry.head(.next)*99999") == 0,
		   "deepest group: %s", t);
		free(t);
		t = group_text(&g, &p, &sh, &sh.groups[0]);
		ok(strcmp(t, "app.registry.head") == 0, "shallowest group: %s", t);
		free(t);
	}
	hs_shapes_release(&sh);

	t0 = now();
	char *t = path_text(&g, &p, first + N - 1);

	diag("100000-node list: deepest path text %.3f s", now() - t0);
	ok(strcmp(t, "app.registry.head(.next)*99999") == 0, "deepest node's path: %.60s", t);
	free(t);

	struct hs_hop *hops;
	uint32_t *objs;
	size_t nh, no;

	rc = hs_path_of(&p, first + N - 1, &hops, &nh, &objs, &no);
	ok(rc == 0 && nh == N + 1 && no == N + 2 && objs[0] == 2 && objs[1] == 3 &&
	   objs[2] == first && objs[no - 1] == first + N - 1 && hops[0].label == FIELD(MOD_DICT) &&
	   hops[1].label == L(VALUE, 4) && hops[nh - 1].label == L(SLOT, nx),
	   "path_of the deepest node: %zu hops, %zu objects", nh, no);
	free(hops);
	free(objs);
	free(members);
	hs_paths_release(&p);
	hs_referrers_release(&r);
	hs_graph_release(&g);
}

int main(void)
{
	test_search();
	test_text();
	test_shapes();
	test_long_list();
	return done();
}
