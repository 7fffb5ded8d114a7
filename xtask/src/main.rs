//! `cargo xtask bundle vocal_automix --release`: the plug-in's CLAP and VST3 bundles, named as
//! `bundler.toml` says, in `target/bundled/`.

fn main() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::main()
}
