/*
 * Type objects: validation, naming (the Kind), and how to decode and size
 * their instances.  Each type is resolved once and cached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "walk-internal.h"

#define NAME_MAX_LEN 256

bool rd_u64(struct walk *w, uint64_t raddr, uint64_t *out)
{
	const void *p = view(w, raddr, 8);

	if (p) {
		memcpy(out, p, 8); /* target addresses may be misaligned */
		return true;
	}
	return hs_memsrc_read(w->mem, raddr, out, 8) == 0;
}

bool rd_field(struct walk *w, uint64_t base, enum hs_field f, uint64_t *out)
{
	*out = 0;
	return has(w, f) && rd_u64(w, base + (uint64_t)off(w, f), out);
}

int64_t rd_ssize(struct walk *w, uint64_t raddr, bool *ok)
{
	uint64_t v = 0;

	*ok = rd_u64(w, raddr, &v);
	return (int64_t)v;
}

/* A type object's type must be `type` or a metatype derived from it. */
bool is_type_object(struct walk *w, uint64_t addr, int depth)
{
	uint64_t meta, flags;

	if (!addr || (addr & 7) || depth > 8 ||
	    !rd_field(w, addr, HS_F_OB_TYPE, &meta))
		return false;
	if (meta == w->py->elf.sym[HS_SYM_TYPE])
		return true;
	if (meta == addr || (meta & 7) || !rd_field(w, meta, HS_F_TP_FLAGS, &flags) ||
	    !(flags & TPF_TYPE_SUBCLASS))
		return false;
	return is_type_object(w, meta, depth + 1);
}

