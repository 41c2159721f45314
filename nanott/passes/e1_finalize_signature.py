"""E1 finalize-signature: L9 -> L9

Changes:   the program gets its runtime-argument table. Per kernel role, the slots
           `get_arg_val<uint32_t>(i)` reads: the base-address argument of each of its bindings in
           binding order, then "start" and "count" when its body uses that core argument, in
           that order, then "logical_x" and "logical_y" (the core's coordinates) when it reads them, then
           "noc_x0" and "noc_y0" when it addresses other cores (semaphores, multicast: D3b). Per
           core of the work split and per role, one row of values: the string "<tensor>.address"
           for a base address (the host fills in `buffer->address()`), the core's own ints for
           start, count and coordinates, and "noc.x0", "noc.y0" for the NoC coordinates of logical core
           (0, 0), which the host asks the device for (`worker_core_from_logical_core`; Tensix
           cores' NoC coordinates run on with the logical ones, ASSUMPTION: virtual coordinates).
Preserves: every kernel, CB, binding and statement; the numbers computed.
Why:       kernels and host must agree slot by slot on what each runtime argument means, and
           every core that runs a kernel must be given its arguments (docs/reference.md §6.1). One table,
           read by the kernels' emitter and by the host's SetRuntimeArgs, cannot disagree.
"""
from __future__ import annotations

from nanott.ir import replace, walk
from nanott.languages import l9
from nanott.languages.l3 import CORE_ARGS
from nanott.target import Target

NOC_ORIGIN = ("noc_x0", "noc_y0")      # G1 adds them to a logical x, y to address another core


def finalize_signature(program: l9.Program, target: Target) -> l9.Program:
    kernels = tuple(l9.KernelArgs(k.role, arg_names(k), loc=k.loc) for k in program.kernels)
    cores = tuple(l9.CoreArgs(c.core, k.role, values(program.kernel(k.role), k.names, c), loc=c.loc)
                  for c in program.work.cores for k in kernels)
    return replace(program, args=l9.ArgTable(kernels, cores, loc=program.loc))


def arg_names(k: l9.DeviceKernel) -> tuple[str, ...]:
    """The kernel's runtime-argument slots, in order."""
    used = {x.name for x in walk(k.body) if isinstance(x, l9.CoreArg)}
    remote = any(isinstance(x, (l9.SemInc, l9.McastPages, l9.SemSetMcast)) for x in walk(k.body))
    return (tuple(b.addr_arg for b in k.bindings) + tuple(n for n in CORE_ARGS if n in used)
            + (NOC_ORIGIN if remote else ()))


def values(k: l9.DeviceKernel, names: tuple[str, ...], core: l9.CoreWork) -> tuple[int | str, ...]:
    """One core's values for the kernel's slots."""
    address = {b.addr_arg: f"{b.tensor}.address" for b in k.bindings}
    per_core = {"start": core.start, "count": core.count, "logical_x": core.core[0], "logical_y": core.core[1],
                "noc_x0": "noc.x0", "noc_y0": "noc.y0"}
    return tuple(address[n] if n in address else per_core[n] for n in names)
