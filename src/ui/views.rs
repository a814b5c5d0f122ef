//! The views of a painting, as tabs beside the controls: the painting over the photo (with its
//! readout and summary), the photo effect, the 3D view and the downloads. A view is drawn when it
//! is opened, not on every paint, so a paint pays only for what is on screen. Beside them, the
//! studio's views of more than one painting: "Paint everything"'s grid, a folder's run and the
//! history kept on this device. The tabs follow
//! the WAI-ARIA tabs pattern: one tab in the Tab order, arrow keys, Home and End move between them.

use super::{Page, Shared, Values, effects, element, exports, history, listen, view3d};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent, MouseEvent};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum View {
    Painting,
    Effect,
    ThreeD,
    Downloads,
    Everything,
    Folder,
    History,
}

impl View {
    const ALL: [View; 7] = [View::Painting, View::Effect, View::ThreeD, View::Downloads, View::Everything, View::Folder, View::History];

    fn tab(self) -> &'static str {
        match self {
            View::Painting => "tab-painting",
            View::Effect => "tab-effect",
            View::ThreeD => "tab-3d",
            View::Downloads => "tab-downloads",
            View::Everything => "tab-everything",
            View::Folder => "tab-folder",
            View::History => "tab-history",
        }
    }

    fn panel(self) -> &'static str {
        match self {
            View::Painting => "panel-painting",
            View::Effect => "effects",
            View::ThreeD => "view3d-panel",
            View::Downloads => "panel-downloads",
            View::Everything => "panel-everything",
            View::Folder => "panel-folder",
            View::History => "panel-history",
        }
    }

    /// Whether the view has anything to show on `page` (for most, the painting on screen).
    fn applies(self, page: &Page) -> bool {
        let values = page.painting.as_ref().map(|p| &p.values);
        match self {
            View::Painting => true,
            View::Effect => matches!(values, Some(Values::Depth(_) | Values::Normals(_))),
            View::ThreeD => matches!(values, Some(Values::Depth(_))),
            View::Downloads => values.is_some(),
            View::Everything => page.everything.is_some(),
            View::Folder | View::History => true,
        }
    }
}

/// Which view is open, and which are drawn for the painting on screen.
#[derive(Default)]
pub(super) struct Views {
    open: Option<View>,
    drawn: Vec<View>,
}

impl Views {
    fn open(&self) -> View {
        self.open.unwrap_or(View::Painting)
    }
}

/// A new painting is on screen: offers the views that apply to it and draws the open one (or
/// goes back to the painting if the open view no longer applies).
pub(super) fn painted(page: &mut Page) {
    page.views.drawn.clear();
    for view in View::ALL {
        element::<HtmlElement>(&page.document, view.tab()).set_hidden(!view.applies(page));
    }
    let open = page.views.open();
    open_view(page, if open.applies(page) { open } else { View::Painting });
}

/// Shows or hides each tab as its view applies now (a run of paintings began or ended).
pub(super) fn refresh_tabs(page: &mut Page) {
    for view in View::ALL {
        element::<HtmlElement>(&page.document, view.tab()).set_hidden(!view.applies(page));
    }
    if !page.views.open().applies(page) {
        open_view(page, View::Painting);
    }
}

/// Shows `view`'s panel (drawing it first if it is not drawn for this painting) and hides the others.
pub(super) fn open_view(page: &mut Page, view: View) {
    if !page.views.drawn.contains(&view) {
        match view {
            View::Painting => {}
            View::Effect => effects::show(page),
            View::ThreeD => view3d::show(page),
            View::Downloads => exports::show(page),
            View::Everything | View::Folder => {}
            // Read again each time it is opened: another tab of the page may have added to it.
            View::History => history::show(page),
        }
        if view != View::History {
            page.views.drawn.push(view);
        }
    }
    page.views.open = Some(view);
    for other in View::ALL {
        let selected = other == view;
        let tab: HtmlElement = element(&page.document, other.tab());
        let _ = tab.set_attribute("aria-selected", if selected { "true" } else { "false" });
        let _ = tab.set_attribute("tabindex", if selected { "0" } else { "-1" });
        element::<HtmlElement>(&page.document, other.panel()).set_hidden(!selected);
    }
}

/// Wires the tabs; call once at start-up.
pub(super) fn wire(page: &Shared) {
    let document = page.borrow().document.clone();
    for view in View::ALL {
        let on_click = page.clone();
        listen::<MouseEvent>(&element::<HtmlElement>(&document, view.tab()), "click", move |_| {
            open_view(&mut on_click.borrow_mut(), view);
        });
    }
    let on_key = page.clone();
    let Some(list) = document.query_selector("[role=tablist]").ok().flatten() else { return };
    listen::<KeyboardEvent>(&list, "keydown", move |event| {
        let mut page = on_key.borrow_mut();
        let offered: Vec<View> = View::ALL.into_iter().filter(|v| v.applies(&page)).collect();
        let Some(at) = offered.iter().position(|v| *v == page.views.open()) else { return };
        let next = match event.key().as_str() {
            "ArrowRight" => offered[(at + 1) % offered.len()],
            "ArrowLeft" => offered[(at + offered.len() - 1) % offered.len()],
            "Home" => offered[0],
            "End" => offered[offered.len() - 1],
            _ => return,
        };
        event.prevent_default();
        open_view(&mut page, next);
        if let Some(tab) = page.document.get_element_by_id(next.tab()).and_then(|t| t.dyn_into::<HtmlElement>().ok()) {
            let _ = tab.focus();
        }
    });
}
