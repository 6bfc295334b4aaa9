/*
 * Paths written as Python a person could type: "app.registry.REGISTRY
 * ['sessions'][3]", "<thread 4242 "worker-2"> frame handle() local 'sess'".
 * Reads only the graph and the paths.
 */
#ifndef HEAPSCOPE_PATHTEXT_H
#define HEAPSCOPE_PATHTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heapscope/graph.h"
#include "heapscope/paths.h"

/* A growable string; on OOM it stops growing and sets oom. */
struct hs_strbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void hs_strbuf_addf(struct hs_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hs_strbuf_add(struct hs_strbuf *b, const char *s, size_t n);
void hs_strbuf_reset(struct hs_strbuf *b);
void hs_strbuf_release(struct hs_strbuf *b);
/* The text so far ("" if empty). */
const char *hs_strbuf_str(const struct hs_strbuf *b);

/* One step of a path: the edge's label; `wild` when the key or index
 * varies among the objects of a path shape ("[*]"). */
struct hs_hop {
	uint32_t label;
	bool wild;
};

/* An edge on its own, as written after its referrer: ".name", "['key']",
 * "[3]", ".__dict__", " local 'x'", " <conservative +0x18>". */
void hs_edge_text(const struct hs_graph *g, struct hs_hop hop, struct hs_strbuf *out);

/* Where a path starts: "app.registry", "sys.modules", "<thread 4242
 * "worker-2"> frame handle()", "<garbage app.Node>". */
void hs_origin_text(const struct hs_graph *g, const struct hs_paths *p, uint32_t origin,
		    struct hs_strbuf *out);
/* A root (index into the graph's roots) in the same words; `with_slot`
 * adds a frame slot's name (" local 'x'"). */
void hs_root_text(const struct hs_graph *g, uint32_t root, bool with_slot, struct hs_strbuf *out);
/* The name of the function a frame runs, "" if unknown. */
const char *hs_frame_function(const struct hs_graph *g, uint32_t frame, char *buf, size_t max);

/* A path: origin then hops.  ".__dict__" followed by an identifier key
 * is written ".key"; a run of 4 or more equal steps "(.next)*K". */
void hs_path_text(const struct hs_graph *g, const struct hs_paths *p, uint32_t origin,
		  const struct hs_hop *hops, size_t n, struct hs_strbuf *out);

/* The hops alone, written as they follow an object. */
void hs_hops_text(const struct hs_graph *g, const struct hs_hop *hops, size_t n,
		  struct hs_strbuf *out);

/* The path of obj: its hops (the caller frees *hops) and the objects
 * along it (*objs, the caller frees it; objs[0] is the origin's object,
 * objs[n_objs - 1] is obj).  A frame slot root's first hop leads from the
 * frame, which is not an object, to objs[0]. */
int hs_path_of(const struct hs_paths *p, uint32_t obj, struct hs_hop **hops, size_t *n_hops,
	       uint32_t **objs, size_t *n_objs);

/* Whether an edge leads to an object's, a module's or a function's
 * __dict__ (whose identifier keys are then written as attributes). */
bool hs_edge_leads_to_dict(uint32_t label);

/* Whether a text is a quoted identifier: 'name' */
bool hs_text_is_identifier(const char *text);

#endif
