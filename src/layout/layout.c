#include "heapscope/layout.h"

#include "heapscope/error.h"

const struct hs_field_desc hs_field_descs[HS_F_COUNT] = {
#define HS_FIELD_DESC(id, st, mem, sz) [HS_F_##id] = {st, mem, HS_S_##sz},
	HS_LAYOUT_FIELDS(HS_FIELD_DESC)
#undef HS_FIELD_DESC
};

const char *const hs_field_names[HS_F_COUNT] = {
#define HS_FIELD_NAME(id, st, mem, sz) [HS_F_##id] = #id,
	HS_LAYOUT_FIELDS(HS_FIELD_NAME)
#undef HS_FIELD_NAME
};

const char *const hs_size_structs[HS_S_COUNT] = {
#define HS_SIZE_STRUCT(id, st) [HS_S_##id] = st,
	HS_LAYOUT_SIZES(HS_SIZE_STRUCT)
#undef HS_SIZE_STRUCT
};

const char *const hs_size_names[HS_S_COUNT] = {
#define HS_SIZE_NAME(id, st) [HS_S_##id] = #id,
	HS_LAYOUT_SIZES(HS_SIZE_NAME)
#undef HS_SIZE_NAME
};

void hs_layout_init(struct hs_layout *layout)
{
	for (int i = 0; i < HS_F_COUNT; i++) {
		layout->off[i] = HS_ABSENT;
		layout->fsize[i] = 0;
	}
	for (int i = 0; i < HS_S_COUNT; i++)
		layout->size[i] = 0;
	layout->source = HS_SRC_NONE;
	layout->source_detail[0] = '\0';
}

int hs_layout_validate(const struct hs_layout *layout)
{
	for (int i = 0; i < HS_F_COUNT; i++) {
		int32_t off = layout->off[i];
		uint32_t owner_size = layout->size[hs_field_descs[i].owner];

		if (off == HS_ABSENT)
			continue;
		/* flexible array members may sit exactly at the end */
		if (off < 0 || (owner_size && (uint32_t)off > owner_size) ||
		    (owner_size && (uint64_t)off + layout->fsize[i] > owner_size &&
		     layout->fsize[i] != 0))
			return hs_error(HS_ENOLAYOUT,
					"layout field %s (offset %d, size %u) lies outside its struct (%u bytes)",
					hs_field_names[i], off, layout->fsize[i], owner_size);
	}
	return 0;
}

const char *hs_layout_source_name(enum hs_layout_source source)
{
	switch (source) {
	case HS_SRC_DEBUG_OFFSETS:
		return "debug-offsets";
	case HS_SRC_DWARF:
		return "dwarf";
	case HS_SRC_TABLE:
		return "table";
	default:
		return "none";
	}
}
