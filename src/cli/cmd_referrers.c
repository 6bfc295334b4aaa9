/*
 * heapscope referrers: who keeps objects alive.  With --type, every
 * object of a kind grouped by the shape of its shortest path from a root;
 * with --addr, one object's shortest paths through each of its referrers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "heapscope/error.h"
#include "heapscope/json.h"
#include "heapscope/paths.h"
#include "heapscope/referrers.h"
#include "pathout.h"
#include "report.h"

struct query {
	const struct cli_opts *opts;
	struct session s;
	struct hs_referrers refs;
	struct hs_paths paths;
	uint64_t matched;        /* objects of the query */
	uint64_t reached;        /* of those, with a path within --max-depth */
	size_t total_paths;      /* distinct paths (shapes) */
	struct path_record *records;
	size_t record_count;
};

static bool within_depth(const struct query *q, uint32_t obj)
{
	return !q->opts->max_depth || q->paths.depth[obj] <= (uint64_t)q->opts->max_depth;
}

/* The error for a kind with no objects, naming kinds it may have meant
 * ("Session" for "app.models.Session"). */
static int no_such_kind(const struct hs_graph *g, const char *kind)
{
	struct hs_strbuf similar = {0};
	size_t n = 0, klen = strlen(kind);
	int err;

	for (size_t t = 0; t < g->type_count && n < 3; t++) {
		const char *name = g->types[t].name;
		size_t len = strlen(name);

		if (len > klen && name[len - klen - 1] == '.' && !strcmp(name + len - klen, kind) &&
		    !strstr(hs_strbuf_str(&similar), name)) {
			hs_strbuf_addf(&similar, "%s'%s'", n++ ? ", " : "", name);
		}
	}
	if (n)
		err = hs_error(HS_EFORMAT, "no objects of kind '%s'; did you mean %s?", kind,
			       hs_strbuf_str(&similar));
	else
		err = hs_error(HS_EFORMAT,
			       "no objects of kind '%s' (kinds are named as in 'heapscope summary')",
			       kind);
	hs_strbuf_release(&similar);
	return err;
}

/* --type: group the objects of the kind by path shape. */
static int by_type(struct query *q)
{
	const struct hs_graph *g = &q->s.graph;
	uint32_t *members = malloc((g->count ? g->count : 1) * sizeof(*members));
	size_t n = 0;
	int err;

	if (!members)
		return hs_error(HS_ENOMEM, "selecting objects");
	for (uint32_t i = 0; i < g->count; i++) {
		if (strcmp(g->types[g->type[i]].name, q->opts->type))
			continue;
		q->matched++;
		if (within_depth(q, i))
			members[n++] = i;
	}
	q->reached = n;
	if (!q->matched) {
		free(members);
		return no_such_kind(g, q->opts->type);
	}
	err = path_records_by_shape(g, &q->paths, members, n, (size_t)q->opts->paths, &q->records,
				    &q->record_count, &q->total_paths);
	free(members);
	return err;
}

/* The path through referrer `src` (edge `label`) to obj. */
static int path_through(struct query *q, uint32_t src, uint32_t label, uint32_t obj,
			struct path_record *r)
{
	int err = path_record_of(&q->paths, src, r);
	size_t n = r->example.len;
	uint32_t *objs, *edges;
	struct hs_hop *shape;

	if (err < 0)
		return err;
	objs = realloc(r->example.objs, (n + 1) * sizeof(*objs));
	if (objs)
		r->example.objs = objs;
	edges = objs ? realloc(r->example.edges, (n + 1) * sizeof(*edges)) : NULL;
	if (edges)
		r->example.edges = edges;
	shape = edges ? realloc(r->shape, (r->shape_len + 1) * sizeof(*shape)) : NULL;
	if (!shape)
		return hs_error(HS_ENOMEM, "a path");
	r->shape = shape;
	objs[n] = obj;
	edges[n] = label;
	r->example.len = n + 1;
	shape[r->shape_len++] = (struct hs_hop){label, false};
	return 0;
}

static const uint32_t *depth_of; /* for cmp_referrer_depth */

static int cmp_referrer_depth(const void *a, const void *b)
{
	const struct hs_edge *x = a, *y = b;

	if (depth_of[x->dst] != depth_of[y->dst])
		return depth_of[x->dst] < depth_of[y->dst] ? -1 : 1;
	if (x->dst != y->dst)
		return x->dst < y->dst ? -1 : 1;
	return x->label < y->label ? -1 : x->label > y->label;
}

/* --addr: the object's own shortest path, then one through each other
 * referrer, shortest first. */
