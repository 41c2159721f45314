"""tt.plan.json: what the host program does, as flat records a tool reads without parsing C++.

The plan is L9's host-side facts, projected: the tensors (DRAM buffers, interleaved, one tile per
page) with the files the host reads and writes, the CBs with their plans, the three kernels with
their processors, compile-time arguments (one TensorAccessorArgs flags word per binding, at D2's
cta offsets) and runtime-argument slots (E1's names), the per-core runtime values (E1's rows), and
the compute configuration. host.py prints main.cpp from this plan, so the two cannot disagree.

Schema `nanott.plan/3`: records are dataclasses-json dataclasses (flat, no unions of records), so
`Plan.from_json(text)` reads a plan back. A runtime value is an int or "<tensor>.address", the
base address of that tensor's buffer. Tensor files are raw little-endian row-major values of the
tensor's own `shape` in its host type (bfloat16: the 16-bit patterns), named `<tensor>.bin`; the
host lays them out as DRAM stores them (dims in `order`, padded with zeros to `padded_shape`)
before it tilizes them, and puts back what it reads (version 2 added `shape` and `order`: version
1's files held the padded shape; version 3 added the compute kernel's `unpack_to_dest_fp32`
CBs and `defines`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dataclasses_json import dataclass_json

from nanott.backends.metalium.api import DATA_FORMATS, HOST_TYPES, MATH_FIDELITIES, PROCESSORS, Api
from nanott.ir import CheckError, Launches, replace, walk
from nanott.sim.engine import unpack_to_dest_fp32
from nanott.languages import l9
from nanott.target import Target

SCHEMA = "nanott.plan/3"
SEQUENCE_SCHEMA = "nanott.plan-sequence/1"
from nanott.terminals import ROLES  # noqa: E402
SHARDED = 1                 # the Sharded bit of a TensorAccessorArgs flags word (docs/reference.md §3.5)


@dataclass_json
@dataclass(frozen=True)
class TensorRecord:
    name: str
    dtype: str
    format: str
    host_type: str
    shape: tuple[int, ...]          # the tensor's own shape: what its file holds
    padded_shape: tuple[int, ...]   # the shape in DRAM: dims in `order`, zeros after `shape` (A1)
    order: tuple[int, ...]          # the dims of `shape` (a 1-D tensor: of (1, n)) as DRAM stores them
    tiles: int
    page_bytes: int
    input: bool             # read by the reader: the host writes it to DRAM before the run
    output: bool            # written by the writer: the host reads it back after the run
    file: str


@dataclass_json
@dataclass(frozen=True)
class CbRecord:
    index: int
    name: str
    format: str
    page_bytes: int
    pages: int
    bytes: int
    producer: str
    consumer: str


@dataclass_json
@dataclass(frozen=True)
class AccessorRecord:
    tensor: str
    cta_offset: int
    flags: int


@dataclass_json
@dataclass(frozen=True)
class KernelRecord:
    role: str
    source: str
    processor: str          # "RISCV_0", "RISCV_1", or "compute" (the three TRISCs)
    noc: str
    accessors: tuple[AccessorRecord, ...]
    compile_args: tuple[int, ...]
    runtime_args: tuple[str, ...]


@dataclass_json
@dataclass(frozen=True)
class CoreArgsRecord:
    core: tuple[int, int]
    role: str
    values: tuple[int | str, ...]


@dataclass_json
@dataclass(frozen=True)
class ComputeRecord:
    math_fidelity: str
    fp32_dest_acc_en: bool
    dst_tiles: int
    unpack_to_dest_fp32: tuple[int, ...]    # CBs whose copies reach the 32-bit DST unrounded
    defines: tuple[tuple[str, str], ...]    # ComputeConfig.defines: REDUCE_OP/REDUCE_DIM for reduce.h


@dataclass_json
@dataclass(frozen=True)
class Plan:
    schema: str
    emitted_by: str
    kernel: str
    target: str
    api: str
    core_grid: tuple[int, int]
    cores: tuple[tuple[int, int], ...]
    tensors: tuple[TensorRecord, ...]
    cbs: tuple[CbRecord, ...]
    kernels: tuple[KernelRecord, ...]
    runtime_args: tuple[CoreArgsRecord, ...]
    compute: ComputeRecord
    semaphores: int = 0               # CreateSemaphore'd on every core, ids 0.., initial value 0 (D3b)

    def tensor(self, name: str) -> TensorRecord:
        return next(t for t in self.tensors if t.name == name)

    def programs(self) -> tuple[Plan, ...]:
        """The Metalium programs main.cpp runs, in order: this one."""
        return (self,)


@dataclass_json
@dataclass(frozen=True)
class SequencePlan:
    """A program of several launches (schema `nanott.plan-sequence/1`): the tensors the host sees
    (a scratch tensor, T.alloc_global, is neither input nor output: it lives in DRAM between two
    launches) and one Plan per launch, run in order. Its kernel files are `launch<i>_<role>.cpp`."""
    schema: str
    emitted_by: str
    kernel: str
    target: str
    api: str
    tensors: tuple[TensorRecord, ...]
    launches: tuple[Plan, ...]

    def programs(self) -> tuple[Plan, ...]:
        return self.launches


def load_plan(text: str) -> Plan | SequencePlan:
    """tt.plan.json read back: a Plan, or a SequencePlan for a program of several launches."""
    return (SequencePlan if json.loads(text)["schema"] == SEQUENCE_SCHEMA else Plan).from_json(text)


def sequence_plan_of(program: Launches, target: Target, api: Api) -> SequencePlan:
    """One plan per launch; the host's tensors are the program's parameters, an input where some
    launch reads it, an output where some launch writes it, and its scratch tensors, neither."""
    launches = tuple(plan_of(k, target, api, prefix=f"launch{i}_") for i, k in enumerate(program.launches))
    records = [t for p in launches for t in p.tensors]
    params = {t.name for t in program.params}
    out = {}
    for r in records:
        first = out.setdefault(r.name, r)
        out[r.name] = replace(first, input=r.name in params and any(x.input for x in records if x.name == r.name),
                              output=r.name in params and any(x.output for x in records if x.name == r.name))
    return SequencePlan(SEQUENCE_SCHEMA, "nanott G1 emit-metalium (L9 -> C++)", program.name, target.name,
                        api.version, tuple(out.values()), launches)


def plan_of(program: l9.Program, target: Target, api: Api, prefix: str = "") -> Plan:
    if program.args is None:
        raise CheckError("G1 needs E1's runtime-argument table; the program has none")
    if tuple(k.role for k in program.kernels) != ROLES:
        raise CheckError(f"G1 emits {ROLES} kernels; the program has {[k.role for k in program.kernels]}")
    c = program.compute
    if c.math_fidelity not in MATH_FIDELITIES:
        raise CheckError(f"math fidelity {c.math_fidelity!r} is not one of {MATH_FIDELITIES}")
    return Plan(SCHEMA, "nanott G1 emit-metalium (L9 -> C++)", program.name, target.name, api.version,
                tuple(program.work.core_grid),
                tuple(tuple(w.core) for w in program.work.cores), tensors(program), cbs(program),
                tuple(kernel(program, k, prefix) for k in program.kernels),
                tuple(CoreArgsRecord(tuple(r.core), r.role, tuple(r.values)) for r in program.args.cores),
                ComputeRecord(c.math_fidelity, c.fp32_dest_acc, c.dst_tiles, unpack_to_dest_fp32(program),
                              compute_defines(program)),
                1 + max((x.sem for x in walk(program.kernels) if hasattr(x, "sem")), default=-1))


def compute_defines(program: l9.Program) -> tuple[tuple[str, str], ...]:
    """reduce.h takes its template defaults from the macros REDUCE_OP and REDUCE_DIM, which the
    host sets through ComputeConfig.defines; without them a kernel including it does not compile
    (docs/reference.md §4.4). Every reduce_tile names its own kind, so the first reduction's will do."""
    first = next((x for x in walk(program.kernel("compute").body) if isinstance(x, l9.ReduceTile)), None)
    if first is None:
        return ()
    op, dim = l9.reduce_kind(first.op, first.dim).split(", ")
    return (("REDUCE_OP", f"PoolType::{op}"), ("REDUCE_DIM", f"ReduceDim::{dim}"))


