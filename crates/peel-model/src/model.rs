//! The generator network: an inverted-residual encoder (EfficientNet-Lite0 or MobileNetV2), an FPN decoder conditioned on the task
//! (FiLM) and on the prompt's tokens (cross-attention), and three heads at half the input
//! resolution. Fixed, differentiable painters turn the heads' outputs into protocol colours.
//!
//! This is a tensor-for-tensor mirror of `train/peel_train/generator.py`: parameter paths equal
//! the PyTorch `state_dict` names (`encoder.blocks.3.depthwise.weight`, `film8.proj.bias`, ...),
//! Linear weights are stored `[in, out]` on both sides, and batch norms are folded into the
//! convolutions, so an exported checkpoint loads without remapping (see [`crate::state`]).
//!
//! Pure module code: no I/O, no prompt handling (see [`crate::conditioning`]).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::module::Param;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, relu, relu6, sigmoid, softmax};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use peel_protocol::depth::CUBE_WALK;

pub use crate::architecture::*;

fn conv(c_in: usize, c_out: usize, kernel: usize, stride: usize, groups: usize, device: &Device) -> Conv2d {
    let pad = kernel / 2;
    Conv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_groups(groups)
        .init(device)
}

fn conv1x1(c_in: usize, c_out: usize, device: &Device) -> Conv2d {
    conv(c_in, c_out, 1, 1, 1, device)
}

/// `y = x W + b` with `W` stored `[in, out]`, as in the PyTorch spec.
fn linear(d_in: usize, d_out: usize, device: &Device) -> Linear {
    LinearConfig::new(d_in, d_out).init(device)
}

/// Inverted residual block (batch norm folded into the convolutions, ReLU6, no squeeze-excite).
#[derive(Module, Debug)]
pub struct MBConv {
    /// 1×1 expansion; absent when the expand ratio is 1 (block 0).
    pub expand: Option<Conv2d>,
    pub depthwise: Conv2d,
    pub project: Conv2d,
    #[module(skip)]
    pub residual: bool,
}

impl MBConv {
    pub fn new(kernel: usize, stride: usize, expand: usize, c_in: usize, c_out: usize, device: &Device) -> Self {
        let hidden = c_in * expand;
        Self {
            expand: (expand != 1).then(|| conv1x1(c_in, hidden, device)),
            depthwise: conv(hidden, hidden, kernel, stride, hidden, device),
            project: conv1x1(hidden, c_out, device),
            residual: stride == 1 && c_in == c_out,
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = match &self.expand {
            Some(expand) => relu6(expand.forward(x.clone())),
            None => x.clone(),
        };
        let y = self.project.forward(relu6(self.depthwise.forward(y)));
        if self.residual { x + y } else { y }
    }
}

#[derive(Module, Debug)]
pub struct Encoder {
    pub stem: Conv2d,
    pub blocks: Vec<MBConv>,
    #[module(skip)]
    pub feature_blocks: [usize; 5],
}

impl Encoder {
    pub fn new(kind: EncoderKind, device: &Device) -> Self {
        Self {
            stem: conv(3, 32, 3, 2, 1, device),
            blocks: kind.blocks().iter().map(|&(k, s, e, ci, co)| MBConv::new(k, s, e, ci, co, device)).collect(),
            feature_blocks: kind.feature_blocks(),
        }
    }

    /// Features at strides 2, 4, 8, 16 and 32.
    pub fn forward(&self, x: Tensor<4>) -> [Tensor<4>; 5] {
        let mut x = relu6(self.stem.forward(x));
        let mut features = Vec::with_capacity(self.feature_blocks.len());
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(x);
            if self.feature_blocks.contains(&i) {
                features.push(x.clone());
            }
        }
        let [f2, f4, f8, f16, f32] = <[Tensor<4>; 5]>::try_from(features).expect("five feature blocks");
        [f2, f4, f8, f16, f32]
    }
}

/// Task-conditioned scale and shift: `x * (1 + gamma) + beta`.
#[derive(Module, Debug)]
pub struct Film {
    pub proj: Linear,
}

