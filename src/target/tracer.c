/*
 * ptrace handling: seize, interrupt, wait, detach.
 *
 * Why SEIZE + INTERRUPT: PTRACE_ATTACH sends SIGSTOP, which the target can
 * observe (and which a process in a job-control shell would report).
 * SEIZE attaches silently and INTERRUPT stops a thread in a PTRACE_EVENT_STOP
 * that leaves no trace once we detach.
 */
#include "heapscope/target.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "heapscope/error.h"
#include "heapscope/procfs.h"

enum { T_SEIZED = 1, T_STOPPED, T_GONE };

/* A signal arriving during the stop is injected right away; after this
 * many we stop injecting and hand the last one over at detach instead,
 * so a signal storm cannot keep us from stopping the thread. */
#define MAX_INJECT 16
#define MAX_ROUNDS 64

double hs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct hs_tracee *find_tracee(struct hs_tracer *tr, pid_t tid)
{
	for (size_t i = 0; i < tr->count; i++)
		if (tr->tracees[i].tid == tid)
			return &tr->tracees[i];
	return NULL;
}

static int add_tracee(struct hs_tracer *tr, pid_t tid)
{
	if (tr->count == tr->cap) {
		size_t ncap = tr->cap ? tr->cap * 2 : 32;
		struct hs_tracee *grown = realloc(tr->tracees, ncap * sizeof(*grown));

		if (!grown)
			return hs_error(HS_ENOMEM, "tracking threads");
		tr->tracees = grown;
		tr->cap = ncap;
	}
	tr->tracees[tr->count++] = (struct hs_tracee){tid, T_SEIZED, 0};
	return 0;
}

static int seize_thread(struct hs_tracer *tr, pid_t tid)
{
	int err;

	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
		if (errno == ESRCH)
			return 0; /* the thread exited meanwhile */
		if (errno == EPERM)
			return hs_error(HS_EPERM,
					"cannot attach to PID %d: permission denied; heapscope needs "
					"CAP_SYS_PTRACE (e.g. root) or the target's user with "
					"kernel.yama.ptrace_scope=0; already traced by a debugger?",
					tr->pid);
		return hs_error(hs_error_from_errno(errno), "cannot seize thread %d: %s",
				tid, strerror(errno));
	}
	if ((err = add_tracee(tr, tid)) < 0) {
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return err;
	}
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 && errno != ESRCH)
		return hs_error(hs_error_from_errno(errno),
				"cannot interrupt thread %d: %s", tid, strerror(errno));
	return 0;
}

/* Seize threads not seen yet; *added tells whether any appeared. */
static int seize_new_threads(struct hs_tracer *tr, int *added)
{
	pid_t *tids;
	size_t n;
	int err;

	*added = 0;
	if ((err = hs_procfs_threads(tr->pid, &tids, &n)) < 0)
		return err;
	if (n == 0 && tr->count == 0)
		err = hs_error(HS_ESRCH, "no process with PID %d", tr->pid);
	for (size_t i = 0; i < n && err == 0; i++) {
		if (find_tracee(tr, tids[i]))
			continue;
		size_t before = tr->count;

		err = seize_thread(tr, tids[i]);
		if (tr->count > before)
			*added = 1;
	}
	free(tids);
	return err;
}

/* Handle one wait status of a seized thread. */
static void on_status(struct hs_tracer *tr, struct hs_tracee *t, int status,
		      unsigned *injected)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->state = T_GONE;
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	if ((status >> 16) == PTRACE_EVENT_STOP) {
		/* our interrupt, or a group-stop: either way the thread is held */
		t->state = T_STOPPED;
		return;
	}
	/* signal-delivery-stop: pass the signal on now, or at detach */
	if (*injected < MAX_INJECT &&
	    ptrace(PTRACE_CONT, t->tid, NULL, (void *)(long)WSTOPSIG(status)) == 0) {
		(*injected)++;
		tr->signals_passed++;
		return;
	}
	t->pending_sig = WSTOPSIG(status);
	t->state = T_STOPPED;
}

static int wait_all_stopped(struct hs_tracer *tr, double deadline)
{
	unsigned injected = 0;

	for (;;) {
		int waiting = 0;

		for (size_t i = 0; i < tr->count; i++) {
			struct hs_tracee *t = &tr->tracees[i];
			int status;
			pid_t r;

			if (t->state != T_SEIZED)
				continue;
			r = waitpid(t->tid, &status, __WALL | WNOHANG);
			if (r == t->tid)
				on_status(tr, t, status, &injected);
			else if (r < 0 && errno == ECHILD)
				t->state = T_GONE;
			waiting += t->state == T_SEIZED;
		}
		if (!waiting)
			return 0;
		if (hs_now_ms() > deadline)
			return hs_error(HS_ETIMEOUT,
					"threads of PID %d did not stop in time (%d still running)",
					tr->pid, waiting);
		nanosleep(&(struct timespec){0, 20000}, NULL);
	}
}

int hs_tracer_stop_all(struct hs_tracer *tr, int pid, int timeout_ms)
{
	double deadline = hs_now_ms() + (timeout_ms > 0 ? timeout_ms : 2000);
	int err = 0, added = 1;

	memset(tr, 0, sizeof(*tr));
	tr->pid = pid;
	/* a running thread may start new threads until it is stopped itself */
	for (int round = 0; added && round < MAX_ROUNDS; round++) {
		if ((err = seize_new_threads(tr, &added)) < 0)
			break;
		if ((err = wait_all_stopped(tr, deadline)) < 0)
			break;
	}
	if (!err && added)
		err = hs_error(HS_ETIMEOUT, "PID %d keeps creating threads", pid);
	if (!err && tr->count && find_tracee(tr, pid) && find_tracee(tr, pid)->state == T_GONE)
		err = hs_error(HS_ESRCH, "process %d exited", pid);
	if (err)
		hs_tracer_release(tr);
	return err;
}

/* A thread seized but not yet stopped cannot be detached: give it a moment
 * to reach the stop our interrupt asked for. */
static void wait_briefly_for_stop(struct hs_tracer *tr, struct hs_tracee *t)
{
	double deadline = hs_now_ms() + 200;
	unsigned injected = MAX_INJECT; /* keep signals for detach */

	while (t->state == T_SEIZED && hs_now_ms() < deadline) {
		int status;
		pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);

		if (r == t->tid)
			on_status(tr, t, status, &injected);
		else if (r < 0)
			t->state = T_GONE;
		else
			nanosleep(&(struct timespec){0, 50000}, NULL);
	}
}

void hs_tracer_release(struct hs_tracer *tr)
{
	for (size_t i = 0; i < tr->count; i++) {
		struct hs_tracee *t = &tr->tracees[i];

		if (t->state == T_SEIZED)
			wait_briefly_for_stop(tr, t);
		/* if it still runs, the kernel detaches it when we exit */
		if (t->state != T_GONE)
			ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->pending_sig);
		t->state = T_GONE;
	}
	free(tr->tracees);
	tr->tracees = NULL;
	tr->count = tr->cap = 0;
}