/* UTF-8 of a str object (at most max-1 bytes); false if not readable. */
bool read_str(struct walk *w, uint64_t addr, char *buf, size_t max)
{
	uint64_t length, state, data;
	unsigned kind;
	bool compact, ascii;
	size_t out = 0;
	const unsigned char *p;

	buf[0] = '\0';
	if (!addr || !rd_field(w, addr, HS_F_STR_LENGTH, &length) ||
	    !rd_field(w, addr, HS_F_STR_STATE, &state))
		return false;
	/* state bits (all supported versions, default build):
	 * interned 0-1, kind 2-4, compact 5, ascii 6 */
	kind = (state >> 2) & 7;
	compact = (state >> 5) & 1;
	ascii = (state >> 6) & 1;
	if (kind != 1 && kind != 2 && kind != 4)
		return false;
	if (compact)
		data = addr + (ascii ? sz(w, HS_S_ASCII) : sz(w, HS_S_COMPACT_UNICODE));
	else if (!rd_field(w, addr, HS_F_STR_DATA, &data) || !data)
		return false;
	if (length > max * 4)
		length = max * 4;
	if (!(p = view(w, data, length * kind)))
		return false;
	for (uint64_t i = 0; i < length; i++) {
		uint32_t c = kind == 1 ? p[i] : kind == 2 ? ((const uint16_t *)p)[i]
							  : ((const uint32_t *)p)[i];
		unsigned char enc[4];
		size_t n;

		if (c < 0x80) {
			enc[0] = (unsigned char)c;
			n = 1;
		} else if (c < 0x800) {
			enc[0] = (unsigned char)(0xc0 | c >> 6);
			enc[1] = (unsigned char)(0x80 | (c & 0x3f));
			n = 2;
		} else if (c < 0x10000) {
			enc[0] = (unsigned char)(0xe0 | c >> 12);
			enc[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
			enc[2] = (unsigned char)(0x80 | (c & 0x3f));
			n = 3;
		} else {
			enc[0] = (unsigned char)(0xf0 | (c >> 18 & 7));
			enc[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
			enc[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
			enc[3] = (unsigned char)(0x80 | (c & 0x3f));
			n = 4;
		}
		if (out + n + 1 > max)
			break;
		memcpy(buf + out, enc, n);
		out += n;
	}
	buf[out] = '\0';
	return true;
}

struct known_base {
	enum hs_pysym sym;
	enum decoder decoder;
};

static const struct known_base known_bases[] = {
	{HS_SYM_OBJECT, D_OBJECT},       {HS_SYM_TUPLE, D_TUPLE},
	{HS_SYM_LIST, D_LIST},           {HS_SYM_DICT, D_DICT},
	{HS_SYM_SET, D_SET},             {HS_SYM_FROZENSET, D_SET},
	{HS_SYM_STR, D_STR},             {HS_SYM_INT, D_INT},
	{HS_SYM_BOOL, D_INT},            {HS_SYM_FLOAT, D_NONE},
	{HS_SYM_COMPLEX, D_NONE},        {HS_SYM_BYTES, D_NONE},
	{HS_SYM_BYTEARRAY, D_BYTEARRAY}, {HS_SYM_TYPE, D_TYPE},
	{HS_SYM_MODULE, D_MODULE},       {HS_SYM_FUNCTION, D_FUNCTION},
	{HS_SYM_METHOD, D_METHOD},       {HS_SYM_CELL, D_CELL},
	{HS_SYM_CODE, D_CODE},           {HS_SYM_FRAME, D_FRAME},
	{HS_SYM_GEN, D_GEN},             {HS_SYM_CORO, D_CORO},
	{HS_SYM_ASYNCGEN, D_ASYNCGEN},   {HS_SYM_WEAKREF, D_WEAKREF},
	{HS_SYM_WEAKPROXY, D_WEAKREF},   {HS_SYM_WEAKCALLPROXY, D_WEAKREF},
};

static int known_decoder(struct walk *w, uint64_t t)
{
	for (size_t i = 0; i < sizeof(known_bases) / sizeof(known_bases[0]); i++)
		if (w->py->elf.sym[known_bases[i].sym] == t)
			return known_bases[i].decoder;
	return -1;
}

/*
 * C types we know only by tp_name (no exported symbol), and what we need
 * them for: a decoder that ends the base search, or a __sizeof__ rule.
 */
static const struct named_type {
	const char *name;
	int8_t decoder;   /* -1: keep searching the bases */
	uint8_t sizer;    /* enum sizer */
} named_types[] = {
	/* static before 3.13, a heap type since */
	{"collections.deque", D_DEQUE, SZ_NONE},
	/* 3.15: a PyDictObject, but not a dict subclass */
	{"frozendict", D_DICT, SZ_NONE},
	{"collections.OrderedDict", -1, SZ_ODICT},
	{"_io.BufferedReader", -1, SZ_BUFFERED},
	{"_io.BufferedWriter", -1, SZ_BUFFERED},
	{"_io.BufferedRandom", -1, SZ_BUFFERED},
};

/* Whether the layout has what decoding or sizing that type needs. */
static bool named_type_usable(const struct walk *w, const struct named_type *n)
{
	if (n->decoder == D_DEQUE)
		return has(w, HS_F_DEQUE_LEFTBLOCK);
	if (n->decoder == D_DICT)
		return sz(w, HS_S_FROZENDICT) != 0;
	if (n->sizer == SZ_ODICT)
		return has(w, HS_F_ODICT_FAST_NODES_SIZE) && sz(w, HS_S_ODICT_NODE);
	return has(w, HS_F_BUFFERED_BUFFER) && has(w, HS_F_BUFFERED_BUFFER_SIZE);
}

/* Written in C: static, or a heap type with its own tp_traverse (a class
 * statement's is subtype_traverse; if that is unknown, trust the type). */
static bool is_c_type(struct walk *w, uint64_t t, uint64_t flags)
{
	uint64_t trav = 0;

	if (!(flags & TPF_HEAPTYPE))
		return true;
	if (!w->subtype_traverse)
		return false;
	return rd_field(w, t, HS_F_TP_TRAVERSE, &trav) && trav && trav != w->subtype_traverse;
}

/* The named type t is, if its name matches and it is written in C: a
 * class statement cannot make one (unless subtype_traverse is unknown). */
static const struct named_type *find_named(struct walk *w, uint64_t t, uint64_t flags)
{
	uint64_t np;
	char name[64] = "";

	if (!rd_field(w, t, HS_F_TP_NAME, &np) ||
	    hs_read_cstr(w->mem, np, name, sizeof(name)) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(named_types) / sizeof(named_types[0]); i++) {
		const struct named_type *n = &named_types[i];

		if (strcmp(name, n->name) == 0 && named_type_usable(w, n) &&
		    (is_c_type(w, t, flags) || !w->subtype_traverse))
			return n;
	}
	return NULL;
}

/*
 * The decoder of the nearest built-in base we know (every chain ends at
 * object), and the __sizeof__ rule of the nearest named type (*sizer).
 * Types in between that we do not know and that are written in C (static
 * types, or heap types with their own tp_traverse) add C fields after the
 * base's: *c_fields_start is where those begin (0 if none).
 */
static enum decoder find_decoder(struct walk *w, uint64_t t, uint64_t *c_fields_start,
				 uint8_t *sizer)
{
	bool foreign = false;

	*c_fields_start = 0;
	*sizer = SZ_NONE;
	for (int depth = 0; t && depth < 64; depth++) {
		uint64_t flags = 0, base = 0;
		const struct named_type *n;
		int d = known_decoder(w, t);

		if (d >= 0) {
			if (foreign)
				rd_field(w, t, HS_F_TP_BASICSIZE, c_fields_start);
			return (enum decoder)d;
		}
		rd_field(w, t, HS_F_TP_FLAGS, &flags);
		if ((n = find_named(w, t, flags))) {
			if (*sizer == SZ_NONE)
				*sizer = n->sizer;
			if (n->decoder >= 0)
				return (enum decoder)n->decoder;
		}
		if (is_c_type(w, t, flags))
			foreign = true;
		if (!rd_field(w, t, HS_F_TP_BASE, &base))
			break;
		t = base;
	}
	return D_NONE;
}

/* Kind name: tp_name for static types, module.qualname for heap types. */
static int type_names(struct walk *w, uint64_t t, uint64_t flags, char **name,
		      char **module)
{
	char tpname[NAME_MAX_LEN] = "?", qual[NAME_MAX_LEN] = "", mod[NAME_MAX_LEN] = "";
	uint64_t np, qp, dict, modobj;
	char *dot;

	if (rd_field(w, t, HS_F_TP_NAME, &np))
		hs_read_cstr(w->mem, np, tpname, sizeof(tpname));
	if (flags & TPF_HEAPTYPE) {
		if (rd_field(w, t, HS_F_HT_QUALNAME, &qp))
			read_str(w, qp, qual, sizeof(qual));
		if (rd_field(w, t, HS_F_TP_DICT, &dict) && dict &&
		    (modobj = dict_lookup_str(w, dict, "__module__")))
			read_str(w, modobj, mod, sizeof(mod));
		if (!qual[0])
			snprintf(qual, sizeof(qual), "%s", tpname);
	}
	if (!(flags & TPF_HEAPTYPE) || !mod[0]) {
		/* type.__module__ of a static type: tp_name up to the last dot */
		dot = strrchr(tpname, '.');
		if (!qual[0])
			snprintf(qual, sizeof(qual), "%s", dot ? dot + 1 : tpname);
		if (dot)
			snprintf(mod, sizeof(mod), "%.*s", (int)(dot - tpname), tpname);
		else
			snprintf(mod, sizeof(mod), "builtins");
	}
	*module = strdup(mod);
	if (strcmp(mod, "builtins") == 0)
		*name = strdup(qual);
	else if (asprintf(name, "%s.%s", mod, qual) < 0)
		*name = NULL;
	if (!*name || !*module) {
		free(*name);
		free(*module);
		return HS_ENOMEM;
	}
	return 0;
}

/* The name of a member (a C string; for __slots__ the UTF-8 of the name). */
static uint32_t slot_name(struct walk *w, uint64_t member)
{
	uint64_t p = 0;
	const char *s;
	char name[128];
	size_t n;

	if (!rd_field(w, member, HS_F_MD_NAME, &p) || !p)
		return HS_NO_OBJECT;
	for (n = 0; n < sizeof(name) - 1; n++) {
		if (!(s = view(w, p + n, 1)))
			return HS_NO_OBJECT;
		if (!(name[n] = *s))
			break;
	}
	name[n] = '\0';
	return hs_graph_add_name(w->g, name);
}

/* Offsets of object slots (__slots__) of heap types along the base chain;
 * only heap types use the generic member table (Objects/typeobject.c
 * traverse_slots). */
static void collect_slots(struct walk *w, struct tinfo *ti, uint64_t t)
{
	uint32_t md_size = sz(w, HS_S_MEMBERDEF), ht_size = sz(w, HS_S_HEAPTYPE);

	ti->slot_first = (uint32_t)w->slot_count;
	for (int depth = 0; t && depth < 64 && md_size && ht_size; depth++) {
		uint64_t flags, nmembers, base;

		if (!rd_field(w, t, HS_F_TP_FLAGS, &flags) || !(flags & TPF_HEAPTYPE))
			break;
		if (rd_field(w, t, HS_F_VAR_SIZE, &nmembers) && nmembers > 0 && nmembers < 1024) {
			for (uint64_t i = 0; i < nmembers; i++) {
				uint64_t m = t + ht_size + i * md_size, type = 0, moff = 0;

				if (!rd_field(w, m, HS_F_MD_TYPE, &type) ||
				    !rd_field(w, m, HS_F_MD_OFFSET, &moff))
					break;
				/* T_OBJECT_EX = 16 (Include/structmember.h) */
				if ((uint32_t)type != 16 || (int64_t)moff <= 0 ||
				    (int64_t)moff + 8 > ti->basicsize)
					continue;
				if (w->slot_count == w->slot_cap) {
					size_t ncap = w->slot_cap ? w->slot_cap * 2 : 64;
					uint32_t *grown = realloc(w->slot_offsets, ncap * sizeof(*grown));

					if (grown)
						w->slot_offsets = grown;
					grown = grown ? realloc(w->slot_names, ncap * sizeof(*grown)) : NULL;
					if (!grown) {
						w->err = HS_ENOMEM;
						return;
					}
					w->slot_names = grown;
					w->slot_cap = ncap;
				}
				w->slot_names[w->slot_count] = slot_name(w, m);
				w->slot_offsets[w->slot_count++] = (uint32_t)moff;
				ti->slot_count++;
			}
		}
		if (!rd_field(w, t, HS_F_TP_BASE, &base))
			break;
		t = base;
	}
}

/* GC header and pre-header bytes that sys.getsizeof adds (Python/sysmodule.c
 * and _PyType_PreHeaderSize). */
static uint32_t presize_of(struct walk *w, const struct tinfo *ti)
{
	uint32_t n = 0;

	if (ti->flags & TPF_HAVE_GC)
		n += sz(w, HS_S_GC_HEAD);
	if (w->minor == 11 && (ti->flags & TPF_MANAGED_DICT))
		n += 16;
	if (w->minor >= 12 && (ti->flags & (TPF_MANAGED_DICT | TPF_MANAGED_WEAKREF)))
		n += 16;
	return n;
}

static uint32_t push_tinfo(struct walk *w, const struct tinfo *ti)
{
	if (w->tinfo_count == w->tinfo_cap) {
		size_t ncap = w->tinfo_cap ? w->tinfo_cap * 2 : 256;
		struct tinfo *grown = realloc(w->tinfos, ncap * sizeof(*grown));

		if (!grown)
			return TINFO_INVALID;
		w->tinfos = grown;
		w->tinfo_cap = ncap;
	}
	w->tinfos[w->tinfo_count] = *ti;
	return (uint32_t)w->tinfo_count++;
}

static uint32_t resolve_type(struct walk *w, uint64_t t)
{
	struct tinfo ti = {.addr = t};
	uint64_t np, c_fields = 0;
	char *name, *module, tpname[64] = "";
	bool ok = true;

	if (!is_type_object(w, t, 0) || !view(w, t, sz(w, HS_S_TYPE)))
		return TINFO_INVALID;
	rd_field(w, t, HS_F_TP_FLAGS, &ti.flags);
	ti.heap = ti.flags & TPF_HEAPTYPE;
	if (ti.heap && !view(w, t, sz(w, HS_S_HEAPTYPE)))
		return TINFO_INVALID;
	ti.basicsize = rd_ssize(w, t + off(w, HS_F_TP_BASICSIZE), &ok);
	ti.itemsize = rd_ssize(w, t + off(w, HS_F_TP_ITEMSIZE), &ok);
	ti.dictoffset = rd_ssize(w, t + off(w, HS_F_TP_DICTOFFSET), &ok);
	if (has(w, HS_F_TP_WEAKLISTOFFSET))
		ti.weaklistoffset = rd_ssize(w, t + off(w, HS_F_TP_WEAKLISTOFFSET), &ok);
	if (rd_field(w, t, HS_F_TP_NAME, &np))
		hs_read_cstr(w->mem, np, tpname, sizeof(tpname));
	/* the deleted-entry marker of sets: its static type has tp_basicsize 0
	 * (Objects/setobject.c _PySetDummy_Type) */
	ti.set_dummy = !ti.heap && strcmp(tpname, "<dummy key> type") == 0;
	if (!ok || (ti.basicsize < 16 && !ti.set_dummy) || ti.basicsize > (1 << 20) ||
	    ti.itemsize < 0 || ti.itemsize > (1 << 16) || ti.dictoffset < -(1 << 20) ||
	    ti.dictoffset > (1 << 20))
		return TINFO_INVALID;
	ti.decoder = (uint8_t)find_decoder(w, t, &c_fields, &ti.sizer);
	/* only GC types hold references the collector knows of */
	if ((ti.flags & TPF_HAVE_GC) && c_fields && (int64_t)c_fields < ti.basicsize)
		ti.c_fields_start = (uint32_t)c_fields;
	ti.presize = presize_of(w, &ti);
	collect_slots(w, &ti, t);
	if (type_names(w, t, ti.flags, &name, &module) < 0)
		return TINFO_INVALID;
	ti.graph_type = hs_graph_add_type(w->g, t, name, module);
	if (ti.graph_type == HS_NO_OBJECT)
		return TINFO_INVALID;
	return push_tinfo(w, &ti);
}

uint32_t tinfo_of(struct walk *w, uint64_t type_addr)
{
	uint32_t i;

	/* 0 is the address map's empty key: never look it up */
	if (!type_addr || (type_addr & 7))
		return TINFO_INVALID;
	i = hs_addrmap_get(&w->tcache, type_addr);

	if (i != UINT32_MAX)
		return i;
	i = resolve_type(w, type_addr);
	if (hs_addrmap_put(&w->tcache, type_addr, i) < 0)
		w->err = HS_ENOMEM;
	return i;
}

void tinfos_release(struct walk *w)
{
	free(w->tinfos);
	free(w->slot_offsets);
	free(w->slot_names);
	hs_addrmap_release(&w->tcache);
}
