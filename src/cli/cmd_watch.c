/*
 * heapscope watch PID: capture every --interval seconds and print the kinds
 * that grew since the first capture and since the one before (objgraph's
 * show_growth, from outside); exit 3 when a --fail-on-growth limit is
 * passed.  Only per-kind counts are kept between captures, not graphs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "heapscope/error.h"
#include "heapscope/json.h"
#include "heapscope/summary.h"
#include "report.h"

#define EXIT_GREW 3

/* Objects per kind of one capture, sorted by kind. */
struct kind_count {
	char *kind;
	uint64_t count;
};

struct tally {
	struct kind_count *kinds;
	size_t count;
	uint64_t objects, bytes;
};

/* One line of the growth table. */
struct growth {
	const char *kind;
	uint64_t count;
	int64_t since_first, since_last;
};

static int cmp_kind(const void *a, const void *b)
{
	return strcmp(((const struct kind_count *)a)->kind, ((const struct kind_count *)b)->kind);
}

static void tally_release(struct tally *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->kinds[i].kind);
	free(t->kinds);
	memset(t, 0, sizeof(*t));
}

static int tally_of(const struct hs_graph *g, struct tally *out)
{
	struct hs_summary sum;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = hs_summary_by_type(g, &sum)) < 0)
		return err;
	out->kinds = calloc(sum.count ? sum.count : 1, sizeof(*out->kinds));
	for (size_t i = 0; out->kinds && i < sum.count; i++) {
		if (!(out->kinds[i].kind = strdup(sum.rows[i].kind)))
			break;
		out->kinds[i].count = sum.rows[i].count;
		out->count++;
	}
	out->objects = sum.total_count;
	out->bytes = sum.total_size;
	err = out->count == sum.count ? 0 : hs_error(HS_ENOMEM, "counting kinds");
	hs_summary_release(&sum);
	if (err < 0)
		tally_release(out);
	else if (out->count)
		qsort(out->kinds, out->count, sizeof(*out->kinds), cmp_kind);
	return err;
}

static uint64_t count_of(const struct tally *t, const char *kind)
{
	struct kind_count key = {(char *)kind, 0}, *hit;

	hit = t->count ? bsearch(&key, t->kinds, t->count, sizeof(key), cmp_kind) : NULL;
	return hit ? hit->count : 0;
}

static int cmp_growth(const void *a, const void *b)
{
	const struct growth *x = a, *y = b;

	if (x->since_first != y->since_first)
		return x->since_first > y->since_first ? -1 : 1;
	if (x->since_last != y->since_last)
		return x->since_last > y->since_last ? -1 : 1;
	return strcmp(x->kind, y->kind);
}

/* Kinds of `now` that grew since `first` or `last`, most since first first. */
static int growth_of(const struct tally *first, const struct tally *last,
		     const struct tally *now, struct growth **out, size_t *n)
{
	*n = 0;
	if (!(*out = malloc((now->count ? now->count : 1) * sizeof(**out))))
		return hs_error(HS_ENOMEM, "comparing captures");
	for (size_t i = 0; i < now->count; i++) {
		const struct kind_count *k = &now->kinds[i];
		int64_t f = (int64_t)(k->count - count_of(first, k->kind));
		int64_t l = (int64_t)(k->count - count_of(last, k->kind));

		if (f > 0 || l > 0)
			(*out)[(*n)++] = (struct growth){k->kind, k->count, f, l};
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_growth);
	return 0;
}

/* The first limit the growth since the first capture passes, or NULL. */
static const struct growth_limit *passed(const struct cli_opts *opts, const struct growth *g,
					 size_t n, const struct growth **which)
{
	for (unsigned l = 0; l < opts->limit_count; l++) {
		const struct growth_limit *lim = &opts->limits[l];
		bool any = !strcmp(lim->kind, "*");

		for (size_t i = 0; i < n; i++)
			if ((any || !strcmp(g[i].kind, lim->kind)) && g[i].since_first > 0 &&
			    (uint64_t)g[i].since_first > lim->max) {
				*which = &g[i];
				return lim;
			}
	}
	return NULL;
}

