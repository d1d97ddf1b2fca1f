"""Caffe deploy files for the tests, written here from the papers' tables: AlexNet and
CaffeNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep
Convolutional Neural Networks", sections 3.3-3.5, 4.2 and 5, Figure 2) and GoogLeNet
(Szegedy et al. 2014, "Going deeper with convolutions", Table 1 and Figure 3), in Caffe's
layer names.

Each net is written in either layer syntax (``layer { type: "Convolution" }``, the old
``layers { type: CONVOLUTION }``) and with any of the input forms the reader takes, so the
same architecture checks every way of writing it."""

from __future__ import annotations

from typing import Literal

Syntax = Literal["layer", "layers"]
InputForm = Literal["input_dim", "input_shape", "Input", "Data"]

SYNTAXES: tuple[Syntax, ...] = ("layer", "layers")
INPUT_FORMS: tuple[InputForm, ...] = ("input_dim", "input_shape", "Input", "Data")

BATCH = 10  # N is not read by convcost; any value will do

# The old syntax's names for the types written here (caffe.proto, V1LayerParameter).
_OLD_TYPES = {
    "Data": "DATA", "Convolution": "CONVOLUTION", "ReLU": "RELU", "LRN": "LRN",
    "Pooling": "POOLING", "InnerProduct": "INNER_PRODUCT", "Dropout": "DROPOUT",
    "Softmax": "SOFTMAX", "Concat": "CONCAT", "SoftmaxWithLoss": "SOFTMAX_LOSS",
    "Accuracy": "ACCURACY",
}  # fmt: skip


def forms() -> list[tuple[Syntax, InputForm]]:
    """Every syntax with every input form it has: the old syntax has no Input layer."""
    return [(s, f) for s in SYNTAXES for f in INPUT_FORMS if (s, f) != ("layers", "Input")]


