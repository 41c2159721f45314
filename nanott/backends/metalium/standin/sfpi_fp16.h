// nanott's stand-in for the SFPI toolchain's <sfpi_fp16.h>: its declarations live in our sfpi.h.
#pragma once
#include "sfpi.h"
