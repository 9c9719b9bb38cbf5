//! Splitting `key = value, ...` attribute arguments, for macros whose values
//! are not all expressions (lists of paths, types, `async path`).

use proc_macro2::{Ident, TokenStream, TokenTree};

/// One `key = value` pair: the key and the value's tokens.
pub(crate) struct KeyValue {
    pub(crate) key: Ident,
    pub(crate) value: TokenStream,
}

/// Splits `tokens` at top-level commas into `key = value` pairs (`key`
/// alone has an empty value). Malformed pairs become errors; the rest are
/// still returned, so every mistake is reported.
pub(crate) fn split(tokens: TokenStream) -> (Vec<KeyValue>, Vec<syn::Error>) {
    let mut pairs = Vec::new();
    let mut errors = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let flush =
        |current: &mut Vec<TokenTree>, pairs: &mut Vec<KeyValue>, errors: &mut Vec<syn::Error>| {
            if current.is_empty() {
                return;
            }
            let tokens: Vec<TokenTree> = std::mem::take(current);
            let mut iter = tokens.into_iter();
            let key = match iter.next() {
                Some(TokenTree::Ident(ident)) => ident,
                Some(other) => {
                    errors.push(syn::Error::new(
                        other.span(),
                        "expected a key such as `name = \"...\"`",
                    ));
                    return;
                }
                None => return,
            };
            let value: TokenStream = match iter.next() {
                None => TokenStream::new(),
                Some(TokenTree::Punct(punct)) if punct.as_char() == '=' => iter.collect(),
                Some(other) => {
                    errors.push(syn::Error::new(
                        other.span(),
                        format!("expected `=` after `{key}`"),
                    ));
                    return;
                }
            };
            pairs.push(KeyValue { key, value });
        };
    // Commas inside `<...>` (generic arguments) do not separate pairs.
    let mut angle_depth = 0usize;
    let mut after_dash = false;
    for token in tokens {
        let mut dash = false;
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' && angle_depth == 0 => {
                flush(&mut current, &mut pairs, &mut errors);
                after_dash = false;
                continue;
            }
            TokenTree::Punct(punct) if punct.as_char() == '<' => angle_depth += 1,
            TokenTree::Punct(punct) if punct.as_char() == '>' && !after_dash => {
                angle_depth = angle_depth.saturating_sub(1);
            }
            TokenTree::Punct(punct) if punct.as_char() == '-' => dash = true,
            _ => {}
        }
        after_dash = dash;
        current.push(token);
    }
    flush(&mut current, &mut pairs, &mut errors);
    (pairs, errors)
}

/// The `key = value` pairs of every `#[name(...)]` attribute in `attrs`;
/// malformed attributes and pairs go to `errors`.
pub(crate) fn attr_pairs(
    attrs: &[syn::Attribute],
    name: &str,
    errors: &mut Vec<syn::Error>,
) -> Vec<KeyValue> {
    let mut pairs = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident(name)) {
        match attr.meta.require_list() {
            Ok(list) => {
                let (found, split_errors) = split(list.tokens.clone());
                pairs.extend(found);
                errors.extend(split_errors);
            }
            Err(error) => errors.push(error),
        }
    }
    pairs
}

/// Combines errors into one.
pub(crate) fn combine(errors: Vec<syn::Error>) -> Option<syn::Error> {
    let mut iter = errors.into_iter();
    let mut first = iter.next()?;
    for error in iter {
        first.combine(error);
    }
    Some(first)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn splits_at_top_level_commas_only() {
        let (pairs, errors) = split(
            quote!(tools = [a, b], context = Shop<u8, fn() -> u8>, needs_approval, instructions = async f),
        );
        assert!(errors.is_empty());
        let keys: Vec<String> = pairs.iter().map(|p| p.key.to_string()).collect();
        assert_eq!(keys, ["tools", "context", "needs_approval", "instructions"]);
        assert_eq!(pairs[0].value.to_string(), "[a , b]");
        assert_eq!(pairs[1].value.to_string(), "Shop < u8 , fn () -> u8 >");
        assert!(pairs[2].value.is_empty());
    }
}

/// The message for an unknown key of `attribute`: the closest known key
/// when one is near (a typo), else the list.
pub(crate) fn unknown_key(attribute: &str, key: &str, known: &str) -> String {
    let names: Vec<&str> = known
        .split(", ")
        .map(|name| name.trim_matches('`'))
        .collect();
    let closest = names
        .iter()
        .map(|name| (edit_distance(key, name), *name))
        .min()
        .filter(|(distance, name)| *distance <= 2.min(name.len() / 3 + 1));
    match closest {
        Some((_, name)) => format!("unknown `{attribute}` key `{key}`: did you mean `{name}`?"),
        None => format!("unknown `{attribute}` key `{key}`; expected one of: {known}"),
    }
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod suggestion_tests {
    use super::unknown_key;

    #[test]
    fn a_typo_gets_the_closest_key() {
        let known = "`name`, `temperature`, `tools`";
        assert_eq!(
            unknown_key("#[agent]", "temprature", known),
            "unknown `#[agent]` key `temprature`: did you mean `temperature`?"
        );
        assert_eq!(
            unknown_key("#[agent]", "tool", known),
            "unknown `#[agent]` key `tool`: did you mean `tools`?"
        );
    }

    #[test]
    fn a_far_key_gets_the_list() {
        let known = "`name`, `temperature`, `tools`";
        assert_eq!(
            unknown_key("#[agent]", "retries", known),
            "unknown `#[agent]` key `retries`; expected one of: `name`, `temperature`, `tools`"
        );
    }
}
