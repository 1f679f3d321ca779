// The runner behind harness.h: argument parsing, fatbin loading, launches, checks, the summary.
//
// Usage: podserve_tests [--fatbin PATH] [--sanitize] [FILTER...]
// A test runs when its name contains any FILTER (all tests without one). Exit code 0 only when at
// least one check ran and none failed.
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <map>

namespace pst {
namespace {

struct State {
    std::vector<std::pair<std::string, TestFn>> tests;
    cudaLibrary_t library = nullptr;
    std::map<std::string, cudaKernel_t> kernels;
    bool sanitize = false;
    int passed = 0;
    int failed = 0;
};

State& state() {
    static State s;  // function-local: registrars in other files run before main
    return s;
}

}  // namespace

Registrar::Registrar(const char* name, TestFn fn) { state().tests.emplace_back(name, fn); }

bool sanitizing() { return state().sanitize; }

cudaKernel_t kernel(const char* name, size_t smemBytes) {
    State& st = state();
    auto it = st.kernels.find(name);
    if (it == st.kernels.end()) {
        cudaKernel_t k;
        cudaError_t e = cudaLibraryGetKernel(&k, st.library, name);
        if (e != cudaSuccess) {
            fprintf(stderr, "kernel %s not found in the fatbin: %s\n", name, cudaGetErrorString(e));
            exit(2);
        }
        it = st.kernels.emplace(name, k).first;
    }
    if (smemBytes > 48 * 1024) {
        int device;
        PS_CUDA_CHECK(cudaGetDevice(&device));
        PS_CUDA_CHECK(cudaKernelSetAttributeForDevice(it->second, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                      (int)smemBytes, device));
    }
    return it->second;
}

void launch_raw(const char* name, dim3 grid, dim3 block, void* params, size_t smemBytes) {
    cudaKernel_t k = kernel(name, smemBytes);
    void* args[] = {params};
    cudaError_t e = cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, block, args, smemBytes, 0);
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e != cudaSuccess) {
        fprintf(stderr, "launch of %s (grid %u,%u,%u block %u,%u,%u smem %zu) failed: %s\n", name, grid.x, grid.y,
                grid.z, block.x, block.y, block.z, smemBytes, cudaGetErrorString(e));
        exit(2);
    }
}

uint16_t to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if (isnan(f)) return kNanBf16;
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

float from_bf16(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint64_t Rng::next() {  // splitmix64
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * ((next() >> 11) * 0x1.0p-53); }

int Rng::below(int n) { return (int)(next() % (uint64_t)n); }

double Rng::normal() {
    double u1 = uniform(1e-300, 1.0);
    double u2 = uniform(0.0, 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

std::vector<uint16_t> random_bf16(Rng& rng, size_t n, double lo, double hi) {
    std::vector<uint16_t> v(n);
    for (auto& x : v) x = to_bf16((float)rng.uniform(lo, hi));
    return v;
}

std::string fmt(const char* format, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, format);
    vsnprintf(buf, sizeof buf, format, ap);
    va_end(ap);
    return buf;
}

bool check(const std::string& name, bool ok, const std::string& detail) {
    State& st = state();
    (ok ? st.passed : st.failed)++;
    printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.empty() ? "" : "  ", detail.c_str());
    fflush(stdout);
    return ok;
}

namespace {

bool compare(const std::string& name, size_t n, size_t wantN, double rtol, double atol,
             double (*gotAt)(const void*, size_t), const void* got, const std::vector<double>& want) {
    if (n != wantN) return check(name, false, fmt("size %zu, expected %zu", n, wantN));
    size_t bad = 0, first = 0;
    double worstRel = 0;
    for (size_t i = 0; i < n; ++i) {
        double g = gotAt(got, i);
        double w = want[i];
        bool ok;
        if (isnan(w)) {
            ok = isnan(g);
        } else {
            double err = fabs(g - w);
            ok = isfinite(g) && err <= rtol * fabs(w) + atol;
            if (ok && fabs(w) > atol) worstRel = fmax(worstRel, err / fabs(w));
        }
        if (!ok && bad++ == 0) first = i;
    }
    if (bad == 0) return check(name, true, fmt("(%zu elements, max rel err %.2e)", n, worstRel));
    return check(name, false, fmt("%zu of %zu elements off; first [%zu]: got %.6g want %.6g", bad, n, first,
                                  gotAt(got, first), want[first]));
}

double float_at(const void* p, size_t i) { return static_cast<const float*>(p)[i]; }
double bf16_at(const void* p, size_t i) { return from_bf16(static_cast<const uint16_t*>(p)[i]); }

}  // namespace

bool check_close(const std::string& name, const std::vector<float>& got, const std::vector<double>& want,
                 double rtol, double atol) {
    return compare(name, got.size(), want.size(), rtol, atol, float_at, got.data(), want);
}

bool check_close_bf16(const std::string& name, const std::vector<uint16_t>& got, const std::vector<double>& want,
                      double rtol, double atol) {
    return compare(name, got.size(), want.size(), rtol, atol, bf16_at, got.data(), want);
}

bool check_bits(const std::string& name, const std::vector<uint16_t>& got, const std::vector<uint16_t>& want) {
    if (got.size() != want.size()) return check(name, false, fmt("size %zu, expected %zu", got.size(), want.size()));
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (got[i] != want[i] && bad++ == 0) first = i;
    }
    if (bad == 0) return check(name, true, fmt("(%zu elements, bit-exact)", got.size()));
    return check(name, false, fmt("%zu of %zu elements differ; first [%zu]: got 0x%04x want 0x%04x", bad, got.size(),
                                  first, got[first], want[first]));
}

bool check_ints(const std::string& name, const std::vector<int32_t>& got, const std::vector<int32_t>& want) {
    if (got.size() != want.size()) return check(name, false, fmt("size %zu, expected %zu", got.size(), want.size()));
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (got[i] != want[i] && bad++ == 0) first = i;
    }
    if (bad == 0) return check(name, true, fmt("(%zu values, exact)", got.size()));
    return check(name, false,
                 fmt("%zu of %zu values differ; first [%zu]: got %d want %d", bad, got.size(), first, got[first],
                     want[first]));
}

}  // namespace pst

int main(int argc, char** argv) {
    pst::State& st = pst::state();
    const char* fatbin = "build/podserve.fatbin";
    std::vector<std::string> filters;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--fatbin") && i + 1 < argc) {
            fatbin = argv[++i];
        } else if (!strcmp(argv[i], "--sanitize")) {
            st.sanitize = true;
        } else {
            filters.push_back(argv[i]);
        }
    }
    cudaDeviceProp prop;
    PS_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    printf("device: %s (sm_%d%d, %d SMs), fatbin %s\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount,
           fatbin);
    PS_CUDA_CHECK(cudaLibraryLoadFromFile(&st.library, fatbin, nullptr, nullptr, 0, nullptr, nullptr, 0));
    for (auto& t : st.tests) {
        bool selected = filters.empty();
        for (auto& f : filters) selected = selected || t.first.find(f) != std::string::npos;
        if (!selected) continue;
        printf("-- %s\n", t.first.c_str());
        t.second();
    }
    PS_CUDA_CHECK(cudaLibraryUnload(st.library));
    printf("%d passed, %d failed\n", st.passed, st.failed);
    return st.failed == 0 && st.passed > 0 ? 0 : 1;
}
