/*
 * Unit test of snapshots (src/graph/snapshot-*.c): a round trip of a graph
 * with every kind of content, the file the writer leaves behind, and a
 * reader that refuses every kind of bad input with an error, never a crash.
 *
 * Bad streams are crafted by decompressing a valid file, editing its
 * sections and compressing it again.  The section tags are spelled out
 * here rather than taken from snapshot-format.h: the format is a contract,
 * and a tag changed by accident should fail this test.
 */
#include "heapscope/snapshot.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "heapscope/error.h"
#include "heapscope/layout.h"
#include "snapshot-fixtures.h"
#include "tap.h"

#define TAG(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define T_END 0u
#define T_META TAG('M', 'E', 'T', 'A')
#define T_CHECKS TAG('C', 'H', 'K', 'S')
#define T_FIELDS TAG('F', 'L', 'D', 'S')
#define T_TYPES TAG('T', 'Y', 'P', 'E')
#define T_ADDR TAG('O', 'A', 'D', 'R')
#define T_SIZE TAG('O', 'S', 'I', 'Z')
#define T_OTYPE TAG('O', 'T', 'Y', 'P')
#define T_GEN TAG('O', 'G', 'E', 'N')
#define T_REFCNT TAG('O', 'R', 'F', 'C')
#define T_EDGE_START TAG('E', 'S', 'T', 'A')
#define T_EDGES TAG('E', 'D', 'G', 'E')
#define T_ROOTS TAG('R', 'O', 'O', 'T')
#define T_THREADS TAG('T', 'H', 'R', 'D')
#define T_FRAMES TAG('F', 'R', 'A', 'M')
#define T_TEXTS TAG('T', 'E', 'X', 'T')
#define T_NAMES TAG('N', 'A', 'M', 'E')
#define T_POOL TAG('P', 'O', 'O', 'L')
#define REQUIRED 1u
#define HEADER_LEN 32
#define ROOT_REC 20   /* u32 obj, kind, detail, frame, label */
#define CHECK_REC 184 /* char source[64], what[96]; i64 expected, derived; u32 status, reserved */

static const uint32_t all_tags[] = {T_META, T_CHECKS, T_FIELDS, T_TYPES, T_ADDR, T_SIZE,
				    T_OTYPE, T_GEN, T_REFCNT, T_EDGE_START, T_EDGES, T_ROOTS,
				    T_THREADS, T_FRAMES, T_TEXTS, T_NAMES, T_POOL};
#define TAG_COUNT (sizeof(all_tags) / sizeof(all_tags[0]))

struct bytes {
	unsigned char *p;
	size_t len;
};

/* The decompressed stream of a snapshot, with the file's header. */
struct stream {
	unsigned char header[HEADER_LEN];
	unsigned char *p;
	size_t len;
};

struct section_head {
	uint32_t tag, flags;
	uint64_t len;
};

static char tmpdir[PATH_MAX];

/* A path in the test's directory; the last eight stay valid. */
static const char *in_tmp(const char *name)
{
	static char paths[8][PATH_MAX + 64];
	static unsigned next;
	char *path = paths[next++ % 8];

	snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
	return path;
}

/* ---- comparing graphs ---- */

static bool same_mem(const void *a, const void *b, size_t n)
{
	return n == 0 || (a && b && !memcmp(a, b, n));
}

static bool same_objects(const struct hs_graph *a, const struct hs_graph *b)
{
	size_t n = a->count;

	return a->count == b->count && same_mem(a->addr, b->addr, n * sizeof(*a->addr)) &&
	       same_mem(a->size, b->size, n * sizeof(*a->size)) &&
	       same_mem(a->type, b->type, n * sizeof(*a->type)) &&
	       same_mem(a->gen, b->gen, n * sizeof(*a->gen)) &&
	       same_mem(a->refcnt, b->refcnt, n * sizeof(*a->refcnt));
}

/* A graph read has count + 1 edge list starts even when empty; a graph
 * built without objects may have none. */
static bool same_edges(const struct hs_graph *a, const struct hs_graph *b)
{
	const uint64_t zero = 0;
	const uint64_t *starts = a->edge_start || a->count ? a->edge_start : &zero;

	return a->count == b->count && a->edge_count == b->edge_count && b->edge_start &&
	       same_mem(starts, b->edge_start, (a->count + 1) * sizeof(*a->edge_start)) &&
	       same_mem(a->edges, b->edges, a->edge_count * sizeof(*a->edges));
}

static bool same_types(const struct hs_graph *a, const struct hs_graph *b)
{
	if (a->type_count != b->type_count)
		return false;
	for (size_t i = 0; i < a->type_count; i++) {
		const struct hs_type *x = &a->types[i], *y = &b->types[i];

		if (x->addr != y->addr || x->flags != y->flags || strcmp(x->name, y->name) ||
		    strcmp(x->module, y->module))
			return false;
	}
	return true;
}

static bool same_roots(const struct hs_graph *a, const struct hs_graph *b)
{
	if (a->root_count != b->root_count)
		return false;
	for (size_t i = 0; i < a->root_count; i++) {
		const struct hs_root *x = &a->roots[i], *y = &b->roots[i];

		if (x->obj != y->obj || x->kind != y->kind || x->detail != y->detail ||
		    x->frame != y->frame || x->label != y->label)
			return false;
	}
	return true;
}

static bool same_threads(const struct hs_graph *a, const struct hs_graph *b)
{
	if (a->thread_count != b->thread_count)
		return false;
	for (size_t i = 0; i < a->thread_count; i++) {
		const struct hs_thread *x = &a->threads[i], *y = &b->threads[i];

		if (x->thread_id != y->thread_id || x->native_id != y->native_id ||
		    x->frames != y->frames || !x->name != !y->name ||
		    (x->name && strcmp(x->name, y->name)))
			return false;
	}
	return true;
}

static bool same_frames(const struct hs_graph *a, const struct hs_graph *b)
{
	return a->frame_count == b->frame_count &&
	       same_mem(a->frames, b->frames, a->frame_count * sizeof(*a->frames));
}

/* Texts, names and the pool they share, and the lookups over them. */
static bool same_texts(const struct hs_graph *a, const struct hs_graph *b)
{
	if (a->text_count != b->text_count || a->name_count != b->name_count ||
	    a->pool_len != b->pool_len ||
	    !same_mem(a->texts, b->texts, a->text_count * sizeof(*a->texts)) ||
	    !same_mem(a->name_offsets, b->name_offsets, a->name_count * sizeof(*a->name_offsets)) ||
	    !same_mem(a->text_pool, b->text_pool, a->pool_len))
		return false;
	for (uint32_t o = 0; o < a->count; o++) {
		const char *x = hs_graph_text(a, o), *y = hs_graph_text(b, o);

		if (!x != !y || (x && strcmp(x, y)))
			return false;
	}
	for (uint32_t i = 0; i <= a->name_count; i++) {
		const char *x = hs_graph_name(a, i), *y = hs_graph_name(b, i);

		if (!x != !y || (x && strcmp(x, y)))
			return false;
	}
	return true;
}

