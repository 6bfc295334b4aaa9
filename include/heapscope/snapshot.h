/*
 * Snapshots: a captured object graph and its capture information, saved
 * to a file and read back, so a heap can be examined later, elsewhere, or
 * compared with another (docs/snapshot-format.md describes the format).
 *
 * A snapshot holds the analysed graph (objects, edges with their labels,
 * roots, threads, frames, type names, label texts), never raw memory.
 * Files are written to a temporary file beside the destination, created
 * 0600, and renamed over it only once complete.
 *
 * A snapshot file is untrusted input: the reader bounds every count by the
 * data actually present and by a size limit, and checks every index in the
 * graph before returning it, so the analyses can trust what they read.
 */
#ifndef HEAPSCOPE_SNAPSHOT_H
#define HEAPSCOPE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heapscope/capinfo.h"
#include "heapscope/graph.h"

/* The format version this code writes and the newest it reads. */
#define HS_SNAPSHOT_VERSION 1
/* Default limit on the decompressed size of a snapshot read. */
#define HS_SNAPSHOT_MAX_BYTES (64ull << 30)

/* Write `g` and `info` to `path` atomically (temp file + rename). */
int hs_snapshot_write(const char *path, const struct hs_graph *g,
		      const struct hs_capinfo *info);

/*
 * Read a snapshot file into `g` (initialised by the caller; released on
 * error) and `info`.  max_bytes bounds the decompressed size (0: the
 * default).  Errors: HS_EFORMAT for a file that is not a snapshot, is
 * truncated or corrupt; HS_EVERSION for a newer format; HS_EIO, HS_ENOMEM.
 */
int hs_snapshot_read(const char *path, uint64_t max_bytes, struct hs_graph *g,
		     struct hs_capinfo *info);
/* The same from bytes in memory (the fuzz target's entry). */
int hs_snapshot_read_mem(const void *data, size_t len, uint64_t max_bytes,
			 struct hs_graph *g, struct hs_capinfo *info);

/* Whether the first bytes of a file are a snapshot's magic. */
bool hs_snapshot_magic(const void *head, size_t len);

#endif
