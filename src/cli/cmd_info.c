#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "heapscope/json.h"
#include "report.h"

static const char *const gen_names[] = {"0", "1", "2", "permanent"};

static void print_json(const struct session *s)
{
	struct hs_json j;

	hs_json_init(&j, stdout);
	hs_json_begin_object(&j, NULL);
	report_target_json(&j, s);
	hs_json_begin_object(&j, "interpreter");
	hs_json_string(&j, "version", s->info.python);
	hs_json_string(&j, "version_from", s->info.version_from);
	hs_json_string(&j, "binary", s->info.binary);
	hs_json_string(&j, "build_id", s->info.build_id);
	hs_json_string(&j, "layout_source", s->info.layout_source);
	hs_json_string(&j, "layout_detail", s->info.layout_detail);
	hs_json_double(&j, "layout_ms", s->info.layout_ms);
	hs_json_bool(&j, "debug_build", s->info.debug_build);
	if (s->info.debug_offsets_note[0])
		hs_json_string(&j, "debug_offsets_unused", s->info.debug_offsets_note);
	hs_json_begin_array(&j, "layout_checks");
	for (unsigned i = 0; i < s->info.checks.count; i++) {
		const struct hs_check *c = &s->info.checks.items[i];

		hs_json_begin_object(&j, NULL);
		hs_json_string(&j, "source", c->source);
		hs_json_string(&j, "states", c->what);
		hs_json_int(&j, "layout", c->expected);
		if (c->status != HS_CHECK_UNAVAILABLE)
			hs_json_int(&j, "binary", c->derived);
		hs_json_string(&j, "result", hs_check_status_name(c->status));
		hs_json_end_object(&j);
	}
	hs_json_end_array(&j);
	hs_json_end_object(&j);
	hs_json_begin_array(&j, "threads");
	for (size_t i = 0; i < s->graph.thread_count; i++) {
		hs_json_begin_object(&j, NULL);
		hs_json_uint(&j, "thread_id", s->graph.threads[i].thread_id);
		hs_json_uint(&j, "native_id", s->graph.threads[i].native_id);
		hs_json_uint(&j, "frames", s->graph.threads[i].frames);
		hs_json_end_object(&j);
	}
	hs_json_end_array(&j);
	hs_json_begin_object(&j, "gc");
	for (int g = 0; g < 4; g++)
		hs_json_uint(&j, gen_names[g], s->graph.gc_counts[g]);
	hs_json_end_object(&j);
	hs_json_uint(&j, "objects", s->graph.count);
	report_skips_json(&j, s);
	hs_json_end_object(&j);
	hs_json_finish(&j);
}

static void print_checks(const struct hs_check_list *list)
{
	printf("layout checks:  %u ok, %u corrected, %u unavailable, %u mismatched\n",
	       hs_checks_count(list, HS_CHECK_OK), hs_checks_count(list, HS_CHECK_CORRECTED),
	       hs_checks_count(list, HS_CHECK_UNAVAILABLE), hs_checks_count(list, HS_CHECK_MISMATCH));
	for (unsigned i = 0; i < list->count; i++) {
		const struct hs_check *c = &list->items[i];

		printf("  %-11s %-44s %-36s", hs_check_status_name(c->status), c->source, c->what);
		if (c->status == HS_CHECK_UNAVAILABLE)
			printf(" layout %lld\n", (long long)c->expected);
		else if (c->expected == c->derived)
			printf(" %lld\n", (long long)c->derived);
		else
			printf(" layout %lld, binary %lld\n", (long long)c->expected,
			       (long long)c->derived);
	}
	if (list->dropped)
		printf("  (%u more checks not listed)\n", list->dropped);
}

/* When and from what the graph was captured. */
static void print_taken(const struct hs_capinfo *info)
{
	time_t t = (time_t)info->taken_at;
	struct tm tm;
	char when[40];

	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)info->taken_at);
	printf("captured:       %s, from %s\n", when,
	       info->origin == HS_ORIGIN_CORE ? "a core file" : "the running process");
}

static void print_text(const struct session *s)
{
	printf("PID %d: Python %s (version from %s)\n", s->info.pid, s->info.python,
	       s->info.version_from);
	printf("binary:         %s%s%s\n", s->info.binary, s->info.build_id[0] ? "  build-id " : "",
	       s->info.build_id);
	printf("layouts:        %s (%s, %.1f ms)\n", s->info.layout_source,
	       s->info.layout_detail, s->info.layout_ms);
	if (s->info.debug_offsets_note[0])
		printf("                (_Py_DebugOffsets not used: %s)\n", s->info.debug_offsets_note);
	print_checks(&s->info.checks);
	printf("threads:        %zu Python, %zu OS\n", s->graph.thread_count, s->info.os_threads);
	for (size_t i = 0; i < s->graph.thread_count; i++)
		printf("  thread %llu (TID %llu): %u frames\n",
		       (unsigned long long)s->graph.threads[i].thread_id,
		       (unsigned long long)s->graph.threads[i].native_id, s->graph.threads[i].frames);
	printf("GC generations: 0: %llu  1: %llu  2: %llu  permanent: %llu objects\n",
	       (unsigned long long)s->graph.gc_counts[0], (unsigned long long)s->graph.gc_counts[1],
	       (unsigned long long)s->graph.gc_counts[2], (unsigned long long)s->graph.gc_counts[3]);
	printf("objects:        %zu (with untracked objects reached by reference)\n",
	       s->graph.count);
	print_taken(&s->info);
	printf("pause:          %.2f ms (copy %.2f ms), %llu bytes read\n", s->info.paused_ms,
	       s->info.copy_ms, (unsigned long long)s->info.bytes_read);
	printf("walk:           %.1f ms, total %.1f ms\n", s->info.walk_ms, s->info.total_ms);
}

int cmd_info(const struct cli_opts *opts)
{
	struct session s;
	int err, code;

	if ((err = session_open(opts, &s)) < 0) {
		session_close(&s);
		return cli_fail(err);
	}
	if (opts->json)
		print_json(&s);
	else
		print_text(&s);
	report_skips_text(&s);
	code = session_exit_code(&s);
	session_close(&s);
	return code;
}