static bool same_totals(const struct hs_graph *a, const struct hs_graph *b)
{
	return !memcmp(&a->skips, &b->skips, sizeof(a->skips)) &&
	       !memcmp(a->gc_counts, b->gc_counts, sizeof(a->gc_counts)) &&
	       a->gc_collecting == b->gc_collecting;
}

/* Every object is found by its address, and nothing else is. */
static bool index_works(const struct hs_graph *g)
{
	for (uint32_t i = 0; i < g->count; i++)
		if (hs_graph_find(g, g->addr[i]) != i)
			return false;
	return hs_graph_find(g, 0x7e0000000008ull) == NONE &&
	       hs_graph_find(g, 0xdeadbeef0000ull) == NONE;
}

static bool same_graph(const struct hs_graph *a, const struct hs_graph *b)
{
	return same_objects(a, b) && same_edges(a, b) && same_types(a, b) && same_roots(a, b) &&
	       same_threads(a, b) && same_frames(a, b) && same_texts(a, b) && same_totals(a, b);
}

static bool same_checks(const struct hs_check_list *a, const struct hs_check_list *b)
{
	if (a->count != b->count || a->dropped != b->dropped)
		return false;
	for (unsigned i = 0; i < a->count; i++) {
		const struct hs_check *x = &a->items[i], *y = &b->items[i];

		if (strcmp(x->source, y->source) || strcmp(x->what, y->what) ||
		    x->expected != y->expected || x->derived != y->derived || x->status != y->status)
			return false;
	}
	return true;
}

static bool same_info(const struct hs_capinfo *a, const struct hs_capinfo *b)
{
	return a->origin == b->origin && a->pid == b->pid && a->taken_at == b->taken_at &&
	       !strcmp(a->python, b->python) && a->py_minor == b->py_minor &&
	       !strcmp(a->version_from, b->version_from) && !strcmp(a->binary, b->binary) &&
	       !strcmp(a->build_id, b->build_id) && !strcmp(a->layout_source, b->layout_source) &&
	       !strcmp(a->layout_detail, b->layout_detail) &&
	       !strcmp(a->debug_offsets_note, b->debug_offsets_note) &&
	       a->debug_build == b->debug_build && a->layout_ms == b->layout_ms &&
	       same_checks(&a->checks, &b->checks) && a->os_threads == b->os_threads &&
	       a->paused_ms == b->paused_ms && a->copy_ms == b->copy_ms &&
	       a->bytes_read == b->bytes_read && a->regions_short == b->regions_short &&
	       a->guard_pages == b->guard_pages && a->signals_passed == b->signals_passed &&
	       a->walk_ms == b->walk_ms && a->total_ms == b->total_ms;
}

static bool is_empty(const struct hs_graph *g)
{
	return !g->count && !g->addr && !g->edge_start && !g->edges && !g->type_count &&
	       !g->types && !g->roots && !g->threads && !g->frames && !g->texts &&
	       !g->name_offsets && !g->text_pool && !g->index.slots;
}

/* ---- files and bytes ---- */

static struct bytes load(const char *path)
{
	struct bytes b = {NULL, 0};
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		bail("load");
	b.len = (size_t)st.st_size;
	b.p = malloc(b.len ? b.len : 1);
	if (read(fd, b.p, b.len) != (ssize_t)b.len)
		bail("load");
	close(fd);
	return b;
}

static void save(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0)
		bail("save");
}

/* Write a graph and return the file's bytes. */
static struct bytes written(const struct hs_graph *g, const struct hs_capinfo *info)
{
	const char *path = in_tmp("written.hs");
	struct bytes b;

	if (hs_snapshot_write(path, g, info) < 0)
		bail("hs_snapshot_write");
	b = load(path);
	unlink(path);
	return b;
}

/* Read from a copy of exactly `len` bytes (so ASan sees any over-read),
 * freed before the graph is looked at (so nothing may point into it). */
static int read_mem(const void *data, size_t len, uint64_t max, struct hs_graph *g,
		    struct hs_capinfo *info)
{
	unsigned char *copy = malloc(len ? len : 1);
	int err;

	if (len)
		memcpy(copy, data, len);
	hs_graph_init(g);
	err = hs_snapshot_read_mem(copy, len, max, g, info);
	free(copy);
	return err;
}

/* Bytes that must be refused with `code` (0: any error) and a message
 * containing `msg` (NULL: any), leaving the graph empty. */
static bool refused_with(const void *data, size_t len, uint64_t max, int code, const char *msg)
{
	struct hs_capinfo *info = malloc(sizeof(*info));
	struct hs_graph g;
	int err = read_mem(data, len, max, &g, info);
	bool good = err < 0 && (!code || err == code) && (!msg || strstr(hs_errmsg(), msg)) &&
		    is_empty(&g);

	if (!good)
		diag("got %d (%s), expected %d with '%s'", err, err ? hs_errmsg() : "",
		     code, msg ? msg : "");
	if (!err)
		hs_graph_release(&g);
	free(info);
	return good;
}

static bool refused(const struct bytes *b, int code, const char *msg)
{
	return refused_with(b->p, b->len, 0, code, msg);
}

/* ---- crafting streams ---- */

static struct stream unpack(const struct bytes *file)
{
	struct stream s;
	size_t cap = 16u << 20;

	memcpy(s.header, file->p, HEADER_LEN);
	s.p = malloc(cap);
	s.len = ZSTD_decompress(s.p, cap, file->p + HEADER_LEN, file->len - HEADER_LEN);
	if (ZSTD_isError(s.len))
		bail("ZSTD_decompress");
	return s;
}

static struct stream copy_stream(const struct stream *s)
{
	struct stream c = *s;

	c.p = malloc(s->len);
	memcpy(c.p, s->p, s->len);
	return c;
}

static struct bytes pack(const struct stream *s)
{
	size_t bound = ZSTD_compressBound(s->len), n;
	struct bytes b = {malloc(HEADER_LEN + bound), 0};

	memcpy(b.p, s->header, HEADER_LEN);
	n = ZSTD_compress(b.p + HEADER_LEN, bound, s->p, s->len, 3);
	if (ZSTD_isError(n))
		bail("ZSTD_compress");
	b.len = HEADER_LEN + n;
	return b;
}

static struct section_head head_at(const struct stream *s, size_t at)
{
	struct section_head h;

	memcpy(&h, s->p + at, sizeof(h));
	return h;
}

/* Offset of the header of the section with this tag (T_END: the end
 * marker), or SIZE_MAX. */
static size_t find_section(const struct stream *s, uint32_t tag)
{
	size_t at = 0;

	while (at + sizeof(struct section_head) <= s->len) {
		struct section_head h = head_at(s, at);

		if (h.tag == tag)
			return at;
		if (h.tag == T_END || h.len > s->len - at - sizeof(h))
			break;
		at += sizeof(h) + h.len;
	}
	return SIZE_MAX;
}

