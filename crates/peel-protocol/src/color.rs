//! Colours as the prompt language writes them.
//!
//! A colour is an 8-bit sRGB triple ([`Rgb8`]). Prompts may write one as
//! - a CSS named colour (all 148 of CSS Color Level 4, e.g. `red`, `rebeccapurple`, `light green`);
//!   matching ignores case, spaces, `-` and `_`. Note CSS `green` is (0, 128, 0); (0, 255, 0) is `lime`;
//! - `<r, g, b>`, `(r, g, b)`, `[r, g, b]` or `RGB(r, g, b)` with integer components 0–255;
//! - hex `#rrggbb` or `#rgb`.
//!
//! [`format_color`] writes the canonical form: the CSS name when one matches exactly
//! (the first alphabetical name, so `aqua` rather than `cyan`), otherwise `<r, g, b>`.

use thiserror::Error;

/// An 8-bit RGB colour.
pub type Rgb8 = [u8; 3];

/// Why a colour did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ColorError {
    #[error("expected a colour (CSS name, <r, g, b>, (r, g, b), RGB(r, g, b) or #hex), found {0:?}")]
    Missing(String),
    #[error("unknown colour name {0:?}")]
    UnknownName(String),
    #[error("bad hex colour {0:?}: expected #rgb or #rrggbb")]
    BadHex(String),
    #[error("bad colour triple {0:?}: expected three integers 0-255 separated by commas")]
    BadTriple(String),
    #[error("unclosed colour triple {0:?}: expected {1:?}")]
    Unclosed(String, char),
    #[error("unexpected text {0:?} after the colour")]
    Trailing(String),
}

