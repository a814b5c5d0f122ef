//! The segmentation legend (the summary's first rows): clicking an entry (a button, so Enter and
//! Space too) shows that entry alone over the photo; again, all entries.

use super::{Page, Shared, Values, listen};
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, Element, Event, HtmlCanvasElement, HtmlElement};

pub(super) fn wire(page: &Shared, summary: &HtmlElement) {
    let on_click = page.clone();
    listen::<Event>(summary, "click", move |event| toggle(&on_click, &event));
}

fn toggle(page: &Shared, event: &Event) {
    let entry = event
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|e| e.closest("[data-entry]").ok().flatten())
        .and_then(|e| e.get_attribute("data-entry"))
        .and_then(|v| v.parse::<u16>().ok());
    let Some(entry) = entry else { return };
    let mut p = page.borrow_mut();
    let shown = match p.painting.as_ref().and_then(|painting| painting.isolated.as_ref()) {
        Some((current, _)) if *current == entry => None,
        _ => Some(entry),
    };
    let drawing = shown.and_then(|entry| p.isolated_canvas(entry).ok().map(|canvas| (entry, canvas)));
    if let Some(painting) = p.painting.as_mut() {
        painting.isolated = drawing;
    }
    // Which entry is pressed, for assistive technology.
    if let Ok(rows) = p.document.query_selector_all("[data-entry]") {
        for i in 0..rows.length() {
            let Some(row) = rows.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
            let pressed = row.get_attribute("data-entry").and_then(|v| v.parse::<u16>().ok()) == shown;
            let _ = row.set_attribute("aria-pressed", if pressed { "true" } else { "false" });
        }
    }
    p.redraw();
}

impl Page {
    /// The visualization with every pixel outside legend entry `entry` transparent.
    fn isolated_canvas(&self, entry: u16) -> Result<HtmlCanvasElement, JsValue> {
        let painting = self.painting.as_ref().ok_or("no painting")?;
        let Values::Segments { labels, .. } = &painting.values else { return Err("not a segmentation".into()) };
        let rgba: Vec<u8> =
            painting.rgb.chunks_exact(3).zip(labels).flat_map(|(p, &l)| if l == entry { [p[0], p[1], p[2], 255] } else { [0; 4] }).collect();
        let canvas: HtmlCanvasElement = self.document.create_element("canvas")?.dyn_into()?;
        canvas.set_width(painting.width);
        canvas.set_height(painting.height);
        let context: CanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
        let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&rgba), painting.width, painting.height)?;
        context.put_image_data(&data, 0.0, 0.0)?;
        Ok(canvas)
    }
}
