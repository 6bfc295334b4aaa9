/*
 * A core file of a Python process gives the same heap as the process.
 *
 * For every installed test interpreter (pyenv builds, Debian's stripped
 * python3.11, the sid chroot's; a missing one is a TAP skip): start it
 * idle, capture and walk it live (as `heapscope summary PID` does), dump
 * it with gdb's gcore, then open the core (hs_core_open, with the chroot
 * as sysroot for the chroot's interpreter), resolve its layouts
 * (hs_python_resolve) and walk it.  The two graphs must hold the same
 * objects at the same addresses, with the same types, sizes and
 * references, and the layouts must come from the same source.
 *
 * The same with a core the kernel writes (SIGABRT; read-only file
 * mappings have p_filesz 0 or one page), when core_pattern lets us find
 * it; for the chroot's interpreter its paths are the chroot's, so only the
 * sysroot finds its files, and without one resolution must fail.
 *
 * Then the refusal: a gcore with a sysroot whose libpython is another
 * build must fail with HS_EINCONSISTENT naming the file.
 *
 * Needs root (ptrace, chroot) and gcore; exits 77 without them.
 */
#include "heapscope/core.h"
#include "heapscope/error.h"
#include "heapscope/files.h"
#include "heapscope/resolve.h"
#include "heapscope/target.h"
#include "heapscope/walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

enum where { HOST, PYENV, SID };

struct interp {
	const char *name;
	enum where where;
	const char *python; /* under pyenv's versions/, inside the chroot, or absolute */
};

static const struct interp interps[] = {
	{"pyenv 3.8", PYENV, "3.8.18/bin/python3"},
	{"pyenv 3.11", PYENV, "3.11.7/bin/python3"},
	{"pyenv 3.12", PYENV, "3.12.1/bin/python3"},
	{"pyenv 3.13", PYENV, "3.13.0/bin/python3"},
	{"Debian 3.11 (stripped)", HOST, "/usr/bin/python3.11"},
	{"sid 3.13", SID, "/usr/bin/python3.13"},
	{"sid 3.14", SID, "/usr/bin/python3.14"},
	{"sid 3.15", SID, "/usr/bin/python3.15"},
};

/* A small heap of our own beside the interpreter's, and a thread. */
static const char script[] =
	"import sys, threading\n"
	"class Node:\n"
	"    def __init__(self, i): self.i = i; self.next = None; self.tag = 'n%d' % i\n"
	"keep = [Node(i) for i in range(500)]\n"
	"for a, b in zip(keep, keep[1:]): a.next = b\n"
	"table = {('k', i): [i, str(i), float(i)] for i in range(300)}\n"
	"ev = threading.Event()\n"
	"t = threading.Thread(target=ev.wait, name='waiter', daemon=True); t.start()\n"
	"sys.stdin.read()\n";

struct where_paths {
	const char *root;      /* chroot, or NULL */
	char python[4096];     /* inside root */
	char exe[8192];        /* on this machine */
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
}

struct child {
	pid_t pid;
	int stdin_fd;
};

static int count_threads(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Blocked in read(0, ...) with two threads: the script has run. */
static bool settled(pid_t pid)
{
	char path[64], line[64] = "";
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? (int)read(fd, line, sizeof(line) - 1) : -1;
	if (fd >= 0)
		close(fd);
	return n > 0 && strncmp(line, "0 0x0 ", 6) == 0 && count_threads(pid) >= 2;
}

/* Start the interpreter; with `cwd` (inside its root), it may dump core
 * there. */
static bool start_in(const struct where_paths *w, const char *cwd, struct child *c)
{
	int fds[2];

	if (pipe(fds) < 0)
		return false;
	c->pid = fork();
	if (c->pid == 0) {
		struct rlimit core = {RLIM_INFINITY, RLIM_INFINITY};
		int null = open("/dev/null", O_WRONLY);

		dup2(fds[0], 0);
		dup2(null, 1);
		dup2(null, 2);
		close(fds[0]);
		close(fds[1]);
		if (cwd) {
			if (setrlimit(RLIMIT_CORE, &core) != 0 || (w->root && chroot(w->root) != 0) ||
			    chdir(cwd) != 0)
				_exit(126);
			execl(w->python, w->python, "-c", script, (char *)NULL);
		} else if (w->root) {
			execlp("chroot", "chroot", w->root, w->python, "-c", script, (char *)NULL);
		} else {
			execl(w->python, w->python, "-c", script, (char *)NULL);
		}
		_exit(127);
	}
	close(fds[0]);
	c->stdin_fd = fds[1];
	if (c->pid < 0)
		return false;
	for (int i = 0; i < 1000; i++) { /* 10 s */
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			c->pid = -1;
			return false;
		}
		if (settled(c->pid)) {
			usleep(50000);
			return true;
		}
		usleep(10000);
	}
	return false;
}

