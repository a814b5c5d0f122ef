//! The page's elements that the page itself changes, looked up once at start-up.

use wasm_bindgen::prelude::*;
use web_sys::{
    CanvasRenderingContext2d, Document, HtmlCanvasElement, HtmlElement, HtmlInputElement,
    HtmlProgressElement, HtmlSelectElement, HtmlTextAreaElement,
};

pub(super) struct Elements {
    pub overlay: HtmlCanvasElement,
    pub context: CanvasRenderingContext2d,
    pub prompt: HtmlTextAreaElement,
    pub opacity: HtmlInputElement,
    pub compare: HtmlInputElement,
    pub cancel: HtmlElement,
    pub retry: HtmlElement,
    pub status: HtmlElement,
    pub model_line: HtmlElement,
    pub backend_line: HtmlElement,
    pub load_progress: HtmlProgressElement,
    pub suggestions: HtmlElement,
    pub summary: HtmlElement,
    pub result_json: HtmlElement,
    pub depth_scale: HtmlElement,
    pub normal_sphere: HtmlElement,
    pub live_rate: HtmlElement,
    pub task: HtmlSelectElement,
    /// The prompt builder (`prompt_builder`): its fieldset, legend, rows, add button, the
    /// background colour (with its label) and the note under it.
    pub builder: HtmlElement,
    pub builder_legend: HtmlElement,
    pub builder_rows: HtmlElement,
    pub builder_add: HtmlElement,
    pub builder_background_line: HtmlElement,
    pub builder_background: HtmlInputElement,
    pub builder_note: HtmlElement,
}

impl Elements {
    /// Fails (instead of panicking later) when `index.html` lacks one of them.
    pub fn find(document: &Document) -> Result<Self, JsValue> {
        let overlay: HtmlCanvasElement = find(document, "overlay")?;
        let context = overlay
            .get_context("2d")?
            .ok_or("no 2d context")?
            .dyn_into()?;
        Ok(Self {
            overlay,
            context,
            prompt: find(document, "prompt")?,
            opacity: find(document, "opacity")?,
            compare: find(document, "compare")?,
            cancel: find(document, "cancel")?,
            retry: find(document, "retry")?,
            status: find(document, "status")?,
            model_line: find(document, "model-line")?,
            backend_line: find(document, "backend-line")?,
            load_progress: find(document, "load-progress")?,
            suggestions: find(document, "suggestions")?,
            summary: find(document, "summary")?,
            result_json: find(document, "result-json")?,
            depth_scale: find(document, "depth-scale")?,
            normal_sphere: find(document, "normal-sphere")?,
            live_rate: find(document, "live-rate")?,
            task: find(document, "task")?,
            builder: find(document, "prompt-builder")?,
            builder_legend: find(document, "builder-legend")?,
            builder_rows: find(document, "builder-rows")?,
            builder_add: find(document, "builder-add")?,
            builder_background_line: find(document, "builder-background-line")?,
            builder_background: find(document, "builder-background")?,
            builder_note: find(document, "builder-note")?,
        })
    }
}

fn find<T: JsCast>(document: &Document, id: &str) -> Result<T, JsValue> {
    document
        .get_element_by_id(id)
        .ok_or_else(|| format!("index.html lacks #{id}"))?
        .dyn_into()
        .map_err(|_| format!("#{id} has the wrong element type").into())
}
