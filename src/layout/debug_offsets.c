/*
 * Struct layouts from CPython's _Py_DebugOffsets (3.13, 3.14, 3.15).
 *
 * Each supported minor version has a mirror of its table (every entry is
 * a uint64_t, so the mirrors have no padding and offsetof gives the
 * position of each entry) and a list of the entries heapscope uses.  The
 * mirrors follow Include/internal/pycore_runtime.h (3.13) and
 * pycore_debug_offsets.h (3.14, 3.15) as built into CPython 3.13.0,
 * 3.13.5, 3.13.18, 3.14.10 and 3.15.2, checked against their DWARF.
 *
 * Parsing goes in two passes over the used entries: first every group's
 * `size` (0 or absurd sizes are refused), then every member, which must
 * lie inside its group's struct.  The result is built in a scratch layout
 * and copied into the caller's only when everything checked out.
 */
#include "heapscope/debug_offsets.h"

#include "heapscope/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define COOKIE "xdebugpy"
#define COOKIE_LEN 8
#define HEADER_SIZE 24 /* cookie, version, free_threaded */
#define MAX_STRUCT_SIZE (64u << 20)

typedef uint64_t u64;

/* ---- the tables, as CPython declares them ----------------------------- */

struct do313 {
	char cookie[8];
	u64 version, free_threaded;
	struct { u64 size, finalizing, interpreters_head; } runtime_state;
	struct {
		u64 size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
		    ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
		    gil_runtime_state_locked, gil_runtime_state_holder;
	} interpreter_state;
	struct {
		u64 size, prev, next, interp, current_frame, thread_id, native_thread_id,
		    datastack_chunk, status;
	} thread_state;
	struct { u64 size, previous, executable, instr_ptr, localsplus, owner; } interpreter_frame;
	struct {
		u64 size, filename, name, qualname, linetable, firstlineno, argcount,
		    localsplusnames, localspluskinds, co_code_adaptive;
	} code_object;
	struct { u64 size, ob_type; } pyobject;
	struct { u64 size, tp_name, tp_repr, tp_flags; } type_object;
	struct { u64 size, ob_item, ob_size; } tuple_object;
	struct { u64 size, ob_item, ob_size; } list_object;
	struct { u64 size, ma_keys, ma_values; } dict_object;
	struct { u64 size, ob_fval; } float_object;
	struct { u64 size, lv_tag, ob_digit; } long_object;
	struct { u64 size, ob_size, ob_sval; } bytes_object;
	struct { u64 size, state, length, asciiobject_size; } unicode_object;
	struct { u64 size, collecting; } gc;
};

struct do314 {
	char cookie[8];
	u64 version, free_threaded;
	struct { u64 size, finalizing, interpreters_head; } runtime_state;
	struct {
		u64 size, id, next, threads_head, threads_main, gc, imports_modules, sysdict,
		    builtins, ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
		    gil_runtime_state_locked, gil_runtime_state_holder,
		    code_object_generation, tlbc_generation;
	} interpreter_state;
	struct {
		u64 size, prev, next, interp, current_frame, thread_id, native_thread_id,
		    datastack_chunk, status;
	} thread_state;
	struct {
		u64 size, previous, executable, instr_ptr, localsplus, owner, stackpointer,
		    tlbc_index;
	} interpreter_frame;
	struct {
		u64 size, filename, name, qualname, linetable, firstlineno, argcount,
		    localsplusnames, localspluskinds, co_code_adaptive, co_tlbc;
	} code_object;
	struct { u64 size, ob_type; } pyobject;
	struct { u64 size, tp_name, tp_repr, tp_flags; } type_object;
	struct { u64 size, ob_item, ob_size; } tuple_object;
	struct { u64 size, ob_item, ob_size; } list_object;
	struct { u64 size, used, table, mask; } set_object;
	struct { u64 size, ma_keys, ma_values; } dict_object;
	struct { u64 size, ob_fval; } float_object;
	struct { u64 size, lv_tag, ob_digit; } long_object;
	struct { u64 size, ob_size, ob_sval; } bytes_object;
	struct { u64 size, state, length, asciiobject_size; } unicode_object;
	struct { u64 size, collecting; } gc;
	struct { u64 size, gi_name, gi_iframe, gi_frame_state; } gen_object;
	struct { u64 next, prev; } llist_node;
	struct {
		u64 eval_breaker, remote_debugger_support, remote_debugging_enabled,
		    debugger_pending_call, debugger_script_path, debugger_script_path_size;
	} debugger_support;
};

