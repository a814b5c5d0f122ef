//! The phrase table: prompt text → the vectors the generator's tokens start from. A browser
//! cannot run the sentence encoder, so the export script ships one row per phrase and per word
//! (`phrases.safetensors`) and the rule below composes unseen phrases from word rows. Each row
//! is an all-MiniLM-L6-v2 embedding already multiplied by the network's `phrase_proj.weight`
//! (384 → d, no bias): the projection is linear and the rule averages without renormalizing,
//! so projecting the average equals averaging the projections, and d-dimensional rows let a
//! 42,559-word vocabulary fit in about 2 MB (the words training never saw at 4 bits). The rule
//! must match `vocab.embed` in the training code exactly:
//!
//! 1. [`normalize`]: lower-case; every character outside `[a-z0-9]` becomes a space; split on
//!    whitespace and join with single spaces.
//! 2. A normalized phrase in the table's phrase list takes that row.
//! 3. Otherwise: the mean of the rows of its words that are not stopwords and are in the word
//!    list (repeated words count repeatedly); none known is an error. A word not in the list whose
//!    singular is ([`PLURAL_ENDINGS`], tried in order: cups → cup, boxes → box, berries → berry)
//!    counts as that singular: the table leaves plurals out.
//! 4. No renormalization.
//!
//! The file holds `phrases` and `words` (`I8`, `[rows, d]`) with `phrases.qscale` and
//! `words.qscale` (`F32`, `[rows, 1]`, value = q × scale), and the row names, newline-joined, in
//! its metadata under `phrases` and `words`. The manifest gives the row counts and stopwords.
//! Words that training never saw may instead be in `words_4bit` (`U8`, `[rows, d / 2]`, two
//! 4-bit values a byte, low nibble first) with `words_4bit.qscale` and their own metadata list:
//! rows the network has no calibrated use for, at half the bytes.
//!
//! A first visit may load the **core** table instead (`Manifest::core_phrases`): every phrase row
//! and the rows of the words those phrases are made of, byte for byte the whole table's. It
//! answers a phrase only when the whole table would give the same row: a listed phrase, or a
//! phrase all of whose words it lists by name (since every phrase's words are listed, such a phrase
//! cannot be one of the whole table's phrases). Anything else is [`EmbedError::NotInCore`]: the
//! caller waits for the whole table, which also owns the refusals and the nearest-word search.

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};

use crate::state::Vocabulary;

/// Tensor (and metadata key) names in `phrases.safetensors`.
const PHRASES: &str = "phrases";
const WORDS: &str = "words";
const WORDS_4BIT: &str = "words_4bit";

/// Why no embedding exists for a phrase, with the known words nearest to its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the phrase {phrase:?} has no known words: the model's vocabulary does not cover it{}", suggestion_text(.suggestions))]
pub struct UnknownPhrase {
    pub phrase: String,
    /// Per unknown word of the phrase (normalized, stopwords left out; the first
    /// [`SUGGESTED_WORDS`]): the nearest known words, best first; empty when nothing is near.
    pub suggestions: Vec<(String, Vec<String>)>,
}

fn suggestion_text(suggestions: &[(String, Vec<String>)]) -> String {
    let near: Vec<String> = suggestions
        .iter()
        .filter(|(_, words)| !words.is_empty())
        .map(|(word, words)| format!("instead of {word:?}, try {}", words.join(", ")))
        .collect();
    if near.is_empty() { " (try a more common word)".to_string() } else { format!("; {}", near.join("; ")) }
}

/// Why a phrase has no embedding from this table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Unknown(#[from] UnknownPhrase),
    /// The table is the core one and the phrase has a word it does not list: the whole table decides.
    #[error("the phrase {phrase:?} has words outside the core vocabulary; the whole phrase table decides")]
    NotInCore { phrase: String },
}

/// How many nearest words are offered per unknown word.
pub const SUGGESTIONS: usize = 3;
/// Unknown words of one phrase that get suggestions: each costs a search of the vocabulary, and
/// a phrase of hundreds of unknown words is not a typo.
pub const SUGGESTED_WORDS: usize = 8;

