//! Photo effects from the decoded values (`peel_protocol::effects`): on depth, a portrait blur
//! focused where the user clicks; on normals, relighting from a light the user drags. Each is
//! shown under the picture and downloads as PNG.

use super::inspect::canvas_pixel;
use super::{Page, Shared, Values, draw_rgb, element, exports, listen};
use peel_protocol::{effects, export};
use web_sys::{Event, HtmlCanvasElement, HtmlElement, HtmlInputElement, MouseEvent};

/// The focus slider's range, log-spaced, in metres.
const FOCUS_MIN_M: f32 = 0.3;
const FOCUS_MAX_M: f32 = 100.0;
/// The slider's steps (its `max`).
const FOCUS_STEPS: f64 = 1000.0;
/// How dark a surface facing away from the light gets.
const AMBIENT: f32 = 0.3;

fn focus_from_slider(value: f64) -> f32 {
    FOCUS_MIN_M * (FOCUS_MAX_M / FOCUS_MIN_M).powf((value / FOCUS_STEPS) as f32)
}

fn slider_from_focus(meters: f32) -> f64 {
    let m = meters.clamp(FOCUS_MIN_M, FOCUS_MAX_M);
    f64::from((m / FOCUS_MIN_M).ln() / (FOCUS_MAX_M / FOCUS_MIN_M).ln()) * FOCUS_STEPS
}

fn slider(page: &Page, id: &str) -> HtmlInputElement {
    element(&page.document, id)
}

/// The light's direction from the two sliders (−100..100 each): left–right and below–above,
/// always somewhat from the viewer's side.
fn light(page: &Page) -> [f32; 3] {
    let (x, y) = (slider(page, "light-x").value_as_number() as f32 / 100.0, slider(page, "light-y").value_as_number() as f32 / 100.0);
    [x, y, (1.0 - (x * x + y * y).min(0.96)).sqrt()]
}

/// The effect for the current painting: (RGB at the painting's size, file name), or None when
/// the painting has no effect (segmentation) or there is no painting.
fn effect(page: &Page) -> Result<Option<(Vec<u8>, &'static str)>, String> {
    let Some(painting) = &page.painting else { return Ok(None) };
    let (w, h) = (painting.width, painting.height);
    let photo = || exports::photo_rgb(page, w, h).map_err(|e| format!("Could not read the photo's colours: {e:?}"));
    match &painting.values {
        Values::Depth(meters) => {
            let focus = focus_from_slider(slider(page, "blur-focus").value_as_number());
            let radius = slider(page, "blur-strength").value_as_number() as f32;
            let rgb = effects::portrait_blur(&photo()?, meters, w, h, focus, radius).map_err(|e| e.to_string())?;
            Ok(Some((rgb, "peel-portrait-blur.png")))
        }
        Values::Normals(xyz) => {
            let rgb = effects::relight(&photo()?, xyz, w, h, light(page), AMBIENT).map_err(|e| e.to_string())?;
            Ok(Some((rgb, "peel-relit.png")))
        }
        Values::Segments { .. } => Ok(None),
    }
}

/// Shows the controls of the effect that applies to the painting (blur for depth, relighting for
/// normals) and draws it; the blur starts focused at the painting's median depth. The panel is
/// the "Photo effect" view (`views`), offered only for depth and normals.
pub(super) fn show(page: &Page) {
    let values = page.painting.as_ref().map(|p| &p.values);
    let (blur, relight) = (matches!(values, Some(Values::Depth(_))), matches!(values, Some(Values::Normals(_))));
    element::<HtmlElement>(&page.document, "effect-blur").set_hidden(!blur);
    element::<HtmlElement>(&page.document, "effect-relight").set_hidden(!relight);
    if let Some(Values::Depth(meters)) = values {
        let mut finite: Vec<f32> = meters.iter().copied().filter(|m| m.is_finite() && *m > 0.0).collect();
        if !finite.is_empty() {
            let mid = finite.len() / 2;
            let median = *finite.select_nth_unstable_by(mid, f32::total_cmp).1;
            slider(page, "blur-focus").set_value_as_number(slider_from_focus(median));
        }
    }
    render(page);
}

