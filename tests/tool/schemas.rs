//! JSON schemas of tool arguments, strict and non-strict, for each argument
//! shape; each shape also round-trips a sample through the tool.

use std::collections::BTreeMap;

use agents_core::{RunContext, Tool};
use insta::assert_json_snapshot;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Declares the same tool twice, strict (`$strict`) and non-strict
/// (`$loose`); both return their arguments as JSON.
macro_rules! shape {
    ($strict:ident, $loose:ident, ($($(#[$doc:meta])* $arg:ident : $ty:ty),*)) => {
        /// Returns its arguments.
        #[agents_core::tool]
        fn $strict($($(#[$doc])* $arg: $ty),*) -> Value {
            json!({ $(stringify!($arg): $arg),* })
        }

        /// Returns its arguments.
        #[agents_core::tool(strict = false)]
        fn $loose($($(#[$doc])* $arg: $ty),*) -> Value {
            json!({ $(stringify!($arg): $arg),* })
        }
    };
}

fn schemas<T: Tool<()>, U: Tool<()>>(strict: &T, loose: &U) -> Value {
    json!({ "strict": strict.parameters(), "non_strict": loose.parameters() })
}

async fn round_trip<T: Tool<()>>(tool: &T, sample: Value) -> Value {
    let output = tool
        .call(&RunContext::new(()), &sample.to_string())
        .await
        .unwrap_or_else(|e| panic!("{} rejected {sample}: {e}", tool.name()));
    serde_json::from_str(&output).unwrap()
}

shape!(scalars, scalars_loose, (
    /// A small count.
    count: u8,
    delta: i32,
    ratio: f64,
    enabled: bool
));

#[tokio::test]
async fn scalars_and_numeric_bounds() {
    assert_json_snapshot!(schemas(&scalars {}, &scalars_loose {}));
    let sample = json!({"count": 255, "delta": -3, "ratio": 0.5, "enabled": true});
    assert_eq!(round_trip(&scalars {}, sample.clone()).await, sample);
}

shape!(options, options_loose, (
    /// Required text.
    text: String,
    /// Optional note.
    note: Option<String>
));

#[tokio::test]
async fn optional_fields_are_nullable_in_strict_mode_and_optional_otherwise() {
    assert_json_snapshot!(schemas(&options {}, &options_loose {}));
    // Strict: the model must send every field, `null` for none.
    let out = round_trip(&options {}, json!({"text": "a", "note": null})).await;
    assert_eq!(out, json!({"text": "a", "note": null}));
    // Non-strict: the field may be left out.
    let out = round_trip(&options_loose {}, json!({"text": "a"})).await;
    assert_eq!(out, json!({"text": "a", "note": null}));
}

/// A line of an order.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Line {
    /// Stock keeping unit.
    sku: String,
    /// How many.
    quantity: u32,
}

shape!(lists, lists_loose, (tags: Vec<String>, lines: Vec<Line>));

#[tokio::test]
async fn vectors_of_scalars_and_structs() {
    assert_json_snapshot!(schemas(&lists {}, &lists_loose {}));
    let sample = json!({"tags": ["a"], "lines": [{"sku": "X-1", "quantity": 2}]});
    assert_eq!(round_trip(&lists {}, sample.clone()).await, sample);
}

shape!(maps, maps_loose, (
    /// Stock per warehouse.
    stock: BTreeMap<String, u32>
));

#[tokio::test]
async fn string_keyed_maps() {
    assert_json_snapshot!(schemas(&maps {}, &maps_loose {}));
    // A map cannot be strict: the tool falls back to a non-strict schema.
    assert!(!Tool::<()>::strict(&maps {}));
    assert_eq!(
        Tool::<()>::parameters(&maps {}),
        Tool::<()>::parameters(&maps_loose {})
    );
    let sample = json!({"stock": {"lyon": 3, "oslo": 0}});
    assert_eq!(round_trip(&maps {}, sample.clone()).await, sample);
}

/// A postal address.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Address {
    /// Street and number.
    street: String,
    city: String,
    /// Postal code, if known.
    postcode: Option<String>,
}

/// Who receives a parcel.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Recipient {
    name: String,
    /// Where to deliver.
    address: Address,
}

shape!(nested, nested_loose, (recipient: Recipient));

#[tokio::test]
async fn nested_structs_keep_their_doc_comments() {
    assert_json_snapshot!(schemas(&nested {}, &nested_loose {}));
    let sample = json!({"recipient": {"name": "Ada", "address": {"street": "1 Main St", "city": "Lyon", "postcode": null}}});
    assert_eq!(round_trip(&nested {}, sample.clone()).await, sample);
}

/// How urgent a ticket is.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Priority {
    /// Whenever.
    Low,
    /// Today.
    High,
    /// Wake someone up.
    PageOnCall,
}

shape!(unit_enum, unit_enum_loose, (priority: Priority, fallback: Option<Priority>));

#[tokio::test]
async fn unit_enums_respect_renames() {
    assert_json_snapshot!(schemas(&unit_enum {}, &unit_enum_loose {}));
    let sample = json!({"priority": "page_on_call", "fallback": null});
    assert_eq!(round_trip(&unit_enum {}, sample.clone()).await, sample);
}

/// A payment method, externally tagged (serde's default).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Payment {
    Card { last4: String },
    Voucher(String),
    Cash,
}

shape!(external_enum, external_enum_loose, (payment: Payment));

#[tokio::test]
async fn externally_tagged_enums_with_data() {
    assert_json_snapshot!(schemas(&external_enum {}, &external_enum_loose {}));
    for sample in [
        json!({"payment": {"card": {"last4": "4242"}}}),
        json!({"payment": {"voucher": "SPRING"}}),
        json!({"payment": "cash"}),
    ] {
        assert_eq!(round_trip(&external_enum {}, sample.clone()).await, sample);
    }
}

/// A shipping event, internally tagged by `kind`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Event {
    /// The parcel left a depot.
    Departed { depot: String },
    /// The parcel was delivered.
    Delivered { signed_by: Option<String> },
}

shape!(internal_enum, internal_enum_loose, (event: Event));

#[tokio::test]
async fn internally_tagged_enums() {
    assert_json_snapshot!(schemas(&internal_enum {}, &internal_enum_loose {}));
    let sample = json!({"event": {"kind": "delivered", "signed_by": null}});
    assert_eq!(round_trip(&internal_enum {}, sample.clone()).await, sample);
    let sample = json!({"event": {"kind": "departed", "depot": "Oslo"}});
    assert_eq!(round_trip(&internal_enum {}, sample.clone()).await, sample);
}

/// Either an id or a search, untagged.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
enum Query {
    Id(u64),
    Search { text: String },
}

shape!(untagged_enum, untagged_enum_loose, (query: Query));

#[tokio::test]
async fn untagged_enums() {
    assert_json_snapshot!(schemas(&untagged_enum {}, &untagged_enum_loose {}));
    for sample in [json!({"query": 7}), json!({"query": {"text": "blue mug"}})] {
        assert_eq!(round_trip(&untagged_enum {}, sample.clone()).await, sample);
    }
}

shape!(renamed, renamed_loose, (
    /// Sent as `orderId`.
    #[serde(rename = "orderId")]
    order_id: String,
    /// Defaults to 1.
    #[serde(default = "one")]
    copies: u32
));

fn one() -> u32 {
    1
}

#[tokio::test]
async fn serde_rename_and_default_on_parameters() {
    assert_json_snapshot!(schemas(&renamed {}, &renamed_loose {}));
    // Strict: a `null` stands for "not given" and takes the default.
    let out = round_trip(&renamed {}, json!({"orderId": "A-1", "copies": null})).await;
    assert_eq!(out, json!({"order_id": "A-1", "copies": 1}));
    let out = round_trip(&renamed_loose {}, json!({"orderId": "A-1"})).await;
    assert_eq!(out, json!({"order_id": "A-1", "copies": 1}));
}

/// A category tree: recursive, so schemars keeps a `$ref`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Category {
    name: String,
    children: Vec<Category>,
}

shape!(recursive, recursive_loose, (
    /// The root category.
    root: Category
));

#[tokio::test]
async fn recursive_types_keep_refs_and_refs_with_siblings_are_resolved() {
    let schemas = schemas(&recursive {}, &recursive_loose {});
    assert_json_snapshot!(schemas);
    let sample = json!({"root": {"name": "a", "children": [{"name": "b", "children": []}]}});
    assert_eq!(round_trip(&recursive {}, sample.clone()).await, sample);
}

shape!(no_args, no_args_loose, ());

#[tokio::test]
async fn a_tool_without_arguments_takes_an_empty_object() {
    assert_json_snapshot!(schemas(&no_args {}, &no_args_loose {}));
    assert_eq!(round_trip(&no_args {}, json!({})).await, json!({}));
}
