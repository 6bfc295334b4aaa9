#include "heapscope/log.h"

#include <stdarg.h>
#include <stdio.h>

int hs_log_level = HS_LOG_WARN;

void hs_log_set_level(int level)
{
	hs_log_level = level;
}

void hs_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {"warning", "info", "debug"};
	va_list ap;

	if (level > hs_log_level)
		return;
	fprintf(stderr, "heapscope: %s: ", names[level < 0 ? 0 : level > 2 ? 2 : level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
