/*
 * Objects: validation on discovery, and the references of each kind of
 * object (what its tp_traverse visits, plus the strong references Heapy
 * also follows: dict keys, code object fields, type names).
 */
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/log.h"
#include "walk-internal.h"

/* Refcounts above this are corrupt, except immortal ones (3.12+). */
#define MAX_REFCNT (1LL << 48)
/* A guessed pointer must meet a stricter bound: the first word of a freed
 * block is a free-list pointer, which would pass MAX_REFCNT. */
#define MAX_GUESSED_REFCNT (1LL << 32)

static bool plausible_refcnt(const struct walk *w, int64_t rc, bool strict)
{
	/* 3.14+: the word is {uint32 ob_refcnt, uint16 ob_overflow, uint16
	 * ob_flags} (Include/object.h).  Immortal: count >= 2^31, and static
	 * or immortalized objects set ob_flags (IMMORTAL 1, STATICALLY_ALLOCATED
	 * 4), e.g. 0x0005_0000_c000_0000.  A guess must have a zero overflow
	 * half, which any pointer above 4 GiB lacks. */
	if (w->minor >= 14) {
		uint32_t count = (uint32_t)rc;
		uint16_t overflow = (uint16_t)((uint64_t)rc >> 32);
		uint16_t flags = (uint16_t)((uint64_t)rc >> 48);

		if (count == 0)
			return false;
		return strict || (overflow == 0 && flags < 0x100);
	}
	/* 3.12+: immortal objects read 0xffffffff (a negative low half);
	 * a guess must still have a clear high half, which a pointer has not */
	if (w->minor >= 12 && (int32_t)rc < 0)
		return strict || (rc >> 32) == 0;
	return rc > 0 && rc < (strict ? MAX_REFCNT : MAX_GUESSED_REFCNT);
}

/* ob_refcnt as a count, HS_REFCNT_MAX for immortal objects */
static uint64_t refcount(const struct walk *w, int64_t rc)
{
	if (w->minor >= 14)
		return (uint32_t)rc >= (1u << 31) ? HS_REFCNT_MAX : (uint32_t)rc;
	if (w->minor >= 12 && (int32_t)rc < 0)
		return HS_REFCNT_MAX;
	return rc < 0 ? 0 : (uint64_t)rc;
}

/*
 * Whether a word found by a conservative scan may be an object we have not
 * seen.  Every tracked GC object was numbered from the GC lists before any
 * scan, so a GC object seen only now is untracked, or stale memory of a
 * freed object, which can look intact (allocators reuse only a few words
 * of a freed block).  We accept:
 *  - objects outside the GC (str, int...): stale copies fail the refcount
 *    check, as a freed object's count reached zero;
 *  - static type objects (never freed, never tracked);
 *  - untracked built-in containers whose GC header says so;
 * and never instances of heap types: those are tracked while alive.
 */
static bool plausible_guess(struct walk *w, uint64_t addr, const struct tinfo *t)
{
	uint64_t gc_next = 1, gc_prev = 1, flags = 0;
	uint64_t head = addr - sz(w, HS_S_GC_HEAD);

	if (!(t->flags & TPF_HAVE_GC))
		return true;
	if (t->decoder == D_TYPE)
		return rd_field(w, addr, HS_F_TP_FLAGS, &flags) && !(flags & TPF_HEAPTYPE);
	if (t->heap)
		return false;
	return rd_field(w, head, HS_F_GCH_NEXT, &gc_next) && gc_next == 0 &&
	       rd_field(w, head, HS_F_GCH_PREV, &gc_prev) && (gc_prev & ~3ULL) == 0;
}

