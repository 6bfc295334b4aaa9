/*
 * Where the target's files are: the executable, the libraries it maps,
 * their debug files.
 *
 * A live process's files are opened through /proc/PID: the mapped file
 * itself (/proc/PID/map_files, /proc/PID/exe) when we may, else by path
 * resolved inside /proc/PID/root.  A core file's process is gone: its
 * paths (as the process saw them) are opened under a sysroot directory,
 * or as they are when there is none.  Either way a path cannot lead out
 * of the root it is resolved in (openat2 RESOLVE_IN_ROOT), and only
 * regular files are opened for a core, so a hostile tree cannot make us
 * block on a FIFO or read a device.
 *
 * The layout code takes a `const struct hs_files *` wherever it opens a
 * file of the target, and names the target in messages with `name`.
 * The struct holds no resources: copy it freely, nothing to release.
 */
#ifndef HEAPSCOPE_FILES_H
#define HEAPSCOPE_FILES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct hs_files {
	int pid;                /* > 0: a live process, files through /proc/PID */
	char sysroot[PATH_MAX]; /* pid 0: absolute, resolved directory the
				 * process's paths live under; "" = "/" */
	char exe[PATH_MAX];     /* pid 0: the executable's path as the process
				 * saw it, "" if unknown */
	char name[160];         /* for messages: "PID 42", "core file core.42" */
};

/* The files of the live process pid.  Always 0. */
int hs_files_live(int pid, struct hs_files *out);

/*
 * The files of a process that is gone (a core file): `sysroot` (NULL or
 * "" for "/") must be an existing directory; it is made absolute with
 * symlinks resolved.  `exe` (NULL if unknown) is the executable's path as
 * the process saw it; `name` names the target in messages.  HS_EUSAGE if
 * the sysroot is not a directory or a path is too long.
 */
int hs_files_sysroot(const char *sysroot, const char *exe, const char *name,
		     struct hs_files *out);

/*
 * Open `path` (absolute, as the process saw it) read-only.  Live: resolved
 * inside /proc/PID/root.  Sysroot: resolved inside the sysroot; when that
 * fails and the path already starts with the sysroot (gcore run from
 * outside a chroot records host paths), the rest of it is tried.  Returns
 * an fd or a negative hs_err with the path in the message.
 */
int hs_files_open(const struct hs_files *f, const char *path);

/* Open the executable: /proc/PID/exe, or hs_files_open(f->exe). */
int hs_files_open_exe(const struct hs_files *f);

/*
 * Open the file mapped at [start, end) from `path`: live, the mapping
 * itself (/proc/PID/map_files, needs CAP_SYS_ADMIN) and else by path;
 * sysroot, by path.
 */
int hs_files_open_mapping(const struct hs_files *f, uint64_t start, uint64_t end,
			  const char *path);

/* The executable's path as the process saw it (live: the target of
 * /proc/PID/exe).  0, or a negative hs_err when it is unknown. */
int hs_files_exe_path(const struct hs_files *f, char *buf, size_t len);

/* Whether the files are those of a live process. */
static inline int hs_files_is_live(const struct hs_files *f)
{
	return f->pid > 0;
}

#endif