impl Film {
    pub fn new(d_task: usize, channels: usize, device: &Device) -> Self {
        Self { proj: linear(d_task, 2 * channels, device) }
    }

    /// `x` `[B, C, H, W]`, `task_vec` `[B, d]`.
    pub fn forward(&self, x: Tensor<4>, task_vec: Tensor<2>) -> Tensor<4> {
        let [b, c, _, _] = x.dims();
        let gb = self.proj.forward(task_vec);
        let gamma = gb.clone().narrow(1, 0, c).reshape([b, c, 1, 1]);
        let beta = gb.narrow(1, c, c).reshape([b, c, 1, 1]);
        x * (gamma + 1.0) + beta
    }
}

/// Pixels attend to the prompt's tokens (single head). Nothing is padded at inference, so
/// there is no token mask.
#[derive(Module, Debug)]
pub struct CrossAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub out: Linear,
}

impl CrossAttention {
    pub fn new(d: usize, device: &Device) -> Self {
        Self { query: linear(d, d, device), key: linear(d, d, device), value: linear(d, d, device), out: linear(d, d, device) }
    }

    /// `x` `[B, C, H, W]`, `tokens` `[B, T, C]`.
    pub fn forward(&self, x: Tensor<4>, tokens: Tensor<3>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let pixels = x.clone().reshape([b, c, h * w]).swap_dims(1, 2); // [B, HW, C]
        let scale = 1.0 / (c as f64).sqrt();
        let scores = self.query.forward(pixels).matmul(self.key.forward(tokens.clone()).swap_dims(1, 2)) * scale;
        let attn = softmax(scores, 2);
        let update = self.out.forward(attn.matmul(self.value.forward(tokens)));
        x + update.swap_dims(1, 2).reshape([b, c, h, w])
    }
}

#[derive(Module, Debug)]
pub struct SeparableConv {
    pub depthwise: Conv2d,
    pub pointwise: Conv2d,
}

impl SeparableConv {
    pub fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        Self { depthwise: conv(c_in, c_in, 3, 1, c_in, device), pointwise: conv1x1(c_in, c_out, device) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.pointwise.forward(self.depthwise.forward(x))
    }
}

/// Is each named thing in the photo at all? One image-level logit per token: the encoder's
/// stride-32 features, mean- and max-pooled, against the token's features. The caller adds its
/// log-sigmoid to the token's pixel logits, so a name judged absent paints nothing.
#[derive(Module, Debug)]
pub struct PresenceHead {
    /// `[2 C32, hidden]`.
    pub image: Linear,
    /// `[d, hidden]`.
    pub token: Linear,
    /// `[1]`.
    pub offset: Param<Tensor<1>>,
}

impl PresenceHead {
    pub fn new(c_image: usize, d: usize, device: &Device) -> Self {
        Self {
            image: linear(2 * c_image, PRESENCE_HIDDEN, device),
            token: linear(d, PRESENCE_HIDDEN, device),
            offset: Param::from_tensor(Tensor::zeros([1], device)),
        }
    }

    /// `f32` `[B, C, h, w]`, `tokens` `[B, T, d]` → presence logits `[B, T]`.
    pub fn forward(&self, f32: Tensor<4>, tokens: Tensor<3>) -> Tensor<2> {
        let [b, c, h, w] = f32.dims();
        let flat = f32.reshape([b, c, h * w]);
        let pooled = Tensor::cat(vec![flat.clone().mean_dim(2), flat.max_dim(2)], 1).reshape([b, 2 * c]);
        let image = relu(self.image.forward(pooled)); // [B, hidden]
        let hidden = image.dims()[1];
        let query = self.token.forward(tokens); // [B, T, hidden]
        let t = query.dims()[1];
        let logits = query.matmul(image.reshape([b, hidden, 1])).reshape([b, t]) / (hidden as f64).sqrt();
        logits + self.offset.val().unsqueeze::<2>()
    }
}

/// Nearest-neighbour ×2 upsampling.
fn up2(x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    interpolate(x, InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([2 * h, 2 * w]))
}

