#include "serving/reference/reference_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "tessera/serving/reference.h"

namespace tessera::serving::internal {
namespace {

int64_t Count(const std::vector<int>& dims) {
  int64_t n = 1;
  for (int d : dims) n *= d;
  return n;
}

// y = act(v + bias[channel] + residual[i]), the epilogue of conv, linear and add.
float Epilogue(const OpArgs& a, int64_t i, int channel, float v) {
  if (a.bias != nullptr) v += a.bias[channel];
  if (a.residual != nullptr) v += a.residual[i];
  return ApplyActivation(a.op->act, v);
}

}  // namespace

void Conv2d(const OpArgs& a) {
  const Op& op = *a.op;
  const int h_in = (*a.in_dims)[0], w_in = (*a.in_dims)[1], c_in = (*a.in_dims)[2];
  const int h_out = (*a.out_dims)[0], w_out = (*a.out_dims)[1], c_out = (*a.out_dims)[2];
  const int cg = c_in / op.groups, og = c_out / op.groups, k = op.kernel;
  int64_t i = 0;
  for (int n = 0; n < a.batch; ++n) {
    const float* x = a.x + int64_t{n} * h_in * w_in * c_in;
    for (int oh = 0; oh < h_out; ++oh) {
      for (int ow = 0; ow < w_out; ++ow) {
        for (int o = 0; o < c_out; ++o, ++i) {
          const int c0 = (o / og) * cg;
          float sum = 0.0f;
          for (int kh = 0; kh < k; ++kh) {
            const int ih = oh * op.stride - op.pad + kh;
            if (ih < 0 || ih >= h_in) continue;
            for (int kw = 0; kw < k; ++kw) {
              const int iw = ow * op.stride - op.pad + kw;
              if (iw < 0 || iw >= w_in) continue;
              const float* xp = x + (int64_t{ih} * w_in + iw) * c_in + c0;
              const float* wp = a.weight + ((int64_t{o} * k + kh) * k + kw) * cg;
              for (int c = 0; c < cg; ++c) sum += xp[c] * wp[c];
            }
          }
          a.y[i] = Epilogue(a, i, o, RoundToHalf(sum));
        }
      }
    }
  }
}

void MaxPool(const OpArgs& a) {
  const Op& op = *a.op;
  const int h_in = (*a.in_dims)[0], w_in = (*a.in_dims)[1], c = (*a.in_dims)[2];
  const int h_out = (*a.out_dims)[0], w_out = (*a.out_dims)[1];
  int64_t i = 0;
  for (int n = 0; n < a.batch; ++n) {
    const float* x = a.x + int64_t{n} * h_in * w_in * c;
    for (int oh = 0; oh < h_out; ++oh) {
      for (int ow = 0; ow < w_out; ++ow) {
        for (int ch = 0; ch < c; ++ch, ++i) {
          float m = -std::numeric_limits<float>::infinity();
          for (int ih = std::max(0, oh * op.stride - op.pad);
               ih < std::min(h_in, oh * op.stride - op.pad + op.kernel); ++ih) {
            for (int iw = std::max(0, ow * op.stride - op.pad);
                 iw < std::min(w_in, ow * op.stride - op.pad + op.kernel); ++iw) {
              m = std::max(m, x[(int64_t{ih} * w_in + iw) * c + ch]);
            }
          }
          a.y[i] = m;
        }
      }
    }
  }
}

void AvgPool(const OpArgs& a) {
  const int h_in = (*a.in_dims)[0], w_in = (*a.in_dims)[1], c = (*a.in_dims)[2];
  const int side = a.op->out_side;
  int64_t i = 0;
  for (int n = 0; n < a.batch; ++n) {
    const float* x = a.x + int64_t{n} * h_in * w_in * c;
    for (int oh = 0; oh < side; ++oh) {
      const int h0 = oh * h_in / side, h1 = ((oh + 1) * h_in + side - 1) / side;
      for (int ow = 0; ow < side; ++ow) {
        const int w0 = ow * w_in / side, w1 = ((ow + 1) * w_in + side - 1) / side;
        for (int ch = 0; ch < c; ++ch, ++i) {
          float sum = 0.0f;
          for (int ih = h0; ih < h1; ++ih) {
            for (int iw = w0; iw < w1; ++iw) sum += x[(int64_t{ih} * w_in + iw) * c + ch];
          }
          a.y[i] = sum / static_cast<float>((h1 - h0) * (w1 - w0));
        }
      }
    }
  }
}

void AddOrActivate(const OpArgs& a) {
  const int64_t n = a.batch * Count(*a.out_dims);
  for (int64_t i = 0; i < n; ++i) a.y[i] = Epilogue(a, i, 0, a.x[i]);
}

void Linear(const OpArgs& a) {
  const int n_out = a.out_dims->back();
  const int64_t rows = a.batch * Count(*a.out_dims) / n_out;
  const int64_t k = a.batch * Count(*a.in_dims) / rows;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = a.x + r * k;
    for (int j = 0; j < n_out; ++j) {
      const float* w = a.weight + j * k;
      float sum = 0.0f;
      for (int64_t c = 0; c < k; ++c) sum += x[c] * w[c];
      a.y[r * n_out + j] = Epilogue(a, r * n_out + j, j, sum);
    }
  }
}

