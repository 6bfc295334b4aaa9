#include "heapscope/resolve.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "heapscope/debugfile.h"
#include "heapscope/dwarf.h"
#include "heapscope/error.h"
#include "heapscope/target.h"

/* Fields without which no walk is possible, in every supported version. */
static const enum hs_field essential[] = {
	HS_F_RT_INTERP_HEAD, HS_F_IS_NEXT, HS_F_IS_THREADS_HEAD,
	HS_F_GCS_GENERATIONS, HS_F_GCS_PERMANENT, HS_F_GCS_COLLECTING,
	HS_F_GEN_HEAD, HS_F_TS_NEXT, HS_F_OB_TYPE, HS_F_TP_NAME,
	HS_F_TP_BASICSIZE, HS_F_TP_ITEMSIZE, HS_F_TP_FLAGS, HS_F_TP_BASE,
	HS_F_TP_DICTOFFSET, HS_F_TP_MRO, HS_F_VAR_SIZE, HS_F_TUPLE_ITEMS,
	HS_F_LIST_ITEMS, HS_F_LIST_ALLOCATED, HS_F_DICT_KEYS,
	HS_F_DICT_VALUES, HS_F_DK_NENTRIES, HS_F_DK_INDICES,
	HS_F_SET_MASK, HS_F_SET_TABLE, HS_F_STR_STATE, HS_F_STR_LENGTH,
	HS_F_HT_QUALNAME, HS_F_LONG_DIGITS,
};

static int check_essential(const struct hs_python *py)
{
	const struct hs_layout *l = &py->layout;

	for (size_t i = 0; i < sizeof(essential) / sizeof(essential[0]); i++)
		if (!hs_has(l, essential[i]))
			return hs_error(HS_ENOLAYOUT, "layout of Python %s from %s lacks %s",
					py->elf.version, hs_layout_source_name(l->source),
					hs_field_names[essential[i]]);
	if (py->elf.minor < 9 && !hs_has(l, HS_F_RT_GC))
		return hs_error(HS_ENOLAYOUT, "layout lacks RT_GC");
	if (py->elf.minor >= 9 && !hs_has(l, HS_F_IS_GC))
		return hs_error(HS_ENOLAYOUT, "layout lacks IS_GC");
	if (!l->size[HS_S_GC_HEAD] || !l->size[HS_S_GC_GENERATION] || !l->size[HS_S_TYPE] ||
	    !l->size[HS_S_HEAPTYPE])
		return hs_error(HS_ENOLAYOUT, "layout lacks struct sizes");
	return hs_layout_validate(l);
}

/* DWARF of the binary itself, else of its separate debug file. */
static int load_dwarf(int pid, struct hs_python *py, struct hs_layout *out)
{
	char where[PATH_MAX + 64];
	int fd = hs_pyelf_open(pid, &py->elf), err;

	if (fd < 0)
		return hs_error(HS_ENOLAYOUT, "cannot open %s", py->elf.path);
	hs_layout_init(out);
	err = hs_dwarf_load_layout(fd, py->elf.path, out);
	close(fd);
	if (err != HS_ENOLAYOUT)
		return err;
	fd = hs_debugfile_open(pid, &py->elf, where, sizeof(where));
	if (fd < 0)
		return fd;
	err = hs_dwarf_load_layout(fd, where, out);
	close(fd);
	return err;
}

int hs_python_resolve(int pid, const struct hs_maps *maps,
		      enum hs_layout_source force, struct hs_python *out)
{
	double t0 = hs_now_ms();
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = hs_pyelf_find(pid, maps, &out->elf)) < 0)
		return err;
	if (!out->elf.hexversion)
		return hs_error(HS_EVERSION, "cannot tell the Python version of %s",
				out->elf.path);
	if (out->elf.major != 3 || out->elf.minor < HS_MIN_MINOR ||
	    out->elf.minor > HS_MAX_MINOR)
		return hs_error(HS_EVERSION,
				"Python %s (%s) is not supported; heapscope supports 3.%d to 3.%d",
				out->elf.version, out->elf.path, HS_MIN_MINOR, HS_MAX_MINOR);

	if (force != HS_SRC_NONE && force != HS_SRC_DWARF)
		return hs_error(HS_ENOLAYOUT, "layout source %s is not available yet",
				hs_layout_source_name(force));
	err = load_dwarf(pid, out, &out->layout);
	if (err == HS_ENOLAYOUT)
		return hs_error(HS_ENOLAYOUT,
				"%s has no debug info (DWARF) for Python %s; install the "
				"interpreter's debug symbols", out->elf.path, out->elf.version);
	if (err < 0)
		return err;
	if ((err = check_essential(out)) < 0)
		return err;
	out->resolve_ms = hs_now_ms() - t0;
	return 0;
}
