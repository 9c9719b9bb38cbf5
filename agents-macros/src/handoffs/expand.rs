//! Code generation for `#[derive(Handoffs)]`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::ast::Route;

pub(crate) fn expand(route: &Route) -> TokenStream {
    let krate = match &route.krate {
        Some(path) => quote!(#path),
        None => quote!(::agents_core),
    };
    let ident = &route.ident;
    let (impl_generics, ctx) = match &route.context {
        Some(ty) => (quote!(<__Out>), quote!(#ty)),
        None => (quote!(<__Ctx, __Out>), quote!(__Ctx)),
    };
    let context_bound = match &route.context {
        Some(_) => quote!(),
        None => quote!(__Ctx: ::core::marker::Send + ::core::marker::Sync + 'static,),
    };

    // One bound pair per variant, spanned at the variant's agent type, so a
    // mismatch points at the variant.
    let bounds = route.variants.iter().map(|variant| {
        let agent = &variant.agent;
        // `for<'__a>` keeps a non-agent variant from being a trivially false
        // bound here; the assertion below reports it on the variant.
        quote_spanned! {agent.span()=>
            for<'__a> #agent: #krate::agent::HandoffContext<#ctx>
                + #krate::agent::HandoffOutput<__Out>,
        }
    });

    let handoffs = route.variants.iter().map(|variant| {
        let agent = &variant.agent;
        let mut handoff =
            quote_spanned! {agent.span()=> #krate::Handoff::<#ctx, __Out>::to_def::<#agent>() };
        if let Some(description) = &variant.description {
            handoff.extend(quote!(.description(#description)));
        } else if let Some(doc) = &variant.doc {
            handoff.extend(quote! {
                .description(::std::format!(
                    "Handoff to the {} agent to handle the request. {}",
                    <#agent as #krate::AgentDef>::NAME,
                    #doc
                ))
            });
        }
        if let Some(tool_name) = &variant.tool_name {
            handoff.extend(quote!(.tool_name(#tool_name)));
        }
        if let Some(filter) = &variant.input_filter {
            handoff.extend(quote_spanned! {filter.span()=> .input_filter(#filter) });
        }
        match (&variant.on_handoff, &variant.input) {
            (Some(callback), Some(input)) => handoff.extend(quote_spanned! {callback.span()=>
                .on_handoff_with_input::<#input>(#callback)
            }),
            (Some(callback), None) => {
                handoff.extend(quote_spanned! {callback.span()=> .on_handoff(#callback) });
            }
            _ => {}
        }
        handoff
    });

    // The variants are a declaration, never built at run time; naming each
    // constructor keeps `dead_code` quiet about them.
    let constructors = route.variants.iter().map(|variant| {
        let variant_ident = &variant.ident;
        quote!(let _ = #ident::#variant_ident;)
    });
    // The handoffs' tool names, for the compile-time name checks; naming
    // each agent through `agent_name` is also what checks it is an agent.
    let names = route.variants.iter().map(|variant| {
        let agent = &variant.agent;
        match &variant.tool_name {
            Some(tool_name) => quote_spanned! {tool_name.span()=>
                #krate::__private::HandoffName::Custom(#tool_name)
            },
            None => quote_spanned! {agent.span()=>
                #krate::__private::HandoffName::Agent(#krate::__private::agent_name::<#agent>())
            },
        }
    });
    // Two handoffs with one tool name: the later one is the error.
    let mut collisions = Vec::new();
    for (j, later) in route.variants.iter().enumerate() {
        for (i, earlier) in route.variants.iter().enumerate().take(j) {
            let span = later
                .tool_name
                .as_ref()
                .map_or_else(|| later.agent.span(), syn::spanned::Spanned::span);
            let message = format!(
                "the handoffs `{}` and `{}` of `{}` have the same tool name: give one `#[handoff(tool_name = \"...\")]`, or hand off to each agent once",
                earlier.ident, later.ident, ident
            );
            collisions.push(quote_spanned! {span=>
                ::core::assert!(
                    !#krate::__private::handoff_names_equal(
                        <#ident as #krate::__private::HandoffNames>::NAMES[#i],
                        <#ident as #krate::__private::HandoffNames>::NAMES[#j],
                    ),
                    #message
                );
            });
        }
    }

    // A typed route to each agent the enum hands off to once (an agent
    // wrapped twice has two handoffs: a test names it by tool name).
    let key = |ty: &syn::Type| quote!(#ty).to_string();
    let targets = route.variants.iter().filter_map(|variant| {
        let agent = &variant.agent;
        let once = route
            .variants
            .iter()
            .filter(|other| key(&other.agent) == key(agent))
            .count()
            == 1;
        if !once {
            return None;
        }
        let input = match &variant.input {
            Some(input) => quote!(#input),
            None => quote!(#krate::agent::NoInput),
        };
        let tool_name = match &variant.tool_name {
            Some(tool_name) => quote!(::std::string::String::from(#tool_name)),
            None => quote!(#krate::handoff_tool_name(<#agent as #krate::AgentDef>::NAME)),
        };
        Some(quote_spanned! {agent.span()=>
            impl #krate::agent::HandoffTo<#agent> for #ident {
                type Input = #input;

                fn tool_name() -> ::std::string::String {
                    #tool_name
                }
            }
        })
    });

    quote! {
        const _: () = {
            #(#constructors)*
        };

        #(#targets)*

        impl #krate::__private::HandoffNames for #ident {
            const NAMES: &'static [#krate::__private::HandoffName] = &[#(#names),*];
        }

        const _: () = {
            #(#collisions)*
        };

        impl #impl_generics #krate::Handoffs<#ctx, __Out> for #ident
        where
            #context_bound
            __Out: ::core::marker::Send + 'static,
            #(#bounds)*
        {
            fn handoffs() -> ::std::vec::Vec<#krate::Handoff<#ctx, __Out>> {
                ::std::vec![#(#handoffs),*]
            }
        }
    }
}
