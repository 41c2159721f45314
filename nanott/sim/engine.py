"""The init model: the compute engine's configuration slots, what each tile operation needs in
them, and what each init call sets. One model, shared by D4 (which places the inits), F1 (which
checks them) and the L9 simulator (which faults on an op run without its init), so the three can
never disagree. Facts from metalium.md §4.4 and §5.3 rule 6.

  slot  set by                                                      value kept
  fpu   copy_tile_init(cb), {add,sub,mul}_tiles_init(a, b),         the init call, its CBs and
        mm_init_short(a, b[, transpose]), transpose_wh_init_short(cb) arguments (unpack + math
                                                                    configuration)
  sfpu  {op}_binary_tile_init(), binary_{max,min}_tile_init(),     the init call
        binop_with_scalar_tile_init(), fill_tile_init(), {op}_tile_init()
        (exp, exp2, log, sqrt, rsqrt, abs, sigmoid, tanh, relu,
        negative), typecast_tile_init<Float32, Format>()
  pack  pack_reconfig_data_format(cb), unary_bcast_init(in, out)     the CB's data format
  mask  reduce_init<op, dim>(in, scaler, out) sets it, reduce_uninit() whether the packer's edge
        clears it                                                   mask is on (a reduce's)

reduce_init also sets fpu, unary_bcast_init fpu and pack: an init may set several slots.

`compute_kernel_hw_startup(in0, in1, out)` must come first, exactly once; it configures the packer
for `out`'s format with no mask, and leaves fpu and sfpu unknown. An op needs slots to hold values:

  TileLoad(ref)        | CopyTile(cb)           fpu  = copy_tile_init(cb)
  TileBinary(op, a, b) | BinaryTiles(op, a, b)  fpu  = {op}_tiles_init(a, b); with a broadcast,
                                                {op}_bcast_{rows,cols}_init_short(a, b)
  TileBcast(ref, d, o) | UnaryBcast(d, cb, o)   fpu  = unary_bcast_init<ROW|COL>(cb, o)
  TileReduce           | ReduceTile             fpu  = reduce_init<op, dim>(in, scaler, out), and
                                                mask = on (the same call)
  TileMatmul(a, b)     | MatmulTiles(a, b)      fpu  = mm_init_short(a, b), or mm_init_short(a, b, 1)
                                                when B is transposed (the unpacker transposes in1)
  TileTranspose(ref)   | TransposeTile(cb)      fpu  = transpose_wh_init_short(cb)
  TileBinaryTemps(op)  | SfpuBinary(op)         sfpu = {op}_binary_tile_init() (binary_{op}_tile_init()
                                                for max and min)
  TileScalar           | SfpuScalar             sfpu = binop_with_scalar_tile_init()
  TileUnary(op)        | SfpuUnary(op)          sfpu = {op}_tile_init()   (each SFPU function its own)
  TileCast(dtype)      | SfpuTypecast(dtype)    sfpu = typecast_tile_init<Float32, dtype's format>()
  TileFill             | FillTile               sfpu = fill_tile_init()
  TStore(ref)          | PackTile(cb)           pack = the format of the CB, and mask = off
                                                (reduce_uninit() after a reduction)

A program point's State is what every path reaching it has set: at a loop head, the join of the
state before the loop and the state after its body, iterated to a fixpoint (`loop_entry`). A slot
two paths disagree on is unknown (None), and an op whose slot is unknown needs a (re-)init.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod
from typing import Any, Callable

from nanott.ir import CheckError
from nanott.languages import l5, l8, l9

HW_STARTUP = "compute_kernel_hw_startup"
PACK_RECONFIG = "pack_reconfig_data_format"
REDUCE_UNINIT = "reduce_uninit"
SLOTS = ("fpu", "sfpu", "pack", "mask")


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
        if init.op == HW_STARTUP:
            return State(True, None, None, formats[init.cbs[-1]], False)
        value = {"fpu": (init.op, init.cbs, init.args), "sfpu": (init.op, init.cbs, init.args),
                 "pack": formats[init.cbs[-1]] if init.cbs else None, "mask": init.op != REDUCE_UNINIT}
        return replace(self, **{slot: value[slot] for slot in slots_of(init.op)})


def slots_of(op: str) -> tuple[str, ...]:
    """The slots an init call configures (a CheckError for a call the model does not know)."""
    name = op.split("<")[0]
    if op in (PACK_RECONFIG, REDUCE_UNINIT):
        return ("pack",) if op == PACK_RECONFIG else ("mask",)
    if name == "reduce_init":
        return ("fpu", "mask")                     # and the packer's edge mask, until reduce_uninit
    if name == "unary_bcast_init":
        return ("fpu", "pack")                     # it configures the packer for its output CB
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
            n = _fpu(f"reduce_init<{l9.reduce_kind(op, dim)}>", (src.cb, scaler.cb, out), loc)
            return n, Need("mask", True, n.init)
        case l9.ReduceTile(op, dim, cb, scaler_cb, out=out):
            n = _fpu(f"reduce_init<{l9.reduce_kind(op, dim)}>", (cb, scaler_cb, out), loc)
            return n, Need("mask", True, n.init)
    n = _one(x, loc)
    return (n,) if n is not None else ()


def _one(x: Any, loc) -> Need | None:
    match x:
        case l5.TileLoad(ref) | l9.CopyTile(cb=ref):
            return _fpu("copy_tile_init", (getattr(ref, "cb", ref),), loc)
        case l5.TileBinary(op, a, b, bcast):
            return _fpu(_binary_init(op, bcast), (a.cb, b.cb), loc)
        case l9.BinaryTiles(op, a_cb, b_cb, bcast=bcast):
            return _fpu(_binary_init(op, bcast), (a_cb, b_cb), loc)
        case l5.TileBcast(ref, dim, out) | l9.UnaryBcast(dim=dim, cb=ref, out=out):
            return _fpu(f"unary_bcast_init<{l9.BROADCAST[dim]}>", (getattr(ref, "cb", ref), out), loc)
        case l5.TileMatmul(a, b, _, transpose):
            return _fpu("mm_init_short", (a.cb, b.cb), loc, (1,) if transpose else ())
        case l9.MatmulTiles(a_cb, b_cb, transpose=transpose):
            return _fpu("mm_init_short", (a_cb, b_cb), loc, (1,) if transpose else ())
        case l5.TileTranspose(ref) | l9.TransposeTile(cb=ref):
            return _fpu("transpose_wh_init_short", (getattr(ref, "cb", ref),), loc)
        case l5.TileBinaryTemps(op) | l9.SfpuBinary(op):
            return _sfpu(f"{l9.sfpu_binary(op)}_init", loc)
        case l5.TileScalar() | l9.SfpuScalar():
            return _sfpu("binop_with_scalar_tile_init", loc)
        case l5.TileUnary(op) | l9.SfpuUnary(op):
            return _sfpu(f"{op}_tile_init", loc)
        case l5.TileCast(dtype=dtype) | l9.SfpuTypecast(dtype=dtype):
            return _sfpu(f"typecast_tile_init<{l9.typecast_formats(dtype)}>", loc)
        case l5.TileFill() | l9.FillTile():
            return _sfpu("fill_tile_init", loc)
    return None


def _binary_init(op: str, bcast: str) -> str:
    return f"{op}_tiles_init" if bcast == "none" else f"{op}_bcast_{bcast}_init_short"


def _fpu(op: str, cbs: tuple[int, ...], loc, args: tuple[int, ...] = ()) -> Need:
    return Need("fpu", (op, cbs, args), _init(op, cbs, loc, args))


def _sfpu(op: str, loc) -> Need:
    return Need("sfpu", (op, (), ()), _init(op, (), loc))


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
