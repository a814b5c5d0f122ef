"""Peel's generalist generator, mirrored tensor for tensor by `crates/peel-model/src/model.rs`.

Image + prompt in, a painted visualization out. The network predicts *what* to paint (a depth-walk
position, a normal vector, or per-pixel logits over the prompt's entries); a fixed, differentiable
painter turns that into protocol colours. Colours therefore never enter the network: any colour a
prompt asks for works, and depth/normal paintings always lie on the protocol's colour paths.

Parameter names equal Burn's module paths. Linear weights are stored as [in, out] (Burn's layout).
"""

import math
from typing import NamedTuple, Optional

import torch
from torch import nn
import torch.nn.functional as F

SIZE_MULTIPLE = 32
# The model input: the manifest's `normalization`, which the app checks against its own.
NORMALIZATION = "rgb / 127.5 - 1"
PHRASE_DIM = 384  # all-MiniLM-L6-v2
MAX_INSTANCES = 8
TASKS = ["depth", "normals", "semantic", "instance", "referring"]
TASK_DEPTH, TASK_NORMALS, TASK_SEMANTIC, TASK_INSTANCE, TASK_REFERRING = range(5)

# EfficientNet-Lite0 blocks: (kernel, stride, expand ratio, channels in, channels out).
LITE0_BLOCKS = [
    (3, 1, 1, 32, 16),
    (3, 2, 6, 16, 24), (3, 1, 6, 24, 24),
    (5, 2, 6, 24, 40), (5, 1, 6, 40, 40),
    (3, 2, 6, 40, 80), (3, 1, 6, 80, 80), (3, 1, 6, 80, 80),
    (5, 1, 6, 80, 112), (5, 1, 6, 112, 112), (5, 1, 6, 112, 112),
    (5, 2, 6, 112, 192), (5, 1, 6, 192, 192), (5, 1, 6, 192, 192), (5, 1, 6, 192, 192),
    (3, 1, 6, 192, 320),
]
# MobileNetV2 (width 1.0), as in the DeepLab VOC teacher whose trunk can initialise it
# (`voc_trunk.py`). DeepLab dilates the stride-32 blocks; here they stride, like every other level.
MOBILENETV2_BLOCKS = [
    (3, 1, 1, 32, 16),
    (3, 2, 6, 16, 24), (3, 1, 6, 24, 24),
    (3, 2, 6, 24, 32), (3, 1, 6, 32, 32), (3, 1, 6, 32, 32),
    (3, 2, 6, 32, 64), (3, 1, 6, 64, 64), (3, 1, 6, 64, 64), (3, 1, 6, 64, 64),
    (3, 1, 6, 64, 96), (3, 1, 6, 96, 96), (3, 1, 6, 96, 96),
    (3, 2, 6, 96, 160), (3, 1, 6, 160, 160), (3, 1, 6, 160, 160),
    (3, 1, 6, 160, 320),
]
# The manifest's encoder names: (blocks, the blocks whose outputs feed the decoder at strides
# 2, 4, 8, 16, 32).
ENCODERS = {
    "efficientnet-lite0": (LITE0_BLOCKS, [0, 2, 4, 10, 15]),
    "mobilenetv2": (MOBILENETV2_BLOCKS, [0, 2, 5, 12, 16]),
}
DEFAULT_ENCODER = "efficientnet-lite0"


def feature_channels(encoder: str):
    blocks, features = ENCODERS[encoder]
    return [blocks[i][4] for i in features]


def encoder_of(state) -> str:
    """Which encoder a state dict holds (by its block count)."""
    n = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("encoder.blocks."))
    for name, (blocks, _) in ENCODERS.items():
        if len(blocks) == n:
            return name
    raise ValueError(f"no known encoder has {n} blocks")


def has_presence(state) -> bool:
    """Whether a state dict holds a presence head."""
    return any(k.startswith("presence.") for k in state)


# The depth walk's vertices: black, red, yellow, green, cyan, blue, magenta, white.
WALK = torch.tensor(
    [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1], [1, 0, 1], [1, 1, 1]],
    dtype=torch.float32,
)


