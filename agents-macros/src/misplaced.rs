//! The span to report a macro placed on the wrong kind of item: the item's
//! name, not the whole item.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;

/// The name of the item `tokens` declare (`Helper` in `enum Helper {..}`),
/// or the whole item when it has none or does not parse.
pub(crate) fn item_span(tokens: &TokenStream) -> Span {
    let Ok(item) = syn::parse2::<syn::Item>(tokens.clone()) else {
        return tokens.span();
    };
    match &item {
        syn::Item::Enum(e) => e.ident.span(),
        syn::Item::Struct(s) => s.ident.span(),
        syn::Item::Union(u) => u.ident.span(),
        syn::Item::Fn(f) => f.sig.ident.span(),
        syn::Item::Trait(t) => t.ident.span(),
        syn::Item::Type(t) => t.ident.span(),
        syn::Item::Const(c) => c.ident.span(),
        syn::Item::Static(s) => s.ident.span(),
        syn::Item::Mod(m) => m.ident.span(),
        other => other.span(),
    }
}
