/*
 * Struct offsets stated by the machine code of exported CPython functions
 * (x86-64), and a check of a layout against them.
 *
 * PyThreadState_Next(ts) compiles to `mov rax,[rdi+8]; ret`: the binary
 * itself says PyThreadState.next is at 8.  A tiny symbolic evaluator runs
 * over one function (its bytes read from the target, where code and GOT
 * are relocated), follows both sides of every conditional branch within
 * fixed bounds, and records what each `ret` returns, e.g. LOAD(ARG0 + 8).
 * A pattern then turns those returns into one offset.  Anything the
 * evaluator does not understand becomes UNKNOWN; paths that disagree make
 * the check unavailable, never a guess.
 */
#ifndef HEAPSCOPE_CODECHECK_H
#define HEAPSCOPE_CODECHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "heapscope/checks.h"
#include "heapscope/elfinfo.h"
#include "heapscope/layout.h"
#include "heapscope/memsrc.h"

/* What a function returns, and which displacement d is the answer. */
enum hs_cc_pattern {
	HS_CC_ARG0_FIELD,    /* LOAD(arg0 + d)                   PyThreadState_Next */
	HS_CC_ARG0_ITEM,     /* LOAD(arg0 + d + index*8)         PyTuple_GetItem */
	HS_CC_ARG0_PTR_ITEM, /* LOAD(LOAD(arg0 + d) + index*8)   PyList_GetItem */
	HS_CC_ARG0_PTR,      /* LOAD(LOAD(arg0 + d) + e)         PyFrame_GetCode (3.11+) */
	HS_CC_ARG0_PTR_FIELD, /* LOAD(LOAD(arg0 + e) + d)        ditto, the other field */
	HS_CC_GLOBAL,        /* LOAD(global + d), d inside the global (_PyRuntime) */
	HS_CC_CURRENT_FIELD, /* LOAD(p + d), p loaded through a thread-local or a
				global: a field of the current thread or interpreter */
};

struct hs_cc_env {
	/* loads from [relro_start, relro_end) read the target's memory: the
	 * GOT is constant once relocated */
	uint64_t relro_start, relro_end;
	/* HS_CC_GLOBAL: the global the offset is relative to */
	uint64_t global, global_size;
};

/*
 * Evaluate the function at `addr` (`size` bytes, its st_size; at most 512
 * are read, 0 means "unknown") and match its returns against `pattern`.
 * 0 and *out = d; HS_ENOLAYOUT (saying why) when the code does not state
 * one d: not understood, ambiguous, unreadable.  HS_ENOMEM otherwise.
 */
int hs_cc_derive(struct hs_memsrc *mem, const struct hs_cc_env *env, uint64_t addr,
		 uint64_t size, enum hs_cc_pattern pattern, int64_t *out);

/*
 * Run every applicable check for Python 3.<elf->minor> against `layout`.
 * may_correct: a disagreeing check that states one field alone sets that
 * field to the derived value (status CORRECTED); a disagreeing sum check,
 * or any disagreement when !may_correct, is MISMATCH.  Results are
 * appended to `out`.  Returns 0, or HS_ENOLAYOUT naming the first MISMATCH
 * (function, field, both values).
 */
int hs_codecheck_run(struct hs_memsrc *mem, const struct hs_pyelf *elf, struct hs_layout *layout,
		     bool may_correct, struct hs_check_list *out);

#endif
