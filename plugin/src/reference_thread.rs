//! The reference in the plug-in: measured on its own thread when the user chooses it (so an
//! Analyze & Mix never waits for a separation), its measures kept in the saved settings, and
//! turned into the analysis's targets and locks.

use std::path::Path;
use std::sync::Arc;

use engine::MixParams;
use engine::analysis::library_profile::LibraryProfile;
use engine::analysis::reference::{self, ReferenceError};
use engine::analysis::targets::{Kept, ReferenceTarget, Targets};
use engine::params::Stage;
use engine::separation::SeparationModels;
use parking_lot::RwLock;

use crate::assistant_settings::{AssistantSettings, stamp_of};
use crate::host_params::AutomixParams;
use crate::session::Shared;

/// A profile written by `automix learn`: its medians are the reference's measures.
fn profile(path: &str) -> Result<reference::Measured, ReferenceError> {
    let p = LibraryProfile::read(Path::new(path)).map_err(ReferenceError::Unusable)?;
    Ok(reference::Measured {
        notes: vec![format!(
            "a profile of {} songs ({} skipped): their medians are the targets",
            p.songs,
            p.skipped.len()
        )],
        measures: p.median,
    })
}

/// Whether `path` names a profile (`automix learn`'s JSON) rather than a song.
pub fn is_profile(path: &str) -> bool {
    LibraryProfile::is_profile_path(Path::new(path))
}

/// Measures the reference at `path` (or reads a profile) and writes the result into `settings`,
/// if the user has not chosen another one meanwhile.
pub fn measure(path: &str, shared: &Shared, settings: &RwLock<AssistantSettings>) {
    shared.update(|s| s.reference_progress = Some(0.0));
    let models = SeparationModels::shared();
    let stamp = stamp_of(path);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if is_profile(path) {
            return profile(path);
        }
        reference::measure_file(
            models,
            Path::new(path),
            &mut |stage, f| {
                let (base, span) = match stage {
                    "vocal activity" => (0.0, 0.15),
                    "spectrum" => (0.15, 0.05),
                    "separating" => (0.2, 0.75),
                    _ => (0.95, 0.05),
                };
                shared.update(|s| s.reference_progress = Some(base + span * f.clamp(0.0, 1.0)));
            },
            Some(&shared.shutdown),
        )
    }))
    .unwrap_or_else(|_| {
        Err(ReferenceError::Unusable(
            "an internal error stopped its measurement (please report it)".into(),
        ))
    });
    shared.update(|s| s.reference_progress = None);
    let mut s = settings.write();
    let Some(r) = s.reference.as_mut().filter(|r| r.path == path) else {
        return;
    };
    match result {
        Ok(m) => {
            r.measures = Some(m.measures);
            r.notes = m.notes;
            r.stamp = stamp;
            r.problem = None;
        }
        // the plug-in is going away: measured next time it opens
        Err(ReferenceError::Cancelled) => {}
        Err(e) => r.problem = Some(e.to_string()),
    }
}

/// The analysis's targets from the settings' reference (`None`: the defaults), and what the user
/// should hear about it.
pub fn targets(settings: &AssistantSettings) -> (Option<Targets>, Vec<String>) {
    let Some(r) = &settings.reference else {
        return (None, Vec::new());
    };
    let name = Path::new(&r.path)
        .file_name()
        .map_or(r.path.clone(), |n| n.to_string_lossy().into_owned());
    match (&r.measures, &r.problem) {
        (Some(m), _) => (
            Some(Targets {
                reference: Some(ReferenceTarget {
                    measures: m.clone(),
                    source: name,
                    amounts: settings.amounts,
                }),
                ..Targets::built_in()
            }),
            r.notes.iter().map(|n| format!("Reference: {n}")).collect(),
        ),
        (None, Some(p)) => (None, vec![format!("Reference {name}: {p}")]),
        (None, None) => (
            None,
            vec![format!(
                "The reference {name} is still being measured: this mix uses the default targets; press Analyze & Mix again when it is done"
            )],
        ),
    }
}

/// The locked stages with the parameters they have now.
pub fn kept(settings: &AssistantSettings, params: &Arc<AutomixParams>) -> Option<Kept> {
    let stages: Vec<Stage> = Stage::ALL
        .into_iter()
        .filter(|s| settings.locked[*s as usize])
        .collect();
    if stages.is_empty() {
        return None;
    }
    let mut now = MixParams::default();
    params.read_into(&mut now);
    Some(Kept {
        params: now,
        stages,
    })
}
