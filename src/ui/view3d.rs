//! The 3D view: the metric depth back-projected (the same pinhole and field of view as the PLY
//! export) into a coloured point cloud, drawn with WebGL2 and orbited with the pointer, the wheel
//! or the arrow keys. The reset view is the photo's own viewpoint.

use super::{Page, Shared, Values, element, exports, listen};
use peel_protocol::export::{Pinhole, has_point};
use wasm_bindgen::prelude::*;
use web_sys::{Event, HtmlCanvasElement, HtmlElement, HtmlInputElement, KeyboardEvent, MouseEvent, WebGl2RenderingContext as Gl, WebGlBuffer, WebGlProgram, WebGlUniformLocation, WheelEvent};

/// More points than this are thinned on a regular grid (a 1024×768 painting has 786 k).
const MAX_POINTS: usize = 300_000;

const VERTEX_SHADER: &str = "#version 300 es
in vec3 position;
in vec3 colour;
uniform mat4 view_projection;
uniform float point_size;
out vec3 v_colour;
void main() {
  gl_Position = view_projection * vec4(position, 1.0);
  gl_PointSize = point_size;
  v_colour = colour;
}";

const FRAGMENT_SHADER: &str = "#version 300 es
precision mediump float;
in vec3 v_colour;
out vec4 pixel;
void main() { pixel = vec4(v_colour, 1.0); }";

/// The GL state of `#view3d` and where the camera orbits.
pub(super) struct View {
    gl: Gl,
    program: WebGlProgram,
    /// Positions and colours (3 floats per point each), re-filled for each painting.
    buffers: [WebGlBuffer; 2],
    view_projection: WebGlUniformLocation,
    point_size: WebGlUniformLocation,
    count: i32,
    /// The orbit's centre (on the optical axis at the median depth), metres.
    centre: [f32; 3],
    /// Orbit angles (radians) and the eye's distance from the centre.
    yaw: f32,
    pitch: f32,
    distance: f32,
    home_distance: f32,
    fov_y: f32,
    /// Where a drag started (client x, y) and the angles then.
    drag: Option<(f64, f64, f32, f32)>,
}

fn compile(gl: &Gl, kind: u32, source: &str) -> Result<web_sys::WebGlShader, String> {
    let shader = gl.create_shader(kind).ok_or("no shader")?;
    gl.shader_source(&shader, source);
    gl.compile_shader(&shader);
    if gl.get_shader_parameter(&shader, Gl::COMPILE_STATUS).as_bool() == Some(true) {
        Ok(shader)
    } else {
        Err(gl.get_shader_info_log(&shader).unwrap_or_default())
    }
}

