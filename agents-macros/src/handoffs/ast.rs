//! The IR of a `#[derive(Handoffs)]` enum.

use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitStr, Path, Type};

use crate::docs::doc_text;
use crate::keys;

const VARIANT_KEYS: &str = "`description`, `tool_name`, `input_filter`, `on_handoff`, `input`";

/// The enum.
pub(crate) struct Route {
    pub(crate) ident: Ident,
    /// `#[handoffs(context = C)]`: makes the impl concrete (needed by
    /// `on_handoff` callbacks, which take `&RunContext<C>`).
    pub(crate) context: Option<Type>,
    pub(crate) krate: Option<Path>,
    pub(crate) variants: Vec<Variant>,
}

/// One variant: a handoff to the agent type it wraps.
pub(crate) struct Variant {
    pub(crate) ident: Ident,
    pub(crate) agent: Type,
    pub(crate) doc: Option<String>,
    pub(crate) description: Option<LitStr>,
    pub(crate) tool_name: Option<LitStr>,
    pub(crate) input_filter: Option<Path>,
    pub(crate) on_handoff: Option<Path>,
    pub(crate) input: Option<Type>,
}

impl Route {
    pub(crate) fn from_syn(input: &DeriveInput) -> syn::Result<Self> {
        let mut errors = Vec::new();
        let Data::Enum(data) = &input.data else {
            return Err(syn::Error::new(
                input.ident.span(),
                "`#[derive(Handoffs)]` goes on an enum whose variants each wrap an agent type: `enum Route { Billing(Billing) }`",
            ));
        };
        if !input.generics.params.is_empty() {
            errors.push(syn::Error::new_spanned(
                &input.generics,
                "a handoffs enum cannot be generic",
            ));
        }
        let (context, krate) = enum_attrs(&input.attrs, &mut errors);
        let mut variants = Vec::new();
        for variant in &data.variants {
            let agent = match &variant.fields {
                Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                    fields.unnamed[0].ty.clone()
                }
                _ => {
                    errors.push(syn::Error::new(
                        variant.span(),
                        format!(
                            "each variant wraps exactly one agent type: `{}(MyAgent)`",
                            variant.ident
                        ),
                    ));
                    continue;
                }
            };
            let mut parsed = Variant {
                ident: variant.ident.clone(),
                agent,
                doc: doc_text(&variant.attrs),
                description: None,
                tool_name: None,
                input_filter: None,
                on_handoff: None,
                input: None,
            };
            variant_attrs(&variant.attrs, &mut parsed, &mut errors);
            if parsed.input.is_some() && parsed.on_handoff.is_none() {
                errors.push(syn::Error::new_spanned(
                    parsed.input.as_ref(),
                    "`input` is given to `on_handoff`; add `on_handoff = my_fn` taking `(&RunContext<C>, Input)`",
                ));
            }
            if parsed.on_handoff.is_some() && context.is_none() {
                errors.push(syn::Error::new_spanned(
                    parsed.on_handoff.as_ref(),
                    "`on_handoff` callbacks take the run context: name its type on the enum with `#[handoffs(context = MyContext)]`",
                ));
            }
            variants.push(parsed);
        }
        if data.variants.is_empty() {
            errors.push(syn::Error::new(
                input.ident.span(),
                "a handoffs enum needs at least one variant",
            ));
        }
        match keys::combine(errors) {
            Some(error) => Err(error),
            None => Ok(Route {
                ident: input.ident.clone(),
                context,
                krate,
                variants,
            }),
        }
    }
}

fn enum_attrs(attrs: &[Attribute], errors: &mut Vec<syn::Error>) -> (Option<Type>, Option<Path>) {
    let mut context = None;
    let mut krate = None;
    for pair in keys::attr_pairs(attrs, "handoffs", errors) {
        match pair.key.to_string().as_str() {
            "context" => match syn::parse2::<Type>(pair.value) {
                Ok(ty) => context = Some(ty),
                Err(error) => errors.push(error),
            },
            "crate" => match syn::parse2::<Path>(pair.value) {
                Ok(path) => krate = Some(path),
                Err(error) => errors.push(error),
            },
            other => errors.push(syn::Error::new(
                pair.key.span(),
                format!("unknown `#[handoffs]` key `{other}`; expected one of: `context`, `crate`"),
            )),
        }
    }
    (context, krate)
}

fn variant_attrs(attrs: &[Attribute], variant: &mut Variant, errors: &mut Vec<syn::Error>) {
    for pair in keys::attr_pairs(attrs, "handoff", errors) {
        let key = pair.key.to_string();
        let result = match key.as_str() {
            "description" => syn::parse2(pair.value).map(|v| variant.description = Some(v)),
            "tool_name" => syn::parse2(pair.value).map(|v| variant.tool_name = Some(v)),
            "input_filter" => syn::parse2(pair.value).map(|v| variant.input_filter = Some(v)),
            "on_handoff" => syn::parse2(pair.value).map(|v| variant.on_handoff = Some(v)),
            "input" => syn::parse2(pair.value).map(|v| variant.input = Some(v)),
            _ => Err(syn::Error::new(
                pair.key.span(),
                crate::keys::unknown_key("#[handoff]", &key.to_string(), VARIANT_KEYS),
            )),
        };
        if let Err(error) = result {
            errors.push(error);
        }
    }
}
