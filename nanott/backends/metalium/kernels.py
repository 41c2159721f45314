"""The kernel printer: one L9 kernel (reader, compute or writer) -> its C++ source.

A printer, not a template: every statement of the kernel's body prints as one call (or a loop, or
a `const uint32_t` let), spelled as api.py says for the chosen release, followed by a comment naming
the user's source line it came from (and what a bare number in the call means: an init's
transpose flag, a typecast's formats, a scalar's float). Around the body, only what the IR
declares: a named constant per CB the kernel touches (`constexpr uint32_t cb_A_shared = 0;`), the
runtime arguments it reads (`get_arg_val<uint32_t>(i)`, i being the slot E1 gave the name, never a
number made up here), and a TensorAccessor per binding (its TensorAccessorArgs at D2's cta
offset). Names are the IR's; a name that is no C++ identifier, or is declared twice in one scope,
is a compiler bug (CheckError).
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from nanott.backends.metalium.api import DATA_FORMATS, NOC_OF, PROCESSORS, Api
from nanott.backends.metalium.generated_values import ELEMENT_TYPES, float_literal, generated_value  # noqa: F401
from nanott.backends.metalium.print_values import PrintValue, print_cb
from nanott.diagnostics import NanottError, not_yet
from nanott.ir import NOLOC, CheckError, walk
from nanott.languages import l9
from nanott.printing import num

INDENT = "    "
SIGNED = ("<", "<=", ">", ">=", ">>")                    # >>: arithmetic, as Python's
C_OPS = {"+": "+", "-": "-", "*": "*", "/": "/", "//": "/", "%": "%", "==": "==", "!=": "!=", "&": "&", "|": "|",
         "^": "^", "<<": "<<"}
CB_FIELDS = {"CbReserve": ("cb",), "CbPush": ("cb",), "CbWait": ("cb",), "CbPop": ("cb",),
             "NocReadPage": ("cb",), "NocWritePage": ("cb",), "CopyTile": ("cb",), "PackTile": ("cb",),
             "TransposeTile": ("cb",), "UnaryBcast": ("cb", "out"), "ReduceTile": ("cb", "scaler_cb", "out"),
             "BinaryTiles": ("a_cb", "b_cb"), "MatmulTiles": ("a_cb", "b_cb"),
             "MatmulBlock": ("a_cb", "b_cb"), "Init": ("cbs",), "McastPages": ("cb",), "FrontElement": ("cb",),
             "BackElement": ("cb",)}
CPP_KEYWORDS = frozenset(
    "alignas alignof and asm auto bool break case catch char class const constexpr const_cast continue "
    "default delete do double dynamic_cast else enum explicit export extern false float for friend goto "
    "if inline int long mutable namespace new noexcept not nullptr operator or private protected public "
    "register return short signed sizeof static static_cast struct switch template this throw true try "
    "typedef typeid typename union unsigned using virtual void volatile while xor".split())


def kernel_source(program: l9.Program, role: str, api: Api) -> str:
    return KernelPrinter(program, role, api).source()


def ident(name: str, what: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in CPP_KEYWORDS:
        raise CheckError(f"{what} {name!r} is not a C++ identifier")
    return name


def cb_constant(cb: Any) -> str:
    return ident(f"cb_{cb.name}", f"the name of cb{cb.index}")


def cbs_used(body: Any) -> list[int]:
    used: set[int] = set()
    for x in walk(body):
        for f in CB_FIELDS.get(type(x).__name__, ()):
            v = getattr(x, f)
            used.update(v if isinstance(v, tuple) else (v,))
    return sorted(used)


def float_bits(x: float) -> int:
    return int(np.array(x, dtype=np.float32).view(np.uint32))


class KernelPrinter:
    def __init__(self, program: l9.Program, role: str, api: Api):
        self.p, self.k, self.api = program, program.kernel(role), api
        self.compute = role == "compute"
        self.slots = {n: i for a in program.args.kernels if a.role == role for i, n in enumerate(a.names)}
        self.cbs = {cb.index: cb for cb in program.cbs}
        self.cb_names = {i: cb_constant(self.cbs[i]) for i in cbs_used(self.k.body)}
        self.bound = {b.tensor: b for b in self.k.bindings}
        self.headers: set[str] = set()
        self.scopes: list[set[str]] = [set(self.cb_names.values())]
        self.last_where = ""                  # the source line last named in a comment
        self.updated = {x.var for x in walk(self.k.body) if isinstance(x, l9.Let) and x.update}
        self.read = {x.name for x in walk(self.k.body) if isinstance(x, l9.Var)}   # names some value reads

    # ----- the file -----
    def source(self) -> str:
        body = self.args() + self.accessors() + self.block(self.k.body, 1)
        entry = self.call("compute_kernel" if self.compute else "dataflow_kernel", body="".join(body))
        head = [f"// {self.k.role}.cpp: the {self.k.role} kernel of {self.p.name}, emitted by nanott "
                f"G1 emit-metalium (L9 -> C++)",
                f"// for tt-metal {self.api.version}; a comment names the kernel source line where "
                f"it changes.", "", "#include <cstdint>"]
        if any(isinstance(x, l9.UnOp) for x in walk(self.k.body)):
            head.append("#include <cmath>                  // exp2f, log2f, ...: a generated block's functions")
        head += [f'#include "{h}"' for h in sorted(self.headers)] + [""]
        for i, name in self.cb_names.items():
            cb = self.cbs[i]
            head.append(f"constexpr uint32_t {name} = {i};  // {cb.producer} -> {cb.consumer}, "
                        f"{cb.plan.block_pages} pages x {cb.plan.depth} blocks of {cb.plan.page_bytes} B, "
                        f"{cb.plan.format}")
        return "\n".join(head) + "\n\n" + entry

    def call(self, key: str, **fields: Any) -> str:
        c = self.api[key]
        if c.header and (self.compute or key == "dataflow_kernel"):
            self.headers.add(c.header)
        return c(**fields)

    def declare(self, name: str, what: str, value: Any = None) -> str:
        """Declare a name in the current scope; `value` (a let's value, a loop's extent) may not
        read it: in C++ the new name is already in scope there."""
        if any(isinstance(x, (l9.Var, l9.CoreArg)) and x.name == name for x in walk(value)):
            raise CheckError(f"the {self.k.role} kernel's {what} {name!r} reads {name!r} in its own "
                             "definition, which C++ would take for the new one")
        if ident(name, what) in self.scopes[-1]:
            raise CheckError(f"the {self.k.role} kernel declares {name!r} twice in one scope")
        self.scopes[-1].add(name)
        return name

    def args(self) -> list[str]:
        """The runtime arguments the kernel reads, by E1's slot index."""
        used = {x.name for x in walk(self.k.body) if isinstance(x, l9.CoreArg)}
        used |= {b.addr_arg for b in self.k.bindings}
        used |= {n for n in ("noc_x0", "noc_y0") if n in self.slots}     # E1: it addresses other cores
        missing = sorted(used - set(self.slots))
        if missing:
            raise CheckError(f"E1's table has no slot for {missing} of the {self.k.role} kernel")
        return [INDENT + f"const uint32_t {self.declare(n, 'runtime argument')} = "
                f"{self.call('get_arg_val', index=i)};  // runtime argument {i} (E1)\n"
                for n, i in sorted(self.slots.items(), key=lambda s: s[1]) if n in used]

    def accessors(self) -> list[str]:
        """A TensorAccessor per binding: D2's cta offset, the base-address argument, the page size."""
        out = []
        for b in self.k.bindings:
            tensor = next(t for t in self.p.params if t.name == b.tensor)
            args = self.declare(f"{b.tensor}_args", "accessor arguments")
            out.append(INDENT + f"constexpr auto {args} = "
                       f"{self.call('accessor_args', cta_offset=b.cta_offset)};  // {b.tensor}: "
                       f"{tensor.layout.memory} {tensor.layout.interleaving}\n")
            accessor = self.call("accessor", args=args, base=b.addr_arg, page_bytes=tensor.layout.page_bytes)
            out.append(INDENT + f"const auto {self.declare(b.tensor, 'tensor')} = {accessor};\n")
        return out

    # ----- statements -----
    def block(self, stmts: tuple, depth: int) -> list[str]:
        """The statements of one scope. A let that rebinds a name of its scope shadows it for the
        statements after it, as in the IR: in C++, they go in a nested block."""
        out: list[str] = []
        for i, s in enumerate(stmts):
            if isinstance(s, l9.Let) and s.var in self.scopes[-1] and not s.update:
                self.scopes.append(set())
                inner = self.block(stmts[i:], depth + 1)
                self.scopes.pop()
                return out + [INDENT * depth + f"{{  // let {s.var} again: a new scope\n", *inner,
                              INDENT * depth + "}\n"]
            out += self.stmt(s, depth)
        return out

    def line(self, text: str, s: Any, depth: int, note: str = "") -> str:
        where = "" if s.loc == NOLOC or str(s.loc) == self.last_where else str(s.loc)
        self.last_where = where or self.last_where
        comment = "; ".join(x for x in (note, where) if x)
        return INDENT * depth + text + (f"  // {comment}" if comment else "") + "\n"

    def stmt(self, s: Any, depth: int) -> list[str]:
        if isinstance(s, l9.GenerateToCb):
            return self.generate(s, depth)
        if isinstance(s, l9.When):
            head = self.line(f"if ({self.expr(s.cond, True)}) {{", s, depth)
            self.scopes.append(set())
            body = self.block(s.body, depth + 1)
            self.scopes.pop()
            return [head, *body, INDENT * depth + "}\n"]
        if isinstance(s, (l9.SemSetMcast, l9.McastPages)):
            return [self.line(code + ";", s, depth, note) for code, note in self.multicast(s)]
        if isinstance(s, l9.PrintCb):
            calls = print_cb(self.call, self.cbs[s.cb], self.cb(s.cb), s.text)
            return [self.line(code + ";", s, depth, note) for code, note in calls]
        if isinstance(s, l9.For):
            self.scopes.append(set())
            var = self.declare(s.var, "loop variable", s.extent)
            head = self.line(f"for (uint32_t {var} = 0; {var} < {self.expr(s.extent, True)}; ++{var}) {{",
                             s, depth)
            body = self.block(s.body, depth + 1)
            self.scopes.pop()
            return [head, *body, INDENT * depth + "}\n"]
        code, note = self.code(s)
        return [self.line(code + ";", s, depth, note)]

    def generate(self, g: Any, depth: int) -> list[str]:
        """A block made from indices: a loop over its elements writing each, rounded to the CB's
        format, at its place in the tile layout (tiles row-major, four 16x16 faces, docs/reference.md §7.1)."""
        cb, pad = self.cbs[g.cb], INDENT * (depth + 1)
        bf16 = cb.dtype == "bfloat16"
        if cb.dtype not in ("bfloat16", "float16", "float32") or len(g.vars) != 2:
            raise CheckError(f"G1 cannot generate a {cb.dtype} block of {len(g.vars)} dims (at {g.loc})")
        self.scopes.append(set())
        ptr = self.declare(f"{cb.name}_l1", "generated block")
        kind = "float" if cb.dtype == "float32" else "uint16_t"
        out = [self.line("{", g, depth, f"generate_to_cb: the {cb.name} block, element by element"),
               pad + f"volatile tt_l1_ptr {kind}* {ptr} = reinterpret_cast<volatile tt_l1_ptr {kind}*>("
               f"{self.call('get_write_ptr', cb=self.cb(g.cb))});\n"]
        (r, c), (rows, cols) = (self.declare(v, "element index") for v in g.vars), g.extents
        out.append(pad + f"for (uint32_t {r} = 0; {r} < {rows}; ++{r}) {{\n")
        out.append(pad + INDENT + f"for (uint32_t {c} = 0; {c} < {cols}; ++{c}) {{\n")
        inner = pad + INDENT * 2
        where = (f"(({r} / 32) * {cols // 32} + {c} / 32) * 1024 + (({r} % 32) / 16 * 2 + ({c} % 32) / 16) * 256"
                 f" + ({r} % 16) * 16 + {c} % 16")
        out.append(inner + f"const float value = static_cast<float>({self.value(g.value)});\n")
        if bf16:                                         # round to nearest even, as the host does
            out += [inner + "const uint32_t bits = __builtin_bit_cast(uint32_t, value);\n",
                    inner + f"{ptr}[{where}] = static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);\n"]
        elif cb.dtype == "float16":                      # IEEE half, round to nearest even
            out.append(inner + f"{ptr}[{where}] = __builtin_bit_cast(uint16_t, static_cast<_Float16>(value));\n")
        else:
            out.append(inner + f"{ptr}[{where}] = value;\n")
        self.scopes.pop()
        return out + [pad + INDENT + "}\n", pad + "}\n", INDENT * depth + "}\n"]

    def element(self, x: Any) -> str:
        """An element of the waited front page of x.cb, read from L1 at its place in the tile layout
        (four 16x16 faces), as an index (uint32_t arithmetic)."""
        kind = ELEMENT_TYPES.get(self.cbs[x.cb].dtype)
        if kind is None:
            raise not_yet(f"a {self.cbs[x.cb].dtype} element of a DRAM tensor kept as a scalar on the device "
                          "(a T.alloc_var assigned it and tested in a condition; the device kernels' scalars "
                          "are 32-bit integers)", x.loc,
                          "nanott explain and nanott run check this kernel at every level; for the device, "
                          "read the value into a fragment with T.copy and compute on it there, or keep "
                          "such a value integer (an index, a count, a flag)")
        r, c = self.expr(x.row), self.expr(x.col)
        at = f"({r} / 16 * 2 + {c} / 16) * 256 + {r} % 16 * 16 + {c} % 16"
        if self.k.role == "compute":        # UNPACK reads a 32-bit word and hands it to MATH and PACK
            if "read_tile_value" not in self.api.calls:
                raise NanottError("NT330", f"compute needs a value read from DRAM, and tt-metal {self.api.version} "
                                  "has no read_tile_value to hand it to compute's three threads", x.loc,
                                  "compile for tt-metal 0.66.0 or later (--release)")
            if kind in ("int32_t", "uint32_t"):
                return self.call("read_tile_value", cb=self.cb(x.cb), tile=0, offset=at)
            word = self.call("read_tile_value", cb=self.cb(x.cb), tile=0, offset=f"({at}) / 4")
            byte = f"(({word} >> (({at}) % 4 * 8)) & 0xff)"            # a byte of the little-endian word
            return f"static_cast<uint32_t>(static_cast<{kind}>({byte}))"
        ptr = "get_write_ptr" if isinstance(x, l9.BackElement) else "get_read_ptr"
        return (f"static_cast<uint32_t>(reinterpret_cast<volatile tt_l1_ptr {kind}*>("
                f"{self.call(ptr, cb=self.cb(x.cb))})[{at}])")

    def value(self, x: Any) -> str:
        """A generated element's value (generated_values.py), its indices as this kernel names them."""
        return generated_value(x, self.expr)

    def code(self, s: Any) -> tuple[str, str]:
        """The C++ of one statement, and a note for its comment."""
        e, cb = self.expr, self.cb
        match s:
            case l9.Let(var, value, True):           # a carried scalar's update: an assignment
                return f"{var} = {e(value, True)}", "carried to the next iteration"
            case l9.Let(var, value) if var in self.updated:
                return f"uint32_t {self.declare(var, 'let', value)} = {e(value, True)}", "a carried scalar"
            case l9.Let(var, value):               # a DRAM element staged for a let nothing reads: kept
                unused = "" if var in self.read else "[[maybe_unused]] "      # (-Werror=unused-variable)
                return f"{unused}const uint32_t {self.declare(var, 'let', value)} = {e(value, True)}", ""
            case l9.CbReserve(c, n) | l9.CbPush(c, n) | l9.CbWait(c, n) | l9.CbPop(c, n):
                return self.call(CB_CALLS[type(s).__name__], cb=cb(c), pages=n), ""
            case l9.NocReadPage(tensor, page, c, slot, row) if row is not None:
                return self.row(s, "read_run", self.l1(self.call("get_write_ptr", cb=cb(c)), c, slot)), ""
            case l9.NocWritePage(c, slot, tensor, page, row) if row is not None:
                return self.row(s, "write_run", self.l1(self.call("get_read_ptr", cb=cb(c)), c, slot)), ""
            case l9.NocReadPage(tensor, page, c, slot):
                l1 = self.l1(self.call("get_write_ptr", cb=cb(c)), c, slot)
                return self.call("read_page", page=e(page, True), accessor=self.tensor(tensor),
                                 l1_addr=l1), ""
            case l9.NocWritePage(c, slot, tensor, page):
                l1 = self.l1(self.call("get_read_ptr", cb=cb(c)), c, slot)
                return self.call("write_page", page=e(page, True), accessor=self.tensor(tensor),
                                 l1_addr=l1), ""
            case l9.NocReadBarrier():
                return self.call("read_barrier"), ""
            case l9.NocReadTrid(trid):
                return self.call("read_set_trid", trid=str(trid)), ""
            case l9.NocReadBarrierTrid(trid):
                return self.call("read_barrier_trid", trid=str(trid)), ""
            case l9.NocWriteBarrier():
                return self.call("write_barrier"), ""
            case l9.Init(op, cbs, args):
                return self.init(op, cbs, args)
            case l9.RegsAcquire() | l9.RegsCommit() | l9.RegsWait() | l9.RegsRelease():
                return self.call(REGS_CALLS[type(s).__name__]), ""
            case l9.CopyTile(c, index, dst):
                return self.call("copy_tile", cb=cb(c), index=e(index, True), dst=e(dst, True)), ""
            case l9.BinaryTiles(op, a, b, ai, bi, dst, bcast):
                key = f"{op}_tiles" if bcast == "none" else f"{op}_tiles_bcast_{bcast}"
                return self.call(key, a_cb=cb(a), b_cb=cb(b), a_index=e(ai, True), b_index=e(bi, True),
                                 dst=e(dst, True)), ""
            case l9.MatmulTiles(a, b, ai, bi, dst, transpose):
                return self.call("matmul_tiles", a_cb=cb(a), b_cb=cb(b), a_index=e(ai, True),
                                 b_index=e(bi, True), dst=e(dst, True), transpose=str(transpose).lower()), ""
            case l9.MatmulBlock(a, b, ai, bi, dst, rt, ct, kt):
                return self.call("matmul_block", a_cb=cb(a), b_cb=cb(b), a_index=e(ai, True), b_index=e(bi, True),
                                 dst=e(dst, True), transpose=0, rt_dim=rt, ct_dim=ct, kt_dim=kt), ""
            case l9.TransposeTile(c, index, dst):
                return self.call("transpose_wh_tile", cb=cb(c), index=e(index, True), dst=e(dst, True)), ""
            case l9.UnaryBcast(dim, c, index, dst, _):
                return self.templated("unary_bcast", l9.BROADCAST[dim], cb=cb(c), index=e(index, True),
                                      dst=e(dst, True))
            case l9.ReduceTile(op, dim, c, scaler, index, scaler_index, dst, _):
                return self.templated("reduce_tile", l9.reduce_kind(op, dim), cb=cb(c), scaler_cb=cb(scaler),
                                      index=e(index, True), scaler_index=e(scaler_index, True),
                                      dst=e(dst, True))
            case l9.SfpuBinary(op, a, b, dst):
                return self.call(l9.sfpu_binary(op), a=e(a, True), b=e(b, True), dst=e(dst, True)), ""
            case l9.SfpuUnary(op, dst):
                return self.call(f"{op}_tile", dst=e(dst, True)), ""
            case l9.SfpuWhere(c, a, b, dst):
                key = "where_fp32_tile" if self.p.compute.fp32_dest_acc else "where_tile"
                return self.call(key, cond=e(c, True), a=e(a, True), b=e(b, True), dst=e(dst, True)), ""
            case l9.SfpuTypecast(dst, dtype):
                return self.templated("typecast_tile", l9.typecast_formats(dtype), dst=e(dst, True))
            case l9.SfpuScalar(op, dst, scalar):
                bits = f"0x{float_bits(scalar):08x}u"
                return (self.call(f"{op}_unary_tile", dst=e(dst, True), bits=bits),
                        f"{float_literal(scalar)} as float32 bits")
            case l9.SfpuBitsBinary(op, a, b, dst):
                return self.call(l9.BITS_BINARY[op], a=e(a, True), b=e(b, True), dst=e(dst, True)), "on int32"
            case l9.SfpuBitsScalar(op, dst, value):
                return (self.call(l9.BITS_SCALAR[op], dst=e(dst, True), value=f"{value & 0xFFFFFFFF}u"),
                        "on int32" + (f" ({value})" if value < 0 else ""))
            case l9.FillTile(dst, value):
                return self.call("fill_tile", dst=e(dst, True), value=float_literal(value)), ""
            case l9.PackTile(dst, c, slot):
                return self.call("pack_tile", dst=e(dst, True), cb=cb(c), slot=e(slot, True)), ""
            case l9.SemSet(sem, value) | l9.SemWait(sem, value):
                key = "noc_semaphore_set" if isinstance(s, l9.SemSet) else "noc_semaphore_wait"
                return self.call(key, sem_ptr=self.sem_ptr(sem), count=value), f"semaphore {sem}"
            case l9.SemInc(sem, x, y):
                addr = self.call("noc_addr", x=self.noc(x, "x"), y=self.noc(y, "y"),
                                 l1_addr=self.call("get_semaphore", semaphore=sem))
                return self.call("noc_semaphore_inc", noc_addr=addr, count=1), f"semaphore {sem} of core ({x}, {y})"
            case l9.Print(_, value):
                argument, note = PrintValue(self.expr).dprint_argument(value)
                return self.call("dprint", text=s.label(), index=argument), note
        raise CheckError(f"G1 cannot print {type(s).__name__} in the {self.k.role} kernel (at {s.loc})")

    def sem_ptr(self, sem: int) -> str:
        return f"reinterpret_cast<volatile tt_l1_ptr uint32_t*>({self.call('get_semaphore', semaphore=sem)})"

    def noc(self, coord: Any, axis: str) -> str:
        """A logical core coordinate as a NoC one: the origin's (E1's noc_x0, noc_y0) plus it."""
        return f"{self.unshadowed(f'noc_{axis}0', 'runtime argument')} + {self.expr(coord)}"

    def mcast_addr(self, rect: Any, l1_addr: str) -> str:
        """NoC 1 is NoC 0 mirrored: a kernel on it names the rectangle from its other corner (as
        tt-metal's matmul_multicore_reuse_mcast swaps start and end for in1 on NOC_1)."""
        start, end = (rect.x0, rect.y0), (rect.x1, rect.y1)
        if NOC_OF[PROCESSORS[self.k.role][1]] == 1:
            start, end = end, start
        return self.call("noc_multicast_addr", x0=self.noc(start[0], "x"), y0=self.noc(start[1], "y"),
                         x1=self.noc(end[0], "x"), y1=self.noc(end[1], "y"), l1_addr=l1_addr)

    def multicast(self, s: Any) -> list[tuple[str, str]]:
        """A multicast to a rectangle: its destination count from the rectangle's corners; a
        semaphore's value is set here first, then the word multicast from this core's L1."""
        r = s.rect
        dests = f"({self.expr(r.x1)} - {self.expr(r.x0)} + 1) * ({self.expr(r.y1)} - {self.expr(r.y0)} + 1)"
        if isinstance(s, l9.McastPages):
            l1 = self.call("get_write_ptr", cb=self.cb(s.cb))
            return [(self.call("write_multicast", l1_addr=l1, mcast_addr=self.mcast_addr(r, l1),
                               bytes=s.pages * self.cbs[s.cb].plan.page_bytes, dests=dests),
                     f"the reserved {s.pages} page(s) to the same pages of the {r}")]
        sem = self.call("get_semaphore", semaphore=s.sem)
        return [(self.call("noc_semaphore_set", sem_ptr=self.sem_ptr(s.sem), count=s.value), f"semaphore {s.sem}"),
                (self.call("semaphore_set_multicast", l1_addr=sem, mcast_addr=self.mcast_addr(r, sem), dests=dests),
                 f"semaphore {s.sem} on the {r}")]

    def init(self, op: str, cbs: tuple[int, ...], args: tuple[int, ...]) -> tuple[str, str]:
        """An init call: its CBs, then its other arguments (a transpose flag), and its template
        arguments if the IR's op names some (reduce_init<SUM, REDUCE_ROW>)."""
        name, _, template = op.partition("<")
        c = self.api[name]
        if c.arity is None or len(cbs) not in c.arity or len(args) > len(c.extra_args):
            raise CheckError(f"Init {op} with {len(cbs)} CBs and {len(args)} arguments; {name} takes "
                             f"{c.arity} CBs and at most {len(c.extra_args)} arguments")
        text = ", ".join([*(self.cb(i) for i in cbs), *map(str, args)])
        code, note = self.templated(name, template.removesuffix(">"), cbs=text,
                                    cb0=self.cb(cbs[0]) if cbs else "")
        return code, ", ".join([note] * bool(note) + [f"{n} = {v}" for n, v in zip(c.extra_args, args)])

    def templated(self, key: str, template: str, **fields: Any) -> tuple[str, str]:
        """A call with template arguments, given as the IR names them ("SUM, REDUCE_ROW"): {t0},
        {t1}, ... of its entry; tt::DataFormat names become their values, with a note naming them."""
        names = [x.strip() for x in template.split(",")] if template else []
        note, wanted = "", len(re.findall(r"\{t\d\}", self.api[key].template))
        if len(names) != wanted and not (self.api[key].formats and wanted == 0):
            raise CheckError(f"{key}<{template}>: {len(names)} template arguments; the API table's "
                             f"{key} takes {wanted}")
        if self.api[key].formats and wanted == 0:       # one init for every pair of formats (0.65)
            names, note = [], f"for every format pair, {names[0]} -> {names[-1]} here"
        elif self.api[key].formats:
            if len(names) != 2 or not all(n in DATA_FORMATS for n in names):
                raise CheckError(f"{key}<{template}>: two tt::DataFormat names expected")
            names, note = [DATA_FORMATS[n] for n in names], f"tt::DataFormat {names[0]} -> {names[1]}"
        return self.call(key, **fields, **{f"t{i}": n for i, n in enumerate(names)}), note

    def cb(self, index: int) -> str:
        return self.cb_names[index]

    def tensor(self, name: str) -> str:
        if name not in self.bound:
            raise CheckError(f"the {self.k.role} kernel moves pages of {name} but has no binding for it")
        return self.unshadowed(name, "tensor accessor")

    def unshadowed(self, name: str, what: str) -> str:
        """A kernel-wide name (runtime argument, accessor), checked not hidden by a loop or let."""
        if any(name in scope for scope in self.scopes[1:]):
            raise CheckError(f"the {self.k.role} kernel's {what} {name!r} is hidden by a loop or let "
                             "of the same name")
        return name

    def row(self, s: Any, key: str, l1: str) -> str:
        """One row of a tile page moved (docs/reference.md §7.1, four 16x16 faces): the 16 elements
        of row r in face r / 16 * 2 and the 16 in the face after it, to or from row 0 of the L1
        page (faces 0 and 1; a read's row `to`, a written row `source`: faces to / 16 * 2 and the
        one after it), two transfers of 16 contiguous elements."""
        face = self.cbs[s.cb].plan.page_bytes // 4
        r, run = self.expr(s.row), face // 16
        to = s.to if isinstance(s, l9.NocReadPage) else s.source
        at = (lambda f: f"{l1} + {f * face}" if f else l1) if to is None else \
            (lambda f: f"{l1} + ({self.expr(to)} / 16 * 2 + {f}) * {face} + {self.expr(to)} % 16 * {run}")
        return "; ".join(self.call(key, accessor=self.tensor(s.tensor), page=self.expr(s.page, True),
                                   offset=f"({r} / 16 * 2 + {f}) * {face} + {r} % 16 * {run}",
                                   l1_addr=at(f), bytes=run)
                         for f in (0, 1))

    def l1(self, base: str, cb: int, slot: Any) -> str:
        """The L1 address of a slot of a CB's reserved or waited block: base + slot * page size."""
        if isinstance(slot, l9.Const) and slot.value == 0:
            return base
        return f"{base} + {self.expr(slot)} * {self.cbs[cb].plan.page_bytes}"

    # ----- expressions: uint32_t arithmetic on non-negative indices -----
    def expr(self, x: Any, top: bool = False) -> str:
        match x:
            case l9.Const(value) if isinstance(value, int) and not isinstance(value, bool):
                return str(value) if value >= 0 else f"static_cast<uint32_t>({value})"   # ~x is x ^ -1
            case l9.Var(name):
                return name
            case l9.CoreArg(name):
                return self.unshadowed(name, "runtime argument")
            case l9.FrontElement() | l9.BackElement():
                return self.element(x)
            case l9.BinOp(op, a, b) if op in ("min", "max"):   # compared signed, as SIGNED: a routed
                cmp = "<" if op == "min" else ">"           # block's row count read from DRAM may be < 0
                text = (f"static_cast<int32_t>({self.expr(a, True)}) {cmp} static_cast<int32_t>({self.expr(b, True)})"
                        f" ? {self.expr(a)} : {self.expr(b)}")
                return text if top else f"({text})"
            case l9.BinOp(op, a, b) if op in C_OPS:
                text = f"{self.expr(a)} {C_OPS[op]} {self.expr(b)}"
                return text if top else f"({text})"
            case l9.BinOp(op, a, b) if op in SIGNED:      # a value read from DRAM may be negative
                text = f"static_cast<int32_t>({self.expr(a, True)}) {op} static_cast<int32_t>({self.expr(b, True)})"
                return text if top else f"({text})"
            case l9.BinOp(op, a, b) if op in ("and", "or"):
                text = f"{self.expr(a)} {'&&' if op == 'and' else '||'} {self.expr(b)}"
                return text if top else f"({text})"
            case l9.Select(c, a, b):                        # a loop run once or never: `if` on run-time values
                return f"({self.expr(c)} ? {self.expr(a)} : {self.expr(b)})"
        raise CheckError(f"G1 cannot print the index expression {x} (at {getattr(x, 'loc', NOLOC)})")





CB_CALLS = {"CbReserve": "cb_reserve_back", "CbPush": "cb_push_back", "CbWait": "cb_wait_front",
            "CbPop": "cb_pop_front"}
REGS_CALLS = {"RegsAcquire": "tile_regs_acquire", "RegsCommit": "tile_regs_commit",
              "RegsWait": "tile_regs_wait", "RegsRelease": "tile_regs_release"}
