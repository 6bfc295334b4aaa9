/* Unit test of /proc/PID/maps parsing and the mapping predicates. */
#include "heapscope/error.h"
#include "heapscope/maps.h"

#include <string.h>

#include "tap.h"

/* A realistic maps file (a python3.11 process), with kernel padding. */
static const char sample[] =
	"55d0c8a00000-55d0c8a6b000 r--p 00000000 fd:01 1312345                    /usr/bin/python3.11\n"
	"55d0c8a6b000-55d0c8d41000 r-xp 0006b000 fd:01 1312345                    /usr/bin/python3.11\n"
	"55d0c8f8e000-55d0c8fd4000 rw-p 0038e000 fd:01 1312345                    /usr/bin/python3.11\n"
	"55d0c8fd4000-55d0c8ff6000 rw-p 00000000 00:00 0 \n"
	"55d0ca1e2000-55d0ca3a4000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0\n"
	"7f3a20400000-7f3a20410000 rw-p 00002000 08:02 42                         /home/me/My Project/data file.bin\n"
	"7f3a20410000-7f3a20420000 rw-s 00000000 00:05 7                          /dev/zero (deleted)\n"
	"7f3a20420000-7f3a20430000 r--p 00001000 08:02 99                         /opt/lib/libold.so (deleted)\n"
	"7f3a20430000-7f3a20440000 rw-s 00000000 00:06 8                          /dev/dri/card0\n"
	"7ffd4e3a1000-7ffd4e3c2000 rw-p 00000000 00:00 0                          [stack]\n"
	"7ffd4e3d6000-7ffd4e3da000 r--p 00000000 00:00 0                          [vvar]\n"
	"7ffd4e3da000-7ffd4e3dc000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static struct hs_maps parsed;

static void test_parse(void)
{
	const struct hs_map *m = parsed.items;

	ok(parsed.count == 14, "14 mappings (got %zu)", parsed.count);
	if (parsed.count != 14)
		return;
	ok(m[0].start == 0x55d0c8a00000 && m[0].end == 0x55d0c8a6b000,
	   "first range");
	ok(m[0].prot == HS_MAP_READ && m[0].inode == 1312345 && m[0].offset == 0,
	   "first prot/inode/offset");
	ok(strcmp(m[0].path, "/usr/bin/python3.11") == 0, "path without padding: '%s'",
	   m[0].path);
	ok(m[1].prot == (HS_MAP_READ | HS_MAP_EXEC) && m[1].offset == 0x6b000,
	   "r-xp with hex offset");
	ok(m[2].prot == (HS_MAP_READ | HS_MAP_WRITE), "rw-p");
	ok(strcmp(m[3].path, "") == 0, "anonymous line with trailing space: path ''");
	ok(strcmp(m[4].path, "[heap]") == 0, "[heap]");
	ok(strcmp(m[5].path, "") == 0 && m[5].end == 0x7f3a1c021000,
	   "anonymous line with no trailing space");
	ok(strcmp(m[6].path, "/home/me/My Project/data file.bin") == 0,
	   "path with spaces kept whole: '%s'", m[6].path);
	ok(m[6].inode == 42 && m[6].offset == 0x2000, "inode/offset before a spaced path");
	ok(m[7].prot == (HS_MAP_READ | HS_MAP_WRITE | HS_MAP_SHARED), "rw-s is shared");
	ok(strcmp(m[8].path, "/opt/lib/libold.so (deleted)") == 0,
	   "' (deleted)' stays in the path: '%s'", m[8].path);
	ok(strcmp(m[10].path, "[stack]") == 0 && strcmp(m[11].path, "[vvar]") == 0,
	   "[stack] and [vvar]");
	ok(m[13].start == 0xffffffffff600000ull && m[13].prot == HS_MAP_EXEC &&
	   strcmp(m[13].path, "[vsyscall]") == 0, "[vsyscall] at the top of the space");
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"zzzz-55d0c8a6b000 r--p 00000000 fd:01 1 /x\n",          /* bad start */
		"55d0c8a00000 r--p 00000000 fd:01 1 /x\n",               /* no end */
		"55d0c8a00000-55d0c8a6b000 rw 00000000 fd:01 1 /x\n",    /* short perms */
		"55d0c8a00000-55d0c8a6b000 r--p 00000000 fd01 1 /x\n",   /* dev w/o ':' */
		"55d0c8a00000-55d0c8a6b000 r--p 00000000 fd:01\n",       /* no inode */
		"55d0c8a6b000-55d0c8a00000 r--p 00000000 fd:01 1 /x\n",  /* start > end */
		"garbage\n",
		"   \n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hs_maps maps = {0};
		int err = hs_maps_parse(bad[i], strlen(bad[i]), 100, &maps);

		ok(err == HS_EFORMAT && maps.count == 0, "malformed line %zu -> HS_EFORMAT (got %d)",
		   i, err);
	}

	/* a bad line after good ones fails the whole parse and names its line */
	const char text[] = "1000-2000 rw-p 00000000 00:00 0\nbroken line\n";
	struct hs_maps maps = {0};
	int err = hs_maps_parse(text, strlen(text), 100, &maps);

	ok(err == HS_EFORMAT && strstr(hs_errmsg(), "line 2"),
	   "second line malformed -> HS_EFORMAT, message '%s'", hs_errmsg());
}

