//! Analyze & Mix's work on the host's main thread: parameter changes made as the user would
//! make them (begin, set, end), so the host records undo and automation and its own view of the
//! parameters follows. The audio thread then glides to the new values (the engine smooths them).

use engine::MixParams;

use crate::assistant_settings::LastMix;
use crate::host_params::AutomixParams;
use crate::session::{MainTask, Phase, Shared};

pub fn run(task: MainTask, shared: &Shared, params: &AutomixParams) {
    let Some(context) = shared.context.lock().clone() else {
        shared.update(|s| {
            s.phase = Phase::Failed;
            s.message = "The host offers no way to change parameters".into();
        });
        return;
    };
    let setter = context.param_setter();
    match task {
        MainTask::Apply => {
            let Some(suggestion) = shared.to_apply.lock().take() else {
                return;
            };
            let mut before = MixParams::default();
            params.read_into(&mut before);
            let changed = params.set_as_user(&setter, &suggestion.params);
            params.settings.write().last_mix = Some(LastMix::new((*suggestion).clone(), &before));
            *shared.before.lock() = Some(before);
            // pressed again since the analysis ended: that new pass goes on
            let again = shared.status.lock().phase == Phase::Listening;
            if !again {
                // a pass that ended by itself leaves the trigger on
                params.set_analyze(&setter, false);
            }
            shared.update(|s| {
                s.suggestion = Some(suggestion);
                if again {
                    return;
                }
                s.phase = Phase::Applied;
                s.progress = 1.0;
                s.message = match changed {
                    0 => "Mixed: the suggestion equals the current settings".into(),
                    1 => "Mixed: 1 setting changed (undo in the host, or Revert)".into(),
                    n => format!("Mixed: {n} settings changed (undo in the host, or Revert)"),
                };
            });
        }
        MainTask::Release => params.set_analyze(&setter, false),
        MainTask::Revert => {
            let Some(before) = shared.before.lock().take() else {
                return;
            };
            params.set_as_user(&setter, &before);
            params.settings.write().last_mix = None;
            shared.update(|s| {
                s.message = "Reverted to the settings from before the last analysis".into();
            });
        }
    }
}
