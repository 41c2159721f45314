"""Loading a kernel file, for the CLI and the tests.

A kernel file is ordinary Python: it defines a module-level `@T.prim_func`, a factory function
that returns one, or a `@tilelang.jit` function (a factory, or an eager kernel: eager.py) and, optionally, `reference(*inputs)`, a plain NumPy function giving the expected
output (or a tuple of outputs). Inputs are the kernel's tensor parameters it only reads, in order;
outputs are the ones it writes, in order (`split_params` decides from the L0, never from names).

The file runs with TileLang's package names mapped onto nanott's (tilelang_surface.py), so an
unchanged TileLang file loads. It runs one top-level statement at a time: a statement that raises
(a CUDA launch, `torch` or another package not installed, a declined TileLang name) is skipped and
kept, and its error is reported only when the chosen kernel reads a name it would have bound.

Mistakes (a syntax error, an exception at import that the kernel depends on, no kernel or several,
a bad `--set`) are NanottErrors NT9xx with the file's line, never a traceback.
"""
from __future__ import annotations

import __future__
import ast
import importlib.util
import inspect
import itertools
import linecache
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any, Callable

from nanott.diagnostics import NanottError, NanottWarning
from nanott.ir import NOLOC, Loc, walk
from nanott.language import eager
from nanott.language.eager import is_eager
from nanott.language.prim_func import PrimFunc
from nanott.language.sizes import given
from nanott.language.tilelang_surface import Autotuned, Jit, surface
from nanott.languages import l0

_COUNTER = itertools.count()


@dataclass(frozen=True)
class LoadedKernel:
    """A kernel chosen from a file: the PrimFunc, the name it was chosen by (module attribute or
    factory), the file's `reference` function (or None), the file, and the module-level statements
    the load skipped, as (line, why)."""
    prim_func: PrimFunc
    name: str
    reference: Callable | None
    path: Path
    skipped: tuple[tuple[int, str], ...] = ()


def load_kernel(path: Path, kernel: str | None = None, sets: dict[str, str] | None = None) -> LoadedKernel:
    """Run the file as a fresh module (with TileLang's names, tilelang_surface.py) and pick its
    kernel: the lone module-level PrimFunc, else the lone `@tilelang.jit` function, or the one
    named `kernel`; factories and jit functions are called with `sets`."""
    path = Path(path).resolve()
    with surface(path.parent):
        module, skipped = run_module(path)
        picked = pick(module, path, kernel, sets or {}, skipped)
        needs_skipped(picked, skipped)
        return picked


def pick(module: Any, path: Path, kernel: str | None, sets: dict[str, str],
         skipped: list[Skipped]) -> LoadedKernel:
    found = {k: v for k, v in vars(module).items() if isinstance(v, PrimFunc)}
    functions = {k: v for k, v in vars(module).items() if k != "reference" and
                 (inspect.isfunction(v) or isinstance(v, Jit)) and v.__code__.co_filename == str(path)}
    factories = {k: f for k, f in functions.items() if isinstance(f, Jit) or uses_prim_func(f.__code__)}
    jits = [k for k, f in functions.items() if isinstance(f, Jit)]
    reference = getattr(module, "reference", None)
    reference = reference if callable(reference) else None
    where = NOLOC                                  # a choice of kernel has no line
    if kernel is None and not found and len(jits) == 1:
        kernel = jits[0]                           # found by its decorator
    if kernel is None and sets:
        raise NanottError("NT903", "--set needs --kernel naming a factory function", where,
                          hint=choices(found, factories))
    if kernel is None:
        if len(found) == 1:
            name, pf = next(iter(found.items()))
            return LoadedKernel(pf, name, reference, path, done(skipped))
        if not found and not factories and skipped:
            raise skipped[0].error
        raise NanottError("NT901", f"{path} defines {describe(found, jits)}; choose one with --kernel",
                          where, hint=choices(found, factories))
    if kernel in found:
        if sets:
            raise NanottError("NT903", f"--set only applies to factory functions, and {kernel} is "
                                       "already a kernel", where, hint=choices(found, factories))
        return LoadedKernel(found[kernel], kernel, reference, path, done(skipped))
    if kernel in functions:
        pf = call_factory(functions[kernel], sets, path)
        return LoadedKernel(pf, kernel, reference, path, done(skipped))
    if skipped:
        raise skipped[0].error
    raise NanottError("NT901", f"{path} has no kernel or factory named {kernel}", where,
                      hint=choices(found, factories))


