/*
 * Memory sources: where target bytes come from.
 *
 * A memsrc answers "copy N bytes at target address A".  Backends:
 *  - image: regions copied from the target while it was paused, plus an
 *    optional lazy reader for read-only file mappings (their bytes do not
 *    change, so they can be read after the target runs again);
 *  - live:  process_vm_readv on a running or stopped process.
 * Unit tests build an image from byte buffers at chosen addresses.
 * The walker never knows which backend it reads.
 *
 * Reads are bounded: one read copies at most HS_MEMSRC_MAX_READ bytes.
 * hs_memsrc_view() returns a pointer into the source's own storage when the
 * bytes are contiguous there (no copy); the pointer is borrowed and valid
 * until the memsrc is freed.
 */
#ifndef HEAPSCOPE_MEMSRC_H
#define HEAPSCOPE_MEMSRC_H

#include <stddef.h>
#include <stdint.h>

#define HS_MEMSRC_MAX_READ (64u << 20)

struct hs_memsrc;

struct hs_memsrc_ops {
	/* Copy len bytes at raddr into buf; 0 or negative hs_err. */
	int (*read)(struct hs_memsrc *src, uint64_t raddr, void *buf, size_t len);
	/* Pointer to len bytes at raddr in backend storage, or NULL. */
	const void *(*view)(struct hs_memsrc *src, uint64_t raddr, size_t len);
	void (*free)(struct hs_memsrc *src);
};

struct hs_memsrc {
	const struct hs_memsrc_ops *ops;
};

static inline int hs_memsrc_read(struct hs_memsrc *src, uint64_t raddr,
				 void *buf, size_t len)
{
	return src->ops->read(src, raddr, buf, len);
}

static inline const void *hs_memsrc_view(struct hs_memsrc *src,
					 uint64_t raddr, size_t len)
{
	return src->ops->view ? src->ops->view(src, raddr, len) : NULL;
}

void hs_memsrc_free(struct hs_memsrc *src);

/* Typed helpers. */
int hs_read_u64(struct hs_memsrc *src, uint64_t raddr, uint64_t *out);
int hs_read_u32(struct hs_memsrc *src, uint64_t raddr, uint32_t *out);
/* Read a NUL-terminated string of at most max-1 bytes; truncates quietly. */
int hs_read_cstr(struct hs_memsrc *src, uint64_t raddr, char *buf, size_t max);

/* --- image backend ------------------------------------------------- */

struct hs_image;

/* New empty image.  `lazy_pid` > 0 enables lazy reads of read-only file
 * mappings added with hs_image_add_lazy(). */
struct hs_image *hs_image_new(int lazy_pid);
struct hs_memsrc *hs_image_memsrc(struct hs_image *img);

/* Take ownership of `data` (malloc'ed, len bytes) as the bytes at start. */
int hs_image_add(struct hs_image *img, uint64_t start, void *data, size_t len);
/* Same for memory from mmap(): the image munmaps map_len bytes. */
int hs_image_add_mapped(struct hs_image *img, uint64_t start, void *data,
			size_t len, size_t map_len);
/* Declare a read-only range that may be fetched on demand. */
int hs_image_add_lazy(struct hs_image *img, uint64_t start, uint64_t end);
/* Sort regions; call once after the last add and before reads. */
void hs_image_seal(struct hs_image *img);
size_t hs_image_bytes(const struct hs_image *img);
/* Whether raddr lies in a copied (not lazy) region. */
int hs_image_contains(const struct hs_image *img, uint64_t raddr, size_t len);

/* --- live backend -------------------------------------------------- */

struct hs_memsrc *hs_live_memsrc_new(int pid);

#endif
