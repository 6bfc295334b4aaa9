/* Unit test of the streaming JSON writer (output compared byte for byte). */
#include "heapscope/json.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"

static char *buf;
static size_t len;
static struct hs_json j;

static void start(void)
{
	FILE *f = open_memstream(&buf, &len);

	hs_json_init(&j, f);
}

/* Close the stream and compare what was written to `want`. */
static void check(const char *want, const char *what)
{
	fclose(j.out);
	ok(buf && strcmp(buf, want) == 0, "%s\n#   got:  %s\n#   want: %s", what,
	   buf ? buf : "(null)", want);
	free(buf);
	buf = NULL;
}

int main(void)
{
	start();
	hs_json_begin_object(&j, NULL);
	hs_json_end_object(&j);
	hs_json_finish(&j);
	check("{}\n", "empty object, finish adds a newline");

	start();
	hs_json_begin_object(&j, NULL);
	hs_json_uint(&j, "pid", 4242);
	hs_json_int(&j, "delta", -17);
	hs_json_bool(&j, "ok", true);
	hs_json_bool(&j, "bad", false);
	hs_json_double(&j, "ms", 1.5);
	hs_json_uint(&j, "big", UINT64_MAX);
	hs_json_int(&j, "min", INT64_MIN);
	hs_json_end_object(&j);
	hs_json_finish(&j);
	check("{\"pid\": 4242, \"delta\": -17, \"ok\": true, \"bad\": false, \"ms\": 1.500, "
	      "\"big\": 18446744073709551615, \"min\": -9223372036854775808}\n",
	      "scalars with keys and commas");

	start();
	hs_json_begin_object(&j, NULL);
	hs_json_begin_array(&j, "rows");
	hs_json_begin_object(&j, NULL);
	hs_json_string(&j, "kind", "str");
	hs_json_uint(&j, "count", 3);
	hs_json_end_object(&j);
	hs_json_begin_object(&j, NULL);
	hs_json_end_object(&j);
	hs_json_begin_array(&j, NULL);
	hs_json_uint(&j, NULL, 1);
	hs_json_uint(&j, NULL, 2);
	hs_json_end_array(&j);
	hs_json_end_array(&j);
	hs_json_begin_array(&j, "empty");
	hs_json_end_array(&j);
	hs_json_uint(&j, "after", 9);
	hs_json_end_object(&j);
	check("{\"rows\": [{\"kind\": \"str\", \"count\": 3}, {}, [1, 2]], \"empty\": [], "
	      "\"after\": 9}", "nesting: commas only between siblings");

	start();
	hs_json_begin_array(&j, NULL);
	hs_json_string(&j, NULL, "say \"hi\"");
	hs_json_string(&j, NULL, "C:\\dir\\");
	hs_json_string(&j, NULL, "a\nb\tc\rd");
	hs_json_string(&j, NULL, "\x01\x1f\b\f");
	hs_json_string(&j, NULL, "caf\xc3\xa9 \x7f");
	hs_json_string(&j, NULL, NULL);
	hs_json_end_array(&j);
	check("[\"say \\\"hi\\\"\", \"C:\\\\dir\\\\\", \"a\\nb\\tc\\rd\", "
	      "\"\\u0001\\u001f\\u0008\\u000c\", \"caf\xc3\xa9 \x7f\", \"\"]",
	      "string escaping: quote, backslash, control characters; UTF-8 kept; NULL is \"\"");

	start();
	hs_json_begin_object(&j, NULL);
	hs_json_string(&j, "we\"ird\nkey", "v");
	hs_json_end_object(&j);
	check("{\"we\\\"ird\\nkey\": \"v\"}", "keys are escaped too");

	return done();
}
