"""D2 bind-tensor-accessors: L7 -> L7

Changes:   every kernel gets one Binding per DRAM tensor it addresses, in order of first use: where
           the tensor's TensorAccessorArgs start among the kernel's compile-time arguments (the
           running count of words the tensors before it took; an interleaved tensor takes exactly
           one, its flags word) and the runtime argument that will hold its base address
           (`<tensor>_addr`). Compute binds nothing: it addresses no tensor (the DRAM elements it
           needs, the reader reads and sends it, D1).
Preserves: every statement, CB and plan; the bindings are bookkeeping for E1 and G1.
Why:       a data-movement kernel finds page i of a tensor with
           `TensorAccessor(TensorAccessorArgs<cta_offset>(), base_addr, page_size)`: the layout is
           known when the kernel is compiled, the address only when the host allocates the buffer.
"""
from __future__ import annotations

from nanott.diagnostics import NanottError
from nanott.ir import replace, walk
from nanott.languages import l7
from nanott.passes._rewriter import Rewriter
from nanott.target import Target

SHARDED = 1          # the Sharded bit of an accessor's flags word (docs/reference.md §3.5)


def bind_tensor_accessors(program: l7.Program, target: Target) -> l7.Program:
    return BindTensorAccessors(program).visit(program)


class BindTensorAccessors(Rewriter, src=l7.LANG, dst=l7.LANG):
    def __init__(self, program: l7.Program):
        self.tensors = {t.name: t for t in program.params}

    def visit_DeviceKernel(self, k: l7.DeviceKernel) -> l7.DeviceKernel:
        bindings, offset = [], 0
        for name in tensors_addressed(k.body) if k.role != "compute" else ():   # compute is sent elements
            bindings.append(l7.Binding(name, offset, f"{name}_addr", loc=k.loc))
            offset += self.cta_words(self.tensors[name])
        return replace(k, bindings=tuple(bindings))

    @staticmethod
    def cta_words(t: l7.Tensor) -> int:
        """Compile-time words of the tensor's TensorAccessorArgs: one flags word if interleaved."""
        if t.accessor is None or t.accessor.cta_flags & SHARDED:
            raise NanottError("NT321", f"tensor {t.name} is not interleaved: sharded tensor "
                              "accessors are not supported yet", t.loc,
                              "keep the tensor interleaved in DRAM (the default layout)")
        return 1


def tensors_addressed(body: tuple) -> list[str]:
    """Names of the DRAM tensors the statements transfer to or from, in order of first use."""
    names: list[str] = []
    for x in walk(body):
        if isinstance(x, l7.TileSlice) and x.tensor not in names:
            names.append(x.tensor)
    return names