static size_t must_find(const struct stream *s, uint32_t tag)
{
	size_t at = find_section(s, tag);

	if (at == SIZE_MAX)
		bail("section not found");
	return at;
}

/* Replace `remove` bytes at `at` by `n` bytes of `data`. */
static void splice_at(struct stream *s, size_t at, size_t remove, const void *data, size_t n)
{
	size_t len = s->len - remove + n;
	unsigned char *p = malloc(len ? len : 1);

	memcpy(p, s->p, at);
	if (n)
		memcpy(p + at, data, n);
	memcpy(p + at + n, s->p + at + remove, s->len - at - remove);
	free(s->p);
	s->p = p;
	s->len = len;
}

static void set_len(struct stream *s, size_t at, uint64_t len)
{
	memcpy(s->p + at + offsetof(struct section_head, len), &len, sizeof(len));
}

static uint64_t section_len(const struct stream *s, uint32_t tag)
{
	return head_at(s, must_find(s, tag)).len;
}

/* Overwrite bytes inside a section's data. */
static void patch(struct stream *s, uint32_t tag, size_t off, const void *v, size_t n)
{
	size_t at = must_find(s, tag);

	if (off + n > head_at(s, at).len)
		bail("patch past the section");
	memcpy(s->p + at + sizeof(struct section_head) + off, v, n);
}

static void patch_u32(struct stream *s, uint32_t tag, size_t off, uint32_t v)
{
	patch(s, tag, off, &v, sizeof(v));
}

static void patch_u64(struct stream *s, uint32_t tag, size_t off, uint64_t v)
{
	patch(s, tag, off, &v, sizeof(v));
}

static uint32_t get_u32(const struct stream *s, uint32_t tag, size_t off)
{
	uint32_t v;

	memcpy(&v, s->p + must_find(s, tag) + sizeof(struct section_head) + off, sizeof(v));
	return v;
}

static void set_section(struct stream *s, uint32_t tag, const void *data, size_t n)
{
	size_t at = must_find(s, tag);

	splice_at(s, at + sizeof(struct section_head), head_at(s, at).len, data, n);
	set_len(s, at, n);
}

static void append_to(struct stream *s, uint32_t tag, const void *data, size_t n)
{
	size_t at = must_find(s, tag);
	uint64_t len = head_at(s, at).len;

	splice_at(s, at + sizeof(struct section_head) + len, 0, data, n);
	set_len(s, at, len + n);
}

static void drop_section(struct stream *s, uint32_t tag)
{
	size_t at = must_find(s, tag);

	splice_at(s, at, sizeof(struct section_head) + head_at(s, at).len, NULL, 0);
}

/* A copy of a whole section right after it. */
static void repeat_section(struct stream *s, uint32_t tag)
{
	size_t at = must_find(s, tag), n = sizeof(struct section_head) + head_at(s, at).len;
	unsigned char *copy = malloc(n);

	memcpy(copy, s->p + at, n);
	splice_at(s, at + n, 0, copy, n);
	free(copy);
}

/* A new section before the one with tag `before` (T_END: last). */
static void insert_section(struct stream *s, uint32_t before, uint32_t tag, uint32_t flags,
			   const void *data, size_t n)
{
	struct section_head h = {tag, flags, n};
	size_t at = must_find(s, before);

	splice_at(s, at, 0, data, n);
	splice_at(s, at, 0, &h, sizeof(h));
}

/* Pack a crafted stream, which must be refused; frees it. */
static void crafted_refused(struct stream *s, int code, const char *msg, const char *what)
{
	struct bytes b = pack(s);

	ok(refused(&b, code, msg), "refused: %s", what);
	free(b.p);
	free(s->p);
}

/* Pack a crafted stream, which must be read; frees it.  The caller
 * releases the graph. */
static int crafted_read(struct stream *s, struct hs_graph *g, struct hs_capinfo *info)
{
	struct bytes b = pack(s);
	int err = read_mem(b.p, b.len, 0, g, info);

	if (err < 0)
		diag("read: %s", hs_errmsg());
	free(b.p);
	free(s->p);
	return err;
}

/* ---- the tests ---- */

static void test_round_trip(void)
{
	struct hs_capinfo *info = malloc(sizeof(*info)), *back = malloc(sizeof(*back));
	const char *path = in_tmp("full.hs");
	struct hs_graph g, r;
	struct bytes b;
	int err;

	full_graph(&g);
	full_info(info);
	ok(g.refcnt[6] == HS_REFCNT_MAX && g.refcnt[4] == HS_REFCNT_MAX && g.text_count == 4,
	   "fixture: refcounts saturate, one text per object");
	ok(hs_snapshot_write(path, &g, info) == 0, "write a graph with every kind of content");
	hs_graph_init(&r);
	memset(back, 0xa5, sizeof(*back));
	err = hs_snapshot_read(path, 0, &r, back);
	if (!ok(err == 0, "read it back (%s)", err ? hs_errmsg() : "ok"))
		goto out;
	ok(same_objects(&g, &r), "objects: %zu addresses, sizes, types, generations, refcounts",
	   r.count);
	ok(same_edges(&g, &r), "edges: %zu, with their lists and labels of every kind",
	   r.edge_count);
	ok(same_types(&g, &r), "types: %zu, with addresses, flags, names, modules", r.type_count);
	ok(same_roots(&g, &r), "roots: %zu of every kind", r.root_count);
	ok(same_threads(&g, &r), "threads: ids, native ids, frame counts, names (none, empty)");
	ok(same_frames(&g, &r), "frames: %zu", r.frame_count);
	ok(same_texts(&g, &r), "texts, names and their pool");
	ok(same_totals(&g, &r), "skips, GC totals, collecting flag");
	ok(same_info(info, back), "capture information, every field, checks included");
	ok(index_works(&r), "hs_graph_find finds every object of the read graph");
	ok(r.roots[5].kind == HS_ROOT_THREAD && r.roots[5].frame == 2 &&
	   r.threads[1].name == NULL && r.threads[2].name && !r.threads[2].name[0],
	   "a thread without a name stays without one; an empty name stays empty");
	hs_graph_release(&r);

	b = load(path);
	memset(back, 0x5a, sizeof(*back));
	err = read_mem(b.p, b.len, 0, &r, back);
	ok(err == 0 && same_graph(&g, &r) && same_info(info, back) && index_works(&r),
	   "hs_snapshot_read_mem reads the same");
	hs_graph_release(&r);
	ok(hs_snapshot_magic(b.p, b.len) && hs_snapshot_magic(b.p, 8) && !hs_snapshot_magic(b.p, 7) &&
	   !hs_snapshot_magic("\x7f" "ELF\2\1\1\0", 8), "hs_snapshot_magic");
	free(b.p);
out:
	unlink(path);
	hs_graph_release(&g);
	free(info);
	free(back);
}

