//! "Paint everything" (issue 34): one action paints the photo on screen as depth, normals,
//! semantic segmentation (the task's own example classes) and the instances of the class the
//! semantic painting found most of, one after another. The worker keeps the photo decoded, so
//! only the first paint (if any) sends it. Each painting is shown as it arrives and drawn small
//! in the "Everything" tab's grid, with its state; clicking a cell opens that painting again.
//!
//! A cell keeps the worker's reply as it came (a JS object), not its arrays in wasm memory,
//! and reads it again when opened.

use super::{FromWorker, Page, Purpose, Reply, Shared, element, listen, views};
use crate::{Task, example_prompt, studio};
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, Element, Event, HtmlCanvasElement, HtmlElement};

/// Widest a cell's picture is drawn.
const CELL_WIDTH: u32 = 200;

pub(super) struct Run {
    /// The photo (`Page::photo_id`) the cells are paintings of.
    photo_id: u32,
    cells: Vec<Cell>,
    /// Whether every cell has had its turn (painted or failed).
    finished: bool,
}

struct Cell {
    task: Task,
    prompt: String,
    /// The worker's `Painted` message, once painted.
    reply: Option<JsValue>,
}

/// The cell's list item in the grid.
fn cell_item(page: &Page, i: usize) -> Option<Element> {
    page.document.query_selector(&format!("#everything-grid [data-cell=\"{i}\"]")).ok().flatten()
}

/// Says how the cell is doing (its text beside the picture and its `data-state`).
fn set_cell(page: &Page, i: usize, state: &str, text: &str) {
    let Some(item) = cell_item(page, i) else { return };
    let _ = item.set_attribute("data-state", state);
    if let Ok(Some(line)) = item.query_selector(".everything-state") {
        line.set_text_content(Some(text));
    }
}

fn set_run_state(page: &Page, state: &str) {
    let _ = page.document.body().map(|b| b.set_attribute("data-everything", state));
}

fn title(task: Task) -> &'static str {
    match task {
        Task::Depth => "Metric depth",
        Task::Normals => "Surface normals",
        Task::Semantic => "Semantic segmentation",
        Task::Instance => "Instances",
        Task::Referring => "Referred things",
    }
}

/// Starts painting every task of the photo on screen.
fn start(page: &mut Page) {
    if page.photo_bytes.is_none() {
        return page.set_status("Choose a photo first, then paint everything.", true);
    }
    if page.folder.as_ref().is_some_and(|run| run.running()) {
        return page.set_status("A folder is being painted; wait for it or cancel it first.", true);
    }
    // Live painting would paint the next camera frame over the run.
    super::camera::stop_live(page);
    let cells: Vec<Cell> = studio::EVERYTHING
        .iter()
        .map(|&task| Cell {
            task,
            prompt: match task {
                Task::Instance => studio::instance_prompt(studio::FALLBACK_CLASS),
                _ => example_prompt(task).to_string(),
            },
            reply: None,
        })
        .collect();
    if let Err(e) = build_grid(page, &cells) {
        return page.set_status(&format!("Could not show the grid: {e:?}"), true);
    }
    page.everything = Some(Run { photo_id: page.photo_id, cells, finished: false });
    set_run_state(page, "running");
    views::refresh_tabs(page);
    views::open_view(page, views::View::Everything);
    if page.repaint_for(Purpose::Everything(0)) {
        set_cell(page, 0, "painting", "painting…");
    }
}

/// One list item per cell: a button holding its small picture, its task and its state.
fn build_grid(page: &Page, cells: &[Cell]) -> Result<(), JsValue> {
    let grid: HtmlElement = element(&page.document, "everything-grid");
    grid.set_text_content(None);
    for (i, cell) in cells.iter().enumerate() {
        let item = page.document.create_element("li")?;
        item.set_attribute("data-cell", &i.to_string())?;
        item.set_attribute("data-state", "waiting")?;
        let button = page.document.create_element("button")?;
        button.set_attribute("type", "button")?;
        button.set_attribute("class", "everything-open")?;
        button.set_attribute("disabled", "")?;
        let canvas = page.document.create_element("canvas")?;
        canvas.set_attribute("width", &CELL_WIDTH.to_string())?;
        canvas.set_attribute("height", "1")?;
        // The button's text names it; the picture is the painting's thumbnail.
        canvas.set_attribute("aria-hidden", "true")?;
        let name = page.document.create_element("span")?;
        name.set_attribute("class", "everything-name")?;
        name.set_text_content(Some(title(cell.task)));
        let state = page.document.create_element("span")?;
        state.set_attribute("class", "everything-state")?;
        state.set_text_content(Some("waiting"));
        button.append_child(&canvas)?;
        button.append_child(&name)?;
        button.append_child(&state)?;
        item.append_child(&button)?;
        grid.append_child(&item)?;
    }
    Ok(())
}

/// The prompt of cell `i` (empty if the run is gone; the worker then refuses it).
pub(super) fn prompt(page: &Page, i: usize) -> String {
    page.everything.as_ref().and_then(|run| run.cells.get(i)).map(|c| c.prompt.clone()).unwrap_or_default()
}

