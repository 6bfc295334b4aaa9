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
	free(g->edge_start);
	free(g->edges);
	for (size_t i = 0; i < g->type_count; i++) {
		free(g->types[i].name);
		free(g->types[i].module);
	}
	free(g->types);
	free(g->roots);
	free(g->threads);
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
	    resize((void **)&g->edge_start, ncap + 1, sizeof(*g->edge_start)) < 0)
		return HS_ENOMEM;
	if (!g->cap)
		g->edge_start[0] = 0;
	g->cap = ncap;
	return 0;
}

uint32_t hs_graph_add_object(struct hs_graph *g, uint64_t addr, uint32_t type,
			     uint64_t size, uint8_t gen)
{
	uint32_t i = (uint32_t)g->count;

	if (g->count >= HS_NO_OBJECT - 1 || reserve_objects(g, g->count + 1) < 0 ||
	    hs_addrmap_put(&g->index, addr, i) < 0)
		return HS_NO_OBJECT;
	g->addr[i] = addr;
	g->type[i] = type;
	g->size[i] = size;
	g->gen[i] = gen;
	g->count++;
	return i;
}

uint32_t hs_graph_find(const struct hs_graph *g, uint64_t addr)
{
	return hs_addrmap_get(&g->index, addr);
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
	g->types[g->type_count] = (struct hs_type){addr, name, module};
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

int hs_graph_add_root(struct hs_graph *g, uint32_t obj, enum hs_root_kind kind,
		      uint32_t detail)
{
	int err = reserve((void **)&g->roots, &g->root_cap, g->root_count + 1,
			  sizeof(*g->roots));

	if (err < 0)
		return err;
	g->roots[g->root_count++] = (struct hs_root){obj, (uint8_t)kind, detail};
	return 0;
}

uint64_t hs_skips_total(const struct hs_skips *s)
{
	uint64_t total = 0;

#define HS_SKIP_SUM(name, text) total += s->name;
	HS_SKIP_REASONS(HS_SKIP_SUM)
#undef HS_SKIP_SUM
	return total;
}