static bool start(const struct where_paths *w, struct child *c)
{
	return start_in(w, NULL, c);
}

static void stop(struct child *c)
{
	if (c->stdin_fd >= 0)
		close(c->stdin_fd);
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	c->pid = -1;
	c->stdin_fd = -1;
}

/* gcore -o prefix PID; the core is prefix.PID. */
static bool gcore(pid_t pid, const char *prefix, char *core, size_t len)
{
	char spid[32];
	pid_t g;
	int status;

	snprintf(spid, sizeof(spid), "%d", (int)pid);
	snprintf(core, len, "%s.%d", prefix, (int)pid);
	g = fork();
	if (g == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("gcore", "gcore", "-o", prefix, spid, (char *)NULL);
		_exit(127);
	}
	return g > 0 && waitpid(g, &status, 0) == g && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0 && access(core, R_OK) == 0;
}

/* Live, as session.c does it: resolve before the pause, capture, walk. */
static int walk_live(pid_t pid, struct hs_python *py, struct hs_capture *cap,
		     struct hs_graph *g)
{
	struct hs_capture_opts copts = {.max_bytes = 0, .stop_timeout_ms = 3000};
	struct hs_maps maps = {0};
	struct hs_files files;
	struct hs_memsrc *live;
	int err;

	hs_files_live(pid, &files);
	if ((err = hs_maps_read(pid, &maps)) < 0)
		return err;
	if (!(live = hs_live_memsrc_new(pid))) {
		hs_maps_release(&maps);
		return HS_ENOMEM;
	}
	err = hs_python_resolve(&files, &maps, live, &(struct hs_resolve_opts){0}, py);
	hs_memsrc_free(live);
	hs_maps_release(&maps);
	if (err < 0 || (err = hs_capture_process(pid, &copts, cap)) < 0)
		return err;
	return hs_walk(hs_capture_memsrc(cap), py, NULL, g);
}

static int walk_core(const char *path, const char *sysroot, struct hs_core *core,
		     struct hs_python *py, struct hs_graph *g)
{
	int err;

	if ((err = hs_core_open(path, sysroot, core)) < 0 ||
	    (err = hs_python_resolve(&core->files, &core->maps, core->mem,
				     &(struct hs_resolve_opts){0}, py)) < 0)
		return err;
	return hs_walk(core->mem, py, NULL, g);
}

static uint64_t total_size(const struct hs_graph *g)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < g->count; i++)
		sum += g->size[i];
	return sum;
}

static const char *kind(const struct hs_graph *g, uint32_t obj)
{
	return g->types[g->type[obj]].name;
}

/* Every object of `a` is in `b` at the same address, with the same kind,
 * size and out-degree; and the counts agree.  Returns the differences. */
static size_t differences(const struct hs_graph *a, const struct hs_graph *b)
{
	size_t diff = a->count != b->count;

	for (size_t i = 0; i < a->count; i++) {
		uint32_t j = hs_graph_find(b, a->addr[i]);
		const struct hs_edge *ea, *eb, *ea_end, *eb_end;

		if (j == HS_NO_OBJECT) {
			if (diff++ < 5)
				diag("  0x%llx (%s) is not in the core's graph",
				     (unsigned long long)a->addr[i], kind(a, (uint32_t)i));
			continue;
		}
		ea = hs_graph_edges(a, (uint32_t)i, &ea_end);
		eb = hs_graph_edges(b, j, &eb_end);
		if (strcmp(kind(a, (uint32_t)i), kind(b, j)) != 0 || a->size[i] != b->size[j] ||
		    ea_end - ea != eb_end - eb) {
			if (diff++ < 5)
				diag("  0x%llx: %s %llu bytes %zd refs live, %s %llu bytes %zd refs core",
				     (unsigned long long)a->addr[i], kind(a, (uint32_t)i),
				     (unsigned long long)a->size[i], ea_end - ea, kind(b, j),
				     (unsigned long long)b->size[j], eb_end - eb);
		}
	}
	return diff;
}