static void test_empty_graph(void)
{
	struct hs_capinfo *info = calloc(1, sizeof(*info)), *back = malloc(sizeof(*back));
	const char *path = in_tmp("empty.hs");
	struct hs_graph g, r;
	int err;

	hs_graph_init(&g);
	ok(hs_snapshot_write(path, &g, info) == 0, "write an empty graph");
	hs_graph_init(&r);
	memset(back, 0xa5, sizeof(*back));
	err = hs_snapshot_read(path, 0, &r, back);
	ok(err == 0 && r.count == 0 && r.edge_count == 0 && r.type_count == 0 &&
	   r.root_count == 0 && r.thread_count == 0 && r.frame_count == 0 &&
	   r.text_count == 0 && r.name_count == 0 && r.pool_len == 0 && r.edge_start &&
	   r.edge_start[0] == 0, "read an empty graph back (%s)", err ? hs_errmsg() : "ok");
	ok(same_graph(&g, &r) && same_info(info, back), "empty graph and zero information round-trip");
	ok(hs_graph_find(&r, 0x1000) == NONE, "nothing is found in it");
	hs_graph_release(&r);
	unlink(path);
	free(info);
	free(back);
}

/* A file larger than the reader's buffers, read in pieces; truncated
 * and extended files read through the same path. */
static void test_large_file(void)
{
	const char *path = in_tmp("large.hs"), *cut = in_tmp("cut.hs");
	struct hs_capinfo *info = calloc(1, sizeof(*info)), *back = malloc(sizeof(*back));
	struct hs_graph g, r;
	struct bytes b;
	size_t lens[6];
	int err, bad = 0;

	large_graph(&g, 40000);
	ok(hs_snapshot_write(path, &g, info) == 0, "write %zu objects", g.count);
	b = load(path);
	ok(b.len > 2 * ZSTD_DStreamInSize(), "the file (%zu bytes) is larger than two reads", b.len);
	hs_graph_init(&r);
	err = hs_snapshot_read(path, 0, &r, back);
	ok(err == 0 && same_graph(&g, &r) && index_works(&r), "read back in pieces (%s)",
	   err ? hs_errmsg() : "ok");
	hs_graph_release(&r);

	lens[0] = HEADER_LEN + 1;
	lens[1] = 4096;
	lens[2] = 4097;
	lens[3] = ZSTD_DStreamInSize() + 100;
	lens[4] = b.len / 2;
	lens[5] = b.len - 1;
	for (int i = 0; i < 6; i++) {
		save(cut, b.p, lens[i]);
		hs_graph_init(&r);
		if ((err = hs_snapshot_read(cut, 0, &r, back)) >= 0 || !is_empty(&r)) {
			diag("truncated to %zu: %d", lens[i], err);
			bad++;
		}
		if (!err)
			hs_graph_release(&r);
	}
	ok(bad == 0, "a truncated large file is refused at 6 lengths");
	b.p = realloc(b.p, b.len + 1);
	b.p[b.len] = 0;
	save(cut, b.p, b.len + 1);
	hs_graph_init(&r);
	err = hs_snapshot_read(cut, 0, &r, back);
	ok(err == HS_EFORMAT && strstr(hs_errmsg(), "after its end") && is_empty(&r),
	   "a large file with a byte after its frame is refused");
	unlink(cut);
	unlink(path);
	free(b.p);
	hs_graph_release(&g);
	free(info);
	free(back);
}

/* Names in a directory, one string separated by spaces; counts entries
 * and temporary files. */
static int list_dir(const char *dir, char *names, size_t cap, int *temps)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	names[0] = '\0';
	*temps = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		*temps += strstr(e->d_name, ".tmp") != NULL;
		snprintf(names + strlen(names), cap - strlen(names), "%s ", e->d_name);
	}
	closedir(d);
	return n;
}

static void test_files(void)
{
	struct hs_capinfo *info = malloc(sizeof(*info)), *back = malloc(sizeof(*back));
	const char *path;
	char names[1024], target[PATH_MAX + 64];
	struct hs_graph g, r;
	struct stat st;
	mode_t old_mask;
	int n, temps, err;

	small_graph(&g, info);
	path = in_tmp("mode.hs");
	old_mask = umask(0);
	err = hs_snapshot_write(path, &g, info);
	umask(old_mask);
	ok(err == 0 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	   "written 0600 even with umask 0 (mode %o)", (unsigned)(st.st_mode & 07777));
	unlink(path);

	path = in_tmp("replace.hs");
	save(path, "an old file, longer than nothing at all", 40);
	chmod(path, 0644);
	err = hs_snapshot_write(path, &g, info);
	hs_graph_init(&r);
	ok(err == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	   (st.st_mode & 07777) == 0600 && hs_snapshot_read(path, 0, &r, back) == 0 &&
	   same_graph(&g, &r), "writing over an existing file replaces it");
	hs_graph_release(&r);
	n = list_dir(tmpdir, names, sizeof(names), &temps);
	ok(n == 1 && temps == 0, "only the snapshot is left in the directory (%s)", names);

	snprintf(target, sizeof(target), "%s/missing/dir/x.hs", tmpdir);
	err = hs_snapshot_write(target, &g, info);
	ok(err < 0 && strstr(hs_errmsg(), "No such file"), "writing into a missing directory fails: %s",
	   hs_errmsg());
	n = list_dir(tmpdir, names, sizeof(names), &temps);
	ok(n == 1 && temps == 0, "and leaves nothing (%s)", names);

	/* the temporary file is made, then the rename fails */
	path = in_tmp("adir");
	mkdir(path, 0700);
	err = hs_snapshot_write(path, &g, info);
	n = list_dir(tmpdir, names, sizeof(names), &temps);
	ok(err < 0 && n == 2 && temps == 0,
	   "writing over a directory fails and removes its temporary file (%s)", names);
	rmdir(path);

	ok(hs_snapshot_write("", &g, info) == HS_EUSAGE, "an empty path is refused");

	/* a path without a directory: the temporary file goes in the cwd */
	char cwd[PATH_MAX];

	if (getcwd(cwd, sizeof(cwd)) && chdir(tmpdir) == 0) {
		err = hs_snapshot_write("rel.hs", &g, info);
		hs_graph_init(&r);
		ok(err == 0 && hs_snapshot_read("rel.hs", 0, &r, back) == 0 && same_graph(&g, &r),
		   "a relative path without a directory");
		hs_graph_release(&r);
		unlink("rel.hs");
		if (chdir(cwd) < 0)
			bail("chdir back");
	}
	n = list_dir(tmpdir, names, sizeof(names), &temps);
	ok(n == 1 && temps == 0, "no temporary file is ever left (%s)", names);
	unlink(in_tmp("replace.hs"));
	hs_graph_release(&g);
	free(info);
	free(back);
}

