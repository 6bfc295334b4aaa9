/*
 * Debug logging to stderr.  Off unless the CLI raises the level (-v, -vv)
 * or HEAPSCOPE_TRACE is set.  Lower layers may log what they skip; they
 * never report errors this way (errors are returned).
 */
#ifndef HEAPSCOPE_LOG_H
#define HEAPSCOPE_LOG_H

enum hs_log_level { HS_LOG_WARN = 0, HS_LOG_INFO = 1, HS_LOG_DEBUG = 2 };

extern int hs_log_level;

void hs_log_set_level(int level);
void hs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define hs_debug(...)                                    \
	do {                                             \
		if (hs_log_level >= HS_LOG_DEBUG)        \
			hs_log(HS_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
