//! Checks across the IR: everything a tool function must be.

use syn::spanned::Spanned;

use syn::Type;

use super::ast::{ToolFn, context_type};
use super::attr::ToolAttr;

/// Every problem with the function, combined into one error.
pub(crate) fn check(attr: &ToolAttr, tool: &ToolFn) -> syn::Result<()> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let sig = &tool.item.sig;

    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span(),
            "a tool cannot be a `const fn`; remove `const`",
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new(
            unsafety.span(),
            "a tool cannot be an `unsafe fn`: the model decides when it runs; make it safe and keep the `unsafe` block inside",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new(
            abi.span(),
            "a tool cannot have an `extern` ABI; remove it",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new(
            variadic.span(),
            "a tool cannot be variadic",
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(
            sig.generics.params.span(),
            "a tool cannot have generic parameters: its JSON schema is fixed at compile time; use concrete types",
        ));
    } else if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new(
            where_clause.span(),
            "a tool cannot have a `where` clause",
        ));
    }
    if let (Some(blocking), Some(asyncness)) = (&attr.blocking, &sig.asyncness) {
        if blocking.value {
            errors.push(syn::Error::new(
                blocking.span(),
                format!(
                    "`blocking` is for a plain `fn` doing blocking work; an `async fn` must not block: \
                     remove `blocking`, or remove `{}` and make it a plain `fn`",
                    quote::quote!(#asyncness)
                ),
            ));
        }
    }
    for bad in &tool.bad_params {
        errors.push(syn::Error::new(bad.span, bad.message));
    }

    for context in &tool.contexts {
        // A borrowed text or slice is an argument the author meant, not a
        // context: say what an argument is.
        let unsized_text = match &context.ty {
            Type::Path(path) => path.path.is_ident("str"),
            Type::Slice(_) => true,
            _ => false,
        };
        if unsized_text {
            errors.push(syn::Error::new(
                context.span,
                "tool arguments are owned values decoded from the model's JSON: take `String` (or `Vec<T>`), not a reference. \
                 Only the context is a reference (`&RunContext<C>` or `&C`, first)",
            ));
        }
    }
    for arg in &tool.args {
        if context_type(&arg.ty).is_some() {
            errors.push(syn::Error::new(
                arg.ty.span(),
                "take the run context by reference, as the first parameter: `ctx: &RunContext<C>`",
            ));
        }
    }
    let contexts = tool.contexts.iter().filter(|context| {
        !matches!(&context.ty, Type::Path(path) if path.path.is_ident("str"))
            && !matches!(&context.ty, Type::Slice(_))
    });
    for (n, context) in contexts.enumerate() {
        if n > 0 {
            errors.push(syn::Error::new(
                context.span,
                "a tool takes at most one context parameter; reach everything through the first one (`&RunContext<C>` or `&C`). Only context parameters may be references",
            ));
        } else if context.index != 0 {
            errors.push(syn::Error::new(
                context.span,
                "the context parameter (`&RunContext<C>` or `&C`) must be the first parameter; move it before the arguments. Only context parameters may be references",
            ));
        }
        if let Some(mutable) = context.mutable {
            errors.push(syn::Error::new(
                mutable,
                "the context parameter must be a shared reference (`&`): tool calls of one turn run concurrently; use interior mutability (`Mutex`, atomics) in the context",
            ));
        }
    }

    if tool.description.is_none() && attr.description.is_none() {
        errors.push(syn::Error::new(
            tool.ident.span(),
            format!(
                "tools need a description for the model: add a doc comment (`/// What `{}` does.`) or `#[tool(description = \"...\")]`",
                tool.ident
            ),
        ));
    }
    if let Some(name) = &attr.name {
        let value = name.value();
        let valid = !value.is_empty()
            && value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            errors.push(syn::Error::new(
                name.span(),
                "a tool name must be 1 to 64 characters among `a-z`, `A-Z`, `0-9`, `_` and `-` (OpenAI's function name rule)",
            ));
        }
    }

    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            for error in errors {
                first.combine(error);
            }
            Err(first)
        }
    }
}
