//! Empty: Cargo resolves a package's build dependencies only when it has a build script, and the
//! build dependencies in Cargo.toml are what this crate is for.

fn main() {}
