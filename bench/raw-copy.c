/*
 * hs-raw-copy PID: the benchmark baseline.
 *
 * Copies the mappings a capture would copy, without pausing the target,
 * three times (hs_capture_raw_copy), and prints
 *
 *     {"raw_copy_ms": [a, b, c], "bytes": N}
 *
 * N is the byte count of the last copy.  Exit status 0 on success, 1 on a
 * copy error (message on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "heapscope/error.h"
#include "heapscope/target.h"

#define ROUNDS 3

int main(int argc, char **argv)
{
	double ms[ROUNDS];
	uint64_t bytes = 0;
	char *end;
	long pid;

	if (argc != 2) {
		fprintf(stderr, "usage: hs-raw-copy PID\n");
		return 2;
	}
	errno = 0;
	pid = strtol(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || pid <= 0 || pid > 0x7fffffffL) {
		fprintf(stderr, "hs-raw-copy: invalid PID '%s'\n", argv[1]);
		return 2;
	}
	for (int i = 0; i < ROUNDS; i++) {
		int err = hs_capture_raw_copy((int)pid, &ms[i], &bytes);

		if (err < 0) {
			fprintf(stderr, "hs-raw-copy: %s: %s\n", hs_strerror(err), hs_errmsg());
			return 1;
		}
	}
	printf("{\"raw_copy_ms\": [");
	for (int i = 0; i < ROUNDS; i++)
		printf("%s%.3f", i ? ", " : "", ms[i]);
	printf("], \"bytes\": %" PRIu64 "}\n", bytes);
	return 0;
}
