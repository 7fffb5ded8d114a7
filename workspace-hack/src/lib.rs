//! No code: this crate's `Cargo.toml` holds the features of tract's shared dependencies equal in
//! every build of the workspace, so the plug-in, the command line, the tests and the benchmarks
//! share one build of tract per profile instead of compiling it again for each (see the
//! manifest's comment).
