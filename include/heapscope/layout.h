/*
 * CPython struct layouts, as offsets and sizes the walker can use.
 *
 * One X-macro list names every field heapscope reads.  Each entry gives
 * the C struct (typedef or tag name; alternatives separated by '|') and
 * the member path (dotted for nested members; alternatives separated by
 * '|', e.g. "tstate_head|threads.head" for the rename in 3.11).  A layout
 * source (DWARF, _Py_DebugOffsets, a shipped table) fills `off[]` and
 * `size[]`; a field the interpreter does not have stays HS_ABSENT.
 *
 * Invariant: a present offset lies inside its struct's size when that size
 * is known (hs_layout_validate checks it), so a bad table fails loudly.
 */
#ifndef HEAPSCOPE_LAYOUT_H
#define HEAPSCOPE_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

/* F(id, struct, member, size-id of the struct) */
#define HS_LAYOUT_FIELDS(F)                                                        \
	/* runtime and interpreters */                                            \
	F(RT_INTERP_HEAD, "_PyRuntimeState|pyruntimestate", "interpreters.head", RUNTIME) \
	F(RT_GC, "_PyRuntimeState|pyruntimestate", "gc", RUNTIME)                  \
	F(IS_NEXT, "PyInterpreterState|_is", "next", INTERP)                       \
	F(IS_THREADS_HEAD, "PyInterpreterState|_is", "tstate_head|threads.head", INTERP) \
	F(IS_GC, "PyInterpreterState|_is", "gc", INTERP)                           \
	F(IS_MODULES, "PyInterpreterState|_is", "modules|imports.modules", INTERP) \
	F(IS_MODULES_BY_INDEX, "PyInterpreterState|_is",                           \
	  "modules_by_index|imports.modules_by_index", INTERP)                     \
	F(IS_SYSDICT, "PyInterpreterState|_is", "sysdict", INTERP)                 \
	F(IS_BUILTINS, "PyInterpreterState|_is", "builtins", INTERP)               \
	F(IS_BUILTINS_COPY, "PyInterpreterState|_is", "builtins_copy", INTERP)     \
	F(IS_IMPORTLIB, "PyInterpreterState|_is", "importlib|imports.importlib", INTERP) \
	F(IS_DICT, "PyInterpreterState|_is", "dict", INTERP)                       \
	F(IS_STATIC_TYPES, "PyInterpreterState|_is",                               \
	  "types.builtins.initialized|types.builtins", INTERP)                     \
	F(STS_TYPE, "managed_static_type_state|static_builtin_state", "type", STATIC_TYPE_STATE) \
	F(STS_TP_DICT, "managed_static_type_state|static_builtin_state", "tp_dict", STATIC_TYPE_STATE) \
	F(STS_TP_SUBCLASSES, "managed_static_type_state|static_builtin_state", "tp_subclasses", STATIC_TYPE_STATE) \
	/* the cyclic GC */                                                       \
	F(GCS_ENABLED, "_gc_runtime_state", "enabled", GC_STATE)                   \
	F(GCS_GENERATIONS, "_gc_runtime_state", "generations|young", GC_STATE)     \
	F(GCS_PERMANENT, "_gc_runtime_state", "permanent_generation", GC_STATE)    \
	F(GCS_COLLECTING, "_gc_runtime_state", "collecting", GC_STATE)             \
	F(GEN_HEAD, "gc_generation", "head", GC_GENERATION)                        \
	F(GEN_THRESHOLD, "gc_generation", "threshold", GC_GENERATION)              \
	F(GEN_COUNT, "gc_generation", "count", GC_GENERATION)                      \
	F(GCH_NEXT, "PyGC_Head", "_gc_next", GC_HEAD)                              \
	F(GCH_PREV, "PyGC_Head", "_gc_prev", GC_HEAD)                              \
	/* threads and frames */                                                  \
	F(TS_NEXT, "PyThreadState|_ts", "next", TSTATE)                            \
	F(TS_FRAME, "PyThreadState|_ts", "frame", TSTATE)                          \
	F(TS_CFRAME, "PyThreadState|_ts", "cframe", TSTATE)                        \
	F(TS_CURRENT_FRAME, "PyThreadState|_ts", "current_frame", TSTATE)          \
	F(TS_THREAD_ID, "PyThreadState|_ts", "thread_id", TSTATE)                  \
	F(TS_NATIVE_ID, "PyThreadState|_ts", "native_thread_id", TSTATE)           \
	F(TS_DICT, "PyThreadState|_ts", "dict", TSTATE)                            \
	F(TS_ASYNC_EXC, "PyThreadState|_ts", "async_exc", TSTATE)                  \
	F(TS_CONTEXT, "PyThreadState|_ts", "context", TSTATE)                      \
	F(TS_CUREXC_TYPE, "PyThreadState|_ts", "curexc_type", TSTATE)              \
	F(TS_CUREXC_VALUE, "PyThreadState|_ts", "curexc_value", TSTATE)            \
	F(TS_CUREXC_TB, "PyThreadState|_ts", "curexc_traceback", TSTATE)           \
	F(TS_CURRENT_EXC, "PyThreadState|_ts", "current_exception", TSTATE)        \
	F(TS_EXC_INFO, "PyThreadState|_ts", "exc_info", TSTATE)                    \
	F(TS_ASYNC_GEN_FIRSTITER, "PyThreadState|_ts", "async_gen_firstiter", TSTATE) \
	F(TS_ASYNC_GEN_FINALIZER, "PyThreadState|_ts", "async_gen_finalizer", TSTATE) \
	F(TS_PROFILEOBJ, "PyThreadState|_ts", "c_profileobj", TSTATE)              \
	F(TS_TRACEOBJ, "PyThreadState|_ts", "c_traceobj", TSTATE)                  \
	F(TS_DELETE_LATER, "PyThreadState|_ts", "delete_later", TSTATE)            \
	F(EXC_TYPE, "_PyErr_StackItem|_err_stackitem", "exc_type", ERR_STACKITEM)  \
	F(EXC_VALUE, "_PyErr_StackItem|_err_stackitem", "exc_value", ERR_STACKITEM) \
	F(EXC_TRACEBACK, "_PyErr_StackItem|_err_stackitem", "exc_traceback", ERR_STACKITEM) \
	F(EXC_PREVIOUS, "_PyErr_StackItem|_err_stackitem", "previous_item", ERR_STACKITEM) \
	F(CF_CURRENT_FRAME, "_PyCFrame", "current_frame", CFRAME)                  \
	F(IF_CODE, "_PyInterpreterFrame", "f_code|f_executable", IFRAME)           \
	F(IF_PREVIOUS, "_PyInterpreterFrame", "previous", IFRAME)                  \
	F(IF_FUNC, "_PyInterpreterFrame", "f_func|f_funcobj", IFRAME)              \
	F(IF_GLOBALS, "_PyInterpreterFrame", "f_globals", IFRAME)                  \
	F(IF_BUILTINS, "_PyInterpreterFrame", "f_builtins", IFRAME)                \
	F(IF_LOCALS, "_PyInterpreterFrame", "f_locals", IFRAME)                    \
	F(IF_FRAME_OBJ, "_PyInterpreterFrame", "frame_obj", IFRAME)                \
	F(IF_STACKTOP, "_PyInterpreterFrame", "stacktop", IFRAME)                  \
	F(IF_STACKPOINTER, "_PyInterpreterFrame", "stackpointer", IFRAME)          \
	F(IF_OWNER, "_PyInterpreterFrame", "owner", IFRAME)                        \
	F(IF_LOCALSPLUS, "_PyInterpreterFrame", "localsplus", IFRAME)              \
	F(FR_BACK, "PyFrameObject|_frame", "f_back", FRAME)                        \
	F(FR_CODE, "PyFrameObject|_frame", "f_code", FRAME)                        \
	F(FR_BUILTINS, "PyFrameObject|_frame", "f_builtins", FRAME)                \
	F(FR_GLOBALS, "PyFrameObject|_frame", "f_globals", FRAME)                  \
	F(FR_LOCALS, "PyFrameObject|_frame", "f_locals", FRAME)                    \
	F(FR_VALUESTACK, "PyFrameObject|_frame", "f_valuestack", FRAME)            \
	F(FR_STACKTOP, "PyFrameObject|_frame", "f_stacktop", FRAME)                \
	F(FR_STACKDEPTH, "PyFrameObject|_frame", "f_stackdepth", FRAME)            \
	F(FR_TRACE, "PyFrameObject|_frame", "f_trace", FRAME)                      \
	F(FR_GEN, "PyFrameObject|_frame", "f_gen", FRAME)                          \
	F(FR_LOCALSPLUS, "PyFrameObject|_frame", "f_localsplus", FRAME)            \
	F(FR_IFRAME, "PyFrameObject|_frame", "f_frame", FRAME)                     \
	F(FR_FRAME_DATA, "PyFrameObject|_frame", "_f_frame_data", FRAME)           \
	F(FR_EXTRA_LOCALS, "PyFrameObject|_frame", "f_extra_locals", FRAME)        \
	F(FR_LOCALS_CACHE, "PyFrameObject|_frame", "f_locals_cache", FRAME)        \
	/* object header and type objects */                                      \
	F(OB_REFCNT, "PyObject|_object", "ob_refcnt", OBJECT)                      \
	F(OB_TYPE, "PyObject|_object", "ob_type", OBJECT)                          \
	F(VAR_SIZE, "PyVarObject", "ob_size", VAROBJECT)                           \
	F(TP_NAME, "PyTypeObject|_typeobject", "tp_name", TYPE)                    \
	F(TP_BASICSIZE, "PyTypeObject|_typeobject", "tp_basicsize", TYPE)          \
	F(TP_ITEMSIZE, "PyTypeObject|_typeobject", "tp_itemsize", TYPE)            \
	F(TP_FLAGS, "PyTypeObject|_typeobject", "tp_flags", TYPE)                  \
	F(TP_WEAKLISTOFFSET, "PyTypeObject|_typeobject", "tp_weaklistoffset", TYPE) \
	F(TP_MEMBERS, "PyTypeObject|_typeobject", "tp_members", TYPE)              \
	F(TP_TRAVERSE, "PyTypeObject|_typeobject", "tp_traverse", TYPE)            \
	F(TP_BASE, "PyTypeObject|_typeobject", "tp_base", TYPE)                    \
	F(TP_DICT, "PyTypeObject|_typeobject", "tp_dict", TYPE)                    \
	F(TP_DICTOFFSET, "PyTypeObject|_typeobject", "tp_dictoffset", TYPE)        \
	F(TP_BASES, "PyTypeObject|_typeobject", "tp_bases", TYPE)                  \
	F(TP_MRO, "PyTypeObject|_typeobject", "tp_mro", TYPE)                      \
	F(TP_CACHE, "PyTypeObject|_typeobject", "tp_cache", TYPE)                  \
	F(TP_SUBCLASSES, "PyTypeObject|_typeobject", "tp_subclasses", TYPE)        \
	F(TP_WEAKLIST, "PyTypeObject|_typeobject", "tp_weaklist", TYPE)            \
	F(HT_NAME, "PyHeapTypeObject|_heaptypeobject", "ht_name", HEAPTYPE)        \
	F(HT_SLOTS, "PyHeapTypeObject|_heaptypeobject", "ht_slots", HEAPTYPE)      \
	F(HT_QUALNAME, "PyHeapTypeObject|_heaptypeobject", "ht_qualname", HEAPTYPE) \
	F(HT_CACHED_KEYS, "PyHeapTypeObject|_heaptypeobject", "ht_cached_keys", HEAPTYPE) \
	F(HT_MODULE, "PyHeapTypeObject|_heaptypeobject", "ht_module", HEAPTYPE)    \
	F(MD_NAME, "PyMemberDef", "name", MEMBERDEF)                               \
	F(MD_TYPE, "PyMemberDef", "type", MEMBERDEF)                               \
	F(MD_OFFSET, "PyMemberDef", "offset", MEMBERDEF)                           \
	F(MD_FLAGS, "PyMemberDef", "flags", MEMBERDEF)                             \
	/* containers */                                                          \
	F(TUPLE_ITEMS, "PyTupleObject", "ob_item", TUPLE)                          \
	F(LIST_ITEMS, "PyListObject", "ob_item", LIST)                             \
	F(LIST_ALLOCATED, "PyListObject", "allocated", LIST)                       \
	F(DICT_USED, "PyDictObject", "ma_used", DICT)                              \
	F(DICT_KEYS, "PyDictObject", "ma_keys", DICT)                              \
	F(DICT_VALUES, "PyDictObject", "ma_values", DICT)                          \
	F(DK_REFCNT, "PyDictKeysObject|_dictkeysobject", "dk_refcnt", DICTKEYS)    \
	F(DK_SIZE, "PyDictKeysObject|_dictkeysobject", "dk_size", DICTKEYS)        \
	F(DK_LOG2_SIZE, "PyDictKeysObject|_dictkeysobject", "dk_log2_size", DICTKEYS) \
	F(DK_LOG2_INDEX_BYTES, "PyDictKeysObject|_dictkeysobject", "dk_log2_index_bytes", DICTKEYS) \
	F(DK_KIND, "PyDictKeysObject|_dictkeysobject", "dk_kind", DICTKEYS)        \
	F(DK_USABLE, "PyDictKeysObject|_dictkeysobject", "dk_usable", DICTKEYS)    \
	F(DK_NENTRIES, "PyDictKeysObject|_dictkeysobject", "dk_nentries", DICTKEYS) \
	F(DK_INDICES, "PyDictKeysObject|_dictkeysobject", "dk_indices", DICTKEYS)  \
	F(DKE_KEY, "PyDictKeyEntry", "me_key", DICTKEYENTRY)                       \
	F(DKE_VALUE, "PyDictKeyEntry", "me_value", DICTKEYENTRY)                   \
	F(DUE_KEY, "PyDictUnicodeEntry", "me_key", DICTUNICODEENTRY)               \
	F(DUE_VALUE, "PyDictUnicodeEntry", "me_value", DICTUNICODEENTRY)           \
	F(DV_CAPACITY, "PyDictValues|_dictvalues", "capacity", DICTVALUES)         \
	F(DV_VALID, "PyDictValues|_dictvalues", "valid", DICTVALUES)               \
	F(DV_VALUES, "PyDictValues|_dictvalues", "values", DICTVALUES)             \
	F(SET_FILL, "PySetObject", "fill", SET)                                    \
	F(SET_USED, "PySetObject", "used", SET)                                    \
	F(SET_MASK, "PySetObject", "mask", SET)                                    \
	F(SET_TABLE, "PySetObject", "table", SET)                                  \
	F(SET_SMALLTABLE, "PySetObject", "smalltable", SET)                        \
	F(SE_KEY, "setentry", "key", SETENTRY)                                     \
	/* scalars */                                                             \
	F(STR_LENGTH, "PyASCIIObject", "length", ASCII)                            \
	F(STR_STATE, "PyASCIIObject", "state", ASCII)                              \
	F(STR_WSTR, "PyASCIIObject", "wstr", ASCII)                                \
	F(STR_UTF8_LENGTH, "PyCompactUnicodeObject", "utf8_length", COMPACT_UNICODE) \
	F(STR_UTF8, "PyCompactUnicodeObject", "utf8", COMPACT_UNICODE)             \
	F(STR_WSTR_LENGTH, "PyCompactUnicodeObject", "wstr_length", COMPACT_UNICODE) \
	F(STR_DATA, "PyUnicodeObject", "data", UNICODE)                            \
	F(LONG_DIGITS, "PyLongObject|_longobject", "ob_digit|long_value.ob_digit", LONG) \
	F(LONG_TAG, "PyLongObject|_longobject", "long_value.lv_tag", LONG)         \
	F(BYTEARRAY_ALLOC, "PyByteArrayObject", "ob_alloc", BYTEARRAY)             \
	F(BYTEARRAY_BYTES_OBJECT, "PyByteArrayObject", "ob_bytes_object", BYTEARRAY) \
	F(BYTES_SVAL, "PyBytesObject", "ob_sval", BYTES)                           \
	/* functions, methods, cells, modules, weakrefs */                        \
	F(FN_CODE, "PyFunctionObject", "func_code", FUNCTION)                      \
	F(FN_GLOBALS, "PyFunctionObject", "func_globals", FUNCTION)                \
	F(FN_BUILTINS, "PyFunctionObject", "func_builtins", FUNCTION)              \
	F(FN_NAME, "PyFunctionObject", "func_name", FUNCTION)                      \
	F(FN_QUALNAME, "PyFunctionObject", "func_qualname", FUNCTION)              \
	F(FN_DEFAULTS, "PyFunctionObject", "func_defaults", FUNCTION)              \
	F(FN_KWDEFAULTS, "PyFunctionObject", "func_kwdefaults", FUNCTION)          \
	F(FN_CLOSURE, "PyFunctionObject", "func_closure", FUNCTION)                \
	F(FN_DOC, "PyFunctionObject", "func_doc", FUNCTION)                        \
	F(FN_DICT, "PyFunctionObject", "func_dict", FUNCTION)                      \
	F(FN_MODULE, "PyFunctionObject", "func_module", FUNCTION)                  \
	F(FN_ANNOTATIONS, "PyFunctionObject", "func_annotations", FUNCTION)        \
	F(FN_ANNOTATE, "PyFunctionObject", "func_annotate", FUNCTION)              \
	F(FN_TYPEPARAMS, "PyFunctionObject", "func_typeparams", FUNCTION)          \
	F(METH_FUNC, "PyMethodObject", "im_func", METHOD)                          \
	F(METH_SELF, "PyMethodObject", "im_self", METHOD)                          \
	F(CELL_REF, "PyCellObject", "ob_ref", CELL)                                \
	F(MOD_DICT, "PyModuleObject", "md_dict", MODULE)                           \
	F(MOD_NAME, "PyModuleObject", "md_name", MODULE)                           \
	F(WR_CALLBACK, "PyWeakReference|_PyWeakReference", "wr_callback", WEAKREF) \
	/* code objects */                                                        \
	F(CO_CONSTS, "PyCodeObject", "co_consts", CODE)                            \
	F(CO_NAMES, "PyCodeObject", "co_names", CODE)                              \
	F(CO_CODE, "PyCodeObject", "co_code", CODE)                                \
	F(CO_VARNAMES, "PyCodeObject", "co_varnames", CODE)                        \
	F(CO_FREEVARS, "PyCodeObject", "co_freevars", CODE)                        \
	F(CO_CELLVARS, "PyCodeObject", "co_cellvars", CODE)                        \
	F(CO_FILENAME, "PyCodeObject", "co_filename", CODE)                        \
	F(CO_NAME, "PyCodeObject", "co_name", CODE)                                \
	F(CO_QUALNAME, "PyCodeObject", "co_qualname", CODE)                        \
	F(CO_LNOTAB, "PyCodeObject", "co_lnotab", CODE)                            \
	F(CO_LINETABLE, "PyCodeObject", "co_linetable", CODE)                      \
	F(CO_EXCEPTIONTABLE, "PyCodeObject", "co_exceptiontable", CODE)            \
	F(CO_LOCALSPLUSNAMES, "PyCodeObject", "co_localsplusnames", CODE)          \
	F(CO_LOCALSPLUSKINDS, "PyCodeObject", "co_localspluskinds", CODE)          \
	F(CO_NLOCALSPLUS, "PyCodeObject", "co_nlocalsplus", CODE)                  \
	F(CO_NLOCALS, "PyCodeObject", "co_nlocals", CODE)                          \
	F(CO_STACKSIZE, "PyCodeObject", "co_stacksize", CODE)                      \
	F(CO_FRAMESIZE, "PyCodeObject", "co_framesize", CODE)                      \
	F(CO_CACHED, "PyCodeObject", "_co_cached", CODE)                           \
	F(CO_EXTRA, "PyCodeObject", "co_extra", CODE)                              \
	F(CO_CELL2ARG, "PyCodeObject", "co_cell2arg", CODE)                        \
	F(CO_OPCACHE, "PyCodeObject", "co_opcache", CODE)                          \
	F(CO_OPCACHE_SIZE, "PyCodeObject", "co_opcache_size", CODE)                \
	F(CO_CODE_ADAPTIVE, "PyCodeObject", "co_code_adaptive", CODE)              \
	F(COC_CODE, "_PyCoCached", "_co_code", COCACHED)                           \
	F(COC_VARNAMES, "_PyCoCached", "_co_varnames", COCACHED)                   \
	F(COC_CELLVARS, "_PyCoCached", "_co_cellvars", COCACHED)                   \
	F(COC_FREEVARS, "_PyCoCached", "_co_freevars", COCACHED)                   \
	F(COX_SIZE, "_PyCodeObjectExtra", "ce_size", CODEEXTRA)                    \
	F(COX_EXTRAS, "_PyCodeObjectExtra", "ce_extras", CODEEXTRA)                \
	/* generators and coroutines (gi_ fields are shared by cr_ and ag_) */    \
	F(GEN_FRAME, "PyGenObject", "gi_frame", GEN)                               \
	F(GEN_CODE, "PyGenObject", "gi_code", GEN)                                 \
	F(GEN_NAME, "PyGenObject", "gi_name", GEN)                                 \
	F(GEN_QUALNAME, "PyGenObject", "gi_qualname", GEN)                         \
	F(GEN_EXC_STATE, "PyGenObject", "gi_exc_state", GEN)                       \
	F(GEN_ORIGIN_OR_FINALIZER, "PyGenObject", "gi_origin_or_finalizer", GEN)   \
	F(GEN_FRAME_STATE, "PyGenObject", "gi_frame_state", GEN)                   \
	F(GEN_IFRAME, "PyGenObject", "gi_iframe", GEN)                             \
	F(CORO_ORIGIN, "PyCoroObject", "cr_origin", CORO)                          \
	F(ASYNCGEN_FINALIZER, "PyAsyncGenObject", "ag_finalizer", ASYNCGEN)        \
	/* collections.deque (Modules/_collectionsmodule.c) */                    \
	F(DEQUE_LEFTBLOCK, "dequeobject", "leftblock", DEQUE)                      \
	F(DEQUE_RIGHTBLOCK, "dequeobject", "rightblock", DEQUE)                    \
	F(DEQUE_LEFTINDEX, "dequeobject", "leftindex", DEQUE)                      \
	F(DEQUE_RIGHTINDEX, "dequeobject", "rightindex", DEQUE)                    \
	F(BLOCK_DATA, "block", "data", DEQUE_BLOCK)                                \
	F(BLOCK_RIGHTLINK, "block", "rightlink", DEQUE_BLOCK)                      \
	/* collections.OrderedDict (Objects/odictobject.c) */                     \
	F(ODICT_FAST_NODES_SIZE, "PyODictObject|_odictobject", "od_fast_nodes_size", ODICT) \
	/* _io.Buffered{Reader,Writer,Random} (Modules/_io/bufferedio.c) */       \
	F(BUFFERED_BUFFER, "buffered", "buffer", BUFFERED)                         \
	F(BUFFERED_BUFFER_SIZE, "buffered", "buffer_size", BUFFERED)

