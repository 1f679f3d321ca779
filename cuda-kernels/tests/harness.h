// Native test harness: loads build/podserve.fatbin the way the Java side does (one library, kernels
// by name, the params struct passed by value as the only argument), runs registered tests, and
// prints one line per check and a final "N passed, M failed" line.
//
// A test file registers functions with PS_TEST(name) { ... }; inside, it builds inputs on the host,
// uploads them, poisons every output (so an element the kernel forgot shows up as NaN), launches,
// downloads and calls one of the check_* functions per output buffer.
#pragma once

#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

#include "podserve_common.cuh"

namespace pst {

typedef void (*TestFn)();

struct Registrar {
    Registrar(const char* name, TestFn fn);
};

#define PS_TEST(name)                                  \
    static void name();                                \
    static ::pst::Registrar name##_registrar(#name, name); \
    static void name()

// True under `make sanitize`: tests may drop their largest cases, which add minutes there and no
// new coverage.
bool sanitizing();

// ---- kernels --------------------------------------------------------------------------------

// Launches kernel `name` from the fatbin with `params` as its single by-value argument, then
// synchronises so a fault is reported against this launch. Dynamic shared memory above 48 KB is
// enabled on the kernel first.
void launch_raw(const char* name, dim3 grid, dim3 block, void* params, size_t smemBytes);

// The kernel handle itself, for tests that launch on their own streams or capture graphs; dynamic
// shared memory above 48 KB is enabled on it first, as launch_raw does.
cudaKernel_t kernel(const char* name, size_t smemBytes = 0);

template <class P>
void launch(const char* name, dim3 grid, dim3 block, const P& params, size_t smemBytes = 0) {
    P copy = params;
    launch_raw(name, grid, block, &copy, smemBytes);
}

// ---- device memory --------------------------------------------------------------------------

template <class T>
class DeviceBuffer {
public:
    explicit DeviceBuffer(size_t n) : n_(n) { PS_CUDA_CHECK(cudaMalloc(&ptr_, (n ? n : 1) * sizeof(T))); }
    explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
    ~DeviceBuffer() { cudaFree(ptr_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    T* get() const { return ptr_; }
    size_t size() const { return n_; }

    void upload(const std::vector<T>& host) {
        PS_CUDA_CHECK(cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
    }
    std::vector<T> download() const {
        std::vector<T> host(n_);
        PS_CUDA_CHECK(cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
        return host;
    }
    // All bytes 0xFF: NaN as bf16 (0xFFFF) and fp32, -1 as int32.
    void poison() { PS_CUDA_CHECK(cudaMemset(ptr_, 0xFF, n_ * sizeof(T))); }

private:
    T* ptr_ = nullptr;
    size_t n_;
};

// ---- host-side bf16 -------------------------------------------------------------------------

uint16_t to_bf16(float f);  // round to nearest even, NaN kept NaN
float from_bf16(uint16_t b);
constexpr uint16_t kPoisonBf16 = 0xFFFF;
constexpr uint16_t kNanBf16 = 0x7FC0;  // what kernels write for invalid rows (ps::bf16_nan)

// ---- random inputs --------------------------------------------------------------------------

class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint64_t next();
    double uniform(double lo, double hi);
    int below(int n);  // 0 .. n-1
    double normal();
    template <class T>
    void shuffle(std::vector<T>& v) {
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below((int)i)]);
    }

private:
    uint64_t s_;
};

std::vector<uint16_t> random_bf16(Rng& rng, size_t n, double lo, double hi);

// ---- checks (each prints one PASS/FAIL line) ------------------------------------------------

// Element i passes when |got - want| <= rtol * |want| + atol, or when both are NaN (an output the
// kernel must leave poisoned, or must mark NaN). A NaN or inf where a number is wanted fails.
bool check_close(const std::string& name, const std::vector<float>& got, const std::vector<double>& want,
                 double rtol, double atol);
bool check_close_bf16(const std::string& name, const std::vector<uint16_t>& got, const std::vector<double>& want,
                      double rtol, double atol);
// Bit-for-bit equality (copies, the KV cache, rounded residuals).
bool check_bits(const std::string& name, const std::vector<uint16_t>& got, const std::vector<uint16_t>& want);
bool check_ints(const std::string& name, const std::vector<int32_t>& got, const std::vector<int32_t>& want);
// A check computed by the test itself.
bool check(const std::string& name, bool ok, const std::string& detail);

// printf into a std::string, for check names.
std::string fmt(const char* format, ...);

}  // namespace pst
