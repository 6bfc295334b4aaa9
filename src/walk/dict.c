/*
 * Dicts: the keys object layouts of 3.8-3.10 (dk_size, dk_lookup) and
 * 3.11+ (dk_log2_size, dk_kind), combined and split tables, and the
 * sizes sys.getsizeof reports (Objects/dictobject.c _PyDict_SizeOf).
 */
#include <string.h>

#include "heapscope/error.h"
#include "walk-internal.h"

#define DICT_KEYS_GENERAL 0

struct keys {
	uint64_t addr;
	uint64_t size;      /* slots in the hash index (dk_size) */
	uint64_t nentries;
	uint64_t usable;
	uint64_t entries;   /* address of entry 0 */
	uint32_t entry_size;
	int32_t key_off, value_off;
	int64_t refcnt;
	uint64_t index_bytes;
	bool general;
};

static uint64_t usable_fraction(uint64_t n)
{
	return (n << 1) / 3;
}

static bool read_keys(struct walk *w, uint64_t addr, struct keys *k)
{
	const unsigned char *p;
	uint64_t v;

	memset(k, 0, sizeof(*k));
	k->addr = addr;
	if (!addr || !(p = view(w, addr, (size_t)off(w, HS_F_DK_INDICES))))
		return false;
	memcpy(&k->refcnt, p + off(w, HS_F_DK_REFCNT), 8);
	memcpy(&k->nentries, p + off(w, HS_F_DK_NENTRIES), 8);
	memcpy(&v, p + off(w, HS_F_DK_USABLE), 8);
	k->usable = v;
	if (has(w, HS_F_DK_SIZE)) {
		/* 3.8-3.10: index width grows with the table */
		memcpy(&k->size, p + off(w, HS_F_DK_SIZE), 8);
		if (k->size == 0 || k->size > (1ULL << 32) || (k->size & (k->size - 1)))
			return false;
		k->index_bytes = k->size * (k->size <= 0xff ? 1 : k->size <= 0xffff ? 2 : 4);
		k->general = true; /* entries always carry me_hash, me_key, me_value */
		k->entry_size = sz(w, HS_S_DICTKEYENTRY);
		k->key_off = (int32_t)off(w, HS_F_DKE_KEY);
		k->value_off = (int32_t)off(w, HS_F_DKE_VALUE);
	} else {
		unsigned log2_size = p[off(w, HS_F_DK_LOG2_SIZE)];
		unsigned log2_index = p[off(w, HS_F_DK_LOG2_INDEX_BYTES)];

		if (log2_size > 32 || log2_index > 35)
			return false;
		k->size = 1ULL << log2_size;
		k->index_bytes = 1ULL << log2_index;
		k->general = p[off(w, HS_F_DK_KIND)] == DICT_KEYS_GENERAL;
		k->entry_size = k->general ? sz(w, HS_S_DICTKEYENTRY) : sz(w, HS_S_DICTUNICODEENTRY);
		k->key_off = (int32_t)(k->general ? off(w, HS_F_DKE_KEY) : off(w, HS_F_DUE_KEY));
		k->value_off = (int32_t)(k->general ? off(w, HS_F_DKE_VALUE) : off(w, HS_F_DUE_VALUE));
	}
	if (!k->entry_size || k->nentries > usable_fraction(k->size) + 1 ||
	    k->nentries > MAX_ITEMS)
		return false;
	k->entries = addr + (uint64_t)off(w, HS_F_DK_INDICES) + k->index_bytes;
	return true;
}

static const unsigned char *view_entries(struct walk *w, const struct keys *k)
{
	return view(w, k->entries, k->nentries * k->entry_size);
}

/* Emit value i of a split table, labelled with the key of entry i. */
static void emit_split_value(struct walk *w, const struct keys *k,
			     const unsigned char *entries, uint64_t i, uint64_t value)
{
	uint64_t key;

	if (!value || i >= k->nentries)
		return;
	memcpy(&key, entries + i * k->entry_size + k->key_off, 8);
	emit(w, value, HS_EDGE_ATTR, hs_label_obj(add_object(w, key, HS_GEN_UNTRACKED, true)));
}

/*
 * Which slots of a values array are in use depends on the version:
 *  3.8-3.10  a plain array sized for the keys it was made with;
 *  3.11/3.12 bytes before the array: [-1] prefix size, [-2] number of
 *            values, [-3], [-4]... their entry indices in insertion order
 *            (an older array can be shorter than the keys have grown);
 *  3.13+     a header {capacity, size, embedded, valid} then the slots.
 */
