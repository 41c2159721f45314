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

from nanott.ir import CheckError, Language, Loc

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


def from_json(d: Any, lang: Language, path: str = "$") -> Any:
    """The IR value `d` encodes, with every node built as the class `lang` names by its kind; a
    malformed node is a ValueError naming its path in the document (`$.program.body[2]`)."""
    if isinstance(d, dict):
        kind = d.get(TAG)
        cls = Loc if kind == "Loc" else lang.nodes.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise ValueError(f"{path}: {lang.name} has no {kind} (found in a JSON dump)" if kind is not None
                             else f"{path}: an object without a \"{TAG}\" (every IR node names its production)")
        keys = {_key(f.name): f for f in fields(cls)}
        if unknown := sorted(set(d) - {TAG} - set(keys)):
            raise ValueError(f"{path}: {lang.name}'s {kind} has no field {', '.join(unknown)} (in a JSON dump)")
        if missing := sorted(k for k, f in keys.items() if k not in d and _required(f)):
            raise ValueError(f"{path}: {lang.name}'s {kind} needs {', '.join(missing)} (missing in a JSON dump)")
        return cls(**{f.name: from_json(d[k], lang, f"{path}.{k}") for k, f in keys.items() if k in d})
    if isinstance(d, list):
        return tuple(from_json(y, lang, f"{path}[{i}]") for i, y in enumerate(d))
    return d


def _required(f) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def dump(program: Any, language: str, after: str) -> str:
    """The JSON text of `program`, in `language`, as it stands after stage `after`."""
    doc = {"nanott_ir": FORMAT, "language": language, "after": after, "program": to_json(program)}
    return json.dumps(doc, sort_keys=True, indent=1) + "\n"


def load(text: str) -> tuple[Any, str, str]:
    """(program, language, after) from a dump, validated: the document's shape, its kinds and
    language, the stage it claims, references to CBs and tensors, page counts; then the language's
    checker. Every failure is NT932 with one line naming the path in the document."""
    from nanott.diagnostics import NanottError
    try:
        return _load(text)
    except (ValueError, CheckError) as e:
        line = "; ".join(part.strip() for part in str(e).splitlines() if part.strip())
        raise NanottError("NT932", line if line.startswith("$") else f"$.program: {line}") from None


def _load(text: str) -> tuple[Any, str, str]:
    from nanott.pipeline import LANGUAGES, STAGES, language
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"$: not JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"$: a dump is an object {{nanott_ir, language, after, program}}, got {type(doc).__name__}")
    if doc.get("nanott_ir") != FORMAT:
        raise ValueError(f"$.nanott_ir: not a nanott IR dump (format {doc.get('nanott_ir')!r}, expected {FORMAT})")
    name, after = doc.get("language"), doc.get("after")
    if name not in LANGUAGES:
        raise ValueError(f"$.language: no language {name!r}; languages are {', '.join(LANGUAGES)}")
    if after not in STAGES or STAGES[after].dst != name:
        raise ValueError(f"$.after: {after!r} is not a stage whose output is {name}" + (
            f" ({after} makes {STAGES[after].dst})" if after in STAGES else ""))
    if not isinstance(doc.get("program"), dict):
        raise ValueError("$.program: the program is an object (the IR's root node)")
    check_references(doc["program"])
    lang = language(name)
    program = from_json(doc["program"], lang, "$.program")
    lang.check(program)
    return program, name, after


CB_FIELDS = ("cb", "a_cb", "b_cb", "scaler_cb")


def check_references(program: dict, path: str = "$.program") -> None:
    """CB indices and tensor names that refer to something, positive page counts, with paths; in
    each launch of a program of several."""
    if program.get(TAG) == "Launches" and isinstance(program.get("launches"), list):
        for i, launch in enumerate(program["launches"]):
            if isinstance(launch, dict):
                check_references(launch, f"{path}.launches[{i}]")
        return
    cbs = {c.get("index") for c in program.get("cbs", ()) if isinstance(c, dict)} if "cbs" in program else None
    tensors = {t.get("name") for t in program.get("params", ()) if isinstance(t, dict)}
    roles = {k.get("role") for k in program.get("kernels", ()) if isinstance(k, dict)}

    def visit(x: Any, path: str) -> None:
        if isinstance(x, list):
            for i, y in enumerate(x):
                visit(y, f"{path}[{i}]")
        if not isinstance(x, dict):
            return
        for k, v in x.items():
            at = f"{path}.{k}"
            if cbs is not None and k in CB_FIELDS and v not in cbs:
                raise ValueError(f"{at}: cb{v} is not one of the program's CBs ({', '.join(f'cb{c}' for c in sorted(cbs, key=str))})")
            if k == "cbs" and x.get(TAG) == "Init" and isinstance(v, list) and cbs is not None:
                for i, c in enumerate(v):
                    if c not in cbs:
                        raise ValueError(f"{at}[{i}]: cb{c} is not one of the program's CBs")
            if k == "tensor" and isinstance(v, str) and v not in tensors:
                raise ValueError(f"{at}: no tensor {v!r}; the program's tensors are {', '.join(sorted(tensors))}")
            if k in ("producer", "consumer") and roles and v not in roles:
                raise ValueError(f"{at}: no kernel {v!r}; the program's kernels are {', '.join(sorted(roles))}")
            if k == "pages" and not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
                raise ValueError(f"{at}: {v!r} is not a positive page count")
            visit(v, at)
    visit(program, path)
