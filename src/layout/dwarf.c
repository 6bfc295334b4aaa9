/*
 * Struct layouts from DWARF (libdw).
 *
 * Two phases.  The scan visits only the top-level DIEs of every unit (C
 * struct, union and typedef definitions are children of the unit DIE, and
 * dwarf_siblingof skips whole subtrees) and keeps, for each struct name
 * the layout table mentions, the distinct struct/union definitions that
 * name denotes.  Then every field is looked up in those definitions: the
 * first definition that has the member wins, which copes with one name
 * meaning different things in different files (obmalloc's `block` is a
 * byte, the deque's `struct block` a node).
 *
 * The file comes from the target and is untrusted: sibling walks must move
 * forward, and nesting, typedef chains, member counts and array
 * dimensions are bounded.  Anything odd makes a field absent.
 */
#include "heapscope/dwarf.h"

#include "heapscope/error.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
	MAX_NESTING = 8,        /* anonymous members entered per path step */
	MAX_PATH_STEPS = 8,     /* components of a dotted member path */
	MAX_TYPE_CHAIN = 16,    /* typedef/qualifier hops */
	MAX_CHILDREN = 1 << 16, /* members visited per struct */
	MAX_ARRAY_DIMS = 8,
	MAX_UNITS = 1 << 22,
	MAX_NAME_LEN = 64,
	MAX_WANTED = 128,
	WANTED_SLOTS = 256,     /* power of two, at least 2 * MAX_WANTED */
	MAX_DEFS_PER_NAME = 32, /* distinct definitions kept per name */
};

/* One distinct struct/union definition that a wanted name denotes. */
struct definition {
	Dwarf_Die die;
	Dwarf_Word byte_size;
	/* identity: the same header struct appears once per unit */
	int tag;
	const char *tag_name; /* NULL for a typedef'd anonymous struct */
	bool has_line;
	Dwarf_Word decl_line, decl_column;
};

struct wanted {
	char name[MAX_NAME_LEN];
	unsigned ndefs;
	struct definition defs[MAX_DEFS_PER_NAME];
};

struct scan {
	Dwarf *dbg;
	const char *dwarf_error; /* first libdw error while scanning units */
	unsigned nnames;
	uint8_t slots[WANTED_SLOTS]; /* index + 1 into names, 0 = empty */
	struct wanted names[MAX_WANTED];
};

struct member_hit {
	Dwarf_Die member;
	uint64_t offset; /* from the start of the outermost struct */
	bool bitfield;
};

/* ---- names and '|' alternatives ---------------------------------------- */

/* Step through "a|b|c": sets start/len of the next alternative. */
static bool next_alternative(const char **cursor, const char **start, size_t *len)
{
	const char *p = *cursor, *bar;

	if (p == NULL)
		return false;
	bar = strchr(p, '|');
	*start = p;
	*len = bar ? (size_t)(bar - p) : strlen(p);
	*cursor = bar ? bar + 1 : NULL;
	return true;
}

static bool name_equals(const char *name, const char *s, size_t len)
{
	return strncmp(name, s, len) == 0 && name[len] == '\0';
}

static uint32_t hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static struct wanted *lookup_wanted(struct scan *s, const char *name, size_t len)
{
	uint32_t i = hash_name(name, len) & (WANTED_SLOTS - 1);

	if (len == 0 || len >= MAX_NAME_LEN)
		return NULL;
	for (unsigned probes = 0; probes < WANTED_SLOTS; probes++) {
		struct wanted *w;

		if (s->slots[i] == 0)
			return NULL;
		w = &s->names[s->slots[i] - 1];
		if (name_equals(w->name, name, len))
			return w;
		i = (i + 1) & (WANTED_SLOTS - 1);
	}
	return NULL;
}

static int add_wanted(struct scan *s, const char *name, size_t len)
{
	uint32_t i = hash_name(name, len) & (WANTED_SLOTS - 1);

	if (lookup_wanted(s, name, len))
		return 0;
	if (len == 0 || len >= MAX_NAME_LEN || s->nnames >= MAX_WANTED)
		return hs_error(HS_EINCONSISTENT, "layout table struct name '%.*s' does not fit the DWARF reader",
				(int)len, name);
	while (s->slots[i] != 0)
		i = (i + 1) & (WANTED_SLOTS - 1);
	memcpy(s->names[s->nnames].name, name, len);
	s->names[s->nnames].name[len] = '\0';
	s->slots[i] = (uint8_t)++s->nnames;
	return 0;
}

