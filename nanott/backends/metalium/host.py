"""The host printer: a Plan (plan.py, L9's host-side facts) -> main.cpp and CMakeLists.txt.

main.cpp opens the device (Mesh API), allocates one interleaved DRAM buffer per tensor (a page
per tile), creates on the work split's cores every CB with the format, page size and page count of
its plan, the three kernels with their compile-time arguments (TensorAccessorArgs of the bound
buffers, appended in cta order) and, from E1's table, every core's runtime arguments; then writes
the inputs (read from `<in_dir>/<tensor>.bin`, tilized), runs the workload, reads the outputs back
and writes them untilized to `<out_dir>/<tensor>.bin`. Every Metalium call is spelled by api.py.
A tensor's file holds its own shape: when DRAM holds it otherwise (A1: padded with zeros to whole
tiles, or its dims stored in another order), main.cpp lays it out so before it tilizes it and puts
an output back after it untilizes it (`to_dram_layout`, `from_dram_layout`, printed only when some
tensor needs them).

CMakeLists.txt builds only main.cpp: Metalium JIT-compiles the kernels from their sources at run
time, from the directory the build passes as NANOTT_KERNEL_DIR.
"""
from __future__ import annotations

from nanott.backends.metalium.api import HOST_TYPES, TILIZED_HOST_TYPES, Api
from nanott.backends.metalium.kernels import ident
from nanott.backends.metalium.plan import Plan
from nanott.ir import CheckError

I1, I2 = "    ", "        "

FILE_HELPERS = """\
// Tensor files: raw little-endian values of the tensor's own shape, row-major (tt.plan.json).
template <typename T>
std::vector<T> read_tensor(const std::string& path, std::size_t count) {
    std::vector<T> data(count);
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(count * sizeof(T)));
    if (!in) {
        throw std::runtime_error("cannot read " + std::to_string(count) + " values from " + path);
    }
    return data;
}

template <typename T>
void write_tensor(const std::string& path, const std::vector<T>& data) {
    std::ofstream out(path, std::ios::binary);
    const auto bytes = static_cast<std::streamsize>(data.size() * sizeof(T));
    out.write(reinterpret_cast<const char*>(data.data()), bytes);
    if (!out) {
        throw std::runtime_error("cannot write " + path);
    }
}
"""


LAYOUT_HELPERS = """\
// DRAM layout (A1): a row-major tensor of `shape` stored with its dims in `order`, the last two
// padded with zeros to prows x pcols; the matrix the tile grid covers, ready to tilize.
template <typename T>
std::vector<T> to_dram_layout(const std::vector<T>& data, const std::vector<std::size_t>& shape,
                              const std::vector<std::size_t>& order, std::size_t prows, std::size_t pcols) {
    std::vector<std::size_t> stored(shape.size()), index(shape.size(), 0);
    for (std::size_t d = 0; d < shape.size(); ++d) {
        stored[d] = shape[order[d]];
    }
    stored[shape.size() - 2] = prows;
    stored[shape.size() - 1] = pcols;
    std::size_t total = 1;
    for (std::size_t n : stored) {
        total *= n;
    }
    std::vector<T> out(total);
    for (std::size_t n = 0; n < data.size(); ++n) {
        std::size_t at = 0;
        for (std::size_t d = 0; d < shape.size(); ++d) {
            at = at * stored[d] + index[order[d]];
        }
        out[at] = data[n];
        for (std::size_t d = shape.size(); d-- > 0;) {
            if (++index[d] < shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
    return out;
}

// The inverse: the tensor of `shape`, row-major, out of its DRAM matrix.
template <typename T>
std::vector<T> from_dram_layout(const std::vector<T>& data, const std::vector<std::size_t>& shape,
                                const std::vector<std::size_t>& order, std::size_t prows, std::size_t pcols) {
    std::vector<std::size_t> stored(shape.size()), index(shape.size(), 0);
    std::size_t total = 1;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        stored[d] = shape[order[d]];
        total *= shape[d];
    }
    stored[shape.size() - 2] = prows;
    stored[shape.size() - 1] = pcols;
    std::vector<T> out(total);
    for (std::size_t n = 0; n < total; ++n) {
        std::size_t at = 0;
        for (std::size_t d = 0; d < shape.size(); ++d) {
            at = at * stored[d] + index[order[d]];
        }
        out[n] = data[at];
        for (std::size_t d = shape.size(); d-- > 0;) {
            if (++index[d] < shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
    return out;
}
"""