static int by_addr(struct query *q)
{
	const struct hs_graph *g = &q->s.graph;
	uint32_t obj = hs_graph_find(g, q->opts->addr);
	const struct hs_edge *e, *end;
	struct hs_edge *via;
	size_t n = 0, cap;
	int err;

	if (obj == HS_NO_OBJECT)
		return hs_error(HS_EFORMAT, "0x%llx is not the address of an object heapscope found "
				"(see 'heapscope summary')", (unsigned long long)q->opts->addr);
	q->matched = 1;
	q->reached = within_depth(q, obj);
	e = hs_referrers_of(&q->refs, obj, &end);
	cap = (size_t)(end - e);
	if (!(via = malloc((cap ? cap : 1) * sizeof(*via))))
		return hs_error(HS_ENOMEM, "listing referrers");
	for (; e < end; e++)
		if (e->dst != q->paths.parent[obj] || e->label != q->paths.via[obj])
			via[n++] = *e;
	/* shortest first; referrers are in object order, kept on ties */
	depth_of = q->paths.depth;
	qsort(via, n, sizeof(*via), cmp_referrer_depth);
	q->total_paths = n + 1;
	q->record_count = n + 1 < (size_t)q->opts->paths ? n + 1 : (size_t)q->opts->paths;
	if (!(q->records = calloc(q->record_count, sizeof(*q->records)))) {
		free(via);
		return hs_error(HS_ENOMEM, "listing paths");
	}
	err = path_record_of(&q->paths, obj, &q->records[0]);
	for (size_t i = 1; i < q->record_count && !err; i++)
		err = path_through(q, via[i - 1].dst, via[i - 1].label, obj, &q->records[i]);
	free(via);
	return err;
}

static void path_string(const struct query *q, const struct path_record *r, bool concrete,
			struct hs_strbuf *out)
{
	path_record_text(&q->s.graph, &q->paths, r, concrete, out);
}

static void print_text(const struct query *q)
{
	const struct hs_graph *g = &q->s.graph;

	if (q->opts->type)
		printf("%llu of %llu %s objects", (unsigned long long)q->reached,
		       (unsigned long long)q->matched, q->opts->type);
	else
		printf("%s 0x%llx", g->types[g->type[hs_graph_find(g, q->opts->addr)]].name,
		       (unsigned long long)q->opts->addr);
	printf(", %zu distinct path%s (%s):\n", q->total_paths, q->total_paths == 1 ? "" : "s",
	       q->opts->type ? "most common first" : "shortest first");
	for (size_t i = 0; i < q->record_count; i++)
		print_path_record(stdout, g, &q->paths, &q->records[i], !q->opts->type);
	if (q->record_count < q->total_paths)
		printf("<%zu more paths. Use --paths N to see them.>\n",
		       q->total_paths - q->record_count);
	if (q->reached < q->matched)
		printf("%llu objects are more than %ld hops from any root (--max-depth).\n",
		       (unsigned long long)(q->matched - q->reached), q->opts->max_depth);
}

static void print_json(const struct query *q)
{
	const struct hs_graph *g = &q->s.graph;
	struct hs_json j;
	char addr[24];

	hs_json_init(&j, stdout);
	hs_json_begin_object(&j, NULL);
	report_target_json(&j, &q->s);
	hs_json_begin_object(&j, "query");
	if (q->opts->type) {
		hs_json_string(&j, "type", q->opts->type);
	} else {
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)q->opts->addr);
		hs_json_string(&j, "addr", addr);
	}
	if (q->opts->max_depth)
		hs_json_int(&j, "max_depth", q->opts->max_depth);
	hs_json_end_object(&j);
	hs_json_uint(&j, "objects", q->matched);
	hs_json_uint(&j, "reached", q->reached);
	hs_json_uint(&j, "paths_total", q->total_paths);
	hs_json_begin_array(&j, "paths");
	for (size_t i = 0; i < q->record_count; i++)
		path_record_json(&j, g, &q->paths, &q->records[i], !q->opts->type);
	hs_json_end_array(&j);
	report_skips_json(&j, &q->s);
	hs_json_end_object(&j);
	hs_json_finish(&j);
}

static void print_dot(const struct query *q)
{
	struct hs_strbuf title = {0}, text = {0};

	hs_strbuf_addf(&title, "referrers of %s in PID %d", q->opts->type ? q->opts->type : "object",
		       q->s.info.pid);
	dot_begin(stdout, hs_strbuf_str(&title));
	for (size_t i = 0; i < q->record_count; i++) {
		hs_strbuf_reset(&text);
		hs_strbuf_addf(&text, "%llu x ", (unsigned long long)q->records[i].count);
		path_string(q, &q->records[i], !q->opts->type, &text);
		dot_chain(stdout, &q->s.graph, &q->records[i].example, hs_strbuf_str(&text), (int)i);
	}
	dot_end(stdout);
	hs_strbuf_release(&title);
	hs_strbuf_release(&text);
}

static void query_release(struct query *q)
{
	path_records_free(q->records, q->record_count);
	hs_paths_release(&q->paths);
	hs_referrers_release(&q->refs);
	session_close(&q->s);
}

int cmd_referrers(const struct cli_opts *opts)
{
	struct query q = {.opts = opts};
	int err, code;

	if (!opts->type == !opts->addr) {
		fprintf(stderr, "heapscope referrers: give one of --type KIND or --addr ADDR\n"
				"Try 'heapscope referrers --help'.\n");
		return EXIT_USAGE;
	}
	if ((err = session_open(opts, &q.s)) < 0 ||
	    (err = hs_referrers_build(&q.s.graph, &q.refs)) < 0 ||
	    (err = hs_paths_build(&q.s.graph, &q.refs, &q.paths)) < 0 ||
	    (err = opts->type ? by_type(&q) : by_addr(&q)) < 0) {
		query_release(&q);
		return cli_fail(err);
	}
	session_analysis_done(&q.s);
	if (opts->json)
		print_json(&q);
	else if (opts->dot)
		print_dot(&q);
	else
		print_text(&q);
	report_skips_text(&q.s);
	code = session_exit_code(&q.s);
	query_release(&q);
	return code;
}
