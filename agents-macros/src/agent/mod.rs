//! `#[agent]`: attribute parsing → checks → code generation.

mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Expands `#[agent(attr)] item`. Every error of the attribute and the
/// struct is reported in one compile; beside them the struct and stub
/// impls stay, so other code naming it still resolves and checks.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new(
                crate::misplaced::item_span(&item),
                "`#[agent]` goes on a struct, e.g. `struct Billing;`",
            );
            // The item stays, so code naming it still resolves.
            let mut tokens = item;
            tokens.extend(error.to_compile_error());
            return tokens;
        }
    };
    let (attr, mut errors) = attr::parse(attr);
    errors.extend(check::check(&attr, &item));
    match crate::keys::combine(errors) {
        None => expand::expand(&attr, &item),
        Some(error) => {
            // The struct and stub impls stay beside the errors, so one
            // mistake is reported once, not again wherever the agent is
            // named.
            let mut tokens = item.to_token_stream();
            tokens.extend(expand::stubs(&attr, &item));
            tokens.extend(error.to_compile_error());
            tokens
        }
    }
}