static void print_text(const struct cli_opts *opts, long index, const struct session *s,
		       const struct tally *first, const struct tally *now,
		       const struct growth *g, size_t n)
{
	size_t shown = opts->all || n < (size_t)opts->top ? n : (size_t)opts->top;
	char when[32];
	time_t t = (time_t)s->info.taken_at;
	struct tm tm;

	strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
	printf("[%ld/%ld] %s %s: %llu objects, %llu bytes", index + 1, opts->count, when, s->name,
	       (unsigned long long)now->objects, (unsigned long long)now->bytes);
	if (index == 0) {
		printf(" (pause %.1f ms)\n", s->info.paused_ms);
		return;
	}
	printf(", %+lld objects since the first\n",
	       (long long)(now->objects - first->objects));
	if (!n) {
		printf("  no kind grew\n");
		return;
	}
	printf("  %-50s %10s %12s %12s\n", "Kind", "Count", "since first", "since last");
	for (size_t i = 0; i < shown; i++)
		printf("  %-50s %10llu %+12lld %+12lld\n", g[i].kind, (unsigned long long)g[i].count,
		       (long long)g[i].since_first, (long long)g[i].since_last);
	if (shown < n)
		printf("  <%zu more kinds grew. Use --top N or --all to see them.>\n", n - shown);
}

static void print_json(long index, const struct session *s, const struct tally *now,
		       const struct growth *g, size_t n, const struct growth_limit *lim,
		       const struct growth *over)
{
	struct hs_json j;

	hs_json_init(&j, stdout);
	hs_json_begin_object(&j, NULL);
	hs_json_int(&j, "index", index + 1);
	report_target_json(&j, s);
	hs_json_uint(&j, "objects", now->objects);
	hs_json_uint(&j, "size", now->bytes);
	hs_json_begin_array(&j, "growth");
	for (size_t i = 0; i < n; i++) {
		hs_json_begin_object(&j, NULL);
		hs_json_string(&j, "kind", g[i].kind);
		hs_json_uint(&j, "count", g[i].count);
		hs_json_int(&j, "since_first", g[i].since_first);
		hs_json_int(&j, "since_last", g[i].since_last);
		hs_json_end_object(&j);
	}
	hs_json_end_array(&j);
	if (lim) {
		hs_json_begin_object(&j, "limit_passed");
		hs_json_string(&j, "kind", over->kind);
		hs_json_string(&j, "limit_kind", lim->kind);
		hs_json_uint(&j, "limit", lim->max);
		hs_json_int(&j, "grew", over->since_first);
		hs_json_end_object(&j);
	}
	report_skips_json(&j, s);
	hs_json_end_object(&j);
	hs_json_finish(&j);
	fflush(stdout);
}

/* Sleep, waking early for SIGINT/SIGTERM. */
static void pause_for(double seconds)
{
	struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};

	while (!cli_interrupted() && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cmd_watch(const struct cli_opts *opts)
{
	struct tally first = {0}, last = {0}, now = {0};
	int code = EXIT_COMPLETE, err = 0;

	if (strspn(opts->target, "0123456789") != strlen(opts->target)) {
		fprintf(stderr, "heapscope watch: '%s' is not a PID (a file does not change)\n"
				"Try 'heapscope watch --help'.\n", opts->target);
		return EXIT_USAGE;
	}
	for (long i = 0; i < opts->count && !err; i++) {
		const struct growth_limit *lim = NULL;
		const struct growth *over = NULL;
		struct growth *g = NULL;
		struct session s;
		size_t n = 0;

		if (i)
			pause_for(opts->interval);
		if (cli_interrupted())
			break;
		if ((err = session_open(opts, &s)) < 0 || (err = tally_of(&s.graph, &now)) < 0 ||
		    (i && (err = growth_of(&first, &last, &now, &g, &n)) < 0)) {
			session_close(&s);
			break;
		}
		session_analysis_done(&s);
		lim = passed(opts, g, n, &over);
		if (opts->json)
			print_json(i, &s, &now, g, n, lim, over);
		else
			print_text(opts, i, &s, &first, &now, g, n);
		fflush(stdout);
		report_skips_text(&s);
		if (session_exit_code(&s) != EXIT_COMPLETE)
			code = EXIT_INCOMPLETE;
		session_close(&s);
		if (lim) {
			fprintf(stderr, "heapscope: %s grew by %lld objects since the first capture "
					"(--fail-on-growth %s=%llu)\n",
				over->kind, (long long)over->since_first, lim->kind,
				(unsigned long long)lim->max);
			code = EXIT_GREW;
		}
		free(g);
		/* keep the first tally; the previous one is replaced */
		if (i == 0)
			first = now;
		else if (last.kinds != first.kinds)
			tally_release(&last);
		last = now;
		memset(&now, 0, sizeof(now));
		if (lim)
			break;
	}
	if (last.kinds != first.kinds)
		tally_release(&last);
	tally_release(&first);
	tally_release(&now);
	if (err < 0)
		return cli_fail(err);
	return code;
}
