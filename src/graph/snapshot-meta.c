/*
 * The META section: capture information and graph totals as key/value
 * text.  Text keeps the section readable with `zstd -dc | strings` and
 * lets later versions add keys that older readers skip.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/graph.h"
#include "snapshot-format.h"

static const char *const gen_keys[4] = {"gc.0", "gc.1", "gc.2", "gc.permanent"};

const char *hs_capture_origin_name(enum hs_capture_origin origin)
{
	return origin == HS_ORIGIN_CORE ? "core" : "live";
}

static int put_u64(meta_put_fn put, void *ctx, const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return put(ctx, key, buf);
}

static int put_i64(meta_put_fn put, void *ctx, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return put(ctx, key, buf);
}

static int put_double(meta_put_fn put, void *ctx, const char *key, double v)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%.17g", v);
	return put(ctx, key, buf);
}

int snap_meta_emit(const struct hs_graph *g, const struct hs_capinfo *info,
		   meta_put_fn put, void *ctx)
{
	char key[64];
	int err = 0;

	err = err ?: put(ctx, "writer", "heapscope");
	err = err ?: put(ctx, "origin", hs_capture_origin_name(info->origin));
	err = err ?: put_i64(put, ctx, "pid", info->pid);
	err = err ?: put_i64(put, ctx, "taken_at", info->taken_at);
	err = err ?: put(ctx, "python", info->python);
	err = err ?: put(ctx, "version_from", info->version_from);
	err = err ?: put(ctx, "binary", info->binary);
	err = err ?: put(ctx, "build_id", info->build_id);
	err = err ?: put(ctx, "layout_source", info->layout_source);
	err = err ?: put(ctx, "layout_detail", info->layout_detail);
	err = err ?: put(ctx, "debug_offsets_note", info->debug_offsets_note);
	err = err ?: put_u64(put, ctx, "debug_build", info->debug_build);
	err = err ?: put_double(put, ctx, "layout_ms", info->layout_ms);
	err = err ?: put_u64(put, ctx, "checks_dropped", info->checks.dropped);
	err = err ?: put_u64(put, ctx, "os_threads", info->os_threads);
	err = err ?: put_double(put, ctx, "paused_ms", info->paused_ms);
	err = err ?: put_double(put, ctx, "copy_ms", info->copy_ms);
	err = err ?: put_u64(put, ctx, "bytes_read", info->bytes_read);
	err = err ?: put_u64(put, ctx, "regions_short", info->regions_short);
	err = err ?: put_u64(put, ctx, "guard_pages", info->guard_pages);
	err = err ?: put_u64(put, ctx, "signals_passed", info->signals_passed);
	err = err ?: put_double(put, ctx, "walk_ms", info->walk_ms);
	err = err ?: put_double(put, ctx, "total_ms", info->total_ms);
	err = err ?: put_u64(put, ctx, "gc_collecting", (uint64_t)g->gc_collecting);
	for (int i = 0; i < 4 && !err; i++)
		err = put_u64(put, ctx, gen_keys[i], g->gc_counts[i]);
#define SKIP_EMIT(name, text)                                          \
	if (!err) {                                                    \
		snprintf(key, sizeof(key), "skip.%s", #name);          \
		err = put_u64(put, ctx, key, g->skips.name);           \
	}
	HS_SKIP_REASONS(SKIP_EMIT)
#undef SKIP_EMIT
	return err;
}

static int parse_u64(const char *key, const char *value, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(value, &end, 10);
	if (errno || end == value || *end || value[0] == '-' || *out > max)
		return hs_error(HS_EFORMAT, "snapshot: bad value for %s", key);
	return 0;
}

static int parse_i64(const char *key, const char *value, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(value, &end, 10);
	if (errno || end == value || *end)
		return hs_error(HS_EFORMAT, "snapshot: bad value for %s", key);
	return 0;
}

static int parse_double(const char *key, const char *value, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(value, &end);
	if (errno || end == value || *end)
		return hs_error(HS_EFORMAT, "snapshot: bad value for %s", key);
	return 0;
}

#define STRING_KEYS(S)                                        \
	S("version_from", version_from)                       \
	S("binary", binary) S("build_id", build_id)           \
	S("layout_source", layout_source)                     \
	S("layout_detail", layout_detail)                     \
	S("debug_offsets_note", debug_offsets_note)

#define DOUBLE_KEYS(D)                                                  \
	D("layout_ms", layout_ms) D("paused_ms", paused_ms)             \
	D("copy_ms", copy_ms) D("walk_ms", walk_ms) D("total_ms", total_ms)

#define COUNT_KEYS(C)                                                   \
	C("os_threads", info->os_threads, UINT64_MAX)                   \
	C("bytes_read", info->bytes_read, UINT64_MAX)                   \
	C("regions_short", info->regions_short, UINT32_MAX)             \
	C("guard_pages", info->guard_pages, UINT32_MAX)                 \
	C("signals_passed", info->signals_passed, UINT32_MAX)           \
	C("checks_dropped", info->checks.dropped, UINT32_MAX)           \
	C("debug_build", info->debug_build, 1)                          \
	C("gc_collecting", g->gc_collecting, 1)

int snap_meta_apply(struct hs_graph *g, struct hs_capinfo *info, const char *key,
		    const char *value)
{
	uint64_t u;
	int64_t pid;
	int err;

#define APPLY_STRING(k, field)                                                  \
	if (!strcmp(key, k)) {                                                  \
		snprintf(info->field, sizeof(info->field), "%s", value);         \
		return 0;                                                       \
	}
	STRING_KEYS(APPLY_STRING)
#undef APPLY_STRING
	if (!strcmp(key, "python")) {
		snprintf(info->python, sizeof(info->python), "%s", value);
		if (sscanf(value, "3.%d", &info->py_minor) != 1)
			info->py_minor = 0;
		return 0;
	}
#define APPLY_DOUBLE(k, field)                                                  \
	if (!strcmp(key, k))                                                    \
		return parse_double(key, value, &info->field);
	DOUBLE_KEYS(APPLY_DOUBLE)
#undef APPLY_DOUBLE
#define APPLY_COUNT(k, lvalue, max)                                             \
	if (!strcmp(key, k)) {                                                  \
		if ((err = parse_u64(key, value, max, &u)) < 0)                 \
			return err;                                             \
		lvalue = u;                                                     \
		return 0;                                                       \
	}
	COUNT_KEYS(APPLY_COUNT)
#undef APPLY_COUNT
#define APPLY_SKIP(name, text)                                                  \
	if (!strcmp(key, "skip." #name))                                        \
		return parse_u64(key, value, UINT64_MAX, &g->skips.name);
	HS_SKIP_REASONS(APPLY_SKIP)
#undef APPLY_SKIP
	for (int i = 0; i < 4; i++)
		if (!strcmp(key, gen_keys[i]))
			return parse_u64(key, value, UINT64_MAX, &g->gc_counts[i]);
	if (!strcmp(key, "pid")) {
		if ((err = parse_i64(key, value, &pid)) < 0)
			return err;
		if (pid < 0 || pid > INT32_MAX)
			return hs_error(HS_EFORMAT, "snapshot: bad value for pid");
		info->pid = (int)pid;
		return 0;
	}
	if (!strcmp(key, "taken_at"))
		return parse_i64(key, value, &info->taken_at);
	if (!strcmp(key, "origin")) {
		if (strcmp(value, "live") && strcmp(value, "core"))
			return hs_error(HS_EFORMAT, "snapshot: unknown origin '%.20s'", value);
		info->origin = !strcmp(value, "core") ? HS_ORIGIN_CORE : HS_ORIGIN_LIVE;
		return 0;
	}
	return 0; /* a key of a later version */
}
