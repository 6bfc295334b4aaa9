/*
 * Shared state of the heap walk; private to src/walk/.
 */
#ifndef HEAPSCOPE_WALK_INTERNAL_H
#define HEAPSCOPE_WALK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "heapscope/addrmap.h"
#include "heapscope/graph.h"
#include "heapscope/memsrc.h"
#include "heapscope/resolve.h"

/* Limits on what one object may claim, so corrupt data cannot make us
 * loop or allocate without end. */
#define MAX_ITEMS (1u << 27)      /* container items */
#define MAX_FRAMES 100000         /* frames per thread */
#define MAX_SCAN_BYTES 4096       /* conservative scan of one body */

/* tp_flags bits (Include/object.h) */
#define TPF_STATIC_BUILTIN (1UL << 1)  /* 3.12+ */
#define TPF_INLINE_VALUES (1UL << 2)   /* 3.13+ */
#define TPF_MANAGED_WEAKREF (1UL << 3) /* 3.12+ */
#define TPF_MANAGED_DICT (1UL << 4)    /* 3.11+ */
#define TPF_HEAPTYPE (1UL << 9)
#define TPF_HAVE_GC (1UL << 14)
#define TPF_TYPE_SUBCLASS (1UL << 31)

/* How the references of an object are found: by its nearest built-in
 * base.  C fields added by types we do not know are scanned as well. */
enum decoder {
	D_NONE,         /* no references (str, int, float, bytes...) */
	D_OBJECT,       /* object: __dict__ / slots, and C fields if any */
	D_TUPLE,
	D_LIST,
	D_DICT,
	D_SET,
	D_STR,
	D_INT,
	D_BYTEARRAY,
	D_TYPE,
	D_MODULE,
	D_FUNCTION,
	D_METHOD,
	D_CELL,
	D_CODE,
	D_FRAME,
	D_GEN,
	D_CORO,
	D_ASYNCGEN,
	D_WEAKREF,
	D_DEQUE,
};

/* __sizeof__ rules of C types found by name, beyond their decoder's */
enum sizer {
	SZ_NONE,
	SZ_ODICT,       /* collections.OrderedDict: + node list and index */
	SZ_BUFFERED,    /* _io.Buffered*: + the buffer */
};

struct tinfo {
	uint64_t addr;
	uint32_t graph_type;   /* index in graph->types */
	uint8_t decoder;       /* enum decoder */
	bool heap;
	bool set_dummy;        /* the set module's <dummy key> type */
	uint8_t sizer;         /* enum sizer */
	uint32_t c_fields_start; /* C fields we cannot name start here (0: none) */
	uint64_t flags;
	int64_t basicsize, itemsize, dictoffset, weaklistoffset;
	uint32_t presize;      /* GC header + pre-header bytes */
	uint32_t slot_first, slot_count; /* into walk.slot_offsets */
};

struct walk {
	struct hs_memsrc *mem;
	const struct hs_python *py;
	const struct hs_layout *L;
	int minor;
	struct hs_graph *g;
	uint64_t max_objects;

	struct hs_addrmap tcache; /* type address -> tinfo index */
	struct tinfo *tinfos;
	size_t tinfo_count, tinfo_cap;
	uint32_t *slot_offsets;
	uint32_t *slot_names;  /* name id of each slot, HS_NO_OBJECT if unknown */
	size_t slot_count, slot_cap;

	uint64_t static_types; /* 3.12+: interp->types.builtins array */
	uint64_t subtype_traverse; /* tp_traverse of class statements, 0 if unknown */

	/* where references found by decoders go */
	uint32_t cur_obj;      /* object being decoded, or HS_NO_OBJECT */
	uint8_t root_kind;     /* when cur_obj == HS_NO_OBJECT */
	uint32_t root_detail;
	uint32_t root_frame;   /* frame index of frame roots, else HS_NO_OBJECT */
	int err;               /* first fatal error (out of memory) */
};

#define TINFO_INVALID (UINT32_MAX - 1)

static inline int64_t off(const struct walk *w, enum hs_field f)
{
	return w->L->off[f];
}

static inline bool has(const struct walk *w, enum hs_field f)
{
	return w->L->off[f] != HS_ABSENT;
}

static inline uint32_t sz(const struct walk *w, enum hs_size s)
{
	return w->L->size[s];
}

/* A view of len bytes at raddr, or NULL. */
static inline const void *view(struct walk *w, uint64_t raddr, size_t len)
{
	return hs_memsrc_view(w->mem, raddr, len);
}

/* Read a pointer-sized word; false if unreadable. */
bool rd_u64(struct walk *w, uint64_t raddr, uint64_t *out);
/* Read a field of the struct at base; 0 if the field is absent. */
bool rd_field(struct walk *w, uint64_t base, enum hs_field f, uint64_t *out);
int64_t rd_ssize(struct walk *w, uint64_t raddr, bool *ok);

/* types.c */
uint32_t tinfo_of(struct walk *w, uint64_t type_addr);
bool is_type_object(struct walk *w, uint64_t addr, int depth);
void tinfos_release(struct walk *w);

/* str.c-like helpers in types.c: UTF-8 of a str object, truncated */
bool read_str(struct walk *w, uint64_t addr, char *buf, size_t max);

/* sizes.c: sys.getsizeof of the object, 0 if inconsistent */
uint64_t object_size(struct walk *w, uint64_t addr, const struct tinfo *t);

/* objects.c */
/* Add the object at addr (found in GC list `gen` or by reference) and
 * return its number; HS_NO_OBJECT if invalid.  `strict`: an invalid
 * pointer is an inconsistency to count (false for conservative guesses). */
uint32_t add_object(struct walk *w, uint64_t addr, uint8_t gen, bool strict);
/* A reference from the current object (or root) to addr. */
void emit(struct walk *w, uint64_t addr, enum hs_edge_kind kind, uint32_t value);
/* References of an interpreter frame (3.11+), to the current target. */
void decode_iframe(struct walk *w, uint64_t iframe);
void decode_object(struct walk *w, uint32_t obj);

/* dict.c */
void decode_dict(struct walk *w, uint64_t dict);
/* Values of a split table or of inline values (PyDictValues at `values`)
 * with the type's shared keys. */
void decode_split_values(struct walk *w, uint64_t keys, uint64_t values);
/* Find a str key in a dict; 0 if absent. */
uint64_t dict_lookup_str(struct walk *w, uint64_t dict, const char *key);
/* sys.getsizeof part of a dict (without presize). */
uint64_t dict_sizeof(struct walk *w, uint64_t dict, const struct tinfo *t);
uint64_t dictkeys_size(struct walk *w, uint64_t keys, bool *ok);

/* roots.c */
int walk_roots(struct walk *w);

/* labels.c: texts of the objects edges are named by, thread names */
int label_graph(struct walk *w);
/* repr-like text of a str, int, float, bytes, tuple... into buf; false if
 * the object has no short text */
bool object_text(struct walk *w, uint32_t obj, char *buf, size_t max, int depth);

#endif
