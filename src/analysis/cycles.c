/*
 * Reference cycles: strongly connected components by Pearce's algorithm
 * ("A space-efficient algorithm for finding strongly connected
 * components", IPL 2016), iterative, with one rindex word per object that
 * ends up holding the component.  Its two stacks (the search path and the
 * finished-but-unassigned objects) share one array, growing from both
 * ends: an object is on at most one of them.
 *
 * Then the cyclic components are gathered (their objects by counting
 * sort), keyed by their kinds, hashed into groups, and each group's first
 * component gets a shortest cycle through its lowest object by a
 * breadth-first search restricted to the component.
 */
#include "heapscope/cycles.h"

#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/layout.h"

/* Every instance of a class refers to its class, and the class to its
 * module's namespace: followed, that edge would put each object a module
 * reaches into the one big component of the modules.  Cycles are about
 * data, so it is left out. */
static bool followed(uint32_t label)
{
	return HS_EDGE_KIND(label) != HS_EDGE_TYPE;
}

#define NONE UINT32_MAX

/* One kind of a shape: a name id (see names_build) and its objects. */
struct kpair {
	uint32_t name;
	uint32_t count;
};

struct group {
	uint64_t hash;
	size_t key_off;        /* into pool */
	uint32_t key_len;      /* kpairs, by count desc then name */
	uint32_t first;        /* its first cyclic component */
	uint64_t components, objects, size;
	bool finalizer;
	const struct kpair *key; /* set once the pool is final */
	struct hs_cycle_hop *example;
	size_t example_len;
};

struct ctx {
	const struct hs_graph *g;
	uint32_t n;
	uint32_t *comp;    /* per object: rindex while searching, then component */
	uint32_t *buf;     /* n: the two stacks, then a per-component cursor */
	uint32_t *members; /* n: edge iterators, then objects of cyclic components */
	uint32_t *coff;    /* ncyc + 1: where each cyclic component's objects start */
	uint32_t ncomp, ncyc, largest;

	uint32_t *name_of;   /* per type: name id; ids follow name order */
	uint32_t *name_type; /* per name id: its lowest type */
	uint32_t names;
	uint8_t *fin;        /* per type: 0 unknown, 1 no __del__, 2 has one */

	struct group *groups;
	size_t ngroups, gcap;
	struct kpair *pool;
	size_t pool_len, pool_cap;
	uint32_t *table;     /* group index + 1, 0 = empty; open addressing */
	size_t tcap;
};

static int nomem(const struct ctx *x)
{
	return hs_error(HS_ENOMEM, "finding the cycles of %u objects", x->n);
}

static const char *type_name(const struct hs_graph *g, uint32_t t)
{
	return g->types[t].name ? g->types[t].name : "?";
}

/* Every object has a valid type and fewer than 2^32 out-edges. */
static int check_graph(const struct hs_graph *g)
{
	for (size_t i = 0; i < g->count; i++) {
		if (g->type[i] >= g->type_count)
			return hs_error(HS_EINCONSISTENT, "object %zu has type %u of %zu", i,
					g->type[i], g->type_count);
		if (g->edge_start[i + 1] - g->edge_start[i] >= UINT32_MAX)
			return hs_error(HS_EINCONSISTENT, "object %zu has too many edges", i);
	}
	return 0;
}

/*
 * Pearce's PEA_FIND_SCC2 without recursion.  rindex 0 = not visited;
 * visited objects get increasing numbers, lowered to the least number
 * they reach; a finished component takes the next value of c, counting
 * down from n, which is above every number still in use.
 */