/// All 148 CSS Color Level 4 named colours, alphabetically.
pub const CSS_COLORS: [(&str, Rgb8); 148] = [
    ("aliceblue", [240, 248, 255]),
    ("antiquewhite", [250, 235, 215]),
    ("aqua", [0, 255, 255]),
    ("aquamarine", [127, 255, 212]),
    ("azure", [240, 255, 255]),
    ("beige", [245, 245, 220]),
    ("bisque", [255, 228, 196]),
    ("black", [0, 0, 0]),
    ("blanchedalmond", [255, 235, 205]),
    ("blue", [0, 0, 255]),
    ("blueviolet", [138, 43, 226]),
    ("brown", [165, 42, 42]),
    ("burlywood", [222, 184, 135]),
    ("cadetblue", [95, 158, 160]),
    ("chartreuse", [127, 255, 0]),
    ("chocolate", [210, 105, 30]),
    ("coral", [255, 127, 80]),
    ("cornflowerblue", [100, 149, 237]),
    ("cornsilk", [255, 248, 220]),
    ("crimson", [220, 20, 60]),
    ("cyan", [0, 255, 255]),
    ("darkblue", [0, 0, 139]),
    ("darkcyan", [0, 139, 139]),
    ("darkgoldenrod", [184, 134, 11]),
    ("darkgray", [169, 169, 169]),
    ("darkgreen", [0, 100, 0]),
    ("darkgrey", [169, 169, 169]),
    ("darkkhaki", [189, 183, 107]),
    ("darkmagenta", [139, 0, 139]),
    ("darkolivegreen", [85, 107, 47]),
    ("darkorange", [255, 140, 0]),
    ("darkorchid", [153, 50, 204]),
    ("darkred", [139, 0, 0]),
    ("darksalmon", [233, 150, 122]),
    ("darkseagreen", [143, 188, 143]),
    ("darkslateblue", [72, 61, 139]),
    ("darkslategray", [47, 79, 79]),
    ("darkslategrey", [47, 79, 79]),
    ("darkturquoise", [0, 206, 209]),
    ("darkviolet", [148, 0, 211]),
    ("deeppink", [255, 20, 147]),
    ("deepskyblue", [0, 191, 255]),
    ("dimgray", [105, 105, 105]),
    ("dimgrey", [105, 105, 105]),
    ("dodgerblue", [30, 144, 255]),
    ("firebrick", [178, 34, 34]),
    ("floralwhite", [255, 250, 240]),
    ("forestgreen", [34, 139, 34]),
    ("fuchsia", [255, 0, 255]),
    ("gainsboro", [220, 220, 220]),
    ("ghostwhite", [248, 248, 255]),
    ("gold", [255, 215, 0]),
    ("goldenrod", [218, 165, 32]),
    ("gray", [128, 128, 128]),
    ("green", [0, 128, 0]),
    ("greenyellow", [173, 255, 47]),
    ("grey", [128, 128, 128]),
    ("honeydew", [240, 255, 240]),
    ("hotpink", [255, 105, 180]),
    ("indianred", [205, 92, 92]),
    ("indigo", [75, 0, 130]),
    ("ivory", [255, 255, 240]),
    ("khaki", [240, 230, 140]),
    ("lavender", [230, 230, 250]),
    ("lavenderblush", [255, 240, 245]),
    ("lawngreen", [124, 252, 0]),
    ("lemonchiffon", [255, 250, 205]),
    ("lightblue", [173, 216, 230]),
    ("lightcoral", [240, 128, 128]),
    ("lightcyan", [224, 255, 255]),
    ("lightgoldenrodyellow", [250, 250, 210]),
    ("lightgray", [211, 211, 211]),
    ("lightgreen", [144, 238, 144]),
    ("lightgrey", [211, 211, 211]),
    ("lightpink", [255, 182, 193]),
    ("lightsalmon", [255, 160, 122]),
    ("lightseagreen", [32, 178, 170]),
    ("lightskyblue", [135, 206, 250]),
    ("lightslategray", [119, 136, 153]),
    ("lightslategrey", [119, 136, 153]),
    ("lightsteelblue", [176, 196, 222]),
    ("lightyellow", [255, 255, 224]),
    ("lime", [0, 255, 0]),
    ("limegreen", [50, 205, 50]),
    ("linen", [250, 240, 230]),
    ("magenta", [255, 0, 255]),
    ("maroon", [128, 0, 0]),
    ("mediumaquamarine", [102, 205, 170]),
    ("mediumblue", [0, 0, 205]),
    ("mediumorchid", [186, 85, 211]),
    ("mediumpurple", [147, 112, 219]),
    ("mediumseagreen", [60, 179, 113]),
    ("mediumslateblue", [123, 104, 238]),
    ("mediumspringgreen", [0, 250, 154]),
    ("mediumturquoise", [72, 209, 204]),
    ("mediumvioletred", [199, 21, 133]),
    ("midnightblue", [25, 25, 112]),
    ("mintcream", [245, 255, 250]),
    ("mistyrose", [255, 228, 225]),
    ("moccasin", [255, 228, 181]),
    ("navajowhite", [255, 222, 173]),
    ("navy", [0, 0, 128]),
    ("oldlace", [253, 245, 230]),
    ("olive", [128, 128, 0]),
    ("olivedrab", [107, 142, 35]),
    ("orange", [255, 165, 0]),
    ("orangered", [255, 69, 0]),
    ("orchid", [218, 112, 214]),
    ("palegoldenrod", [238, 232, 170]),
    ("palegreen", [152, 251, 152]),
    ("paleturquoise", [175, 238, 238]),
    ("palevioletred", [219, 112, 147]),
    ("papayawhip", [255, 239, 213]),
    ("peachpuff", [255, 218, 185]),
    ("peru", [205, 133, 63]),
    ("pink", [255, 192, 203]),
    ("plum", [221, 160, 221]),
    ("powderblue", [176, 224, 230]),
    ("purple", [128, 0, 128]),
    ("rebeccapurple", [102, 51, 153]),
    ("red", [255, 0, 0]),
    ("rosybrown", [188, 143, 143]),
    ("royalblue", [65, 105, 225]),
    ("saddlebrown", [139, 69, 19]),
    ("salmon", [250, 128, 114]),
    ("sandybrown", [244, 164, 96]),
    ("seagreen", [46, 139, 87]),
    ("seashell", [255, 245, 238]),
    ("sienna", [160, 82, 45]),
    ("silver", [192, 192, 192]),
    ("skyblue", [135, 206, 235]),
    ("slateblue", [106, 90, 205]),
    ("slategray", [112, 128, 144]),
    ("slategrey", [112, 128, 144]),
    ("snow", [255, 250, 250]),
    ("springgreen", [0, 255, 127]),
    ("steelblue", [70, 130, 180]),
    ("tan", [210, 180, 140]),
    ("teal", [0, 128, 128]),
    ("thistle", [216, 191, 216]),
    ("tomato", [255, 99, 71]),
    ("turquoise", [64, 224, 208]),
    ("violet", [238, 130, 238]),
    ("wheat", [245, 222, 179]),
    ("white", [255, 255, 255]),
    ("whitesmoke", [245, 245, 245]),
    ("yellow", [255, 255, 0]),
    ("yellowgreen", [154, 205, 50]),
];