class _Writer:
    """A deploy file, one layer at a time; every layer's top is named as the layer, except
    in-place layers (ReLU, Dropout), whose top is their bottom."""

    def __init__(self, name: str, syntax: Syntax, input_form: InputForm, size: int) -> None:
        if (syntax, input_form) == ("layers", "Input"):
            raise ValueError("the old layers { } syntax has no Input layer")
        self.syntax = syntax
        self.lines = [f'name: "{name}"']
        dims = f"dim: {BATCH} dim: 3 dim: {size} dim: {size}"
        if input_form == "input_dim":
            self.lines.append('input: "data"')
            self.lines += [f"input_dim: {d}" for d in (BATCH, 3, size, size)]
        elif input_form == "input_shape":
            self.lines += ['input: "data"', f"input_shape {{ {dims} }}"]
        elif input_form == "Input":
            self.layer("data", "Input", [], "data", [f"input_param {{ shape {{ {dims} }} }}"])
        else:
            # A train_val's two data layers: only the TEST one is in a deploy network, and its
            # crop is the input (a larger TRAIN crop shows which one was read).
            for phase, crop, mirror in (("TRAIN", size + 29, "true"), ("TEST", size, "false")):
                self.layer(
                    "data",
                    "Data",
                    [],
                    "data",
                    [
                        f"include {{ phase: {phase} }}",
                        f"transform_param {{ crop_size: {crop} mirror: {mirror} }}",
                        f'data_param {{ source: "ilsvrc12_{phase.lower()}_lmdb" batch_size: '
                        f"{BATCH} backend: LMDB }}",
                    ],
                    extra_tops=["label"],
                )

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def layer(
        self,
        name: str,
        kind: str,
        bottoms: list[str],
        top: str,
        body: list[str],
        extra_tops: list[str] | None = None,
    ) -> None:
        old = self.syntax == "layers"
        type_text = _OLD_TYPES[kind] if old else f'"{kind}"'
        self.lines.append(f"{self.syntax} {{")
        self.lines.append(f'  name: "{name}"')
        self.lines.append(f"  type: {type_text}")
        self.lines += [f'  bottom: "{bottom}"' for bottom in bottoms]
        self.lines += [f'  top: "{t}"' for t in [top, *(extra_tops or [])]]
        self.lines += [f"  {line}" for line in body]
        self.lines.append("}")

    def learned(self) -> list[str]:
        """Learning rates and weight decay of a weight and a bias (ignored by convcost, as
        training settings are): the old syntax's fields, or the new one's param messages."""
        if self.syntax == "layers":
            return ["blobs_lr: 1", "blobs_lr: 2", "weight_decay: 1", "weight_decay: 0"]
        return ["param { lr_mult: 1 decay_mult: 1 }", "param { lr_mult: 2 decay_mult: 0 }"]

    def conv(
        self,
        name: str,
        bottom: str,
        filters: int,
        kernel: int,
        stride: int = 1,
        pad: int = 0,
        group: int = 1,
        fillers: str = "",
    ) -> str:
        fields = [f"num_output: {filters}", f"kernel_size: {kernel}"]
        fields += [f"stride: {stride}"] if stride != 1 else []
        fields += [f"pad: {pad}"] if pad else []
        fields += [f"group: {group}"] if group != 1 else []
        fields += [fillers] if fillers else []
        body = [*self.learned(), "convolution_param {", *(f"  {f}" for f in fields), "}"]
        self.layer(name, "Convolution", [bottom], name, body)
        return name

    def relu(self, name: str, blob: str) -> str:
        self.layer(name, "ReLU", [blob], blob, [])
        return blob

    def lrn(self, name: str, bottom: str) -> str:
        # Krizhevsky et al. 2012 section 3.3: n = 5, α = 1e-4, β = 0.75 (GoogLeNet's LRNs
        # have no figures of their own in the paper; they are the same layer).
        body = ["lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }"]
        self.layer(name, "LRN", [bottom], name, body)
        return name

    def pool(
        self, name: str, bottom: str, kind: str, kernel: int, stride: int, pad: int = 0
    ) -> str:
        fields = f"pool: {kind} kernel_size: {kernel} stride: {stride}"
        fields += f" pad: {pad}" if pad else ""
        self.layer(name, "Pooling", [bottom], name, [f"pooling_param {{ {fields} }}"])
        return name

    def dropout(self, name: str, blob: str, ratio: float) -> str:
        self.layer(name, "Dropout", [blob], blob, [f"dropout_param {{ dropout_ratio: {ratio} }}"])
        return blob

    def fc(self, name: str, bottom: str, units: int, fillers: str = "") -> str:
        fields = f"num_output: {units}" + (f" {fillers}" if fillers else "")
        body = [*self.learned(), f"inner_product_param {{ {fields} }}"]
        self.layer(name, "InnerProduct", [bottom], name, body)
        return name

    def softmax(self, name: str, bottom: str) -> str:
        self.layer(name, "Softmax", [bottom], name, [])
        return name

    def concat(self, name: str, bottoms: list[str]) -> str:
        self.layer(name, "Concat", bottoms, name, [])
        return name


# --- AlexNet and CaffeNet -------------------------------------------------------------------

# Krizhevsky et al. 2012, section 3.5 and Figure 2: the five convolutions as (filters,
# kernel, stride, padding, groups). Groups: conv2, conv4 and conv5 see only the maps on their
# own GPU, half the channels (group: 2); conv3 sees all of conv2's. The paper gives no
# padding: these are the pads that keep Figure 2's sizes (27 → 27, 13 → 13). Biases start at
# 1 in conv2, conv4, conv5 and the hidden dense layers, at 0 elsewhere (section 5).
ALEXNET_CONVS = (
    ("conv1", 96, 11, 4, 0, 1, 0),
    ("conv2", 256, 5, 1, 2, 2, 1),
    ("conv3", 384, 3, 1, 1, 1, 0),
    ("conv4", 384, 3, 1, 1, 2, 1),
    ("conv5", 256, 3, 1, 1, 2, 1),
)
ALEXNET_DENSE = (("fc6", 4096, 1), ("fc7", 4096, 1), ("fc8", 1000, 0))
ALEXNET_INPUT = 227  # the paper says 224, but 11×11 stride 4 makes 55 only from 227


def _fillers(bias: int) -> str:
    # Section 5: weights from a zero-mean Gaussian with standard deviation 0.01.
    return (
        'weight_filler { type: "gaussian" std: 0.01 } '
        f'bias_filler {{ type: "constant" value: {bias} }}'
    )


