"""The `nanott` command: explain, run, compile, graph, passes, grammar.

Every command walks `nanott.pipeline.PIPELINE`. A mistake in the user's kernel (NanottError) prints
its diagnostic and exits 1; a compiler bug (a checker's CheckError, an interpreter's NoRule, a
missing pass or language module) prints its message and exits 2; neither shows a traceback.
"""
from __future__ import annotations

import difflib
import json
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Iterator

import typer

from nanott import api, pipeline
from nanott.diagnostics import NanottError
from nanott.ir import CheckError
from nanott.languages.l0_interp import NoRule
from nanott.pipeline import PIPELINE, Stage
from nanott.printing import num, render
from nanott.target import TARGETS

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
StageId = Enum("StageId", {s.id: s.id for s in PIPELINE}, type=str)       # help shows <P0|A1|...|G1>
Level = Enum("Level", {name: name for name in pipeline.LANGUAGES}, type=str)
TargetName = Enum("TargetName", {name: name for name in TARGETS}, type=str)
Format = Enum("Format", {"text": "text", "json": "json"}, type=str)

KernelFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A kernel file.")]
KernelOpt = Annotated[str | None, typer.Option("--kernel", help="The factory or prim_func to use.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="K=V: a factory argument (repeat).")]
TargetOpt = Annotated[TargetName, typer.Option(help="The machine to lower for.")]


@app.callback()
def main() -> None:
    """Lower TileLang-style tile kernels to TT-Metalium, one checked pass at a time."""


@contextmanager
def reported() -> Iterator[None]:
    """User mistakes exit 1 with their diagnostic; compiler bugs exit 2 with their message."""
    try:
        yield
    except NanottError as e:
        typer.echo(e.render(), err=True)
        raise typer.Exit(1)
    except (CheckError, NoRule) as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2)
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("nanott"):
            raise
        typer.echo(f"nanott: internal error: {e.name} does not exist yet (an unfinished compiler, "
                   "not your kernel)", err=True)
        raise typer.Exit(2)


def load(path: Path, kernel: str | None, sets: list[str] | None) -> Any:
    from nanott.loader import load_kernel
    loaded = load_kernel(path, kernel=kernel, sets=parse_sets(sets or []))
    for line, why in loaded.skipped:
        typer.echo(f"{path}:{line}: note: skipped while loading (the kernel does not need it): {why}",
                   err=True)
    return loaded


def parse_sets(items: list[str]) -> dict[str, str]:
    """`--set M=512 --set dtype=bfloat16` -> {"M": "512", "dtype": "bfloat16"} (the loader parses values)."""
    out: dict[str, str] = {}
    for item in items:
        key, eq, text = item.partition("=")
        if not eq or not key.isidentifier():
            raise NanottError("NT910", f"--set {item!r} is not K=V", hint="for example --set M=512")
        out[key] = text
    return out


def printed(stage: Stage, program: Any) -> str:
    """The printed form of a stage's output; G1's files each under a `// ----- name -----` banner."""
    if isinstance(program, dict):
        return "".join(f"// ----- {name} -----\n{text.rstrip()}\n" for name, text in program.items())
    return render(program)


class Numerics:
    """Runs each level's interpreter on one set of seeded random inputs and says how it compares."""

    def __init__(self, loaded: Any, kernel: Any, seed: int = 0):
        self.kernel = kernel
        self.inputs = api.random_inputs(kernel, seed)
        self.expected = api.expected_outputs(loaded, kernel, self.inputs)
        self.previous: tuple[Stage, dict] | None = None
        self.failures: list[str] = []

    def check(self, stage: Stage, program: Any) -> str:
        actual = api.simulate(program, stage.dst, self.inputs)
        results = api.compare(self.kernel, actual, self.expected)
        err = max(r.max_abs for r in results)
        dtypes = sorted({r.dtype for r in results})
        tol = "; ".join(f"{d} rtol {num(api.TOLERANCE[d]['rtol'])}, atol {num(api.TOLERANCE[d]['atol'])}"
                        for d in dtypes)
        ok = all(r.ok for r in results)
        words = f"max |err| {num(err)} vs reference ({'tol' if ok else 'EXCEEDS tol'} {tol})"
        if not ok:
            self.failures.append(f"{stage.id} differs from the reference by {num(err)}")
        if self.previous is not None:
            words += ", " + self.against_previous(stage, actual)
        self.previous = (stage, actual)
        return words

    def against_previous(self, stage: Stage, actual: dict) -> str:
        prev, before = self.previous
        if api.identical(actual, before, tuple(self.expected)):
            return f"bit-identical to {prev.dst}"
        by = max(api.max_abs_error(actual[n], before[n]) for n in self.expected)
        if stage.changes_rounding:
            return f"differs from {prev.dst} by {num(by)} (the pass declares a Numerics change)"
        self.failures.append(f"{stage.id} changed the numbers but declares no Numerics: change")
        return f"differs from {prev.dst} by {num(by)}, and {stage.id} declares no Numerics change"


@app.command()
def explain(
    file: KernelFile,
    stop_after: Annotated[StageId | None, typer.Option(help="Last stage to run.")] = None,
    only: Annotated[StageId | None, typer.Option(help="Print only this stage.")] = None,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff against the stage before.")] = False,
    format: Annotated[Format, typer.Option(help="text, or the JSON dump of the IR.")] = Format.text,
    no_check: Annotated[bool, typer.Option("--no-check", help="Skip the checkers and numerics.")] = False,
    dump_dir: Annotated[Path | None, typer.Option(help="Write {stem}.txt, .json, .dot per stage.")] = None,
    target: TargetOpt = TargetName.wormhole_n150,
    kernel: KernelOpt = None,
    set: SetOpt = None,
) -> None:
    """Print the IR after each stage, checked and run on random inputs."""
    with reported():
        loaded = load(file, kernel, set)
        last = (only or stop_after or StageId.G1).value
        shown = {s.id for s in PIPELINE if only is None or s.id == only.value}
        wanted = shown | {a.id for a, b in zip(PIPELINE, PIPELINE[1:]) if b.id in shown}  # + the one before
        numerics, before = None, None
        for s, program in pipeline.run_stages(loaded.prim_func, last, api.resolve_target(target.value),
                                              check=not no_check):
            numerics = numerics or (None if no_check else Numerics(loaded, program))
            text = printed(s, program)
            trailer = None
            if numerics and s.dst and s.id in wanted:
                trailer = f"checked: {s.dst} ok; numerics: {numerics.check(s, program)}"
            elif s.dst:
                trailer = "unchecked (--no-check)" if no_check else None
            if s.id in shown:
                block = stage_block(s, text, before if diff and s.dst else None, trailer)   # G1: files, not a diff
                typer.echo(as_json(s, program) if format is Format.json else block, nl=False)
                if dump_dir is not None:
                    dump(dump_dir, s, program, block)
            before = (s, text)
        if numerics and numerics.failures:
            typer.echo("nanott: numerics check failed: " + "; ".join(numerics.failures), err=True)
            raise typer.Exit(1)


def stage_block(s: Stage, text: str, before: tuple[Stage, str] | None, trailer: str | None) -> str:
    """Banner, explanation and IR (or its diff), and the trailer, in the IR's comment syntax."""
    c = "//" if s.dst is None else "#"
    out = [f"{c} ----- IR after {s.id} {s.name} ({s.transition}) -----"]
    out += [f"{c} {line}" for line in s.explanation.splitlines()]
    if before is None:
        out.append(text.rstrip("\n"))
    else:
        prev, old = before
        lines = difflib.unified_diff(old.splitlines(), text.splitlines(), f"after {prev.id}",
                                     f"after {s.id}", lineterm="")
        out += list(lines) or [f"{c} (no change from {prev.id})"]
    if trailer:
        out.append(f"{c} {trailer}")
    return "\n".join(out) + "\n"


def as_json(s: Stage, program: Any) -> str:
    if s.dst is None:
        return json.dumps({"after": s.id, "files": program}, indent=1) + "\n"
    from nanott.backends import json as ir_json
    return ir_json.dump(program, s.dst, s.id).rstrip("\n") + "\n"


def dump(directory: Path, s: Stage, program: Any, block: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{s.position:02d}_{s.stem}.txt").write_text(block)
    if s.dst is not None:
        from nanott.backends import graphviz as ir_graphviz
        (directory / f"{s.position:02d}_{s.stem}.json").write_text(as_json(s, program))
        (directory / f"{s.position:02d}_{s.stem}.dot").write_text(ir_graphviz.to_dot(program).source)


@app.command()
def run(
    file: KernelFile,
    level: Annotated[Level, typer.Option(help="The language whose interpreter runs the kernel.")] = Level.L9,
    seed: Annotated[int, typer.Option(help="Seed of the random inputs.")] = 0,
    target: TargetOpt = TargetName.wormhole_n150,
    kernel: KernelOpt = None,
    set: SetOpt = None,
) -> None:
    """Simulate the kernel at one level on random inputs and compare with its NumPy reference."""
    with reported():
        loaded = load(file, kernel, set)
        last = api.stage_for_level(level.value)
        l0_kernel, program = None, None
        for s, program in pipeline.run_stages(loaded.prim_func, last.id, api.resolve_target(target.value)):
            l0_kernel = l0_kernel or program
        inputs = api.random_inputs(l0_kernel, seed)
        expected = api.expected_outputs(loaded, l0_kernel, inputs)
        results = api.compare(l0_kernel, api.simulate(program, level.value, inputs), expected)
        for r in results:
            tol = api.TOLERANCE[r.dtype]
            typer.echo(f"{r.name}: max abs err {num(r.max_abs)}, max rel err {num(r.max_rel)} "
                       f"(tol rtol {num(tol['rtol'])}, atol {num(tol['atol'])}) {'PASS' if r.ok else 'FAIL'}")
        ok = all(r.ok for r in results)
        typer.echo(f"{loaded.name} at {level.value} (after {last.id}), seed {seed}: {'PASS' if ok else 'FAIL'}")
        if not ok:
            raise typer.Exit(1)


@app.command()
def passes(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also each stage's named sub-steps.")] = False,
) -> None:
    """The pipeline: position, id, name, languages, file (and with --verbose, each sub-step)."""
    rows = [(f"{s.position:02d}", s.id, s.name, s.transition, s.path) for s in PIPELINE]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for s, r in zip(PIPELINE, rows):
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[4])
        for line in s.step_lines() if verbose else ():
            typer.echo(f"{'':{widths[0]}}  then  {line}")


@app.command()
def grammar(level: Annotated[Level, typer.Argument(help="A language, L0..L9.")]) -> None:
    """The grammar of a language, with its delta from the one before."""
    with reported():
        from nanott.grammar import describe
        typer.echo(describe(level.value).rstrip("\n"))


@app.command()
def graph(
    file: KernelFile,
    after: Annotated[StageId, typer.Option(help="The stage whose output to draw.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="out.svg, out.png or out.dot")],
    target: TargetOpt = TargetName.wormhole_n150,
    kernel: KernelOpt = None,
    set: SetOpt = None,
) -> None:
    """A graphviz picture of the IR after one stage."""
    with reported():
        if pipeline.stage(after.value).dst is None:
            raise NanottError("NT918", f"{after.value} emits C++ files, not IR", hint="draw a stage up to F1")
        loaded = load(file, kernel, set)
        program = api.lower(loaded.prim_func, after.value, target.value)
        from nanott.backends import graphviz as ir_graphviz
        written = ir_graphviz.write_picture(ir_graphviz.to_dot(program), output)
        typer.echo(f"wrote {written}" if written == output else f"no 'dot' found; wrote {written}")


@app.command("compile")
def compile_command(
    file: KernelFile,
    output: Annotated[Path, typer.Option("-o", "--output", help="The directory to write the files into.")],
    execute: Annotated[bool, typer.Option("--execute", help="Also build them with g++ against nanott's CPU "
                                          "runtime, run them on random inputs and compare with NumPy.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the random inputs (--execute).")] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds the run may take (--execute).")] = 120.0,
    runtime_cache: Annotated[Path | None, typer.Option(
        help="Where the compiled CPU runtime is kept (default: OUTPUT/build); share one to compile it once.")] = None,
    target: TargetOpt = TargetName.wormhole_n150,
    kernel: KernelOpt = None,
    set: SetOpt = None,
) -> None:
    """Write the TT-Metalium files of a kernel (G1): reader, compute and writer kernels, main.cpp,
    tt.plan.json, CMakeLists.txt. With --execute, also build and run them on nanott's CPU runtime."""
    with reported():
        loaded = load(file, kernel, set)
        machine = api.resolve_target(target.value)
        l0_kernel, files = None, None
        for s, files in pipeline.run_stages(loaded.prim_func, "G1", machine):
            l0_kernel = l0_kernel or files
        from nanott.backends.metalium import execute as cpu
        cpu.write_files(output, files)
        typer.echo(f"wrote {', '.join(files)} to {output}")
        if execute:
            run_on_cpu(cpu, output, loaded, l0_kernel, machine, seed, timeout, runtime_cache)


def run_on_cpu(cpu: Any, output: Path, loaded: Any, kernel: Any, machine: Any, seed: int, timeout: float,
               runtime_cache: Path | None) -> None:
    """`compile --execute`: build, run, and print a line per output and, last, the verdict."""
    from nanott.backends.metalium.build import BuildError
    try:
        run = cpu.execute(output, loaded, kernel, machine, seed, runtime_cache, timeout=timeout,
                          progress=lambda m: typer.echo(f"nanott: {m}", err=True))
    except BuildError as e:
        typer.echo(str(e), err=True)
        typer.echo("nanott compile --execute: FAIL (the build failed)")
        raise typer.Exit(2)
    except cpu.RunFailed as e:
        typer.echo(str(e), err=True)
        typer.echo("nanott compile --execute: FAIL (the run failed)")
        raise typer.Exit(1)
    for r in run.results:
        tol = api.TOLERANCE[r.dtype]
        typer.echo(f"{r.name}: max abs err {num(r.max_abs)}, max rel err {num(r.max_rel)} ({r.dtype}: rtol "
                   f"{num(tol['rtol'])}, atol {num(tol['atol'])}) {'PASS' if r.ok else 'FAIL'}")
    ok = all(r.ok for r in run.results)
    typer.echo(f"built in {run.build_seconds:.1f} s, ran in {run.run_seconds:.2f} s on {machine.name} (CPU)")
    worst = max(r.max_rel for r in run.results)
    typer.echo(f"nanott compile --execute: max rel err {num(worst)} against NumPy, "
               f"{'within tolerance: PASS' if ok else 'NOT within tolerance: FAIL'}")
    if not ok:
        raise typer.Exit(1)
