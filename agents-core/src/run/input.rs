use std::sync::Arc;

use crate::item::Item;

/// The input of a run: a user message or a list of items.
///
/// Converts from `&str` and `String` (one user message), an [`Item`],
/// `Vec<Item>`, and `Vec<Arc<Item>>` (e.g. a previous result's
/// [`to_input_list`](super::RunResult::to_input_list), shared, not copied).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInput(Vec<Arc<Item>>);

impl RunInput {
    /// The items.
    pub fn into_items(self) -> Vec<Arc<Item>> {
        self.0
    }
}

impl From<&str> for RunInput {
    fn from(text: &str) -> Self {
        RunInput(vec![Arc::new(Item::user(text))])
    }
}

impl From<String> for RunInput {
    fn from(text: String) -> Self {
        RunInput(vec![Arc::new(Item::user(text))])
    }
}

impl From<Item> for RunInput {
    fn from(item: Item) -> Self {
        RunInput(vec![Arc::new(item)])
    }
}

impl From<Vec<Item>> for RunInput {
    fn from(items: Vec<Item>) -> Self {
        RunInput(items.into_iter().map(Arc::new).collect())
    }
}

impl From<Vec<Arc<Item>>> for RunInput {
    fn from(items: Vec<Arc<Item>>) -> Self {
        RunInput(items)
    }
}
