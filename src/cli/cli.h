/*
 * The command line: options, the capture session, and the commands.
 * The only layer that prints errors and chooses exit codes.
 */
#ifndef HEAPSCOPE_CLI_H
#define HEAPSCOPE_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "heapscope/capinfo.h"
#include "heapscope/core.h"
#include "heapscope/graph.h"
#include "heapscope/resolve.h"
#include "heapscope/target.h"

enum {
	EXIT_COMPLETE = 0,
	EXIT_INCOMPLETE = 1,
	EXIT_FATAL = 2,
	EXIT_USAGE = 64,
};

/* summary --by */
enum cli_partition {
	BY_TYPE,
	BY_CLODO,
	BY_SIZE,
	BY_MODULE,
	BY_RCS,
	BY_GENERATION,
};

struct cli_opts {
	const char *command;
	const char *target;
	const char *arg;      /* the command's second argument (show's ADDR) */
	bool json;
	bool all;
	long top;
	enum cli_partition by;
	const char *type;     /* referrers --type KIND */
	uint64_t addr;        /* referrers --addr, show ADDR; 0 if not given */
	long paths;           /* referrers --paths N */
	long max_depth;       /* referrers --max-depth D; 0: no limit */
	bool garbage;         /* cycles --garbage */
	bool dot;             /* --dot: Graphviz instead of text */
	const char *output;   /* snapshot -o FILE */
	double interval;      /* watch --interval SECONDS */
	long count;           /* watch --count N */
	struct growth_limit {
		char kind[256];   /* "*" for any kind */
		uint64_t max;
	} limits[32];         /* watch --fail-on-growth KIND=N */
	unsigned limit_count;
	const char *sysroot;  /* --sysroot DIR for core files */
	enum hs_layout_source layout_source;
	const char *layout_table; /* --layout-table FILE, or NULL */
	uint64_t max_capture;
	int verbose;
};

struct option_spec {
	const char *name;  /* long name without "--" */
	char short_name;   /* 0 if none */
	const char *arg;   /* argument placeholder, NULL for a flag */
	const char *help;
};

struct command {
	const char *name;
	const char *synopsis;
	const char *summary;
	const char *target_name; /* the first positional argument, NULL: "PID" */
	const char *arg_name;  /* a second positional argument ("ADDR"), or NULL */
	const char *example;   /* a command line for --help, or NULL */
	const struct option_spec *options; /* terminated by a zeroed entry */
	int (*run)(const struct cli_opts *opts);
};

/* Parse argv for `cmd` into opts; returns 0, EXIT_USAGE after printing
 * a usage error, or -1 when --help was printed (exit 0). */
int cli_parse(const struct command *cmd, int argc, char **argv,
	      struct cli_opts *opts);
void cli_print_help(const struct command *cmd);

/* Where a session's graph comes from. */
enum session_source {
	SOURCE_PID,       /* a running process, captured now */
	SOURCE_SNAPSHOT,  /* a file written by 'heapscope snapshot' */
	SOURCE_CORE,      /* an ELF core file */
};

/* A walked graph and what is known about its capture. */
struct session {
	enum session_source source;
	char name[96];        /* for messages: "PID 42", "snapshot leak.hss" */
	struct hs_capinfo info;
	struct hs_graph graph;
	struct hs_capture cap; /* SOURCE_PID */
	struct hs_core core;   /* SOURCE_CORE */
	struct hs_python *py;  /* the interpreter; NULL for a snapshot */
	double analysis_t0;   /* when the command's analysis started */
	double analysis_ms;   /* how long it took (< 0: not measured) */
};

/* Open opts->target: a PID (attach, capture, detach, walk), a snapshot
 * or a core file.  Prints nothing; returns an hs_err. */
int session_open(const struct cli_opts *opts, struct session *s);
/* The same for another target (diff's second file). */
int session_open_target(const struct cli_opts *opts, const char *target,
			struct session *s);
void session_close(struct session *s);
/* Mark the end of a command's analysis (before printing). */
void session_analysis_done(struct session *s);
/* EXIT_COMPLETE or EXIT_INCOMPLETE */
int session_exit_code(const struct session *s);
/* The short value of an object (walk.h's hs_walk_object_text) read from
 * the captured memory; from a snapshot, which keeps no memory, only the
 * texts of labels are known.  1: `out` holds it, 0: the object has no
 * such value, -1: a snapshot does not say. */
int session_object_text(struct session *s, uint32_t obj, char *out, size_t max);

/* Print "heapscope: <message>" for an hs_err and return EXIT_FATAL. */
int cli_fail(int err);

/* Whether SIGINT/SIGTERM arrived. */
bool cli_interrupted(void);

/* "0x7f..." (or decimal) as an object address; -1 if not one */
int cli_parse_addr(const char *s, uint64_t *out);

int cmd_summary(const struct cli_opts *opts);
int cmd_info(const struct cli_opts *opts);
int cmd_referrers(const struct cli_opts *opts);
int cmd_show(const struct cli_opts *opts);
int cmd_cycles(const struct cli_opts *opts);
int cmd_snapshot(const struct cli_opts *opts);
int cmd_diff(const struct cli_opts *opts);
int cmd_watch(const struct cli_opts *opts);

#endif
