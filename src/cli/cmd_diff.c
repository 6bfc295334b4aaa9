/*
 * heapscope diff OLD NEW: what grew between two captures, and where the
 * new objects of the kinds that grew most are held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "heapscope/diff.h"
#include "heapscope/json.h"
#include "heapscope/paths.h"
#include "heapscope/referrers.h"
#include "pathout.h"
#include "report.h"

#define MAX_SUSPECTS 3

/* A kind that grew, with the paths of its new objects. */
struct suspect {
	const struct hs_diff_row *row;
	struct path_record *records;
	size_t record_count, total_paths;
};

struct comparison {
	const struct cli_opts *opts;
	struct session old, new;
	struct hs_diff diff;
	struct hs_referrers refs;   /* of NEW */
	struct hs_paths paths;
	struct suspect suspects[MAX_SUSPECTS];
	size_t suspect_count;
};

static bool changed(const struct hs_diff_row *r)
{
	return r->old_count != r->new_count || r->old_size != r->new_size || r->added;
}

static size_t rows_shown(const struct comparison *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->diff.count; i++)
		if (changed(&c->diff.rows[i]))
			n++;
	return c->opts->all || n < (size_t)c->opts->top ? n : (size_t)c->opts->top;
}

/* The kinds that grew most, in growth order, and their new objects' paths. */
static int find_suspects(struct comparison *c)
{
	const struct hs_graph *g = &c->new.graph;
	int err = 0;

	for (size_t i = 0; i < c->diff.count && c->suspect_count < MAX_SUSPECTS && !err; i++) {
		const struct hs_diff_row *r = &c->diff.rows[i];
		struct suspect *s;
		uint32_t *objs;
		size_t n;

		if (hs_diff_count_change(r) <= 0)
			break;
		if (!r->added)
			continue;
		if (!c->paths.count &&
		    ((err = hs_referrers_build(g, &c->refs)) < 0 ||
		     (err = hs_paths_build(g, &c->refs, &c->paths)) < 0))
			return err;
		if ((err = hs_diff_added_of(&c->old.graph, g, r->kind, &objs, &n)) < 0)
			return err;
		s = &c->suspects[c->suspect_count++];
		s->row = r;
		err = path_records_by_shape(g, &c->paths, objs, n, (size_t)c->opts->paths, &s->records,
					    &s->record_count, &s->total_paths);
		free(objs);
	}
	return err;
}

static void print_text(const struct comparison *c)
{
	const struct hs_diff *d = &c->diff;
	const struct hs_graph *g = &c->new.graph;
	size_t shown = rows_shown(c), listed = 0;

	printf("From %s (%llu objects, %llu bytes) to %s (%llu objects, %llu bytes):\n"
	       "%+lld objects, %+lld bytes; %llu new objects, %llu gone.\n",
	       c->old.name, (unsigned long long)d->old_count, (unsigned long long)d->old_size,
	       c->new.name, (unsigned long long)d->new_count, (unsigned long long)d->new_size,
	       (long long)(d->new_count - d->old_count), (long long)(d->new_size - d->old_size),
	       (unsigned long long)d->added, (unsigned long long)d->removed);
	printf(" Index    Count      Size      New  Count now   Size now Kind (class / dict of class)\n");
	for (size_t i = 0; i < d->count && listed < shown; i++) {
		const struct hs_diff_row *r = &d->rows[i];

		if (!changed(r))
			continue;
		printf("%6zu %+8lld %+9lld %8llu %10llu %10llu %s\n", listed++,
		       (long long)hs_diff_count_change(r), (long long)hs_diff_size_change(r),
		       (unsigned long long)r->added, (unsigned long long)r->new_count,
		       (unsigned long long)r->new_size, r->kind);
	}
	if (!listed)
		printf("  (no kind changed)\n");
	for (size_t i = shown; i < d->count; i++)
		if (changed(&d->rows[i])) {
			printf("<more kinds changed. Use --top N or --all to see them.>\n");
			break;
		}
	if (c->suspect_count)
		printf("\nWhere the new objects of the kinds that grew most are held:\n");
	for (size_t k = 0; k < c->suspect_count; k++) {
		const struct suspect *s = &c->suspects[k];

		printf("%s: %llu new objects, %zu distinct path%s\n", s->row->kind,
		       (unsigned long long)s->row->added, s->total_paths,
		       s->total_paths == 1 ? "" : "s");
		for (size_t i = 0; i < s->record_count; i++)
			print_path_record(stdout, g, &c->paths, &s->records[i], false);
		if (s->record_count < s->total_paths)
			printf("  <%zu more paths. Use --paths N to see them.>\n",
			       s->total_paths - s->record_count);
	}
}

