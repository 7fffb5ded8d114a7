//! The assistant's options and parameter files as the command line reads them, from Python's
//! keywords.

use std::path::PathBuf;

use automix::analyze::AnalyzeJob;
use automix::cli_args::tempo_in_range;
use automix::reference::ReferenceArgs;
use engine::MixParams;
use engine::analysis::Engine;
use engine::analysis::suggestion::GateKind;
use pyo3::FromPyObject;

/// The assistant's options as the Python functions pass them: a dict with the keys of
/// `automix analyze`'s options.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct AssistantOptions {
    engine: String,
    gate: String,
    tempo: Option<f64>,
    references: Vec<PathBuf>,
    profile: Option<PathBuf>,
}

/// What `analyze` and `mix` are asked for (`job`'s paths are not read; the arrays are).
pub fn analyze_job(
    options: AssistantOptions,
    warn: &mut dyn FnMut(String),
) -> Result<AnalyzeJob, String> {
    let AssistantOptions {
        engine,
        gate,
        tempo,
        references,
        profile,
    } = options;
    let engine = Engine::ALL
        .into_iter()
        .find(|e| e.name() == engine)
        .ok_or_else(|| {
            let names: Vec<&str> = Engine::ALL.iter().map(|e| e.name()).collect();
            format!("engine `{engine}`: choose one of {}", names.join(", "))
        })?;
    let gate = match gate.as_str() {
        "vad" => GateKind::Vad,
        "loudness" => GateKind::Loudness,
        other => return Err(format!("gate `{other}`: choose vad or loudness")),
    };
    let tempo = tempo.map(tempo_in_range).transpose()?;
    if profile.is_some() && !references.is_empty() {
        return Err("give references or a profile, not both".into());
    }
    let reference = ReferenceArgs {
        references,
        profile,
        ..ReferenceArgs::default()
    };
    Ok(AnalyzeJob {
        vocal: PathBuf::from("(array)"),
        backing: None,
        tempo_bpm: tempo,
        engine,
        gate,
        reference: reference.prepare(warn)?,
    })
}

/// A parameter file's or a suggestion's JSON, as `automix render --params` reads it.
pub fn params_of(json: &str, warn: &mut dyn FnMut(String)) -> Result<MixParams, String> {
    let loaded = automix::param_file::parse(json, "params")?;
    loaded.warnings.into_iter().for_each(&mut *warn);
    Ok(loaded.params)
}
