/*
 * sys.getsizeof() from outside: presize (GC header, pre-header) plus each
 * type's __sizeof__, per version.  The rules mirror the __sizeof__
 * implementations in Objects/ (named next to each case).
 */
#include <string.h>

#include "heapscope/error.h"
#include "walk-internal.h"

#define LONG_DIGIT_OFFSET 24 /* offsetof(PyLongObject, ob_digit), all versions */

static uint64_t round8(uint64_t n)
{
	return (n + 7) & ~7ULL;
}

/* object.__sizeof__: basicsize + itemsize * ob_size */
static uint64_t generic_size(struct walk *w, uint64_t addr, const struct tinfo *t,
			     bool *ok)
{
	uint64_t size = (uint64_t)t->basicsize;
	int64_t n;

	if (t->itemsize > 0) {
		n = rd_ssize(w, addr + off(w, HS_F_VAR_SIZE), ok);
		if (n < 0 || n > (int64_t)MAX_ITEMS * 8)
			*ok = false;
		else
			size += (uint64_t)n * (uint64_t)t->itemsize;
	}
	return size;
}

/* Objects/unicodeobject.c unicode_sizeof */
static uint64_t str_size(struct walk *w, uint64_t addr, bool *ok)
{
	uint64_t length = 0, state = 0, utf8 = 0, utf8_len = 0, data, size;
	unsigned kind;
	bool compact, ascii;

	*ok = rd_field(w, addr, HS_F_STR_LENGTH, &length) &&
	      rd_field(w, addr, HS_F_STR_STATE, &state);
	if (!*ok || length > (1ULL << 40))
		return *ok = false, 0;
	state &= 0xffffffff;
	kind = (state >> 2) & 7;
	compact = (state >> 5) & 1;
	ascii = (state >> 6) & 1;
	if (compact && ascii) {
		size = sz(w, HS_S_ASCII) + length + 1;
		data = addr + sz(w, HS_S_ASCII);
	} else if (compact) {
		size = sz(w, HS_S_COMPACT_UNICODE) + (length + 1) * kind;
		data = addr + sz(w, HS_S_COMPACT_UNICODE);
	} else {
		size = sz(w, HS_S_UNICODE);
		rd_field(w, addr, HS_F_STR_DATA, &data);
		if (data)
			size += (length + 1) * kind;
	}
	if (!(compact && ascii) && rd_field(w, addr, HS_F_STR_UTF8, &utf8) && utf8 &&
	    utf8 != data && rd_field(w, addr, HS_F_STR_UTF8_LENGTH, &utf8_len))
		size += utf8_len + 1;
	/* 3.8-3.11: a cached wchar_t copy */
	if (has(w, HS_F_STR_WSTR)) {
		uint64_t wstr = 0, wlen = 0;
		bool ready = (state >> 7) & 1;

		rd_field(w, addr, HS_F_STR_WSTR, &wstr);
		if (wstr && (!ready || wstr != data)) {
			if (compact && ascii)
				wlen = length;
			else
				rd_field(w, addr, HS_F_STR_WSTR_LENGTH, &wlen);
			size += (wlen + 1) * 4;
		}
	}
	return size;
}

/* Objects/longobject.c int___sizeof__ */
static uint64_t int_size(struct walk *w, uint64_t addr, bool *ok)
{
	uint64_t ndigits;

	if (has(w, HS_F_LONG_TAG)) {
		uint64_t tag = 0;

		*ok = rd_field(w, addr, HS_F_LONG_TAG, &tag);
		ndigits = tag >> 3;
	} else {
		int64_t n = rd_ssize(w, addr + off(w, HS_F_VAR_SIZE), ok);

		ndigits = (uint64_t)(n < 0 ? -n : n);
	}
	if (ndigits > (1ULL << 32))
		*ok = false;
	if (w->minor >= 11 && ndigits == 0)
		ndigits = 1;
	return LONG_DIGIT_OFFSET + 4 * ndigits;
}

/* Objects/setobject.c set_sizeof */
static uint64_t set_size(struct walk *w, uint64_t addr, const struct tinfo *t, bool *ok)
{
	uint64_t mask = 0, table = 0, size = (uint64_t)t->basicsize;

	*ok = rd_field(w, addr, HS_F_SET_MASK, &mask) && rd_field(w, addr, HS_F_SET_TABLE, &table);
	if (mask >= MAX_ITEMS)
		*ok = false;
	if (table != addr + (uint64_t)off(w, HS_F_SET_SMALLTABLE))
		size += (mask + 1) * sz(w, HS_S_SETENTRY);
	return size;
}

/* Objects/typeobject.c type___sizeof___impl */
static uint64_t type_size(struct walk *w, uint64_t addr, bool *ok)
{
	uint64_t flags = 0, keys = 0, size;
	bool kok = true;

	*ok = rd_field(w, addr, HS_F_TP_FLAGS, &flags);
	if (!(flags & TPF_HEAPTYPE))
		return sz(w, HS_S_TYPE);
	size = sz(w, HS_S_HEAPTYPE);
	if (rd_field(w, addr, HS_F_HT_CACHED_KEYS, &keys) && keys)
		size += dictkeys_size(w, keys, &kok);
	return size;
}

