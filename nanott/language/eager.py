"""The eager style of TileLang: one `@tilelang.jit` function that is both the kernel and its launch.

    @tilelang.jit
    def matmul(A, B, block_M, block_N, block_K, dtype=T.float16):
        M, N, K = T.const("M, N, K")              # sizes, taken from the call
        A: T.Tensor((M, K), dtype)                 # tensor parameters, annotated in the body
        B: T.Tensor((K, N), dtype)
        C = T.empty((M, N), dtype)                 # an output, made here and returned
        with T.Kernel(...) as (bx, by): ...
        return C

A parameter annotated in the body (`A: T.Tensor(...)` without a value) is a tensor; the others are
configuration values (block sizes, dtypes), which come from `--set` or their defaults. `T.const`
names come from `--set M=...` or, for `nanott.run`, from the shapes of the arrays given: the sizes
are unified with the annotations' shapes, read from the function's AST. The kernel's parameters are
the annotated tensors in signature order, then the `T.empty` outputs in the order they are made,
so an eager kernel reaches P0's output as the same L0 a factory-style kernel gives.

A size may also be a module constant the function reads (`M = 8192` above the def, `X:
T.Tensor([M, N], dtype)` in it): `--set M=64` replaces it while the kernel is parsed, in a copy of
the module's globals (the file itself, and any other function of it, keep 8192).
"""
from __future__ import annotations

import ast
import inspect
import numbers
import re
from typing import Any, Callable

from nanott.diagnostics import NanottError
from nanott.ir import Loc
from nanott.language.builder import Builder, current
from nanott.language.cells import scalar_cells
from nanott.language.prim_func import PrimFunc, closure, traced
from nanott.language.rewrite import rewrite, source_of
from nanott.language.parts import partition
from nanott.language.stages import unstage
from nanott.language.values import Buffer, TensorType, fold_int, normalize_dtype
from nanott.languages import l0


def tensor_params(func: Callable) -> tuple[str, ...]:
    """The parameters annotated in the body (`A: T.Tensor(...)` without a value), in signature order."""
    fdef, _, _ = source_of(func)
    names = [a.arg for a in (*fdef.args.posonlyargs, *fdef.args.args)]
    annotated = {n.target.id for n in ast.walk(fdef) if isinstance(n, ast.AnnAssign)
                 and n.value is None and isinstance(n.target, ast.Name)}
    return tuple(n for n in names if n in annotated)


def is_eager(func: Callable) -> bool:
    """A `@tilelang.jit` function is eager when it annotates a parameter in its body, or makes
    outputs or sizes itself (T.empty, T.const); a factory instead returns a @T.prim_func."""
    names = set(func.__code__.co_names)
    return bool(tensor_params(func)) or bool(names & {"empty", "const"}) and "prim_func" not in names


def eager_function(obj: Any) -> Callable | None:
    """The function of an eager `@tilelang.jit` kernel (or of `@autotune` over one), else None."""
    from nanott.language.tilelang_surface import Jit
    return obj.func if isinstance(obj, Jit) and is_eager(obj.func) else None


class EagerKernel(PrimFunc):
    """An eager `@tilelang.jit` function with its configuration values and sizes fixed."""

    def __init__(self, func: Callable, values: dict[str, Any]):
        super().__init__(func, {})
        self.values = values

    def parse(self) -> l0.Kernel:
        if self._kernel is None:
            self._kernel = parse_eager(self)
        return self._kernel


