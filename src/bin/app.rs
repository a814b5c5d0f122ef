//! Entry point of the page's wasm module (see `peel_web::ui`).

fn main() {
    #[cfg(target_arch = "wasm32")]
    if let Err(e) = peel_web::ui::start() {
        web_sys::console::error_1(&e);
    }
}