def uses_prim_func(code: CodeType) -> bool:
    """Whether a function (or one nested in it) applies T.prim_func: a factory."""
    return "prim_func" in code.co_names or any(uses_prim_func(c) for c in code.co_consts
                                               if isinstance(c, CodeType))


@dataclass(frozen=True)
class Skipped:
    """A module-level statement that raised while the file loaded, and the names it would bind."""
    line: int
    binds: frozenset[str]
    error: NanottError


def run_module(path: Path) -> tuple[Any, list[Skipped]]:
    """Execute the file under a unique module name, one top-level statement at a time. A statement
    that raises is skipped and remembered (a GPU launch, a missing package, a declined TileLang
    name); the load fails with its error only if the kernel needs what it would have bound
    (`needs_skipped`), or if no kernel is left. A syntax error is NT902 at once."""
    if not path.is_file():
        raise NanottError("NT902", f"no kernel file {path}")
    if path.suffix != ".py":
        raise NanottError("NT902", f"{path} is not a Python file; a kernel file is a .py file",
                          hint="point nanott at the .py file that defines the kernel")
    name = f"nanott_kernel_{path.stem}_{next(_COUNTER)}"
    linecache.checkcache(str(path))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        tree = ast.parse(path.read_text(), str(path))
    except SyntaxError as e:
        raise NanottError("NT902", f"syntax error in {path.name}: {e.msg}",
                          Loc(str(path), e.lineno or 1, max(0, (e.offset or 1) - 1))) from None
    flags, skipped = 0, []
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            flags |= sum(getattr(__future__, a.name).compiler_flag for a in stmt.names)
        try:
            exec(compile(ast.Module([stmt], []), str(path), "exec", flags=flags, dont_inherit=True),
                 module.__dict__)
        except Exception as e:
            skipped.append(Skipped(stmt.lineno, bound_names(stmt), as_load_error(e, path, stmt)))
    return module, skipped


def as_load_error(e: Exception, path: Path, stmt: ast.stmt) -> NanottError:
    if isinstance(e, NanottError):
        return e
    loc = frame_loc(e, path)
    return NanottError("NT902", f"{path.name} raised {type(e).__name__} while loading: {e}",
                       loc if loc != NOLOC else Loc(str(path), stmt.lineno, stmt.col_offset))


def bound_names(stmt: ast.stmt) -> frozenset[str]:
    """The module-level names a statement binds (assignments, defs, classes, imports)."""
    out = set()
    for n in ast.walk(stmt):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.alias):
            out.add(n.asname or n.name.split(".")[0])
    return frozenset(out)


def needs_skipped(loaded: LoadedKernel, skipped: list[Skipped]) -> None:
    """NT902 (the skipped statement's own error) when the kernel reads a name it would have bound."""
    func = loaded.prim_func.func
    names = global_names(func.__code__)
    for s in skipped:
        if s.binds & names:
            raise s.error


def global_names(code: CodeType) -> set[str]:
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, CodeType):
            out |= global_names(c)
    return out


def done(skipped: list[Skipped]) -> tuple[tuple[int, str], ...]:
    return tuple((s.line, s.error.message) for s in skipped)


def frame_loc(e: BaseException, path: Path) -> Loc:
    """The last line of `path` in the exception's traceback."""
    lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if Path(f.filename) == path]
    return Loc(str(path), lines[-1], 0) if lines else NOLOC