struct do315 {
	char cookie[8];
	u64 version, free_threaded;
	struct { u64 size, finalizing, interpreters_head; } runtime_state;
	struct {
		u64 size, id, next, threads_head, threads_main, gc, imports_modules, sysdict,
		    builtins, ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
		    gil_runtime_state_locked, gil_runtime_state_holder,
		    code_object_generation, tlbc_generation;
	} interpreter_state;
	struct {
		u64 size, prev, next, interp, current_frame, base_frame, last_profiled_frame,
		    last_profiled_frame_seq, thread_id, native_thread_id, datastack_chunk,
		    status, holds_gil, gil_requested, current_exception, exc_state;
	} thread_state;
	struct { u64 exc_value; } err_stackitem;
	struct {
		u64 size, previous, executable, instr_ptr, localsplus, owner, stackpointer,
		    tlbc_index;
	} interpreter_frame;
	struct {
		u64 size, filename, name, qualname, linetable, firstlineno, argcount,
		    localsplusnames, localspluskinds, co_code_adaptive, co_tlbc;
	} code_object;
	struct { u64 size, ob_type; } pyobject;
	struct { u64 size, tp_name, tp_repr, tp_flags, tp_basicsize, tp_dictoffset; } type_object;
	struct { u64 size, ht_cached_keys; } heap_type_object;
	struct { u64 size, ob_item, ob_size; } tuple_object;
	struct { u64 size, ob_item, ob_size; } list_object;
	struct { u64 size, used, table, mask; } set_object;
	struct { u64 size, ma_keys, ma_values; } dict_object;
	struct { u64 size, ob_fval; } float_object;
	struct { u64 size, lv_tag, ob_digit; } long_object;
	struct { u64 size, ob_size, ob_sval; } bytes_object;
	struct {
		u64 size, state, length, asciiobject_size, compactunicodeobject_size;
	} unicode_object;
	struct {
		u64 size, collecting, frame, generation_stats_size, generation_stats;
	} gc;
	struct { u64 size, gi_name, gi_iframe, gi_frame_state; } gen_object;
	struct { u64 next, prev; } llist_node;
	struct {
		u64 eval_breaker, remote_debugger_support, remote_debugging_enabled,
		    debugger_pending_call, debugger_script_path, debugger_script_path_size;
	} debugger_support;
};

_Static_assert(sizeof(struct do313) == 584, "3.13 _Py_DebugOffsets is 584 bytes");
_Static_assert(sizeof(struct do314) == 760, "3.14 _Py_DebugOffsets is 760 bytes");
_Static_assert(sizeof(struct do315) == 888, "3.15 _Py_DebugOffsets is 888 bytes");

/* ---- the entries heapscope uses ---------------------------------------- */

enum entry_kind {
	GROUP,  /* a group's `size`: sizeof of its C struct */
	MEMBER, /* a member offset inside the group's struct */
	SIZEOF, /* another sizeof stated inside a group */
};

struct entry {
	uint8_t kind;
	int16_t id;        /* hs_field (MEMBER), hs_size (GROUP, SIZEOF), -1 none */
	uint16_t pos;      /* byte position of the entry in the table */
	uint16_t size_pos; /* position of its group's `size` */
	uint16_t fsize;    /* MEMBER: the member's C size on x86-64 ... */
	uint16_t fsize_pos; /* ... or, if nonzero, the position of the `size`
			       of the struct the member embeds */
	const char *group, *member;
};

#define NO_ID (-1)

