/*
 * Resolving the interpreter of a process: its ELF file, version and
 * struct layouts, before anything is paused.
 */
#ifndef HEAPSCOPE_RESOLVE_H
#define HEAPSCOPE_RESOLVE_H

#include "heapscope/elfinfo.h"
#include "heapscope/layout.h"
#include "heapscope/maps.h"

struct hs_python {
	struct hs_pyelf elf;
	struct hs_layout layout;
	double resolve_ms; /* time spent finding layouts */
};

/* Oldest and newest supported minor versions of CPython 3. */
#define HS_MIN_MINOR 8
#define HS_MAX_MINOR 15

/*
 * Find the interpreter in the process (maps as read before the pause) and
 * its layouts.  `force` = HS_SRC_NONE chooses automatically; another value
 * uses only that source and fails if it cannot serve.  Errors: HS_ENOTPY,
 * HS_EVERSION, HS_ENOLAYOUT (naming what is missing).
 */
int hs_python_resolve(int pid, const struct hs_maps *maps,
		      enum hs_layout_source force, struct hs_python *out);

#endif
