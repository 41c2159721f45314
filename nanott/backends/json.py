"""JSON form of any IR: every node tagged with its production, so a dump is an input again.

A dump is `{"nanott_ir": 1, "language": "L8", "after": "D3", "program": ...}` with sorted keys:
the same IR gives the same bytes. Every node (and every `Loc`) is an object whose "kind" names its
class; tuples are lists. Decoding looks the class up by that name in the *target* language
(`lang.nodes`), never by shape: IR fields are unions, and a decoder that guesses by shape (as
dataclasses-json does) silently turns `(CbPush, CbReserve)` into two CbReserves.

A field that is itself called `kind` (L0's `For.kind`: serial | pipelined) is written as `kind_`, so
it never shadows the tag. `load` runs the language's checker: a file that is not in the language it
claims is rejected before any pass sees it. Infinities (a max-reduction's -inf fill) are written
as JSON's common extension `-Infinity`, which Python reads back exactly.
"""
from __future__ import annotations

import json
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

from nanott.ir import Language, Loc

FORMAT = 1
TAG = "kind"


def _key(name: str) -> str:
    return name + "_" if name == TAG else name


def to_json(x: Any) -> Any:
    """Plain JSON data for an IR value: nodes become tagged objects, tuples become lists."""
    if is_dataclass(x) and not isinstance(x, type):
        out = {TAG: type(x).__name__}
        for f in fields(x):
            if f.name == TAG + "_":
                raise TypeError(f"{type(x).__name__}.{f.name}: a field named kind_ cannot be serialised")
            out[_key(f.name)] = to_json(getattr(x, f.name))
        return out
    if isinstance(x, tuple):
        return [to_json(y) for y in x]
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise TypeError(f"cannot serialise a {type(x).__name__} in the IR: {x!r:.60}")


def from_json(d: Any, lang: Language) -> Any:
    """The IR value `d` encodes, with every node built as the class `lang` names by its kind."""
    if isinstance(d, dict):
        kind = d[TAG]
        cls = Loc if kind == "Loc" else lang.nodes.get(kind)
        if cls is None:
            raise ValueError(f"{lang.name} has no {kind} (found in a JSON dump)")
        keys = {_key(f.name): f for f in fields(cls)}
        if unknown := sorted(set(d) - {TAG} - set(keys)):
            raise ValueError(f"{lang.name}'s {kind} has no field {', '.join(unknown)} (in a JSON dump)")
        if missing := sorted(k for k, f in keys.items() if k not in d and _required(f)):
            raise ValueError(f"{lang.name}'s {kind} needs {', '.join(missing)} (missing in a JSON dump)")
        return cls(**{f.name: from_json(d[k], lang) for k, f in keys.items() if k in d})
    if isinstance(d, list):
        return tuple(from_json(y, lang) for y in d)
    return d


def _required(f) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def dump(program: Any, language: str, after: str) -> str:
    """The JSON text of `program`, in `language`, as it stands after stage `after`."""
    doc = {"nanott_ir": FORMAT, "language": language, "after": after, "program": to_json(program)}
    return json.dumps(doc, sort_keys=True, indent=1) + "\n"


def load(text: str) -> tuple[Any, str, str]:
    """(program, language, after) from a dump, checked against the language it names."""
    from nanott.pipeline import STAGES, language

    doc = json.loads(text)
    if doc.get("nanott_ir") != FORMAT:
        raise ValueError(f"not a nanott IR dump (format {doc.get('nanott_ir')!r}, expected {FORMAT})")
    name, after = doc["language"], doc["after"]
    lang = language(name)
    program = from_json(doc["program"], lang)
    stage = STAGES.get(after)
    lang.check(program, after=f"{after} {stage.name} (loaded from JSON)" if stage else after)
    return program, name, after
