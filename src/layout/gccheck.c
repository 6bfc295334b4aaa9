#include "heapscope/gccheck.h"

#include <stdio.h>

#include "heapscope/error.h"

#define ATTEMPTS 5
#define SEARCH_SPAN 16 /* bytes either side of the table's offset */
#define NGENERATIONS 3

/* Whether the PyGC_Head at `head` is the sentinel of a circular list. */
static bool is_list_head(struct hs_memsrc *mem, const struct hs_layout *l, uint64_t head)
{
	uint64_t next, prev, back;
	int32_t o_next = l->off[HS_F_GCH_NEXT], o_prev = l->off[HS_F_GCH_PREV];

	if (hs_read_u64(mem, head + (uint64_t)o_next, &next) < 0 ||
	    hs_read_u64(mem, head + (uint64_t)o_prev, &prev) < 0)
		return false;
	next &= ~3ULL; /* low bits are flags, masked as the walker does */
	prev &= ~3ULL;
	if (next == head || prev == head)
		return next == head && prev == head;
	if (!next || !prev || (next & 7) || (prev & 7))
		return false;
	if (hs_read_u64(mem, next + (uint64_t)o_prev, &back) == 0 && (back & ~3ULL) == head)
		return true;
	return hs_read_u64(mem, prev + (uint64_t)o_next, &back) == 0 && (back & ~3ULL) == head;
}

/* Address of the GC state of the main interpreter, 0 if unreadable. */
static uint64_t gc_state_address(struct hs_memsrc *mem, const struct hs_pyelf *elf,
				 const struct hs_layout *l)
{
	uint64_t runtime = elf->sym[HS_SYM_RUNTIME], interp;

	if (hs_has(l, HS_F_RT_GC))
		return runtime + (uint64_t)l->off[HS_F_RT_GC];
	if (!hs_has(l, HS_F_RT_INTERP_HEAD) || !hs_has(l, HS_F_IS_GC) ||
	    hs_read_u64(mem, runtime + (uint64_t)l->off[HS_F_RT_INTERP_HEAD], &interp) < 0 ||
	    !interp)
		return 0;
	return interp + (uint64_t)l->off[HS_F_IS_GC];
}

static bool heads_at(struct hs_memsrc *mem, const struct hs_layout *l, uint64_t gc,
		     int64_t generations)
{
	uint32_t step = l->size[HS_S_GC_GENERATION];
	int32_t head = l->off[HS_F_GEN_HEAD];

	for (int i = 0; i < NGENERATIONS; i++)
		if (!is_list_head(mem, l, gc + (uint64_t)(generations + (int64_t)i * step + head)))
			return false;
	return true;
}

/* The lists change while the process runs: a head passes if any attempt
 * sees it consistent. */
static bool heads_at_retry(struct hs_memsrc *mem, const struct hs_layout *l, uint64_t gc,
			   int64_t generations)
{
	for (int a = 0; a < ATTEMPTS; a++)
		if (heads_at(mem, l, gc, generations))
			return true;
	return false;
}

/* The permanent generation (gc.freeze()) is one more list head; when the
 * generations moved, it may have moved with them. */
static enum hs_check_status check_permanent(struct hs_memsrc *mem, struct hs_layout *l,
					    uint64_t gc, int64_t delta, bool may_correct,
					    struct hs_check_list *out)
{
	struct hs_check c = {.status = HS_CHECK_OK};
	int32_t head = l->off[HS_F_GEN_HEAD];
	int64_t off = l->off[HS_F_GCS_PERMANENT];
	bool ok = false;

	snprintf(c.source, sizeof(c.source), "GC list heads in the process");
	snprintf(c.what, sizeof(c.what), "_gc_runtime_state.permanent_generation");
	c.expected = c.derived = off;
	for (int a = 0; a < ATTEMPTS && !ok; a++)
		ok = is_list_head(mem, l, gc + (uint64_t)(off + head));
	if (!ok && delta) {
		for (int a = 0; a < ATTEMPTS && !ok; a++)
			ok = is_list_head(mem, l, gc + (uint64_t)(off + delta + head));
		c.derived = off + delta;
		c.status = ok && may_correct ? HS_CHECK_CORRECTED : HS_CHECK_MISMATCH;
		if (c.status == HS_CHECK_CORRECTED)
			l->off[HS_F_GCS_PERMANENT] = (int32_t)(off + delta);
	} else if (!ok) {
		c.status = HS_CHECK_MISMATCH;
	}
	hs_checks_add(out, &c);
	return c.status;
}

int hs_gccheck_run(struct hs_memsrc *mem, const struct hs_pyelf *elf, struct hs_layout *layout,
		   bool may_correct, struct hs_check_list *out)
{
	struct hs_check c = {.status = HS_CHECK_UNAVAILABLE};
	int64_t table, found = -1;
	int nfound = 0;
	uint64_t gc;

	snprintf(c.source, sizeof(c.source), "GC list heads in the process");
	snprintf(c.what, sizeof(c.what), "_gc_runtime_state.generations");
	if (!hs_has(layout, HS_F_GCS_GENERATIONS) || !hs_has(layout, HS_F_GEN_HEAD) ||
	    !hs_has(layout, HS_F_GCH_NEXT) || !hs_has(layout, HS_F_GCH_PREV) ||
	    !layout->size[HS_S_GC_GENERATION] || !(gc = gc_state_address(mem, elf, layout))) {
		hs_checks_add(out, &c);
		return 0;
	}
	table = c.expected = c.derived = layout->off[HS_F_GCS_GENERATIONS];
	if (out->settled_off[HS_F_GCS_GENERATIONS])
		may_correct = false;
	if (heads_at_retry(mem, layout, gc, table)) {
		c.status = HS_CHECK_OK;
	} else {
		for (int64_t d = -SEARCH_SPAN; d <= SEARCH_SPAN; d += 4) {
			if (d == 0 || table + d < 0 || !heads_at_retry(mem, layout, gc, table + d))
				continue;
			found = table + d;
			nfound++;
		}
		c.derived = found;
		c.status = nfound == 1 && may_correct ? HS_CHECK_CORRECTED : HS_CHECK_MISMATCH;
	}
	hs_checks_add(out, &c);
	if (c.status == HS_CHECK_CORRECTED)
		layout->off[HS_F_GCS_GENERATIONS] = (int32_t)found;
	out->settled_off[HS_F_GCS_GENERATIONS] = c.status != HS_CHECK_MISMATCH;
	if (c.status != HS_CHECK_MISMATCH && hs_has(layout, HS_F_GCS_PERMANENT) &&
	    check_permanent(mem, layout, gc, c.status == HS_CHECK_CORRECTED ? found - table : 0,
			    may_correct, out) == HS_CHECK_MISMATCH)
		return hs_error(HS_ENOLAYOUT, "the permanent GC generation of the process is not "
				"where the layout says");
	if (c.status == HS_CHECK_MISMATCH)
		return hs_error(HS_ENOLAYOUT,
				"the GC lists of the process are not at _gc_runtime_state+%lld as the "
				"layout says%s", (long long)table,
				nfound == 1 ? "" : nfound ? " (several offsets fit)" : " (no nearby offset fits either)");
	return 0;
}
