//! The research's rules and ours, one decision each: the masking EQ and the tone toward a
//! target, the compressor's search, the level against the backing, and when to ride.

pub mod compression_search;
pub mod level_balance;
pub mod masking_eq;
pub mod ride_rule;
pub mod tone_eq;
