//! The editor (egui): Analyze & Mix with its status, each stage's suggested values beside the
//! current ones with the suggestion's reasons, A/B at matched loudness, revert, bypasses, the
//! octave bands of vocal and backing with the masked ones marked, the compressor's gain reduction
//! and the measured loudnesses.
//!
//! Every control goes through the host's parameters (begin/set/end gestures), so what the editor
//! does is recorded, undoable and automatable like a knob turned in the host. The drawings live in
//! `editor_widgets.rs`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use egui::{self, Color32, RichText};
use engine::ParamId;
use engine::analysis::Engine;
use engine::analysis::suggestion::Decider;
use engine::params::{ParamSpec, Stage};
use nice_plug::context::gui::{GuiContext, ParamSetter};
use nice_plug::editor::ResizeHint;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp, RepaintNotifier,
    create_egui_editor,
};

use crate::editor_reference;
use crate::editor_widgets::{RIDE_HISTORY, band_view, gain_reduction_meter, ride_view};
use crate::host_params::{AutomixParams, HostParamRef};
use crate::session::{MainTask, Phase, Shared, Status};

const WIDTH: f32 = 860.0;
const HEIGHT: f32 = 620.0;

pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(LogicalSize::new(WIDTH, HEIGHT), 1.0)
}

pub fn create(
    params: Arc<AutomixParams>,
    shared: Arc<Shared>,
    state: Arc<EguiEditorState>,
) -> Option<EguiEditor<AutomixEditor>> {
    let settings = EguiNiceSettings {
        title: "Vocal Automix".into(),
        resize_hint: ResizeHint::resizable()
            .with_min_logical_size(LogicalSize::new(WIDTH * 0.75, HEIGHT * 0.75)),
        ..Default::default()
    };
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        settings,
        AutomixEditor {
            params,
            shared,
            context: None,
            gain_reduction_db: 0.0,
            de_esser_db: 0.0,
            ride_history: std::collections::VecDeque::with_capacity(RIDE_HISTORY),
            browser: None,
        },
    )
}

pub struct AutomixEditor {
    params: Arc<AutomixParams>,
    shared: Arc<Shared>,
    context: Option<GuiContext>,
    /// The meter as drawn: jumps to new reduction, falls back slowly.
    gain_reduction_db: f32,
    /// The de-esser's reduction, drawn the same way.
    de_esser_db: f32,
    /// The ride's gain, one value a frame (about 30 a second), newest last.
    ride_history: std::collections::VecDeque<f32>,
    /// The reference browser, while open.
    browser: Option<editor_reference::Browser>,
}

impl NiceEguiApp for AutomixEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        context: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        egui_ctx.set_visuals(egui::Visuals::dark());
        self.context = Some(context);
        Ok(())
    }

    fn editor_closed(&mut self) {
        self.context = None;
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        let Some(context) = self.context.clone() else {
            return;
        };
        let setter = context.param_setter();
        let status = self.shared.status();
        let reduction = self
            .shared
            .meters
            .gain_reduction_db
            .swap(0.0, Ordering::Relaxed);
        // 20 dB/s fall-back at about 30 frames/s
        self.gain_reduction_db = reduction.min(self.gain_reduction_db + 0.7).min(0.0);
        let meters = &self.shared.meters;
        let de_essed = meters.de_esser_db.swap(0.0, Ordering::Relaxed);
        self.de_esser_db = de_essed.min(self.de_esser_db + 0.7).min(0.0);
        if self.ride_history.len() == RIDE_HISTORY {
            self.ride_history.pop_front();
        }
        self.ride_history
            .push_back(meters.ride_gain_db.load(Ordering::Relaxed));
        ui.ctx().request_repaint_after(Duration::from_millis(33));

        egui::Panel::top("assistant").show(ui, |ui| {
            self.assistant_bar(ui, &setter, &status);
        });
        egui::Panel::right("meters")
            .resizable(false)
            .show(ui, |ui| self.meters(ui, &status));
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                editor_reference::panel(
                    ui,
                    &self.params.settings,
                    &mut self.browser,
                    status.reference_progress,
                );
                ui.add_space(6.0);
                for stage in Stage::ALL {
                    self.stage(ui, &setter, &status, stage);
                }
            });
        });
    }
}

