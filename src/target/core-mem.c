/*
 * The memory of a core file: bytes the core holds come from its mapping;
 * bytes of file mappings it left out come from those files, read in
 * chunks that are kept (so views of them work, as with the capture
 * image's lazy reads); reads and views may cross from one piece to the
 * next.
 */
#include "core-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heapscope/error.h"

#define PAGE 4096u
#define CHUNK (64u << 10)
#define MAX_CHUNKS 4096u          /* 256 MiB of file bytes kept at most */
#define CHUNK_SLOTS (2 * MAX_CHUNKS)
#define MAX_OPEN_FILES 32
#define MAX_STITCHES 1024u        /* views copied across a piece boundary */
#define MAX_STITCH_BYTES (64u << 20)
#define CHECK_LEN PAGE

enum file_state { FILE_UNCHECKED, FILE_OK, FILE_MISSING, FILE_MISMATCH };

struct core_file {
	char *path;
	int fd;            /* -1 when closed */
	uint64_t last_use;
	enum file_state state;
	int err;           /* FILE_MISSING: the code, with `why` */
	char *why;
};

struct chunk {
	uint64_t start, end; /* end < the piece's end: the file ends there */
	size_t seg;
	unsigned char *data;
};

struct stitch {
	uint64_t start;
	size_t len;
	unsigned char *data;
};

struct core_mem {
	struct hs_memsrc src;
	struct hs_files files;
	unsigned char *map;
	size_t map_len;
	struct core_seg *segs;
	size_t nsegs, segcap, last;
	struct core_file *cfiles;
	size_t nfiles, filecap, open_files;
	long *file_slots;    /* path hash -> index into cfiles, -1 empty */
	size_t file_slot_count;
	uint64_t clock;
	struct chunk *chunks;
	size_t nchunks;
	int32_t *chunk_slots; /* (seg, chunk base) hash -> index into chunks */
	struct stitch *stitches;
	size_t nstitches, stitch_bytes;
};

/* --- files ----------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int grow_file_slots(struct core_mem *m)
{
	size_t ncap = m->file_slot_count ? m->file_slot_count * 2 : 64;
	long *slots = malloc(ncap * sizeof(*slots));

	if (!slots)
		return HS_ENOMEM;
	for (size_t i = 0; i < ncap; i++)
		slots[i] = -1;
	for (size_t f = 0; f < m->nfiles; f++) {
		size_t i = hash_str(m->cfiles[f].path) & (ncap - 1);

		while (slots[i] >= 0)
			i = (i + 1) & (ncap - 1);
		slots[i] = (long)f;
	}
	free(m->file_slots);
	m->file_slots = slots;
	m->file_slot_count = ncap;
	return 0;
}

/* The index of `path` in cfiles, added if new; <0 on OOM. */
static long intern_file(struct core_mem *m, const char *path)
{
	size_t i;

	if (2 * (m->nfiles + 1) > m->file_slot_count && grow_file_slots(m) < 0)
		return HS_ENOMEM;
	for (i = hash_str(path) & (m->file_slot_count - 1); m->file_slots[i] >= 0;
	     i = (i + 1) & (m->file_slot_count - 1))
		if (strcmp(m->cfiles[m->file_slots[i]].path, path) == 0)
			return m->file_slots[i];
	if (m->nfiles == m->filecap) {
		size_t ncap = m->filecap ? m->filecap * 2 : 32;
		struct core_file *grown = realloc(m->cfiles, ncap * sizeof(*grown));

		if (!grown)
			return HS_ENOMEM;
		m->cfiles = grown;
		m->filecap = ncap;
	}
	m->cfiles[m->nfiles] = (struct core_file){.path = strdup(path), .fd = -1};
	if (!m->cfiles[m->nfiles].path)
		return HS_ENOMEM;
	m->file_slots[i] = (long)m->nfiles;
	return (long)m->nfiles++;
}

static void close_lru(struct core_mem *m)
{
	struct core_file *lru = NULL;

	for (size_t i = 0; i < m->nfiles; i++)
		if (m->cfiles[i].fd >= 0 && (!lru || m->cfiles[i].last_use < lru->last_use))
			lru = &m->cfiles[i];
	if (lru) {
		close(lru->fd);
		lru->fd = -1;
		m->open_files--;
	}
}

static int file_error(const struct core_mem *m, const struct core_file *f)
{
	if (f->state == FILE_MISMATCH)
		return hs_error(HS_EINCONSISTENT, "%s%s%s is not the file the process of %s "
				"mapped: its first page differs from the core's; pass the "
				"directory that holds the process's files with --sysroot",
				f->path, m->files.sysroot[0] ? " under " : "", m->files.sysroot,
				m->files.name);
	return hs_error(f->err, "%s", f->why ? f->why : "cannot open a mapped file");
}

