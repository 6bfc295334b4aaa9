/*
 * A small streaming JSON writer: objects, arrays, strings (escaped),
 * numbers.  Commas and nesting are tracked for the caller.
 */
#ifndef HEAPSCOPE_JSON_H
#define HEAPSCOPE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HS_JSON_MAX_DEPTH 32

struct hs_json {
	FILE *out;
	int depth;
	bool need_comma[HS_JSON_MAX_DEPTH];
};

void hs_json_init(struct hs_json *j, FILE *out);
void hs_json_begin_object(struct hs_json *j, const char *key);
void hs_json_end_object(struct hs_json *j);
void hs_json_begin_array(struct hs_json *j, const char *key);
void hs_json_end_array(struct hs_json *j);
/* key may be NULL inside arrays */
void hs_json_string(struct hs_json *j, const char *key, const char *value);
void hs_json_uint(struct hs_json *j, const char *key, uint64_t value);
void hs_json_int(struct hs_json *j, const char *key, int64_t value);
void hs_json_double(struct hs_json *j, const char *key, double value);
void hs_json_bool(struct hs_json *j, const char *key, bool value);
void hs_json_null(struct hs_json *j, const char *key);
/* Ends the document with a newline. */
void hs_json_finish(struct hs_json *j);

#endif