impl View {
    fn new(canvas: &HtmlCanvasElement) -> Result<Self, String> {
        // preserveDrawingBuffer: the picture stays readable (screenshots, tests) after it is shown.
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"preserveDrawingBuffer".into(), &JsValue::TRUE);
        let gl: Gl = canvas
            .get_context_with_context_options("webgl2", &options)
            .ok()
            .flatten()
            .ok_or("this browser offers no WebGL2, which the 3D view needs (the exports still work)")?
            .dyn_into()
            .map_err(|_| "not a WebGL2 context")?;
        let program = gl.create_program().ok_or("no program")?;
        gl.attach_shader(&program, &compile(&gl, Gl::VERTEX_SHADER, VERTEX_SHADER)?);
        gl.attach_shader(&program, &compile(&gl, Gl::FRAGMENT_SHADER, FRAGMENT_SHADER)?);
        gl.bind_attrib_location(&program, 0, "position");
        gl.bind_attrib_location(&program, 1, "colour");
        gl.link_program(&program);
        if gl.get_program_parameter(&program, Gl::LINK_STATUS).as_bool() != Some(true) {
            return Err(gl.get_program_info_log(&program).unwrap_or_default());
        }
        let uniform = |name: &str| gl.get_uniform_location(&program, name).ok_or(format!("no uniform {name}"));
        let (view_projection, point_size) = (uniform("view_projection")?, uniform("point_size")?);
        let buffers = [gl.create_buffer().ok_or("no buffer")?, gl.create_buffer().ok_or("no buffer")?];
        Ok(Self { gl, program, buffers, view_projection, point_size, count: 0, centre: [0.0; 3], yaw: 0.0, pitch: 0.0, distance: 1.0, home_distance: 1.0, fov_y: 1.0, drag: None })
    }

    /// Uploads the points of `meters` (a `width`×`height` depth map) coloured by `rgb`.
    fn load(&mut self, meters: &[f32], rgb: &[u8], width: u32, height: u32, fov_deg: f32) -> Result<usize, String> {
        let camera = Pinhole::from_fov(width, height, fov_deg).map_err(|e| e.to_string())?;
        let total = meters.iter().filter(|&&m| has_point(m)).count();
        let step = ((total as f64 / MAX_POINTS as f64).sqrt().ceil() as u32).max(1);
        let (mut positions, mut colours) = (Vec::new(), Vec::new());
        let mut depths = Vec::new();
        for v in (0..height).step_by(step as usize) {
            for u in (0..width).step_by(step as usize) {
                let p = (v * width + u) as usize;
                if has_point(meters[p]) {
                    positions.extend(camera.point(u, v, meters[p]));
                    colours.extend(rgb[3 * p..3 * p + 3].iter().map(|&c| f32::from(c) / 255.0));
                    depths.push(meters[p]);
                }
            }
        }
        self.count = depths.len() as i32;
        let median = if depths.is_empty() {
            1.0
        } else {
            let mid = depths.len() / 2;
            *depths.select_nth_unstable_by(mid, f32::total_cmp).1
        };
        self.centre = [0.0, 0.0, -median];
        self.home_distance = median;
        // Vertical field of view from the horizontal one, as the pinhole has square pixels.
        self.fov_y = 2.0 * ((height as f32 * 0.5) / camera.fy).atan();
        self.reset();
        let gl = &self.gl;
        for (location, data) in [(0u32, &positions), (1, &colours)] {
            gl.bind_buffer(Gl::ARRAY_BUFFER, Some(&self.buffers[location as usize]));
            let array = js_sys::Float32Array::from(data.as_slice());
            gl.buffer_data_with_array_buffer_view(Gl::ARRAY_BUFFER, &array, Gl::STATIC_DRAW);
            gl.enable_vertex_attrib_array(location);
            gl.vertex_attrib_pointer_with_i32(location, 3, Gl::FLOAT, false, 0, 0);
        }
        Ok(depths.len())
    }

    fn reset(&mut self) {
        (self.yaw, self.pitch, self.distance) = (0.0, 0.0, self.home_distance);
    }

    fn draw(&self) {
        let gl = &self.gl;
        let canvas: HtmlCanvasElement = match gl.canvas().and_then(|c| c.dyn_into().ok()) {
            Some(c) => c,
            None => return,
        };
        let (w, h) = (canvas.width() as f32, canvas.height() as f32);
        gl.viewport(0, 0, w as i32, h as i32);
        gl.clear_color(0.08, 0.08, 0.1, 1.0);
        gl.clear(Gl::COLOR_BUFFER_BIT | Gl::DEPTH_BUFFER_BIT);
        gl.enable(Gl::DEPTH_TEST);
        gl.use_program(Some(&self.program));
        // The eye orbits the centre; at yaw = pitch = 0 it sits at the photo's camera (the origin).
        let (cy, sy, cp, sp) = (self.yaw.cos(), self.yaw.sin(), self.pitch.cos(), self.pitch.sin());
        let offset = [self.distance * sy * cp, self.distance * sp, self.distance * cy * cp];
        let eye = [self.centre[0] + offset[0], self.centre[1] + offset[1], self.centre[2] + offset[2]];
        let near = (self.home_distance * 0.01).max(0.01);
        let matrix = multiply(&perspective(self.fov_y, w / h.max(1.0), near, self.home_distance * 200.0 + 100.0), &look_at(eye, self.centre));
        gl.uniform_matrix4fv_with_f32_array(Some(&self.view_projection), false, &matrix);
        gl.uniform1f(Some(&self.point_size), (w / 400.0).max(1.5));
        gl.draw_arrays(Gl::POINTS, 0, self.count);
    }
}

/// Column-major 4×4 matrices, as WebGL takes them.
fn perspective(fov_y: f32, aspect: f32, near: f32, far: f32) -> [f32; 16] {
    let f = 1.0 / (fov_y * 0.5).tan();
    let depth = near - far;
    [f / aspect, 0.0, 0.0, 0.0, 0.0, f, 0.0, 0.0, 0.0, 0.0, (far + near) / depth, -1.0, 0.0, 0.0, 2.0 * far * near / depth, 0.0]
}

