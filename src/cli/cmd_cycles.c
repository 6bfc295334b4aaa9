/*
 * heapscope cycles: reference cycles (strongly connected components)
 * grouped by shape, optionally only those no root reaches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "heapscope/cycles.h"
#include "heapscope/error.h"
#include "heapscope/json.h"
#include "heapscope/paths.h"
#include "heapscope/referrers.h"
#include "pathout.h"
#include "report.h"

#define SHAPE_KINDS 6 /* kinds written out in a shape's text */

struct cycles_run {
	const struct cli_opts *opts;
	struct session s;
	struct hs_referrers refs;
	struct hs_paths paths;
	uint8_t *alive;
	struct hs_cycles cycles;
	size_t shown;
};

static void shape_text(const struct hs_graph *g, const struct hs_cycle_group *grp,
		       struct hs_strbuf *out)
{
	for (size_t k = 0; k < grp->kind_count; k++) {
		if (k == SHAPE_KINDS) {
			hs_strbuf_addf(out, " + ... (%zu kinds)", grp->kind_count);
			break;
		}
		hs_strbuf_addf(out, "%s%llu %s", k ? " + " : "",
			       (unsigned long long)grp->kinds[k].count, g->types[grp->kinds[k].type].name);
	}
}

/* The example cycle as a chain: the edge into each object, the first
 * reached again by the last hop. */
static int example_chain(const struct hs_cycle_group *grp, struct chain *c, struct hs_hop **hops)
{
	size_t n = grp->example_len;

	c->len = n;
	c->objs = malloc((n ? n : 1) * sizeof(*c->objs));
	c->edges = malloc((n ? n : 1) * sizeof(*c->edges));
	*hops = malloc((n ? n : 1) * sizeof(**hops));
	if (!c->objs || !c->edges || !*hops) {
		free(c->objs);
		free(c->edges);
		free(*hops);
		return hs_error(HS_ENOMEM, "a cycle of %zu objects", n);
	}
	for (size_t k = 0; k < n; k++) {
		c->objs[k] = grp->example[k].obj;
		c->edges[k] = grp->example[(k + n - 1) % n].label;
		(*hops)[k] = (struct hs_hop){grp->example[k].label, false};
	}
	return 0;
}

/* "app.Node 0x7f...children[0].parent" */
static void example_text(const struct hs_graph *g, const struct hs_cycle_group *grp,
			 const struct hs_hop *hops, struct hs_strbuf *out)
{
	uint32_t first = grp->example[0].obj;

	hs_strbuf_addf(out, "%s@0x%llx", g->types[g->type[first]].name,
		       (unsigned long long)g->addr[first]);
	hs_hops_text(g, hops, grp->example_len, out);
}

static void print_text(struct cycles_run *r)
{
	const struct hs_graph *g = &r->s.graph;
	const struct hs_cycles *c = &r->cycles;
	struct hs_strbuf text = {0};

	printf("%llu %scycles (%llu objects, %llu bytes) of %zu shapes:\n",
	       (unsigned long long)c->components, r->opts->garbage ? "unreachable " : "",
	       (unsigned long long)c->objects, (unsigned long long)c->size, c->count);
	printf(" Index  Cycles   Objects       Size  Shape (objects of each kind in one cycle)\n");
	for (size_t i = 0; i < r->shown; i++) {
		const struct hs_cycle_group *grp = &c->groups[i];
		struct chain chain;
		struct hs_hop *hops;

		hs_strbuf_reset(&text);
		shape_text(g, grp, &text);
		printf("%6zu %7llu %9llu %10llu  %s%s\n", i, (unsigned long long)grp->components,
		       (unsigned long long)grp->objects, (unsigned long long)grp->size,
		       hs_strbuf_str(&text), grp->finalizer ? "  [has __del__]" : "");
		if (example_chain(grp, &chain, &hops) < 0)
			continue;
		hs_strbuf_reset(&text);
		example_text(g, grp, hops, &text);
		printf("        e.g. %s -> back to the start\n", hs_strbuf_str(&text));
		free(chain.objs);
		free(chain.edges);
		free(hops);
	}
	if (r->shown < c->count)
		printf("<%zu more shapes. Use --top N or --all to see them.>\n", c->count - r->shown);
	hs_strbuf_release(&text);
}