class Linear(nn.Module):
    """y = x W + b with W stored [in, out], as Burn stores it."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        bound = 1 / math.sqrt(d_in)
        self.weight = nn.Parameter(torch.empty(d_in, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(d_out).uniform_(-bound, bound))

    def forward(self, x):
        return x @ self.weight + self.bias


class MBConv(nn.Module):
    """Inverted residual block (batch norm folded into the convolutions, ReLU6, no SE)."""

    def __init__(self, kernel, stride, expand, c_in, c_out):
        super().__init__()
        hidden = c_in * expand
        self.expand = nn.Conv2d(c_in, hidden, 1) if expand != 1 else None
        self.depthwise = nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden)
        self.project = nn.Conv2d(hidden, c_out, 1)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        y = F.relu6(self.expand(x)) if self.expand is not None else x
        y = self.project(F.relu6(self.depthwise(y)))
        return x + y if self.residual else y


class Encoder(nn.Module):
    def __init__(self, name: str = DEFAULT_ENCODER):
        super().__init__()
        blocks, self.feature_blocks = ENCODERS[name]
        self.stem = nn.Conv2d(3, 32, 3, 2, 1)
        self.blocks = nn.ModuleList(MBConv(*b) for b in blocks)

    def forward(self, x):
        x = F.relu6(self.stem(x))
        features = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.feature_blocks:
                features.append(x)
        return features


class Film(nn.Module):
    """Task-conditioned scale and shift: x * (1 + gamma) + beta."""

    def __init__(self, d_task: int, channels: int):
        super().__init__()
        self.proj = Linear(d_task, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x, task_vec):
        gamma, beta = self.proj(task_vec).chunk(2, dim=-1)
        return x * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]


class CrossAttention(nn.Module):
    """Pixels attend to the prompt's tokens (single head)."""

    def __init__(self, d: int):
        super().__init__()
        self.query = Linear(d, d)
        self.key = Linear(d, d)
        self.value = Linear(d, d)
        self.out = Linear(d, d)
        self.scale = 1 / math.sqrt(d)

    def forward(self, x, tokens, token_bias):
        b, c, h, w = x.shape
        pixels = x.flatten(2).transpose(1, 2)  # [B, HW, C]
        scores = self.query(pixels) @ self.key(tokens).transpose(1, 2) * self.scale
        attn = torch.softmax(scores + token_bias[:, None, :], dim=-1)
        update = self.out(attn @ self.value(tokens))
        return x + update.transpose(1, 2).reshape(b, c, h, w)


