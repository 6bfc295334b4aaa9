#ifndef HEAPSCOPE_CLI_REPORT_H
#define HEAPSCOPE_CLI_REPORT_H

#include "cli.h"
#include "heapscope/json.h"

/* "target" and "capture" objects of every --json document */
void report_target_json(struct hs_json *j, const struct session *s);
/* "skipped", "complete" */
void report_skips_json(struct hs_json *j, const struct session *s);
/* warnings on stderr when the result is incomplete */
void report_skips_text(const struct session *s);

#endif