/// What the heads predict, at half the input resolution.
#[derive(Debug, Clone)]
pub struct Heads {
    /// Depth-walk position in (0, 1), `[B, 1, h, w]`.
    pub walk: Tensor<4>,
    /// Unit normals, `[B, 3, h, w]`.
    pub normal: Tensor<4>,
    /// Per-entry logits, `[B, 1 + T, h, w]`; entry 0 is the background.
    pub logits: Tensor<4>,
}

/// What remains of PyTorch's `phrase_proj` (Linear 384 → d): its bias. Its weight is folded
/// into the phrase table, whose rows are MiniLM embeddings already multiplied by it.
#[derive(Module, Debug)]
pub struct PhraseProjection {
    /// `[d]`.
    pub bias: Param<Tensor<1>>,
}

/// The prompt's tokens for one forward pass: `T` may be 0 (depth, normals).
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Phrase-table rows (MiniLM embeddings times `phrase_proj.weight`), `[B, T, d]`.
    pub projected: Tensor<3>,
    /// Slot indices, `[B, T]` (0: a class or phrase, 1..=max_instances: an instance slot).
    pub slots: Tensor<2, Int>,
}

#[derive(Module, Debug)]
pub struct PeelGenerator {
    pub encoder: Encoder,
    pub lateral32: Conv2d,
    pub lateral16: Conv2d,
    pub lateral8: Conv2d,
    pub lateral4: Conv2d,
    pub lateral2: Conv2d,
    pub refine32: Conv2d,
    pub refine16: Conv2d,
    pub refine8: Conv2d,
    pub refine4: SeparableConv,
    pub reduce4: Conv2d,
    pub refine2: SeparableConv,
    pub task_embedding: Embedding,
    pub film32: Film,
    pub film16: Film,
    pub film8: Film,
    pub film4: Film,
    pub film2: Film,
    /// Learned token prepended to the prompt's, so attention always has a target; `[1, d]`.
    pub null_token: Param<Tensor<2>>,
    pub phrase_proj: PhraseProjection,
    pub slot_embedding: Embedding,
    pub token_mlp: Linear,
    pub attend32: CrossAttention,
    pub attend16: CrossAttention,
    pub depth_head: Conv2d,
    pub normal_head: Conv2d,
    pub pixel_embed: Conv2d,
    pub query_proj: Linear,
    pub background_head: Conv2d,
    pub presence: Option<PresenceHead>,
}

impl PeelGenerator {
    /// A randomly initialised generator (weights come from [`crate::state`]).
    pub fn new(config: &GeneratorConfig, device: &Device) -> Self {
        let (d, f) = (config.width, config.fine_width);
        let [c2, c4, c8, c16, c32] = config.encoder.feature_channels();
        Self {
            encoder: Encoder::new(config.encoder, device),
            lateral32: conv1x1(c32, d, device),
            lateral16: conv1x1(c16, d, device),
            lateral8: conv1x1(c8, d, device),
            lateral4: conv1x1(c4, d, device),
            lateral2: conv1x1(c2, f, device),
            refine32: conv(d, d, 3, 1, 1, device),
            refine16: conv(d, d, 3, 1, 1, device),
            refine8: conv(d, d, 3, 1, 1, device),
            refine4: SeparableConv::new(d, d, device),
            reduce4: conv1x1(d, f, device),
            refine2: SeparableConv::new(f, f, device),
            task_embedding: EmbeddingConfig::new(TASKS.len(), d).init(device),
            film32: Film::new(d, d, device),
            film16: Film::new(d, d, device),
            film8: Film::new(d, d, device),
            film4: Film::new(d, d, device),
            film2: Film::new(d, f, device),
            null_token: Param::from_tensor(Tensor::zeros([1, d], device)),
            phrase_proj: PhraseProjection { bias: Param::from_tensor(Tensor::zeros([d], device)) },
            slot_embedding: EmbeddingConfig::new(config.max_instances + 1, d).init(device),
            token_mlp: linear(d, d, device),
            attend32: CrossAttention::new(d, device),
            attend16: CrossAttention::new(d, device),
            depth_head: conv1x1(f, 1, device),
            normal_head: conv1x1(f, 3, device),
            pixel_embed: conv1x1(f, f, device),
            query_proj: linear(d, f, device),
            background_head: conv1x1(f, 1, device),
            presence: config.presence.then(|| PresenceHead::new(c32, d, device)),
        }
    }

