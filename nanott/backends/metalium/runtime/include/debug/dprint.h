// debug/dprint.h: where ttnn 0.65 keeps the device print header (api/debug/dprint.h since 0.66).
#pragma once
#include "api/debug/dprint.h"