void decode_split_values(struct walk *w, uint64_t keys_addr, uint64_t values)
{
	const unsigned char *e;
	const uint64_t *vals;
	struct keys k;

	if (!read_keys(w, keys_addr, &k) || !(e = view_entries(w, &k))) {
		w->g->skips.bad_object++;
		return;
	}
	if (w->minor <= 10) {
		if (!(vals = view(w, values, k.nentries * 8)))
			goto unreadable;
		for (uint64_t i = 0; i < k.nentries; i++)
			emit_split_value(w, &k, e, i, vals[i]);
	} else if (w->minor <= 12) {
		const unsigned char *prefix = view(w, values - 2, 2);
		unsigned n;

		if (!prefix || prefix[1] < 2 || prefix[0] > prefix[1] - 2)
			goto unreadable;
		n = prefix[0];
		const unsigned char *order = view(w, values - 2 - n, n);

		if (!order)
			goto unreadable;
		for (unsigned j = 0; j < n; j++) {
			uint64_t slot = order[n - 1 - j], v; /* [-3] is the first */

			if (rd_u64(w, values + slot * 8, &v))
				emit_split_value(w, &k, e, slot, v);
		}
	} else {
		const uint8_t *hdr = view(w, values, (size_t)off(w, HS_F_DV_VALUES));
		uint64_t cap;

		if (!hdr)
			goto unreadable;
		cap = hdr[off(w, HS_F_DV_CAPACITY)];
		if (!(vals = view(w, values + off(w, HS_F_DV_VALUES), cap * 8)))
			goto unreadable;
		for (uint64_t i = 0; i < cap; i++)
			emit_split_value(w, &k, e, i, vals[i]);
	}
	return;
unreadable:
	w->g->skips.bad_object++;
}

static void decode_combined(struct walk *w, const struct keys *k)
{
	const unsigned char *e = view_entries(w, k);

	if (!e) {
		w->g->skips.bad_pointer++;
		return;
	}
	for (uint64_t i = 0; i < k->nentries; i++) {
		uint64_t key, value;
		uint32_t key_obj;

		memcpy(&key, e + i * k->entry_size + k->key_off, 8);
		memcpy(&value, e + i * k->entry_size + k->value_off, 8);
		if (!key || !value)
			continue; /* deleted entry */
		key_obj = add_object(w, key, HS_GEN_UNTRACKED, true);
		emit(w, key, HS_EDGE_KEY, (uint32_t)i);
		emit(w, value, HS_EDGE_VALUE, hs_label_obj(key_obj));
	}
}

/* Number of value slots of a split table (3.11+: shared_keys_usable_size). */
static uint64_t split_value_count(const struct walk *w, const struct keys *k)
{
	return w->minor >= 11 ? k->nentries + k->usable : usable_fraction(k->size);
}

void decode_dict(struct walk *w, uint64_t dict)
{
	uint64_t keys_addr, values;
	struct keys k;

	if (!rd_field(w, dict, HS_F_DICT_KEYS, &keys_addr) ||
	    !rd_field(w, dict, HS_F_DICT_VALUES, &values) || !read_keys(w, keys_addr, &k)) {
		w->g->skips.bad_object++;
		return;
	}
	if (!values) {
		decode_combined(w, &k);
		return;
	}
	decode_split_values(w, keys_addr, values);
}

uint64_t dict_lookup_str(struct walk *w, uint64_t dict, const char *want)
{
	uint64_t keys_addr, values;
	struct keys k;
	const unsigned char *e;
	char name[128];

	if (!rd_field(w, dict, HS_F_DICT_KEYS, &keys_addr) ||
	    !rd_field(w, dict, HS_F_DICT_VALUES, &values) || !read_keys(w, keys_addr, &k) ||
	    !(e = view_entries(w, &k)))
		return 0;
	if (values)
		values += has(w, HS_F_DV_VALUES) ? (uint64_t)off(w, HS_F_DV_VALUES) : 0;
	for (uint64_t i = 0; i < k.nentries && i < 4096; i++) {
		uint64_t key, value = 0;

		memcpy(&key, e + i * k.entry_size + k.key_off, 8);
		if (!key || !read_str(w, key, name, sizeof(name)) || strcmp(name, want))
			continue;
		if (values)
			rd_u64(w, values + i * 8, &value);
		else
			memcpy(&value, e + i * k.entry_size + k.value_off, 8);
		return value;
	}
	return 0;
}

uint64_t dictkeys_size(struct walk *w, uint64_t keys_addr, bool *ok)
{
	struct keys k;

	*ok = read_keys(w, keys_addr, &k);
	if (!*ok)
		return 0;
	/* sizeof(PyDictKeysObject) + index table + usable entries */
	return sz(w, HS_S_DICTKEYS) + k.index_bytes + usable_fraction(k.size) * k.entry_size;
}

uint64_t dict_sizeof(struct walk *w, uint64_t dict, const struct tinfo *t)
{
	uint64_t keys_addr, values, size = (uint64_t)t->basicsize;
	struct keys k;
	bool ok;

	if (!rd_field(w, dict, HS_F_DICT_KEYS, &keys_addr) ||
	    !rd_field(w, dict, HS_F_DICT_VALUES, &values) || !read_keys(w, keys_addr, &k))
		return 0;
	if (values)
		size += split_value_count(w, &k) * 8;
	/* keys shared with a class are counted with the class */
	if (k.refcnt == 1)
		size += dictkeys_size(w, keys_addr, &ok);
	return size;
}
