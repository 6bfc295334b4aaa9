#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "heapscope/error.h"
#include "heapscope/log.h"
#include "heapscope/procfs.h"
#include "heapscope/walk.h"

static volatile sig_atomic_t interrupted;

static void on_stop_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

bool cli_interrupted(void)
{
	return interrupted;
}

/* SIGINT/SIGTERM only set a flag: the capture keeps them blocked while the
 * target is held, and we stop at the next check once it runs again. */
static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int parse_pid(const char *s, int *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 0x3fffffff)
		return hs_error(HS_EUSAGE, "'%s' is not a PID", s);
	*pid = (int)v;
	return 0;
}

int session_open(const struct cli_opts *opts, struct session *s)
{
	struct hs_capture_opts copts = {
		.max_bytes = opts->max_capture,
		.stop_timeout_ms = 3000,
	};
	struct hs_maps maps = {0};
	struct hs_memsrc *live;
	double t0 = hs_now_ms(), t1;
	int err;

	memset(s, 0, sizeof(*s));
	s->analysis_ms = -1;
	hs_graph_init(&s->graph);
	install_handlers();
	hs_log_set_level(opts->verbose > 0 ? opts->verbose : getenv("HEAPSCOPE_TRACE") ? HS_LOG_DEBUG : HS_LOG_WARN);
	if ((err = parse_pid(opts->target, &s->pid)) < 0 ||
	    (err = hs_procfs_check_access(s->pid)) < 0)
		return err;
	if (s->pid == getpid())
		return hs_error(HS_EUSAGE, "heapscope cannot inspect itself");
	/* everything that needs no pause happens before it */
	if ((err = hs_maps_read(s->pid, &maps)) < 0)
		return err;
	/* the layout checks read constant data and code of the running process */
	if (!(live = hs_live_memsrc_new(s->pid))) {
		hs_maps_release(&maps);
		return hs_error(HS_ENOMEM, "out of memory");
	}
	err = hs_python_resolve(s->pid, &maps, live,
				&(struct hs_resolve_opts){opts->layout_source, opts->layout_table},
				&s->py);
	hs_memsrc_free(live);
	hs_maps_release(&maps);
	if (err < 0)
		return err;
	if ((err = hs_capture_process(s->pid, &copts, &s->cap)) < 0)
		return err;
	if (interrupted)
		return hs_error(HS_EINTR, "interrupted; PID %d was released unchanged", s->pid);
	t1 = hs_now_ms();
	err = hs_walk(hs_capture_memsrc(&s->cap), &s->py, NULL, &s->graph);
	s->walk_ms = hs_now_ms() - t1;
	s->total_ms = hs_now_ms() - t0;
	s->analysis_t0 = hs_now_ms();
	if (!err && interrupted)
		err = hs_error(HS_EINTR, "interrupted");
	return err;
}

void session_analysis_done(struct session *s)
{
	s->analysis_ms = hs_now_ms() - s->analysis_t0;
}

void session_close(struct session *s)
{
	hs_graph_release(&s->graph);
	hs_capture_release(&s->cap);
}

int session_exit_code(const struct session *s)
{
	if (hs_skips_total(&s->graph.skips) || s->graph.gc_collecting ||
	    s->cap.regions_short)
		return EXIT_INCOMPLETE;
	return EXIT_COMPLETE;
}

int cli_fail(int err)
{
	fprintf(stderr, "heapscope: %s\n", hs_errmsg());
	return err == HS_EUSAGE ? EXIT_USAGE : EXIT_FATAL;
}