/* An open fd of file f (kept open, at most MAX_OPEN_FILES at once). */
static int file_fd(struct core_mem *m, struct core_file *f)
{
	int fd;

	f->last_use = ++m->clock;
	if (f->fd >= 0)
		return f->fd;
	if (f->state == FILE_MISSING || f->state == FILE_MISMATCH)
		return file_error(m, f);
	if (m->open_files >= MAX_OPEN_FILES)
		close_lru(m);
	if ((fd = hs_files_open(&m->files, f->path)) < 0) {
		/* remembered: a missing file is not looked up again */
		f->state = FILE_MISSING;
		f->err = fd;
		f->why = strdup(hs_errmsg());
		return fd;
	}
	f->fd = fd;
	m->open_files++;
	return fd;
}

/* pread until len or end of file; the count read, or <0. */
static ssize_t read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Read len bytes of file f at off into buf.  Past the end of the file a
 * mapping reads zeros up to the end of that page (SIGBUS after it): the
 * bytes returned, that many, are valid.  <0 when nothing can be read.
 */
static int file_read(struct core_mem *m, long file, uint64_t off, void *buf, size_t len,
		     size_t *valid)
{
	struct core_file *f = &m->cfiles[file];
	int fd = file_fd(m, f);
	ssize_t got;
	uint64_t page_end;

	if (fd < 0)
		return fd;
	/* an offset no file can have (a hostile NT_FILE): off_t would wrap */
	if (off > (uint64_t)INT64_MAX - len)
		return hs_error(HS_EFAULT, "offset 0x%llx of %s is out of range",
				(unsigned long long)off, f->path);
	if ((got = read_at(fd, buf, len, off)) < 0)
		return hs_error(HS_EIO, "cannot read %s: %s", f->path, strerror(errno));
	*valid = (size_t)got;
	if ((size_t)got < len) {
		page_end = (off + (uint64_t)got + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		*valid = page_end - off < len ? (size_t)(page_end - off) : len;
		memset((char *)buf + got, 0, *valid - (size_t)got);
	}
	return 0;
}

/* --- chunks of files ------------------------------------------------- */

static size_t chunk_slot(uint64_t base, size_t seg)
{
	uint64_t h = (base >> 16) * 0x9e3779b97f4a7c15ull ^ (uint64_t)seg * 0xc2b2ae3d27d4eb4full;

	return (size_t)(h >> 32) & (CHUNK_SLOTS - 1);
}

/*
 * The chunk of file bytes holding raddr in piece s (raddr in [dump_end,
 * end)): 0 and *out, or *out NULL when the cache is full; <0 when the
 * file cannot be read.
 */
static int chunk_get(struct core_mem *m, const struct core_seg *s, uint64_t raddr,
		     const struct chunk **out)
{
	size_t seg = (size_t)(s - m->segs), i;
	uint64_t base = raddr & ~(uint64_t)(CHUNK - 1);
	struct chunk c = {.seg = seg};
	size_t valid;
	int err;

	*out = NULL;
	if (!m->chunk_slots) {
		int32_t *slots = malloc(CHUNK_SLOTS * sizeof(*slots));
		struct chunk *chunks = malloc(MAX_CHUNKS * sizeof(*chunks));

		if (!slots || !chunks) {
			free(slots);
			free(chunks);
			return hs_error(HS_ENOMEM, "reading mapped files");
		}
		memset(slots, 0xff, CHUNK_SLOTS * sizeof(*slots));
		m->chunk_slots = slots;
		m->chunks = chunks;
	}
	c.start = base < s->dump_end ? s->dump_end : base;
	c.end = s->end - base > CHUNK ? base + CHUNK : s->end;
	for (i = chunk_slot(base, seg); m->chunk_slots[i] >= 0; i = (i + 1) & (CHUNK_SLOTS - 1)) {
		const struct chunk *k = &m->chunks[m->chunk_slots[i]];

		if (k->seg == seg && k->start == c.start) {
			*out = k;
			return 0;
		}
	}
	if (m->nchunks >= MAX_CHUNKS)
		return 0;
	if (!(c.data = malloc(c.end - c.start)))
		return hs_error(HS_ENOMEM, "reading mapped files");
	err = file_read(m, s->file, s->file_off + (c.start - s->start), c.data, c.end - c.start,
			&valid);
	if (err < 0) {
		free(c.data);
		return err;
	}
	c.end = c.start + valid;
	m->chunks[m->nchunks] = c;
	m->chunk_slots[i] = (int32_t)m->nchunks;
	*out = &m->chunks[m->nchunks++];
	return 0;
}

/* Up to len bytes at raddr in the file part of s: *n copied. */
static int file_bytes(struct core_mem *m, const struct core_seg *s, uint64_t raddr,
		      unsigned char *out, size_t len, size_t *n)
{
	const struct chunk *c;
	size_t valid;
	int err;

	if ((err = chunk_get(m, s, raddr, &c)) < 0)
		return err;
	if (c) {
		if (raddr >= c->end)
			goto past_end;
		*n = c->end - raddr < len ? (size_t)(c->end - raddr) : len;
		memcpy(out, c->data + (raddr - c->start), *n);
		return 0;
	}
	/* the cache is full: read directly */
	if (len > s->end - raddr)
		len = (size_t)(s->end - raddr);
	if ((err = file_read(m, s->file, s->file_off + (raddr - s->start), out, len, &valid)) < 0)
		return err;
	if (!valid)
		goto past_end;
	*n = valid;
	return 0;
past_end:
	return hs_error(HS_EFAULT, "address 0x%llx is past the end of %s",
			(unsigned long long)raddr, m->cfiles[s->file].path);
}

/* --- reads and views ------------------------------------------------- */

static const struct core_seg *seg_of(struct core_mem *m, uint64_t raddr)
{
	size_t lo = 0, hi = m->nsegs;

	if (m->nsegs && raddr >= m->segs[m->last].start && raddr < m->segs[m->last].end)
		return &m->segs[m->last];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (raddr < m->segs[mid].start)
			hi = mid;
		else if (raddr >= m->segs[mid].end)
			lo = mid + 1;
		else
			return &m->segs[m->last = mid];
	}
	return NULL;
}

