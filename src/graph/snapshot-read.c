/*
 * Reading a snapshot.  The decompressed stream is pulled section by
 * section straight into the graph's arrays; a buffer grows only as data
 * actually arrives, so a header that claims a huge section costs nothing
 * until the bytes are there, and the total is capped.  Everything read is
 * checked (snapshot-check.c) before the graph is handed out.
 */
#include <errno.h>
#include <fcntl.h>
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

#define GROW_STEP (16u << 20)   /* first growth of a section buffer; later ones double */

struct source {
	ZSTD_DCtx *dctx;
	ZSTD_inBuffer in;
	int fd;                 /* < 0: all input is in `in` */
	unsigned char *buf;     /* file input buffer */
	size_t buf_cap;
	bool eof;               /* no more input */
	bool frame_done;        /* the zstd frame ended (checksum verified) */
	uint64_t produced, max;
};

static int truncated(void)
{
	return hs_error(HS_EFORMAT, "snapshot is truncated");
}

static int refill(struct source *s)
{
	ssize_t n;

	if (s->fd < 0) {
		s->eof = true;
		return 0;
	}
	do
		n = read(s->fd, s->buf, s->buf_cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return hs_error(HS_EIO, "cannot read snapshot: %s", strerror(errno));
	s->in = (ZSTD_inBuffer){s->buf, (size_t)n, 0};
	s->eof = n == 0;
	return 0;
}

/* One step of the decompressor into out; refills the input when it
 * stalls.  Buffered output is drained before more input is read. */
static int step(struct source *s, ZSTD_outBuffer *out)
{
	size_t before = out->pos, ret;
	int err;

	ret = ZSTD_decompressStream(s->dctx, out, &s->in);
	if (ZSTD_isError(ret))
		return hs_error(HS_EFORMAT, "snapshot is corrupt (%s)", ZSTD_getErrorName(ret));
	if (ret == 0)
		s->frame_done = true;
	if (out->pos == before && s->in.pos == s->in.size && !s->frame_done) {
		if (s->eof)
			return truncated();
		if ((err = refill(s)) < 0)
			return err;
	}
	return 0;
}

/* Exactly n decompressed bytes into dst. */
static int pull(struct source *s, void *dst, size_t n)
{
	ZSTD_outBuffer out = {dst, n, 0};
	int err;

	if (n > s->max - s->produced)
		return hs_error(HS_EFORMAT, "snapshot is larger than the limit of %llu bytes",
				(unsigned long long)s->max);
	while (out.pos < out.size) {
		if (s->frame_done)
			return truncated();
		if ((err = step(s, &out)) < 0)
			return err;
	}
	s->produced += n;
	return 0;
}

/* After the END section: the frame must end there and nothing follow. */
static int finish(struct source *s)
{
	unsigned char extra;
	int err;

	while (!s->frame_done) {
		ZSTD_outBuffer out = {&extra, 1, 0};

		if ((err = step(s, &out)) < 0)
			return err;
		if (out.pos)
			return hs_error(HS_EFORMAT, "snapshot has data after its end");
	}
	if (s->in.pos == s->in.size && !s->eof && (err = refill(s)) < 0)
		return err;
	if (s->in.pos < s->in.size)
		return hs_error(HS_EFORMAT, "snapshot has data after its end");
	return 0;
}

/* A whole section into a malloc'ed buffer that grows as bytes arrive. */
static int pull_alloc(struct source *s, uint64_t len, void **out)
{
	unsigned char *buf = NULL;
	uint64_t have = 0;
	int err;

	*out = NULL;
	if (len > s->max - s->produced)
		return hs_error(HS_EFORMAT, "snapshot is larger than the limit of %llu bytes",
				(unsigned long long)s->max);
	while (have < len) {
		/* double, but never past what has arrived by more than a step */
		uint64_t grow = have > GROW_STEP ? have : GROW_STEP;
		uint64_t cap = have + (grow < len - have ? grow : len - have);
		unsigned char *grown = realloc(buf, cap);

		if (!grown) {
			free(buf);
			return hs_error(HS_ENOMEM, "reading a snapshot section of %llu bytes",
					(unsigned long long)len);
		}
		buf = grown;
		if ((err = pull(s, buf + have, cap - have)) < 0) {
			free(buf);
			return err;
		}
		have = cap;
	}
	*out = buf;
	return 0;
}

static int skip(struct source *s, uint64_t len)
{
	unsigned char tmp[4096];
	int err;

	while (len) {
		size_t n = len < sizeof(tmp) ? (size_t)len : sizeof(tmp);

		if ((err = pull(s, tmp, n)) < 0)
			return err;
		len -= n;
	}
	return 0;
}

/* Cursor over a variable-length section. */
struct cursor {
	const unsigned char *p, *end;
};

static bool take(struct cursor *c, void *dst, size_t n)
{
	if ((size_t)(c->end - c->p) < n)
		return false;
	memcpy(dst, c->p, n);
	c->p += n;
	return true;
}

/* A NUL-terminated string at the cursor, or NULL. */
static const char *take_string(struct cursor *c)
{
	const unsigned char *nul = memchr(c->p, '\0', (size_t)(c->end - c->p));
	const char *s = (const char *)c->p;

	if (!nul)
		return NULL;
	c->p = nul + 1;
	return s;
}

static int bad(const char *what)
{
	return hs_error(HS_EFORMAT, "snapshot is corrupt (%s)", what);
}

/* Every section of this version; each must appear exactly once. */
static const uint32_t known_tags[] = {SNAP_META, SNAP_CHECKS, SNAP_FIELDS, SNAP_TYPES, SNAP_ADDR,
				      SNAP_SIZE, SNAP_OTYPE, SNAP_GEN, SNAP_REFCNT,
				      SNAP_EDGE_START, SNAP_EDGES, SNAP_ROOTS, SNAP_THREADS,
				      SNAP_FRAMES, SNAP_TEXTS, SNAP_NAMES, SNAP_POOL};
#define KNOWN_COUNT (sizeof(known_tags) / sizeof(known_tags[0]))

struct loaded {
	uint32_t seen;     /* bit i: known_tags[i] was read */
	uint32_t field_map[HS_F_COUNT * 4]; /* file's FIELD value -> ours */
	size_t field_count;
	size_t counts[5];  /* entries of the five object columns */
	size_t edge_start_count;
};

static int load_meta(struct cursor c, struct hs_graph *g, struct hs_capinfo *info)
{
	while (c.p < c.end) {
		const char *key = take_string(&c), *value = key ? take_string(&c) : NULL;
		int err;

		if (!value)
			return bad("metadata");
		if ((err = snap_meta_apply(g, info, key, value)) < 0)
			return err;
	}
	return 0;
}

static int load_checks(struct cursor c, struct hs_capinfo *info)
{
	struct snap_check rec;

	if ((size_t)(c.end - c.p) % sizeof(rec))
		return bad("layout checks");
	while (take(&c, &rec, sizeof(rec))) {
		struct hs_check k = {.expected = rec.expected, .derived = rec.derived};

		if (rec.status > HS_CHECK_UNAVAILABLE)
			return bad("layout check status");
		k.status = (enum hs_check_status)rec.status;
		snprintf(k.source, sizeof(k.source), "%.*s", (int)sizeof(rec.source), rec.source);
		snprintf(k.what, sizeof(k.what), "%.*s", (int)sizeof(rec.what), rec.what);
		hs_checks_add(&info->checks, &k);
	}
	return 0;
}

/* Field label values are positions in the writer's field list; map them
 * by name to ours, so a snapshot outlives changes to that list. */
static int load_fields(struct cursor c, struct loaded *l)
{
	const char *name;

	l->field_count = 0;
	while (c.p < c.end) {
		uint32_t ours = HS_LABEL_NONE;

		if (!(name = take_string(&c)) ||
		    l->field_count == sizeof(l->field_map) / sizeof(l->field_map[0]))
			return bad("field names");
		for (uint32_t i = 0; i < HS_F_COUNT; i++)
			if (!strcmp(hs_field_names[i], name)) {
				ours = i;
				break;
			}
		l->field_map[l->field_count++] = ours;
	}
	return 0;
}

static int load_types(struct cursor c, struct hs_graph *g)
{
	while (c.p < c.end) {
		uint64_t addr;
		uint8_t flags;
		const char *name, *module;
		char *n, *m;
		uint32_t id;

		if (!take(&c, &addr, 8) || !take(&c, &flags, 1) || !(name = take_string(&c)) ||
		    !(module = take_string(&c)))
			return bad("types");
		n = strdup(name);
		m = strdup(module);
		if (!n || !m) {
			free(n);
			free(m);
			return hs_error(HS_ENOMEM, "out of memory");
		}
		/* takes n and m, even when it fails */
		if ((id = hs_graph_add_type(g, addr, n, m)) == HS_NO_OBJECT)
			return hs_error(HS_ENOMEM, "out of memory");
		g->types[id].flags = flags;
	}
	return 0;
}

static int load_threads(struct cursor c, struct hs_graph *g)
{
	size_t cap = 0;

	while (c.p < c.end) {
		struct hs_thread t = {0};
		uint8_t named;
		const char *name;

		if (!take(&c, &t.thread_id, 8) || !take(&c, &t.native_id, 8) ||
		    !take(&c, &t.frames, 4) || !take(&c, &named, 1) || !(name = take_string(&c)))
			return bad("threads");
		if (g->thread_count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct hs_thread *grown = realloc(g->threads, ncap * sizeof(*grown));

			if (!grown)
				return hs_error(HS_ENOMEM, "out of memory");
			g->threads = grown;
			cap = ncap;
		}
		if (named && !(t.name = strdup(name)))
			return hs_error(HS_ENOMEM, "out of memory");
		g->threads[g->thread_count++] = t;
	}
	return 0;
}

static int load_roots(struct cursor c, struct hs_graph *g)
{
	struct snap_root rec;
	size_t n = (size_t)(c.end - c.p) / sizeof(rec);

	if ((size_t)(c.end - c.p) % sizeof(rec))
		return bad("roots");
	if (n && !(g->roots = calloc(n, sizeof(*g->roots))))
		return hs_error(HS_ENOMEM, "out of memory");
	g->root_cap = n;
	while (take(&c, &rec, sizeof(rec))) {
		if (rec.kind > HS_ROOT_THREAD)
			return bad("root kind");
		g->roots[g->root_count++] = (struct hs_root){rec.obj, (uint8_t)rec.kind, rec.detail,
							     rec.frame, rec.label};
	}
	return 0;
}

/* A section that is an array of `elem`-byte records: its count. */
static int array_count(uint64_t len, size_t elem, const char *what, size_t *count)
{
	if (len % elem)
		return bad(what);
	*count = (size_t)(len / elem);
	return 0;
}

enum { COL_ADDR, COL_SIZE, COL_TYPE, COL_GEN, COL_REFCNT };

static int load_section(struct source *s, const struct snap_section *h, struct loaded *l,
			struct hs_graph *g, struct hs_capinfo *info)
{
	static const struct {
		uint32_t tag;
		size_t elem;
		const char *what;
	} columns[5] = {
		[COL_ADDR] = {SNAP_ADDR, 8, "addresses"},
		[COL_SIZE] = {SNAP_SIZE, 8, "sizes"},
		[COL_TYPE] = {SNAP_OTYPE, 4, "object types"},
		[COL_GEN] = {SNAP_GEN, 1, "generations"},
		[COL_REFCNT] = {SNAP_REFCNT, 4, "refcounts"},
	};
	void **column_ptr[5] = {(void **)&g->addr, (void **)&g->size, (void **)&g->type,
				(void **)&g->gen, (void **)&g->refcnt};
	void *data;
	size_t n = 0;
	int err;

	for (int i = 0; i < 5; i++) {
		if (h->tag != columns[i].tag)
			continue;
		if ((err = array_count(h->len, columns[i].elem, columns[i].what, &n)) < 0 ||
		    (err = pull_alloc(s, h->len, column_ptr[i])) < 0)
			return err;
		l->counts[i] = n;
		return 0;
	}
	switch (h->tag) {
	case SNAP_EDGE_START:
		if ((err = array_count(h->len, 8, "edge lists", &l->edge_start_count)) < 0)
			return err;
		return pull_alloc(s, h->len, (void **)&g->edge_start);
	case SNAP_EDGES:
		if ((err = array_count(h->len, sizeof(struct hs_edge), "edges", &g->edge_count)) < 0)
			return err;
		g->edge_cap = g->edge_count;
		return pull_alloc(s, h->len, (void **)&g->edges);
	case SNAP_FRAMES:
		if ((err = array_count(h->len, sizeof(struct hs_frame), "frames", &g->frame_count)) < 0)
			return err;
		g->frame_cap = g->frame_count;
		return pull_alloc(s, h->len, (void **)&g->frames);
	case SNAP_TEXTS:
		if ((err = array_count(h->len, sizeof(struct hs_text), "texts", &g->text_count)) < 0)
			return err;
		g->text_cap = g->text_count;
		return pull_alloc(s, h->len, (void **)&g->texts);
	case SNAP_NAMES:
		if ((err = array_count(h->len, 4, "names", &g->name_count)) < 0)
			return err;
		g->name_cap = g->name_count;
		return pull_alloc(s, h->len, (void **)&g->name_offsets);
	case SNAP_POOL:
		g->pool_len = g->pool_cap = (size_t)h->len;
		return pull_alloc(s, h->len, (void **)&g->text_pool);
	}
	/* the small sections: read whole, then parse; an empty one has no
	 * buffer, and NULL + 0 is undefined, so its cursor is on "" */
	if ((err = pull_alloc(s, h->len, &data)) < 0)
		return err;
	const unsigned char *start = data ? data : (const void *)"";
	struct cursor c = {start, start + h->len};
	switch (h->tag) {
	case SNAP_META:
		err = load_meta(c, g, info);
		break;
	case SNAP_CHECKS:
		err = load_checks(c, info);
		break;
	case SNAP_FIELDS:
		err = load_fields(c, l);
		break;
	case SNAP_TYPES:
		err = load_types(c, g);
		break;
	case SNAP_ROOTS:
		err = load_roots(c, g);
		break;
	case SNAP_THREADS:
		err = load_threads(c, g);
		break;
	default:
		err = 0; /* not reached: unknown tags are skipped by the caller */
	}
	free(data);
	return err;
}

/* Position of a tag in known_tags, or -1. */
static int known_tag(uint32_t tag)
{
	for (size_t i = 0; i < KNOWN_COUNT; i++)
		if (known_tags[i] == tag)
			return (int)i;
	return -1;
}

static uint32_t map_label(const struct loaded *l, uint32_t label)
{
	uint32_t v = HS_EDGE_VALUE(label);

	if (HS_EDGE_KIND(label) != HS_EDGE_FIELD || v == HS_LABEL_NONE)
		return label;
	return HS_EDGE_LABEL(HS_EDGE_FIELD, v < l->field_count ? l->field_map[v] : HS_LABEL_NONE);
}

/* Cross-section consistency, field renumbering and the address index. */
static int assemble(struct loaded *l, struct hs_graph *g)
{
	size_t n = l->counts[COL_ADDR];

	if (l->seen != (1u << KNOWN_COUNT) - 1)
		return bad("a section is missing");
	for (int i = 0; i < 5; i++)
		if (l->counts[i] != n)
			return bad("object columns differ in length");
	if (n >= HS_NO_OBJECT - 1 || l->edge_start_count != n + 1)
		return bad("edge lists");
	g->count = g->cap = n;
	for (size_t i = 0; i < g->edge_count; i++)
		g->edges[i].label = map_label(l, g->edges[i].label);
	for (size_t i = 0; i < g->root_count; i++)
		g->roots[i].label = map_label(l, g->roots[i].label);
	return snap_graph_validate(g);
}

static int read_stream(struct source *s, struct hs_graph *g, struct hs_capinfo *info)
{
	struct loaded *l = calloc(1, sizeof(*l));
	struct snap_section h;
	int err = 0, known;

	if (!l)
		return hs_error(HS_ENOMEM, "out of memory");
	for (unsigned sections = 0; !err; sections++) {
		if (sections > 4096) {
			err = bad("too many sections");
			break;
		}
		if ((err = pull(s, &h, sizeof(h))) < 0)
			break;
		if (h.tag == SNAP_END) {
			err = h.len ? bad("end marker") : finish(s) ?: assemble(l, g);
			break;
		}
		known = known_tag(h.tag);
		if (known < 0 && (h.flags & SNAP_REQUIRED)) {
			err = hs_error(HS_EVERSION,
				       "snapshot needs a feature this heapscope lacks (section %08x)",
				       h.tag);
		} else if (known < 0) {
			err = skip(s, h.len);
		} else if (l->seen & 1u << known) {
			/* even an empty one: a repeat is not a file we wrote */
			err = bad("repeated section");
		} else {
			l->seen |= 1u << known;
			err = load_section(s, &h, l, g, info);
		}
	}
	free(l);
	return err;
}

static int check_header(const unsigned char *data, size_t len, size_t *skip_len)
{
	struct snap_header h;

	if (len < SNAP_MAGIC_LEN || memcmp(data, SNAP_MAGIC, SNAP_MAGIC_LEN))
		return hs_error(HS_EFORMAT, "not a heapscope snapshot");
	if (len < SNAP_HEADER_LEN)
		return truncated();
	memcpy(&h, data, sizeof(h));
	if (h.version > HS_SNAPSHOT_VERSION)
		return hs_error(HS_EVERSION,
				"snapshot format version %u is newer than this heapscope reads (%u)",
				h.version, HS_SNAPSHOT_VERSION);
	if (h.version == 0 || h.header_len < SNAP_HEADER_LEN || h.header_len > 4096)
		return bad("header");
	*skip_len = h.header_len;
	return 0;
}

bool hs_snapshot_magic(const void *head, size_t len)
{
	return len >= SNAP_MAGIC_LEN && !memcmp(head, SNAP_MAGIC, SNAP_MAGIC_LEN);
}

static int read_common(struct source *s, struct hs_graph *g, struct hs_capinfo *info)
{
	int err;

	memset(info, 0, sizeof(*info));
	if (!s->max)
		s->max = HS_SNAPSHOT_MAX_BYTES;
	if (!(s->dctx = ZSTD_createDCtx()))
		return hs_error(HS_ENOMEM, "out of memory");
	err = read_stream(s, g, info);
	ZSTD_freeDCtx(s->dctx);
	if (err < 0)
		hs_graph_release(g);
	return err;
}

int hs_snapshot_read_mem(const void *data, size_t len, uint64_t max_bytes,
			 struct hs_graph *g, struct hs_capinfo *info)
{
	struct source s = {.fd = -1, .max = max_bytes};
	size_t header_len;
	int err;

	if ((err = check_header(data, len, &header_len)) < 0)
		return err;
	if (header_len > len)
		return truncated();
	s.in = (ZSTD_inBuffer){(const unsigned char *)data + header_len, len - header_len, 0};
	s.eof = true;
	return read_common(&s, g, info);
}

int hs_snapshot_read(const char *path, uint64_t max_bytes, struct hs_graph *g,
		     struct hs_capinfo *info)
{
	struct source s = {.max = max_bytes};
	unsigned char head[4096];
	struct stat st;
	size_t header_len, have = 0;
	ssize_t n;
	int err;

	/* O_NONBLOCK: opening a FIFO must not hang; only regular files are read */
	s.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (s.fd < 0)
		return hs_error(hs_error_from_errno(errno), "cannot open %s: %s", path, strerror(errno));
	if (fstat(s.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(s.fd);
		return hs_error(HS_EFORMAT, "%s is not a regular file", path);
	}
	while (have < sizeof(head) && (n = read(s.fd, head + have, sizeof(head) - have)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = hs_error(HS_EIO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		have += (size_t)n;
	}
	if ((err = check_header(head, have, &header_len)) < 0)
		goto out;
	if (header_len > have) {
		err = truncated();
		goto out;
	}
	s.buf_cap = ZSTD_DStreamInSize() > sizeof(head) ? ZSTD_DStreamInSize() : sizeof(head);
	if (!(s.buf = malloc(s.buf_cap))) {
		err = hs_error(HS_ENOMEM, "out of memory");
		goto out;
	}
	/* what the header read took beyond the header is the first input */
	memcpy(s.buf, head + header_len, have - header_len);
	s.in = (ZSTD_inBuffer){s.buf, have - header_len, 0};
	s.eof = have < sizeof(head);
	err = read_common(&s, g, info);
out:
	free(s.buf);
	close(s.fd);
	return err;
}