/// Cell `i` was painted (and shown, as `page.painting`): draws it small, names the main class
/// for the instance cell after the semantic one, and paints the next cell.
pub(super) fn painted(page: &mut Page, i: usize, reply: &Reply, raw: Option<JsValue>) {
    let Some(run) = page.everything.as_mut() else { return };
    let Some(cell) = run.cells.get_mut(i) else { return };
    cell.reply = raw;
    if cell.task == Task::Semantic
        && let crate::Decoded::Segments { segments, .. } = &reply.decoded
    {
        let class = studio::main_class(segments).unwrap_or(studio::FALLBACK_CLASS).to_string();
        if let Some(instance) = run.cells.iter_mut().find(|c| c.task == Task::Instance) {
            instance.prompt = studio::instance_prompt(&class);
        }
        if let Some(at) = run.cells.iter().position(|c| c.task == Task::Instance)
            && let Ok(Some(name)) = cell_item(page, at).map_or(Ok(None), |item| item.query_selector(".everything-name"))
        {
            name.set_text_content(Some(&format!("Instances of {class}")));
        }
    }
    draw_cell(page, i);
    set_cell(page, i, "done", &format!("{:.0} ms", reply.millis));
    if let Some(item) = cell_item(page, i).and_then(|item| item.query_selector("button").ok().flatten()) {
        let _ = item.remove_attribute("disabled");
    }
    next(page, i + 1);
}

/// Cell `i` could not be painted: says why in the cell and goes on with the next.
pub(super) fn failed(page: &mut Page, i: usize, message: &str) {
    if page.everything.is_none() {
        return;
    }
    set_cell(page, i, "failed", &format!("failed: {message}"));
    next(page, i + 1);
}

fn next(page: &mut Page, i: usize) {
    // A run stopped meanwhile (another paint was asked for) goes no further.
    let Some(run) = page.everything.as_mut().filter(|run| !run.finished) else { return };
    if i < run.cells.len() {
        if page.repaint_for(Purpose::Everything(i)) {
            set_cell(page, i, "painting", "painting…");
        }
        return;
    }
    run.finished = true;
    let (done, all) = (run.cells.iter().filter(|c| c.reply.is_some()).count(), run.cells.len());
    set_run_state(page, "done");
    page.set_status(&format!("Painted everything: {done} of {all} paintings. Click one to open it."), false);
}

/// Ends a run still painting (cells not yet painted say `why`); a run of another photo than the
/// one on screen is dropped with its grid.
pub(super) fn stop(page: &mut Page, why: &str) {
    let Some(run) = page.everything.as_mut() else { return };
    if run.photo_id != page.photo_id {
        page.everything = None;
        set_run_state(page, "none");
        views::refresh_tabs(page);
        return;
    }
    if run.finished {
        return;
    }
    run.finished = true;
    let left: Vec<usize> = run.cells.iter().enumerate().filter(|(_, c)| c.reply.is_none()).map(|(i, _)| i).collect();
    for i in left {
        set_cell(page, i, "stopped", why);
    }
    set_run_state(page, "stopped");
}

/// Draws the painting on screen (cell `i`'s, just shown) into the cell's picture.
fn draw_cell(page: &Page, i: usize) {
    let Some(painting) = &page.painting else { return };
    let Some(canvas) = cell_item(page, i).and_then(|item| item.query_selector("canvas").ok().flatten()).and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok()) else {
        return;
    };
    let (w, h) = (painting.width.max(1), painting.height.max(1));
    let scale = (f64::from(CELL_WIDTH) / f64::from(w)).min(1.0);
    let (cw, ch) = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
    canvas.set_width(cw);
    canvas.set_height(ch);
    let Ok(Some(context)) = canvas.get_context("2d") else { return };
    let Ok(context) = context.dyn_into::<CanvasRenderingContext2d>() else { return };
    let _ = context.draw_image_with_html_canvas_element_and_dw_and_dh(&painting.canvas, 0.0, 0.0, f64::from(cw), f64::from(ch));
}

/// Opens cell `i`'s painting as the painting on screen, with its task and prompt in the controls.
fn open(page: &mut Page, i: usize) {
    let Some(run) = &page.everything else { return };
    if run.photo_id != page.photo_id {
        return;
    }
    let Some((task, prompt, raw)) = run.cells.get(i).and_then(|c| Some((c.task, c.prompt.clone(), c.reply.clone()?))) else {
        return page.set_status("This painting is not ready yet.", true);
    };
    let reply = match serde_wasm_bindgen::from_value(raw) {
        Ok(FromWorker::Painted { width, height, task, prompt, visualization, decoded, millis, timings }) => {
            Reply { width, height, task, prompt, visualization, decoded, millis, timings }
        }
        Ok(_) => return page.set_status("This cell holds no painting.", true),
        Err(e) => return page.set_status(&format!("Could not read the painting again: {e}"), true),
    };
    // The controls say what is shown, so Paint repaints it (without painting now).
    page.el.task.set_value(task.name());
    page.el.prompt.set_value(&prompt);
    page.builder.show_text();
    if page.show_painted(&reply, None) {
        views::open_view(page, views::View::Painting);
        page.set_status(&format!("Opened the {} painting.", title(task).to_lowercase()), false);
    }
}

/// Wires the button and the grid; call once at start-up.
pub(super) fn wire(page: &Shared) {
    let document = page.borrow().document.clone();
    let on_start = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "paint-all"), "click", move |_| start(&mut on_start.borrow_mut()));
    let on_open = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "everything-grid"), "click", move |event| {
        let cell = event
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|e| e.closest("[data-cell]").ok().flatten())
            .and_then(|e| e.get_attribute("data-cell"))
            .and_then(|i| i.parse::<usize>().ok());
        if let Some(i) = cell {
            open(&mut on_open.borrow_mut(), i);
        }
    });
}
