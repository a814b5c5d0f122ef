"""The VOC teacher's MobileNetV2 trunk as the generator's encoder (issue 31, ablation (d)).

`../shared/teachers/deeplabv3_mnv2_pascal_quant.tflite` is DeepLabV3 on a MobileNetV2 trunk, trained for
dense VOC prediction (0.817 mIoU on VOC 14, against 0.274 for a linear probe on the ImageNet Lite0 trunk).
Its convolutions run in the graph's order: the stem, then each inverted-residual block's expand (absent in
block 0), depthwise and project convolutions. Batch norms are already folded into them, as ours are. The
uint8 weights and int32 biases are dequantized with the file's own scales; the trunk is then fine-tuned.

DeepLab pads 'SAME' (asymmetrically at stride 2) and dilates its last blocks instead of striding; ours pad
symmetrically and stride (`generator.MOBILENETV2_BLOCKS`). Both differences are small shifts of what the
weights see, which the fine-tune absorbs.
"""

from pathlib import Path

import numpy as np
import torch

TEACHER_FILE = "teachers/deeplabv3_mnv2_pascal_quant.tflite"


def _dequantized(interp, details, index):
    q = interp.get_tensor(index).astype(np.float64)
    params = details[index]["quantization_parameters"]
    scales, zeros = params["scales"], params["zero_points"]
    if len(scales) == 0:  # a float tensor
        return q.astype(np.float32)
    axis = params["quantized_dimension"]
    shape = [1] * q.ndim
    if len(scales) > 1:
        shape[axis] = len(scales)
    return ((q - zeros.reshape(shape)) * scales.reshape(shape)).astype(np.float32)


def trunk_convolutions(shared):
    """The teacher's convolutions in graph order, as (kind, weight in PyTorch layout, bias)."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(Path(shared) / TEACHER_FILE))
    interp.allocate_tensors()
    details = {d["index"]: d for d in interp.get_tensor_details()}
    convs = []
    for op in interp._get_ops_details():
        if op["op_name"] not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        _, w_index, b_index = op["inputs"][:3]
        w = _dequantized(interp, details, w_index)
        b = _dequantized(interp, details, b_index)
        if op["op_name"] == "CONV_2D":  # [out, kh, kw, in] -> [out, in, kh, kw]
            w = w.transpose(0, 3, 1, 2)
        else:  # [1, kh, kw, channels] -> [channels, 1, kh, kw]
            w = w.transpose(3, 0, 1, 2)
        convs.append((op["op_name"], torch.from_numpy(np.ascontiguousarray(w)), torch.from_numpy(b)))
    return convs


def load_voc_trunk(model, shared):
    """Copy the teacher's trunk into `model.encoder` (a "mobilenetv2" generator). Fails if any shape differs."""
    enc = model.encoder
    targets = [enc.stem]
    for block in enc.blocks:
        targets += ([block.expand] if block.expand is not None else []) + [block.depthwise, block.project]
    convs = trunk_convolutions(shared)
    if len(convs) < len(targets):
        raise ValueError(f"the teacher has {len(convs)} convolutions, the trunk needs {len(targets)}")
    with torch.no_grad():
        for i, (conv, (kind, w, b)) in enumerate(zip(targets, convs)):
            if conv.weight.shape != w.shape or conv.bias.shape != b.shape:
                raise ValueError(f"convolution {i} ({kind}) has shape {tuple(w.shape)}, the trunk's is "
                                 f"{tuple(conv.weight.shape)}")
            conv.weight.copy_(w)
            conv.bias.copy_(b)
    return len(targets)