impl AutomixEditor {
    /// The engine menu: who decides each stage at the next Analyze & Mix.
    fn engine_choice(&self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let engine = self.params.engine();
        egui::ComboBox::from_id_salt("engine")
            .selected_text(format!("Engine: {}", engine.label()))
            .show_ui(ui, |ui| {
                for e in Engine::ALL {
                    let hint = match e {
                        Engine::Rules => "The research's rules for every stage",
                        Engine::Cnn => "The CNNs for every stage (the rules where a model cannot answer)",
                        Engine::Auto => "Per stage, the CNN only where it beat the dataset mean on held-out songs",
                    };
                    if ui.selectable_label(e == engine, e.label()).on_hover_text(hint).clicked() {
                        self.params.set_engine(setter, e);
                    }
                }
            })
            .response
            .on_hover_text("Who decides each stage at the next Analyze & Mix");
    }

    fn assistant_bar(&self, ui: &mut egui::Ui, setter: &ParamSetter, status: &Status) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            let listening = self.params.analyze_on();
            let label = if listening {
                "Stop and mix"
            } else {
                "Analyze & Mix"
            };
            let button = egui::Button::new(RichText::new(label).strong().size(16.0))
                .selected(listening)
                .min_size(egui::vec2(150.0, 30.0));
            // pressing during an analysis drops it and starts a new pass
            if ui
                .add(button)
                .on_hover_text("Press, play the song (10 s of singing at least), press again")
                .clicked()
            {
                self.params.set_analyze(setter, !listening);
            }

            let mut unprocessed = self.shared.unprocessed.load(Ordering::Relaxed);
            let ab = if unprocessed {
                "B: unprocessed"
            } else {
                "A: mix"
            };
            if ui
                .toggle_value(&mut unprocessed, ab)
                .on_hover_text(
                    "Compare the mix with the unprocessed vocal raised or lowered to the same loudness",
                )
                .changed()
            {
                self.shared.unprocessed.store(unprocessed, Ordering::Relaxed);
            }

            self.engine_choice(ui, setter);
            editor_reference::gate_choice(ui, &self.params.settings);

