/*
 * libFuzzer target of the snapshot reader: any input must be read or
 * refused without a crash, a leak or undefined behaviour; a graph that is
 * read must hold only indexes the analyses can follow (every one is
 * followed here, so ASan reports any the reader let through); and reading
 * from memory and from a file must both succeed or both fail.
 *
 * Snapshots are compressed and checksummed, so mutating the file's bytes
 * rarely gets past zstd.  The custom mutator therefore usually mutates the
 * decompressed sections and stores them again as raw zstd blocks without
 * a checksum, a frame the reader accepts like any other; otherwise it
 * mutates the bytes as they are (the header, the zstd layer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "heapscope/error.h"
#include "heapscope/layout.h"
#include "heapscope/snapshot.h"

#define HEADER_LEN 32
#define MAX_BYTES (64ull << 20)
#define STREAM_CAP (1u << 20)
#define RAW_BLOCK_MAX (128u << 10)

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static volatile uint64_t sink;

static void use_label(const struct hs_graph *g, uint32_t label)
{
	uint32_t v = HS_EDGE_VALUE(label);
	const char *s;

	if (v == HS_LABEL_NONE)
		return;
	switch (HS_EDGE_KIND(label)) {
	case HS_EDGE_FIELD:
		if (v >= HS_F_COUNT)
			abort();
		sink += strlen(hs_field_names[v]);
		break;
	case HS_EDGE_VALUE:
	case HS_EDGE_ATTR:
	case HS_EDGE_LOCAL:
		sink += g->addr[v];
		if ((s = hs_graph_text(g, v)))
			sink += strlen(s);
		break;
	case HS_EDGE_SLOT:
		if (!(s = hs_graph_name(g, v)))
			abort();
		sink += strlen(s);
		break;
	default:
		break;
	}
}

/* Follow every index of the graph the way the analyses do. */
static void use_graph(const struct hs_graph *g)
{
	for (uint32_t i = 0; i < g->count; i++) {
		const struct hs_edge *e, *end;
		const char *text = hs_graph_text(g, i);

		if (hs_graph_find(g, g->addr[i]) != i)
			abort();
		sink += strlen(g->types[g->type[i]].name) + g->size[i] + g->gen[i] + g->refcnt[i];
		for (e = hs_graph_edges(g, i, &end); e < end; e++) {
			sink += g->addr[e->dst];
			use_label(g, e->label);
		}
		if (text)
			sink += strlen(text);
	}
	for (size_t i = 0; i < g->root_count; i++) {
		const struct hs_root *r = &g->roots[i];

		sink += g->addr[r->obj];
		use_label(g, r->label);
		if (r->frame != HS_NO_OBJECT)
			sink += g->frames[r->frame].depth;
		if (r->kind == HS_ROOT_THREAD)
			sink += g->threads[r->detail].thread_id;
	}
	for (size_t i = 0; i < g->frame_count; i++) {
		const struct hs_thread *t = &g->threads[g->frames[i].thread];

		sink += t->frames + (t->name ? strlen(t->name) : 0);
		if (g->frames[i].code != HS_NO_OBJECT)
			sink += g->addr[g->frames[i].code];
	}
	for (uint32_t i = 0; i < g->name_count; i++)
		sink += strlen(hs_graph_name(g, i));
	for (size_t i = 0; i < g->type_count; i++)
		sink += strlen(g->types[i].module);
}

/* The same input through the file reader (a memfd, made once). */
static int read_as_file(const uint8_t *data, size_t size, struct hs_graph *g,
			struct hs_capinfo *info)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		if ((fd = memfd_create("fuzz-snapshot", 0)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	hs_graph_init(g);
	return hs_snapshot_read(path, MAX_BYTES, g, info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hs_capinfo *info; /* 50 KiB: allocated once, not per input */
	struct hs_graph g;
	int err, file_err;

	if (!info && !(info = malloc(sizeof(*info))))
		abort();
	hs_graph_init(&g);
	err = hs_snapshot_read_mem(data, size, MAX_BYTES, &g, info);
	if (!err) {
		use_graph(&g);
		hs_graph_release(&g);
	}
	file_err = read_as_file(data, size, &g, info);
	if (!file_err)
		hs_graph_release(&g);
	/* which error comes first may differ: a file arrives in pieces, so
	 * its sections can be seen before zstd finds the frame corrupt */
	if (!err != !file_err) {
		fprintf(stderr, "memory read %d, file read %d (%s)\n", err, file_err, hs_errmsg());
		abort();
	}
	return 0;
}

/*
 * A header and one zstd frame of raw blocks holding `stream`, without a
 * checksum; 0 if it does not fit in `max`.  The frame is single-segment
 * with its content size, so the decoder's buffers are only that large
 * (a window of megabytes costs ASan more time than the read itself).
 */
static size_t pack_raw(const uint8_t *header, const uint8_t *stream, size_t len, uint8_t *out,
		       size_t max)
{
	static const uint8_t frame[5] = {0x28, 0xb5, 0x2f, 0xfd, /* magic */
					 2 << 6 | 1 << 5};       /* 4-byte size, single segment */
	size_t blocks = len ? (len + RAW_BLOCK_MAX - 1) / RAW_BLOCK_MAX : 1;
	uint8_t *p = out;

	if (HEADER_LEN + sizeof(frame) + 4 + 3 * blocks + len > max || len > UINT32_MAX)
		return 0;
	memcpy(p, header, HEADER_LEN);
	memcpy(p + HEADER_LEN, frame, sizeof(frame));
	p += HEADER_LEN + sizeof(frame);
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(len >> 8 * i);
	for (size_t b = 0; b < blocks; b++) {
		size_t n = len < RAW_BLOCK_MAX ? len : RAW_BLOCK_MAX;
		uint32_t h = (uint32_t)n << 3 | (b + 1 == blocks); /* type 0: raw */

		p[0] = (uint8_t)h;
		p[1] = (uint8_t)(h >> 8);
		p[2] = (uint8_t)(h >> 16);
		memcpy(p + 3, stream, n);
		p += 3 + n;
		stream += n;
		len -= n;
	}
	return (size_t)(p - out);
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	static uint8_t stream[STREAM_CAP];
	uint8_t header[HEADER_LEN];
	size_t n = 0, out;

	if (seed % 4 && size > HEADER_LEN) {
		n = ZSTD_decompress(stream, sizeof(stream), data + HEADER_LEN, size - HEADER_LEN);
		if (ZSTD_isError(n))
			n = 0;
	}
	if (!n)
		return LLVMFuzzerMutate(data, size, max_size);
	memcpy(header, data, HEADER_LEN);
	n = LLVMFuzzerMutate(stream, n, sizeof(stream));
	out = pack_raw(header, stream, n, data, max_size);
	return out ? out : LLVMFuzzerMutate(data, size, max_size);
}
