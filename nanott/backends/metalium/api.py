"""The Metalium API as data: every call nanott emits, by key, with its C++ spelling, per release.

The printers (kernels.py, host.py) never spell a Metalium call themselves: they look a key up in an
`Api` and fill the call's named fields (`api["matmul_tiles"](a_cb=..., ...)`). `TARGET` is the
table of ttnn 0.66.0 (tt-metal of February 2026, docs/reference.md §1.2): `void kernel_main()` in all
three kernels, TensorAccessor with noc_async_read_page/write_page, 5-argument matmul_tiles, the
Mesh host API. `SWITCHES` holds the spellings of the other releases, one per breaking change, and
`VERSIONS` names the releases people install (0.65.0, 0.66.0, 0.81.1; a Target's `release`, or
`--release`, picks one; 0.81.1 is the default) as the target plus switches. Each table is checked
against its release's own headers by `make test-metal`, a probe kernel calling every entry.

A call's `header` is what a compute kernel includes for it; a data-movement kernel includes the
header of its entry point only, and the host the headers of the host calls it makes. Signatures
(docs/reference.md §2-§4 for kernels, §6 for the host) are the ones runtime/include declares.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Mapping

from nanott.dtypes import LOWERED
from nanott.ir import CheckError

CK = "compute_kernel_api/"
# the functions a generated value may call (C2 allows no other), as the reader computes them in float32
GENERATED_FUNCTIONS = {"exp": "expf", "exp2": "exp2f", "log": "logf", "log2": "log2f", "sqrt": "sqrtf"}
HOST = "tt-metalium/host_api.hpp"
MESH = "tt-metalium/distributed.hpp"


@dataclass(frozen=True)
class Call:
    """One API entry: a C++ template with named fields, the header declaring it, and (for inits,
    which take an Init node's CBs and then its other arguments as `{cbs}`) how many CBs it accepts
    and the names of the arguments that may follow them."""
    template: str
    header: str | None = None
    arity: tuple[int, ...] | None = None
    extra_args: tuple[str, ...] = ()
    formats: bool = False       # its template arguments {t0}, {t1} are tt::DataFormat values

    def __call__(self, **fields: object) -> str:
        return self.template.format(**fields)


@dataclass(frozen=True)
class Api:
    """The calls of one tt-metal release, by key."""
    version: str
    calls: Mapping[str, Call]

    def __getitem__(self, key: str) -> Call:
        try:
            return self.calls[key]
        except KeyError:
            raise CheckError(f"nanott's Metalium API table for tt-metal {self.version} has no "
                             f"{key!r} (nanott/backends/metalium/api.py)") from None

    def switched(self, version: str, *switches: str) -> Api:
        """This release with the spellings of `switches` (keys of SWITCHES) instead."""
        calls = dict(self.calls)
        for name in switches:
            calls.update(SWITCHES[name])
        return Api(version, MappingProxyType(calls))


def _init(name: str, header: str, *arity: int, extra_args: tuple[str, ...] = ()) -> tuple[str, Call]:
    return name, Call(f"{name}({{cbs}})", CK + header, arity, extra_args)


def _each(ops: tuple[str, ...], key: str, template: str, header: str) -> dict[str, Call]:
    """One entry per op: key and template name the op as {op}."""
    return {key.format(op=op): Call(template.replace("{op}", op), header) for op in ops}


FPU_OPS = ("add", "sub", "mul")
SFPU_OPS = ("add", "sub", "mul", "div", "rsub")
MINMAX_OPS = ("max", "min")
BCASTS = ("rows", "cols")                   # {op}_tiles_bcast_{rows,cols}: B's row 0 or column 0 spread
# the SFPU functions of one DST tile, by the header that declares each (§4.7; the others are in
# compute_kernel_api.h itself)
UNARY_HEADERS = {"exp": CK + "eltwise_unary/exp.h", "sqrt": CK + "eltwise_unary/sqrt.h",
                 "rsqrt": CK + "eltwise_unary/rsqrt.h", "relu": CK + "eltwise_unary/relu.h",
                 "negative": CK + "eltwise_unary/negative.h",
                 **{op: "compute_kernel_api.h" for op in ("exp2", "log", "abs", "sigmoid", "tanh")},
                 **{op: CK + "eltwise_unary/comp.h" for op in ("eqz", "nez", "ltz", "lez", "gtz", "gez")}}

BLOCK_ARGS = ("transpose", "ct_dim", "rt_dim", "kt_dim")      # after the CBs of a matmul_block init

# the SFPU's integer ops on int32 DST tiles (L9 SfpuBitsScalar, SfpuBitsBinary), as ttnn 0.66.0's
# headers declare them: one header per op with a constant (compute_kernel_api/eltwise_unary/
# bitwise_and.h: bitwise_and_tile(idst, param0), ..., right_shift.h: right_shift_tile(idst, param0)),
# the tile-by-tile ones in binary_bitwise_sfpu.h (bitwise_and_binary_tile, on INT32) and
# binary_shift.h (binary_right_shift_tile<DataFormat>); 0.65.0 and 0.81.1 differ (SWITCHES)
BITS_HEADERS = {"bitwise_and_tile": "bitwise_and.h", "bitwise_or_tile": "bitwise_or.h",
                "bitwise_xor_tile": "bitwise_xor.h", "left_shift_tile": "left_shift.h",
                "right_shift_tile": "right_shift.h"}
BITS_BINARY = ("bitwise_and_binary_tile", "bitwise_or_binary_tile", "bitwise_xor_binary_tile")
SHIFTS_BINARY = ("binary_left_shift_tile", "binary_right_shift_tile")
BITS_CALLS = {
    **{k: Call(f"{k}({{dst}}, {{value}})", CK + "eltwise_unary/" + h) for k, h in BITS_HEADERS.items()},
    **{f"{k}_init": Call(f"{k}_init()", CK + "eltwise_unary/" + h, (0,)) for k, h in BITS_HEADERS.items()},
    **{k: Call(f"{k}({{a}}, {{b}}, {{dst}})", CK + "binary_bitwise_sfpu.h") for k in BITS_BINARY},
    **{k: Call(f"{k}<DataFormat::Int32>({{a}}, {{b}}, {{dst}})", CK + "binary_shift.h") for k in SHIFTS_BINARY},
    "binary_bitwise_tile_init": Call("binary_bitwise_tile_init()", CK + "binary_bitwise_sfpu.h", (0,)),
    "binary_shift_tile_init": Call("binary_shift_tile_init()", CK + "binary_shift.h", (0,)),
}

KERNEL_CALLS: dict[str, Call] = {
    # entry points; {body} is the kernel's statements
    "dataflow_kernel": Call("void kernel_main() {{\n{body}}}\n", "api/dataflow/dataflow_api.h"),
    "compute_kernel": Call("void kernel_main() {{\n{body}}}\n", CK + "common.h"),   # even when empty
    # arguments (docs/reference.md §2, §3.5)
    "get_arg_val": Call("get_arg_val<uint32_t>({index})", CK + "common.h"),
    "accessor_args": Call("TensorAccessorArgs<{cta_offset}>()"),
    "accessor": Call("TensorAccessor({args}, {base}, {page_bytes})"),
    # circular buffers (§3.1)
    "cb_reserve_back": Call("cb_reserve_back({cb}, {pages})", CK + "cb_api.h"),
    "cb_push_back": Call("cb_push_back({cb}, {pages})", CK + "cb_api.h"),
    "cb_wait_front": Call("cb_wait_front({cb}, {pages})", CK + "cb_api.h"),
    "cb_pop_front": Call("cb_pop_front({cb}, {pages})", CK + "cb_api.h"),
    # a 32-bit word of a waited page, the same on UNPACK, MATH and PACK (mailboxes; 0.66 and later)
    "read_tile_value": Call("read_tile_value({cb}, {tile}, {offset})", CK + "cb_api.h"),
    "get_write_ptr": Call("get_write_ptr({cb})"),
    "get_read_ptr": Call("get_read_ptr({cb})"),
    # NoC (§3.3, §3.4): read is (page, accessor, dst L1), write is (page, accessor, src L1)
    "read_page": Call("noc_async_read_page({page}, {accessor}, {l1_addr})"),
    "write_page": Call("noc_async_write_page({page}, {accessor}, {l1_addr})"),
    # one row of a page (a vector in one row of a tensor): 16 contiguous elements per face it crosses
    "read_run": Call("noc_async_read({accessor}.get_noc_addr({page}, {offset}), {l1_addr}, {bytes})"),
    "write_run": Call("noc_async_write({l1_addr}, {accessor}.get_noc_addr({page}, {offset}), {bytes})"),
    "read_barrier": Call("noc_async_read_barrier()"),
    # transaction ids (§3.3; dataflow_api.h in 0.65.0, 0.66.0 and 0.81.1: the reads issued after
    # set_trid carry the id, as 0.81's own noc.h async_read<TXN_ID> issues them; the barrier with
    # an id waits for that id's reads only)
    "read_set_trid": Call("noc_async_read_set_trid({trid})"),
    "read_barrier_trid": Call("noc_async_read_barrier_with_trid({trid})"),
    "write_barrier": Call("noc_async_write_barrier()"),
    # semaphores and multicast (§3.3; the same in 0.65.0, 0.66.0 and 0.81.1, checked by the probe):
    # a semaphore is an L1 word, get_semaphore(id) its address; wait/set take a pointer to it, inc
    # a NoC address (another core's semaphore); a multicast goes to the rectangle of cores
    # get_noc_multicast_addr(x0, y0, x1, y1, addr) names, num_dests of them
    "get_semaphore": Call("get_semaphore({semaphore})"),
    "noc_addr": Call("get_noc_addr({x}, {y}, {l1_addr})"),
    "noc_semaphore_set": Call("noc_semaphore_set({sem_ptr}, {count})"),
    "noc_semaphore_wait": Call("noc_semaphore_wait({sem_ptr}, {count})"),
    "noc_semaphore_inc": Call("noc_semaphore_inc({noc_addr}, {count})"),
    "noc_multicast_addr": Call("get_noc_multicast_addr({x0}, {y0}, {x1}, {y1}, {l1_addr})"),
    "write_multicast": Call("noc_async_write_multicast({l1_addr}, {mcast_addr}, {bytes}, {dests})"),
    "semaphore_set_multicast": Call("noc_semaphore_set_multicast({l1_addr}, {mcast_addr}, {dests})"),
    # DST (§4.3, §4.5-§4.7)
    "tile_regs_acquire": Call("tile_regs_acquire()", CK + "reg_api.h"),
    "tile_regs_commit": Call("tile_regs_commit()", CK + "reg_api.h"),
    "tile_regs_wait": Call("tile_regs_wait()", CK + "reg_api.h"),
    "tile_regs_release": Call("tile_regs_release()", CK + "reg_api.h"),
    "copy_tile": Call("copy_tile({cb}, {index}, {dst})", CK + "tile_move_copy.h"),
    "matmul_tiles": Call("matmul_tiles({a_cb}, {b_cb}, {a_index}, {b_index}, {dst})", CK + "matmul.h"),
    # a block of rt x ct output tiles from one call, kt the inner dimension (§4.6)
    "matmul_block": Call("matmul_block({a_cb}, {b_cb}, {a_index}, {b_index}, {dst}, {transpose}, {ct_dim}, "
                         "{rt_dim}, {kt_dim})", CK + "matmul.h"),
    "transpose_wh_tile": Call("transpose_wh_tile({cb}, {index}, {dst})", CK + "transpose_wh.h"),
    **_each(FPU_OPS, "{op}_tiles", "{op}_tiles({a_cb}, {b_cb}, {a_index}, {b_index}, {dst})",
            CK + "eltwise_binary.h"),
    **_each(SFPU_OPS, "{op}_binary_tile", "{op}_binary_tile({a}, {b}, {dst})",
            CK + "eltwise_binary_sfpu.h"),
    **_each(SFPU_OPS, "{op}_unary_tile", "{op}_unary_tile({dst}, {bits})",
            CK + "eltwise_unary/binop_with_scalar.h"),
    **_each(MINMAX_OPS, "binary_{op}_tile", "binary_{op}_tile({a}, {b}, {dst})", CK + "binary_max_min.h"),
    **{f"{op}_tile": Call(f"{op}_tile({{dst}})", header) for op, header in UNARY_HEADERS.items()},
    # calls with template arguments take them as {t0}, {t1}: the IR's names (SUM, REDUCE_ROW, ROW), or
    # for typecast_tile<IN, OUT> the two tt::DataFormat values (§6.2)
    "typecast_tile": Call("typecast_tile<{t0}, {t1}>({dst})", CK + "eltwise_unary/typecast.h", formats=True),
    **{f"{op}_tiles_bcast_{how}": Call(f"{op}_tiles_bcast_{how}({{a_cb}}, {{b_cb}}, {{a_index}}, {{b_index}}, "
                                       "{dst})", CK + "bcast.h") for op in FPU_OPS for how in BCASTS},
    "unary_bcast": Call("unary_bcast<BroadcastType::{t0}>({cb}, {index}, {dst})", CK + "bcast.h"),
    "reduce_tile": Call("reduce_tile<PoolType::{t0}, ReduceDim::{t1}>({cb}, {scaler_cb}, {index}, {scaler_index}, "
                        "{dst})", CK + "reduce.h"),
    "fill_tile": Call("fill_tile({dst}, {value})", CK + "eltwise_unary/fill.h"),
    # the SFPU's select on three DST tiles, for the format the DST holds (32-bit: Float32)
    "where_tile": Call("where_tile({cond}, {a}, {b}, {dst})", CK + "eltwise_unary/where.h"),
    "where_fp32_tile": Call("where_fp32_tile({cond}, {a}, {b}, {dst})", CK + "eltwise_unary/where.h"),
    "pack_tile": Call("pack_tile<true>({dst}, {cb}, {slot})", CK + "pack.h"),
    **BITS_CALLS,
    # T.print, from the math thread of the compute kernel (the one TRISC that prints it once); a
    # buffer's tiles from the unpack thread, which reads a CB's waited front (MATH has no CB access:
    # its TileSlice holds an error code), sampled by SliceRange::hw0_32_8 (nanott/languages/printed.py)
    "dprint": Call('DPRINT_MATH(DPRINT << "{text} = " << {index} << ENDL())', "api/debug/dprint.h"),
    "dprint_text": Call('DPRINT_UNPACK(DPRINT << "{text}" << ENDL())', "api/debug/dprint.h"),
    "dprint_tile": Call('DPRINT_UNPACK(DPRINT << "{text}" << TSLICE({cb}, {tile}, SliceRange::hw0_32_8()) << ENDL())',
                        "api/debug/dprint.h"),
    # inits (§4.4), keyed by the name an Init node carries
    **dict((
        _init("compute_kernel_hw_startup", "compute_kernel_hw_startup.h", 2, 3),
        _init("binary_op_init_common", "eltwise_binary.h", 3),
        _init("mm_init", "matmul.h", 3, extra_args=("transpose",)),
        _init("mm_init_short", "matmul.h", 2, extra_args=("transpose",)),
        _init("mm_block_init", "matmul.h", 3, extra_args=BLOCK_ARGS),
        _init("mm_block_init_short", "matmul.h", 2, extra_args=BLOCK_ARGS),
        _init("transpose_wh_init_short", "transpose_wh.h", 1),
        _init("init_sfpu", "eltwise_unary/eltwise_unary.h", 2),
        _init("unary_op_init_common", "eltwise_unary/eltwise_unary.h", 2),
        _init("copy_tile_init", "tile_move_copy.h", 1),
        *(_init(f"{op}_tiles_init", "eltwise_binary.h", 2) for op in FPU_OPS),
        *(_init(f"{op}_bcast_{how}_init_short", "bcast.h", 2) for op in FPU_OPS for how in BCASTS),
        _init("reduce_uninit", "reduce.h", 0),
        *(_init(f"{op}_binary_tile_init", "eltwise_binary_sfpu.h", 0) for op in SFPU_OPS),
        *(_init(f"binary_{op}_tile_init", "binary_max_min.h", 0) for op in MINMAX_OPS),
        *((f"{op}_tile_init", Call(f"{op}_tile_init()", h, (0,))) for op, h in UNARY_HEADERS.items()),
        _init("binop_with_scalar_tile_init", "eltwise_unary/binop_with_scalar.h", 0),
        _init("fill_tile_init", "eltwise_unary/fill.h", 0),
        _init("where_tile_init", "eltwise_unary/where.h", 0),
        _init("pack_reconfig_data_format", "pack.h", 1, 2),
        _init("reconfig_data_format", "reconfig_data_format.h", 2),
        _init("reconfig_data_format_srca", "reconfig_data_format.h", 1),
        _init("reconfig_data_format_srcb", "reconfig_data_format.h", 1),
    )),
    "typecast_tile_init": Call("typecast_tile_init<{t0}, {t1}>()", CK + "eltwise_unary/typecast.h", (0,),
                               formats=True),
    "unary_bcast_init": Call("unary_bcast_init<BroadcastType::{t0}>({cbs})", CK + "bcast.h", (2,)),
    "reduce_init": Call("reduce_init<PoolType::{t0}, ReduceDim::{t1}>({cbs})", CK + "reduce.h", (3,)),
}

HOST_CALLS: dict[str, Call] = {
    "open_device": Call("distributed::MeshDevice::create_unit_mesh({device_id})", MESH),
    "command_queue": Call("{device}->mesh_command_queue()", MESH),
    "create_program": Call("CreateProgram()", HOST),
    # (program, core range or set, initial value[, core type]) -> the semaphore's id; 0.81 adds an
    # overload without the core type (the exported symbols of each release's libtt_metal.so)
    "create_semaphore": Call("CreateSemaphore(program, {cores}, {initial})", HOST),
    "dram_buffer": Call("distributed::MeshBuffer::create(distributed::ReplicatedBufferConfig{{.size = "
                        "{bytes}}}, distributed::DeviceLocalBufferConfig{{.page_size = {page_bytes}, "
                        ".buffer_type = BufferType::DRAM}}, {device}.get())", MESH),
    "buffer_address": Call("static_cast<uint32_t>({buffer}->address())", MESH),
    "circular_buffer": Call("CreateCircularBuffer(program, {cores}, CircularBufferConfig({bytes}, "
                            "{{{{{cb}, tt::DataFormat::{format}}}}}).set_page_size({cb}, {page_bytes}))",
                            HOST),
    "host_accessor_args": Call("TensorAccessorArgs(*{buffer}).append_to({compile_args})",
                               "tt-metalium/tensor_accessor_args.hpp"),
    "dataflow_config": Call("DataMovementConfig{{.processor = DataMovementProcessor::{processor}, "
                            ".noc = NOC::{noc}, .compile_args = {compile_args}}}", HOST),
    "compute_config": Call("ComputeConfig{{.math_fidelity = MathFidelity::{fidelity}, .fp32_dest_acc_en = "
                           "{fp32_dest_acc_en}, .unpack_to_dest_mode = {unpack_to_dest_mode}, .compile_args = "
                           "{compile_args}, .defines = {defines}}}", HOST),
    "num_circular_buffers": Call("NUM_CIRCULAR_BUFFERS", "tt-metalium/circular_buffer_constants.h"),
    "create_kernel": Call("CreateKernel(program, {path}, {cores}, {config})", HOST),
    "set_runtime_args": Call("SetRuntimeArgs(program, {kernel}, {cores}, {args})", HOST),
    "write_buffer": Call("distributed::EnqueueWriteMeshBuffer({queue}, {buffer}, {data}, false)", MESH),
    "read_buffer": Call("distributed::EnqueueReadMeshBuffer({queue}, {data}, {buffer}, true)", MESH),
    "add_program": Call("{workload}.add_program(distributed::MeshCoordinateRange({device}->shape()), "
                        "std::move(program))", MESH),
    "run": Call("distributed::EnqueueMeshWorkload({queue}, {workload}, false)", MESH),
    "finish": Call("distributed::Finish({queue})", MESH),
    "close_device": Call("{device}->close()", MESH),
    "tilize": Call("tilize_nfaces({data}, {rows}, {cols})", "tt-metalium/tilize_utils.hpp"),
    "pack_bfp8": Call("pack_as_bfp8_tiles<float>({data}, /*row_major_input=*/false, /*is_exp_a=*/false)",
                      "tt-metalium/bfloat8.hpp"),
    "untilize": Call("untilize_nfaces({data}, {rows}, {cols})", "tt-metalium/tilize_utils.hpp"),
    "unpack_bfp8": Call("unpack_bfp8_tiles_into_float_vec({data}, /*row_major_output=*/false, /*is_exp_a=*/false)",
                        "tt-metalium/bfloat8.hpp"),
}
# the host types libtt_metal.so instantiates tilize_nfaces/untilize_nfaces for (its exported
# symbols, the same in 0.65.0, 0.66.0 and 0.81.1): a main.cpp that tilizes int8_t does not link,
# so main.cpp puts the other types in tile order with a helper of its own (host.py)
TILIZED_HOST_TYPES = ("bfloat16", "float", "uint32_t", "uint16_t")

# ttnn 0.66.0 (tt-metal of February 2026): the table above, checked against that release's headers
# (make test-metal). It has no row-broadcast subtract of its own (docs/reference.md §4.4).
TARGET = Api("0.66.0", MappingProxyType({k: c for k, c in (KERNEL_CALLS | HOST_CALLS).items()
                                         if k not in ("sub_tiles_bcast_rows", "sub_bcast_rows_init_short")}))


def _api_compute(calls: dict[str, Call]) -> dict[str, Call]:
    """0.81: the compute API's headers moved from compute_kernel_api/ to api/compute/."""
    moved = {CK + "transpose_wh.h": "api/compute/transpose.h", "compute_kernel_api.h": "api/compute/compute_kernel_api.h"}
    return {k: replace(c, header=moved.get(c.header, c.header.replace(CK, "api/compute/")))
            for k, c in calls.items() if c.header and (c.header.startswith(CK) or c.header in moved)}


AC = "api/compute/"
SWITCHES: dict[str, dict[str, Call]] = {
    # 2026-01-23 (8ff5885392): compute kernels could still be written in the legacy form before
    "legacy_compute_main": {"compute_kernel": Call(
        "namespace NAMESPACE {{\nvoid MAIN {{\n{body}}}\n}}  // namespace NAMESPACE\n", CK + "common.h")},
    # 2025-12-19 (90c25836a6): dataflow_api.h moved under api/dataflow/
    "dataflow_header_before_2025_12_19": {"dataflow_kernel": Call(
        "void kernel_main() {{\n{body}}}\n", "dataflow_api.h")},
    # 2025-12-10 (ad60d53c38): matmul_tiles lost its 6th argument, transpose
    "matmul_with_transpose": {"matmul_tiles": Call(
        "matmul_tiles({a_cb}, {b_cb}, {a_index}, {b_index}, {dst}, {transpose})", CK + "matmul.h")},
    # ttnn 0.65.0: the debug print header lies at debug/, outside the api/ tree
    "dprint_header_outside_api": {
        "dprint": Call('DPRINT_MATH(DPRINT << "{text} = " << {index} << ENDL())', "debug/dprint.h"),
        "dprint_text": Call('DPRINT_UNPACK(DPRINT << "{text}" << ENDL())', "debug/dprint.h"),
        "dprint_tile": Call('DPRINT_UNPACK(DPRINT << "{text}" << TSLICE({cb}, {tile}, SliceRange::hw0_32_8()) '
                            '<< ENDL())', "debug/dprint.h")},
    # ttnn 0.65.0: the shifts by a tile name their format in the call (binary_right_shift_int32_tile)
    "shift_int32_names": {k: Call(k.replace("_tile", "_int32_tile") + "({a}, {b}, {dst})", CK + "binary_shift.h")
                          for k in SHIFTS_BINARY},
    # ttnn 0.65.0: typecast_tile_init() takes no template arguments
    "typecast_init_plain": {"typecast_tile_init": Call("typecast_tile_init()", CK + "eltwise_unary/typecast.h", (0,),
                                                       formats=True)},
    # 2025-07 (51a9d303e0, 1ca4e02373): the tile calls, deprecated for the page calls
    "tile_transfer": {"read_page": Call("noc_async_read_tile({page}, {accessor}, {l1_addr})"),
                      "write_page": Call("noc_async_write_tile({page}, {accessor}, {l1_addr})")},
    # ttnn 0.81 (Oct 2026): the short inits lost `_short`/`_tiles` (add_init, matmul_init, copy_init,
    # transpose_init, {op}_bcast_{rows,cols}_init), transpose_wh_tile became transpose_tile, the
    # full inits other than compute_kernel_hw_startup went, unary_bcast_init takes its input CB only
    # (docs/reference.md §1.1, checked against the 0.81.1 headers)
    "api_0_81": {
        **{f"{op}_tiles_init": Call(f"{op}_init({{cbs}})", AC + "eltwise_binary.h", (2,)) for op in FPU_OPS},
        **{f"{op}_bcast_{how}_init_short": Call(f"{op}_bcast_{how}_init({{cbs}})", AC + "bcast.h", (2,))
           for op in FPU_OPS for how in BCASTS},
        "mm_init_short": Call("matmul_init({cbs})", AC + "matmul.h", (2,), ("transpose",)),
        "mm_block_init_short": Call("matmul_block_init({cbs})", AC + "matmul.h", (2,), BLOCK_ARGS),
        "copy_tile_init": Call("copy_init({cbs})", AC + "tile_move_copy.h", (1,)),
        "transpose_wh_init_short": Call("transpose_init({cbs})", AC + "transpose.h", (1,)),
        "transpose_wh_tile": Call("transpose_tile({cb}, {index}, {dst})", AC + "transpose.h"),
        "unary_bcast_init": Call("unary_bcast_init<BroadcastType::{t0}>({cb0})", AC + "bcast.h", (2,)),
        "sub_tiles_bcast_rows": Call("sub_tiles_bcast_rows({a_cb}, {b_cb}, {a_index}, {b_index}, {dst})",
                                     AC + "bcast.h"),
        "sub_bcast_rows_init_short": Call("sub_bcast_rows_init({cbs})", AC + "bcast.h", (2,)),
        # where_tile takes the DST's format as a template argument; where_fp32_tile is gone
        **{key: Call(f"where_tile<DataFormat::{fmt}>({{cond}}, {{a}}, {{b}}, {{dst}})", AC + "eltwise_unary/where.h")
           for key, fmt in (("where_tile", "Float16_b"), ("where_fp32_tile", "Float32"))},
        # the integer ops take their format as a template argument; the ops with a constant moved
        # to eltwise_unary/bitwise.h and eltwise_unary/shift.h
        **{k: Call(f"{k}<DataFormat::Int32>({{dst}}, {{value}})", AC + "eltwise_unary/" +
                   ("shift.h" if "shift" in k else "bitwise.h")) for k in BITS_HEADERS},
        **{f"{k}_init": Call(f"{k}_init()", AC + "eltwise_unary/" + ("shift.h" if "shift" in k else "bitwise.h"),
                             (0,)) for k in BITS_HEADERS},
        **{k: Call(f"{k}<DataFormat::Int32>({{a}}, {{b}}, {{dst}})", AC + "binary_bitwise_sfpu.h")
           for k in BITS_BINARY},
        # DPRINT's stream form (`<< ENDL()`) is gone: DPRINT takes an fmt-style format string
        "dprint": Call('DPRINT_MATH("{text} = {{}}\\n", {index})', "api/debug/dprint.h"),
        "dprint_text": Call('DPRINT_UNPACK("{text}\\n")', "api/debug/dprint.h"),
        "dprint_tile": Call('DPRINT_UNPACK("{text}{{}}\\n", TSLICE({cb}, {tile}, SliceRange::hw0_32_8()))',
                            "api/debug/dprint.h"),
    },
}
GONE_IN_0_81 = ("binary_op_init_common", "mm_init", "mm_block_init", "init_sfpu", "unary_op_init_common")

# The releases people install, by their ttnn version; each is checked against its own wheel's
# headers by `make test-metal` (tests/metal). The newest is the default.
V0_81 = Api("0.81.1", MappingProxyType({k: c for k, c in (TARGET.calls | _api_compute(KERNEL_CALLS)).items()
                                        if k not in GONE_IN_0_81})).switched("0.81.1", "api_0_81")
NEW_IN_0_66 = ("read_tile_value",)
V0_65 = TARGET.switched("0.65.0", "legacy_compute_main", "dataflow_header_before_2025_12_19",
                        "matmul_with_transpose", "typecast_init_plain", "dprint_header_outside_api",
                        "shift_int32_names")
VERSIONS: dict[str, Api] = {
    "0.65.0": Api("0.65.0", MappingProxyType({k: c for k, c in V0_65.calls.items() if k not in NEW_IN_0_66})),
    "0.66.0": TARGET,
    "0.81.1": V0_81,
}
RELEASES = tuple(VERSIONS)
DEFAULT = VERSIONS["0.81.1"]


def fpu_broadcasts(release: str) -> frozenset[tuple[str, str]]:
    """The FPU broadcasts (op, "rows"/"cols") a release has, for C2: where one is missing, a vector
    is spread over a temporary tile (unary_bcast) and the SFPU does the op."""
    calls = VERSIONS[release].calls
    return frozenset((op, how) for op in FPU_OPS for how in BCASTS if f"{op}_tiles_bcast_{how}" in calls)

# Facts of the device and host API that are not calls (docs/reference.md §2, §6.2, §7.2).
PROCESSORS = {"reader": ("RISCV_0", "RISCV_0_default"), "writer": ("RISCV_1", "RISCV_1_default")}
# the NoC each default names (§6.2: RISCV_0_default = NOC_0, RISCV_1_default = NOC_1); NoC 1 runs
# mirrored, so a kernel on it names a multicast rectangle from its bottom-right corner (§3.2)
NOC_OF = {"RISCV_0_default": 0, "RISCV_1_default": 1}
MATH_FIDELITIES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")
DATA_FORMATS = {"Float32": 0, "Float16": 1, "Bfp8": 2, "Bfp4": 3, "Tf32": 4, "Float16_b": 5, "Bfp8_b": 6,
                "Bfp4_b": 7, "Int32": 8, "UInt16": 9, "Lf8": 10, "Bfp2": 11, "Int8": 14, "Bfp2_b": 15,
                "UInt32": 24, "Fp8_e4m3": 26, "UInt8": 30}        # tt::DataFormat values (§6.2)
HOST_TYPES = {**{d.format: (d.host, d.header) for d in LOWERED.values()},   # nanott/dtypes.py
              "UInt32": ("uint32_t", None)}
