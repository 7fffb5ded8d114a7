//! The two stages the research lacks (issue 16), in one test binary: the ride (`ride.rs`) and the
//! de-esser (`de_esser.rs`).

#[path = "../common/mod.rs"]
mod common;
mod de_esser;
mod ride;
