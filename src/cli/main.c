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
	COMMON_OPTIONS,
	{0},
};

static const struct option_spec info_options[] = {
	COMMON_OPTIONS,
	{0},
};

static const struct command commands[] = {
	{"summary", "heapscope summary PID [--top N | --all] [--json]",
	 "Pause the Python process PID briefly, copy its memory, and print its heap\n"
	 "partitioned by type, as Heapy's hpy().heap() does: count and size\n"
	 "(sys.getsizeof) per kind, largest first.",
	 NULL, NULL, summary_options, cmd_summary},
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