/* Files that are not snapshots, or are of another version. */
static void test_not_snapshots(const struct bytes *valid)
{
	struct hs_capinfo *back = malloc(sizeof(*back));
	const char *path = in_tmp("bad.hs");
	unsigned char *p = malloc(valid->len + 16);
	struct hs_graph g;
	uint32_t v;
	int err;

	save(path, "", 0);
	hs_graph_init(&g);
	err = hs_snapshot_read(path, 0, &g, back);
	ok(err == HS_EFORMAT && strstr(hs_errmsg(), "not a heapscope snapshot") && is_empty(&g),
	   "an empty file is refused: %s", hs_errmsg());
	ok(refused_with(NULL, 0, 0, HS_EFORMAT, "not a heapscope snapshot"),
	   "no bytes in memory are refused");

	save(path, "#!/usr/bin/env python3\nprint('hello')\n", 38);
	hs_graph_init(&g);
	err = hs_snapshot_read(path, 0, &g, back);
	ok(err == HS_EFORMAT && strstr(hs_errmsg(), "not a heapscope snapshot"),
	   "a text file is not a heapscope snapshot: %s", hs_errmsg());
	ok(refused_with("\x89HEAPSC", 7, 0, HS_EFORMAT, "not a heapscope snapshot"),
	   "seven bytes of the magic are not a snapshot");

	hs_graph_init(&g);
	ok(hs_snapshot_read(in_tmp("no-such-file"), 0, &g, back) < 0 && is_empty(&g),
	   "a missing file is an error: %s", hs_errmsg());
	hs_graph_init(&g);
	ok(hs_snapshot_read(tmpdir, 0, &g, back) < 0 && is_empty(&g),
	   "a directory is an error: %s", hs_errmsg());

	save(path, valid->p, HEADER_LEN);
	hs_graph_init(&g);
	err = hs_snapshot_read(path, 0, &g, back);
	ok(err == HS_EFORMAT && is_empty(&g), "a header alone is refused: %s", hs_errmsg());
	ok(refused_with(valid->p, HEADER_LEN, 0, HS_EFORMAT, "truncated"),
	   "a header alone in memory is truncated");

	memcpy(p, valid->p, valid->len);
	v = HS_SNAPSHOT_VERSION + 1;
	memcpy(p + 8, &v, 4);
	ok(refused_with(p, valid->len, 0, HS_EVERSION, "version 2"),
	   "a newer version is refused, naming it: %s", hs_errmsg());
	save(path, p, valid->len);
	hs_graph_init(&g);
	err = hs_snapshot_read(path, 0, &g, back);
	ok(err == HS_EVERSION && strstr(hs_errmsg(), "version 2"), "the same from a file");
	v = 0xffffffffu;
	memcpy(p + 8, &v, 4);
	ok(refused_with(p, valid->len, 0, HS_EVERSION, "4294967295"),
	   "version 4294967295 is newer too");
	v = 0;
	memcpy(p + 8, &v, 4);
	ok(refused_with(p, valid->len, 0, HS_EFORMAT, NULL), "version 0 is refused");

	memcpy(p, valid->p, valid->len);
	memcpy(p + valid->len, "garbage!", 8);
	ok(refused_with(p, valid->len + 8, 0, HS_EFORMAT, "after its end"),
	   "trailing garbage after the zstd frame is refused");
	save(path, p, valid->len + 8);
	hs_graph_init(&g);
	err = hs_snapshot_read(path, 0, &g, back);
	ok(err == HS_EFORMAT && strstr(hs_errmsg(), "after its end") && is_empty(&g),
	   "the same from a file");
	memcpy(p + valid->len, valid->p + HEADER_LEN, 16);
	ok(refused_with(p, valid->len + 16, 0, HS_EFORMAT, NULL),
	   "the start of a second zstd frame after the first is refused");
	unlink(path);
	free(p);
	free(back);
}

/* A header that says it is longer: the reader skips what it does not know. */
static void test_longer_header(const struct bytes *valid, const struct hs_graph *want)
{
	struct hs_capinfo *back = malloc(sizeof(*back));
	unsigned char *p = malloc(valid->len + 64);
	uint32_t header_len = HEADER_LEN + 64;
	struct hs_graph g;
	int err;

	memcpy(p, valid->p, HEADER_LEN);
	memset(p + HEADER_LEN, 0xee, 64);
	memcpy(p + HEADER_LEN + 64, valid->p + HEADER_LEN, valid->len - HEADER_LEN);
	memcpy(p + 12, &header_len, 4);
	err = read_mem(p, valid->len + 64, 0, &g, back);
	ok(err == 0 && same_graph(want, &g), "a longer header is skipped (%s)",
	   err ? hs_errmsg() : "ok");
	if (!err)
		hs_graph_release(&g);
	header_len = HEADER_LEN - 1;
	memcpy(p + 12, &header_len, 4);
	ok(refused_with(p, valid->len + 64, 0, HS_EFORMAT, NULL), "a shorter header is refused");
	header_len = (uint32_t)valid->len + 65;
	memcpy(p + 12, &header_len, 4);
	ok(refused_with(p, valid->len + 64, 0, HS_EFORMAT, NULL),
	   "a header longer than the file is refused");
	free(p);
	free(back);
}

static void test_truncations(const struct bytes *valid)
{
	size_t bad = 0, first = SIZE_MAX;

	for (size_t len = 0; len < valid->len; len++)
		if (!refused_with(valid->p, len, 0, 0, NULL) && bad++ == 0)
			first = len;
	ok(bad == 0, "every one of the %zu truncations is refused (%zu not, first at %zu)",
	   valid->len, bad, first == SIZE_MAX ? (size_t)0 : first);
}

/*
 * Flip bits of every byte.  A flip in the header's magic, version or
 * length must be refused, and one in its reserved bytes must not matter.
 * In the zstd frame a flip must be refused, unless it leaves what is
 * decoded unchanged (a larger window, a bit of an unused code): the frame
 * checksum covers the content, so such a read must give the original graph
 * (the positions are listed).
 */
static void test_flips(const struct bytes *valid, const struct hs_graph *want)
{
	static const unsigned char masks[] = {0x01, 0x10, 0x80, 0xff};
	struct hs_capinfo *back = malloc(sizeof(*back));
	unsigned char *p = malloc(valid->len);
	size_t reads = 0, header_refused = 0, reserved_read = 0, frame_refused = 0;
	size_t frame_same = 0, wrong = 0;

	memcpy(p, valid->p, valid->len);
	for (size_t pos = 0; pos < valid->len; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			struct hs_graph g;
			bool same;
			int err;

			p[pos] ^= masks[m];
			err = read_mem(p, valid->len, 0, &g, back);
			p[pos] ^= masks[m];
			reads++;
			same = !err && same_graph(want, &g);
			if (err)
				wrong += !is_empty(&g);
			else
				hs_graph_release(&g);
			if (pos < 16)
				header_refused += err < 0;
			else if (pos < HEADER_LEN)
				reserved_read += same;
			else if (err < 0)
				frame_refused++;
			else if (same && ++frame_same)
				diag("flip 0x%02x at %zu (frame byte %zu) decodes the same", masks[m],
				     pos, pos - HEADER_LEN);
			else
				wrong++;
		}
	}
	ok(header_refused == 16 * sizeof(masks), "every flip in the header's first 16 bytes is "
	   "refused (%zu of %zu)", header_refused, 16 * sizeof(masks));
	ok(reserved_read == 16 * sizeof(masks), "every flip in the reserved bytes reads the same "
	   "graph (%zu of %zu)", reserved_read, 16 * sizeof(masks));
	ok(wrong == 0 && frame_refused + frame_same == reads - 32 * sizeof(masks),
	   "%zu flips in the zstd frame: %zu refused, %zu decode the same, %zu read wrong",
	   reads - 32 * sizeof(masks), frame_refused, frame_same, wrong);
	ok(frame_same * 100 < reads, "almost all flips in the frame are refused");
	free(p);
	free(back);
}

