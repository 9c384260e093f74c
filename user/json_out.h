/* SPDX-License-Identifier: GPL-2.0 */
/* JSON Lines output: one object per report, with "type" and "ts" first. */
#ifndef LW_JSON_OUT_H
#define LW_JSON_OUT_H
#include <stddef.h>
#include <stdio.h>
#include "report.h"

/* Copies len bytes of in (which may hold no NUL) to out as valid UTF-8: each byte
 * that is not part of a valid sequence becomes U+FFFD.  out holds at least
 * 3 * len + 1 bytes.  Thread names can hold any byte; JSON must not. */
void utf8_sanitize(const char *in, size_t len, char *out);

/* Writes r as one line to f.  Returns 0 or -EIO/-ENOMEM. */
int json_write_report(FILE *f, const struct lw_report *r);

/* A struct lw_sink emit function; ctx is the FILE *. */
void json_emit(void *ctx, const struct lw_report *r);

#endif
