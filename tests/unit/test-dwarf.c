/*
 * Unit test of the DWARF layout reader.
 *
 * usage: test-dwarf NODEBUG-FILE DWARF-FILE...
 *
 * Each DWARF-FILE is fixtures/dwarf-structs.c built with debug info (in
 * different DWARF versions); its layout must match what offsetof/sizeof
 * say for the same structs compiled into this test.  NODEBUG-FILE is the
 * same fixture without debug info.  Garbage and damaged files must give
 * errors, never crashes.
 */
#include "heapscope/dwarf.h"
#include "heapscope/error.h"
#include "heapscope/layout.h"

#include "dwarf-structs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct expected_field {
	enum hs_field field;
	long offset;
	long size; /* 0 for bitfields and flexible arrays */
};

struct expected_size {
	enum hs_size size;
	long bytes;
};

#define MEMBER(id, type, path) {HS_F_##id, offsetof(type, path), sizeof(((type *)0)->path)}
#define UNSIZED(id, offset) {HS_F_##id, (long)(offset), 0}
#define SIZE(id, type) {HS_S_##id, sizeof(type)}

static const struct expected_field expected_fields[] = {
	MEMBER(RT_INTERP_HEAD, _PyRuntimeState, interpreters.head),
	MEMBER(RT_GC, _PyRuntimeState, gc),
	MEMBER(IS_NEXT, struct _is, next),
	MEMBER(IS_THREADS_HEAD, struct _is, threads.head),
	MEMBER(IS_GC, struct _is, gc),
	MEMBER(IS_MODULES, struct _is, imports.modules),
	MEMBER(IS_MODULES_BY_INDEX, struct _is, imports.modules_by_index),
	MEMBER(IS_IMPORTLIB, struct _is, imports.importlib),
	MEMBER(IS_SYSDICT, struct _is, sysdict),
	MEMBER(IS_BUILTINS, struct _is, builtins),
	MEMBER(GCS_ENABLED, struct _gc_runtime_state, enabled),
	MEMBER(GCS_GENERATIONS, struct _gc_runtime_state, generations),
	MEMBER(GCS_PERMANENT, struct _gc_runtime_state, permanent_generation),
	MEMBER(GCS_COLLECTING, struct _gc_runtime_state, collecting),
	MEMBER(GEN_HEAD, struct gc_generation, head),
	MEMBER(GEN_THRESHOLD, struct gc_generation, threshold),
	MEMBER(GEN_COUNT, struct gc_generation, count),
	MEMBER(GCH_NEXT, PyGC_Head, _gc_next),
	MEMBER(GCH_PREV, PyGC_Head, _gc_prev),
	MEMBER(IF_CODE, _PyInterpreterFrame, f_code),
	MEMBER(IF_PREVIOUS, _PyInterpreterFrame, previous),
	MEMBER(IF_STACKTOP, _PyInterpreterFrame, stacktop),
	UNSIZED(IF_OWNER, FIXTURE_OWNER_UNIT_OFFSET),
	UNSIZED(IF_LOCALSPLUS, offsetof(_PyInterpreterFrame, localsplus)),
	MEMBER(OB_REFCNT, PyObject, ob_refcnt),
	MEMBER(OB_TYPE, PyObject, ob_type),
	MEMBER(VAR_SIZE, PyVarObject, ob_size),
	MEMBER(TP_NAME, PyTypeObject, tp_name),
	MEMBER(TP_BASICSIZE, PyTypeObject, tp_basicsize),
	MEMBER(TP_ITEMSIZE, PyTypeObject, tp_itemsize),
	MEMBER(TP_FLAGS, PyTypeObject, tp_flags),
	MEMBER(TP_MEMBERS, PyTypeObject, tp_members),
	MEMBER(TP_BASE, PyTypeObject, tp_base),
	MEMBER(TP_DICT, PyTypeObject, tp_dict),
	MEMBER(TP_DICTOFFSET, PyTypeObject, tp_dictoffset),
	MEMBER(TP_BASES, PyTypeObject, tp_bases),
	MEMBER(TP_MRO, PyTypeObject, tp_mro),
	MEMBER(TUPLE_ITEMS, PyTupleObject, ob_item),
	MEMBER(DK_REFCNT, PyDictKeysObject, dk_refcnt),
	MEMBER(DK_LOG2_SIZE, PyDictKeysObject, dk_log2_size),
	UNSIZED(DK_INDICES, offsetof(PyDictKeysObject, dk_indices)),
	MEMBER(DEQUE_LEFTBLOCK, struct dequeobject, leftblock),
	MEMBER(DEQUE_RIGHTBLOCK, struct dequeobject, rightblock),
	MEMBER(DEQUE_LEFTINDEX, struct dequeobject, leftindex),
	MEMBER(DEQUE_RIGHTINDEX, struct dequeobject, rightindex),
	MEMBER(BLOCK_DATA, struct block, data),
	MEMBER(BLOCK_RIGHTLINK, struct block, rightlink),
};

