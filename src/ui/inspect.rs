//! Reading the result: the value under the pointer (mouse, touch or pen), a cross-hair the arrow
//! keys move, the 3D distance between two points of a depth painting (only a metric model can
//! give it), and the depth colour scale in metres.

use super::{Page, Shared, Values, element, listen};
use peel_protocol::depth::{DepthCodec, walk};
use peel_protocol::export::Pinhole;
use peel_protocol::normals;
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlElement, HtmlInputElement, KeyboardEvent, MouseEvent};

/// Where the keyboard cross-hair and the measuring points are, in painting pixels.
#[derive(Default)]
pub(super) struct Marks {
    pub cursor: Option<(u32, u32)>,
    /// Up to two points of the depth painting; a third click starts again.
    pub points: Vec<(u32, u32)>,
}

/// The scale's tick marks, in metres (the walk's colours at these depths are drawn above them).
const TICKS_M: [f32; 8] = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];

/// The pixel of a `width`×`height` picture drawn over all of `canvas` under a pointer event, if
/// the pointer is over it (whatever size the canvas is displayed at).
pub(super) fn canvas_pixel(canvas: &HtmlCanvasElement, event: &MouseEvent, width: u32, height: u32) -> Option<(u32, u32)> {
    let rect = canvas.get_bounding_client_rect();
    let u = (event.client_x() as f64 - rect.left()) / rect.width();
    let v = (event.client_y() as f64 - rect.top()) / rect.height();
    if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
        return None;
    }
    Some(((u * width as f64) as u32, (v * height as f64) as u32))
}

pub(super) fn wire(page: &Shared, overlay: &HtmlCanvasElement) {
    let on_move = page.clone();
    listen::<MouseEvent>(overlay, "pointermove", move |event| {
        let mut p = on_move.borrow_mut();
        if let Some(pixel) = p.pixel_at(&event) {
            p.pointer = p.painting.as_ref().map(|painting| {
                ((pixel.0 as f64 + 0.5) / painting.width as f64, (pixel.1 as f64 + 0.5) / painting.height as f64)
            });
            p.readout(pixel);
        }
    });
    let on_click = page.clone();
    listen::<MouseEvent>(overlay, "click", move |event| {
        if on_click.borrow().zoom.dragged {
            return; // the press panned the zoomed picture
        }
        let pixel = on_click.borrow().pixel_at(&event);
        if let Some(pixel) = pixel {
            on_click.borrow_mut().mark(pixel);
        }
    });
    let on_key = page.clone();
    listen::<KeyboardEvent>(overlay, "keydown", move |event| {
        let mut p = on_key.borrow_mut();
        let zoom = match event.key().as_str() {
            "+" | "=" => Some(1),
            "-" => Some(-1),
            "0" => Some(-8),
            _ => None,
        };
        if let Some(steps) = zoom {
            event.prevent_default();
            return p.zoom_by(steps);
        }
        let Some((w, h)) = p.painting.as_ref().map(|p| (p.width, p.height)) else { return };
        let step = if event.shift_key() { 10 } else { 1 } * (w.max(h) / 100).max(1);
        let (x, y) = p.marks.cursor.unwrap_or((w / 2, h / 2));
        let moved = match event.key().as_str() {
            "ArrowLeft" => (x.saturating_sub(step), y),
            "ArrowRight" => ((x + step).min(w - 1), y),
            "ArrowUp" => (x, y.saturating_sub(step)),
            "ArrowDown" => (x, (y + step).min(h - 1)),
            "Enter" | " " => {
                event.prevent_default();
                return p.mark((x, y));
            }
            "Escape" => {
                p.marks = Marks::default();
                p.show_distance();
                return p.redraw();
            }
            _ => return,
        };
        event.prevent_default();
        p.marks.cursor = Some(moved);
        p.readout(moved);
        p.redraw();
    });
}

impl Page {
    /// The painting pixel under a pointer event, if it is over the picture.
    fn pixel_at(&self, event: &MouseEvent) -> Option<(u32, u32)> {
        let painting = self.painting.as_ref()?;
        canvas_pixel(&self.el.overlay, event, painting.width, painting.height)
    }

    /// A new painting is on screen: reads it where the pointer last was (live painting updates
    /// the readout frame by frame), or asks for a point when it has not been over the picture.
    pub(super) fn reread(&self) {
        let Some(painting) = &self.painting else { return };
        match self.pointer {
            Some((u, v)) => {
                let at = |f: f64, size: u32| ((f * size as f64) as u32).min(size.saturating_sub(1));
                self.readout((at(u, painting.width), at(v, painting.height)));
            }
            None => self.set_text("readout", "Point at the picture (or focus it and use the arrow keys) to read the values."),
        }
    }