static void find_components(struct ctx *x, uint64_t *root)
{
	const struct hs_graph *g = x->g;
	uint32_t n = x->n, *rindex = x->comp, *buf = x->buf, *it = x->members;
	uint32_t index = 1, c = n, vs = 0, ss = 0;

	for (uint32_t r = 0; r < n; r++) {
		if (rindex[r])
			continue;
		buf[vs] = r;
		it[vs++] = 0;
		rindex[r] = index++;
		root[r / 64] |= 1ull << (r % 64);
		while (vs) {
			uint32_t v = buf[vs - 1], i = it[vs - 1], w = 0;
			uint64_t e0 = g->edge_start[v];
			uint32_t deg = (uint32_t)(g->edge_start[v + 1] - e0);

			for (; i < deg; i++) {
				w = g->edges[e0 + i].dst;
				if (w >= n || !followed(g->edges[e0 + i].label))
					continue;
				if (!rindex[w])
					break;
				if (rindex[w] < rindex[v]) {
					rindex[v] = rindex[w];
					root[v / 64] &= ~(1ull << (v % 64));
				}
			}
			if (i < deg) {
				/* descend into w; come back to the next edge */
				it[vs - 1] = i + 1;
				buf[vs] = w;
				it[vs++] = 0;
				rindex[w] = index++;
				root[w / 64] |= 1ull << (w % 64);
				continue;
			}
			vs--;
			if (root[v / 64] & (1ull << (v % 64))) {
				index--;
				while (ss && rindex[v] <= rindex[buf[n - ss]]) {
					rindex[buf[n - ss]] = c;
					ss--;
					index--;
				}
				rindex[v] = c--;
				x->ncomp++;
			} else {
				buf[n - 1 - ss++] = v;
			}
			if (vs) {
				uint32_t p = buf[vs - 1];

				if (rindex[v] < rindex[p]) {
					rindex[p] = rindex[v];
					root[p / 64] &= ~(1ull << (p % 64));
				}
			}
		}
	}
}

/* Number the components in the order of their lowest object. */
static void renumber(struct ctx *x)
{
	uint32_t n = x->n, next = 0, *map = x->buf;

	for (uint32_t c = 0; c < x->ncomp; c++)
		map[c] = NONE;
	for (uint32_t v = 0; v < n; v++) {
		uint32_t old = n - x->comp[v];

		if (map[old] == NONE)
			map[old] = next++;
		x->comp[v] = map[old];
	}
}

static bool refers_to_itself(const struct hs_graph *g, uint32_t v)
{
	const struct hs_edge *e, *end;

	for (e = hs_graph_edges(g, v, &end); e < end; e++)
		if (e->dst == v && followed(e->label))
			return true;
	return false;
}

static void count_sizes(struct ctx *x, uint32_t *size)
{
	memset(size, 0, x->ncomp * sizeof(*size));
	for (uint32_t v = 0; v < x->n; v++)
		size[x->comp[v]]++;
}

/* members[coff[i] .. coff[i+1]): the objects of the i-th cyclic
 * component, in increasing order. */
static int gather_cyclic(struct ctx *x)
{
	uint32_t *cur = x->buf, at = 0, k = 0;

	count_sizes(x, cur);
	for (uint32_t v = 0; v < x->n; v++)
		if (cur[x->comp[v]] == 1 && !refers_to_itself(x->g, v))
			cur[x->comp[v]] = 0;
	for (uint32_t c = 0; c < x->ncomp; c++)
		x->ncyc += cur[c] != 0;
	x->coff = malloc(((size_t)x->ncyc + 1) * sizeof(*x->coff));
	if (!x->coff)
		return nomem(x);
	for (uint32_t c = 0; c < x->ncomp; c++) {
		if (!cur[c]) {
			cur[c] = NONE;
			continue;
		}
		if (cur[c] > x->largest)
			x->largest = cur[c];
		x->coff[k++] = at;
		at += cur[c];
		cur[c] = x->coff[k - 1];
	}
	x->coff[k] = at;
	for (uint32_t v = 0; v < x->n; v++)
		if (cur[x->comp[v]] != NONE)
			x->members[cur[x->comp[v]]++] = v;
	return 0;
}

static int cmp_types_by_name(const void *a, const void *b, void *arg)
{
	const struct hs_graph *g = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int d = strcmp(type_name(g, x), type_name(g, y));

	return d ? d : (x > y) - (x < y);
}

