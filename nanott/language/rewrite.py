"""P0's AST rewrite, in the manner of TileLang's "frontend v2": only control flow and binding change.

The kernel's source (inspect.getsource, dedented, line numbers kept equal to the file's) is rewritten
so that the builder sees what plain Python would hide:

  every statement        preceded by  __nt__.at(line, col)          the location of what it emits
  for x in IT:           ->  for x in __nt__.ctx_for(IT, "x", id, carried, chosen):  a kernel loop runs its
                                                                    body once; a name it reads before it
                                                                    assigns it (carried) is rebound:
      (s,) = __nt__.carry_in(id, ("s",), (lambda: s,))   first in the body: a scalar declared before the loop
      __nt__.carry_out(id, ("s",), (lambda: s,))         last in the body: its update for the next iteration
  (s,) = __nt__.carry_after(id, ("s",), (lambda: s,))    after the loop: the scalar (Python loops: unchanged)
  for x in range(n):     ->  range becomes __nt__.serial            a serial loop, as TileLang does
  break / continue       ->  __nt__.ctx_break(id) first             refused inside a kernel loop
  if c: A else: B        ->  for __nt_then__ in __nt__.ctx_branches(c):   a Python bool runs one
                                 if __nt_then__: A else: B          branch; a run-time condition
                                                                    both, predicated (predicate.py)
  while c: (and an if holding break, continue or return) -> __nt__.ctx_if(c)   Python bools only
  with E as (a, b):      ->  with __nt__.ctx_with(E, ("a", "b"))    T.Kernel learns the block names
  x = v, (a, b) = v      ->  x = __nt__.bind("x", v)                run-time values become lets
  x = v (inside an if)   ->  x = __nt__.bind("x", v, lambda: x)     the value before, kept where the
                                                                    if's condition fails
  A: T.Tensor(...)       ->  A = __nt__.annotate("A", T.Tensor(...)) a tensor of an eager kernel
  x += v                 ->  x = __nt__.aug("x", x, "Add", v)
  buf[i, j] = v          ->  __nt__.store(buf, __nt__.index[i, j], v)
  buf[i, j] += v         ->  __nt__.aug_store(buf, __nt__.index[i, j], "Add", v)
  a and b, a or b        ->  __nt__.both(a, lambda: b), __nt__.either(a, lambda: b)
  not a                  ->  __nt__.negate(a)                       Python's meaning on Python values,
                                                                    a condition's `&` `|` `~` on conditions

Expressions are untouched: they run as Python against the function's real globals and the values of
its closure (so factory arguments fold to constants), with the symbolic values of values.py.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any, Callable

from nanott.diagnostics import NanottError
from nanott.ir import Loc

HOOK = "__nt__"
BRANCH = "__nt_then__"
MAKER = "__nt_make__"


def hook(attr: str) -> ast.expr:
    return ast.Attribute(ast.Name(HOOK, ast.Load()), attr, ast.Load())


def call(attr: str, *args: ast.expr) -> ast.Call:
    return ast.Call(hook(attr), list(args), [])


def names_of(target: ast.expr) -> Any:
    """The names a binding target binds: "x", ("a", "b"), or None when it is not plain names."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, (ast.Tuple, ast.List)):
        names = tuple(names_of(t) for t in target.elts)
        return names if all(isinstance(n, str) for n in names) else None
    return None


def key(sub: ast.Subscript) -> ast.expr:
    """`__nt__.index[<the subscript's key>]`: slices stay legal syntax."""
    return ast.Subscript(hook("index"), sub.slice, ast.Load())


