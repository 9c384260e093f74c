/* SPDX-License-Identifier: GPL-2.0 */
/* Go function names as Go itself prints them. */
#ifndef LW_GO_NAMES_H
#define LW_GO_NAMES_H
#include <stddef.h>

/* Names are cut here when printed: room is left in a frame's text for
 * its offset and file:line. */
#define GO_NAME_MAX 112

/*
 * name as runtime.funcNameForPrint shows it (tracebacks, pprof): the type
 * arguments of a generic function's instance, "[go.shape.int,...]", as
 * "[...]".  Writes into buf (truncated to len); returns buf.
 */
const char *go_func_print_name(const char *name, char *buf, size_t len);

#endif
