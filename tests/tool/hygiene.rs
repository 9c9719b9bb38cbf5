//! The macro's output compiles where common names are shadowed.

#![allow(
    dead_code,
    non_camel_case_types,
    clippy::all,
    reason = "shadowing on purpose"
)]

mod shadowed {
    use agents_core::tool;

    struct Result;
    struct Option;
    struct Box;
    struct String;
    struct Vec;
    struct Clone;
    struct Send;
    struct Sync;
    mod serde {}
    mod schemars {}
    mod core {}
    mod std {}

    /// Joins words.
    #[tool]
    pub(crate) async fn join_words(
        /// Words to join.
        words: ::std::vec::Vec<::std::string::String>,
        separator: ::core::option::Option<::std::string::String>,
    ) -> ::core::result::Result<::std::string::String, ::std::string::String> {
        let separator = separator.unwrap_or_else(|| " ".into());
        ::core::result::Result::Ok(words.join(&separator))
    }
}

#[tokio::test]
async fn a_tool_in_a_module_that_shadows_std_names_works() {
    use agents_core::{RunContext, Tool};
    let out = shadowed::join_words {}
        .call(
            &RunContext::new(()),
            r#"{"words": ["a", "b"], "separator": null}"#,
        )
        .await
        .unwrap();
    assert_eq!(out, "a b");
}
