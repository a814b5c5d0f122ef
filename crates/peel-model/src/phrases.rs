//! The phrase table: prompt text → the unit 384-d sentence embeddings the generator's tokens
//! start from. A browser cannot run the sentence encoder, so the export script ships the
//! embeddings of a fixed vocabulary (`phrases.safetensors`, int8 with one scale per row) and
//! the rule below composes unseen phrases from word embeddings. It must match the Python rule
//! in the training code exactly:
//!
//! 1. [`normalize`]: lower-case; every character outside `[a-z0-9]` becomes a space; split on
//!    whitespace and join with single spaces.
//! 2. A normalized phrase found in the manifest's `vocabulary.phrases` takes that row.
//! 3. Otherwise: the mean of the rows of its words that are not stopwords and are in
//!    `vocabulary.words` (repeated words count repeatedly); none known is an error.
//! 4. Either way the vector is divided by its L2 norm (at least 1e-12).

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};

use crate::state::Vocabulary;

/// Tensor names in `phrases.safetensors`.
const PHRASES: &str = "phrases";
const WORDS: &str = "words";

/// Why no embedding exists for a phrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the phrase {phrase:?} has no known words: the model's vocabulary does not cover it (try a more common word)")]
pub struct UnknownPhrase {
    pub phrase: String,
}

/// Lower-case, non-`[a-z0-9]` → space, single-spaced, trimmed.
pub fn normalize(text: &str) -> String {
    let mapped: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { ' ' })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One int8 table: `rows × dim` values and one scale per row.
#[derive(Debug, Clone)]
struct Table {
    dim: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
    index: HashMap<String, usize>,
}

impl Table {
    fn row(&self, i: usize) -> impl Iterator<Item = f32> + '_ {
        let scale = self.scales[i];
        self.values[i * self.dim..(i + 1) * self.dim].iter().map(move |&q| f32::from(q) * scale)
    }
}

/// Phrase and word embeddings, int8 in memory and dequantized per lookup.
#[derive(Debug, Clone)]
pub struct PhraseTable {
    phrases: Table,
    words: Table,
    stopwords: Vec<String>,
}

impl PhraseTable {
    /// Parses `phrases.safetensors` against the manifest's vocabulary. The caller checks the
    /// file's SHA-256; this checks names, dtypes, shapes and finite scales.
    pub fn from_bytes(bytes: &[u8], vocabulary: &Vocabulary, dim: usize) -> Result<Self, String> {
        let file = SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
        let mut names: Vec<String> = file.names().into_iter().map(str::to_string).collect();
        names.sort();
        let expected = [PHRASES, "phrases.qscale", WORDS, "words.qscale"];
        if let Some(extra) = names.iter().find(|n| !expected.contains(&n.as_str())) {
            return Err(format!("unexpected tensor {extra:?} (expected {expected:?})"));
        }
        let table = |name: &str, entries: &[String]| -> Result<Table, String> {
            let rows = entries.len();
            let values = crate::state::tensor_of(&file, name, Dtype::I8, &[rows, dim])?;
            let scale_name = format!("{name}.qscale");
            let scales = crate::state::f32_values(crate::state::tensor_of(&file, &scale_name, Dtype::F32, &[rows, 1])?);
            if let Some(bad) = scales.iter().position(|s| !s.is_finite()) {
                return Err(format!("{scale_name} row {bad} is not finite"));
            }
            let values = values.iter().map(|&b| b as i8).collect();
            let mut index = HashMap::with_capacity(rows);
            for (i, entry) in entries.iter().enumerate() {
                index.entry(entry.clone()).or_insert(i);
            }
            Ok(Table { dim, values, scales, index })
        };
        Ok(Self {
            phrases: table(PHRASES, &vocabulary.phrases)?,
            words: table(WORDS, &vocabulary.words)?,
            stopwords: vocabulary.stopwords.clone(),
        })
    }

    /// Embedding size.
    pub fn dim(&self) -> usize {
        self.phrases.dim
    }

    /// The unit embedding of `text` (see the module docs for the rule).
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, UnknownPhrase> {
        let phrase = normalize(text);
        let mut v = vec![0.0f32; self.dim()];
        if let Some(&i) = self.phrases.index.get(&phrase) {
            v.iter_mut().zip(self.phrases.row(i)).for_each(|(a, b)| *a = b);
        } else {
            let known: Vec<usize> = phrase
                .split(' ')
                .filter(|w| !self.stopwords.iter().any(|s| s == w))
                .filter_map(|w| self.words.index.get(w).copied())
                .collect();
            if known.is_empty() {
                return Err(UnknownPhrase { phrase: text.to_string() });
            }
            for &i in &known {
                v.iter_mut().zip(self.words.row(i)).for_each(|(a, b)| *a += b);
            }
            let n = known.len() as f32;
            v.iter_mut().for_each(|a| *a /= n);
        }
        let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|a| *a /= norm);
        Ok(v)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use safetensors::tensor::TensorView;

