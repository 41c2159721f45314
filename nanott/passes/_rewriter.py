"""The generic rewriter every pass is built on (as `ast.NodeTransformer` and nanopass's generated
clauses): any node without a `visit_<Name>` method is rebuilt from its rewritten fields as the
same-named production of the output language.

A pass therefore holds only its interesting cases:

- `self.rebuild(x, field=value)` is x as the output language's production of the same name, every
  field rewritten but the ones given (which may be fields the output language added);
- `whole=("TileGroup",)` in the class line says that visit_TileGroup rewrites a TileGroup with
  everything inside it, so the productions found only inside one need no visit method of their own.

Class creation fails when a `visit_X` names a production the input language lacks (a typo), or
when the output language removed or reshaped a production the rewriter can meet and the pass does
not say how to rewrite it.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import CheckError, Language, field_names


class Rewriter:
    src: Language
    dst: Language
    rewritten_whole: frozenset[str] = frozenset()      # `whole=` of the class line

    def __init_subclass__(cls, src: Language | None = None, dst: Language | None = None,
                          whole: tuple[str, ...] = (), **kw):
        super().__init_subclass__(**kw)
        if src is None:
            return
        cls.src, cls.dst, cls.rewritten_whole = src, dst, frozenset(whole)
        for name in dir(cls):
            if name.startswith("visit_") and name[6:] not in src.nodes:
                raise TypeError(f"{cls.__name__}.{name}: {src.name} has no {name[6:]}")
        for name in cls.rewritten_whole - {n[6:] for n in dir(cls) if n.startswith("visit_")}:
            raise TypeError(f"{cls.__name__} rewrites {name} whole but has no visit_{name}")
        for name in sorted(src.reachable(cls.rewritten_whole)):
            if hasattr(cls, f"visit_{name}"):
                continue
            out = dst.nodes.get(name)
            if out is None:
                raise TypeError(f"{dst.name} has no {name}: {cls.__name__} must define visit_{name}")
            if field_names(out) != field_names(src.nodes[name]):
                raise TypeError(f"{dst.name} reshapes {name}: {cls.__name__} must define visit_{name}")

    def visit(self, x: Any) -> Any:
        if isinstance(x, tuple):
            out: list = []
            same = True
            for item in x:
                r = self.visit(item)
                if isinstance(r, list):
                    out.extend(r)        # a visit may splice several statements in place of one
                    same = False
                else:
                    out.append(r)
                    same = same and r is item
            return x if same else tuple(out)     # nothing changed: the same tuple (see rebuild)
        if field_names(type(x)) is not None:
            method = getattr(self, f"visit_{type(x).__name__}", None)
            return method(x) if method else self.generic_visit(x)
        return x

    def generic_visit(self, x: Any) -> Any:
        return self.rebuild(x)

    def rebuild(self, x: Any, **changes: Any) -> Any:
        """x as the output language's production of the same name: each field rewritten, except
        those given in `changes`, which are taken as they are."""
        cls = self.dst.nodes.get(type(x).__name__)
        if cls is None:
            whole = " or ".join(sorted(self.rewritten_whole))
            raise CheckError(f"{type(x).__name__} at {x.loc} outside {whole}: "
                             f"{type(self).__name__} rewrites it only inside one")
        values = {n: changes[n] if n in changes else self.visit(getattr(x, n)) for n in field_names(cls)}
        if cls is type(x) and "loc" not in changes and all(v is getattr(x, n) for n, v in values.items()):
            return x             # unchanged: x itself, so the checker's memo and later passes see it again
        return cls(**values, loc=changes.get("loc", x.loc))
