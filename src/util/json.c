#include "heapscope/json.h"

#include <inttypes.h>
#include <math.h>

static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* Comma and key before a value at the current depth. */
static void prefix(struct hs_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputs(", ", j->out);
	j->need_comma[j->depth] = true;
	if (key) {
		put_string(j->out, key);
		fputs(": ", j->out);
	}
}

void hs_json_init(struct hs_json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	for (int i = 0; i < HS_JSON_MAX_DEPTH; i++)
		j->need_comma[i] = false;
}

static void open_scope(struct hs_json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->out);
	if (j->depth + 1 < HS_JSON_MAX_DEPTH)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_scope(struct hs_json *j, char c)
{
	fputc(c, j->out);
	if (j->depth > 0)
		j->depth--;
}

void hs_json_begin_object(struct hs_json *j, const char *key)
{
	open_scope(j, key, '{');
}

void hs_json_end_object(struct hs_json *j)
{
	close_scope(j, '}');
}

void hs_json_begin_array(struct hs_json *j, const char *key)
{
	open_scope(j, key, '[');
}

void hs_json_end_array(struct hs_json *j)
{
	close_scope(j, ']');
}

void hs_json_string(struct hs_json *j, const char *key, const char *value)
{
	prefix(j, key);
	put_string(j->out, value ? value : "");
}

void hs_json_uint(struct hs_json *j, const char *key, uint64_t value)
{
	prefix(j, key);
	fprintf(j->out, "%" PRIu64, value);
}

void hs_json_int(struct hs_json *j, const char *key, int64_t value)
{
	prefix(j, key);
	fprintf(j->out, "%" PRId64, value);
}

void hs_json_double(struct hs_json *j, const char *key, double value)
{
	prefix(j, key);
	if (isfinite(value))
		fprintf(j->out, "%.3f", value);
	else
		fputs("null", j->out);
}

void hs_json_bool(struct hs_json *j, const char *key, bool value)
{
	prefix(j, key);
	fputs(value ? "true" : "false", j->out);
}

void hs_json_null(struct hs_json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->out);
}

void hs_json_finish(struct hs_json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
}
