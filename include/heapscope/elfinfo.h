/*
 * The interpreter's ELF file: which mapped file holds CPython, where its
 * symbols are in the target, and which version it is.
 *
 * The file belongs to the target (it is opened through /proc/PID/root and
 * may be hostile): every table read from it is bounds-checked.  The binary
 * is never executed.
 */
#ifndef HEAPSCOPE_ELFINFO_H
#define HEAPSCOPE_ELFINFO_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "heapscope/maps.h"

/* S(id, symbol name) — data symbols looked up in .dynsym, then .symtab */
#define HS_PY_SYMBOLS(S)                                 \
	S(RUNTIME, "_PyRuntime")                         \
	S(PY_VERSION, "Py_Version")                      \
	S(GET_VERSION, "Py_GetVersion")                  \
	S(TYPE, "PyType_Type")                           \
	S(OBJECT, "PyBaseObject_Type")                   \
	S(TUPLE, "PyTuple_Type")                         \
	S(LIST, "PyList_Type")                           \
	S(DICT, "PyDict_Type")                           \
	S(SET, "PySet_Type")                             \
	S(FROZENSET, "PyFrozenSet_Type")                 \
	S(STR, "PyUnicode_Type")                         \
	S(INT, "PyLong_Type")                            \
	S(BOOL, "PyBool_Type")                           \
	S(FLOAT, "PyFloat_Type")                         \
	S(COMPLEX, "PyComplex_Type")                     \
	S(BYTES, "PyBytes_Type")                         \
	S(BYTEARRAY, "PyByteArray_Type")                 \
	S(MODULE, "PyModule_Type")                       \
	S(FUNCTION, "PyFunction_Type")                   \
	S(METHOD, "PyMethod_Type")                       \
	S(CELL, "PyCell_Type")                           \
	S(CODE, "PyCode_Type")                           \
	S(FRAME, "PyFrame_Type")                         \
	S(GEN, "PyGen_Type")                             \
	S(CORO, "PyCoro_Type")                           \
	S(ASYNCGEN, "PyAsyncGen_Type")                   \
	S(WEAKREF, "_PyWeakref_RefType")                 \
	S(WEAKPROXY, "_PyWeakref_ProxyType")             \
	S(WEAKCALLPROXY, "_PyWeakref_CallableProxyType") \
	S(SUBTYPE_TRAVERSE, "subtype_traverse")          \

enum hs_pysym {
#define HS_PYSYM_ENUM(id, name) HS_SYM_##id,
	HS_PY_SYMBOLS(HS_PYSYM_ENUM)
#undef HS_PYSYM_ENUM
	HS_SYM_COUNT
};

struct hs_pyelf {
	char path[PATH_MAX];   /* as the target maps it */
	bool from_exe;         /* the executable: opened as /proc/PID/exe */
	uint64_t bias;         /* target address = bias + ELF virtual address */
	uint64_t sym[HS_SYM_COUNT]; /* target addresses, 0 if not found */
	uint64_t runtime_size; /* size of _PyRuntime (symbol or section) */
	unsigned hexversion;   /* PY_VERSION_HEX, 0 if unknown */
	int major, minor, micro;
	char version[32];      /* "3.12.1" */
	char version_from[32]; /* "Py_Version", "rodata string", ... */
	char build_id[41];     /* hex, "" if none */
};

/*
 * Find the mapped ELF file that holds _PyRuntime (libpython or the
 * executable) and read its symbols and version.  HS_ENOTPY when no mapped
 * file looks like CPython.
 */
int hs_pyelf_find(int pid, const struct hs_maps *maps, struct hs_pyelf *out);

/* Open the file found by hs_pyelf_find() again (fd, or <0). */
int hs_pyelf_open(int pid, const struct hs_pyelf *py);

/* Name of a symbol id, for messages. */
const char *hs_pysym_name(enum hs_pysym sym);

#endif
