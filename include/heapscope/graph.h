/*
 * The captured object graph: what the analyses read.
 *
 * Objects are numbered 0..count-1 in discovery order (GC lists first, then
 * roots, then breadth-first).  Edges are stored per object, contiguously
 * (compressed sparse rows): the out-edges of object i are
 * edges[edge_start[i] .. edge_start[i+1]).  Types are numbered too; every
 * object has one.  The graph owns all its memory; nothing in it points
 * into target memory or into a memory source.
 */
#ifndef HEAPSCOPE_GRAPH_H
#define HEAPSCOPE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "heapscope/addrmap.h"

#define HS_NO_OBJECT UINT32_MAX
#define HS_REFCNT_MAX UINT32_MAX
#define HS_MAX_NAMES 65536

/* The generation an object was found in. */
enum hs_gen {
	HS_GEN_0 = 0,
	HS_GEN_1 = 1,
	HS_GEN_2 = 2,
	HS_GEN_PERMANENT = 3,
	HS_GEN_UNTRACKED = 4, /* reached only through references */
};

/* What an edge's label means; the value's meaning depends on the kind. */
enum hs_edge_kind {
	HS_EDGE_FIELD = 0,   /* value: enum hs_field_label */
	HS_EDGE_INDEX,       /* value: list/tuple index */
	HS_EDGE_KEY,         /* edge to a dict key; value: entry index */
	HS_EDGE_VALUE,       /* dict value; value: object index of its key */
	HS_EDGE_ATTR,        /* attribute; value: object index of its name */
	HS_EDGE_SLOT,        /* __slots__ member; value: name id (hs_graph_name) */
	HS_EDGE_SET_ITEM,    /* set/frozenset member */
	HS_EDGE_LOCAL,       /* frame local/cell/free; value: object index of its name */
	HS_EDGE_CONSERVATIVE,/* a word in an undecoded body; value: its byte offset */
	HS_EDGE_TYPE,        /* ob_type of an instance of a heap type */
	HS_EDGE_STACK,       /* frame value-stack slot or unnamed local; value: index */
};

struct hs_edge {
	uint32_t dst;
	uint32_t label; /* kind << 28 | value (28 bits) */
};

#define HS_EDGE_LABEL(kind, value) (((uint32_t)(kind) << 28) | ((uint32_t)(value) & 0x0fffffffu))
#define HS_EDGE_KIND(label) ((enum hs_edge_kind)((label) >> 28))
#define HS_EDGE_VALUE(label) ((label) & 0x0fffffffu)
/* The value of a label whose name or object is unknown. */
#define HS_LABEL_NONE 0x0fffffffu

/* An object index as a label value (objects past 2^28 have no name). */
static inline uint32_t hs_label_obj(uint32_t obj)
{
	return obj < HS_LABEL_NONE ? obj : HS_LABEL_NONE;
}

struct hs_type {
	uint64_t addr;
	char *name;      /* the Kind: "str", "app.models.User" */
	char *module;    /* "builtins", "app.models" */
	uint8_t flags;   /* HS_TYPE_* */
};

#define HS_TYPE_FINALIZER 1u /* instances have __del__ (tp_finalize or tp_del) */

enum hs_root_kind {
	HS_ROOT_GC_LIST,  /* found in a GC generation list */
	HS_ROOT_INTERP,   /* an interpreter field (sys.modules, builtins...) */
	HS_ROOT_THREAD,   /* a thread state field or a frame of a thread */
};

/*
 * A reference that does not come from an object: from the interpreter,
 * a thread state, or a frame of a thread.  `label` names it like an edge
 * (HS_EDGE_FIELD with the interpreter/thread/frame field, HS_EDGE_LOCAL or
 * HS_EDGE_STACK for a frame slot).  On 3.11+ frames are not objects, so
 * the locals of a frame are roots with `frame` set; on older versions the
 * frame object itself is the root.
 */
struct hs_root {
	uint32_t obj;
	uint8_t kind;    /* enum hs_root_kind */
	uint32_t detail; /* thread index for HS_ROOT_THREAD */
	uint32_t frame;  /* index into frames, or HS_NO_OBJECT */
	uint32_t label;  /* HS_EDGE_LABEL */
};

struct hs_thread {
	uint64_t thread_id;   /* threading.get_ident() */
	uint64_t native_id;   /* kernel TID, 0 if unknown */
	uint32_t frames;      /* Python frames on its stack */
	char *name;           /* threading.Thread name, NULL if unknown */
};

/* A Python frame of a thread, innermost first (depth 0). */
struct hs_frame {
	uint32_t thread;      /* index into threads */
	uint32_t depth;
	uint32_t code;        /* object index of its code object, or HS_NO_OBJECT */
};