uint32_t add_object(struct walk *w, uint64_t addr, uint8_t gen, bool strict)
{
	struct hs_graph *g = w->g;
	const int64_t *hdr;
	uint32_t idx, ti;
	uint64_t size, body;

	if (!addr)
		return HS_NO_OBJECT;
	idx = hs_graph_find(g, addr);
	if (idx != HS_NO_OBJECT)
		return idx;
	if ((addr & 7) || !(hdr = view(w, addr, 16))) {
		if (strict) {
			g->skips.bad_pointer++;
			hs_debug("skipped 0x%llx: not in the capture", (unsigned long long)addr);
		}
		return HS_NO_OBJECT;
	}
	ti = tinfo_of(w, (uint64_t)hdr[1]);
	if (ti == TINFO_INVALID || !plausible_refcnt(w, hdr[0], strict) ||
	    (!strict && !plausible_guess(w, addr, &w->tinfos[ti]))) {
		if (strict) {
			g->skips.bad_type++;
			hs_debug("skipped 0x%llx: type 0x%llx invalid or refcount %lld implausible",
				 (unsigned long long)addr, (unsigned long long)hdr[1],
				 (long long)hdr[0]);
		}
		return HS_NO_OBJECT;
	}
	if (w->tinfos[ti].set_dummy)
		return HS_NO_OBJECT; /* the deleted-entry marker of sets */
	size = object_size(w, addr, &w->tinfos[ti]);
	/* static type objects are smaller than type's tp_basicsize */
	body = w->tinfos[ti].decoder == D_TYPE ? sz(w, HS_S_TYPE)
					       : (uint64_t)w->tinfos[ti].basicsize;
	if (!size || !view(w, addr, body)) {
		if (strict) {
			g->skips.bad_object++;
			hs_debug("skipped 0x%llx: inconsistent %s (size %llu)",
				 (unsigned long long)addr,
				 w->g->types[w->tinfos[ti].graph_type].name,
				 (unsigned long long)size);
		}
		return HS_NO_OBJECT;
	}
	if (w->max_objects && g->count >= w->max_objects) {
		g->skips.limits++;
		return HS_NO_OBJECT;
	}
	idx = hs_graph_add_object(g, addr, w->tinfos[ti].graph_type, size, gen,
				  refcount(w, hdr[0]));
	if (idx == HS_NO_OBJECT)
		w->err = HS_ENOMEM;
	return idx;
}

static void emit_to(struct walk *w, uint32_t dst, uint32_t label)
{
	int err;

	if (dst == HS_NO_OBJECT)
		return;
	if (w->cur_obj != HS_NO_OBJECT)
		err = hs_graph_add_edge(w->g, dst, label);
	else
		err = hs_graph_add_root(w->g, &(struct hs_root){
			.obj = dst, .kind = w->root_kind, .detail = w->root_detail,
			.frame = w->root_frame, .label = label});
	if (err < 0)
		w->err = err;
}

void emit(struct walk *w, uint64_t addr, enum hs_edge_kind kind, uint32_t value)
{
	uint32_t dst;

	if (!addr)
		return;
	dst = add_object(w, addr, HS_GEN_UNTRACKED, true);
	if (dst == HS_NO_OBJECT && hs_log_level >= HS_LOG_DEBUG && w->cur_obj != HS_NO_OBJECT)
		hs_debug("  (referenced by 0x%llx, a %s, edge kind %d value %u)",
			 (unsigned long long)w->g->addr[w->cur_obj],
			 w->g->types[w->g->type[w->cur_obj]].name, kind, value);
	emit_to(w, dst, HS_EDGE_LABEL(kind, value));
}

/* A field of the object at base that holds a reference. */
static void emit_field(struct walk *w, uint64_t base, enum hs_field f)
{
	uint64_t p;

	if (rd_field(w, base, f, &p) && p)
		emit(w, p, HS_EDGE_FIELD, (uint32_t)f);
}

static void emit_fields(struct walk *w, uint64_t base, const enum hs_field *fields,
			size_t n)
{
	for (size_t i = 0; i < n; i++)
		emit_field(w, base, fields[i]);
}

#define EMIT_FIELDS(w, base, ...)                                              \
	do {                                                                    \
		static const enum hs_field fs_[] = {__VA_ARGS__};               \
		emit_fields(w, base, fs_, sizeof(fs_) / sizeof(fs_[0]));        \
	} while (0)

static void emit_array(struct walk *w, uint64_t items, uint64_t n)
{
	const uint64_t *p;

	if (n > MAX_ITEMS || !(p = view(w, items, n * 8))) {
		w->g->skips.bad_object++;
		return;
	}
	for (uint64_t i = 0; i < n; i++)
		if (p[i])
			emit(w, p[i], HS_EDGE_INDEX, (uint32_t)i);
}

