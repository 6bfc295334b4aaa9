/*
 * What is known about a capture besides its object graph: which process,
 * which interpreter and layouts, and how long the pause took.  Filled from
 * a live capture or a core file, stored in a snapshot with the graph, and
 * read back from it, so every command can report it the same way whatever
 * the graph came from.
 */
#ifndef HEAPSCOPE_CAPINFO_H
#define HEAPSCOPE_CAPINFO_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "heapscope/checks.h"

/* Where a graph was captured from. */
enum hs_capture_origin {
	HS_ORIGIN_LIVE,   /* a running process, paused */
	HS_ORIGIN_CORE,   /* an ELF core file */
};

struct hs_capinfo {
	enum hs_capture_origin origin;
	int pid;
	int64_t taken_at;         /* Unix time (seconds) of the capture */
	char python[32];          /* "3.12.1" */
	int py_minor;             /* 12 */
	char version_from[32];    /* where the version was read ("Py_Version") */
	char binary[PATH_MAX];    /* the interpreter's ELF file, as the target maps it */
	char build_id[41];        /* hex, "" if none */
	char layout_source[24];   /* hs_layout_source_name() */
	char layout_detail[256];  /* e.g. the file DWARF came from */
	char debug_offsets_note[160]; /* why _Py_DebugOffsets was not used, if so */
	bool debug_build;
	double layout_ms;
	struct hs_check_list checks;
	uint64_t os_threads;
	double paused_ms, copy_ms; /* 0 for a core file */
	uint64_t bytes_read;
	unsigned regions_short, guard_pages, signals_passed;
	double walk_ms, total_ms;
};

/* "live", "core" */
const char *hs_capture_origin_name(enum hs_capture_origin origin);

#endif
