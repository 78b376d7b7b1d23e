// nst: neural style transfer on the CPU (Gatys, Ecker & Bethge 2015). Include this one header.
#pragma once

#include "core/error.hpp"
#include "core/memory_limit.hpp"
#include "core/number_text.hpp"
#include "core/tensor.hpp"
#include "core/threads.hpp"
#include "core/version.hpp"

#include "layers/conv3x3.hpp"
#include "layers/conv_algorithm.hpp"
#include "layers/layer_traits.hpp"
#include "layers/pool2x2.hpp"
#include "layers/relu.hpp"
#include "layers/sequential.hpp"
#include "layers/test_layer.hpp"

#include "models/layer_aliases.hpp"
#include "models/model_kind.hpp"
#include "models/vgg16.hpp"
#include "models/vgg19.hpp"
#include "models/vgg_features.hpp"

#include "io/caffe_weights.hpp"
#include "io/image.hpp"
#include "io/keras_weights.hpp"
#include "io/model_weights.hpp"
#include "io/preprocess.hpp"
#include "io/pytorch_weights.hpp"
#include "io/read_weights.hpp"
#include "io/weights_lookup.hpp"

#include "loss/content_loss.hpp"
#include "loss/gram.hpp"
#include "loss/masked_content_loss.hpp"
#include "loss/masked_style_loss.hpp"
#include "loss/objective.hpp"
#include "loss/style_loss.hpp"
#include "loss/total_variation_loss.hpp"

#include "optim/optim.hpp"

#include "style_transfer.hpp"