/// Draws the effect into `#effect-view` at the painting's size.
fn render(page: &Page) {
    let focus = focus_from_slider(slider(page, "blur-focus").value_as_number());
    page.set_text("blur-focus-value", &format!("{focus:.2} m"));
    let Some(painting) = &page.painting else { return };
    match effect(page) {
        Ok(Some((rgb, _))) => {
            if let Err(e) = draw_rgb(&element(&page.document, "effect-view"), &rgb, painting.width, painting.height) {
                page.set_status(&format!("Could not draw the effect: {e:?}"), true);
            }
        }
        Ok(None) => {}
        Err(message) => page.set_status(&message, true),
    }
}

/// Focus at the depth under a click (blur), or the light towards the pointer (relighting).
fn point(page: &Page, event: &MouseEvent) {
    let Some(painting) = &page.painting else { return };
    let canvas: HtmlCanvasElement = element(&page.document, "effect-view");
    let Some((x, y)) = canvas_pixel(&canvas, event, painting.width, painting.height) else { return };
    match &painting.values {
        Values::Depth(meters) => {
            let m = meters[(y * painting.width + x) as usize];
            if !(m.is_finite() && m > 0.0) {
                return page.set_status("That point is sky (infinitely far): click something to focus on.", false);
            }
            slider(page, "blur-focus").set_value_as_number(slider_from_focus(m));
            page.set_status(&format!("Focused at {m:.2} m."), false);
        }
        Values::Normals(_) => {
            // The pointer's place in the picture, −1..1 each way, is where the light comes from.
            let u = (x as f64 + 0.5) / painting.width as f64 * 2.0 - 1.0;
            let v = 1.0 - (y as f64 + 0.5) / painting.height as f64 * 2.0;
            slider(page, "light-x").set_value_as_number((u * 100.0).round());
            slider(page, "light-y").set_value_as_number((v * 100.0).round());
        }
        Values::Segments { .. } => return,
    }
    render(page);
}

fn save(page: &Page) {
    let Some(painting) = &page.painting else { return page.set_status("Paint a photo first.", true) };
    let file = effect(page).and_then(|e| e.ok_or_else(|| "This painting has no photo effect.".to_string())).and_then(|(rgb, name)| {
        export::rgb_png(&rgb, painting.width, painting.height).map(|png| (png, name)).map_err(|e| e.to_string())
    });
    match file.and_then(|(png, name)| exports::download(&page.document, &png, name, "image/png").map(|()| name).map_err(|e| format!("{e:?}"))) {
        Ok(name) => page.set_status(&format!("Saved {name}."), false),
        Err(message) => page.set_status(&format!("Could not save the effect: {message}"), true),
    }
}

/// Wires the sliders, the picture and the download; call once at start-up.
pub(super) fn wire(page: &Shared) {
    let document = page.borrow().document.clone();
    // The blur is heavier: redrawn when a slider is let go; the light follows as it moves.
    for (id, kind) in [("blur-focus", "change"), ("blur-strength", "change"), ("light-x", "input"), ("light-y", "input")] {
        let on_change = page.clone();
        listen::<Event>(&element::<HtmlElement>(&document, id), kind, move |_| render(&on_change.borrow()));
    }
    let view: HtmlCanvasElement = element(&document, "effect-view");
    let on_click = page.clone();
    listen::<MouseEvent>(&view, "pointerdown", move |event| point(&on_click.borrow(), &event));
    let on_drag = page.clone();
    listen::<MouseEvent>(&view, "pointermove", move |event| {
        let p = on_drag.borrow();
        // Dragging moves the light; the blur refocuses on clicks only.
        if event.buttons() & 1 == 1 && matches!(p.painting.as_ref().map(|p| &p.values), Some(Values::Normals(_))) {
            point(&p, &event);
        }
    });
    let on_save = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "export-effect"), "click", move |_| save(&on_save.borrow()));
}
