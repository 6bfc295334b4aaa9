#include "heapscope/table.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"

#define MAX_LINE 512
#define MAX_OFFSET (64L << 20) /* no CPython struct comes near this */

static int find_name(const char *const *names, int count, const char *name)
{
	for (int i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/* A decimal number in [lo, hi]; false on anything else. */
static bool parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* "3.14.5" for minor `minor`: its micro number */
static bool parse_micro(const char *s, int minor, long *micro)
{
	char prefix[16];
	size_t n = (size_t)snprintf(prefix, sizeof(prefix), "3.%d.", minor);

	return s && strncmp(s, prefix, n) == 0 && parse_num(s + n, 0, 255, micro);
}

struct parse_state {
	const char *name;
	int lineno;
	bool seen_field[HS_F_COUNT];
	bool seen_size[HS_S_COUNT];
	bool have_format, have_python, have_covers, have_build;
};

static int bad(const struct parse_state *st, const char *what)
{
	return hs_error(HS_EFORMAT, "layout table %s, line %d: %s", st->name, st->lineno, what);
}

static int parse_line(struct parse_state *st, char *line, struct hs_layout *out,
		      struct hs_table_info *info)
{
	char *save = NULL, *key = strtok_r(line, " \t", &save);
	char *a = strtok_r(NULL, " \t", &save), *b, *c;
	long v, w;
	int i;

	if (!key || key[0] == '#')
		return 0;
	if (strcmp(key, "origin") == 0) {
		/* free text: the rest of the line as written */
		snprintf(info->origin, sizeof(info->origin), "%s%s%s", a ? a : "",
			 save && *save ? " " : "", save ? save : "");
		return 0;
	}
	b = strtok_r(NULL, " \t", &save);
	c = strtok_r(NULL, " \t", &save);
	if (strtok_r(NULL, " \t", &save))
		return bad(st, "too many words");
	if (strcmp(key, "format") == 0) {
		if (!parse_num(a, 1, 1, &v) || b)
			return bad(st, "unsupported format (this heapscope reads format 1)");
		st->have_format = true;
	} else if (strcmp(key, "python") == 0) {
		if (!a || strncmp(a, "3.", 2) != 0 || !parse_num(a + 2, 0, 99, &v) || b)
			return bad(st, "expected 'python 3.N'");
		info->minor = (int)v;
		st->have_python = true;
	} else if (strcmp(key, "covers") == 0) {
		if (!st->have_python || !parse_micro(a, info->minor, &v) ||
		    !parse_micro(b, info->minor, &w) || v > w || c)
			return bad(st, "expected 'covers 3.N.LO 3.N.HI' after 'python'");
		info->micro_lo = (int)v;
		info->micro_hi = (int)w;
		st->have_covers = true;
	} else if (strcmp(key, "build") == 0) {
		if (!a || b || (strcmp(a, "release") != 0 && strcmp(a, "debug") != 0))
			return bad(st, "expected 'build release' or 'build debug'");
		info->debug_build = strcmp(a, "debug") == 0;
		st->have_build = true;
	} else if (strcmp(key, "size") == 0) {
		if ((i = find_name(hs_size_names, HS_S_COUNT, a ? a : "")) < 0)
			return bad(st, "unknown struct size name");
		if (st->seen_size[i])
			return bad(st, "struct size listed twice");
		if (!parse_num(b, 0, MAX_OFFSET, &v) || c)
			return bad(st, "expected 'size NAME BYTES'");
		out->size[i] = (uint32_t)v;
		st->seen_size[i] = true;
	} else if (strcmp(key, "field") == 0) {
		if ((i = find_name(hs_field_names, HS_F_COUNT, a ? a : "")) < 0)
			return bad(st, "unknown field name");
		if (st->seen_field[i])
			return bad(st, "field listed twice");
		if (b && strcmp(b, "-") == 0 && !c) {
			out->off[i] = HS_ABSENT;
		} else if (parse_num(b, 0, MAX_OFFSET, &v) && parse_num(c, 0, MAX_OFFSET, &w)) {
			out->off[i] = (int32_t)v;
			out->fsize[i] = (uint32_t)w;
		} else {
			return bad(st, "expected 'field NAME OFFSET SIZE' or 'field NAME -'");
		}
		st->seen_field[i] = true;
	} else {
		return bad(st, "unknown keyword");
	}
	return 0;
}

int hs_table_parse(const char *text, const char *name, struct hs_layout *out,
		   struct hs_table_info *info)
{
	struct parse_state st = {.name = name};
	char line[MAX_LINE];
	int err;

	hs_layout_init(out);
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", name);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		st.lineno++;
		if (len >= sizeof(line))
			return bad(&st, "line too long");
		memcpy(line, p, len);
		line[len] = '\0';
		if ((err = parse_line(&st, line, out, info)) < 0)
			return err;
		p += len + (nl ? 1 : 0);
	}
	st.lineno = 0;
	if (!st.have_format || !st.have_python || !st.have_covers || !st.have_build)
		return bad(&st, "header incomplete (format, python, covers, build)");
	for (int i = 0; i < HS_F_COUNT; i++)
		if (!st.seen_field[i])
			return hs_error(HS_EFORMAT, "layout table %s does not list field %s", name,
					hs_field_names[i]);
	for (int i = 0; i < HS_S_COUNT; i++)
		if (!st.seen_size[i])
			return hs_error(HS_EFORMAT, "layout table %s does not list size %s", name,
					hs_size_names[i]);
	out->source = HS_SRC_TABLE;
	snprintf(out->source_detail, sizeof(out->source_detail), "table %s", name);
	if ((err = hs_layout_validate(out)) < 0)
		return hs_error(HS_EFORMAT, "layout table %s: %s", name, hs_errmsg());
	return 0;
}

int hs_table_select(int minor, int micro, bool debug_build, struct hs_layout *out,
		    struct hs_table_info *info)
{
	char have[512] = "";
	size_t used = 0;

	for (size_t i = 0; i < hs_embedded_table_count; i++) {
		const struct hs_table_text *t = &hs_embedded_tables[i];
		struct hs_table_info ti;
		int err = hs_table_parse(t->text, t->name, out, &ti);

		if (err < 0)
			return err; /* a broken shipped table is a heapscope bug: say so */
		if (ti.minor == minor && micro >= ti.micro_lo && micro <= ti.micro_hi &&
		    ti.debug_build == debug_build) {
			*info = ti;
			return 0;
		}
		if (ti.minor == minor && used < sizeof(have)) {
			int n = snprintf(have + used, sizeof(have) - used, "%s3.%d.%d-3.%d.%d %s",
					 used ? ", " : "", ti.minor, ti.micro_lo, ti.minor,
					 ti.micro_hi, ti.debug_build ? "debug" : "release");
			used += n > 0 ? (size_t)n : 0;
		}
	}
	return hs_error(HS_ENOLAYOUT, "no shipped layout table for Python 3.%d.%d (%s build)%s%s%s",
			minor, micro, debug_build ? "debug" : "release",
			used ? "; tables exist for " : "", have, used ? "" : "");
}

int hs_table_write(FILE *f, const struct hs_layout *layout, const struct hs_table_info *info)
{
	fprintf(f, "# heapscope layout table: CPython struct offsets and sizes (bytes, x86-64).\n"
		   "# Generated by hs-layout-gen; python-layouts/README.md says how.\n");
	fprintf(f, "format 1\npython 3.%d\ncovers 3.%d.%d 3.%d.%d\nbuild %s\norigin %s\n",
		info->minor, info->minor, info->micro_lo, info->minor, info->micro_hi,
		info->debug_build ? "debug" : "release", info->origin);
	for (int i = 0; i < HS_S_COUNT; i++)
		fprintf(f, "size %s %u\n", hs_size_names[i], layout->size[i]);
	for (int i = 0; i < HS_F_COUNT; i++) {
		if (layout->off[i] == HS_ABSENT)
			fprintf(f, "field %s -\n", hs_field_names[i]);
		else
			fprintf(f, "field %s %d %u\n", hs_field_names[i], layout->off[i],
				layout->fsize[i]);
	}
	return ferror(f) ? hs_error(HS_EIO, "cannot write the table") : 0;
}
