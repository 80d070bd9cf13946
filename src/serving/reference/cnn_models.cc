// ResNet-50 v1.5, MobileNetV2 and VGG16 in the zoo IR (NHWC; batch norm folded into conv biases).
#include <algorithm>
#include <string>

#include "fmt/core.h"
#include "serving/reference/zoo_builder.h"

namespace tessera::serving::internal {
namespace {

constexpr float kResidualGain = 0.25f;  // last conv of a residual branch: a small folded-BN gamma

int Classes(const ZooOptions& options) { return options.classes > 0 ? options.classes : 1000; }

// Bottleneck: 1x1 -> 3x3 (stride here, v1.5) -> 1x1 x4, plus the identity or a 1x1 projection.
int Bottleneck(GraphBuilder& b, const std::string& name, int x, int width, int stride) {
  const int out = width * 4;
  int shortcut = x;
  if (stride != 1 || b.dims(x)[2] != out) {
    shortcut = b.Conv(name + ".downsample", x, {.out_channels = out, .stride = stride});
  }
  int y = b.Conv(name + ".conv1", x, {.out_channels = width, .act = Activation::kRelu});
  y = b.Conv(
      name + ".conv2", y,
      {.out_channels = width, .kernel = 3, .stride = stride, .pad = 1, .act = Activation::kRelu});
  return b.Conv(
      name + ".conv3", y,
      {.out_channels = out, .act = Activation::kRelu, .residual = shortcut, .gain = kResidualGain});
}

// Inverted residual: 1x1 expand (t != 1) -> 3x3 depthwise -> 1x1 project (+ input when shapes
// match).
int InvertedResidual(GraphBuilder& b, const std::string& name, int x, int expand, int out,
                     int stride) {
  const int in = b.dims(x)[2];
  const int hidden = in * expand;
  int y = x;
  if (expand != 1) {
    y = b.Conv(name + ".expand", y, {.out_channels = hidden, .act = Activation::kRelu6});
  }
  y = b.Conv(name + ".depthwise", y,
             {.out_channels = hidden,
              .kernel = 3,
              .stride = stride,
              .pad = 1,
              .groups = hidden,
              .act = Activation::kRelu6});
  const bool residual = stride == 1 && in == out;
  return b.Conv(name + ".project", y,
                {.out_channels = out,
                 .residual = residual ? x : -1,
                 .gain = residual ? kResidualGain * 2 : 1.0f});
}

}  // namespace

ModelGraph BuildResnet50(int side, const ZooOptions& options) {
  GraphBuilder b("resnet50", side, false, {side, side, 3});
  int x = b.Conv("conv1", b.input(),
                 {.out_channels = ScaleWidth(64, options),
                  .kernel = 7,
                  .stride = 2,
                  .pad = 3,
                  .act = Activation::kRelu});
  x = b.MaxPool("maxpool", x, 3, 2, 1);
  const int blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    const int width = ScaleWidth(64 << stage, options);
    for (int i = 0; i < ScaleBlocks(blocks[stage], options); ++i) {
      const int stride = (stage > 0 && i == 0) ? 2 : 1;
      x = Bottleneck(b, fmt::format("layer{}.{}", stage + 1, i), x, width, stride);
    }
  }
  x = b.AvgPool("avgpool", x, 1);
  return std::move(b).Finish(b.Linear("fc", x, {.out_features = Classes(options)}));
}

ModelGraph BuildMobilenetV2(int side, const ZooOptions& options) {
  GraphBuilder b("mobilenet_v2", side, false, {side, side, 3});
  int x = b.Conv("features.0", b.input(),
                 {.out_channels = ScaleWidth(32, options),
                  .kernel = 3,
                  .stride = 2,
                  .pad = 1,
                  .act = Activation::kRelu6});
  struct Setting {
    int expand, channels, blocks, stride;
  };
  const Setting settings[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                              {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int index = 1;
  for (const Setting& s : settings) {
    for (int i = 0; i < ScaleBlocks(s.blocks, options); ++i) {
      x = InvertedResidual(b, fmt::format("features.{}", index++), x, s.expand,
                           ScaleWidth(s.channels, options), i == 0 ? s.stride : 1);
    }
  }
  x = b.Conv(fmt::format("features.{}", index), x,
             {.out_channels = ScaleWidth(1280, options), .act = Activation::kRelu6});
  x = b.AvgPool("avgpool", x, 1);
  return std::move(b).Finish(b.Linear("classifier", x, {.out_features = Classes(options)}));
}

ModelGraph BuildVgg16(int side, const ZooOptions& options) {
  GraphBuilder b("vgg16", side, false, {side, side, 3});
  const int convs[] = {2, 2, 3, 3, 3};
  int x = b.input();
  for (int stage = 0; stage < 5; ++stage) {
    const int channels = ScaleWidth(std::min(64 << stage, 512), options);
    for (int i = 0; i < ScaleBlocks(convs[stage], options); ++i) {
      x = b.Conv(fmt::format("features.{}.{}", stage, i), x,
                 {.out_channels = channels, .kernel = 3, .pad = 1, .act = Activation::kRelu});
    }
    x = b.MaxPool(fmt::format("pool{}", stage), x, 2, 2, 0);
  }
  x = b.AvgPool("avgpool", x, 7);
  const int hidden = ScaleWidth(4096, options);
  x = b.Linear("classifier.0", x, {.out_features = hidden, .act = Activation::kRelu});
  x = b.Linear("classifier.3", x, {.out_features = hidden, .act = Activation::kRelu});
  return std::move(b).Finish(b.Linear("classifier.6", x, {.out_features = Classes(options)}));
}

}  // namespace tessera::serving::internal