class SeparableConv(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.depthwise = nn.Conv2d(c_in, c_in, 3, 1, 1, groups=c_in)
        self.pointwise = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


# The presence head's starting logit (see PresenceHead).
PRESENCE_OFFSET = 6.0


class PresenceHead(nn.Module):
    """Is each named thing in the photo at all? One image-level logit per token, from the encoder's
    stride-32 features (mean- and max-pooled) against the token's features. Its log-sigmoid is added to
    the token's pixel logits, so a name judged absent paints nothing however well its pixels match
    (docs/MODEL.md, "Redesign 2"). Starts at `offset` = PRESENCE_OFFSET: every name present, the gate
    near log-sigmoid(6) ~ -0.0025, so an existing model paints almost as before. (A zero-initialised token
    projection left the image side without gradient: after 800 steps it had learned only a class prior.)"""

    def __init__(self, c_image: int, d: int, hidden: int = 128):
        super().__init__()
        self.image = Linear(2 * c_image, hidden)
        self.token = Linear(d, hidden)
        self.offset = nn.Parameter(torch.full((1,), PRESENCE_OFFSET))

    def forward(self, f32, tok):
        """f32 [B,C,h,w], tok [B,T,d] -> presence logits [B,T]."""
        pooled = torch.cat([f32.mean(dim=(2, 3)), f32.amax(dim=(2, 3))], dim=1)
        h = F.relu(self.image(pooled))
        q = self.token(tok)
        return (q @ h[:, :, None])[..., 0] / math.sqrt(h.shape[1]) + self.offset


class Outputs(NamedTuple):
    """What the generator predicts at half resolution (see `PeelGenerator.forward`)."""
    walk: torch.Tensor
    normal: torch.Tensor
    logits: torch.Tensor
    presence: Optional[torch.Tensor]  # [B,T] logits, or None without a presence head
    probe_presence: Optional[torch.Tensor] = None  # [B,P] logits for `probe_phrases` (training only)


def up2(x):
    return F.interpolate(x, scale_factor=2, mode="nearest")


class PeelGenerator(nn.Module):
    def __init__(self, width: int = 64, fine_width: int = 32, encoder: str = DEFAULT_ENCODER,
                 presence: bool = False):
        super().__init__()
        d, f = width, fine_width
        self.encoder_name = encoder
        self.encoder = Encoder(encoder)
        c2, c4, c8, c16, c32 = feature_channels(encoder)
        self.lateral32 = nn.Conv2d(c32, d, 1)
        self.lateral16 = nn.Conv2d(c16, d, 1)
        self.lateral8 = nn.Conv2d(c8, d, 1)
        self.lateral4 = nn.Conv2d(c4, d, 1)
        self.lateral2 = nn.Conv2d(c2, f, 1)
        self.refine32 = nn.Conv2d(d, d, 3, 1, 1)
        self.refine16 = nn.Conv2d(d, d, 3, 1, 1)
        self.refine8 = nn.Conv2d(d, d, 3, 1, 1)
        self.refine4 = SeparableConv(d, d)
        self.reduce4 = nn.Conv2d(d, f, 1)
        self.refine2 = SeparableConv(f, f)
        self.task_embedding = nn.Embedding(len(TASKS), d)
        self.film32 = Film(d, d)
        self.film16 = Film(d, d)
        self.film8 = Film(d, d)
        self.film4 = Film(d, d)
        self.film2 = Film(d, f)
        # Prompt tokens: a learned null token (so attention always has a target) + one per entry.
        self.null_token = nn.Parameter(torch.zeros(1, d))
        self.phrase_proj = Linear(PHRASE_DIM, d)
        self.slot_embedding = nn.Embedding(MAX_INSTANCES + 1, d)  # 0: a class or phrase
        self.token_mlp = Linear(d, d)
        self.attend32 = CrossAttention(d)
        self.attend16 = CrossAttention(d)
        self.depth_head = nn.Conv2d(f, 1, 1)
        self.normal_head = nn.Conv2d(f, 3, 1)
        self.pixel_embed = nn.Conv2d(f, f, 1)
        self.query_proj = Linear(d, f)
        self.background_head = nn.Conv2d(f, 1, 1)
        self.presence = PresenceHead(c32, d) if presence else None

    @classmethod
    def for_state(cls, state):
        """An untrained generator with the architecture of `state` (a state dict)."""
        return cls(encoder=encoder_of(state), presence=has_presence(state))

    def tokens(self, phrases, slots):
        """phrases [B, T, 384] MiniLM rows (training), or [B, T, d] rows already multiplied by
        phrase_proj.weight (the shipped table; the Rust model's input); slots [B, T] long ->
        token features [B, T, d]."""
        d_in, d = self.phrase_proj.weight.shape
        if phrases.shape[-1] == d_in:
            t = self.phrase_proj(phrases)
        elif phrases.shape[-1] == d:
            t = phrases + self.phrase_proj.bias
        else:
            raise ValueError(f"phrase rows must have {d_in} (MiniLM) or {d} (projected) values, not {phrases.shape[-1]}")
        t = t + self.slot_embedding(slots)
        return t + self.token_mlp(F.relu(t))

    def forward(self, image, task, phrases, slots, token_mask, probe_phrases=None):
        """image [B,3,H,W] in [-1,1]; task [B]; phrases [B,T,384]; slots [B,T]; token_mask [B,T] bool;
        probe_phrases [B,P,384] (training, with a presence head): names the presence head judges
        without their entering the prompt (Outputs.probe_presence).

        Returns Outputs(walk [B,1,h,w] in (0,1), normal [B,3,h,w] unit, logits [B,1+T,h,w], presence [B,T]
        or None) at half resolution; logits[:,0] is the background and masked entries are -1e4. With a
        presence head, each entry's logits already include log-sigmoid(presence).
        """
        f2, f4, f8, f16, f32 = self.encoder(image)
        task_vec = self.task_embedding(task)
        tok = self.tokens(phrases, slots)
        b = image.shape[0]
        all_tokens = torch.cat([self.null_token.expand(b, 1, -1), tok], dim=1)
        zeros = torch.zeros(b, 1, device=image.device)
        bias = torch.cat([zeros, torch.where(token_mask, 0.0, -1e4)], dim=1)

        x = F.relu(self.refine32(self.lateral32(f32)))
        x = self.attend32(self.film32(x, task_vec), all_tokens, bias)
        x = F.relu(self.refine16(up2(x) + self.lateral16(f16)))
        x = self.attend16(self.film16(x, task_vec), all_tokens, bias)
        x = F.relu(self.refine8(up2(x) + self.lateral8(f8)))
        x = self.film8(x, task_vec)
        x = F.relu(self.refine4(up2(x) + self.lateral4(f4)))
        x = self.film4(x, task_vec)
        x = F.relu(self.refine2(up2(self.reduce4(x)) + self.lateral2(f2)))
        x = self.film2(x, task_vec)

        walk = torch.sigmoid(self.depth_head(x))
        normal = F.normalize(self.normal_head(x), dim=1, eps=1e-6)
        pix = self.pixel_embed(x)
        query = self.query_proj(tok)
        token_logits = torch.einsum("bchw,btc->bthw", pix, query) / math.sqrt(pix.shape[1])
        token_logits = token_logits + torch.where(token_mask, 0.0, -1e4)[:, :, None, None]
        presence = probe_presence = None
        if self.presence is not None:
            presence = self.presence(f32, tok)
            token_logits = token_logits + F.logsigmoid(presence)[:, :, None, None]
            if probe_phrases is not None:
                probe_slots = torch.zeros(probe_phrases.shape[:2], dtype=torch.long, device=image.device)
                probe_presence = self.presence(f32, self.tokens(probe_phrases, probe_slots))
        logits = torch.cat([self.background_head(x), token_logits], dim=1)
        return Outputs(walk, normal, logits, presence, probe_presence)


def paint_depth(walk):
    """Walk position f [B,1,h,w] -> cube-walk RGB [B,3,h,w] (sum of 7 clamped ramps)."""
    s = walk * 7
    deltas = (WALK[1:] - WALK[:-1]).to(walk)  # [7, 3]
    ramps = torch.cat([(s - k).clamp(0, 1) for k in range(7)], dim=1)  # [B,7,h,w]
    return torch.einsum("bkhw,kc->bchw", ramps, deltas)


def paint_normals(normal):
    x, y, z = normal.unbind(1)
    return torch.stack([(1 - x) / 2, (1 + y) / 2, (1 + z) / 2], dim=1)


def scale_presence_gate(logits, presence, scale):
    """logits [B,1+T,h,w] as the network paints them (each entry gated by log-sigmoid(presence)), presence
    [B,T] -> the same logits with each entry's gate scale x log-sigmoid(presence) instead. A probe
    (`evaluate.py --presence-gate-scale`, `gate_scale.py`), not the app's painter: docs/MODEL.md, "A stricter
    gate for semantic prompts (not shipped)". Scale 1 or no presence head returns `logits` as they are."""
    if scale == 1 or presence is None:
        return logits
    gate = (scale - 1) * F.logsigmoid(presence)
    return torch.cat([logits[:, :1], logits[:, 1:] + gate[:, :, None, None]], dim=1)


def paint_segmentation(logits, colours):
    """logits [B,1+T,h,w], colours [B,1+T,3] in [0,1] (entry 0 = background) -> RGB: each pixel in its most
    likely entry's colour (entries tied for the top share it equally). Nothing else is blended: with many entries,
    a blend of two likely entries' colours is often nearest a third one's, and decodes as that (training never
    paints)."""
    top = (logits == logits.amax(dim=1, keepdim=True)).to(logits.dtype)
    return torch.einsum("bthw,btc->bchw", top / top.sum(dim=1, keepdim=True), colours)


def load_pretrained_encoder(model: PeelGenerator, path: str):
    """Fold the EfficientNet-Lite0 ImageNet checkpoint's batch norms into our convolutions."""
    sd = torch.load(path, map_location="cpu")

    def fold(conv: nn.Conv2d, w_key: str, bn: str):
        w = sd[w_key]
        scale = sd[bn + ".weight"] / torch.sqrt(sd[bn + ".running_var"] + 1e-3)
        with torch.no_grad():
            conv.weight.copy_(w * scale[:, None, None, None])
            conv.bias.copy_(sd[bn + ".bias"] - sd[bn + ".running_mean"] * scale)

    enc = model.encoder
    fold(enc.stem, "_conv_stem.weight", "_bn0")
    for i, block in enumerate(enc.blocks):
        p = f"_blocks.{i}."
        bns = ["_bn0", "_bn1", "_bn2"]
        if block.expand is not None:
            fold(block.expand, p + "_expand_conv.weight", p + "_bn0")
        else:
            bns = [None, "_bn1", "_bn2"]
        fold(block.depthwise, p + "_depthwise_conv.weight", p + bns[1])
        fold(block.project, p + "_project_conv.weight", p + bns[2])
    return sd
