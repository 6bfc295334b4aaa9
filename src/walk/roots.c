/*
 * Where the walk starts: the GC generation lists, the interpreter's own
 * references (sys.modules, builtins...), and every thread: its state's
 * objects and its frames.
 */
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/log.h"
#include "walk-internal.h"

#define MAX_INTERPRETERS 256
#define MAX_THREADS 65536
#define MAX_EXC_CHAIN 10000

/* Walk one GC list: a circular doubly linked list through PyGC_Head with
 * the list head (a sentinel inside the GC state) as start and end. */
static void walk_gc_list(struct walk *w, uint64_t head, uint8_t gen)
{
	uint32_t gch = sz(w, HS_S_GC_HEAD);
	uint64_t node = 0, limit = w->max_objects ? w->max_objects : (1ULL << 32);

	if (!rd_field(w, head, HS_F_GCH_NEXT, &node)) {
		w->g->skips.gc_list++;
		return;
	}
	for (uint64_t steps = 0; (node & ~3ULL) != head; steps++) {
		node &= ~3ULL; /* low bits are flags during a collection */
		if (steps > limit || !node) {
			w->g->skips.gc_list++;
			return;
		}
		if (add_object(w, node + gch, gen, true) != HS_NO_OBJECT)
			w->g->gc_counts[gen]++;
		if (!rd_field(w, node, HS_F_GCH_NEXT, &node)) {
			w->g->skips.gc_list++;
			return;
		}
	}
}

static void walk_gc_state(struct walk *w, uint64_t gcstate)
{
	uint32_t gensize = sz(w, HS_S_GC_GENERATION);
	const int32_t *collecting = view(w, gcstate + off(w, HS_F_GCS_COLLECTING), 4);

	if (!collecting) {
		w->g->skips.gc_list++;
		return;
	}
	if (*collecting)
		w->g->gc_collecting = 1;
	for (unsigned gen = 0; gen < 3; gen++)
		walk_gc_list(w, gcstate + off(w, HS_F_GCS_GENERATIONS) + gen * gensize +
					off(w, HS_F_GEN_HEAD), (uint8_t)gen);
	walk_gc_list(w, gcstate + off(w, HS_F_GCS_PERMANENT) + off(w, HS_F_GEN_HEAD),
		     HS_GEN_PERMANENT);
}

static void root_field(struct walk *w, uint64_t base, enum hs_field f)
{
	uint64_t p;

	if (rd_field(w, base, f, &p) && p)
		emit(w, p, HS_EDGE_FIELD, (uint32_t)f);
}

static void walk_interp_roots(struct walk *w, uint64_t interp)
{
	static const enum hs_field fields[] = {
		HS_F_IS_MODULES, HS_F_IS_MODULES_BY_INDEX, HS_F_IS_SYSDICT,
		HS_F_IS_BUILTINS, HS_F_IS_BUILTINS_COPY, HS_F_IS_IMPORTLIB, HS_F_IS_DICT,
	};

	w->cur_obj = HS_NO_OBJECT;
	w->root_kind = HS_ROOT_INTERP;
	w->root_detail = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		root_field(w, interp, fields[i]);
}

static uint64_t first_iframe(struct walk *w, uint64_t ts)
{
	uint64_t v = 0;

	if (has(w, HS_F_TS_CURRENT_FRAME)) {
		rd_field(w, ts, HS_F_TS_CURRENT_FRAME, &v);
		return v;
	}
	if (rd_field(w, ts, HS_F_TS_CFRAME, &v) && v)
		rd_field(w, v, HS_F_CF_CURRENT_FRAME, &v);
	return v;
}

/* 3.12+: frames owned by the C stack are shims with no Python state;
 * 3.14 adds an "interpreter" entry frame (owner values 3 and 4); 3.15
 * drops FRAME_OWNED_BY_CSTACK and keeps 3. */
