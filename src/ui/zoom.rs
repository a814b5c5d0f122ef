//! Zoom and pan on the picture: the overlay fits the window by default; zooming enlarges it inside
//! a scrolling frame (buttons, + / − / 0 on the focused picture, or Ctrl + wheel at the pointer),
//! and a drag pans it. Values, the cross-hair and measuring follow, since they read the pointer
//! through the canvas's on-screen box.

use super::{Page, Shared, element, listen};
use web_sys::{Event, HtmlCanvasElement, HtmlElement, MouseEvent, WheelEvent};

const LEVELS: [f64; 7] = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0];
/// A pointer that moves farther than this while pressed pans instead of clicking.
const DRAG_PX: f64 = 5.0;

#[derive(Default)]
pub(super) struct Zoom {
    /// Index into [`LEVELS`].
    level: usize,
    /// The picture's on-screen width when it fits (measured when zooming in from fit).
    fit_width: f64,
    /// Pointer start (client x, y) and the frame's scroll then, while pressed.
    drag: Option<(f64, f64, i32, i32)>,
    /// Whether the last press moved far enough to be a pan (its click is then not a click).
    pub dragged: bool,
}

impl Page {
    /// Zooms to `level`, keeping the picture point at (`fx`, `fy`) of the frame (0..1) in place.
    pub(super) fn zoom_to(&mut self, level: usize, fx: f64, fy: f64) {
        let frame: HtmlElement = element(&self.document, "overlay-frame");
        let level = level.min(LEVELS.len() - 1);
        if self.zoom.level == 0 {
            self.zoom.fit_width = f64::from(self.el.overlay.client_width());
        }
        let (old, new) = (LEVELS[self.zoom.level], LEVELS[level]);
        // The picture point under (fx, fy), in fit-size pixels.
        let (px, py) = (
            (f64::from(frame.scroll_left()) + fx * f64::from(frame.client_width())) / old,
            (f64::from(frame.scroll_top()) + fy * f64::from(frame.client_height())) / old,
        );
        self.zoom.level = level;
        let style = self.el.overlay.style();
        if level == 0 {
            let _ = style.remove_property("width");
            let _ = frame.class_list().remove_1("zoomed");
        } else {
            let _ = style.set_property("width", &format!("{:.0}px", self.zoom.fit_width * new));
            let _ = frame.class_list().add_1("zoomed");
        }
        frame.set_scroll_left((px * new - fx * f64::from(frame.client_width())).round() as i32);
        frame.set_scroll_top((py * new - fy * f64::from(frame.client_height())).round() as i32);
        let label = if level == 0 { "fit".to_string() } else { format!("{new}×") };
        self.set_text("zoom-level", &label);
    }

    pub(super) fn zoom_by(&mut self, steps: isize) {
        let level = (self.zoom.level as isize + steps).clamp(0, LEVELS.len() as isize - 1) as usize;
        self.zoom_to(level, 0.5, 0.5);
    }
}

pub(super) fn wire(page: &Shared, overlay: &HtmlCanvasElement) {
    let document = page.borrow().document.clone();
    for (id, steps) in [("zoom-in", 1), ("zoom-out", -1)] {
        let on_click = page.clone();
        listen::<Event>(&element::<HtmlElement>(&document, id), "click", move |_| on_click.borrow_mut().zoom_by(steps));
    }
    let on_fit = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "zoom-fit"), "click", move |_| on_fit.borrow_mut().zoom_to(0, 0.5, 0.5));
    let frame: HtmlElement = element(&document, "overlay-frame");
    let on_wheel = page.clone();
    let wheel_frame = frame.clone();
    listen::<WheelEvent>(overlay, "wheel", move |event| {
        if !event.ctrl_key() {
            return; // plain wheel scrolls the frame (or the page)
        }
        event.prevent_default();
        let rect = wheel_frame.get_bounding_client_rect();
        let fx = ((f64::from(event.client_x()) - rect.left()) / rect.width()).clamp(0.0, 1.0);
        let fy = ((f64::from(event.client_y()) - rect.top()) / rect.height()).clamp(0.0, 1.0);
        let mut p = on_wheel.borrow_mut();
        let level = (p.zoom.level as isize + if event.delta_y() < 0.0 { 1 } else { -1 }).clamp(0, LEVELS.len() as isize - 1);
        p.zoom_to(level as usize, fx, fy);
    });
    let (on_down, down_frame) = (page.clone(), frame.clone());
    listen::<MouseEvent>(overlay, "pointerdown", move |event| {
        let mut p = on_down.borrow_mut();
        p.zoom.dragged = false;
        if p.zoom.level > 0 {
            p.zoom.drag = Some((f64::from(event.client_x()), f64::from(event.client_y()), down_frame.scroll_left(), down_frame.scroll_top()));
        }
    });
    let (on_move, move_frame) = (page.clone(), frame);
    listen::<MouseEvent>(overlay, "pointermove", move |event| {
        let mut p = on_move.borrow_mut();
        let Some((x0, y0, left, top)) = p.zoom.drag else { return };
        if event.buttons() & 1 == 0 {
            p.zoom.drag = None;
            return;
        }
        let (dx, dy) = (f64::from(event.client_x()) - x0, f64::from(event.client_y()) - y0);
        if dx.hypot(dy) > DRAG_PX {
            p.zoom.dragged = true;
        }
        if p.zoom.dragged {
            move_frame.set_scroll_left(left - dx.round() as i32);
            move_frame.set_scroll_top(top - dy.round() as i32);
        }
    });
    for kind in ["pointerup", "pointercancel"] {
        let on_up = page.clone();
        listen::<MouseEvent>(overlay, kind, move |_| on_up.borrow_mut().zoom.drag = None);
    }
}
