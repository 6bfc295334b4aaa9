#include "heapscope/typecheck.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "heapscope/error.h"

#define ANY 99              /* no upper bound on the minor version */
#define MAX_MEMBERS 64      /* real member tables have fewer than 20 entries */
#define MAX_NAME 64         /* longest member or type name accepted */
#define MAX_VALUE (1 << 16) /* largest plausible size or offset */

/* Where in a type object the binary states a value. */
enum tc_from {
	FROM_MEMBER,    /* offset of a tp_members entry, by name */
	FROM_BASICSIZE, /* tp_basicsize */
	FROM_ITEMSIZE,  /* tp_itemsize */
	FROM_DICTOFFSET,
	FROM_WEAKLISTOFFSET,
};

/* What the stated value equals in the layout. */
enum tc_rel {
	REL_OFF,  /* off[a] (correctable) */
	REL_SIZE, /* size[a] (correctable) */
	REL_SUM,  /* off[a] + off[b] (never correctable: which one is wrong?) */
};

struct tc_rule {
	enum hs_pysym sym;
	enum tc_from from;
	const char *member;
	enum tc_rel rel;
	int a, b;
	int vmin, vmax; /* minor versions the relation was verified on */
};

#define MEMBER(t, name, f, lo, hi) \
	{HS_SYM_##t, FROM_MEMBER, name, REL_OFF, HS_F_##f, 0, lo, hi}
#define SLOT_OFF(t, slot, f, lo, hi) \
	{HS_SYM_##t, FROM_##slot, NULL, REL_OFF, HS_F_##f, 0, lo, hi}
#define SLOT_SIZE(t, slot, s, lo, hi) \
	{HS_SYM_##t, FROM_##slot, NULL, REL_SIZE, HS_S_##s, 0, lo, hi}
#define SLOT_SUM(t, slot, f1, f2, lo, hi) \
	{HS_SYM_##t, FROM_##slot, NULL, REL_SUM, HS_F_##f1, HS_F_##f2, lo, hi}

/*
 * Verified against DWARF on 3.8-3.13 (pyenv), Debian 3.11 and sid
 * 3.13/3.14/3.15.  PyType_Type's members come first: they state the
 * tp_* offsets every later read uses, so a correction there applies
 * before those reads.  For each type tp_basicsize comes before its
 * members, so a member offset is bounded by the corrected size.
 * The version bounds matter: outside them a relation would "correct" a
 * right layout (from 3.11 tp_basicsize of frame, generator and code is
 * no longer a sizeof), so a new version gets a relation only once checked.
 */
static const struct tc_rule rules[] = {
	MEMBER(TYPE, "__basicsize__", TP_BASICSIZE, 8, ANY),
	MEMBER(TYPE, "__itemsize__", TP_ITEMSIZE, 8, ANY),
	MEMBER(TYPE, "__flags__", TP_FLAGS, 8, ANY),
	MEMBER(TYPE, "__weakrefoffset__", TP_WEAKLISTOFFSET, 8, ANY),
	MEMBER(TYPE, "__base__", TP_BASE, 8, ANY),
	MEMBER(TYPE, "__dictoffset__", TP_DICTOFFSET, 8, ANY),
	MEMBER(TYPE, "__mro__", TP_MRO, 8, 11), /* a getset from 3.12 */
	SLOT_SIZE(TYPE, BASICSIZE, HEAPTYPE, 8, ANY),
	SLOT_SIZE(TYPE, ITEMSIZE, MEMBERDEF, 8, ANY),
	SLOT_OFF(TYPE, DICTOFFSET, TP_DICT, 8, ANY),
	SLOT_OFF(TYPE, WEAKLISTOFFSET, TP_WEAKLIST, 8, ANY),

	SLOT_SIZE(OBJECT, BASICSIZE, OBJECT, 8, ANY),
	SLOT_OFF(TUPLE, BASICSIZE, TUPLE_ITEMS, 8, ANY),
	SLOT_SIZE(LIST, BASICSIZE, LIST, 8, ANY),
	SLOT_SIZE(DICT, BASICSIZE, DICT, 8, ANY),
	SLOT_SIZE(SET, BASICSIZE, SET, 8, ANY),
	SLOT_SIZE(FROZENSET, BASICSIZE, SET, 8, ANY),
	SLOT_SIZE(STR, BASICSIZE, UNICODE, 8, ANY),
	SLOT_OFF(INT, BASICSIZE, LONG_DIGITS, 8, ANY),
	/* bool: sizeof(struct _longobject) up to 3.11, then offsetof(ob_digit) */
	SLOT_SIZE(BOOL, BASICSIZE, LONG, 8, 11),
	SLOT_OFF(BOOL, BASICSIZE, LONG_DIGITS, 12, ANY),
	SLOT_SIZE(BYTEARRAY, BASICSIZE, BYTEARRAY, 8, ANY),

	SLOT_SIZE(MODULE, BASICSIZE, MODULE, 8, ANY),
	SLOT_OFF(MODULE, DICTOFFSET, MOD_DICT, 8, ANY),
	MEMBER(MODULE, "__dict__", MOD_DICT, 8, ANY),

	SLOT_SIZE(FUNCTION, BASICSIZE, FUNCTION, 8, ANY),
	SLOT_OFF(FUNCTION, DICTOFFSET, FN_DICT, 8, ANY),
	MEMBER(FUNCTION, "__globals__", FN_GLOBALS, 8, ANY),
	MEMBER(FUNCTION, "__closure__", FN_CLOSURE, 8, ANY),
	MEMBER(FUNCTION, "__builtins__", FN_BUILTINS, 10, ANY),
	MEMBER(FUNCTION, "__doc__", FN_DOC, 8, 13),       /* getsets from 3.14 */
	MEMBER(FUNCTION, "__module__", FN_MODULE, 8, 13),

	SLOT_SIZE(METHOD, BASICSIZE, METHOD, 8, ANY),
	MEMBER(METHOD, "__func__", METH_FUNC, 8, ANY),
	MEMBER(METHOD, "__self__", METH_SELF, 8, ANY),
	SLOT_SIZE(CELL, BASICSIZE, CELL, 8, ANY),
	SLOT_SIZE(WEAKREF, BASICSIZE, WEAKREF, 8, ANY),
	MEMBER(WEAKREF, "__callback__", WR_CALLBACK, 8, ANY),
	SLOT_SIZE(WEAKPROXY, BASICSIZE, WEAKREF, 8, ANY),
	SLOT_SIZE(WEAKCALLPROXY, BASICSIZE, WEAKREF, 8, ANY),

	/* code: sizeof up to 3.10, then the offset of the trailing bytecode */
	SLOT_SIZE(CODE, BASICSIZE, CODE, 8, 10),
	SLOT_OFF(CODE, BASICSIZE, CO_CODE_ADAPTIVE, 11, ANY),
	MEMBER(CODE, "co_nlocals", CO_NLOCALS, 8, ANY),
	MEMBER(CODE, "co_stacksize", CO_STACKSIZE, 8, ANY),
	MEMBER(CODE, "co_consts", CO_CONSTS, 8, ANY),
	MEMBER(CODE, "co_names", CO_NAMES, 8, ANY),
	MEMBER(CODE, "co_filename", CO_FILENAME, 8, ANY),
	MEMBER(CODE, "co_name", CO_NAME, 8, ANY),
	MEMBER(CODE, "co_code", CO_CODE, 8, 10),
	MEMBER(CODE, "co_varnames", CO_VARNAMES, 8, 10),
	MEMBER(CODE, "co_freevars", CO_FREEVARS, 8, 10),
	MEMBER(CODE, "co_cellvars", CO_CELLVARS, 8, 10),
	MEMBER(CODE, "co_lnotab", CO_LNOTAB, 8, 9),
	MEMBER(CODE, "co_linetable", CO_LINETABLE, 10, ANY),
	MEMBER(CODE, "co_qualname", CO_QUALNAME, 11, ANY),
	MEMBER(CODE, "co_exceptiontable", CO_EXCEPTIONTABLE, 11, ANY),

	/* frames and generators: sizeof up to 3.10; from 3.11 the object
	 * embeds an interpreter frame whose localsplus trail it */
	SLOT_SIZE(FRAME, BASICSIZE, FRAME, 8, 10),
	SLOT_SUM(FRAME, BASICSIZE, FR_FRAME_DATA, IF_LOCALSPLUS, 11, ANY),
	MEMBER(FRAME, "f_back", FR_BACK, 8, 10),
	MEMBER(FRAME, "f_code", FR_CODE, 8, 10),
	MEMBER(FRAME, "f_builtins", FR_BUILTINS, 8, 10),
	MEMBER(FRAME, "f_globals", FR_GLOBALS, 8, 10),

	SLOT_SIZE(GEN, BASICSIZE, GEN, 8, 10),
	SLOT_SUM(GEN, BASICSIZE, GEN_IFRAME, IF_LOCALSPLUS, 11, ANY),
	MEMBER(GEN, "gi_frame", GEN_FRAME, 8, 10),
	MEMBER(GEN, "gi_code", GEN_CODE, 8, 11),
	SLOT_SIZE(CORO, BASICSIZE, CORO, 8, 10),
	SLOT_SUM(CORO, BASICSIZE, GEN_IFRAME, IF_LOCALSPLUS, 11, ANY),
	MEMBER(CORO, "cr_frame", GEN_FRAME, 8, 10),
	MEMBER(CORO, "cr_code", GEN_CODE, 8, 11),
	MEMBER(CORO, "cr_origin", CORO_ORIGIN, 8, 10),
	MEMBER(CORO, "cr_origin", GEN_ORIGIN_OR_FINALIZER, 11, ANY),
	SLOT_SIZE(ASYNCGEN, BASICSIZE, ASYNCGEN, 8, 10),
	SLOT_SUM(ASYNCGEN, BASICSIZE, GEN_IFRAME, IF_LOCALSPLUS, 11, ANY),
	MEMBER(ASYNCGEN, "ag_frame", GEN_FRAME, 8, 10),
	MEMBER(ASYNCGEN, "ag_code", GEN_CODE, 8, 11),
};

/* tp_name of each type object checked (alternatives separated by '|') */
static const char *const type_names[HS_SYM_COUNT] = {
	[HS_SYM_TYPE] = "type",
	[HS_SYM_OBJECT] = "object",
	[HS_SYM_TUPLE] = "tuple",
	[HS_SYM_LIST] = "list",
	[HS_SYM_DICT] = "dict",
	[HS_SYM_SET] = "set",
	[HS_SYM_FROZENSET] = "frozenset",
	[HS_SYM_STR] = "str",
	[HS_SYM_INT] = "int",
	[HS_SYM_BOOL] = "bool",
	[HS_SYM_BYTEARRAY] = "bytearray",
	[HS_SYM_MODULE] = "module",
	[HS_SYM_FUNCTION] = "function",
	[HS_SYM_METHOD] = "method",
	[HS_SYM_CELL] = "cell",
	[HS_SYM_CODE] = "code",
	[HS_SYM_FRAME] = "frame",
	[HS_SYM_GEN] = "generator",
	[HS_SYM_CORO] = "coroutine",
	[HS_SYM_ASYNCGEN] = "async_generator",
	/* renamed in 3.10 */
	[HS_SYM_WEAKREF] = "weakref|weakref.ReferenceType",
	[HS_SYM_WEAKPROXY] = "weakproxy|weakref.ProxyType",
	[HS_SYM_WEAKCALLPROXY] = "weakcallableproxy|weakref.CallableProxyType",
};

struct tc_run {
	struct hs_memsrc *mem;
	const struct hs_pyelf *elf;
	struct hs_layout *layout;
	struct hs_check_list *out;
	char first[256]; /* message of the first MISMATCH, "" if none */
};

static bool valid_ptr(uint64_t p)
{
	/* user space on x86-64 (4- or 5-level paging), never the zero page */
	return p >= 4096 && p < (1ull << 57);
}

static int read_i64(struct hs_memsrc *mem, uint64_t addr, int64_t *out)
{
	uint64_t v;
	int err = hs_read_u64(mem, addr, &v);

	*out = (int64_t)v;
	return err;
}

/* Read a name of at most MAX_NAME bytes into buf[MAX_NAME + 2]. */
static bool read_name(struct hs_memsrc *mem, uint64_t addr, char *buf)
{
	return valid_ptr(addr) && hs_read_cstr(mem, addr, buf, MAX_NAME + 2) == 0 &&
	       strlen(buf) <= MAX_NAME;
}

/* Whether `name` is one of the '|'-separated `alts`. */
static bool name_in(const char *name, const char *alts)
{
	size_t n = strlen(name);

	for (const char *p = alts; p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && memcmp(p, name, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

/* Length of the first '|'-separated alternative of s. */
static int first_alt(const char *s)
{
	const char *bar = strchr(s, '|');

	return bar ? (int)(bar - s) : (int)strlen(s);
}

static void field_text(char *buf, size_t len, int f)
{
	const struct hs_field_desc *d = &hs_field_descs[f];

	snprintf(buf, len, "%.*s.%.*s", first_alt(d->structs), d->structs,
		 first_alt(d->members), d->members);
}

static void what_text(char *buf, size_t len, const struct tc_rule *r)
{
	char a[46], b[46]; /* "a + b" fits in a what[96] */

	switch (r->rel) {
	case REL_OFF:
		field_text(buf, len, r->a);
		break;
	case REL_SIZE:
		snprintf(buf, len, "sizeof(%.*s)", first_alt(hs_size_structs[r->a]),
			 hs_size_structs[r->a]);
		break;
	case REL_SUM:
		field_text(a, sizeof(a), r->a);
		field_text(b, sizeof(b), r->b);
		snprintf(buf, len, "%s + %s", a, b);
		break;
	}
}

static const char *from_text(const struct tc_rule *r)
{
	switch (r->from) {
	case FROM_MEMBER: return r->member;
	case FROM_BASICSIZE: return "tp_basicsize";
	case FROM_ITEMSIZE: return "tp_itemsize";
	case FROM_DICTOFFSET: return "tp_dictoffset";
	case FROM_WEAKLISTOFFSET: return "tp_weaklistoffset";
	}
	return "?";
}

static void record(struct tc_run *run, enum hs_pysym sym, const char *from,
		   const char *what, int64_t expected, int64_t derived,
		   enum hs_check_status status)
{
	struct hs_check c;

	memset(&c, 0, sizeof(c));
	snprintf(c.source, sizeof(c.source), "%s.%s", hs_pysym_name(sym), from);
	snprintf(c.what, sizeof(c.what), "%s", what);
	c.expected = expected;
	c.derived = derived;
	c.status = status;
	hs_checks_add(run->out, &c);
	if (status == HS_CHECK_MISMATCH && !run->first[0])
		snprintf(run->first, sizeof(run->first),
			 "layout disagrees with %s: %s is %" PRId64 " in the layout, %" PRId64
			 " in the binary", c.source, c.what, expected, derived);
}

/*
 * Look up `name` in the tp_members table of the type object at `type`.
 * Returns 1 and sets *offset when found, 0 when the table (possibly none)
 * lacks it, -1 when the table is unreadable or malformed.  The whole table
 * is scanned to its terminator before a match is trusted.
 */
static int find_member(struct tc_run *run, uint64_t type, const char *name, int64_t *offset)
{
	const struct hs_layout *l = run->layout;
	/* the layout's PyMemberDef, else the stable ABI's (LP64) */
	int64_t md_name = hs_has(l, HS_F_MD_NAME) ? l->off[HS_F_MD_NAME] : 0;
	int64_t md_offset = hs_has(l, HS_F_MD_OFFSET) ? l->off[HS_F_MD_OFFSET] : 16;
	uint64_t stride = l->size[HS_S_MEMBERDEF] ? l->size[HS_S_MEMBERDEF] : 40;
	uint64_t table, name_ptr;
	char buf[MAX_NAME + 2];
	int found = 0;

	if (hs_read_u64(run->mem, type + (uint64_t)l->off[HS_F_TP_MEMBERS], &table) < 0)
		return -1;
	if (!table)
		return 0;
	if (!valid_ptr(table) || table % 8)
		return -1;
	for (uint64_t i = 0; i < MAX_MEMBERS; i++) {
		uint64_t at = table + i * stride;

		if (hs_read_u64(run->mem, at + (uint64_t)md_name, &name_ptr) < 0)
			return -1;
		if (!name_ptr)
			return found;
		if (!read_name(run->mem, name_ptr, buf))
			return -1;
		if (found || strcmp(buf, name) != 0)
			continue;
		if (read_i64(run->mem, at + (uint64_t)md_offset, offset) < 0)
			return -1;
		found = 1;
	}
	return -1; /* no terminator within MAX_MEMBERS entries */
}

/* ob_type of the object at `addr` is &PyType_Type. */
static bool ob_type_ok(struct tc_run *run, uint64_t addr)
{
	uint64_t t;

	return hs_read_u64(run->mem, addr + (uint64_t)run->layout->off[HS_F_OB_TYPE], &t) == 0 &&
	       t == run->elf->sym[HS_SYM_TYPE];
}

/* tp_name of the type object at `addr` is one of `names`. */
static bool tp_name_ok(struct tc_run *run, uint64_t addr, const char *names)
{
	char buf[MAX_NAME + 2];
	uint64_t p;

	return hs_read_u64(run->mem, addr + (uint64_t)run->layout->off[HS_F_TP_NAME], &p) == 0 &&
	       read_name(run->mem, p, buf) && name_in(buf, names);
}

/* Record a guard: derived is the layout's offset when it holds, -1 if not.
 * `want` says what should have been read, for the message. */
static bool guard(struct tc_run *run, enum hs_pysym sym, const char *from, int f,
		  const char *want, bool holds)
{
	char what[96];

	field_text(what, sizeof(what), f);
	if (!holds && !run->first[0])
		snprintf(run->first, sizeof(run->first), "%s.%s, read with %s at offset %d, is not %s: %s",
			 hs_pysym_name(sym), from, what, run->layout->off[f], want,
			 sym != HS_SYM_TYPE ? "the symbol is not that type object, or the target lies"
			 : f == HS_F_TP_MEMBERS ? "tp_members or the PyMemberDef layout is wrong"
			 : "the layout's object header offsets are wrong");
	record(run, sym, from, what, run->layout->off[f], holds ? run->layout->off[f] : -1,
	       holds ? HS_CHECK_OK : HS_CHECK_MISMATCH);
	return holds;
}

/* PyType_Type: ob_type, tp_name, and a member table holding __basicsize__. */
static bool type_guards(struct tc_run *run)
{
	uint64_t type = run->elf->sym[HS_SYM_TYPE];
	int64_t off;

	return guard(run, HS_SYM_TYPE, "ob_type", HS_F_OB_TYPE, "&PyType_Type",
		     ob_type_ok(run, type)) &&
	       guard(run, HS_SYM_TYPE, "tp_name", HS_F_TP_NAME, "\"type\"",
		     tp_name_ok(run, type, type_names[HS_SYM_TYPE])) &&
	       guard(run, HS_SYM_TYPE, "tp_members", HS_F_TP_MEMBERS,
		     "a member table with __basicsize__",
		     find_member(run, type, "__basicsize__", &off) == 1);
}

/* Another type object: silent when it is what its symbol says, one
 * MISMATCH otherwise (its other checks are then skipped). */
static bool identity(struct tc_run *run, enum hs_pysym sym)
{
	uint64_t addr = run->elf->sym[sym];

	if (!ob_type_ok(run, addr))
		return guard(run, sym, "ob_type", HS_F_OB_TYPE, "&PyType_Type", false);
	if (type_names[sym] && !tp_name_ok(run, addr, type_names[sym]))
		return guard(run, sym, "tp_name", HS_F_TP_NAME, type_names[sym], false);
	return true;
}

/* The layout's side of a rule; false when the layout lacks it. */
static bool expected_value(const struct hs_layout *l, const struct tc_rule *r, int64_t *out)
{
	switch (r->rel) {
	case REL_OFF:
		*out = l->off[r->a];
		return hs_has(l, r->a);
	case REL_SIZE:
		*out = l->size[r->a];
		return l->size[r->a] != 0;
	case REL_SUM:
		*out = (int64_t)l->off[r->a] + l->off[r->b];
		return hs_has(l, r->a) && hs_has(l, r->b);
	}
	return false;
}

/* The binary's side of a rule; false when it cannot be read. */
static bool derived_value(struct tc_run *run, const struct tc_rule *r, int64_t *out)
{
	static const enum hs_field slot_field[] = {
		[FROM_BASICSIZE] = HS_F_TP_BASICSIZE,
		[FROM_ITEMSIZE] = HS_F_TP_ITEMSIZE,
		[FROM_DICTOFFSET] = HS_F_TP_DICTOFFSET,
		[FROM_WEAKLISTOFFSET] = HS_F_TP_WEAKLISTOFFSET,
	};
	uint64_t type = run->elf->sym[r->sym];
	enum hs_field f;

	if (r->from == FROM_MEMBER)
		return find_member(run, type, r->member, out) == 1;
	f = slot_field[r->from];
	return hs_has(run->layout, f) &&
	       read_i64(run->mem, type + (uint64_t)run->layout->off[f], out) == 0;
}

/* Whether every present field of struct `owner` lies inside its size
 * (the rule hs_layout_validate applies). */
static bool owner_fits(const struct hs_layout *l, enum hs_size owner)
{
	uint32_t size = l->size[owner];

	for (int f = 0; size && f < HS_F_COUNT; f++) {
		if (hs_field_descs[f].owner != owner || !hs_has(l, f))
			continue;
		if ((uint32_t)l->off[f] > size ||
		    (l->fsize[f] && (uint64_t)l->off[f] + l->fsize[f] > size))
			return false;
	}
	return true;
}

/* Set the layout to the binary's value if the result is plausible. */
static bool correct(struct hs_layout *l, const struct tc_rule *r, int64_t derived)
{
	if (derived < 0 || derived > MAX_VALUE)
		return false;
	if (r->rel == REL_OFF) {
		int32_t old = l->off[r->a];

		l->off[r->a] = (int32_t)derived;
		if (owner_fits(l, hs_field_descs[r->a].owner))
			return true;
		l->off[r->a] = old;
	} else if (r->rel == REL_SIZE && derived > 0) {
		uint32_t old = l->size[r->a];

		l->size[r->a] = (uint32_t)derived;
		if (owner_fits(l, r->a))
			return true;
		l->size[r->a] = old;
	}
	return false;
}

/* One rule whose layout side is present (`expected`, before the check). */
static void check_rule(struct tc_run *run, const struct tc_rule *r, int64_t expected,
		       bool may_correct)
{
	enum hs_check_status status;
	int64_t derived = 0;
	char what[96];

	bool *settled = r->rel == REL_OFF    ? &run->out->settled_off[r->a]
			: r->rel == REL_SIZE ? &run->out->settled_size[r->a]
					     : NULL;

	what_text(what, sizeof(what), r);
	if (!derived_value(run, r, &derived))
		status = HS_CHECK_UNAVAILABLE;
	else if (derived == expected)
		status = HS_CHECK_OK;
	else if (may_correct && !(settled && *settled) && correct(run->layout, r, derived))
		status = HS_CHECK_CORRECTED;
	else
		status = HS_CHECK_MISMATCH;
	if (settled && (status == HS_CHECK_OK || status == HS_CHECK_CORRECTED))
		*settled = true;
	record(run, r->sym, from_text(r), what, expected, derived, status);
}

int hs_typecheck_run(struct hs_memsrc *mem, const struct hs_pyelf *elf,
		     struct hs_layout *layout, bool may_correct,
		     struct hs_check_list *out)
{
	struct tc_run run = {.mem = mem, .elf = elf, .layout = layout, .out = out};
	signed char known[HS_SYM_COUNT] = {0}; /* identity: 0 unchecked, 1 ok, -1 bad */
	int64_t expected;

	if (!elf->sym[HS_SYM_TYPE] || !hs_has(layout, HS_F_OB_TYPE) ||
	    !hs_has(layout, HS_F_TP_NAME) || !hs_has(layout, HS_F_TP_MEMBERS)) {
		record(&run, HS_SYM_TYPE, "tp_members", "PyTypeObject header", 0, 0,
		       HS_CHECK_UNAVAILABLE);
		return 0;
	}
	if (!type_guards(&run))
		return hs_error(HS_ENOLAYOUT, "%s", run.first);
	known[HS_SYM_TYPE] = 1;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct tc_rule *r = &rules[i];
		char what[96];

		if (elf->minor < r->vmin || elf->minor > r->vmax ||
		    !expected_value(layout, r, &expected))
			continue;
		if (!elf->sym[r->sym]) {
			what_text(what, sizeof(what), r);
			record(&run, r->sym, from_text(r), what, expected, 0, HS_CHECK_UNAVAILABLE);
			continue;
		}
		if (!known[r->sym])
			known[r->sym] = identity(&run, r->sym) ? 1 : -1;
		if (known[r->sym] > 0)
			check_rule(&run, r, expected, may_correct);
	}
	return run.first[0] ? hs_error(HS_ENOLAYOUT, "%s", run.first) : 0;
}
