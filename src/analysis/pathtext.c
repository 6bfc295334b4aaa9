#include "heapscope/pathtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/layout.h"

#define MIN_RUN 4 /* equal steps folded into "(step)*K" */

void hs_strbuf_add(struct hs_strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		char *grown;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if (!(grown = realloc(b->p, ncap))) {
			b->oom = true;
			return;
		}
		b->p = grown;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void hs_strbuf_addf(struct hs_strbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		hs_strbuf_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);

	if (!big) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	hs_strbuf_add(b, big, (size_t)n);
	free(big);
}

void hs_strbuf_reset(struct hs_strbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void hs_strbuf_release(struct hs_strbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

const char *hs_strbuf_str(const struct hs_strbuf *b)
{
	return b->p ? b->p : "";
}

static bool ident_char(unsigned char c, bool first)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ||
	       (!first && c >= '0' && c <= '9');
}

bool hs_text_is_identifier(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	if (n < 3 || t[0] != '\'' || t[n - 1] != '\'')
		return false;
	for (size_t i = 1; i < n - 1; i++)
		if (!ident_char((unsigned char)t[i], i == 1))
			return false;
	return true;
}

/* Whether a text is a quoted dotted name: 'app.models' */
static bool dotted_name(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	bool start = true;

	if (n < 3 || t[0] != '\'' || t[n - 1] != '\'')
		return false;
	for (size_t i = 1; i < n - 1; i++) {
		if (t[i] == '.' && !start) {
			start = true;
			continue;
		}
		if (!ident_char((unsigned char)t[i], start))
			return false;
		start = false;
	}
	return !start;
}

/* Python's name of a field reference, or NULL (then the C name is shown). */
static const char *python_field(enum hs_field f)
{
	switch (f) {
	case HS_F_TP_MRO: return "__mro__";
	case HS_F_TP_BASES: return "__bases__";
	case HS_F_TP_BASE: return "__base__";
	case HS_F_TP_DICT: case HS_F_MOD_DICT: case HS_F_FN_DICT: return "__dict__";
	case HS_F_HT_NAME: case HS_F_FN_NAME: case HS_F_MOD_NAME: case HS_F_GEN_NAME:
		return "__name__";
	case HS_F_HT_QUALNAME: case HS_F_FN_QUALNAME: case HS_F_GEN_QUALNAME:
		return "__qualname__";
	case HS_F_HT_SLOTS: return "__slots__";
	case HS_F_FN_CODE: return "__code__";
	case HS_F_FN_GLOBALS: return "__globals__";
	case HS_F_FN_BUILTINS: return "__builtins__";
	case HS_F_FN_DEFAULTS: return "__defaults__";
	case HS_F_FN_KWDEFAULTS: return "__kwdefaults__";
	case HS_F_FN_CLOSURE: return "__closure__";
	case HS_F_FN_DOC: return "__doc__";
	case HS_F_FN_MODULE: return "__module__";
	case HS_F_FN_ANNOTATIONS: return "__annotations__";
	case HS_F_FN_ANNOTATE: return "__annotate__";
	case HS_F_FN_TYPEPARAMS: return "__type_params__";
	case HS_F_METH_FUNC: return "__func__";
	case HS_F_METH_SELF: return "__self__";
	case HS_F_CELL_REF: return "cell_contents";
	case HS_F_WR_CALLBACK: return "__callback__";
	case HS_F_CO_CONSTS: return "co_consts";
	case HS_F_CO_NAMES: return "co_names";
	case HS_F_CO_CODE: case HS_F_COC_CODE: return "co_code";
	case HS_F_CO_VARNAMES: case HS_F_COC_VARNAMES: return "co_varnames";
	case HS_F_CO_FREEVARS: case HS_F_COC_FREEVARS: return "co_freevars";
	case HS_F_CO_CELLVARS: case HS_F_COC_CELLVARS: return "co_cellvars";
	case HS_F_CO_FILENAME: return "co_filename";
	case HS_F_CO_NAME: return "co_name";
	case HS_F_CO_QUALNAME: return "co_qualname";
	case HS_F_CO_LNOTAB: return "co_lnotab";
	case HS_F_CO_LINETABLE: return "co_linetable";
	case HS_F_CO_EXCEPTIONTABLE: return "co_exceptiontable";
	case HS_F_GEN_FRAME: return "gi_frame";
	case HS_F_GEN_CODE: return "gi_code";
	case HS_F_CORO_ORIGIN: return "cr_origin";
	case HS_F_FR_BACK: return "f_back";
	case HS_F_FR_CODE: case HS_F_IF_CODE: return "f_code";
	case HS_F_FR_BUILTINS: case HS_F_IF_BUILTINS: return "f_builtins";
	case HS_F_FR_GLOBALS: case HS_F_IF_GLOBALS: return "f_globals";
	case HS_F_FR_LOCALS: case HS_F_IF_LOCALS: return "f_locals";
	case HS_F_FR_TRACE: return "f_trace";
	default: return NULL;
	}
}

void hs_edge_text(const struct hs_graph *g, struct hs_hop hop, struct hs_strbuf *out)
{
	uint32_t v = HS_EDGE_VALUE(hop.label);
	const char *t;

	switch (HS_EDGE_KIND(hop.label)) {
	case HS_EDGE_FIELD:
		if (v < HS_F_COUNT && python_field((enum hs_field)v))
			hs_strbuf_addf(out, ".%s", python_field((enum hs_field)v));
		else
			hs_strbuf_addf(out, ".<%s>", v < HS_F_COUNT ? hs_field_names[v] : "?");
		break;
	case HS_EDGE_INDEX:
		if (hop.wild)
			hs_strbuf_addf(out, "[*]");
		else
			hs_strbuf_addf(out, "[%u]", v);
		break;
	case HS_EDGE_KEY:
		hs_strbuf_addf(out, hop.wild ? ".keys()[*]" : ".keys()[%u]", v);
		break;
	case HS_EDGE_VALUE:
		t = v != HS_LABEL_NONE ? hs_graph_text(g, v) : NULL;
		hs_strbuf_addf(out, "[%s]", hop.wild ? "*" : t ? t : "?");
		break;
	case HS_EDGE_ATTR:
		t = v != HS_LABEL_NONE ? hs_graph_text(g, v) : NULL;
		if (hs_text_is_identifier(t))
			hs_strbuf_addf(out, ".%.*s", (int)strlen(t) - 2, t + 1);
		else
			hs_strbuf_addf(out, ".__dict__[%s]", t ? t : "?");
		break;
	case HS_EDGE_SLOT:
		t = hs_graph_name(g, v);
		hs_strbuf_addf(out, ".%s", t ? t : "<slot>");
		break;
	case HS_EDGE_SET_ITEM:
		hs_strbuf_addf(out, "{*}");
		break;
	case HS_EDGE_LOCAL:
		t = v != HS_LABEL_NONE ? hs_graph_text(g, v) : NULL;
		hs_strbuf_addf(out, " local %s", t ? t : "?");
		break;
	case HS_EDGE_STACK:
		hs_strbuf_addf(out, hop.wild ? " stack[*]" : " stack[%u]", v);
		break;
	case HS_EDGE_CONSERVATIVE:
		hs_strbuf_addf(out, " <conservative +0x%x>", v);
		break;
	case HS_EDGE_TYPE:
		hs_strbuf_addf(out, ".__class__");
		break;
	default:
		hs_strbuf_addf(out, " <edge %u:%u>", HS_EDGE_KIND(hop.label), v);
		break;
	}
}

const char *hs_frame_function(const struct hs_graph *g, uint32_t frame, char *buf, size_t max)
{
	const struct hs_edge *e, *end;
	uint32_t code;

	buf[0] = '\0';
	if (frame >= g->frame_count || (code = g->frames[frame].code) >= g->count)
		return buf;
	for (e = hs_graph_edges(g, code, &end); e < end; e++) {
		const char *t;

		if (e->label == HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_CO_NAME) &&
		    (t = hs_graph_text(g, e->dst)) && strlen(t) >= 2) {
			snprintf(buf, max, "%.*s", (int)strlen(t) - 2, t + 1);
			break;
		}
	}
	return buf;
}