/* Name ids: one per distinct type name, in name order. */
static int names_build(struct ctx *x)
{
	const struct hs_graph *g = x->g;
	size_t nt = g->type_count ? g->type_count : 1;
	uint32_t *order = malloc(nt * sizeof(*order));

	x->name_of = malloc(nt * sizeof(*x->name_of));
	x->name_type = malloc(nt * sizeof(*x->name_type));
	x->fin = calloc(nt, 1);
	if (!order || !x->name_of || !x->name_type || !x->fin) {
		free(order);
		return nomem(x);
	}
	for (uint32_t t = 0; t < g->type_count; t++)
		order[t] = t;
	qsort_r(order, g->type_count, sizeof(*order), cmp_types_by_name, (void *)g);
	for (size_t j = 0; j < g->type_count; j++) {
		uint32_t t = order[j];

		if (!j || strcmp(type_name(g, order[j - 1]), type_name(g, t)))
			x->name_type[x->names++] = t;
		x->name_of[t] = x->names - 1;
	}
	free(order);
	return 0;
}

/* The object an edge with this label leads to, or NONE. */
static uint32_t edge_to(const struct hs_graph *g, uint32_t obj, uint32_t label)
{
	const struct hs_edge *e, *end;

	for (e = hs_graph_edges(g, obj, &end); e < end; e++)
		if (e->label == label && e->dst < g->count)
			return e->dst;
	return NONE;
}

static bool is_del(const struct hs_graph *g, uint32_t key)
{
	const char *t = key < g->count ? hs_graph_text(g, key) : NULL;

	return t && !strcmp(t, "'__del__'");
}

/* Whether a class's own dict has the key '__del__'. */
static bool dict_has_del(const struct hs_graph *g, uint32_t cls)
{
	uint32_t dict = edge_to(g, cls, HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_TP_DICT));
	const struct hs_edge *e, *end;

	if (dict == NONE)
		return false;
	for (e = hs_graph_edges(g, dict, &end); e < end; e++) {
		if (HS_EDGE_KIND(e->label) == HS_EDGE_VALUE && is_del(g, HS_EDGE_VALUE(e->label)))
			return true;
		if (HS_EDGE_KIND(e->label) == HS_EDGE_KEY && is_del(g, e->dst))
			return true;
	}
	return false;
}

/* Whether a type or a class in its MRO defines __del__ (memoized). */
static bool has_finalizer(struct ctx *x, uint32_t t)
{
	const struct hs_graph *g = x->g;
	const struct hs_edge *e, *end;
	uint32_t tobj, mro;
	bool found = false;

	if (x->fin[t])
		return x->fin[t] == 2;
	if (g->types[t].flags & HS_TYPE_FINALIZER) {
		found = true;
	} else if ((tobj = hs_graph_find(g, g->types[t].addr)) != HS_NO_OBJECT &&
		   tobj < g->count) {
		mro = edge_to(g, tobj, HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_TP_MRO));
		if (mro == NONE)
			found = dict_has_del(g, tobj);
		else
			for (e = hs_graph_edges(g, mro, &end); e < end && !found; e++)
				found = HS_EDGE_KIND(e->label) == HS_EDGE_INDEX &&
					e->dst < g->count && dict_has_del(g, e->dst);
	}
	x->fin[t] = found ? 2 : 1;
	return found;
}

static int cmp_kpairs(const void *a, const void *b)
{
	const struct kpair *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return (x->name > y->name) - (x->name < y->name);
}

static uint64_t hash_key(const struct kpair *k, uint32_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;

	for (uint32_t i = 0; i < len; i++) {
		h = (h ^ k[i].name) * 0xff51afd7ed558ccdull;
		h = (h ^ k[i].count) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 31;
	}
	return h;
}

