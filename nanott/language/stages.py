"""Staged buffers: multi-buffering written by hand, as TileLang's barrierpipe GEMM does.

`A_shared = T.alloc_shared((num_stages, bm, bk))`, filled with `T.copy(..., A_shared[ko % num_stages,
:, :])` and multiplied with `T.gemm(A_shared[ko % num_stages, :, :], ...)`: iteration ko works on
stage ko % num_stages, so that a GPU's producer can fill the next stage while the consumer reads
this one. On a Tensix core a circular buffer does that by itself (its pages are the stages, and
A2 plans two blocks of a buffer a loop fills), so nanott drops the stage dims: the buffer becomes
one stage, `(bm, bk)`, and every access loses its leading indices.

That is the same program exactly when each iteration writes its stage whole before it reads it:
then no iteration reads what another wrote, whichever stage it was. So P0 records the stage of a
T.gemm operand (`stage.A_shared`, an Attr of the kernel, saying what the source asked), and when
the kernel is built checks, by the IR alone, that every access of the buffer indexes the same
stage, whole in the other dims, inside one loop whose body starts (before any other access of
the buffer) with a copy that writes the whole stage; otherwise NT304 names what differs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import Launches, field_names, replace, walk
from nanott.languages import l0
from nanott.printing import seq

KEY = "stage."


@dataclass
class Stage:
    """One stage of a staged buffer, as a T.gemm operand: the buffer's name and its stage's shape."""
    label: str
    shape: tuple[int, ...]
    on_chip: bool = True


def stage_operand(b: Any, x: Any) -> Any:
    """`X[e, :, :]` of an on-chip buffer (leading indices, then two whole dims): its Stage, the
    stage recorded on the kernel; anything else as it is."""
    from nanott.language.values import Slice, to_expr
    if not (isinstance(x, Slice) and x.buffer.on_chip and len(x.items) > 2):
        return x
    lead, rest = x.items[:-2], x.items[-2:]
    whole = all(isinstance(s, slice) and s.start in (None, 0) and s.stop in (None, n) and s.step is None
                for s, n in zip(rest, x.buffer.shape[-2:]))
    if not whole or any(isinstance(s, slice) for s in lead):
        return x
    if all(isinstance(s, int) for s in lead):          # a constant stage (T.unroll): parts.py cuts it off
        return x
    b.record(KEY + x.buffer.label, seq(tuple(to_expr(s) for s in lead)))
    return Stage(x.buffer.label, tuple(x.buffer.shape[-2:]))


def unstage(program: Any) -> Any:
    """The kernel (each launch) with its staged buffers made one stage, or NT304."""
    if isinstance(program, Launches):
        return replace(program, launches=tuple(unstage(k) for k in program.launches))
    staged: dict[str, list[l0.Attr]] = {}
    for a in program.attrs:
        if a.key.startswith(KEY):
            staged.setdefault(a.key[len(KEY):], []).append(a)
    body = program.body
    for name, attrs in staged.items():
        body = _one(body, name, attrs)
    return replace(program, body=body) if staged else program


def _one(body: tuple, name: str, attrs: list[l0.Attr]) -> tuple:
    where = attrs[0].loc

    def refuse(why: str) -> NanottError:
        return NanottError("NT304", f"T.gemm on a stage of {name} ({name}[{attrs[0].value}, ...]): {why}",
                           where, hint="index every access of a staged buffer by the same stage, and "
                                       "copy into the whole stage first in each iteration")
    if len(attrs) > 1:
        raise refuse(f"it is indexed by several stages ({', '.join(a.value for a in attrs)})")
    alloc = next(x for x in walk(body) if isinstance(x, l0.Alloc) and x.name == name)
    k = len(alloc.shape) - 2
    for x in walk(body):
        if isinstance(x, l0.Region) and x.buffer == name:
            if (seq(x.starts[:k]) != attrs[0].value or any(e != 1 for e in x.extents[:k])
                    or tuple(x.extents[k:]) != alloc.shape[k:]
                    or any(not (isinstance(s, l0.Const) and s.value == 0) for s in x.starts[k:])):
                raise refuse(f"the copy of {x} moves another stage, or not the whole of it")
        elif isinstance(x, (l0.Load, l0.Store)) and x.buffer == name and seq(x.indices[:k]) != attrs[0].value:
            raise refuse(f"{name}[{seq(x.indices)}] indexes another stage")
    loop = _common_loop(body, name)
    first = next((s for s in loop.body if _touches(s, name)), None) if loop else None
    if not (isinstance(first, l0.Copy) and first.dst.buffer == name):
        raise refuse("no loop writes the whole stage before it reads it, so an iteration could read "
                     "what another wrote")
    return _strip(body, name, k)


def _touches(x: Any, name: str) -> bool:
    return any(name in l0.buffer_names(y) for y in walk(x))


def _common_loop(body: tuple, name: str) -> l0.For | None:
    """The innermost loop holding every access of `name` (not its allocation)."""
    users = [s for s in body if not isinstance(s, l0.Alloc) and _touches(s, name)]
    if len(users) != 1 or not isinstance(users[0], l0.For):
        return None
    return _common_loop(users[0].body, name) or users[0]


def _strip(x: Any, name: str, k: int) -> Any:
    """x with `name`'s stage dims gone: from its allocation, its regions and its element accesses."""
    if isinstance(x, tuple):
        return tuple(_strip(y, name, k) for y in x)
    names = field_names(type(x))
    if names is None:
        return x
    x = replace(x, **{n: _strip(getattr(x, n), name, k) for n in names})
    if isinstance(x, l0.Alloc) and x.name == name:
        return replace(x, shape=x.shape[k:])
    if isinstance(x, l0.Region) and x.buffer == name:
        return replace(x, starts=x.starts[k:], extents=x.extents[k:])
    if isinstance(x, (l0.Load, l0.Store)) and x.buffer == name:
        return replace(x, indices=x.indices[k:])
    return x