static const struct expected_size expected_sizes[] = {
	SIZE(RUNTIME, _PyRuntimeState),
	SIZE(INTERP, struct _is),
	SIZE(GC_STATE, struct _gc_runtime_state),
	SIZE(GC_GENERATION, struct gc_generation),
	SIZE(GC_HEAD, PyGC_Head),
	SIZE(IFRAME, _PyInterpreterFrame),
	SIZE(OBJECT, PyObject),
	SIZE(VAROBJECT, PyVarObject),
	SIZE(TYPE, PyTypeObject),
	SIZE(TUPLE, PyTupleObject),
	SIZE(DICTKEYS, PyDictKeysObject),
	/* the definitions that have the fields, not the same-named others */
	SIZE(DEQUE, struct dequeobject),
	SIZE(DEQUE_BLOCK, struct block),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int test_number;
static int failures;

static void report(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++test_number);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		failures++;
}

static int load_path(const char *path, struct hs_layout *layout)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		printf("# cannot open %s: %s\n", path, strerror(errno));
		return HS_EIO;
	}
	hs_layout_init(layout);
	rc = hs_dwarf_load_layout(fd, path, layout);
	close(fd);
	return rc;
}

static const struct expected_field *find_expected_field(int f)
{
	for (size_t i = 0; i < COUNT(expected_fields); i++)
		if ((int)expected_fields[i].field == f)
			return &expected_fields[i];
	return NULL;
}

static long expected_size_of(int s)
{
	for (size_t i = 0; i < COUNT(expected_sizes); i++)
		if ((int)expected_sizes[i].size == s)
			return expected_sizes[i].bytes;
	return 0;
}

static int check_fields(const struct hs_layout *layout)
{
	int bad = 0;

	for (int f = 0; f < HS_F_COUNT; f++) {
		const struct expected_field *e = find_expected_field(f);

		if (e == NULL && hs_has(layout, f)) {
			printf("# %s: expected absent, got offset %d\n", hs_field_names[f], layout->off[f]);
			bad++;
		} else if (e && (layout->off[f] != e->offset || (long)layout->fsize[f] != e->size)) {
			printf("# %s: expected %ld/%ld, got %d/%u\n", hs_field_names[f], e->offset, e->size,
			       layout->off[f], layout->fsize[f]);
			bad++;
		}
	}
	return bad == 0;
}

static int check_sizes(const struct hs_layout *layout)
{
	int bad = 0;

	for (int s = 0; s < HS_S_COUNT; s++) {
		long want = expected_size_of(s);

		if ((long)layout->size[s] != want) {
			printf("# sizeof %s: expected %ld, got %u\n", hs_size_names[s], want, layout->size[s]);
			bad++;
		}
	}
	return bad == 0;
}

static void test_fixture(const char *path)
{
	struct hs_layout layout;
	int rc = load_path(path, &layout);

	report(rc == 0, "%s: layout loads", path);
	if (rc) {
		printf("# %s\n", hs_errmsg());
		return;
	}
	report(layout.source == HS_SRC_DWARF && strcmp(layout.source_detail, path) == 0,
	       "%s: source is dwarf and names the file", path);
	report(check_fields(&layout), "%s: fields match offsetof/sizeof, the others are absent", path);
	report(check_sizes(&layout), "%s: struct sizes match sizeof, the others are 0", path);
	report(hs_layout_validate(&layout) == 0, "%s: layout validates", path);
}

static void test_no_dwarf(const char *path)
{
	struct hs_layout layout;
	int rc = load_path(path, &layout);

	report(rc == HS_ENOLAYOUT, "%s: no DWARF gives HS_ENOLAYOUT (got %d: %s)", path, rc,
	       rc ? hs_errmsg() : "success");
	report(layout.source == HS_SRC_NONE && !hs_has(&layout, HS_F_OB_TYPE),
	       "%s: failure leaves the layout untouched", path);
}