    pub(super) fn readout(&self, (x, y): (u32, u32)) {
        let Some(painting) = &self.painting else { return };
        let p = (y * painting.width + x) as usize;
        let text = match &painting.values {
            Values::Depth(meters) => {
                draw_depth_scale(&self.document, Some(meters[p]));
                match meters[p] {
                    m if m.is_finite() => format!("Depth here: {m:.2} m"),
                    _ => "Depth here: sky (infinitely far)".into(),
                }
            }
            Values::Normals(xyz) => {
                let (nx, ny, nz) = (xyz[3 * p], xyz[3 * p + 1], xyz[3 * p + 2]);
                draw_normal_sphere(&self.document, Some([nx, ny, nz]));
                let facing = nz.clamp(-1.0, 1.0).acos().to_degrees();
                format!("Surface normal here: ({nx:+.2}, {ny:+.2}, {nz:+.2}), x right, y up, z towards you; {facing:.0}° from facing the camera")
            }
            Values::Segments { labels, segments } => match labels[p] {
                0 => "Here: none of the prompt's entries".into(),
                id => format!("Here: {}", segments[usize::from(id) - 1].name),
            },
        };
        self.set_text("readout", &text);
    }

    /// Adds a measuring point (depth only); the second one shows the distance.
    fn mark(&mut self, pixel: (u32, u32)) {
        if !matches!(self.painting.as_ref().map(|p| &p.values), Some(Values::Depth(_))) {
            return;
        }
        if self.marks.points.len() == 2 {
            self.marks.points.clear();
        }
        self.marks.points.push(pixel);
        self.show_distance();
        self.redraw();
    }

    /// The line under the picture: how to measure, or the distance between the two points.
    pub(super) fn show_distance(&self) {
        let line: HtmlElement = element(&self.document, "measure");
        let Some(painting) = self.painting.as_ref() else { return line.set_hidden(true) };
        let Values::Depth(meters) = &painting.values else { return line.set_hidden(true) };
        line.set_hidden(false);
        let fov = element::<HtmlInputElement>(&self.document, "export-fov").value_as_number() as f32;
        let text = match self.marks.points[..] {
            [] => "Click two points (or press Enter twice at the cross-hair) to measure the distance between them in 3D.".to_string(),
            [_] => "Click a second point.".to_string(),
            [a, b, ..] => {
                let depth = |(x, y): (u32, u32)| meters[(y * painting.width + x) as usize];
                match Pinhole::from_fov(painting.width, painting.height, fov) {
                    Err(e) => format!("Set a field of view to measure: {e}"),
                    Ok(_) if !depth(a).is_finite() || !depth(b).is_finite() => {
                        "One of the points is sky (infinitely far): pick two points on things.".to_string()
                    }
                    Ok(camera) => {
                        let (pa, pb) = (camera.point(a.0, a.1, depth(a)), camera.point(b.0, b.1, depth(b)));
                        let d = ((pa[0] - pb[0]).powi(2) + (pa[1] - pb[1]).powi(2) + (pa[2] - pb[2]).powi(2)).sqrt();
                        format!(
                            "Distance between the two points: {d:.2} m in 3D ({:.2} m and {:.2} m from the camera; horizontal field of view {fov:.0}°, set under the downloads).",
                            depth(a),
                            depth(b)
                        )
                    }
                }
            }
        };
        line.set_text_content(Some(&text));
    }

    /// The cross-hair and measuring points over the picture (after the painting is drawn).
    pub(super) fn draw_marks(&self) {
        let Some(painting) = &self.painting else { return };
        let (sx, sy) = (self.el.overlay.width() as f64 / painting.width as f64, self.el.overlay.height() as f64 / painting.height as f64);
        let ctx = &self.el.context;
        ctx.set_line_width(2.0);
        if let Some((x, y)) = self.marks.cursor {
            let (cx, cy) = ((x as f64 + 0.5) * sx, (y as f64 + 0.5) * sy);
            ctx.set_stroke_style_str("#fff");
            ctx.begin_path();
            ctx.move_to(cx - 12.0, cy);
            ctx.line_to(cx + 12.0, cy);
            ctx.move_to(cx, cy - 12.0);
            ctx.line_to(cx, cy + 12.0);
            ctx.stroke();
        }
        ctx.set_stroke_style_str("#000");
        ctx.set_fill_style_str("#fff");
        let points: Vec<(f64, f64)> = self.marks.points.iter().map(|&(x, y)| ((x as f64 + 0.5) * sx, (y as f64 + 0.5) * sy)).collect();
        if let [a, b] = points[..] {
            ctx.begin_path();
            ctx.move_to(a.0, a.1);
            ctx.line_to(b.0, b.1);
            ctx.stroke();
        }
        for (x, y) in points {
            ctx.begin_path();
            let _ = ctx.arc(x, y, 5.0, 0.0, std::f64::consts::TAU);
            ctx.fill();
            ctx.stroke();
        }
    }
}

