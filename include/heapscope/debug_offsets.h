/*
 * Struct layouts from CPython's _Py_DebugOffsets (3.13 and later).
 *
 * Since 3.13 the global _PyRuntime begins with a table that CPython fills
 * at compile time for out-of-process tools: the cookie "xdebugpy" (8 bytes,
 * no NUL), PY_VERSION_HEX and a free-threaded flag as uint64_t, then one
 * group of uint64_t per C struct, usually `size` (its sizeof) followed by
 * member offsets.  The groups differ per minor version, so the parser
 * knows the exact table of each supported one: 3.13 (584 bytes), 3.14
 * (760) and 3.15 (888).  It fills only the hs_layout fields whose meaning
 * matches the table's entry; member sizes (fsize[]) are not in the table
 * and come from the C types of that version on x86-64, the same values
 * the DWARF reader reports, so both sources compare equal field by field.
 *
 * The bytes come from the target (its ELF file's .PyRuntime section or its
 * memory) and are untrusted: every size and offset used is bounds-checked.
 */
#ifndef HEAPSCOPE_DEBUG_OFFSETS_H
#define HEAPSCOPE_DEBUG_OFFSETS_H

#include "heapscope/layout.h"

#include <stddef.h>

struct hs_debug_offsets_info {
	unsigned version;    /* PY_VERSION_HEX stated by the table */
	size_t table_size;   /* bytes of _Py_DebugOffsets for that version */
	unsigned fields_set; /* hs_layout fields filled */
	unsigned sizes_set;  /* hs_layout sizes filled */
};

/*
 * Parse the _Py_DebugOffsets at the start of `buf` (`len` bytes: the first
 * bytes of _PyRuntime; at least info->table_size of them are needed, more
 * are ignored).  `expected_hexversion` is the version found elsewhere
 * (Py_Version), or 0 if unknown.
 *
 * On success returns 0, sets in `out` only the offsets, member sizes and
 * struct sizes the table provides (everything else, including
 * out->source, is left as it was: the caller knows what else the layout
 * holds) and, if `info` is not NULL, fills it.
 *
 * All or nothing: on failure neither `out` nor `info` is touched, and the
 * result is
 *   HS_ENOLAYOUT  no cookie; `len` shorter than the table; a version other
 *                 than 3.13, 3.14 or 3.15 (or an alpha/beta of them, whose
 *                 tables differ from the release's); a version whose
 *                 major.minor.micro differs from a nonzero
 *                 expected_hexversion; a struct size of 0 or over 64 MiB;
 *                 a member offset (plus the member's size) beyond its
 *                 struct's size; a table not from a 64-bit build;
 *   HS_EVERSION   a free-threaded build (not supported).
 */
int hs_debug_offsets_parse(const void *buf, size_t len, unsigned expected_hexversion,
			   struct hs_layout *out, struct hs_debug_offsets_info *info);

#endif