class KernelRewrite(ast.NodeTransformer):
    """Rewrites one kernel function (see the module docstring)."""

    def __init__(self, col_shift: int):
        self.col_shift = col_shift
        self.loops: list[int | None] = []          # innermost enclosing loop: an id, None for while
        self.count = 0
        self.ifs = 0                               # enclosing `if`s whose branches may both run

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            at = ast.Expr(call("at", ast.Constant(s.lineno), ast.Constant(s.col_offset + self.col_shift)))
            out.append(ast.copy_location(at, s))
            r = self.visit(s)
            out.extend(r if isinstance(r, list) else [r])
        return out

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name in ("body", "orelse", "finalbody"):
            stmts = getattr(node, name, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                setattr(node, name, self.block(stmts))
        for h in getattr(node, "handlers", ()):
            h.body = self.block(h.body)
        for case in getattr(node, "cases", ()):
            case.body = self.block(case.body)
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        self.count += 1
        it = node.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
            it.func = hook("serial")
        (names, chosen), loop = carried(node.body), self.count
        node.iter = call("ctx_for", it, ast.Constant(names_of(node.target)), ast.Constant(loop),
                         ast.Constant(names), ast.Constant(chosen))
        self.loops.append(loop)
        self.generic_visit(node)
        self.loops.pop()
        if not names:
            return node

        def values() -> ast.Tuple:        # `lambda: s`: a name an `if` in the body assigns may be unbound
            return ast.Tuple([ast.Lambda(ast.arguments([], [], None, [], [], None, []), ast.Name(n, ast.Load()))
                              for n in names], ast.Load())

        def rebind(hook_name: str) -> ast.stmt:
            target = ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
            return ast.copy_location(ast.Assign([target], call(hook_name, ast.Constant(loop), ast.Constant(names),
                                                               values())), node)
        node.body = [rebind("carry_in"), *node.body,
                     ast.copy_location(ast.Expr(call("carry_out", ast.Constant(loop), ast.Constant(names), values())),
                                       node)]
        return [node, rebind("carry_after")]

    def visit_While(self, node: ast.While) -> ast.AST:
        node.test = call("ctx_if", node.test)
        self.loops.append(None)
        self.generic_visit(node)
        self.loops.pop()
        return node

    def visit_Break(self, node: ast.stmt) -> Any:
        if not self.loops or self.loops[-1] is None:
            return node
        check = ast.copy_location(ast.Expr(call("ctx_break", ast.Constant(self.loops[-1]))), node)
        return [check, node]

    visit_Continue = visit_Break

    def visit_If(self, node: ast.If) -> ast.AST:
        jumps = any(isinstance(x, (ast.Break, ast.Continue, ast.Return)) for x in ast.walk(node))
        test, node.test = node.test, ast.Name(BRANCH, ast.Load())
        if jumps:                       # a second run of its branches would jump out of the wrong loop
            node.test = call("ctx_if", test)
        self.ifs += not jumps
        self.generic_visit(node)
        self.ifs -= not jumps
        if jumps:
            return node
        loop = ast.For(ast.Name(BRANCH, ast.Store()), call("ctx_branches", test), [node], [])
        return ast.copy_location(loop, node)

    def visit_With(self, node: ast.With) -> ast.AST:
        for item in node.items:
            names = names_of(item.optional_vars) if item.optional_vars is not None else None
            item.context_expr = call("ctx_with", item.context_expr, ast.Constant(names))
        return self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if len(node.targets) == 1:
            t = node.targets[0]
            if isinstance(t, ast.Subscript):
                return ast.copy_location(ast.Expr(call("store", t.value, key(t), node.value)), node)
            names = names_of(t)
            if names is not None:
                node.value = self.bind(names, node.value)
        return node

    def bind(self, names: Any, value: ast.expr) -> ast.Call:
        """`__nt__.bind("x", v)`; inside an `if`, with `lambda: x`, the value x holds before (builder.bind)."""
        if not self.ifs or not isinstance(names, str):
            return call("bind", ast.Constant(names), value)
        old = ast.Lambda(ast.arguments([], [], None, [], [], None, []), ast.Name(names, ast.Load()))
        return call("bind", ast.Constant(names), value, old)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None and isinstance(node.target, ast.Name):
            node.value = self.bind(node.target.id, node.value)
        elif isinstance(node.target, ast.Name):
            value = call("annotate", ast.Constant(node.target.id), node.annotation)
            return ast.copy_location(ast.Assign([ast.Name(node.target.id, ast.Store())], value), node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        op = ast.Constant(type(node.op).__name__)
        t = node.target
        if isinstance(t, ast.Subscript):
            return ast.copy_location(ast.Expr(call("aug_store", t.value, key(t), op, node.value)), node)
        if isinstance(t, ast.Name):
            value = call("aug", ast.Constant(t.id), ast.Name(t.id, ast.Load()), op, node.value)
            return ast.copy_location(ast.Assign([ast.Name(t.id, ast.Store())], value), node)
        return node


def carried(body: list[ast.stmt]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names a loop body reads before it assigns them, and assigns (`x = x + a[k]`, `x += 1`):
    values carried from one iteration to the next, in source order; and those of them the body
    reads only by assigning them under an `if` (where the condition fails, the name keeps its value:
    branch_scalars.py). `T.clear(x)` and `T.fill(x, v)` of a bare name write it (a T.alloc_var set
    at the start of each iteration is not carried), though only an assignment makes a name carried."""
    assigned: set[str] = set()
    stored: set[str] = set()
    early: list[str] = []
    chosen: list[str] = []

    class Order(ast.NodeVisitor):
        ifs = 0

        def visit_If(self, node: ast.If) -> None:
            self.ifs += 1
            self.generic_visit(node)
            self.ifs -= 1

        def visit_Assign(self, node: ast.Assign) -> None:
            self.visit(node.value)
            for t in node.targets:
                if self.ifs and isinstance(t, ast.Name) and t.id not in assigned:
                    chosen.append(t.id)
                self.visit(t)

        def visit_AugAssign(self, node: ast.AugAssign) -> None:
            if isinstance(node.target, ast.Name) and node.target.id not in assigned:
                early.append(node.target.id)
            self.visit(node.value)
            self.visit(node.target)

        def visit_Call(self, node: ast.Call) -> None:
            f, args = node.func, node.args
            if isinstance(f, ast.Attribute) and f.attr in ("clear", "fill") and args and isinstance(args[0], ast.Name):
                for x in (f, *args[1:], *node.keywords):
                    self.visit(x)
                assigned.add(args[0].id)
            else:
                self.generic_visit(node)

        def visit_Name(self, node: ast.Name) -> None:
            if isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
                stored.add(node.id)
            elif node.id not in assigned:
                early.append(node.id)

    for stmt in body:
        Order().visit(stmt)
    names = tuple(dict.fromkeys(n for n in early + chosen if n in stored))
    return names, tuple(n for n in names if n not in early)


class Logic(ast.NodeTransformer):
    """`and`, `or` and `not` anywhere in the kernel, as hooks (Python would call bool() on a condition)."""

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        hook_name = "both" if isinstance(node.op, ast.And) else "either"
        out = node.values[-1]
        for v in reversed(node.values[:-1]):
            out = call(hook_name, v, ast.Lambda(ast.arguments([], [], None, [], [], None, []), out))
        return ast.copy_location(out, node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        return ast.copy_location(call("negate", node.operand), node) if isinstance(node.op, ast.Not) else node


def source_of(func: Callable) -> tuple[ast.FunctionDef, int, str]:
    """The function's AST with the file's line numbers, its indentation, and its file."""
    file = func.__code__.co_filename
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError):
        raise NanottError("NT904", f"cannot read the source of kernel {func.__name__}",
                          Loc(file, func.__code__.co_firstlineno, 0),
                          hint="nanott parses the kernel's source: define it in a .py file") from None
    text = "".join(lines)
    shift = len(text) - len(text.lstrip(" \t"))
    tree = ast.parse(textwrap.dedent(text))
    ast.increment_lineno(tree, first - 1)
    fdef = tree.body[0]
    assert isinstance(fdef, ast.FunctionDef), "a prim_func is a plain function"
    return fdef, shift, file


def rewrite(func: Callable, overrides: dict[str, Any] | None = None
            ) -> tuple[Callable[..., Callable], ast.arguments, int, str]:
    """A maker `(builder, *closure values) -> rewritten kernel`, the def's parameters (for their
    locations), the column shift of the dedent, and the file. `overrides` replace module globals the
    kernel reads (`--set M=64` for a file's module-level `M = 8192`), in a copy of its globals."""
    fdef, shift, file = source_of(func)
    body = KernelRewrite(shift).block([Logic().visit(s) for s in fdef.body])
    kernel = ast.FunctionDef(name=fdef.name, args=fdef.args, body=body, decorator_list=[],
                             returns=None, type_comment=None)
    free = [ast.arg(n) for n in (HOOK, *func.__code__.co_freevars)]
    args = ast.arguments(posonlyargs=[], args=free, vararg=None, kwonlyargs=[], kw_defaults=[],
                         kwarg=None, defaults=[])
    maker = ast.FunctionDef(name=MAKER, args=args, decorator_list=[], returns=None, type_comment=None,
                            body=[ast.copy_location(kernel, fdef), ast.Return(ast.Name(fdef.name, ast.Load()))])
    module = ast.fix_missing_locations(ast.Module([ast.copy_location(maker, fdef)], []))
    namespace: dict[str, Any] = {}
    scope = {**func.__globals__, **overrides} if overrides else func.__globals__
    exec(compile(module, file, "exec"), scope, namespace)
    return namespace[MAKER], fdef.args, shift, file