/// Plural endings and their replacements, tried in this order (`vocab.PLURAL_ENDINGS`).
pub const PLURAL_ENDINGS: [(&str, &str); 3] = [("ies", "y"), ("es", ""), ("s", "")];

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

    /// Reads tensor `name`, its scales and its row names (metadata `name`), `expected_rows` long:
    /// int8 rows, or with `packed` 4-bit ones, two to a byte (`U8 [rows, dim / 2]`, the low
    /// nibble first, each a two's-complement value in -8..=7).
    fn read(
        file: &SafeTensors,
        metadata: &HashMap<String, String>,
        name: &str,
        expected_rows: usize,
        dim: usize,
        packed: bool,
    ) -> Result<Self, String> {
        let names = metadata.get(name).ok_or_else(|| format!("the file's metadata has no {name:?} list"))?;
        let entries: Vec<&str> = if names.is_empty() { Vec::new() } else { names.split('\n').collect() };
        if entries.len() != expected_rows {
            return Err(format!("{} {name} listed in the file, the manifest says {expected_rows}", entries.len()));
        }
        let mut index = HashMap::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            if entry.is_empty() || normalize(entry) != *entry {
                return Err(format!("{name} entry {i} ({entry:?}) is not normalized text, so no prompt could reach it"));
            }
            if index.insert(entry.to_string(), i).is_some() {
                return Err(format!("{name} entry {entry:?} appears twice"));
            }
        }
        let values: Vec<i8> = if packed {
            if !dim.is_multiple_of(2) {
                return Err(format!("{name} packs two values a byte, but rows are {dim} long"));
            }
            let bytes = crate::state::tensor_of(file, name, Dtype::U8, &[expected_rows, dim / 2])?;
            bytes.iter().flat_map(|&b| [((b << 4) as i8) >> 4, (b as i8) >> 4]).collect()
        } else {
            crate::state::tensor_of(file, name, Dtype::I8, &[expected_rows, dim])?.iter().map(|&b| b as i8).collect()
        };
        let scale_name = format!("{name}.qscale");
        let scales = crate::state::f32_values(crate::state::tensor_of(file, &scale_name, Dtype::F32, &[expected_rows, 1])?);
        if let Some(bad) = scales.iter().position(|s| !s.is_finite()) {
            return Err(format!("{scale_name} row {bad} is not finite"));
        }
        Ok(Self { dim, values, scales, index })
    }

    /// `other`'s rows after this table's.
    fn append(&mut self, other: Table) -> Result<(), String> {
        let offset = self.scales.len();
        for (entry, i) in other.index {
            if self.index.insert(entry.clone(), offset + i).is_some() {
                return Err(format!("the word {entry:?} is listed at 8 and at 4 bits"));
            }
        }
        self.values.extend(other.values);
        self.scales.extend(other.scales);
        Ok(())
    }
}

/// The known words (stopwords left out) grouped by length, each with the set of characters it
/// uses, so that the nearest-word search computes few edit distances: each edit adds or removes
/// at most one character on each side (a swap none), so a word more than `budget` letters longer
/// or shorter, or with more than `budget` characters (counted with repeats) that the other lacks,
/// is more than `budget` edits away.
#[derive(Debug, Clone, Default)]
struct SpellingIndex {
    by_length: Vec<Vec<(u64, String)>>,
}

impl SpellingIndex {
    fn new<'a>(words: impl Iterator<Item = &'a str>) -> Self {
        let mut index = Self::default();
        for word in words {
            let length = word.chars().count();
            if index.by_length.len() <= length {
                index.by_length.resize_with(length + 1, Vec::new);
            }
            index.by_length[length].push((char_set(word), word.to_string()));
        }
        index
    }

    /// Words within `budget` edits of `word` (optimal string alignment: insertions, deletions,
    /// substitutions and swaps of neighbours), with their distances.
    fn within<'a>(&'a self, word: &str, budget: usize) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        let length = word.chars().count();
        let set = char_set(word);
        let mut counts = [0i32; 64];
        word.chars().for_each(|c| counts[char_slot(c)] += 1);
        let word = word.to_string();
        let end = (length + budget + 1).min(self.by_length.len());
        self.by_length[length.saturating_sub(budget).min(end)..end]
            .iter()
            .flatten()
            .filter(move |(known_set, _)| {
                (set & !known_set).count_ones() as usize <= budget && (known_set & !set).count_ones() as usize <= budget
            })
            .filter(move |(known_set, known)| {
                let mut surplus = counts;
                known.chars().for_each(|c| surplus[char_slot(c)] -= 1);
                let (mut only_here, mut only_there) = (0, 0);
                let mut slots = set | known_set;
                while slots != 0 {
                    let n = surplus[slots.trailing_zeros() as usize];
                    if n > 0 { only_here += n } else { only_there -= n }
                    slots &= slots - 1;
                }
                only_here.max(only_there) as usize <= budget
            })
            .map(move |(_, known)| (strsim::osa_distance(&word, known), known.as_str()))
            .filter(move |&(d, _)| d <= budget)
    }
}

