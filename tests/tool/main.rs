//! `#[tool]`: every supported form, schemas, argument decoding, hygiene and
//! compile errors.

mod filters;
mod forms;
mod hygiene;
mod runner;
mod schemas;

mod result_alias {
    //! A tool returning a `Result` through a type alias: an `Err` is an
    //! error output, decided by the type, not by its spelling.

    use agents_core::prelude::*;
    use agents_testing::{MockModel, Step, call};
    use serde_json::json;

    type Lookup = Result<String, String>;

    /// Looks up an order.
    #[tool]
    fn lookup_order(order_id: String) -> Lookup {
        if order_id == "A-1" {
            Ok("A-1: paid".to_owned())
        } else {
            Err(format!("no order {order_id}"))
        }
    }

    #[tokio::test]
    async fn an_err_through_an_alias_is_an_error_output() {
        let agent = Agent::<()>::builder("Desk")
            .tool(lookup_order {})
            .build()
            .unwrap();
        let model = MockModel::script([
            Step::tool_calls([
                call(lookup_order {}, json!({"order_id": "A-1"})),
                call(lookup_order {}, json!({"order_id": "Z-9"})),
            ]),
            Step::text("done"),
        ]);
        let result = Runner::new(model).run(&agent, (), "look").await.unwrap();
        let outputs: Vec<(&str, bool)> = result
            .tool_executions
            .iter()
            .map(|record| (record.output().output.as_str(), record.succeeded()))
            .collect();
        assert_eq!(
            outputs,
            [
                ("A-1: paid", true),
                ("tool `lookup_order` failed: no order Z-9", false)
            ]
        );
    }
}
