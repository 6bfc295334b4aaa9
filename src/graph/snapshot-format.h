/*
 * The snapshot file format (docs/snapshot-format.md is its description;
 * keep the two in step).  Shared by the writer and the reader only.
 */
#ifndef HEAPSCOPE_SNAPSHOT_FORMAT_H
#define HEAPSCOPE_SNAPSHOT_FORMAT_H

#include <stdint.h>

#include "heapscope/capinfo.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the snapshot format is little-endian; this code writes host order"
#endif

/* The file starts with this header, uncompressed; one zstd frame follows. */
#define SNAP_MAGIC "\x89HEAPSC\n"
#define SNAP_MAGIC_LEN 8
#define SNAP_HEADER_LEN 32

struct snap_header {
	char magic[SNAP_MAGIC_LEN];
	uint32_t version;
	uint32_t header_len;  /* SNAP_HEADER_LEN; a reader skips what it does not know */
	uint64_t reserved[2];
};
_Static_assert(sizeof(struct snap_header) == SNAP_HEADER_LEN, "snapshot header");

/* Each section of the decompressed stream starts with this. */
struct snap_section {
	uint32_t tag;
	uint32_t flags;       /* SNAP_REQUIRED */
	uint64_t len;         /* bytes that follow */
};

/* A reader that does not know a section with this flag must refuse the file. */
#define SNAP_REQUIRED 1u

#define SNAP_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

enum snap_tag {
	SNAP_END = 0,
	SNAP_META = SNAP_TAG('M', 'E', 'T', 'A'),  /* key\0value\0 pairs */
	SNAP_CHECKS = SNAP_TAG('C', 'H', 'K', 'S'), /* struct snap_check[] */
	SNAP_FIELDS = SNAP_TAG('F', 'L', 'D', 'S'), /* names of FIELD label values, name\0... */
	SNAP_TYPES = SNAP_TAG('T', 'Y', 'P', 'E'),  /* u64 addr, u8 flags, name\0, module\0 */
	SNAP_ADDR = SNAP_TAG('O', 'A', 'D', 'R'),   /* u64 per object */
	SNAP_SIZE = SNAP_TAG('O', 'S', 'I', 'Z'),   /* u64 per object */
	SNAP_OTYPE = SNAP_TAG('O', 'T', 'Y', 'P'),  /* u32 per object */
	SNAP_GEN = SNAP_TAG('O', 'G', 'E', 'N'),    /* u8 per object */
	SNAP_REFCNT = SNAP_TAG('O', 'R', 'F', 'C'), /* u32 per object */
	SNAP_EDGE_START = SNAP_TAG('E', 'S', 'T', 'A'), /* u64 per object + 1 */
	SNAP_EDGES = SNAP_TAG('E', 'D', 'G', 'E'),  /* struct hs_edge[] */
	SNAP_ROOTS = SNAP_TAG('R', 'O', 'O', 'T'),  /* struct snap_root[] */
	SNAP_THREADS = SNAP_TAG('T', 'H', 'R', 'D'), /* u64 id, u64 native, u32 frames, u8 named, name\0 */
	SNAP_FRAMES = SNAP_TAG('F', 'R', 'A', 'M'), /* struct hs_frame[] */
	SNAP_TEXTS = SNAP_TAG('T', 'E', 'X', 'T'),  /* struct hs_text[] */
	SNAP_NAMES = SNAP_TAG('N', 'A', 'M', 'E'),  /* u32 pool offset per name */
	SNAP_POOL = SNAP_TAG('P', 'O', 'O', 'L'),   /* NUL-terminated strings */
};

struct snap_root {
	uint32_t obj, kind, detail, frame, label;
};

struct snap_check {
	char source[64];
	char what[96];
	int64_t expected, derived;
	uint32_t status;
	uint32_t reserved;
};
_Static_assert(sizeof(struct snap_root) == 20, "snapshot root record");
_Static_assert(sizeof(struct snap_check) == 184, "snapshot check record");

/* META: the capture information as key/value text, and back. */
struct hs_graph;
typedef int (*meta_put_fn)(void *ctx, const char *key, const char *value);
int snap_meta_emit(const struct hs_graph *g, const struct hs_capinfo *info,
		   meta_put_fn put, void *ctx);
/* Apply one pair read from a file (unknown keys are ignored). */
int snap_meta_apply(struct hs_graph *g, struct hs_capinfo *info, const char *key,
		    const char *value);

/* Check every index of a graph read from a file and build its address index. */
int snap_graph_validate(struct hs_graph *g);

#endif
