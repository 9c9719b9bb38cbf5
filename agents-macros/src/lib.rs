//! Procedural macros for `agents`. Use them through `agents_core`, which
//! re-exports them (`agents_core::tool`); this crate's paths are not stable.

use proc_macro::TokenStream;

mod docs;
mod tool;

/// Turns a plain function into a tool. See `agents_core::tool` (the macro)
/// for the full documentation.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand(attr.into(), item.into()).into()
}