static int add_wanted_alternatives(struct scan *s, const char *structs)
{
	const char *start;
	size_t len;

	while (next_alternative(&structs, &start, &len)) {
		int rc = add_wanted(s, start, len);

		if (rc)
			return rc;
	}
	return 0;
}

static int collect_wanted_names(struct scan *s)
{
	for (int f = 0; f < HS_F_COUNT; f++) {
		int rc = add_wanted_alternatives(s, hs_field_descs[f].structs);

		if (rc)
			return rc;
	}
	for (int i = 0; i < HS_S_COUNT; i++) {
		int rc = add_wanted_alternatives(s, hs_size_structs[i]);

		if (rc)
			return rc;
	}
	return 0;
}

/* ---- small DIE helpers ------------------------------------------------- */

static bool attr_unsigned(Dwarf_Die *die, unsigned int code, Dwarf_Word *value)
{
	Dwarf_Attribute attr;

	return dwarf_attr(die, code, &attr) && dwarf_formudata(&attr, value) == 0;
}

static bool type_of(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute attr;

	return dwarf_attr(die, DW_AT_type, &attr) && dwarf_formref_die(&attr, type);
}

/* Advance to the next sibling; refuses to go backwards (a looping
   DW_AT_sibling in a hostile file). */
static bool next_sibling(Dwarf_Die *die)
{
	Dwarf_Die next;

	if (dwarf_siblingof(die, &next) != 0 ||
	    dwarf_dieoffset(&next) <= dwarf_dieoffset(die))
		return false;
	*die = next;
	return true;
}

/* Follow typedefs and qualifiers to the underlying type. */
static bool strip_typedefs(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Die cur = *die;

	for (int hop = 0; hop < MAX_TYPE_CHAIN; hop++) {
		switch (dwarf_tag(&cur)) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (!type_of(&cur, &cur))
				return false;
			break;
		default:
			*out = cur;
			return true;
		}
	}
	return false;
}

static bool is_aggregate_definition(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return (tag == DW_TAG_structure_type || tag == DW_TAG_union_type) &&
	       !dwarf_hasattr(die, DW_AT_declaration);
}

/* The struct/union definition a member's type (or a typedef) names. */
static bool aggregate_of(Dwarf_Die *typed, Dwarf_Die *aggregate)
{
	Dwarf_Die type;

	return type_of(typed, &type) && strip_typedefs(&type, aggregate) &&
	       is_aggregate_definition(aggregate);
}

/* ---- phase 1: scan top-level DIEs -------------------------------------- */

static bool same_definition(const struct definition *a, const struct definition *b)
{
	if (a->die.addr == b->die.addr)
		return true;
	return a->has_line && b->has_line && a->tag == b->tag &&
	       a->decl_line == b->decl_line && a->decl_column == b->decl_column &&
	       a->byte_size == b->byte_size &&
	       (a->tag_name == NULL) == (b->tag_name == NULL) &&
	       (a->tag_name == NULL || strcmp(a->tag_name, b->tag_name) == 0);
}

static void remember_definition(struct wanted *w, Dwarf_Die *def)
{
	struct definition d = {.die = *def, .tag = dwarf_tag(def), .tag_name = dwarf_diename(def)};

	if (!attr_unsigned(def, DW_AT_byte_size, &d.byte_size))
		d.byte_size = 0;
	d.has_line = attr_unsigned(def, DW_AT_decl_line, &d.decl_line);
	if (!attr_unsigned(def, DW_AT_decl_column, &d.decl_column))
		d.decl_column = 0;
	for (unsigned i = 0; i < w->ndefs; i++)
		if (same_definition(&w->defs[i], &d))
			return;
	if (w->ndefs < MAX_DEFS_PER_NAME)
		w->defs[w->ndefs++] = d;
}

static void consider_top_level_die(struct scan *s, Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	const char *name;
	struct wanted *w;
	Dwarf_Die def;

	if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type && tag != DW_TAG_typedef)
		return;
	name = dwarf_diename(die);
	if (name == NULL)
		return;
	w = lookup_wanted(s, name, strnlen(name, MAX_NAME_LEN));
	if (w == NULL)
		return;
	/* a typedef of a declaration (the struct body lives in an internal
	   header this unit did not include) is no use */
	if (strip_typedefs(die, &def) && is_aggregate_definition(&def))
		remember_definition(w, &def);
}

static void scan_unit(struct scan *s, Dwarf_Die *unit_die)
{
	Dwarf_Die die;

	if (dwarf_child(unit_die, &die) != 0)
		return;
	do
		consider_top_level_die(s, &die);
	while (next_sibling(&die));
}

