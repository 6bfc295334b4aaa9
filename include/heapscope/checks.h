/*
 * Checks of a layout against the interpreter binary itself.
 *
 * A layout from a shipped table (or even from DWARF) is only trusted after
 * the binary confirms it: the machine code of small exported functions
 * (disassembled with capstone) shows which offsets they read, and the
 * static type objects in the binary's data carry their own sizes and
 * member tables.  Each check derives one value and compares it with the
 * layout.
 *
 * A check that disagrees about a single field the binary states directly
 * may correct the layout (when the caller allows it); a disagreement that
 * cannot be pinned on one field (e.g. a sum of two offsets) refuses the
 * layout.
 */
#ifndef HEAPSCOPE_CHECKS_H
#define HEAPSCOPE_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "heapscope/layout.h"

enum hs_check_status {
	HS_CHECK_OK,          /* derived value equals the layout's */
	HS_CHECK_CORRECTED,   /* disagreed; the layout now holds the derived value */
	HS_CHECK_MISMATCH,    /* disagreed and cannot be corrected: layout refused */
	HS_CHECK_UNAVAILABLE, /* nothing to derive from (symbol absent, code not understood) */
};

struct hs_check {
	char source[64];   /* where the value came from: "PyThreadState_Next", "PyList_Type.tp_basicsize" */
	char what[96];     /* what it states: "PyThreadState.next", "sizeof(PyListObject)" */
	int64_t expected;  /* the layout's value before the check */
	int64_t derived;   /* the binary's value (meaningless if UNAVAILABLE) */
	enum hs_check_status status;
};

#define HS_CHECKS_MAX 256

struct hs_check_list {
	struct hs_check items[HS_CHECKS_MAX];
	unsigned count;
	unsigned dropped; /* checks not recorded because the list was full */
	/* Fields and sizes a check has already confirmed or corrected: a later
	 * check (of any kind) that disagrees is a mismatch, never a second
	 * correction, so two sources cannot silently overrule each other. */
	bool settled_off[HS_F_COUNT];
	bool settled_size[HS_S_COUNT];
};

/* Append one result (counts it as dropped when the list is full). */
void hs_checks_add(struct hs_check_list *list, const struct hs_check *check);

/* Number of results with the given status. */
unsigned hs_checks_count(const struct hs_check_list *list, enum hs_check_status status);

/* "ok", "corrected", "MISMATCH", "unavailable" */
const char *hs_check_status_name(enum hs_check_status status);

#endif
