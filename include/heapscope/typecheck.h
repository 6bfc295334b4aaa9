/*
 * Checks of a layout against the static type objects in the interpreter.
 *
 * Every CPython binary, stripped or not, exports its static type objects
 * (PyList_Type, PyType_Type, PyFunction_Type, ...), and they state facts
 * about struct layouts: tp_basicsize is sizeof(the instance struct) or the
 * offset of a trailing array, tp_dictoffset/tp_weaklistoffset are offsets
 * of members, and tp_members names members with their offsets
 * (PyFunction_Type's "__globals__" is offsetof(PyFunctionObject,
 * func_globals)).  The type objects are read from the target's memory
 * through the layout's own PyObject/PyTypeObject offsets, so a wrong
 * offset there shows up as garbage and mismatches, never as a crash.
 *
 * Each relation is kept only for the minor versions it was verified on
 * against DWARF (see the table in src/layout/typecheck.c).
 */
#ifndef HEAPSCOPE_TYPECHECK_H
#define HEAPSCOPE_TYPECHECK_H

#include <stdbool.h>

#include "heapscope/checks.h"
#include "heapscope/elfinfo.h"
#include "heapscope/layout.h"
#include "heapscope/memsrc.h"

/*
 * Check `layout` (for Python 3.<elf->minor>) against the static type
 * objects `mem` holds (addresses from elf->sym[], already relocated).
 *
 * may_correct: a disagreement about one field or size the binary states
 * directly (a member offset by name, a tp_basicsize that is exactly
 * sizeof(X)) sets the layout to the binary's value (CORRECTED); without
 * may_correct it is a MISMATCH.  A disagreement about a sum of two offsets
 * is always a MISMATCH.
 *
 * Guards run first and are never correctable: PyType_Type's ob_type must
 * be &PyType_Type, its tp_name must read "type", and its tp_members must
 * hold "__basicsize__"; when one fails nothing else is checked (every
 * other read would be garbage).  A type object whose ob_type or tp_name is
 * wrong is recorded once as a MISMATCH ("PyList_Type.tp_name") and its
 * other checks are skipped.  Guards record derived = expected when they
 * pass and derived = -1 when they fail.
 *
 * Layout fields that are HS_ABSENT (sizes that are 0) are skipped; a
 * member or symbol the binary lacks while the layout has the field is
 * UNAVAILABLE, as is a member table that is unreadable or malformed.
 *
 * Results are appended to `out` (source e.g. "PyFunction_Type.__globals__",
 * what e.g. "PyFunctionObject.func_globals").  Returns 0, or HS_ENOLAYOUT
 * naming the first MISMATCH.
 */
int hs_typecheck_run(struct hs_memsrc *mem, const struct hs_pyelf *elf,
		     struct hs_layout *layout, bool may_correct,
		     struct hs_check_list *out);

#endif