static bool iframe_is_shim(struct walk *w, uint64_t iframe)
{
	const uint8_t *owner;

	if (!has(w, HS_F_IF_OWNER))
		return false;
	owner = view(w, iframe + off(w, HS_F_IF_OWNER), 1);
	return !owner || *owner >= 3;
}

/* Record frame `depth` of the current thread, running `code`; roots
 * emitted next belong to it. */
static void begin_frame(struct walk *w, uint32_t depth, uint64_t code)
{
	uint32_t code_obj = add_object(w, code, HS_GEN_UNTRACKED, true);

	w->root_frame = hs_graph_add_frame(w->g, w->root_detail, depth, code_obj);
	if (w->root_frame == HS_NO_OBJECT)
		w->err = HS_ENOMEM;
}

static uint32_t walk_frames(struct walk *w, uint64_t ts)
{
	uint32_t frames = 0;

	if (w->minor < 11) {
		uint64_t f = 0, code = 0;

		rd_field(w, ts, HS_F_TS_FRAME, &f);
		for (; f && frames < MAX_FRAMES; frames++) {
			rd_field(w, f, HS_F_FR_CODE, &code);
			begin_frame(w, frames, code);
			emit(w, f, HS_EDGE_FIELD, HS_F_TS_FRAME);
			if (!rd_field(w, f, HS_F_FR_BACK, &f))
				w->g->skips.frames++, f = 0;
		}
		w->root_frame = HS_NO_OBJECT;
		return frames;
	}
	for (uint64_t f = first_iframe(w, ts); f && frames < MAX_FRAMES;) {
		if (!view(w, f, sz(w, HS_S_IFRAME))) {
			hs_debug("skipped frame 0x%llx: not in the capture", (unsigned long long)f);
			w->g->skips.frames++;
			break;
		}
		if (!iframe_is_shim(w, f)) {
			uint64_t code = 0;

			rd_field(w, f, HS_F_IF_CODE, &code);
			/* 3.14+: a stack reference; bit 0 is a tag */
			begin_frame(w, frames, w->minor >= 14 ? code & ~1ULL : code);
			decode_iframe(w, f);
			frames++;
		}
		if (!rd_field(w, f, HS_F_IF_PREVIOUS, &f))
			break;
	}
	w->root_frame = HS_NO_OBJECT;
	return frames;
}

static void walk_exc_chain(struct walk *w, uint64_t ts)
{
	uint64_t item = 0;

	rd_field(w, ts, HS_F_TS_EXC_INFO, &item);
	for (int n = 0; item && n < MAX_EXC_CHAIN; n++) {
		root_field(w, item, HS_F_EXC_TYPE);
		root_field(w, item, HS_F_EXC_VALUE);
		root_field(w, item, HS_F_EXC_TRACEBACK);
		if (!rd_field(w, item, HS_F_EXC_PREVIOUS, &item))
			break;
	}
}

static int add_thread(struct walk *w, uint64_t ts)
{
	struct hs_graph *g = w->g;
	struct hs_thread *grown = realloc(g->threads, (g->thread_count + 1) * sizeof(*grown));

	if (!grown)
		return hs_error(HS_ENOMEM, "recording threads");
	g->threads = grown;
	memset(&g->threads[g->thread_count], 0, sizeof(*grown));
	rd_field(w, ts, HS_F_TS_THREAD_ID, &g->threads[g->thread_count].thread_id);
	rd_field(w, ts, HS_F_TS_NATIVE_ID, &g->threads[g->thread_count].native_id);
	g->thread_count++;
	return 0;
}

