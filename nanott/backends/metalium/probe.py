"""A probe of one API table: kernels that make every call of the table once.

The examples exercise the calls nanott emits for them; the probe exercises the whole table, so a
table entry no example reaches still has to exist, with its argument order, in the release that
claims it (tests/metal compiles the probe against each release's headers with jit.check_source).
Each call gets arguments of the types its signature wants: CB ids 0..2, tile and DST indices 0,
the transpose flag 0, the template arguments a real kernel would give (SUM/REDUCE_ROW, ROW, the
Float32 -> Float16_b DataFormat pair).
"""
from __future__ import annotations

import re

from nanott.backends.metalium.api import DATA_FORMATS, Api, Call

DATAFLOW_ONLY = ("accessor_args", "accessor", "get_write_ptr", "get_read_ptr", "read_page", "write_page",
                 "read_run", "write_run", "read_barrier", "read_set_trid", "read_barrier_trid", "write_barrier", "get_semaphore", "noc_addr", "noc_semaphore_set",
                 "noc_semaphore_wait", "noc_semaphore_inc", "noc_multicast_addr", "write_multicast",
                 "semaphore_set_multicast")
ENTRIES = ("dataflow_kernel", "compute_kernel")
BOTH = ("get_arg_val", "cb_reserve_back", "cb_push_back", "cb_wait_front", "cb_pop_front")
FIELDS = {"cb": "0", "pages": "1", "page": "0", "accessor": "t", "l1_addr": "0", "a_cb": "0", "b_cb": "1",
          "a_index": "0", "b_index": "0", "tile": "0", "dst": "0", "transpose": "0", "a": "0", "b": "1", "bits": "0x3f800000u",
          "index": "0", "scaler_cb": "1", "scaler_index": "0", "value": "1.0f", "slot": "0", "cb0": "0",
          "cta_offset": "0", "text": "k", "args": "t_args", "base": "addr", "page_bytes": "2048", "ct_dim": "1", "rt_dim": "1",
          "kt_dim": "1", "semaphore": "0", "offset": "0", "x": "1", "y": "1", "count": "1", "x0": "1", "y0": "1", "x1": "2",
          "y1": "2", "bytes": "2048", "dests": "4", "cond": "2", "noc_addr": "get_noc_addr(1, 1, 0)",
          "mcast_addr": "get_noc_multicast_addr(1, 1, 2, 2, 0)",
          "trid": "1", "sem_ptr": "reinterpret_cast<volatile tt_l1_ptr uint32_t*>(get_semaphore(0))", "offset": "64"}
TEMPLATES = {"reduce_tile": ("SUM", "REDUCE_ROW"), "reduce_init": ("SUM", "REDUCE_ROW"), "unary_bcast": ("ROW",),
             "unary_bcast_init": ("ROW",)}


def is_host(call: Call) -> bool:
    return call.header is not None and call.header.startswith("tt-metalium/")


def probe_sources(api: Api) -> dict[str, str]:
    """{"reader": C++, "compute": C++}: every data-movement call, and every compute call, once."""
    dm = [k for k in api.calls if k in DATAFLOW_ONLY + BOTH]
    compute = [k for k, c in api.calls.items() if k not in DATAFLOW_ONLY + ENTRIES and not is_host(c)]
    return {"reader": _kernel(api, "dataflow_kernel", dm, dataflow=True),
            "compute": _kernel(api, "compute_kernel", compute, dataflow=False)}


def _kernel(api: Api, entry: str, keys: list[str], dataflow: bool) -> str:
    headers = {api[entry].header} | (set() if dataflow else {api[k].header for k in keys})
    lines = ["    const uint32_t addr = get_arg_val<uint32_t>(0);"] if dataflow else []
    if dataflow:
        lines += ["    constexpr auto t_args = TensorAccessorArgs<0>();",
                  "    const auto t = TensorAccessor(t_args, addr, 2048);"]
    for k in keys:
        if dataflow and k in ("accessor_args", "accessor", "get_arg_val"):
            continue
        lines.append(f"    {_call(api, k)};  // {k}")
    head = ["// a probe of nanott's API table for tt-metal " + api.version, "#include <cstdint>"]
    head += [f'#include "{h}"' for h in sorted(h for h in headers if h)]
    return "\n".join(head) + "\n\n" + api[entry](body="\n".join(lines) + "\n")


def _call(api: Api, key: str) -> str:
    c = api[key]
    wanted = set(re.findall(r"\{(\w+)\}", c.template))
    fields = {f: v for f, v in FIELDS.items() if f in wanted}
    if "cbs" in wanted:
        n = max(c.arity or (0,))
        fields["cbs"] = ", ".join([*map(str, range(n)), *("0" for _ in c.extra_args)])
    names = ("Float32", "Float16_b") if c.formats else TEMPLATES.get(key, ())
    for i, name in enumerate(names):
        fields[f"t{i}"] = str(DATA_FORMATS[name]) if c.formats else name
    return c(**fields)
