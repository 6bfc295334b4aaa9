#include "heapscope/shapes.h"

#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/layout.h"

#define NONE UINT32_MAX
#define WILD 0xffffffffffULL        /* key value of a step whose key varies */
#define ORIGIN_KEY (1ULL << 63)    /* key of a shape's first node */
#define CONCRETE (1ULL << 62)      /* a node of the concrete trie */

/*
 * Two tries share the node array: the shapes' (keys and indices that may
 * vary are wildcards) and the concrete paths' (every key as it is, marked
 * CONCRETE).  A shape's objects each have a concrete node; where their
 * concrete paths differ, the shape writes [*].
 */
struct hs_shape_node {
	uint32_t parent;     /* NONE at an origin */
	uint32_t rep_label;  /* label of the first step seen here */
	uint64_t key;        /* equal keys share the node */
	uint32_t depth;
};

/* Interned strings (names, key texts, origin texts) -> ids. */
struct interns {
	char **strs;
	uint64_t *hashes;
	uint32_t *slots;       /* open addressing: id + 1, 0 = empty */
	size_t count, cap, slot_cap;
};

struct builder {
	const struct hs_graph *g;
	const struct hs_paths *p;
	struct hs_shapes *out;
	size_t node_cap, vary_cap;
	uint32_t *table;       /* open addressing over nodes: id + 1 */
	size_t table_cap;
	struct interns in;
	int err;
};

static uint64_t hash_bytes(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL + (a << 6) + (a >> 2));

	return h ^ (h >> 31);
}

static int interns_grow(struct interns *in)
{
	size_t ncap = in->slot_cap ? in->slot_cap * 2 : 1024;
	uint32_t *slots = calloc(ncap, sizeof(*slots));

	if (!slots)
		return HS_ENOMEM;
	for (size_t i = 0; i < in->count; i++) {
		size_t at = in->hashes[i] & (ncap - 1);

		while (slots[at])
			at = (at + 1) & (ncap - 1);
		slots[at] = (uint32_t)i + 1;
	}
	free(in->slots);
	in->slots = slots;
	in->slot_cap = ncap;
	return 0;
}

/* The id of a string; NONE on OOM. */
static uint32_t intern(struct interns *in, const char *s)
{
	uint64_t h = hash_bytes(s);
	size_t at;

	if ((in->count + 1) * 2 > in->slot_cap && interns_grow(in) < 0)
		return NONE;
	for (at = h & (in->slot_cap - 1); in->slots[at]; at = (at + 1) & (in->slot_cap - 1)) {
		uint32_t id = in->slots[at] - 1;

		if (in->hashes[id] == h && !strcmp(in->strs[id], s))
			return id;
	}
	if (in->count == in->cap) {
		size_t ncap = in->cap ? in->cap * 2 : 256;
		char **strs = realloc(in->strs, ncap * sizeof(*strs));
		uint64_t *hashes = strs ? realloc(in->hashes, ncap * sizeof(*hashes)) : NULL;

		if (strs)
			in->strs = strs;
		if (!hashes)
			return NONE;
		in->hashes = hashes;
		in->cap = ncap;
	}
	if (!(in->strs[in->count] = strdup(s)))
		return NONE;
	in->hashes[in->count] = h;
	in->slots[at] = (uint32_t)in->count + 1;
	return (uint32_t)in->count++;
}

static void interns_release(struct interns *in)
{
	for (size_t i = 0; i < in->count; i++)
		free(in->strs[i]);
	free(in->strs);
	free(in->hashes);
	free(in->slots);
}

static int table_grow(struct builder *b)
{
	size_t ncap = b->table_cap ? b->table_cap * 2 : 1024;
	uint32_t *t = calloc(ncap, sizeof(*t));

	if (!t)
		return HS_ENOMEM;
	for (size_t i = 0; i < b->out->node_count; i++) {
		const struct hs_shape_node *n = &b->out->nodes[i];
		size_t at = mix(n->parent, n->key) & (ncap - 1);

		while (t[at])
			at = (at + 1) & (ncap - 1);
		t[at] = (uint32_t)i + 1;
	}
	free(b->table);
	b->table = t;
	b->table_cap = ncap;
	return 0;
}

