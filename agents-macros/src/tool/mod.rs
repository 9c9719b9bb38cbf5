//! `#[tool]`: attribute parsing → IR → checks → code generation.

mod ast;
mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Expands `#[tool(attr)] item`. On error, re-emits the function (without
/// the parameter attributes rustc would reject) next to the errors, so the
/// function stays usable and no follow-on errors pile up.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new(
                crate::misplaced::item_span(&item),
                "`#[tool]` goes on a free function (`fn` or `async fn`)",
            );
            // The item stays, so code naming it still resolves.
            let mut tokens = item;
            tokens.extend(error.to_compile_error());
            return tokens;
        }
    };
    match try_expand(attr, &function) {
        Ok(tokens) => tokens,
        Err(error) => {
            ast::strip_param_attrs(&mut function);
            let mut tokens = function.to_token_stream();
            tokens.extend(error.to_compile_error());
            tokens
        }
    }
}

fn try_expand(attr: TokenStream, function: &syn::ItemFn) -> syn::Result<TokenStream> {
    let (attr, attr_errors) = attr::parse_partial(attr);
    let tool = ast::ToolFn::from_syn(function)?;
    let checked = check::check(&attr, &tool);
    match (attr_errors, checked) {
        (None, Ok(())) => Ok(expand::expand(&attr, &tool)),
        (Some(mut errors), Err(more)) => {
            errors.combine(more);
            Err(errors)
        }
        (Some(errors), Ok(())) | (None, Err(errors)) => Err(errors),
    }
}
