#include "heapscope/graph.h"

#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"

/* Grow an array to hold at least `need` elements. */
static int reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *grown;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 1024;
	while (ncap < need)
		ncap *= 2;
	if (!(grown = realloc(*arr, ncap * elem)))
		return hs_error(HS_ENOMEM, "growing the object graph");
	*arr = grown;
	*cap = ncap;
	return 0;
}

void hs_graph_init(struct hs_graph *g)
{
	memset(g, 0, sizeof(*g));
	hs_addrmap_init(&g->index);
}

void hs_graph_release(struct hs_graph *g)
{
	free(g->addr);
	free(g->size);
	free(g->type);
	free(g->gen);
	free(g->refcnt);
	free(g->edge_start);
	free(g->edges);
	for (size_t i = 0; i < g->type_count; i++) {
		free(g->types[i].name);
		free(g->types[i].module);
	}
	free(g->types);
	free(g->roots);
	for (size_t i = 0; i < g->thread_count; i++)
		free(g->threads[i].name);
	free(g->threads);
	free(g->frames);
	free(g->texts);
	free(g->name_offsets);
	free(g->text_pool);
	hs_addrmap_release(&g->index);
	hs_graph_init(g);
}

static int resize(void **arr, size_t n, size_t elem)
{
	void *grown = realloc(*arr, n * elem);

	if (!grown)
		return hs_error(HS_ENOMEM, "growing the object graph to %zu objects", n);
	*arr = grown;
	return 0;
}

