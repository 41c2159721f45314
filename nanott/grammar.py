"""`nanott grammar Lk`: a language as its module states it, and the delta the code really has.

A language module's docstring holds its grammar and a section

    Delta from L6 (made by D1 split-device-kernel):
      - Kernel        one program is three kernels now
      + Program       ...
      ~ TileGroup     ...        (~: the production is kept by name but reshaped)

`docstring_delta` reads that section; `computed_delta` derives the same three sets from the
productions themselves (`Language.delta()`: a name both added and removed is reshaped), as
nanopass's `diff-languages` does. tests/test_grammar.py fails when the two disagree. `skeleton`
builds the smallest value of a production, for tests that need a node of a given shape.
"""
from __future__ import annotations

import re
import types
import typing
from dataclasses import fields, is_dataclass
from typing import Any

from nanott.ir import Language
from nanott.pipeline import language

Delta = tuple[list[str], list[str], list[str]]      # added, removed, reshaped
_HEADER = re.compile(r"^\s*Delta from (L\d+)\b(.*)$")
_NAMES = r"([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)(\s*,\s*$)?"     # a trailing comma continues
_ENTRY, _MORE = re.compile(r"^\s*([+~-])\s+" + _NAMES), re.compile(r"^\s+" + _NAMES)


def docstring_delta(name: str) -> Delta:
    """(added, removed, reshaped) as the `Delta from ...` section of the docstring lists them.
    An entry is a sign and a comma-separated list of names; a trailing comma continues the list
    on the next line."""
    out: dict[str, list[str]] = {"+": [], "-": [], "~": []}
    lines = iter((language(name).module.__doc__ or "").splitlines())
    for line in lines:
        if _HEADER.match(line):
            break
    sign, more = "", False
    for line in lines:
        if not line.strip():
            break
        if more and (m := _MORE.match(line)):
            names, more = m.group(1), bool(m.group(2))
        elif m := _ENTRY.match(line):
            sign, names, more = m.group(1), m.group(2), bool(m.group(3))
        else:
            continue
        out[sign] += [n.strip() for n in names.split(",")]
    return sorted(out["+"]), sorted(out["-"]), sorted(out["~"])


def docstring_parent(name: str) -> tuple[str, str] | None:
    """(parent language, the "made by ..." text) from the Delta header, or None if it has none."""
    for line in (language(name).module.__doc__ or "").splitlines():
        if m := _HEADER.match(line):
            return m.group(1), m.group(2).strip()
    return None


def computed_delta(name: str) -> Delta:
    """(added, removed, reshaped) computed from the productions, relative to the parent language."""
    lang = language(name)
    if lang.parent is None:
        return [], [], []                       # the first language has no delta
    added, removed = lang.delta()
    both = set(added) & set(removed)
    return (sorted(set(added) - both), sorted(set(removed) - both), sorted(both))


def describe(name: str) -> str:
    """The language as its docstring states it, then its unions and its delta as computed."""
    lang = language(name)
    out = [(lang.module.__doc__ or f"{name}: (no docstring)").strip(), "",
           f"Nonterminals of {name} (the unions the checker uses):"]
    for nt, members in sorted(lang.nonterminals.items()):
        out += _wrapped(f"  {nt:<6} ::= ", [c.__name__ for c in members], " | ")
    if lang.parent is None:
        out.append(f"{name} is the first language: every production is new.")
        return "\n".join(out) + "\n"
    computed = computed_delta(name)
    out.append(f"Delta from {lang.parent.name} (computed from the productions):")
    for sign, names in zip("+-~", computed):
        out += _wrapped(f"  {sign} ", names or ["(none)"], ", ")
    verdict = "agrees" if computed == docstring_delta(name) else "DISAGREES (a bug in the docstring)"
    out.append(f"The docstring's delta {verdict}.")
    return "\n".join(out) + "\n"


def _wrapped(prefix: str, items: list[str], sep: str, width: int = 100) -> list[str]:
    lines = [prefix + items[0]]
    for item in items[1:]:
        if len(lines[-1]) + len(sep) + len(item) > width:
            lines[-1] += sep.rstrip()
            lines.append(" " * len(prefix) + item)
        else:
            lines[-1] += sep + item
    return lines


def skeleton(cls: type, lang: Language) -> Any:
    """The smallest value of production `cls` in `lang`: empty lists, zeroes, first alternatives."""
    hints = lang.hints(cls)
    return cls(**{f.name: _smallest(hints[f.name], lang) for f in fields(cls) if f.name in hints})


def _smallest(hint: Any, lang: Language) -> Any:
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        return () if len(args) == 2 and args[1] is Ellipsis else tuple(_smallest(a, lang) for a in args)
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    for t in options:
        if t is type(None):
            return None
        if typing.get_origin(t) is typing.Literal:
            return typing.get_args(t)[0]
        if t in (str, int, float, bool):
            return {str: "x", int: 0, float: 0.0, bool: False}[t]
    leaf = next((t for t in options if is_dataclass(t)), None)
    if leaf is None:
        raise TypeError(f"no smallest value for {hint}")
    return skeleton(leaf, lang)
