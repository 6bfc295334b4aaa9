/*
 * Memory sources: the captured image (with lazy reads of read-only file
 * mappings) and the live process.  The only file besides the tracer that
 * calls process_vm_readv.
 */
#include "heapscope/memsrc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "heapscope/error.h"

#define LAZY_CHUNK (64u << 10)
#define LAZY_MAX_CHUNKS 4096

struct region {
	uint64_t start, end;
	unsigned char *data;
	size_t map_len; /* > 0: data came from mmap and is unmapped */
};

struct hs_image {
	struct hs_memsrc src;
	struct region *regions;
	size_t count, cap;
	size_t last; /* index of the last region hit: walks are local */
	size_t bytes;
	int lazy_pid;
	struct region *lazy_ranges; /* read-only ranges that may be fetched */
	size_t lazy_count, lazy_cap;
	struct region *chunks; /* fetched LAZY_CHUNK-aligned pieces */
	size_t chunk_count;
};

static int push_region(struct region **arr, size_t *count, size_t *cap,
		       struct region r)
{
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct region *grown = realloc(*arr, ncap * sizeof(*grown));

		if (!grown)
			return hs_error(HS_ENOMEM, "adding a memory region");
		*arr = grown;
		*cap = ncap;
	}
	(*arr)[(*count)++] = r;
	return 0;
}

static int live_read_pid(int pid, uint64_t raddr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct iovec local = {(char *)buf + done, len - done};
		struct iovec remote = {(void *)(uintptr_t)(raddr + done), len - done};
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hs_error(hs_error_from_errno(errno),
					"cannot read %zu bytes at 0x%llx: %s", len - done,
					(unsigned long long)(raddr + done), strerror(errno));
		if (n == 0)
			return hs_error(HS_EFAULT, "short read at 0x%llx",
					(unsigned long long)(raddr + done));
		done += (size_t)n;
	}
	return 0;
}

static const struct region *find_region(const struct region *arr, size_t count,
					uint64_t raddr)
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (raddr < arr[mid].start)
			hi = mid;
		else if (raddr >= arr[mid].end)
			lo = mid + 1;
		else
			return &arr[mid];
	}
	return NULL;
}

static const struct region *image_region(struct hs_image *img, uint64_t raddr)
{
	const struct region *r;

	if (img->count) {
		r = &img->regions[img->last];
		if (raddr >= r->start && raddr < r->end)
			return r;
	}
	r = find_region(img->regions, img->count, raddr);
	if (r)
		img->last = (size_t)(r - img->regions);
	return r;
}

/* A lazily fetched chunk holding raddr, fetching it if allowed. */
static const struct region *lazy_chunk(struct hs_image *img, uint64_t raddr)
{
	const struct region *range;
	struct region chunk = {0};
	uint64_t base = raddr & ~(uint64_t)(LAZY_CHUNK - 1);

	for (size_t i = img->chunk_count; i-- > 0;)
		if (raddr >= img->chunks[i].start && raddr < img->chunks[i].end)
			return &img->chunks[i];
	if (img->lazy_pid <= 0 || img->chunk_count >= LAZY_MAX_CHUNKS)
		return NULL;
	range = find_region(img->lazy_ranges, img->lazy_count, raddr);
	if (!range)
		return NULL;
	chunk.start = base < range->start ? range->start : base;
	chunk.end = base + LAZY_CHUNK > range->end ? range->end : base + LAZY_CHUNK;
	if (!(chunk.data = malloc(chunk.end - chunk.start)))
		return NULL;
	if (live_read_pid(img->lazy_pid, chunk.start, chunk.data,
			  chunk.end - chunk.start) < 0) {
		free(chunk.data);
		return NULL;
	}
	if (!(img->chunk_count % 64)) {
		struct region *grown = realloc(img->chunks,
					       (img->chunk_count + 64) * sizeof(*grown));
		if (!grown) {
			free(chunk.data);
			return NULL;
		}
		img->chunks = grown;
	}
	img->chunks[img->chunk_count] = chunk;
	return &img->chunks[img->chunk_count++];
}

static const void *image_view(struct hs_memsrc *src, uint64_t raddr, size_t len)
{
	struct hs_image *img = (struct hs_image *)src;
	const struct region *r = image_region(img, raddr);

	if (!r && !(r = lazy_chunk(img, raddr)))
		return NULL;
	if (len > r->end - raddr)
		return NULL;
	return r->data + (raddr - r->start);
}

static int image_read(struct hs_memsrc *src, uint64_t raddr, void *buf, size_t len)
{
	struct hs_image *img = (struct hs_image *)src;
	unsigned char *out = buf;

	if (len > HS_MEMSRC_MAX_READ)
		return hs_error(HS_EUSAGE, "read of %zu bytes is too large", len);
	/* a read may span adjacent regions (e.g. two neighbouring mappings) */
	while (len) {
		const struct region *r = image_region(img, raddr);
		size_t n;

		if (!r && !(r = lazy_chunk(img, raddr)))
			return hs_error(HS_EFAULT, "address 0x%llx not in the capture",
					(unsigned long long)raddr);
		n = r->end - raddr < len ? (size_t)(r->end - raddr) : len;
		memcpy(out, r->data + (raddr - r->start), n);
		out += n;
		raddr += n;
		len -= n;
	}
	return 0;
}