/* Objects/codeobject.c code_sizeof */
static uint64_t code_size(struct walk *w, uint64_t addr, const struct tinfo *t, bool *ok)
{
	uint64_t size, extra = 0, n = 0;

	if (w->minor >= 11) {
		size = round8(generic_size(w, addr, t, ok));
	} else {
		uint64_t cell2arg = 0, cellvars = 0, cache = 0;

		size = (uint64_t)t->basicsize;
		if (rd_field(w, addr, HS_F_CO_CELL2ARG, &cell2arg) && cell2arg &&
		    rd_field(w, addr, HS_F_CO_CELLVARS, &cellvars) && cellvars &&
		    rd_field(w, cellvars, HS_F_VAR_SIZE, &n) && n < MAX_ITEMS)
			size += n * 8;
		if (rd_field(w, addr, HS_F_CO_OPCACHE, &cache) && cache &&
		    has(w, HS_F_CO_OPCACHE_SIZE)) {
			const unsigned char *p = view(w, addr + off(w, HS_F_CO_OPCACHE_SIZE), 1);

			if (p)
				size += (uint64_t)p[0] * sz(w, HS_S_OPCACHE);
		}
	}
	if (rd_field(w, addr, HS_F_CO_EXTRA, &extra) && extra &&
	    rd_field(w, extra, HS_F_COX_SIZE, &n) && n > 0 && n < 4096)
		size += sz(w, HS_S_CODEEXTRA) + (n - 1) * 8;
	return size;
}

/* Slots of a frame's code: 3.11 co_nlocalsplus + co_stacksize; 3.12+
 * co_framesize - FRAME_SPECIALS_SIZE (Include/internal/pycore_frame.h). */
static bool code_frame_slots(struct walk *w, uint64_t code, uint64_t *slots)
{
	const unsigned char *p = view(w, code, sz(w, HS_S_CODE));
	int32_t a = 0, b = 0;

	if (!p)
		return false;
	if (w->minor == 11) {
		memcpy(&a, p + off(w, HS_F_CO_NLOCALSPLUS), 4);
		memcpy(&b, p + off(w, HS_F_CO_STACKSIZE), 4);
		*slots = (uint64_t)a + (uint64_t)b;
		return a >= 0 && b >= 0;
	}
	memcpy(&a, p + off(w, HS_F_CO_FRAMESIZE), 4);
	b = (int32_t)((sz(w, HS_S_IFRAME) - 1) / 8);
	*slots = (uint64_t)(a - b);
	return a >= b;
}

/* 3.11+ frames and generators embed an interpreter frame whose localsplus
 * is sized by the code object. */
static uint64_t embedded_frame_size(struct walk *w, uint64_t head, uint64_t iframe,
				    bool *ok)
{
	uint64_t code = 0, slots = 0;

	*ok = rd_field(w, iframe, HS_F_IF_CODE, &code);
	code &= ~3ULL; /* 3.14 tags f_executable */
	if (*ok)
		*ok = code_frame_slots(w, code, &slots);
	return head + (uint64_t)off(w, HS_F_IF_LOCALSPLUS) + slots * 8;
}

static uint64_t frame_size(struct walk *w, uint64_t addr, const struct tinfo *t, bool *ok)
{
	uint64_t n;

	if (w->minor < 11) {
		n = (uint64_t)rd_ssize(w, addr + off(w, HS_F_VAR_SIZE), ok);
		return (uint64_t)t->basicsize + (n ? n - 1 : 0) * 8;
	}
	/* Objects/frameobject.c frame_sizeof reads the code through f_frame */
	if (!rd_field(w, addr, HS_F_FR_IFRAME, &n) || !n)
		return *ok = false, 0;
	return embedded_frame_size(w, (uint64_t)off(w, HS_F_FR_FRAME_DATA), n, ok);
}

static uint64_t gen_size(struct walk *w, uint64_t addr, const struct tinfo *t, bool *ok)
{
	if (w->minor < 11)
		return generic_size(w, addr, t, ok);
	if (w->minor == 11) {
		uint64_t code = 0, slots = 0;

		*ok = rd_field(w, addr, HS_F_GEN_CODE, &code) && code_frame_slots(w, code, &slots);
		return (uint64_t)off(w, HS_F_GEN_IFRAME) + (uint64_t)off(w, HS_F_IF_LOCALSPLUS) +
		       slots * 8;
	}
	return embedded_frame_size(w, (uint64_t)off(w, HS_F_GEN_IFRAME),
				   addr + (uint64_t)off(w, HS_F_GEN_IFRAME), ok);
}