static void scan_units(struct scan *s)
{
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die unit_die;

	for (unsigned n = 0; n < MAX_UNITS; n++) {
		int rc = dwarf_get_units(s->dbg, cu, &next, &version, &unit_type, &unit_die, NULL);

		if (rc != 0) {
			if (rc < 0)
				s->dwarf_error = dwarf_errmsg(-1);
			return;
		}
		if (unit_type != 0 && unit_die.addr != NULL)
			scan_unit(s, &unit_die);
		cu = next;
	}
}

/* ---- phase 2: members, offsets and sizes ------------------------------- */

static bool constant_location(Dwarf_Attribute *attr, uint64_t *offset)
{
	Dwarf_Op *ops;
	size_t nops;
	Dwarf_Sword signed_value;
	Dwarf_Word value;

	switch (dwarf_whatform(attr)) {
	case DW_FORM_block:
	case DW_FORM_block1:
	case DW_FORM_block2:
	case DW_FORM_block4:
	case DW_FORM_exprloc:
		/* DWARF 2/3 style: a one-op expression */
		if (dwarf_getlocation(attr, &ops, &nops) != 0 || nops != 1 ||
		    ops[0].atom != DW_OP_plus_uconst)
			return false;
		*offset = ops[0].number;
		return true;
	case DW_FORM_sdata:
	case DW_FORM_implicit_const:
		if (dwarf_formsdata(attr, &signed_value) != 0 || signed_value < 0)
			return false;
		*offset = (uint64_t)signed_value;
		return true;
	default:
		if (dwarf_formudata(attr, &value) != 0)
			return false;
		*offset = value;
		return true;
	}
}

static uint64_t storage_unit_bytes(Dwarf_Die *member)
{
	Dwarf_Word size;
	Dwarf_Die type;

	if (attr_unsigned(member, DW_AT_byte_size, &size) && size > 0 && size <= 16)
		return size;
	if (type_of(member, &type) && strip_typedefs(&type, &type) &&
	    attr_unsigned(&type, DW_AT_byte_size, &size) && size > 0 && size <= 16)
		return size;
	return 1;
}

static bool member_offset(Dwarf_Die *member, uint64_t *offset, bool *bitfield)
{
	Dwarf_Attribute attr;
	Dwarf_Word bits;

	*bitfield = dwarf_hasattr(member, DW_AT_bit_size);
	if (dwarf_attr(member, DW_AT_data_member_location, &attr))
		return constant_location(&attr, offset);
	if (*bitfield && dwarf_attr(member, DW_AT_data_bit_offset, &attr)) {
		uint64_t unit = storage_unit_bytes(member);

		if (dwarf_formudata(&attr, &bits) != 0)
			return false;
		*offset = bits / 8 / unit * unit;
		return true;
	}
	*offset = 0; /* union members carry no location */
	return true;
}

static bool find_member(Dwarf_Die *aggregate, const char *name, size_t len,
			uint64_t base, int depth, struct member_hit *hit);

/* Does this member (or, for a C11 anonymous struct/union member, one of
   its members) have the wanted name? */
static bool match_member(Dwarf_Die *member, const char *name, size_t len,
			 uint64_t base, int depth, struct member_hit *hit)
{
	const char *member_name = dwarf_diename(member);
	uint64_t offset;
	bool bitfield;
	Dwarf_Die inner;

	if (member_name != NULL && !name_equals(member_name, name, len))
		return false;
	if (!member_offset(member, &offset, &bitfield) || offset > INT32_MAX)
		return false;
	if (member_name != NULL) {
		hit->member = *member;
		hit->offset = base + offset;
		hit->bitfield = bitfield;
		return true;
	}
	return aggregate_of(member, &inner) &&
	       find_member(&inner, name, len, base + offset, depth + 1, hit);
}

static bool find_member(Dwarf_Die *aggregate, const char *name, size_t len,
			uint64_t base, int depth, struct member_hit *hit)
{
	Dwarf_Die child;

	if (depth > MAX_NESTING || dwarf_child(aggregate, &child) != 0)
		return false;
	for (unsigned n = 0; n < MAX_CHILDREN; n++) {
		if (dwarf_tag(&child) == DW_TAG_member &&
		    match_member(&child, name, len, base, depth, hit))
			return true;
		if (!next_sibling(&child))
			return false;
	}
	return false;
}

/* Resolve a dotted path ("threads.head") inside a struct definition. */
static bool find_member_path(Dwarf_Die *definition, const char *path, size_t len,
			     struct member_hit *hit)
{
	const char *end = path + len;
	Dwarf_Die scope = *definition;
	uint64_t base = 0;

