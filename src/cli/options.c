#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct option_spec *find_long(const struct command *cmd,
					   const char *name, size_t len)
{
	for (const struct option_spec *o = cmd->options; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static const struct option_spec *find_short(const struct command *cmd, char c)
{
	for (const struct option_spec *o = cmd->options; o->name; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

static int usage_error(const struct command *cmd, const char *fmt, const char *what)
{
	fprintf(stderr, "heapscope %s: ", cmd->name);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nusage: %s\nTry 'heapscope %s --help'.\n", cmd->synopsis, cmd->name);
	return EXIT_USAGE;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Apply one option with its argument (NULL for flags). */
static int apply(const struct command *cmd, const struct option_spec *o,
		 const char *arg, struct cli_opts *opts)
{
	long v;

	if (!strcmp(o->name, "help")) {
		cli_print_help(cmd);
		return -1;
	} else if (!strcmp(o->name, "json")) {
		opts->json = true;
	} else if (!strcmp(o->name, "all")) {
		opts->all = true;
	} else if (!strcmp(o->name, "verbose")) {
		opts->verbose++;
	} else if (!strcmp(o->name, "top")) {
		if (parse_long(arg, 1, 1000000000, &v) < 0)
			return usage_error(cmd, "--top needs a positive number, not '%s'", arg);
		opts->top = v;
	} else if (!strcmp(o->name, "paths")) {
		if (parse_long(arg, 1, 1000000000, &v) < 0)
			return usage_error(cmd, "--paths needs a positive number, not '%s'", arg);
		opts->paths = v;
	} else if (!strcmp(o->name, "max-depth")) {
		if (parse_long(arg, 1, 1000000000, &v) < 0)
			return usage_error(cmd, "--max-depth needs a positive number, not '%s'", arg);
		opts->max_depth = v;
	} else if (!strcmp(o->name, "type")) {
		if (!*arg)
			return usage_error(cmd, "--type needs a kind such as 'app.models.User'%s", "");
		opts->type = arg;
	} else if (!strcmp(o->name, "addr")) {
		if (cli_parse_addr(arg, &opts->addr) < 0)
			return usage_error(cmd, "--addr needs an address such as 0x7f3a12345678, not '%s'", arg);
	} else if (!strcmp(o->name, "garbage")) {
		opts->garbage = true;
	} else if (!strcmp(o->name, "dot")) {
		opts->dot = true;
	} else if (!strcmp(o->name, "by")) {
		static const char *const names[] = {
			[BY_TYPE] = "type", [BY_CLODO] = "clodo", [BY_SIZE] = "size",
			[BY_MODULE] = "module", [BY_RCS] = "rcs", [BY_GENERATION] = "generation",
		};
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(arg, names[i]))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return usage_error(cmd,
					   "--by must be type, clodo, size, module, rcs or generation, not '%s'",
					   arg);
		opts->by = (enum cli_partition)i;
	} else if (!strcmp(o->name, "output")) {
		if (!*arg)
			return usage_error(cmd, "--output needs a file name%s", "");
		opts->output = arg;
	} else if (!strcmp(o->name, "sysroot")) {
		opts->sysroot = arg;
	} else if (!strcmp(o->name, "interval")) {
		char *end;
		double d;

		errno = 0;
		d = strtod(arg, &end);
		if (errno || end == arg || *end || !(d >= 0.01 && d <= 86400))
			return usage_error(cmd, "--interval needs seconds between 0.01 and 86400, not '%s'",
					   arg);
		opts->interval = d;
	} else if (!strcmp(o->name, "count")) {
		if (parse_long(arg, 2, 1000000, &v) < 0)
			return usage_error(cmd, "--count needs a number of snapshots (2 or more), not '%s'",
					   arg);
		opts->count = v;
	} else if (!strcmp(o->name, "fail-on-growth")) {
		const char *eq = strrchr(arg, '=');

		struct growth_limit *lim = &opts->limits[opts->limit_count];

		if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(lim->kind) ||
		    parse_long(eq + 1, 0, 1L << 62, &v) < 0)
			return usage_error(cmd, "--fail-on-growth needs KIND=N or *=N, not '%s'", arg);
		if (opts->limit_count == sizeof(opts->limits) / sizeof(opts->limits[0]))
			return usage_error(cmd, "too many --fail-on-growth options%s", "");
		snprintf(lim->kind, sizeof(lim->kind), "%.*s", (int)(eq - arg), arg);
		lim->max = (uint64_t)v;
		opts->limit_count++;
	} else if (!strcmp(o->name, "max-capture")) {
		if (parse_long(arg, 1, 1L << 30, &v) < 0)
			return usage_error(cmd, "--max-capture needs a size in MiB, not '%s'", arg);
		opts->max_capture = (uint64_t)v << 20;
	} else if (!strcmp(o->name, "layout-table")) {
		opts->layout_table = arg;
	} else if (!strcmp(o->name, "layout-source")) {
		if (!strcmp(arg, "auto"))
			opts->layout_source = HS_SRC_NONE;
		else if (!strcmp(arg, "dwarf"))
			opts->layout_source = HS_SRC_DWARF;
		else if (!strcmp(arg, "debug-offsets"))
			opts->layout_source = HS_SRC_DEBUG_OFFSETS;
		else if (!strcmp(arg, "table"))
			opts->layout_source = HS_SRC_TABLE;
		else
			return usage_error(cmd,
					   "--layout-source must be auto, debug-offsets, dwarf or table, not '%s'",
					   arg);
	}
	return 0;
}

int cli_parse(const struct command *cmd, int argc, char **argv,
	      struct cli_opts *opts)
{
	int positional = 0, err;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *arg = NULL;
		const struct option_spec *o;

		if (a[0] != '-' || !a[1]) {
			if (positional == 0)
				opts->target = a;
			else if (positional == 1 && cmd->arg_name)
				opts->arg = a;
			else
				return usage_error(cmd, "unexpected argument '%s'", a);
			positional++;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			if (!(o = find_long(cmd, a + 2, len)))
				return usage_error(cmd, "unknown option '%s'", a);
			if (o->arg && eq)
				arg = eq + 1;
			else if (o->arg && i + 1 < argc)
				arg = argv[++i];
			else if (o->arg)
				return usage_error(cmd, "option '%s' needs an argument", a);
			else if (eq)
				return usage_error(cmd, "option '%s' takes no argument", a);
		} else {
			/* bundled flags such as -vv; only the last may take an argument */
			for (const char *c = a + 1; c[1]; c++) {
				if (!(o = find_short(cmd, *c)) || o->arg)
					return usage_error(cmd, "unknown option '%s'", a);
				if ((err = apply(cmd, o, NULL, opts)) != 0)
					return err;
			}
			if (!(o = find_short(cmd, a[strlen(a) - 1])))
				return usage_error(cmd, "unknown option '%s'", a);
			if (o->arg && i + 1 < argc)
				arg = argv[++i];
			else if (o->arg)
				return usage_error(cmd, "option '%s' needs an argument", a);
		}
		if ((err = apply(cmd, o, arg, opts)) != 0)
			return err;
	}
	if (!opts->target)
		return usage_error(cmd, "missing %s", cmd->target_name ? cmd->target_name : "PID");
	if (cmd->arg_name && !opts->arg)
		return usage_error(cmd, "missing %s", cmd->arg_name);
	return 0;
}

int cli_parse_addr(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-' || v == 0)
		return -1;
	*out = v;
	return 0;
}

void cli_print_help(const struct command *cmd)
{
	printf("usage: %s\n\n%s\n\nOptions:\n", cmd->synopsis, cmd->summary);
	for (const struct option_spec *o = cmd->options; o->name; o++) {
		char left[64];

		snprintf(left, sizeof(left), "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ",
			 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		printf("  %-30s %s\n", left, o->help);
	}
	if (cmd->example)
		printf("\nExample:\n  %s\n", cmd->example);
	else
		printf("\nExample:\n  heapscope %s 4242\n", cmd->name);
	printf("\n"
	       "Exit status: 0 complete, 1 result produced but incomplete (skipped objects\n"
	       "are reported), 2 fatal error (no such process, no permission, not Python,\n"
	       "unsupported version), 64 bad usage.\n");
}
