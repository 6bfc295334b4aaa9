/* heapscope snapshot: capture and save the object graph. */
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "heapscope/json.h"
#include "heapscope/snapshot.h"
#include "report.h"

static void print_json(const struct session *s, const char *path, uint64_t bytes)
{
	struct hs_json j;

	hs_json_init(&j, stdout);
	hs_json_begin_object(&j, NULL);
	report_target_json(&j, s);
	hs_json_string(&j, "file", path);
	hs_json_uint(&j, "file_bytes", bytes);
	hs_json_uint(&j, "objects", s->graph.count);
	hs_json_uint(&j, "references", s->graph.edge_count);
	hs_json_uint(&j, "format_version", HS_SNAPSHOT_VERSION);
	report_skips_json(&j, s);
	hs_json_end_object(&j);
	hs_json_finish(&j);
}

int cmd_snapshot(const struct cli_opts *opts)
{
	struct session s;
	struct stat st;
	int err, code;

	if (!opts->output) {
		fprintf(stderr, "heapscope snapshot: missing -o FILE\n"
				"Try 'heapscope snapshot --help'.\n");
		return EXIT_USAGE;
	}
	if ((err = session_open(opts, &s)) < 0) {
		session_close(&s);
		return cli_fail(err);
	}
	if ((err = hs_snapshot_write(opts->output, &s.graph, &s.info)) < 0) {
		session_close(&s);
		return cli_fail(err);
	}
	session_analysis_done(&s);
	if (stat(opts->output, &st) < 0)
		st.st_size = 0;
	if (opts->json)
		print_json(&s, opts->output, (uint64_t)st.st_size);
	else
		printf("%s: %zu objects, %zu references of %s (Python %s), %lld bytes\n",
		       opts->output, s.graph.count, s.graph.edge_count, s.name, s.info.python,
		       (long long)st.st_size);
	report_skips_text(&s);
	code = session_exit_code(&s);
	session_close(&s);
	return code;
}
