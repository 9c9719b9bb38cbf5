use agents_core::guardrail::{GuardrailOutput, InputGuardrail};
use agents_core::prelude::*;

struct Shop;
struct Bank;

fn main() {
    let guardrail = InputGuardrail::<Bank>::new("kyc", |_ctx, _input| {
        Box::pin(async { GuardrailOutput::pass() })
    });
    let _agent = Agent::<Shop>::builder("Desk").input_guardrail(guardrail).build();
}