static int table_grow(struct ctx *x)
{
	size_t ncap = x->tcap ? x->tcap * 2 : 64;
	uint32_t *t = calloc(ncap, sizeof(*t));

	if (!t)
		return nomem(x);
	for (size_t i = 0; i < x->ngroups; i++) {
		size_t s = x->groups[i].hash & (ncap - 1);

		while (t[s])
			s = (s + 1) & (ncap - 1);
		t[s] = (uint32_t)i + 1;
	}
	free(x->table);
	x->table = t;
	x->tcap = ncap;
	return 0;
}

/* The group with this key, created if new; NULL on OOM. */
static struct group *group_of(struct ctx *x, const struct kpair *key, uint32_t len,
			      uint32_t cyc)
{
	uint64_t h = hash_key(key, len);
	struct group *gr;
	size_t s;

	if ((x->ngroups + 1) * 2 > x->tcap && table_grow(x) < 0)
		return NULL;
	for (s = h & (x->tcap - 1); x->table[s]; s = (s + 1) & (x->tcap - 1)) {
		gr = &x->groups[x->table[s] - 1];
		if (gr->hash == h && gr->key_len == len &&
		    !memcmp(x->pool + gr->key_off, key, len * sizeof(*key)))
			return gr;
	}
	if (x->ngroups == x->gcap) {
		size_t ncap = x->gcap ? x->gcap * 2 : 64;
		struct group *grown = realloc(x->groups, ncap * sizeof(*grown));

		if (!grown)
			return NULL;
		x->groups = grown;
		x->gcap = ncap;
	}
	if (x->pool_len + len > x->pool_cap) {
		size_t ncap = x->pool_cap ? x->pool_cap : 256;
		struct kpair *grown;

		while (ncap < x->pool_len + len)
			ncap *= 2;
		if (!(grown = realloc(x->pool, ncap * sizeof(*grown))))
			return NULL;
		x->pool = grown;
		x->pool_cap = ncap;
	}
	memcpy(x->pool + x->pool_len, key, len * sizeof(*key));
	gr = &x->groups[x->ngroups];
	*gr = (struct group){.hash = h, .key_off = x->pool_len, .key_len = len, .first = cyc};
	x->pool_len += len;
	x->table[s] = (uint32_t)++x->ngroups;
	return gr;
}

static bool any_alive(const struct ctx *x, const uint8_t *alive, uint32_t cyc)
{
	for (uint32_t j = x->coff[cyc]; j < x->coff[cyc + 1]; j++)
		if (alive[x->members[j]])
			return true;
	return false;
}

/* Group the cyclic components by their kinds. */
static int group_components(struct ctx *x, const struct hs_cycles_opts *opts)
{
	const struct hs_graph *g = x->g;
	uint32_t *count = calloc(x->names ? x->names : 1, sizeof(*count));
	struct kpair *key = malloc((x->names ? x->names : 1) * sizeof(*key));
	int err = 0;

	if (!count || !key) {
		err = nomem(x);
		goto out;
	}
	for (uint32_t cyc = 0; cyc < x->ncyc; cyc++) {
		uint32_t len = 0;
		uint64_t size = 0;
		bool fin = false;
		struct group *gr;

		if (opts->garbage_only && any_alive(x, opts->alive, cyc))
			continue;
		for (uint32_t j = x->coff[cyc]; j < x->coff[cyc + 1]; j++) {
			uint32_t v = x->members[j], name = x->name_of[g->type[v]];

			if (!count[name]++)
				key[len++].name = name;
			size += g->size[v];
			fin = fin || has_finalizer(x, g->type[v]);
		}
		for (uint32_t k = 0; k < len; k++) {
			key[k].count = count[key[k].name];
			count[key[k].name] = 0;
		}
		qsort(key, len, sizeof(*key), cmp_kpairs);
		if (!(gr = group_of(x, key, len, cyc))) {
			err = nomem(x);
			goto out;
		}
		gr->components++;
		gr->objects += x->coff[cyc + 1] - x->coff[cyc];
		gr->size += size;
		gr->finalizer = gr->finalizer || fin;
	}
out:
	free(count);
	free(key);
	return err;
}