TILE_HELPERS = """\
// The tile order of tilize_nfaces, for a type libtt_metal.so has no tilize_nfaces of: 32x32 tiles
// row-major over the rows x cols matrix, each of four 16x16 faces, row-major; untilize undoes it.
template <typename T>
std::vector<T> tile_order(const std::vector<T>& data, std::size_t rows, std::size_t cols, bool untilize) {
    std::vector<T> out(data.size());
    std::size_t at = 0;
    for (std::size_t tile = 0; tile < rows * cols / 1024; ++tile) {
        for (std::size_t face = 0; face < 4; ++face) {
            for (std::size_t e = 0; e < 256; ++e, ++at) {
                const std::size_t r = tile / (cols / 32) * 32 + face / 2 * 16 + e / 16;
                const std::size_t c = tile % (cols / 32) * 32 + face % 2 * 16 + e % 16;
                if (untilize) {
                    out[r * cols + c] = data[at];
                } else {
                    out[at] = data[r * cols + c];
                }
            }
        }
    }
    return out;
}
"""


FP8_HELPERS = """\
// fp8 files (nanott/dtypes.py): e4m3fn (4 exponent bits, bias 7) or e5m2 (5, bias 15) bit patterns,
// decoded to floats (their NaN and infinity patterns are not decoded), which DRAM holds as Bfp8_b
std::vector<float> fp8_values(const std::vector<uint8_t>& bits, int exponent_bits) {
    const int mantissa_bits = 7 - exponent_bits, bias = (1 << (exponent_bits - 1)) - 1;
    std::vector<float> out(bits.size());
    for (std::size_t i = 0; i < bits.size(); ++i) {
        const int e = (bits[i] >> mantissa_bits) & ((1 << exponent_bits) - 1);
        const int m = bits[i] & ((1 << mantissa_bits) - 1);
        const float v = e == 0 ? std::ldexp(static_cast<float>(m), 1 - bias - mantissa_bits)
                               : std::ldexp(static_cast<float>(m + (1 << mantissa_bits)), e - bias - mantissa_bits);
        out[i] = (bits[i] & 0x80) ? -v : v;
    }
    return out;
}
"""
FP8_OUT_HELPERS = """\
// fp8 outputs: the values DRAM holds (Bfp8_b, read back as floats) rounded to the nearest fp8 value,
// ties to even, as NumPy's ml_dtypes does (e4m3fn: past 448 is NaN, it has no infinity; e5m2: past
// 57344 is infinity), and written as bit patterns
std::vector<uint8_t> fp8_bits(const std::vector<float>& values, int exponent_bits) {
    const int mantissa_bits = 7 - exponent_bits, bias = (1 << (exponent_bits - 1)) - 1;
    const bool fn = exponent_bits == 4;                         // e4m3fn: no infinity, one NaN per sign
    const float largest = fn ? 448.0f : 57344.0f;
    std::vector<uint8_t> out(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        const uint8_t sign = std::signbit(values[i]) ? 0x80 : 0;
        const float a = std::fabs(values[i]);
        int e = a > 0.0f ? std::ilogb(a) : 1 - bias;
        e = e < 1 - bias ? 1 - bias : e;                        // subnormals share the smallest quantum
        const float q = std::nearbyint(std::ldexp(a, mantissa_bits - e));
        const float v = std::ldexp(q, e - mantissa_bits);
        if (std::isnan(a) || v > largest) {
            out[i] = static_cast<uint8_t>(sign | (fn || std::isnan(a) ? 0x7F : 0x7C));
            continue;
        }
        const int ve = v > 0.0f ? std::ilogb(v) : 1 - bias;
        const int field = (v == 0.0f || ve < 1 - bias) ? 0 : ve + bias;   // 0: zero or subnormal
        const int m = static_cast<int>(std::ldexp(v, mantissa_bits - (field ? ve : 1 - bias))) - (field ? 1 << mantissa_bits : 0);
        out[i] = static_cast<uint8_t>(sign | (field << mantissa_bits) | m);
    }
    return out;
}
"""
FP8_EXPONENT_BITS = {"float8_e4m3fn": 4, "float8_e5m2": 5}


