/*
 * Unit test of the type-object checks.
 *
 * 1. Synthetic images: fake PyType_Type/PyFunction_Type/PyList_Type
 *    objects, first well formed (OK, CORRECTED, MISMATCH), then with
 *    hostile member tables and names (unterminated, looping, 10^6
 *    entries, wild pointers): bounded, never trusted, no crash.
 * 2. Live interpreters (each missing one is a TAP skip): every applicable
 *    relation holds against the interpreter's own DWARF layout, and
 *    corrupted layouts are corrected or refused as they should be.
 */
#include "heapscope/dwarf.h"
#include "heapscope/elfinfo.h"
#include "heapscope/error.h"
#include "heapscope/layout.h"
#include "heapscope/maps.h"
#include "heapscope/memsrc.h"
#include "heapscope/typecheck.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static const struct hs_check *find(const struct hs_check_list *list, const char *source)
{
	for (unsigned i = 0; i < list->count; i++)
		if (strcmp(list->items[i].source, source) == 0)
			return &list->items[i];
	return NULL;
}

static bool status_is(const struct hs_check_list *list, const char *source,
		      enum hs_check_status status)
{
	const struct hs_check *c = find(list, source);

	return c && c->status == status;
}

static void diag_list(const struct hs_check_list *list, bool all)
{
	for (unsigned i = 0; i < list->count; i++) {
		const struct hs_check *c = &list->items[i];

		if (all || c->status != HS_CHECK_OK)
			diag("  %-36s %-58s layout %lld binary %lld: %s", c->source, c->what,
			     (long long)c->expected, (long long)c->derived,
			     hs_check_status_name(c->status));
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- synthetic images ------------------------------------------------ */

#define TYPES 0x100000u   /* PyType_Type, PyFunction_Type, PyList_Type */
#define T_TYPE (TYPES + 0x000)
#define T_FUNC (TYPES + 0x200)
#define T_LIST (TYPES + 0x400)
#define STRS 0x200000u    /* names; the last 64 bytes are 'z' with no NUL */
#define TABLES 0x300000u  /* member tables */
#define HUGE 0x10000000u  /* 10^6 member entries */
#define HUGE_COUNT 1000000u
#define WILD 0x7fffdead0000ull

enum variant {
	GOOD,
	UNTERMINATED,   /* function members: 100 entries, no NULL name */
	SELF_LOOP,      /* function tp_members points at the type object itself */
	NAME_LOOP,      /* every name points back into the table */
	MILLION,        /* 10^6 entries, __globals__ last */
	WILD_TABLE,     /* tp_members in unmapped memory */
	WRAP_TABLE,     /* tp_members near 2^64: address arithmetic wraps */
	WILD_NAMES,     /* member names in unmapped memory */
	SHORT_TABLE,    /* table region ends in the middle of an entry */
	LONG_NAME,      /* a 100-byte member name */
	LIST_WILD_NAME, /* PyList_Type's tp_name in unmapped memory */
	LIST_NO_NUL,    /* PyList_Type's tp_name runs into the end of memory */
	TYPE_UNTERMINATED, /* PyType_Type's own member table has no end */
};

static const char *const variant_names[] = {
	"good", "unterminated", "self-loop", "name-loop", "10^6 entries", "wild table",
	"wrapping table", "wild names", "short table", "long name", "wild tp_name",
	"tp_name without NUL", "PyType_Type unterminated",
};

struct strs {
	char *buf;
	size_t used;
};

static uint64_t str_add(struct strs *s, const char *text)
{
	uint64_t at = STRS + s->used;

	memcpy(s->buf + s->used, text, strlen(text) + 1);
	s->used += strlen(text) + 1;
	return at;
}

static void put64(void *buf, size_t at, uint64_t v)
{
	memcpy((char *)buf + at, &v, 8);
}

/* PyMemberDef: name at 0, type at 8, offset at 16, flags at 24; 40 bytes. */
static void put_member(void *table, unsigned i, uint64_t name, int64_t offset)
{
	put64(table, i * 40, name);
	put64(table, i * 40 + 16, (uint64_t)offset);
}

static void fake_type(char *types, uint64_t at, uint64_t name, int64_t basicsize,
		      int64_t itemsize, int64_t dictoffset, int64_t weakoffset, uint64_t members)
{
	size_t o = at - TYPES;

	put64(types, o + 0, 1);      /* ob_refcnt */
	put64(types, o + 8, T_TYPE); /* ob_type */
	put64(types, o + 24, name);
	put64(types, o + 32, (uint64_t)basicsize);
	put64(types, o + 40, (uint64_t)itemsize);
	put64(types, o + 208, (uint64_t)weakoffset);
	put64(types, o + 240, members);
	put64(types, o + 288, (uint64_t)dictoffset);
}

static struct hs_memsrc *build_image(enum variant v)
{
	struct hs_image *img = hs_image_new(0);
	char *types = calloc(1, 0x800), *tables = calloc(1, 0x2000);
	struct strs s = {calloc(1, 0x1000), 0};
	uint64_t type_members = TABLES, fn_members = TABLES + 0x1000, list_name;
	size_t tables_len = 0x2000;
	int err = 0;

	/* PyType_Type's members (3.12: no __mro__) */
	static const struct { const char *name; int64_t off; } tm[] = {
		{"__basicsize__", 32}, {"__itemsize__", 40}, {"__flags__", 168},
		{"__weakrefoffset__", 208}, {"__base__", 256}, {"__dictoffset__", 288},
	};
	for (unsigned i = 0; i < 6; i++)
		put_member(tables, i, str_add(&s, tm[i].name), tm[i].off);
	if (v == TYPE_UNTERMINATED)
		for (unsigned i = 6; i < 100; i++)
			put_member(tables, i, str_add(&s, "x"), 8);

	/* PyFunction_Type's members */
	char *fn = tables + 0x1000;
	uint64_t globals = str_add(&s, "__globals__");

	put_member(fn, 0, globals, 16);
	put_member(fn, 1, str_add(&s, "__closure__"), 72);
	put_member(fn, 2, str_add(&s, "__builtins__"), 24);
	switch (v) {
	case UNTERMINATED:
		for (unsigned i = 3; i < 100; i++)
			put_member(fn, i, str_add(&s, "x"), 8);
		break;
	case SELF_LOOP:
		fn_members = T_FUNC;
		break;
	case NAME_LOOP:
		for (unsigned i = 0; i < 100; i++)
			put_member(fn, i, fn_members + 40 * (i % 3), 16);
		break;
	case MILLION: {
		size_t len = (size_t)HUGE_COUNT * 40;
		char *huge = calloc(1, len);
		uint64_t y = str_add(&s, "y");

		for (unsigned i = 0; huge && i < HUGE_COUNT; i++)
			put_member(huge, i, i == HUGE_COUNT - 1 ? globals : y, 16);
		err |= hs_image_add(img, HUGE, huge, huge ? len : 0);
		fn_members = HUGE;
		break;
	}
	case WILD_TABLE:
		fn_members = WILD;
		break;
	case WRAP_TABLE:
		fn_members = UINT64_MAX - 15;
		break;
	case WILD_NAMES:
		put_member(fn, 1, WILD, 72);
		put_member(fn, 2, UINT64_MAX - 3, 24);
		break;
	case SHORT_TABLE:
		/* the table region ends inside the terminator's name pointer */
		tables_len = 0x1000 + 3 * 40 + 4;
		break;
	case LONG_NAME: {
		char name[101];

		memset(name, 'n', 100);
		name[100] = '\0';
		put_member(fn, 1, str_add(&s, name), 72);
		break;
	}
	default:
		break;
	}

	/* the last 64 bytes of the string region: no NUL, then unmapped */
	memset(s.buf + 0x1000 - 64, 'z', 64);
	list_name = v == LIST_WILD_NAME ? WILD : v == LIST_NO_NUL ? STRS + 0x1000 - 64
										: str_add(&s, "list");
	fake_type(types, T_TYPE, str_add(&s, "type"), 920, 40, 264, 368, type_members);
	fake_type(types, T_FUNC, str_add(&s, "function"), 144, 0, 88, 96, fn_members);
	fake_type(types, T_LIST, list_name, 40, 0, 0, 0, 0);

	err |= hs_image_add(img, TYPES, types, 0x800);
	err |= hs_image_add(img, STRS, s.buf, 0x1000);
	err |= hs_image_add(img, TABLES, tables, tables_len);
	hs_image_seal(img);
	if (err)
		diag("building image %s failed", variant_names[v]);
	return hs_image_memsrc(img);
}

/* The 3.12 layout the fake objects follow (only what they hold). */
static void synthetic_layout(struct hs_layout *l)
{
	static const struct { enum hs_field f; int32_t off; uint32_t size; } fields[] = {
		{HS_F_OB_REFCNT, 0, 8}, {HS_F_OB_TYPE, 8, 8}, {HS_F_TP_NAME, 24, 8},
		{HS_F_TP_BASICSIZE, 32, 8}, {HS_F_TP_ITEMSIZE, 40, 8}, {HS_F_TP_FLAGS, 168, 8},
		{HS_F_TP_WEAKLISTOFFSET, 208, 8}, {HS_F_TP_MEMBERS, 240, 8}, {HS_F_TP_BASE, 256, 8},
		{HS_F_TP_DICT, 264, 8}, {HS_F_TP_DICTOFFSET, 288, 8}, {HS_F_TP_WEAKLIST, 368, 8},
		{HS_F_MD_NAME, 0, 8}, {HS_F_MD_OFFSET, 16, 8},
		{HS_F_FN_GLOBALS, 16, 8}, {HS_F_FN_BUILTINS, 24, 8}, {HS_F_FN_CLOSURE, 72, 8},
		{HS_F_FN_DICT, 88, 8},
	};

	hs_layout_init(l);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		l->off[fields[i].f] = fields[i].off;
		l->fsize[fields[i].f] = fields[i].size;
	}
	l->size[HS_S_OBJECT] = 16;
	l->size[HS_S_TYPE] = 416;
	l->size[HS_S_HEAPTYPE] = 920;
	l->size[HS_S_MEMBERDEF] = 40;
	l->size[HS_S_FUNCTION] = 144;
	l->size[HS_S_LIST] = 40;
}

static struct hs_pyelf *synthetic_elf(void)
{
	struct hs_pyelf *elf = calloc(1, sizeof(*elf));

	elf->major = 3;
	elf->minor = 12;
	elf->sym[HS_SYM_TYPE] = T_TYPE;
	elf->sym[HS_SYM_FUNCTION] = T_FUNC;
	elf->sym[HS_SYM_LIST] = T_LIST;
	return elf;
}

static void test_synthetic_good(const struct hs_pyelf *elf)
{
	struct hs_memsrc *mem = build_image(GOOD);
	struct hs_check_list list = {0};
	struct hs_layout l, orig;
	int rc;

	synthetic_layout(&l);
	orig = l;
	rc = hs_typecheck_run(mem, elf, &l, true, &list);
	/* PyBaseObject_Type is not in the image: its size check is unavailable */
	ok(rc == 0 && hs_checks_count(&list, HS_CHECK_OK) == list.count - 1 && list.count == 20 &&
	   status_is(&list, "PyBaseObject_Type.tp_basicsize", HS_CHECK_UNAVAILABLE),
	   "synthetic: %u checks, all ok but the absent symbol's (rc %d)", list.count, rc);
	ok(memcmp(&l, &orig, sizeof(l)) == 0, "synthetic: a right layout is left unchanged");
	ok(status_is(&list, "PyFunction_Type.__globals__", HS_CHECK_OK) &&
	   status_is(&list, "PyFunction_Type.__builtins__", HS_CHECK_OK) &&
	   status_is(&list, "PyType_Type.__basicsize__", HS_CHECK_OK) &&
	   status_is(&list, "PyType_Type.tp_itemsize", HS_CHECK_OK) &&
	   status_is(&list, "PyList_Type.tp_basicsize", HS_CHECK_OK),
	   "synthetic: member, slot and size checks ran");
	ok(!find(&list, "PyType_Type.__mro__"), "synthetic: __mro__ is not checked on 3.12");
	diag_list(&list, false);

	/* a wrong member offset: MISMATCH, or CORRECTED when allowed */
	memset(&list, 0, sizeof(list));
	l.off[HS_F_FN_GLOBALS] = 32;
	rc = hs_typecheck_run(mem, elf, &l, false, &list);
	ok(rc == HS_ENOLAYOUT && status_is(&list, "PyFunction_Type.__globals__", HS_CHECK_MISMATCH) &&
	   l.off[HS_F_FN_GLOBALS] == 32 && strstr(hs_errmsg(), "__globals__"),
	   "synthetic: FN_GLOBALS 32 is a MISMATCH without may_correct: %s", hs_errmsg());
	memset(&list, 0, sizeof(list));
	rc = hs_typecheck_run(mem, elf, &l, true, &list);
	ok(rc == 0 && status_is(&list, "PyFunction_Type.__globals__", HS_CHECK_CORRECTED) &&
	   l.off[HS_F_FN_GLOBALS] == 16 && memcmp(&l, &orig, sizeof(l)) == 0,
	   "synthetic: FN_GLOBALS 32 is corrected to 16");

	/* a correction that would put a field outside its struct is refused */
	memset(&list, 0, sizeof(list));
	l.size[HS_S_FUNCTION] = 152;
	l.off[HS_F_FN_DICT] = 140;
	rc = hs_typecheck_run(mem, elf, &l, true, &list);
	ok(rc == HS_ENOLAYOUT &&
	   status_is(&list, "PyFunction_Type.tp_basicsize", HS_CHECK_MISMATCH) &&
	   status_is(&list, "PyFunction_Type.tp_dictoffset", HS_CHECK_CORRECTED) &&
	   l.size[HS_S_FUNCTION] == 152,
	   "synthetic: sizeof 144 is refused while FN_DICT (140) lies past it");
	hs_memsrc_free(mem);
}

static void test_synthetic_hostile(const struct hs_pyelf *elf)
{
	for (int v = UNTERMINATED; v <= TYPE_UNTERMINATED; v++) {
		struct hs_memsrc *mem = build_image((enum variant)v);
		struct hs_check_list list = {0};
		struct hs_layout l, orig;
		const struct hs_check *g;
		double t0 = now_s(), took;
		int rc;

		synthetic_layout(&l);
		if (v < LIST_WILD_NAME) /* so a trusted garbage table would "correct" it */
			l.off[HS_F_FN_GLOBALS] = 32;
		orig = l;
		rc = hs_typecheck_run(mem, elf, &l, true, &list);
		took = now_s() - t0;
		g = find(&list, "PyFunction_Type.__globals__");
		ok(took < 2.0, "hostile %s: done in %.3f s", variant_names[v], took);
		ok(hs_checks_count(&list, HS_CHECK_CORRECTED) == 0 && memcmp(&l, &orig, sizeof(l)) == 0,
		   "hostile %s: nothing corrected", variant_names[v]);
		switch (v) {
		case LIST_WILD_NAME:
		case LIST_NO_NUL:
			ok(rc == HS_ENOLAYOUT &&
			   status_is(&list, "PyList_Type.tp_name", HS_CHECK_MISMATCH) &&
			   !find(&list, "PyList_Type.tp_basicsize"),
			   "hostile %s: PyList_Type refused, its checks skipped", variant_names[v]);
			break;
		case TYPE_UNTERMINATED:
			ok(rc == HS_ENOLAYOUT && list.count == 3 &&
			   status_is(&list, "PyType_Type.tp_members", HS_CHECK_MISMATCH),
			   "hostile %s: guard fails, nothing else checked", variant_names[v]);
			break;
		case SHORT_TABLE:
		case LONG_NAME:
		case WILD_NAMES:
			/* the table is broken after __globals__: still not trusted */
		default:
			ok(g && g->status == HS_CHECK_UNAVAILABLE &&
			   status_is(&list, "PyFunction_Type.tp_basicsize", HS_CHECK_OK) &&
			   rc == 0,
			   "hostile %s: __globals__ unavailable, rest ok", variant_names[v]);
			break;
		}
		hs_memsrc_free(mem);
	}
}

/* --- live interpreters ----------------------------------------------- */

/* pyenv builds live in $PYENV_ROOT/versions (default ~/.pyenv), the sid
 * chroot in $HEAPSCOPE_CHROOT_DIR/sid (default /var/cache/heapscope/chroots) */
enum where { HOST, PYENV, SID };

struct interp {
	const char *name;
	enum where where;
	const char *python;     /* under pyenv's versions/, inside the chroot, or absolute */
	int minor;
	const char *dwarf_from; /* NULL: its own DWARF; else (under versions/) a build
				 * with the same layouts */
	unsigned min_ok;        /* applicable checks expected at least */
};

static const struct interp interps[] = {
	{"pyenv 3.8", PYENV, "3.8.18/bin/python3", 8, NULL, 60},
	{"pyenv 3.9", PYENV, "3.9.18/bin/python3", 9, NULL, 60},
	{"pyenv 3.10", PYENV, "3.10.13/bin/python3", 10, NULL, 60},
	{"pyenv 3.11", PYENV, "3.11.7/bin/python3", 11, NULL, 50},
	{"pyenv 3.12", PYENV, "3.12.1/bin/python3", 12, NULL, 50},
	{"pyenv 3.13", PYENV, "3.13.0/bin/python3", 13, NULL, 50},
	/* stripped and without its debug file: pyenv 3.11.7's DWARF stands in */
	{"Debian 3.11", HOST, "/usr/bin/python3.11", 11, "3.11.7/lib/libpython3.11.so.1.0", 50},
	{"sid 3.13", SID, "/usr/bin/python3.13", 13, NULL, 50},
	{"sid 3.14", SID, "/usr/bin/python3.14", 14, NULL, 45},
	{"sid 3.15", SID, "/usr/bin/python3.15", 15, NULL, 45},
};

/* An interpreter's paths on this machine. */
struct where_paths {
	const char *root;       /* chroot, or NULL */
	char python[4096];      /* inside root */
	char exe[8192];         /* on this machine */
	char dwarf_from[4096];  /* "" if none */
};

static void locate(const struct interp *in, struct where_paths *w)
{
	const char *pyenv = getenv("PYENV_ROOT"), *chroots = getenv("HEAPSCOPE_CHROOT_DIR");
	const char *home = getenv("HOME");
	static char versions[1024], sid[1024];

	snprintf(versions, sizeof(versions), "%s%s/versions", pyenv ? pyenv : home ? home : "/root",
		 pyenv ? "" : "/.pyenv");
	snprintf(sid, sizeof(sid), "%s/sid", chroots ? chroots : "/var/cache/heapscope/chroots");
	w->root = in->where == SID ? sid : NULL;
	snprintf(w->python, sizeof(w->python), "%s%s%s", in->where == PYENV ? versions : "",
		 in->where == PYENV ? "/" : "", in->python);
	snprintf(w->exe, sizeof(w->exe), "%s%s", w->root ? w->root : "", w->python);
	w->dwarf_from[0] = '\0';
	if (in->dwarf_from)
		snprintf(w->dwarf_from, sizeof(w->dwarf_from), "%s/%s", versions, in->dwarf_from);
}

struct child {
	pid_t pid;
	int stdin_fd;
};

/* Start the interpreter with a pipe on stdin and wait until it blocks
 * reading it (read(0, ...) in /proc/PID/syscall): by then it is fully
 * initialized. */
static bool start(const struct where_paths *w, struct child *c)
{
	int fds[2];

	if (pipe(fds) < 0)
		return false;
	c->pid = fork();
	if (c->pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		if (w->root)
			execlp("chroot", "chroot", w->root, w->python, "-c",
			       "import sys; sys.stdin.read()", (char *)NULL);
		else
			execl(w->python, w->python, "-c", "import sys; sys.stdin.read()",
			      (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	c->stdin_fd = fds[1];
	if (c->pid < 0)
		return false;
	for (int i = 0; i < 1000; i++) { /* 10 s */
		char path[64], line[64] = "";
		int fd, n;

		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			c->pid = -1;
			return false;
		}
		snprintf(path, sizeof(path), "/proc/%d/syscall", (int)c->pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? (int)read(fd, line, sizeof(line) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0 && strncmp(line, "0 0x0 ", 6) == 0)
			return true;
		usleep(10000);
	}
	return false;
}

static void stop(struct child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	if (c->stdin_fd >= 0)
		close(c->stdin_fd);
	c->pid = -1;
	c->stdin_fd = -1;
}

static int load_dwarf_file(const char *path, struct hs_layout *l)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return HS_ENOLAYOUT;
	hs_layout_init(l);
	rc = hs_dwarf_load_layout(fd, path, l);
	close(fd);
	return rc;
}

/* The interpreter's DWARF: its build-id debug file, else its own ELF. */
static bool load_truth(const struct where_paths *w, int pid, const struct hs_pyelf *elf,
		       struct hs_layout *l, char *from, size_t fromlen)
{
	const char *b = elf->build_id;

	if (w->dwarf_from[0]) {
		snprintf(from, fromlen, "%s", w->dwarf_from);
		return load_dwarf_file(from, l) == 0;
	}
	snprintf(from, fromlen, "/proc/%d/root/usr/lib/debug/.build-id/%.2s/%s.debug",
		 pid, b, b + 2);
	if (strlen(b) > 2 && load_dwarf_file(from, l) == 0)
		return true;
	snprintf(from, fromlen, "/proc/%d/root%s", pid, elf->path);
	return load_dwarf_file(from, l) == 0;
}

static int run(struct hs_memsrc *mem, const struct hs_pyelf *elf, struct hs_layout *l,
	       bool may_correct, struct hs_check_list *list)
{
	memset(list, 0, sizeof(*list));
	return hs_typecheck_run(mem, elf, l, may_correct, list);
}

static void test_live(const struct interp *in)
{
	static struct where_paths w;
	char from[4200];
	struct child c = {-1, -1};
	struct hs_maps maps = {0};
	struct hs_files *files = calloc(1, sizeof(*files));
	struct hs_pyelf *elf = calloc(1, sizeof(*elf));
	struct hs_check_list *list = calloc(1, sizeof(*list));
	struct hs_layout truth, l;
	struct hs_memsrc *mem = NULL;
	const struct hs_check *k;
	bool found;
	int rc;

	locate(in, &w);
	if (access(w.exe, X_OK) != 0 || (w.dwarf_from[0] && access(w.dwarf_from, R_OK) != 0)) {
		ok(true, "%s # SKIP %s is not installed", in->name,
		   access(w.exe, X_OK) ? w.exe : w.dwarf_from);
		goto out;
	}
	if (w.root && geteuid() != 0) {
		ok(true, "%s # SKIP chroot needs root", in->name);
		goto out;
	}
	if (!ok(start(&w, &c), "%s: started %s", in->name, w.exe))
		goto out;
	hs_files_live(c.pid, files);
	found = hs_maps_read(c.pid, &maps) == 0 && hs_pyelf_find(files, &maps, elf) == 0 &&
		elf->minor == in->minor && (mem = hs_live_memsrc_new(c.pid)) != NULL;
	if (!ok(found, "%s: found Python %s in PID %d", in->name, elf->version, (int)c.pid))
		goto out;
	if (!load_truth(&w, c.pid, elf, &truth, from, sizeof(from))) {
		ok(true, "%s # SKIP no DWARF for build %s", in->name, elf->build_id);
		goto out;
	}
	diag("%s: layout from %s", in->name, from);

	/* the truth passes, with nothing to correct */
	l = truth;
	rc = run(mem, elf, &l, true, list);
	ok(rc == 0 && hs_checks_count(list, HS_CHECK_OK) == list->count &&
	   list->count >= in->min_ok && !list->dropped,
	   "%s: %u checks, all ok (at least %u expected; rc %d)", in->name, list->count,
	   in->min_ok, rc);
	diag_list(list, false);
	ok(memcmp(&l, &truth, sizeof(l)) == 0, "%s: the DWARF layout is left unchanged", in->name);

	/* a member offset */
	l.off[HS_F_FN_GLOBALS] += 8;
	rc = run(mem, elf, &l, false, list);
	k = find(list, "PyFunction_Type.__globals__");
	ok(rc == HS_ENOLAYOUT && k && k->status == HS_CHECK_MISMATCH &&
	   k->derived == truth.off[HS_F_FN_GLOBALS] && l.off[HS_F_FN_GLOBALS] == truth.off[HS_F_FN_GLOBALS] + 8 &&
	   hs_checks_count(list, HS_CHECK_MISMATCH) == 1,
	   "%s: FN_GLOBALS+8 is one MISMATCH without may_correct", in->name);
	rc = run(mem, elf, &l, true, list);
	ok(rc == 0 && status_is(list, "PyFunction_Type.__globals__", HS_CHECK_CORRECTED) &&
	   memcmp(&l, &truth, sizeof(l)) == 0,
	   "%s: FN_GLOBALS+8 is corrected", in->name);

	/* a struct size */
	l.size[HS_S_LIST] += 8;
	rc = run(mem, elf, &l, true, list);
	ok(rc == 0 && status_is(list, "PyList_Type.tp_basicsize", HS_CHECK_CORRECTED) &&
	   memcmp(&l, &truth, sizeof(l)) == 0,
	   "%s: sizeof(PyListObject)+8 is corrected", in->name);

	/* a tp_* offset every later read depends on: corrected first */
	l.off[HS_F_TP_BASICSIZE] += 8;
	rc = run(mem, elf, &l, true, list);
	ok(rc == 0 && status_is(list, "PyType_Type.__basicsize__", HS_CHECK_CORRECTED) &&
	   hs_checks_count(list, HS_CHECK_CORRECTED) == 1 && memcmp(&l, &truth, sizeof(l)) == 0,
	   "%s: TP_BASICSIZE+8 is corrected before it is used", in->name);
	l.off[HS_F_TP_BASICSIZE] += 8;
	rc = run(mem, elf, &l, false, list);
	ok(rc == HS_ENOLAYOUT && hs_checks_count(list, HS_CHECK_MISMATCH) > 10,
	   "%s: TP_BASICSIZE+8 without may_correct: %u MISMATCHes", in->name,
	   hs_checks_count(list, HS_CHECK_MISMATCH));
	l = truth;

	/* the guards: never corrected */
	l.off[HS_F_TP_NAME] += 8;
	rc = run(mem, elf, &l, true, list);
	ok(rc == HS_ENOLAYOUT && status_is(list, "PyType_Type.tp_name", HS_CHECK_MISMATCH) &&
	   hs_checks_count(list, HS_CHECK_CORRECTED) == 0 &&
	   l.off[HS_F_TP_NAME] == truth.off[HS_F_TP_NAME] + 8,
	   "%s: TP_NAME+8 is refused even with may_correct: %s", in->name, hs_errmsg());
	l = truth;
	l.off[HS_F_OB_TYPE] += 8;
	rc = run(mem, elf, &l, true, list);
	ok(rc == HS_ENOLAYOUT && status_is(list, "PyType_Type.ob_type", HS_CHECK_MISMATCH) &&
	   list->count == 1, "%s: OB_TYPE+8 is refused", in->name);
	l = truth;

	/* a sum of two offsets cannot be pinned on one: refused */
	if (in->minor >= 11) {
		l.off[HS_F_IF_LOCALSPLUS] += 8;
		rc = run(mem, elf, &l, true, list);
		ok(rc == HS_ENOLAYOUT &&
		   status_is(list, "PyFrame_Type.tp_basicsize", HS_CHECK_MISMATCH) &&
		   status_is(list, "PyGen_Type.tp_basicsize", HS_CHECK_MISMATCH) &&
		   l.off[HS_F_IF_LOCALSPLUS] == truth.off[HS_F_IF_LOCALSPLUS] + 8,
		   "%s: IF_LOCALSPLUS+8 is refused", in->name);
	} else {
		/* pre-3.11 frames: a member of PyFrameObject */
		l.off[HS_F_FR_GLOBALS] -= 8;
		rc = run(mem, elf, &l, true, list);
		ok(rc == 0 && status_is(list, "PyFrame_Type.f_globals", HS_CHECK_CORRECTED) &&
		   memcmp(&l, &truth, sizeof(l)) == 0, "%s: FR_GLOBALS-8 is corrected", in->name);
	}
out:
	stop(&c);
	hs_maps_release(&maps);
	hs_memsrc_free(mem);
	free(files);
	free(elf);
	free(list);
}

int main(void)
{
	struct hs_pyelf *elf = synthetic_elf();

	test_synthetic_good(elf);
	test_synthetic_hostile(elf);
	free(elf);
	for (size_t i = 0; i < sizeof(interps) / sizeof(interps[0]); i++)
		test_live(&interps[i]);
	return done();
}
