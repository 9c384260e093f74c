// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "go_names.h"

/* From the first '[' to the last ']', as the runtime cuts it. */
const char *go_func_print_name(const char *name, char *buf, size_t len)
{
	const char *open = strchr(name, '['), *close = strrchr(name, ']');

	if (!len)
		return buf;
	if (!open || !close || close <= open)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%.*s[...]%s", (int)(open - name), name, close + 1);
	return buf;
}
