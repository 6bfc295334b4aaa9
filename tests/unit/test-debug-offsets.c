/*
 * Unit test of the _Py_DebugOffsets parser.
 *
 * 1. Synthetic tables of 3.13, 3.14 and 3.15 shape, built from the entry
 *    positions below (written out from `ptype /o struct _Py_DebugOffsets`
 *    on the real binaries, independently of the parser's own mirrors):
 *    every mapped field must come out, nothing else may change, and
 *    damaged tables must give the right error and leave the layout alone.
 * 2. Real tables: the .PyRuntime section of the CPython binaries on this
 *    machine, compared field by field with the DWARF layout of the same
 *    build.  A binary that is not here is a TAP skip naming it.
 *    $PYENV_ROOT (default ~/.pyenv) and $HEAPSCOPE_CHROOT_DIR (default
 *    /var/cache/heapscope/chroots) say where to look.
 */
#include "heapscope/debug_offsets.h"
#include "heapscope/dwarf.h"
#include "heapscope/error.h"
#include "heapscope/layout.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- what each version's table holds, by byte position ---------------- */

struct spec_field {
	uint16_t pos;
	enum hs_field field;
	int fsize; /* < 0: the size is the table's value at position -fsize */
};

struct spec_size {
	uint16_t pos;
	enum hs_size size;
};

struct spec {
	const char *name;
	unsigned version; /* stated by the synthetic table */
	size_t table_size;
	const uint16_t *groups; /* position of every group's `size` */
	size_t ngroups;
	const struct spec_field *fields;
	size_t nfields;
	const struct spec_size *sizes;
	size_t nsizes;
};

#define F(pos, id, fsize) {pos, HS_F_##id, fsize}
#define S(pos, id) {pos, HS_S_##id}

/* 3.13: 584 bytes */
static const uint16_t groups313[] = {24, 48, 152, 224, 272, 352, 368, 400,
				     424, 448, 472, 488, 512, 536, 568};
static const struct spec_field fields313[] = {
	F(40, RT_INTERP_HEAD, 8),
	F(64, IS_NEXT, 8), F(72, IS_THREADS_HEAD, 8), F(80, IS_GC, -568),
	F(88, IS_MODULES, 8), F(96, IS_SYSDICT, 8), F(104, IS_BUILTINS, 8),
	F(168, TS_NEXT, 8), F(184, TS_CURRENT_FRAME, 8), F(192, TS_THREAD_ID, 8),
	F(200, TS_NATIVE_ID, 8),
	F(232, IF_PREVIOUS, 8), F(240, IF_CODE, 8), F(256, IF_LOCALSPLUS, 8), F(264, IF_OWNER, 1),
	F(280, CO_FILENAME, 8), F(288, CO_NAME, 8), F(296, CO_QUALNAME, 8),
	F(304, CO_LINETABLE, 8), F(328, CO_LOCALSPLUSNAMES, 8), F(336, CO_LOCALSPLUSKINDS, 8),
	F(344, CO_CODE_ADAPTIVE, 1),
	F(360, OB_TYPE, 8),
	F(376, TP_NAME, 8), F(392, TP_FLAGS, 8),
	F(408, TUPLE_ITEMS, 8), F(416, VAR_SIZE, 8),
	F(432, LIST_ITEMS, 8),
	F(456, DICT_KEYS, 8), F(464, DICT_VALUES, 8),
	F(496, LONG_TAG, 8), F(504, LONG_DIGITS, 4),
	F(544, STR_STATE, 4), F(552, STR_LENGTH, 8),
	F(576, GCS_COLLECTING, 4),
};
static const struct spec_size sizes313[] = {
	S(24, RUNTIME), S(48, INTERP), S(152, TSTATE), S(224, IFRAME), S(272, CODE),
	S(352, OBJECT), S(368, TYPE), S(400, TUPLE), S(424, LIST), S(448, DICT),
	S(488, LONG), S(536, UNICODE), S(560, ASCII), S(568, GC_STATE),
};

/* 3.14: 760 bytes */
static const uint16_t groups314[] = {24, 48, 176, 248, 312, 400, 416, 448, 472, 496,
				     528, 552, 568, 592, 616, 648, 664};
