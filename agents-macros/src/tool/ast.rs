//! The IR of a `#[tool]` function, keeping the user's spans.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Type};

use crate::docs::doc_text;

/// How the function receives the run context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContextKind {
    /// `&RunContext<C>`.
    RunContext,
    /// `&C`.
    Plain,
}

/// The context parameter.
pub(crate) struct ContextParam {
    pub(crate) kind: ContextKind,
    /// `C`.
    pub(crate) ty: Type,
    /// Position among the parameters.
    pub(crate) index: usize,
    /// The whole parameter, for error spans.
    pub(crate) span: Span,
    pub(crate) mutable: Option<Span>,
}

/// One argument the model supplies.
pub(crate) struct Arg {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// `#[doc]`, `#[serde]` and `#[schemars]` attributes, moved to the
    /// arguments struct's field.
    pub(crate) field_attrs: Vec<Attribute>,
}

/// What the function returns.
pub(crate) enum Output {
    /// Nothing (`()`).
    Unit,
    /// A value sent as the output.
    Value(Type),
    /// `Result<T, E>` (any type whose last path segment is `Result`).
    Result(Type),
}

/// A parameter that is neither a context reference nor a plain `ident: Type`.
pub(crate) struct BadParam {
    pub(crate) span: Span,
    pub(crate) message: &'static str,
}

/// The function as `#[tool]` sees it.
pub(crate) struct ToolFn {
    pub(crate) ident: Ident,
    pub(crate) description: Option<String>,
    pub(crate) contexts: Vec<ContextParam>,
    pub(crate) args: Vec<Arg>,
    pub(crate) output: Output,
    pub(crate) bad_params: Vec<BadParam>,
    /// The function as it will be emitted (parameter attributes removed).
    pub(crate) item: ItemFn,
}

impl ToolFn {
    pub(crate) fn from_syn(function: &ItemFn) -> syn::Result<Self> {
        let mut contexts = Vec::new();
        let mut args = Vec::new();
        let mut bad_params = Vec::new();
        for (index, input) in function.sig.inputs.iter().enumerate() {
            let FnArg::Typed(param) = input else {
                bad_params.push(BadParam {
                    span: input.span(),
                    message: "`#[tool]` cannot be used on a method: tools are free functions; move the body into a free `fn` and pass what `self` held through the run context",
                });
                continue;
            };
            if let Type::Reference(reference) = &*param.ty {
                let (kind, ty) = match context_type(&reference.elem) {
                    Some(inner) => (ContextKind::RunContext, inner),
                    None => (ContextKind::Plain, (*reference.elem).clone()),
                };
                contexts.push(ContextParam {
                    kind,
                    ty,
                    index,
                    span: param.span(),
                    mutable: reference.mutability.map(|m| m.span()),
                });
                continue;
            }
            if let Type::ImplTrait(impl_trait) = &*param.ty {
                bad_params.push(BadParam {
                    span: impl_trait.span(),
                    message: "`impl Trait` arguments are not supported: the model sends JSON, so name a concrete type that implements `Deserialize` and `JsonSchema`",
                });
                continue;
            }
            let ident = match &*param.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    pat.ident.clone()
                }
                other => {
                    bad_params.push(BadParam {
                        span: other.span(),
                        message: "tool parameters must be plain names (`order_id: String`): the name is the JSON field the model fills in; destructure inside the body",
                    });
                    continue;
                }
            };
            let field_attrs = param
                .attrs
                .iter()
                .filter(|a| {
                    a.path().is_ident("doc")
                        || a.path().is_ident("serde")
                        || a.path().is_ident("schemars")
                })
                .cloned()
                .collect();
            args.push(Arg {
                ident,
                ty: (*param.ty).clone(),
                field_attrs,
            });
        }
        let output = match &function.sig.output {
            ReturnType::Default => Output::Unit,
            ReturnType::Type(_, ty) if is_result(ty) => Output::Result((**ty).clone()),
            ReturnType::Type(_, ty) => Output::Value((**ty).clone()),
        };
        let mut item = function.clone();
        strip_param_attrs(&mut item);
        Ok(ToolFn {
            ident: function.sig.ident.clone(),
            description: doc_text(&function.attrs),
            contexts,
            args,
            output,
            bad_params,
            item,
        })
    }
}

/// Removes the attributes of every parameter that `#[tool]` consumes
/// (`#[doc]`, `#[serde]`, `#[schemars]`): rustc rejects doc comments on
/// parameters.
pub(crate) fn strip_param_attrs(function: &mut ItemFn) {
    for input in &mut function.sig.inputs {
        if let FnArg::Typed(param) = input {
            param.attrs.retain(|a| {
                !(a.path().is_ident("doc")
                    || a.path().is_ident("serde")
                    || a.path().is_ident("schemars"))
            });
        }
    }
}

/// `C` when `ty` is `RunContext<C>` (by any path ending in `RunContext`).
pub(crate) fn context_type(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "RunContext" {
        return None;
    }
    let PathArguments::AngleBracketed(generics) = &last.arguments else {
        return None;
    };
    generics.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    })
}

fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Result"),
        _ => false,
    }
}
