// Host side of the prefill's TMA loads (tma.cuh): the two tensor maps over one layer's paged K and V
// caches that PsAttentionParams.kvTensorMaps points to, for the native tests and benchmarks (the Java
// backend passes no maps: the TMA path measured no faster, attention/README.md). The maps must
// describe the launch's own caches, page size and head dim: the kernel arms its barriers from
// pageSize and headDim, so a map of another shape leaves them waiting forever.
//
// Map (innermost dimension first): (headDim, pageSize, numKvHeads, numPages) bf16 over
// [numPages][numKvHeads][pageSize][headDim]; box (64, pageSize, 1, 1) with the 128-byte swizzle;
// coordinates past a dimension read as zeros. Usable when headDim is 64 or 128 and pageSize a power
// of two from 8 to 64 (kv_tensor_maps_apply says whether).
#pragma once

#include <cuda.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "attention_params.h"

namespace ps_kv_maps {

inline bool kv_tensor_maps_apply(int headDim, int pageSize) {
    return (headDim == 64 || headDim == 128) && pageSize >= 8 && pageSize <= 64 && (pageSize & (pageSize - 1)) == 0;
}

// Fills maps[0] (K) and maps[1] (V); false when the shape does not apply or the driver refuses.
inline bool encode_kv_tensor_maps(CUtensorMap (&maps)[2], const void* kCache, const void* vCache, int numPages,
                                  int numKvHeads, int pageSize, int headDim) {
    if (!kv_tensor_maps_apply(headDim, pageSize)) return false;
    using Encode = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                                CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult qr;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &qr) != cudaSuccess ||
        qr != cudaDriverEntryPointSuccess || fn == nullptr)
        return false;
    const cuuint64_t row = (cuuint64_t)headDim * 2;  // bytes
    const cuuint64_t dims[4] = {(cuuint64_t)headDim, (cuuint64_t)pageSize, (cuuint64_t)numKvHeads, (cuuint64_t)numPages};
    const cuuint64_t strides[3] = {row, row * pageSize, row * pageSize * numKvHeads};
    const cuuint32_t box[4] = {64, (cuuint32_t)pageSize, 1, 1};
    const cuuint32_t elementStrides[4] = {1, 1, 1, 1};
    const void* bases[2] = {kCache, vCache};
    for (int i = 0; i < 2; ++i) {
        if (reinterpret_cast<Encode>(fn)(&maps[i], CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4, const_cast<void*>(bases[i]), dims,
                                         strides, box, elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                                         CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                                         CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) != CUDA_SUCCESS)
            return false;
    }
    return true;
}

// The two maps in device memory (what PsAttentionParams.kvTensorMaps takes); get() is NULL when the
// shape takes cp.async or the driver refused.
class DeviceKvMaps {
public:
    DeviceKvMaps(const void* kCache, const void* vCache, int numPages, int numKvHeads, int pageSize, int headDim) {
        CUtensorMap maps[2];
        if (!encode_kv_tensor_maps(maps, kCache, vCache, numPages, numKvHeads, pageSize, headDim)) return;
        if (cudaMalloc(&ptr_, sizeof maps) != cudaSuccess) {  // 256-byte aligned, as TMA needs 64
            ptr_ = nullptr;
            return;
        }
        if (cudaMemcpy(ptr_, maps, sizeof maps, cudaMemcpyHostToDevice) != cudaSuccess) {
            cudaFree(ptr_);
            ptr_ = nullptr;
        }
    }
    ~DeviceKvMaps() { cudaFree(ptr_); }
    DeviceKvMaps(const DeviceKvMaps&) = delete;
    DeviceKvMaps& operator=(const DeviceKvMaps&) = delete;
    const void* get() const { return ptr_; }

private:
    void* ptr_ = nullptr;
};

}  // namespace ps_kv_maps
