/*
 * heapscope show: one object, its references both ways, and why it is
 * alive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "heapscope/error.h"
#include "heapscope/json.h"
#include "heapscope/paths.h"
#include "heapscope/referrers.h"
#include "heapscope/walk.h"
#include "pathout.h"
#include "report.h"

#define VALUE_MAX 128

struct shown {
	struct session s;
	struct hs_referrers refs;
	struct hs_paths paths;
	struct path_record path;
	uint32_t obj;
	char value[VALUE_MAX];
	int has_value;        /* session_object_text() */
	uint64_t length;          /* items of a container */
	bool is_container;
	size_t limit;             /* references listed each way */
};

static const char *generation_name(const struct hs_graph *g, uint32_t obj)
{
	static const char *const names[] = {"0", "1", "2", "permanent", "untracked"};

	return g->gen[obj] <= HS_GEN_UNTRACKED ? names[g->gen[obj]] : "?";
}

/* Items of a container: its list/tuple/dict/set edges. */
static void count_items(struct shown *sh)
{
	const struct hs_graph *g = &sh->s.graph;
	const struct hs_edge *e, *end;

	for (e = hs_graph_edges(g, sh->obj, &end); e < end; e++) {
		enum hs_edge_kind k = HS_EDGE_KIND(e->label);

		if (k == HS_EDGE_INDEX || k == HS_EDGE_VALUE || k == HS_EDGE_SET_ITEM ||
		    (k == HS_EDGE_ATTR && !strcmp(g->types[g->type[sh->obj]].name, "dict"))) {
			sh->length++;
			sh->is_container = true;
		}
	}
	if (!sh->is_container) {
		static const char *const kinds[] = {"list", "tuple", "dict", "set", "frozenset"};

		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (!strcmp(g->types[g->type[sh->obj]].name, kinds[i]))
				sh->is_container = true;
	}
}

static void edge_string(const struct hs_graph *g, uint32_t label, struct hs_strbuf *out)
{
	hs_strbuf_reset(out);
	hs_edge_text(g, (struct hs_hop){label, false}, out);
}

static void print_refs_text(const struct shown *sh, const char *title, const struct hs_edge *e,
			    const struct hs_edge *end, bool incoming)
{
	const struct hs_graph *g = &sh->s.graph;
	struct hs_strbuf edge = {0};
	size_t n = (size_t)(end - e), shown = 0;

	printf("  %s (%zu):\n", title, n);
	for (; e < end && shown < sh->limit; e++, shown++) {
		edge_string(g, e->label, &edge);
		printf("    %-32s ", hs_strbuf_str(&edge)[0] == ' ' ? hs_strbuf_str(&edge) + 1
							   : hs_strbuf_str(&edge));
		print_object_ref(stdout, g, e->dst);
		if (incoming && hs_paths_from_root(&sh->paths, e->dst) == false)
			printf("  (not reached from a root)");
		printf("\n");
	}
	if (shown < n)
		printf("    <%zu more. Use --top N or --all to see them.>\n", n - shown);
	hs_strbuf_release(&edge);
}

/* Roots that refer to the object directly. */
static void print_roots_text(const struct shown *sh, struct hs_strbuf *text)
{
	const struct hs_graph *g = &sh->s.graph;

	for (size_t i = 0; i < g->root_count; i++) {
		if (g->roots[i].obj != sh->obj)
			continue;
		hs_strbuf_reset(text);
		hs_root_text(g, (uint32_t)i, true, text);
		printf("  held by the root %s\n", hs_strbuf_str(text));
	}
}

static void print_text(const struct shown *sh)
{
	const struct hs_graph *g = &sh->s.graph;
	const struct hs_edge *e, *end;
	struct hs_strbuf text = {0}, where = {0};
	uint32_t rc = g->refcnt[sh->obj];

	print_object_ref(stdout, g, sh->obj);
	printf("\n  size %llu bytes, refcount ", (unsigned long long)g->size[sh->obj]);
	if (rc == HS_REFCNT_MAX)
		printf("immortal");
	else
		printf("%u", rc);
	printf(", generation %s\n", generation_name(g, sh->obj));
	if (sh->has_value > 0)
		printf("  value: %s\n", sh->value);
	else if (sh->has_value < 0)
		printf("  value: not kept in snapshots\n");
	if (sh->is_container)
		printf("  length: %llu\n", (unsigned long long)sh->length);
	hs_path_text(g, &sh->paths, sh->path.origin, sh->path.shape, sh->path.shape_len, &text);
	origin_summary(g, &sh->paths, sh->path.origin, &where);
	printf("  shortest path: %s   (%s, %zu hop%s)\n", hs_strbuf_str(&text),
	       hs_strbuf_str(&where), sh->path.shape_len, sh->path.shape_len == 1 ? "" : "s");
	print_roots_text(sh, &text);
	e = hs_graph_edges(g, sh->obj, &end);
	print_refs_text(sh, "refers to", e, end, false);
	e = hs_referrers_of(&sh->refs, sh->obj, &end);
	print_refs_text(sh, "referred to by", e, end, true);
	hs_strbuf_release(&text);
	hs_strbuf_release(&where);
}

