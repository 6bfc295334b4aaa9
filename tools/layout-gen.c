/*
 * hs-layout-gen: write a python-layouts/ table from the DWARF of a CPython
 * build (the binary, its libpython, or its separate .debug file).
 *
 *   hs-layout-gen --python 3.14.10 --covers 3.14.5-3.14.99 \
 *       [--build release|debug] --origin "Debian sid python3.14 3.14.10-1" \
 *       FILE-WITH-DWARF > python-layouts/3.14.5-release.layout
 *
 * --python is the exact version FILE was built as (recorded in the origin
 * line); --covers the micro releases the table is meant for.
 */
#include "heapscope/dwarf.h"
#include "heapscope/error.h"
#include "heapscope/table.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: hs-layout-gen --python 3.N.M --covers 3.N.LO-3.N.HI "
			"[--build release|debug] --origin TEXT FILE\n");
	return 64;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"python", required_argument, NULL, 'p'},
		{"covers", required_argument, NULL, 'c'},
		{"build", required_argument, NULL, 'b'},
		{"origin", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *python = NULL, *origin = NULL, *build = "release";
	struct hs_table_info info = {0};
	struct hs_layout layout;
	int major, minor, micro, lo_minor, hi_minor, opt, fd, rc;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': python = optarg; break;
		case 'o': origin = optarg; break;
		case 'b': build = optarg; break;
		case 'c':
			if (sscanf(optarg, "3.%d.%d-3.%d.%d", &lo_minor, &info.micro_lo, &hi_minor,
				   &info.micro_hi) != 4 || lo_minor != hi_minor)
				return usage();
			break;
		default: return usage();
		}
	}
	if (optind != argc - 1 || !python || !origin || !info.micro_hi ||
	    sscanf(python, "%d.%d.%d", &major, &minor, &micro) != 3 || major != 3 ||
	    minor != lo_minor || (strcmp(build, "release") && strcmp(build, "debug")))
		return usage();
	info.minor = minor;
	info.debug_build = strcmp(build, "debug") == 0;
	snprintf(info.origin, sizeof(info.origin), "DWARF of Python %s, %s", python, origin);

	fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "hs-layout-gen: cannot open %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	hs_layout_init(&layout);
	rc = hs_dwarf_load_layout(fd, argv[optind], &layout);
	close(fd);
	if (rc == 0)
		rc = hs_layout_validate(&layout);
	if (rc == 0)
		rc = hs_table_write(stdout, &layout, &info);
	if (rc) {
		fprintf(stderr, "hs-layout-gen: %s\n", hs_errmsg());
		return 2;
	}
	return 0;
}
