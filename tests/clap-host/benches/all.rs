//! The five benchmarks in one binary, for CI: each bench binary is a thin-LTO link of the whole
//! engine with tract, minutes each on a two-core machine, so CI builds one instead of five. Each
//! bench still builds and runs on its own (`cargo bench -p engine --bench chain_rtf`, …), and
//! prints the same here as there.

#[path = "../../../cli/benches/analyze.rs"]
mod analyze;
#[path = "../../../engine/benches/chain_rtf.rs"]
mod chain_rtf;
#[path = "../../../engine/benches/cnn_inference.rs"]
mod cnn_inference;
#[path = "plugin_cpu.rs"]
mod plugin_cpu;
#[path = "../../../cli/benches/separation.rs"]
mod separation;

fn main() {
    // the analyze and separation benches re-run this binary to measure a child process's
    // memory, and the separation bench to time ONNX Runtime
    if std::env::args().any(|a| a == automix_tests::measure::RSS_OF) {
        return analyze::main();
    }
    if std::env::args().any(|a| a.starts_with("--separation-")) {
        return separation::main();
    }
    if std::env::args().any(|a| a == "--onnxruntime-child") {
        return cnn_inference::main();
    }
    analyze::main();
    plugin_cpu::main();
    chain_rtf::main();
    cnn_inference::main();
    separation::main();
}
