/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Go version a binary was built with, from its .go.buildinfo section
 * (it survives -ldflags='-s -w' and PIE).  Pure: parses bytes given to it,
 * which come from an untrusted file: every length is bounded.
 */
#ifndef LW_GO_BUILDINFO_H
#define LW_GO_BUILDINFO_H
#include <stddef.h>
#include <stdint.h>

/*
 * data: the section's bytes.  Writes the version ("go1.21.3", NUL-ended)
 * into version.  Returns 0, -ENOEXEC (no buildinfo magic), -EINVAL
 * (malformed) or -ENOTSUP (pre-1.18 pointer format: older than we watch).
 */
int go_buildinfo_version(const uint8_t *data, size_t len, char *version, size_t version_len);

/* "go1.21.3", "go1.22rc1", "go1.23.0 X:boringcrypto" -> 1, 21 etc.
 * Returns 0 or -EINVAL. */
int go_version_parse(const char *version, int *major, int *minor);

#endif