/* S(id, struct) — sizeof of each struct above */
#define HS_LAYOUT_SIZES(S)                                                        \
	S(RUNTIME, "_PyRuntimeState|pyruntimestate")                               \
	S(INTERP, "PyInterpreterState|_is")                                        \
	S(STATIC_TYPE_STATE, "managed_static_type_state|static_builtin_state")     \
	S(GC_STATE, "_gc_runtime_state")                                           \
	S(GC_GENERATION, "gc_generation")                                          \
	S(GC_HEAD, "PyGC_Head")                                                    \
	S(TSTATE, "PyThreadState|_ts")                                             \
	S(ERR_STACKITEM, "_PyErr_StackItem|_err_stackitem")                        \
	S(CFRAME, "_PyCFrame")                                                     \
	S(IFRAME, "_PyInterpreterFrame")                                           \
	S(FRAME, "PyFrameObject|_frame")                                           \
	S(OBJECT, "PyObject|_object")                                              \
	S(VAROBJECT, "PyVarObject")                                                \
	S(TYPE, "PyTypeObject|_typeobject")                                        \
	S(HEAPTYPE, "PyHeapTypeObject|_heaptypeobject")                            \
	S(MEMBERDEF, "PyMemberDef")                                                \
	S(TUPLE, "PyTupleObject")                                                  \
	S(LIST, "PyListObject")                                                    \
	S(DICT, "PyDictObject")                                                    \
	S(DICTKEYS, "PyDictKeysObject|_dictkeysobject")                            \
	S(DICTKEYENTRY, "PyDictKeyEntry")                                          \
	S(DICTUNICODEENTRY, "PyDictUnicodeEntry")                                  \
	S(DICTVALUES, "PyDictValues|_dictvalues")                                  \
	S(SET, "PySetObject")                                                      \
	S(SETENTRY, "setentry")                                                    \
	S(ASCII, "PyASCIIObject")                                                  \
	S(COMPACT_UNICODE, "PyCompactUnicodeObject")                               \
	S(UNICODE, "PyUnicodeObject")                                              \
	S(LONG, "PyLongObject|_longobject")                                        \
	S(BYTEARRAY, "PyByteArrayObject")                                          \
	S(BYTES, "PyBytesObject")                                                  \
	S(FUNCTION, "PyFunctionObject")                                            \
	S(METHOD, "PyMethodObject")                                                \
	S(CELL, "PyCellObject")                                                    \
	S(MODULE, "PyModuleObject")                                                \
	S(WEAKREF, "PyWeakReference|_PyWeakReference")                             \
	S(CODE, "PyCodeObject")                                                    \
	S(COCACHED, "_PyCoCached")                                                 \
	S(CODEEXTRA, "_PyCodeObjectExtra")                                         \
	S(OPCACHE, "_PyOpcache")                                                   \
	S(GEN, "PyGenObject")                                                      \
	S(CORO, "PyCoroObject")                                                    \
	S(ASYNCGEN, "PyAsyncGenObject")                                            \
	S(DEQUE, "dequeobject")                                                    \
	S(DEQUE_BLOCK, "block")                                                    \
	S(ODICT, "PyODictObject|_odictobject")                                     \
	S(ODICT_NODE, "_ODictNode|_odictnode")                                     \
	S(BUFFERED, "buffered")                                                    \
	S(FROZENDICT, "PyFrozenDictObject") /* 3.15+ */