/* The node for a step with `key` after node `parent`; NONE on OOM. */
static uint32_t child(struct builder *b, uint32_t parent, uint64_t key, uint32_t label)
{
	struct hs_shapes *s = b->out;
	struct hs_shape_node *n;
	size_t at;

	if ((s->node_count + 1) * 2 > b->table_cap && table_grow(b) < 0)
		return NONE;
	for (at = mix(parent, key) & (b->table_cap - 1); b->table[at];
	     at = (at + 1) & (b->table_cap - 1)) {
		n = &s->nodes[b->table[at] - 1];
		if (n->parent == parent && n->key == key)
			return b->table[at] - 1;
	}
	if (s->node_count == b->node_cap) {
		size_t ncap = b->node_cap ? b->node_cap * 2 : 1024;
		struct hs_shape_node *grown = realloc(s->nodes, ncap * sizeof(*grown));

		if (!grown)
			return NONE;
		s->nodes = grown;
		b->node_cap = ncap;
	}
	s->nodes[s->node_count] = (struct hs_shape_node){
		.parent = parent, .rep_label = label, .key = key,
		.depth = parent == NONE ? 0 : s->nodes[parent].depth + 1,
	};
	b->table[at] = (uint32_t)s->node_count + 1;
	return (uint32_t)s->node_count++;
}

static uint64_t text_key(struct builder *b, uint32_t obj)
{
	const char *t = obj != HS_LABEL_NONE ? hs_graph_text(b->g, obj) : NULL;
	uint32_t id;

	if (!t)
		return WILD - 1; /* unnamed */
	if ((id = intern(&b->in, t)) == NONE)
		b->err = HS_ENOMEM;
	return id;
}

/* The trie steps of an edge labelled `label`, after an edge labelled
 * `prev` (which tells whether a dict is someone's __dict__): from node
 * *shape to its shape child, from *conc to its concrete child. */
static void step(struct builder *b, uint32_t *shape, uint32_t *conc, uint32_t label,
		 uint32_t prev)
{
	enum hs_edge_kind kind = HS_EDGE_KIND(label);
	uint32_t v = HS_EDGE_VALUE(label);
	uint64_t key, concrete;

	switch (kind) {
	case HS_EDGE_VALUE:
		concrete = text_key(b, v);
		if (hs_edge_leads_to_dict(prev) && hs_text_is_identifier(hs_graph_text(b->g, v)))
			key = concrete; /* an attribute or global: part of the shape */
		else
			key = WILD;
		break;
	case HS_EDGE_ATTR:
	case HS_EDGE_LOCAL:
		key = concrete = text_key(b, v);
		break;
	case HS_EDGE_INDEX:
	case HS_EDGE_KEY:
	case HS_EDGE_STACK:
		key = WILD;
		concrete = v;
		break;
	default:
		key = concrete = v;
		break;
	}
	*shape = child(b, *shape, (uint64_t)kind << 48 | key, label);
	*conc = child(b, *conc, CONCRETE | (uint64_t)kind << 48 | concrete, label);
}

/* The first nodes of both tries for an origin. */
static void origin_nodes(struct builder *b, uint32_t origin, uint32_t *shape, uint32_t *conc)
{
	struct hs_strbuf text = {0};
	uint32_t id;

	hs_origin_text(b->g, b->p, origin, &text);
	id = text.oom ? NONE : intern(&b->in, hs_strbuf_str(&text));
	hs_strbuf_release(&text);
	*shape = *conc = NONE;
	if (id == NONE)
		return;
	*shape = child(b, NONE, ORIGIN_KEY | id, HS_LABEL_NONE);
	*conc = child(b, NONE, CONCRETE | ORIGIN_KEY | id, HS_LABEL_NONE);
}

