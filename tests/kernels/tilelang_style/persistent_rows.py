"""A persistent kernel, as TileLang's MLA decode writes one: as many blocks as the GPU has
streaming multiprocessors (`tilelang.carver.arch.driver.get_num_sms()`), each walking the tiles
`sm_num * w + block_id` wave by wave. nanott has no CUDA device; during the load it answers the
query with the Tensix cores of its default target (nanott/language/cuda_device.py: Wormhole n150,
64), so the grid has 64 blocks and the waves cover every tile."""
import tilelang
import tilelang.language as T
from tilelang.carver.arch import driver


@tilelang.jit(out_idx=[-1])
def shift_rows(M, N, block_M=32, dtype: T.dtype = T.float32):
    sm_num = driver.get_num_sms()
    total_tiles = T.ceildiv(M, block_M)
    waves = T.ceildiv(total_tiles, sm_num)

    @T.prim_func
    def main(A: T.Tensor((M, N), dtype), B: T.Tensor((M, N), dtype)):
        with T.Kernel(sm_num, threads=128) as block_id:
            a = T.alloc_shared((block_M, N), dtype)
            b = T.alloc_fragment((block_M, N), dtype)
            for w in T.serial(waves):
                tile_id = sm_num * w + block_id
                if tile_id < total_tiles:
                    T.copy(A[tile_id * block_M, 0], a)
                    for i, j in T.Parallel(block_M, N):
                        b[i, j] = a[i, j] + 0.5
                    T.copy(b, B[tile_id * block_M, 0])

    return main
