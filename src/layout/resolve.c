#include "heapscope/resolve.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapscope/codecheck.h"
#include "heapscope/debug_offsets.h"
#include "heapscope/debugfile.h"
#include "heapscope/dwarf.h"
#include "heapscope/error.h"
#include "heapscope/gccheck.h"
#include "heapscope/table.h"
#include "heapscope/target.h"
#include "heapscope/typecheck.h"

/* _Py_DebugOffsets is 584 bytes in 3.13 and 760 in 3.14: room to grow */
#define DEBUG_OFFSETS_READ 4096
#define TABLE_FILE_MAX (1 << 20)

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
static int load_dwarf(const struct hs_files *files, struct hs_python *py,
		      struct hs_layout *out)
{
	char where[PATH_MAX + 64];
	int fd = hs_pyelf_open(files, &py->elf), err;

	if (fd < 0)
		return hs_error(HS_ENOLAYOUT, "cannot open %s", py->elf.path);
	hs_layout_init(out);
	err = hs_dwarf_load_layout(fd, py->elf.path, out);
	close(fd);
	if (err != HS_ENOLAYOUT)
		return err;
	fd = hs_debugfile_open(files, &py->elf, where, sizeof(where));
	if (fd < 0)
		return hs_error(HS_ENOLAYOUT, "%s has no DWARF and no debug file was found",
				py->elf.path);
	err = hs_dwarf_load_layout(fd, where, out);
	close(fd);
	return err;
}

/* _Py_DebugOffsets from the start of the live _PyRuntime (3.13+). */
static int load_debug_offsets(struct hs_memsrc *mem, struct hs_python *py,
			      struct hs_layout *out)
{
	struct hs_debug_offsets_info info;
	size_t len = DEBUG_OFFSETS_READ;
	unsigned char *buf;
	int err;

	if (py->elf.minor < 13)
		return hs_error(HS_ENOLAYOUT, "Python %s predates _Py_DebugOffsets (3.13)",
				py->elf.version);
	if (py->elf.runtime_size && py->elf.runtime_size < len)
		len = py->elf.runtime_size;
	if (!(buf = malloc(len)))
		return hs_error(HS_ENOMEM, "out of memory");
	err = hs_memsrc_read(mem, py->elf.sym[HS_SYM_RUNTIME], buf, len);
	if (err == 0) {
		hs_layout_init(out);
		err = hs_debug_offsets_parse(buf, len, py->elf.hexversion, out, &info);
	}
	free(buf);
	if (err == 0)
		py->debug_offsets_fields = info.fields_set + info.sizes_set;
	return err;
}

/*
 * Put the _Py_DebugOffsets values over the base layout.  Where the base
 * disagrees: a table is corrected (the binary's own statement wins); DWARF
 * disagreeing with its own binary means a wrong debug file: refuse.
 */
static int overlay_debug_offsets(struct hs_python *py, const struct hs_layout *dbg)
{
	struct hs_layout *l = &py->layout;
	bool may_correct = py->base == HS_SRC_TABLE;

	for (int f = 0; f < HS_F_COUNT; f++) {
		struct hs_check c = {.expected = l->off[f], .derived = dbg->off[f]};

		if (!hs_has(dbg, f))
			continue;
		py->checks.settled_off[f] = true; /* the binary's own statement */
		if (l->off[f] == dbg->off[f]) {
			if (!l->fsize[f])
				l->fsize[f] = dbg->fsize[f];
			continue;
		}
		snprintf(c.source, sizeof(c.source), "_Py_DebugOffsets");
		snprintf(c.what, sizeof(c.what), "%s", hs_field_names[f]);
		c.status = may_correct ? HS_CHECK_CORRECTED : HS_CHECK_MISMATCH;
		hs_checks_add(&py->checks, &c);
		if (!may_correct)
			return hs_error(HS_ENOLAYOUT, "%s says %s is at %d, %s says %d",
					"_Py_DebugOffsets", hs_field_names[f], dbg->off[f],
					hs_layout_source_name(py->base), l->off[f]);
		l->off[f] = dbg->off[f];
		if (dbg->fsize[f])
			l->fsize[f] = dbg->fsize[f];
	}
	for (int s = 0; s < HS_S_COUNT; s++) {
		struct hs_check c = {.expected = l->size[s], .derived = dbg->size[s]};

		if (!dbg->size[s])
			continue;
		py->checks.settled_size[s] = true;
		if (l->size[s] == dbg->size[s])
			continue;
		snprintf(c.source, sizeof(c.source), "_Py_DebugOffsets");
		snprintf(c.what, sizeof(c.what), "sizeof %s", hs_size_names[s]);
		c.status = may_correct ? HS_CHECK_CORRECTED : HS_CHECK_MISMATCH;
		hs_checks_add(&py->checks, &c);
		if (!may_correct)
			return hs_error(HS_ENOLAYOUT, "_Py_DebugOffsets says sizeof %s is %u, %s says %u",
					hs_size_names[s], dbg->size[s],
					hs_layout_source_name(py->base), l->size[s]);
		l->size[s] = dbg->size[s];
	}
	return 0;
}