static void walk_threads(struct walk *w, uint64_t interp)
{
	static const enum hs_field fields[] = {
		HS_F_TS_DICT, HS_F_TS_ASYNC_EXC, HS_F_TS_CONTEXT, HS_F_TS_CUREXC_TYPE,
		HS_F_TS_CUREXC_VALUE, HS_F_TS_CUREXC_TB, HS_F_TS_CURRENT_EXC,
		HS_F_TS_ASYNC_GEN_FIRSTITER, HS_F_TS_ASYNC_GEN_FINALIZER,
		HS_F_TS_PROFILEOBJ, HS_F_TS_TRACEOBJ, HS_F_TS_DELETE_LATER,
	};
	uint64_t ts = 0;

	rd_field(w, interp, HS_F_IS_THREADS_HEAD, &ts);
	for (int n = 0; ts && n < MAX_THREADS; n++) {
		if (!view(w, ts, sz(w, HS_S_TSTATE)) || add_thread(w, ts) < 0) {
			w->g->skips.frames++;
			return;
		}
		w->cur_obj = HS_NO_OBJECT;
		w->root_kind = HS_ROOT_THREAD;
		w->root_detail = (uint32_t)(w->g->thread_count - 1);
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			root_field(w, ts, fields[i]);
		walk_exc_chain(w, ts);
		w->g->threads[w->g->thread_count - 1].frames = walk_frames(w, ts);
		if (!rd_field(w, ts, HS_F_TS_NEXT, &ts))
			break;
	}
}

/*
 * subtype_traverse, the tp_traverse of every class made by a class
 * statement (Objects/typeobject.c type_new_alloc): heap types with another
 * traverse are written in C and have fields we must scan.  It is a static
 * function, so stripped or LTO builds (Debian's) have no symbol for it;
 * then take it from a class every interpreter defines in Python.
 */
static void find_subtype_traverse(struct walk *w, uint64_t interp)
{
	uint64_t modules = 0, mod, type = 0, dict = 0, cls, flags = 0, trav = 0;

	w->subtype_traverse = w->py->elf.sym[HS_SYM_SUBTYPE_TRAVERSE];
	if (w->subtype_traverse)
		return;
	if (!rd_field(w, interp, HS_F_IS_MODULES, &modules) || !modules ||
	    !(mod = dict_lookup_str(w, modules, "_frozen_importlib")) ||
	    !rd_field(w, mod, HS_F_OB_TYPE, &type) || type != w->py->elf.sym[HS_SYM_MODULE] ||
	    !rd_field(w, mod, HS_F_MOD_DICT, &dict) || !dict ||
	    !(cls = dict_lookup_str(w, dict, "ModuleSpec")) || !is_type_object(w, cls, 0) ||
	    !rd_field(w, cls, HS_F_TP_FLAGS, &flags) || !(flags & TPF_HEAPTYPE) ||
	    !rd_field(w, cls, HS_F_TP_TRAVERSE, &trav))
		return;
	hs_debug("subtype_traverse: 0x%llx (from _frozen_importlib.ModuleSpec)",
		 (unsigned long long)trav);
	w->subtype_traverse = trav;
}

int walk_roots(struct walk *w)
{
	uint64_t rt = w->py->elf.sym[HS_SYM_RUNTIME], interp = 0;
	int n = 0;

	if (!rd_field(w, rt, HS_F_RT_INTERP_HEAD, &interp) || !interp)
		return hs_error(HS_ENOTPY,
				"no interpreter at _PyRuntime (0x%llx): not initialised yet, or finalising",
				(unsigned long long)rt);
	/* before any type is resolved */
	find_subtype_traverse(w, interp);
	/* 3.8: one GC for the whole runtime */
	if (w->minor < 9)
		walk_gc_state(w, rt + off(w, HS_F_RT_GC));
	for (; interp && n < MAX_INTERPRETERS; n++) {
		if (!view(w, interp, sz(w, HS_S_INTERP) ? 64 : 8)) {
			w->g->skips.bad_pointer++;
			break;
		}
		if (w->minor >= 9)
			walk_gc_state(w, interp + off(w, HS_F_IS_GC));
		if (n == 0 && has(w, HS_F_IS_STATIC_TYPES))
			w->static_types = interp + (uint64_t)off(w, HS_F_IS_STATIC_TYPES);
		walk_interp_roots(w, interp);
		walk_threads(w, interp);
		if (!rd_field(w, interp, HS_F_IS_NEXT, &interp))
			break;
	}
	return w->err;
}
