/*
 * Open-addressing hash map from a target address (never 0) to a 32-bit
 * value.  Used to number objects and types; sized for tens of millions of
 * entries with linear probing and a load factor of at most 1/2.
 */
#ifndef HEAPSCOPE_ADDRMAP_H
#define HEAPSCOPE_ADDRMAP_H

#include <stddef.h>
#include <stdint.h>

struct hs_addrmap_slot {
	uint64_t key;
	uint32_t value;
};

struct hs_addrmap {
	struct hs_addrmap_slot *slots;
	size_t mask; /* capacity - 1 */
	size_t count;
};

void hs_addrmap_init(struct hs_addrmap *m);
void hs_addrmap_release(struct hs_addrmap *m);
/* Value for key, or UINT32_MAX if absent. */
uint32_t hs_addrmap_get(const struct hs_addrmap *m, uint64_t key);
/* Insert or overwrite; 0 or HS_ENOMEM.  key must not be 0. */
int hs_addrmap_put(struct hs_addrmap *m, uint64_t key, uint32_t value);

#endif
