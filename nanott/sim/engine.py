"""The init model: the compute engine's configuration slots, what each tile operation needs in
them, and what each init call sets. One model, shared by D4 (which places the inits), F1 (which
checks them) and the L9 simulator (which faults on an op run without its init), so the three can
never disagree. Facts from docs/reference.md §4.4 and §5.3 rule 6.

  slot  set by                                                      value kept
  fpu   copy_tile_init(cb), {add,sub,mul}_tiles_init(a, b),         the init call, its CBs and
        mm_init_short(a, b[, transpose]), transpose_wh_init_short(cb) arguments (unpack + math
                                                                    configuration)
  sfpu  {op}_binary_tile_init(), binary_{max,min}_tile_init(),     the init call
        binop_with_scalar_tile_init(), fill_tile_init(), {op}_tile_init()
        (exp, exp2, log, sqrt, rsqrt, abs, sigmoid, tanh, relu,
        negative, eqz, ...), typecast_tile_init<Float32, Format>(),
        where_tile_init(), bitwise_and_tile_init(), right_shift_tile_init(), ...,
        binary_bitwise_tile_init(), binary_shift_tile_init()
  srca  reconfig_data_format_srca(cb), unary_bcast_init(in, out)    the data format srcA unpacks
  srcb  reconfig_data_format_srcb(cb), unary_bcast_init(in, out)    the data format srcB unpacks
  pack  pack_reconfig_data_format(cb)                               the CB's data format
  mask  reduce_init<op, dim>(in, scaler, out) sets it, reduce_uninit() whether the packer's edge
        clears it                                                   mask is on (a reduce's)

reduce_init also sets fpu; unary_bcast_init sets fpu, srca and srcb (to `in`'s format) and leaves
pack unknown (0.66 configures it for `out`, 0.81 not): an init may set several slots. The short
inits (copy, binary, matmul, transpose, broadcast) set fpu only: they do not reconfigure formats.

`compute_kernel_hw_startup(in0, in1, out)` must come first, exactly once; it configures srcA for
`in0`'s format, srcB for `in1`'s (`in0`'s in the two-CB form) and the packer for `out`'s, with no
mask, and leaves fpu and sfpu unknown. An op needs slots to hold values:

  TileLoad(ref)        | CopyTile(cb)           fpu  = copy_tile_init(cb)
  TileBinary(op, a, b) | BinaryTiles(op, a, b)  fpu  = {op}_tiles_init(a, b); with a broadcast,
                                                {op}_bcast_{rows,cols}_init_short(a, b)
  TileBcast(ref, d, o) | UnaryBcast(d, cb, o)   fpu  = unary_bcast_init<ROW|COL>(cb, o)
  TileReduce           | ReduceTile             fpu  = reduce_init<op, dim>(in, scaler, out), and
                                                mask = on (the same call)
  TileMatmul(a, b)     | MatmulTiles(a, b)      fpu  = mm_init_short(a, b), or mm_init_short(a, b, 1)
                                                when B is transposed (the unpacker transposes in1)
                       | MatmulBlock(a, b)      fpu  = mm_block_init_short(a, b, 0, ct, rt, kt)
  TileTranspose(ref)   | TransposeTile(cb)      fpu  = transpose_wh_init_short(cb)
  TileBinaryTemps(op)  | SfpuBinary(op)         sfpu = {op}_binary_tile_init() (binary_{op}_tile_init()
                                                for max and min)
  TileScalar           | SfpuScalar             sfpu = binop_with_scalar_tile_init()
  TileUnary(op)        | SfpuUnary(op)          sfpu = {op}_tile_init()   (each SFPU function its own)
  TileCast(dtype)      | SfpuTypecast(dtype)    sfpu = typecast_tile_init<Float32, dtype's format>()
  TileFill             | FillTile               sfpu = fill_tile_init()
  TileWhere            | SfpuWhere              sfpu = where_tile_init()
  TileBits(op, int)    | SfpuBitsScalar(op)     sfpu = {bitwise_and,bitwise_or,bitwise_xor,left_shift,right_shift}_tile_init()
  TileBits(op, temp)   | SfpuBitsBinary(op)     sfpu = binary_shift_tile_init() (shl, shr),
                                                binary_bitwise_tile_init() (and, or, xor)
  TStore(ref)          | PackTile(cb)           pack = the format of the CB, and mask = off
                                                (reduce_uninit() after a reduction)

and each op that unpacks CBs needs srca (srcb) = the format of the CB it unpacks into srcA (srcB):
copy, transpose, unary_bcast: their CB into srcA; binary ops a into srcA, b into srcB; reduce the
input into srcA, the scaler into srcB; matmul in1 (B) into srcA and in0 (A) into srcB.

A program point's State is what every path reaching it has set: at a loop head, the join of the
state before the loop and the state after its body, iterated to a fixpoint (`loop_entry`). A slot
two paths disagree on is unknown (None), and an op whose slot is unknown needs a (re-)init.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod
from typing import Any, Callable

from nanott.ir import CheckError, walk
from nanott.ir import replace as ir_replace
from nanott.languages import l5, l8, l9
from nanott.terminals import (BROADCAST, HW_STARTUP, PACK_RECONFIG, REDUCE_UNINIT, SRCA_RECONFIG,  # noqa: F401
                              SRCB_RECONFIG, binary_init, bits_init, reduce_kind, sfpu_binary, typecast_formats)

SLOTS = ("fpu", "sfpu", "srca", "srcb", "pack", "mask")


@dataclass(frozen=True)
class Need:
    """What an op needs: `slot` must hold `value`; `init` is the call that puts it there."""
    slot: str
    value: Any
    init: l8.Init


@dataclass(frozen=True)
class State:
    """The engine's configuration at a program point (None: unknown, as after a disagreeing join)."""
    started: bool = False
    fpu: Any = None
    sfpu: Any = None
    srca: Any = None
    srcb: Any = None
    pack: Any = None
    mask: Any = None

    def holds(self, need: Need) -> bool:
        return self.started and getattr(self, need.slot) == need.value

    def join(self, other: State) -> State:
        """What both states agree on; a slot they disagree on becomes unknown."""
        same = {s: getattr(self, s) if getattr(self, s) == getattr(other, s) else None for s in SLOTS}
        return State(self.started and other.started, **same)

    def after(self, init: l8.Init, formats: dict[int, str]) -> State:
        """The state after one init call."""
        if init.op == HW_STARTUP:          # (in0, out) configures srcB from in0 as well
            return State(True, None, None, formats[init.cbs[0]], formats[init.cbs[-2]], formats[init.cbs[-1]],
                         False)
        value = {"fpu": (init.op, init.cbs, init.args), "sfpu": (init.op, init.cbs, init.args),
                 "srca": formats[init.cbs[0]] if init.cbs else None,
                 "srcb": formats[init.cbs[0]] if init.cbs else None,
                 "pack": formats[init.cbs[-1]] if init.op == PACK_RECONFIG else None,
                 "mask": init.op != REDUCE_UNINIT}
        return replace(self, **{slot: value[slot] for slot in slots_of(init.op)})


