//! Prompt → what the network is given (task index, tokens) and how its output is painted
//! (entry colours). Must match the Python conditioning used in training exactly.
//!
//! | request | task | tokens (phrase, slot) | entry colours (entry 0 first) |
//! |---|---|---|---|
//! | depth | 0 | none | — (the cube walk; only the paper's default codec) |
//! | normals | 1 | none | — |
//! | semantic | 2 | each class in prompt order, slot 0 (a class named `background` is an ordinary token) | [`semantic_background`], then each class's colour |
//! | instance | 3 | the class phrase 8 times, slots 1..=8 | the prompt's background, then [`instance_colours`] |
//! | referring | 4 | each phrase in prompt order, slot 0 | the prompt's background, then each phrase's colour |
//!
//! Colours enter the painter as rgb8 / 255.

use peel_protocol::color::Rgb8;
use peel_protocol::depth::DepthCodec;
use peel_protocol::prompt::Request;

use crate::architecture::{TASK_DEPTH, TASK_INSTANCE, TASK_NORMALS, TASK_REFERRING, TASK_SEMANTIC};
use crate::phrases::{EmbedError, PhraseTable, UnknownPhrase};

/// A semantic background colour within this distance (8-bit RGB units, Euclidean, inclusive)
/// of a class colour is replaced.
pub const SEMANTIC_BACKGROUND_MARGIN: u32 = 48;
/// Semantic backgrounds (the colour of unlisted pixels), tried in order: black, then the replacements.
/// `train/peel_train/conditioning.py` paints with the same list and margins (its smoke test reads them here).
pub const SEMANTIC_BACKGROUNDS: [Rgb8; 5] = [[0, 0, 0], [255, 255, 255], [128, 128, 128], [255, 0, 255], [0, 255, 255]];
/// Instance colours must be at least this far from the background (8-bit RGB units, Euclidean).
pub const INSTANCE_BACKGROUND_MARGIN: u32 = 80;

/// How the heads' output becomes colours.
#[derive(Debug, Clone, PartialEq)]
pub enum Painter {
    /// The depth walk (paper codec).
    Depth,
    /// Normals → RGB.
    Normals,
    /// Softmax over entries; one colour per entry, entry 0 the background.
    Segmentation { colours: Vec<Rgb8> },
}

/// Everything the network and the painter need for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditioning {
    /// Row of `task_embedding`.
    pub task: usize,
    /// One phrase-table row per token, already projected to the network's width (empty for
    /// depth and normals).
    pub phrases: Vec<Vec<f32>>,
    /// One slot per token.
    pub slots: Vec<i64>,
    pub painter: Painter,
}

impl Conditioning {
    pub fn task_name(&self) -> &'static str {
        crate::architecture::TASKS[self.task]
    }
}

/// Why a request cannot be painted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditionError {
    #[error(transparent)]
    UnknownPhrase(#[from] UnknownPhrase),
    /// The generator holds the core phrase table and this phrase needs the whole one.
    #[error("the phrase {phrase:?} needs the whole phrase table, which is not loaded yet")]
    NeedsWholeTable { phrase: String },
    #[error(
        "the generator paints depth with the paper's codec only (lambda = {}, c = {}); this prompt asks for lambda = {lambda}, c = {c}. Remove the lambda/c clause and re-encode the decoded depth if another range is needed",
        DepthCodec::PAPER.lambda,
        DepthCodec::PAPER.c
    )]
    DepthCodec { lambda: f32, c: f32 },
    #[error(
        "the prompt's colours leave no free colour for unlisted pixels: black, white, grey (128), magenta and cyan are each within {SEMANTIC_BACKGROUND_MARGIN} of a class colour"
    )]
    NoFreeBackground,
    #[error("the model's instance palette has only {found} colours far enough from the background {background:?}; {needed} are needed")]
    InstancePalette { background: Rgb8, found: usize, needed: usize },
}

impl From<EmbedError> for ConditionError {
    fn from(e: EmbedError) -> Self {
        match e {
            EmbedError::Unknown(unknown) => Self::UnknownPhrase(unknown),
            EmbedError::NotInCore { phrase } => Self::NeedsWholeTable { phrase },
        }
    }
}

fn distance2(a: Rgb8, b: Rgb8) -> u32 {
    a.iter().zip(&b).map(|(&x, &y)| (i32::from(x) - i32::from(y)).pow(2) as u32).sum()
}

