//! What the mix aims at: a reference song measured through the separator, a profile learnt from
//! a library of them, and the targets both (or the built-in averages) give the stages.

pub mod library_profile;
pub mod reference;
pub mod targets;