def slots_of(op: str) -> tuple[str, ...]:
    """The slots an init call configures (a CheckError for a call the model does not know)."""
    name = op.split("<")[0]
    if op in (PACK_RECONFIG, REDUCE_UNINIT, SRCA_RECONFIG, SRCB_RECONFIG):
        return {PACK_RECONFIG: ("pack",), REDUCE_UNINIT: ("mask",), SRCA_RECONFIG: ("srca",),
                SRCB_RECONFIG: ("srcb",)}[op]
    if name == "reduce_init":
        return ("fpu", "mask")                     # and the packer's edge mask, until reduce_uninit
    if name == "unary_bcast_init":
        # it configures the unpacker for its input CB, and (0.66) the packer for its output CB,
        # (0.81) not: the packer's format is unknown after it, whichever release runs it
        return ("fpu", "srca", "srcb", "pack")
    if op in ("copy_tile_init", "mm_init_short", "transpose_wh_init_short") or op.endswith(
            ("_tiles_init", "_init_short")):
        return ("fpu",)
    if name.endswith("_tile_init"):
        return ("sfpu",)
    raise CheckError(f"the init model has no init call {op!r}")


def _init(op: str, cbs: tuple[int, ...], loc, args: tuple[int, ...] = ()) -> l8.Init:
    return l8.Init(op, cbs, args, loc=loc)


def need(x: Any, formats: dict[int, str]) -> Need | None:
    """The first need of a tile op (see needs); None for anything else."""
    return next(iter(needs(x, formats)), None)


