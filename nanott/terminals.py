"""The terminals of every language: each closed vocabulary a field of the IR draws from, as one
table, and the `Literal` type the languages annotate that field with. The grammar checker rejects
a value outside its vocabulary and names the field (nanopass's terminal predicates).

To extend a vocabulary, extend its table: dtypes and data formats come from the one dtype table
(nanott/dtypes.py), so a dtype that gains a row there is a terminal of every language at once.
Free names (tensors, buffers, variables, init calls) stay `str`.
"""
from __future__ import annotations

from typing import Literal

from nanott.dtypes import LOWERED

DTYPES = tuple(LOWERED)                                            # bfloat16, float32, int32, ...
FORMATS = tuple(dict.fromkeys(d.format for d in LOWERED.values()))  # tt::DataFormat names
BINOPS = ("+", "-", "*", "/", "//", "%", "min", "max",             # scalar and elementwise operators
          "<", "<=", ">", ">=", "==", "!=", "and", "or")              # conditions (T.if_then_else)
UNOPS = ("neg", "exp", "exp2", "log", "log2", "sqrt", "rsqrt", "abs", "sigmoid", "tanh")
REDUCE_OPS = ("sum", "max", "min", "absmax")
REDUCE_AXES = (0, 1)                                               # T.reduce_*(dim=): 0 rows, 1 columns
SCOPES = ("shared", "fragment", "intermediate")                     # on-chip buffers, CBs C2/C2b add
LOOP_KINDS = ("serial", "pipelined", "persistent", "split")
MEMORIES = ("dram",)
INTERLEAVINGS = ("interleaved",)
TILE_OPS = ("add", "sub", "mul", "div", "rsub", "max", "min")      # binary tile ops (FPU or SFPU)
UNARY_TILE_OPS = ("exp", "exp2", "log", "sqrt", "rsqrt", "abs", "sigmoid", "tanh", "relu", "negative")
BCAST = ("none", "rows", "cols")                                   # which operand's row/column spreads
BCAST_DIMS = ("rows", "cols")
REDUCE_DIMS = ("row", "col")                                       # REDUCE_ROW, REDUCE_COL
ROLES = ("reader", "compute", "writer")
MODES = ("peek", "take", "give", "update")                         # what a tile group does to a CB
MATH_FIDELITIES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")

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
Bcast = Literal[BCAST]
BcastDim = Literal[BCAST_DIMS]
ReduceDim = Literal[REDUCE_DIMS]
Role = Literal[ROLES]
Mode = Literal[MODES]
MathFidelity = Literal[MATH_FIDELITIES]

# each terminal type and the table it is built from, for the checker's messages and the tests
VOCABULARIES = {name: value for name, value in dict(globals()).items()
                if getattr(value, "__origin__", None) is Literal}
