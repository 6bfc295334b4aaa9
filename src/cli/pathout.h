/*
 * Printing paths and chains of objects, shared by referrers, show and
 * cycles: text, JSON and Graphviz.
 */
#ifndef HEAPSCOPE_CLI_PATHOUT_H
#define HEAPSCOPE_CLI_PATHOUT_H

#include <stdio.h>

#include "heapscope/graph.h"
#include "heapscope/json.h"
#include "heapscope/pathtext.h"
#include "heapscope/paths.h"

/* A chain of objects: edges[k] is the label of the edge into objs[k]
 * (HS_LABEL_NONE where there is none, e.g. at the start). */
struct chain {
	uint32_t *objs;
	uint32_t *edges;
	size_t len;
};

/* One path to print: a shape (hops, some wild) with its count, an origin
 * and a concrete example chain. */
struct path_record {
	uint32_t origin;          /* index into paths->origins */
	struct hs_hop *shape;
	size_t shape_len;
	uint64_t count;
	struct chain example;
};

void path_record_release(struct path_record *r);
/* The path of obj as found by the search (count 1, shape = its hops). */
int path_record_of(const struct hs_paths *p, uint32_t obj, struct path_record *out);

/* Group `members` by path shape (shapes.h) and make records of the `max`
 * most common shapes: count, shape with [*] where keys vary, and the
 * example chain.  *total: the number of distinct shapes. */
int path_records_by_shape(const struct hs_graph *g, const struct hs_paths *p,
			  const uint32_t *members, size_t n, size_t max,
			  struct path_record **out, size_t *count, size_t *total);
void path_records_free(struct path_record *records, size_t count);
/* A record's path as Python: its shape, or with `concrete` the keys and
 * indices of its example. */
void path_record_text(const struct hs_graph *g, const struct hs_paths *p,
		      const struct path_record *r, bool concrete, struct hs_strbuf *out);

/* Two lines of text: count, path (shape, or with `concrete` the
 * example's), origin and hops; then the example chain. */
void print_path_record(FILE *out, const struct hs_graph *g, const struct hs_paths *p,
		       const struct path_record *r, bool concrete);
/* One element of a "paths" array: path (concrete or shape), count, hops,
 * origin, example chain and example_path. */
void path_record_json(struct hs_json *j, const struct hs_graph *g, const struct hs_paths *p,
		      const struct path_record *r, bool concrete);

/* "0x7f.. app.Node" */
void print_object_ref(FILE *out, const struct hs_graph *g, uint32_t obj);
/* Text of the example chain: "module 0x.. -> dict 0x.. ..." (long chains
 * abbreviated in the middle) */
void print_chain_text(FILE *out, const struct hs_graph *g, const struct chain *c);
/* With `from_frame`, the chain starts in a frame that is not an object
 * (a 3.11+ frame slot): a first element {"addr": null, "kind": "frame"}
 * stands for it, so that each later element has the edge into it. */
void chain_json(struct hs_json *j, const char *key, const struct hs_graph *g,
		const struct chain *c, bool from_frame);
/* The "origin" object of the referrers JSON. */
void origin_json(struct hs_json *j, const struct hs_graph *g, const struct hs_paths *p,
		 uint32_t origin);
/* "module hs_refs_registry", "thread 4242 "worker-1"", "garbage"... */
void origin_summary(const struct hs_graph *g, const struct hs_paths *p, uint32_t origin,
		    struct hs_strbuf *out);

/* Graphviz: a chain as nodes and labelled edges (nodes named by object
 * number, so chains sharing objects share nodes); `start` names an extra
 * first node (the origin), or NULL. */
void dot_begin(FILE *out, const char *title);
void dot_chain(FILE *out, const struct hs_graph *g, const struct chain *c, const char *start,
	       int id);
void dot_end(FILE *out);

#endif
