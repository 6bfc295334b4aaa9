/*
 * Separate debug files: the DWARF of a stripped interpreter, installed by
 * a -dbg/-dbgsym package or debuginfod-style layout.
 *
 * Looked up by build id (/usr/lib/debug/.build-id/xx/rest.debug), then by
 * the binary's .gnu_debuglink name (next to the binary, in its .debug/
 * directory, and under /usr/lib/debug/<dir>/), each first inside the
 * target's root (a core file's sysroot) and then in ours.  A candidate is
 * used only when its build id equals the binary's: a debug file of another
 * build would describe other layouts.
 */
#ifndef HEAPSCOPE_DEBUGFILE_H
#define HEAPSCOPE_DEBUGFILE_H

#include <stddef.h>

#include "heapscope/elfinfo.h"
#include "heapscope/files.h"

/*
 * Open the debug file of `py` (as the target whose files are `files` sees
 * it).  Returns an fd and writes a description of where it was found
 * ("/usr/lib/debug/... (target's root)") to `where`; HS_ENOLAYOUT if there
 * is none.
 */
int hs_debugfile_open(const struct hs_files *files, const struct hs_pyelf *py, char *where,
		      size_t wherelen);

#endif