static void thread_text(const struct hs_graph *g, uint32_t thread, struct hs_strbuf *out)
{
	const struct hs_thread *t;

	if (thread >= g->thread_count) {
		hs_strbuf_addf(out, "<thread ?>");
		return;
	}
	t = &g->threads[thread];
	hs_strbuf_addf(out, "<thread %llu", (unsigned long long)(t->native_id ? t->native_id
									      : t->thread_id));
	if (t->name)
		hs_strbuf_addf(out, " \"%s\"", t->name);
	hs_strbuf_addf(out, ">");
}

static const char *interp_root_name(uint32_t label)
{
	if (HS_EDGE_KIND(label) != HS_EDGE_FIELD)
		return "<interpreter>";
	switch (HS_EDGE_VALUE(label)) {
	case HS_F_IS_MODULES: return "sys.modules";
	case HS_F_IS_SYSDICT: return "sys.__dict__";
	case HS_F_IS_BUILTINS: return "builtins.__dict__";
	case HS_F_IS_MODULES_BY_INDEX: return "<interpreter modules_by_index>";
	case HS_F_IS_BUILTINS_COPY: return "<interpreter builtins_copy>";
	case HS_F_IS_IMPORTLIB: return "<interpreter importlib>";
	case HS_F_IS_DICT: return "<interpreter dict>";
	default: return "<interpreter>";
	}
}

