#include "heapscope/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char detail[1024];

static const char *const texts[] = {
	"success",
#define HS_ERR_TEXT(code, text) text,
	HS_ERRORS(HS_ERR_TEXT)
#undef HS_ERR_TEXT
};

int hs_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return code;
}

int hs_error_prefix(int code, const char *fmt, ...)
{
	char prefix[512], old[sizeof(detail)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, detail, sizeof(old));
	snprintf(detail, sizeof(detail), "%.500s: %.500s", prefix, old);
	return code;
}

int hs_error_from_errno(int err)
{
	switch (err) {
	case ESRCH:
		return HS_ESRCH;
	case EPERM:
	case EACCES:
		return HS_EPERM;
	case EFAULT:
		return HS_EFAULT;
	case ENOMEM:
		return HS_ENOMEM;
	case EINTR:
		return HS_EINTR;
	default:
		return HS_EIO;
	}
}

const char *hs_strerror(int code)
{
	int i = -code;

	if (i < 0 || i >= (int)(sizeof(texts) / sizeof(texts[0])))
		return "unknown error";
	return texts[i];
}

const char *hs_errmsg(void)
{
	return detail[0] ? detail : "no detail";
}
