/*
 * Small readers of /proc/PID, the only place that knows its paths.
 *
 * Every file the target maps is opened through /proc/PID/root so that a
 * process in a container or chroot is inspected from the host.
 */
#ifndef HEAPSCOPE_PROCFS_H
#define HEAPSCOPE_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Path of a file of the target's filesystem view, e.g.
 * "/usr/lib/libpython3.12.so" -> "/proc/42/root/usr/lib/libpython3.12.so". */
int hs_procfs_path(int pid, const char *path, char *out, size_t outlen);

/* Open the file mapped at [start, end) in the target, by the mapping
 * itself (/proc/PID/map_files: no path resolution; needs CAP_SYS_ADMIN). */
int hs_procfs_open_map_file(int pid, uint64_t start, uint64_t end);

/* Open a file of the target's filesystem view read-only, resolving the
 * path (and its symlinks) inside the target's root.  Returns fd or <0. */
int hs_procfs_open_in_root(int pid, const char *path);

/* The target's executable: the path it was started from (as its maps
 * show it) and a path we can open it by, even if it was deleted or lives
 * in another mount namespace (/proc/PID/exe). */
int hs_procfs_exe(int pid, char *path, size_t pathlen, char *open_path,
		  size_t openlen);

/* Read a whole /proc file (bounded by max bytes); *out is malloc'ed and
 * NUL-terminated. */
int hs_procfs_read_file(const char *path, size_t max, char **out, size_t *len);

/* Thread ids of the process, ascending; *out malloc'ed. */
int hs_procfs_threads(int pid, pid_t **out, size_t *count);

/* Scheduler state letter from /proc/PID/status ('R', 'S', 't', ...). */
int hs_procfs_state(int pid, char *state);

/* Check that the process exists and we may look at it: 0, HS_ESRCH or
 * HS_EPERM (with advice on CAP_SYS_PTRACE and ptrace_scope). */
int hs_procfs_check_access(int pid);

/* Thread name (comm) of a thread, "" if unknown. */
void hs_procfs_thread_name(int pid, int tid, char *out, size_t outlen);

#endif
