/* SPDX-License-Identifier: GPL-2.0 */
/* The one layer that logs: everything else returns negative errno. */
#ifndef LW_LOG_H
#define LW_LOG_H
#include <stdarg.h>
#include <stdbool.h>

void log_set_verbose(bool verbose);
bool log_verbose(void);
/* One line on stderr, prefixed "leakwatch: ". */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* libbpf's print callback: silent unless -v. */
int log_libbpf(int level, const char *fmt, va_list args);

#endif
