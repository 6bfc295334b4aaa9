/*
 * Shipped layout tables (python-layouts/ (one .layout file each)): CPython struct layouts
 * generated from DWARF builds, for interpreters that carry no DWARF.
 *
 * A table is plain text, one fact per line (python-layouts/README.md):
 *
 *   format 1
 *   python 3.14                 minor version
 *   covers 3.14.5 3.14.99       micro releases it is meant for
 *   build release               release | debug
 *   origin ...                  what it was generated from (free text)
 *   size NAME BYTES             one line per HS_LAYOUT_SIZES entry
 *   field NAME OFFSET SIZE      one line per HS_LAYOUT_FIELDS entry,
 *   field NAME -                or "-" for a field this version lacks
 *
 * Every field and size must be listed exactly once, so a table can never
 * leave a field silently absent.  The tables are compiled into heapscope
 * (see the embed step in meson.build); a table chosen for a binary is
 * still checked against it before use (checks.h).
 */
#ifndef HEAPSCOPE_TABLE_H
#define HEAPSCOPE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "heapscope/layout.h"

struct hs_table_info {
	char name[64];      /* file name, e.g. "3.14.5-release.layout" */
	int minor;          /* 3.<minor> */
	int micro_lo, micro_hi;
	bool debug_build;
	char origin[256];
};

/* One embedded table: its file name and text. */
struct hs_table_text {
	const char *name;
	const char *text;
};

extern const struct hs_table_text hs_embedded_tables[];
extern const size_t hs_embedded_table_count;

/*
 * Parse a table.  Fills `out` (source HS_SRC_TABLE) and `info`; on error
 * (HS_EFORMAT naming the line) `out` is unspecified.
 */
int hs_table_parse(const char *text, const char *name, struct hs_layout *out,
		   struct hs_table_info *info);

/*
 * Choose the embedded table for Python 3.<minor>.<micro> of the given
 * build.  HS_ENOLAYOUT when none covers it, naming what exists.
 */
int hs_table_select(int minor, int micro, bool debug_build, struct hs_layout *out,
		    struct hs_table_info *info);

/* Write `layout` as a table with the header from `info`. */
int hs_table_write(FILE *f, const struct hs_layout *layout, const struct hs_table_info *info);

#endif