fn look_at(eye: [f32; 3], target: [f32; 3]) -> [f32; 16] {
    let sub = |a: [f32; 3], b: [f32; 3]| [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    let cross = |a: [f32; 3], b: [f32; 3]| [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    let dot = |a: [f32; 3], b: [f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let unit = |a: [f32; 3]| {
        let n = dot(a, a).sqrt().max(1e-12);
        [a[0] / n, a[1] / n, a[2] / n]
    };
    let back = unit(sub(eye, target));
    let right = unit(cross([0.0, 1.0, 0.0], back));
    let up = cross(back, right);
    [
        right[0], up[0], back[0], 0.0, right[1], up[1], back[1], 0.0, right[2], up[2], back[2], 0.0,
        -dot(right, eye), -dot(up, eye), -dot(back, eye), 1.0,
    ]
}

fn multiply(a: &[f32; 16], b: &[f32; 16]) -> [f32; 16] {
    let mut out = [0.0; 16];
    for col in 0..4 {
        for row in 0..4 {
            out[col * 4 + row] = (0..4).map(|k| a[k * 4 + row] * b[col * 4 + k]).sum();
        }
    }
    out
}

/// Loads a depth painting's points into the 3D view and draws it (the "3D" view in `views`,
/// offered only for depth).
pub(super) fn show(page: &mut Page) {
    let Some(painting) = page.painting.as_ref() else { return };
    let Values::Depth(meters) = &painting.values else { return };
    let (w, h) = (painting.width, painting.height);
    let canvas: HtmlCanvasElement = element(&page.document, "view3d");
    // The canvas keeps the painting's aspect ratio at up to 640 px wide.
    let scale = (640.0 / w as f64).min(1.0);
    canvas.set_width(((w as f64 * scale).round() as u32).max(1));
    canvas.set_height(((h as f64 * scale).round() as u32).max(1));
    let fov = element::<HtmlInputElement>(&page.document, "export-fov").value_as_number() as f32;
    let loaded = exports::photo_rgb(page, w, h)
        .map_err(|e| format!("could not read the photo's colours: {e:?}"))
        .and_then(|rgb| {
            let mut view = match page.view3d.take() {
                Some(view) => view,
                None => View::new(&canvas)?,
            };
            let points = view.load(meters, &rgb, w, h, fov);
            page.view3d = Some(view);
            points
        });
    let line = match loaded {
        Ok(points) => format!("{points} points, horizontal field of view {fov:.0}° (set under the downloads). Drag to orbit, wheel to zoom; with the view focused, the arrow keys orbit and + / − zoom."),
        Err(message) => format!("No 3D view: {message}."),
    };
    page.set_text("view3d-line", &line);
    if let Some(view) = &page.view3d {
        view.draw();
    }
}

pub(super) fn wire(page: &Shared) {
    let document = page.borrow().document.clone();
    let canvas: HtmlCanvasElement = element(&document, "view3d");
    let with_view = |page: &Shared, f: &dyn Fn(&mut View)| {
        if let Some(view) = page.borrow_mut().view3d.as_mut() {
            f(view);
            view.draw();
        }
    };
    let on_down = page.clone();
    listen::<MouseEvent>(&canvas, "pointerdown", move |event| {
        with_view(&on_down, &|v| v.drag = Some((event.client_x() as f64, event.client_y() as f64, v.yaw, v.pitch)));
    });
    let on_move = page.clone();
    listen::<MouseEvent>(&canvas, "pointermove", move |event| {
        with_view(&on_move, &|v| {
            let Some((x0, y0, yaw, pitch)) = v.drag else { return };
            if event.buttons() & 1 == 0 {
                v.drag = None;
                return;
            }
            v.yaw = yaw - ((event.client_x() as f64 - x0) * 0.01) as f32;
            v.pitch = (pitch + ((event.client_y() as f64 - y0) * 0.01) as f32).clamp(-1.5, 1.5);
        });
    });
    for kind in ["pointerup", "pointerleave"] {
        let on_up = page.clone();
        listen::<MouseEvent>(&canvas, kind, move |_| with_view(&on_up, &|v| v.drag = None));
    }
    let on_wheel = page.clone();
    listen::<WheelEvent>(&canvas, "wheel", move |event| {
        event.prevent_default();
        let factor = (event.delta_y() * 0.001).exp() as f32;
        with_view(&on_wheel, &|v| v.distance = (v.distance * factor).clamp(v.home_distance * 0.05, v.home_distance * 20.0));
    });
    let on_key = page.clone();
    listen::<KeyboardEvent>(&canvas, "keydown", move |event| {
        let key = event.key();
        let turn: Option<(f32, f32, f32)> = match key.as_str() {
            "ArrowLeft" => Some((0.1, 0.0, 1.0)),
            "ArrowRight" => Some((-0.1, 0.0, 1.0)),
            "ArrowUp" => Some((0.0, -0.1, 1.0)),
            "ArrowDown" => Some((0.0, 0.1, 1.0)),
            "+" | "=" => Some((0.0, 0.0, 0.8)),
            "-" => Some((0.0, 0.0, 1.25)),
            _ => None,
        };
        if let Some((dyaw, dpitch, zoom)) = turn {
            event.prevent_default();
            with_view(&on_key, &|v| {
                v.yaw += dyaw;
                v.pitch = (v.pitch + dpitch).clamp(-1.5, 1.5);
                v.distance = (v.distance * zoom).clamp(v.home_distance * 0.05, v.home_distance * 20.0);
            });
        }
    });
    let on_reset = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "view3d-reset"), "click", move |_| with_view(&on_reset, &|v| v.reset()));
    // A new field of view re-projects the points.
    let on_fov = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "export-fov"), "change", move |_| show(&mut on_fov.borrow_mut()));
}
