//! Budgets: how much a run may spend in model calls, tool calls, tokens
//! and money, and the price table money is computed from.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::usage::Usage;

/// What one model costs, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    /// Per million input tokens not served from the provider's cache.
    pub input: f64,
    /// Per million input tokens served from the cache.
    pub cached_input: f64,
    /// Per million output tokens (reasoning tokens included, as providers
    /// bill them).
    pub output: f64,
}

impl ModelPrice {
    /// A price of `input`, `cached_input` and `output` dollars per million
    /// tokens.
    pub fn new(input: f64, cached_input: f64, output: f64) -> Self {
        ModelPrice {
            input,
            cached_input,
            output,
        }
    }

    /// The cost of `usage` in dollars.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cached_input_tokens.min(usage.input_tokens);
        let uncached = usage.input_tokens - cached;
        (uncached as f64 * self.input
            + cached as f64 * self.cached_input
            + usage.output_tokens as f64 * self.output)
            / 1_000_000.0
    }
}

/// Prices by model name (the name a request asks for, e.g.
/// `"gpt-4o-mini"`).
///
/// Empty by default: prices change, so the program states the ones it
/// relies on. A model without a price has an unknown cost, never zero.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    prices: BTreeMap<String, ModelPrice>,
}

impl PriceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the price of `model`.
    #[must_use]
    pub fn price(mut self, model: impl Into<String>, price: ModelPrice) -> Self {
        self.prices.insert(model.into(), price);
        self
    }

    /// The price of `model`, if the table has it.
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.prices.get(model)
    }
}

/// Limits on what one run may spend, its nested runs of agents used as
/// tools included (they add to the same counters). Every limit is off by
/// default; a limit of zero stops the run before the first model or tool
/// call.
///
/// Checked before the spending where that is possible (a model call when
/// the call count is used up; a turn's tool calls when they would exceed
/// the tool-call count, before any of them runs), after a model call
/// otherwise (tokens, cost: they are known only from its usage). Exceeding
/// one ends the run with
/// `RunError::BudgetExceeded` (in `agents_core::run`).
///
/// A resumed run goes on from what it spent before it stopped: its model
/// calls, tool calls and tokens count against the same budget; its cost
/// does not (the state holds no prices), so a cost limit applies to the
/// spending after the resume.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Budget {
    /// Most model calls.
    pub max_model_calls: Option<u32>,
    /// Most function tool calls (handoffs do not count).
    pub max_tool_calls: Option<u32>,
    /// Most input tokens, summed over model calls.
    pub max_input_tokens: Option<u64>,
    /// Most output tokens, summed over model calls.
    pub max_output_tokens: Option<u64>,
    /// Most input plus output tokens.
    pub max_total_tokens: Option<u64>,
    /// Most cost in US dollars, from [`prices`](Self::prices). With a cost
    /// limit, a model call whose model has no price ends the run: its cost
    /// is unknown, and unknown is not zero.
    pub max_cost: Option<f64>,
    /// The prices the cost is computed from.
    pub prices: PriceTable,
}

impl Budget {
    /// No limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the most model calls.
    #[must_use]
    pub fn max_model_calls(mut self, calls: u32) -> Self {
        self.max_model_calls = Some(calls);
        self
    }

    /// Sets the most function tool calls.
    #[must_use]
    pub fn max_tool_calls(mut self, calls: u32) -> Self {
        self.max_tool_calls = Some(calls);
        self
    }

    /// Sets the most input tokens.
    #[must_use]
    pub fn max_input_tokens(mut self, tokens: u64) -> Self {
        self.max_input_tokens = Some(tokens);
        self
    }

    /// Sets the most output tokens.
    #[must_use]
    pub fn max_output_tokens(mut self, tokens: u64) -> Self {
        self.max_output_tokens = Some(tokens);
        self
    }

    /// Sets the most input plus output tokens.
    #[must_use]
    pub fn max_total_tokens(mut self, tokens: u64) -> Self {
        self.max_total_tokens = Some(tokens);
        self
    }

    /// Sets the most cost in US dollars, priced from `prices`.
    #[must_use]
    pub fn max_cost(mut self, dollars: f64, prices: PriceTable) -> Self {
        self.max_cost = Some(dollars);
        self.prices = prices;
        self
    }

    /// Whether any limit is set.
    pub fn is_limited(&self) -> bool {
        self.max_model_calls.is_some()
            || self.max_tool_calls.is_some()
            || self.max_input_tokens.is_some()
            || self.max_output_tokens.is_some()
            || self.max_total_tokens.is_some()
            || self.max_cost.is_some()
    }
}

/// Which limit a run exceeded, with the amount it would have reached.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BudgetLimit {
    /// Model calls: the limit, and the call it would have been.
    ModelCalls {
        /// The limit.
        max: u32,
        /// The count the next call would have reached.
        reached: u32,
    },
    /// Function tool calls: the limit, and the count the turn's calls
    /// would have reached.
    ToolCalls {
        /// The limit.
        max: u32,
        /// The count with this turn's calls.
        reached: u32,
    },
    /// Input tokens.
    InputTokens {
        /// The limit.
        max: u64,
        /// Spent.
        reached: u64,
    },
    /// Output tokens.
    OutputTokens {
        /// The limit.
        max: u64,
        /// Spent.
        reached: u64,
    },
    /// Input plus output tokens.
    TotalTokens {
        /// The limit.
        max: u64,
        /// Spent.
        reached: u64,
    },
    /// Cost in US dollars.
    Cost {
        /// The limit.
        max: f64,
        /// Spent, or `None` when a model call's model has no price.
        reached: Option<f64>,
        /// The model without a price, when that is why.
        unpriced_model: Option<String>,
    },
}

