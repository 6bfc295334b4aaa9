/*
 * Seeds of the snapshot fuzz target: valid snapshots written by
 * hs_snapshot_write from the unit test's fixtures, into the files named
 * on the command line (an empty graph, a small one, one with every kind
 * of content; a name past those gets the small one again).
 */
#include "heapscope/snapshot.h"

#include <stdio.h>

#include "snapshot-fixtures.h"

int main(int argc, char **argv)
{
	struct hs_capinfo *info = calloc(1, sizeof(*info));
	struct hs_graph g;

	for (int i = 1; i < argc; i++) {
		if (i == 1) {
			hs_graph_init(&g);
		} else if (i == 3) {
			full_graph(&g);
			full_info(info);
			/* a short path keeps the seed small */
			snprintf(info->binary, sizeof(info->binary), "/usr/bin/python3.12");
		} else {
			small_graph(&g, info);
		}
		if (hs_snapshot_write(argv[i], &g, info) < 0) {
			fprintf(stderr, "make-seeds: %s\n", hs_errmsg());
			return 1;
		}
		hs_graph_release(&g);
	}
	free(info);
	return 0;
}