static void test_bad_fd(void)
{
	struct hs_layout layout;

	hs_layout_init(&layout);
	report(hs_dwarf_load_layout(-1, "bad fd", &layout) == HS_EIO, "a bad fd gives HS_EIO");
}

/* A scratch file rewritten for each damaged input. */
static int scratch_fd = -1;

static int load_bytes(const unsigned char *bytes, size_t len)
{
	struct hs_layout layout;

	if (ftruncate(scratch_fd, 0) != 0 || pwrite(scratch_fd, bytes, len, 0) != (ssize_t)len) {
		printf("# cannot write the scratch file: %s\n", strerror(errno));
		return HS_EIO;
	}
	hs_layout_init(&layout);
	return hs_dwarf_load_layout(scratch_fd, "scratch", &layout);
}

static int is_known_error(int rc)
{
	return rc == HS_ENOLAYOUT || rc == HS_EFORMAT || rc == HS_EIO || rc == HS_ENOMEM;
}

static void test_garbage(void)
{
	unsigned char bytes[8192];
	unsigned int seed = 1;
	int rc;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)rand_r(&seed);
	rc = load_bytes(bytes, sizeof(bytes));
	report(rc < 0 && is_known_error(rc), "random bytes give an error (%d: %s)", rc, hs_errmsg());
	rc = load_bytes(bytes, 0);
	report(rc < 0 && is_known_error(rc), "an empty file gives an error (%d: %s)", rc, hs_errmsg());
	memcpy(bytes, "\177ELF\2\1\1", 7);
	rc = load_bytes(bytes, sizeof(bytes));
	report(rc < 0 && is_known_error(rc), "an ELF magic followed by garbage gives an error (%d: %s)", rc,
	       hs_errmsg());
}

static unsigned char *read_whole_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf = NULL;

	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > (64 << 20))
		goto out;
	buf = malloc((size_t)st.st_size);
	if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	*len = (size_t)st.st_size;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Damaged copies of a good fixture: any result but a crash is fine, and
   an error must be one of ours. */
static void test_damaged_copies(const char *path)
{
	enum { FLIPS = 400, TRUNCATIONS = 64 };
	unsigned int seed = 42;
	size_t len = 0;
	unsigned char *good = read_whole_file(path, &len), *copy;
	int odd = 0;

	copy = good ? malloc(len) : NULL;
	if (copy == NULL) {
		report(0, "%s: read for damaging", path);
		free(good);
		return;
	}
	for (int i = 0; i < FLIPS; i++) {
		int flips = 1 + rand_r(&seed) % 16;
		int rc;

		memcpy(copy, good, len);
		for (int k = 0; k < flips; k++)
			copy[(size_t)rand_r(&seed) % len] = (unsigned char)rand_r(&seed);
		rc = load_bytes(copy, len);
		if (rc != 0 && !is_known_error(rc))
			odd++;
	}
	for (int i = 1; i <= TRUNCATIONS; i++) {
		int rc = load_bytes(good, len * (size_t)i / (TRUNCATIONS + 1));

		if (rc != 0 && !is_known_error(rc))
			odd++;
	}
	report(odd == 0, "%s: %d damaged and %d truncated copies give results or errors, no crash", path,
	       FLIPS, TRUNCATIONS);
	free(copy);
	free(good);
}

static int open_scratch(void)
{
	const char *dir = getenv("TMPDIR");
	char name[4096];

	snprintf(name, sizeof(name), "%s/test-dwarf-XXXXXX", dir && *dir ? dir : "/tmp");
	scratch_fd = mkstemp(name);
	if (scratch_fd < 0) {
		printf("# cannot create %s: %s\n", name, strerror(errno));
		return -1;
	}
	unlink(name);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: test-dwarf NODEBUG-FILE DWARF-FILE...\n");
		return 64;
	}
	for (int i = 2; i < argc; i++)
		test_fixture(argv[i]);
	test_no_dwarf(argv[1]);
	test_bad_fd();
	if (open_scratch() == 0) {
		test_garbage();
		test_damaged_copies(argv[2]);
	} else {
		report(0, "scratch file for damaged inputs");
	}
	printf("1..%d\n", test_number);
	return failures ? 1 : 0;
}