impl std::fmt::Display for BudgetLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BudgetLimit::ModelCalls { max, reached } => {
                write!(f, "model call {reached} over the budget of {max}")
            }
            BudgetLimit::ToolCalls { max, reached } => {
                write!(f, "{reached} tool calls over the budget of {max}")
            }
            BudgetLimit::InputTokens { max, reached } => {
                write!(f, "{reached} input tokens over the budget of {max}")
            }
            BudgetLimit::OutputTokens { max, reached } => {
                write!(f, "{reached} output tokens over the budget of {max}")
            }
            BudgetLimit::TotalTokens { max, reached } => {
                write!(f, "{reached} tokens over the budget of {max}")
            }
            BudgetLimit::Cost {
                max,
                unpriced_model: Some(model),
                ..
            } => write!(
                f,
                "the cost of model `{model}` is unknown (no price) under a cost budget of ${max}"
            ),
            BudgetLimit::Cost { max, reached, .. } => write!(
                f,
                "${:.6} over the cost budget of ${max}",
                reached.unwrap_or(f64::NAN)
            ),
        }
    }
}

/// What a run and its nested runs have spent, shared between them.
#[derive(Debug, Default)]
pub(crate) struct Spent {
    model_calls: AtomicU32,
    tool_calls: AtomicU32,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
    /// Dollars spent; `None` once a call's cost was unknown.
    cost: Mutex<Option<f64>>,
}

impl Spent {
    pub(crate) fn new() -> Self {
        Spent {
            cost: Mutex::new(Some(0.0)),
            ..Self::default()
        }
    }

    /// Starts from what a stopped run had spent before it was resumed:
    /// its model calls, tool calls and tokens (its cost is not known
    /// again: the prices of its models are not in the state).
    pub(crate) fn resume_from(&self, model_calls: u32, tool_calls: u32, usage: &Usage) {
        self.model_calls.store(model_calls, Ordering::SeqCst);
        self.tool_calls.store(tool_calls, Ordering::SeqCst);
        self.input_tokens
            .store(usage.input_tokens, Ordering::SeqCst);
        self.output_tokens
            .store(usage.output_tokens, Ordering::SeqCst);
    }

    /// Counts a model call about to be made; the limit it would exceed.
    pub(crate) fn model_call(&self, budget: &Budget) -> Result<(), BudgetLimit> {
        let reached = self.model_calls.load(Ordering::SeqCst).saturating_add(1);
        if let Some(max) = budget.max_model_calls.filter(|max| reached > *max) {
            return Err(BudgetLimit::ModelCalls { max, reached });
        }
        self.model_calls.store(reached, Ordering::SeqCst);
        Ok(())
    }

    /// Counts `calls` tool calls about to run; the limit they would exceed
    /// (then none is counted).
    pub(crate) fn tool_calls(&self, budget: &Budget, calls: u32) -> Result<(), BudgetLimit> {
        let reached = self.tool_calls.load(Ordering::SeqCst).saturating_add(calls);
        if let Some(max) = budget.max_tool_calls.filter(|max| reached > *max) {
            return Err(BudgetLimit::ToolCalls { max, reached });
        }
        self.tool_calls.store(reached, Ordering::SeqCst);
        Ok(())
    }

    /// Adds a model call's `usage` for `model`; the limit now exceeded.
    pub(crate) fn usage(
        &self,
        budget: &Budget,
        model: Option<&str>,
        usage: &Usage,
    ) -> Result<(), BudgetLimit> {
        // Saturating: a server may report any count.
        let input = saturating_add(&self.input_tokens, usage.input_tokens);
        let output = saturating_add(&self.output_tokens, usage.output_tokens);
        let total = input.saturating_add(output);
        if let Some(max) = budget.max_input_tokens.filter(|max| input > *max) {
            return Err(BudgetLimit::InputTokens {
                max,
                reached: input,
            });
        }
        if let Some(max) = budget.max_output_tokens.filter(|max| output > *max) {
            return Err(BudgetLimit::OutputTokens {
                max,
                reached: output,
            });
        }
        if let Some(max) = budget.max_total_tokens.filter(|max| total > *max) {
            return Err(BudgetLimit::TotalTokens {
                max,
                reached: total,
            });
        }
        let Some(max) = budget.max_cost else {
            return Ok(());
        };
        let price = model.and_then(|model| budget.prices.get(model));
        let mut cost = self
            .cost
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(price) = price else {
            *cost = None;
            return Err(BudgetLimit::Cost {
                max,
                reached: None,
                unpriced_model: Some(model.unwrap_or("(the client's default)").to_owned()),
            });
        };
        let total = cost.map(|spent| spent + price.cost(usage));
        *cost = total;
        match total {
            Some(total) if total > max => Err(BudgetLimit::Cost {
                max,
                reached: Some(total),
                unpriced_model: None,
            }),
            _ => Ok(()),
        }
    }
}

/// Adds `n` to `counter`, stopping at `u64::MAX`; the new value.
fn saturating_add(counter: &AtomicU64, n: u64) -> u64 {
    let previous = counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |value| {
            Some(value.saturating_add(n))
        })
        .unwrap_or_else(|value| value);
    previous.saturating_add(n)
}
