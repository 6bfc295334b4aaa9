#include "heapscope/checks.h"

#include <stddef.h>

void hs_checks_add(struct hs_check_list *list, const struct hs_check *check)
{
	if (list->count < HS_CHECKS_MAX)
		list->items[list->count++] = *check;
	else
		list->dropped++;
}

unsigned hs_checks_count(const struct hs_check_list *list, enum hs_check_status status)
{
	unsigned n = 0;

	for (unsigned i = 0; i < list->count; i++)
		n += list->items[i].status == status;
	return n;
}

const char *hs_check_status_name(enum hs_check_status status)
{
	switch (status) {
	case HS_CHECK_OK: return "ok";
	case HS_CHECK_CORRECTED: return "corrected";
	case HS_CHECK_MISMATCH: return "MISMATCH";
	case HS_CHECK_UNAVAILABLE: return "unavailable";
	}
	return "?";
}
