"""A progress bar for long simulations: rich's, on stderr, only when stderr is a terminal.

    with progress.bar("simulating at L9", total) as advance:
        ...                     # advance(n) after each n units of work
A command that runs for long calls it; nothing else in nanott prints progress. In tests, pipes and
CI logs stderr is no terminal, so `advance` is a no-op and the output stays byte-for-byte stable.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    if total <= 0 or not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as p:
        task = p.add_task(label, total=total)
        yield lambda n: p.advance(task, n)
