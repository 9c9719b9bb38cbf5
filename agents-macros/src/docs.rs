//! Doc comments: `/// text` is `#[doc = " text"]`.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// The text of the `#[doc]` attributes, one leading space per line removed,
/// trimmed; `None` when there is no text.
pub(crate) fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    #[test]
    fn joins_lines_and_trims() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[doc = " Look up an order."]),
            parse_quote!(#[doc = ""]),
            parse_quote!(#[doc = "  Indented."]),
            parse_quote!(#[inline]),
        ];
        assert_eq!(doc_text(&attrs).unwrap(), "Look up an order.\n\n Indented.");
        assert_eq!(doc_text(&[]), None);
    }
}
