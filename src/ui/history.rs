//! The history on this device (issue 34): placeholder until it lands.

use super::{Page, Reply, Shared};

#[derive(Default)]
pub(super) struct History;

pub(super) fn keep(_page: &mut Page, _reply: &Reply) {}
pub(super) fn show(_page: &mut Page) {}
pub(super) fn wire(_page: &Shared) {}