def tensors(program: l9.Program) -> tuple[TensorRecord, ...]:
    """The tensors some kernel binds; input and output decided by which kernel moves them (a
    tensor whose rows are written only where a condition holds is an input too: the rows not
    written keep what the host put there, as in every interpreter)."""
    read = {x.tensor for x in walk(program.kernels) if isinstance(x, l9.NocReadPage)
            or isinstance(x, l9.NocWritePage) and x.source is not None}   # scattered rows: the others stay
    written = {x.tensor for x in walk(program.kernels) if isinstance(x, l9.NocWritePage)}
    bound = {b.tensor for k in program.kernels for b in k.bindings}
    out = []
    for t in program.params:
        if t.name not in bound:
            continue
        fmt = data_format(t.layout.format)
        if fmt not in HOST_TYPES:
            raise CheckError(f"tensor {t.name}: no host type for data format {fmt}")
        tiles = 1
        for n in t.layout.tiles:
            tiles *= n
        out.append(TensorRecord(t.name, t.dtype, fmt, HOST_TYPES[fmt][0], tuple(t.shape),
                                tuple(t.layout.padded_shape),
                                tuple(t.layout.order or range(max(2, len(t.shape)))),
                                tiles, t.layout.page_bytes, t.name in read, t.name in written,
                                f"{t.name}.bin"))
    return tuple(out)