static void decode_tuple(struct walk *w, uint64_t addr)
{
	uint64_t n = 0;

	rd_field(w, addr, HS_F_VAR_SIZE, &n);
	emit_array(w, addr + off(w, HS_F_TUPLE_ITEMS), n);
}

static void decode_list(struct walk *w, uint64_t addr)
{
	uint64_t n = 0, items = 0, alloc = 0;

	rd_field(w, addr, HS_F_VAR_SIZE, &n);
	rd_field(w, addr, HS_F_LIST_ITEMS, &items);
	rd_field(w, addr, HS_F_LIST_ALLOCATED, &alloc);
	if (n > alloc) {
		w->g->skips.bad_object++;
		return;
	}
	if (n)
		emit_array(w, items, n);
}

static void decode_set(struct walk *w, uint64_t addr)
{
	uint64_t mask = 0, table = 0;
	uint32_t esize = sz(w, HS_S_SETENTRY);
	const unsigned char *p;

	rd_field(w, addr, HS_F_SET_MASK, &mask);
	rd_field(w, addr, HS_F_SET_TABLE, &table);
	if (mask >= MAX_ITEMS || !(p = view(w, table, (mask + 1) * esize))) {
		w->g->skips.bad_object++;
		return;
	}
	for (uint64_t i = 0; i <= mask; i++) {
		uint64_t key;

		memcpy(&key, p + i * esize + off(w, HS_F_SE_KEY), 8);
		if (key)
			emit(w, key, HS_EDGE_SET_ITEM, 0);
	}
}

/* 3.12+: a static builtin type keeps tp_dict in the interpreter. */
static uint64_t static_type_dict(struct walk *w, uint64_t type)
{
	uint64_t sub = 0, dict = 0;
	uint32_t esize = sz(w, HS_S_STATIC_TYPE_STATE);

	if (!w->static_types || !esize || !rd_field(w, type, HS_F_TP_SUBCLASSES, &sub) ||
	    sub == 0 || sub > 1024)
		return 0;
	rd_field(w, w->static_types + (sub - 1) * esize, HS_F_STS_TP_DICT, &dict);
	return dict;
}

static void decode_type(struct walk *w, uint64_t addr)
{
	uint64_t flags = 0;

	rd_field(w, addr, HS_F_TP_FLAGS, &flags);
	EMIT_FIELDS(w, addr, HS_F_TP_MRO, HS_F_TP_BASES, HS_F_TP_BASE, HS_F_TP_CACHE);
	if (w->minor >= 12 && (flags & TPF_STATIC_BUILTIN)) {
		emit(w, static_type_dict(w, addr), HS_EDGE_FIELD, HS_F_TP_DICT);
		return;
	}
	EMIT_FIELDS(w, addr, HS_F_TP_DICT, HS_F_TP_SUBCLASSES);
	if (flags & TPF_HEAPTYPE)
		EMIT_FIELDS(w, addr, HS_F_HT_NAME, HS_F_HT_QUALNAME, HS_F_HT_SLOTS,
			    HS_F_HT_MODULE);
}

static void decode_code(struct walk *w, uint64_t addr)
{
	uint64_t cached = 0;

	EMIT_FIELDS(w, addr, HS_F_CO_CONSTS, HS_F_CO_NAMES, HS_F_CO_CODE,
		    HS_F_CO_VARNAMES, HS_F_CO_FREEVARS, HS_F_CO_CELLVARS,
		    HS_F_CO_FILENAME, HS_F_CO_NAME, HS_F_CO_QUALNAME, HS_F_CO_LNOTAB,
		    HS_F_CO_LINETABLE, HS_F_CO_EXCEPTIONTABLE,
		    HS_F_CO_LOCALSPLUSNAMES, HS_F_CO_LOCALSPLUSKINDS);
	/* 3.12+: lazily built co_code/co_varnames... live in a side struct */
	if (rd_field(w, addr, HS_F_CO_CACHED, &cached) && cached)
		EMIT_FIELDS(w, cached, HS_F_COC_CODE, HS_F_COC_VARNAMES,
			    HS_F_COC_CELLVARS, HS_F_COC_FREEVARS);
}

