// SPDX-License-Identifier: GPL-2.0
/* The 3.12 table against pyenv's 3.12 headers (built only where present). */
#include "py_layout_check.h"