/// One slot per character of `[a-z0-9]`, one shared slot for any other (which only weakens the
/// filters, never wrongly excludes a word).
fn char_slot(c: char) -> usize {
    match c {
        'a'..='z' => c as usize - 'a' as usize,
        '0'..='9' => 26 + c as usize - '0' as usize,
        _ => 63,
    }
}

fn char_set(word: &str) -> u64 {
    word.chars().fold(0, |set, c| set | 1 << char_slot(c))
}

/// Phrase and word rows, int8 in memory and dequantized per lookup.
#[derive(Debug, Clone)]
pub struct PhraseTable {
    phrases: Table,
    words: Table,
    stopwords: Vec<String>,
    spelling: SpellingIndex,
    /// False for the core table (see the module docs).
    complete: bool,
}

impl PhraseTable {
    /// Parses `phrases.safetensors` against the manifest's vocabulary; `dim` is the projected
    /// size (the network's width). The caller checks the file's SHA-256; this checks names,
    /// counts, duplicates, dtypes, shapes and finite scales.
    pub fn from_bytes(bytes: &[u8], vocabulary: &Vocabulary, dim: usize) -> Result<Self, String> {
        Self::read(bytes, vocabulary, vocabulary.word_count, dim, true)
    }

    /// Parses the core table (`Manifest::core_phrases`): every phrase, `word_count` words, and
    /// every word of every phrase among them (else the table could answer a phrase differently
    /// from the whole one).
    pub fn from_core_bytes(bytes: &[u8], vocabulary: &Vocabulary, word_count: usize, dim: usize) -> Result<Self, String> {
        let table = Self::read(bytes, vocabulary, word_count, dim, false)?;
        for phrase in table.phrases.index.keys() {
            if let Some(word) = phrase.split(' ').find(|w| !table.is_stopword(w) && !table.words.index.contains_key(*w)) {
                return Err(format!("the core table lists the phrase {phrase:?} but not its word {word:?}"));
            }
        }
        Ok(table)
    }

    fn read(bytes: &[u8], vocabulary: &Vocabulary, word_count: usize, dim: usize, complete: bool) -> Result<Self, String> {
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
        let file = SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
        let expected = [PHRASES, "phrases.qscale", WORDS, "words.qscale", WORDS_4BIT, "words_4bit.qscale"];
        let mut names: Vec<String> = file.names().into_iter().map(str::to_string).collect();
        names.sort();
        if let Some(extra) = names.iter().find(|n| !expected.contains(&n.as_str())) {
            return Err(format!("unexpected tensor {extra:?} (expected {expected:?})"));
        }
        let empty = HashMap::new();
        let metadata = header.metadata().as_ref().unwrap_or(&empty);
        let phrases = Table::read(&file, metadata, PHRASES, vocabulary.phrase_count, dim, false)?;
        // Words training never saw may be stored at 4 bits (`WORDS_4BIT`), after the int8 ones.
        let four_bit = names.iter().any(|n| n == WORDS_4BIT) || metadata.contains_key(WORDS_4BIT);
        let four_bit_rows = match metadata.get(WORDS_4BIT) {
            Some(list) if !list.is_empty() => list.split('\n').count(),
            _ => 0,
        };
        let int8_rows = word_count.checked_sub(four_bit_rows).ok_or_else(|| {
            format!("{four_bit_rows} {WORDS_4BIT} listed in the file, more than the manifest's {word_count} words")
        })?;
        let mut words = Table::read(&file, metadata, WORDS, int8_rows, dim, false)?;
        if four_bit {
            words.append(Table::read(&file, metadata, WORDS_4BIT, four_bit_rows, dim, true)?)?;
        }
        let stopwords = vocabulary.stopwords.clone();
        // Only the whole table refuses words, so only it needs the search.
        let spelling = match complete {
            true => SpellingIndex::new(words.index.keys().map(String::as_str).filter(|w| !stopwords.iter().any(|s| s == w))),
            false => SpellingIndex::default(),
        };
        Ok(Self { phrases, words, stopwords, spelling, complete })
    }

