"""What LLVM and MLIR users type without thinking, for `nanott explain` and friends: a per-stage
timing table (`--time-passes`), coloured diffs on a terminal (`--color`), and a progress bar on work
that takes more than a second (rich, which typer already brings, so no new dependency).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from enum import Enum
from typing import Iterator

import typer

from nanott.pipeline import Stage

Color = Enum("Color", {"auto": "auto", "always": "always", "never": "never"}, type=str)


class PassTimes:
    """Seconds per stage, split into the pass (with its checker) and the numeric check."""

    def __init__(self) -> None:
        self.rows: list[tuple[Stage, float, float]] = []

    def add(self, stage: Stage, pass_seconds: float, check_seconds: float) -> None:
        self.rows.append((stage, pass_seconds, check_seconds))

    def table(self) -> str:
        """LLVM's -time-passes shape: one line per stage, the total last, slowest work visible."""
        total_pass = sum(r[1] for r in self.rows)
        total_check = sum(r[2] for r in self.rows)
        out = ["===-- nanott stage timing (wall clock, ms) --===",
               f"{'stage':<32} {'pass+checker':>12} {'print+numerics':>14} {'share':>6}"]
        whole = (total_pass + total_check) or 1.0
        for s, p, c in self.rows:
            out.append(f"{s.id + ' ' + s.name:<32} {p * 1e3:>12.1f} {c * 1e3:>14.1f} {(p + c) / whole:>6.1%}")
        out.append(f"{'total':<32} {total_pass * 1e3:>12.1f} {total_check * 1e3:>14.1f} {1:>6.1%}")
        return "\n".join(out)


def use_colour(choice: Color) -> bool:
    """`always`, `never`, or `auto`: a terminal on stdout and no NO_COLOR in the environment."""
    if choice is Color.auto:
        return sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return choice is Color.always


def colour_diff(block: str) -> str:
    """ANSI colours on the lines of a unified diff: additions green, removals red, hunks cyan."""
    out = []
    for line in block.splitlines():
        if line.startswith(("+++", "---")):
            out.append(typer.style(line, bold=True))
        elif line.startswith("+"):
            out.append(typer.style(line, fg="green"))
        elif line.startswith("-"):
            out.append(typer.style(line, fg="red"))
        elif line.startswith("@@"):
            out.append(typer.style(line, fg="cyan"))
        else:
            out.append(line)
    return "\n".join(out) + "\n"


@contextmanager
def progress(description: str, after: float = 1.0, console=None, total: int | None = None) -> Iterator:
    """A pulsing bar with the elapsed time on stderr, shown only if the work is still running after
    `after` seconds and stderr is a terminal; it disappears when the work ends. With a `total`, the
    bar fills instead: `with progress(..., total=n) as advance:` and advance(k) after k units."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield lambda k: None
        return
    bar = Progress(SpinnerColumn(), TextColumn(description), BarColumn(), TimeElapsedColumn(),
                   console=console, transient=True)
    task = bar.add_task(description, total=total or None)
    started, lock = threading.Event(), threading.Lock()

    def start() -> None:
        with lock:
            if not finished.is_set():
                started.set()
                bar.start()

    finished = threading.Event()

    timer = threading.Timer(after, start)
    timer.daemon = True
    timer.start()
    begin = time.perf_counter()
    try:
        yield lambda k: bar.advance(task, k)
    finally:
        with lock:
            finished.set()
            timer.cancel()
        if started.is_set():
            bar.stop()
            console.print(f"{description}: {time.perf_counter() - begin:.1f} s", style="dim", highlight=False)