    /// Token features `[B, T, d]`: `t = e·W + phrase_proj.bias + slot_embedding(slot)` (`e·W`
    /// comes projected from the phrase table), then `t + token_mlp(relu(t))`.
    pub fn tokens(&self, tokens: &Tokens) -> Tensor<3> {
        let bias = self.phrase_proj.bias.val().unsqueeze::<3>();
        let t = tokens.projected.clone() + bias + self.slot_embedding.forward(tokens.slots.clone());
        t.clone() + self.token_mlp.forward(relu(t))
    }

    /// `image` `[B, 3, H, W]` normalised to `[-1, 1]`, `H` and `W` multiples of [`SIZE_MULTIPLE`];
    /// `task` `[B]`; `tokens` `None` when the prompt has none (`T = 0`).
    pub fn forward(&self, image: Tensor<4>, task: Tensor<1, Int>, tokens: Option<&Tokens>) -> Heads {
        let [f2, f4, f8, f16, f32] = self.encoder.forward(image);
        let b = f2.dims()[0];
        let d = self.null_token.dims()[1];
        let task_vec = self.task_embedding.forward(task.unsqueeze_dim(1)).reshape([b, d]);
        let tok = tokens.map(|t| self.tokens(t));
        // log-sigmoid of each token's presence logit, `[B, T]`: added to its pixel logits below.
        let gate = match (&self.presence, &tok) {
            (Some(head), Some(tok)) => Some(log_sigmoid(head.forward(f32.clone(), tok.clone()))),
            _ => None,
        };
        let null = self.null_token.val().unsqueeze_dim::<3>(0).expand([b, 1, d]);
        let all_tokens = match &tok {
            Some(tok) => Tensor::cat(vec![null, tok.clone()], 1),
            None => null,
        };

        let x = relu(self.refine32.forward(self.lateral32.forward(f32)));
        let x = self.attend32.forward(self.film32.forward(x, task_vec.clone()), all_tokens.clone());
        let x = relu(self.refine16.forward(up2(x) + self.lateral16.forward(f16)));
        let x = self.attend16.forward(self.film16.forward(x, task_vec.clone()), all_tokens);
        let x = relu(self.refine8.forward(up2(x) + self.lateral8.forward(f8)));
        let x = self.film8.forward(x, task_vec.clone());
        let x = relu(self.refine4.forward(up2(x) + self.lateral4.forward(f4)));
        let x = self.film4.forward(x, task_vec.clone());
        let x = relu(self.refine2.forward(up2(self.reduce4.forward(x)) + self.lateral2.forward(f2)));
        let x = self.film2.forward(x, task_vec);

        let walk = sigmoid(self.depth_head.forward(x.clone()));
        let normal = l2_normalize(self.normal_head.forward(x.clone()), 1e-6);
        let background = self.background_head.forward(x.clone());
        let logits = match tok {
            Some(tok) => {
                let pix = self.pixel_embed.forward(x);
                let [b, f, h, w] = pix.dims();
                let query = self.query_proj.forward(tok); // [B, T, f]
                let t = query.dims()[1];
                let token_logits =
                    query.matmul(pix.reshape([b, f, h * w])).reshape([b, t, h, w]) / (f as f64).sqrt();
                let token_logits = match gate {
                    Some(gate) => token_logits + gate.reshape([b, t, 1, 1]),
                    None => token_logits,
                };
                Tensor::cat(vec![background, token_logits], 1)
            }
            None => background,
        };
        Heads { walk, normal, logits }
    }
}

/// `x / max(‖x‖, eps)` along the channel dimension (PyTorch's `F.normalize`).
fn l2_normalize(x: Tensor<4>, eps: f64) -> Tensor<4> {
    let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(eps);
    x / norm
}