static void decode_exc_item(struct walk *w, uint64_t item)
{
	EMIT_FIELDS(w, item, HS_F_EXC_TYPE, HS_F_EXC_VALUE, HS_F_EXC_TRACEBACK);
}

/* Live slots of an interpreter frame: locals, cells, frees and the value
 * stack (3.11-3.13 stacktop counts slots; 3.14 has a stack pointer).  A
 * frame that is running (every frame of a thread is, below a call) may
 * not keep its stack top: 3.12+ reset it to -1 or NULL while they hold it
 * in a register.  Its locals, cells and free variables are valid anyway
 * (NULL while unbound), so at least those are read. */
static uint64_t iframe_live_slots(struct walk *w, uint64_t iframe, uint64_t code)
{
	uint64_t base = iframe + (uint64_t)off(w, HS_F_IF_LOCALSPLUS), v = 0, n = 0;
	const int32_t *nlocalsplus = code ? view(w, code + off(w, HS_F_CO_NLOCALSPLUS), 4) : NULL;

	if (has(w, HS_F_IF_STACKTOP)) {
		const int32_t *top = view(w, iframe + off(w, HS_F_IF_STACKTOP), 4);

		n = top && *top >= 0 ? (uint64_t)*top : 0;
	} else if (rd_field(w, iframe, HS_F_IF_STACKPOINTER, &v) && v >= base) {
		n = (v - base) / 8;
	}
	if (nlocalsplus && *nlocalsplus > 0 && (uint64_t)*nlocalsplus > n)
		n = (uint64_t)*nlocalsplus;
	return n;
}

/* Untag a 3.14+ _PyStackRef (Include/internal/pycore_stackref.h, default
 * build): bit 0 marks a borrowed or immortal reference, and 1 alone is
 * NULL; bit 1 set is no object: a tagged int (3), or 3.15's ERROR / wrapped
 * pointer (Py_TAG_INVALID, 2). */
static uint64_t stackref(const struct walk *w, uint64_t v)
{
	if (w->minor < 14)
		return v;
	if ((v & 2) || v == 1)
		return 0;
	return v & ~1ULL;
}

/* Object index of name i of a tuple of names (co_localsplusnames...),
 * as a label value. */
static uint32_t tuple_item_label(struct walk *w, uint64_t tuple, uint64_t i)
{
	uint64_t n = 0, item = 0;

	if (!tuple || !rd_field(w, tuple, HS_F_VAR_SIZE, &n) || i >= n ||
	    !rd_u64(w, tuple + off(w, HS_F_TUPLE_ITEMS) + i * 8, &item) || !item)
		return HS_LABEL_NONE;
	return hs_label_obj(add_object(w, item, HS_GEN_UNTRACKED, true));
}

static uint64_t tuple_len(struct walk *w, uint64_t tuple)
{
	uint64_t n = 0;

	return tuple && rd_field(w, tuple, HS_F_VAR_SIZE, &n) && n < MAX_ITEMS ? n : 0;
}

/* Emit frame slots: the first `named` are locals, cells and free
 * variables named by `names(i)`, the rest the value stack. */
static void emit_frame_slots(struct walk *w, const uint64_t *slots, uint64_t n,
			     const uint64_t *name_tuples, int ntuples)
{
	uint64_t named = 0, base = 0;
	int t = 0;

	for (int k = 0; k < ntuples; k++)
		named += tuple_len(w, name_tuples[k]);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = stackref(w, slots[i]);

		if (!v)
			continue;
		if (i >= named) {
			emit(w, v, HS_EDGE_STACK, (uint32_t)(i - named));
			continue;
		}
		while (t < ntuples && i >= base + tuple_len(w, name_tuples[t]))
			base += tuple_len(w, name_tuples[t++]);
		emit(w, v, HS_EDGE_LOCAL,
		     t < ntuples ? tuple_item_label(w, name_tuples[t], i - base) : HS_LABEL_NONE);
	}
}

