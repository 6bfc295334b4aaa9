/*
 * Unit test of the shipped layout tables: every embedded table parses,
 * lists every field, survives a write/parse round trip and is chosen for
 * the releases it covers; damaged tables are refused with HS_EFORMAT.
 */
#include "heapscope/error.h"
#include "heapscope/layout.h"
#include "heapscope/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static bool same_layout(const struct hs_layout *a, const struct hs_layout *b)
{
	return memcmp(a->off, b->off, sizeof(a->off)) == 0 &&
	       memcmp(a->fsize, b->fsize, sizeof(a->fsize)) == 0 &&
	       memcmp(a->size, b->size, sizeof(a->size)) == 0;
}

/* Text of `t` written back by hs_table_write (malloc'ed). */
static char *rewrite(const struct hs_layout *l, const struct hs_table_info *info)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	hs_table_write(f, l, info);
	fclose(f);
	return buf;
}

/* The table text with the first line starting with `prefix` replaced. */
static char *edit(const char *text, const char *prefix, const char *repl)
{
	const char *at = strstr(text, prefix);
	size_t n = strlen(text) + strlen(repl) + 2;
	char *out = malloc(n);
	const char *eol;

	if (!out || !at)
		abort();
	eol = strchr(at, '\n');
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, repl, eol ? eol : "");
	return out;
}

static void check_embedded(void)
{
	ok(hs_embedded_table_count >= 11, "%zu tables shipped", hs_embedded_table_count);
	for (size_t i = 0; i < hs_embedded_table_count; i++) {
		const struct hs_table_text *t = &hs_embedded_tables[i];
		struct hs_layout l, back;
		struct hs_table_info info, info2;
		char *text;
		int err = hs_table_parse(t->text, t->name, &l, &info);

		if (!ok(err == 0, "%s parses (%s)", t->name, err ? hs_errmsg() : "ok"))
			continue;
		ok(l.source == HS_SRC_TABLE && hs_has(&l, HS_F_OB_TYPE) && l.size[HS_S_TYPE] >= 400,
		   "%s: 3.%d.%d-3.%d.%d, PyTypeObject %u bytes", t->name, info.minor, info.micro_lo,
		   info.minor, info.micro_hi, l.size[HS_S_TYPE]);
		text = rewrite(&l, &info);
		ok(hs_table_parse(text, "rewritten", &back, &info2) == 0 && same_layout(&l, &back) &&
		   info2.micro_lo == info.micro_lo && strcmp(info2.origin, info.origin) == 0,
		   "%s: write/parse round trip", t->name);
		free(text);
	}
}

static void check_select(void)
{
	static const struct {
		int minor, micro;
		const char *want; /* NULL: no table */
	} cases[] = {
		{8, 0, "3.8.layout"},       {8, 18, "3.8.layout"},     {11, 2, "3.11.layout"},
		{13, 0, "3.13.0.layout"},   {13, 4, "3.13.0.layout"},  {13, 5, "3.13.5.layout"},
		{13, 15, "3.13.5.layout"},  {13, 18, "3.13.18.layout"}, {14, 0, "3.14.0.layout"},
		{14, 4, "3.14.0.layout"},   {14, 5, "3.14.5.layout"},  {14, 10, "3.14.5.layout"},
		{15, 2, "3.15.layout"},     {7, 16, NULL},             {16, 0, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hs_layout l;
		struct hs_table_info info;
		int err = hs_table_select(cases[i].minor, cases[i].micro, false, &l, &info);

		if (cases[i].want)
			ok(err == 0 && strcmp(info.name, cases[i].want) == 0, "3.%d.%d -> %s (got %s)",
			   cases[i].minor, cases[i].micro, cases[i].want, err ? hs_errmsg() : info.name);
		else
			ok(err == HS_ENOLAYOUT, "3.%d.%d -> no table (%s)", cases[i].minor,
			   cases[i].micro, err ? hs_errmsg() : info.name);
	}
	{
		struct hs_layout l;
		struct hs_table_info info;

		ok(hs_table_select(12, 1, true, &l, &info) == HS_ENOLAYOUT,
		   "no table for a debug build (%s)", hs_errmsg());
	}
}

static void check_damaged(void)
{
	const struct hs_table_text *t = &hs_embedded_tables[0];
	static const struct {
		const char *prefix, *repl, *why;
	} cases[] = {
		{"format ", "format 2", "newer format"},
		{"python ", "python three", "bad python line"},
		{"covers ", "covers 3.8.9 3.8.1", "empty covers range"},
		{"build ", "build fast", "unknown build"},
		{"field OB_TYPE ", "field OB_TYPE 8", "field without size"},
		{"field OB_TYPE ", "field OB_TYPE -8 8", "negative offset"},
		{"field OB_TYPE ", "field OB_TYPE 99999999999 8", "huge offset"},
		{"field OB_TYPE ", "field OB_TIPE 8 8", "unknown field"},
		{"field OB_TYPE ", "", "missing field"},
		{"field OB_TYPE ", "field OB_REFCNT 0 8", "duplicate field"},
		{"field OB_TYPE ", "field OB_TYPE 8 8 8", "extra word"},
		{"size OBJECT ", "size OBJECT 4", "field outside its struct"},
		{"size TYPE ", "", "missing size"},
		{"field TP_NAME ", "bogus TP_NAME 24 8", "unknown keyword"},
	};
	struct hs_layout l;
	struct hs_table_info info;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = edit(t->text, cases[i].prefix, cases[i].repl);
		int err = hs_table_parse(text, "damaged", &l, &info);

		ok(err == HS_EFORMAT, "%s refused (%s)", cases[i].why, err ? hs_errmsg() : "accepted");
		free(text);
	}
	ok(hs_table_parse("", "empty", &l, &info) == HS_EFORMAT, "empty table refused");
	{
		size_t n = 100000;
		char *longline = malloc(n + 1);

		memset(longline, 'x', n);
		longline[n] = '\0';
		ok(hs_table_parse(longline, "long", &l, &info) == HS_EFORMAT, "overlong line refused");
		free(longline);
	}
}

int main(void)
{
	check_embedded();
	check_select();
	check_damaged();
	return done();
}
