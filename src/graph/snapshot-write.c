/*
 * Writing a snapshot: sections streamed through one zstd frame into a
 * temporary file beside the destination, renamed over it once complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "heapscope/error.h"
#include "heapscope/layout.h"
#include "heapscope/snapshot.h"
#include "snapshot-format.h"

#define COMPRESSION_LEVEL 3

struct sink {
	int fd;
	const char *path;     /* for messages */
	ZSTD_CCtx *cctx;
	unsigned char *out;
	size_t out_cap;
	int err;
};

static int write_all(struct sink *s, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(s->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return hs_error(HS_EIO, "cannot write %s: %s", s->path,
					n < 0 ? strerror(errno) : "short write");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Feed bytes to the compressor (mode ZSTD_e_end closes the frame). */
static int compress(struct sink *s, const void *data, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {data, len, 0};
	size_t left;

	if (s->err)
		return s->err;
	do {
		ZSTD_outBuffer out = {s->out, s->out_cap, 0};

		left = ZSTD_compressStream2(s->cctx, &out, &in, mode);
		if (ZSTD_isError(left))
			return s->err = hs_error(HS_EIO, "compressing %s: %s", s->path,
						 ZSTD_getErrorName(left));
		if (out.pos && (s->err = write_all(s, s->out, out.pos)) < 0)
			return s->err;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

static int put(struct sink *s, const void *data, size_t len)
{
	return len ? compress(s, data, len, ZSTD_e_continue) : s->err;
}

/* A section's header; its `len` bytes are put next. */
static int begin(struct sink *s, uint32_t tag, uint64_t len)
{
	struct snap_section h = {tag, 0, len};

	return put(s, &h, sizeof(h));
}

static int section(struct sink *s, uint32_t tag, const void *data, uint64_t len)
{
	return begin(s, tag, len) ?: put(s, data, (size_t)len);
}

static int meta_put(void *ctx, const char *key, const char *value)
{
	struct sink *s = ctx;

	return put(s, key, strlen(key) + 1) ?: put(s, value, strlen(value) + 1);
}

static int count_pair(void *ctx, const char *key, const char *value)
{
	*(uint64_t *)ctx += strlen(key) + strlen(value) + 2;
	return 0;
}

static uint64_t meta_len(const struct hs_graph *g, const struct hs_capinfo *info)
{
	uint64_t len = 0;

	snap_meta_emit(g, info, count_pair, &len);
	return len;
}

static int write_meta(struct sink *s, const struct hs_graph *g, const struct hs_capinfo *info)
{
	return begin(s, SNAP_META, meta_len(g, info)) ?: snap_meta_emit(g, info, meta_put, s);
}

static int write_checks(struct sink *s, const struct hs_check_list *list)
{
	int err = begin(s, SNAP_CHECKS, (uint64_t)list->count * sizeof(struct snap_check));

	for (unsigned i = 0; i < list->count && !err; i++) {
		const struct hs_check *c = &list->items[i];
		struct snap_check rec = {.expected = c->expected, .derived = c->derived,
					 .status = (uint32_t)c->status};

		snprintf(rec.source, sizeof(rec.source), "%s", c->source);
		snprintf(rec.what, sizeof(rec.what), "%s", c->what);
		err = put(s, &rec, sizeof(rec));
	}
	return err;
}

static int write_fields(struct sink *s)
{
	uint64_t len = 0;
	int err;

	for (int i = 0; i < HS_F_COUNT; i++)
		len += strlen(hs_field_names[i]) + 1;
	err = begin(s, SNAP_FIELDS, len);
	for (int i = 0; i < HS_F_COUNT && !err; i++)
		err = put(s, hs_field_names[i], strlen(hs_field_names[i]) + 1);
	return err;
}

static int write_types(struct sink *s, const struct hs_graph *g)
{
	uint64_t len = 0;
	int err;

	for (size_t i = 0; i < g->type_count; i++)
		len += 9 + strlen(g->types[i].name) + 1 + strlen(g->types[i].module) + 1;
	err = begin(s, SNAP_TYPES, len);
	for (size_t i = 0; i < g->type_count && !err; i++) {
		const struct hs_type *t = &g->types[i];

		err = put(s, &t->addr, 8) ?: put(s, &t->flags, 1) ?:
		      put(s, t->name, strlen(t->name) + 1) ?: put(s, t->module, strlen(t->module) + 1);
	}
	return err;
}

static int write_roots(struct sink *s, const struct hs_graph *g)
{
	int err = begin(s, SNAP_ROOTS, g->root_count * sizeof(struct snap_root));

	for (size_t i = 0; i < g->root_count && !err; i++) {
		const struct hs_root *r = &g->roots[i];
		struct snap_root rec = {r->obj, r->kind, r->detail, r->frame, r->label};

		err = put(s, &rec, sizeof(rec));
	}
	return err;
}

static int write_threads(struct sink *s, const struct hs_graph *g)
{
	uint64_t len = 0;
	int err;

	for (size_t i = 0; i < g->thread_count; i++)
		len += 21 + (g->threads[i].name ? strlen(g->threads[i].name) : 0) + 1;
	err = begin(s, SNAP_THREADS, len);
	for (size_t i = 0; i < g->thread_count && !err; i++) {
		const struct hs_thread *t = &g->threads[i];
		uint8_t named = t->name != NULL;
		const char *name = t->name ? t->name : "";

		err = put(s, &t->thread_id, 8) ?: put(s, &t->native_id, 8) ?:
		      put(s, &t->frames, 4) ?: put(s, &named, 1) ?: put(s, name, strlen(name) + 1);
	}
	return err;
}

static int write_graph(struct sink *s, const struct hs_graph *g, const struct hs_capinfo *info)
{
	size_t n = g->count;
	static const uint64_t no_edges = 0;

	return write_meta(s, g, info) ?:
	       write_checks(s, &info->checks) ?:
	       write_fields(s) ?:
	       write_types(s, g) ?:
	       section(s, SNAP_ADDR, g->addr, n * sizeof(*g->addr)) ?:
	       section(s, SNAP_SIZE, g->size, n * sizeof(*g->size)) ?:
	       section(s, SNAP_OTYPE, g->type, n * sizeof(*g->type)) ?:
	       section(s, SNAP_GEN, g->gen, n * sizeof(*g->gen)) ?:
	       section(s, SNAP_REFCNT, g->refcnt, n * sizeof(*g->refcnt)) ?:
	       section(s, SNAP_EDGE_START, g->edge_start ? (const void *)g->edge_start : &no_edges,
		       (n + 1) * sizeof(uint64_t)) ?:
	       section(s, SNAP_EDGES, g->edges, g->edge_count * sizeof(*g->edges)) ?:
	       write_roots(s, g) ?:
	       write_threads(s, g) ?:
	       section(s, SNAP_FRAMES, g->frames, g->frame_count * sizeof(*g->frames)) ?:
	       section(s, SNAP_TEXTS, g->texts, g->text_count * sizeof(*g->texts)) ?:
	       section(s, SNAP_NAMES, g->name_offsets, g->name_count * sizeof(*g->name_offsets)) ?:
	       section(s, SNAP_POOL, g->text_pool, g->pool_len) ?:
	       begin(s, SNAP_END, 0) ?:
	       compress(s, NULL, 0, ZSTD_e_end);
}

/* A temporary file in the destination's directory, so rename() is atomic. */
static int open_temp(const char *path, char *tmp, size_t tmplen)
{
	const char *slash = strrchr(path, '/');
	int n, fd;

	if (slash)
		n = snprintf(tmp, tmplen, "%.*s/.%s.tmp-XXXXXX", (int)(slash - path), path, slash + 1);
	else
		n = snprintf(tmp, tmplen, ".%s.tmp-XXXXXX", path);
	if (n < 0 || (size_t)n >= tmplen)
		return hs_error(HS_EUSAGE, "path too long: %s", path);
	/* mkstemp creates the file 0600; fchmod makes sure whatever the umask */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return hs_error(hs_error_from_errno(errno), "cannot create a file beside %s: %s", path,
				strerror(errno));
	if (fchmod(fd, 0600) < 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		return hs_error(HS_EIO, "cannot set the mode of %s: %s", tmp, strerror(e));
	}
	return fd;
}

int hs_snapshot_write(const char *path, const struct hs_graph *g,
		      const struct hs_capinfo *info)
{
	struct snap_header header = {.version = HS_SNAPSHOT_VERSION, .header_len = SNAP_HEADER_LEN};
	struct sink s = {.path = path};
	char tmp[PATH_MAX];
	int err;

	memcpy(header.magic, SNAP_MAGIC, SNAP_MAGIC_LEN);
	if (!path[0])
		return hs_error(HS_EUSAGE, "empty output path");
	if ((s.fd = open_temp(path, tmp, sizeof(tmp))) < 0)
		return s.fd;
	s.out_cap = ZSTD_CStreamOutSize();
	s.out = malloc(s.out_cap);
	s.cctx = ZSTD_createCCtx();
	if (!s.out || !s.cctx) {
		err = hs_error(HS_ENOMEM, "out of memory");
		goto out;
	}
	ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_compressionLevel, COMPRESSION_LEVEL);
	ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_checksumFlag, 1);
	err = write_all(&s, &header, sizeof(header)) ?: write_graph(&s, g, info);
	if (!err && fsync(s.fd) < 0)
		err = hs_error(HS_EIO, "cannot write %s: %s", path, strerror(errno));
out:
	ZSTD_freeCCtx(s.cctx);
	free(s.out);
	if (close(s.fd) < 0 && !err)
		err = hs_error(HS_EIO, "cannot write %s: %s", path, strerror(errno));
	if (!err && rename(tmp, path) < 0)
		err = hs_error(hs_error_from_errno(errno), "cannot rename %s to %s: %s", tmp, path,
			       strerror(errno));
	if (err)
		unlink(tmp);
	return err;
}
