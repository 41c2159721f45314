"""The terminals of every language: each closed vocabulary a field of the IR draws from, as one
table, and the `Literal` type the languages annotate that field with. The grammar checker rejects
a value outside its vocabulary and names the field (nanopass's terminal predicates).

To extend a vocabulary, extend its table: dtypes and data formats come from the one dtype table
(nanott/dtypes.py), so a dtype that gains a row there is a terminal of every language at once.
The compute engine's init calls (L8/L9 `Init.op`) are a vocabulary too, made from the tables above
with Metalium's spelling (`add_tiles_init`, `reduce_init<SUM, REDUCE_ROW>`): the helpers that spell
them live here, shared by L9's printer, the init model (nanott/sim/engine.py) and G1.
Free names (tensors, buffers, variables) stay `str`.
"""
from __future__ import annotations

from typing import Literal

from nanott.dtypes import LOWERED

DTYPES = tuple(LOWERED)                                            # bfloat16, float32, int32, ...
FORMATS = tuple(dict.fromkeys(d.format for d in LOWERED.values()))  # tt::DataFormat names
BINOPS = ("+", "-", "*", "/", "//", "%", "min", "max",             # scalar and elementwise operators
          "<", "<=", ">", ">=", "==", "!=", "and", "or",              # conditions (T.if_then_else)
          "&", "|", "^", "<<", ">>")                                 # bits of run-time integers
UNOPS = ("neg", "exp", "exp2", "log", "log2", "sqrt", "rsqrt", "abs", "sigmoid", "tanh")
REDUCE_OPS = ("sum", "max", "min", "absmax")
REDUCE_AXES = (0, 1)                                               # T.reduce_*(dim=): 0 rows, 1 columns
SCOPES = ("shared", "fragment", "intermediate")                     # on-chip buffers, CBs C2/C2b add
LOOP_KINDS = ("serial", "pipelined", "persistent", "split")
MEMORIES = ("dram",)
INTERLEAVINGS = ("interleaved",)
TILE_OPS = ("add", "sub", "mul", "div", "rsub", "max", "min")      # binary tile ops (FPU or SFPU)
UNARY_TILE_OPS = ("exp", "exp2", "log", "sqrt", "rsqrt", "abs", "sigmoid", "tanh", "relu", "negative",
                  "eqz", "nez", "ltz", "lez", "gtz", "gez")            # x (op) 0: 1.0 or 0.0
BIT_OPS = ("and", "or", "xor", "shl", "shr")                      # the SFPU's integer ops (int32 tiles)
BCAST = ("none", "rows", "cols")                                   # which operand's row/column spreads
BCAST_DIMS = ("rows", "cols")
REDUCE_DIMS = ("row", "col")                                       # REDUCE_ROW, REDUCE_COL
ROLES = ("reader", "compute", "writer")
MODES = ("peek", "take", "give", "update")                         # what a tile group does to a CB
MATH_FIDELITIES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")

# Metalium's names made from the terminals above
BROADCAST = {"rows": "ROW", "cols": "COL"}                         # BroadcastType of a vector's way


def reduce_kind(op: str, dim: str) -> str:
    """reduce_tile's template arguments: the PoolType and the ReduceDim."""
    return f"{op.upper()}, REDUCE_{dim.upper()}"


def sfpu_binary(op: str) -> str:
    """Metalium's name of an SFPU binary op on two DST tiles (max and min read binary_max_tile)."""
    return f"binary_{op}_tile" if op in ("max", "min") else f"{op}_binary_tile"


def typecast_formats(dtype: str) -> str:
    """The template arguments of a typecast from the DST (float32 here) to `dtype`; to float32, it
    is from the Int32 a bit operation left in the DST (float32 temporaries need no cast to it)."""
    if dtype == "float32":
        return "Int32, Float32"
    return f"Float32, {LOWERED[dtype].format if dtype in LOWERED else dtype}"


BITS_SCALAR = {"and": "bitwise_and_tile", "or": "bitwise_or_tile", "xor": "bitwise_xor_tile",
               "shl": "left_shift_tile", "shr": "right_shift_tile"}
BITS_BINARY = {"and": "bitwise_and_binary_tile", "or": "bitwise_or_binary_tile", "xor": "bitwise_xor_binary_tile",
               "shl": "binary_left_shift_tile", "shr": "binary_right_shift_tile"}


def bits_init(op: str, binary: bool) -> str:
    """The init of a bit operation: one per scalar op, one for the binary shifts, one for the others."""
    if not binary:
        return f"{BITS_SCALAR[op]}_init"
    return "binary_shift_tile_init" if op in ("shl", "shr") else "binary_bitwise_tile_init"


def binary_init(op: str, bcast: str) -> str:
    """The short init of an FPU binary op, with or without a broadcast of its second operand."""
    return f"{op}_tiles_init" if bcast == "none" else f"{op}_bcast_{bcast}_init_short"


HW_STARTUP = "compute_kernel_hw_startup"
PACK_RECONFIG = "pack_reconfig_data_format"
REDUCE_UNINIT = "reduce_uninit"
SRCA_RECONFIG = "reconfig_data_format_srca"
SRCB_RECONFIG = "reconfig_data_format_srcb"
INIT_CALLS = (HW_STARTUP, PACK_RECONFIG, REDUCE_UNINIT, SRCA_RECONFIG, SRCB_RECONFIG, "copy_tile_init",
              "mm_init_short", "mm_block_init_short", "transpose_wh_init_short", "binop_with_scalar_tile_init",
              "fill_tile_init", "where_tile_init",
              *(binary_init(op, b) for op in TILE_OPS for b in BCAST),
              *(f"unary_bcast_init<{BROADCAST[d]}>" for d in BCAST_DIMS),
              *(f"reduce_init<{reduce_kind(op, d)}>" for op in REDUCE_OPS for d in REDUCE_DIMS),
              *(f"{sfpu_binary(op)}_init" for op in TILE_OPS),
              *(f"{op}_tile_init" for op in UNARY_TILE_OPS),
              *(f"typecast_tile_init<{typecast_formats(d)}>" for d in DTYPES),
              *dict.fromkeys(bits_init(op, b) for op in BIT_OPS for b in (False, True)))

DType = Literal[DTYPES]
Format = Literal[FORMATS]
BinOpName = Literal[BINOPS]
UnOpName = Literal[UNOPS]
ReduceOp = Literal[REDUCE_OPS]
ReduceAxis = Literal[REDUCE_AXES]
Scope = Literal[SCOPES]
LoopKind = Literal[LOOP_KINDS]
Memory = Literal[MEMORIES]
Interleaving = Literal[INTERLEAVINGS]
TileOp = Literal[TILE_OPS]
UnaryTileOp = Literal[UNARY_TILE_OPS]
BitOp = Literal[BIT_OPS]
Bcast = Literal[BCAST]
BcastDim = Literal[BCAST_DIMS]
ReduceDim = Literal[REDUCE_DIMS]
Role = Literal[ROLES]
Mode = Literal[MODES]
MathFidelity = Literal[MATH_FIDELITIES]
InitCall = Literal[INIT_CALLS]

# each terminal type and the table it is built from, for the checker's messages and the tests
VOCABULARIES = {name: value for name, value in dict(globals()).items()
                if getattr(value, "__origin__", None) is Literal}
