//! Checks on an `#[agent]` declaration.

use super::attr::{AgentAttr, path_text};

/// Every problem with the declaration.
pub(crate) fn check(attr: &AgentAttr, item: &syn::ItemStruct) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    if !item.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.generics,
            "an agent type cannot be generic: its context and output are fixed by `context = ...` and `output = ...`",
        ));
    }
    if !matches!(item.fields, syn::Fields::Unit) {
        let name = &item.ident;
        errors.push(syn::Error::new_spanned(
            &item.fields,
            format!(
                "an `#[agent]` struct is a name for the agent, and its fields would never be read: \
                 the agent is built from the attribute alone; make it a unit struct, `struct {name};`, \
                 and keep per-run data in the run context (`context = ...`)"
            ),
        ));
    }
    for (i, tool) in attr.tools.iter().enumerate() {
        if attr.tools[..i]
            .iter()
            .any(|t| path_text(t) == path_text(tool))
        {
            errors.push(syn::Error::new_spanned(
                tool,
                format!(
                    "`{}` is listed twice in `tools`; an agent's tools need distinct names",
                    path_text(tool)
                ),
            ));
        }
    }
    for tool in &attr.stop_at_tools {
        if !attr.tools.iter().any(|t| path_text(t) == path_text(tool)) {
            errors.push(syn::Error::new_spanned(
                tool,
                format!(
                    "`{}` is in `stop_at_tools` but not in `tools`; add it to `tools`",
                    path_text(tool)
                ),
            ));
        }
    }
    if let Some(behavior) = &attr.tool_use_behavior {
        if !matches!(
            behavior.value().as_str(),
            "run_llm_again" | "stop_on_first_tool"
        ) {
            errors.push(syn::Error::new(
                behavior.span(),
                "`tool_use_behavior` is `\"run_llm_again\"` or `\"stop_on_first_tool\"`; for named tools use `stop_at_tools = [...]`",
            ));
        }
        if !attr.stop_at_tools.is_empty() {
            errors.push(syn::Error::new(
                behavior.span(),
                "give either `tool_use_behavior` or `stop_at_tools`, not both",
            ));
        }
    }
    if let Some(name) = &attr.name {
        if name.value().trim().is_empty() {
            errors.push(syn::Error::new(
                name.span(),
                "an agent's name must not be empty",
            ));
        }
    }
    errors
}