/* Objects per kind, for the diagnostics. */
static void histogram_line(const struct hs_graph *g, char *out, size_t len)
{
	size_t nstr = 0, ndict = 0, nnode = 0;

	for (size_t i = 0; i < g->count; i++) {
		const char *k = kind(g, (uint32_t)i);

		nstr += !strcmp(k, "str");
		ndict += !strcmp(k, "dict");
		nnode += !strcmp(k, "__main__.Node");
	}
	snprintf(out, len, "%zu str, %zu dict, %zu Node", nstr, ndict, nnode);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return t <= n && strcmp(s + n - t, tail) == 0;
}

/* The live walk (lpy, cap, lg) against the walk of `corepath`. */
static void compare(const char *name, pid_t pid, const char *corepath, const char *sysroot,
		    const struct hs_python *lpy, const struct hs_capture *cap,
		    const struct hs_graph *lg)
{
	struct hs_python *cpy = calloc(1, sizeof(*cpy));
	struct hs_core core = {0};
	struct hs_graph cg;
	char hl[128], hc[128];
	int err;

	hs_graph_init(&cg);
	err = walk_core(corepath, sysroot, &core, cpy, &cg);
	if (!ok(err == 0, "%s: core walk%s%s: %zu objects (%s)", name,
		sysroot ? " with sysroot " : "", sysroot ? sysroot : "", cg.count,
		err ? hs_errmsg() : "ok"))
		goto out;
	ok(core.pid == pid && core.os_threads == cap->os_threads && core.files_mismatched == 0,
	   "%s: core of PID %d (%d), %zu threads (live %zu)", name, core.pid, (int)pid,
	   core.os_threads, cap->os_threads);
	/* the same file: a kernel core of a chroot's process names it as the
	 * process saw it, the live maps as we see it */
	ok(ends_with(lpy->elf.path, cpy->elf.path) &&
	   strcmp(lpy->elf.build_id, cpy->elf.build_id) == 0 &&
	   lpy->elf.hexversion == cpy->elf.hexversion &&
	   lpy->layout.source == cpy->layout.source &&
	   memcmp(lpy->layout.off, cpy->layout.off, sizeof(lpy->layout.off)) == 0,
	   "%s: the same interpreter and layouts: %s from %s", name, cpy->elf.path,
	   cpy->layout.source_detail);
	histogram_line(lg, hl, sizeof(hl));
	histogram_line(&cg, hc, sizeof(hc));
	ok(lg->count == cg.count && lg->edge_count == cg.edge_count &&
	   total_size(lg) == total_size(&cg) && lg->type_count == cg.type_count &&
	   lg->thread_count == cg.thread_count,
	   "%s: live %zu objects, %zu refs, %llu bytes, %zu types, %zu threads (%s); core %zu, "
	   "%zu, %llu, %zu, %zu (%s)", name, lg->count, lg->edge_count,
	   (unsigned long long)total_size(lg), lg->type_count, lg->thread_count, hl, cg.count,
	   cg.edge_count, (unsigned long long)total_size(&cg), cg.type_count, cg.thread_count, hc);
	ok(differences(lg, &cg) == 0, "%s: every object the same in both", name);
	ok(hs_skips_total(&cg.skips) == hs_skips_total(&lg->skips),
	   "%s: skipped %llu live, %llu in the core", name,
	   (unsigned long long)hs_skips_total(&lg->skips),
	   (unsigned long long)hs_skips_total(&cg.skips));
out:
	hs_core_release(&core);
	hs_graph_release(&cg);
	free(cpy);
}

