/*
 * Reference cycles: the strongly connected components of the object graph
 * (out-edges only) that hold a cycle, grouped by shape.  Reads only the
 * graph.
 *
 * A cycle is a component of two or more objects, or one object with an
 * edge to itself.  The reference of an instance to its class
 * (HS_EDGE_TYPE) is not followed: it would put every object a module
 * reaches into the modules' one big component.  The shape of a component is the multiset of the kinds
 * (type names) of its objects: two types with one name are one kind, as in
 * the summary.  Components are numbered in the order of their
 * lowest-numbered object, so "the first component" of a group is the one
 * holding the lowest object.
 *
 * Cost: time linear in objects + edges (plus sorting the groups and, per
 * component, its few distinct kinds); the search is iterative, so the
 * depth of the heap never touches the C stack.  Memory while it runs:
 * three 4-byte words per object (and a bit), four while the examples are
 * found, plus the examples themselves (8 bytes a hop).
 */
#ifndef HEAPSCOPE_CYCLES_H
#define HEAPSCOPE_CYCLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heapscope/graph.h"

/* One step of a closed walk: an object and the label of its edge to the
 * next step (the last step's edge leads back to the first object). */
struct hs_cycle_hop {
	uint32_t obj;
	uint32_t label; /* HS_EDGE_LABEL */
};

struct hs_cycle_kind {
	uint32_t type;  /* the lowest type index with this name */
	uint64_t count; /* objects of this kind in ONE component of the group
			 * (the shape); times components for the group's total */
};

struct hs_cycle_group {
	struct hs_cycle_kind *kinds; /* by count desc, then name */
	size_t kind_count;
	uint64_t components;         /* components of this shape */
	uint64_t objects;            /* objects in them */
	uint64_t size;               /* their total size (sys.getsizeof) */
	bool finalizer;              /* some object's class (or a base) has __del__ */
	/* the example: the group's first component, and a shortest cycle
	 * through its lowest object, starting and ending there (length 1 for
	 * an object referring to itself) */
	uint32_t example_component;
	uint64_t example_objects;    /* objects in that component */
	struct hs_cycle_hop *example;
	size_t example_len;
};

struct hs_cycles {
	/* by size desc, then components desc, then the kinds (name, then
	 * count desc) in order, fewer kinds first */
	struct hs_cycle_group *groups;
	size_t count;
	uint64_t components, objects, size; /* over all groups */

	/* every component, cyclic or not; only with opts->keep_components */
	uint32_t *component;      /* per object: its component number */
	uint32_t *component_size; /* per component: its objects */
	size_t component_count;
};

struct hs_cycles_opts {
	const uint8_t *alive; /* per object, nonzero if reachable from a root; may be NULL */
	bool garbage_only;    /* keep only components without an alive object (needs alive) */
	bool keep_components; /* fill component and component_size */
};

/* opts may be NULL (no filter, no component arrays). */
int hs_cycles_find(const struct hs_graph *g, const struct hs_cycles_opts *opts,
		   struct hs_cycles *out);
void hs_cycles_release(struct hs_cycles *c);

/* Whether an object lies on a cycle (needs keep_components): its
 * component has several objects, or it refers to itself. */
bool hs_cycles_on_cycle(const struct hs_graph *g, const struct hs_cycles *c, uint32_t obj);

#endif