static void print_json(struct cycles_run *r)
{
	const struct hs_graph *g = &r->s.graph;
	const struct hs_cycles *c = &r->cycles;
	struct hs_strbuf text = {0};
	struct hs_json j;

	hs_json_init(&j, stdout);
	hs_json_begin_object(&j, NULL);
	report_target_json(&j, &r->s);
	hs_json_bool(&j, "garbage_only", r->opts->garbage);
	hs_json_uint(&j, "components", c->components);
	hs_json_uint(&j, "objects", c->objects);
	hs_json_uint(&j, "size", c->size);
	hs_json_uint(&j, "shapes", c->count);
	hs_json_begin_array(&j, "cycles");
	for (size_t i = 0; i < r->shown; i++) {
		const struct hs_cycle_group *grp = &c->groups[i];
		struct chain chain;
		struct hs_hop *hops;

		hs_json_begin_object(&j, NULL);
		hs_json_begin_array(&j, "kinds");
		for (size_t k = 0; k < grp->kind_count; k++) {
			hs_json_begin_object(&j, NULL);
			hs_json_string(&j, "kind", g->types[grp->kinds[k].type].name);
			hs_json_uint(&j, "count", grp->kinds[k].count);
			hs_json_end_object(&j);
		}
		hs_json_end_array(&j);
		hs_json_uint(&j, "components", grp->components);
		hs_json_uint(&j, "objects", grp->objects);
		hs_json_uint(&j, "size", grp->size);
		hs_json_bool(&j, "finalizer", grp->finalizer);
		hs_json_begin_object(&j, "example");
		if (example_chain(grp, &chain, &hops) == 0) {
			hs_strbuf_reset(&text);
			example_text(g, grp, hops, &text);
			hs_json_string(&j, "path", hs_strbuf_str(&text));
			hs_json_uint(&j, "objects", grp->example_objects);
			chain_json(&j, "hops", g, &chain, false);
			free(chain.objs);
			free(chain.edges);
			free(hops);
		}
		hs_json_end_object(&j);
		hs_json_end_object(&j);
	}
	hs_json_end_array(&j);
	report_skips_json(&j, &r->s);
	hs_json_end_object(&j);
	hs_json_finish(&j);
	hs_strbuf_release(&text);
}

static void print_dot(struct cycles_run *r)
{
	const struct hs_graph *g = &r->s.graph;
	char title[64];

	snprintf(title, sizeof(title), "%scycles in PID %d", r->opts->garbage ? "unreachable " : "",
		 r->s.info.pid);
	dot_begin(stdout, title);
	for (size_t i = 0; i < r->shown; i++) {
		const struct hs_cycle_group *grp = &r->cycles.groups[i];
		struct chain chain;
		struct hs_hop *hops;

		if (example_chain(grp, &chain, &hops) < 0)
			continue;
		/* the chain, then the edge that closes it */
		chain.edges[0] = HS_LABEL_NONE;
		dot_chain(stdout, g, &chain, NULL, (int)i);
		if (chain.len <= 9) {
			struct hs_strbuf edge = {0};

			hs_edge_text(g, hops[chain.len - 1], &edge);
			printf("  o%u -> o%u [label=\"%s\"];\n", chain.objs[chain.len - 1],
			       chain.objs[0], hs_strbuf_str(&edge));
			hs_strbuf_release(&edge);
		}
		free(chain.objs);
		free(chain.edges);
		free(hops);
	}
	dot_end(stdout);
}

static void run_release(struct cycles_run *r)
{
	hs_cycles_release(&r->cycles);
	free(r->alive);
	hs_paths_release(&r->paths);
	hs_referrers_release(&r->refs);
	session_close(&r->s);
}

int cmd_cycles(const struct cli_opts *opts)
{
	struct cycles_run r = {.opts = opts};
	int err, code;

	if ((err = session_open(opts, &r.s)) < 0)
		goto fail;
	if (opts->garbage) {
		const struct hs_graph *g = &r.s.graph;

		if ((err = hs_referrers_build(g, &r.refs)) < 0 ||
		    (err = hs_paths_build(g, &r.refs, &r.paths)) < 0)
			goto fail;
		if (!(r.alive = malloc(g->count ? g->count : 1))) {
			err = hs_error(HS_ENOMEM, "marking live objects");
			goto fail;
		}
		for (uint32_t i = 0; i < g->count; i++)
			r.alive[i] = hs_paths_alive(&r.paths, i);
	}
	if ((err = hs_cycles_find(&r.s.graph, &(struct hs_cycles_opts){
					  .alive = r.alive, .garbage_only = opts->garbage},
				  &r.cycles)) < 0)
		goto fail;
	r.shown = opts->all || r.cycles.count < (size_t)opts->top ? r.cycles.count
								   : (size_t)opts->top;
	session_analysis_done(&r.s);
	if (opts->json)
		print_json(&r);
	else if (opts->dot)
		print_dot(&r);
	else
		print_text(&r);
	report_skips_text(&r.s);
	code = session_exit_code(&r.s);
	run_release(&r);
	return code;
fail:
	run_release(&r);
	return cli_fail(err);
}