static void print_json(const struct comparison *c)
{
	const struct hs_diff *d = &c->diff;
	size_t shown = rows_shown(c), listed = 0;
	struct hs_json j;

	hs_json_init(&j, stdout);
	hs_json_begin_object(&j, NULL);
	hs_json_begin_object(&j, "old");
	report_target_json(&j, &c->old);
	hs_json_uint(&j, "objects", d->old_count);
	hs_json_uint(&j, "size", d->old_size);
	hs_json_end_object(&j);
	hs_json_begin_object(&j, "new");
	report_target_json(&j, &c->new);
	hs_json_uint(&j, "objects", d->new_count);
	hs_json_uint(&j, "size", d->new_size);
	hs_json_end_object(&j);
	hs_json_uint(&j, "added", d->added);
	hs_json_uint(&j, "removed", d->removed);
	hs_json_begin_array(&j, "rows");
	for (size_t i = 0; i < d->count && listed < shown; i++) {
		const struct hs_diff_row *r = &d->rows[i];

		if (!changed(r))
			continue;
		listed++;
		hs_json_begin_object(&j, NULL);
		hs_json_string(&j, "kind", r->kind);
		hs_json_int(&j, "count_change", hs_diff_count_change(r));
		hs_json_int(&j, "size_change", hs_diff_size_change(r));
		hs_json_uint(&j, "old_count", r->old_count);
		hs_json_uint(&j, "new_count", r->new_count);
		hs_json_uint(&j, "old_size", r->old_size);
		hs_json_uint(&j, "new_size", r->new_size);
		hs_json_uint(&j, "added", r->added);
		hs_json_uint(&j, "added_size", r->added_size);
		hs_json_end_object(&j);
	}
	hs_json_end_array(&j);
	hs_json_begin_array(&j, "suspects");
	for (size_t k = 0; k < c->suspect_count; k++) {
		const struct suspect *s = &c->suspects[k];

		hs_json_begin_object(&j, NULL);
		hs_json_string(&j, "kind", s->row->kind);
		hs_json_uint(&j, "added", s->row->added);
		hs_json_uint(&j, "paths_total", s->total_paths);
		hs_json_begin_array(&j, "paths");
		for (size_t i = 0; i < s->record_count; i++)
			path_record_json(&j, &c->new.graph, &c->paths, &s->records[i], false);
		hs_json_end_array(&j);
		hs_json_end_object(&j);
	}
	hs_json_end_array(&j);
	hs_json_bool(&j, "complete", session_exit_code(&c->old) == EXIT_COMPLETE &&
				      session_exit_code(&c->new) == EXIT_COMPLETE);
	hs_json_end_object(&j);
	hs_json_finish(&j);
}

static void comparison_release(struct comparison *c)
{
	for (size_t k = 0; k < c->suspect_count; k++)
		path_records_free(c->suspects[k].records, c->suspects[k].record_count);
	hs_paths_release(&c->paths);
	hs_referrers_release(&c->refs);
	hs_diff_release(&c->diff);
	session_close(&c->old);
	session_close(&c->new);
}

int cmd_diff(const struct cli_opts *opts)
{
	struct comparison c = {.opts = opts};
	int err, code;

	err = session_open_target(opts, opts->target, &c.old);
	if (err < 0)
		hs_graph_init(&c.new.graph); /* so that releasing it is safe */
	else
		err = session_open_target(opts, opts->arg, &c.new);
	if (err < 0 || (err = hs_diff_build(&c.old.graph, &c.new.graph, &c.diff)) < 0 ||
	    (err = find_suspects(&c)) < 0) {
		comparison_release(&c);
		return cli_fail(err);
	}
	session_analysis_done(&c.new);
	if (opts->json)
		print_json(&c);
	else
		print_text(&c);
	report_skips_text(&c.old);
	report_skips_text(&c.new);
	code = session_exit_code(&c.old) == EXIT_COMPLETE ? session_exit_code(&c.new)
							  : EXIT_INCOMPLETE;
	comparison_release(&c);
	return code;
}