static void refs_json(struct hs_json *j, const char *key, const struct shown *sh,
		      const struct hs_edge *e, const struct hs_edge *end)
{
	const struct hs_graph *g = &sh->s.graph;
	struct hs_strbuf edge = {0};
	size_t shown = 0;
	char addr[24];

	hs_json_begin_array(j, key);
	for (; e < end && shown < sh->limit; e++, shown++) {
		hs_json_begin_object(j, NULL);
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)g->addr[e->dst]);
		hs_json_string(j, "addr", addr);
		hs_json_string(j, "kind", g->types[g->type[e->dst]].name);
		edge_string(g, e->label, &edge);
		hs_json_string(j, "edge", hs_strbuf_str(&edge));
		hs_json_end_object(j);
	}
	hs_json_end_array(j);
	hs_strbuf_release(&edge);
}

static void print_json(const struct shown *sh)
{
	const struct hs_graph *g = &sh->s.graph;
	const struct hs_edge *e, *end;
	struct hs_strbuf text = {0};
	struct hs_json j;
	char addr[24];

	hs_json_init(&j, stdout);
	hs_json_begin_object(&j, NULL);
	report_target_json(&j, &sh->s);
	hs_json_begin_object(&j, "object");
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)g->addr[sh->obj]);
	hs_json_string(&j, "addr", addr);
	hs_json_string(&j, "kind", g->types[g->type[sh->obj]].name);
	hs_json_uint(&j, "size", g->size[sh->obj]);
	if (g->refcnt[sh->obj] == HS_REFCNT_MAX)
		hs_json_string(&j, "refcount", "immortal");
	else
		hs_json_uint(&j, "refcount", g->refcnt[sh->obj]);
	hs_json_string(&j, "generation", generation_name(g, sh->obj));
	if (sh->has_value > 0)
		hs_json_string(&j, "value", sh->value);
	if (sh->is_container)
		hs_json_uint(&j, "length", sh->length);
	hs_json_begin_object(&j, "path");
	hs_path_text(g, &sh->paths, sh->path.origin, sh->path.shape, sh->path.shape_len, &text);
	hs_json_string(&j, "path", hs_strbuf_str(&text));
	hs_json_uint(&j, "hops", sh->path.shape_len);
	origin_json(&j, g, &sh->paths, sh->path.origin);
	chain_json(&j, "example", g, &sh->path.example,
			   sh->path.example.len && sh->path.example.edges[0] != HS_LABEL_NONE);
	hs_json_end_object(&j);
	hs_json_begin_array(&j, "roots");
	for (size_t i = 0; i < g->root_count; i++) {
		if (g->roots[i].obj != sh->obj)
			continue;
		hs_strbuf_reset(&text);
		hs_root_text(g, (uint32_t)i, true, &text);
		hs_json_string(&j, NULL, hs_strbuf_str(&text));
	}
	hs_json_end_array(&j);
	e = hs_graph_edges(g, sh->obj, &end);
	hs_json_uint(&j, "referent_count", (uint64_t)(end - e));
	refs_json(&j, "referents", sh, e, end);
	e = hs_referrers_of(&sh->refs, sh->obj, &end);
	hs_json_uint(&j, "referrer_count", (uint64_t)(end - e));
	refs_json(&j, "referrers", sh, e, end);
	hs_json_end_object(&j);
	report_skips_json(&j, &sh->s);
	hs_json_end_object(&j);
	hs_json_finish(&j);
	hs_strbuf_release(&text);
}

static void shown_release(struct shown *sh)
{
	path_record_release(&sh->path);
	hs_paths_release(&sh->paths);
	hs_referrers_release(&sh->refs);
	session_close(&sh->s);
}

int cmd_show(const struct cli_opts *opts)
{
	struct shown sh = {.limit = opts->all ? SIZE_MAX : (size_t)opts->top};
	uint64_t addr;
	int err, code;

	if (cli_parse_addr(opts->arg, &addr) < 0) {
		fprintf(stderr, "heapscope show: '%s' is not an address such as 0x7f3a12345678\n",
			opts->arg);
		return EXIT_USAGE;
	}
	if ((err = session_open(opts, &sh.s)) < 0)
		goto fail;
	if ((sh.obj = hs_graph_find(&sh.s.graph, addr)) == HS_NO_OBJECT) {
		err = hs_error(HS_EFORMAT, "0x%llx is not the address of an object heapscope found "
				"(see 'heapscope summary')", (unsigned long long)addr);
		goto fail;
	}
	if ((err = hs_referrers_build(&sh.s.graph, &sh.refs)) < 0 ||
	    (err = hs_paths_build(&sh.s.graph, &sh.refs, &sh.paths)) < 0 ||
	    (err = path_record_of(&sh.paths, sh.obj, &sh.path)) < 0)
		goto fail;
	sh.has_value = session_object_text(&sh.s, sh.obj, sh.value, sizeof(sh.value));
	count_items(&sh);
	session_analysis_done(&sh.s);
	if (opts->json)
		print_json(&sh);
	else
		print_text(&sh);
	report_skips_text(&sh.s);
	code = session_exit_code(&sh.s);
	shown_release(&sh);
	return code;
fail:
	shown_release(&sh);
	return cli_fail(err);
}