/* A user's table file: small, text, for this interpreter's minor version. */
static int load_table_file(struct hs_python *py, const char *path, struct hs_table_info *info)
{
	FILE *f = fopen(path, "re");
	char *text = malloc(TABLE_FILE_MAX + 1);
	size_t n = 0;
	int err;

	if (!f || !text) {
		if (f)
			fclose(f);
		free(text);
		return hs_error(f ? HS_ENOMEM : HS_EUSAGE, "cannot read layout table %s", path);
	}
	n = fread(text, 1, TABLE_FILE_MAX + 1, f);
	fclose(f);
	if (n > TABLE_FILE_MAX) {
		free(text);
		return hs_error(HS_EFORMAT, "layout table %s is larger than %d bytes", path,
				TABLE_FILE_MAX);
	}
	text[n] = '\0';
	err = hs_table_parse(text, path, &py->layout, info);
	free(text);
	if (err == 0 && (info->minor != py->elf.minor || py->elf.micro < info->micro_lo ||
			 py->elf.micro > info->micro_hi || info->debug_build != py->debug_build))
		err = hs_error(HS_ENOLAYOUT, "layout table %s is for 3.%d.%d-3.%d.%d (%s), not "
			       "Python %s (%s)", path, info->minor, info->micro_lo, info->minor,
			       info->micro_hi, info->debug_build ? "debug" : "release",
			       py->elf.version, py->debug_build ? "debug" : "release");
	return err;
}

static int load_table(struct hs_python *py, const char *path)
{
	struct hs_table_info info;
	int err = path ? load_table_file(py, path, &info)
		       : hs_table_select(py->elf.minor, py->elf.micro, py->debug_build,
					 &py->layout, &info);

	if (err == 0)
		py->base = HS_SRC_TABLE;
	return err;
}

/* The base layout: DWARF, else a table (unless one of them is forced). */
static int load_base(const struct hs_files *files, struct hs_python *py,
		     enum hs_layout_source force, const char *table_path)
{
	char dwarf_err[256] = "", table_err[256];
	int err;

	if (force == HS_SRC_NONE || force == HS_SRC_DWARF) {
		err = load_dwarf(files, py, &py->layout);
		if (err == 0) {
			py->base = HS_SRC_DWARF;
			return 0;
		}
		if (force == HS_SRC_DWARF || err != HS_ENOLAYOUT)
			return hs_error_prefix(err, "--layout-source=dwarf");
		snprintf(dwarf_err, sizeof(dwarf_err), "%s", hs_errmsg());
	}
	err = load_table(py, table_path);
	if (err == 0 || force != HS_SRC_NONE)
		return err;
	snprintf(table_err, sizeof(table_err), "%s", hs_errmsg());
	return hs_error(HS_ENOLAYOUT, "no layout for Python %s (%s): %s; %s; install its debug "
			"symbols (e.g. the -dbg or -dbgsym package)", py->elf.version,
			py->elf.path, dwarf_err, table_err);
}

static int run_checks(struct hs_memsrc *mem, struct hs_python *py)
{
	bool may_correct = py->base == HS_SRC_TABLE;
	int err;

	if ((err = hs_typecheck_run(mem, &py->elf, &py->layout, may_correct, &py->checks)) < 0 ||
	    (err = hs_codecheck_run(mem, &py->elf, &py->layout, may_correct, &py->checks)) < 0 ||
	    (err = hs_gccheck_run(mem, &py->elf, &py->layout, may_correct, &py->checks)) < 0)
		return hs_error_prefix(err, "the %s layout disagrees with %s",
				       py->base == HS_SRC_TABLE ? "shipped" : "DWARF", py->elf.path);
	return 0;
}

/* Name the sources in source_detail, which holds the base's own detail
 * (the DWARF file, or "table NAME"). */