def call_factory(jitted: Any, sets: dict[str, str], path: Path) -> PrimFunc:
    """Call a kernel factory, or specialise a `@tilelang.jit` function, with `--set` values (parsed
    as Python literals where they are)."""
    factory = jitted.func if isinstance(jitted, Jit) else jitted
    values = {k: literal(v) for k, v in sets.items()}
    if isinstance(jitted, Jit) and is_eager(factory):
        return eager.specialize(factory, values)
    params = inspect.signature(factory).parameters
    where = Loc(str(path), factory.__code__.co_firstlineno, 0)
    sizes = {k: v for k, v in values.items() if k not in params}     # T.dynamic, scalar parameters
    missing = [k for k, p in params.items() if p.default is p.empty and k not in sets
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if isinstance(jitted, Autotuned) and autotuned(jitted, missing):
        chosen = one_configuration(jitted, missing, where)
        values.update(chosen)
        missing = [k for k in missing if k not in chosen]
    if missing:
        raise NanottError("NT903", f"{factory.__name__} needs {', '.join(missing)}", where,
                          hint=f"parameters: {signature(factory)}")
    try:
        with given(sizes) as used:
            result = factory(**{k: v for k, v in values.items() if k in params})
    except NanottError:
        raise
    except Exception as e:
        loc = frame_loc(e, path)
        raise NanottError("NT902", f"{factory.__name__}(...) raised {type(e).__name__}: {e}",
                          where if loc == NOLOC else loc) from e
    if not isinstance(result, PrimFunc):
        raise NanottError("NT903", f"{factory.__name__}(...) returned a {type(result).__name__}, "
                                   "not a @T.prim_func kernel", where,
                          hint="a factory ends with `return main`, where main is a @T.prim_func")
    scalars = set(result.func.__annotations__) - used
    if unknown := [k for k in sizes if k not in used and k not in scalars]:
        raise NanottError("NT903", f"{factory.__name__} has no parameter {', '.join(unknown)}", where,
                          hint=f"parameters: {signature(factory)}")
    result.sizes = sizes
    return result


def literal(text: str) -> Any:
    """`--set` values: 512 -> int, 0.5 -> float, "float32" or float32 -> str."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, (int, float, str, bool)) else text


def signature(f: Callable) -> str:
    return f"{f.__name__}{inspect.signature(f)}"


def autotuned(jitted: Autotuned, missing: list[str]) -> bool:
    """Whether a missing parameter is one the autotuner would choose (all, if its configs need a GPU)."""
    first = jitted.first_config()
    return bool(missing) and (first is None or any(k in first for k in missing))


def one_configuration(jitted: Autotuned, missing: list[str], where: Loc) -> dict[str, Any]:
    """The values of the missing tuned parameters, from the first configuration of the search space
    (NT920 when it cannot be computed without a GPU). nanott has no device to time configurations
    on, so it does not search; the first is the one the file's author lists first and TileLang
    would compile first, and it does not depend on a cost model. Warning NT921 names the values
    taken and how to choose others (`--set`, which always wins over a configuration)."""
    first = jitted.first_config()
    if first is None:
        raise NanottError("NT920", f"{jitted.__name__} is autotuned over {', '.join(missing)}, and nanott "
                                   "does not autotune (it has no device to time configurations on), and its "
                                   "configurations cannot be listed without one", where,
                          hint="choose one configuration: " + " ".join(f"--set {k}=..." for k in missing))
    chosen = {k: first[k] for k in missing if k in first}
    sets = " ".join(f"--set {k}={v}" for k, v in chosen.items())
    warnings.warn(NanottWarning("NT921", f"{jitted.__name__} is autotuned, and nanott does not autotune (it has "
                                         f"no device to time configurations on): it runs the first of the "
                                         f"{count(jitted)} configurations, {sets}", where,
                                hint="choose another with --set (for example --set " +
                                     f"{next(iter(chosen))}=...); a --set value wins over the configuration"))
    return chosen


def count(jitted: Autotuned) -> int:
    configs = jitted.configs() if callable(jitted.configs) else jitted.configs
    return len(list(configs))


def describe(found: dict, jits: list[str]) -> str:
    if jits:
        return f"{len(jits)} @tilelang.jit functions ({', '.join(sorted(jits))})"
    return "no module-level @T.prim_func" if not found else \
        f"{len(found)} kernels ({', '.join(sorted(found))})"


def choices(found: dict, factories: dict) -> str:
    out = [f"kernels: {', '.join(sorted(found))}"] if found else []
    if factories:
        out.append("factories: " + "; ".join(signature(f) for _, f in sorted(factories.items())))
        first, f = sorted(factories.items())[0]
        example = " ".join(f"--set {k}=512" for k in list(inspect.signature(f).parameters)[:1])
        out.append(f"e.g. --kernel {first} {example} ...")
    return "; ".join(out) if out else "define a @T.prim_func at module level"


def split_params(kernel: l0.Kernel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(inputs, outputs): the tensor parameters the kernel only reads, and those it writes, in
    parameter order. Written means: the destination of a copy, or the buffer of a store."""
    written = {x.dst.buffer for x in walk(kernel.body) if isinstance(x, l0.Copy)}
    written |= {x.buffer for x in walk(kernel.body) if isinstance(x, (l0.Store, l0.Fill))}
    names = [p.name for p in kernel.params]
    return tuple(n for n in names if n not in written), tuple(n for n in names if n in written)