/// Walk position `[B, 1, h, w]` → cube-walk RGB `[B, 3, h, w]` in `[0, 1]`:
/// `Σ_k clamp(7f − k, 0, 1) · (V_{k+1} − V_k)`.
pub fn paint_depth(walk: Tensor<4>) -> Tensor<4> {
    let [b, _, h, w] = walk.dims();
    let device = walk.device();
    let s = walk * 7.0;
    let ramps: Vec<Tensor<4>> = (0..7).map(|k| (s.clone() - k as f64).clamp(0.0, 1.0)).collect();
    let ramps = Tensor::cat(ramps, 1).reshape([b, 7, h * w]);
    // deltas^T: [3, 7]
    let deltas: Vec<f32> = (0..3).flat_map(|c| CUBE_WALK.windows(2).map(move |v| v[1][c] - v[0][c])).collect();
    let deltas = Tensor::<1>::from_floats(deltas.as_slice(), &device).reshape([1, 3, 7]).expand([b, 3, 7]);
    deltas.matmul(ramps).reshape([b, 3, h, w])
}

/// Unit normals `[B, 3, h, w]` → RGB `((1 − x)/2, (1 + y)/2, (1 + z)/2)`.
pub fn paint_normals(normal: Tensor<4>) -> Tensor<4> {
    let x = normal.clone().narrow(1, 0, 1);
    let yz = normal.narrow(1, 1, 2);
    Tensor::cat(vec![(x.neg() + 1.0) / 2.0, (yz + 1.0) / 2.0], 1)
}

