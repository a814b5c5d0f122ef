//! The prompt builder: for the segmentation tasks, a row per class (semantic) or referred phrase
//! (referring), each a word and a colour, or the one class whose instances are told apart
//! (instance), with the background colour where the task has one. Rows are added, removed and
//! moved up or down.
//!
//! The rows write the prompt text (`Request::to_prompt`, the canonical prompt) and editing the
//! text rebuilds the rows (`peel_protocol::prompt::parse`): the textarea stays the one prompt the
//! page paints. Words the model refused get the nearest known words beside their row, as the same
//! buttons `suggestions` puts under the prompt (its click handler swaps the word in).

use super::elements::Elements;
use super::{listen, suggestions};
use crate::WordSuggestion;
use peel_protocol::color::{Rgb8, parse_color};
use peel_protocol::prompt::{ClassColor, DEFAULT_BACKGROUND, Request, Task, parse};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, HtmlElement, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

/// Colours given to added rows, the first one no row (nor the background) uses yet.
const NEW_ROW_COLOURS: [Rgb8; 16] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
    [0, 255, 255],
    [255, 0, 255],
    [255, 165, 0],
    [128, 0, 128],
    [0, 128, 0],
    [255, 192, 203],
    [165, 42, 42],
    [0, 0, 128],
    [0, 128, 128],
    [128, 128, 0],
    [128, 0, 0],
    [255, 255, 255],
];

/// What the rows hold: each entry's name and (but for instance) colour, and the background.
struct Entries {
    task: Task,
    rows: Vec<(String, Option<Rgb8>)>,
    background: Option<Rgb8>,
}

impl Entries {
    fn from_request(request: &Request) -> Option<Self> {
        let task = request.task();
        let named = |list: &[ClassColor]| list.iter().map(|c| (c.name.clone(), Some(c.color))).collect();
        let (rows, background) = match request {
            Request::Semantic { classes } => (named(classes), None),
            Request::Instance { class, background } => (vec![(class.clone(), None)], Some(*background)),
            Request::Referring { targets, background } => (named(targets), Some(*background)),
            Request::Depth(_) | Request::Normals => return None,
        };
        Some(Self { task, rows, background })
    }

    /// The request the rows describe; rows without a word are left out.
    fn to_request(&self) -> Request {
        let named: Vec<ClassColor> = self
            .rows
            .iter()
            .filter(|(name, _)| !name.trim().is_empty())
            .map(|(name, colour)| ClassColor::new(name.trim(), colour.unwrap_or(DEFAULT_BACKGROUND)))
            .collect();
        let background = self.background.unwrap_or(DEFAULT_BACKGROUND);
        match self.task {
            Task::Instance => Request::Instance { class: named.first().map(|c| c.name.clone()).unwrap_or_default(), background },
            Task::Referring => Request::Referring { targets: named, background },
            _ => Request::Semantic { classes: named },
        }
    }

    /// A colour that no row and not the background uses.
    fn unused_colour(&self) -> Rgb8 {
        let used = |c: Rgb8| self.background == Some(c) || self.rows.iter().any(|(_, colour)| *colour == Some(c));
        let mut candidates = NEW_ROW_COLOURS.into_iter().chain((1..=255u8).map(|i| [i, i.wrapping_mul(97), i.wrapping_mul(53)]));
        candidates.find(|c| !used(*c)).unwrap_or([1, 2, 3])
    }
}

/// What a row is called, per task: (its word, the add button).
fn nouns(task: Task) -> (&'static str, &'static str, &'static str) {
    match task {
        Task::Referring => ("Phrase", "Referred phrases and their colours", "Add a phrase"),
        Task::Instance => ("Class", "The class whose instances get their own colours", "Add a class"),
        _ => ("Class", "Classes and their colours", "Add a class"),
    }
}

fn hex([r, g, b]: Rgb8) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The builder's elements (looked up with the page's others in [`Elements`]).
pub(super) struct Builder {
    document: Document,
    task: HtmlSelectElement,
    prompt: HtmlTextAreaElement,
    fieldset: HtmlElement,
    legend: HtmlElement,
    rows: HtmlElement,
    add: HtmlElement,
    background_line: HtmlElement,
    background: HtmlInputElement,
    note: HtmlElement,
    /// Set while the rows write the text, so that the text's `input` event does not rebuild them.
    writing: Cell<bool>,
    /// The task the rows were last built for.
    shown: Cell<Option<Task>>,
}

impl Builder {
    pub(super) fn new(document: &Document, el: &Elements) -> Rc<Self> {
        Rc::new(Self {
            document: document.clone(),
            task: el.task.clone(),
            prompt: el.prompt.clone(),
            fieldset: el.builder.clone(),
            legend: el.builder_legend.clone(),
            rows: el.builder_rows.clone(),
            add: el.builder_add.clone(),
            background_line: el.builder_background_line.clone(),
            background: el.builder_background.clone(),
            note: el.builder_note.clone(),
            writing: Cell::new(false),
            shown: Cell::new(None),
        })
    }

