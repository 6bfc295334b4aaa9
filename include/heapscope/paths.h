/*
 * Shortest reference paths from the roots to every object: one
 * breadth-first search over the whole graph, recording for each object the
 * object it was reached from and the edge taken.  Reads only the graph.
 *
 * Where a path starts (its origin), in the order the search tries them:
 *  1. the named roots: every entry of sys.modules (a module, written by its
 *     name), the frames of every thread, the interpreter's own references
 *     (sys.modules itself, builtins...) and thread states;
 *  2. objects nothing we saw refers to, known only from the GC lists
 *     ("<gc-only>");
 *  3. objects whose refcount exceeds the references we saw, so something
 *     we cannot see (C code) holds them ("<external>");
 *  4. the rest: what only unreachable objects refer to, i.e. what the next
 *     full collection would free ("<garbage>").
 * Ties between paths of one length go to the origin tried first.
 */
#ifndef HEAPSCOPE_PATHS_H
#define HEAPSCOPE_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heapscope/graph.h"
#include "heapscope/referrers.h"

enum hs_origin_kind {
	HS_ORIGIN_MODULE,   /* sys.modules[key] */
	HS_ORIGIN_FRAME,    /* a frame of a thread (its object, or a slot of it) */
	HS_ORIGIN_INTERP,   /* an interpreter field */
	HS_ORIGIN_THREAD,   /* a thread state field */
	HS_ORIGIN_GC_ONLY,
	HS_ORIGIN_EXTERNAL,
	HS_ORIGIN_GARBAGE,
};

struct hs_origin {
	uint8_t kind;        /* enum hs_origin_kind */
	uint32_t root;       /* index into graph roots (FRAME, INTERP, THREAD) */
	uint32_t key;        /* MODULE: object index of its sys.modules key */
	uint32_t obj;        /* the object the path starts at */
};

struct hs_paths {
	size_t count;             /* objects */
	uint32_t *parent;         /* object reached from; HS_NO_OBJECT at an origin */
	uint32_t *via;            /* label of the edge from parent, or (at an
				   * origin) the root's label, HS_LABEL_NONE if none */
	uint32_t *origin;         /* index into origins */
	uint32_t *depth;          /* hops from the origin */
	uint32_t *order;          /* objects in the order they were reached */
	struct hs_origin *origins;
	size_t origin_count;
};

int hs_paths_build(const struct hs_graph *g, const struct hs_referrers *r,
		   struct hs_paths *out);
void hs_paths_release(struct hs_paths *p);

/* Whether the path of obj starts at a named root. */
static inline bool hs_paths_from_root(const struct hs_paths *p, uint32_t obj)
{
	return p->origins[p->origin[obj]].kind <= HS_ORIGIN_THREAD;
}

/* Whether the next full collection would leave obj alone. */
static inline bool hs_paths_alive(const struct hs_paths *p, uint32_t obj)
{
	return p->origins[p->origin[obj]].kind != HS_ORIGIN_GARBAGE;
}

/* Whether a root's object is a slot of a frame that is not an object
 * (3.11+): the frame counts as a hop, the root's label names the slot. */
bool hs_root_in_frame(const struct hs_root *root);

const char *hs_origin_kind_name(enum hs_origin_kind kind);

#endif
