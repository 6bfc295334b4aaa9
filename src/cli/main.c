#include <stdio.h>
#include <string.h>

#include "cli.h"

#define COMMON_OPTIONS                                                            \
	{"json", 0, NULL, "print one JSON document (see README for the fields)"},  \
	{"layout-source", 0, "SRC", "auto, debug-offsets, dwarf or table (default auto)"}, \
	{"layout-table", 0, "FILE", "use this layout table (python-layouts/ format) instead of the shipped ones; it is checked like them"}, \
	{"max-capture", 0, "MiB", "refuse targets with more writable memory than this"}, \
	{"sysroot", 0, "DIR", "core files: look for the executable and libraries under DIR"}, \
	{"verbose", 'v', NULL, "more detail on stderr"},                            \
	{"help", 'h', NULL, "show this help"}

static const struct option_spec summary_options[] = {
	{"top", 0, "N", "show the N largest rows (default 10)"},
	{"all", 0, NULL, "show every row"},
	{"by", 0, "PART", "type (default), clodo, size, module, rcs or generation"},
	COMMON_OPTIONS,
	{0},
};

static const struct option_spec referrers_options[] = {
	{"type", 0, "KIND", "every object of this kind (as named by 'summary'), grouped by path"},
	{"addr", 0, "ADDR", "one object: its shortest path through each referrer"},
	{"paths", 0, "N", "show N paths (default 10)"},
	{"max-depth", 0, "D", "leave out objects more than D hops from their root"},
	{"dot", 0, NULL, "print a Graphviz graph of the example chains (dot -Tsvg)"},
	COMMON_OPTIONS,
	{0},
};

static const struct option_spec show_options[] = {
	{"top", 0, "N", "list N references each way (default 10)"},
	{"all", 0, NULL, "list every reference"},
	COMMON_OPTIONS,
	{0},
};

static const struct option_spec cycles_options[] = {
	{"garbage", 0, NULL, "only cycles no root reaches: what the next full collection frees"},
	{"top", 0, "N", "show the N largest shapes (default 10)"},
	{"all", 0, NULL, "show every shape"},
	{"dot", 0, NULL, "print a Graphviz graph of the example cycles (dot -Tsvg)"},
	COMMON_OPTIONS,
	{0},
};

static const struct option_spec info_options[] = {
	COMMON_OPTIONS,
	{0},
};

static const struct option_spec snapshot_options[] = {
	{"output", 'o', "FILE", "write the snapshot to FILE (required; replaced atomically, mode 0600)"},
	COMMON_OPTIONS,
	{0},
};

static const struct option_spec diff_options[] = {
	{"top", 0, "N", "show the N kinds that grew most (default 10)"},
	{"all", 0, NULL, "show every kind that changed"},
	{"paths", 0, "N", "path shapes of the new objects of each suspect kind (default 10)"},
	COMMON_OPTIONS,
	{0},
};

static const struct option_spec watch_options[] = {
	{"interval", 0, "SECONDS", "time between snapshots (default 60)"},
	{"count", 0, "N", "take N snapshots, then stop (default 2)"},
	{"fail-on-growth", 0, "KIND=N", "exit 3 if KIND grew by more than N objects since the first snapshot; '*=N' for any kind; repeatable"},
	{"top", 0, "N", "show the N kinds that grew most (default 10)"},
	COMMON_OPTIONS,
	{0},
};

/* Where a read command accepts a PID, it accepts these as well. */
#define SOURCES_HELP                                                                 \
	"\n\nPID may also be a snapshot file written by 'heapscope snapshot' or an ELF\n"  \
	"core file of a Python process (gcore, a crash); --sysroot DIR finds the\n"   \
	"core's executable and libraries under DIR."

