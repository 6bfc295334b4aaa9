/*
 * Private to src/target/core*.c: the notes of a core file, and the memory
 * source that reads the core and the files it maps.
 */
#ifndef HEAPSCOPE_CORE_INTERNAL_H
#define HEAPSCOPE_CORE_INTERNAL_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heapscope/files.h"
#include "heapscope/memsrc.h"

/* --- core-notes.c ---------------------------------------------------- */

/* One NT_FILE entry: [start, end) maps `path` from byte `offset`. */
struct core_fentry {
	uint64_t start, end, offset;
	const char *path; /* into core_notes.strings */
};

struct core_notes {
	int pid;                     /* NT_PRPSINFO pr_pid, 0 if none */
	char fname[17];              /* NT_PRPSINFO pr_fname (comm) */
	size_t threads;              /* NT_PRSTATUS notes */
	pid_t *tids;                 /* their pr_pid, at most HS_CORE_MAX_TIDS */
	size_t tid_count;
	uint64_t at_entry, at_phdr;  /* from NT_AUXV, 0 if absent */
	struct core_fentry *files;   /* NT_FILE, sorted by start, disjoint */
	size_t nfiles;
	char *strings;               /* the NT_FILE names */
};

/*
 * Read the notes of every PT_NOTE segment among `ph` (n entries) of the
 * core `elf` of `size` bytes.  `name` (its path) names it in messages.
 * HS_EFORMAT for a malformed or truncated note.
 */
int core_notes_read(Elf *elf, const GElf_Phdr *ph, size_t n, uint64_t size,
		    const char *name, struct core_notes *out);
void core_notes_release(struct core_notes *notes);

/* The executable's path as the process saw it, or NULL. */
const char *core_notes_exe(const struct core_notes *notes);

/* --- core-mem.c ------------------------------------------------------ */

/* A piece of the address space with one source of bytes per range. */
struct core_seg {
	uint64_t start, end;
	uint64_t core_end;   /* [start, core_end): in the core, at data */
	uint64_t dump_end;   /* [core_end, dump_end): cut off by a truncated core */
	uint64_t run_end;    /* core bytes contiguous in the mapping up to here */
	const unsigned char *data;
	bool writable;
	long file;           /* index of the file that backs [dump_end, end), -1 none */
	uint64_t file_off;   /* offset in that file of `start` */
};

struct core_mem;

/* A memory source over the core mapped at map (map_len bytes, munmapped
 * when the source is freed); files opened through `files`. */
struct core_mem *core_mem_new(const struct hs_files *files, void *map, size_t map_len);

/* Append a piece (in address order).  `path` ("" or NULL: anonymous) backs
 * [dump_end, end) from seg->file_off.  seg->file is set here. */
int core_mem_add(struct core_mem *m, const struct core_seg *seg, const char *path);

/* Call once after the last add. */
void core_mem_seal(struct core_mem *m);

/* Compare the first page of every read-only ELF mapping the core holds
 * with its file; files that differ become unreadable.  Returns how many
 * differ and copies the first one's path to first. */
unsigned core_mem_check_files(struct core_mem *m, char *first, size_t firstlen);

struct hs_memsrc *core_mem_src(struct core_mem *m);

#endif
