/*
 * Labels: after the walk, the texts that name edges (dict keys, attribute
 * and local variable names, code names) and the names of threads, read
 * while the captured memory is still at hand so that the analyses need
 * only the graph.  Only objects used as names get a text: values are not
 * copied (they may hold secrets).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "walk-internal.h"

#define TEXT_MAX 96          /* bytes of one text, with quotes and "..." */
#define STR_CHARS 40         /* characters of a str shown before "..." */
#define TUPLE_ITEMS 4        /* items of a tuple key shown */

struct textbuf {
	char *p;
	size_t len, max;
	bool full;
};

static void put(struct textbuf *b, const char *s, size_t n)
{
	if (b->full || b->len + n + 1 > b->max) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct textbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Python's repr of a str, single-quoted, cut after STR_CHARS characters. */
static bool str_text(struct walk *w, uint64_t addr, struct textbuf *b)
{
	char raw[STR_CHARS * 4 + 1];
	uint64_t length = 0;
	size_t chars = 0;

	if (!rd_field(w, addr, HS_F_STR_LENGTH, &length) || !read_str(w, addr, raw, sizeof(raw)))
		return false;
	put(b, "'", 1);
	for (const unsigned char *c = (const unsigned char *)raw; *c && chars < STR_CHARS; c++) {
		char esc[8];

		if ((*c & 0xc0) != 0x80)
			chars++;
		if (*c == '\\' || *c == '\'') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			put(b, esc, 2);
		} else if (*c == '\n') {
			puts_(b, "\\n");
		} else if (*c == '\t') {
			puts_(b, "\\t");
		} else if (*c == '\r') {
			puts_(b, "\\r");
		} else if (*c < 0x20 || *c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *c);
			puts_(b, esc);
		} else {
			put(b, (const char *)c, 1);
		}
	}
	put(b, "'", 1);
	if (length > chars)
		puts_(b, "...");
	return true;
}