    /// A tiny table: phrases "red car" and "sky"; words "red", "car", "sky", "left", "background".
    pub(crate) fn tiny_table() -> PhraseTable {
        let vocabulary = Vocabulary {
            phrases: vec!["red car".into(), "sky".into()],
            words: vec!["red".into(), "car".into(), "sky".into(), "left".into(), "background".into()],
            stopwords: vec!["the".into(), "a".into(), "of".into()],
        };
        let phrases: Vec<u8> = [[10i8, 0, 0, 0], [0, 127, 0, 0]].iter().flatten().map(|&q| q as u8).collect();
        let words: Vec<u8> =
            [[3i8, 4, 0, 0], [0, 0, 8, 0], [0, 0, 0, 1], [1, 1, 1, 1], [0, 1, 0, 0]].iter().flatten().map(|&q| q as u8).collect();
        let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let pscale = f32s(&[0.1, 0.01]);
        let wscale = f32s(&[0.5, 0.25, 1.0, 2.0, 1.0]);
        let tensors = vec![
            ("phrases", TensorView::new(Dtype::I8, vec![2, 4], &phrases).unwrap()),
            ("phrases.qscale", TensorView::new(Dtype::F32, vec![2, 1], &pscale).unwrap()),
            ("words", TensorView::new(Dtype::I8, vec![5, 4], &words).unwrap()),
            ("words.qscale", TensorView::new(Dtype::F32, vec![5, 1], &wscale).unwrap()),
        ];
        let bytes = safetensors::serialize(tensors, None).unwrap();
        PhraseTable::from_bytes(&bytes, &vocabulary, 4).unwrap()
    }

    #[test]
    fn normalize_matches_the_python_rule() {
        assert_eq!(normalize("  The Man in PINK t-shirt! "), "the man in pink t shirt");
        assert_eq!(normalize("exit_sign"), "exit sign");
        assert_eq!(normalize("Café 2nd\tfloor"), "caf 2nd floor");
        assert_eq!(normalize("ÉCOLE"), "cole");
        assert_eq!(normalize("!!!"), "");
    }

    #[test]
    fn known_phrases_take_their_row_and_others_average_their_words() {
        let table = tiny_table();
        assert_eq!(table.embed("Red-Car").unwrap(), vec![1.0, 0.0, 0.0, 0.0]);
        // "the red car on the left": not a phrase; words red, car, left (stopword "the", unknown "on").
        // red = (1.5, 2, 0, 0), car = (0, 0, 2, 0), left = (2, 2, 2, 2); mean = (3.5, 4, 4, 2) / 3.
        let v = table.embed("the red car on the left").unwrap();
        let raw = [3.5f32, 4.0, 4.0, 2.0];
        let norm = raw.iter().map(|a| a * a).sum::<f32>().sqrt();
        for (a, b) in v.iter().zip(raw) {
            assert!((a - b / norm).abs() < 1e-6, "{v:?}");
        }
        // Repeated words count twice.
        let v = table.embed("red red car").unwrap();
        let raw = [3.0f32, 4.0, 2.0, 0.0];
        let norm = raw.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!(v.iter().zip(raw).all(|(a, b)| (a - b / norm).abs() < 1e-6), "{v:?}");
    }

    #[test]
    fn unknown_phrases_name_themselves() {
        let err = tiny_table().embed("The Zebra of a").unwrap_err();
        assert_eq!(err.phrase, "The Zebra of a");
        assert!(err.to_string().contains("\"The Zebra of a\""), "{err}");
    }

    #[test]
    fn malformed_tables_are_refused() {
        let vocabulary = Vocabulary { phrases: vec!["a".into()], words: vec![], stopwords: vec![] };
        assert!(PhraseTable::from_bytes(b"junk", &vocabulary, 4).unwrap_err().contains("not a safetensors"));
        let data = [0u8; 4];
        let tensors = vec![("phrases", TensorView::new(Dtype::I8, vec![1, 4], &data).unwrap())];
        let bytes = safetensors::serialize(tensors, None).unwrap();
        let err = PhraseTable::from_bytes(&bytes, &vocabulary, 4).unwrap_err();
        assert!(err.contains("phrases.qscale"), "{err}");
    }
}
