/* Unit test of the image memory source, built from byte buffers. */
#include "heapscope/error.h"
#include "heapscope/memsrc.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* Layout of the test image (added out of order; seal sorts):
 *   A [0x10000, 0x11000)  byte i = i & 0xff
 *   B [0x11000, 0x12000)  byte i = 0xff - (i & 0xff)      (adjacent to A)
 *   gap
 *   C [0x20000, 0x20040)  strings, ends on a 64-byte boundary
 *   D [0x30000, 0x30038)  string ending right at a region end not aligned to 64
 *   E [0x40000, 0x40050)  70-char string ending at the region end
 *   F [0x70000, 0x70040)  64 'z' bytes, no NUL, then unmapped
 */
#define A 0x10000u
#define B 0x11000u
#define C 0x20000u
#define D 0x30000u
#define E 0x40000u
#define F 0x70000u

static void *filled(size_t len, int inverted)
{
	unsigned char *p = malloc(len);

	for (size_t i = 0; p && i < len; i++)
		p[i] = (unsigned char)(inverted ? 0xff - (i & 0xff) : (i & 0xff));
	return p;
}

static void *with_string(size_t len, size_t at, const char *s)
{
	char *p = malloc(len);

	if (p) {
		memset(p, 'x', len);
		memcpy(p + at, s, strlen(s) + 1);
	}
	return p;
}

static struct hs_image *build(void)
{
	struct hs_image *img = hs_image_new(0);
	char seventy[71];
	int err = 0;

	memset(seventy, 'q', 70);
	seventy[70] = '\0';
	err |= hs_image_add(img, E, with_string(0x50, 0x50 - 71, seventy), 0x50);
	err |= hs_image_add(img, B, filled(0x1000, 1), 0x1000);
	/* C: "hello" at 0, "edge!" whose NUL is the region's last byte */
	char *c = with_string(0x40, 0, "hello");
	memcpy(c + 0x40 - 6, "edge!", 6);
	err |= hs_image_add(img, C, c, 0x40);
	err |= hs_image_add(img, A, filled(0x1000, 0), 0x1000);
	err |= hs_image_add(img, D, with_string(0x38, 0x38 - 4, "abc"), 0x38);
	char *f = malloc(0x40);
	memset(f, 'z', 0x40);
	err |= hs_image_add(img, F, f, 0x40);
	err |= hs_image_add(img, 0x50000, malloc(1), 0); /* empty: ignored, freed */
	err |= hs_image_add_lazy(img, 0x60000, 0x61000);  /* lazy_pid 0: never fetched */
	ok(err == 0, "image built");
	hs_image_seal(img);
	return img;
}

static void test_read(struct hs_memsrc *src)
{
	unsigned char buf[64];
	uint64_t u64 = 0;
	uint32_t u32 = 0;
	int err;

	ok(hs_memsrc_read(src, A + 0x10, buf, 4) == 0 && buf[0] == 0x10 && buf[3] == 0x13,
	   "read inside A");
	err = hs_read_u32(src, A + 0x20, &u32);
	ok(err == 0 && u32 == 0x23222120u, "u32 (0x%08x)", u32);
	/* 8 bytes across A|B: A's last 4 (fc fd fe ff) then B's first 4 (ff fe fd fc) */
	err = hs_read_u64(src, B - 4, &u64);
	ok(err == 0 && u64 == 0xfcfdfeffffFEFDFCull,
	   "u64 across adjacent regions (0x%016llx)", (unsigned long long)u64);
	memset(buf, 0, sizeof(buf));
	ok(hs_memsrc_read(src, B - 32, buf, 64) == 0 && buf[31] == 0xff && buf[32] == 0xff &&
	   buf[33] == 0xfe && buf[0] == 0xe0, "64 bytes across A|B");

	err = hs_memsrc_read(src, 0x15000, buf, 8);
	ok(err == HS_EFAULT, "unmapped address -> HS_EFAULT (got %d)", err);
	err = hs_memsrc_read(src, B + 0x1000 - 4, buf, 8);
	ok(err == HS_EFAULT, "read running off B into the gap -> HS_EFAULT (got %d)", err);
	err = hs_memsrc_read(src, 0x60000, buf, 8);
	ok(err == HS_EFAULT, "lazy range without a pid -> HS_EFAULT (got %d)", err);
	ok(hs_memsrc_read(src, 0x50000, buf, 1) == HS_EFAULT, "zero-length add left no region");
	ok(hs_memsrc_read(src, A - 1, buf, 2) == HS_EFAULT, "one byte below A -> HS_EFAULT");
}

