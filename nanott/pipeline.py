"""The ladder, as data: the one ordered list of stages every tool walks.

`nanott passes`, `--stop-after` choices, test parameters, pytest markers, snapshot names and the
docs' pipeline diagram all derive from PIPELINE. Stage ids and names are stable (docs/design.md): a
stage inserted later gets a new id (C2a), never a renumbering, and files and test parameters are
named by id and name (`B1_partition-work`), never by position, so a new stage renames nothing.
Each stage holds its pass function itself, so an editor or a linter can follow it.
"""
from __future__ import annotations

import importlib
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from nanott.diagnostics import NanottError
from nanott.ir import Language, Launches, per_launch
from nanott.passes.a1_infer_layout import infer_layout
from nanott.passes.p0a_merge_row_blocks import merge_row_blocks
from nanott.passes.p0b_stage_dram_elements import stage_dram_elements
from nanott.passes.a1a_remove_dead_buffers import drop_overwritten_values, remove_dead_buffers
from nanott.passes.a2_plan_circular_buffers import plan_circular_buffers
from nanott.passes.a3_attach_tensor_accessors import attach_tensor_accessors
from nanott.passes._b1_adds_in_loops import lower_adds_in_loops
from nanott.passes._b1_split_k import fold_split_k
from nanott.passes.b1_partition_work import partition_work
from nanott.passes.b2_grid_to_persistent import grid_to_persistent
from nanott.passes.c1_lower_shared_to_cb import lower_shared_to_cb
from nanott.passes.c2_lower_tile_intrinsics import lower_tile_intrinsics
from nanott.passes.c2a_drop_dead_blocks import drop_dead_blocks
from nanott.passes.c2b_add_intermediate_cbs import add_intermediate_cbs
from nanott.passes.c3_build_tile_dataflow import build_tile_dataflow
from nanott.passes.d1_split_device_kernel import split_device_kernel
from nanott.passes.d2_bind_tensor_accessors import bind_tensor_accessors
from nanott.passes.d3_lower_cb_protocol import lower_cb_protocol
from nanott.passes.d3a_batch_read_barriers import batch_read_barriers
from nanott.passes.d3b_multicast_shared_reads import multicast_shared_reads
from nanott.passes.d4_insert_compute_init import insert_compute_init
from nanott.passes.d5_insert_dst_management import insert_dst_management
from nanott.passes.d5a_keep_accumulators_in_dst import keep_accumulators_in_dst
from nanott.passes.d5b_use_matmul_block import use_matmul_block
from nanott.passes.e1_finalize_signature import finalize_signature
from nanott.passes.f1_verify import verify
from nanott.passes.g1_emit_metalium import emit_metalium
from nanott.passes.p0_parse import parse
from nanott.target import DEFAULT_TARGET, Target

LANGUAGES = tuple(f"L{i}" for i in range(10))


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    src: str | None             # input language ("L3"), None for P0 (Python source)
    dst: str | None             # output language, None for G1 (C++)
    function: Callable[..., Any]  # the pass: (program, target) -> program
    steps: tuple[Callable[..., Any], ...] = ()    # named sub-steps it runs first, in order

    @property
    def position(self) -> int:
        """Where the stage runs; shown (`nanott passes`, dump directories), never stored in a name."""
        return PIPELINE.index(self)

    @property
    def stem(self) -> str:
        """Id and name, `B1_partition-work`: the name of its snapshots, dumps and test parameters."""
        return f"{self.id}_{self.name}"

    @property
    def module_name(self) -> str:
        return self.function.__module__

    @property
    def path(self) -> str:
        """The pass file, relative to the repository: `nanott/passes/b1_partition_work.py`."""
        return source_path(self.function)

    def step_lines(self) -> list[str]:
        """`name (file): first docstring line` for each sub-step, as `nanott passes --verbose` shows."""
        return [f"{f.__name__} ({source_path(f)}): {(f.__doc__ or '').strip().splitlines()[0]}"
                for f in self.steps]

    @property
    def doc(self) -> str:
        return sys.modules[self.module_name].__doc__ or ""

    @property
    def explanation(self) -> str:
        """The pass docstring's specification lines (Changes / Preserves / Why / Numerics)."""
        lines = self.doc.strip().splitlines()[1:]
        return "\n".join(line for line in lines if line.strip()).strip()

    def run(self, program: Any, target: Target = DEFAULT_TARGET) -> Any:
        """The pass on a program: on each launch in turn of a program of several, for a stage from
        one IR to another (P0 makes the launches, G1 emits them together)."""
        if self.src is None or self.dst is None:
            return self.function(program, target)
        return per_launch(self.function, program, target)

    @property
    def transition(self) -> str:
        return f"{self.src or 'Python'} -> {self.dst or 'C++'}"

    @property
    def changes_rounding(self) -> bool:
        return re.search(r"^Numerics:", self.doc, re.M) is not None


def source_path(f: Callable[..., Any]) -> str:
    """The file defining f, relative to the repository."""
    root = Path(sys.modules["nanott"].__file__).resolve().parent.parent
    return Path(inspect.getsourcefile(f)).resolve().relative_to(root).as_posix()


