#include "pathout.h"

#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/shapes.h"

#define CHAIN_SHOWN 4 /* objects shown at each end of a long example chain */

void path_record_release(struct path_record *r)
{
	free(r->shape);
	free(r->example.objs);
	free(r->example.edges);
	memset(r, 0, sizeof(*r));
}

int path_record_of(const struct hs_paths *p, uint32_t obj, struct path_record *out)
{
	size_t n_objs, n_hops;
	uint32_t *objs;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = hs_path_of(p, obj, &out->shape, &n_hops, &objs, &n_objs)) < 0)
		return err;
	out->shape_len = n_hops;
	out->count = 1;
	out->origin = p->origin[obj];
	out->example.objs = objs;
	out->example.len = n_objs;
	if (!(out->example.edges = malloc((n_objs ? n_objs : 1) * sizeof(uint32_t)))) {
		path_record_release(out);
		return hs_error(HS_ENOMEM, "a path of %zu hops", n_objs);
	}
	for (size_t k = 0; k < n_objs; k++)
		out->example.edges[k] = p->via[objs[k]];
	return 0;
}

int path_records_by_shape(const struct hs_graph *g, const struct hs_paths *p,
			  const uint32_t *members, size_t n, size_t max,
			  struct path_record **out, size_t *count, size_t *total)
{
	struct hs_shapes shapes;
	struct path_record *records;
	size_t shown;
	int err;

	*out = NULL;
	*count = *total = 0;
	if ((err = hs_shapes_group(g, p, members, n, &shapes)) < 0)
		return err;
	shown = shapes.count < max ? shapes.count : max;
	if (!(records = calloc(shown ? shown : 1, sizeof(*records)))) {
		hs_shapes_release(&shapes);
		return hs_error(HS_ENOMEM, "listing paths");
	}
	for (size_t i = 0; i < shown && !err; i++) {
		struct path_record *r = &records[i];

		err = path_record_of(p, shapes.groups[i].example, r);
		if (!err) {
			free(r->shape);
			r->shape = NULL;
			err = hs_shape_hops(&shapes, &shapes.groups[i], &r->shape, &r->shape_len);
			r->count = shapes.groups[i].count;
		}
	}
	*total = shapes.count;
	hs_shapes_release(&shapes);
	*out = records;
	*count = shown;
	return err;
}

void path_records_free(struct path_record *records, size_t count)
{
	for (size_t i = 0; records && i < count; i++)
		path_record_release(&records[i]);
	free(records);
}

void path_record_text(const struct hs_graph *g, const struct hs_paths *p,
		      const struct path_record *r, bool concrete, struct hs_strbuf *out)
{
	struct hs_hop *hops = r->shape, *plain = NULL;
	size_t n = r->shape_len;

	if (concrete) {
		/* the example's own keys and indices */
		plain = malloc((r->example.len ? r->example.len : 1) * sizeof(*plain));
		n = 0;
		for (size_t k = 0; plain && k < r->example.len; k++)
			if (r->example.edges[k] != HS_LABEL_NONE)
				plain[n++] = (struct hs_hop){r->example.edges[k], false};
		hops = plain;
	}
	if (hops || !n)
		hs_path_text(g, p, r->origin, hops, n, out);
	free(plain);
}

void print_path_record(FILE *out, const struct hs_graph *g, const struct hs_paths *p,
		       const struct path_record *r, bool concrete)
{
	struct hs_strbuf text = {0}, where = {0};

	path_record_text(g, p, r, concrete, &text);
	origin_summary(g, p, r->origin, &where);
	fprintf(out, "  %7llu  %s   (%s, %zu hop%s)\n", (unsigned long long)r->count,
		hs_strbuf_str(&text), hs_strbuf_str(&where), r->shape_len,
		r->shape_len == 1 ? "" : "s");
	fprintf(out, "           e.g. ");
	print_chain_text(out, g, &r->example);
	fprintf(out, "\n");
	hs_strbuf_release(&text);
	hs_strbuf_release(&where);
}

