"""`nanott opt IN.json --passes C2..C3 -o OUT.json`: run chosen stages on an IR dump, as `mlir-opt` does.

The dump may come from `--dump-dir`, `nanott.dump` or a learner's editor. Its program is checked
against the language it names; each stage checks that its input is in the stage's input language
(a diagnostic otherwise) and its output in the output language. Then the program before and after
runs on the same seeded random arrays with each language's interpreter: the stages must leave every
array bit-identical, unless one of them declares a Numerics change in its docstring.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from nanott import api, notebook, pipeline
from nanott.cli import TargetName, TargetOpt, app, reported
from nanott.cli_coerce import Command
from nanott.diagnostics import NanottError
from nanott.languages.l0_interp import np_dtype
from nanott.printing import num, render


def stage_list(text: str, after: str) -> list[pipeline.Stage]:
    """`C2,C3` -> the stages, each an IR-to-IR stage (G1 writes C++: `nanott compile` does that);
    `C2..C3` is every stage from C2 to C3 in pipeline order, so a stage added between them runs too."""
    ids = [t.strip() for t in text.split(",") if t.strip()]
    if not ids:
        raise NanottError("NT935", "--passes names no stage", hint=f"for example --passes {next_stage(after)}")
    stages = [s for i in ids for s in stage_range(i)]
    for s in stages:
        if s.src is None or s.dst is None:
            raise NanottError("NT935", f"{s.id} is not an IR-to-IR stage",
                              hint="P0 parses a kernel file and G1 writes C++: use nanott explain or compile")
    return stages


def stage_range(text: str) -> list[pipeline.Stage]:
    first, _, last = (t.strip() for t in text.partition(".."))
    a, b = (pipeline.stage(api.check_stage_id(i)) for i in (first, last or first))
    if b.position < a.position:
        raise NanottError("NT935", f"--passes {text}: {b.id} runs before {a.id}", hint=f"--passes {b.id}..{a.id}")
    return list(pipeline.PIPELINE[a.position:b.position + 1])


def next_stage(after: str) -> str:
    s = pipeline.STAGES.get(after)
    return pipeline.PIPELINE[min(s.position + 1, len(pipeline.PIPELINE) - 2)].id if s else "A1"


def random_arrays(program: Any, seed: int) -> dict[str, np.ndarray]:
    """Every parameter random (outputs too: an element no level writes keeps the same value in both
    runs), so the program before and after a stage can be compared without knowing the kernel."""
    rng = np.random.default_rng(seed)
    out = {}
    for p in program.params:
        dtype = np_dtype(p.dtype)
        if p.dtype == "int32":
            out[p.name] = rng.integers(*api.INT_RANGE, size=p.shape).astype(dtype)
        else:
            out[p.name] = rng.uniform(-1.0, 1.0, size=p.shape).astype(dtype)
    return out


def numerics(before: Any, src: str, after: Any, dst: str, stages: list[pipeline.Stage], seed: int) -> tuple[str, bool]:
    """Compare the program before and after the stages on the same arrays: (words, ok)."""
    arrays = random_arrays(before, seed)
    old, new = api.simulate(before, src, arrays), api.simulate(after, dst, arrays)
    names = tuple(arrays)
    if api.identical(old, new, names):
        return f"bit-identical to the input ({src}) on random arrays (seed {seed})", True
    by = max(api.max_abs_error(new[n], old[n]) for n in names)
    declared = [s.id for s in stages if s.changes_rounding]
    if declared:
        return f"differs from the input ({src}) by {num(by)} ({', '.join(declared)} declare a Numerics change)", True
    return f"differs from the input ({src}) by {num(by)}, and no stage run declares a Numerics change", False


@app.command(cls=Command)
def opt(
    dump_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An IR dump (JSON).")],
    passes: Annotated[str, typer.Option("--passes", help="Stages to run in order, e.g. C2,C3; "
                                                       "C2..C3 is every stage from C2 to C3.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the JSON dump here "
                                                "(default: print the IR).")] = None,
    no_check: Annotated[bool, typer.Option("--no-check", help="Skip the checkers and numerics.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the random arrays of the numeric check.")] = 0,
    target: TargetOpt = TargetName.wormhole_n150,
) -> None:
    """Run chosen stages on an IR dump (from --dump-dir or nanott.dump), check, print or write it."""
    with reported():
        program, language, after = notebook.load_dump(dump_file)
        stages = stage_list(passes, after)
        result = program
        for s in stages:
            result = notebook.run_pass(s.id, result, target.value, check=not no_check)
        dst = stages[-1].dst
        if output is not None:
            notebook.dump(result, output, after=stages[-1].id)
            typer.echo(f"wrote {output} ({dst}, after {stages[-1].id})")
        else:
            typer.echo(render(result), nl=False)
        if no_check:
            return
        words, ok = numerics(program, language, result, dst, stages, seed)
        typer.echo(f"# checked: {dst} ok; numerics: {words}", err=True)
        if not ok:
            raise typer.Exit(1)
