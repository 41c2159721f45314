"""`nanott report FILE -o report.html`: the command; the page itself is nanott/report.py."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nanott import api
from nanott.cli import KernelFile, KernelOpt, SetOpt, TargetName, TargetOpt, app, load, reported
from nanott.cli_coerce import Command
from nanott.cli_habits import progress


@app.command(cls=Command)
def report(
    file: KernelFile,
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")],
    no_check: Annotated[bool, typer.Option("--no-check", help="Skip the checkers and numerics.")] = False,
    target: TargetOpt = TargetName.wormhole_n150,
    kernel: KernelOpt = None,
    set: SetOpt = None,
) -> None:
    """One self-contained HTML page of the whole lowering: per stage the IR, a side-by-side diff,
    the numeric check, the picture, the pass's explanation and its time."""
    from nanott.report import collect, page
    with reported():
        loaded = load(file, kernel, set)
        with progress(f"lowering, checking and drawing {loaded.name}, stage by stage"):
            reports, failure = collect(loaded, api.resolve_target(target.value), check=not no_check)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(page(loaded.name, loaded.path.read_text(), reports))
        bad = [r.stage.id for r in reports if not r.ok]
        typer.echo(f"wrote {output} ({len(reports)} stages" + (f"; failed: {', '.join(bad)})" if bad else ")"))
        if failure is not None:
            raise failure
        if bad:
            raise typer.Exit(1)