	for (int step = 0; step < MAX_PATH_STEPS; step++) {
		const char *dot = memchr(path, '.', (size_t)(end - path));
		size_t part = dot ? (size_t)(dot - path) : (size_t)(end - path);

		if (!find_member(&scope, path, part, base, 0, hit))
			return false;
		if (dot == NULL)
			return hit->offset <= INT32_MAX;
		if (hit->bitfield || !aggregate_of(&hit->member, &scope))
			return false;
		base = hit->offset;
		path = dot + 1;
	}
	return false;
}

static uint64_t type_size(Dwarf_Die *type, int depth);

static uint64_t subrange_count(Dwarf_Die *subrange)
{
	Dwarf_Word count, upper, lower = 0;

	if (attr_unsigned(subrange, DW_AT_count, &count))
		return count;
	if (!attr_unsigned(subrange, DW_AT_upper_bound, &upper))
		return 0; /* flexible array member */
	attr_unsigned(subrange, DW_AT_lower_bound, &lower);
	if (upper < lower || upper == UINT64_MAX) /* GCC's [0] is upper -1 */
		return 0;
	return upper - lower + 1;
}

/* Whole size of an array with known bounds; 0 for flexible arrays. */
static uint64_t array_size(Dwarf_Die *array, int depth)
{
	Dwarf_Die element, subrange;
	uint64_t total;

	if (!type_of(array, &element) || dwarf_child(array, &subrange) != 0)
		return 0;
	total = type_size(&element, depth + 1);
	for (int dims = 0; dims < MAX_ARRAY_DIMS; dims++) {
		if (dwarf_tag(&subrange) == DW_TAG_subrange_type) {
			uint64_t count = subrange_count(&subrange);

			if (count == 0 || __builtin_mul_overflow(total, count, &total))
				return 0;
		}
		if (!next_sibling(&subrange))
			return total;
	}
	return 0;
}

static uint64_t type_size(Dwarf_Die *type, int depth)
{
	Dwarf_Die t, cu_die;
	Dwarf_Word size;
	uint8_t address_size;

	if (depth > MAX_NESTING || !strip_typedefs(type, &t))
		return 0;
	if (dwarf_tag(&t) == DW_TAG_array_type && !attr_unsigned(&t, DW_AT_byte_size, &size))
		return array_size(&t, depth);
	if (attr_unsigned(&t, DW_AT_byte_size, &size))
		return size;
	if (dwarf_tag(&t) == DW_TAG_pointer_type && dwarf_diecu(&t, &cu_die, &address_size, NULL))
		return address_size;
	return 0;
}

static uint32_t member_size(struct member_hit *hit)
{
	Dwarf_Die type;
	uint64_t size;

	if (hit->bitfield || !type_of(&hit->member, &type))
		return 0;
	size = type_size(&type, 0);
	return size <= UINT32_MAX ? (uint32_t)size : 0;
}

/* ---- phase 2: fill the layout ------------------------------------------ */

/* The first definition (over struct name alternatives) that has one of
   the member alternatives. */
static const struct definition *resolve_field(struct scan *s, const struct hs_field_desc *desc,
					      struct member_hit *hit)
{
	const char *structs = desc->structs, *sname;
	size_t slen;

	while (next_alternative(&structs, &sname, &slen)) {
		struct wanted *w = lookup_wanted(s, sname, slen);

		for (unsigned d = 0; w != NULL && d < w->ndefs; d++) {
			const char *members = desc->members, *mname;
			size_t mlen;
			Dwarf_Die die = w->defs[d].die;

			while (next_alternative(&members, &mname, &mlen))
				if (find_member_path(&die, mname, mlen, hit))
					return &w->defs[d];
		}
	}
	return NULL;
}

static const struct definition *first_definition(struct scan *s, const char *structs)
{
	const char *sname;
	size_t slen;

	while (next_alternative(&structs, &sname, &slen)) {
		struct wanted *w = lookup_wanted(s, sname, slen);

		if (w != NULL && w->ndefs > 0)
			return &w->defs[0];
	}
	return NULL;
}

static void resolve_layout(struct scan *s, struct hs_layout *layout)
{
	const struct definition *owner_def[HS_S_COUNT] = {0};

	for (int f = 0; f < HS_F_COUNT; f++) {
		const struct hs_field_desc *desc = &hs_field_descs[f];
		struct member_hit hit;
		const struct definition *def = resolve_field(s, desc, &hit);

		if (def == NULL)
			continue;
		layout->off[f] = (int32_t)hit.offset;
		layout->fsize[f] = member_size(&hit);
		if (owner_def[desc->owner] == NULL)
			owner_def[desc->owner] = def;
	}
	for (int i = 0; i < HS_S_COUNT; i++) {
		const struct definition *def = owner_def[i];

		if (def == NULL)
			def = first_definition(s, hs_size_structs[i]);
		if (def != NULL && def->byte_size <= UINT32_MAX)
			layout->size[i] = (uint32_t)def->byte_size;
	}
}