static void describe_source(struct hs_python *py)
{
	struct hs_layout *l = &py->layout;
	char base[sizeof(l->source_detail)];

	snprintf(base, sizeof(base), "%s%.200s", py->base == HS_SRC_DWARF ? "DWARF of " : "",
		 l->source_detail);
	l->source = py->debug_offsets_fields ? HS_SRC_DEBUG_OFFSETS : py->base;
	if (py->debug_offsets_fields)
		snprintf(l->source_detail, sizeof(l->source_detail),
			 "_Py_DebugOffsets for %u fields, %.200s for the others",
			 py->debug_offsets_fields, base);
	else
		snprintf(l->source_detail, sizeof(l->source_detail), "%s", base);
}

/* python3.13t, libpython3.14t.so.1.0: the ABI tag of a free-threaded build
 * (a fallback for when _Py_DebugOffsets cannot be read) */
static bool looks_free_threaded(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *p;

	base = base ? base + 1 : path;
	p = strncmp(base, "libpython3.", 11) == 0 ? base + 11
	    : strncmp(base, "python3.", 8) == 0	 ? base + 8
						 : NULL;
	if (!p || !isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == 't' && (p[1] == '\0' || p[1] == '.');
}

int hs_python_resolve(const struct hs_files *files, const struct hs_maps *maps,
		      struct hs_memsrc *mem, const struct hs_resolve_opts *opts,
		      struct hs_python *out)
{
	enum hs_layout_source force = opts->table_path && opts->force == HS_SRC_NONE
					      ? HS_SRC_TABLE : opts->force;

	if (opts->table_path && force == HS_SRC_DWARF)
		return hs_error(HS_EUSAGE, "--layout-table and --layout-source=dwarf exclude each other");
	double t0 = hs_now_ms();
	struct hs_layout *dbg = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = hs_pyelf_find(files, maps, &out->elf)) < 0 ||
	    (err = hs_pyelf_verify(files, &out->elf, mem)) < 0)
		return err;
	if (!out->elf.hexversion)
		return hs_error(HS_EVERSION, "cannot tell the Python version of %s",
				out->elf.path);
	if (out->elf.major != 3 || out->elf.minor < HS_MIN_MINOR ||
	    out->elf.minor > HS_MAX_MINOR)
		return hs_error(HS_EVERSION,
				"Python %s (%s) is not supported; heapscope supports 3.%d to 3.%d",
				out->elf.version, out->elf.path, HS_MIN_MINOR, HS_MAX_MINOR);
	out->debug_build = out->elf.sym[HS_SYM_NEGATIVE_REFCOUNT] != 0;

	/* 1. _Py_DebugOffsets: the binary's own statement, and what tells a
	 * free-threaded build (refused whatever the layout source) */
	if (looks_free_threaded(out->elf.path))
		return hs_error(HS_EVERSION, "%s is a free-threaded build of Python %s, which "
				"is not supported", out->elf.path, out->elf.version);
	if (out->elf.minor >= 13) {
		if (!(dbg = malloc(sizeof(*dbg))))
			return hs_error(HS_ENOMEM, "out of memory");
		err = load_debug_offsets(mem, out, dbg);
		if (err == HS_EVERSION || (err < 0 && force == HS_SRC_DEBUG_OFFSETS))
			goto fail;
		if (err == 0 && (force == HS_SRC_DWARF || force == HS_SRC_TABLE)) {
			snprintf(out->debug_offsets_note, sizeof(out->debug_offsets_note),
				 "--layout-source=%s", hs_layout_source_name(force));
			out->debug_offsets_fields = 0;
			err = -1;
		} else if (err < 0) {
			snprintf(out->debug_offsets_note, sizeof(out->debug_offsets_note), "%s",
				 hs_errmsg());
		}
		if (err < 0) {
			free(dbg);
			dbg = NULL;
		}
	} else if (force == HS_SRC_DEBUG_OFFSETS) {
		return hs_error(HS_ENOLAYOUT, "--layout-source=debug-offsets: Python %s predates "
				"_Py_DebugOffsets (3.13)", out->elf.version);
	}
	/* 2. DWARF or a table for everything else */
	if (force == HS_SRC_DEBUG_OFFSETS) {
		if ((err = load_table(out, opts->table_path)) < 0) {
			err = hs_error_prefix(err, "--layout-source=debug-offsets needs a shipped "
					      "table for the fields _Py_DebugOffsets lacks");
			goto fail;
		}
	} else if ((err = load_base(files, out, force, opts->table_path)) < 0) {
		goto fail;
	}
	/* 3. the binary's statements over the base, then the checks */
	if (dbg && (err = overlay_debug_offsets(out, dbg)) < 0)
		goto fail;
	describe_source(out);
	if ((err = run_checks(mem, out)) < 0 || (err = check_essential(out)) < 0)
		goto fail;
	free(dbg);
	out->resolve_ms = hs_now_ms() - t0;
	return 0;
fail:
	free(dbg);
	return err;
}