static bool bytes_text(struct walk *w, uint64_t addr, struct textbuf *b)
{
	uint64_t n = 0;
	const unsigned char *p;
	size_t shown;

	if (!rd_field(w, addr, HS_F_VAR_SIZE, &n) || n > MAX_ITEMS)
		return false;
	shown = n > STR_CHARS ? STR_CHARS : (size_t)n;
	if (!(p = view(w, addr + off(w, HS_F_BYTES_SVAL), shown)))
		return false;
	puts_(b, "b'");
	for (size_t i = 0; i < shown; i++) {
		char esc[8];

		if (p[i] == '\\' || p[i] == '\'')
			snprintf(esc, sizeof(esc), "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
		else
			snprintf(esc, sizeof(esc), "%c", p[i]);
		puts_(b, esc);
	}
	put(b, "'", 1);
	if (n > shown)
		puts_(b, "...");
	return true;
}

/* An int of up to four 30-bit digits, in decimal; longer ones are cut. */
static bool int_text(struct walk *w, uint64_t addr, bool is_bool, struct textbuf *b)
{
	uint64_t ndigits, word = 0;
	bool negative;
	const uint32_t *d;
	unsigned __int128 v = 0;
	char dec[48];
	int n = 0;

	if (!rd_field(w, addr, HS_F_VAR_SIZE, &word) && !rd_field(w, addr, HS_F_LONG_TAG, &word))
		return false;
	if (has(w, HS_F_LONG_TAG)) {
		/* 3.12+: lv_tag = ndigits << 3 | sign (0 positive, 1 zero, 2 negative) */
		rd_field(w, addr, HS_F_LONG_TAG, &word);
		ndigits = word >> 3;
		negative = (word & 3) == 2;
	} else {
		negative = (int64_t)word < 0;
		ndigits = negative ? -word : word;
	}
	if (is_bool) {
		puts_(b, ndigits ? "True" : "False");
		return true;
	}
	if (ndigits > 4) {
		puts_(b, negative ? "-<int of " : "<int of ");
		snprintf(dec, sizeof(dec), "%" PRIu64 " digits>", ndigits * 30 * 3 / 10);
		puts_(b, dec);
		return true;
	}
	if (ndigits && !(d = view(w, addr + off(w, HS_F_LONG_DIGITS), ndigits * 4)))
		return false;
	for (uint64_t i = ndigits; i-- > 0;)
		v = (v << 30) | (d[i] & 0x3fffffffu);
	do {
		dec[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && n < (int)sizeof(dec));
	if (negative)
		put(b, "-", 1);
	while (n-- > 0)
		put(b, &dec[n], 1);
	return true;
}

static bool float_text(struct walk *w, uint64_t addr, struct textbuf *b)
{
	/* PyFloatObject is {PyObject_HEAD; double ob_fval} in every version */
	const double *v = view(w, addr + 16, sizeof(double));
	char num[40];

	if (!v)
		return false;
	if (isnan(*v))
		snprintf(num, sizeof(num), "nan");
	else if (isinf(*v))
		snprintf(num, sizeof(num), *v < 0 ? "-inf" : "inf");
	else
		snprintf(num, sizeof(num), "%.17g", *v);
	puts_(b, num);
	return true;
}

static bool text_of(struct walk *w, uint32_t obj, struct textbuf *b, int depth);

static bool tuple_text(struct walk *w, uint64_t addr, struct textbuf *b, int depth)
{
	uint64_t n = 0;
	const uint64_t *items;

	if (depth > 2 || !rd_field(w, addr, HS_F_VAR_SIZE, &n) || n > MAX_ITEMS)
		return false;
	put(b, "(", 1);
	items = view(w, addr + off(w, HS_F_TUPLE_ITEMS), (n > TUPLE_ITEMS ? TUPLE_ITEMS : n) * 8);
	for (uint64_t i = 0; items && i < n && i < TUPLE_ITEMS; i++) {
		uint32_t item = hs_graph_find(w->g, items[i]);

		if (i)
			puts_(b, ", ");
		if (item == HS_NO_OBJECT || !text_of(w, item, b, depth + 1))
			puts_(b, "...");
	}
	if (n > TUPLE_ITEMS)
		puts_(b, ", ...");
	puts_(b, n == 1 ? ",)" : ")");
	return true;
}

/* How to read an object of this type: known from the walk's type cache
 * (which sees subclasses), else by the kind's name. */
static enum decoder decoder_of(struct walk *w, uint64_t type, const char *kind)
{
	uint32_t ti = hs_addrmap_get(&w->tcache, type);

	if (ti < w->tinfo_count)
		return (enum decoder)w->tinfos[ti].decoder;
	if (!strcmp(kind, "str"))
		return D_STR;
	if (!strcmp(kind, "int") || !strcmp(kind, "bool"))
		return D_INT;
	if (!strcmp(kind, "tuple"))
		return D_TUPLE;
	return D_NONE;
}

static bool text_of(struct walk *w, uint32_t obj, struct textbuf *b, int depth)
{
	uint64_t addr = w->g->addr[obj], type = 0;
	const char *kind = w->g->types[w->g->type[obj]].name;

	if (!rd_field(w, addr, HS_F_OB_TYPE, &type) || !type || (type & 7))
		return false;
	switch (decoder_of(w, type, kind)) {
	case D_STR:
		return str_text(w, addr, b);
	case D_INT:
		return int_text(w, addr, !strcmp(kind, "bool"), b);
	case D_TUPLE:
		return tuple_text(w, addr, b, depth);
	default:
		break;
	}
	if (!strcmp(kind, "bytes"))
		return bytes_text(w, addr, b);
	if (!strcmp(kind, "float"))
		return float_text(w, addr, b);
	if (!strcmp(kind, "NoneType")) {
		puts_(b, "None");
		return true;
	}
	return false;
}

bool object_text(struct walk *w, uint32_t obj, char *buf, size_t max, int depth)
{
	struct textbuf b = {buf, 0, max, false};

	buf[0] = '\0';
	return obj < w->g->count && text_of(w, obj, &b, depth) && !b.full;
}

/* Whether an edge label names its edge by an object: a key, attribute
 * or local name (its text is needed to print the edge). */
static uint32_t label_object(uint32_t label)
{
	switch (HS_EDGE_KIND(label)) {
	case HS_EDGE_VALUE:
	case HS_EDGE_ATTR:
	case HS_EDGE_LOCAL:
		return HS_EDGE_VALUE(label);
	default:
		return HS_LABEL_NONE;
	}
}

static void mark(uint64_t *bits, size_t count, uint32_t obj)
{
	if (obj < count)
		bits[obj / 64] |= 1ULL << (obj % 64);
}

/* Name objects of edges and roots, the names of code objects (frames are
 * printed with them) and of modules. */
static uint64_t *mark_label_objects(struct walk *w)
{
	struct hs_graph *g = w->g;
	uint64_t *bits = calloc(g->count / 64 + 1, sizeof(*bits));

	if (!bits)
		return NULL;
	for (size_t i = 0; i < g->edge_count; i++) {
		uint32_t label = g->edges[i].label;

		mark(bits, g->count, label_object(label));
		if (HS_EDGE_KIND(label) == HS_EDGE_FIELD &&
		    (HS_EDGE_VALUE(label) == HS_F_CO_NAME || HS_EDGE_VALUE(label) == HS_F_MOD_NAME))
			mark(bits, g->count, g->edges[i].dst);
	}
	for (size_t i = 0; i < g->root_count; i++)
		mark(bits, g->count, label_object(g->roots[i].label));
	return bits;
}

/* The object an attribute of `obj` refers to: through inline values or a
 * managed dict (ATTR edges) or its __dict__ (VALUE edges of that dict). */
static uint32_t find_attr(const struct hs_graph *g, uint32_t obj, const char *name)
{
	const struct hs_edge *e, *end, *de, *dend;

	for (e = hs_graph_edges(g, obj, &end); e < end; e++) {
		uint32_t label = e->label;
		const char *t;

		if (HS_EDGE_KIND(label) == HS_EDGE_ATTR &&
		    (t = hs_graph_text(g, HS_EDGE_VALUE(label))) && !strcmp(t, name))
			return e->dst;
		if (label != HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_TP_DICT))
			continue;
		/* a split table's values are attributes, a combined one's values */
		for (de = hs_graph_edges(g, e->dst, &dend); de < dend; de++)
			if ((HS_EDGE_KIND(de->label) == HS_EDGE_VALUE ||
			     HS_EDGE_KIND(de->label) == HS_EDGE_ATTR) &&
			    (t = hs_graph_text(g, HS_EDGE_VALUE(de->label))) && !strcmp(t, name))
				return de->dst;
	}
	return HS_NO_OBJECT;
}

/* The value of str key `key` of the dict object `dict`, by the texts. */
static uint32_t find_item(const struct hs_graph *g, uint32_t dict, const char *key)
{
	const struct hs_edge *e, *end;
	const char *t;

	for (e = hs_graph_edges(g, dict, &end); e < end; e++)
		if (HS_EDGE_KIND(e->label) == HS_EDGE_VALUE &&
		    (t = hs_graph_text(g, HS_EDGE_VALUE(e->label))) && !strcmp(t, key))
			return e->dst;
	return HS_NO_OBJECT;
}

/* Thread names from threading._active ({get_ident(): Thread}). */
static void name_threads(struct walk *w)
{
	struct hs_graph *g = w->g;
	uint32_t modules = hs_graph_interp_root(g, HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_IS_MODULES));
	uint32_t mod, active, dict;
	const struct hs_edge *e, *end;

	if (modules == HS_NO_OBJECT || (mod = find_item(g, modules, "'threading'")) == HS_NO_OBJECT)
		return;
	dict = HS_NO_OBJECT;
	for (e = hs_graph_edges(g, mod, &end); e < end; e++)
		if (e->label == HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_MOD_DICT))
			dict = e->dst;
	if (dict == HS_NO_OBJECT || (active = find_item(g, dict, "'_active'")) == HS_NO_OBJECT)
		return;
	for (e = hs_graph_edges(g, active, &end); e < end; e++) {
		const char *key;
		uint32_t name, native;
		char text[TEXT_MAX], raw[128];
		uint64_t ident, native_id;

		if (HS_EDGE_KIND(e->label) != HS_EDGE_VALUE ||
		    !(key = hs_graph_text(g, HS_EDGE_VALUE(e->label))) ||
		    sscanf(key, "%" SCNu64, &ident) != 1)
			continue;
		name = find_attr(g, e->dst, "'_name'");
		if (name == HS_NO_OBJECT || !object_text(w, name, text, sizeof(text), 0) ||
		    !read_str(w, g->addr[name], raw, sizeof(raw)))
			continue;
		native = find_attr(g, e->dst, "'_native_id'");
		if (native == HS_NO_OBJECT || !object_text(w, native, text, sizeof(text), 0) ||
		    sscanf(text, "%" SCNu64, &native_id) != 1)
			native_id = 0;
		for (size_t t = 0; t < g->thread_count; t++) {
			if (g->threads[t].thread_id != ident || g->threads[t].name)
				continue;
			g->threads[t].name = strdup(raw);
			if (!g->threads[t].native_id)
				g->threads[t].native_id = native_id;
		}
	}
}

int label_graph(struct walk *w)
{
	struct hs_graph *g = w->g;
	uint64_t *bits = mark_label_objects(w);
	char text[TEXT_MAX];

	if (!bits)
		return hs_error(HS_ENOMEM, "marking label objects");
	/* in object order: the texts come out sorted */
	for (size_t i = 0; i < g->count; i++) {
		if (!(bits[i / 64] & (1ULL << (i % 64))) ||
		    !object_text(w, (uint32_t)i, text, sizeof(text), 0))
			continue;
		if (hs_graph_add_text(g, (uint32_t)i, text) < 0) {
			free(bits);
			return HS_ENOMEM;
		}
	}
	free(bits);
	hs_graph_sort_texts(g);
	name_threads(w);
	return 0;
}