static void test_limits(void)
{
	const char three[] = "1000-2000 rw-p 00000000 00:00 0\n"
			     "\n"
			     "2000-3000 rw-p 00000000 00:00 0\n"
			     "3000-4000 rw-p 00000000 00:00 0"; /* no final newline */
	struct hs_maps maps = {0};
	int err;

	err = hs_maps_parse(three, strlen(three), 3, &maps);
	ok(err == 0 && maps.count == 3 && maps.items[2].end == 0x4000,
	   "exactly max_maps entries accepted, blank line skipped, last line unterminated");
	hs_maps_release(&maps);
	ok(maps.items == NULL && maps.count == 0, "release clears the table");

	err = hs_maps_parse(three, strlen(three), 2, &maps);
	ok(err == HS_EFORMAT, "max_maps + 1 entries -> HS_EFORMAT (got %d)", err);

	err = hs_maps_parse("", 0, 10, &maps);
	ok(err == 0 && maps.count == 0, "empty text is an empty table");
	hs_maps_release(&maps);

	/* len bounds the text: the second line is outside it */
	err = hs_maps_parse(three, 32, 1, &maps);
	ok(err == 0 && maps.count == 1, "parse stops at len");
	hs_maps_release(&maps);
}

static void test_find(void)
{
	const struct hs_map *m = parsed.items;

	ok(hs_maps_find(&parsed, 0x55d0c8a00000) == &m[0], "find at first start");
	ok(hs_maps_find(&parsed, 0x55d0c8a6afff) == &m[0], "find at end - 1");
	ok(hs_maps_find(&parsed, 0x55d0c8a6b000) == &m[1], "end belongs to the next mapping");
	ok(hs_maps_find(&parsed, 0x55d0c8d41000) == NULL, "gap after a mapping -> NULL");
	ok(hs_maps_find(&parsed, 0x55d0c89fffff) == NULL, "below the first -> NULL");
	ok(hs_maps_find(&parsed, 0x7ffd4e3c1fff) == &m[10], "last byte of [stack]");
	ok(hs_maps_find(&parsed, 0xffffffffff600fffull) == &m[13], "last byte of [vsyscall]");
	ok(hs_maps_find(&parsed, 0xffffffffff601000ull) == NULL, "above the last -> NULL");
	ok(hs_maps_find(&parsed, 0) == NULL, "0 -> NULL");

	struct hs_maps empty = {0};

	ok(hs_maps_find(&empty, 0x1000) == NULL, "empty table -> NULL");
}

static void test_load_base(void)
{
	uint64_t base = 0;
	const char text[] =
		"7f0000001000-7f0000002000 r--p 00003000 08:02 5 /lib/libx.so\n"
		"7f0000002000-7f0000003000 r-xp 00004000 08:02 5 /lib/libx.so\n";
	struct hs_maps maps = {0};

	bool py = hs_maps_load_base(&parsed, "/usr/bin/python3.11", &base);

	ok(py && base == 0x55d0c8a00000, "python base 0x%llx", (unsigned long long)base);
	ok(!hs_maps_load_base(&parsed, "/usr/bin/python3", &base), "prefix of a path: not mapped");
	ok(!hs_maps_load_base(&parsed, "/opt/lib/libold.so", &base),
	   "deleted file does not match its plain path");
	bool found = hs_maps_parse(text, strlen(text), 10, &maps) == 0 &&
		     hs_maps_load_base(&maps, "/lib/libx.so", &base);

	ok(found && base == 0x7effffffe000, "base = start - offset of the lowest mapping (got 0x%llx)",
	   (unsigned long long)base);
	hs_maps_release(&maps);
}

static bool capturable(unsigned prot, const char *path)
{
	struct hs_map m = {.start = 0x1000, .end = 0x2000, .prot = prot, .path = (char *)path};

	return hs_map_is_capturable(&m);
}

static void test_capturable(void)
{
	const unsigned rw = HS_MAP_READ | HS_MAP_WRITE;
	const struct hs_map *m = parsed.items;

	ok(capturable(rw, ""), "rw anonymous: yes");
	ok(capturable(rw, "[heap]"), "[heap]: yes");
	ok(capturable(rw, "[stack]"), "[stack]: yes");
	ok(capturable(rw, "[anon:cpython obmalloc]"), "named anonymous: yes");
	ok(capturable(rw, "/usr/lib/libpython3.11.so.1.0"), "rw-p file data: yes");
	ok(capturable(rw | HS_MAP_SHARED, "/dev/zero (deleted)"), "/dev/zero: yes");
	ok(!capturable(rw, "[vvar]"), "[vvar] even if rw: no");
	ok(!capturable(rw, "[vsyscall]"), "[vsyscall]: no");
	ok(!capturable(rw | HS_MAP_SHARED, "/dev/dri/card0"), "/dev/dri/card0: no");
	ok(!capturable(rw, "/dev/mem"), "/dev/mem: no");
	ok(!capturable(HS_MAP_READ, ""), "read-only anonymous: no");
	ok(!capturable(HS_MAP_READ | HS_MAP_EXEC, "/usr/bin/python3.11"), "r-x file: no");
	ok(!capturable(HS_MAP_WRITE, ""), "write-only: no");
	ok(!capturable(0, ""), "---p guard page: no");

	/* the same rules through the parsed sample */
	ok(hs_map_is_capturable(&m[2]) && hs_map_is_capturable(&m[4]) &&
	   hs_map_is_capturable(&m[10]) && !hs_map_is_capturable(&m[0]) &&
	   !hs_map_is_capturable(&m[11]) && !hs_map_is_capturable(&m[13]),
	   "parsed sample: data/heap/stack yes, text/vvar/vsyscall no");
}

int main(void)
{
	int err = hs_maps_parse(sample, strlen(sample), 1000, &parsed);

	ok(err == 0, "parse the sample (err %d: %s)", err, err ? hs_errmsg() : "");
	test_parse();
	test_malformed();
	test_limits();
	if (parsed.count == 14) {
		test_find();
		test_load_base();
	}
	test_capturable();
	hs_maps_release(&parsed);
	return done();
}
