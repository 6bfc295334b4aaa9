/* Unit test of the address -> uint32 hash map. */
#include "heapscope/addrmap.h"

#include <stdlib.h>

#include "tap.h"

#define N (1u << 20) /* 1M keys */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A random 16-byte-aligned user-space address (never 0). */
static uint64_t rand_addr(void)
{
	return ((rng() & 0x0000fffffffffff0ull) | 0x10);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Whether key is in the sorted reference array; its index in *pos. */
static int ref_find(const uint64_t *keys, size_t n, uint64_t key, size_t *pos)
{
	const uint64_t *p = bsearch(&key, keys, n, sizeof(*keys), cmp_u64);

	if (p)
		*pos = (size_t)(p - keys);
	return p != NULL;
}

static void test_basic(void)
{
	struct hs_addrmap m;

	hs_addrmap_init(&m);
	ok(hs_addrmap_get(&m, 0x1000) == UINT32_MAX, "get on an empty map -> absent");
	ok(hs_addrmap_put(&m, 0x7f0000001000, 7) == 0, "put");
	ok(hs_addrmap_get(&m, 0x7f0000001000) == 7, "get what was put");
	ok(hs_addrmap_get(&m, 0x7f0000001010) == UINT32_MAX, "neighbour address absent");
	ok(hs_addrmap_put(&m, 0x7f0000001000, 9) == 0 && hs_addrmap_get(&m, 0x7f0000001000) == 9,
	   "overwrite");
	ok(m.count == 1, "overwrite does not add (count %zu)", m.count);
	ok(hs_addrmap_put(&m, 0x10, 0) == 0 && hs_addrmap_get(&m, 0x10) == 0, "value 0 is stored");

	/* keys differing only in their high bits */
	const uint64_t lo = 0x0000000000abc0ull;
	const uint64_t hi[] = {lo | (1ull << 63), lo | (1ull << 47), lo | (1ull << 40),
			       lo | (0xffffull << 48)};
	int good = 1;

	ok(hs_addrmap_put(&m, lo, 100) == 0, "put low key");
	for (size_t i = 0; i < sizeof(hi) / sizeof(hi[0]); i++)
		hs_addrmap_put(&m, hi[i], 200 + (uint32_t)i);
	for (size_t i = 0; i < sizeof(hi) / sizeof(hi[0]); i++)
		good &= hs_addrmap_get(&m, hi[i]) == 200 + i;
	ok(good && hs_addrmap_get(&m, lo) == 100, "high-bit variants are distinct keys");
	ok(hs_addrmap_get(&m, lo | (1ull << 62)) == UINT32_MAX, "an unput high-bit variant is absent");
	ok(m.count == 7, "count after distinct puts (%zu)", m.count);

	/* 4096 keys sharing their low 52 bits */
	good = 1;
	for (uint64_t i = 1; i <= 4096; i++)
		good &= hs_addrmap_put(&m, 0x00007f0000001000ull ^ ((i - 1) << 52) ^ (1ull << 51),
				       (uint32_t)(1000 + i)) == 0;
	for (uint64_t i = 1; i <= 4096; i++)
		good &= hs_addrmap_get(&m, 0x00007f0000001000ull ^ ((i - 1) << 52) ^ (1ull << 51)) ==
			1000 + i;
	ok(good && m.count == 7 + 4096, "4096 keys differing only in bits 52-63 (count %zu)",
	   m.count);
	hs_addrmap_release(&m);
	ok(m.slots == NULL && m.count == 0 && hs_addrmap_get(&m, lo) == UINT32_MAX,
	   "release empties the map");
}

static void test_growth(void)
{
	struct hs_addrmap m;
	uint64_t *keys = malloc(N * sizeof(*keys));
	uint64_t *sorted = malloc(N * sizeof(*sorted));
	size_t distinct = 0, pos, bad = 0, load_bad = 0;

	if (!keys || !sorted) {
		ok(0, "allocate reference arrays");
		return;
	}
	hs_addrmap_init(&m);
	/* value = index of the last put of that key (duplicates overwrite) */
	for (size_t i = 0; i < N; i++) {
		keys[i] = (i % 97 == 96) ? keys[rng() % i] : rand_addr();
		if (hs_addrmap_put(&m, keys[i], (uint32_t)i) < 0) {
			ok(0, "put %zu failed", i);
			break;
		}
		if (m.count * 2 > m.mask + 1)
			load_bad++;
	}
	ok(load_bad == 0, "load factor stayed <= 1/2 (%zu violations)", load_bad);
	ok(((m.mask + 1) & m.mask) == 0, "capacity is a power of two (%zu)", m.mask + 1);

	/* reference: the distinct keys, sorted */
	for (size_t i = 0; i < N; i++)
		sorted[i] = keys[i];
	qsort(sorted, N, sizeof(*sorted), cmp_u64);
	for (size_t i = 0; i < N; i++)
		if (!distinct || sorted[distinct - 1] != sorted[i])
			sorted[distinct++] = sorted[i];
	ok(m.count == distinct, "count %zu == distinct keys %zu", m.count, distinct);

	/* the newest value of each key: walk the puts backwards */
	uint32_t *want = malloc(distinct * sizeof(*want));

	for (size_t i = 0; i < distinct; i++)
		want[i] = UINT32_MAX;
	for (size_t i = N; i-- > 0;) {
		ref_find(sorted, distinct, keys[i], &pos);
		if (want[pos] == UINT32_MAX)
			want[pos] = (uint32_t)i;
	}
	for (size_t i = 0; i < distinct; i++)
		if (hs_addrmap_get(&m, sorted[i]) != want[i])
			bad++;
	ok(bad == 0, "every key maps to its last value (%zu wrong)", bad);

	/* keys never put are absent */
	bad = 0;
	for (size_t i = 0; i < N / 4; i++) {
		uint64_t k = rand_addr();

		if (!ref_find(sorted, distinct, k, &pos) && hs_addrmap_get(&m, k) != UINT32_MAX)
			bad++;
	}
	ok(bad == 0, "random absent keys -> UINT32_MAX (%zu wrong)", bad);

	free(want);
	free(sorted);
	free(keys);
	hs_addrmap_release(&m);
}

int main(void)
{
	test_basic();
	test_growth();
	return done();
}
