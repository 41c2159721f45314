"""The ladder, as data: the one ordered list of stages every tool walks.

`nanott passes`, `--stop-after` choices, test parameters, pytest markers, snapshot names and the
docs' pipeline diagram all derive from PIPELINE. Stage ids and names are stable (docs/design.md): a
stage inserted later gets a new id (C2a), never a renumbering, and files and test parameters are
named by id and name (`B1_partition-work`), never by position, so a new stage renames nothing.
Each stage finds its pass function by the naming rule (`B1 partition-work` is partition_work in
nanott/passes/b1_partition_work.py) and imports it the first time the stage runs (`later`):
`nanott explain --stop-after D3` loads no pass after D3, nor the languages and the engine model
only those passes use (about 0.02 s of a cold start; `benchmarks/bench_startup.py`).
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
from nanott.target import DEFAULT_TARGET, Target

LANGUAGES = tuple(f"L{i}" for i in range(10))


def later(module: str, name: str) -> Callable[..., Any]:
    """A stand-in for the function `name` of nanott/passes/`module`.py that imports it when first
    called; it carries that name and module, so the tools that show a pass need not import it."""
    def call(*args: Any) -> Any:
        return resolved(call)(*args)
    call.__name__ = call.__qualname__ = name
    call.__module__ = f"nanott.passes.{module}"
    call.deferred = True                                   # type: ignore[attr-defined]
    return call


def resolved(f: Callable[..., Any]) -> Callable[..., Any]:
    """The function behind `later`'s stand-in, imported now (any other function: itself)."""
    if getattr(f, "deferred", False):
        return getattr(importlib.import_module(f.__module__), f.__name__)
    return f


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    src: str | None             # input language ("L3"), None for P0 (Python source)
    dst: str | None             # output language, None for G1 (C++)
    function: Callable[..., Any] = None   # type: ignore[assignment]  # the pass: (program, target) -> program
    steps: tuple[Callable[..., Any], ...] = ()    # named sub-steps it runs first, in order
    whole: bool = False         # the pass takes a program of several launches whole (A1: layouts agree)

    def __post_init__(self) -> None:
        """The pass by the house rule (`B1 partition-work` is partition_work in
        nanott/passes/b1_partition_work.py), imported when it first runs."""
        if self.function is None:
            snake = self.name.replace("-", "_")
            object.__setattr__(self, "function", later(f"{self.id.lower()}_{snake}", snake))

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
        return [f"{f.__name__} ({source_path(f)}): {(resolved(f).__doc__ or '').strip().splitlines()[0]}"
                for f in self.steps]

    @property
    def doc(self) -> str:
        return importlib.import_module(self.module_name).__doc__ or ""

    @property
    def explanation(self) -> str:
        """The pass docstring's specification lines (Changes / Preserves / Why / Numerics)."""
        lines = self.doc.strip().splitlines()[1:]
        return "\n".join(line for line in lines if line.strip()).strip()

    def run(self, program: Any, target: Target = DEFAULT_TARGET) -> Any:
        """The pass on a program: on each launch in turn of a program of several, for a stage from
        one IR to another (P0 makes the launches, G1 emits them together, A1 sees them all)."""
        if self.src is None or self.dst is None or self.whole:
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
    return Path(inspect.getsourcefile(resolved(f))).resolve().relative_to(root).as_posix()


PIPELINE: tuple[Stage, ...] = (
    Stage("P0", "parse",                     None, "L0"),
    Stage("P0b", "stage-dram-elements",      "L0", "L0", whole=True,
          steps=(later("_p0b_element_rows", "element_rows"),)),
    Stage("P0a", "merge-row-blocks",         "L0", "L0"),
    Stage("P0c", "split-k-across-cores",     "L0", "L0"),
    Stage("A1", "infer-layout",              "L0", "L1", whole=True),
    Stage("A1a", "remove-dead-buffers",      "L1", "L1", steps=(later("a1a_remove_dead_buffers", "drop_overwritten_values"),)),
    Stage("A2", "plan-circular-buffers",     "L1", "L1"),
    Stage("A3", "attach-tensor-accessors",   "L1", "L1"),
    Stage("B1", "partition-work",            "L1", "L2", steps=(later("_b1_adds_in_loops", "lower_adds_in_loops"),
                                                                            later("_split_k", "fold_split_k"))),
    Stage("B2", "grid-to-persistent",        "L2", "L3"),
    Stage("C1", "lower-shared-to-cb",        "L3", "L4"),
    Stage("C2", "lower-tile-intrinsics",     "L4", "L5"),
    Stage("C2a", "drop-dead-blocks",         "L5", "L5"),
    Stage("C2b", "add-intermediate-cbs",     "L5", "L5"),
    Stage("C2c", "share-circular-buffers",   "L5", "L5"),
    Stage("C3", "build-tile-dataflow",       "L5", "L6"),
    Stage("D1", "split-device-kernel",       "L6", "L7"),
    Stage("D2", "bind-tensor-accessors",     "L7", "L7"),
    Stage("D3", "lower-cb-protocol",         "L7", "L8"),
    Stage("D3a", "batch-read-barriers",      "L8", "L8"),
    Stage("D3b", "multicast-shared-reads",   "L8", "L8"),
    Stage("D3c", "split-reads-between-movers", "L8", "L8"),
    Stage("D3d", "multicast-by-rows",        "L8", "L8"),
    Stage("D4", "insert-compute-init",       "L8", "L8"),
    Stage("D5", "insert-dst-management",     "L8", "L9"),
    Stage("D5a", "keep-accumulators-in-dst", "L9", "L9"),
    Stage("D5b", "use-matmul-block",         "L9", "L9"),
    Stage("D5c", "push-output-per-subblock", "L9", "L9"),
    Stage("D5d", "wait-for-parts",           "L9", "L9"),
    Stage("E1", "finalize-signature",        "L9", "L9"),
    Stage("F1", "verify",                    "L9", "L9"),
    Stage("G1", "emit-metalium",             "L9", None),
)
STAGES = {s.id: s for s in PIPELINE}
# stages that only make the emitted code faster: `nanott run --skip D5a` leaves one out, so the
# cycle model can show what it buys (benchmarks/bench_gemm_cycles.py, docs/08_time.md)
OPTIONAL = ("P0c", "D3a", "D3b", "D3c", "D3d", "D5a", "D5b", "D5c", "D5d")


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
    accepted: dict[str, dict] = {}       # per language, the nodes its checker accepted (Language.check)
    for s in PIPELINE:
        if s.id in skip and s.id in OPTIONAL and s is not last:
            continue
        program = s.run(program, target)
        if isinstance(program, Launches):
            tensors_agree(program, s)
        if check and s.dst is not None:
            language(s.dst).check(program, after=f"{s.id} {s.name}", accepted=accepted.setdefault(s.dst, {}))
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
