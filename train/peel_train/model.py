"""The generator network, mirroring `crates/peel-model/src/model.rs` tensor for tensor.

Parameter names (`stem.first.weight`, ...) equal Burn's module paths, so the exported
safetensors file loads into the Rust model without remapping.
"""

import torch
from torch import nn
import torch.nn.functional as F

SIZE_MULTIPLE = 8


class ConvPair(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, stride: int):
        super().__init__()
        self.first = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1)
        self.second = nn.Conv2d(channels_out, channels_out, 3, padding=1)

    def forward(self, x):
        return F.relu(self.second(F.relu(self.first(x))))


def upsample_and_join(coarse, skip):
    coarse = F.interpolate(coarse, size=skip.shape[-2:], mode="nearest")
    return torch.cat([coarse, skip], dim=1)


class PeelUNet(nn.Module):
    def __init__(self, base_channels: int):
        super().__init__()
        c = base_channels
        self.stem = ConvPair(3, c, 1)
        self.down1 = ConvPair(c, 2 * c, 2)
        self.down2 = ConvPair(2 * c, 4 * c, 2)
        self.down3 = ConvPair(4 * c, 4 * c, 2)
        self.up2 = ConvPair(8 * c, 4 * c, 1)
        self.up1 = ConvPair(6 * c, 2 * c, 1)
        self.up0 = ConvPair(3 * c, c, 1)
        self.head = nn.Conv2d(c, 3, 1)

    def forward(self, image):
        s0 = self.stem(image)
        s1 = self.down1(s0)
        s2 = self.down2(s1)
        s3 = self.down3(s2)
        x = self.up2(upsample_and_join(s3, s2))
        x = self.up1(upsample_and_join(x, s1))
        x = self.up0(upsample_and_join(x, s0))
        return torch.sigmoid(self.head(x))