def host_source(plan: Plan, api: Api) -> str:
    return HostPrinter(plan, api).source()


def core_ranges(cores: tuple[tuple[int, int], ...]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Inclusive rectangles covering exactly `cores`: runs along x per row, then equal runs of
    consecutive rows merged."""
    rows: dict[int, list[int]] = {}
    for x, y in sorted(set(cores), key=lambda c: (c[1], c[0])):
        rows.setdefault(y, []).append(x)
    runs: list[list[int]] = []                      # [x0, x1, y0, y1]
    for y, xs in rows.items():
        start = prev = xs[0]
        for x in xs[1:] + [None]:
            if x is not None and x == prev + 1:
                prev = x
                continue
            same = next((r for r in runs if r[:2] == [start, prev] and r[3] == y - 1), None)
            if same:
                same[3] = y
            else:
                runs.append([start, prev, y, y])
            if x is not None:
                start = prev = x
    return [((x0, y0), (x1, y1)) for x0, x1, y0, y1 in runs]


class HostPrinter:
    def __init__(self, plan: Plan, api: Api):
        self.plan, self.api = plan, api
        self.headers: set[str] = set()
        for t in plan.tensors:
            ident(f"{t.name}_buffer", "the host variable of tensor")
        for cb in getattr(plan, "cbs", ()):           # a SequencePlan: its launches have them
            ident(f"cb_{cb.name}", f"the host constant of cb{cb.index}")

    def call(self, key: str, **fields: object) -> str:
        c = self.api[key]
        if c.header:
            self.headers.add(c.header)
        return c(**fields)

    def source(self) -> str:
        return self.assemble(self.device() + self.program() + self.buffers() + self.circular_buffers()
                             + self.kernels() + self.runtime_args() + self.inputs() + self.run()
                             + self.outputs())

    def assemble(self, body: list[str]) -> str:
        """The file: its head, includes, helpers, and main() around `body`."""
        for t in self.plan.tensors:
            header = HOST_TYPES[t.format][1]
            if header:
                self.headers.add(header)
        head = [f"// main.cpp: the host program of {self.plan.kernel}, emitted by nanott G1 "
                f"emit-metalium (L9 -> C++)", f"// for tt-metal {self.api.version}, target "
                f"{self.plan.target}; usage: {self.plan.kernel} IN_DIR OUT_DIR (see tt.plan.json).", ""]
        fp8 = any(t.format == "Bfp8_b" for t in self.plan.tensors)
        std = ("cmath",) * fp8 + ("cstddef", "cstdint", "fstream", "iostream", "map", "memory",  # cmath: ldexp
                                  "stdexcept", "string", "utility", "vector")
        head += [f"#include <{h}>" for h in std]
        head += [f"#include <{h}>" for h in sorted(self.headers)]
        head += ["", "using namespace tt::tt_metal;", "", FILE_HELPERS]
        if any(laid_out(t) for t in self.plan.tensors):
            head += [LAYOUT_HELPERS]
        if any(t.host_type not in TILIZED_HOST_TYPES and t.format != "Bfp8_b" for t in self.plan.tensors):
            head += [TILE_HELPERS]
        if any(t.format == "Bfp8_b" and t.input for t in self.plan.tensors):
            head += [FP8_HELPERS]
        if any(t.format == "Bfp8_b" and t.output for t in self.plan.tensors):
            head += [FP8_OUT_HELPERS]
        main = ["int main(int argc, char** argv) {", I1 + "if (argc != 3) {",
                I2 + f'std::cerr << "usage: {self.plan.kernel} IN_DIR OUT_DIR\\n";', I2 + "return 2;",
                I1 + "}", I1 + "const std::string in_dir = argv[1];",
                I1 + "const std::string out_dir = argv[2];", *body, I1 + "return 0;", "}"]
        return "\n".join(head + main) + "\n"

    def device(self) -> list[str]:
        return ["", I1 + "// the device, its command queue, and one program for the three kernels",
                I1 + f"auto device = {self.call('open_device', device_id=0)};",
                I1 + f"distributed::MeshCommandQueue& queue = {self.call('command_queue', device='device')};"]

    def program(self) -> list[str]:
        return [I1 + f"Program program = {self.call('create_program')};"]

    def buffers(self) -> list[str]:
        out = ["", I1 + "// DRAM tensors: interleaved over the banks, one 32x32 tile per page (A1)"]
        for t in self.plan.tensors:
            make = self.call("dram_buffer", bytes=t.tiles * t.page_bytes, page_bytes=t.page_bytes,
                             device="device")
            padded = (f", {'x'.join(map(str, t.shape))} stored as {'x'.join(map(str, t.padded_shape))}"
                      if laid_out(t) else "")
            out += [I1 + f"std::shared_ptr<distributed::MeshBuffer> {t.name}_buffer = {make};  "
                    f"// {t.tiles} tiles of {t.format}{padded}",
                    I1 + f"const uint32_t {t.name}_addr = "
                    f"{self.call('buffer_address', buffer=t.name + '_buffer')};"]
        return out

    def circular_buffers(self) -> list[str]:
        ranges = ", ".join(f"CoreRange(CoreCoord{{{a[0]}, {a[1]}}}, CoreCoord{{{b[0]}, {b[1]}}})"
                           for a, b in core_ranges(self.plan.cores))
        out = ["", I1 + f"// the {len(self.plan.cores)} cores of the work split (B1)",
               I1 + f"const CoreRangeSet cores(std::vector<CoreRange>{{{ranges}}});",
               "", I1 + "// circular buffers: format, page size and pages from each CB's plan (A2, C3)"]
        for cb in self.plan.cbs:
            out.append(I1 + f"constexpr uint32_t cb_{cb.name} = {cb.index};  "
                       f"// {cb.producer} -> {cb.consumer}")
            out.append(I1 + self.call("circular_buffer", cores="cores", bytes=cb.bytes, cb=f"cb_{cb.name}",
                                      format=cb.format, page_bytes=cb.page_bytes) + ";")
        if self.plan.semaphores:
            out += ["", I1 + f"// semaphores 0..{self.plan.semaphores - 1} on every core, starting at 0 (D3b); "
                    "the NoC coordinates of logical core (0, 0), which kernels add core coordinates to"]
            out += [I1 + self.call("create_semaphore", cores="cores", initial=0) + ";"
                    for _ in range(self.plan.semaphores)]
            out += [I1 + "const CoreCoord noc_origin = device->worker_core_from_logical_core(CoreCoord{0, 0});",
                    I1 + "const uint32_t noc_x0 = static_cast<uint32_t>(noc_origin.x);",
                    I1 + "const uint32_t noc_y0 = static_cast<uint32_t>(noc_origin.y);"]
        return out

    def kernels(self) -> list[str]:
        out = ["", I1 + "// kernels: compile-time arguments are the TensorAccessorArgs of their "
                        "bindings, in cta order (D2)",
               I1 + "const std::string kernel_dir = NANOTT_KERNEL_DIR;"]
        for k in self.plan.kernels:
            cta = f"{k.role}_compile_args"
            out.append(I1 + f"std::vector<uint32_t> {cta};")
            for a in k.accessors:
                out.append(I1 + self.call("host_accessor_args", buffer=f"{a.tensor}_buffer", compile_args=cta)
                           + f";  // cta {a.cta_offset}: {a.tensor}, flags {a.flags}")
            if k.role == "compute":
                out += self.compute_settings()
                c = self.plan.compute
                config = self.call("compute_config", fidelity=c.math_fidelity, compile_args=cta,
                                   fp32_dest_acc_en=str(c.fp32_dest_acc_en).lower(),
                                   unpack_to_dest_mode="unpack_to_dest_mode", defines="compute_defines")
            else:
                config = self.call("dataflow_config", processor=k.processor, noc=k.noc, compile_args=cta)
            path = f'kernel_dir + "/{k.source}"'
            out.append(I1 + f"KernelHandle {k.role} = "
                       f"{self.call('create_kernel', path=path, cores='cores', config=config)};")
        return out

    def compute_settings(self) -> list[str]:
        """The compute kernel's per-CB unpack mode (UnpackToDestFp32 where a Float32 CB is copied
        into the 32-bit DST) and its defines (reduce.h's REDUCE_OP and REDUCE_DIM)."""
        c, names = self.plan.compute, {cb.index: f"cb_{cb.name}" for cb in self.plan.cbs}
        out = [I1 + f"std::vector<UnpackToDestMode> unpack_to_dest_mode("
                    f"{self.call('num_circular_buffers')}, UnpackToDestMode::Default);"]
        out += [I1 + f"unpack_to_dest_mode[{names[i]}] = UnpackToDestMode::UnpackToDestFp32;  "
                     "// Float32 copied into the 32-bit DST, not through srcA's TF32" for i in c.unpack_to_dest_fp32]
        pairs = ", ".join(f'{{"{k}", "{v}"}}' for k, v in c.defines)
        return out + [I1 + f"const std::map<std::string, std::string> compute_defines = {{{pairs}}};"
                      + ("  // reduce.h's template defaults" if pairs else "")]

    def runtime_args(self) -> list[str]:
        out = ["", I1 + "// runtime arguments: one row per core and kernel, slot by slot (E1)"]
        for k in self.plan.kernels:
            rows = [r for r in self.plan.runtime_args if r.role == k.role]
            cores = ", ".join(f"{{{r.core[0]}, {r.core[1]}}}" for r in rows)
            values = ", ".join("{" + ", ".join(self.value(v) for v in r.values) + "}" for r in rows)
            out += [I1 + f"// {k.role}: {', '.join(k.runtime_args) or 'no arguments'}",
                    I1 + f"const std::vector<CoreCoord> {k.role}_cores = {{{cores}}};",
                    I1 + f"const std::vector<std::vector<uint32_t>> {k.role}_args = {{{values}}};",
                    I1 + self.call("set_runtime_args", kernel=k.role, cores=f"{k.role}_cores",
                                   args=f"{k.role}_args") + ";"]
        return out

    def value(self, v: int | str) -> str:
        """A runtime value: an int, "<tensor>.address", the base address of its buffer, or
        "noc.x0" / "noc.y0", a coordinate of logical core (0, 0) on the NoC."""
        if isinstance(v, int):
            return str(v)
        if v in ("noc.x0", "noc.y0"):
            return v.replace(".", "_")
        tensor, _, what = v.partition(".")
        if what != "address" or tensor not in {t.name for t in self.plan.tensors}:
            raise CheckError(f"runtime value {v!r} is neither an int nor <tensor>.address of a bound tensor")
        return f"{tensor}_addr"

    def inputs(self) -> list[str]:
        laid = any(laid_out(t) for t in self.plan.tensors)
        out = ["", I1 + "// inputs: read, " + "laid out as DRAM stores them (A1: dims in order, "
               "padded with zeros to whole tiles), " * laid + "tilized (32x32 tiles of 16x16 faces), "
               "written to DRAM"]
        for t in (t for t in self.plan.tensors if t.input):
            rows, cols = shape2d(t.padded_shape)
            data = f'read_tensor<{t.host_type}>(in_dir + "/{t.file}", {prod(t.shape)})'
            fp8 = t.format == "Bfp8_b"
            if fp8:
                data = f"fp8_values({data}, {FP8_EXPONENT_BITS[t.dtype]})"
            if laid_out(t):
                data = f"to_dram_layout({data}, {layout_args(t)})"
            tiles = self.tiled("float" if fp8 else t.host_type, data, rows, cols, untilize=False)
            out += [I1 + f"std::vector<{'uint32_t' if fp8 else t.host_type}> {t.name}_host = "
                    f"{self.call('pack_bfp8', data=tiles) if fp8 else tiles};",
                    I1 + self.call("write_buffer", queue="queue", buffer=f"{t.name}_buffer",
                                   data=f"{t.name}_host") + ";"]
        return out

    def tiled(self, host_type: str, data: str, rows: int, cols: int, untilize: bool) -> str:
        """tilize_nfaces/untilize_nfaces where the library has them for the type, else tile_order."""
        if host_type in TILIZED_HOST_TYPES:
            return self.call("untilize" if untilize else "tilize", data=data, rows=rows, cols=cols)
        return f"tile_order({data}, {rows}, {cols}, {str(untilize).lower()})"

    def run(self) -> list[str]:
        return ["", I1 + "// run", I1 + "distributed::MeshWorkload workload;",
                I1 + self.call("add_program", workload="workload", device="device") + ";",
                I1 + self.call("run", queue="queue", workload="workload") + ";",
                I1 + self.call("finish", queue="queue") + ";"]

    def outputs(self) -> list[str]:
        out = ["", I1 + "// outputs: read back, untilized, put back in their own shape and order, written"
               if any(laid_out(t) for t in self.plan.tensors) else
               I1 + "// outputs: read back, untilized, written"]
        for t in (t for t in self.plan.tensors if t.output):
            rows, cols = shape2d(t.padded_shape)
            fp8 = t.format == "Bfp8_b"
            data = self.call("unpack_bfp8", data=f"{t.name}_result") if fp8 else f"{t.name}_result"
            data = self.tiled("float" if fp8 else t.host_type, data, rows, cols, untilize=True)
            if laid_out(t):
                data = f"from_dram_layout({data}, {layout_args(t)})"
            if fp8:
                data = f"fp8_bits({data}, {FP8_EXPONENT_BITS[t.dtype]})"
            out += [I1 + f"std::vector<{'uint32_t' if fp8 else t.host_type}> {t.name}_result;",
                    I1 + self.call("read_buffer", queue="queue", data=f"{t.name}_result",
                                   buffer=f"{t.name}_buffer") + ";",
                    I1 + f'write_tensor(out_dir + "/{t.file}", {data});']
        return out + [I1 + self.call("close_device", device="device") + ";"]


def shape2d(shape: tuple[int, ...]) -> tuple[int, int]:
    """A tensor as the 2-D matrix Metalium tiles: every dimension but the last folded into rows."""
    rows = 1
    for n in shape[:-1]:
        rows *= n
    return rows, shape[-1]


def matrix(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A tensor's shape as DRAM tiles it: a 1-D tensor (n,) is the row (1, n)."""
    return (1, *shape) if len(shape) == 1 else tuple(shape)


def laid_out(t) -> bool:
    """Whether DRAM holds the tensor other than as its file: padded, or its dims reordered."""
    return matrix(t.shape) != tuple(t.padded_shape) or tuple(t.order) != tuple(range(len(matrix(t.shape))))


def layout_args(t) -> str:
    """shape, order, padded rows and columns: what to_dram_layout and from_dram_layout take."""
    own = matrix(t.shape)
    return (f"{{{', '.join(map(str, own))}}}, {{{', '.join(map(str, t.order))}}}, "
            f"{t.padded_shape[-2]}, {t.padded_shape[-1]}")


def prod(shape: tuple[int, ...]) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def cmake_source(plan: Plan, api: Api) -> str:
    name = plan.kernel
    return f"""\
# CMakeLists.txt: builds the host program of {name}, emitted by nanott G1 emit-metalium (L9 -> C++)
# for tt-metal {api.version}. The kernels are not compiled here: Metalium JIT-compiles reader.cpp,
# compute.cpp and writer.cpp from NANOTT_KERNEL_DIR when main.cpp creates them.
cmake_minimum_required(VERSION 3.22...3.30)
project(nanott_{name} LANGUAGES CXX)

if(NOT TARGET TT::Metalium)
    find_package(TT-Metalium REQUIRED)
endif()

add_executable({name} main.cpp)
target_compile_features({name} PRIVATE cxx_std_20)
target_compile_definitions({name} PRIVATE NANOTT_KERNEL_DIR="${{CMAKE_CURRENT_SOURCE_DIR}}")
target_link_libraries({name} PRIVATE TT::Metalium)
"""
