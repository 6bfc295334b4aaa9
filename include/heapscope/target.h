/*
 * Pausing a live process and capturing its memory.
 *
 * The tracer is the only code that uses ptrace.  It seizes every thread
 * (PTRACE_SEIZE, never PTRACE_ATTACH: no SIGSTOP is sent), interrupts it,
 * and repeats until no new thread appears.  Signals that arrive while a
 * thread is held are passed on, never swallowed.  hs_tracer_release()
 * detaches every thread on every path.
 *
 * hs_capture_process() pauses the target, copies its writable mappings with
 * large process_vm_readv reads into an image, and lets it run again before
 * returning.  It never writes to the target.  SIGINT/SIGTERM/SIGHUP are
 * blocked for the length of the pause and become pending afterwards, so
 * the caller sees them after the target runs again.
 */
#ifndef HEAPSCOPE_TARGET_H
#define HEAPSCOPE_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heapscope/maps.h"
#include "heapscope/memsrc.h"

struct hs_tracee {
	pid_t tid;
	int state;      /* enum in tracer.c: seized, stopped, gone */
	int pending_sig; /* signal to deliver on detach, 0 if none */
};

struct hs_tracer {
	int pid;
	struct hs_tracee *tracees;
	size_t count, cap;
	unsigned signals_passed; /* signals re-injected while we held threads */
};

/* Seize and stop every thread of pid, within timeout_ms.  On failure,
 * everything already seized is released before returning. */
int hs_tracer_stop_all(struct hs_tracer *tracer, int pid, int timeout_ms);

/* Detach from every thread; safe to call twice and on a zeroed tracer. */
void hs_tracer_release(struct hs_tracer *tracer);

struct hs_capture_opts {
	uint64_t max_bytes;   /* refuse to copy more than this (0: no limit) */
	int stop_timeout_ms;  /* how long to wait for threads to stop */
};

struct hs_capture {
	int pid;
	struct hs_maps maps;     /* as read while paused */
	struct hs_image *image;  /* copied writable memory + lazy read-only */
	size_t os_threads;
	double paused_ms;        /* first seize to last detach */
	double copy_ms;          /* process_vm_readv time inside the pause */
	uint64_t bytes_read;
	unsigned regions_short;  /* mappings that could be read only in part */
	unsigned guard_pages;    /* unreadable pages inside mappings (stack guards), left zero */
	unsigned signals_passed;
};

int hs_capture_process(int pid, const struct hs_capture_opts *opts,
		       struct hs_capture *out);

/* The capture as a memory source (borrowed; valid until release). */
struct hs_memsrc *hs_capture_memsrc(struct hs_capture *cap);

void hs_capture_release(struct hs_capture *cap);

/*
 * Benchmark baseline: copy the same mappings hs_capture_process would copy,
 * without pausing the process.  Returns the copy time and byte count.
 */
int hs_capture_raw_copy(int pid, double *ms, uint64_t *bytes);

/* Monotonic clock in milliseconds. */
double hs_now_ms(void);

#endif
