// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "go_buildinfo.h"

/* debug/buildinfo: the 14-byte magic, pointer size, flags, 16-byte aligned. */
static const uint8_t buildinfo_magic[14] = "\xff Go buildinf:";
#define BUILDINFO_ALIGN 16
#define BUILDINFO_HEADER 32
#define FLAG_INLINE_STRINGS 0x2
/* The linker puts the header at the section's start; a little slack for
 * padding, not a scan of the whole file. */
#define BUILDINFO_SEARCH (64 * 1024)

/* A uvarint of at most 10 bytes, inside [p, end).  Returns its length or 0. */
static size_t read_uvarint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < 10 && p + i < end; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

int go_buildinfo_version(const uint8_t *data, size_t len, char *version, size_t version_len)
{
	const uint8_t *hdr = NULL, *end = data + len;
	size_t limit = len < BUILDINFO_SEARCH ? len : BUILDINFO_SEARCH;
	uint64_t vlen;
	size_t n;

	if (!data || version_len == 0)
		return -EINVAL;
	for (size_t off = 0; off + BUILDINFO_HEADER <= limit; off += BUILDINFO_ALIGN) {
		if (!memcmp(data + off, buildinfo_magic, sizeof(buildinfo_magic))) {
			hdr = data + off;
			break;
		}
	}
	if (!hdr)
		return -ENOEXEC;
	if (!(hdr[15] & FLAG_INLINE_STRINGS))
		return -ENOTSUP; /* Go 1.17 and older: pointers to the strings */
	n = read_uvarint(hdr + BUILDINFO_HEADER, end, &vlen);
	if (!n)
		return -EINVAL;
	const uint8_t *s = hdr + BUILDINFO_HEADER + n;
	if (vlen == 0 || vlen >= version_len || vlen > (uint64_t)(end - s))
		return -EINVAL;
	for (uint64_t i = 0; i < vlen; i++)
		if (!isprint(s[i]))
			return -EINVAL;
	memcpy(version, s, vlen);
	version[vlen] = '\0';
	return 0;
}

/* A decimal number of at most 4 digits at *p, advancing *p. */
static int parse_small(const char **p, int *out)
{
	int v = 0, digits = 0;

	while (isdigit((unsigned char)**p)) {
		if (++digits > 4)
			return -EINVAL;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	return 0;
}

int go_version_parse(const char *version, int *major, int *minor)
{
	const char *p = version;
	int maj, min;

	if (!p)
		return -EINVAL;
	if (!strncmp(p, "devel ", 6))
		p += 6;
	if (strncmp(p, "go", 2))
		return -EINVAL;
	p += 2;
	if (parse_small(&p, &maj) || *p != '.')
		return -EINVAL;
	p++;
	if (parse_small(&p, &min))
		return -EINVAL;
	/* After the minor: a patch, a pre-release, an experiment, or nothing. */
	if (*p && *p != '.' && *p != ' ' && *p != '-' && strncmp(p, "rc", 2) && strncmp(p, "beta", 4))
		return -EINVAL;
	*major = maj;
	*minor = min;
	return 0;
}