/// Entry 0's colour for a semantic prompt: the first of [`SEMANTIC_BACKGROUNDS`] (black unless a class
/// colour lies within [`SEMANTIC_BACKGROUND_MARGIN`] of it, inclusive) farther than the margin from every
/// class colour.
pub fn semantic_background(colours: &[Rgb8]) -> Result<Rgb8, ConditionError> {
    let margin2 = SEMANTIC_BACKGROUND_MARGIN.pow(2);
    SEMANTIC_BACKGROUNDS
        .into_iter()
        .find(|&c| colours.iter().all(|&p| distance2(c, p) > margin2))
        .ok_or(ConditionError::NoFreeBackground)
}

/// The first `count` palette colours at least [`INSTANCE_BACKGROUND_MARGIN`] from `background`.
pub fn instance_colours(palette: &[Rgb8], background: Rgb8, count: usize) -> Result<Vec<Rgb8>, ConditionError> {
    let margin2 = INSTANCE_BACKGROUND_MARGIN.pow(2);
    let colours: Vec<Rgb8> = palette.iter().copied().filter(|&c| distance2(c, background) >= margin2).take(count).collect();
    if colours.len() < count {
        return Err(ConditionError::InstancePalette { background, found: colours.len(), needed: count });
    }
    Ok(colours)
}

fn is_paper_codec(codec: &DepthCodec) -> bool {
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    close(codec.lambda, DepthCodec::PAPER.lambda) && close(codec.c, DepthCodec::PAPER.c)
}