static const struct spec_field fields314[] = {
	F(40, RT_INTERP_HEAD, 8),
	F(64, IS_NEXT, 8), F(72, IS_THREADS_HEAD, 8), F(88, IS_GC, -648),
	F(96, IS_MODULES, 8), F(104, IS_SYSDICT, 8), F(112, IS_BUILTINS, 8),
	F(192, TS_NEXT, 8), F(208, TS_CURRENT_FRAME, 8), F(216, TS_THREAD_ID, 8),
	F(224, TS_NATIVE_ID, 8),
	F(256, IF_PREVIOUS, 8), F(264, IF_CODE, 8), F(280, IF_LOCALSPLUS, 8), F(288, IF_OWNER, 1),
	F(296, IF_STACKPOINTER, 8),
	F(320, CO_FILENAME, 8), F(328, CO_NAME, 8), F(336, CO_QUALNAME, 8),
	F(344, CO_LINETABLE, 8), F(368, CO_LOCALSPLUSNAMES, 8), F(376, CO_LOCALSPLUSKINDS, 8),
	F(384, CO_CODE_ADAPTIVE, 1),
	F(408, OB_TYPE, 8),
	F(424, TP_NAME, 8), F(440, TP_FLAGS, 8),
	F(456, TUPLE_ITEMS, 8), F(464, VAR_SIZE, 8),
	F(480, LIST_ITEMS, 8),
	F(504, SET_USED, 8), F(512, SET_TABLE, 8), F(520, SET_MASK, 8),
	F(536, DICT_KEYS, 8), F(544, DICT_VALUES, 8),
	F(576, LONG_TAG, 8), F(584, LONG_DIGITS, 4),
	F(624, STR_STATE, 4), F(632, STR_LENGTH, 8),
	F(656, GCS_COLLECTING, 4),
	F(672, GEN_NAME, 8), F(680, GEN_IFRAME, -248), F(688, GEN_FRAME_STATE, 1),
};
static const struct spec_size sizes314[] = {
	S(24, RUNTIME), S(48, INTERP), S(176, TSTATE), S(248, IFRAME), S(312, CODE),
	S(400, OBJECT), S(416, TYPE), S(448, TUPLE), S(472, LIST), S(496, SET), S(528, DICT),
	S(568, LONG), S(616, UNICODE), S(640, ASCII), S(648, GC_STATE), S(664, GEN),
};

/* 3.15: 888 bytes */
static const uint16_t groups315[] = {24, 48, 176, 312, 376, 464, 480, 528, 544, 568,
				     592, 624, 648, 664, 688, 712, 752, 792};
static const struct spec_field fields315[] = {
	F(40, RT_INTERP_HEAD, 8),
	F(64, IS_NEXT, 8), F(72, IS_THREADS_HEAD, 8), F(88, IS_GC, -752),
	F(96, IS_MODULES, 8), F(104, IS_SYSDICT, 8), F(112, IS_BUILTINS, 8),
	F(192, TS_NEXT, 8), F(208, TS_CURRENT_FRAME, 8), F(240, TS_THREAD_ID, 8),
	F(248, TS_NATIVE_ID, 8), F(288, TS_CURRENT_EXC, 8),
	F(320, IF_PREVIOUS, 8), F(328, IF_CODE, 8), F(344, IF_LOCALSPLUS, 8), F(352, IF_OWNER, 1),
	F(360, IF_STACKPOINTER, 8),
	F(384, CO_FILENAME, 8), F(392, CO_NAME, 8), F(400, CO_QUALNAME, 8),
	F(408, CO_LINETABLE, 8), F(432, CO_LOCALSPLUSNAMES, 8), F(440, CO_LOCALSPLUSKINDS, 8),
	F(448, CO_CODE_ADAPTIVE, 1),
	F(472, OB_TYPE, 8),
	F(488, TP_NAME, 8), F(504, TP_FLAGS, 8), F(512, TP_BASICSIZE, 8), F(520, TP_DICTOFFSET, 8),
	F(536, HT_CACHED_KEYS, 8),
	F(552, TUPLE_ITEMS, 8), F(560, VAR_SIZE, 8),
	F(576, LIST_ITEMS, 8),
	F(600, SET_USED, 8), F(608, SET_TABLE, 8), F(616, SET_MASK, 8),
	F(632, DICT_KEYS, 8), F(640, DICT_VALUES, 8),
	F(672, LONG_TAG, 8), F(680, LONG_DIGITS, 4),
	F(720, STR_STATE, 4), F(728, STR_LENGTH, 8),
	F(760, GCS_COLLECTING, 4),
	F(800, GEN_NAME, 8), F(808, GEN_IFRAME, -312), F(816, GEN_FRAME_STATE, 1),
};
static const struct spec_size sizes315[] = {
	S(24, RUNTIME), S(48, INTERP), S(176, TSTATE), S(312, IFRAME), S(376, CODE),
	S(464, OBJECT), S(480, TYPE), S(528, HEAPTYPE), S(544, TUPLE), S(568, LIST),
	S(592, SET), S(624, DICT), S(664, LONG), S(712, UNICODE), S(736, ASCII),
	S(744, COMPACT_UNICODE), S(752, GC_STATE), S(792, GEN),
};