/* The per-object arrays share one capacity. */
static int reserve_objects(struct hs_graph *g, size_t need)
{
	size_t ncap = g->cap ? g->cap : 4096;

	if (need <= g->cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (resize((void **)&g->addr, ncap, sizeof(*g->addr)) < 0 ||
	    resize((void **)&g->size, ncap, sizeof(*g->size)) < 0 ||
	    resize((void **)&g->type, ncap, sizeof(*g->type)) < 0 ||
	    resize((void **)&g->gen, ncap, sizeof(*g->gen)) < 0 ||
	    resize((void **)&g->refcnt, ncap, sizeof(*g->refcnt)) < 0 ||
	    resize((void **)&g->edge_start, ncap + 1, sizeof(*g->edge_start)) < 0)
		return HS_ENOMEM;
	if (!g->cap)
		g->edge_start[0] = 0;
	g->cap = ncap;
	return 0;
}

uint32_t hs_graph_add_object(struct hs_graph *g, uint64_t addr, uint32_t type,
			     uint64_t size, uint8_t gen, uint64_t refcnt)
{
	uint32_t i = (uint32_t)g->count;

	if (g->count >= HS_NO_OBJECT - 1 || reserve_objects(g, g->count + 1) < 0 ||
	    hs_addrmap_put(&g->index, addr, i) < 0)
		return HS_NO_OBJECT;
	g->addr[i] = addr;
	g->type[i] = type;
	g->size[i] = size;
	g->gen[i] = gen;
	g->refcnt[i] = refcnt > HS_REFCNT_MAX ? HS_REFCNT_MAX : (uint32_t)refcnt;
	g->count++;
	return i;
}

uint32_t hs_graph_find(const struct hs_graph *g, uint64_t addr)
{
	/* 0 marks an empty slot of the map: never an object's address */
	return addr ? hs_addrmap_get(&g->index, addr) : HS_NO_OBJECT;
}

uint32_t hs_graph_add_type(struct hs_graph *g, uint64_t addr, char *name,
			   char *module)
{
	if (reserve((void **)&g->types, &g->type_cap, g->type_count + 1,
		    sizeof(*g->types)) < 0) {
		free(name);
		free(module);
		return HS_NO_OBJECT;
	}
	g->types[g->type_count] = (struct hs_type){addr, name, module, 0};
	return (uint32_t)g->type_count++;
}

int hs_graph_add_edge(struct hs_graph *g, uint32_t dst, uint32_t label)
{
	int err = reserve((void **)&g->edges, &g->edge_cap, g->edge_count + 1,
			  sizeof(*g->edges));

	if (err < 0)
		return err;
	g->edges[g->edge_count++] = (struct hs_edge){dst, label};
	return 0;
}

int hs_graph_close_edges(struct hs_graph *g, uint32_t obj)
{
	/* edge_start[obj] was set when obj's list opened (= end of obj-1) */
	g->edge_start[obj + 1] = g->edge_count;
	return 0;
}

int hs_graph_add_root(struct hs_graph *g, const struct hs_root *root)
{
	int err = reserve((void **)&g->roots, &g->root_cap, g->root_count + 1,
			  sizeof(*g->roots));

	if (err < 0)
		return err;
	g->roots[g->root_count++] = *root;
	return 0;
}

uint32_t hs_graph_interp_root(const struct hs_graph *g, uint32_t label)
{
	for (size_t i = 0; i < g->root_count; i++)
		if (g->roots[i].kind == HS_ROOT_INTERP && g->roots[i].label == label &&
		    g->roots[i].obj < g->count)
			return g->roots[i].obj;
	return HS_NO_OBJECT;
}

uint32_t hs_graph_add_frame(struct hs_graph *g, uint32_t thread, uint32_t depth,
			    uint32_t code)
{
	if (g->frame_count >= HS_NO_OBJECT - 1 ||
	    reserve((void **)&g->frames, &g->frame_cap, g->frame_count + 1,
		    sizeof(*g->frames)) < 0)
		return HS_NO_OBJECT;
	g->frames[g->frame_count] = (struct hs_frame){thread, depth, code};
	return (uint32_t)g->frame_count++;
}

/* Copy a string into the pool; returns its offset or UINT32_MAX. */
static uint32_t pool_add(struct hs_graph *g, const char *text)
{
	size_t len = strlen(text) + 1;
	uint32_t at = (uint32_t)g->pool_len;

	if (g->pool_len + len > UINT32_MAX ||
	    reserve((void **)&g->text_pool, &g->pool_cap, g->pool_len + len, 1) < 0)
		return UINT32_MAX;
	memcpy(g->text_pool + at, text, len);
	g->pool_len += len;
	return at;
}

int hs_graph_add_text(struct hs_graph *g, uint32_t obj, const char *text)
{
	uint32_t at;

	if (reserve((void **)&g->texts, &g->text_cap, g->text_count + 1, sizeof(*g->texts)) < 0 ||
	    (at = pool_add(g, text)) == UINT32_MAX)
		return hs_error(HS_ENOMEM, "storing label texts");
	g->texts[g->text_count++] = (struct hs_text){obj, at};
	return 0;
}

static int cmp_text(const void *a, const void *b)
{
	const struct hs_text *x = a, *y = b;

	return x->obj < y->obj ? -1 : x->obj > y->obj;
}

void hs_graph_sort_texts(struct hs_graph *g)
{
	size_t n = 0;

	qsort(g->texts, g->text_count, sizeof(*g->texts), cmp_text);
	/* the first text of an object wins */
	for (size_t i = 0; i < g->text_count; i++)
		if (!n || g->texts[n - 1].obj != g->texts[i].obj)
			g->texts[n++] = g->texts[i];
	g->text_count = n;
}

const char *hs_graph_text(const struct hs_graph *g, uint32_t obj)
{
	size_t lo = 0, hi = g->text_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->texts[mid].obj < obj)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->text_count && g->texts[lo].obj == obj ? g->text_pool + g->texts[lo].offset
							       : NULL;
}

uint32_t hs_graph_add_name(struct hs_graph *g, const char *name)
{
	uint32_t at;

	/* few distinct names (slot names of classes): a linear search is
	 * fine, and a bound keeps a hostile heap from making it quadratic */
	for (size_t i = 0; i < g->name_count; i++)
		if (!strcmp(g->text_pool + g->name_offsets[i], name))
			return (uint32_t)i;
	if (g->name_count >= HS_MAX_NAMES ||
	    reserve((void **)&g->name_offsets, &g->name_cap, g->name_count + 1,
		    sizeof(*g->name_offsets)) < 0 ||
	    (at = pool_add(g, name)) == UINT32_MAX)
		return HS_NO_OBJECT;
	g->name_offsets[g->name_count] = at;
	return (uint32_t)g->name_count++;
}

const char *hs_graph_name(const struct hs_graph *g, uint32_t id)
{
	return id < g->name_count ? g->text_pool + g->name_offsets[id] : NULL;
}

uint64_t hs_skips_total(const struct hs_skips *s)
{
	uint64_t total = 0;

#define HS_SKIP_SUM(name, text) total += s->name;
	HS_SKIP_REASONS(HS_SKIP_SUM)
#undef HS_SKIP_SUM
	return total;
}