static void test_interp(const struct interp *in, const char *tmp)
{
	struct where_paths w;
	struct child c = {-1, -1};
	struct hs_python *lpy = calloc(1, sizeof(*lpy));
	struct hs_capture cap = {0};
	struct hs_graph lg;
	char prefix[PATH_MAX], corepath[PATH_MAX + 32] = "";
	int err;

	hs_graph_init(&lg);
	locate(in, &w);
	if (access(w.exe, X_OK) != 0) {
		ok(true, "%s # SKIP %s is not installed", in->name, w.exe);
		goto out;
	}
	if (!ok(start(&w, &c), "%s: started %s", in->name, w.exe))
		goto out;
	err = walk_live(c.pid, lpy, &cap, &lg);
	if (!ok(err == 0, "%s: live walk of Python %s: %zu objects (%s)", in->name,
		lpy->elf.version, lg.count, err ? hs_errmsg() : "ok"))
		goto out;
	snprintf(prefix, sizeof(prefix), "%s/core", tmp);
	if (!ok(gcore(c.pid, prefix, corepath, sizeof(corepath)), "%s: gcore wrote %s", in->name,
		corepath))
		goto out;
	compare(in->name, c.pid, corepath, w.root, lpy, &cap, &lg);
out:
	stop(&c);
	if (corepath[0])
		unlink(corepath);
	hs_capture_release(&cap);
	hs_graph_release(&lg);
	free(lpy);
}

/* The name the kernel gives a core in the dumping process's cwd, or false
 * when core_pattern sends it elsewhere (a pipe, a directory, %e...). */
static bool kernel_core_name(pid_t pid, char *out, size_t len)
{
	char pattern[256] = "", uses_pid[8] = "0";
	FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");

	if (f) {
		if (!fgets(pattern, sizeof(pattern), f))
			pattern[0] = '\0';
		fclose(f);
	}
	if ((f = fopen("/proc/sys/kernel/core_uses_pid", "r"))) {
		if (!fgets(uses_pid, sizeof(uses_pid), f))
			uses_pid[0] = '0';
		fclose(f);
	}
	pattern[strcspn(pattern, "\n")] = '\0';
	if (strcmp(pattern, "core") == 0 && uses_pid[0] == '0')
		snprintf(out, len, "core");
	else if (strcmp(pattern, "core") == 0 || strcmp(pattern, "core.%p") == 0)
		snprintf(out, len, "core.%d", (int)pid);
	else
		return false;
	return true;
}

/* Capture live, then SIGABRT: the kernel dumps the same idle heap. */
static void test_kernel(const struct interp *in, const char *tmp)
{
	struct where_paths w;
	struct child c = {-1, -1};
	struct hs_python *lpy = calloc(1, sizeof(*lpy)), *py = calloc(1, sizeof(*py));
	struct hs_capture cap = {0};
	struct hs_core core = {0};
	struct hs_graph lg;
	char dir[PATH_MAX], inside[PATH_MAX], name[64], corepath[2 * PATH_MAX] = "";
	pid_t pid;
	int status, err;

	hs_graph_init(&lg);
	locate(in, &w);
	if (access(w.exe, X_OK) != 0) {
		ok(true, "%s, kernel core # SKIP %s is not installed", in->name, w.exe);
		goto out;
	}
	/* the core lands in the cwd, which for the chroot's is inside it */
	snprintf(dir, sizeof(dir), "%s%s/hs-kcore-XXXXXX", w.root ? w.root : tmp,
		 w.root ? "/tmp" : "");
	if (!mkdtemp(dir)) {
		ok(true, "%s, kernel core # SKIP cannot make %s", in->name, dir);
		goto out;
	}
	snprintf(inside, sizeof(inside), "%s", w.root ? dir + strlen(w.root) : dir);
	if (!ok(start_in(&w, inside, &c), "%s, kernel core: started %s in %s", in->name, w.exe,
		inside))
		goto out;
	if (!kernel_core_name(c.pid, name, sizeof(name))) {
		ok(true, "%s, kernel core # SKIP core_pattern does not write ./core", in->name);
		goto out;
	}
	err = walk_live(c.pid, lpy, &cap, &lg);
	if (!ok(err == 0, "%s, kernel core: live walk: %zu objects (%s)", in->name, lg.count,
		err ? hs_errmsg() : "ok"))
		goto out;
	pid = c.pid;
	kill(pid, SIGABRT);
	waitpid(pid, &status, 0);
	c.pid = -1;
	snprintf(corepath, sizeof(corepath), "%s/%s", dir, name);
	if (!WIFSIGNALED(status) || !WCOREDUMP(status) || access(corepath, R_OK) != 0) {
		ok(true, "%s, kernel core # SKIP no core dumped at %s", in->name, corepath);
		goto out;
	}
	compare(in->name, pid, corepath, w.root, lpy, &cap, &lg);
	if (w.root) {
		/* its paths are the chroot's: without the sysroot, other files */
		err = hs_core_open(corepath, NULL, &core);
		if (!err)
			err = hs_python_resolve(&core.files, &core.maps, core.mem,
						&(struct hs_resolve_opts){0}, py);
		ok(err < 0, "%s, kernel core without the sysroot: refused (%s)", in->name,
		   err ? hs_errmsg() : "resolved!");
	}
out:
	stop(&c);
	if (corepath[0])
		unlink(corepath);
	rmdir(dir);
	hs_core_release(&core);
	hs_capture_release(&cap);
	hs_graph_release(&lg);
	free(lpy);
	free(py);
}