#define SPEC(n, v, size, x) \
	{n, v, size, groups##x, COUNT(groups##x), fields##x, COUNT(fields##x), sizes##x, COUNT(sizes##x)}

static const struct spec specs[] = {
	SPEC("3.13", 0x030d05f0, 584, 313),
	SPEC("3.14", 0x030e0af0, 760, 314),
	SPEC("3.15", 0x030f02f0, 888, 315),
};

/* ---- synthetic tables --------------------------------------------------- */

enum { TABLE_MAX = 1024 };

struct table {
	unsigned char b[TABLE_MAX];
};

static void put(struct table *t, size_t pos, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		t->b[pos + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get(const struct table *t, size_t pos)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | t->b[pos + (size_t)i];
	return v;
}

static bool is_group(const struct spec *s, size_t pos)
{
	for (size_t i = 0; i < s->ngroups; i++)
		if (s->groups[i] == pos)
			return true;
	return false;
}

static const struct spec_field *spec_field(const struct spec *s, int f)
{
	for (size_t i = 0; i < s->nfields; i++)
		if ((int)s->fields[i].field == f)
			return &s->fields[i];
	return NULL;
}

static const struct spec_size *spec_size(const struct spec *s, int id)
{
	for (size_t i = 0; i < s->nsizes; i++)
		if ((int)s->sizes[i].size == id)
			return &s->sizes[i];
	return NULL;
}

static size_t field_pos(const struct spec *s, enum hs_field f)
{
	return spec_field(s, f)->pos;
}

static size_t size_pos(const struct spec *s, enum hs_size id)
{
	return spec_size(s, id)->pos;
}

/*
 * Every entry holds a distinct value, so a swapped mapping shows: a member
 * offset is its own position, a group size 50000 + its position, another
 * sizeof (asciiobject_size...) 1000 + its position.  Structs embedded in
 * others (the GC state, the generator's frame) get 20000 + position so
 * they fit, and PyObject is the real 16 bytes with ob_type at 8.
 */
static void build(const struct spec *s, struct table *t)
{
	memset(t->b, 0, sizeof(t->b));
	memcpy(t->b, "xdebugpy", 8);
	put(t, 8, s->version);
	put(t, 16, 0);
	for (size_t pos = 24; pos < s->table_size; pos += 8)
		put(t, pos, is_group(s, pos) ? 50000 + pos : pos);
	for (size_t i = 0; i < s->nsizes; i++)
		if (!is_group(s, s->sizes[i].pos))
			put(t, s->sizes[i].pos, 1000 + s->sizes[i].pos);
	for (size_t i = 0; i < s->nfields; i++)
		if (s->fields[i].fsize < 0)
			put(t, (size_t)-s->fields[i].fsize, 20000 - s->fields[i].fsize);
	put(t, size_pos(s, HS_S_OBJECT), 16);
	put(t, field_pos(s, HS_F_OB_TYPE), 8);
}

/* A layout whose every slot holds a sentinel, to see what was written. */
static void sentinel_layout(struct hs_layout *l)
{
	hs_layout_init(l);
	for (int f = 0; f < HS_F_COUNT; f++) {
		l->off[f] = 7777;
		l->fsize[f] = 3;
	}
	for (int i = 0; i < HS_S_COUNT; i++)
		l->size[i] = 5;
	l->source = HS_SRC_TABLE;
	strcpy(l->source_detail, "before");
}

static int check_fields(const struct spec *s, const struct table *t, const struct hs_layout *l)
{
	int bad = 0;

	for (int f = 0; f < HS_F_COUNT; f++) {
		const struct spec_field *e = spec_field(s, f);
		long off = e ? (long)get(t, e->pos) : 7777;
		long fsize = !e ? 3 : e->fsize < 0 ? (long)get(t, (size_t)-e->fsize) : e->fsize;

		if (l->off[f] != off || (long)l->fsize[f] != fsize) {
			diag("%s %s: expected %ld/%ld, got %d/%u", s->name, hs_field_names[f], off, fsize,
			     l->off[f], l->fsize[f]);
			bad++;
		}
	}
	return bad;
}

static int check_sizes(const struct spec *s, const struct table *t, const struct hs_layout *l)
{
	int bad = 0;

	for (int i = 0; i < HS_S_COUNT; i++) {
		const struct spec_size *e = spec_size(s, i);
		long want = e ? (long)get(t, e->pos) : 5;

		if ((long)l->size[i] != want) {
			diag("%s sizeof %s: expected %ld, got %u", s->name, hs_size_names[i], want, l->size[i]);
			bad++;
		}
	}
	return bad;
}

static void test_good(const struct spec *s)
{
	struct table t;
	struct hs_layout l;
	struct hs_debug_offsets_info info = {0};
	int rc;

	build(s, &t);
	sentinel_layout(&l);
	rc = hs_debug_offsets_parse(t.b, s->table_size, 0, &l, &info);
	if (!ok(rc == 0, "%s: synthetic table parses (%d: %s)", s->name, rc, rc ? hs_errmsg() : "ok"))
		return;
	ok(info.version == s->version && info.table_size == s->table_size,
	   "%s: info says version 0x%08x, %zu bytes", s->name, info.version, info.table_size);
	ok(info.fields_set == s->nfields && info.sizes_set == s->nsizes,
	   "%s: info counts %u fields, %u sizes (want %zu, %zu)", s->name, info.fields_set,
	   info.sizes_set, s->nfields, s->nsizes);
	ok(check_fields(s, &t, &l) == 0, "%s: every mapped field and its size set, the others untouched",
	   s->name);
	ok(check_sizes(s, &t, &l) == 0, "%s: every mapped struct size set, the others untouched", s->name);
	ok(l.source == HS_SRC_TABLE && strcmp(l.source_detail, "before") == 0,
	   "%s: source left to the caller", s->name);

	hs_layout_init(&l);
	rc = hs_debug_offsets_parse(t.b, TABLE_MAX, s->version, &l, NULL);
	ok(rc == 0 && hs_layout_validate(&l) == 0,
	   "%s: longer buffer, matching expected version, NULL info: parses and validates", s->name);
	rc = hs_debug_offsets_parse(t.b, s->table_size, s->version ^ 0x0f, &l, NULL);
	ok(rc == 0, "%s: expected version differing only in release level/serial is accepted (%d)",
	   s->name, rc);
}

/* ---- damaged tables ----------------------------------------------------- */

struct damage {
	const char *what;
	int want;          /* error code */
	const char *words; /* must appear in the message; "%v" = the spec's name */
	void (*apply)(const struct spec *s, struct table *t, size_t *len, unsigned *expected);
};

static void bad_cookie(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)s, (void)len, (void)e;
	t->b[7] = 'Y';
}

static void short_by_one(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)t, (void)e;
	*len = s->table_size - 1;
}