/* Crafted streams whose indexes or records are wrong. */
static void test_bad_records(const struct stream *base)
{
	struct stream s;
	uint64_t est[4] = {0, 2, 1, 3};
	uint64_t addr0;

	s = copy_stream(base);
	patch_u32(&s, T_EDGES, 0, 3);
	crafted_refused(&s, HS_EFORMAT, "edge", "an edge dst out of range");
	s = copy_stream(base);
	patch_u32(&s, T_EDGES, 4, L(ATTR, 3));
	crafted_refused(&s, HS_EFORMAT, "edge", "an ATTR label naming an object out of range");
	s = copy_stream(base);
	patch_u32(&s, T_EDGES, 4, L(SLOT, 1));
	crafted_refused(&s, HS_EFORMAT, "edge", "a SLOT label naming a name out of range");
	s = copy_stream(base);
	patch_u32(&s, T_EDGES, 4, HS_EDGE_LABEL(HS_EDGE_STACK + 1, 0));
	crafted_refused(&s, HS_EFORMAT, "edge", "an edge label of an unknown kind");
	s = copy_stream(base);
	patch_u32(&s, T_OTYPE, 4, 2);
	crafted_refused(&s, HS_EFORMAT, "object type", "an object type index out of range");
	s = copy_stream(base);
	patch(&s, T_EDGE_START, 0, est, sizeof(est));
	crafted_refused(&s, HS_EFORMAT, "edge lists at 1", "edge_start not monotone");
	s = copy_stream(base);
	patch_u64(&s, T_EDGE_START, 0, 1);
	crafted_refused(&s, HS_EFORMAT, "edge lists", "edge_start not starting at 0");
	s = copy_stream(base);
	patch_u64(&s, T_EDGE_START, 24, 2);
	crafted_refused(&s, HS_EFORMAT, "edge lists", "edge_start not ending at the edge count");
	s = copy_stream(base);
	drop_section(&s, T_EDGE_START);
	insert_section(&s, T_EDGES, T_EDGE_START, 0, "\0\0\0\0\0\0\0\0", 8);
	crafted_refused(&s, HS_EFORMAT, "edge lists", "edge_start with fewer than count + 1 entries");
	s = copy_stream(base);
	patch(&s, T_GEN, 1, "\x05", 1);
	crafted_refused(&s, HS_EFORMAT, "generation", "a generation > 4");
	s = copy_stream(base);
	memcpy(&addr0, s.p + must_find(&s, T_ADDR) + sizeof(struct section_head), 8);
	patch_u64(&s, T_ADDR, 16, addr0);
	crafted_refused(&s, HS_EFORMAT, "duplicate object address", "duplicate object addresses");
	s = copy_stream(base);
	patch_u64(&s, T_ADDR, 8, 0);
	crafted_refused(&s, HS_EFORMAT, "(object address", "an object at address 0");
	s = copy_stream(base);
	append_to(&s, T_SIZE, "\0\0\0\0\0\0\0\0", 8);
	crafted_refused(&s, HS_EFORMAT, "columns", "one object column longer than the others");

	s = copy_stream(base);
	patch_u32(&s, T_TEXTS, 4, (uint32_t)section_len(&s, T_POOL));
	crafted_refused(&s, HS_EFORMAT, "text", "a text offset past the pool");
	s = copy_stream(base);
	patch_u32(&s, T_TEXTS, 0, 3);
	crafted_refused(&s, HS_EFORMAT, "text", "a text of an object out of range");
	s = copy_stream(base);
	append_to(&s, T_TEXTS, (uint32_t[]){1, 0}, 8);
	crafted_refused(&s, HS_EFORMAT, "text", "two texts of one object (unsorted)");
	s = copy_stream(base);
	patch(&s, T_POOL, section_len(&s, T_POOL) - 1, "x", 1);
	crafted_refused(&s, HS_EFORMAT, "string pool", "a pool not NUL-terminated");
	s = copy_stream(base);
	patch_u32(&s, T_NAMES, 0, (uint32_t)section_len(&s, T_POOL));
	crafted_refused(&s, HS_EFORMAT, "name", "a name offset past the pool");

	s = copy_stream(base);
	patch_u32(&s, T_ROOTS, 0, 3);
	crafted_refused(&s, HS_EFORMAT, "root", "a root obj out of range");
	s = copy_stream(base);
	patch_u32(&s, T_ROOTS, 4, HS_ROOT_THREAD + 1);
	crafted_refused(&s, HS_EFORMAT, "root kind", "a root of an unknown kind");
	s = copy_stream(base);
	patch_u32(&s, T_ROOTS, 8, 1);
	crafted_refused(&s, HS_EFORMAT, "root", "a thread root of a thread out of range");
	s = copy_stream(base);
	patch_u32(&s, T_ROOTS, 12, 1);
	crafted_refused(&s, HS_EFORMAT, "root", "a root in a frame out of range");
	s = copy_stream(base);
	patch_u32(&s, T_ROOTS, 16, L(LOCAL, 3));
	crafted_refused(&s, HS_EFORMAT, "root", "a root label naming an object out of range");
	s = copy_stream(base);
	patch_u32(&s, T_FRAMES, 0, 1);
	crafted_refused(&s, HS_EFORMAT, "frame", "a frame thread out of range");
	s = copy_stream(base);
	patch_u32(&s, T_FRAMES, 8, 3);
	crafted_refused(&s, HS_EFORMAT, "frame", "a frame code object out of range");
	s = copy_stream(base);
	patch_u32(&s, T_CHECKS, CHECK_REC - 8, HS_CHECK_UNAVAILABLE + 1);
	crafted_refused(&s, HS_EFORMAT, "check", "a layout check of an unknown status");
}

