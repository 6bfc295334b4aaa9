/*
 * Opening the target's files: through /proc/PID for a live process, under
 * a sysroot for a core file.
 */
#include "heapscope/files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "heapscope/error.h"
#include "heapscope/procfs.h"

int hs_files_live(int pid, struct hs_files *out)
{
	memset(out, 0, sizeof(*out));
	out->pid = pid;
	snprintf(out->name, sizeof(out->name), "PID %d", pid);
	return 0;
}

int hs_files_sysroot(const char *sysroot, const char *exe, const char *name,
		     struct hs_files *out)
{
	char real[PATH_MAX];
	struct stat st;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name ? name : "core file");
	if (exe && snprintf(out->exe, sizeof(out->exe), "%s", exe) >= (int)sizeof(out->exe))
		return hs_error(HS_EUSAGE, "executable path too long: %.200s", exe);
	if (!sysroot || !sysroot[0])
		return 0;
	if (!realpath(sysroot, real))
		return hs_error(HS_EUSAGE, "sysroot %s: %s", sysroot, strerror(errno));
	if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
		return hs_error(HS_EUSAGE, "sysroot %s is not a directory", sysroot);
	/* "/" is no sysroot at all: paths are opened as they are */
	if (strcmp(real, "/") != 0)
		snprintf(out->sysroot, sizeof(out->sysroot), "%s", real);
	return 0;
}

/* A regular file only: a FIFO would block the open or the reads, a
 * device could be anything. */
static int keep_regular(int fd)
{
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* Open `path` with `root` as "/", or as it is when root is "".  -1 and
 * errno on failure. */
static int open_under(const char *root, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char full[2 * PATH_MAX];
	int rootfd, fd, err;

	if (!root[0])
		return keep_regular(open(path, (int)how.flags));
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	err = errno;
	close(rootfd);
	if (fd < 0 && err == ENOSYS) {
		/* kernels before 5.6: the best we can do is the plain path */
		snprintf(full, sizeof(full), "%s%s", root, path);
		fd = open(full, (int)how.flags);
		err = errno;
	}
	errno = err;
	return keep_regular(fd);
}

int hs_files_open(const struct hs_files *f, const char *path)
{
	size_t rootlen = strlen(f->sysroot);
	int fd, err;

	if (hs_files_is_live(f))
		return hs_procfs_open_in_root(f->pid, path);
	if (path[0] != '/')
		return hs_error(HS_EIO, "cannot open %s: not an absolute path", path);
	fd = open_under(f->sysroot, path);
	err = errno;
	/* gcore run from outside a chroot records the host's paths */
	if (fd < 0 && err == ENOENT && rootlen && strncmp(path, f->sysroot, rootlen) == 0 &&
	    path[rootlen] == '/') {
		fd = open_under(f->sysroot, path + rootlen);
		err = errno;
	}
	if (fd >= 0)
		return fd;
	if (err == EINVAL)
		return hs_error(HS_EIO, "cannot open %s%s%s: not a regular file", path,
				rootlen ? " under " : "", f->sysroot);
	return hs_error(hs_error_from_errno(err), "cannot open %s%s%s: %s", path,
			rootlen ? " under " : "", f->sysroot, strerror(err));
}

int hs_files_open_exe(const struct hs_files *f)
{
	char path[64];
	int fd;

	if (!hs_files_is_live(f)) {
		if (!f->exe[0])
			return hs_error(HS_EIO, "the executable of %s is unknown", f->name);
		return hs_files_open(f, f->exe);
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", f->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? fd : hs_error(HS_EIO, "cannot open %s", path);
}

int hs_files_open_mapping(const struct hs_files *f, uint64_t start, uint64_t end,
			  const char *path)
{
	int fd;

	if (!hs_files_is_live(f))
		return hs_files_open(f, path);
	/* the very file that is mapped, whatever the target's root and mount
	 * namespace make of its path; needs CAP_SYS_ADMIN, hence the fallback */
	fd = hs_procfs_open_map_file(f->pid, start, end);
	return fd >= 0 ? fd : hs_procfs_open_in_root(f->pid, path);
}

int hs_files_exe_path(const struct hs_files *f, char *buf, size_t len)
{
	char open_path[64];

	if (hs_files_is_live(f))
		return hs_procfs_exe(f->pid, buf, len, open_path, sizeof(open_path));
	if (!f->exe[0] || snprintf(buf, len, "%s", f->exe) >= (int)len) {
		if (len)
			buf[0] = '\0';
		return hs_error(HS_EIO, "the executable of %s is unknown", f->name);
	}
	return 0;
}