void hs_root_text(const struct hs_graph *g, uint32_t root, bool with_slot, struct hs_strbuf *out)
{
	const struct hs_root *r = root < g->root_count ? &g->roots[root] : NULL;
	char fn[128];

	if (!r) {
		hs_strbuf_addf(out, "<?>");
	} else if (r->frame != HS_NO_OBJECT) {
		thread_text(g, r->detail, out);
		hs_strbuf_addf(out, " frame %s()", hs_frame_function(g, r->frame, fn, sizeof(fn)));
		if (with_slot && hs_root_in_frame(r))
			hs_edge_text(g, (struct hs_hop){r->label, false}, out);
	} else if (r->kind == HS_ROOT_INTERP) {
		hs_strbuf_addf(out, "%s", interp_root_name(r->label));
	} else {
		thread_text(g, r->detail, out);
		if (HS_EDGE_KIND(r->label) == HS_EDGE_FIELD && HS_EDGE_VALUE(r->label) < HS_F_COUNT)
			hs_strbuf_addf(out, " %s", hs_field_names[HS_EDGE_VALUE(r->label)]);
	}
}

void hs_origin_text(const struct hs_graph *g, const struct hs_paths *p, uint32_t origin,
		    struct hs_strbuf *out)
{
	const struct hs_origin *o;
	const char *t;

	if (origin >= p->origin_count) {
		hs_strbuf_addf(out, "<?>");
		return;
	}
	o = &p->origins[origin];
	switch ((enum hs_origin_kind)o->kind) {
	case HS_ORIGIN_MODULE:
		t = o->key != HS_LABEL_NONE && o->key < g->count ? hs_graph_text(g, o->key) : NULL;
		if (dotted_name(t))
			hs_strbuf_addf(out, "%.*s", (int)strlen(t) - 2, t + 1);
		else
			hs_strbuf_addf(out, "sys.modules[%s]", t ? t : "?");
		break;
	case HS_ORIGIN_FRAME:
	case HS_ORIGIN_INTERP:
	case HS_ORIGIN_THREAD:
		/* a frame slot's name is the path's first step, not the origin's */
		hs_root_text(g, o->root, false, out);
		break;
	case HS_ORIGIN_GC_ONLY:
	case HS_ORIGIN_EXTERNAL:
	case HS_ORIGIN_GARBAGE:
		hs_strbuf_addf(out, "<%s %s>", hs_origin_kind_name((enum hs_origin_kind)o->kind),
			       o->obj < g->count ? g->types[g->type[o->obj]].name : "?");
		break;
	}
}

bool hs_edge_leads_to_dict(uint32_t label)
{
	return label == HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_TP_DICT) ||
	       label == HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_MOD_DICT) ||
	       label == HS_EDGE_LABEL(HS_EDGE_FIELD, HS_F_FN_DICT);
}

