#include "heapscope/addrmap.h"

#include <stdlib.h>

#include "heapscope/error.h"

static inline size_t hash_addr(uint64_t key)
{
	/* objects are 16-byte aligned: drop the zero bits, then mix */
	key >>= 4;
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 32;
	return (size_t)key;
}

void hs_addrmap_init(struct hs_addrmap *m)
{
	m->slots = NULL;
	m->mask = 0;
	m->count = 0;
}

void hs_addrmap_release(struct hs_addrmap *m)
{
	free(m->slots);
	hs_addrmap_init(m);
}

uint32_t hs_addrmap_get(const struct hs_addrmap *m, uint64_t key)
{
	if (!m->slots)
		return UINT32_MAX;
	for (size_t i = hash_addr(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key)
			return m->slots[i].value;
		if (m->slots[i].key == 0)
			return UINT32_MAX;
	}
}

static int grow(struct hs_addrmap *m)
{
	size_t ncap = m->slots ? (m->mask + 1) * 2 : 1024;
	struct hs_addrmap_slot *slots = calloc(ncap, sizeof(*slots));

	if (!slots)
		return hs_error(HS_ENOMEM, "growing an address map to %zu slots", ncap);
	for (size_t i = 0; m->slots && i <= m->mask; i++) {
		struct hs_addrmap_slot s = m->slots[i];
		size_t j;

		if (!s.key)
			continue;
		for (j = hash_addr(s.key) & (ncap - 1); slots[j].key; j = (j + 1) & (ncap - 1))
			;
		slots[j] = s;
	}
	free(m->slots);
	m->slots = slots;
	m->mask = ncap - 1;
	return 0;
}

int hs_addrmap_put(struct hs_addrmap *m, uint64_t key, uint32_t value)
{
	int err;

	if ((m->count + 1) * 2 > (m->slots ? m->mask + 1 : 0) && (err = grow(m)) < 0)
		return err;
	for (size_t i = hash_addr(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key) {
			m->slots[i].value = value;
			return 0;
		}
		if (m->slots[i].key == 0) {
			m->slots[i].key = key;
			m->slots[i].value = value;
			m->count++;
			return 0;
		}
	}
}
