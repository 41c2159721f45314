"""Lower an example with passes of your own put into the pipeline: the helper the course's solution
scripts share (`python docs/solutions/<name>.py` runs one).

`lower_with("gemm", "D3", after={"A2": my_pass})` runs P0..D3 on examples/gemm.py, runs `my_pass`
on A2's output, and checks every output against its language, as `nanott explain` does;
`replace={"B1": my_pass}` runs `my_pass` instead of B1. A pass takes (program, target), as every
pass of nanott/passes/ does, and returns a program of the language its stage produces.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))                  # run from a checkout without installing nanott

from nanott import api  # noqa: E402
from nanott.loader import LoadedKernel, load_kernel  # noqa: E402
from nanott.pipeline import PIPELINE, language, stage  # noqa: E402
from nanott.target import DEFAULT_TARGET, Target  # noqa: E402

Pass = Callable[[Any, Target], Any]


def load(example: str) -> LoadedKernel:
    return load_kernel(ROOT / "examples" / f"{example}.py")


def lower_with(example: str, stop_after: str, after: dict[str, Pass] | None = None,
               replace: dict[str, Pass] | None = None, target: Target = DEFAULT_TARGET) -> Any:
    """The program after `stop_after`, with your passes run after (or instead of) the stages named."""
    after, replace = after or {}, replace or {}
    program: Any = load(example).prim_func
    for s in PIPELINE[: stage(stop_after).position + 1]:
        program = replace.get(s.id, s.function)(program, target)
        if s.id in after:
            program = after[s.id](program, target)
        if s.dst is not None:
            language(s.dst).check(program, after=f"{s.id} {s.name} (with your passes)")
    return program


def simulate(example: str, program: Any, level: str, seed: int = 0) -> str:
    """Run `program` with `level`'s interpreter on the example's seeded random inputs; say PASS or
    FAIL against its NumPy reference (the simulator raises when the program breaks a rule)."""
    loaded = load(example)
    kernel = api.lower(loaded.prim_func, "P0")
    inputs = api.random_inputs(kernel, seed)
    expected = api.expected_outputs(loaded, kernel, inputs)
    results = api.compare(kernel, api.simulate(program, level, inputs), expected)
    return "PASS" if all(r.ok for r in results) else "FAIL"