            let can_revert = self.shared.before.lock().is_some();
            if ui
                .add_enabled(can_revert, egui::Button::new("Revert"))
                .on_hover_text("Back to the settings from before the last analysis")
                .clicked()
            {
                self.shared.on_main_thread(MainTask::Revert);
            }
        });
        ui.add_space(2.0);
        let colour = match status.phase {
            Phase::Failed => Color32::from_rgb(255, 140, 110),
            Phase::Applied => Color32::from_rgb(140, 220, 140),
            _ => ui.visuals().text_color(),
        };
        ui.label(RichText::new(&status.message).color(colour).size(14.0));
        match status.phase {
            Phase::Listening => {
                let fraction = (status.vocal_seconds / crate::session::NEEDED_SECONDS) as f32;
                ui.add(egui::ProgressBar::new(fraction.min(1.0)).text(format!(
                    "{:.1} s of singing in {:.1} s heard",
                    status.vocal_seconds, status.heard_seconds
                )));
            }
            Phase::Analyzing => {
                ui.add(egui::ProgressBar::new(status.progress).show_percentage());
            }
            _ => {}
        }
        for w in &status.warnings {
            ui.label(RichText::new(format!("Warning: {w}")).color(Color32::from_rgb(240, 200, 90)));
        }
        ui.add_space(4.0);
    }

    fn meters(&self, ui: &mut egui::Ui, status: &Status) {
        ui.set_min_width(230.0);
        ui.heading("Bands");
        let bands = status.suggestion.as_ref().map(|s| s.eq.bands.as_slice());
        band_view(ui, bands.unwrap_or(&[]));
        ui.separator();
        ui.horizontal(|ui| {
            gain_reduction_meter(ui, self.gain_reduction_db);
            ui.vertical(|ui| {
                ui.label(RichText::new("Loudness").strong());
                let lufs = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.1} LUFS"));
                match &status.suggestion {
                    Some(s) => {
                        ui.label(format!("Vocal: {}", lufs(s.inputs.vocal.integrated_lufs)));
                        ui.label(format!(
                            "Backing: {}",
                            lufs(s.inputs.backing.as_ref().and_then(|b| b.integrated_lufs))
                        ));
                        ui.label(format!(
                            "Vocal mixed: {}",
                            lufs(
                                s.level
                                    .processed_vocal_lufs
                                    .map(|v| v + s.level.gain_db as f64)
                            )
                        ));
                        ui.label(format!(
                            "Range: {} to {} LU",
                            lu(s.compression.loudness_range_before_lu),
                            lu(s.compression.loudness_range_after_lu)
                        ));
                    }
                    None => {
                        ui.label("measured by Analyze & Mix");
                    }
                }
                let g = self.shared.meters.match_gain_db.load(Ordering::Relaxed);
                ui.label(format!("A/B match: {g:+.1} dB"));
                ui.label(format!("De-esser: {:.1} dB", self.de_esser_db))
                    .on_hover_text("the de-esser's reduction of the upper band");
            });
        });
        ui.separator();
        let on = self.params.value(ParamId::RideOn) >= 0.5;
        ui.label(RichText::new(if on { "Ride" } else { "Ride (off)" }).strong())
            .on_hover_text("The ride's gain over the last 10 s, on top of the Vocal Level");
        ride_view(
            ui,
            &self.ride_history,
            self.params.value(ParamId::RideRange),
        );
    }

    fn stage(&self, ui: &mut egui::Ui, setter: &ParamSetter, status: &Status, stage: Stage) {
        let suggestion = status.suggestion.as_deref();
        let reason = suggestion.map(|s| s.reason(stage));
        let rest: Vec<&'static ParamSpec> =
            stage.params().filter(|p| p.id != stage.bypass()).collect();
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new(stage.name()).strong().size(15.0));
                self.toggle(ui, setter, stage.bypass(), "Bypass");
                // who decided this stage at the last analysis (the suggestion records it)
                if let Some(s) = suggestion {
                    let by = match s.stages.get(stage) {
                        Decider::Rules => "by the rules",
                        Decider::Cnn => "by the CNN",
                    };
                    ui.label(RichText::new(by).weak())
                        .on_hover_text("Which engine decided this stage at the last Analyze & Mix");
                }
            });
            if let Some(reason) = reason {
                ui.label(RichText::new(reason).italics());
            }
            if stage == Stage::Eq
                && let Some(s) = suggestion
            {
                for f in &s.eq.filters {
                    ui.label(format!("• {}", f.reason));
                }
            }
            let title = stage.name();
            egui::CollapsingHeader::new(format!("{title} settings"))
                .id_salt(title)
                .default_open(stage != Stage::Eq)
                .show(ui, |ui| {
                    egui::Grid::new(title)
                        .num_columns(3)
                        .striped(true)
                        .show(ui, |ui| {
                            ui.label(RichText::new("").weak());
                            ui.label(RichText::new("now").weak());
                            ui.label(RichText::new("suggested").weak());
                            ui.end_row();
                            for spec in &rest {
                                ui.label(spec.name);
                                self.control(ui, setter, spec.id);
                                match suggestion {
                                    Some(s) => {
                                        let v = s.params.get(spec.id);
                                        let now = self.params.value(spec.id);
                                        let text = RichText::new(spec.format(v));
                                        ui.label(if spec.format(now) == spec.format(v) {
                                            text.weak()
                                        } else {
                                            text.color(Color32::from_rgb(240, 200, 90))
                                        });
                                    }
                                    None => {
                                        ui.label("");
                                    }
                                }
                                ui.end_row();
                            }
                        });
                });
        });
        ui.add_space(6.0);
    }

    fn control(&self, ui: &mut egui::Ui, setter: &ParamSetter, id: ParamId) {
        match self.params.host_param(id) {
            HostParamRef::Float(p) => {
                ui.add(ParamSlider::for_param(p, setter).with_width(180.0));
            }
            HostParamRef::Choice(p) => {
                ui.add(ParamSlider::for_param(p, setter).with_width(180.0));
            }
            HostParamRef::Bool(_) => self.toggle(ui, setter, id, ""),
        }
    }

    fn toggle(&self, ui: &mut egui::Ui, setter: &ParamSetter, id: ParamId, label: &str) {
        let HostParamRef::Bool(p) = self.params.host_param(id) else {
            return;
        };
        let mut on = p.value();
        let text = if label.is_empty() {
            if on { "On" } else { "Off" }
        } else {
            label
        };
        if ui.toggle_value(&mut on, text).changed() {
            setter.begin_set_parameter(p);
            setter.set_parameter(p, on);
            setter.end_set_parameter(p);
        }
    }
}

fn lu(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.1}"))
}