/* The text of step i (which may take two hops: ".__dict__['x']" is ".x");
 * returns the hops used. */
static size_t step_text(const struct hs_graph *g, const struct hs_hop *hops, size_t n, size_t i,
			struct hs_strbuf *out)
{
	/* a split table's values are attributes and say so themselves */
	if (i + 1 < n && hs_edge_leads_to_dict(hops[i].label) &&
	    HS_EDGE_KIND(hops[i + 1].label) == HS_EDGE_ATTR) {
		hs_edge_text(g, hops[i + 1], out);
		return 2;
	}
	if (i + 1 < n && hs_edge_leads_to_dict(hops[i].label) &&
	    HS_EDGE_KIND(hops[i + 1].label) == HS_EDGE_VALUE && !hops[i + 1].wild) {
		uint32_t key = HS_EDGE_VALUE(hops[i + 1].label);
		const char *t = key != HS_LABEL_NONE ? hs_graph_text(g, key) : NULL;

		if (hs_text_is_identifier(t)) {
			hs_strbuf_addf(out, ".%.*s", (int)strlen(t) - 2, t + 1);
			return 2;
		}
	}
	hs_edge_text(g, hops[i], out);
	return 1;
}

void hs_path_text(const struct hs_graph *g, const struct hs_paths *p, uint32_t origin,
		  const struct hs_hop *hops, size_t n, struct hs_strbuf *out)
{
	hs_origin_text(g, p, origin, out);
	hs_hops_text(g, hops, n, out);
}

void hs_hops_text(const struct hs_graph *g, const struct hs_hop *hops, size_t n,
		  struct hs_strbuf *out)
{
	struct hs_strbuf cur = {0}, next = {0};
	size_t i = 0;

	while (i < n) {
		size_t used, run = 1, j;

		hs_strbuf_reset(&cur);
		used = step_text(g, hops, n, i, &cur);
		/* count the following equal steps */
		for (j = i + used; j < n; run++) {
			size_t u;

			hs_strbuf_reset(&next);
			u = step_text(g, hops, n, j, &next);
			if (u != used || next.len != cur.len ||
			    memcmp(hs_strbuf_str(&next), hs_strbuf_str(&cur), cur.len))
				break;
			j += u;
		}
		if (run >= MIN_RUN) {
			const char *s = hs_strbuf_str(&cur);

			/* a step starting with a space (" local 'x'") reads badly in brackets */
			hs_strbuf_addf(out, "(%s)*%zu", s[0] == ' ' ? s + 1 : s, run);
		} else {
			for (size_t k = 0; k < run; k++)
				hs_strbuf_add(out, hs_strbuf_str(&cur), cur.len);
		}
		i += used * run;
	}
	if (cur.oom || next.oom)
		out->oom = true;
	hs_strbuf_release(&cur);
	hs_strbuf_release(&next);
}

int hs_path_of(const struct hs_paths *p, uint32_t obj, struct hs_hop **hops, size_t *n_hops,
	       uint32_t **objs, size_t *n_objs)
{
	size_t n = 0, h = 0;

	*hops = NULL;
	*objs = NULL;
	*n_hops = *n_objs = 0;
	if (obj >= p->count)
		return hs_error(HS_EUSAGE, "no object %u", obj);
	/* count first: the depth bounds the walk up */
	for (uint32_t o = obj; o != HS_NO_OBJECT && n <= p->count; o = p->parent[o])
		n++;
	*objs = malloc(n * sizeof(**objs));
	*hops = malloc(n * sizeof(**hops));
	if (!*objs || !*hops) {
		free(*objs);
		free(*hops);
		*objs = NULL;
		*hops = NULL;
		return hs_error(HS_ENOMEM, "a path of %zu hops", n);
	}
	for (uint32_t o = obj, k = (uint32_t)n; k-- > 0; o = p->parent[o])
		(*objs)[k] = o;
	for (size_t k = 0; k < n; k++)
		if (p->via[(*objs)[k]] != HS_LABEL_NONE)
			(*hops)[h++] = (struct hs_hop){p->via[(*objs)[k]], false};
	*n_objs = n;
	*n_hops = h;
	return 0;
}
