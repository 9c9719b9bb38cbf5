//! Code generation for `#[agent]`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::attr::{AgentAttr, Instructions};

/// What every impl of an agent names: the crate path, the agent's name,
/// its context and output types (the defaults when not given).
struct Header {
    krate: TokenStream,
    name: String,
    ctx: TokenStream,
    out: TokenStream,
}

fn header(attr: &AgentAttr, item: &syn::ItemStruct) -> Header {
    let krate = match &attr.krate {
        Some(path) => quote!(#path),
        None => quote!(::agents_core),
    };
    let name = attr
        .name
        .as_ref()
        .map_or_else(|| item.ident.to_string(), syn::LitStr::value);
    let ctx = match &attr.context {
        Some(ty) => quote!(#ty),
        None => quote!(()),
    };
    let out = match (&attr.convert_output, &attr.output) {
        (Some(ty), _) | (None, Some(ty)) => quote!(#ty),
        (None, None) => quote!(::std::string::String),
    };
    Header {
        krate,
        name,
        ctx,
        out,
    }
}

pub(crate) fn expand(attr: &AgentAttr, item: &syn::ItemStruct) -> TokenStream {
    let Header {
        krate,
        name,
        ctx,
        out,
    } = header(attr, item);
    let ident = &item.ident;
    let handoff_description = match &attr.handoff_description {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    };

    let instructions = match &attr.instructions {
        None => quote!(),
        Some(Instructions::Text(text)) => quote!(.instructions(#text)),
        Some(Instructions::Sync(path)) => quote_spanned! {path.span()=>
            .instructions_fn(#krate::__private::sync_instructions::<#ctx, _>(#path))
        },
        Some(Instructions::Async(path)) => quote_spanned! {path.span()=>
            .instructions_async(|__ctx| ::std::boxed::Box::pin(#path(__ctx)))
        },
    };
    let tools = attr
        .tools
        .iter()
        .map(|path| quote_spanned! {path.span()=> .tool(#path {}) });
    let output = attr
        .output
        .as_ref()
        .map(|ty| quote_spanned! {ty.span()=> .output_type::<#ty>() });
    let convert = attr
        .convert_output
        .as_ref()
        .map(|ty| quote_spanned! {ty.span()=> .convert_output::<#ty>() });
    let handoffs = attr
        .handoffs
        .as_ref()
        .map(|ty| quote_spanned! {ty.span()=> .handoffs::<#ty>() });
    let model = attr.model.as_ref().map(|m| quote!(.model(#m)));
    let calls = |paths: &[syn::Path], method: proc_macro2::TokenStream| {
        paths
            .iter()
            .map(|path| quote_spanned! {path.span()=> .#method(#path()) })
            .collect::<Vec<_>>()
    };
    let input_guardrails = calls(&attr.input_guardrails, quote!(input_guardrail));
    let output_guardrails = calls(&attr.output_guardrails, quote!(output_guardrail));
    let tool_guardrails = calls(&attr.tool_guardrails, quote!(tool_guardrail));
    // A function returning hooks (called), or a hooks value.
    let hooks = attr.hooks.iter().map(|path| {
        quote_spanned! {path.span()=>
            .hooks({
                #[allow(unused_imports)]
                use #krate::__private::{HooksFromFunction as _, HooksFromValue as _};
                (&&#krate::__private::HooksSource::new(#path)).hooks_value()
            })
        }
    });
    let description = attr
        .handoff_description
        .as_ref()
        .map(|d| quote!(.handoff_description(#d)));

    let mut settings = Vec::new();
    if let Some(value) = &attr.temperature {
        settings.push(quote!(.temperature(#value as f32)));
    }
    if let Some(value) = &attr.top_p {
        settings.push(quote!(.top_p(#value as f32)));
    }
    if let Some(value) = &attr.max_tokens {
        settings.push(quote!(.max_tokens(#value)));
    }
    if let Some(value) = &attr.parallel_tool_calls {
        settings.push(quote!(.parallel_tool_calls(#value)));
    }
    if let Some(choice) = &attr.tool_choice {
        let choice = match choice.value().as_str() {
            "auto" => quote!(#krate::ToolChoice::Auto),
            "none" => quote!(#krate::ToolChoice::None),
            "required" => quote!(#krate::ToolChoice::Required),
            _ => quote!(#krate::ToolChoice::Tool(::std::string::String::from(#choice))),
        };
        settings.push(quote!(.tool_choice(#choice)));
    }
    let settings = (!settings.is_empty())
        .then(|| quote!(.model_settings(#krate::ModelSettings::new() #(#settings)*)));

    let behavior = if !attr.stop_at_tools.is_empty() {
        let names = attr.stop_at_tools.iter().map(|path| {
            quote_spanned! {path.span()=>
                ::std::string::String::from(<#path as #krate::TypedTool>::NAME)
            }
        });
        Some(
            quote!(.tool_use_behavior(#krate::ToolUseBehavior::StopAtTools(::std::vec![#(#names),*]))),
        )
    } else {
        attr.tool_use_behavior
            .as_ref()
            .map(|b| match b.value().as_str() {
                "stop_on_first_tool" => {
                    quote!(.tool_use_behavior(#krate::ToolUseBehavior::StopOnFirstTool))
                }
                _ => quote!(.tool_use_behavior(#krate::ToolUseBehavior::RunLlmAgain)),
            })
    };

    let name_checks = name_checks(attr, &krate, &name);

    quote! {
        #item

        #name_checks

        const _: () = {
            impl #krate::AgentDef for #ident {
                type Context = #ctx;
                type Output = #out;
                const NAME: &'static str = #name;
                const HANDOFF_DESCRIPTION: ::core::option::Option<&'static str> = #handoff_description;

                fn agent() -> #krate::Agent<#ctx, #out> {
                    static AGENT: ::std::sync::OnceLock<#krate::Agent<#ctx, #out>> =
                        ::std::sync::OnceLock::new();
                    ::core::clone::Clone::clone(AGENT.get_or_init(|| {
                        let builder = #krate::Agent::<#ctx>::builder(#name)
                            #instructions
                            #(#tools)*
                            #output
                            #convert
                            #(#output_guardrails)*
                            #handoffs
                            #(#input_guardrails)*
                            #(#tool_guardrails)*
                            #(#hooks)*
                            #model
                            #settings
                            #behavior
                            #description;
                        match builder.build() {
                            ::core::result::Result::Ok(agent) => agent,
                            ::core::result::Result::Err(error) => {
                                ::core::panic!("agent `{}` is mis-declared: {}", #name, error)
                            }
                        }
                    }))
                }
            }

            impl #krate::AsAgent<#ctx> for #ident {
                type Output = #out;

                fn as_agent(&self) -> #krate::Agent<#ctx, #out> {
                    <Self as #krate::AgentDef>::agent()
                }
            }
        };
    }
}

/// What a mis-declared agent still gets beside its errors: its
/// `AgentDef` and `AsAgent` impls with the context and output the
/// attribute names (or the defaults), whose `agent()` is never reached
/// (the crate does not compile). Code naming the agent elsewhere (a
/// handoff enum, a script, a runner) then checks against it instead of
/// failing again with "not an agent". Nothing for a generic struct (the
/// error says to remove the generics).
pub(crate) fn stubs(attr: &AgentAttr, item: &syn::ItemStruct) -> TokenStream {
    if !item.generics.params.is_empty() {
        return TokenStream::new();
    }
    let Header {
        krate,
        name,
        ctx,
        out,
    } = header(attr, item);
    let ident = &item.ident;
    let unreachable = format!("agent `{name}` is mis-declared: see its compile errors");
    quote! {
        const _: () = {
            impl #krate::AgentDef for #ident {
                type Context = #ctx;
                type Output = #out;
                const NAME: &'static str = #name;
                const HANDOFF_DESCRIPTION: ::core::option::Option<&'static str> =
                    ::core::option::Option::None;

                fn agent() -> #krate::Agent<#ctx, #out> {
                    ::core::unreachable!(#unreachable)
                }
            }

            impl #krate::AsAgent<#ctx> for #ident {
                type Output = #out;

                fn as_agent(&self) -> #krate::Agent<#ctx, #out> {
                    ::core::unreachable!(#unreachable)
                }
            }
        };
    }
}

/// Compile-time checks that no two tools of the agent, and no tool and
/// handoff of it, share a name (`#[tool(name = ...)]`, the same function
/// name in two modules, a tool named like a handoff tool). The error is a
/// failed constant, on the later tool, naming both and the fix.
fn name_checks(attr: &AgentAttr, krate: &TokenStream, agent: &str) -> TokenStream {
    let tool_name = |path: &syn::Path| {
        // A value of the tool's type, as `.tool(path {})` builds it: a
        // misspelled path is then one error, not two.
        quote_spanned! {path.span()=> #krate::__private::tool_name(&#path {}) }
    };
    let text = |path: &syn::Path| {
        path.segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::")
    };
    let mut checks = Vec::new();
    for (j, later) in attr.tools.iter().enumerate() {
        for earlier in &attr.tools[..j] {
            if text(earlier) == text(later) {
                continue; // reported by the attribute check
            }
            let (a, b) = (tool_name(earlier), tool_name(later));
            let message = format!(
                "the tools `{}` and `{}` of agent `{agent}` have the same name: rename one with `#[tool(name = \"...\")]`",
                text(earlier),
                text(later)
            );
            checks.push(quote_spanned! {later.span()=>
                ::core::assert!(!#krate::__private::names_equal(#a, #b), #message);
            });
        }
        if let Some(handoffs) = &attr.handoffs {
            let name = tool_name(later);
            let message = format!(
                "the tool `{}` of agent `{agent}` is named like one of its handoffs' tools: rename the tool (`#[tool(name = \"...\")]`) or the handoff (`#[handoff(tool_name = \"...\")]`)",
                text(later)
            );
            checks.push(quote_spanned! {later.span()=>
                {
                    let names = <#handoffs as #krate::__private::HandoffNames>::NAMES;
                    let mut i = 0;
                    while i < names.len() {
                        ::core::assert!(!#krate::__private::handoff_name_is(names[i], #name), #message);
                        i += 1;
                    }
                }
            });
        }
    }
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        const _: () = {
            #(#checks)*
        };
    }
}
