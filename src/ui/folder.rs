//! Folders (issue 34): placeholder until the folder run lands.

use super::{Page, Reply, Shared};

pub(super) struct Run;

pub(super) fn prompt(_page: &Page) -> String {
    String::new()
}
pub(super) fn painted(_page: &mut Page, _i: usize, _reply: &Reply) {}
pub(super) fn failed(_page: &mut Page, _i: usize, _message: &str) {}
pub(super) fn stop(_page: &mut Page, _why: &str) {}
pub(super) fn wire(_page: &Shared) {}
