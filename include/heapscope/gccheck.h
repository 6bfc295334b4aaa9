/*
 * Check of the GC generation list heads in the live process.
 *
 * The list heads are the walk's starting point, and their offset inside
 * _gc_runtime_state is not stated by any exported code or table of the
 * binary (and differs between builds of one minor version).  A list head is
 * a sentinel of a circular doubly linked list, which the live process shows
 * plainly: head.next.prev == head and head.prev.next == head (or both
 * pointing at the head when the list is empty).  Read before the pause, so
 * the lists may change under us: a few attempts are made.
 */
#ifndef HEAPSCOPE_GCCHECK_H
#define HEAPSCOPE_GCCHECK_H

#include <stdbool.h>

#include "heapscope/checks.h"
#include "heapscope/elfinfo.h"
#include "heapscope/layout.h"
#include "heapscope/memsrc.h"

/*
 * Check that GCS_GENERATIONS (and GCS_PERMANENT) of `layout` name list
 * heads in the process.  If they do not and may_correct, look for the one
 * nearby offset at which all three generation heads are list heads and
 * take it (CORRECTED).  Returns 0 or HS_ENOLAYOUT.
 */
int hs_gccheck_run(struct hs_memsrc *mem, const struct hs_pyelf *elf, struct hs_layout *layout,
		   bool may_correct, struct hs_check_list *out);

#endif