void decode_iframe(struct walk *w, uint64_t iframe)
{
	uint64_t code = 0, func = 0, n, names = 0;
	const uint64_t *slots;

	rd_field(w, iframe, HS_F_IF_CODE, &code);
	rd_field(w, iframe, HS_F_IF_FUNC, &func);
	code = stackref(w, code);
	emit(w, code, HS_EDGE_FIELD, HS_F_IF_CODE);
	emit(w, stackref(w, func), HS_EDGE_FIELD, HS_F_IF_FUNC);
	EMIT_FIELDS(w, iframe, HS_F_IF_GLOBALS, HS_F_IF_BUILTINS, HS_F_IF_LOCALS,
		    HS_F_IF_FRAME_OBJ);
	n = iframe_live_slots(w, iframe, code);
	if (n > (1u << 20) || !(slots = view(w, iframe + off(w, HS_F_IF_LOCALSPLUS), n * 8))) {
		hs_debug("skipped frame 0x%llx: %llu live slots unreadable",
			 (unsigned long long)iframe, (unsigned long long)n);
		w->g->skips.frames++;
		return;
	}
	if (code)
		rd_field(w, code, HS_F_CO_LOCALSPLUSNAMES, &names);
	emit_frame_slots(w, slots, n, &names, 1);
}

/* <= 3.10 frame objects: Objects/frameobject.c frame_traverse */
static void decode_old_frame(struct walk *w, uint64_t addr)
{
	uint64_t code = 0, nlocals = 0, cells = 0, frees = 0, ncells = 0, nfrees = 0, size = 0;
	uint64_t live, stack = 0, names[3] = {0};
	const uint64_t *slots;

	EMIT_FIELDS(w, addr, HS_F_FR_BACK, HS_F_FR_CODE, HS_F_FR_BUILTINS,
		    HS_F_FR_GLOBALS, HS_F_FR_LOCALS, HS_F_FR_TRACE);
	rd_field(w, addr, HS_F_FR_CODE, &code);
	rd_field(w, addr, HS_F_VAR_SIZE, &size);
	if (!code || !view(w, code + off(w, HS_F_CO_NLOCALS), 4))
		return;
	nlocals = *(const uint32_t *)view(w, code + off(w, HS_F_CO_NLOCALS), 4);
	if (rd_field(w, code, HS_F_CO_CELLVARS, &cells) && cells)
		rd_field(w, cells, HS_F_VAR_SIZE, &ncells);
	if (rd_field(w, code, HS_F_CO_FREEVARS, &frees) && frees)
		rd_field(w, frees, HS_F_VAR_SIZE, &nfrees);
	live = nlocals + ncells + nfrees;
	if (has(w, HS_F_FR_STACKDEPTH)) {
		const int32_t *d = view(w, addr + off(w, HS_F_FR_STACKDEPTH), 4);

		stack = d && *d > 0 ? (uint64_t)*d : 0;
	} else {
		uint64_t top = 0, vs = 0;

		rd_field(w, addr, HS_F_FR_STACKTOP, &top);
		rd_field(w, addr, HS_F_FR_VALUESTACK, &vs);
		stack = top && top >= vs ? (top - vs) / 8 : 0;
	}
	if (live + stack > size || !(slots = view(w, addr + off(w, HS_F_FR_LOCALSPLUS),
						     (live + stack) * 8))) {
		w->g->skips.frames++;
		return;
	}
	rd_field(w, code, HS_F_CO_VARNAMES, &names[0]);
	names[1] = cells;
	names[2] = frees;
	emit_frame_slots(w, slots, live + stack, names, 3);
}

static void decode_frame(struct walk *w, uint64_t addr)
{
	uint64_t iframe = 0;

	if (w->minor < 11) {
		decode_old_frame(w, addr);
		return;
	}
	EMIT_FIELDS(w, addr, HS_F_FR_BACK, HS_F_FR_TRACE, HS_F_FR_EXTRA_LOCALS,
		    HS_F_FR_LOCALS_CACHE);
	/* the data belongs to the frame object once the frame has returned */
	if (rd_field(w, addr, HS_F_FR_IFRAME, &iframe) &&
	    iframe == addr + (uint64_t)off(w, HS_F_FR_FRAME_DATA))
		decode_iframe(w, iframe);
}