    /// The selected task, if the builder has rows for it.
    fn task(&self) -> Option<Task> {
        self.task.value().parse::<Task>().ok().filter(|t| matches!(t, Task::Semantic | Task::Instance | Task::Referring))
    }

    fn say(&self, note: Option<&str>) {
        self.note.set_text_content(note);
        self.note.set_hidden(note.is_none());
    }

    /// Text → rows: rebuilds the rows from the prompt text (after the user edited it, or the task
    /// changed). Text that does not parse, or asks for another task, leaves the rows and says why.
    pub(super) fn show_text(&self) {
        let Some(task) = self.task() else {
            self.fieldset.set_hidden(true);
            self.shown.set(None);
            return;
        };
        self.fieldset.set_hidden(false);
        let (_, legend, add) = nouns(task);
        self.legend.set_text_content(Some(legend));
        self.add.set_text_content(Some(add));
        self.add.set_hidden(task == Task::Instance);
        self.background_line.set_hidden(task == Task::Semantic);
        if self.shown.get() != Some(task) {
            // Another task's rows mean nothing here.
            self.rows.set_text_content(None);
            self.shown.set(Some(task));
        }
        match parse(&self.prompt.value()) {
            Ok(request) if request.task() == task => {
                if let Some(entries) = Entries::from_request(&request) {
                    self.render(&entries);
                    self.say(None);
                }
            }
            Ok(request) => self.say(Some(&format!(
                "The prompt text asks for {}, not {task}: the rows show the last {task} prompt.",
                request.task()
            ))),
            Err(e) => self.say(Some(&format!("The prompt text does not parse ({e}); the rows show the last prompt that did."))),
        }
    }

    /// Rows → text: writes the canonical prompt of the rows into the textarea (as if typed, so
    /// the task keeps it as its edit) and says if it will be refused.
    fn write(&self, entries: &Entries) {
        let request = entries.to_request();
        let text = request.to_prompt();
        self.writing.set(true);
        self.prompt.set_value(&text);
        if let Ok(input) = Event::new("input") {
            let _ = self.prompt.dispatch_event(&input);
        }
        self.writing.set(false);
        match parse(&text) {
            Ok(_) => self.say(None),
            Err(e) => self.say(Some(&format!("This prompt will be refused: {e}."))),
        }
    }

    /// The rows as they are on the page now.
    fn read(&self) -> Option<Entries> {
        let task = self.shown.get()?;
        let mut rows = Vec::new();
        let items = self.rows.query_selector_all(":scope > li").ok()?;
        for i in 0..items.length() {
            let Some(item) = items.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
            let word = input_in(&item, ".builder-word").map(|w| w.value()).unwrap_or_default();
            let colour = input_in(&item, ".builder-colour").and_then(|c| parse_color(&c.value()).ok());
            rows.push((word, colour));
        }
        let background = (task != Task::Semantic).then(|| parse_color(&self.background.value()).unwrap_or(DEFAULT_BACKGROUND));
        Some(Entries { task, rows, background })
    }

    fn render(&self, entries: &Entries) {
        self.rows.set_text_content(None);
        let (noun, _, _) = nouns(entries.task);
        let count = entries.rows.len();
        for (i, (name, colour)) in entries.rows.iter().enumerate() {
            if let Ok(row) = self.row(noun, i, count, name, *colour, entries.task != Task::Instance) {
                let _ = self.rows.append_child(&row);
            }
        }
        if let Some(background) = entries.background {
            self.background.set_value(&hex(background));
        }
        self.shown.set(Some(entries.task));
    }

    /// One row: the word, its colour, and (where the task has several) up, down and remove.
    fn row(&self, noun: &str, i: usize, count: usize, name: &str, colour: Option<Rgb8>, movable: bool) -> Result<Element, JsValue> {
        let d = &self.document;
        let item = d.create_element("li")?;
        item.set_class_name("builder-row");
        item.set_attribute("data-row", &i.to_string())?;
        let n = i + 1;
        let word: HtmlInputElement = d.create_element("input")?.dyn_into()?;
        word.set_type("text");
        word.set_class_name("builder-word");
        word.set_value(name);
        word.set_attribute("aria-label", &format!("{noun} {n}"))?;
        word.set_attribute("spellcheck", "false")?;
        item.append_child(&word)?;
        if let Some(colour) = colour {
            let input: HtmlInputElement = d.create_element("input")?.dyn_into()?;
            input.set_type("color");
            input.set_class_name("builder-colour");
            input.set_value(&hex(colour));
            input.set_attribute("aria-label", &format!("Colour of {} {n}", noun.to_lowercase()))?;
            item.append_child(&input)?;
        }
        if movable {
            let lower = noun.to_lowercase();
            for (action, text, label, disabled) in [
                ("up", "↑", format!("Move {lower} {n} up"), i == 0),
                ("down", "↓", format!("Move {lower} {n} down"), i + 1 == count),
                ("remove", "✕", format!("Remove {lower} {n}"), count == 1),
            ] {
                let button = d.create_element("button")?;
                button.set_attribute("type", "button")?;
                button.set_attribute("data-action", action)?;
                button.set_attribute("aria-label", &label)?;
                button.set_attribute("title", &label)?;
                if disabled {
                    button.set_attribute("disabled", "")?;
                }
                button.set_text_content(Some(text));
                item.append_child(&button)?;
            }
        }
        let offers = d.create_element("span")?;
        offers.set_class_name("builder-suggest");
        item.append_child(&offers)?;
        Ok(item)
    }