static bool copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = 0;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in >= 0 && out >= 0 && n == 0;
}

/* mkdir -p of the directory part of path */
static void make_dirs(char *path)
{
	for (char *p = path + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
}

/* A sysroot holding 3.11's libpython where the 3.12 process had its own. */
static void test_wrong_build(const char *tmp)
{
	struct where_paths w12, w11;
	struct child c = {-1, -1};
	struct hs_python *py = calloc(1, sizeof(*py));
	struct hs_core core = {0};
	char prefix[PATH_MAX], corepath[PATH_MAX + 32] = "", root[PATH_MAX], lib[2 * PATH_MAX];
	char lib11[PATH_MAX], *slash;
	int err;

	locate(&interps[2], &w12);
	locate(&interps[1], &w11);
	snprintf(lib11, sizeof(lib11), "%s", w11.python);
	if ((slash = strstr(lib11, "/bin/python3")))
		snprintf(slash, sizeof(lib11) - (size_t)(slash - lib11), "/lib/libpython3.11.so.1.0");
	if (access(w12.exe, X_OK) != 0 || access(lib11, R_OK) != 0) {
		ok(true, "wrong build # SKIP needs %s and %s", w12.exe, lib11);
		goto out;
	}
	snprintf(root, sizeof(root), "%s/wrong-root", tmp);
	snprintf(lib, sizeof(lib), "%s%s", root, w12.python);
	if ((slash = strstr(lib, "/bin/python3")))
		snprintf(slash, sizeof(lib) - (size_t)(slash - lib), "/lib/libpython3.12.so.1.0");
	make_dirs(lib);
	if (!ok(copy_file(lib11, lib), "wrong build: %s put at %s", lib11, lib) ||
	    !ok(start(&w12, &c), "wrong build: started %s", w12.exe))
		goto out;
	snprintf(prefix, sizeof(prefix), "%s/core", tmp);
	if (!ok(gcore(c.pid, prefix, corepath, sizeof(corepath)), "wrong build: gcore"))
		goto out;
	err = hs_core_open(corepath, root, &core);
	if (!ok(err == 0, "wrong build: the core opens (%s)", err ? hs_errmsg() : "ok"))
		goto out;
	ok(core.files_mismatched >= 1 && strstr(core.mismatch, "libpython3.12"),
	   "wrong build: %u mismatched file(s), first %s", core.files_mismatched, core.mismatch);
	err = hs_python_resolve(&core.files, &core.maps, core.mem, &(struct hs_resolve_opts){0}, py);
	ok(err == HS_EINCONSISTENT && strstr(hs_errmsg(), "libpython3.12") &&
	   strstr(hs_errmsg(), "--sysroot"), "wrong build: resolve refuses it (%s)", hs_errmsg());
out:
	stop(&c);
	if (corepath[0])
		unlink(corepath);
	hs_core_release(&core);
	free(py);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	char tmp[PATH_MAX - 64], cmd[PATH_MAX + 32];

	if (geteuid() != 0 || system("command -v gcore >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test-core-resolve: needs root and gdb's gcore\n");
		return 77;
	}
	snprintf(tmp, sizeof(tmp), "%s/hs-test-core-resolve-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < sizeof(interps) / sizeof(interps[0]); i++)
		test_interp(&interps[i], tmp);
	test_kernel(&interps[2], tmp);     /* pyenv 3.12 */
	test_kernel(&interps[4], tmp);     /* Debian 3.11 */
	test_kernel(&interps[6], tmp);     /* sid 3.14, chroot-relative paths */
	test_wrong_build(tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		diag("could not remove %s", tmp);
	return done();
}
