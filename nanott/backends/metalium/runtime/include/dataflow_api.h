// dataflow_api.h: where ttnn 0.65 keeps the data-movement kernel API (api/dataflow/dataflow_api.h
// since 2025-12-19, docs/reference.md §1.2); the same declarations.
#pragma once
#include "api/dataflow/dataflow_api.h"
