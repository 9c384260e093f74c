/* SPDX-License-Identifier: GPL-2.0 */
/* Durations on the command line: "500ms", "10s", "2m", a bare number is seconds. */
#ifndef LW_DURATION_H
#define LW_DURATION_H
#include <stddef.h>
#include <stdint.h>

/* Parses s into *ns.  Returns 0, or -EINVAL (malformed or negative; zero is
 * the caller's to refuse) or -ERANGE (does not fit in 64-bit nanoseconds). */
int duration_parse(const char *s, uint64_t *ns);

/* Writes ns the way a person reads it ("1.5s", "250ms", "2m30s") into buf. */
const char *duration_format(uint64_t ns, char *buf, size_t len);

#endif
