/* Unit test of the layout table: init and validation. */
#include "heapscope/error.h"
#include "heapscope/layout.h"

#include <string.h>

#include "tap.h"

/* A small consistent layout: PyObject and PyTypeObject of a 64-bit 3.12. */
static void fill(struct hs_layout *l)
{
	hs_layout_init(l);
	l->size[HS_S_OBJECT] = 16;
	l->off[HS_F_OB_REFCNT] = 0;
	l->fsize[HS_F_OB_REFCNT] = 8;
	l->off[HS_F_OB_TYPE] = 8;
	l->fsize[HS_F_OB_TYPE] = 8;
	l->size[HS_S_TYPE] = 416;
	l->off[HS_F_TP_NAME] = 24;
	l->fsize[HS_F_TP_NAME] = 8;
	l->off[HS_F_TP_BASICSIZE] = 32;
	l->fsize[HS_F_TP_BASICSIZE] = 8;
	l->size[HS_S_TUPLE] = 32;
	l->off[HS_F_TUPLE_ITEMS] = 24; /* flexible array: size unknown */
	/* struct size unknown: any offset is accepted */
	l->off[HS_F_IS_GC] = 100000;
	l->source = HS_SRC_TABLE;
}

int main(void)
{
	struct hs_layout l;
	int all_absent = 1, all_zero = 1, err;

	memset(&l, 0x5a, sizeof(l));
	hs_layout_init(&l);
	for (int i = 0; i < HS_F_COUNT; i++) {
		all_absent &= l.off[i] == HS_ABSENT && !hs_has(&l, (enum hs_field)i);
		all_zero &= l.fsize[i] == 0;
	}
	for (int i = 0; i < HS_S_COUNT; i++)
		all_zero &= l.size[i] == 0;
	ok(all_absent, "init: every field absent");
	ok(all_zero, "init: every field size and struct size 0");
	ok(l.source == HS_SRC_NONE && l.source_detail[0] == '\0', "init: no source");
	ok(hs_layout_validate(&l) == 0, "an all-absent layout is valid");

	fill(&l);
	err = hs_layout_validate(&l);
	ok(err == 0, "consistent layout accepted (%d: %s)", err, err ? hs_errmsg() : "");
	ok(hs_has(&l, HS_F_OB_TYPE) && !hs_has(&l, HS_F_TP_DICT), "hs_has");

	/* a field at exactly the end with size 0 (flexible array member) is fine */
	l.off[HS_F_TUPLE_ITEMS] = 32;
	ok(hs_layout_validate(&l) == 0, "zero-size field at the struct end accepted");

	/* offset past the struct */
	fill(&l);
	l.off[HS_F_TP_BASICSIZE] = 420;
	err = hs_layout_validate(&l);
	ok(err == HS_ENOLAYOUT, "offset beyond struct size -> HS_ENOLAYOUT (got %d)", err);
	ok(strstr(hs_errmsg(), "TP_BASICSIZE") != NULL, "message names the field: '%s'",
	   hs_errmsg());

	/* offset inside, but the member runs past the end */
	fill(&l);
	l.off[HS_F_OB_TYPE] = 12;
	err = hs_layout_validate(&l);
	ok(err == HS_ENOLAYOUT && strstr(hs_errmsg(), "OB_TYPE") != NULL,
	   "member overrunning its struct -> HS_ENOLAYOUT naming it: '%s'", hs_errmsg());

	/* a sized member exactly filling the tail is fine */
	fill(&l);
	l.off[HS_F_OB_TYPE] = 8;
	l.fsize[HS_F_OB_TYPE] = 8;
	ok(hs_layout_validate(&l) == 0, "member ending exactly at the struct end accepted");

	/* negative offsets other than HS_ABSENT */
	fill(&l);
	l.off[HS_F_TP_NAME] = -8;
	err = hs_layout_validate(&l);
	ok(err == HS_ENOLAYOUT && strstr(hs_errmsg(), "TP_NAME") != NULL,
	   "negative offset -> HS_ENOLAYOUT naming it: '%s'", hs_errmsg());

	/* ... even when the struct size is unknown */
	fill(&l);
	l.off[HS_F_IS_GC] = -4;
	err = hs_layout_validate(&l);
	ok(err == HS_ENOLAYOUT && strstr(hs_errmsg(), "IS_GC") != NULL,
	   "negative offset in a struct of unknown size -> HS_ENOLAYOUT: '%s'", hs_errmsg());

	/* names and owners in the tables line up with the X-macro */
	ok(strcmp(hs_field_names[HS_F_TP_NAME], "TP_NAME") == 0 &&
	   hs_field_descs[HS_F_TP_NAME].owner == HS_S_TYPE &&
	   strcmp(hs_field_descs[HS_F_TP_NAME].members, "tp_name") == 0 &&
	   strcmp(hs_size_names[HS_S_TYPE], "TYPE") == 0, "descriptor tables");
	ok(strcmp(hs_layout_source_name(HS_SRC_DWARF), "dwarf") == 0 &&
	   strcmp(hs_layout_source_name(HS_SRC_NONE), "none") == 0, "source names");
	return done();
}