static void header_only(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)s, (void)t, (void)e;
	*len = 23;
}

static void empty(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)s, (void)t, (void)e;
	*len = 0;
}

static void free_threaded(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)s, (void)len, (void)e;
	put(t, 16, 1);
}

static void code_size_zero(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, size_pos(s, HS_S_CODE), 0);
}

static void interp_size_huge(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, size_pos(s, HS_S_INTERP), (64u << 20) + 1);
}

/* float_object: the first group after dict_object; no field of ours */
static void float_size_zero(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, size_pos(s, HS_S_DICT) + 24, 0);
}

static void offset_at_size(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, field_pos(s, HS_F_TS_NATIVE_ID), get(t, size_pos(s, HS_S_TSTATE)));
}

static void member_overhangs(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, field_pos(s, HS_F_TUPLE_ITEMS), get(t, size_pos(s, HS_S_TUPLE)) - 4);
}

static void offset_huge(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, field_pos(s, HS_F_DICT_KEYS), UINT64_C(1) << 63);
}

static void gc_state_too_big(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, size_pos(s, HS_S_GC_STATE), get(t, size_pos(s, HS_S_INTERP)));
}

static void ascii_size_zero(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, size_pos(s, HS_S_ASCII), 0);
}

static void ascii_size_small(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, size_pos(s, HS_S_ASCII), get(t, field_pos(s, HS_F_STR_LENGTH)) + 4);
}