/* T is the mirror struct of the version being listed. */
#define E_GROUP(g, sid) {GROUP, (sid), offsetof(T, g.size), offsetof(T, g.size), 0, 0, #g, "size"}
#define E_MEMBER(g, m, fid, bytes) \
	{MEMBER, HS_F_##fid, offsetof(T, g.m), offsetof(T, g.size), (bytes), 0, #g, #m}
#define E_EMBED(g, m, fid, g2) \
	{MEMBER, HS_F_##fid, offsetof(T, g.m), offsetof(T, g.size), 0, offsetof(T, g2.size), #g, #m}
#define E_SIZEOF(g, m, sid) {SIZEOF, HS_S_##sid, offsetof(T, g.m), offsetof(T, g.size), 0, 0, #g, #m}

/*
 * Entries of all three versions.  Not used:
 *  - list_object.ob_size, bytes_object.ob_size: PyVarObject.ob_size again,
 *    which VAR_SIZE takes from tuple_object.ob_size;
 *  - the rest (ids, GIL state, firstlineno, tp_repr, float and bytes
 *    members...): no hs_layout field.  The float_object and bytes_object
 *    sizes are still checked, as a sign of a sane table.
 */
#define COMMON_ENTRIES                                                       \
	E_GROUP(runtime_state, HS_S_RUNTIME),                                \
	E_MEMBER(runtime_state, interpreters_head, RT_INTERP_HEAD, 8),       \
	E_GROUP(interpreter_state, HS_S_INTERP),                             \
	E_MEMBER(interpreter_state, next, IS_NEXT, 8),                       \
	E_MEMBER(interpreter_state, threads_head, IS_THREADS_HEAD, 8),       \
	/* PyInterpreterState embeds struct _gc_runtime_state */             \
	E_EMBED(interpreter_state, gc, IS_GC, gc),                           \
	E_MEMBER(interpreter_state, imports_modules, IS_MODULES, 8),         \
	E_MEMBER(interpreter_state, sysdict, IS_SYSDICT, 8),                 \
	E_MEMBER(interpreter_state, builtins, IS_BUILTINS, 8),               \
	E_GROUP(thread_state, HS_S_TSTATE),                                  \
	E_MEMBER(thread_state, next, TS_NEXT, 8),                            \
	E_MEMBER(thread_state, current_frame, TS_CURRENT_FRAME, 8),          \
	E_MEMBER(thread_state, thread_id, TS_THREAD_ID, 8),                  \
	E_MEMBER(thread_state, native_thread_id, TS_NATIVE_ID, 8),           \
	E_GROUP(interpreter_frame, HS_S_IFRAME),                             \
	E_MEMBER(interpreter_frame, previous, IF_PREVIOUS, 8),               \
	E_MEMBER(interpreter_frame, executable, IF_CODE, 8),                 \
	E_MEMBER(interpreter_frame, localsplus, IF_LOCALSPLUS, 8),           \
	E_MEMBER(interpreter_frame, owner, IF_OWNER, 1),                     \
	E_GROUP(code_object, HS_S_CODE),                                     \
	E_MEMBER(code_object, filename, CO_FILENAME, 8),                     \
	E_MEMBER(code_object, name, CO_NAME, 8),                             \
	E_MEMBER(code_object, qualname, CO_QUALNAME, 8),                     \
	E_MEMBER(code_object, linetable, CO_LINETABLE, 8),                   \
	E_MEMBER(code_object, localsplusnames, CO_LOCALSPLUSNAMES, 8),       \
	E_MEMBER(code_object, localspluskinds, CO_LOCALSPLUSKINDS, 8),       \
	E_MEMBER(code_object, co_code_adaptive, CO_CODE_ADAPTIVE, 1),        \
	E_GROUP(pyobject, HS_S_OBJECT),                                      \
	E_MEMBER(pyobject, ob_type, OB_TYPE, 8),                             \
	E_GROUP(type_object, HS_S_TYPE),                                     \
	E_MEMBER(type_object, tp_name, TP_NAME, 8),                          \
	E_MEMBER(type_object, tp_flags, TP_FLAGS, 8),                        \
	E_GROUP(tuple_object, HS_S_TUPLE),                                   \
	E_MEMBER(tuple_object, ob_item, TUPLE_ITEMS, 8),                     \
	E_MEMBER(tuple_object, ob_size, VAR_SIZE, 8),                        \
	E_GROUP(list_object, HS_S_LIST),                                     \
	E_MEMBER(list_object, ob_item, LIST_ITEMS, 8),                       \
	E_GROUP(dict_object, HS_S_DICT),                                     \
	E_MEMBER(dict_object, ma_keys, DICT_KEYS, 8),                        \
	E_MEMBER(dict_object, ma_values, DICT_VALUES, 8),                    \
	E_GROUP(float_object, NO_ID),                                        \
	E_GROUP(long_object, HS_S_LONG),                                     \
	E_MEMBER(long_object, lv_tag, LONG_TAG, 8),                          \
	E_MEMBER(long_object, ob_digit, LONG_DIGITS, 4),                     \
	E_GROUP(bytes_object, NO_ID),                                        \
	E_GROUP(unicode_object, HS_S_UNICODE),                               \
	E_MEMBER(unicode_object, state, STR_STATE, 4),                       \
	E_MEMBER(unicode_object, length, STR_LENGTH, 8),                     \
	E_SIZEOF(unicode_object, asciiobject_size, ASCII),                   \
	E_GROUP(gc, HS_S_GC_STATE),                                          \
	E_MEMBER(gc, collecting, GCS_COLLECTING, 4)

/* New in 3.14 (and kept in 3.15). */
#define ENTRIES_SINCE_314                                                    \
	E_MEMBER(interpreter_frame, stackpointer, IF_STACKPOINTER, 8),       \
	E_GROUP(set_object, HS_S_SET),                                       \
	E_MEMBER(set_object, used, SET_USED, 8),                             \
	E_MEMBER(set_object, table, SET_TABLE, 8),                           \
	E_MEMBER(set_object, mask, SET_MASK, 8),                             \
	E_GROUP(gen_object, HS_S_GEN),                                       \
	E_MEMBER(gen_object, gi_name, GEN_NAME, 8),                          \
	/* PyGenObject embeds its _PyInterpreterFrame */                     \
	E_EMBED(gen_object, gi_iframe, GEN_IFRAME, interpreter_frame),       \
	E_MEMBER(gen_object, gi_frame_state, GEN_FRAME_STATE, 1)

#define T struct do313
static const struct entry entries313[] = {COMMON_ENTRIES};
#undef T

#define T struct do314
static const struct entry entries314[] = {COMMON_ENTRIES, ENTRIES_SINCE_314};
#undef T

/*
 * New in 3.15.  Left out: thread_state.exc_state is the _PyErr_StackItem
 * embedded in PyThreadState, not the exc_info pointer TS_EXC_INFO means;
 * err_stackitem has no `size` to bound its exc_value offset with.
 */
#define T struct do315
static const struct entry entries315[] = {
	COMMON_ENTRIES,
	ENTRIES_SINCE_314,
	E_MEMBER(thread_state, current_exception, TS_CURRENT_EXC, 8),
	E_MEMBER(type_object, tp_basicsize, TP_BASICSIZE, 8),
	E_MEMBER(type_object, tp_dictoffset, TP_DICTOFFSET, 8),
	E_GROUP(heap_type_object, HS_S_HEAPTYPE),
	E_MEMBER(heap_type_object, ht_cached_keys, HT_CACHED_KEYS, 8),
	E_SIZEOF(unicode_object, compactunicodeobject_size, COMPACT_UNICODE),
};
#undef T

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct table {
	unsigned minor; /* of 3.x */
	size_t size;
	const struct entry *entries;
	size_t nentries;
};

static const struct table tables[] = {
	{13, sizeof(struct do313), entries313, COUNT(entries313)},
	{14, sizeof(struct do314), entries314, COUNT(entries314)},
	{15, sizeof(struct do315), entries315, COUNT(entries315)},
};

/* ---- versions ----------------------------------------------------------- */

#define PY_MAJOR(v) ((unsigned)((v) >> 24) & 0xff)
#define PY_MINOR(v) ((unsigned)((v) >> 16) & 0xff)
#define PY_MICRO(v) ((unsigned)((v) >> 8) & 0xff)
#define PY_LEVEL(v) ((unsigned)((v) >> 4) & 0xf)
#define PY_SERIAL(v) ((unsigned)(v) & 0xf)

struct version_text {
	char s[32];
};

/* "3.14.10", "3.15.0b2", or the hex value when it is no version at all. */
static struct version_text version_text(uint64_t v)
{
	static const char *const levels[16] = {[0xA] = "a", [0xB] = "b", [0xC] = "rc"};
	struct version_text t;
	unsigned level = PY_LEVEL(v);

	if (v > UINT32_MAX || (level != 0xF && levels[level] == NULL))
		snprintf(t.s, sizeof(t.s), "0x%llx", (unsigned long long)v);
	else if (level == 0xF)
		snprintf(t.s, sizeof(t.s), "%u.%u.%u", PY_MAJOR(v), PY_MINOR(v), PY_MICRO(v));
	else
		snprintf(t.s, sizeof(t.s), "%u.%u.%u%s%u", PY_MAJOR(v), PY_MINOR(v), PY_MICRO(v),
			 levels[level], PY_SERIAL(v));
	return t;
}

static const struct table *table_for(uint64_t version)
{
	if (version > UINT32_MAX || PY_MAJOR(version) != 3)
		return NULL;
	for (size_t i = 0; i < COUNT(tables); i++)
		if (tables[i].minor == PY_MINOR(version))
			return &tables[i];
	return NULL;
}

static int check_version(uint64_t version, unsigned expected, const struct table **table)
{
	unsigned level = PY_LEVEL(version);

	*table = table_for(version);
	if (*table == NULL)
		return hs_error(HS_ENOLAYOUT,
				"_Py_DebugOffsets of Python %s: no table layout known for that version (3.13 to 3.15 only)",
				version_text(version).s);
	/* the tables changed during the alphas and betas; from the release
	   candidates on they are the release's */
	if (level != 0xC && level != 0xF)
		return hs_error(HS_ENOLAYOUT,
				"_Py_DebugOffsets of Python %s: pre-release tables differ from the release's and are not known",
				version_text(version).s);
	if (expected != 0 && (version >> 8) != (expected >> 8))
		return hs_error(HS_ENOLAYOUT,
				"_Py_DebugOffsets says Python %s but the interpreter says %s (Py_Version)",
				version_text(version).s, version_text(expected).s);
	return 0;
}

/* ---- parsing ------------------------------------------------------------ */

/* The table is read as little-endian (x86-64), whatever the host. */
static uint64_t get_u64(const unsigned char *p, size_t pos)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[pos + (size_t)i];
	return v;
}

static int check_group_sizes(const unsigned char *p, const struct table *t, struct hs_layout *got)
{
	for (size_t i = 0; i < t->nentries; i++) {
		const struct entry *e = &t->entries[i];
		uint64_t size;

		if (e->kind != GROUP)
			continue;
		size = get_u64(p, e->pos);
		if (size == 0 || size > MAX_STRUCT_SIZE)
			return hs_error(HS_ENOLAYOUT, "_Py_DebugOffsets: %s.size is %llu%s", e->group,
					(unsigned long long)size, size ? " (over 64 MiB)" : "");
		if (e->id != NO_ID)
			got->size[e->id] = (uint32_t)size;
	}
	return 0;
}

/* Members and other sizeofs; group sizes are already checked. */
static int read_members(const unsigned char *p, const struct table *t, struct hs_layout *got)
{
	for (size_t i = 0; i < t->nentries; i++) {
		const struct entry *e = &t->entries[i];
		uint64_t value = get_u64(p, e->pos), group_size = get_u64(p, e->size_pos);
		uint64_t fsize = e->fsize_pos ? get_u64(p, e->fsize_pos) : e->fsize;

		if (e->kind == SIZEOF) {
			/* a prefix of the group's struct (PyASCIIObject of PyUnicodeObject) */
			if (value == 0 || value > group_size)
				return hs_error(HS_ENOLAYOUT, "_Py_DebugOffsets: %s.%s is %llu, not within 1..%s.size (%llu)",
						e->group, e->member, (unsigned long long)value, e->group,
						(unsigned long long)group_size);
			got->size[e->id] = (uint32_t)value;
		} else if (e->kind == MEMBER) {
			/* both sizes are at most 64 MiB: no overflow */
			if (value >= group_size || value + fsize > group_size)
				return hs_error(HS_ENOLAYOUT,
						"_Py_DebugOffsets: %s.%s is %llu, outside %s (%llu bytes) for a %llu-byte member",
						e->group, e->member, (unsigned long long)value, e->group,
						(unsigned long long)group_size, (unsigned long long)fsize);
			got->off[e->id] = (int32_t)value;
			got->fsize[e->id] = (uint32_t)fsize;
		}
	}
	return 0;
}

static void merge(const struct hs_layout *got, struct hs_layout *out, unsigned *fields, unsigned *sizes)
{
	*fields = *sizes = 0;
	for (int f = 0; f < HS_F_COUNT; f++) {
		if (!hs_has(got, f))
			continue;
		out->off[f] = got->off[f];
		out->fsize[f] = got->fsize[f];
		++*fields;
	}
	for (int s = 0; s < HS_S_COUNT; s++) {
		if (got->size[s] == 0)
			continue;
		out->size[s] = got->size[s];
		++*sizes;
	}
}

int hs_debug_offsets_parse(const void *buf, size_t len, unsigned expected_hexversion,
			   struct hs_layout *out, struct hs_debug_offsets_info *info)
{
	const unsigned char *p = buf;
	const struct table *t;
	struct hs_layout got;
	uint64_t version;
	unsigned fields, sizes;
	int rc;

	if (out == NULL || (p == NULL && len != 0))
		return hs_error(HS_EUSAGE, "hs_debug_offsets_parse: no buffer or no layout");
	if (len < HEADER_SIZE)
		return hs_error(HS_ENOLAYOUT, "no _Py_DebugOffsets (only %zu bytes, too short)", len);
	if (memcmp(p, COOKIE, COOKIE_LEN) != 0)
		return hs_error(HS_ENOLAYOUT, "no _Py_DebugOffsets (cookie missing)");
	version = get_u64(p, offsetof(struct do313, version));
	rc = check_version(version, expected_hexversion, &t);
	if (rc)
		return rc;
	if (get_u64(p, offsetof(struct do313, free_threaded)) != 0)
		return hs_error(HS_EVERSION, "free-threaded build (Python %u.%ut) is not supported",
				PY_MAJOR(version), PY_MINOR(version));
	if (len < t->size)
		return hs_error(HS_ENOLAYOUT, "_Py_DebugOffsets of Python %s is %zu bytes, only %zu available",
				version_text(version).s, t->size, len);

	/* the member sizes in the entries are those of a 64-bit build: a
	   PyObject of 16 bytes with ob_type at 8 */
	hs_layout_init(&got);
	rc = check_group_sizes(p, t, &got);
	if (rc == 0 && got.size[HS_S_OBJECT] != 16)
		rc = hs_error(HS_ENOLAYOUT, "_Py_DebugOffsets: PyObject is %u bytes, not a 64-bit build",
			      got.size[HS_S_OBJECT]);
	if (rc == 0)
		rc = read_members(p, t, &got);
	if (rc == 0 && got.off[HS_F_OB_TYPE] != 8)
		rc = hs_error(HS_ENOLAYOUT, "_Py_DebugOffsets: ob_type is at %d, not a 64-bit build",
			      got.off[HS_F_OB_TYPE]);
	if (rc)
		return rc;
	/* e.g. unicode state and length must lie inside asciiobject_size */
	rc = hs_layout_validate(&got);
	if (rc)
		return hs_error_prefix(rc, "_Py_DebugOffsets of Python %s", version_text(version).s);

	merge(&got, out, &fields, &sizes);
	if (info) {
		info->version = (unsigned)version;
		info->table_size = t->size;
		info->fields_set = fields;
		info->sizes_set = sizes;
	}
	return 0;
}