static int mem_read(struct core_mem *m, uint64_t raddr, unsigned char *out, size_t len)
{
	/* a read may span adjacent pieces (e.g. two neighbouring mappings) */
	while (len) {
		const struct core_seg *s = seg_of(m, raddr);
		size_t n = 0;
		int err;

		if (!s)
			return hs_error(HS_EFAULT, "address 0x%llx not in the core file",
					(unsigned long long)raddr);
		if (raddr < s->core_end) {
			n = s->core_end - raddr < len ? (size_t)(s->core_end - raddr) : len;
			memcpy(out, s->data + (raddr - s->start), n);
		} else if (raddr < s->dump_end) {
			return hs_error(HS_EFAULT, "address 0x%llx is past the end of the truncated "
					"core file", (unsigned long long)raddr);
		} else if (s->file < 0) {
			return hs_error(HS_EFAULT, "address 0x%llx is not in the core file (not "
					"dumped)", (unsigned long long)raddr);
		} else {
			size_t want = s->end - raddr < len ? (size_t)(s->end - raddr) : len;

			if ((err = file_bytes(m, s, raddr, out, want, &n)) < 0)
				return err;
		}
		if (!n) /* cannot happen; never loop without progress */
			return hs_error(HS_EFAULT, "address 0x%llx is not readable",
					(unsigned long long)raddr);
		out += n;
		raddr += n;
		len -= n;
	}
	return 0;
}

static int core_read(struct hs_memsrc *src, uint64_t raddr, void *buf, size_t len)
{
	if (len > HS_MEMSRC_MAX_READ)
		return hs_error(HS_EUSAGE, "read of %zu bytes is too large", len);
	return mem_read((struct core_mem *)src, raddr, buf, len);
}

/* A view across pieces: the bytes copied once and kept until the source
 * is freed (bounded; the capture image copies adjacent mappings into one
 * buffer for the same reason). */
static const void *stitch(struct core_mem *m, uint64_t raddr, size_t len)
{
	struct stitch *st;

	for (size_t i = 0; i < m->nstitches; i++) {
		st = &m->stitches[i];
		if (raddr >= st->start && raddr - st->start <= st->len &&
		    len <= st->len - (raddr - st->start))
			return st->data + (raddr - st->start);
	}
	if (!len || len > HS_MEMSRC_MAX_READ || len > MAX_STITCH_BYTES - m->stitch_bytes ||
	    m->nstitches >= MAX_STITCHES)
		return NULL;
	if (!m->stitches && !(m->stitches = malloc(MAX_STITCHES * sizeof(*m->stitches))))
		return NULL;
	st = &m->stitches[m->nstitches];
	if (!(st->data = malloc(len)))
		return NULL;
	if (mem_read(m, raddr, st->data, len) < 0) {
		free(st->data);
		return NULL;
	}
	st->start = raddr;
	st->len = len;
	m->nstitches++;
	m->stitch_bytes += len;
	return st->data;
}

