#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "heapscope/error.h"
#include "heapscope/log.h"
#include "heapscope/procfs.h"
#include "heapscope/snapshot.h"
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

/* "4242" is a PID; anything else names a file. */
static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
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

/* What the capture information says of the interpreter. */
static void info_from_python(struct hs_capinfo *info, const struct hs_python *py)
{
	snprintf(info->python, sizeof(info->python), "%s", py->elf.version);
	info->py_minor = py->elf.minor;
	snprintf(info->version_from, sizeof(info->version_from), "%s", py->elf.version_from);
	snprintf(info->binary, sizeof(info->binary), "%s", py->elf.path);
	snprintf(info->build_id, sizeof(info->build_id), "%s", py->elf.build_id);
	snprintf(info->layout_source, sizeof(info->layout_source), "%s",
		 hs_layout_source_name(py->layout.source));
	snprintf(info->layout_detail, sizeof(info->layout_detail), "%s", py->layout.source_detail);
	snprintf(info->debug_offsets_note, sizeof(info->debug_offsets_note), "%s",
		 py->debug_offsets_note);
	info->debug_build = py->debug_build;
	info->layout_ms = py->resolve_ms;
	info->checks = py->checks;
}

static void info_from_capture(struct hs_capinfo *info, const struct hs_capture *cap)
{
	info->os_threads = cap->os_threads;
	info->paused_ms = cap->paused_ms;
	info->copy_ms = cap->copy_ms;
	info->bytes_read = cap->bytes_read;
	info->regions_short = cap->regions_short;
	info->guard_pages = cap->guard_pages;
	info->signals_passed = cap->signals_passed;
}

/* The interpreter and its layouts, then what the capture information
 * says of them. */
static int resolve(const struct cli_opts *opts, const struct hs_files *files,
		   const struct hs_maps *maps, struct hs_memsrc *mem, struct session *s,
		   struct hs_python *py)
{
	int err = hs_python_resolve(files, maps, mem,
				    &(struct hs_resolve_opts){opts->layout_source,
							      opts->layout_table},
				    py);

	if (!err)
		info_from_python(&s->info, py);
	return err;
}

/* The walk, timed; t0: when opening the target began. */
static int walk(struct hs_memsrc *mem, const struct hs_python *py, struct session *s, double t0)
{
	double t1 = hs_now_ms();
	int err = hs_walk(mem, py, NULL, &s->graph);

	s->info.walk_ms = hs_now_ms() - t1;
	s->info.total_ms = hs_now_ms() - t0;
	return err;
}

/* The last part of a path, for messages. */
static const char *file_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int open_pid(const struct cli_opts *opts, const char *target, struct session *s,
		    struct hs_python *py)
{
	struct hs_capture_opts copts = {
		.max_bytes = opts->max_capture,
		.stop_timeout_ms = 3000,
	};
	struct hs_maps maps = {0};
	struct hs_files files;
	struct hs_memsrc *live;
	double t0 = hs_now_ms();
	int pid = 0, err;

	if ((err = parse_pid(target, &pid)) < 0 || (err = hs_procfs_check_access(pid)) < 0)
		return err;
	if (pid == getpid())
		return hs_error(HS_EUSAGE, "heapscope cannot inspect itself");
	s->source = SOURCE_PID;
	s->info.origin = HS_ORIGIN_LIVE;
	s->info.pid = pid;
	snprintf(s->name, sizeof(s->name), "PID %d", pid);
	/* everything that needs no pause happens before it */
	if ((err = hs_maps_read(pid, &maps)) < 0)
		return err;
	/* the layout checks read constant data and code of the running process */
	if (!(live = hs_live_memsrc_new(pid))) {
		hs_maps_release(&maps);
		return hs_error(HS_ENOMEM, "out of memory");
	}
	hs_files_live(pid, &files);
	err = resolve(opts, &files, &maps, live, s, py);
	hs_memsrc_free(live);
	hs_maps_release(&maps);
	if (err < 0)
		return err;
	if ((err = hs_capture_process(pid, &copts, &s->cap)) < 0)
		return err;
	s->info.taken_at = (int64_t)time(NULL);
	info_from_capture(&s->info, &s->cap);
	if (interrupted)
		return hs_error(HS_EINTR, "interrupted; PID %d was released unchanged", pid);
	return walk(hs_capture_memsrc(&s->cap), py, s, t0);
}

/* The layouts of a snapshot were chosen when it was taken: --layout-*
 * and --sysroot do not apply to it (diff may mix it with a core file). */
static int open_snapshot(const char *path, struct session *s)
{
	s->source = SOURCE_SNAPSHOT;
	snprintf(s->name, sizeof(s->name), "snapshot %s", file_name(path));
	return hs_snapshot_read(path, 0, &s->graph, &s->info);
}