/// Builds the conditioning for `request`. `instance_palette` and `max_instances` come from
/// the manifest.
pub fn condition(
    request: &Request,
    table: &PhraseTable,
    instance_palette: &[Rgb8],
    max_instances: usize,
) -> Result<Conditioning, ConditionError> {
    let none = |task, painter| Conditioning { task, phrases: Vec::new(), slots: Vec::new(), painter };
    Ok(match request {
        Request::Depth(codec) => {
            if !is_paper_codec(codec) {
                return Err(ConditionError::DepthCodec { lambda: codec.lambda, c: codec.c });
            }
            none(TASK_DEPTH, Painter::Depth)
        }
        Request::Normals => none(TASK_NORMALS, Painter::Normals),
        Request::Semantic { classes } => {
            let phrases = classes.iter().map(|c| table.embed(&c.name)).collect::<Result<Vec<_>, _>>()?;
            let class_colours: Vec<Rgb8> = classes.iter().map(|c| c.color).collect();
            let mut colours = vec![semantic_background(&class_colours)?];
            colours.extend(class_colours);
            Conditioning { task: TASK_SEMANTIC, slots: vec![0; phrases.len()], phrases, painter: Painter::Segmentation { colours } }
        }
        Request::Instance { class, background } => {
            let phrase = table.embed(class)?;
            let mut colours = vec![*background];
            colours.extend(instance_colours(instance_palette, *background, max_instances)?);
            Conditioning {
                task: TASK_INSTANCE,
                phrases: vec![phrase; max_instances],
                slots: (1..=max_instances as i64).collect(),
                painter: Painter::Segmentation { colours },
            }
        }
        Request::Referring { targets, background } => {
            let phrases = targets.iter().map(|t| table.embed(&t.name)).collect::<Result<Vec<_>, _>>()?;
            let mut colours = vec![*background];
            colours.extend(targets.iter().map(|t| t.color));
            Conditioning { task: TASK_REFERRING, slots: vec![0; phrases.len()], phrases, painter: Painter::Segmentation { colours } }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phrases::tests::tiny_table;
    use peel_protocol::prompt::parse;

    #[test]
    fn semantic_background_avoids_class_colours() {
        assert_eq!(semantic_background(&[[255, 0, 0], [0, 0, 255]]).unwrap(), [0, 0, 0]);
        // (20, 20, 30) is ~41 from black: black is taken, white is free.
        assert_eq!(semantic_background(&[[255, 0, 0], [20, 20, 30]]).unwrap(), [255, 255, 255]);
        // Exactly 48 from black counts as a collision: (48, 0, 0).
        assert_eq!(semantic_background(&[[48, 0, 0]]).unwrap(), [255, 255, 255]);
        assert_eq!(semantic_background(&[[49, 0, 0]]).unwrap(), [0, 0, 0]);
        // Black and white both taken → grey.
        assert_eq!(semantic_background(&[[0, 0, 0], [250, 250, 250]]).unwrap(), [128, 128, 128]);
        // Black, white, grey taken → magenta; then cyan.
        assert_eq!(semantic_background(&[[0, 0, 0], [255, 255, 255], [128, 128, 128]]).unwrap(), [255, 0, 255]);
        assert_eq!(semantic_background(&[[0, 0, 0], [255, 255, 255], [128, 128, 128], [255, 0, 255]]).unwrap(), [0, 255, 255]);
        let all = [[0, 0, 0], [255, 255, 255], [128, 128, 128], [255, 0, 255], [0, 255, 255]];
        let err = semantic_background(&all).unwrap_err();
        assert!(err.to_string().contains("no free colour"), "{err}");
        // The prompt's own "background" class is just a class.
        let request = parse(r#"using this color mapping: {"background": "black", "sky": "blue"}"#).unwrap();
        let c = condition(&request, &tiny_table(), &[], 8).unwrap();
        assert_eq!(c.painter, Painter::Segmentation { colours: vec![[255, 255, 255], [0, 0, 0], [0, 0, 255]] });
        assert_eq!((c.task, c.slots.as_slice(), c.phrases.len()), (TASK_SEMANTIC, [0, 0].as_slice(), 2));
    }

    #[test]
    fn instance_uses_eight_slots_and_palette_colours_far_from_the_background() {
        let palette: Vec<Rgb8> = vec![
            [10, 10, 10],
            [255, 0, 0],
            [0, 255, 0],
            [0, 0, 255],
            [60, 20, 20],
            [255, 255, 0],
            [0, 255, 255],
            [255, 0, 255],
            [255, 255, 255],
            [128, 128, 128],
            [200, 100, 0],
            [0, 100, 200],
        ];
        let request = parse("Instance segmentation. Each red car is colored differently.").unwrap();
        let c = condition(&request, &tiny_table(), &palette, 8).unwrap();
        assert_eq!(c.task, TASK_INSTANCE);
        assert_eq!(c.slots, (1..=8).collect::<Vec<i64>>());
        assert_eq!(c.phrases.len(), 8);
        assert!(c.phrases.iter().all(|p| *p == c.phrases[0]));
        let Painter::Segmentation { colours } = c.painter else { panic!() };
        // (10,10,10) is 17 from black and (60,20,20) is ~66: both skipped.
        assert_eq!(colours[0], [0, 0, 0]);
        assert_eq!(&colours[1..], &palette[1..4].iter().chain(&palette[5..10]).copied().collect::<Vec<_>>()[..]);
        // Distance exactly 80 is allowed.
        assert_eq!(instance_colours(&[[80, 0, 0]], [0, 0, 0], 1).unwrap(), vec![[80, 0, 0]]);
        assert!(instance_colours(&[[79, 0, 0]], [0, 0, 0], 1).is_err());
    }

    #[test]
    fn referring_depth_and_normals() {
        let request = parse("A segmentation map image. The sky is rendered solid blue; the red car is rendered red. Background is white.").unwrap();
        let c = condition(&request, &tiny_table(), &[], 8).unwrap();
        assert_eq!(c.task, TASK_REFERRING);
        assert_eq!(c.slots, vec![0, 0]);
        assert_eq!(c.painter, Painter::Segmentation { colours: vec![[255, 255, 255], [0, 0, 255], [255, 0, 0]] });

        let depth = condition(&parse("Generate a metric depth map of the input image.").unwrap(), &tiny_table(), &[], 8).unwrap();
        assert_eq!((depth.task, depth.phrases.len(), depth.painter), (TASK_DEPTH, 0, Painter::Depth));
        let normals = condition(&Request::Normals, &tiny_table(), &[], 8).unwrap();
        assert_eq!((normals.task, normals.painter), (TASK_NORMALS, Painter::Normals));

        let tuned = parse("Generate a metric depth map. lambda = -4, c = 120").unwrap();
        let err = condition(&tuned, &tiny_table(), &[], 8).unwrap_err();
        assert!(err.to_string().contains("paper's codec only"), "{err}");
    }

    #[test]
    fn unknown_phrases_are_errors_naming_them() {
        let request = parse(r#"using this color mapping: {"sky": "blue", "zebra crossing": "red"}"#).unwrap();
        let err = condition(&request, &tiny_table(), &[], 8).unwrap_err();
        assert!(err.to_string().contains("\"zebra crossing\""), "{err}");
    }
}
