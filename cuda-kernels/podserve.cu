// The single translation unit of podserve's kernels, compiled with `nvcc -fatbin` into
// build/podserve.fatbin. kernel_list.inc is written into the build folder by the Makefile: one
// #include line per .cu file under attention/ and layers/ (paths relative to this folder, found
// through -I.), in sorted order. See README.md for why one unit.
#include "include/podserve_common.cuh"
#include "include/params.h"
#include "include/paged_kv.cuh"
#include "include/online_softmax.cuh"

#include "kernel_list.inc"
