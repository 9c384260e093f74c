/* SPDX-License-Identifier: GPL-2.0 */
/* JSON Lines output: one object per report, with "type" and "ts" first. */
#ifndef LW_JSON_OUT_H
#define LW_JSON_OUT_H
#include <stddef.h>
#include <stdio.h>
#include "report.h"

/* Writes r as one line to f.  Returns 0 or -EIO/-ENOMEM. */
int json_write_report(FILE *f, const struct lw_report *r);

/* A struct lw_sink emit function; ctx is the FILE *. */
void json_emit(void *ctx, const struct lw_report *r);

#endif