void path_record_json(struct hs_json *j, const struct hs_graph *g, const struct hs_paths *p,
		      const struct path_record *r, bool concrete)
{
	struct hs_strbuf text = {0};

	hs_json_begin_object(j, NULL);
	path_record_text(g, p, r, concrete, &text);
	hs_json_string(j, "path", hs_strbuf_str(&text));
	hs_json_uint(j, "count", r->count);
	hs_json_uint(j, "hops", r->shape_len);
	origin_json(j, g, p, r->origin);
	chain_json(j, "example", g, &r->example,
		   r->example.len && r->example.edges[0] != HS_LABEL_NONE);
	hs_strbuf_reset(&text);
	path_record_text(g, p, r, true, &text);
	hs_json_string(j, "example_path", hs_strbuf_str(&text));
	hs_json_end_object(j);
	hs_strbuf_release(&text);
}

void print_object_ref(FILE *out, const struct hs_graph *g, uint32_t obj)
{
	fprintf(out, "%s 0x%llx", g->types[g->type[obj]].name, (unsigned long long)g->addr[obj]);
}

static void print_link(FILE *out, const struct hs_graph *g, const struct chain *c, size_t k)
{
	struct hs_strbuf edge = {0};

	if (c->edges[k] != HS_LABEL_NONE) {
		hs_edge_text(g, (struct hs_hop){c->edges[k], false}, &edge);
		fprintf(out, "--%s--> ", hs_strbuf_str(&edge)[0] == ' ' ? hs_strbuf_str(&edge) + 1
								      : hs_strbuf_str(&edge));
	}
	hs_strbuf_release(&edge);
	print_object_ref(out, g, c->objs[k]);
}

void print_chain_text(FILE *out, const struct hs_graph *g, const struct chain *c)
{
	for (size_t k = 0; k < c->len; k++) {
		if (c->len > 2 * CHAIN_SHOWN + 1 && k == CHAIN_SHOWN) {
			fprintf(out, " ... (%zu more) ...", c->len - 2 * CHAIN_SHOWN);
			k = c->len - CHAIN_SHOWN - 1;
			continue;
		}
		if (k)
			fputc(' ', out);
		print_link(out, g, c, k);
	}
}

void chain_json(struct hs_json *j, const char *key, const struct hs_graph *g,
		const struct chain *c, bool from_frame)
{
	struct hs_strbuf edge = {0};
	char addr[24];

	hs_json_begin_array(j, key);
	if (from_frame) {
		hs_json_begin_object(j, NULL);
		hs_json_null(j, "addr");
		hs_json_string(j, "kind", "frame");
		hs_json_null(j, "edge");
		hs_json_end_object(j);
	}
	for (size_t k = 0; k < c->len; k++) {
		uint32_t obj = c->objs[k];

		hs_json_begin_object(j, NULL);
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)g->addr[obj]);
		hs_json_string(j, "addr", addr);
		hs_json_string(j, "kind", g->types[g->type[obj]].name);
		if (c->edges[k] == HS_LABEL_NONE) {
			hs_json_null(j, "edge");
		} else {
			hs_strbuf_reset(&edge);
			hs_edge_text(g, (struct hs_hop){c->edges[k], false}, &edge);
			hs_json_string(j, "edge", hs_strbuf_str(&edge));
		}
		hs_json_end_object(j);
	}
	hs_json_end_array(j);
	hs_strbuf_release(&edge);
}

static const struct hs_root *origin_root(const struct hs_graph *g, const struct hs_origin *o)
{
	return o->root < g->root_count ? &g->roots[o->root] : NULL;
}

void origin_json(struct hs_json *j, const struct hs_graph *g, const struct hs_paths *p,
		 uint32_t origin)
{
	const struct hs_origin *o = &p->origins[origin];
	const struct hs_root *r = origin_root(g, o);
	struct hs_strbuf name = {0};

	hs_json_begin_object(j, "origin");
	hs_json_string(j, "kind", hs_origin_kind_name((enum hs_origin_kind)o->kind));
	hs_origin_text(g, p, origin, &name);
	hs_json_string(j, "name", hs_strbuf_str(&name));
	if (r && r->kind == HS_ROOT_THREAD && r->detail < g->thread_count) {
		const struct hs_thread *t = &g->threads[r->detail];
		char fn[128];

		hs_json_uint(j, "thread_id", t->thread_id);
		hs_json_uint(j, "native_id", t->native_id);
		if (t->name)
			hs_json_string(j, "thread_name", t->name);
		else
			hs_json_null(j, "thread_name");
		if (r->frame != HS_NO_OBJECT)
			hs_json_string(j, "function", hs_frame_function(g, r->frame, fn, sizeof(fn)));
	}
	hs_json_end_object(j);
	hs_strbuf_release(&name);
}