/* The label of the first edge from src to dst. */
static uint32_t first_label(const struct hs_graph *g, uint32_t src, uint32_t dst)
{
	const struct hs_edge *e, *end;

	for (e = hs_graph_edges(g, src, &end); e < end; e++)
		if (e->dst == dst && followed(e->label))
			return e->label;
	return HS_EDGE_LABEL(HS_EDGE_FIELD, HS_LABEL_NONE);
}

/*
 * A shortest cycle through the lowest object s of a cyclic component:
 * breadth-first from s inside the component until an edge leads back to
 * s.  Visited objects are marked in comp (NONE) and restored after.  q and
 * par hold at least the component's objects.  An object is queued at the
 * first edge from its parent that reaches it, so the labels are found
 * again afterwards rather than kept.
 */
static int example_cycle(struct ctx *x, struct group *gr, uint32_t *q, uint32_t *par)
{
	const struct hs_graph *g = x->g;
	uint32_t s = x->members[x->coff[gr->first]], c = x->comp[s];
	uint32_t qlen = 1, found = NONE, len = 1;
	const struct hs_edge *e, *end;

	q[0] = s;
	par[0] = NONE;
	x->comp[s] = NONE;
	for (uint32_t qi = 0; qi < qlen && found == NONE; qi++) {
		for (e = hs_graph_edges(g, q[qi], &end); e < end; e++) {
			uint32_t w = e->dst;

			if (!followed(e->label))
				continue;
			if (w == s) {
				found = qi;
				break;
			}
			if (w >= x->n || x->comp[w] != c)
				continue;
			x->comp[w] = NONE;
			q[qlen] = w;
			par[qlen++] = qi;
		}
	}
	for (uint32_t j = 0; j < qlen; j++)
		x->comp[q[j]] = c;
	if (found == NONE)
		return 0; /* not reached: every object of an SCC is on a cycle */
	for (uint32_t j = found; j; j = par[j])
		len++;
	gr->example = malloc(len * sizeof(*gr->example));
	if (!gr->example)
		return nomem(x);
	gr->example_len = len;
	gr->example[len - 1] = (struct hs_cycle_hop){q[found], first_label(g, q[found], s)};
	for (uint32_t j = found, at = len - 1; j; j = par[j])
		gr->example[--at] = (struct hs_cycle_hop){q[par[j]], first_label(g, q[par[j]], q[j])};
	return 0;
}

/* The queue is buf (n words; its cursors are spent). */
static int examples(struct ctx *x)
{
	uint32_t most = 1, *par;
	int err = 0;

	for (size_t i = 0; i < x->ngroups; i++) {
		uint32_t f = x->groups[i].first, k = x->coff[f + 1] - x->coff[f];

		if (k > most)
			most = k;
	}
	if (!(par = malloc(most * sizeof(*par))))
		return nomem(x);
	for (size_t i = 0; i < x->ngroups && !err; i++)
		err = example_cycle(x, &x->groups[i], x->buf, par);
	free(par);
	return err;
}