/* Nodes of every object on the path of a member, parents first. */
static int build_nodes(struct builder *b, const uint8_t *on_path, uint32_t *node_of,
		       uint32_t *conc_of)
{
	const struct hs_paths *p = b->p;

	for (size_t i = 0; i < p->count && !b->err; i++) {
		uint32_t obj = p->order[i], parent = p->parent[obj], n, c;

		if (!on_path[obj])
			continue;
		if (parent == HS_NO_OBJECT) {
			origin_nodes(b, p->origin[obj], &n, &c);
			/* a frame slot: the slot's name is the first step */
			if (n != NONE && c != NONE && p->via[obj] != HS_LABEL_NONE)
				step(b, &n, &c, p->via[obj], HS_LABEL_NONE);
		} else {
			n = node_of[parent];
			c = conc_of[parent];
			step(b, &n, &c, p->via[obj], p->via[parent]);
		}
		if (n == NONE || c == NONE)
			return hs_error(HS_ENOMEM, "grouping paths");
		node_of[obj] = n;
		conc_of[obj] = c;
	}
	return b->err ? hs_error(HS_ENOMEM, "grouping paths") : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The hops of a group where its objects' concrete paths differ: walk their
 * distinct concrete nodes up in step; once they are one node, the rest of
 * the path is common.  `conc` holds the group's members' concrete nodes
 * (overwritten).  Appends hop positions (0 = first hop), deepest first.
 */
static int find_varying(struct builder *b, struct hs_shape_group *grp, uint32_t *conc, size_t n)
{
	struct hs_shapes *s = b->out;
	uint32_t depth = s->nodes[grp->node].depth;

	grp->vary_first = (uint32_t)s->vary_count;
	while (n > 1 && depth > 0) {
		size_t m = 1;

		qsort(conc, n, sizeof(*conc), cmp_u32);
		for (size_t i = 1; i < n; i++)
			if (conc[i] != conc[m - 1])
				conc[m++] = conc[i];
		n = m;
		if (n == 1)
			break;
		for (size_t i = 1; i < n; i++) {
			if (s->nodes[conc[i]].key == s->nodes[conc[0]].key)
				continue;
			if (s->vary_count == b->vary_cap) {
				size_t ncap = b->vary_cap ? b->vary_cap * 2 : 256;
				uint32_t *grown = realloc(s->vary, ncap * sizeof(*grown));

				if (!grown)
					return hs_error(HS_ENOMEM, "grouping paths");
				s->vary = grown;
				b->vary_cap = ncap;
			}
			s->vary[s->vary_count++] = depth - 1;
			break;
		}
		for (size_t i = 0; i < n; i++)
			conc[i] = s->nodes[conc[i]].parent;
		depth--;
	}
	grp->vary_count = (uint32_t)(s->vary_count - grp->vary_first);
	return 0;
}

static int cmp_group(const void *a, const void *b)
{
	const struct hs_shape_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->hops != y->hops)
		return x->hops < y->hops ? -1 : 1;
	return x->example < y->example ? -1 : x->example > y->example;
}