/// Longest CSS name spelled by up to this many words ("light goldenrod yellow" has three).
const MAX_NAME_WORDS: usize = 3;

/// Looks up a CSS colour name, ignoring case, spaces, `-` and `_`.
pub fn named_color(name: &str) -> Option<Rgb8> {
    let key: String = name
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    CSS_COLORS
        .binary_search_by(|(n, _)| (*n).cmp(key.as_str()))
        .ok()
        .map(|i| CSS_COLORS[i].1)
}

/// The first CSS name (alphabetically) of exactly this colour, if any.
pub fn css_name(rgb: Rgb8) -> Option<&'static str> {
    CSS_COLORS.iter().find(|(_, c)| *c == rgb).map(|(n, _)| *n)
}

/// Parses a whole string as one colour (surrounding whitespace allowed).
pub fn parse_color(text: &str) -> Result<Rgb8, ColorError> {
    let trimmed = text.trim();
    let (rgb, used) = parse_color_prefix(trimmed)?;
    let rest = trimmed[used..].trim();
    if !rest.is_empty() {
        return Err(ColorError::Trailing(rest.to_string()));
    }
    Ok(rgb)
}

/// Parses a colour at the start of `text`; returns it and the number of bytes it used.
///
/// Names are matched greedily over up to three words, so `light green grass` yields
/// `lightgreen` and stops before `grass`.
pub fn parse_color_prefix(text: &str) -> Result<(Rgb8, usize), ColorError> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with('#') {
        return parse_hex(text);
    }
    if let Some(open) = ["rgb(", "rgb (", "<", "(", "["].into_iter().find(|p| lower.starts_with(p)) {
        let close = match open.as_bytes()[open.len() - 1] {
            b'<' => '>',
            b'[' => ']',
            _ => ')',
        };
        return parse_triple(text, open.len(), close);
    }
    parse_name(text)
}

fn parse_hex(text: &str) -> Result<(Rgb8, usize), ColorError> {
    let digits: &str = {
        let body = &text[1..];
        let end = body.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(body.len());
        &body[..end]
    };
    let next_is_word = text[1 + digits.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_');
    let bad = || ColorError::BadHex(text[..1 + digits.len()].to_string());
    if next_is_word {
        return Err(ColorError::BadHex(first_token(text).to_string()));
    }
    let nibble = |i: usize| u8::from_str_radix(&digits[i..i + 1], 16).map_err(|_| bad());
    let rgb = match digits.len() {
        6 => {
            let byte = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| bad());
            [byte(0)?, byte(2)?, byte(4)?]
        }
        3 => [nibble(0)? * 17, nibble(1)? * 17, nibble(2)? * 17],
        _ => return Err(bad()),
    };
    Ok((rgb, 1 + digits.len()))
}

