/*
 * Checks of a graph read from a snapshot: every index the analyses follow
 * must be in range and every string terminated, so that a corrupt or
 * hostile file is refused here rather than read out of bounds later.
 */
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/graph.h"
#include "snapshot-format.h"

static int bad(const char *what, size_t at)
{
	return hs_error(HS_EFORMAT, "snapshot is corrupt (%s at %zu)", what, at);
}

/* An object-index label value: in range or "none". */
static bool obj_value_ok(const struct hs_graph *g, uint32_t v)
{
	return v == HS_LABEL_NONE || v < g->count;
}

static bool label_ok(const struct hs_graph *g, uint32_t label)
{
	uint32_t v = HS_EDGE_VALUE(label);

	switch (HS_EDGE_KIND(label)) {
	case HS_EDGE_VALUE:
	case HS_EDGE_ATTR:
	case HS_EDGE_LOCAL:
		return obj_value_ok(g, v);
	case HS_EDGE_SLOT:
		return v == HS_LABEL_NONE || v < g->name_count;
	case HS_EDGE_FIELD:
	case HS_EDGE_INDEX:
	case HS_EDGE_KEY:
	case HS_EDGE_SET_ITEM:
	case HS_EDGE_CONSERVATIVE:
	case HS_EDGE_TYPE:
	case HS_EDGE_STACK:
		return true;
	}
	return false;
}

static int check_objects(const struct hs_graph *g)
{
	for (size_t i = 0; i < g->count; i++) {
		if (g->type[i] >= g->type_count)
			return bad("object type", i);
		if (g->gen[i] > HS_GEN_UNTRACKED)
			return bad("generation", i);
		if (!g->addr[i])
			return bad("object address", i);
	}
	if (g->edge_start[0] != 0 || g->edge_start[g->count] != g->edge_count)
		return bad("edge lists", 0);
	for (size_t i = 0; i < g->count; i++)
		if (g->edge_start[i] > g->edge_start[i + 1])
			return bad("edge lists", i);
	for (size_t i = 0; i < g->edge_count; i++)
		if (g->edges[i].dst >= g->count || !label_ok(g, g->edges[i].label))
			return bad("edge", i);
	return 0;
}

static int check_tables(const struct hs_graph *g)
{
	for (size_t i = 0; i < g->root_count; i++) {
		const struct hs_root *r = &g->roots[i];

		if (r->obj >= g->count || !label_ok(g, r->label) ||
		    (r->frame != HS_NO_OBJECT && r->frame >= g->frame_count) ||
		    (r->kind == HS_ROOT_THREAD && r->detail >= g->thread_count))
			return bad("root", i);
	}
	for (size_t i = 0; i < g->frame_count; i++) {
		const struct hs_frame *f = &g->frames[i];

		if (f->thread >= g->thread_count || (f->code != HS_NO_OBJECT && f->code >= g->count))
			return bad("frame", i);
	}
	if (g->pool_len && g->text_pool[g->pool_len - 1] != '\0')
		return bad("string pool", g->pool_len);
	for (size_t i = 0; i < g->text_count; i++)
		if (g->texts[i].obj >= g->count || g->texts[i].offset >= g->pool_len ||
		    (i && g->texts[i].obj <= g->texts[i - 1].obj))
			return bad("text", i);
	if (g->name_count > HS_MAX_NAMES)
		return bad("names", g->name_count);
	for (size_t i = 0; i < g->name_count; i++)
		if (g->name_offsets[i] >= g->pool_len)
			return bad("name", i);
	return 0;
}

/* The address index; two objects at one address are a corrupt file. */
static int index_addresses(struct hs_graph *g)
{
	for (size_t i = 0; i < g->count; i++) {
		if (hs_addrmap_get(&g->index, g->addr[i]) != UINT32_MAX)
			return bad("duplicate object address", i);
		if (hs_addrmap_put(&g->index, g->addr[i], (uint32_t)i) < 0)
			return HS_ENOMEM;
	}
	return 0;
}

int snap_graph_validate(struct hs_graph *g)
{
	return check_objects(g) ?: check_tables(g) ?: index_addresses(g);
}
