"""The ladder, as data: the one ordered list of stages every tool walks.

`nanott passes`, `--stop-after` choices, test parameters, pytest markers, snapshot names and the
docs' pipeline diagram all derive from PIPELINE. Stage ids and names are stable (DESIGN.md); a
stage inserted later gets a new id (C2a), never a renumbering.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from nanott.ir import Language
from nanott.target import DEFAULT_TARGET, Target

LANGUAGES = tuple(f"L{i}" for i in range(10))


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    src: str | None             # input language ("L3"), None for P0 (Python source)
    dst: str | None             # output language, None for G1 (C++)

    @property
    def position(self) -> int:
        return PIPELINE.index(self)

    @property
    def stem(self) -> str:
        """Position, id and name: `05_B1_partition-work`, for dumps and snapshots."""
        return f"{self.position:02d}_{self.id}_{self.name}"

    @property
    def module_name(self) -> str:
        return f"nanott.passes.{self.id.lower()}_{self.name.replace('-', '_')}"

    @property
    def function(self) -> Callable[..., Any]:
        """The pass: one function named after the verb phrase, in a file named after the stage."""
        module = importlib.import_module(self.module_name)
        return getattr(module, self.name.replace("-", "_"))

    @property
    def doc(self) -> str:
        return importlib.import_module(self.module_name).__doc__ or ""

    @property
    def explanation(self) -> str:
        """The pass docstring's specification lines (Changes / Preserves / Why / Numerics)."""
        lines = self.doc.strip().splitlines()[1:]
        return "\n".join(line for line in lines if line.strip()).strip()

    @property
    def transition(self) -> str:
        return f"{self.src or 'Python'} -> {self.dst or 'C++'}"

    @property
    def changes_rounding(self) -> bool:
        return re.search(r"^Numerics:", self.doc, re.M) is not None


PIPELINE: tuple[Stage, ...] = (
    Stage("P0", "parse",                     None, "L0"),
    Stage("A1", "infer-layout",              "L0", "L1"),
    Stage("A2", "plan-circular-buffers",     "L1", "L1"),
    Stage("A3", "attach-tensor-accessors",   "L1", "L1"),
    Stage("B1", "partition-work",            "L1", "L2"),
    Stage("B2", "grid-to-persistent",        "L2", "L3"),
    Stage("C1", "lower-shared-to-cb",        "L3", "L4"),
    Stage("C2", "lower-tile-intrinsics",     "L4", "L5"),
    Stage("C3", "build-tile-dataflow",       "L5", "L6"),
    Stage("D1", "split-device-kernel",       "L6", "L7"),
    Stage("D2", "bind-tensor-accessors",     "L7", "L7"),
    Stage("D3", "lower-cb-protocol",         "L7", "L8"),
    Stage("D4", "insert-compute-init",       "L8", "L8"),
    Stage("D5", "insert-dst-management",     "L8", "L9"),
    Stage("E1", "finalize-signature",        "L9", "L9"),
    Stage("F1", "verify",                    "L9", "L9"),
    Stage("G1", "emit-metalium",             "L9", None),
)
STAGES = {s.id: s for s in PIPELINE}


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
               check: bool = True) -> Iterator[tuple[Stage, Any]]:
    """Run P0.. in order, checking each output against its language; yield (stage, program)."""
    last = stage(stop_after or "F1")
    program: Any = kernel
    for s in PIPELINE:
        program = s.function(program, target)
        if check and s.dst is not None:
            language(s.dst).check(program, after=f"{s.id} {s.name}")
        yield s, program
        if s is last:
            return


def lower(kernel: Any, stop_after: str = "F1", target: Target = DEFAULT_TARGET, check: bool = True) -> Any:
    """The program after `stop_after` (L0..L9 IR, or G1's files)."""
    program = None
    for _, program in run_stages(kernel, stop_after, target, check):
        pass
    return program
