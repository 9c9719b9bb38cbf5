//! JSON decoding shared by both APIs' responses: a body decoded with its
//! strings borrowed where they have no escapes.

use std::borrow::Cow;

use serde::Deserialize;

use crate::model::ModelError;

/// `body` decoded as JSON `T` (which may borrow strings from it); a decode
/// error quotes the body's start.
pub(crate) fn from_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ModelError> {
    let failed = |error: &dyn std::fmt::Display| {
        let start: String = String::from_utf8_lossy(body).chars().take(200).collect();
        ModelError::decode(format!("{error} in `{start}`"))
    };
    // The body checked as UTF-8 once, in one pass, rather than string by
    // string as `from_slice` does (a response has dozens of short strings).
    let text = std::str::from_utf8(body).map_err(|error| failed(&error))?;
    serde_json::from_str(text).map_err(|error| failed(&error))
}

/// A string of the body, borrowed when it has no escapes. serde borrows
/// a `Cow<str>` only when a field is exactly that type: inside an
/// `Option` it would always copy.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);

/// An optional string field read as [`Borrowed`].
pub(crate) fn borrowed<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(Option::<Borrowed<'de>>::deserialize(deserializer)?.map(|Borrowed(text)| text))
}
