/*
 * Minimal TAP-style helpers for the unit tests (one test file = one TU).
 *
 *     ok(x == 3, "x is %d", x);
 *     ...
 *     return done();
 *
 * Prints "ok N - ..." / "not ok N - ..." and, at the end, the plan "1..N".
 * done() returns the process exit code: 0 if everything passed, 1 if not.
 */
#ifndef HEAPSCOPE_TESTS_TAP_H
#define HEAPSCOPE_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_run_, tap_failed_;

__attribute__((format(printf, 2, 3), unused))
static bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_run_++;
	if (!cond)
		tap_failed_++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run_);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/* A diagnostic line (ignored by TAP consumers). */
__attribute__((format(printf, 1, 2), unused))
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

__attribute__((unused))
static int done(void)
{
	printf("1..%d\n", tap_run_);
	if (tap_failed_)
		printf("# failed %d of %d\n", tap_failed_, tap_run_);
	return tap_failed_ ? 1 : 0;
}

#endif