def _alexnet(name: str, pool_first: bool, syntax: Syntax, input_form: InputForm) -> str:
    """LRN after conv1 and conv2 and a 3×3 stride-2 max pool (overlapping pooling, section
    3.4) after both and after conv5; ReLU after every conv and dense layer, dropout 0.5
    after the first two dense layers (section 4.2). ``pool_first``: CaffeNet's order, pool
    then LRN."""
    net = _Writer(name, syntax, input_form, ALEXNET_INPUT)
    blob = "data"
    for index, (conv, filters, kernel, stride, pad, group, bias) in enumerate(ALEXNET_CONVS, 1):
        blob = net.conv(conv, blob, filters, kernel, stride, pad, group, _fillers(bias))
        blob = net.relu(f"relu{index}", blob)
        if index <= 2:
            steps = [("pool", f"pool{index}"), ("norm", f"norm{index}")]
            for step, layer in steps if pool_first else steps[::-1]:
                blob = (
                    net.pool(layer, blob, "MAX", 3, 2) if step == "pool" else net.lrn(layer, blob)
                )
        elif index == 5:
            blob = net.pool("pool5", blob, "MAX", 3, 2)
    for index, (dense, units, bias) in enumerate(ALEXNET_DENSE, 6):
        blob = net.fc(dense, blob, units, _fillers(bias))
        if index < 8:
            blob = net.relu(f"relu{index}", blob)
            blob = net.dropout(f"drop{index}", blob, 0.5)
    net.softmax("prob", blob)
    return net.text()


def alexnet(syntax: Syntax = "layer", input_form: InputForm = "Input") -> str:
    """AlexNet as the paper's two-GPU model: each LRN before its pool."""
    return _alexnet("AlexNet", False, syntax, input_form)


def caffenet(syntax: Syntax = "layer", input_form: InputForm = "Input") -> str:
    """CaffeNet: AlexNet with each pool before its LRN (Caffe's reference model)."""
    return _alexnet("CaffeNet", True, syntax, input_form)


# --- GoogLeNet ---------------------------------------------------------------------------------

# Szegedy et al. 2014, Table 1: each inception module's #1×1, #3×3 reduce, #3×3, #5×5 reduce,
# #5×5 and pool proj; the max pools 3×3/2 after 3b and 4e.
INCEPTIONS = (
    ("3a", 64, 96, 128, 16, 32, 32),
    ("3b", 128, 128, 192, 32, 96, 64),
    ("4a", 192, 96, 208, 16, 48, 64),
    ("4b", 160, 112, 224, 24, 64, 64),
    ("4c", 128, 128, 256, 24, 64, 64),
    ("4d", 112, 144, 288, 32, 64, 64),
    ("4e", 256, 160, 320, 32, 128, 128),
    ("5a", 256, 160, 320, 32, 128, 128),
    ("5b", 384, 192, 384, 48, 128, 128),
)
POOL_AFTER = {"3b": "pool3/3x3_s2", "4e": "pool4/3x3_s2"}
GOOGLENET_INPUT = 224


def _inception(net: _Writer, module: str, bottom: str, sizes: tuple[int, ...]) -> str:
    """One module (the paper's Figure 2(b)): four branches concatenated in Table 1's order;
    each 3×3 and 5×5 padded to keep the size, the 3×3 max pool with stride 1."""
    c1, c3r, c3, c5r, c5, proj = sizes
    p = f"inception_{module}"
    one = net.relu(f"{p}/relu_1x1", net.conv(f"{p}/1x1", bottom, c1, 1))
    r3 = net.relu(f"{p}/relu_3x3_reduce", net.conv(f"{p}/3x3_reduce", bottom, c3r, 1))
    three = net.relu(f"{p}/relu_3x3", net.conv(f"{p}/3x3", r3, c3, 3, pad=1))
    r5 = net.relu(f"{p}/relu_5x5_reduce", net.conv(f"{p}/5x5_reduce", bottom, c5r, 1))
    five = net.relu(f"{p}/relu_5x5", net.conv(f"{p}/5x5", r5, c5, 5, pad=2))
    pooled = net.pool(f"{p}/pool", bottom, "MAX", 3, 1, pad=1)
    projected = net.relu(f"{p}/relu_pool_proj", net.conv(f"{p}/pool_proj", pooled, proj, 1))
    return net.concat(f"{p}/output", [one, three, five, projected])