/* Crafted streams whose variable-length records or metadata are wrong. */
static void test_bad_text_records(const struct stream *base)
{
	static const struct {
		const char *meta;
		size_t len;
		const char *what;
	} metas[] = {
		{"pid\0", 4, "a metadata key without a value"},
		{"pid\0-1\0", 7, "a negative pid"},
		{"pid\0" "2147483648\0", 15, "a pid past INT32_MAX"},
		{"taken_at\0" "12x\0", 13, "a time that is not a number"},
		{"os_threads\0\0", 12, "an empty count"},
		{"bytes_read\0-5\0", 14, "a negative count"},
		{"guard_pages\0" "4294967296\0", 23, "a count past its field"},
		{"debug_build\0" "2\0", 14, "a flag of 2"},
		{"gc_collecting\0" "2\0", 16, "a collecting flag of 2"},
		{"layout_ms\0fast\0", 15, "a duration that is not a number"},
		{"origin\0moon\0", 12, "an unknown origin"},
		{"skip.limits\0" "18446744073709551616\0", 33, "a skip count past 64 bits"},
		{"gc.0\0" "1e3\0", 9, "a GC total that is not an integer"},
	};
	struct stream s;

	for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
		s = copy_stream(base);
		append_to(&s, T_META, metas[i].meta, metas[i].len);
		crafted_refused(&s, HS_EFORMAT, NULL, metas[i].what);
	}
	s = copy_stream(base);
	append_to(&s, T_TYPES, "\1\2\3\4\5\6\7\0\0c\0", 11);
	crafted_refused(&s, HS_EFORMAT, "types", "a type record without its module");
	s = copy_stream(base);
	append_to(&s, T_TYPES, "\1\2\3", 3);
	crafted_refused(&s, HS_EFORMAT, "types", "a type record cut in its address");
	s = copy_stream(base);
	append_to(&s, T_THREADS, "\1\0\0\0\0\0\0\0" "\2\0\0\0\0\0\0\0" "\0\0\0\0" "\1" "name", 25);
	crafted_refused(&s, HS_EFORMAT, "threads", "a thread name without its NUL");
	s = copy_stream(base);
	append_to(&s, T_THREADS, "\1\0\0\0\0\0\0\0" "\2\0\0", 11);
	crafted_refused(&s, HS_EFORMAT, "threads", "a thread record cut short");
	s = copy_stream(base);
	append_to(&s, T_FIELDS, "NO_NUL", 6);
	crafted_refused(&s, HS_EFORMAT, "field names", "a field name without its NUL");
	s = copy_stream(base);
	set_len(&s, must_find(&s, T_END), 1);
	crafted_refused(&s, HS_EFORMAT, "end marker", "an end marker with a length");
	s = copy_stream(base);
	splice_at(&s, s.len, 0, "x", 1);
	crafted_refused(&s, HS_EFORMAT, "after its end", "a byte after the end marker, in the frame");
}

/* Sections of the wrong length, repeated, missing, or not known. */
static void test_bad_sections(const struct stream *base, const struct stream *empty,
			      const struct hs_graph *want)
{
	static const struct {
		uint32_t tag;
		size_t elem;
	} fixed[] = {
		{T_ADDR, 8}, {T_SIZE, 8}, {T_OTYPE, 4}, {T_REFCNT, 4}, {T_EDGE_START, 8},
		{T_EDGES, 8}, {T_ROOTS, ROOT_REC}, {T_FRAMES, 12}, {T_TEXTS, 8}, {T_NAMES, 4},
		{T_CHECKS, CHECK_REC},
	};
	struct hs_capinfo *back = malloc(sizeof(*back));
	struct section_head *many;
	struct stream s;
	struct hs_graph g;
	size_t bad;
	int err;

	bad = 0;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		struct bytes b;

		s = copy_stream(base);
		append_to(&s, fixed[i].tag, "\0", 1);
		b = pack(&s);
		bad += !refused(&b, HS_EFORMAT, NULL);
		free(b.p);
		free(s.p);
	}
	ok(bad == 0, "a length not a multiple of the record size is refused in each of the "
	   "%zu sections of records (%zu not)", sizeof(fixed) / sizeof(fixed[0]), bad);

	bad = 0;
	for (size_t i = 0; i < TAG_COUNT; i++) {
		struct bytes b;

		s = copy_stream(base);
		repeat_section(&s, all_tags[i]);
		b = pack(&s);
		if (!refused(&b, HS_EFORMAT, "repeated section"))
			bad++, diag("repeated %.4s read", (const char *)&all_tags[i]);
		free(b.p);
		free(s.p);
		s = copy_stream(empty);
		repeat_section(&s, all_tags[i]);
		b = pack(&s);
		if (!refused(&b, HS_EFORMAT, "repeated section"))
			bad++, diag("repeated %.4s of an empty graph read", (const char *)&all_tags[i]);
		free(b.p);
		free(s.p);
	}
	ok(bad == 0, "each of the %zu sections repeated is refused, empty or not (%zu not)",
	   TAG_COUNT, bad);

	bad = 0;
	for (size_t i = 0; i < TAG_COUNT; i++) {
		struct bytes b;

		s = copy_stream(base);
		drop_section(&s, all_tags[i]);
		b = pack(&s);
		if (!refused(&b, HS_EFORMAT, NULL))
			bad++, diag("missing %.4s read", (const char *)&all_tags[i]);
		free(b.p);
		free(s.p);
		s = copy_stream(empty);
		drop_section(&s, all_tags[i]);
		b = pack(&s);
		if (!refused(&b, HS_EFORMAT, "missing"))
			bad++, diag("missing %.4s of an empty graph read", (const char *)&all_tags[i]);
		free(b.p);
		free(s.p);
	}
	ok(bad == 0, "each of the %zu sections missing is refused, empty or not (%zu not)",
	   TAG_COUNT, bad);
	s = copy_stream(base);
	drop_section(&s, T_END);
	crafted_refused(&s, HS_EFORMAT, "truncated", "a stream without its end marker");

	s = copy_stream(base);
	insert_section(&s, T_ADDR, TAG('X', 'T', 'R', 'A'), 0, "future data", 11);
	insert_section(&s, T_END, TAG('L', 'A', 'S', 'T'), 0x7ffffffe, "", 0);
	err = crafted_read(&s, &g, back);
	ok(err == 0 && same_graph(want, &g), "unknown sections without SNAP_REQUIRED are skipped");
	if (!err)
		hs_graph_release(&g);
	s = copy_stream(base);
	insert_section(&s, T_END, TAG('X', 'T', 'R', 'A'), REQUIRED | 2, "future data", 11);
	crafted_refused(&s, HS_EVERSION, "feature", "an unknown section with SNAP_REQUIRED");
	s = copy_stream(base);
	many = calloc(5000, sizeof(*many));
	for (int i = 0; i < 5000; i++)
		many[i].tag = TAG('X', 'T', 'R', 'A');
	splice_at(&s, must_find(&s, T_END), 0, many, 5000 * sizeof(*many));
	free(many);
	crafted_refused(&s, HS_EFORMAT, "too many sections", "5000 empty sections");
	free(back);
}

