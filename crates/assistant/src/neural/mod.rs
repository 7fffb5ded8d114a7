//! The CNN assistant: its features (gated mel blocks), the models and their checks, and how the
//! engine choice (rules, CNN, Auto) decides per stage which one answers.

pub(crate) mod assistant;
pub mod features;
pub mod models;