def googlenet(syntax: Syntax = "layer", input_form: InputForm = "Input") -> str:
    """GoogLeNet without its auxiliary classifiers (they are for training): Table 1's rows,
    the LRNs of Figure 3 (after the first pool and after the second convolution), pools
    unpadded (Caffe rounds their sizes up: 112 → 56 → 28 → 14 → 7)."""
    net = _Writer("GoogleNet", syntax, input_form, GOOGLENET_INPUT)
    blob = net.relu("conv1/relu_7x7", net.conv("conv1/7x7_s2", "data", 64, 7, 2, pad=3))
    blob = net.lrn("pool1/norm1", net.pool("pool1/3x3_s2", blob, "MAX", 3, 2))
    blob = net.conv("conv2/3x3_reduce", blob, 64, 1)
    blob = net.relu("conv2/relu_3x3_reduce", blob)
    blob = net.relu("conv2/relu_3x3", net.conv("conv2/3x3", blob, 192, 3, pad=1))
    blob = net.pool("pool2/3x3_s2", net.lrn("conv2/norm2", blob), "MAX", 3, 2)
    for module, *sizes in INCEPTIONS:
        blob = _inception(net, module, blob, tuple(sizes))
        if module in POOL_AFTER:
            blob = net.pool(POOL_AFTER[module], blob, "MAX", 3, 2)
    blob = net.pool("pool5/7x7_s1", blob, "AVE", 7, 1)
    blob = net.dropout("pool5/drop_7x7_s1", blob, 0.4)
    net.softmax("prob", net.fc("loss3/classifier", blob, 1000))
    return net.text()


# --- Network in Network ------------------------------------------------------------------------

# Lin, Chen and Yan, "Network In Network" (2014), as its ImageNet model was released for
# Caffe: four mlpconv stages, each a K×K convolution then two 1×1 ones ("cccp", cascaded
# cross-channel parametric pooling, section 3.1), as (conv, filters, kernel, stride, pad,
# the two 1×1s' filters); a 3×3 stride-2 max pool after the first three stages, dropout
# before the last, and a global average pool over the last stage's 1000 maps (section 3.2)
# in place of dense layers.
NIN_STAGES = (
    ("conv1", 96, 11, 4, 0, ("cccp1", 96), ("cccp2", 96), "pool0"),
    ("conv2", 256, 5, 1, 2, ("cccp3", 256), ("cccp4", 256), "pool2"),
    ("conv3", 384, 3, 1, 1, ("cccp5", 384), ("cccp6", 384), "pool3"),
    ("conv4-1024", 1024, 3, 1, 1, ("cccp7-1024", 1024), ("cccp8-1024", 1000), ""),
)
NIN_INPUT = 224


def nin(syntax: Syntax = "layer", input_form: InputForm = "Data", heads: bool = True) -> str:
    """NiN as released: a train_val file by default (its two data layers, and a loss and a
    TEST-phase accuracy reading the labels, which are no part of the network)."""
    net = _Writer("nin_imagenet", syntax, input_form, NIN_INPUT)
    blob, relu = "data", 0
    for conv, filters, kernel, stride, pad, first, second, pool in NIN_STAGES:
        if conv == "conv4-1024":
            blob = net.dropout("drop", blob, 0.5)
        blob = net.conv(conv, blob, filters, kernel, stride, pad)
        for name, width in (None, 0), first, second:
            if name is not None:
                blob = net.conv(name, blob, width, 1)
            relu += 1
            blob = net.relu(f"relu{relu}", blob)
        if pool:
            blob = net.pool(pool, blob, "MAX", 3, 2)
    blob = net.pool("pool4", blob, "AVE", 6, 1)
    if heads and input_form == "Data":
        net.layer("loss", "SoftmaxWithLoss", [blob, "label"], "loss", [])
        net.layer("accuracy", "Accuracy", [blob, "label"], "accuracy",
                  ["include { phase: TEST }"])  # fmt: skip
    return net.text()