/* Sizes: the limit, and lengths claimed far beyond the data. */
static void test_limits(const struct bytes *valid, const struct stream *base)
{
	static const uint32_t huge_tags[] = {T_ADDR, T_EDGES, T_META, T_TYPES, T_POOL,
					     TAG('X', 'T', 'R', 'A')};
	struct hs_capinfo *back = malloc(sizeof(*back));
	uint64_t payload = base->len;
	struct stream s;
	struct hs_graph g;
	size_t bad;
	int err;

	ok(refused_with(valid->p, valid->len, payload - 1, HS_EFORMAT, "limit"),
	   "a limit one byte below the payload (%llu bytes) is refused",
	   (unsigned long long)payload);
	err = read_mem(valid->p, valid->len, payload, &g, back);
	ok(err == 0, "a limit of exactly the payload is enough");
	if (!err)
		hs_graph_release(&g);
	ok(refused_with(valid->p, valid->len, 100, HS_EFORMAT, "limit"), "a limit of 100 bytes");

	/* 48 GiB is under the default limit (64 GiB) but more than this
	 * machine could allocate: a reader that allocates before the data
	 * arrives fails with HS_ENOMEM (or dies under ASan), not "truncated" */
	bad = 0;
	for (size_t i = 0; i < sizeof(huge_tags) / sizeof(huge_tags[0]); i++) {
		struct bytes b;

		s = copy_stream(base);
		if (find_section(&s, huge_tags[i]) == SIZE_MAX)
			insert_section(&s, T_END, huge_tags[i], 0, "", 0);
		set_len(&s, must_find(&s, huge_tags[i]), 48ull << 30);
		b = pack(&s);
		bad += !refused(&b, HS_EFORMAT, "truncated");
		free(b.p);
		free(s.p);
	}
	ok(bad == 0, "a section claiming 48 GiB fails as truncated without allocating it "
	   "(%zu sections tried, %zu not)", sizeof(huge_tags) / sizeof(huge_tags[0]), bad);
	s = copy_stream(base);
	set_len(&s, must_find(&s, T_EDGES), 1ull << 62);
	crafted_refused(&s, HS_EFORMAT, "limit", "a section claiming 2^62 bytes is over the limit");
	s = copy_stream(base);
	set_len(&s, must_find(&s, T_EDGES), UINT64_MAX);
	crafted_refused(&s, HS_EFORMAT, NULL, "a section claiming 2^64 - 1 bytes");
	free(back);
}

/* Edges label FIELDs by the writer's numbers; FLDS maps them to ours by
 * name, so a file written with another field list reads right. */
static void test_field_renumbering(const struct stream *base)
{
	struct hs_capinfo *back = malloc(sizeof(*back));
	size_t len = 0, bad = 0, fields = 0;
	uint32_t old_edge = get_u32(base, T_EDGES, 4), old_root = get_u32(base, T_ROOTS, 36);
	char *names, *p;
	struct stream s;
	struct hs_graph g;
	int err;

	/* the writer's list: ours reversed */
	for (int i = 0; i < HS_F_COUNT; i++)
		len += strlen(hs_field_names[i]) + 1;
	p = names = malloc(len);
	for (int i = HS_F_COUNT - 1; i >= 0; i--)
		p = stpcpy(p, hs_field_names[i]) + 1;

	s = copy_stream(base);
	set_section(&s, T_FIELDS, names, len);
	err = crafted_read(&s, &g, back);
	ok(old_edge == FIELD(IS_MODULES) && old_root == FIELD(IS_SYSDICT),
	   "fixture: an edge labelled IS_MODULES, a root labelled IS_SYSDICT");
	ok(err == 0 && g.edges[0].label == L(FIELD, HS_F_COUNT - 1 - HS_F_IS_MODULES) &&
	   g.roots[1].label == L(FIELD, HS_F_COUNT - 1 - HS_F_IS_SYSDICT),
	   "FIELD labels of edges and roots are renumbered by name (edge %08x, root %08x)",
	   err ? 0 : g.edges[0].label, err ? 0 : g.roots[1].label);
	ok(err == 0 && g.edges[1].label == L(INDEX, 0) && g.edges[2].label == L(SLOT, 0) &&
	   g.roots[0].label == L(LOCAL, 1), "labels of other kinds are left alone");
	if (!err)
		hs_graph_release(&g);

	/* every field number, through a list with unknown names and gaps */
	s = copy_stream(base);
	set_section(&s, T_FIELDS, "NOT_A_FIELD\0IS_MODULES\0\0OB_TYPE\0", 32);
	patch_u32(&s, T_EDGES, 4, L(FIELD, 1));
	patch_u32(&s, T_EDGES, 12, L(FIELD, 3));
	patch_u32(&s, T_EDGES, 20, L(FIELD, 0));
	patch_u32(&s, T_ROOTS, 36, L(FIELD, 4));
	err = crafted_read(&s, &g, back);
	ok(err == 0 && g.edges[0].label == FIELD(IS_MODULES) && g.edges[1].label == FIELD(OB_TYPE) &&
	   g.edges[2].label == L(FIELD, HS_LABEL_NONE) && g.roots[1].label == L(FIELD, HS_LABEL_NONE),
	   "known names are mapped; unknown names and numbers past the list become none");
	if (!err)
		hs_graph_release(&g);

	s = copy_stream(base);
	set_section(&s, T_FIELDS, "", 0);
	patch_u32(&s, T_EDGES, 4, L(FIELD, HS_LABEL_NONE));
	err = crafted_read(&s, &g, back);
	ok(err == 0 && g.edges[0].label == L(FIELD, HS_LABEL_NONE) &&
	   g.roots[1].label == L(FIELD, HS_LABEL_NONE), "an empty list: every FIELD is none");
	if (!err)
		hs_graph_release(&g);

	for (int i = 0; i < HS_F_COUNT && !bad; i++) {
		s = copy_stream(base);
		set_section(&s, T_FIELDS, names, len);
		patch_u32(&s, T_EDGES, 4, L(FIELD, HS_F_COUNT - 1 - i));
		err = crafted_read(&s, &g, back);
		bad += err != 0 || g.edges[0].label != L(FIELD, i);
		fields++;
		if (!err)
			hs_graph_release(&g);
	}
	ok(bad == 0 && fields == HS_F_COUNT, "each of the %d fields is renumbered", HS_F_COUNT);
	free(names);
	free(back);
}

/* At exit: whatever a failed check left in the directory, then the
 * directory (the checks themselves list it before this runs). */
static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    unlinkat(dirfd(d), e->d_name, 0) < 0)
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/hs-test-snapshot-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		bail("mkdtemp");
	atexit(remove_tmpdir);
}

int main(void)
{
	struct hs_capinfo *info = malloc(sizeof(*info)), *empty_info = calloc(1, sizeof(*info));
	struct hs_graph small, empty;
	struct bytes valid, empty_file;
	struct stream base, empty_stream;

	make_tmpdir();
	test_round_trip();
	test_empty_graph();
	test_large_file();
	test_files();

	small_graph(&small, info);
	valid = written(&small, info);
	hs_graph_init(&empty);
	empty_file = written(&empty, empty_info);
	base = unpack(&valid);
	empty_stream = unpack(&empty_file);
	test_not_snapshots(&valid);
	test_longer_header(&valid, &small);
	test_truncations(&valid);
	test_flips(&valid, &small);
	test_bad_records(&base);
	test_bad_text_records(&base);
	test_bad_sections(&base, &empty_stream, &small);
	test_limits(&valid, &base);
	test_field_renumbering(&base);

	free(base.p);
	free(empty_stream.p);
	free(valid.p);
	free(empty_file.p);
	hs_graph_release(&small);
	free(info);
	free(empty_info);
	return done();
}