    /// Focuses the control `selector` of row `i` (after the rows were rebuilt), or a fallback.
    fn focus(&self, i: usize, selectors: &[&str]) {
        let Ok(Some(item)) = self.rows.query_selector(&format!(":scope > li[data-row=\"{i}\"]")) else { return };
        for selector in selectors {
            let found = item.query_selector(selector).ok().flatten().and_then(|e| e.dyn_into::<HtmlElement>().ok());
            if let Some(control) = found.filter(|c| !c.has_attribute("disabled")) {
                let _ = control.focus();
                return;
            }
        }
    }

    /// A row's button: move it, remove it.
    fn act(&self, action: &str, i: usize) {
        let Some(mut entries) = self.read() else { return };
        let count = entries.rows.len();
        match action {
            "up" if i > 0 && i < count => entries.rows.swap(i - 1, i),
            "down" if i + 1 < count => entries.rows.swap(i, i + 1),
            "remove" if count > 1 && i < count => {
                entries.rows.remove(i);
            }
            _ => return,
        }
        self.render(&entries);
        self.write(&entries);
        match action {
            "up" => self.focus(i - 1, &["[data-action=up]", "[data-action=down]"]),
            "down" => self.focus(i + 1, &["[data-action=down]", "[data-action=up]"]),
            _ => self.focus(i.min(entries.rows.len().saturating_sub(1)), &["[data-action=remove]", ".builder-word"]),
        }
    }

    fn add_row(&self) {
        let Some(mut entries) = self.read() else { return };
        if entries.task == Task::Instance {
            return;
        }
        let colour = entries.unused_colour();
        entries.rows.push((String::new(), Some(colour)));
        self.render(&entries);
        self.write(&entries);
        self.focus(entries.rows.len() - 1, &[".builder-word"]);
    }

    /// Beside each row holding a word the model refused: the known words nearest to it, as the
    /// buttons `suggestions` makes (a click swaps the word in the prompt, and so in the row).
    /// Empty clears them.
    pub(super) fn mark_refused(&self, refused: &[WordSuggestion]) {
        let Ok(items) = self.rows.query_selector_all(":scope > li") else { return };
        for i in 0..items.length() {
            let Some(item) = items.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
            let Some(word) = input_in(&item, ".builder-word") else { continue };
            let Ok(Some(offers)) = item.query_selector(".builder-suggest") else { continue };
            offers.set_text_content(None);
            let value = word.value().to_ascii_lowercase();
            let words: Vec<&str> = value.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
            let mut marked = false;
            for suggestion in refused.iter().filter(|s| words.contains(&s.word.as_str())) {
                suggestions::offer(&self.document, &offers, suggestion);
                marked = true;
            }
            let _ = match marked {
                true => word.set_attribute("aria-invalid", "true"),
                false => word.remove_attribute("aria-invalid"),
            };
        }
    }
}

fn input_in(item: &Element, selector: &str) -> Option<HtmlInputElement> {
    item.query_selector(selector).ok().flatten()?.dyn_into().ok()
}

/// Wires the rows, the add button and the background colour to the text, and the text to the
/// rows; shows the rows for the task selected now.
pub(super) fn wire(builder: &Rc<Builder>) {
    let on_text = builder.clone();
    listen::<Event>(&builder.prompt, "input", move |_| {
        if !on_text.writing.get() {
            on_text.show_text();
        }
    });
    // A word typed or a colour picked: the rows stay, the text follows.
    let on_edit = builder.clone();
    listen::<Event>(&builder.rows, "input", move |_| {
        if let Some(entries) = on_edit.read() {
            on_edit.write(&entries);
        }
    });
    let on_background = builder.clone();
    listen::<Event>(&builder.background, "input", move |_| {
        if let Some(entries) = on_background.read() {
            on_background.write(&entries);
        }
    });
    let on_click = builder.clone();
    listen::<Event>(&builder.rows, "click", move |event| {
        let Some(button) = event.target().and_then(|t| t.dyn_into::<Element>().ok()).and_then(|e| e.closest("[data-action]").ok().flatten())
        else {
            return;
        };
        let row = button.closest("li[data-row]").ok().flatten().and_then(|li| li.get_attribute("data-row")).and_then(|v| v.parse().ok());
        if let (Some(action), Some(row)) = (button.get_attribute("data-action"), row) {
            on_click.act(&action, row);
        }
    });
    let on_add = builder.clone();
    listen::<Event>(&builder.add, "click", move |_| on_add.add_row());
    builder.show_text();
}
