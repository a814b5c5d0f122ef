//! The painting's summary table (`#summary`), the model line and colour swatches, built with DOM
//! calls: names from the prompt and the model's manifest go in as text, never as HTML.

use crate::{Decoded, StageTimings, Task};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement};

/// What the worker said about one painting, as the summary shows it.
pub(super) struct Facts<'a> {
    pub task: Task,
    pub prompt: &'a str,
    pub decoded: &'a Decoded,
    pub millis: f64,
    pub timings: &'a StageTimings,
    pub width: u32,
    pub height: u32,
}

/// One summary row: the term is a legend entry (with its colour) or plain text.
enum Term {
    Text(&'static str),
    Entry { colour: [u8; 3], name: String },
}

/// Fills `summary` (a `<dl>`) and returns the same facts as an object (shown as JSON in `#result-json`).
pub(super) fn show(document: &Document, summary: &HtmlElement, facts: &Facts) -> js_sys::Object {
    let Facts {
        task,
        prompt,
        decoded,
        millis,
        timings,
        width,
        height,
    } = *facts;
    let mut rows: Vec<(Term, String)> = Vec::new();
    let details = match decoded {
        Decoded::Depth { summary: s, .. } => {
            rows.push((Term::Text("Nearest"), format!("{:.2} m", s.min_m)));
            rows.push((Term::Text("Median"), format!("{:.2} m", s.median_m)));
            rows.push((
                Term::Text("Farthest (not sky)"),
                format!("{:.2} m", s.max_m),
            ));
            rows.push((
                Term::Text("Sky"),
                format!("{:.0} %", s.sky_fraction * 100.0),
            ));
            rows.push((
                Term::Text("Colour fit (median off-path)"),
                format!("{:.3}", s.median_off_path),
            ));
            to_js(s)
        }
        Decoded::Normals { summary: s, .. } => {
            rows.push((
                Term::Text("Facing the camera"),
                format!("{:.0} %", s.facing_camera * 100.0),
            ));
            rows.push((
                Term::Text("Facing up"),
                format!("{:.0} %", s.facing_up * 100.0),
            ));
            rows.push((
                Term::Text("Mean normal"),
                format!("({:+.2}, {:+.2}, {:+.2})", s.mean[0], s.mean[1], s.mean[2]),
            ));
            to_js(s)
        }
        Decoded::Segments { segments, .. } => {
            let total = (width as f64 * height as f64).max(1.0);
            if segments.is_empty() {
                rows.push((Term::Text("Found"), "nothing".into()));
            }
            // Segment rows come first; each shows its entry alone when clicked (see `legend`).
            for seg in segments {
                rows.push((
                    Term::Entry {
                        colour: seg.color,
                        name: seg.name.clone(),
                    },
                    format!("{:.1} %", seg.pixels as f64 / total * 100.0),
                ));
            }
            to_js(segments)
        }
    };
    rows.push((Term::Text("Size"), format!("{width}×{height}")));
    rows.push((Term::Text("Inference"), format!("{millis:.0} ms")));

    summary.set_text_content(None);
    let mut entry = 0;
    for (term, value) in rows {
        let (Ok(dt), Ok(dd)) = (document.create_element("dt"), document.create_element("dd"))
        else {
            continue;
        };
        match term {
            Term::Text(text) => dt.set_text_content(Some(text)),
            Term::Entry { colour, name } => {
                entry += 1;
                // A real button inside the term (a `<dl>` may hold only terms and definitions).
                let Ok(button) = document.create_element("button") else { continue };
                for (attribute, value) in [
                    ("type", "button"),
                    ("class", "legend-entry"),
                    ("data-entry", &entry.to_string()),
                    ("aria-pressed", "false"),
                    ("title", "Show this entry alone (again: all)"),
                ] {
                    let _ = button.set_attribute(attribute, value);
                }
                if let Some(swatch) = swatch(document, colour) {
                    let _ = button.append_child(&swatch);
                }
                let _ = button.append_with_str_1(&name);
                let _ = dt.append_child(&button);
            }
        }
        dd.set_text_content(Some(&value));
        let _ = summary.append_with_node_2(&dt, &dd);
    }

    let result = js_sys::Object::new();
    let timings = to_js(timings).unwrap_or(JsValue::NULL);
    let values = details.unwrap_or(JsValue::NULL);
    for (key, v) in [
        ("task", JsValue::from(task.name())),
        ("prompt", prompt.into()),
        ("width", width.into()),
        ("height", height.into()),
        ("values", values),
        ("timings", timings),
    ] {
        let _ = js_sys::Reflect::set(&result, &key.into(), &v);
    }
    result
}

/// "Model: <name>", with a badge when the weights are a stand-in.
pub(super) fn show_model(document: &Document, line: &HtmlElement, name: &str, placeholder: bool) {
    line.set_text_content(Some(&format!("Model: {name}")));
    if !placeholder {
        return;
    }
    if let Ok(badge) = document.create_element("span") {
        badge.set_class_name("placeholder-badge");
        badge.set_text_content(Some("placeholder"));
        let _ = line.append_with_str_1(" ");
        let _ = line.append_child(&badge);
        let _ = line.append_with_str_1(" these weights are a stand-in, not a trained model");
    }
}

/// A `.swatch` of `colour`. The colour goes through the CSSOM: the Content-Security-Policy
/// (`style-src 'self'`) blocks `style="…"` attributes, not `element.style`.
pub(super) fn swatch(document: &Document, [r, g, b]: [u8; 3]) -> Option<Element> {
    let swatch: HtmlElement = document.create_element("span").ok()?.dyn_into().ok()?;
    swatch.set_class_name("swatch");
    let _ = swatch
        .style()
        .set_property("background-color", &format!("rgb({r},{g},{b})"));
    Some(swatch.into())
}

fn to_js<T: serde::Serialize>(value: &T) -> Option<JsValue> {
    serde_wasm_bindgen::to_value(value).ok()
}