static const struct command commands[] = {
	{
		.name = "summary",
		.synopsis = "heapscope summary PID|FILE [--by PART] [--top N | --all] [--json]",
		.summary = "Pause the Python process PID briefly, copy its memory, and print its heap\n"
			   "partitioned by type, as Heapy's hpy().heap() does: count and size\n"
			   "(sys.getsizeof) per kind, largest first.  --by chooses another of Heapy's\n"
			   "partitions: clodo (a __dict__ is 'dict of <its owner's class>'), size\n"
			   "(individual size), module (of the type), rcs (the kinds of the\n"
			   "referrers) or generation (the GC generation)." SOURCES_HELP,
		.options = summary_options,
		.run = cmd_summary,
	},
	{
		.name = "referrers",
		.synopsis = "heapscope referrers PID|FILE (--type KIND | --addr ADDR) [--paths N] [--max-depth D] [--json | --dot]",
		.summary = "Why objects are alive: the shortest chains of references from a root (a\n"
			   "module, a thread's frame, the interpreter) to them, written as Python\n"
			   "(app.registry.REGISTRY['sessions'][*]).  With --type, the objects of a kind\n"
			   "are grouped by path shape: indices and keys that vary become [*].  Paths\n"
			   "that start at <gc-only>, <external> or <garbage> begin at an object no root\n"
			   "reaches (see README)." SOURCES_HELP,
		.example = "heapscope referrers 4242 --type app.models.Session",
		.options = referrers_options,
		.run = cmd_referrers,
	},
	{
		.name = "show",
		.synopsis = "heapscope show PID|FILE ADDR [--top N | --all] [--json]",
		.summary = "One object: its kind, size, refcount and GC generation, a short value\n"
			   "(str, bytes, int, float: the first 40 characters; containers: the\n"
			   "length), its shortest path from a root, and the objects it refers to\n"
			   "and that refer to it, each with the name of the reference.  Snapshots\n"
			   "keep no object contents: from one, only values that serve as labels\n"
			   "(dict keys, attribute names) are shown." SOURCES_HELP,
		.arg_name = "ADDR",
		.example = "heapscope show 4242 0x7f3a12345678",
		.options = show_options,
		.run = cmd_show,
	},
	{
		.name = "cycles",
		.synopsis = "heapscope cycles PID|FILE [--garbage] [--top N | --all] [--json | --dot]",
		.summary = "Reference cycles: groups of objects that refer to each other (strongly\n"
			   "connected components, and objects referring to themselves), grouped by\n"
			   "shape (how many objects of each kind one cycle has), largest first, each\n"
			   "with an example written as a path back to its start.  An instance's\n"
			   "reference to its class is not followed." SOURCES_HELP,
		.example = "heapscope cycles 4242 --garbage",
		.options = cycles_options,
		.run = cmd_cycles,
	},
	{
		.name = "info",
		.synopsis = "heapscope info PID|FILE [--json]",
		.summary = "Show the interpreter of PID: version, where the struct layouts came from,\n"
			   "threads, GC generation counts, pause time and bytes read." SOURCES_HELP,
		.options = info_options,
		.run = cmd_info,
	},
	{
		.name = "snapshot",
		.synopsis = "heapscope snapshot PID|CORE -o FILE [--json]",
		.summary = "Capture the heap of PID (the same brief pause as 'summary') or read a\n"
			   "core file, and save the object graph to FILE: objects (address, kind,\n"
			   "size, generation, refcount), references with their names, roots,\n"
			   "threads and the capture's details.  No memory contents are saved beyond\n"
			   "the short texts of labels (dict keys, attribute and variable names).\n"
			   "Every command that reads a PID reads the file too, and 'diff' compares\n"
			   "two.  Format: docs/snapshot-format.md (zstd-compressed).",
		.example = "heapscope snapshot 4242 -o before.hss",
		.options = snapshot_options,
		.run = cmd_snapshot,
	},
	{
		.name = "diff",
		.synopsis = "heapscope diff OLD NEW [--top N | --all] [--paths N] [--json]",
		.summary = "What grew between two snapshots (or a snapshot and a PID or core): per\n"
			   "kind, the change in object count and size, largest growth first; then,\n"
			   "for the kinds that grew most, where the new objects (in NEW, not in OLD,\n"
			   "matched by address and kind) are held: their reference paths grouped by\n"
			   "shape, as 'referrers --type' writes them.",
		.target_name = "OLD",
		.arg_name = "NEW",
		.example = "heapscope diff before.hss after.hss",
		.options = diff_options,
		.run = cmd_diff,
	},
	{
		.name = "watch",
		.synopsis = "heapscope watch PID [--interval SECONDS] [--count N] [--fail-on-growth KIND=N]... [--json]",
		.summary = "Capture PID every SECONDS, N times, and print after each capture the\n"
			   "kinds that grew since the first and since the previous one (objgraph's\n"
			   "show_growth, from outside).  With --fail-on-growth, exit with status 3\n"
			   "when a kind grew by more than N objects since the first capture; watch\n"
			   "stops at the first capture that shows it.  --json prints one JSON\n"
			   "document per capture, one per line.",
		.example = "heapscope watch 4242 --interval 60 --count 10 --fail-on-growth 'app.Session=100'",
		.options = watch_options,
		.run = cmd_watch,
	},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
	fprintf(out, "usage: heapscope <command> PID|FILE [options]\n\n"
		     "Inspect the heap of a running CPython process from outside.\n"
		     "The process is paused only while its memory is copied; heapscope\n"
		     "never writes to it.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].synopsis);
	fprintf(out, "\nRun 'heapscope <command> --help' for a command's options.\n"
		     "Exit status: 0 complete, 1 incomplete, 2 fatal error, 3 growth over a\n"
		     "--fail-on-growth limit (watch), 64 bad usage.\n");
}

int main(int argc, char **argv)
{
	struct cli_opts opts = {.top = 10, .paths = 10, .interval = 60, .count = 2};
	int err;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		print_usage(stdout);
		return EXIT_COMPLETE;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		opts.command = commands[i].name;
		err = cli_parse(&commands[i], argc - 2, argv + 2, &opts);
		if (err < 0)
			return EXIT_COMPLETE; /* --help */
		if (err)
			return err;
		return commands[i].run(&opts);
	}
	fprintf(stderr, "heapscope: unknown command '%s'\n", argv[1]);
	print_usage(stderr);
	return EXIT_USAGE;
}