static void decode_gen(struct walk *w, uint64_t addr, enum decoder d)
{
	EMIT_FIELDS(w, addr, HS_F_GEN_NAME, HS_F_GEN_QUALNAME, HS_F_GEN_CODE,
		    HS_F_GEN_FRAME, HS_F_GEN_ORIGIN_OR_FINALIZER);
	if (d == D_CORO)
		emit_field(w, addr, HS_F_CORO_ORIGIN);
	if (d == D_ASYNCGEN)
		emit_field(w, addr, HS_F_ASYNCGEN_FINALIZER);
	decode_exc_item(w, addr + (uint64_t)off(w, HS_F_GEN_EXC_STATE));
	if (has(w, HS_F_GEN_IFRAME)) {
		const int8_t *state = view(w, addr + off(w, HS_F_GEN_FRAME_STATE), 1);
		/* the frame is valid until the generator finishes (Include/internal/
		 * pycore_frame.h FRAME_STATE_FINISHED): 3.11-3.14 FRAME_COMPLETED = 1
		 * and up; 3.15 renumbered the states from FRAME_CREATED = 0 and only
		 * FRAME_CLEARED = 5 is finished */
		int finished = w->minor >= 15 ? 5 : 1;

		if (state && *state < finished)
			decode_iframe(w, addr + (uint64_t)off(w, HS_F_GEN_IFRAME));
	}
}

static void decode_deque(struct walk *w, uint64_t addr)
{
	uint64_t block = 0, n = 0, left = 0;
	uint64_t data = (uint64_t)off(w, HS_F_BLOCK_DATA);

	rd_field(w, addr, HS_F_DEQUE_LEFTBLOCK, &block);
	rd_field(w, addr, HS_F_VAR_SIZE, &n);
	rd_field(w, addr, HS_F_DEQUE_LEFTINDEX, &left);
	if (n > MAX_ITEMS || left >= 64) {
		w->g->skips.bad_object++;
		return;
	}
	for (uint64_t i = 0, slot = left; i < n; i++, slot++) {
		uint64_t item;

		if (slot == 64) {
			if (!rd_field(w, block, HS_F_BLOCK_RIGHTLINK, &block) || !block) {
				w->g->skips.bad_object++;
				return;
			}
			slot = 0;
		}
		if (!rd_u64(w, block + data + slot * 8, &item)) {
			w->g->skips.bad_object++;
			return;
		}
		emit(w, item, HS_EDGE_INDEX, (uint32_t)i);
	}
}

/* Words of C fields we cannot name that point at valid objects: edges we
 * can only guess, so an invalid word is not counted as a skip. */
static void scan_c_fields(struct walk *w, uint64_t addr, const struct tinfo *t)
{
	uint64_t end = (uint64_t)t->basicsize, n = 0;
	const uint64_t *p;

	if (t->itemsize == 8 && rd_field(w, addr, HS_F_VAR_SIZE, &n) && n < MAX_ITEMS)
		end += n * 8;
	if (end > t->c_fields_start + MAX_SCAN_BYTES)
		end = t->c_fields_start + MAX_SCAN_BYTES;
	if (!(p = view(w, addr, end)))
		return;
	for (uint64_t i = (t->c_fields_start + 7) / 8; i < end / 8; i++) {
		uint32_t dst;

		if (!p[i] || (p[i] & 7) || p[i] == addr)
			continue;
		dst = add_object(w, p[i], HS_GEN_UNTRACKED, false);
		emit_to(w, dst, HS_EDGE_LABEL(HS_EDGE_CONSERVATIVE, i * 8));
	}
}