/* mtime: the core file's, i.e. when the process was dumped */
static int open_core(const struct cli_opts *opts, const char *path, time_t mtime,
		     struct session *s, struct hs_python *py)
{
	double t0 = hs_now_ms();
	int err;

	s->source = SOURCE_CORE;
	s->info.origin = HS_ORIGIN_CORE;
	s->info.taken_at = (int64_t)mtime;
	snprintf(s->name, sizeof(s->name), "core file %s", file_name(path));
	if ((err = hs_core_open(path, opts->sysroot, &s->core)) < 0)
		return err;
	s->info.pid = s->core.pid;
	s->info.os_threads = s->core.os_threads;
	s->info.bytes_read = s->core.bytes_in_core;
	s->info.regions_short = s->core.segments_truncated;
	if ((err = resolve(opts, &s->core.files, &s->core.maps, s->core.mem, s, py)) < 0)
		return err;
	return walk(s->core.mem, py, s, t0);
}

/* A PID, or a file whose first bytes say what it is. */
static int open_any(const struct cli_opts *opts, const char *target, struct session *s,
		    struct hs_python *py)
{
	unsigned char head[HS_CORE_PROBE_LEN]; /* more than a snapshot's magic */
	struct stat st;
	ssize_t n;
	int fd;

	if (opts->sysroot && is_pid(target))
		return hs_error(HS_EUSAGE, "--sysroot applies to core files, not to PID %s "
					   "(whose files are found through /proc/%s/root)", target, target);
	if (is_pid(target))
		return open_pid(opts, target, s, py);
	/* O_NONBLOCK: a FIFO must not hang us; only regular files are read */
	fd = open(target, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return hs_error(HS_EUSAGE, "'%s' is neither a PID nor an existing file", target);
		return hs_error(hs_error_from_errno(errno), "cannot open %s: %s", target,
				strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hs_error(HS_EFORMAT, "%s is not a regular file (a snapshot or a core file)",
				target);
	}
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0)
		return hs_error(HS_EIO, "cannot read %s: %s", target, strerror(errno));
	if (hs_snapshot_magic(head, (size_t)n))
		return open_snapshot(target, s);
	if (hs_core_probe_bytes(head, (size_t)n))
		return open_core(opts, target, st.st_mtime, s, py);
	return hs_error(HS_EFORMAT, "%s is neither a heapscope snapshot nor an ELF core file",
			target);
}

int session_open_target(const struct cli_opts *opts, const char *target, struct session *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->analysis_ms = -1;
	hs_graph_init(&s->graph);
	install_handlers();
	hs_log_set_level(opts->verbose > 0 ? opts->verbose : getenv("HEAPSCOPE_TRACE") ? HS_LOG_DEBUG : HS_LOG_WARN);
	if (!(s->py = calloc(1, sizeof(*s->py))))
		return hs_error(HS_ENOMEM, "out of memory");
	err = open_any(opts, target, s, s->py);
	if (s->source == SOURCE_SNAPSHOT) {
		free(s->py);
		s->py = NULL;
	}
	s->analysis_t0 = hs_now_ms();
	if (!err && interrupted)
		err = hs_error(HS_EINTR, "interrupted");
	return err;
}

int session_open(const struct cli_opts *opts, struct session *s)
{
	return session_open_target(opts, opts->target, s);
}

void session_analysis_done(struct session *s)
{
	s->analysis_ms = hs_now_ms() - s->analysis_t0;
}

void session_close(struct session *s)
{
	hs_graph_release(&s->graph);
	hs_capture_release(&s->cap);
	hs_core_release(&s->core);
	free(s->py);
	s->py = NULL;
}

int session_exit_code(const struct session *s)
{
	if (hs_skips_total(&s->graph.skips) || s->graph.gc_collecting ||
	    s->info.regions_short)
		return EXIT_INCOMPLETE;
	return EXIT_COMPLETE;
}

/* Kinds whose objects have a short value (hs_walk_object_text). */
static bool has_short_value(const char *kind)
{
	static const char *const kinds[] = {"str", "bytes", "int", "bool", "float", "tuple",
					    "NoneType"};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

int session_object_text(struct session *s, uint32_t obj, char *out, size_t max)
{
	const char *text;

	if (s->source == SOURCE_SNAPSHOT) {
		if ((text = hs_graph_text(&s->graph, obj))) {
			snprintf(out, max, "%s", text);
			return 1;
		}
		return has_short_value(s->graph.types[s->graph.type[obj]].name) ? -1 : 0;
	}
	return hs_walk_object_text(s->source == SOURCE_CORE ? s->core.mem
							     : hs_capture_memsrc(&s->cap),
				   s->py, &s->graph, obj, out, max);
}

int cli_fail(int err)
{
	fprintf(stderr, "heapscope: %s\n", hs_errmsg());
	return err == HS_EUSAGE ? EXIT_USAGE : EXIT_FATAL;
}
