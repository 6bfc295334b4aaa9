/*
 * hs-layout-dump FILE: print the CPython struct layout resolved from the
 * DWARF of FILE, one field per line, then the struct sizes.  The time
 * taken goes to stderr.
 */
#include "heapscope/dwarf.h"
#include "heapscope/error.h"
#include "heapscope/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void print_layout(const struct hs_layout *layout)
{
	for (int f = 0; f < HS_F_COUNT; f++) {
		if (hs_has(layout, f))
			printf("%s\t%d\t%u\n", hs_field_names[f], layout->off[f], layout->fsize[f]);
		else
			printf("%s\t-\n", hs_field_names[f]);
	}
	for (int i = 0; i < HS_S_COUNT; i++)
		printf("sizeof:%s\t%u\n", hs_size_names[i], layout->size[i]);
}

int main(int argc, char **argv)
{
	struct hs_layout layout;
	double start;
	int fd, rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: hs-layout-dump FILE\n");
		return 64;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "hs-layout-dump: cannot open %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	hs_layout_init(&layout);
	start = now_ms();
	rc = hs_dwarf_load_layout(fd, argv[1], &layout);
	fprintf(stderr, "hs-layout-dump: %.1f ms\n", now_ms() - start);
	close(fd);
	if (rc) {
		fprintf(stderr, "hs-layout-dump: %s\n", hs_errmsg());
		return 2;
	}
	print_layout(&layout);
	return 0;
}
