//! Parsing `#[tool(...)]`'s keys.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitBool, LitStr, Meta, Token};

const KEYS: &str = "`name`, `description`, `strict`, `needs_approval`, `blocking`, `crate`";

/// The keys of `#[tool(...)]`, each with its span.
#[derive(Default)]
pub(crate) struct ToolAttr {
    pub(crate) name: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) strict: Option<LitBool>,
    pub(crate) needs_approval: Option<LitBool>,
    pub(crate) blocking: Option<LitBool>,
    pub(crate) krate: Option<syn::Path>,
}

/// Parses the keys, reporting every bad key at once.
#[cfg(test)]
pub(crate) fn parse(tokens: TokenStream) -> syn::Result<ToolAttr> {
    match parse_partial(tokens) {
        (attr, None) => Ok(attr),
        (_, Some(errors)) => Err(errors),
    }
}

/// Parses the keys: the valid ones, and every error.
pub(crate) fn parse_partial(tokens: TokenStream) -> (ToolAttr, Option<syn::Error>) {
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(metas) => metas,
        Err(error) => return (ToolAttr::default(), Some(error)),
    };
    let mut attr = ToolAttr::default();
    let mut errors: Option<syn::Error> = None;
    let mut push = |error: syn::Error| match &mut errors {
        Some(all) => all.combine(error),
        None => errors = Some(error),
    };
    for meta in metas {
        let key = meta
            .path()
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_else(|| {
                meta.path()
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::")
            });
        let result = match key.as_str() {
            "name" => string(&meta).and_then(|v| set(&mut attr.name, v, &meta, "name")),
            "description" => {
                string(&meta).and_then(|v| set(&mut attr.description, v, &meta, "description"))
            }
            "strict" => flag(&meta).and_then(|v| set(&mut attr.strict, v, &meta, "strict")),
            "needs_approval" => {
                flag(&meta).and_then(|v| set(&mut attr.needs_approval, v, &meta, "needs_approval"))
            }
            "blocking" => flag(&meta).and_then(|v| set(&mut attr.blocking, v, &meta, "blocking")),
            "crate" => path(&meta).and_then(|v| set(&mut attr.krate, v, &meta, "crate")),
            _ => Err(syn::Error::new_spanned(
                meta.path(),
                crate::keys::unknown_key("#[tool]", &key.to_string(), KEYS),
            )),
        };
        if let Err(error) = result {
            push(error);
        }
    }
    (attr, errors)
}

fn set<T>(slot: &mut Option<T>, value: T, meta: &Meta, key: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new_spanned(
            meta.path(),
            format!("duplicate `{key}` key; give it once"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

fn string(meta: &Meta) -> syn::Result<LitStr> {
    let key = meta
        .path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Ok(text.clone()),
            other => Err(syn::Error::new_spanned(
                other,
                format!("`{key}` takes a string literal: `{key} = \"...\"`"),
            )),
        },
        _ => Err(syn::Error::new_spanned(
            meta,
            format!("`{key}` takes a string literal: `{key} = \"...\"`"),
        )),
    }
}

fn flag(meta: &Meta) -> syn::Result<LitBool> {
    let key = meta
        .path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    match meta {
        Meta::Path(path) => Ok(LitBool::new(
            true,
            path.get_ident()
                .map_or_else(proc_macro2::Span::call_site, |i| i.span()),
        )),
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Bool(value),
                ..
            }) => Ok(value.clone()),
            other => Err(syn::Error::new_spanned(
                other,
                format!("`{key}` takes `true` or `false`: `{key} = true`"),
            )),
        },
        Meta::List(list) => Err(syn::Error::new_spanned(
            list,
            format!("`{key}` takes `true` or `false`: `{key} = true`"),
        )),
    }
}

fn path(meta: &Meta) -> syn::Result<syn::Path> {
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Path(path) => Ok(path.path.clone()),
            other => Err(syn::Error::new_spanned(
                other,
                "`crate` takes a path: `crate = ::my_agents`",
            )),
        },
        _ => Err(syn::Error::new_spanned(
            meta,
            "`crate` takes a path: `crate = ::my_agents`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn parses_every_key() {
        let attr = parse(quote!(
            name = "find",
            description = "Finds.",
            strict = false,
            needs_approval,
            crate = ::my_agents
        ))
        .unwrap();
        assert_eq!(attr.name.unwrap().value(), "find");
        assert_eq!(attr.description.unwrap().value(), "Finds.");
        assert!(!attr.strict.unwrap().value);
        assert!(attr.needs_approval.unwrap().value);
        assert!(attr.krate.is_some());
    }

    #[test]
    fn reports_every_bad_key() {
        let Err(error) = parse(quote!(nme = "x", strict = "yes", name = "a", name = "b")) else {
            panic!("expected errors");
        };
        let messages: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(
            messages,
            [
                "unknown `#[tool]` key `nme`: did you mean `name`?".to_owned(),
                "`strict` takes `true` or `false`: `strict = true`".to_owned(),
                "duplicate `name` key; give it once".to_owned(),
            ]
        );
    }
}
#[cfg(test)]
mod more_tests {
    use quote::quote;

    #[test]
    fn two_bad_values() {
        let Err(error) = super::parse(quote!(strict = "yes", name = 3)) else {
            panic!("expected errors");
        };
        assert_eq!(error.into_iter().count(), 2);
    }
}