static void image_free(struct hs_memsrc *src)
{
	struct hs_image *img = (struct hs_image *)src;

	for (size_t i = 0; i < img->count; i++) {
		if (img->regions[i].map_len)
			munmap(img->regions[i].data, img->regions[i].map_len);
		else
			free(img->regions[i].data);
	}
	for (size_t i = 0; i < img->chunk_count; i++)
		free(img->chunks[i].data);
	free(img->regions);
	free(img->chunks);
	free(img->lazy_ranges);
	free(img);
}

static const struct hs_memsrc_ops image_ops = {
	.read = image_read,
	.view = image_view,
	.free = image_free,
};

struct hs_image *hs_image_new(int lazy_pid)
{
	struct hs_image *img = calloc(1, sizeof(*img));

	if (img) {
		img->src.ops = &image_ops;
		img->lazy_pid = lazy_pid;
	}
	return img;
}

struct hs_memsrc *hs_image_memsrc(struct hs_image *img)
{
	return &img->src;
}

int hs_image_add(struct hs_image *img, uint64_t start, void *data, size_t len)
{
	struct region r = {start, start + len, data, 0};
	int err;

	if (!len) {
		free(data);
		return 0;
	}
	if ((err = push_region(&img->regions, &img->count, &img->cap, r)) < 0)
		return err;
	img->bytes += len;
	return 0;
}

int hs_image_add_mapped(struct hs_image *img, uint64_t start, void *data,
			size_t len, size_t map_len)
{
	struct region r = {start, start + len, data, map_len};
	int err;

	if ((err = push_region(&img->regions, &img->count, &img->cap, r)) < 0)
		return err;
	img->bytes += len;
	return 0;
}

int hs_image_add_lazy(struct hs_image *img, uint64_t start, uint64_t end)
{
	struct region r = {start, end, NULL, 0};

	return push_region(&img->lazy_ranges, &img->lazy_count, &img->lazy_cap, r);
}

static int cmp_region(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

void hs_image_seal(struct hs_image *img)
{
	if (img->count)
		qsort(img->regions, img->count, sizeof(*img->regions), cmp_region);
	if (img->lazy_count)
		qsort(img->lazy_ranges, img->lazy_count, sizeof(*img->lazy_ranges), cmp_region);
	img->last = 0;
}

size_t hs_image_bytes(const struct hs_image *img)
{
	return img->bytes;
}

int hs_image_contains(const struct hs_image *img, uint64_t raddr, size_t len)
{
	const struct region *r = find_region(img->regions, img->count, raddr);

	return r && len <= r->end - raddr;
}

/* --- live ------------------------------------------------------------ */

struct live {
	struct hs_memsrc src;
	int pid;
};

static int live_read(struct hs_memsrc *src, uint64_t raddr, void *buf, size_t len)
{
	if (len > HS_MEMSRC_MAX_READ)
		return hs_error(HS_EUSAGE, "read of %zu bytes is too large", len);
	return live_read_pid(((struct live *)src)->pid, raddr, buf, len);
}

static void live_free(struct hs_memsrc *src)
{
	free(src);
}

static const struct hs_memsrc_ops live_ops = {
	.read = live_read,
	.view = NULL,
	.free = live_free,
};

struct hs_memsrc *hs_live_memsrc_new(int pid)
{
	struct live *live = calloc(1, sizeof(*live));

	if (live) {
		live->src.ops = &live_ops;
		live->pid = pid;
	}
	return live ? &live->src : NULL;
}

/* --- helpers --------------------------------------------------------- */

void hs_memsrc_free(struct hs_memsrc *src)
{
	if (src)
		src->ops->free(src);
}

int hs_read_u64(struct hs_memsrc *src, uint64_t raddr, uint64_t *out)
{
	return hs_memsrc_read(src, raddr, out, sizeof(*out));
}

int hs_read_u32(struct hs_memsrc *src, uint64_t raddr, uint32_t *out)
{
	return hs_memsrc_read(src, raddr, out, sizeof(*out));
}

int hs_read_cstr(struct hs_memsrc *src, uint64_t raddr, char *buf, size_t max)
{
	size_t got = 0;

	if (!max)
		return HS_EUSAGE;
	/* read in small steps, and byte by byte once a step fails: a string
	 * may end just before unreadable memory */
	while (got + 1 < max) {
		size_t step = 64 - (size_t)((raddr + got) % 64);

		if (step > max - 1 - got)
			step = max - 1 - got;
		if (hs_memsrc_read(src, raddr + got, buf + got, step) < 0) {
			step = 1;
			if (hs_memsrc_read(src, raddr + got, buf + got, 1) < 0) {
				buf[got] = '\0';
				return got ? 0 : HS_EFAULT;
			}
		}
		if (memchr(buf + got, '\0', step))
			return 0;
		got += step;
	}
	buf[got] = '\0';
	return 0;
}
