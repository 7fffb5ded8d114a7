//! `automix`: Vocal Automix on the command line. Parsing only: each subcommand's arguments and
//! work live in its own module.

use std::process::ExitCode;

use automix::{
    analyze, batch, dataset, demo, eval, learn, mix, models, params, reference, render, separate,
    vad,
};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "automix",
    version,
    about = "Vocal Automix: mix a lead vocal against its backing track"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze a vocal against its backing track and print the suggested mix (every parameter,
    /// and why)
    Analyze(analyze::Args),
    /// Analyze, then render the processed vocal and the full mix with the suggestion
    Mix(mix::Args),
    /// Mix every vocal/backing pair in a folder (song_vocal.wav + song_backing.wav), in parallel,
    /// and write one summary
    Batch(batch::Args),
    /// Training data for the CNN assistant from a folder of stems (MUSDB18-HQ song folders, or
    /// MIR-1K clips with the backing left and the vocal right): feature blocks and targets
    Dataset(dataset::Args),
    /// The CNN models the assistant would use (built in, or a folder of retrained ones), their
    /// held-out figures and the backend that runs them
    Models(models::Args),
    /// Render a vocal through EQ → compressor → reverb → level with the parameters given
    Render(render::Args),
    /// Hear the product with no input: synthesise a sung line and a backing, let the assistant
    /// mix them, and write the files and a report
    Demo(demo::Args),
    /// Measure how close each engine's mixes come to professional ones: songs with their vocal
    /// stem and accompaniment, the vocal as it is, with a random gain and with a random EQ
    Eval(eval::Args),
    /// Separate and measure every song in a folder and write a profile (`--profile`) that mixes
    /// like them
    Learn(learn::Args),
    /// Print the parameter table: keys, units, ranges, defaults
    Params(params::Args),
    /// Split a mixed song into its vocal and its accompaniment (a U-Net informed by the VAD), at
    /// the song's rate and channel count
    Separate(separate::Args),
    /// What a song measures as a reference (`--reference`): its vocal separated, then its
    /// balance against the backing, loudness range, tone and tail
    Reference(reference::Args),
    /// Where a recording has a singing voice in it: the stretches, and their share of it
    Vad(vad::Args),
}

fn run(command: Command) -> Result<(), String> {
    let mut warn = |w: String| eprintln!("automix: warning: {w}");
    let mut say = |s: String| eprintln!("{s}");
    match command {
        Command::Analyze(a) => a.run(&mut warn),
        Command::Mix(a) => a.run(&mut warn, &mut say),
        Command::Batch(a) => a.run(&mut warn, &mut say),
        Command::Dataset(a) => a.run(&mut say),
        Command::Models(a) => a.run(&mut say),
        Command::Render(a) => a.run(&mut warn, &mut say),
        Command::Demo(a) => a.run(&mut warn, &mut say),
        Command::Eval(a) => a.run(&mut say),
        Command::Learn(a) => a.run(&mut warn, &mut say),
        Command::Params(a) => a.run(),
        Command::Separate(a) => a.run(&mut warn, &mut say),
        Command::Vad(a) => a.run(&mut warn),
        Command::Reference(a) => a.run(&mut warn),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("automix: error: {e}");
            ExitCode::FAILURE
        }
    }
}