def needs(x: Any, formats: dict[int, str]) -> tuple[Need, ...]:
    """What a tile op (an L8 TAssign's op or TStore, or an L9 call) needs, slot by slot."""
    loc = x.loc
    if isinstance(x, l5.TAssign):
        x = x.op
    match x:
        case l5.TStore(ref) | l9.PackTile(cb=ref):
            cb = getattr(ref, "cb", ref)
            return (Need("pack", formats[cb], _init(PACK_RECONFIG, (cb,), loc)),
                    Need("mask", False, _init(REDUCE_UNINIT, (), loc)))
        case l5.TileReduce(op, dim, src, scaler, _, out):
            n = _fpu(f"reduce_init<{reduce_kind(op, dim)}>", (src.cb, scaler.cb, out), loc)
            return (n, Need("mask", True, n.init)) + _sources(x, formats, loc)
        case l9.ReduceTile(op, dim, cb, scaler_cb, out=out):
            n = _fpu(f"reduce_init<{reduce_kind(op, dim)}>", (cb, scaler_cb, out), loc)
            return (n, Need("mask", True, n.init)) + _sources(x, formats, loc)
    n = _one(x, loc)
    return ((n,) if n is not None else ()) + _sources(x, formats, loc)


def _sources(x: Any, formats: dict[int, str], loc) -> tuple[Need, ...]:
    """The unpacker's source formats an op needs: the formats of the CBs it unpacks into srcA and
    srcB (matmul: in1 into srcA, in0 into srcB; docs/reference.md §4.6). A short init does not change
    them; reconfig_data_format_srca/_srcb(cb) do."""
    match x:
        case (l5.TileLoad(ref) | l9.CopyTile(cb=ref) | l5.TileTranspose(ref) | l9.TransposeTile(cb=ref)
              | l5.TileBcast(ref) | l9.UnaryBcast(cb=ref)):
            a, b = getattr(ref, "cb", ref), None
        case l5.TileBinary(_, a, b):
            a, b = a.cb, b.cb
        case l9.BinaryTiles(a_cb=a, b_cb=b):
            pass
        case l5.TileMatmul(a, b):
            a, b = b.cb, a.cb
        case l9.MatmulTiles(a_cb=in0, b_cb=in1) | l9.MatmulBlock(a_cb=in0, b_cb=in1):
            a, b = in1, in0
        case l5.TileReduce(src=src, scaler=scaler):
            a, b = src.cb, scaler.cb
        case l9.ReduceTile(cb=a, scaler_cb=b):
            pass
        case _:
            return ()
    return tuple(Need(slot, formats[cb], _init(op, (cb,), loc))
                 for slot, op, cb in (("srca", SRCA_RECONFIG, a), ("srcb", SRCB_RECONFIG, b)) if cb is not None)


def _one(x: Any, loc) -> Need | None:
    match x:
        case l5.TileLoad(ref) | l9.CopyTile(cb=ref):
            return _fpu("copy_tile_init", (getattr(ref, "cb", ref),), loc)
        case l5.TileBinary(op, a, b, bcast):
            return _fpu(binary_init(op, bcast), (a.cb, b.cb), loc)
        case l9.BinaryTiles(op, a_cb, b_cb, bcast=bcast):
            return _fpu(binary_init(op, bcast), (a_cb, b_cb), loc)
        case l5.TileBcast(ref, dim, out) | l9.UnaryBcast(dim=dim, cb=ref, out=out):
            return _fpu(f"unary_bcast_init<{BROADCAST[dim]}>", (getattr(ref, "cb", ref), out), loc)
        case l5.TileMatmul(a, b, _, transpose):
            return _fpu("mm_init_short", (a.cb, b.cb), loc, (1,) if transpose else ())
        case l9.MatmulTiles(a_cb, b_cb, transpose=transpose):
            return _fpu("mm_init_short", (a_cb, b_cb), loc, (1,) if transpose else ())
        case l9.MatmulBlock(a_cb, b_cb, rt=rt, ct=ct, kt=kt):
            return _fpu("mm_block_init_short", (a_cb, b_cb), loc, (0, ct, rt, kt))
        case l5.TileTranspose(ref) | l9.TransposeTile(cb=ref):
            return _fpu("transpose_wh_init_short", (getattr(ref, "cb", ref),), loc)
        case l5.TileBinaryTemps(op) | l9.SfpuBinary(op):
            return _sfpu(f"{sfpu_binary(op)}_init", loc)
        case l5.TileScalar() | l9.SfpuScalar():
            return _sfpu("binop_with_scalar_tile_init", loc)
        case l5.TileUnary(op) | l9.SfpuUnary(op):
            return _sfpu(f"{op}_tile_init", loc)
        case l5.TileCast(dtype=dtype) | l9.SfpuTypecast(dtype=dtype):
            return _sfpu(f"typecast_tile_init<{typecast_formats(dtype)}>", loc)
        case l5.TileFill() | l9.FillTile():
            return _sfpu("fill_tile_init", loc)
        case l5.TileWhere() | l9.SfpuWhere():
            return _sfpu("where_tile_init", loc)
        case l5.TileBits(op, _, b):
            return _sfpu(bits_init(op, isinstance(b, str)), loc)
        case l9.SfpuBitsBinary(op) | l9.SfpuBitsScalar(op):
            return _sfpu(bits_init(op, isinstance(x, l9.SfpuBitsBinary)), loc)
    return None