static void pyobject_size_8(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, size_pos(s, HS_S_OBJECT), 8);
	put(t, field_pos(s, HS_F_OB_TYPE), 4);
}

static void ob_type_at_4(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, field_pos(s, HS_F_OB_TYPE), 4);
}

static void version_312(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)s, (void)len, (void)e;
	put(t, 8, 0x030c04f0);
}

static void version_316(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)s, (void)len, (void)e;
	put(t, 8, 0x031000f0);
}

static void version_garbage(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)s, (void)len, (void)e;
	put(t, 8, UINT64_MAX);
}

static void version_alpha(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)len, (void)e;
	put(t, 8, (s->version & 0xffff0000) | 0xa3);
}

static void expected_other_micro(const struct spec *s, struct table *t, size_t *len, unsigned *e)
{
	(void)t, (void)len;
	*e = s->version + 0x100;
}

static const struct damage damages[] = {
	{"bad cookie", HS_ENOLAYOUT, "cookie missing", bad_cookie},
	{"one byte short", HS_ENOLAYOUT, "only", short_by_one},
	{"header only", HS_ENOLAYOUT, "too short", header_only},
	{"empty buffer", HS_ENOLAYOUT, "too short", empty},
	{"free_threaded = 1", HS_EVERSION, "free-threaded build (Python %vt) is not supported",
	 free_threaded},
	{"code_object.size = 0", HS_ENOLAYOUT, "code_object.size", code_size_zero},
	{"interpreter_state.size over 64 MiB", HS_ENOLAYOUT, "interpreter_state.size", interp_size_huge},
	{"float_object.size = 0", HS_ENOLAYOUT, "float_object.size", float_size_zero},
	{"native_thread_id = thread_state.size", HS_ENOLAYOUT, "thread_state.native_thread_id",
	 offset_at_size},
	{"tuple ob_item overhangs the struct", HS_ENOLAYOUT, "tuple_object.ob_item", member_overhangs},
	{"ma_keys = 2^63", HS_ENOLAYOUT, "dict_object.ma_keys", offset_huge},
	{"embedded GC state bigger than its room", HS_ENOLAYOUT, "interpreter_state.gc",
	 gc_state_too_big},
	{"asciiobject_size = 0", HS_ENOLAYOUT, "unicode_object.asciiobject_size", ascii_size_zero},
	{"length beyond asciiobject_size", HS_ENOLAYOUT, "STR_LENGTH", ascii_size_small},
	{"8-byte PyObject", HS_ENOLAYOUT, "PyObject is 8 bytes, not a 64-bit build", pyobject_size_8},
	{"ob_type at 4", HS_ENOLAYOUT, "ob_type is at 4, not a 64-bit build", ob_type_at_4},
	{"version 3.12", HS_ENOLAYOUT, "3.12.4", version_312},
	{"version 3.16", HS_ENOLAYOUT, "3.16.0", version_316},
	{"version 2^64-1", HS_ENOLAYOUT, "0xffffffffffffffff", version_garbage},
	{"alpha version", HS_ENOLAYOUT, "%v.0a3", version_alpha},
	{"expected version differs", HS_ENOLAYOUT, "interpreter says %v.", expected_other_micro},
};

/* "%v" in `words` stands for the spec's name */
static bool message_has(const char *words, const char *name)
{
	char want[256];
	const char *v = strstr(words, "%v");

	if (v == NULL)
		return strstr(hs_errmsg(), words) != NULL;
	snprintf(want, sizeof(want), "%.*s%s%s", (int)(v - words), words, name, v + 2);
	return strstr(hs_errmsg(), want) != NULL;
}

