"""nanott/cli_coerce.py: every parameter of every command coerces good and bad values as Typer's
own pydantic adapter does: the same value of the same type, or the same error message."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import typer.main
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from nanott.cli import app
from nanott.cli_coerce import direct

ROOT = Path(__file__).resolve().parent.parent
GROUP = typer.main.get_command(app)
PARAMS = [(GROUP, p) for p in GROUP.params] + [(c, p) for c in GROUP.commands.values() for p in c.params]
DIRECT = [(c, p) for c, p in PARAMS if direct(p.type_descriptor) is not None]   # the rest keep Typer's adapter


def samples(annotation: Any, tmp: Path) -> list[Any]:
    """Values a command line may hand this kind of parameter, good and bad."""
    if lenient_enum(annotation):
        values = [c.value for c in annotation]
        return [*values, values[0].lower(), values[-1].upper(), "no-such", "", list(annotation)[0]]
    if annotation is bool:
        return [True, False, "yes", "0", "maybe"]
    if annotation is str:
        return ["x", "", "M=64"]
    return [str(ROOT / "examples" / "gemm.py"), str(ROOT / "examples"), str(tmp / "missing.py"), "", "-",
            ROOT / "examples" / "gemm.py"]


def lenient_enum(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Enum)


def outcome(coerce, value: Any, param: Any, ctx: Context) -> tuple[str, Any]:
    try:
        got = coerce(value, param=param, ctx=ctx)
        return "value", (type(got), got)
    except BadParameter as e:
        return "error", e.format_message()


@pytest.mark.parametrize("command,param", DIRECT, ids=[f"{c.name}-{p.name}" for c, p in DIRECT])
def test_direct_coercion_is_typers(command, param, tmp_path):
    ours = direct(param.type_descriptor)
    theirs = build_runtime_param(param.type_descriptor)
    ctx = Context(command)
    annotation = param.type_descriptor.annotation
    listed = get_origin(annotation) is list
    values = samples(get_args(annotation)[0] if listed else annotation, tmp_path)
    for value in [None, *([tuple(values[:2]), tuple(values[-2:]), ()] if listed else values)]:
        assert outcome(ours.coerce, value, param, ctx) == outcome(theirs.coerce, value, param, ctx), value


def test_most_parameters_are_direct():
    """The kinds the commands take are covered (else the adapters come back on a cold start)."""
    kept = [p.name for _, p in PARAMS if (_, p) not in DIRECT]
    assert len(kept) < len(PARAMS) // 5, kept
