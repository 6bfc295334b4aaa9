#include "heapscope/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapscope/error.h"

#define MAX_THREADS 65536

int hs_procfs_path(int pid, const char *path, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "/proc/%d/root%s%s", pid,
			 path[0] == '/' ? "" : "/", path);

	if (n < 0 || (size_t)n >= outlen)
		return hs_error(HS_EUSAGE, "path too long: %s", path);
	return 0;
}

int hs_procfs_open_map_file(int pid, uint64_t start, uint64_t end)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)start, (unsigned long long)end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? fd : hs_error(hs_error_from_errno(errno), "cannot open %s: %s", path,
				       strerror(errno));
}

/*
 * Resolve `path` with the target's root as "/": symlinks and ".." inside
 * the target's tree cannot lead out of it (a plain open of
 * /proc/PID/root/link would follow an absolute symlink from *our* root).
 */
int hs_procfs_open_in_root(int pid, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char root[64], full[4096];
	int rootfd, fd, err;

	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return hs_error(hs_error_from_errno(errno), "cannot open %s: %s", root,
				strerror(errno));
	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	err = errno;
	close(rootfd);
	if (fd < 0 && err == ENOSYS) {
		/* kernels before 5.6: the best we can do is the plain path */
		if ((err = hs_procfs_path(pid, path, full, sizeof(full))) < 0)
			return err;
		fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		err = errno;
	}
	if (fd < 0)
		return hs_error(hs_error_from_errno(err), "cannot open %s in the root of PID %d: %s",
				path, pid, strerror(err));
	return fd;
}

int hs_procfs_exe(int pid, char *path, size_t pathlen, char *open_path,
		  size_t openlen)
{
	ssize_t n;

	snprintf(open_path, openlen, "/proc/%d/exe", pid);
	n = readlink(open_path, path, pathlen - 1);
	if (n < 0) {
		path[0] = '\0';
		return hs_error(hs_error_from_errno(errno), "cannot read %s: %s", open_path,
				strerror(errno));
	}
	path[n] = '\0';
	return 0;
}

int hs_procfs_read_file(const char *path, size_t max, char **out, size_t *len)
{
	size_t cap = 8192, used = 0;
	char *buf = NULL;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hs_error(hs_error_from_errno(errno), "cannot open %s: %s",
				path, strerror(errno));
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap || !buf) {
			char *grown;

			if (buf)
				cap *= 2;
			if (cap > max + 1)
				cap = max + 1;
			if (used + 1 >= cap) {
				err = hs_error(HS_EFORMAT, "%s is larger than %zu bytes",
					       path, max);
				break;
			}
			if (!(grown = realloc(buf, cap))) {
				err = hs_error(HS_ENOMEM, "reading %s", path);
				break;
			}
			buf = grown;
		}
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = hs_error(hs_error_from_errno(errno), "cannot read %s: %s",
				       path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (err < 0) {
		free(buf);
		return err;
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int hs_procfs_threads(int pid, pid_t **out, size_t *count)
{
	char path[64];
	struct dirent *de;
	pid_t *tids = NULL;
	size_t n = 0, cap = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if (!(dir = opendir(path)))
		return hs_error(hs_error_from_errno(errno), "cannot list %s: %s",
				path, strerror(errno));
	while ((de = readdir(dir))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0)
			continue;
		if (n == cap) {
			pid_t *grown;

			if (cap >= MAX_THREADS)
				break;
			cap = cap ? cap * 2 : 64;
			if (!(grown = realloc(tids, cap * sizeof(*tids)))) {
				closedir(dir);
				free(tids);
				return hs_error(HS_ENOMEM, "listing threads");
			}
			tids = grown;
		}
		tids[n++] = (pid_t)tid;
	}
	closedir(dir);
	qsort(tids, n, sizeof(*tids), cmp_pid);
	*out = tids;
	*count = n;
	return 0;
}

int hs_procfs_state(int pid, char *state)
{
	char path[64], *text, *line;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((err = hs_procfs_read_file(path, 1 << 16, &text, NULL)) < 0)
		return err;
	line = strstr(text, "\nState:");
	if (!line || sscanf(line + 7, " %c", state) != 1)
		err = hs_error(HS_EFORMAT, "no State in %s", path);
	free(text);
	return err;
}

int hs_procfs_check_access(int pid)
{
	char path[64];
	int fd;

	if (pid <= 0)
		return hs_error(HS_ESRCH, "no process with PID %d", pid);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char c;
		ssize_t n = read(fd, &c, 1);
		int saved = errno;

		close(fd);
		if (n >= 0)
			return 0;
		errno = saved;
	}
	if (errno == ENOENT || errno == ESRCH)
		return hs_error(HS_ESRCH, "no process with PID %d", pid);
	return hs_error(HS_EPERM,
			"cannot inspect PID %d: permission denied; run as the target's user "
			"with CAP_SYS_PTRACE (e.g. as root) and check kernel.yama.ptrace_scope",
			pid);
}

void hs_procfs_thread_name(int pid, int tid, char *out, size_t outlen)
{
	char path[64], *text;
	size_t len;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	if (hs_procfs_read_file(path, 256, &text, &len) < 0)
		return;
	if (len && text[len - 1] == '\n')
		text[len - 1] = '\0';
	snprintf(out, outlen, "%s", text);
	free(text);
}
