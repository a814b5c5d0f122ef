//! Under a refused prompt, the known words nearest each unknown one, as buttons; choosing one
//! puts it in the prompt in place of the unknown word and paints again.

use super::{Page, Shared, listen};
use crate::WordSuggestion;
use wasm_bindgen::prelude::*;
use web_sys::{Event, HtmlTextAreaElement};

impl Page {
    /// Under a refused prompt: a button per known word near each unknown one; a click puts it
    /// in the prompt in place of the unknown word and paints again. Empty hides the row.
    pub(super) fn offer_words(&self, suggestions: &[WordSuggestion]) {
        let row = &self.el.suggestions;
        row.set_text_content(None);
        let mut offered = false;
        for suggestion in suggestions {
            let Ok(label) = self.document.create_element("span") else { continue };
            label.set_text_content(Some(&match suggestion.nearest.is_empty() {
                true => format!("No known word is close to “{}”: try another word.", suggestion.word),
                false => format!("Instead of “{}”:", suggestion.word),
            }));
            let _ = row.append_child(&label);
            for word in &suggestion.nearest {
                let Ok(button) = self.document.create_element("button") else { continue };
                let _ = button.set_attribute("type", "button");
                let _ = button.set_attribute("data-unknown", &suggestion.word);
                let _ = button.set_attribute("data-word", word);
                button.set_text_content(Some(word));
                let _ = row.append_child(&button);
                offered = true;
            }
        }
        row.set_hidden(suggestions.is_empty());
        if offered {
            let _ = row.set_attribute("aria-label", "Known words near the unknown ones: choose one to paint with it");
        }
    }
}

/// A suggested word replaces the unknown one in the prompt (kept as this task's edit) and paints.
pub(super) fn wire(page: &Shared, prompt: &HtmlTextAreaElement) {
    let (on_pick, prompt) = (page.clone(), prompt.clone());
    listen::<Event>(&page.borrow().el.suggestions.clone(), "click", move |event| {
        let Some(button) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let (Some(unknown), Some(word)) = (button.get_attribute("data-unknown"), button.get_attribute("data-word")) else { return };
        prompt.set_value(&peel_protocol::prompt::replace_word(&prompt.value(), &unknown, &word));
        // As if typed: the task keeps this edit.
        if let Ok(input) = Event::new("input") {
            let _ = prompt.dispatch_event(&input);
        }
        on_pick.borrow_mut().repaint();
    });
}
