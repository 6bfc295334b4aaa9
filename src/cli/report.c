/* Pieces of output shared by the commands. */
#include <stdio.h>

#include "cli.h"
#include "heapscope/json.h"
#include "report.h"

void report_target_json(struct hs_json *j, const struct session *s)
{
	hs_json_begin_object(j, "target");
	hs_json_int(j, "pid", s->info.pid);
	hs_json_string(j, "python", s->info.python);
	hs_json_string(j, "layout_source", s->info.layout_source);
	hs_json_uint(j, "threads", s->graph.thread_count);
	hs_json_uint(j, "os_threads", s->info.os_threads);
	hs_json_string(j, "binary", s->info.binary);
	hs_json_end_object(j);
	hs_json_begin_object(j, "capture");
	hs_json_string(j, "origin", hs_capture_origin_name(s->info.origin));
	hs_json_int(j, "taken_at", s->info.taken_at);
	hs_json_double(j, "paused_ms", s->info.paused_ms);
	hs_json_uint(j, "bytes_read", s->info.bytes_read);
	hs_json_double(j, "walk_ms", s->info.walk_ms);
	hs_json_double(j, "total_ms", s->info.total_ms);
	if (s->analysis_ms >= 0)
		hs_json_double(j, "analysis_ms", s->analysis_ms);
	hs_json_uint(j, "signals_passed", s->info.signals_passed);
	hs_json_uint(j, "guard_pages", s->info.guard_pages);
	hs_json_end_object(j);
}

void report_skips_json(struct hs_json *j, const struct session *s)
{
	const struct hs_skips *k = &s->graph.skips;

	hs_json_begin_object(j, "skipped");
	hs_json_uint(j, "objects", hs_skips_total(k));
#define HS_SKIP_JSON(name, text) hs_json_uint(j, #name, k->name);
	HS_SKIP_REASONS(HS_SKIP_JSON)
#undef HS_SKIP_JSON
	hs_json_end_object(j);
	hs_json_bool(j, "complete", session_exit_code(s) == EXIT_COMPLETE);
	hs_json_bool(j, "gc_collecting", s->graph.gc_collecting);
}

void report_skips_text(const struct session *s)
{
	const struct hs_skips *k = &s->graph.skips;

	if (s->graph.gc_collecting)
		fprintf(stderr, "heapscope: warning: the target was inside a garbage "
				"collection; objects may be missing\n");
	if (s->info.regions_short)
		fprintf(stderr, "heapscope: warning: %u mappings could be read only in part\n",
			s->info.regions_short);
	if (!hs_skips_total(k))
		return;
	fprintf(stderr, "heapscope: warning: incomplete result:");
#define HS_SKIP_TEXT(name, text)                                     \
	if (k->name)                                                  \
		fprintf(stderr, " %llu %s;", (unsigned long long)k->name, text);
	HS_SKIP_REASONS(HS_SKIP_TEXT)
#undef HS_SKIP_TEXT
	fprintf(stderr, "\n");
}
