"""The commands' values coerced by Typer's own checks, without pydantic.

Typer 0.29 turns each value of a command line into its parameter's type through a pydantic
TypeAdapter that it builds per parameter on every parse. The adapters of the kinds nanott's
commands take wrap checks Typer has without pydantic: a choice among an Enum's values
(`coerce_cli_choice`), a path that must exist, be a file, ... (`coerce_cli_path`), a str, a flag's
bool, and lists of those. Importing pydantic and building the adapters is about a sixth of a cold
`nanott explain` (benchmarks/bench_startup.py's "typer's pydantic adapters" line), so `Command`
and `Group` give their parameters of those kinds a coercion that calls the same checks directly and words a
rejected choice as the adapter does; a parameter of any other kind (an int with a minimum, a
float) keeps Typer's adapter. tests/test_cli_coerce.py runs both on good and bad values of every
parameter of every command and demands the same value or the same message.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from typer._click.exceptions import BadParameter
from typer._click.utils import _escape_control_characters
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path, lenient_issubclass, routes_to_path
from typer.core import TyperCommand, TyperGroup
from typer.models import ParameterInfo


@dataclass(frozen=True)
class Direct(RuntimeParam):
    """A str, an Enum's choice, a Path, a flag, or a list of one of them, checked as Typer's
    adapter does. A value the adapter would change first (a flag given a word, a path that
    pathlib spells otherwise: "", "a//b", "./x") goes to Typer's adapter."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        listed = get_origin(self.annotation) is list
        kind = get_args(self.annotation)[0] if listed else self.annotation
        if not all(plain(kind, self.parameter_info, v) for v in (value if listed else (value,))):
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)
        if listed:
            return [leaf(kind, self.parameter_info, v, param, ctx) for v in value]
        return leaf(kind, self.parameter_info, value, param, ctx)


def plain(annotation: Any, info: ParameterInfo, value: Any) -> bool:
    """Whether `leaf` takes this value as it is."""
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is str or lenient_issubclass(annotation, Enum):
        return True
    return isinstance(value, Path) or (isinstance(value, str) and str(Path(value)) == value)


def leaf(annotation: Any, info: ParameterInfo, value: Any, param: Any, ctx: Any) -> Any:
    if annotation is str or annotation is bool:
        return value
    if lenient_issubclass(annotation, Enum):
        try:
            return coerce_cli_choice(value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx)
        except ValueError as e:          # pydantic's words for a validator's ValueError
            raise BadParameter(_escape_control_characters(f"Value error, {e}"), ctx=ctx, param=param) from None
    path_type = info.path_type or annotation      # the Path pydantic would make of the str
    return coerce_cli_path(value if isinstance(value, path_type) else path_type(value), info,
                           path_type=path_type, param=param, ctx=ctx)


def direct_kind(annotation: Any, info: ParameterInfo) -> bool:
    """Whether `leaf` coerces this annotation exactly as Typer's adapter would."""
    if get_origin(annotation) is list:
        return direct_kind(get_args(annotation)[0], info)
    if info.parser is not None:
        return False
    if annotation in (str, bool) or lenient_issubclass(annotation, Enum):
        return True
    return (routes_to_path(annotation, info) and lenient_issubclass(annotation, Path)
            and (info.path_type is None or lenient_issubclass(info.path_type, Path)))


def direct(descriptor: TypeDescriptor) -> Direct | None:
    if descriptor.file_annotation is not None or not direct_kind(descriptor.annotation, descriptor.parameter_info):
        return None
    return Direct(annotation=descriptor.annotation, parameter_info=descriptor.parameter_info)


class DirectParams:
    """A Typer command or group whose parameters of the direct kinds skip pydantic."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        for p in self.get_params(ctx):
            if getattr(p, "_runtime_param", False) is None:
                p._runtime_param = direct(p.type_descriptor)
        return super().parse_args(ctx, args)


class Command(DirectParams, TyperCommand):
    pass


class Group(DirectParams, TyperGroup):
    pass