/* __dict__, managed dicts and inline values, and __slots__. */
static void decode_instance(struct walk *w, uint64_t addr, const struct tinfo *t)
{
	uint64_t dict = 0, type = t->addr, keys = 0;

	if (t->heap)
		emit_to(w, add_object(w, type, HS_GEN_UNTRACKED, true),
			HS_EDGE_LABEL(HS_EDGE_TYPE, 0));
	for (uint32_t i = 0; i < t->slot_count; i++) {
		uint64_t v = 0;

		if (rd_u64(w, addr + w->slot_offsets[t->slot_first + i], &v) && v)
			emit(w, v, HS_EDGE_SLOT, w->slot_names[t->slot_first + i]);
	}
	if (t->flags & TPF_MANAGED_DICT) {
		uint64_t word = 0;

		rd_field(w, type, HS_F_HT_CACHED_KEYS, &keys);
		if (w->minor == 11) {
			uint64_t values = 0;

			rd_u64(w, addr - 32, &values);
			rd_u64(w, addr - 24, &dict);
			if (values && keys)
				decode_split_values(w, keys, values);
		} else if (w->minor == 12) {
			/* tagged: values pointer minus one, or a dict */
			rd_u64(w, addr - 24, &word);
			if (word & 1) {
				if (keys)
					decode_split_values(w, keys, word + 1);
			} else {
				dict = word;
			}
		} else {
			rd_u64(w, addr - 24, &dict);
			if (t->flags & TPF_INLINE_VALUES) {
				uint64_t values = addr + (uint64_t)t->basicsize;
				const uint8_t *hdr = view(w, values, 8);

				if (hdr && hdr[off(w, HS_F_DV_VALID)] && keys)
					decode_split_values(w, keys, values);
			}
		}
	} else if (t->dictoffset > 0) {
		rd_u64(w, addr + (uint64_t)t->dictoffset, &dict);
	} else if (t->dictoffset < 0) {
		/* var-sized objects keep the dict after their items */
		uint64_t n = 0;
		int64_t items;

		rd_field(w, addr, HS_F_VAR_SIZE, &n);
		items = (int64_t)n < 0 ? -(int64_t)n : (int64_t)n;
		rd_u64(w, addr + (uint64_t)(t->dictoffset +
					   (int64_t)((t->basicsize + items * t->itemsize + 7) & ~7)),
		       &dict);
	}
	if (dict)
		emit(w, dict, HS_EDGE_FIELD, HS_F_TP_DICT);
}

void decode_object(struct walk *w, uint32_t obj)
{
	uint64_t addr = w->g->addr[obj];
	const int64_t *hdr = view(w, addr, 16);
	const struct tinfo *t;
	uint32_t ti;

	w->cur_obj = obj;
	if (!hdr || (ti = tinfo_of(w, (uint64_t)hdr[1])) == TINFO_INVALID)
		return;
	t = &w->tinfos[ti];
	switch ((enum decoder)t->decoder) {
	case D_TUPLE:
		decode_tuple(w, addr);
		break;
	case D_LIST:
		decode_list(w, addr);
		break;
	case D_DICT:
		decode_dict(w, addr);
		break;
	case D_SET:
		decode_set(w, addr);
		break;
	case D_TYPE:
		decode_type(w, addr);
		break;
	case D_MODULE:
		EMIT_FIELDS(w, addr, HS_F_MOD_DICT, HS_F_MOD_NAME);
		break;
	case D_FUNCTION:
		EMIT_FIELDS(w, addr, HS_F_FN_CODE, HS_F_FN_GLOBALS, HS_F_FN_BUILTINS,
			    HS_F_FN_NAME, HS_F_FN_QUALNAME, HS_F_FN_DEFAULTS,
			    HS_F_FN_KWDEFAULTS, HS_F_FN_CLOSURE, HS_F_FN_DOC, HS_F_FN_DICT,
			    HS_F_FN_MODULE, HS_F_FN_ANNOTATIONS, HS_F_FN_ANNOTATE,
			    HS_F_FN_TYPEPARAMS);
		break;
	case D_METHOD:
		EMIT_FIELDS(w, addr, HS_F_METH_FUNC, HS_F_METH_SELF);
		break;
	case D_CELL:
		emit_field(w, addr, HS_F_CELL_REF);
		break;
	case D_CODE:
		decode_code(w, addr);
		break;
	case D_FRAME:
		decode_frame(w, addr);
		break;
	case D_GEN:
	case D_CORO:
	case D_ASYNCGEN:
		decode_gen(w, addr, (enum decoder)t->decoder);
		break;
	case D_WEAKREF:
		/* the referent is weak: only the callback is owned */
		emit_field(w, addr, HS_F_WR_CALLBACK);
		break;
	case D_DEQUE:
		decode_deque(w, addr);
		break;
	default:
		break;
	}
	if (t->c_fields_start)
		scan_c_fields(w, addr, t);
	/* instances of heap types add __dict__ and __slots__ to any base */
	if (t->heap || t->decoder == D_OBJECT)
		decode_instance(w, addr, t);
}
