//! Parsing `#[agent(...)]`'s keys.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::{Lit, LitBool, LitInt, LitStr, Path, Token, Type};

use crate::keys::{self, KeyValue};

pub(crate) const KEYS: &str = "`name`, `instructions`, `tools`, `handoffs`, `context`, `output`, `convert_output`, `model`, `temperature`, `top_p`, `max_tokens`, `tool_choice`, `parallel_tool_calls`, `tool_use_behavior`, `stop_at_tools`, `input_guardrails`, `output_guardrails`, `tool_guardrails`, `hooks`, `handoff_description`, `crate`";

/// Where the instructions come from.
pub(crate) enum Instructions {
    /// `instructions = "..."`.
    Text(LitStr),
    /// `instructions = path`: `fn(&RunContext<C>) -> String`.
    Sync(Path),
    /// `instructions = async path`: `async fn(&RunContext<C>) -> String`.
    Async(Path),
}

/// The keys of `#[agent(...)]`, each with its span.
#[derive(Default)]
pub(crate) struct AgentAttr {
    pub(crate) name: Option<LitStr>,
    pub(crate) instructions: Option<Instructions>,
    pub(crate) tools: Vec<Path>,
    pub(crate) handoffs: Option<Type>,
    pub(crate) context: Option<Type>,
    pub(crate) output: Option<Type>,
    pub(crate) convert_output: Option<Type>,
    pub(crate) model: Option<LitStr>,
    pub(crate) temperature: Option<Lit>,
    pub(crate) top_p: Option<Lit>,
    pub(crate) max_tokens: Option<LitInt>,
    pub(crate) tool_choice: Option<LitStr>,
    pub(crate) parallel_tool_calls: Option<LitBool>,
    pub(crate) tool_use_behavior: Option<LitStr>,
    pub(crate) stop_at_tools: Vec<Path>,
    /// Functions returning guardrails or hooks, called when the agent is
    /// built.
    pub(crate) input_guardrails: Vec<Path>,
    pub(crate) output_guardrails: Vec<Path>,
    pub(crate) tool_guardrails: Vec<Path>,
    pub(crate) hooks: Vec<syn::Expr>,
    pub(crate) handoff_description: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    /// Keys seen, for duplicate detection.
    seen: Vec<String>,
}

/// Parses every key; returns what parsed and every error.
pub(crate) fn parse(tokens: TokenStream) -> (AgentAttr, Vec<syn::Error>) {
    let (pairs, mut errors) = keys::split(tokens);
    let mut attr = AgentAttr::default();
    for pair in pairs {
        let key = pair.key.to_string();
        if attr.seen.contains(&key) {
            errors.push(syn::Error::new(
                pair.key.span(),
                format!("duplicate `{key}` key; give it once"),
            ));
            continue;
        }
        attr.seen.push(key.clone());
        if let Err(error) = parse_pair(&mut attr, &key, &pair) {
            errors.push(error);
        }
    }
    (attr, errors)
}

fn parse_pair(attr: &mut AgentAttr, key: &str, pair: &KeyValue) -> syn::Result<()> {
    let value = pair.value.clone();
    // Every key takes a value.
    if value.is_empty() && KEYS.contains(&format!("`{key}`")) {
        return Err(syn::Error::new(
            pair.key.span(),
            format!("`{key}` needs a value: `{key} = ...`"),
        ));
    }
    match key {
        "name" => attr.name = Some(lit_str(value, key)?),
        "model" => attr.model = Some(lit_str(value, key)?),
        "handoff_description" => attr.handoff_description = Some(lit_str(value, key)?),
        "tool_choice" => attr.tool_choice = Some(lit_str(value, key)?),
        "tool_use_behavior" => attr.tool_use_behavior = Some(lit_str(value, key)?),
        "instructions" => attr.instructions = Some(instructions(value)?),
        "tools" => attr.tools = path_list(value, key)?,
        "stop_at_tools" => attr.stop_at_tools = path_list(value, key)?,
        "input_guardrails" => attr.input_guardrails = path_list(value, key)?,
        "output_guardrails" => attr.output_guardrails = path_list(value, key)?,
        "tool_guardrails" => attr.tool_guardrails = path_list(value, key)?,
        "hooks" => attr.hooks = hooks_list(value)?,
        "handoffs" => attr.handoffs = Some(ty(value, key)?),
        "context" => attr.context = Some(ty(value, key)?),
        "output" => attr.output = Some(ty(value, key)?),
        "convert_output" => attr.convert_output = Some(ty(value, key)?),
        "temperature" => attr.temperature = Some(number(value, key)?),
        "top_p" => attr.top_p = Some(number(value, key)?),
        "max_tokens" => {
            attr.max_tokens = Some(syn::parse2::<LitInt>(value).map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "`max_tokens` takes an integer: `max_tokens = 512`",
                )
            })?)
        }
        "parallel_tool_calls" => {
            attr.parallel_tool_calls = Some(syn::parse2::<LitBool>(value).map_err(|e| {
                syn::Error::new(e.span(), "`parallel_tool_calls` takes `true` or `false`")
            })?)
        }
        "crate" => {
            attr.krate = Some(syn::parse2::<Path>(value).map_err(|e| {
                syn::Error::new(e.span(), "`crate` takes a path: `crate = ::my_agents`")
            })?)
        }
        _ => {
            return Err(syn::Error::new(
                pair.key.span(),
                crate::keys::unknown_key("#[agent]", key, KEYS),
            ));
        }
    }
    Ok(())
}

