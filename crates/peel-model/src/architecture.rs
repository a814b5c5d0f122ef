//! What the generator is, without the network itself: input and output geometry, the task rows,
//! the encoder trunks' blocks and the decoder's hyper-parameters. Burn-free, so that the manifest,
//! the phrase table and the prompt path build (and are fuzzed) without the tensor library;
//! [`crate::model`] builds the network from it.

use peel_protocol::prompt::Task;

/// Every spatial side of the input must be a multiple of this (five stride-2 levels).
pub const SIZE_MULTIPLE: usize = 32;
/// The heads paint at the input resolution divided by this.
pub const OUTPUT_STRIDE: usize = 2;
/// Task names in the order of `task_embedding`'s rows: the protocol's [`Task::ALL`] (`generator.py`'s
/// `TASKS`, which the trainer's smoke test holds to that list).
pub const TASKS: [&str; Task::ALL.len()] = {
    let mut names = [""; Task::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Task::ALL[i].name();
        i += 1;
    }
    names
};

/// `task`'s row of `task_embedding`: its place in [`Task::ALL`].
pub const fn task_row(task: Task) -> usize {
    let mut i = 0;
    while Task::ALL[i] as usize != task as usize {
        i += 1;
    }
    i
}

pub const TASK_DEPTH: usize = task_row(Task::Depth);
pub const TASK_NORMALS: usize = task_row(Task::Normals);
pub const TASK_SEMANTIC: usize = task_row(Task::Semantic);
pub const TASK_INSTANCE: usize = task_row(Task::Instance);
pub const TASK_REFERRING: usize = task_row(Task::Referring);

/// An inverted-residual block: (kernel, stride, expand ratio, channels in, channels out).
pub type BlockSpec = (usize, usize, usize, usize, usize);

/// EfficientNet-Lite0 (ImageNet).
pub const LITE0_BLOCKS: [BlockSpec; 16] = [
    (3, 1, 1, 32, 16),
    (3, 2, 6, 16, 24),
    (3, 1, 6, 24, 24),
    (5, 2, 6, 24, 40),
    (5, 1, 6, 40, 40),
    (3, 2, 6, 40, 80),
    (3, 1, 6, 80, 80),
    (3, 1, 6, 80, 80),
    (5, 1, 6, 80, 112),
    (5, 1, 6, 112, 112),
    (5, 1, 6, 112, 112),
    (5, 2, 6, 112, 192),
    (5, 1, 6, 192, 192),
    (5, 1, 6, 192, 192),
    (5, 1, 6, 192, 192),
    (3, 1, 6, 192, 320),
];

/// MobileNetV2 (width 1.0), as in the DeepLab VOC teacher whose trunk initialises it.
pub const MOBILENETV2_BLOCKS: [BlockSpec; 17] = [
    (3, 1, 1, 32, 16),
    (3, 2, 6, 16, 24),
    (3, 1, 6, 24, 24),
    (3, 2, 6, 24, 32),
    (3, 1, 6, 32, 32),
    (3, 1, 6, 32, 32),
    (3, 2, 6, 32, 64),
    (3, 1, 6, 64, 64),
    (3, 1, 6, 64, 64),
    (3, 1, 6, 64, 64),
    (3, 1, 6, 64, 96),
    (3, 1, 6, 96, 96),
    (3, 1, 6, 96, 96),
    (3, 2, 6, 96, 160),
    (3, 1, 6, 160, 160),
    (3, 1, 6, 160, 160),
    (3, 1, 6, 160, 320),
];

/// The encoder trunk, named in the manifest's `architecture.encoder`. Both are inverted-residual
/// stacks with a 32-channel stem; they differ in their blocks and in which feed the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderKind {
    EfficientNetLite0,
    MobileNetV2,
}

impl EncoderKind {
    pub const ALL: [EncoderKind; 2] = [EncoderKind::EfficientNetLite0, EncoderKind::MobileNetV2];

    /// The manifest's name for it.
    pub fn name(self) -> &'static str {
        match self {
            EncoderKind::EfficientNetLite0 => "efficientnet-lite0",
            EncoderKind::MobileNetV2 => "mobilenetv2",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn blocks(self) -> &'static [BlockSpec] {
        match self {
            EncoderKind::EfficientNetLite0 => &LITE0_BLOCKS,
            EncoderKind::MobileNetV2 => &MOBILENETV2_BLOCKS,
        }
    }

    /// Blocks whose outputs feed the decoder (strides 2, 4, 8, 16, 32).
    pub fn feature_blocks(self) -> [usize; 5] {
        match self {
            EncoderKind::EfficientNetLite0 => [0, 2, 4, 10, 15],
            EncoderKind::MobileNetV2 => [0, 2, 5, 12, 16],
        }
    }

    /// Channels of those features.
    pub fn feature_channels(self) -> [usize; 5] {
        self.feature_blocks().map(|i| self.blocks()[i].4)
    }
}

/// Decoder hyper-parameters and the encoder trunk, from the manifest's `architecture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratorConfig {
    pub encoder: EncoderKind,
    /// Decoder width `d` (strides 4 to 32), the size of task and token features and of the
    /// phrase table's (projected) rows.
    pub width: usize,
    /// Decoder width at stride 2, `f`.
    pub fine_width: usize,
    /// Instance slots; `slot_embedding` has `max_instances + 1` rows (row 0: a class or phrase).
    pub max_instances: usize,
    /// Whether the network has a presence head (`model::PresenceHead`; (the manifest's `architecture.presence`).
    pub presence: bool,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self { encoder: EncoderKind::EfficientNetLite0, width: 64, fine_width: 32, max_instances: 8, presence: false }
    }
}

/// Width of the presence head's joint space (`generator.py`'s `PresenceHead(hidden=128)`).
pub const PRESENCE_HIDDEN: usize = 128;