static int cmp_groups(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	if (x->components != y->components)
		return x->components < y->components ? 1 : -1;
	for (uint32_t i = 0; i < x->key_len && i < y->key_len; i++) {
		if (x->key[i].name != y->key[i].name)
			return x->key[i].name < y->key[i].name ? -1 : 1;
		if (x->key[i].count != y->key[i].count)
			return x->key[i].count < y->key[i].count ? 1 : -1;
	}
	return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Sort the groups and hand them over (the examples move to out). */
static int publish(struct ctx *x, struct hs_cycles *out)
{
	for (size_t i = 0; i < x->ngroups; i++)
		x->groups[i].key = x->pool + x->groups[i].key_off;
	if (x->ngroups) /* qsort's array may not be NULL, even when empty */
		qsort(x->groups, x->ngroups, sizeof(*x->groups), cmp_groups);
	out->groups = calloc(x->ngroups ? x->ngroups : 1, sizeof(*out->groups));
	if (!out->groups)
		return nomem(x);
	for (size_t i = 0; i < x->ngroups; i++) {
		struct group *gr = &x->groups[i];
		struct hs_cycle_group *o = &out->groups[out->count++];

		o->components = gr->components;
		o->objects = gr->objects;
		o->size = gr->size;
		o->finalizer = gr->finalizer;
		o->example_component = x->comp[x->members[x->coff[gr->first]]];
		o->example_objects = x->coff[gr->first + 1] - x->coff[gr->first];
		o->example = gr->example;
		o->example_len = gr->example_len;
		gr->example = NULL;
		out->components += gr->components;
		out->objects += gr->objects;
		out->size += gr->size;
		o->kinds = malloc(gr->key_len * sizeof(*o->kinds) + 1);
		if (!o->kinds)
			return nomem(x);
		o->kind_count = gr->key_len;
		for (uint32_t k = 0; k < gr->key_len; k++)
			o->kinds[k] = (struct hs_cycle_kind){x->name_type[gr->key[k].name],
							     gr->key[k].count};
	}
	return 0;
}

static void ctx_release(struct ctx *x)
{
	free(x->comp);
	free(x->buf);
	free(x->members);
	free(x->coff);
	free(x->name_of);
	free(x->name_type);
	free(x->fin);
	for (size_t i = 0; i < x->ngroups; i++)
		free(x->groups[i].example);
	free(x->groups);
	free(x->pool);
	free(x->table);
}

static int run(struct ctx *x, const struct hs_cycles_opts *opts, struct hs_cycles *out)
{
	size_t n = x->n ? x->n : 1;
	uint64_t *root;
	int err;

	if ((err = check_graph(x->g)) < 0)
		return err;
	x->comp = calloc(n, sizeof(*x->comp));
	x->buf = malloc(n * sizeof(*x->buf));
	x->members = malloc(n * sizeof(*x->members));
	root = calloc((n + 63) / 64, sizeof(*root));
	if (!x->comp || !x->buf || !x->members || !root) {
		free(root);
		return nomem(x);
	}
	find_components(x, root);
	free(root);
	renumber(x);
	if ((err = gather_cyclic(x)) < 0 || (err = names_build(x)) < 0 ||
	    (err = group_components(x, opts)) < 0 || (err = examples(x)) < 0 ||
	    (err = publish(x, out)) < 0)
		return err;
	if (opts->keep_components) {
		count_sizes(x, x->buf);
		out->component = x->comp;
		out->component_size = x->buf;
		out->component_count = x->ncomp;
		x->comp = x->buf = NULL;
	}
	return 0;
}

int hs_cycles_find(const struct hs_graph *g, const struct hs_cycles_opts *opts,
		   struct hs_cycles *out)
{
	static const struct hs_cycles_opts none;
	struct ctx x = {.g = g, .n = (uint32_t)g->count};
	int err;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &none;
	if (opts->garbage_only && !opts->alive)
		return hs_error(HS_EUSAGE, "looking for garbage cycles without liveness");
	if (g->count >= HS_NO_OBJECT)
		return hs_error(HS_EUSAGE, "%zu objects are too many", g->count);
	err = run(&x, opts, out);
	ctx_release(&x);
	if (err < 0)
		hs_cycles_release(out);
	return err;
}

void hs_cycles_release(struct hs_cycles *c)
{
	for (size_t i = 0; i < c->count; i++) {
		free(c->groups[i].kinds);
		free(c->groups[i].example);
	}
	free(c->groups);
	free(c->component);
	free(c->component_size);
	memset(c, 0, sizeof(*c));
}

bool hs_cycles_on_cycle(const struct hs_graph *g, const struct hs_cycles *c, uint32_t obj)
{
	uint32_t size;

	if (!c->component || obj >= g->count || c->component[obj] >= c->component_count)
		return false;
	size = c->component_size[c->component[obj]];
	return size > 1 || (size == 1 && refers_to_itself(g, obj));
}
