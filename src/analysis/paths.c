#include "heapscope/paths.h"

#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/layout.h"

#define UNREACHED UINT32_MAX

bool hs_root_in_frame(const struct hs_root *root)
{
	return root->frame != HS_NO_OBJECT &&
	       root->label != HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_TS_FRAME);
}

const char *hs_origin_kind_name(enum hs_origin_kind kind)
{
	static const char *const names[] = {
		[HS_ORIGIN_MODULE] = "module",     [HS_ORIGIN_FRAME] = "thread",
		[HS_ORIGIN_INTERP] = "interpreter", [HS_ORIGIN_THREAD] = "thread",
		[HS_ORIGIN_GC_ONLY] = "gc-only",   [HS_ORIGIN_EXTERNAL] = "external",
		[HS_ORIGIN_GARBAGE] = "garbage",
	};

	return kind <= HS_ORIGIN_GARBAGE ? names[kind] : "?";
}

struct search {
	const struct hs_graph *g;
	struct hs_paths *p;
	size_t head, tail;        /* the queue is p->order */
	size_t origin_cap;
};

static int add_origin(struct search *s, const struct hs_origin *o)
{
	struct hs_paths *p = s->p;

	if (p->origin_count == s->origin_cap) {
		size_t ncap = s->origin_cap ? s->origin_cap * 2 : 256;
		struct hs_origin *grown = realloc(p->origins, ncap * sizeof(*grown));

		if (!grown)
			return hs_error(HS_ENOMEM, "recording path origins");
		p->origins = grown;
		s->origin_cap = ncap;
	}
	p->origins[p->origin_count++] = *o;
	return 0;
}

/* Start a path at an object not reached yet. */
static int seed(struct search *s, const struct hs_origin *o, uint32_t label, uint32_t depth)
{
	struct hs_paths *p = s->p;
	uint32_t obj = o->obj;

	if (obj >= p->count || p->depth[obj] != UNREACHED)
		return 0;
	if (add_origin(s, o) < 0)
		return HS_ENOMEM;
	p->parent[obj] = HS_NO_OBJECT;
	p->via[obj] = label;
	p->origin[obj] = (uint32_t)(p->origin_count - 1);
	p->depth[obj] = depth;
	p->order[s->tail++] = obj;
	return 0;
}

/* Breadth-first from the queued objects, until the queue is empty or its
 * head is deeper than `max_depth`. */
static void expand(struct search *s, uint32_t max_depth)
{
	const struct hs_graph *g = s->g;
	struct hs_paths *p = s->p;

	while (s->head < s->tail && p->depth[p->order[s->head]] <= max_depth) {
		uint32_t obj = p->order[s->head++];
		const struct hs_edge *e, *end;

		for (e = hs_graph_edges(g, obj, &end); e < end; e++) {
			uint32_t dst = e->dst;

			if (dst >= p->count || p->depth[dst] != UNREACHED)
				continue;
			p->parent[dst] = obj;
			p->via[dst] = e->label;
			p->origin[dst] = p->origin[obj];
			p->depth[dst] = p->depth[obj] + 1;
			p->order[s->tail++] = dst;
		}
	}
}

/* Frame objects (<= 3.10) first, then the interpreter's and the threads'
 * fields, all at depth 0; frame slots (3.11+) are one hop deep, last. */
static int root_pass(const struct hs_root *r)
{
	if (hs_root_in_frame(r))
		return 2;
	return r->frame != HS_NO_OBJECT ? 0 : 1;
}

static int seed_pass(struct search *s, int pass)
{
	const struct hs_graph *g = s->g;
	int err = 0;

	for (size_t i = 0; i < g->root_count && !err; i++) {
		const struct hs_root *r = &g->roots[i];
		bool in_frame = hs_root_in_frame(r);
		uint8_t kind = r->frame != HS_NO_OBJECT ? HS_ORIGIN_FRAME
			     : r->kind == HS_ROOT_INTERP ? HS_ORIGIN_INTERP
							 : HS_ORIGIN_THREAD;

		if (root_pass(r) == pass)
			err = seed(s, &(struct hs_origin){kind, (uint32_t)i, HS_NO_OBJECT, r->obj},
				   in_frame ? r->label : HS_LABEL_NONE, in_frame ? 1 : 0);
	}
	return err;
}

