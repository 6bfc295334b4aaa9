/*
 * ELF core files of a Python process (gdb's gcore, or the kernel's dump)
 * as a target: the process's mappings, its memory, and where its files
 * are, so that hs_python_resolve() and hs_walk() run on a core exactly as
 * on a live process:
 *
 *     struct hs_core core;
 *     hs_core_open("core.4242", NULL, &core);
 *     hs_python_resolve(&core.files, &core.maps, core.mem, &opts, &py);
 *     hs_walk(core.mem, &py, NULL, &graph);
 *     hs_core_release(&core);
 *
 * Memory comes from the core's PT_LOAD segments: [p_vaddr, p_vaddr +
 * p_filesz) from the core file itself (mapped read-only once, so views
 * point into it and cost no copy), [p_filesz, p_memsz) of a file-backed
 * mapping from that file (gcore and the kernel leave read-only file pages
 * out of the core, or keep only their first page), read through `files`
 * and cached.  Mappings that gcore lists in NT_FILE but leaves out of the
 * program headers altogether (read-only file mappings: the code) are read
 * from their files the same way.  Anything else is not readable
 * (HS_EFAULT), as an unmapped address of a live process.  Reads and views
 * may span adjacent mappings, as with the capture image (memsrc.h).
 *
 * Files are checked before use: when the core holds the first page of a
 * read-only ELF mapping and the file found (under the sysroot) has other
 * bytes there, it is another build of that file; reads from it fail with
 * HS_EINCONSISTENT naming it and suggesting --sysroot, and it is counted
 * in files_mismatched.  hs_python_resolve() refuses such an interpreter
 * the same way (hs_pyelf_verify).
 *
 * The core is untrusted input: every count, size and offset is checked
 * against the file and capped; a bad file is one HS_EFORMAT error, never
 * a crash.  Bytes that a truncated core lacks are unreadable.  The core
 * must not be truncated while it is open (it is mapped: that would be
 * SIGBUS), as with any file read through mmap.
 */
#ifndef HEAPSCOPE_CORE_H
#define HEAPSCOPE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heapscope/files.h"
#include "heapscope/maps.h"
#include "heapscope/memsrc.h"

/* Limits on what a core may declare (larger counts are HS_EFORMAT). */
#define HS_CORE_MAX_SEGMENTS (1u << 20) /* program headers */
#define HS_CORE_MAX_NOTES (1u << 22)    /* notes in all PT_NOTE segments */
#define HS_CORE_MAX_FILES (1u << 20)    /* NT_FILE entries */
#define HS_CORE_MAX_TIDS (1u << 16)     /* thread ids kept (all are counted) */

/* Bytes hs_core_probe_bytes() needs: e_ident, e_type, e_machine. */
#define HS_CORE_PROBE_LEN 20

struct hs_core {
	int pid;                 /* NT_PRPSINFO pr_pid; 0 if the note is missing */
	size_t os_threads;       /* NT_PRSTATUS notes: one per thread */
	pid_t *tids;             /* the threads' ids, in note order (the first is
				  * the thread that dumped or was stopped first);
				  * at most HS_CORE_MAX_TIDS; owned */
	size_t tid_count;
	/* files.exe: the executable as the process saw it (from the NT_FILE
	 * mapping that holds AT_ENTRY, else the first one at offset 0 named
	 * like pr_fname), "" if unknown; files.name: "core file NAME" */
	struct hs_files files;
	struct hs_maps maps;     /* by address; prot from p_flags (PF_R/W/X), READ for
				  * mappings only NT_FILE lists; path "" when anonymous */
	struct hs_memsrc *mem;   /* the core's memory; owned, freed by release */
	uint64_t file_size;      /* of the core file */
	uint64_t bytes_in_core;  /* memory bytes the core file holds */
	unsigned segments_truncated; /* PT_LOADs the core file ends inside */
	unsigned files_mismatched;   /* files whose first page differs from the core's */
	char mismatch[PATH_MAX];     /* the first of those, "" if none */
};

/*
 * Whether `head` (the first `len` bytes of a file) starts an ELF core file
 * for x86-64: ELFCLASS64, little endian, ET_CORE, EM_X86_64.  False when
 * len < HS_CORE_PROBE_LEN.
 */
bool hs_core_probe_bytes(const void *head, size_t len);

/* The same for a file: 1 a core, 0 not (or not a regular file), negative
 * hs_err if it cannot be opened or read.  Reads HS_CORE_PROBE_LEN bytes. */
int hs_core_probe(const char *path);

/*
 * Open the core file `path`.  `sysroot` (NULL or "" for "/") is the
 * directory the process's files are found under (see files.h).  On
 * success `out` owns the mapping of the core, its maps and memsrc, until
 * hs_core_release().  Errors: HS_EFORMAT (not an x86-64 ELF core, or
 * malformed: one line naming what), HS_EUSAGE (sysroot), HS_EIO/HS_EPERM
 * (cannot open or map it), HS_ENOMEM.  Reads only.
 */
int hs_core_open(const char *path, const char *sysroot, struct hs_core *out);

/* Free everything; safe on a zeroed or released struct. */
void hs_core_release(struct hs_core *c);

#endif
