/* SPDX-License-Identifier: GPL-2.0 */
/* Text from the kernel or a process (thread names, symbols) made valid UTF-8
 * for JSON, the Prometheus format and the terminal. */
#ifndef LW_UTF8_H
#define LW_UTF8_H
#include <stddef.h>

/* Copies len bytes of in (which may hold no NUL) to out as valid UTF-8: each byte
 * that is not part of a valid sequence becomes U+FFFD.  out holds at least
 * 3 * len + 1 bytes.  Thread names can hold any byte; JSON must not. */
void utf8_sanitize(const char *in, size_t len, char *out);

#endif