static const void *core_view(struct hs_memsrc *src, uint64_t raddr, size_t len)
{
	struct core_mem *m = (struct core_mem *)src;
	const struct core_seg *s = seg_of(m, raddr);
	const struct chunk *c;

	if (!s)
		return NULL;
	if (raddr < s->core_end) {
		if (len <= s->run_end - raddr)
			return s->data + (raddr - s->start);
	} else if (raddr >= s->dump_end && s->file >= 0) {
		if (chunk_get(m, s, raddr, &c) < 0)
			return NULL;
		if (c && raddr < c->end && len <= c->end - raddr)
			return c->data + (raddr - c->start);
	} else {
		return NULL;
	}
	return stitch(m, raddr, len);
}

static void core_free(struct hs_memsrc *src)
{
	struct core_mem *m = (struct core_mem *)src;

	for (size_t i = 0; i < m->nfiles; i++) {
		if (m->cfiles[i].fd >= 0)
			close(m->cfiles[i].fd);
		free(m->cfiles[i].path);
		free(m->cfiles[i].why);
	}
	for (size_t i = 0; i < m->nchunks; i++)
		free(m->chunks[i].data);
	for (size_t i = 0; i < m->nstitches; i++)
		free(m->stitches[i].data);
	if (m->map)
		munmap(m->map, m->map_len);
	free(m->cfiles);
	free(m->file_slots);
	free(m->chunks);
	free(m->chunk_slots);
	free(m->stitches);
	free(m->segs);
	free(m);
}

static const struct hs_memsrc_ops core_ops = {
	.read = core_read,
	.view = core_view,
	.free = core_free,
};

/* --- building -------------------------------------------------------- */

struct core_mem *core_mem_new(const struct hs_files *files, void *map, size_t map_len)
{
	struct core_mem *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->src.ops = &core_ops;
	m->files = *files;
	m->map = map;
	m->map_len = map_len;
	return m;
}

struct hs_memsrc *core_mem_src(struct core_mem *m)
{
	return &m->src;
}

int core_mem_add(struct core_mem *m, const struct core_seg *seg, const char *path)
{
	struct core_seg s = *seg;

	if (m->nsegs && s.start < m->segs[m->nsegs - 1].end)
		return hs_error(HS_EUSAGE, "core pieces out of order");
	s.file = -1;
	if (path && path[0] && (s.file = intern_file(m, path)) < 0)
		return hs_error(HS_ENOMEM, "reading the core's mappings");
	if (m->nsegs == m->segcap) {
		size_t ncap = m->segcap ? m->segcap * 2 : 64;
		struct core_seg *grown = realloc(m->segs, ncap * sizeof(*grown));

		if (!grown)
			return hs_error(HS_ENOMEM, "reading the core's mappings");
		m->segs = grown;
		m->segcap = ncap;
	}
	m->segs[m->nsegs++] = s;
	return 0;
}

/* run_end: how far core bytes continue without a gap in the core file
 * (neighbouring mappings are usually written one after the other). */
void core_mem_seal(struct core_mem *m)
{
	for (size_t i = m->nsegs; i-- > 0;) {
		struct core_seg *s = &m->segs[i];
		const struct core_seg *next = i + 1 < m->nsegs ? s + 1 : NULL;

		s->run_end = s->core_end;
		if (next && s->core_end == s->end && next->start == s->end &&
		    next->core_end > next->start && next->data == s->data + (s->end - s->start))
			s->run_end = next->run_end;
	}
	m->last = 0;
}

/* Whether the first page of s (a read-only ELF mapping at offset 0 that
 * the core holds) equals its file's; unreadable files are left alone. */
static bool first_page_differs(struct core_mem *m, const struct core_seg *s)
{
	unsigned char buf[CHECK_LEN];
	size_t len = s->core_end - s->start < CHECK_LEN ? (size_t)(s->core_end - s->start)
							: CHECK_LEN;
	size_t valid;

	if (file_read(m, s->file, 0, buf, len, &valid) < 0)
		return false;
	return valid < len || memcmp(buf, s->data, len) != 0;
}

unsigned core_mem_check_files(struct core_mem *m, char *first, size_t firstlen)
{
	unsigned bad = 0;

	for (size_t i = 0; i < m->nsegs; i++) {
		const struct core_seg *s = &m->segs[i];
		struct core_file *f;

		if (s->file < 0 || s->file_off != 0 || s->writable ||
		    s->core_end - s->start < 64 || memcmp(s->data, ELFMAG, SELFMAG) != 0)
			continue;
		f = &m->cfiles[s->file];
		if (f->state != FILE_UNCHECKED)
			continue;
		if (!first_page_differs(m, s)) {
			if (f->state == FILE_UNCHECKED)
				f->state = FILE_OK;
			continue;
		}
		if (!bad++)
			snprintf(first, firstlen, "%s", f->path);
		f->state = FILE_MISMATCH;
		if (f->fd >= 0) {
			close(f->fd);
			f->fd = -1;
			m->open_files--;
		}
	}
	return bad;
}
