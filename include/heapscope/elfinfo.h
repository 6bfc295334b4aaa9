/*
 * The interpreter's ELF file: which mapped file holds CPython, where its
 * symbols are in the target, and which version it is.
 *
 * The file belongs to the target (it is opened through /proc/PID/root or
 * under a core file's sysroot, see files.h, and may be hostile): every
 * table read from it is bounds-checked.  The binary is never executed.
 */
#ifndef HEAPSCOPE_ELFINFO_H
#define HEAPSCOPE_ELFINFO_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "heapscope/files.h"
#include "heapscope/maps.h"
#include "heapscope/memsrc.h"

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
	S(NEGATIVE_REFCOUNT, "_Py_NegativeRefcount") /* Py_REF_DEBUG builds only */ \

enum hs_pysym {
#define HS_PYSYM_ENUM(id, name) HS_SYM_##id,
	HS_PY_SYMBOLS(HS_PYSYM_ENUM)
#undef HS_PYSYM_ENUM
	HS_SYM_COUNT
};

/* F(id, name) — exported functions whose machine code states struct
 * offsets (see codecheck.h); looked up as STT_FUNC in .dynsym, then .symtab */
#define HS_PY_FUNCS(F)                                            \
	F(INTERP_HEAD, "PyInterpreterState_Head")                 \
	F(INTERP_NEXT, "PyInterpreterState_Next")                 \
	F(INTERP_THREAD_HEAD, "PyInterpreterState_ThreadHead")    \
	F(INTERP_GET_DICT, "PyInterpreterState_GetDict")          \
	F(THREAD_NEXT, "PyThreadState_Next")                      \
	F(THREAD_GET_DICT, "PyThreadState_GetDict")               \
	F(GC_IS_ENABLED, "PyGC_IsEnabled")                        \
	F(IMPORT_GET_MODULE_DICT, "PyImport_GetModuleDict")       \
	F(TYPE_GET_FLAGS, "PyType_GetFlags")                      \
	F(FUNC_GET_CODE, "PyFunction_GetCode")                    \
	F(FUNC_GET_GLOBALS, "PyFunction_GetGlobals")              \
	F(FUNC_GET_MODULE, "PyFunction_GetModule")                \
	F(FUNC_GET_DEFAULTS, "PyFunction_GetDefaults")            \
	F(FUNC_GET_KW_DEFAULTS, "PyFunction_GetKwDefaults")       \
	F(FUNC_GET_CLOSURE, "PyFunction_GetClosure")              \
	F(FUNC_GET_ANNOTATIONS, "PyFunction_GetAnnotations")      \
	F(METHOD_FUNCTION, "PyMethod_Function")                   \
	F(METHOD_SELF, "PyMethod_Self")                           \
	F(CELL_GET, "PyCell_Get")                                 \
	F(MODULE_GET_DICT, "PyModule_GetDict")                    \
	F(LIST_GET_ITEM, "PyList_GetItem")                        \
	F(LIST_SIZE, "PyList_Size")                               \
	F(TUPLE_GET_ITEM, "PyTuple_GetItem")                      \
	F(TUPLE_SIZE, "PyTuple_Size")                             \
	F(DICT_SIZE, "PyDict_Size")                               \
	F(SET_SIZE, "PySet_Size")                                 \
	F(BYTEARRAY_SIZE, "PyByteArray_Size")                     \
	F(UNICODE_GET_LENGTH, "PyUnicode_GetLength")              \
	F(TYPE_GET_MODULE, "PyType_GetModule")                    \
	F(FRAME_GET_CODE, "PyFrame_GetCode")                      \
	F(FRAME_GET_BACK, "PyFrame_GetBack")                      \
	F(THREAD_GET_FRAME, "PyThreadState_GetFrame")             \
	F(GEN_GET_CODE, "PyGen_GetCode")

enum hs_pyfunc {
#define HS_PYFUNC_ENUM(id, name) HS_FUNC_##id,
	HS_PY_FUNCS(HS_PYFUNC_ENUM)
#undef HS_PYFUNC_ENUM
	HS_FUNC_COUNT
};

struct hs_pyelf {
	char path[PATH_MAX];   /* as the target maps it */
	bool from_exe;         /* the executable (live: opened as /proc/PID/exe) */
	uint64_t map_start, map_end; /* its mapping at file offset 0 */
	uint64_t bias;         /* target address = bias + ELF virtual address */
	uint64_t sym[HS_SYM_COUNT]; /* target addresses, 0 if not found */
	uint64_t runtime_size; /* size of _PyRuntime (symbol or section) */
	unsigned hexversion;   /* PY_VERSION_HEX, 0 if unknown */
	int major, minor, micro;
	char version[32];      /* "3.12.1" */
	char version_from[32]; /* "Py_Version", "rodata string", ... */
	char build_id[41];     /* hex, "" if none */
	uint64_t func[HS_FUNC_COUNT];      /* target addresses, 0 if not found */
	uint64_t func_size[HS_FUNC_COUNT]; /* st_size, 0 if unknown */
	/* PT_GNU_RELRO in the target: read-only once relocated (the GOT) */
	uint64_t relro_start, relro_end;
};

/*
 * Find the mapped ELF file that holds _PyRuntime (libpython or the
 * executable) and read its symbols and version.  HS_ENOTPY when no mapped
 * file looks like CPython.
 */
int hs_pyelf_find(const struct hs_files *files, const struct hs_maps *maps,
		  struct hs_pyelf *out);

/* Open the file found by hs_pyelf_find() again (fd, or <0). */
int hs_pyelf_open(const struct hs_files *files, const struct hs_pyelf *py);

/*
 * Check that the file opened for `py` is the one the process mapped: its
 * first page (ELF header, program headers, usually the build id note)
 * equals the bytes `mem` holds at py->map_start.  When `mem` cannot read
 * them the check passes.  HS_EINCONSISTENT (naming the file, and for a
 * core suggesting --sysroot) when they differ.
 */
int hs_pyelf_verify(const struct hs_files *files, const struct hs_pyelf *py,
		    struct hs_memsrc *mem);

/* Hex GNU build id of an ELF file (any SHT_NOTE section), "" if none. */
typedef struct Elf Elf;
void hs_elf_build_id(Elf *elf, char *out, size_t outlen);

/* Name of a symbol id, for messages. */
const char *hs_pysym_name(enum hs_pysym sym);

/* Name of a function id ("PyThreadState_Next"). */
const char *hs_pyfunc_name(enum hs_pyfunc func);

#endif