static void test_damage(const struct spec *s, const struct damage *d)
{
	struct table t;
	struct hs_layout l, before;
	struct hs_debug_offsets_info info, info_before;
	size_t len = s->table_size;
	unsigned expected = 0;
	int rc;

	build(s, &t);
	d->apply(s, &t, &len, &expected);
	sentinel_layout(&l);
	before = l;
	memset(&info, 0x6b, sizeof(info));
	info_before = info;
	rc = hs_debug_offsets_parse(t.b, len, expected, &l, &info);
	ok(rc == d->want && message_has(d->words, s->name) &&
	   memcmp(&l, &before, sizeof(l)) == 0 && memcmp(&info, &info_before, sizeof(info)) == 0,
	   "%s, %s: error %d (want %d), layout and info untouched: %s", s->name, d->what, rc, d->want,
	   hs_errmsg());
}

static void test_release_candidate(void)
{
	const struct spec *s = &specs[1];
	struct table t;
	struct hs_layout l;
	struct hs_debug_offsets_info info;
	int rc;

	build(s, &t);
	put(&t, 8, 0x030e00c1);
	hs_layout_init(&l);
	rc = hs_debug_offsets_parse(t.b, s->table_size, 0x030e00f0, &l, &info);
	ok(rc == 0 && info.version == 0x030e00c1, "3.14.0rc1 table accepted, against 3.14.0 expected (%d)",
	   rc);
	rc = hs_debug_offsets_parse(NULL, 100, 0, &l, &info);
	ok(rc == HS_EUSAGE, "NULL buffer is a usage error (%d)", rc);
}

/* Random damage: any result but a crash, and a success must validate. */
static void test_fuzz(const struct spec *s)
{
	enum { ROUNDS = 3000 };
	unsigned int seed = 7;
	int odd = 0, good = 0;

	for (int i = 0; i < ROUNDS; i++) {
		struct table t;
		struct hs_layout l, before;
		size_t len = (size_t)rand_r(&seed) % (s->table_size + 64);
		int flips = rand_r(&seed) % 8, rc;

		build(s, &t);
		if (i % 4 == 0)
			len = s->table_size;
		for (int k = 0; k < flips; k++) {
			size_t pos = (size_t)rand_r(&seed) % s->table_size;

			t.b[pos] = (unsigned char)rand_r(&seed);
		}
		sentinel_layout(&l);
		before = l;
		rc = hs_debug_offsets_parse(t.b, len, 0, &l, NULL);
		if (rc == 0) {
			struct hs_layout fresh;

			good++;
			hs_layout_init(&fresh);
			if (hs_debug_offsets_parse(t.b, len, 0, &fresh, NULL) != 0 ||
			    hs_layout_validate(&fresh) != 0)
				odd++;
		} else if ((rc != HS_ENOLAYOUT && rc != HS_EVERSION) ||
			   memcmp(&l, &before, sizeof(l)) != 0) {
			odd++;
		}
	}
	ok(odd == 0, "%s: %d randomly damaged tables: %d parse and validate, the rest fail cleanly",
	   s->name, ROUNDS, good);
}

/* ---- real binaries ------------------------------------------------------ */

struct binary {
	const char *label;
	char path[4096];
	char debug[4096]; /* file with the DWARF; empty if none is expected */
	bool debug_by_build_id;
	unsigned want_version; /* exact, or 0 */
	unsigned want_minor;
	unsigned want_fields, want_sizes;
};

static Elf *open_elf(const char *path, int *fd)
{
	Elf *elf;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (elf == NULL || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(*fd);
		return NULL;
	}
	return elf;
}

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *n;

		if (gelf_getshdr(scn, shdr) == NULL)
			continue;
		n = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

/* Copy up to `max` bytes of .PyRuntime; returns the count, 0 if none. */
static size_t read_pyruntime(Elf *elf, unsigned char *buf, size_t max)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = find_section(elf, ".PyRuntime", &shdr);
	Elf_Data *data;
	size_t n;

	if (scn == NULL || shdr.sh_type != SHT_PROGBITS || (data = elf_getdata(scn, NULL)) == NULL ||
	    data->d_buf == NULL)
		return 0;
	n = data->d_size < max ? data->d_size : max;
	memcpy(buf, data->d_buf, n);
	return n;
}

/* The value of the exported `const unsigned long Py_Version`, 0 if not
   found.  Little-endian, as the targets are x86-64. */
