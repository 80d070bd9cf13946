// tessera/base/rng.h — seeded, independent random streams for deterministic simulation.
//
// Every random source (an arrival generator, a noise source) owns its own RngStream derived from
// (seed, stream id), so adding a source never changes the numbers another source draws, and the
// same seed always gives the same output. The generator is xoshiro256** seeded through SplitMix64:
// fast (a few ns a draw) and of high statistical quality. No std::random_device anywhere in library
// code.
//
// Example:
//   RngStream rng(/*seed=*/42, /*stream=*/3);
//   double u = rng.Uniform();                 // [0, 1)
//   double gap_s = rng.Exponential(1000.0);   // mean 1 ms
//
// Not thread-safe: one stream per thread or source.
#ifndef TESSERA_BASE_RNG_H_
#define TESSERA_BASE_RNG_H_

#include <cmath>
#include <cstdint>

namespace tessera {

class RngStream {
 public:
  RngStream(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1));
    for (uint64_t& s : state_) s = SplitMix64(x);
  }

  // 64 random bits.
  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe for log().
  double UniformPositive() { return 1.0 - Uniform(); }
  // Exponential with the given rate (mean 1/rate). REQUIRES: rate > 0.
  double Exponential(double rate) { return -std::log(UniformPositive()) / rate; }
  // Standard normal (Box-Muller; one value per call).
  double Normal() {
    return std::sqrt(-2.0 * std::log(UniformPositive())) * std::cos(6.283185307179586 * Uniform());
  }
  // Gamma(shape, scale) (Marsaglia-Tsang; shape < 1 by the boost u^(1/shape)). REQUIRES: shape > 0.
  double Gamma(double shape, double scale) {
    if (shape < 1.0) return Gamma(shape + 1.0, scale) * std::pow(Uniform(), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    while (true) {
      double x = Normal(), v = 1.0 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      double u = Uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * scale;
    }
  }
  // Uniform integer in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(Uniform() * static_cast<double>(n)); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t state_[4];
};

}  // namespace tessera

#endif  // TESSERA_BASE_RNG_H_