fn parse_triple(text: &str, open_len: usize, close: char) -> Result<(Rgb8, usize), ColorError> {
    let Some(close_at) = text[open_len..].find(close).map(|i| i + open_len) else {
        let shown: String = text.chars().take(24).collect();
        return Err(ColorError::Unclosed(shown, close));
    };
    let whole = &text[..close_at + close.len_utf8()];
    let bad = || ColorError::BadTriple(whole.to_string());
    let parts: Vec<&str> = text[open_len..close_at].split(',').map(str::trim).collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let mut rgb = [0u8; 3];
    for (slot, part) in rgb.iter_mut().zip(&parts) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        *slot = part.parse::<u8>().map_err(|_| bad())?;
    }
    Ok((rgb, whole.len()))
}

fn parse_name(text: &str) -> Result<(Rgb8, usize), ColorError> {
    // Byte ends of the first few alphabetic words, e.g. "light green grass" -> [5, 11, 17].
    let mut word_ends = Vec::with_capacity(MAX_NAME_WORDS);
    let mut pos = 0;
    while word_ends.len() < MAX_NAME_WORDS {
        let rest = &text[pos..];
        let skip = if word_ends.is_empty() { 0 } else { rest.len() - rest.trim_start_matches([' ', '-']).len() };
        let word_len = rest[skip..].find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len() - skip);
        if word_len == 0 {
            break;
        }
        pos += skip + word_len;
        word_ends.push(pos);
    }
    if word_ends.is_empty() {
        return Err(ColorError::Missing(first_token(text).to_string()));
    }
    for &end in word_ends.iter().rev() {
        if let Some(rgb) = named_color(&text[..end]) {
            return Ok((rgb, end));
        }
    }
    Err(ColorError::UnknownName(text[..word_ends[0]].to_string()))
}

/// The text up to the next whitespace, comma or closing punctuation, for error messages.
fn first_token(text: &str) -> &str {
    let end = text
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_whitespace() || matches!(c, ',' | ';' | '}' | '.'))
        .map_or(text.len(), |(i, _)| i);
    if text.is_empty() { "end of text" } else { &text[..end] }
}

/// Canonical text for a colour: its CSS name if it has one, else `<r, g, b>`.
pub fn format_color(rgb: Rgb8) -> String {
    match css_name(rgb) {
        Some(name) => name.to_string(),
        None => format!("<{}, {}, {}>", rgb[0], rgb[1], rgb[2]),
    }
}

/// Euclidean distance between two colours in 8-bit units (0 ..= 441.7).
pub fn distance(a: Rgb8, b: Rgb8) -> f32 {
    distance_sq(a, b).sqrt()
}

