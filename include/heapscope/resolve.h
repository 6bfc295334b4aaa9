/*
 * Resolving the interpreter of a process: its ELF file, version and
 * struct layouts, before anything is paused.
 *
 * Layout sources, in order: _Py_DebugOffsets (3.13+, in the binary's own
 * _PyRuntime), DWARF (the binary, libpython or a separate debug file), the
 * shipped tables (python-layouts/).  _Py_DebugOffsets covers only part of
 * what the walker needs; the rest comes from DWARF or a table.  Whatever
 * the sources, the result is checked against the binary and the live
 * process (checks.h); a table may be corrected by those checks, any other
 * disagreement refuses the layout.
 */
#ifndef HEAPSCOPE_RESOLVE_H
#define HEAPSCOPE_RESOLVE_H

#include <stdbool.h>

#include "heapscope/checks.h"
#include "heapscope/elfinfo.h"
#include "heapscope/files.h"
#include "heapscope/layout.h"
#include "heapscope/maps.h"
#include "heapscope/memsrc.h"

struct hs_python {
	struct hs_pyelf elf;
	struct hs_layout layout;
	bool debug_build;                 /* Py_DEBUG (Py_REF_DEBUG) interpreter */
	enum hs_layout_source base;       /* DWARF or TABLE: where the bulk came from */
	unsigned debug_offsets_fields;    /* fields and sizes taken from _Py_DebugOffsets */
	char debug_offsets_note[160];     /* why _Py_DebugOffsets was not used, if so */
	struct hs_check_list checks;      /* every check run, in order */
	double resolve_ms;                /* time spent finding layouts */
};

/* Oldest and newest supported minor versions of CPython 3. */
#define HS_MIN_MINOR 8
#define HS_MAX_MINOR 15

struct hs_resolve_opts {
	/* HS_SRC_NONE: choose; another value: only that source (for
	 * debug-offsets: with a table for the fields it lacks) */
	enum hs_layout_source force;
	/* a table file to use instead of the shipped ones, or NULL */
	const char *table_path;
};

/*
 * Find the interpreter in the process (maps as read before the pause, or
 * a core file's) and its layouts.  `files` opens the process's files (a
 * live process or a core's sysroot, see files.h); `mem` reads the process
 * (its constant data and code; it need not be paused) or the core.  A
 * forced source that cannot serve is an error, not a fallback.  Errors:
 * HS_ENOTPY, HS_EVERSION, HS_ENOLAYOUT (naming what is missing or what
 * disagreed), HS_EINCONSISTENT (the file found is not the one mapped).
 */
int hs_python_resolve(const struct hs_files *files, const struct hs_maps *maps,
		      struct hs_memsrc *mem, const struct hs_resolve_opts *opts,
		      struct hs_python *out);

#endif