/* Modules/_collectionsmodule.c deque_sizeof: whole 64-item blocks */
static uint64_t deque_size(struct walk *w, uint64_t addr, const struct tinfo *t, bool *ok)
{
	int64_t left = rd_ssize(w, addr + off(w, HS_F_DEQUE_LEFTINDEX), ok);
	int64_t n = rd_ssize(w, addr + off(w, HS_F_VAR_SIZE), ok);

	if (left < 0 || n < 0 || n > MAX_ITEMS)
		return *ok = false, 0;
	return (uint64_t)t->basicsize + (uint64_t)((left + n + 63) / 64) * sz(w, HS_S_DEQUE_BLOCK);
}

/* Objects/bytearrayobject.c bytearray_sizeof; 3.15+ keeps the bytes in a
 * bytes object (ob_bytes_object) and adds its header when there are any */
static uint64_t bytearray_size(struct walk *w, uint64_t addr, const struct tinfo *t,
			       bool *ok)
{
	uint64_t alloc = 0;

	*ok = rd_field(w, addr, HS_F_BYTEARRAY_ALLOC, &alloc) && alloc < (1ULL << 40);
	if (!has(w, HS_F_BYTEARRAY_BYTES_OBJECT))
		return (uint64_t)t->basicsize + alloc;
	if (!has(w, HS_F_BYTES_SVAL))
		return *ok = false, 0;
	/* _PyBytesObject_SIZE: offsetof(PyBytesObject, ob_sval) + 1 */
	return (uint64_t)t->basicsize + (alloc ? (uint64_t)off(w, HS_F_BYTES_SVAL) + 1 + alloc : 0);
}

/* Objects/odictobject.c odict_sizeof: the dict, the node index and one
 * node per item */
static uint64_t odict_size(struct walk *w, uint64_t addr, uint64_t dict_size, bool *ok)
{
	uint64_t fast = 0, used = 0;

	*ok = rd_field(w, addr, HS_F_ODICT_FAST_NODES_SIZE, &fast) &&
	      rd_field(w, addr, HS_F_DICT_USED, &used) && fast < MAX_ITEMS && used < MAX_ITEMS;
	return dict_size + 8 * fast + used * sz(w, HS_S_ODICT_NODE);
}

/* Modules/_io/bufferedio.c _io__Buffered___sizeof___impl */
static uint64_t buffered_size(struct walk *w, uint64_t addr, uint64_t size, bool *ok)
{
	uint64_t buffer = 0, bsize = 0;

	*ok = rd_field(w, addr, HS_F_BUFFERED_BUFFER, &buffer) &&
	      rd_field(w, addr, HS_F_BUFFERED_BUFFER_SIZE, &bsize) && bsize < (1ULL << 40);
	return buffer ? size + bsize : size;
}

/*
 * t->presize holds for every instance of t, except static type objects:
 * they carry no GC header, yet sys.getsizeof counted one in 3.11 and 3.12
 * (sys.getsizeof(int) == 424 on 3.11, 416 on 3.10 and 3.13).
 */
static uint64_t presize_of_object(struct walk *w, uint64_t addr, const struct tinfo *t)
{
	uint64_t flags = 0;

	if (t->decoder == D_TYPE && (t->flags & TPF_HAVE_GC) && w->minor != 11 &&
	    w->minor != 12 && rd_field(w, addr, HS_F_TP_FLAGS, &flags) &&
	    !(flags & TPF_HEAPTYPE))
		return t->presize - sz(w, HS_S_GC_HEAD);
	return t->presize;
}

uint64_t object_size(struct walk *w, uint64_t addr, const struct tinfo *t)
{
	bool ok = true;
	uint64_t size, alloc = 0;

	switch ((enum decoder)t->decoder) {
	case D_LIST:
		ok = rd_field(w, addr, HS_F_LIST_ALLOCATED, &alloc) && alloc <= MAX_ITEMS;
		size = (uint64_t)t->basicsize + alloc * 8;
		break;
	case D_DICT:
		size = dict_sizeof(w, addr, t);
		ok = size != 0;
		break;
	case D_SET:
		size = set_size(w, addr, t, &ok);
		break;
	case D_STR:
		size = str_size(w, addr, &ok);
		break;
	case D_INT:
		size = int_size(w, addr, &ok);
		break;
	case D_BYTEARRAY:
		size = bytearray_size(w, addr, t, &ok);
		break;
	case D_TYPE:
		size = type_size(w, addr, &ok);
		break;
	case D_CODE:
		size = code_size(w, addr, t, &ok);
		break;
	case D_FRAME:
		size = frame_size(w, addr, t, &ok);
		break;
	case D_GEN:
	case D_CORO:
	case D_ASYNCGEN:
		size = gen_size(w, addr, t, &ok);
		break;
	case D_DEQUE:
		size = deque_size(w, addr, t, &ok);
		break;
	default:
		size = generic_size(w, addr, t, &ok);
		break;
	}
	if (ok && t->sizer == SZ_ODICT && t->decoder == D_DICT)
		size = odict_size(w, addr, size, &ok);
	else if (ok && t->sizer == SZ_BUFFERED)
		size = buffered_size(w, addr, size, &ok);
	return ok ? size + presize_of_object(w, addr, t) : 0;
}