/// Squared Euclidean distance in 8-bit units, the comparison used by the segmentation decoders.
pub(crate) fn distance_sq(a: Rgb8, b: Rgb8) -> f32 {
    let d = |i: usize| f32::from(a[i]) - f32::from(b[i]);
    d(0) * d(0) + d(1) * d(1) + d(2) * d(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_is_sorted_unique_and_complete() {
        assert!(CSS_COLORS.windows(2).all(|w| w[0].0 < w[1].0), "names must be sorted and unique");
        assert_eq!(CSS_COLORS.len(), 148);
        // Spot checks against the CSS specification.
        assert_eq!(named_color("rebeccapurple"), Some([102, 51, 153]));
        assert_eq!(named_color("green"), Some([0, 128, 0]));
        assert_eq!(named_color("lime"), Some([0, 255, 0]));
        assert_eq!(named_color("lightgoldenrodyellow"), Some([250, 250, 210]));
    }

    #[test]
    fn every_css_name_parses_in_all_spellings() {
        for (name, rgb) in CSS_COLORS {
            assert_eq!(parse_color(name), Ok(rgb), "{name}");
            assert_eq!(parse_color(&name.to_uppercase()), Ok(rgb), "{name} upper");
            assert_eq!(parse_color(&format!("  {name} ")), Ok(rgb), "{name} padded");
        }
        assert_eq!(parse_color("Light Goldenrod Yellow"), Ok([250, 250, 210]));
        assert_eq!(parse_color("dark-slate-gray"), Ok([47, 79, 79]));
    }

    #[test]
    fn numeric_forms_parse() {
        assert_eq!(parse_color("<0, 0, 255>"), Ok([0, 0, 255]));
        assert_eq!(parse_color("(12,34,56)"), Ok([12, 34, 56]));
        assert_eq!(parse_color("[1, 2, 3]"), Ok([1, 2, 3]));
        assert_eq!(parse_color("RGB(88, 50, 82)"), Ok([88, 50, 82]));
        assert_eq!(parse_color("rgb (1,2,3)"), Ok([1, 2, 3]));
        assert_eq!(parse_color("#10aa05"), Ok([16, 170, 5]));
        assert_eq!(parse_color("#F0A"), Ok([255, 0, 170]));
    }

    #[test]
    fn malformed_colours_are_rejected_with_the_reason() {
        assert_eq!(parse_color("reddish"), Err(ColorError::UnknownName("reddish".into())));
        assert_eq!(parse_color("<0, 0>"), Err(ColorError::BadTriple("<0, 0>".into())));
        assert_eq!(parse_color("<0, 0, 256>"), Err(ColorError::BadTriple("<0, 0, 256>".into())));
        assert_eq!(parse_color("(1, -2, 3)"), Err(ColorError::BadTriple("(1, -2, 3)".into())));
        assert_eq!(parse_color("<1, 2, 3"), Err(ColorError::Unclosed("<1, 2, 3".into(), '>')));
        assert_eq!(parse_color("#12345"), Err(ColorError::BadHex("#12345".into())));
        assert_eq!(parse_color("#12345g"), Err(ColorError::BadHex("#12345g".into())));
        assert_eq!(parse_color("red green"), Err(ColorError::Trailing("green".into())));
        assert_eq!(parse_color(""), Err(ColorError::Missing("end of text".into())));
        assert_eq!(parse_color("42"), Err(ColorError::Missing("42".into())));
    }

    #[test]
    fn prefix_stops_after_the_colour() {
        assert_eq!(parse_color_prefix("light green grass"), Ok(([144, 238, 144], 11)));
        assert_eq!(parse_color_prefix("white; the other"), Ok(([255, 255, 255], 5)));
        assert_eq!(parse_color_prefix("<1, 2, 3>."), Ok(([1, 2, 3], 9)));
    }

    #[test]
    fn canonical_form_prefers_names() {
        assert_eq!(format_color([0, 255, 255]), "aqua");
        assert_eq!(format_color([1, 2, 3]), "<1, 2, 3>");
    }

    proptest! {
        #[test]
        fn any_colour_round_trips_through_every_notation(r: u8, g: u8, b: u8) {
            let rgb = [r, g, b];
            prop_assert_eq!(parse_color(&format_color(rgb)), Ok(rgb));
            prop_assert_eq!(parse_color(&format!("RGB({r}, {g}, {b})")), Ok(rgb));
            prop_assert_eq!(parse_color(&format!("({r},{g},{b})")), Ok(rgb));
            prop_assert_eq!(parse_color(&format!("#{r:02x}{g:02x}{b:02X}")), Ok(rgb));
        }

        #[test]
        fn arbitrary_text_parses_or_errors_consistently(text in "\\PC{0,24}") {
            // Whatever the input, no panic; a successful parse re-parses from its canonical form.
            if let Ok(rgb) = parse_color(&text) {
                prop_assert_eq!(parse_color(&format_color(rgb)), Ok(rgb));
            }
            if let Ok((_, used)) = parse_color_prefix(&text) {
                prop_assert!(used > 0 && used <= text.len());
            }
        }
    }
}
