//! Under a refused prompt, the known words nearest each unknown one, as buttons; choosing one
//! puts it in the prompt in place of the unknown word and paints again. The prompt builder shows
//! the same buttons beside the row that holds the unknown word.

use super::{Page, Shared, listen};
use crate::WordSuggestion;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, HtmlElement, HtmlTextAreaElement};

impl Page {
    /// Under a refused prompt: a button per known word near each unknown one; a click puts it
    /// in the prompt in place of the unknown word and paints again. Empty hides the row (and
    /// clears the builder rows' words).
    pub(super) fn offer_words(&self, suggestions: &[WordSuggestion]) {
        let row = &self.el.suggestions;
        row.set_text_content(None);
        let mut offered = false;
        for suggestion in suggestions {
            offered |= offer(&self.document, row, suggestion);
        }
        row.set_hidden(suggestions.is_empty());
        if offered {
            let _ = row.set_attribute("aria-label", "Known words near the unknown ones: choose one to paint with it");
        }
        self.builder.mark_refused(suggestions);
    }
}

/// Appends to `container` what to say about one unknown word and a button per known word near
/// it (its `data-unknown` and `data-word` are what [`wire`]'s handler swaps); returns whether it
/// added a button.
pub(super) fn offer(document: &Document, container: &Element, suggestion: &WordSuggestion) -> bool {
    let mut offered = false;
    if let Ok(label) = document.create_element("span") {
        label.set_text_content(Some(&match suggestion.nearest.is_empty() {
            true => format!("No known word is close to “{}”: try another word.", suggestion.word),
            false => format!("Instead of “{}”:", suggestion.word),
        }));
        let _ = container.append_child(&label);
    }
    for word in &suggestion.nearest {
        let Ok(button) = document.create_element("button") else { continue };
        let _ = button.set_attribute("type", "button");
        let _ = button.set_attribute("data-unknown", &suggestion.word);
        let _ = button.set_attribute("data-word", word);
        button.set_text_content(Some(word));
        let _ = container.append_child(&button);
        offered = true;
    }
    offered
}

/// A suggested word (a button in any of `containers`) replaces the unknown one in the prompt
/// (kept as this task's edit) and paints.
pub(super) fn wire(page: &Shared, prompt: &HtmlTextAreaElement, containers: &[HtmlElement]) {
    for container in containers {
        let (on_pick, prompt) = (page.clone(), prompt.clone());
        listen::<Event>(container, "click", move |event| {
            let Some(button) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
            let (Some(unknown), Some(word)) = (button.get_attribute("data-unknown"), button.get_attribute("data-word")) else { return };
            // A builder row's button goes when the rows follow the text: its row's word keeps the focus.
            let row = button.closest("li[data-row]").ok().flatten().and_then(|li| li.get_attribute("data-row"));
            prompt.set_value(&peel_protocol::prompt::replace_word(&prompt.value(), &unknown, &word));
            // As if typed: the task keeps this edit (and the builder's rows follow).
            if let Ok(input) = Event::new("input") {
                let _ = prompt.dispatch_event(&input);
            }
            if let Some(row) = row.filter(|_| !button.is_connected()) {
                let selector = format!("#builder-rows > li[data-row=\"{row}\"] .builder-word");
                let word = on_pick.borrow().document.query_selector(&selector).ok().flatten();
                if let Some(word) = word.and_then(|w| w.dyn_into::<HtmlElement>().ok()) {
                    let _ = word.focus();
                }
            }
            on_pick.borrow_mut().repaint();
        });
    }
}