/// Logits `[B, E, h, w]` and entry colours `[B, E, 3]` in `[0, 1]` (entry 0 = background) →
/// each pixel in its most likely entry's colour (entries tied exactly share it), `[B, 3, h, w]`,
/// as `generator.py` paints. Nothing else is blended: with many entries, a blend of two likely
/// entries' colours is often nearest a third entry's, and would decode as that.
pub fn paint_segmentation(logits: Tensor<4>, colours: Tensor<3>) -> Tensor<4> {
    let [b, e, h, w] = logits.dims();
    let top = logits.clone().max_dim(1).expand([b, e, h, w]);
    let chosen = logits.greater_equal(top).float();
    let ties = chosen.clone().sum_dim(1).expand([b, e, h, w]);
    let share = (chosen / ties).reshape([b, e, h * w]);
    colours.swap_dims(1, 2).matmul(share).reshape([b, 3, h, w])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn heads_have_half_resolution_and_one_logit_per_entry() {
        let device = Device::flex();
        let model = PeelGenerator::new(&GeneratorConfig::default(), &device);
        let image = Tensor::<4>::zeros([1, 3, 64, 96], &device);
        let task = Tensor::<1, Int>::from_ints([TASK_DEPTH as i32], &device);
        let heads = model.forward(image.clone(), task.clone(), None);
        assert_eq!(heads.walk.dims(), [1, 1, 32, 48]);
        assert_eq!(heads.normal.dims(), [1, 3, 32, 48]);
        assert_eq!(heads.logits.dims(), [1, 1, 32, 48]);

        let tokens = Tokens {
            projected: Tensor::<3>::ones([1, 3, 64], &device),
            slots: Tensor::<2, Int>::from_ints([[0, 1, 2]], &device),
        };
        let heads = model.forward(image, task, Some(&tokens));
        assert_eq!(heads.logits.dims(), [1, 4, 32, 48]);
        let normal = values(heads.normal);
        let plane = 32 * 48;
        for i in 0..plane {
            let n = (normal[i].powi(2) + normal[plane + i].powi(2) + normal[2 * plane + i].powi(2)).sqrt();
            assert!((n - 1.0).abs() < 1e-4, "normal length {n}");
        }
    }

    #[test]
    fn a_presence_head_gates_each_entry_by_its_log_sigmoid() {
        let device = Device::flex();
        let plain = PeelGenerator::new(&GeneratorConfig::default(), &device);
        let mut model = PeelGenerator::new(&GeneratorConfig { presence: true, ..GeneratorConfig::default() }, &device);
        // The same tensors plus the head's five, so a manifest without `presence` (peel-gen-2) still loads.
        let plain_names = crate::state::tensor_shapes(&plain);
        let extra: Vec<String> = crate::state::tensor_shapes(&model).into_keys().filter(|n| !plain_names.contains_key(n)).collect();
        assert_eq!(extra, ["presence.image.bias", "presence.image.weight", "presence.offset", "presence.token.bias", "presence.token.weight"]);

        let normal = burn::tensor::Distribution::Normal(0.0, 1.0);
        let image = Tensor::<4>::random([1, 3, 64, 64], normal, &device);
        let task = Tensor::<1, Int>::from_ints([TASK_SEMANTIC as i32], &device);
        let tokens = Tokens { projected: Tensor::<3>::random([1, 2, 64], normal, &device), slots: Tensor::<2, Int>::from_ints([[0, 0]], &device) };
        let head = model.presence.take().expect("a presence head");
        let ungated = values(model.forward(image.clone(), task.clone(), Some(&tokens)).logits);
        // A zero token projection and offset 0: every entry's presence logit is 0, its gate log-sigmoid(0) = -ln 2.
        let zeros = LinearConfig::new(64, PRESENCE_HIDDEN).with_initializer(burn::nn::Initializer::Zeros).init(&device);
        model.presence = Some(PresenceHead { token: zeros, offset: Param::from_tensor(Tensor::zeros([1], &device)), ..head });
        let gated = values(model.forward(image, task, Some(&tokens)).logits);
        let plane = 32 * 32;
        assert_eq!(gated.len(), 3 * plane);
        for (i, (g, u)) in gated.iter().zip(&ungated).enumerate() {
            let expected = if i < plane { 0.0 } else { -std::f32::consts::LN_2 };
            assert!((g - u - expected).abs() < 1e-4, "entry {} pixel {}: {g} - {u} is not {expected}", i / plane, i % plane);
        }
    }

    #[test]
    fn depth_painter_walks_the_cube() {
        let device = Device::flex();
        let f = [0.0f32, 0.5 / 7.0, 1.0 / 7.0, 2.0 / 7.0, 3.5 / 7.0, 1.0];
        let walk = Tensor::<1>::from_floats(f.as_slice(), &device).reshape([1, 1, 1, 6]);
        let rgb = values(paint_depth(walk));
        let pixel = |i: usize| [rgb[i], rgb[6 + i], rgb[12 + i]];
        let expect = [[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.5], [1.0, 1.0, 1.0]];
        for (i, e) in expect.iter().enumerate() {
            let p = pixel(i);
            assert!(p.iter().zip(e).all(|(a, b)| (a - b).abs() < 1e-5), "f={} painted {p:?}, expected {e:?}", f[i]);
        }
    }

    #[test]
    fn normal_and_segmentation_painters() {
        let device = Device::flex();
        let n = Tensor::<1>::from_floats([0.0f32, 0.6, 0.8].as_slice(), &device).reshape([1, 3, 1, 1]);
        let rgb = values(paint_normals(n));
        assert!((rgb[0] - 0.5).abs() < 1e-6 && (rgb[1] - 0.8).abs() < 1e-6 && (rgb[2] - 0.9).abs() < 1e-6);

        // Entries black (background), red, lime, olive; three pixels: red barely the most likely (a
        // blend of red and lime would be olive's colour), olive the most likely, an exact red–lime tie.
        let colours = [0.0f32, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.0];
        let colours = Tensor::<1>::from_floats(colours.as_slice(), &device).reshape([1, 4, 3]);
        // [1, entry, 1, pixel]: one row of logits per entry.
        let logits = [-5.0f32, -5.0, -5.0, 2.01, -1.0, 2.0, 2.0, -1.0, 2.0, 0.0, 3.0, 0.0];
        let logits = Tensor::<1>::from_floats(logits.as_slice(), &device).reshape([1, 4, 1, 3]);
        let rgb = values(paint_segmentation(logits, colours));
        // [1, channel, 1, pixel]: red, olive, the tie's shared colour.
        let expected = [1.0f32, 0.5, 0.5, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0];
        assert!(rgb.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{rgb:?}");
    }
}
