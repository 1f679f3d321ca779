// Warp-level building blocks shared by the attention kernels (sm_80+): asynchronous 16-byte copies
// into shared memory, ldmatrix, the bf16 m16n8k16 tensor-core MMA, the XOR swizzle of shared tiles,
// and paged-KV row addressing.
//
// Fragment layouts of mma.m16n8k16 (g = lane / 4, q = lane % 4), used throughout:
//   A 16x16 (row-major): a0 = (g, 2q..2q+1), a1 = (g+8, 2q..), a2 = (g, 2q+8..), a3 = (g+8, 2q+8..)
//   B 16x8  (col-major): b0 = (k 2q..2q+1, n g), b1 = (k 2q+8.., n g)
//   C 16x8  (fp32):      c0,c1 = (g, 2q..2q+1), c2,c3 = (g+8, 2q..2q+1)
// so C's (c0,c1) and (c2,c3) of two neighbouring n-blocks are exactly an A fragment: P = softmax(S)
// feeds the P.V product from registers without touching shared memory.
#pragma once

#include <cuda_bf16.h>
#include <stdint.h>

namespace ps {
namespace attn {

// Shared tiles are [rows][D] bf16 with D/8 16-byte chunks per row. Chunk c of row r is stored at
// chunk c ^ (r & 7): the 8 rows an ldmatrix phase reads (same logical chunk, consecutive rows) then
// hit 8 different 16-byte bank groups instead of one, so ldmatrix and cp.async are conflict-free.
// Rows of fewer than 8 chunks (head dim 16, 32) XOR with fewer row bits so the chunk stays inside
// its row; those small tiles accept some bank conflicts.
template <int D>
__device__ __forceinline__ int swz(int row, int chunk) {
    constexpr int kRowBits = (D / 8 < 8 ? D / 8 : 8) - 1;
    return row * D + ((chunk ^ (row & kRowBits)) << 3);
}

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte global -> shared copy that bypasses L1 (.cg: K/V are streamed once per CTA). With
// valid == false nothing is read and the 16 bytes are zero-filled, which keeps padding rows finite
// (a garbage NaN in V would survive a zero probability: 0 * NaN = NaN).
__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, bool valid) {
    const int bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

// c += a * b, bf16 inputs, fp32 accumulators.
__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
}

// The transpose of an 8 x 8 bf16 matrix held as one register per lane (row lane / 4, columns
// 2 (lane % 4) and + 1: the layout of an MMA accumulator's 8 x 8 block, packed), in that layout.
__device__ __forceinline__ uint32_t movmatrix_trans(uint32_t x) {
    uint32_t y;
    asm volatile("movmatrix.sync.aligned.m8n8.trans.b16 %0, %1;\n" : "=r"(y) : "r"(x));
    return y;
}

// Lane l's row/chunk for an ldmatrix.x4 that loads a 16x16 block as the four 8x8 matrices
// (rows 0-7, cols 0-7), (rows 8-15, cols 0-7), (rows 0-7, cols 8-15), (rows 8-15, cols 8-15):
// the A-fragment order, and also V's order for the transposed B load of P.V.
__device__ __forceinline__ int ldm_row_a(int lane) { return (lane & 7) + ((lane >> 3) & 1) * 8; }
__device__ __forceinline__ int ldm_chunk_a(int lane) { return lane >> 4; }
// Order (rows 0-7, cols 0-7), (rows 0-7, cols 8-15), (rows 8-15, cols 0-7), (rows 8-15, cols 8-15):
// with rows = keys and cols = dims this yields b0, b1 of key block 0 then b0, b1 of key block 1
// for the S = Q.K^T product.
__device__ __forceinline__ int ldm_row_b(int lane) { return (lane & 7) + (lane >> 4) * 8; }
__device__ __forceinline__ int ldm_chunk_b(int lane) { return (lane >> 3) & 1; }

// Maps a request's kv position to its row in the cache, counted in headDim units:
// row = (page * numKvHeads + kvHead) * pageSize + slot. 31 bits suffice (prefill keeps rows as
// int32 with -1 for "none"): rows = K cache bytes / (2 headDim), under 2^31 for a K cache below
// 64 GiB at head dim 16 and below 512 GiB at head dim 128.
struct PagedRows {
    const int32_t* pages;  // kvPageIndices + kvIndptr[r]: r's page list
    int pageSize;
    int shift;             // log2(pageSize) when it is a power of two, else -1
    int headRowBase;       // kvHead * pageSize
    int pageRows;          // numKvHeads * pageSize

    __device__ __forceinline__ void init(const int32_t* pageList, int pageSz, int kvHead, int numKvHeads) {
        pages = pageList;
        pageSize = pageSz;
        shift = (pageSz & (pageSz - 1)) == 0 ? __ffs(pageSz) - 1 : -1;
        headRowBase = kvHead * pageSz;
        pageRows = numKvHeads * pageSz;
    }

    // Position -> (index into the page list, slot inside the page).
    __device__ __forceinline__ void locate(int pos, int& pageIdx, int& slot) const {
        if (shift >= 0) {
            pageIdx = pos >> shift;
            slot = pos & (pageSize - 1);
        } else {
            pageIdx = pos / pageSize;
            slot = pos - pageIdx * pageSize;
        }
    }

    __device__ __forceinline__ uint32_t row_of(int page, int slot) const {
        return static_cast<uint32_t>(page) * pageRows + headRowBase + slot;
    }

    // pos must lie inside the request's context (callers zero-fill past its end instead).
    __device__ __forceinline__ uint32_t row(int pos) const {
        int pageIdx, slot;
        locate(pos, pageIdx, slot);
        return row_of(__ldg(pages + pageIdx), slot);
    }
};

}  // namespace attn
}  // namespace ps
