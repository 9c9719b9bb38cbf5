//! `#[derive(Handoffs)]`: enum → IR (with checks) → code generation.

mod ast;
mod expand;

use proc_macro2::TokenStream;

/// Expands the derive. A derive cannot re-emit its input; on error only the
/// errors are emitted.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match ast::Route::from_syn(&input) {
        Ok(route) => expand::expand(&route),
        Err(error) => error.to_compile_error(),
    }
}