def _fpu(op: str, cbs: tuple[int, ...], loc, args: tuple[int, ...] = ()) -> Need:
    return Need("fpu", (op, cbs, args), _init(op, cbs, loc, args))


def _sfpu(op: str, loc) -> Need:
    return Need("sfpu", (op, (), ()), _init(op, (), loc))


def unpack_to_dest_fp32(program: Any) -> tuple[int, ...]:
    """The Float32 CBs the compute kernel copies into a 32-bit DST: without UnpackToDestFp32 for
    them, the copy goes through srcA and keeps only TF32's 10 mantissa bits (docs/reference.md §4.4)."""
    if not program.compute.fp32_dest_acc:
        return ()
    formats = formats_of(program)
    return tuple(sorted({x.cb for x in walk(program.kernel("compute").body)
                         if isinstance(x, l9.CopyTile) and formats[x.cb] == "Float32"}))


def formats_of(program: Any) -> dict[int, str]:
    """CB index -> data format, from the CB plans."""
    return {cb.index: cb.plan.format for cb in program.cbs}


def static_trips(s: Any) -> int | None:
    """How many times a loop's body runs, when that is known at compile time."""
    if isinstance(s, (l5.TFor, l5.TileGroup)):
        return s.extent if isinstance(s, l5.TFor) else prod(s.extents)
    extent = getattr(s, "extent", None)
    return extent.value if isinstance(extent, l8.Const) else None


def loop_entry(before: State, body_exit: Callable[[State], State]) -> State:
    """The state at a loop head: before ⊔ body_exit(head), iterated until it stops changing."""
    head = before
    for _ in range(2 * len(SLOTS) + 2):           # each round can only make a slot unknown
        nxt = before.join(body_exit(head))
        if nxt == head:
            return head
        head = nxt
    raise CheckError("the init dataflow did not reach a fixpoint")


def loop_exit(s: Any, head: State, body_exit: State) -> State:
    """After a loop: its last body's exit when it surely runs, else the head (which joins both)."""
    trips = static_trips(s)
    return body_exit if trips is not None and trips > 0 else head


def through(stmts: tuple, state: State, formats: dict[int, str],
            visit: Callable[[Any, State], None] | None = None) -> State:
    """The state after `stmts`; `visit(statement, state)` sees every op and init at its state."""
    for s in stmts:
        body = getattr(s, "body", None)
        if isinstance(body, tuple):
            head = loop_entry(state, lambda h: through(body, h, formats))
            state = loop_exit(s, head, through(body, head, formats, visit))
        elif isinstance(s, l8.Init):
            if visit:
                visit(s, state)
            state = state.after(s, formats)
        elif need(s, formats) is not None and visit:
            visit(s, state)
    return state


def prune(stmts: tuple, state: State, formats: dict[int, str]) -> tuple[tuple, State]:
    """`stmts` without the inits that change nothing (every path reaching one already holds what
    it sets: D5's batching can make a re-init of D4's redundant), and the state after them."""
    out: list[Any] = []
    for s in stmts:
        body = getattr(s, "body", None)
        if isinstance(body, tuple):
            head = loop_entry(state, lambda h: through(body, h, formats))
            new_body, exit_ = prune(body, head, formats)
            out.append(ir_replace(s, body=new_body))
            state = loop_exit(s, head, exit_)
            continue
        if isinstance(s, l8.Init):
            if s.op != HW_STARTUP and state.started and state.after(s, formats) == state:
                continue
            state = state.after(s, formats)
        out.append(s)
    return tuple(out), state