PIPELINE: tuple[Stage, ...] = (
    Stage("P0", "parse",                     None, "L0", parse),
    Stage("P0b", "stage-dram-elements",      "L0", "L0", stage_dram_elements),
    Stage("P0a", "merge-row-blocks",         "L0", "L0", merge_row_blocks),
    Stage("A1", "infer-layout",              "L0", "L1", infer_layout),
    Stage("A1a", "remove-dead-buffers",      "L1", "L1", remove_dead_buffers, (drop_overwritten_values,)),
    Stage("A2", "plan-circular-buffers",     "L1", "L1", plan_circular_buffers),
    Stage("A3", "attach-tensor-accessors",   "L1", "L1", attach_tensor_accessors),
    Stage("B1", "partition-work",            "L1", "L2", partition_work, (lower_adds_in_loops, fold_split_k)),
    Stage("B2", "grid-to-persistent",        "L2", "L3", grid_to_persistent),
    Stage("C1", "lower-shared-to-cb",        "L3", "L4", lower_shared_to_cb),
    Stage("C2", "lower-tile-intrinsics",     "L4", "L5", lower_tile_intrinsics),
    Stage("C2a", "drop-dead-blocks",         "L5", "L5", drop_dead_blocks),
    Stage("C2b", "add-intermediate-cbs",     "L5", "L5", add_intermediate_cbs),
    Stage("C3", "build-tile-dataflow",       "L5", "L6", build_tile_dataflow),
    Stage("D1", "split-device-kernel",       "L6", "L7", split_device_kernel),
    Stage("D2", "bind-tensor-accessors",     "L7", "L7", bind_tensor_accessors),
    Stage("D3", "lower-cb-protocol",         "L7", "L8", lower_cb_protocol),
    Stage("D3a", "batch-read-barriers",      "L8", "L8", batch_read_barriers),
    Stage("D3b", "multicast-shared-reads",   "L8", "L8", multicast_shared_reads),
    Stage("D4", "insert-compute-init",       "L8", "L8", insert_compute_init),
    Stage("D5", "insert-dst-management",     "L8", "L9", insert_dst_management),
    Stage("D5a", "keep-accumulators-in-dst", "L9", "L9", keep_accumulators_in_dst),
    Stage("D5b", "use-matmul-block",         "L9", "L9", use_matmul_block),
    Stage("E1", "finalize-signature",        "L9", "L9", finalize_signature),
    Stage("F1", "verify",                    "L9", "L9", verify),
    Stage("G1", "emit-metalium",             "L9", None, emit_metalium),
)
STAGES = {s.id: s for s in PIPELINE}
# stages that only make the emitted code faster: `nanott run --skip D5a` leaves one out, so the
# cycle model can show what it buys (benchmarks/bench_gemm_cycles.py, docs/08_time.md)
OPTIONAL = ("D3a", "D3b", "D5a", "D5b")


def language(name: str) -> Language:
    return importlib.import_module(f"nanott.languages.{name.lower()}").LANG


def interpreter(name: str):
    """The interpreter class of a language (InterpL5 for "L5")."""
    module = importlib.import_module(f"nanott.languages.{name.lower()}_interp")
    return getattr(module, f"Interp{name}")


def stage(stage_id: str) -> Stage:
    try:
        return STAGES[stage_id]
    except KeyError:
        raise KeyError(f"no stage {stage_id!r}; stages are {', '.join(STAGES)}") from None


def run_stages(kernel: Any, stop_after: str | None = None, target: Target = DEFAULT_TARGET,
               check: bool = True, skip: tuple[str, ...] = ()) -> Iterator[tuple[Stage, Any]]:
    """Run P0.. in order (but the OPTIONAL stages in `skip`), checking each output against its
    language; yield (stage, program)."""
    last = stage(stop_after or "F1")
    program: Any = kernel
    for s in PIPELINE:
        if s.id in skip and s.id in OPTIONAL and s is not last:
            continue
        program = s.run(program, target)
        if isinstance(program, Launches):
            tensors_agree(program, s)
        if check and s.dst is not None:
            language(s.dst).check(program, after=f"{s.id} {s.name}")
        yield s, program
        if s is last:
            return


def tensors_agree(program: Launches, s: Stage) -> None:
    """A tensor two launches share is one DRAM buffer: after each stage, every launch must describe
    it alike (its A1 layout, its A3 accessor), or the later launch would read pages the earlier did
    not write there."""
    seen: dict[str, Any] = {}
    for launch in program.launches:
        for t in launch.params:
            if seen.setdefault(t.name, t) != t:
                raise NanottError("NT324", f"the launches of {program.name} lay out {t.name} differently "
                                  f"after {s.id} {s.name}: {shown(seen[t.name])} and {shown(t)}", t.loc,
                                  hint="copy the tensor with the same block shapes in every launch")


def shown(tensor: Any) -> str:
    """A tensor with its layout (padding, accessor) where its language can say it."""
    return tensor.describe() if hasattr(tensor, "describe") else str(tensor)


def lower(kernel: Any, stop_after: str = "F1", target: Target = DEFAULT_TARGET, check: bool = True,
          skip: tuple[str, ...] = ()) -> Any:
    """The program after `stop_after` (L0..L9 IR, or G1's files), without the OPTIONAL stages in skip."""
    program = None
    for _, program in run_stages(kernel, stop_after, target, check, skip):
        pass
    return program