fn lit_str(value: TokenStream, key: &str) -> syn::Result<LitStr> {
    syn::parse2::<LitStr>(value.clone()).map_err(|_| {
        syn::Error::new_spanned(
            value,
            format!("`{key}` takes a string literal: `{key} = \"...\"`"),
        )
    })
}

fn ty(value: TokenStream, key: &str) -> syn::Result<Type> {
    syn::parse2::<Type>(value.clone()).map_err(|_| {
        syn::Error::new_spanned(value, format!("`{key}` takes a type: `{key} = MyType`"))
    })
}

fn number(value: TokenStream, key: &str) -> syn::Result<Lit> {
    match syn::parse2::<Lit>(value.clone()) {
        Ok(lit @ (Lit::Float(_) | Lit::Int(_))) => Ok(lit),
        _ => Err(syn::Error::new_spanned(
            value,
            format!("`{key}` takes a number: `{key} = 0.2`"),
        )),
    }
}

fn path_list(value: TokenStream, key: &str) -> syn::Result<Vec<Path>> {
    let group = match syn::parse2::<syn::ExprArray>(value.clone()) {
        Ok(array) => array,
        Err(_) => {
            return Err(syn::Error::new_spanned(
                value,
                format!(
                    "`{key}` takes a list of `#[tool]` functions: `{key} = [lookup_order, refund]`"
                ),
            ));
        }
    };
    let mut paths = Vec::new();
    for element in group.elems {
        match element {
            syn::Expr::Path(path) => paths.push(path.path),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!("`{key}` lists {} by name", list_items(key)),
                ));
            }
        }
    }
    Ok(paths)
}

/// `hooks = [..]`: functions returning hooks (by name, called when the
/// agent is built), or hooks values (a unit struct, a struct literal, a
/// call); not literals.
fn hooks_list(value: TokenStream) -> syn::Result<Vec<syn::Expr>> {
    let Ok(group) = syn::parse2::<syn::ExprArray>(value.clone()) else {
        return Err(syn::Error::new_spanned(
            value,
            "`hooks` takes a list: `hooks = [audit, Metrics]`",
        ));
    };
    group
        .elems
        .into_iter()
        .map(|element| match element {
            syn::Expr::Lit(literal) => Err(syn::Error::new_spanned(
                literal,
                "`hooks` lists functions returning hooks (`fn() -> impl RunHooks<C>`) or hooks values (`Audit`, `Audit { .. }`), not literals",
            )),
            other => Ok(other),
        })
        .collect()
}

fn list_items(key: &str) -> &'static str {
    match key {
        "tools" | "stop_at_tools" => "`#[tool]` functions",
        "hooks" => "functions returning hooks (`fn() -> impl RunHooks<C>`)",
        _ => "functions returning guardrails (`fn() -> InputGuardrail<C>`, ...)",
    }
}

fn instructions(value: TokenStream) -> syn::Result<Instructions> {
    if let Ok(text) = syn::parse2::<LitStr>(value.clone()) {
        return Ok(Instructions::Text(text));
    }
    let parser = |input: syn::parse::ParseStream<'_>| {
        let asyncness: Option<Token![async]> = input.parse()?;
        let path: Path = input.parse()?;
        Ok((asyncness.is_some(), path))
    };
    match parser.parse2(value.clone()) {
        Ok((true, path)) => Ok(Instructions::Async(path)),
        Ok((false, path)) => Ok(Instructions::Sync(path)),
        Err(_) => Err(syn::Error::new_spanned(
            value,
            "`instructions` takes a string literal, a function `fn(&RunContext<C>) -> String`, or `async` and an async function",
        )),
    }
}

/// Used by `check`: an identifier's text.
pub(crate) fn path_text(path: &Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}
