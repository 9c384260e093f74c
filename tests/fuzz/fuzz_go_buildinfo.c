// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: go_buildinfo_version on a .go.buildinfo section, then
 * go_version_parse on what it found and on the raw input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "go_buildinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char version[64];
	int major, minor;

	if (go_buildinfo_version(data, size, version, sizeof(version)) == 0)
		go_version_parse(version, &major, &minor);
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	go_version_parse(s, &major, &minor);
	free(s);
	return 0;
}
