//! The command line's subcommands on files, in process: what a fleet worker runs for a row, so
//! each row's outputs are `automix`'s own for the same files, written the same way.

use std::path::PathBuf;

use automix::mix::{self, MixJob};
use automix::render::{self, RenderJob};
use automix::separate;
use pyo3::prelude::*;

use crate::options::{AssistantOptions, analyze_job, params_of};
use crate::{Warnings, fail};

/// `automix mix --vocal V --backing B -o OUT [--vocal-out] [--suggestion-out]`: the
/// suggestion's JSON and the warnings.
#[pyfunction]
#[pyo3(signature = (vocal, backing, out, vocal_out, suggestion_out, options))]
pub fn mix_files(
    py: Python<'_>,
    vocal: PathBuf,
    backing: PathBuf,
    out: PathBuf,
    vocal_out: Option<PathBuf>,
    suggestion_out: Option<PathBuf>,
    options: AssistantOptions,
) -> PyResult<(String, Warnings)> {
    py.detach(|| {
        let mut warnings = Vec::new();
        let warn = &mut |w: String| warnings.push(w);
        let mut analyze = analyze_job(options, warn)?;
        analyze.vocal = vocal;
        analyze.backing = Some(backing);
        let job = MixJob {
            analyze,
            mix_out: out,
            vocal_out,
            suggestion_out,
        };
        let s = mix::run(&job, warn, &mut |_| {})?;
        Ok::<_, String>((s.to_json(), warnings))
    })
    .map_err(fail)
}

/// `automix separate SONG --vocal-out V --backing-out B`: the warnings.
#[pyfunction]
pub fn separate_files(
    py: Python<'_>,
    song: PathBuf,
    vocal_out: PathBuf,
    backing_out: PathBuf,
) -> PyResult<Warnings> {
    py.detach(|| {
        let mut warnings = Vec::new();
        separate::run(
            &song,
            &vocal_out,
            &backing_out,
            &mut |w| warnings.push(w),
            &mut |_| {},
        )?;
        Ok::<_, String>(warnings)
    })
    .map_err(fail)
}

/// `automix render --vocal V --params (JSON) -o OUT [--backing B --mix-out M] [--tail S]`: the
/// warnings.
#[pyfunction]
#[pyo3(signature = (vocal, params_json, out, backing, mix_out, tail))]
pub fn render_files(
    py: Python<'_>,
    vocal: PathBuf,
    params_json: &str,
    out: PathBuf,
    backing: Option<PathBuf>,
    mix_out: Option<PathBuf>,
    tail: f32,
) -> PyResult<Warnings> {
    if !(0.0..=60.0).contains(&tail) {
        return Err(fail("the tail is 0 to 60 seconds".into()));
    }
    if mix_out.is_some() && backing.is_none() {
        return Err(fail("a mix output needs the backing".into()));
    }
    py.detach(|| {
        let mut warnings = Vec::new();
        let warn = &mut |w: String| warnings.push(w);
        let job = RenderJob {
            params: params_of(params_json, warn)?,
            vocal,
            out: Some(out),
            backing,
            mix_out,
            tail_seconds: tail,
        };
        render::run(&job, warn, &mut |_| {})?;
        Ok::<_, String>(warnings)
    })
    .map_err(fail)
}