static int make_groups(struct builder *b, const uint32_t *members, size_t n,
		       const uint32_t *node_of, const uint32_t *conc_of)
{
	struct hs_shapes *s = b->out;
	size_t nodes = s->node_count ? s->node_count : 1;
	uint32_t *group_of = malloc(nodes * sizeof(*group_of));
	uint32_t *start = NULL, *conc = NULL, *fill = NULL;
	int err = 0;

	if (!group_of || !(s->groups = calloc(n ? n : 1, sizeof(*s->groups))))
		goto nomem;
	memset(group_of, 0xff, nodes * sizeof(*group_of));
	for (size_t i = 0; i < n; i++) {
		uint32_t node = node_of[members[i]];
		struct hs_shape_group *grp;

		if (group_of[node] == NONE) {
			group_of[node] = (uint32_t)s->count;
			s->groups[s->count++] = (struct hs_shape_group){
				.example = members[i], .hops = s->nodes[node].depth, .node = node};
		}
		grp = &s->groups[group_of[node]];
		grp->count++;
		if (members[i] < grp->example)
			grp->example = members[i];
	}
	for (size_t k = 0; k < s->count; k++)
		s->groups[k].example_node = conc_of[s->groups[k].example];
	/* the members' concrete nodes, by group (a counting sort) */
	start = calloc(s->count + 1, sizeof(*start));
	fill = malloc((s->count + 1) * sizeof(*fill));
	conc = malloc((n ? n : 1) * sizeof(*conc));
	if (!start || !fill || !conc)
		goto nomem;
	for (size_t k = 0; k < s->count; k++)
		start[k + 1] = start[k] + (uint32_t)s->groups[k].count;
	memcpy(fill, start, (s->count + 1) * sizeof(*fill));
	for (size_t i = 0; i < n; i++)
		conc[fill[group_of[node_of[members[i]]]]++] = conc_of[members[i]];
	for (size_t k = 0; k < s->count && !err; k++)
		err = find_varying(b, &s->groups[k], conc + start[k], start[k + 1] - start[k]);
	free(group_of);
	free(start);
	free(fill);
	free(conc);
	if (!err)
		qsort(s->groups, s->count, sizeof(*s->groups), cmp_group);
	return err;
nomem:
	free(group_of);
	free(start);
	free(fill);
	free(conc);
	return hs_error(HS_ENOMEM, "grouping %zu paths", n);
}

int hs_shapes_group(const struct hs_graph *g, const struct hs_paths *p,
		    const uint32_t *members, size_t n, struct hs_shapes *out)
{
	struct builder b = {.g = g, .p = p, .out = out};
	uint8_t *on_path = calloc(p->count ? p->count : 1, 1);
	uint32_t *node_of = malloc((p->count ? p->count : 1) * sizeof(*node_of));
	uint32_t *conc_of = malloc((p->count ? p->count : 1) * sizeof(*conc_of));
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (!on_path || !node_of || !conc_of) {
		err = hs_error(HS_ENOMEM, "grouping paths of %zu objects", n);
		goto done;
	}
	for (size_t i = 0; i < n && !err; i++)
		if (members[i] >= p->count)
			err = hs_error(HS_EUSAGE, "no object %u", members[i]);
	if (err)
		goto done;
	/* the objects on members' paths: each is marked once */
	for (size_t i = 0; i < n; i++)
		for (uint32_t o = members[i]; o < p->count && !on_path[o]; o = p->parent[o])
			on_path[o] = 1;
	err = build_nodes(&b, on_path, node_of, conc_of);
	if (!err)
		err = make_groups(&b, members, n, node_of, conc_of);
done:
	free(on_path);
	free(node_of);
	free(conc_of);
	free(b.table);
	interns_release(&b.in);
	if (err < 0)
		hs_shapes_release(out);
	return err;
}

void hs_shapes_release(struct hs_shapes *s)
{
	free(s->groups);
	free(s->vary);
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

int hs_shape_hops(const struct hs_shapes *s, const struct hs_shape_group *grp,
		  struct hs_hop **hops, size_t *n)
{
	uint32_t depth = s->nodes[grp->node].depth, k = depth;

	*n = 0;
	if (!(*hops = malloc((depth ? depth : 1) * sizeof(**hops))))
		return hs_error(HS_ENOMEM, "a path of %u hops", depth);
	/* the example's own steps, with [*] where the group's keys differ */
	for (uint32_t node = grp->example_node, v = 0; k > 0; node = s->nodes[node].parent) {
		const struct hs_shape_node *nd = &s->nodes[node];
		bool varies = false;

		k--;
		/* the varying positions are listed deepest first */
		if (v < grp->vary_count && s->vary[grp->vary_first + v] == k) {
			varies = true;
			v++;
		}
		(*hops)[k] = (struct hs_hop){nd->rep_label, varies};
	}
	*n = depth;
	return 0;
}
