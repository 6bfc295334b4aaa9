/*
 * Error codes and the one place their messages live.
 *
 * Functions below the CLI return 0 on success or a negative hs_err.  The
 * detail ("cannot read /proc/42/maps: No such file or directory") is kept
 * in a thread-local buffer set by hs_error(), which returns the code so a
 * failure is one line:
 *
 *     return hs_error(HS_EFAULT, "cannot read type of 0x%" PRIx64, raddr);
 *
 * Only the CLI prints hs_errmsg(); nothing below it prints or exits.
 * Per-object trouble during a walk is not an error: it is counted.
 */
#ifndef HEAPSCOPE_ERROR_H
#define HEAPSCOPE_ERROR_H

/* code, short text, exit status class (2 = fatal for the command) */
#define HS_ERRORS(E)                                                      \
	E(HS_ENOMEM, "out of memory")                                     \
	E(HS_ESRCH, "no such process")                                    \
	E(HS_EPERM, "permission denied")                                  \
	E(HS_EFAULT, "address not readable")                              \
	E(HS_EIO, "input/output error")                                   \
	E(HS_ENOTPY, "not a Python process")                              \
	E(HS_EVERSION, "unsupported Python version")                      \
	E(HS_ENOLAYOUT, "no layout information")                          \
	E(HS_EINCONSISTENT, "inconsistent target data")                   \
	E(HS_EFORMAT, "malformed input")                                  \
	E(HS_EINTR, "interrupted")                                        \
	E(HS_ETIMEOUT, "timed out")                                       \
	E(HS_EUSAGE, "invalid argument")

enum hs_err {
	HS_OK = 0,
#define HS_ERR_ENUM(code, text) code##_,
	HS_ERR_FIRST_ = 0,
	HS_ERRORS(HS_ERR_ENUM)
#undef HS_ERR_ENUM
};

/* The public codes are the negatives of the enum positions above. */
#define HS_ERR_VALUE(code) (-(int)(code##_))
#define HS_ENOMEM HS_ERR_VALUE(HS_ENOMEM)
#define HS_ESRCH HS_ERR_VALUE(HS_ESRCH)
#define HS_EPERM HS_ERR_VALUE(HS_EPERM)
#define HS_EFAULT HS_ERR_VALUE(HS_EFAULT)
#define HS_EIO HS_ERR_VALUE(HS_EIO)
#define HS_ENOTPY HS_ERR_VALUE(HS_ENOTPY)
#define HS_EVERSION HS_ERR_VALUE(HS_EVERSION)
#define HS_ENOLAYOUT HS_ERR_VALUE(HS_ENOLAYOUT)
#define HS_EINCONSISTENT HS_ERR_VALUE(HS_EINCONSISTENT)
#define HS_EFORMAT HS_ERR_VALUE(HS_EFORMAT)
#define HS_EINTR HS_ERR_VALUE(HS_EINTR)
#define HS_ETIMEOUT HS_ERR_VALUE(HS_ETIMEOUT)
#define HS_EUSAGE HS_ERR_VALUE(HS_EUSAGE)

/* Set the detail message (printf-style) and return `code`. */
int hs_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current detail with more context; returns `code`. */
int hs_error_prefix(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Map an errno from a syscall on the target to a code (ESRCH, EPERM...). */
int hs_error_from_errno(int err);

/* Short text of a code ("no such process"). */
const char *hs_strerror(int code);

/* The detail message of the last error on this thread (never NULL). */
const char *hs_errmsg(void);

#endif