/// Draws the depth colour scale (the walk from 0 m to sky, ticks in metres), with a marker at
/// `marker` metres when given; hides nothing (the caller shows or hides the canvas).
pub(super) fn draw_depth_scale(document: &web_sys::Document, marker: Option<f32>) {
    let canvas: HtmlCanvasElement = element(document, "depth-scale");
    // Drawn at the width it is shown at, so that its labels stay legible on a phone.
    let shown = canvas.client_width();
    if shown > 0 && shown as u32 != canvas.width() {
        canvas.set_width(shown as u32);
    }
    let Ok(Some(ctx)) = canvas.get_context("2d") else { return };
    let Ok(ctx) = ctx.dyn_into::<CanvasRenderingContext2d>() else { return };
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    let bar = 16.0;
    let codec = DepthCodec::PAPER;
    let at = |meters: f32| codec.normalize(meters) as f64 * (w - 1.0);
    ctx.clear_rect(0.0, 0.0, w, h);
    for x in 0..w as u32 {
        let [r, g, b] = walk(x as f32 / (w as f32 - 1.0));
        ctx.set_fill_style_str(&format!("rgb({},{},{})", (r * 255.0).round(), (g * 255.0).round(), (b * 255.0).round()));
        ctx.fill_rect(x as f64, 0.0, 1.0, bar);
    }
    ctx.set_fill_style_str("#1d1d1f");
    ctx.set_stroke_style_str("#1d1d1f");
    ctx.set_font("12px system-ui, sans-serif");
    ctx.set_text_align("center");
    let mut labels: Vec<(f64, String)> = TICKS_M.iter().map(|&m| (at(m), format!("{m} m"))).collect();
    labels.insert(0, (0.0, "0".into()));
    labels.push((w - 1.0, "sky".into()));
    // From the far end ("sky" always shows), a label that would touch the one to its right is left out.
    let mut right_edge = f64::INFINITY;
    for (x, label) in labels.into_iter().rev() {
        let half = ctx.measure_text(&label).map(|m| m.width()).unwrap_or(24.0) / 2.0;
        let centre = x.clamp(half, w - half);
        if centre + half + 6.0 > right_edge {
            continue;
        }
        right_edge = centre - half;
        ctx.begin_path();
        ctx.move_to(x + 0.5, bar);
        ctx.line_to(x + 0.5, bar + 4.0);
        ctx.stroke();
        let _ = ctx.fill_text(&label, centre, bar + 16.0);
    }
    if let Some(m) = marker {
        let x = if m.is_finite() { at(m) } else { w - 1.0 };
        ctx.set_fill_style_str("#fff");
        ctx.begin_path();
        ctx.move_to(x - 5.0, 0.0);
        ctx.line_to(x + 5.0, 0.0);
        ctx.line_to(x, 8.0);
        ctx.close_path();
        ctx.fill();
        ctx.stroke();
    }
}

/// Draws the normals legend: a sphere seen from the camera, each point in the colour of its own
/// normal (the protocol's encoding), so any colour of the painting can be found on it; with a
/// ring at `marker`'s place on the sphere when given (a normal facing away is drawn at the rim).
pub(super) fn draw_normal_sphere(document: &web_sys::Document, marker: Option<[f32; 3]>) {
    let canvas: HtmlCanvasElement = element(document, "normal-sphere");
    let Ok(Some(ctx)) = canvas.get_context("2d") else { return };
    let Ok(ctx) = ctx.dyn_into::<CanvasRenderingContext2d>() else { return };
    let side = canvas.width().min(canvas.height());
    let r = side as f32 / 2.0 - 1.0;
    let mut rgba = vec![0u8; (side * side * 4) as usize];
    for y in 0..side {
        for x in 0..side {
            let (u, v) = ((x as f32 + 0.5 - side as f32 / 2.0) / r, (side as f32 / 2.0 - y as f32 - 0.5) / r);
            let z2 = 1.0 - u * u - v * v;
            if z2 < 0.0 {
                continue;
            }
            let [cr, cg, cb] = normals::encode_rgb8([u, v, z2.sqrt()]);
            let i = ((y * side + x) * 4) as usize;
            rgba[i..i + 4].copy_from_slice(&[cr, cg, cb, 255]);
        }
    }
    if let Ok(image) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&rgba), side, side) {
        let _ = ctx.put_image_data(&image, 0.0, 0.0);
    }
    if let Some([nx, ny, _]) = marker {
        let length = (nx * nx + ny * ny).sqrt().max(1.0);
        let (cx, cy) = (side as f64 / 2.0 + f64::from(nx / length * r), side as f64 / 2.0 - f64::from(ny / length * r));
        for (colour, width) in [("#000", 3.0), ("#fff", 1.5)] {
            ctx.set_stroke_style_str(colour);
            ctx.set_line_width(width);
            ctx.begin_path();
            let _ = ctx.arc(cx, cy, 5.0, 0.0, std::f64::consts::TAU);
            ctx.stroke();
        }
    }
}