static unsigned read_py_version(Elf *elf)
{
	const char *tables[] = {".dynsym", ".symtab"};

	for (size_t k = 0; k < COUNT(tables); k++) {
		GElf_Shdr shdr;
		Elf_Scn *scn = find_section(elf, tables[k], &shdr);
		Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
		size_t n = data && shdr.sh_entsize ? data->d_size / shdr.sh_entsize : 0;

		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			GElf_Shdr dshdr;
			Elf_Scn *dscn;
			Elf_Data *d;
			const char *name;
			unsigned char bytes[8];
			uint64_t value = 0;

			if (gelf_getsym(data, (int)i, &sym) == NULL || sym.st_size != 8)
				continue;
			name = elf_strptr(elf, shdr.sh_link, sym.st_name);
			if (name == NULL || strcmp(name, "Py_Version") != 0)
				continue;
			dscn = elf_getscn(elf, sym.st_shndx);
			if (dscn == NULL || gelf_getshdr(dscn, &dshdr) == NULL ||
			    (d = elf_getdata(dscn, NULL)) == NULL || d->d_buf == NULL ||
			    sym.st_value < dshdr.sh_addr || sym.st_value - dshdr.sh_addr + 8 > d->d_size)
				return 0;
			memcpy(bytes, (char *)d->d_buf + (sym.st_value - dshdr.sh_addr), 8);
			for (int b = 7; b >= 0; b--)
				value = value << 8 | bytes[b];
			return value <= UINT32_MAX ? (unsigned)value : 0;
		}
	}
	return 0;
}

/* ROOT/usr/lib/debug/.build-id/xx/yyyy.debug of the ELF's build id. */
static bool build_id_path(Elf *elf, const char *root, char *out, size_t outlen)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr shdr;
		Elf_Data *data;
		GElf_Nhdr nhdr;
		size_t off = 0, name_off, desc_off;

		if (gelf_getshdr(scn, &shdr) == NULL || shdr.sh_type != SHT_NOTE ||
		    (data = elf_getdata(scn, NULL)) == NULL)
			continue;
		while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			const unsigned char *id = (const unsigned char *)data->d_buf + desc_off;
			char hex[256];

			if (nhdr.n_type != NT_GNU_BUILD_ID || nhdr.n_namesz != 4 ||
			    memcmp((char *)data->d_buf + name_off, "GNU", 4) != 0 ||
			    nhdr.n_descsz < 2 || nhdr.n_descsz > 64)
				continue;
			for (size_t i = 0; i < nhdr.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", id[i]);
			snprintf(out, outlen, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", root, hex, hex + 2);
			return true;
		}
	}
	return false;
}

static int compare_with_dwarf(const char *debug, const struct hs_layout *got)
{
	struct hs_layout dw;
	int fd = open(debug, O_RDONLY | O_CLOEXEC), rc, bad = 0;

	hs_layout_init(&dw);
	rc = fd < 0 ? HS_EIO : hs_dwarf_load_layout(fd, debug, &dw);
	if (fd >= 0)
		close(fd);
	if (rc) {
		diag("%s: %s", debug, hs_errmsg());
		return -1;
	}
	for (int f = 0; f < HS_F_COUNT; f++) {
		if (!hs_has(got, f))
			continue;
		if (got->off[f] != dw.off[f] || got->fsize[f] != dw.fsize[f]) {
			diag("%s: table %d/%u, DWARF %d/%u", hs_field_names[f], got->off[f], got->fsize[f],
			     dw.off[f], dw.fsize[f]);
			bad++;
		}
	}
	for (int i = 0; i < HS_S_COUNT; i++) {
		if (got->size[i] != 0 && got->size[i] != dw.size[i]) {
			diag("sizeof %s: table %u, DWARF %u", hs_size_names[i], got->size[i], dw.size[i]);
			bad++;
		}
	}
	return bad;
}

