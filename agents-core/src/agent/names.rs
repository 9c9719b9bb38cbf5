//! Names compared at compile time: the constant functions `#[agent]` and
//! `#[derive(Handoffs)]` expand to, so that two tools, or a tool and a
//! handoff, with one name fail to compile. Public only through
//! `agents_core::__private` (not API).

/// The name of a `#[tool]` function's tool, from a value of its type
/// (the macros' compile-time name checks).
pub const fn tool_name<T: crate::tool::TypedTool>(_tool: &T) -> &'static str {
    T::NAME
}

/// The name of an `#[agent]` type (the macros' compile-time checks).
pub const fn agent_name<A: super::AgentDef>() -> &'static str {
    A::NAME
}

/// A handoff's tool name as `#[derive(Handoffs)]` knows it: given, or
/// the default one of the agent called so.
#[derive(Clone, Copy, Debug)]
pub enum HandoffName {
    /// `#[handoff(tool_name = "...")]`.
    Custom(&'static str),
    /// The default name of a handoff to the agent called so
    /// ([`handoff_tool_name`](crate::handoff_tool_name)).
    Agent(&'static str),
}

/// The tool names of a `#[derive(Handoffs)]` enum's handoffs, for the
/// compile-time checks of `#[agent(handoffs = ...)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not derive `Handoffs`",
    label = "an agent's `handoffs` must be an enum with `#[derive(Handoffs)]`",
    note = "declare the handoffs as `#[derive(Handoffs)] enum Route {{ Billing(Billing), ... }}`"
)]
pub trait HandoffNames {
    /// One per variant, in order.
    const NAMES: &'static [HandoffName];
}

/// Whether two strings are equal, in a constant.
pub const fn names_equal(a: &str, b: &str) -> bool {
    bytes_equal(a.as_bytes(), b.as_bytes())
}

const fn bytes_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether the handoff `name` calls its tool `tool`: the default name is
/// computed here as [`handoff_tool_name`](crate::handoff_tool_name)
/// computes it, byte by byte, in a constant. A name longer than 240
/// bytes is not compared (false).
pub const fn handoff_name_is(name: HandoffName, tool: &str) -> bool {
    match name {
        HandoffName::Custom(custom) => names_equal(custom, tool),
        HandoffName::Agent(agent) => {
            let (buffer, len) = default_handoff_name(agent);
            len > 0 && bytes_equal(buffer.split_at(len).0, tool.as_bytes())
        }
    }
}

/// Whether two handoffs call their tools by the same name.
pub const fn handoff_names_equal(a: HandoffName, b: HandoffName) -> bool {
    match a {
        HandoffName::Custom(custom) => handoff_name_is(b, custom),
        HandoffName::Agent(agent) => {
            let (buffer, len) = default_handoff_name(agent);
            if len == 0 {
                return false;
            }
            let Ok(name) = core::str::from_utf8(buffer.split_at(len).0) else {
                return false;
            };
            handoff_name_is(b, name)
        }
    }
}

/// `transfer_to_<snake_case(agent)>` into a buffer, and its length (0
/// when it does not fit).
const fn default_handoff_name(agent: &str) -> ([u8; 256], usize) {
    const PREFIX: &[u8] = b"transfer_to_";
    let mut out = [0u8; 256];
    let mut len = 0;
    while len < PREFIX.len() {
        out[len] = PREFIX[len];
        len += 1;
    }
    let agent = agent.as_bytes();
    let mut prev: Option<u8> = None;
    let mut i = 0;
    while i < agent.len() {
        if len + 2 >= out.len() {
            return (out, 0);
        }
        let c = agent[i];
        // Bytes of a multi-byte character are each not alphanumeric:
        // one underscore for them all, as for the one `char` there.
        if c.is_ascii_alphanumeric() {
            let boundary = c.is_ascii_uppercase()
                && matches!(prev, Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit());
            if boundary && out[len - 1] != b'_' {
                out[len] = b'_';
                len += 1;
            }
            out[len] = c.to_ascii_lowercase();
            len += 1;
        } else if out[len - 1] != b'_' {
            out[len] = b'_';
            len += 1;
        }
        prev = Some(c);
        i += 1;
    }
    while len > PREFIX.len() && out[len - 1] == b'_' {
        len -= 1;
    }
    (out, len)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{HandoffName, handoff_name_is, handoff_names_equal};

    proptest! {
        /// The constant computation agrees with `handoff_tool_name`.
        #[test]
        fn the_default_handoff_name_matches(agent in "[A-Za-z0-9 _é-]{0,40}") {
            let name = crate::handoff_tool_name(&agent);
            prop_assert!(handoff_name_is(HandoffName::Agent(leak(&agent)), &name));
            let longer = format!("{name}x");
            prop_assert!(!handoff_name_is(HandoffName::Agent(leak(&agent)), &longer));
            prop_assert!(handoff_names_equal(
                HandoffName::Agent(leak(&agent)),
                HandoffName::Custom(leak(&name)),
            ));
        }
    }

    fn leak(text: &str) -> &'static str {
        Box::leak(text.to_owned().into_boxed_str())
    }

    #[test]
    fn examples() {
        assert!(handoff_name_is(
            HandoffName::Agent("Billing Desk"),
            "transfer_to_billing_desk"
        ));
        assert!(handoff_name_is(
            HandoffName::Agent("ShippingAgent"),
            "transfer_to_shipping_agent"
        ));
        assert!(!handoff_name_is(
            HandoffName::Agent("Billing"),
            "transfer_to_shipping"
        ));
        assert!(handoff_names_equal(
            HandoffName::Agent("Billing"),
            HandoffName::Agent("billing")
        ));
        assert!(!handoff_names_equal(
            HandoffName::Custom("a"),
            HandoffName::Custom("b")
        ));
    }
}