def cbs(program: l9.Program) -> tuple[CbRecord, ...]:
    return tuple(CbRecord(cb.index, cb.name, data_format(cb.plan.format), cb.plan.page_bytes,
                          cb.plan.pages, cb.plan.bytes, cb.producer, cb.consumer) for cb in program.cbs)


def kernel(program: l9.Program, k: l9.DeviceKernel, prefix: str = "") -> KernelRecord:
    """A kernel's placement, compile-time arguments (accessor flags at their cta offsets, which
    must tile the argument list exactly) and runtime-argument slots."""
    tensors = {t.name: t for t in program.params}
    accessors, args = [], []
    for b in sorted(k.bindings, key=lambda b: b.cta_offset):
        acc = tensors[b.tensor].accessor
        if acc is None or acc.cta_flags & SHARDED:
            raise CheckError(f"{k.role} binds {b.tensor}, which has no interleaved accessor (A3)")
        if b.cta_offset != len(args):
            raise CheckError(f"{k.role} binds {b.tensor} at cta {b.cta_offset}; the accessors before "
                             f"it take {len(args)} compile-time arguments")
        accessors.append(AccessorRecord(b.tensor, b.cta_offset, acc.cta_flags))
        args.append(acc.cta_flags)
    slots = next((a.names for a in program.args.kernels if a.role == k.role), None)
    if slots is None:
        raise CheckError(f"E1's table has no runtime arguments for the {k.role}")
    processor, noc = PROCESSORS.get(k.role, ("compute", ""))
    return KernelRecord(k.role, f"{prefix}{k.role}.cpp", processor, noc, tuple(accessors), tuple(args),
                        tuple(slots))


def data_format(name: str) -> str:
    if name not in DATA_FORMATS:
        raise CheckError(f"{name!r} is not a tt::DataFormat (docs/reference.md §6.2)")
    return name


def plan_json(plan: Plan | SequencePlan) -> str:
    """The plan as JSON: objects one key per line, lists of numbers and strings on one line."""
    return _dump(plan.to_dict(encode_json=False), "") + "\n"


def _dump(x: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(x, dict):
        items = [f"{inner}{json.dumps(k)}: {_dump(v, inner)}" for k, v in x.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}" if items else "{}"
    if isinstance(x, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) or _flat(v) for v in x):
            return "[" + ", ".join(_dump(v, inner) for v in x) + "]"
        return "[\n" + ",\n".join(inner + _dump(v, inner) for v in x) + f"\n{indent}]"
    return json.dumps(x)


def _flat(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and all(not isinstance(v, (dict, list, tuple)) for v in x)