static void test_binary(const struct binary *b)
{
	unsigned char buf[4096];
	struct hs_layout l;
	struct hs_debug_offsets_info info = {0};
	char debug[4096];
	unsigned py_version;
	size_t len;
	int fd, rc, bad;
	Elf *elf = open_elf(b->path, &fd);

	if (elf == NULL) {
		ok(true, "%s # SKIP %s is not here", b->label, b->path);
		return;
	}
	len = read_pyruntime(elf, buf, sizeof(buf));
	py_version = read_py_version(elf);
	snprintf(debug, sizeof(debug), "%s", b->debug);
	if (b->debug_by_build_id && !build_id_path(elf, b->debug, debug, sizeof(debug)))
		debug[0] = '\0';
	elf_end(elf);
	close(fd);

	ok(len > 0 && py_version != 0, "%s: .PyRuntime (%zu bytes read) and Py_Version 0x%08x found",
	   b->label, len, py_version);
	hs_layout_init(&l);
	rc = hs_debug_offsets_parse(buf, len, py_version, &l, &info);
	if (!ok(rc == 0, "%s: its _Py_DebugOffsets parses (%d: %s)", b->label, rc,
		rc ? hs_errmsg() : "ok"))
		return;
	ok(info.version == py_version && (b->want_version == 0 || info.version == b->want_version) &&
	   ((info.version >> 16) & 0xff) == b->want_minor,
	   "%s: version 0x%08x", b->label, info.version);
	ok(info.fields_set == b->want_fields && info.sizes_set == b->want_sizes &&
	   hs_layout_validate(&l) == 0,
	   "%s: %u fields, %u sizes set (want %u, %u), layout validates", b->label, info.fields_set,
	   info.sizes_set, b->want_fields, b->want_sizes);
	if (b->debug[0] == '\0')
		return; /* no debug file exists for this one */
	if (debug[0] == '\0' || access(debug, R_OK) != 0) {
		ok(true, "%s: equal to DWARF # SKIP debug file %s is not here", b->label,
		   debug[0] ? debug : "(no build id)");
		return;
	}
	bad = compare_with_dwarf(debug, &l);
	ok(bad == 0, "%s: every field, member size and struct size equals the DWARF of %s", b->label,
	   debug);
}

static void test_binaries(void)
{
	const char *chroots = getenv("HEAPSCOPE_CHROOT_DIR");
	const char *pyenv = getenv("PYENV_ROOT"), *home = getenv("HOME");
	char pyenv_root[2048];
	struct binary b[5] = {
		{.label = "pyenv 3.13.0", .want_version = 0x030d00f0, .want_minor = 13},
		{.label = "sid python3.13", .debug_by_build_id = true, .want_minor = 13},
		{.label = "sid python3.14", .debug_by_build_id = true, .want_minor = 14},
		{.label = "sid python3.15", .debug_by_build_id = true, .want_minor = 15},
		{.label = "trixie python3.13", .want_version = 0x030d05f0, .want_minor = 13},
	};

	if (chroots == NULL || *chroots == '\0')
		chroots = "/var/cache/heapscope/chroots";
	if (pyenv && *pyenv)
		snprintf(pyenv_root, sizeof(pyenv_root), "%s", pyenv);
	else
		snprintf(pyenv_root, sizeof(pyenv_root), "%s/.pyenv", home && *home ? home : "/root");

	snprintf(b[0].path, sizeof(b[0].path), "%s/versions/3.13.0/lib/libpython3.13.so.1.0", pyenv_root);
	snprintf(b[0].debug, sizeof(b[0].debug), "%s", b[0].path);
	for (int i = 1; i <= 3; i++) {
		snprintf(b[i].path, sizeof(b[i].path), "%s/sid/usr/bin/python3.%u", chroots, 12 + i);
		snprintf(b[i].debug, sizeof(b[i].debug), "%s/sid", chroots); /* root of the build-id tree */
	}
	snprintf(b[4].path, sizeof(b[4].path), "%s/trixie/usr/bin/python3.13", chroots);
	for (size_t i = 0; i < COUNT(b); i++) {
		const struct spec *s = &specs[b[i].want_minor - 13];

		b[i].want_fields = (unsigned)s->nfields;
		b[i].want_sizes = (unsigned)s->nsizes;
		test_binary(&b[i]);
	}
}

int main(void)
{
	if (elf_version(EV_CURRENT) == EV_NONE) {
		ok(false, "libelf initialises");
		return done();
	}
	for (size_t i = 0; i < COUNT(specs); i++) {
		test_good(&specs[i]);
		for (size_t k = 0; k < COUNT(damages); k++)
			test_damage(&specs[i], &damages[k]);
		test_fuzz(&specs[i]);
	}
	test_release_candidate();
	test_binaries();
	return done();
}
