// SPDX-License-Identifier: GPL-2.0
/* The 3.11 table against Debian's 3.11 headers (libpython3.11-dev). */
#include "py_layout_check.h"
