"""The generic rewriter every pass is built on (as `ast.NodeTransformer` and nanopass's generated
clauses): any node without a `visit_<Name>` method is rebuilt from its rewritten fields as the
same-named production of the output language.

A pass therefore holds only its interesting cases. Class creation fails when a `visit_X` names a
production the input language lacks (a typo), or when the output language removed or reshaped a
production and the pass does not say how to rewrite it.
"""
from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from nanott.ir import Language


class Rewriter:
    src: Language
    dst: Language

    def __init_subclass__(cls, src: Language | None = None, dst: Language | None = None, **kw):
        super().__init_subclass__(**kw)
        if src is None:
            return
        cls.src, cls.dst = src, dst
        for name in dir(cls):
            if name.startswith("visit_") and name[6:] not in src.nodes:
                raise TypeError(f"{cls.__name__}.{name}: {src.name} has no {name[6:]}")
        for name, c in src.nodes.items():
            if hasattr(cls, f"visit_{name}"):
                continue
            out = dst.nodes.get(name)
            if out is None:
                raise TypeError(f"{dst.name} has no {name}: {cls.__name__} must define visit_{name}")
            if _field_names(out) != _field_names(c):
                raise TypeError(f"{dst.name} reshapes {name}: {cls.__name__} must define visit_{name}")

    def visit(self, x: Any) -> Any:
        if isinstance(x, tuple):
            out: list = []
            for item in x:
                r = self.visit(item)
                if isinstance(r, list):
                    out.extend(r)        # a visit may splice several statements in place of one
                else:
                    out.append(r)
            return tuple(out)
        if is_dataclass(x) and not isinstance(x, type):
            method = getattr(self, f"visit_{type(x).__name__}", None)
            return method(x) if method else self.generic_visit(x)
        return x

    def generic_visit(self, x: Any) -> Any:
        cls = self.dst.nodes[type(x).__name__]
        values = {f.name: self.visit(getattr(x, f.name)) for f in fields(x) if f.name != "loc"}
        return cls(**values, loc=x.loc)


def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name != "loc")
