"""InterpL9: the split kernels with the compute kernel driving the DST register file.

Everything but the compute engine is InterpL8's: CB rings of real pages, DRAM, NoC transfers
landing at their barriers, the scheduler. Each core's compute kernel gets a DST file of
`program.compute.dst_tiles` float32 tiles and the engine's init configuration (sim/dst.py):

  tile_regs_acquire / _commit / _wait / _release   the handshake, in that order; release zeroes
  copy_tile cb[i] -> dst[d]      the waited front slot i of cb, read as float32 (a Float32 CB through
                                 srcA: TF32, unless UnpackToDestFp32 copies it straight to a 32-bit DST)
  add/sub/mul_tiles              both operands from waited front slots, in float32
  matmul_tiles                   dst[d] += a @ b in float32 (a @ b^T after mm_init_short(.., 1))
  transpose_wh_tile cb[i] -> dst[d]   the waited front slot i, transposed
  *_tiles_bcast_{rows,cols}, unary_bcast   a vector's row 0 (column 0) spread, as InterpL5 does
  reduce_tile                    dst[d] (op)= the slot reduced along a dim (InterpL5's reduce_tile)
  *_binary_tile, *_unary_tile, fill_tile    float32 on DST tiles, in place
  exp_tile, ..., relu_tile       InterpL5's TILE_UNARY on a DST tile, in place (eqz_tile ...: 1.0 or 0.0)
  where_tile                     dst[a] where dst[cond] is not 0, else dst[b] (InterpL5's where)
  right_shift_tile, bitwise_and_binary_tile, ...   on the int32 the DST tiles hold (InterpL5's TILE_BITS)
  typecast_tile                  a DST tile rounded to the dtype (nearest even), in place
  pack_tile dst[d] -> cb[i]      dst[d] rounded to the CB's dtype (nearest even) into reserved slot i
  init calls                     set the engine's slots (the model of sim/engine.py), among
                                 them the data formats of srcA, srcB and the packer: an op that
                                 unpacks a CB of another format is a §4.4 protocol error

A math op outside acquire..commit, a pack outside wait..release, a DST index outside the file, an
op without its init, a second acquire, or a kernel ending with the handshake open is a
ProtocolError naming the rule and the source line. The arithmetic is InterpL5's, op for op, so the
results are bit-identical to InterpL8's.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from nanott.languages import l9
from nanott.languages.l0_interp import cast
from nanott.languages.l5_interp import TILE_BITS, TILE_OPS, TILE_UNARY, reduce_tile, spread, where
from nanott.languages.l7_interp import KernelEnv
from nanott.languages.l8_interp import InterpL8
from nanott.sim.dst import DstFile, EngineConfig, to_tf32
from nanott.sim.engine import formats_of, unpack_to_dest_fp32
from nanott.sim.errors import ProtocolError
from nanott.sim.scheduler import Wait
from nanott.target import TILE

F32 = np.float32
ENGINE_CALLS = l9.DST_OPS + (l9.Init,)
# calls that compute nothing in floating point (the DST handshake, a tile copied as it is): no
# invalid-value warning to silence, so they skip np.errstate's cost
NO_ARITHMETIC = (l9.RegsAcquire, l9.RegsCommit, l9.RegsWait, l9.RegsRelease, l9.CopyTile)


class InterpL9(InterpL8):
    """L9 adds, per core, the DST register file and the engine configuration of its compute kernel."""

    def start(self, program: l9.Program, arrays: dict[str, np.ndarray]) -> None:
        super().start(program, arrays)
        self.formats, self.dst_tiles = formats_of(program), program.compute.dst_tiles
        # Float32 CBs copied through srcA keep TF32's precision, unless copied straight to DST
        self.via_srca = {cb for cb, f in self.formats.items() if f == "Float32"} - set(unpack_to_dest_fp32(program))
        self.engines: dict[tuple[int, ...], tuple[DstFile, EngineConfig]] = {}

    def setup_kernel(self, env: KernelEnv) -> None:
        super().setup_kernel(env)
        if env.role == "compute":
            self.engines[env.core] = (DstFile(self.dst_tiles), EngineConfig(self.formats))

    def kernel_ended(self, env: KernelEnv) -> None:
        super().kernel_ended(env)
        if env.role == "compute" and (state := self.engines[env.core][0].state) != "idle":
            raise ProtocolError("5.3.2", f"the compute kernel ends with the DST {state}: every "
                                "acquire needs its commit, wait and release", env.core, env.role)

    def exec_kernel_stmt(self, s: Any, env: KernelEnv) -> Iterator[Wait]:
        if env.role != "compute" or not isinstance(s, ENGINE_CALLS):
            yield from super().exec_kernel_stmt(s, env)
            return
        dst, engine = self.engines[env.core]
        if isinstance(s, l9.Init):
            engine.init(s)
            return
        engine.check(s)
        if type(s) in NO_ARITHMETIC:
            yield from self.exec_dst_op(s, env, dst)
            return
        with np.errstate(invalid="ignore"):      # -inf - -inf where a vector's tiles carry no data
            yield from self.exec_dst_op(s, env, dst)

    def exec_dst_op(self, s: Any, env: KernelEnv, dst: DstFile) -> Iterator[Wait]:
        """One call on the compute engine, after its init was checked (a generator, as every
        statement executor is; only calls this level does not know fall through and may wait)."""
        match s:
            case l9.RegsAcquire() | l9.RegsCommit() | l9.RegsWait() | l9.RegsRelease():
                dst.step(s.head())
            case l9.CopyTile(cb, index, d):
                tile = self.front(env, cb, index, "copy_tile")
                dst.write(self.index(d, env), to_tf32(tile) if cb in self.via_srca else tile)
            case l9.BinaryTiles(op, a_cb, b_cb, a_index, b_index, d, bcast):
                a, b = (self.front(env, cb, i, f"{op}_tiles") for cb, i in ((a_cb, a_index), (b_cb, b_index)))
                dst.write(self.index(d, env), TILE_OPS[op](a, b if bcast == "none" else spread(b, bcast)))
            case l9.UnaryBcast(dim, cb, index, d, _):
                dst.write(self.index(d, env), spread(self.front(env, cb, index, "unary_bcast"), dim))
            case l9.ReduceTile(op, dim, cb, scaler_cb, index, scaler_index, d, _):
                i = self.index(d, env)
                src, scaler = (self.front(env, c, x, "reduce_tile")
                               for c, x in ((cb, index), (scaler_cb, scaler_index)))
                dst.write(i, reduce_tile(op, dim, dst.read(i), src, scaler))
            case l9.MatmulTiles(a_cb, b_cb, a_index, b_index, d, transpose):
                a = self.front(env, a_cb, a_index, "matmul_tiles")
                b = self.front(env, b_cb, b_index, "matmul_tiles")
                i = self.index(d, env)
                dst.write(i, dst.read(i) + a @ (np.swapaxes(b, -1, -2) if transpose else b))
            case l9.MatmulBlock(a_cb, b_cb, a_index, b_index, d, rt, ct, kt):
                a0, b0, d0 = (self.index(x, env) for x in (a_index, b_index, d))
                for r in range(rt):
                    for c in range(ct):
                        a = self.front(env, a_cb, l9.Const(a0 + r * kt, "int32"), "matmul_block")
                        b = self.front(env, b_cb, l9.Const(b0 + c, "int32"), "matmul_block")
                        dst.write(d0 + r * ct + c, dst.read(d0 + r * ct + c) + a @ b)
            case l9.TransposeTile(cb, index, d):
                dst.write(self.index(d, env), np.swapaxes(self.front(env, cb, index, "transpose_wh_tile"), -1, -2))
            case l9.SfpuBinary(op, a, b, d):
                x, y = (dst.read(self.index(i, env)) for i in (a, b))
                dst.write(self.index(d, env), TILE_OPS[op](x, y))
            case l9.SfpuScalar(op, d, scalar):
                i = self.index(d, env)
                dst.write(i, TILE_OPS[op](dst.read(i), F32(scalar)))
            case l9.SfpuUnary(op, d):
                i = self.index(d, env)
                dst.write(i, TILE_UNARY[op](dst.read(i)))
            case l9.SfpuTypecast(d, dtype):
                i = self.index(d, env)
                dst.write(i, cast(dst.read(i), dtype))
            case l9.SfpuWhere(c, a, b, d):
                dst.write(self.index(d, env), where(*(dst.read(self.index(i, env)) for i in (c, a, b))))
            case l9.SfpuBitsBinary(op, a, b, d):
                x, y = (dst.read(self.index(i, env)) for i in (a, b))
                dst.write(self.index(d, env), TILE_BITS[op](x, y))
            case l9.SfpuBitsScalar(op, d, value):
                i = self.index(d, env)
                dst.write(i, TILE_BITS[op](dst.read(i), F32(value)))
            case l9.FillTile(d, value):
                dst.write(self.index(d, env), np.full((TILE, TILE), value, dtype=F32))
            case l9.PackTile(d, cb, slot):
                tile, ring = dst.pack(self.index(d, env)), env.cbs[cb]
                ring.store(self.index(slot, env), tile.astype(ring.pages.dtype), "pack_tile")
            case _:
                yield from super().exec_kernel_stmt(s, env)

    def front(self, env: KernelEnv, cb: int, index: Any, who: str) -> np.ndarray:
        """A waited front slot of a CB, as float32 (what the unpacker hands the engine)."""
        ring = env.cbs[cb]
        return ring.pages[ring.front(self.index(index, env), who)].astype(F32)


l9.LANG.interpreter = InterpL9
