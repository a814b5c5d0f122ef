//! Download buttons for what was decoded: depth (16-bit PNG in mm, float32 `.npy`, a coloured PLY
//! point cloud with a field of view the user sets), normals (`.npy`), segmentation (a label-map
//! PNG, the legend as JSON, one mask PNG and one cut-out of the photo (background removal, RGBA)
//! per legend entry).
//!
//! The values come from `peel_protocol::decode::decode_painting` (in the worker) and the file bytes
//! from `peel_protocol::export`: the same decoder and the same builders `peel decode` uses, called
//! the same way (`label_png`, `legend_json`, `mask_png` named by `mask_download_name`), so
//! `peel decode` of the downloaded visualization writes these very bytes (the browser test
//! "One decode" checks it). Built when a button is pressed (the point cloud depends on the field
//! of view then).

use super::{Page, Painting, Shared, Values, element, listen};
use crate::Task;
use peel_protocol::export;
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, Document, Element, Event, HtmlCanvasElement, HtmlElement, HtmlInputElement};

/// The export groups in `index.html`, one per kind of decoded values.
const GROUPS: [&str; 3] = ["export-depth", "export-normals", "export-masks"];

/// Shows the buttons that apply to `painting` (none when there is no painting) and lists one
/// mask button per legend entry.
pub(super) fn show(page: &Page) {
    let document = &page.document;
    let group = page.painting.as_ref().map(|p| match p.values {
        Values::Depth(_) => "export-depth",
        Values::Normals(_) => "export-normals",
        Values::Segments { .. } => "export-masks",
    });
    for id in GROUPS {
        element::<HtmlElement>(document, id).set_hidden(group != Some(id));
    }
    element::<HtmlElement>(document, "export-visualization").set_hidden(group.is_none());
    let list: HtmlElement = element(document, "export-mask-list");
    list.set_text_content(None);
    let Some(Painting { values: Values::Segments { segments, .. }, .. }) = &page.painting else { return };
    for (i, segment) in segments.iter().enumerate() {
        let Ok(button) = document.create_element("button") else { continue };
        let _ = button.set_attribute("type", "button");
        let _ = button.set_attribute("data-label", &(i + 1).to_string());
        if let Some(swatch) = super::summary::swatch(document, segment.color) {
            let _ = button.append_child(&swatch);
        }
        let _ = button.append_with_str_1(&format!("Mask: {} (PNG)", segment.name));
        let _ = list.append_child(&button);
        let Ok(cutout) = document.create_element("button") else { continue };
        let _ = cutout.set_attribute("type", "button");
        let _ = cutout.set_attribute("data-cutout", &(i + 1).to_string());
        cutout.set_text_content(Some(&format!("Cut-out: {} (PNG, transparent elsewhere)", segment.name)));
        let _ = list.append_child(&cutout);
    }
}

/// Wires the buttons; call once at start-up.
pub(super) fn wire(page: &Shared) {
    let document = page.borrow().document.clone();
    for (id, kind) in [
        ("export-visualization", Kind::Visualization),
        ("export-depth-png", Kind::DepthPng),
        ("export-depth-npy", Kind::DepthNpy),
        ("export-depth-ply", Kind::DepthPly),
        ("export-normals-npy", Kind::NormalsNpy),
        ("export-labels-png", Kind::LabelsPng),
        ("export-legend-json", Kind::LegendJson),
    ] {
        let on_click = page.clone();
        listen::<Event>(&element::<HtmlElement>(&document, id), "click", move |_| save(&on_click.borrow(), kind));
    }
    // One listener for the per-entry mask buttons, which change with every painting.
    let on_mask = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "export-mask-list"), "click", move |event| {
        let Some(button) = event.target().and_then(|t| t.dyn_into::<Element>().ok()).and_then(|e| e.closest("button").ok().flatten()) else {
            return;
        };
        let label = |attribute: &str| button.get_attribute(attribute).and_then(|l| l.parse::<u16>().ok());
        if let Some(label) = label("data-label") {
            save(&on_mask.borrow(), Kind::Mask(label));
        } else if let Some(label) = label("data-cutout") {
            save(&on_mask.borrow(), Kind::Cutout(label));
        }
    });
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    /// The painting itself, at the photo's size (encoded on demand, not after every paint).
    Visualization,
    DepthPng,
    DepthNpy,
    DepthPly,
    NormalsNpy,
    LabelsPng,
    LegendJson,
    Mask(u16),
    /// Background removal: the photo inside one legend entry, transparent elsewhere.
    Cutout(u16),
}

fn save(page: &Page, kind: Kind) {
    let Some(painting) = &page.painting else {
        page.set_status("Paint a photo first.", true);
        return;
    };
    match file(page, painting, kind) {
        Ok((bytes, name, mime, note)) => match download(&page.document, &bytes, &name, mime) {
            Ok(()) => page.set_status(&format!("Saved {name}{note}."), false),
            Err(e) => page.set_status(&format!("Could not save {name}: {e:?}"), true),
        },
        Err(message) => page.set_status(&message, true),
    }
}

pub(super) type File = (Vec<u8>, String, &'static str, String);

fn file(page: &Page, painting: &Painting, kind: Kind) -> Result<File, String> {
    let (w, h) = (painting.width, painting.height);
    let source = Source { task: painting.task, width: w, height: h, values: &painting.values, rgb: &painting.rgb, fov: fov(page) };
    build(&source, kind, || photo_rgb(page, w, h))
}

/// The field of view the point cloud is built with (the Downloads tab's input).
pub(super) fn fov(page: &Page) -> f32 {
    element::<HtmlInputElement>(&page.document, "export-fov").value_as_number() as f32
}

/// What the exports of one painting are built from: the painting on screen's, or a folder's.
pub(super) struct Source<'a> {
    pub task: Task,
    pub width: u32,
    pub height: u32,
    pub values: &'a Values,
    /// The visualization, RGB.
    pub rgb: &'a [u8],
    /// The point cloud's horizontal field of view, in degrees.
    pub fov: f32,
}