    /// False for the core table.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    fn is_stopword(&self, word: &str) -> bool {
        self.stopwords.iter().any(|s| s == word)
    }

    /// Row size: the network's width.
    pub fn dim(&self) -> usize {
        self.phrases.dim
    }

    /// Number of words phrases can be composed from.
    pub fn word_count(&self) -> usize {
        self.words.index.len()
    }

    /// The row of `word`, or of its first singular that is in the word list (`vocab.singular`).
    fn word_row(&self, word: &str) -> Option<usize> {
        if let Some(&i) = self.words.index.get(word) {
            return Some(i);
        }
        PLURAL_ENDINGS.iter().find_map(|(ending, replacement)| {
            let stem = word.strip_suffix(ending).filter(|stem| !stem.is_empty())?;
            self.words.index.get(&format!("{stem}{replacement}")).copied()
        })
    }

    /// The words of a normalized phrase that are neither stopwords nor known (themselves or as a singular).
    fn unknown_words<'a>(&self, phrase: &'a str) -> impl Iterator<Item = &'a str> {
        phrase.split(' ').filter(|w| !w.is_empty() && !self.is_stopword(w) && self.word_row(w).is_none())
    }

    /// Known words within a few edits of `word` (restricted Damerau-Levenshtein: a typo, a plural, a
    /// spelling variant), nearest first, ties in alphabetical order; at most [`SUGGESTIONS`].
    pub fn nearest_words(&self, word: &str) -> Vec<String> {
        let budget = (word.chars().count() / 3).clamp(1, 3);
        let mut near: Vec<(usize, &str)> = self.spelling.within(word, budget).collect();
        near.sort_unstable();
        near.into_iter().take(SUGGESTIONS).map(|(_, w)| w.to_string()).collect()
    }

    /// The projected embedding of `text` (see the module docs for the rule).
    /// The core table answers only what the whole table would answer the same way.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let phrase = normalize(text);
        if let Some(&i) = self.phrases.index.get(&phrase) {
            return Ok(self.phrases.row(i).collect());
        }
        let mut words = phrase.split(' ').filter(|w| !w.is_empty() && !self.is_stopword(w));
        // Only an exact entry is the same row in both tables (a plural may be a word of its own there).
        if !self.complete && words.any(|w| !self.words.index.contains_key(w)) {
            return Err(EmbedError::NotInCore { phrase: text.to_string() });
        }
        let known: Vec<usize> = phrase.split(' ').filter(|w| !self.is_stopword(w)).filter_map(|w| self.word_row(w)).collect();
        if known.is_empty() {
            let suggestions =
                self.unknown_words(&phrase).take(SUGGESTED_WORDS).map(|w| (w.to_string(), self.nearest_words(w))).collect();
            return Err(UnknownPhrase { phrase: text.to_string(), suggestions }.into());
        }
        let mut v = vec![0.0f32; self.dim()];
        for &i in &known {
            v.iter_mut().zip(self.words.row(i)).for_each(|(a, b)| *a += b);
        }
        let n = known.len() as f32;
        v.iter_mut().for_each(|a| *a /= n);
        Ok(v)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use safetensors::tensor::TensorView;

    type Rows<'a> = (&'a [&'a str], &'a [[i8; 4]], &'a [f32]);

    /// A phrase file with 4-wide rows: (names, int8 rows, scales) for phrases and for words.
    pub(crate) fn table_bytes(phrases: Rows, words: Rows) -> Vec<u8> {
        let i8s = |rows: &[[i8; 4]]| rows.iter().flatten().map(|&q| q as u8).collect::<Vec<u8>>();
        let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let (pq, ps, wq, ws) = (i8s(phrases.1), f32s(phrases.2), i8s(words.1), f32s(words.2));
        let tensors = vec![
            (PHRASES, TensorView::new(Dtype::I8, vec![phrases.1.len(), 4], &pq).unwrap()),
            ("phrases.qscale", TensorView::new(Dtype::F32, vec![phrases.2.len(), 1], &ps).unwrap()),
            (WORDS, TensorView::new(Dtype::I8, vec![words.1.len(), 4], &wq).unwrap()),
            ("words.qscale", TensorView::new(Dtype::F32, vec![words.2.len(), 1], &ws).unwrap()),
        ];
        let metadata = HashMap::from([(PHRASES.to_string(), phrases.0.join("\n")), (WORDS.to_string(), words.0.join("\n"))]);
        safetensors::serialize(tensors, Some(metadata)).unwrap()
    }

    fn vocabulary(phrases: usize, words: usize) -> Vocabulary {
        Vocabulary { phrase_count: phrases, word_count: words, stopwords: vec!["the".into(), "a".into(), "of".into()] }
    }

    const PHRASE_NAMES: [&str; 2] = ["red car", "sky"];
    const PHRASE_ROWS: [[i8; 4]; 2] = [[10, 0, 0, 0], [0, 127, 0, 0]];
    const WORD_NAMES: [&str; 5] = ["red", "car", "sky", "left", "background"];
    const WORD_ROWS: [[i8; 4]; 5] = [[3, 4, 0, 0], [0, 0, 8, 0], [0, 0, 0, 1], [1, 1, 1, 1], [0, 1, 0, 0]];
    const WORD_SCALES: [f32; 5] = [0.5, 0.25, 1.0, 2.0, 1.0];

    /// A tiny table: phrases "red car" and "sky"; words "red", "car", "sky", "left", "background".
    pub(crate) fn tiny_table() -> PhraseTable {
        let bytes = table_bytes((&PHRASE_NAMES, &PHRASE_ROWS, &[0.1, 0.01]), (&WORD_NAMES, &WORD_ROWS, &WORD_SCALES));
        PhraseTable::from_bytes(&bytes, &vocabulary(2, 5), 4).unwrap()
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
    fn known_phrases_take_their_row_and_others_average_their_words_without_renormalizing() {
        let table = tiny_table();
        assert_eq!(table.dim(), 4);
        assert_eq!(table.embed("Red-Car").unwrap(), vec![1.0, 0.0, 0.0, 0.0]);
        // "the red car on the left": not a phrase; words red, car, left (stopword "the", unknown "on").
        // red = (1.5, 2, 0, 0), car = (0, 0, 2, 0), left = (2, 2, 2, 2); the mean, as is.
        let v = table.embed("the red car on the left").unwrap();
        let mean = [3.5f32 / 3.0, 4.0 / 3.0, 4.0 / 3.0, 2.0 / 3.0];
        assert!(v.iter().zip(mean).all(|(a, b)| (a - b).abs() < 1e-6), "{v:?}");
        // Repeated words count twice: (2 red + car) / 3.
        let v = table.embed("red red car").unwrap();
        let mean = [1.0f32, 4.0 / 3.0, 2.0 / 3.0, 0.0];
        assert!(v.iter().zip(mean).all(|(a, b)| (a - b).abs() < 1e-6), "{v:?}");
        // A single known word is its row, whatever its length (sky = (0, 0, 0, 1)).
        assert_eq!(table.embed("the sky of a").unwrap(), vec![0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn the_word_average_commutes_with_a_linear_projection() {
        // Rows projected by W (4 → 2) then averaged equal the projection of the averaged rows:
        // the property that lets the file ship projected rows.
        let w = [[1.0f32, -2.0], [0.5, 0.0], [0.0, 3.0], [-1.0, 1.0]];
        let project = |v: &[f32]| -> Vec<f32> { (0..2).map(|j| v.iter().zip(&w).map(|(x, r)| x * r[j]).sum()).collect() };
        let table = tiny_table();
        let averaged_then_projected = project(&table.embed("red car left").unwrap());
        let projected_then_averaged: Vec<f32> = {
            let rows: Vec<Vec<f32>> = ["red", "car", "left"].iter().map(|word| project(&table.embed(word).unwrap())).collect();
            (0..2).map(|j| rows.iter().map(|r| r[j]).sum::<f32>() / 3.0).collect()
        };
        for (a, b) in averaged_then_projected.iter().zip(&projected_then_averaged) {
            assert!((a - b).abs() < 1e-5, "{averaged_then_projected:?} vs {projected_then_averaged:?}");
        }
    }

    #[test]
    fn unknown_phrases_name_themselves() {
        let EmbedError::Unknown(err) = tiny_table().embed("The Zebra of a").unwrap_err() else { panic!("refused as not in the core") };
        assert_eq!(err.phrase, "The Zebra of a");
        assert!(err.to_string().contains("\"The Zebra of a\""), "{err}");
        assert_eq!(err.suggestions, vec![("zebra".to_string(), vec![])]);
        assert!(err.to_string().ends_with("(try a more common word)"), "{err}");
        assert!(tiny_table().embed("").is_err());
    }

    /// The core of [`tiny_table`]: both phrases, and of the words only theirs ("left" and
    /// "background" wait for the whole table).
    fn tiny_core() -> PhraseTable {
        let names = ["red", "car", "sky"];
        let bytes = table_bytes((&PHRASE_NAMES, &PHRASE_ROWS, &[0.1, 0.01]), (&names, &WORD_ROWS[..3], &WORD_SCALES[..3]));
        PhraseTable::from_core_bytes(&bytes, &vocabulary(2, 5), 3, 4).unwrap()
    }

    #[test]
    fn the_core_table_answers_as_the_whole_one_or_defers() {
        let (whole, core) = (tiny_table(), tiny_core());
        assert!(whole.is_complete() && !core.is_complete());
        for text in ["Red-Car", "sky", "red sky", "the red car of a", "sky sky red", "the", ""] {
            assert_eq!(core.embed(text), whole.embed(text), "{text:?}");
        }
        // A word it does not list, even one whose singular it lists: the whole table may hold
        // that word as a row of its own, or a near word to suggest.
        for text in ["the left", "red car left", "cars", "zebra", "the rde carz", "red car on"] {
            assert_eq!(core.embed(text), Err(EmbedError::NotInCore { phrase: text.to_string() }), "{text:?}");
        }
    }

    #[test]
    fn a_core_table_missing_a_word_of_its_phrases_is_refused() {
        // "red car" listed, "car" not: the core would average where the whole table takes the phrase row.
        let names = ["red", "sky"];
        let rows = [WORD_ROWS[0], WORD_ROWS[2]];
        let bytes = table_bytes((&PHRASE_NAMES, &PHRASE_ROWS, &[0.1, 0.01]), (&names, &rows, &[0.5, 1.0]));
        let err = PhraseTable::from_core_bytes(&bytes, &vocabulary(2, 5), 2, 4).unwrap_err();
        assert_eq!(err, "the core table lists the phrase \"red car\" but not its word \"car\"");
        // The counts are the core's: the manifest's whole word count is refused.
        assert!(PhraseTable::from_core_bytes(&bytes, &vocabulary(2, 5), 5, 4).is_err());
    }

    #[test]
    fn plurals_of_known_words_take_the_singular_row() {
        let table = tiny_table();
        assert_eq!(table.embed("cars").unwrap(), table.embed("car").unwrap());
        // "ies" -> "y" is tried first; "the skies" is not the phrase "sky", so it is the word row.
        assert_eq!(table.embed("the skies").unwrap(), vec![0.0, 0.0, 0.0, 1.0]);
        assert_eq!(table.embed("red cars").unwrap(), table.embed("red car on").unwrap());
        // Only known singulars count: a bare ending and an unknown stem stay unknown.
        for text in ["s", "es", "carts"] {
            assert!(table.embed(text).is_err(), "{text}");
        }
    }

    #[test]
    fn unknown_words_get_the_nearest_known_words() {
        let table = tiny_table();
        // A swap and a typo; each unknown word gets its own list, stopwords none.
        let EmbedError::Unknown(err) = table.embed("the rde carz").unwrap_err() else { panic!("refused as not in the core") };
        assert_eq!(err.suggestions, vec![("rde".to_string(), vec!["red".to_string()]), ("carz".to_string(), vec!["car".to_string()])]);
        let text = err.to_string();
        assert!(text.contains("instead of \"rde\", try red; instead of \"carz\", try car"), "{text}");
        // Nearest first, then alphabetical; nothing far away (one edit allowed for 3 letters).
        assert_eq!(table.nearest_words("skys"), vec!["sky"]);
        assert_eq!(table.nearest_words("lefts"), vec!["left"]);
        assert!(table.nearest_words("xyz").is_empty());
        assert!(table.nearest_words("backgrounds").contains(&"background".to_string()));
    }

    #[test]
    fn the_spelling_index_finds_what_a_full_scan_finds() {
        // Pseudo-random words over a small alphabet (so that many are near each other), and
        // queries made from them by an edit or two, or drawn the same way.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n) as usize
        };
        let letters: Vec<char> = "aeinorst1".chars().collect();
        let random_word = |next: &mut dyn FnMut(u64) -> usize| -> String {
            let length = 1 + next(9);
            (0..length).map(|_| letters[next(letters.len() as u64)]).collect()
        };
        let mut words: Vec<String> = (0..3000).map(|_| random_word(&mut next)).collect();
        words.sort();
        words.dedup();
        let index = SpellingIndex::new(words.iter().map(String::as_str));
        for i in 0..400 {
            let mut query: Vec<char> = words[next(words.len() as u64)].chars().collect();
            for _ in 0..1 + i % 3 {
                let at = next(query.len() as u64 + 1);
                match next(3) {
                    0 if at < query.len() => drop(query.remove(at)),
                    1 if at < query.len() => query[at] = 'x',
                    _ => query.insert(at, 'e'),
                }
            }
            let query: String = if i % 5 == 0 { random_word(&mut next) } else { query.into_iter().collect() };
            let budget = 1 + i % 3;
            let mut found: Vec<(usize, &str)> = index.within(&query, budget).collect();
            found.sort_unstable();
            let mut scanned: Vec<(usize, &str)> =
                words.iter().map(|w| (strsim::osa_distance(&query, w), w.as_str())).filter(|&(d, _)| d <= budget).collect();
            scanned.sort_unstable();
            assert_eq!(found, scanned, "query {query:?}, budget {budget}");
        }
        // Outside [a-z0-9] (the API takes any text): nothing is wrongly left out.
        let odd = SpellingIndex::new(["café", "cafe", "caf"].into_iter());
        let mut found: Vec<(usize, &str)> = odd.within("cafè", 1).collect();
        found.sort_unstable();
        assert_eq!(found, vec![(1, "caf"), (1, "cafe"), (1, "café")]);
        // Longer than every known word (found by fuzzing: the length range ran backwards).
        assert_eq!(odd.within("cafeteria", 3).count(), 0);
        assert_eq!(SpellingIndex::default().within("a", 1).count(), 0);
    }

    #[test]
    fn malformed_tables_are_refused() {
        let refuse = |bytes: &[u8], voc: Vocabulary, dim: usize, needle: &str| {
            let err = PhraseTable::from_bytes(bytes, &voc, dim).unwrap_err();
            assert!(err.contains(needle), "expected {needle:?} in {err:?}");
        };
        let words = (&WORD_NAMES[..], &WORD_ROWS[..], &WORD_SCALES[..]);
        let good = table_bytes((&PHRASE_NAMES, &PHRASE_ROWS, &[0.1, 0.01]), words);
        refuse(b"junk", vocabulary(2, 5), 4, "not a safetensors");
        // Wrong width: the file's rows are 4 wide, the network 64.
        refuse(&good, vocabulary(2, 5), 64, "has shape [2, 4], expected [2, 64]");
        // The manifest's counts disagree with the file's lists.
        refuse(&good, vocabulary(3, 5), 4, "2 phrases listed in the file, the manifest says 3");
        refuse(&good, vocabulary(2, 4), 4, "5 words listed in the file, the manifest says 4");
        // A list that disagrees with its tensor's rows.
        let short = table_bytes((&PHRASE_NAMES[..1], &PHRASE_ROWS, &[0.1, 0.01]), words);
        refuse(&short, vocabulary(1, 5), 4, "has shape [2, 4], expected [1, 4]");
        // Duplicate and unnormalized entries.
        let twice = table_bytes((&["sky", "sky"], &PHRASE_ROWS, &[0.1, 0.01]), words);
        refuse(&twice, vocabulary(2, 5), 4, "\"sky\" appears twice");
        let loud = table_bytes((&["Red car", "sky"], &PHRASE_ROWS, &[0.1, 0.01]), words);
        refuse(&loud, vocabulary(2, 5), 4, "not normalized");
        // Non-finite scales.
        let nan = table_bytes((&PHRASE_NAMES, &PHRASE_ROWS, &[0.1, f32::NAN]), words);
        refuse(&nan, vocabulary(2, 5), 4, "phrases.qscale row 1 is not finite");
        let inf = table_bytes((&PHRASE_NAMES, &PHRASE_ROWS, &[0.1, 0.01]), (&WORD_NAMES, &WORD_ROWS, &[0.5, 0.25, f32::INFINITY, 2.0, 1.0]));
        refuse(&inf, vocabulary(2, 5), 4, "words.qscale row 2 is not finite");
        // No lists in the metadata (a format-2 table) and missing or extra tensors.
        let data = [0u8; 8];
        let scale = 1f32.to_le_bytes();
        let bare = safetensors::serialize(
            vec![
                (PHRASES, TensorView::new(Dtype::I8, vec![1, 4], &data[..4]).unwrap()),
                ("phrases.qscale", TensorView::new(Dtype::F32, vec![1, 1], &scale).unwrap()),
                (WORDS, TensorView::new(Dtype::I8, vec![1, 4], &data[4..]).unwrap()),
                ("words.qscale", TensorView::new(Dtype::F32, vec![1, 1], &scale).unwrap()),
            ],
            None,
        )
        .unwrap();
        refuse(&bare, vocabulary(1, 1), 4, "metadata has no \"phrases\" list");
        let only = safetensors::serialize(vec![(PHRASES, TensorView::new(Dtype::I8, vec![1, 4], &data[..4]).unwrap())], Some(HashMap::from([(PHRASES.to_string(), "sky".to_string()), (WORDS.to_string(), String::new())]))).unwrap();
        refuse(&only, vocabulary(1, 0), 4, "phrases.qscale");
        let extra = safetensors::serialize(vec![("surprise", TensorView::new(Dtype::I8, vec![1, 4], &data[..4]).unwrap())], None).unwrap();
        refuse(&extra, vocabulary(1, 0), 4, "unexpected tensor \"surprise\"");
    }

    /// The tiny table with its last two words ("left", "background") at 4 bits.
    fn four_bit_bytes(last: &[[u8; 2]], names: &str) -> Vec<u8> {
        let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let i8s = |rows: &[[i8; 4]]| rows.iter().flatten().map(|&q| q as u8).collect::<Vec<u8>>();
        let (pq, ps, wq, ws) = (i8s(&PHRASE_ROWS), f32s(&[0.1, 0.01]), i8s(&WORD_ROWS[..3]), f32s(&WORD_SCALES[..3]));
        let (q4, s4) = (last.iter().flatten().copied().collect::<Vec<u8>>(), f32s(&WORD_SCALES[3..]));
        let tensors = vec![
            (PHRASES, TensorView::new(Dtype::I8, vec![2, 4], &pq).unwrap()),
            ("phrases.qscale", TensorView::new(Dtype::F32, vec![2, 1], &ps).unwrap()),
            (WORDS, TensorView::new(Dtype::I8, vec![3, 4], &wq).unwrap()),
            ("words.qscale", TensorView::new(Dtype::F32, vec![3, 1], &ws).unwrap()),
            (WORDS_4BIT, TensorView::new(Dtype::U8, vec![last.len(), 2], &q4).unwrap()),
            ("words_4bit.qscale", TensorView::new(Dtype::F32, vec![2, 1], &s4).unwrap()),
        ];
        let metadata = HashMap::from([
            (PHRASES.to_string(), PHRASE_NAMES.join("\n")),
            (WORDS.to_string(), WORD_NAMES[..3].join("\n")),
            (WORDS_4BIT.to_string(), names.to_string()),
        ]);
        safetensors::serialize(tensors, Some(metadata)).unwrap()
    }

    #[test]
    fn words_stored_at_4_bits_read_as_the_same_rows() {
        // "left" [1, 1, 1, 1] and "background" [0, 1, 0, 0], low nibble first; and two's
        // complement: -8 and 7, -1 and 0.
        let bytes = four_bit_bytes(&[[0x11, 0x11], [0x10, 0x00]], "left\nbackground");
        let table = PhraseTable::from_bytes(&bytes, &vocabulary(2, 5), 4).unwrap();
        for text in WORD_NAMES.iter().chain(&PHRASE_NAMES).chain(&["the red sky on the left"]) {
            assert_eq!(table.embed(text), tiny_table().embed(text), "{text}");
        }
        assert_eq!(table.embed("the left").unwrap(), vec![2.0, 2.0, 2.0, 2.0]);
        let signed = four_bit_bytes(&[[0x78, 0x0f], [0x10, 0x00]], "left\nbackground");
        assert_eq!(PhraseTable::from_bytes(&signed, &vocabulary(2, 5), 4).unwrap().embed("the left").unwrap(), vec![-16.0, 14.0, -2.0, 0.0]);
        // The lists must agree with the tensors and the manifest, and a word is listed once.
        let refuse = |bytes: &[u8], words: usize, needle: &str| {
            let err = PhraseTable::from_bytes(bytes, &vocabulary(2, words), 4).unwrap_err();
            assert!(err.contains(needle), "expected {needle:?} in {err:?}");
        };
        refuse(&bytes, 6, "3 words listed in the file, the manifest says 4");
        refuse(&bytes, 1, "2 words_4bit listed in the file, more than the manifest's 1 words");
        refuse(&four_bit_bytes(&[[0x11, 0x11], [0x10, 0x00]], "left"), 4, "has shape [2, 2], expected [1, 2]");
        refuse(&four_bit_bytes(&[[0x11, 0x11], [0x10, 0x00]], "left\nred"), 5, "listed at 8 and at 4 bits");
    }
}