/* Short text of an object used in labels: its Python repr ('name' with
 * the quotes for a str, 42, b'k', (1, 'a')...), cut after 40 characters. */
struct hs_text {
	uint32_t obj;
	uint32_t offset;      /* into text_pool, NUL-terminated */
};

/* What the walk skipped and why (reported, never hidden). */
#define HS_SKIP_REASONS(R)                                                \
	R(bad_pointer, "pointers outside the captured memory")            \
	R(bad_type, "objects whose type is not a valid type object")      \
	R(bad_object, "objects with inconsistent contents")               \
	R(gc_list, "broken GC list links")                                \
	R(frames, "unreadable frames")                                    \
	R(limits, "items beyond a safety limit")

struct hs_skips {
#define HS_SKIP_FIELD(name, text) uint64_t name;
	HS_SKIP_REASONS(HS_SKIP_FIELD)
#undef HS_SKIP_FIELD
};

struct hs_graph {
	size_t count, cap;
	uint64_t *addr;
	uint64_t *size;     /* sys.getsizeof */
	uint32_t *type;     /* index into types */
	uint8_t *gen;       /* enum hs_gen */
	uint32_t *refcnt;   /* ob_refcnt, saturated at HS_REFCNT_MAX (immortal) */

	uint64_t *edge_start; /* count + 1 entries once finished */
	struct hs_edge *edges;
	size_t edge_count, edge_cap;

	struct hs_type *types;
	size_t type_count, type_cap;

	struct hs_root *roots;
	size_t root_count, root_cap;

	struct hs_thread *threads;
	size_t thread_count;

	struct hs_frame *frames;
	size_t frame_count, frame_cap;

	/* texts of label objects, sorted by obj once the walk is done */
	struct hs_text *texts;
	size_t text_count, text_cap;
	/* names that are not objects (slot names), by id */
	uint32_t *name_offsets;
	size_t name_count, name_cap;
	char *text_pool;
	size_t pool_len, pool_cap;

	struct hs_addrmap index; /* object address -> object number */
	struct hs_skips skips;
	int gc_collecting;   /* a collection was running when we looked */
	uint64_t gc_counts[4]; /* objects found per generation list */
};

void hs_graph_init(struct hs_graph *g);
void hs_graph_release(struct hs_graph *g);

/* Append an object; returns its number or HS_NO_OBJECT on OOM. */
uint32_t hs_graph_add_object(struct hs_graph *g, uint64_t addr, uint32_t type,
			     uint64_t size, uint8_t gen, uint64_t refcnt);
/* Object number of an address, or HS_NO_OBJECT. */
uint32_t hs_graph_find(const struct hs_graph *g, uint64_t addr);
/* Append a type (takes ownership of name and module). */
uint32_t hs_graph_add_type(struct hs_graph *g, uint64_t addr, char *name,
			   char *module);
int hs_graph_add_edge(struct hs_graph *g, uint32_t dst, uint32_t label);
/* Close the out-edge list of object `obj` (objects are closed in order). */
int hs_graph_close_edges(struct hs_graph *g, uint32_t obj);
int hs_graph_add_root(struct hs_graph *g, const struct hs_root *root);
/* Append a frame; returns its index or HS_NO_OBJECT on OOM. */
uint32_t hs_graph_add_frame(struct hs_graph *g, uint32_t thread, uint32_t depth,
			    uint32_t code);

/* The object the interpreter root labelled `label` refers to (e.g. the
 * FIELD label of sys.modules), or HS_NO_OBJECT. */
uint32_t hs_graph_interp_root(const struct hs_graph *g, uint32_t label);

/* Out-edges of an object. */
static inline const struct hs_edge *hs_graph_edges(const struct hs_graph *g, uint32_t obj,
						   const struct hs_edge **end)
{
	*end = g->edges + g->edge_start[obj + 1];
	return g->edges + g->edge_start[obj];
}

/* Texts: set while walking (any order), then hs_graph_sort_texts() once. */
int hs_graph_add_text(struct hs_graph *g, uint32_t obj, const char *text);
void hs_graph_sort_texts(struct hs_graph *g);
/* Text of an object, or NULL. */
const char *hs_graph_text(const struct hs_graph *g, uint32_t obj);
/* Intern a name that is not an object; returns its id or HS_NO_OBJECT. */
uint32_t hs_graph_add_name(struct hs_graph *g, const char *name);
const char *hs_graph_name(const struct hs_graph *g, uint32_t id);

uint64_t hs_skips_total(const struct hs_skips *s);

#endif