void Embedding(const OpArgs& a) {
  const int tokens = (*a.out_dims)[0], dim = (*a.out_dims)[1];
  for (int n = 0; n < a.batch; ++n) {
    for (int t = 0; t < tokens; ++t) {
      const int64_t id = static_cast<int64_t>(a.x[int64_t{n} * tokens + t]);
      float* y = a.y + (int64_t{n} * tokens + t) * dim;
      for (int d = 0; d < dim; ++d) y[d] = a.weight[id * dim + d] + a.bias[int64_t{t} * dim + d];
    }
  }
}

void LayerNorm(const OpArgs& a) {
  const int dim = a.out_dims->back();
  const int64_t rows = a.batch * Count(*a.out_dims) / dim;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = a.x + r * dim;
    float mean = 0.0f, var = 0.0f;
    for (int d = 0; d < dim; ++d) mean += x[d];
    mean /= static_cast<float>(dim);
    for (int d = 0; d < dim; ++d) var += (x[d] - mean) * (x[d] - mean);
    const float inv = 1.0f / std::sqrt(var / static_cast<float>(dim) + a.op->eps);
    for (int d = 0; d < dim; ++d) a.y[r * dim + d] = (x[d] - mean) * inv * a.weight[d] + a.bias[d];
  }
}

void Attention(const OpArgs& a) {
  const int tokens = (*a.out_dims)[0], dim = (*a.out_dims)[1];
  const int heads = a.op->heads, hd = dim / heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<float> p(tokens);
  for (int n = 0; n < a.batch; ++n) {
    const float* qkv = a.x + int64_t{n} * tokens * 3 * dim;
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < tokens; ++i) {
        const float* q = qkv + int64_t{i} * 3 * dim + h * hd;
        const int visible = a.op->causal ? i + 1 : tokens;
        float m = -std::numeric_limits<float>::infinity();
        for (int j = 0; j < visible; ++j) {
          const float* k = qkv + int64_t{j} * 3 * dim + dim + h * hd;
          float s = 0.0f;
          for (int d = 0; d < hd; ++d) s += q[d] * k[d];
          p[j] = RoundToHalf(s * scale);
          m = std::max(m, p[j]);
        }
        float sum = 0.0f;
        for (int j = 0; j < visible; ++j) sum += (p[j] = std::exp(p[j] - m));
        for (int j = 0; j < visible; ++j) p[j] = RoundToHalf(p[j] / sum);
        float* y = a.y + (int64_t{n} * tokens + i) * dim + h * hd;
        for (int d = 0; d < hd; ++d) {
          float acc = 0.0f;
          for (int j = 0; j < visible; ++j)
            acc += p[j] * qkv[int64_t{j} * 3 * dim + 2 * dim + h * hd + d];
          y[d] = acc;
        }
      }
    }
  }
}

void TakeToken(const OpArgs& a) {
  const int tokens = (*a.in_dims)[0], dim = (*a.in_dims)[1];
  const int t = a.op->token >= 0 ? a.op->token : tokens + a.op->token;
  for (int n = 0; n < a.batch; ++n) {
    std::copy_n(a.x + (int64_t{n} * tokens + t) * dim, dim, a.y + int64_t{n} * dim);
  }
}

}  // namespace tessera::serving::internal