static int check_essentials(const struct scan *s, const struct hs_layout *layout, const char *name)
{
	if (hs_has(layout, HS_F_OB_TYPE) && hs_has(layout, HS_F_TP_NAME) &&
	    layout->size[HS_S_OBJECT] != 0 && layout->size[HS_S_TYPE] != 0)
		return 0;
	return hs_error(HS_ENOLAYOUT, "%s: its DWARF does not define PyObject and PyTypeObject%s%s",
			name, s->dwarf_error ? "; DWARF error: " : "",
			s->dwarf_error ? s->dwarf_error : "");
}

static int layout_from_dwarf(Dwarf *dbg, const char *name, struct hs_layout *layout)
{
	struct scan *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return hs_error(HS_ENOMEM, "%s: no memory for the DWARF scan", name);
	s->dbg = dbg;
	rc = collect_wanted_names(s);
	if (rc == 0) {
		scan_units(s);
		resolve_layout(s, layout);
		rc = check_essentials(s, layout, name);
	}
	free(s);
	return rc;
}

/* ---- opening the file -------------------------------------------------- */

static bool libelf_ready(void)
{
	static int state; /* 0 not yet asked, 1 ready, -1 unusable */

	if (state == 0)
		state = elf_version(EV_CURRENT) == EV_NONE ? -1 : 1;
	return state > 0;
}

static int open_elf(int fd, const char *name, Elf **elfp)
{
	struct stat st;
	GElf_Ehdr ehdr;
	Elf *elf;

	if (fstat(fd, &st) != 0)
		return hs_error(HS_EIO, "cannot read %s: %s", name, strerror(errno));
	if (!libelf_ready())
		return hs_error(HS_EFORMAT, "libelf is unusable: %s", elf_errmsg(-1));
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf == NULL)
		return hs_error(HS_EFORMAT, "cannot read %s as ELF: %s", name, elf_errmsg(-1));
	if (elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return hs_error(HS_EFORMAT, "%s is not an ELF file", name);
	}
	if (gelf_getehdr(elf, &ehdr) == NULL) {
		elf_end(elf);
		return hs_error(HS_EFORMAT, "%s has a bad ELF header: %s", name, elf_errmsg(-1));
	}
	/* libdw does not apply the relocations a .o's DWARF needs (every
	   name would read as string offset 0); targets only map linked files */
	if (ehdr.e_type == ET_REL) {
		elf_end(elf);
		return hs_error(HS_EFORMAT, "%s is a relocatable object; its DWARF is only usable once linked",
				name);
	}
	*elfp = elf;
	return 0;
}

static bool has_debug_info_section(Elf *elf)
{
	size_t shstrndx, nsections;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0 || elf_getshdrnum(elf, &nsections) != 0)
		return false;
	for (size_t i = 0; i < nsections && (scn = elf_nextscn(elf, scn)) != NULL; i++) {
		GElf_Shdr shdr;
		const char *sname;

		if (gelf_getshdr(scn, &shdr) == NULL || shdr.sh_type == SHT_NOBITS)
			continue;
		sname = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (sname && (strcmp(sname, ".debug_info") == 0 || strcmp(sname, ".zdebug_info") == 0))
			return true;
	}
	return false;
}

int hs_dwarf_load_layout(int fd, const char *name, struct hs_layout *out)
{
	struct hs_layout layout = *out;
	Elf *elf = NULL;
	Dwarf *dbg;
	int rc;

	if (name == NULL)
		name = "(unnamed file)";
	rc = open_elf(fd, name, &elf);
	if (rc)
		return rc;
	if (!has_debug_info_section(elf)) {
		rc = hs_error(HS_ENOLAYOUT, "%s has no DWARF debug info (stripped, or kept in a separate debug file)",
			      name);
	} else if ((dbg = dwarf_begin_elf(elf, DWARF_C_READ, NULL)) == NULL) {
		rc = hs_error(HS_EFORMAT, "cannot read the DWARF of %s: %s", name, dwarf_errmsg(-1));
	} else {
		rc = layout_from_dwarf(dbg, name, &layout);
		dwarf_end(dbg);
	}
	elf_end(elf);
	if (rc)
		return rc;
	layout.source = HS_SRC_DWARF;
	snprintf(layout.source_detail, sizeof(layout.source_detail), "%s", name);
	*out = layout;
	return 0;
}