void origin_summary(const struct hs_graph *g, const struct hs_paths *p, uint32_t origin,
		    struct hs_strbuf *out)
{
	const struct hs_origin *o = &p->origins[origin];
	const struct hs_root *r = origin_root(g, o);

	switch ((enum hs_origin_kind)o->kind) {
	case HS_ORIGIN_MODULE:
		hs_strbuf_addf(out, "module ");
		hs_origin_text(g, p, origin, out);
		break;
	case HS_ORIGIN_FRAME:
	case HS_ORIGIN_THREAD:
		if (r && r->detail < g->thread_count)
			hs_strbuf_addf(out, "thread %llu",
				       (unsigned long long)(g->threads[r->detail].native_id
								    ? g->threads[r->detail].native_id
								    : g->threads[r->detail].thread_id));
		else
			hs_strbuf_addf(out, "thread");
		break;
	case HS_ORIGIN_INTERP:
		hs_strbuf_addf(out, "interpreter");
		break;
	case HS_ORIGIN_GC_ONLY:
		hs_strbuf_addf(out, "gc-only: nothing seen refers to it");
		break;
	case HS_ORIGIN_EXTERNAL:
		hs_strbuf_addf(out, "external: held from outside the objects seen");
		break;
	case HS_ORIGIN_GARBAGE:
		hs_strbuf_addf(out, "garbage: unreachable");
		break;
	}
}

void dot_begin(FILE *out, const char *title)
{
	fprintf(out, "digraph heapscope {\n  label=\"");
	for (const char *c = title; *c; c++)
		fprintf(out, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
	fprintf(out, "\";\n  labelloc=t;\n  node [shape=box, fontname=\"monospace\"];\n"
		     "  edge [fontname=\"monospace\"];\n");
}

static void dot_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

void dot_chain(FILE *out, const struct hs_graph *g, const struct chain *c, const char *start,
	       int id)
{
	struct hs_strbuf text = {0};
	char prev[32] = "";

	if (start) {
		snprintf(prev, sizeof(prev), "origin%d", id);
		fprintf(out, "  %s [shape=ellipse, label=", prev);
		dot_string(out, start);
		fprintf(out, "];\n");
	}
	for (size_t k = 0; k < c->len; k++) {
		uint32_t obj = c->objs[k];

		if (c->len > 2 * CHAIN_SHOWN + 1 && k == CHAIN_SHOWN) {
			/* a long chain: its middle as one node */
			fprintf(out, "  skip%d [shape=plaintext, label=\"... %zu more ...\"];\n",
				id, c->len - 2 * CHAIN_SHOWN);
			fprintf(out, "  %s -> skip%d [style=dashed];\n", prev, id);
			snprintf(prev, sizeof(prev), "skip%d", id);
			k = c->len - CHAIN_SHOWN - 1;
			continue;
		}
		hs_strbuf_reset(&text);
		hs_strbuf_addf(&text, "%s\n0x%llx", g->types[g->type[obj]].name,
			       (unsigned long long)g->addr[obj]);
		fprintf(out, "  o%u [label=", obj);
		dot_string(out, hs_strbuf_str(&text));
		fprintf(out, "];\n");
		if (prev[0]) {
			fprintf(out, "  %s -> o%u", prev, obj);
			if (c->edges[k] != HS_LABEL_NONE) {
				hs_strbuf_reset(&text);
				hs_edge_text(g, (struct hs_hop){c->edges[k], false}, &text);
				fprintf(out, " [label=");
				dot_string(out, hs_strbuf_str(&text));
				fprintf(out, "]");
			}
			fprintf(out, ";\n");
		}
		snprintf(prev, sizeof(prev), "o%u", obj);
	}
	hs_strbuf_release(&text);
}

void dot_end(FILE *out)
{
	fprintf(out, "}\n");
}