enum hs_field {
#define HS_FIELD_ENUM(id, st, mem, sz) HS_F_##id,
	HS_LAYOUT_FIELDS(HS_FIELD_ENUM)
#undef HS_FIELD_ENUM
	HS_F_COUNT
};

enum hs_size {
#define HS_SIZE_ENUM(id, st) HS_S_##id,
	HS_LAYOUT_SIZES(HS_SIZE_ENUM)
#undef HS_SIZE_ENUM
	HS_S_COUNT
};

#define HS_ABSENT (-1)

enum hs_layout_source {
	HS_SRC_NONE = 0,
	HS_SRC_DEBUG_OFFSETS,
	HS_SRC_DWARF,
	HS_SRC_TABLE,
};

struct hs_field_desc {
	const char *structs; /* alternatives separated by '|' */
	const char *members; /* alternatives separated by '|', dotted paths */
	enum hs_size owner;  /* the struct whose size bounds this field */
};

struct hs_layout {
	int32_t off[HS_F_COUNT];   /* byte offset, HS_ABSENT if not present */
	uint32_t fsize[HS_F_COUNT]; /* byte size of the member (0 if unknown) */
	uint32_t size[HS_S_COUNT]; /* sizeof(struct), 0 if absent */
	enum hs_layout_source source;
	char source_detail[256]; /* e.g. the file DWARF came from */
};

extern const struct hs_field_desc hs_field_descs[HS_F_COUNT];
extern const char *const hs_field_names[HS_F_COUNT];
extern const char *const hs_size_structs[HS_S_COUNT];
extern const char *const hs_size_names[HS_S_COUNT];

/* Mark every field absent and every size unknown. */
void hs_layout_init(struct hs_layout *layout);

/*
 * Check that each present field lies inside its struct (when the size is
 * known).  Returns 0 or HS_ENOLAYOUT naming the first bad field.
 */
int hs_layout_validate(const struct hs_layout *layout);

/* "dwarf", "debug-offsets", "table" */
const char *hs_layout_source_name(enum hs_layout_source source);

static inline bool hs_has(const struct hs_layout *l, enum hs_field f)
{
	return l->off[f] != HS_ABSENT;
}

#endif
