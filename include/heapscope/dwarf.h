/*
 * CPython struct layouts from DWARF debug info (libdw).
 *
 * The ELF file belongs to the target process and is treated as untrusted:
 * every loop is bounded and odd DWARF makes a field absent, never a crash.
 */
#ifndef HEAPSCOPE_DWARF_H
#define HEAPSCOPE_DWARF_H

#include "heapscope/layout.h"

/*
 * Fill `out` (already hs_layout_init'ed by the caller) from the DWARF of
 * the ELF file open on fd.  `name` is used in messages only.  Reads only;
 * fd is neither moved nor closed.
 *
 * Returns 0 when DWARF is present and at least PyObject and PyTypeObject
 * resolved, and sets out->source = HS_SRC_DWARF and out->source_detail =
 * name.  On failure `out` is left untouched and the result is:
 *   HS_ENOLAYOUT  the file has no .debug_info, or its DWARF lacks PyObject
 *                 or PyTypeObject;
 *   HS_EFORMAT    the file is not ELF, or its DWARF cannot be opened;
 *   HS_EIO        the file cannot be read;
 *   HS_ENOMEM     out of memory.
 */
int hs_dwarf_load_layout(int fd, const char *name, struct hs_layout *out);

#endif
