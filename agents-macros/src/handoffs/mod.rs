//! `#[derive(Handoffs)]`: enum → IR (with checks) → code generation.

mod ast;
mod expand;

use proc_macro2::TokenStream;

/// Expands the derive. Every error of the enum is reported in one
/// compile; beside them stub impls (no handoffs, no names), so an agent
/// naming the enum is not reported again.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match ast::Route::from_syn(&input) {
        Ok(route) => expand::expand(&route),
        Err(error) => {
            let mut tokens = stubs(&input);
            tokens.extend(error.to_compile_error());
            tokens
        }
    }
}

/// The impls an agent's `handoffs = Route` needs, empty: never used (the
/// crate does not compile), they keep one mistake from being reported
/// twice. Nothing for a generic type.
fn stubs(input: &syn::DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    quote::quote! {
        impl<__Ctx, __Out> ::agents_core::Handoffs<__Ctx, __Out> for #ident {
            fn handoffs() -> ::std::vec::Vec<::agents_core::Handoff<__Ctx, __Out>> {
                ::core::unreachable!("a mis-declared handoff enum: see its compile errors")
            }
        }

        impl ::agents_core::__private::HandoffNames for #ident {
            const NAMES: &'static [::agents_core::__private::HandoffName] = &[];
        }
    }
}