/// Every export the Downloads tab offers for `values`, in its order.
pub(super) fn kinds(values: &Values) -> Vec<Kind> {
    match values {
        Values::Depth(_) => vec![Kind::Visualization, Kind::DepthPng, Kind::DepthNpy, Kind::DepthPly],
        Values::Normals(_) => vec![Kind::Visualization, Kind::NormalsNpy],
        Values::Segments { segments, .. } => {
            let mut kinds = vec![Kind::Visualization, Kind::LabelsPng, Kind::LegendJson];
            for label in (1..=segments.len()).filter_map(|l| u16::try_from(l).ok()) {
                kinds.extend([Kind::Mask(label), Kind::Cutout(label)]);
            }
            kinds
        }
    }
}

/// One export's bytes, download name, MIME type and a note for the status line; `photo` gives
/// the photo's colours at the painting's size, for the exports that need them.
pub(super) fn build(source: &Source, kind: Kind, photo: impl Fn() -> Result<Vec<u8>, JsValue>) -> Result<File, String> {
    let (w, h) = (source.width, source.height);
    let task = source.task.name();
    let painting = source;
    let error = |e: peel_protocol::ProtocolError| e.to_string();
    let none = String::new();
    match (kind, painting.values) {
        (Kind::Visualization, _) => {
            Ok((export::rgb_png(painting.rgb, w, h).map_err(error)?, format!("peel-{task}-visualization.png"), "image/png", none))
        }
        (Kind::DepthPng, Values::Depth(m)) => {
            Ok((export::depth_png_mm(m, w, h).map_err(error)?, "peel-depth-mm.png".into(), "image/png", none))
        }
        (Kind::DepthNpy, Values::Depth(m)) => {
            Ok((export::depth_npy(m, w, h).map_err(error)?, "peel-depth.npy".into(), "application/octet-stream", none))
        }
        (Kind::DepthPly, Values::Depth(m)) => {
            let fov = source.fov;
            let rgb = photo().map_err(|e| format!("Could not read the photo's colours: {e:?}"))?;
            let (bytes, points) = export::depth_ply(m, &rgb, w, h, fov).map_err(error)?;
            let note = format!(" ({points} points, {fov}° field of view)");
            Ok((bytes, format!("peel-depth-fov{fov}.ply"), "application/octet-stream", note))
        }
        (Kind::NormalsNpy, Values::Normals(xyz)) => {
            Ok((export::normals_npy(xyz, w, h).map_err(error)?, "peel-normals.npy".into(), "application/octet-stream", none))
        }
        (Kind::LabelsPng, Values::Segments { labels, .. }) => {
            let png = export::label_png(labels, w, h).map_err(error)?;
            Ok((png.bytes, format!("peel-{task}-labels.png"), "image/png", format!(" ({}-bit)", png.bits)))
        }
        (Kind::LegendJson, Values::Segments { segments, .. }) => {
            let bytes = export::legend_json(task, w, h, segments);
            Ok((bytes, format!("peel-{task}-legend.json"), "application/json", none))
        }
        (Kind::Mask(label), Values::Segments { labels, segments }) => {
            let segment = segments.get(usize::from(label).wrapping_sub(1)).ok_or("no such legend entry")?;
            let name = export::mask_download_name(task, label, &segment.name);
            Ok((export::mask_png(labels, w, h, label).map_err(error)?, name, "image/png", none))
        }
        (Kind::Cutout(label), Values::Segments { labels, segments }) => {
            let segment = segments.get(usize::from(label).wrapping_sub(1)).ok_or("no such legend entry")?;
            let rgb = photo().map_err(|e| format!("Could not read the photo's colours: {e:?}"))?;
            let name = export::cutout_download_name(task, label, &segment.name);
            Ok((export::cutout_png(&rgb, labels, w, h, label).map_err(error)?, name, "image/png", none))
        }
        _ => Err("This export does not apply to the current painting.".into()),
    }
}

/// The photo's colours at the painting's size, tightly packed RGB.
pub(super) fn photo_rgb(page: &Page, width: u32, height: u32) -> Result<Vec<u8>, JsValue> {
    let photo = page.photo.as_ref().ok_or("no photo on screen")?;
    bitmap_rgb(&page.document, photo, width, height)
}

/// A decoded photo's colours drawn at `width`×`height`, tightly packed RGB.
pub(super) fn bitmap_rgb(document: &Document, photo: &web_sys::ImageBitmap, width: u32, height: u32) -> Result<Vec<u8>, JsValue> {
    let canvas: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
    context.draw_image_with_image_bitmap_and_dw_and_dh(photo, 0.0, 0.0, width as f64, height as f64)?;
    let rgba = context.get_image_data(0.0, 0.0, width as f64, height as f64)?.data();
    Ok(rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect())
}

/// Hands `bytes` to the browser as a download named `name`.
pub(super) fn download(document: &Document, bytes: &[u8], name: &str, mime: &str) -> Result<(), JsValue> {
    let array = js_sys::Uint8Array::from(bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(&array), &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    link.set_href(&url);
    link.set_download(name);
    link.set_hidden(true);
    document.body().ok_or("no body")?.append_child(&link)?;
    link.click();
    link.remove();
    // The browser has taken the blob once the click is handled; free it a minute later.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    web_sys::window()
        .ok_or("no window")?
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000)?;
    Ok(())
}
