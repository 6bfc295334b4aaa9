#include <stdio.h>
#include <string.h>

#include "cli.h"

#define COMMON_OPTIONS                                                            \
	{"json", 0, NULL, "print one JSON document (see README for the fields)"},  \
	{"layout-source", 0, "SRC", "auto, debug-offsets, dwarf or table (default auto)"}, \
	{"layout-table", 0, "FILE", "use this layout table (python-layouts/ format) instead of the shipped ones; it is checked like them"}, \
	{"max-capture", 0, "MiB", "refuse targets with more writable memory than this"}, \
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

static const struct command commands[] = {
	{"summary", "heapscope summary PID [--by PART] [--top N | --all] [--json]",
	 "Pause the Python process PID briefly, copy its memory, and print its heap\n"
	 "partitioned by type, as Heapy's hpy().heap() does: count and size\n"
	 "(sys.getsizeof) per kind, largest first.  --by chooses another of Heapy's\n"
	 "partitions: clodo (a __dict__ is 'dict of <its owner's class>'), size\n"
	 "(individual size), module (of the type), rcs (the kinds of the\n"
	 "referrers) or generation (the GC generation).",
	 NULL, NULL, summary_options, cmd_summary},
	{"referrers", "heapscope referrers PID (--type KIND | --addr ADDR) [--paths N] [--max-depth D] [--json | --dot]",
	 "Why objects are alive: the shortest chains of references from a root (a\n"
	 "module, a thread's frame, the interpreter) to them, written as Python\n"
	 "(app.registry.REGISTRY['sessions'][*]).  With --type, the objects of a kind\n"
	 "are grouped by path shape: indices and keys that vary become [*].  Paths\n"
	 "that start at <gc-only>, <external> or <garbage> begin at an object no root\n"
	 "reaches (see README).",
	 NULL, "heapscope referrers 4242 --type app.models.Session", referrers_options,
	 cmd_referrers},
	{"show", "heapscope show PID ADDR [--top N | --all] [--json]",
	 "One object: its kind, size, refcount and GC generation, a short value\n"
	 "(str, bytes, int, float: the first 40 characters; containers: the\n"
	 "length), its shortest path from a root, and the objects it refers to\n"
	 "and that refer to it, each with the name of the reference.",
	 "ADDR", "heapscope show 4242 0x7f3a12345678", show_options, cmd_show},
	{"cycles", "heapscope cycles PID [--garbage] [--top N | --all] [--json | --dot]",
	 "Reference cycles: groups of objects that refer to each other (strongly\n"
	 "connected components, and objects referring to themselves), grouped by\n"
	 "shape (how many objects of each kind one cycle has), largest first, each\n"
	 "with an example written as a path back to its start.  An instance's\n"
	 "reference to its class is not followed.",
	 NULL, "heapscope cycles 4242 --garbage", cycles_options, cmd_cycles},
	{"info", "heapscope info PID [--json]",
	 "Show the interpreter of PID: version, where the struct layouts came from,\n"
	 "threads, GC generation counts, pause time and bytes read.",
	 NULL, NULL, info_options, cmd_info},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
	fprintf(out, "usage: heapscope <command> PID [options]\n\n"
		     "Inspect the heap of a running CPython process from outside.\n"
		     "The process is paused only while its memory is copied; heapscope\n"
		     "never writes to it.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].synopsis);
	fprintf(out, "\nRun 'heapscope <command> --help' for a command's options.\n"
		     "Exit status: 0 complete, 1 incomplete, 2 fatal error, 64 bad usage.\n");
}

int main(int argc, char **argv)
{
	struct cli_opts opts = {.top = 10, .paths = 10};
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