static int seed_roots(struct search *s)
{
	const struct hs_graph *g = s->g;
	uint32_t modules = hs_graph_interp_root(g, HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_IS_MODULES));
	const struct hs_edge *e, *end;
	int err = 0;

	if (modules != HS_NO_OBJECT)
		for (e = hs_graph_edges(g, modules, &end); e < end && !err; e++)
			if (HS_EDGE_KIND(e->label) == HS_EDGE_VALUE)
				err = seed(s, &(struct hs_origin){HS_ORIGIN_MODULE, HS_NO_OBJECT,
								 HS_EDGE_VALUE(e->label), e->dst},
					   HS_LABEL_NONE, 0);
	for (int pass = 0; pass < 2 && !err; pass++)
		err = seed_pass(s, pass);
	/* frame slots are one hop deep: queued after what depth 0 reaches
	 * in one hop, so that ties go to modules */
	if (!err) {
		expand(s, 0);
		err = seed_pass(s, 2);
	}
	return err;
}

/*
 * References the GC would count as internal: from objects in its lists.
 * Guessed (conservative) edges are left out, so a guess can only make an
 * object look more alive, never garbage.
 */
static uint32_t *internal_refs(const struct hs_graph *g)
{
	uint32_t *n = calloc(g->count ? g->count : 1, sizeof(*n));

	if (!n)
		return NULL;
	for (uint32_t src = 0; src < g->count; src++) {
		if (g->gen[src] == HS_GEN_UNTRACKED)
			continue;
		for (uint64_t e = g->edge_start[src]; e < g->edge_start[src + 1]; e++) {
			uint32_t dst = g->edges[e].dst;

			if (dst < g->count && HS_EDGE_KIND(g->edges[e].label) != HS_EDGE_CONSERVATIVE &&
			    n[dst] < UINT32_MAX)
				n[dst]++;
		}
	}
	return n;
}

/* Phases 2-4: whatever the named roots do not reach. */
static int seed_unreached(struct search *s, const struct hs_referrers *r)
{
	const struct hs_graph *g = s->g;
	struct hs_paths *p = s->p;
	uint32_t *internal = internal_refs(g);
	int err = 0;

	if (!internal)
		return hs_error(HS_ENOMEM, "counting references");
	for (uint32_t i = 0; i < g->count && !err; i++)
		if (p->depth[i] == UNREACHED && r->start[i] == r->start[i + 1])
			err = seed(s, &(struct hs_origin){HS_ORIGIN_GC_ONLY, HS_NO_OBJECT,
							 HS_NO_OBJECT, i}, HS_LABEL_NONE, 0);
	expand(s, UINT32_MAX);
	/* frozen objects are never collected */
	for (uint32_t i = 0; i < g->count && !err; i++)
		if (p->depth[i] == UNREACHED &&
		    (g->refcnt[i] > internal[i] || g->gen[i] == HS_GEN_PERMANENT))
			err = seed(s, &(struct hs_origin){HS_ORIGIN_EXTERNAL, HS_NO_OBJECT,
							 HS_NO_OBJECT, i}, HS_LABEL_NONE, 0);
	expand(s, UINT32_MAX);
	for (uint32_t i = 0; i < g->count && !err; i++) {
		if (p->depth[i] != UNREACHED)
			continue;
		err = seed(s, &(struct hs_origin){HS_ORIGIN_GARBAGE, HS_NO_OBJECT, HS_NO_OBJECT, i},
			   HS_LABEL_NONE, 0);
		expand(s, UINT32_MAX);
	}
	free(internal);
	return err;
}

int hs_paths_build(const struct hs_graph *g, const struct hs_referrers *r,
		   struct hs_paths *out)
{
	struct search s = {.g = g, .p = out};
	size_t n = g->count ? g->count : 1;
	int err;

	memset(out, 0, sizeof(*out));
	out->count = g->count;
	out->parent = malloc(n * sizeof(*out->parent));
	out->via = malloc(n * sizeof(*out->via));
	out->origin = malloc(n * sizeof(*out->origin));
	out->depth = malloc(n * sizeof(*out->depth));
	out->order = malloc(n * sizeof(*out->order));
	if (!out->parent || !out->via || !out->origin || !out->depth || !out->order) {
		hs_paths_release(out);
		return hs_error(HS_ENOMEM, "finding paths among %zu objects", g->count);
	}
	memset(out->depth, 0xff, n * sizeof(*out->depth));
	err = seed_roots(&s);
	if (!err) {
		expand(&s, UINT32_MAX);
		err = seed_unreached(&s, r);
	}
	if (err < 0)
		hs_paths_release(out);
	return err;
}

void hs_paths_release(struct hs_paths *p)
{
	free(p->parent);
	free(p->via);
	free(p->origin);
	free(p->depth);
	free(p->order);
	free(p->origins);
	memset(p, 0, sizeof(*p));
}
