//! Token usage accounting.

use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};

/// Token usage of one model call, or summed over a run.
///
/// All counts are tokens except `requests`, the number of model calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Usage {
    /// Number of model calls.
    pub requests: u64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Of `input_tokens`, how many were served from the provider's cache.
    pub cached_input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Of `output_tokens`, how many were reasoning tokens.
    pub reasoning_tokens: u64,
    /// Total tokens as reported by the provider (`input + output` when it
    /// reports none).
    pub total_tokens: u64,
}

impl Usage {
    /// Usage of one request with the given input and output token counts.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            requests: 1,
            input_tokens,
            output_tokens,
            total_tokens: input_tokens.saturating_add(output_tokens),
            ..Usage::default()
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        self.requests = self.requests.saturating_add(rhs.requests);
        self.input_tokens = self.input_tokens.saturating_add(rhs.input_tokens);
        self.cached_input_tokens = self
            .cached_input_tokens
            .saturating_add(rhs.cached_input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(rhs.output_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(rhs.reasoning_tokens);
        self.total_tokens = self.total_tokens.saturating_add(rhs.total_tokens);
    }
}

impl Add for Usage {
    type Output = Usage;

    fn add(mut self, rhs: Usage) -> Usage {
        self += rhs;
        self
    }
}