static void test_too_large(void)
{
	/* a region larger than the limit, so only the limit can refuse */
	size_t len = HS_MEMSRC_MAX_READ + 4096;
	struct hs_image *img = hs_image_new(0);
	unsigned char *data = calloc(1, len), *buf = malloc(len);
	struct hs_memsrc *src;
	int err;

	if (!img || !data || !buf) {
		ok(0, "allocate %zu bytes", len);
		return;
	}
	data[HS_MEMSRC_MAX_READ - 1] = 0x5a;
	hs_image_add(img, 0x100000000ull, data, len);
	hs_image_seal(img);
	src = hs_image_memsrc(img);
	err = hs_memsrc_read(src, 0x100000000ull, buf, HS_MEMSRC_MAX_READ + 1);
	ok(err == HS_EUSAGE, "read of MAX_READ + 1 bytes -> HS_EUSAGE (got %d)", err);
	err = hs_memsrc_read(src, 0x100000000ull, buf, HS_MEMSRC_MAX_READ);
	ok(err == 0 && buf[HS_MEMSRC_MAX_READ - 1] == 0x5a, "read of exactly MAX_READ bytes");
	ok(hs_image_bytes(img) == len, "image bytes");
	free(buf);
	hs_memsrc_free(src);
}

static void test_view(struct hs_memsrc *src)
{
	const unsigned char *v = hs_memsrc_view(src, A + 0x100, 16);
	const unsigned char *w = hs_memsrc_view(src, A + 0x100, 16);

	ok(v && v[0] == 0x00 && v[15] == 0x0f, "view inside A");
	ok(v == w, "view is into storage (same pointer twice)");
	ok(hs_memsrc_view(src, B - 16, 16) != NULL, "view ending exactly at A's end");
	ok(hs_memsrc_view(src, B - 8, 16) == NULL, "view straddling A|B -> NULL");
	ok(hs_memsrc_view(src, 0x15000, 1) == NULL, "view of unmapped -> NULL");
	ok(hs_memsrc_view(src, 0x60000, 8) == NULL, "view of an unfetchable lazy range -> NULL");
}

static void test_cstr(struct hs_memsrc *src)
{
	char buf[128];
	int err;

	ok(hs_read_cstr(src, C, buf, sizeof(buf)) == 0 && strcmp(buf, "hello") == 0,
	   "cstr '%s'", buf);
	ok(hs_read_cstr(src, C, buf, 4) == 0 && strcmp(buf, "hel") == 0,
	   "cstr truncated to max-1 ('%s')", buf);
	ok(hs_read_cstr(src, C, buf, 1) == 0 && buf[0] == '\0', "max 1 -> empty string");
	ok(hs_read_cstr(src, C + 0x40 - 6, buf, sizeof(buf)) == 0 && strcmp(buf, "edge!") == 0,
	   "string ending at a 64-aligned region end ('%s')", buf);
	err = hs_read_cstr(src, 0x15000, buf, sizeof(buf));
	ok(err == HS_EFAULT, "cstr at unmapped -> HS_EFAULT (got %d)", err);

	/* Unterminated bytes running into unmapped memory: what was read is
	 * returned, terminated. */
	memset(buf, 0, sizeof(buf));
	err = hs_read_cstr(src, F, buf, sizeof(buf));
	ok(err == 0 && strlen(buf) == 64 && buf[63] == 'z',
	   "unterminated run up to a region end -> its 64 bytes (len %zu)", strlen(buf));
	err = hs_read_cstr(src, F + 0x20, buf, sizeof(buf));
	ok(err == 0 && strlen(buf) == 32, "same from the middle -> 32 bytes (len %zu)", strlen(buf));

	/* a string whose NUL is the last byte of a region whose end is not
	 * 64-aligned: the aligned step faults, the byte-wise retry must not
	 * report HS_EFAULT (D) or cut the string at the last boundary (E) */
	memset(buf, 0, sizeof(buf));
	err = hs_read_cstr(src, D + 0x38 - 4, buf, sizeof(buf));
	ok(err == 0 && strcmp(buf, "abc") == 0,
	   "string ending at an unaligned region end (err %d, '%s')", err, buf);
	memset(buf, 0, sizeof(buf));
	err = hs_read_cstr(src, E + 0x50 - 71, buf, sizeof(buf));
	ok(err == 0 && strlen(buf) == 70,
	   "70-char string ending at an unaligned region end (err %d, len %zu)", err, strlen(buf));
}

static void test_contains(const struct hs_image *img)
{
	ok(hs_image_contains(img, A, 1), "contains A's first byte");
	ok(hs_image_contains(img, A, 0x1000), "contains all of A");
	ok(!hs_image_contains(img, A + 0x800, 0x1000), "A+0x800 len 0x1000 crosses into B: no");
	ok(hs_image_contains(img, B + 0xfff, 1), "contains B's last byte");
	ok(!hs_image_contains(img, B + 0x1000, 1), "B's end: no");
	ok(!hs_image_contains(img, 0x60000, 8), "lazy range is not contained");
	ok(!hs_image_contains(img, 0, 1), "address 0: no");
}

int main(void)
{
	struct hs_image *img = build();
	struct hs_memsrc *src = hs_image_memsrc(img);

	ok(hs_image_bytes(img) == 0x2000 + 0x40 + 0x38 + 0x50 + 0x40, "image bytes (%zu)",
	   hs_image_bytes(img));
	test_read(src);
	test_view(src);
	test_cstr(src);
	test_contains(img);
	hs_memsrc_free(src);
	test_too_large();
	return done();
}
