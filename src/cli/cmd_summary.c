#include <stdio.h>

#include "cli.h"
#include "heapscope/json.h"
#include "heapscope/summary.h"
#include "report.h"

/* cli_partition and hs_partition number the partitions alike */
_Static_assert((int)BY_TYPE == HS_PART_TYPE && (int)BY_CLODO == HS_PART_CLODO &&
	       (int)BY_SIZE == HS_PART_SIZE && (int)BY_MODULE == HS_PART_MODULE &&
	       (int)BY_RCS == HS_PART_RCS && (int)BY_GENERATION == HS_PART_GENERATION,
	       "partition numbers");

/* The last column's header, as Heapy names it. */
static const char *kind_header(enum cli_partition by)
{
	switch (by) {
	case BY_SIZE:
		return "Individual Size";
	case BY_MODULE:
		return "Module";
	case BY_RCS:
		return "Referrers by Kind (class / dict of class)";
	case BY_GENERATION:
		return "Generation";
	case BY_TYPE:
	case BY_CLODO:
		break;
	}
	return "Kind (class / dict of class)";
}

static unsigned percent(uint64_t part, uint64_t whole)
{
	return whole ? (unsigned)(part * 100 / whole) : 0;
}

/* Heapy's table: same header, columns and footer as hpy().heap() */
static void print_table(const struct hs_summary *sum, const struct cli_opts *opts)
{
	size_t shown = opts->all ? sum->count : (size_t)opts->top;
	uint64_t cumulative = 0;

	if (shown > sum->count)
		shown = sum->count;
	printf("Partition of a set of %llu objects. Total size = %llu bytes.\n",
	       (unsigned long long)sum->total_count, (unsigned long long)sum->total_size);
	printf(" Index  Count   %%     Size   %% Cumulative  %% %s\n", kind_header(opts->by));
	for (size_t i = 0; i < shown; i++) {
		const struct hs_summary_row *r = &sum->rows[i];

		cumulative += r->size;
		printf("%6zu %6llu %3u %8llu %3u %9llu %3u %s\n", i,
		       (unsigned long long)r->count, percent(r->count, sum->total_count),
		       (unsigned long long)r->size, percent(r->size, sum->total_size),
		       (unsigned long long)cumulative, percent(cumulative, sum->total_size),
		       r->kind);
	}
	if (shown < sum->count)
		printf("<%zu more rows. Use --top N or --all to see them.>\n", sum->count - shown);
}

static void print_json(const struct hs_summary *sum, const struct cli_opts *opts,
		       const struct session *s)
{
	struct hs_json j;

	hs_json_init(&j, stdout);
	hs_json_begin_object(&j, NULL);
	report_target_json(&j, s);
	hs_json_string(&j, "partition", hs_partition_name((enum hs_partition)opts->by));
	hs_json_begin_object(&j, "total");
	hs_json_uint(&j, "count", sum->total_count);
	hs_json_uint(&j, "size", sum->total_size);
	hs_json_end_object(&j);
	hs_json_begin_array(&j, "rows");
	for (size_t i = 0; i < sum->count; i++) {
		hs_json_begin_object(&j, NULL);
		hs_json_string(&j, "kind", sum->rows[i].kind);
		hs_json_uint(&j, "count", sum->rows[i].count);
		hs_json_uint(&j, "size", sum->rows[i].size);
		hs_json_end_object(&j);
	}
	hs_json_end_array(&j);
	report_skips_json(&j, s);
	hs_json_end_object(&j);
	hs_json_finish(&j);
}

int cmd_summary(const struct cli_opts *opts)
{
	struct session s;
	struct hs_summary sum;
	struct hs_partition_opts popts;
	int err, code;

	if ((err = session_open(opts, &s)) < 0) {
		session_close(&s);
		return cli_fail(err);
	}
	popts = (struct hs_partition_opts){.py_minor = s.info.py_minor};
	if ((err = hs_summary_partition(&s.graph, (enum hs_partition)opts->by, &popts, &sum)) < 0) {
		session_close(&s);
		return cli_fail(err);
	}
	session_analysis_done(&s);
	if (opts->json)
		print_json(&sum, opts, &s);
	else
		print_table(&sum, opts);
	report_skips_text(&s);
	code = session_exit_code(&s);
	hs_summary_release(&sum);
	session_close(&s);
	return code;
}
