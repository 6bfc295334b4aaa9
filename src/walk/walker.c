#include "heapscope/walk.h"

#include <string.h>

#include "heapscope/error.h"
#include "walk-internal.h"

static void walk_init(struct walk *w, struct hs_memsrc *mem, const struct hs_python *py,
		      struct hs_graph *g)
{
	*w = (struct walk){
		.mem = mem,
		.py = py,
		.L = &py->layout,
		.minor = py->elf.minor,
		.g = g,
		.cur_obj = HS_NO_OBJECT,
		.root_frame = HS_NO_OBJECT,
	};
	hs_addrmap_init(&w->tcache);
}

int hs_walk(struct hs_memsrc *mem, const struct hs_python *py,
	    const struct hs_walk_opts *opts, struct hs_graph *out)
{
	struct walk w;
	int err;

	walk_init(&w, mem, py, out);
	w.max_objects = opts ? opts->max_objects : 0;
	err = walk_roots(&w);
	/* breadth-first: the object array is the queue */
	for (size_t i = 0; !err && i < out->count; i++) {
		decode_object(&w, (uint32_t)i);
		hs_graph_close_edges(out, (uint32_t)i);
		err = w.err;
	}
	if (!err)
		err = label_graph(&w);
	tinfos_release(&w);
	return err;
}

bool hs_walk_object_text(struct hs_memsrc *mem, const struct hs_python *py,
			 struct hs_graph *g, uint32_t obj, char *buf, size_t max)
{
	struct walk w;
	bool ok;

	walk_init(&w, mem, py, g);
	ok = max > 0 && object_text(&w, obj, buf, max, 0);
	tinfos_release(&w);
	return ok;
}