def specialize(func: Callable, values: dict[str, Any]) -> EagerKernel:
    """The kernel for `values` (configuration parameters and T.const sizes); NT903 when a
    configuration parameter without a default has no value."""
    tensors = tensor_params(func)
    params = inspect.signature(func).parameters
    missing = [k for k, p in params.items() if k not in tensors and k not in values
               and p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if missing:
        raise NanottError("NT903", f"{func.__name__} needs {', '.join(missing)}",
                          Loc(func.__code__.co_filename, func.__code__.co_firstlineno, 0),
                          hint=" ".join(f"--set {k}=..." for k in missing) +
                          f" (the tensors {', '.join(tensors) or '(none)'} come from the call)")
    clash = [k for k in values if k in tensors]
    if clash:
        raise NanottError("NT903", f"{', '.join(clash)} of {func.__name__} is a tensor, not a value",
                          Loc(func.__code__.co_filename, func.__code__.co_firstlineno, 0),
                          hint="set its sizes instead, e.g. --set M=1024 for T.const(\"M, ...\")")
    return EagerKernel(func, dict(values))


class EagerBuilder(Builder):
    """A Builder that also answers the eager hooks: tensor annotations, T.const and T.empty."""

    def __init__(self, file: str, tensors: tuple[str, ...], values: dict[str, Any]):
        super().__init__(file)
        self.tensors, self.values = tensors, values
        self.inputs: dict[str, l0.Tensor] = {}
        self.outputs: list[Buffer] = []
        self.sizes_used: set[str] = set()

    def annotate(self, name: str, ann: Any) -> Any:
        if name not in self.tensors:
            return super().annotate(name, ann)
        if not isinstance(ann, TensorType):
            raise NanottError("NT107", f"{name} is annotated with a {type(ann).__name__}, not a T.Tensor",
                              hint=f"{name}: T.Tensor((M, K), dtype)")
        dims = ann.shape if isinstance(ann.shape, (tuple, list)) else (ann.shape,)
        shape = tuple(fold_int(d, f"dim {i} of {name}") for i, d in enumerate(dims))
        self.inputs[name] = l0.Tensor(name, shape, normalize_dtype(ann.dtype), loc=self.loc)
        self.taken.add(name)
        return Buffer(name, shape, self.inputs[name].dtype, "dram", loc=self.loc)

    def const(self, names: str) -> Any:
        wanted = [n for n in re.split(r"[,\s]+", names) if n]
        missing = [n for n in wanted if n not in self.values]
        if missing:
            raise NanottError("NT903", f"the size {', '.join(missing)} (T.const) has no value",
                              hint=" ".join(f"--set {n}=..." for n in missing) +
                              ", or give arrays to nanott.run, whose shapes fix the sizes")
        self.sizes_used.update(wanted)
        values = tuple(fold_int(self.values[n], f"the size {n}") for n in wanted)
        return values if len(values) > 1 else values[0]

    def empty(self, shape: tuple, dtype: Any) -> Buffer:
        dims = tuple(fold_int(d, f"dim {i} of T.empty") for i, d in enumerate(shape))
        buf = Buffer(None, dims, normalize_dtype(dtype), "dram", namer=self._name_output, loc=self.loc)
        self.outputs.append(buf)
        return buf

    def _name_output(self, buf: Buffer) -> str:
        name = self.unique(f"out{self.outputs.index(buf)}")
        self.taken.add(name)
        return name

    def params(self) -> tuple[l0.Tensor, ...]:
        """The annotated tensors in signature order, then the outputs in the order they were made."""
        ins = tuple(self.inputs[n] for n in self.tensors if n in self.inputs)
        outs = tuple(l0.Tensor(b.label, b.shape, b.dtype, loc=b.loc) for b in self.outputs)
        return ins + outs


def parse_eager(kernel: EagerKernel) -> l0.Kernel:
    func = kernel.func
    names = inspect.signature(func).parameters
    constants = module_constants(func)
    config = {k: v for k, v in kernel.values.items() if k in names}
    overrides = {k: v for k, v in kernel.values.items() if k in constants and k not in names}
    maker, _, _, file = rewrite(func, overrides)
    free = closure(func)
    tensors = tensor_params(func)
    with EagerBuilder(file, tensors, kernel.values) as b:
        with traced(b):
            maker(b, *free.values())(**{n: None for n in tensors}, **config)
            unused = sorted(set(kernel.values) - set(config) - set(overrides) - b.sizes_used)
            if unused:
                raise NanottError("NT903", f"{func.__name__} has no parameter or T.const size "
                                           f"{', '.join(unused)}", Loc(file, func.__code__.co_firstlineno, 0),
                                  hint=f"parameters: {', '.join(names)}")
            return scalar_cells(unstage(partition(b.finish(func.__name__, b.params()), getattr(b, "parts", None))))


def module_constants(func: Callable) -> set[str]:
    """The module globals the function reads (a load, never an assignment, in its body) whose value
    is a plain number: sizes written at module level, which `--set` may replace."""
    fdef, _, _ = source_of(func)
    stored = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    stored |= {a.arg for a in ast.walk(fdef.args) if isinstance(a, ast.arg)}
    loaded = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return {n for n in loaded - stored if isinstance(func.__globals__.get(n), numbers.Number)
            and not isinstance(func.__globals__.get(n), bool)}


def sizes_from_arrays(func: Callable, arrays: tuple) -> dict[str, int]:
    """The T.const sizes fixed by the arrays given for the tensor parameters: each bare name in an
    annotation's shape takes the size of that dim of the array passed for the parameter."""
    fdef, _, _ = source_of(func)
    tensors = tensor_params(func)
    given = dict(zip(tensors, arrays))
    sizes: dict[str, int] = {}
    for n in ast.walk(fdef):
        if not (isinstance(n, ast.AnnAssign) and n.value is None and isinstance(n.target, ast.Name)
                and n.target.id in given and isinstance(n.annotation, (ast.Call, ast.Subscript))):
            continue
        ann = n.annotation
        shape = ann.args[0] if isinstance(ann, ast.Call) and ann.args else \
            ann.slice.elts[0] if isinstance(ann, ast.Subscript) and isinstance(ann.slice, ast.Tuple) else None
        dims = shape.elts if isinstance(shape, (ast.Tuple, ast.List)) else [shape]
        array_shape = getattr(given[n.target.id], "shape", ())
        for d, e in enumerate(dims):
            if isinstance(e, ast.Name) and d < len(array_shape):
                sizes.setdefault(e.id, int(array_shape[d]))
    return sizes


def const(names: str, dtype: Any = "int32") -> Any:
    """`M, N = T.const("M, N")`: sizes of an eager kernel, fixed when it is specialised."""
    b = current("T.const")
    if not isinstance(b, EagerBuilder):
        raise NanottError("NT304", "T.const belongs to the eager style (a @tilelang.jit function "
                                   "that annotates its tensors in its body)",
                          hint="in a @T.prim_func, sizes are Python values: module constants or "
                               "factory arguments")
    return b.const(names)


def empty(*shape: Any, dtype: Any = "float32") -> Buffer:
    """`C = T.empty((M, N), dtype)` or `T.empty(M, N, dtype=...)`: an output of an eager kernel."""
    b = current("T.empty")
    if not isinstance(b, EagerBuilder):
        raise NanottError("NT304", "T.empty belongs to the eager style (a @tilelang.jit function "
                                   "that returns its outputs)",
                          hint="in a @T.prim_func, outputs are T.Tensor parameters the kernel writes")
    if shape and isinstance(shape[0], (tuple, list)):
        dims, rest = tuple(shape[0]), shape[1:]
        dtype = rest[0] if rest else dtype
    else:
        dims = shape
    if not all(isinstance(d, numbers.Integral) for d in dims):
        dims = tuple(fold_int(d, "a T.empty dim") for d in dims)
    return b.empty(dims, dtype)
