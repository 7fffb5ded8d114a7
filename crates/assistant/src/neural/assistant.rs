//! The CNN engine's part of the analysis: which stages the CNNs decide (Rules, CNN or Auto), their
//! predictions on the audio each stage sees, and how a prediction becomes a decision. The models
//! run in chain order on the vocal as the stages before have processed it; each prediction is the
//! average over the song's feature blocks.

use crate::cnn::{BATCH, CnnModels, Model};
use crate::cnn_features::gated_blocks;
use crate::loudness::Blocks;
use crate::spectrum::{Analyser, Frames};
use crate::suggestion::{
    CnnReport, CnnStage, Decider, EqDecision, EqFilter, Prediction, StageEngines, Warning,
};
use crate::{ANALYSIS_RATE, masking_eq};
use automix_dsp::chain::VocalChain;
use automix_dsp::params::{EQ_BANDS, MixParams, ParamId, Stage};

/// Bands the CNN's EQ applies: the four largest predicted changes, as the research did.
pub const EQ_APPLIED_BANDS: usize = 4;

pub(crate) struct CnnRun<'a> {
    engine: crate::Engine,
    models: Option<&'a CnnModels>,
    analyser: Analyser,
    /// The backing's frames (with mel), analysed once for the rules and all four models: it
    /// does not change from stage to stage.
    backing: Option<Frames>,
    stages: Vec<CnnStage>,
    pub deciders: StageEngines,
}

impl<'a> CnnRun<'a> {
    pub fn new(
        engine: crate::Engine,
        models: Option<&'a CnnModels>,
        backing: Option<Frames>,
    ) -> Self {
        CnnRun {
            engine,
            models,
            analyser: Analyser::new(ANALYSIS_RATE),
            backing,
            stages: Vec::new(),
            deciders: StageEngines::default(),
        }
    }

    /// Says when the CNNs were asked for and could not all be loaded.
    pub fn announce(&self, warnings: &mut Vec<Warning>) {
        if self.engine == crate::Engine::Rules {
            return;
        }
        match self.models {
            None => warnings.push(Warning::new(
                "cnn_unavailable",
                "the CNN models were not loaded: every stage uses the rules",
            )),
            Some(m) => {
                for w in &m.warnings {
                    warnings.push(Warning::new("cnn_model", w.clone()));
                }
            }
        }
    }

    /// The backing's frames (the rules read them too).
    pub fn backing(&self) -> Option<&Frames> {
        self.backing.as_ref()
    }

    fn record(
        &mut self,
        stage: Stage,
        used: bool,
        reason: String,
        blocks: usize,
        p: Vec<Prediction>,
    ) {
        self.stages.push(CnnStage {
            stage: stage.key().into(),
            used,
            reason,
            blocks,
            predictions: p,
        });
        if used {
            self.deciders.set(stage, Decider::Cnn);
        }
    }

    /// The model that is to decide `stage`, if any (the reason is recorded when none).
    fn model_for(&mut self, stage: Stage, warnings: &mut Vec<Warning>) -> Option<&'a Model> {
        let engine = self.engine;
        if engine == crate::Engine::Rules {
            return None;
        }
        let model = self.models.and_then(|m| m.get(stage));
        match (engine, model) {
            (_, None) => {
                self.record(
                    stage,
                    false,
                    "no usable model: the rules decide".into(),
                    0,
                    Vec::new(),
                );
                None
            }
            // a model nothing was held out for may be right or wildly wrong: no engine lets it
            // decide (the one-song level and compression models predicted a 0 LU range and a
            // vocal 6 dB under a professional's)
            (_, Some(m)) if !m.validated() => {
                let label = stage.label();
                let why = format!(
                    "the {label} CNN has no held-out figures (trained on too few songs to hold any out): the rules decide the {label}"
                );
                if engine == crate::Engine::Cnn {
                    warnings.push(Warning::new("cnn_not_validated", why.clone()));
                }
                self.record(stage, false, why, 0, Vec::new());
                None
            }
            (_, Some(m)) if !m.trusted_outputs().contains(&true) => {
                let label = stage.label();
                let why = format!(
                    "the {label} CNN beat the dataset mean on none of its outputs held out: the rules decide the {label}"
                );
                if engine == crate::Engine::Cnn {
                    warnings.push(Warning::new("cnn_not_trusted", why.clone()));
                }
                self.record(stage, false, why, 0, Vec::new());
                None
            }
            (crate::Engine::Auto, Some(m)) if !m.beats_mean() => {
                let why = format!("Auto keeps the rules: the model's {}", m.auto_reason());
                self.record(stage, false, why, 0, Vec::new());
                None
            }
            (_, Some(m)) => Some(m),
        }
    }

    /// `values` of `stage`'s model paired with their output names: only the outputs it is
    /// trusted with (the others keep the rules' settings).
    pub fn keyed(&self, stage: Stage, values: &[f32]) -> Vec<(String, f32)> {
        self.models
            .and_then(|m| m.get(stage))
            .map(|m| {
                m.outputs
                    .iter()
                    .zip(m.trusted_outputs())
                    .map(|(o, t)| (o.name.clone(), t))
                    .zip(values.iter().copied())
                    .filter(|((_, t), _)| *t)
                    .map(|((n, _), v)| (n, v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The model deciding `stage` (when the CNN engine may use one).
    pub fn model(&self, stage: Stage) -> Option<&'a Model> {
        self.models.and_then(|m| m.get(stage))
    }

    /// The stage's model run on `vocal` (mono, analysis rate) and the backing: each output averaged
    /// over the blocks, in its units. `None` leaves the stage to the rules (with a warning when
    /// the CNN was asked for and could not answer).
    pub fn predict(
        &mut self,
        stage: Stage,
        vocal: &[f32],
        warnings: &mut Vec<Warning>,
    ) -> Option<Vec<f32>> {
        let model = self.model_for(stage, warnings)?;
        let vf = self.analyser.frames(vocal, true);
        let lufs = Blocks::of_mono(vocal, ANALYSIS_RATE).integrated();
        self.run(model, stage, lufs, &vf, warnings)
    }

    /// As [`Self::predict`], with the vocal rendered by `vocal` only when the model runs.
    pub fn predict_with<V: AsRef<[f32]>>(
        &mut self,
        stage: Stage,
        vocal: impl FnOnce() -> V,
        warnings: &mut Vec<Warning>,
    ) -> Option<Vec<f32>> {
        let model = self.model_for(stage, warnings)?;
        let vocal = vocal();
        let vf = self.analyser.frames(vocal.as_ref(), true);
        let lufs = Blocks::of_mono(vocal.as_ref(), ANALYSIS_RATE).integrated();
        self.run(model, stage, lufs, &vf, warnings)
    }

    /// As [`Self::predict`], with the vocal's frames (with mel) and integrated loudness measured
    /// by the caller.
    pub fn predict_frames(
        &mut self,
        stage: Stage,
        vocal_lufs: f64,
        vf: &Frames,
        warnings: &mut Vec<Warning>,
    ) -> Option<Vec<f32>> {
        let model = self.model_for(stage, warnings)?;
        self.run(model, stage, Some(vocal_lufs), vf, warnings)
    }

    fn run(
        &mut self,
        model: &Model,
        stage: Stage,
        vocal_lufs: Option<f64>,
        vf: &Frames,
        warnings: &mut Vec<Warning>,
    ) -> Option<Vec<f32>> {
        let blocks = gated_blocks(vocal_lufs, vf, self.backing.as_ref());
        let label = stage.label();
        match model.predict(&blocks, BATCH) {
            Ok(Some(y)) if model.outside_training(&y).is_some() => {
                let (o, v) = model.outside_training(&y).expect("checked");
                let msg = format!(
                    "the {label} CNN predicts {} = {v:.2}, outside the {}…{} its training data covered: the rules decide the {label}",
                    o.name, o.min, o.max
                );
                warnings.push(Warning::new("cnn_outside_training", msg.clone()));
                self.record(stage, false, msg, blocks.len(), Vec::new());
                None
            }
            Ok(Some(mut y)) => {
                // inside the margin: onto the range's edge
                for (v, o) in y.iter_mut().zip(&model.outputs) {
                    *v = v.clamp(o.min, o.max);
                }
                let p = model
                    .outputs
                    .iter()
                    .zip(&y)
                    .map(|(o, v)| Prediction {
                        output: o.name.clone(),
                        value: (v * 1000.0).round() / 1000.0,
                    })
                    .collect();
                let why = match self.engine {
                    crate::Engine::Auto => {
                        format!("Auto uses the CNN: its {}", model.auto_reason())
                    }
                    _ => "the CNN engine was chosen".into(),
                };
                self.record(stage, true, why, blocks.len(), p);
                Some(y)
            }
            Ok(None) => {
                let msg = format!(
                    "under {:.1} s of singing above the vocal-activity gate: the {label} CNN needs one whole block, so the rules decide the {label}",
                    crate::cnn_features::BLOCK_FRAMES as f64 * 1024.0 / ANALYSIS_RATE as f64
                );
                warnings.push(Warning::new("cnn_too_little_singing", msg.clone()));
                self.record(stage, false, msg, 0, Vec::new());
                None
            }
            Err(e) => {
                let msg = format!("{e}: the rules decide the {label}");
                warnings.push(Warning::new("cnn_failed", msg.clone()));
                self.record(stage, false, msg, blocks.len(), Vec::new());
                None
            }
        }
    }

    pub fn report(self) -> Option<CnnReport> {
        if self.engine == crate::Engine::Rules {
            return None;
        }
        Some(CnnReport {
            backend: self.models.map_or("none".into(), |m| m.backend.to_string()),
            models: self.models.map_or("none".into(), |m| m.source.to_string()),
            stages: self.stages,
        })
    }
}

/// The CNN's EQ: the model reads how the vocal's tone departs from the tone of the vocals it was
/// trained on (its target is the random EQ that was applied to them), so the assistant undoes
/// its predictions — but only where it can be trusted: in a band whose held-out error beat the
/// dataset mean's (`trusted`), and only by the part of the departure beyond that error
/// (`error_db`); a smaller departure is indistinguishable from the model's own error. Elsewhere
/// the rules' gain stays. Of the bands that move, the four largest are kept, as the research
/// did.
pub(crate) fn eq_decision(
    mut rules: EqDecision,
    predicted: &[f32],
    trusted: &[bool],
    error_db: &[Option<f64>],
) -> EqDecision {
    let n = predicted.len().min(EQ_BANDS.len());
    let rules_gain: Vec<f64> = (0..n)
        .map(|b| rules.bands.get(b).map_or(0.0, |r| r.gain_db as f64))
        .collect();
    let wanted: Vec<f64> = (0..n)
        .map(|b| {
            let cnn = -(predicted[b] as f64);
            match (trusted.get(b), error_db.get(b).copied().flatten()) {
                (Some(true), Some(e)) => {
                    let d = cnn - rules_gain[b];
                    rules_gain[b] + d.signum() * (d.abs() - e).max(0.0)
                }
                _ => rules_gain[b],
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..n).filter(|&b| wanted[b] != 0.0).collect();
    order.sort_by(|&a, &b| wanted[b].abs().total_cmp(&wanted[a].abs()));
    let chosen: Vec<usize> = order.into_iter().take(EQ_APPLIED_BANDS).collect();
    let mut filters = Vec::new();
    for (band, (_, gain_id, _)) in EQ_BANDS.iter().enumerate().take(n) {
        let spec = gain_id.spec();
        let gain = if chosen.contains(&band) {
            (((wanted[band] * 10.0).round() / 10.0) as f32).clamp(spec.min, spec.max)
        } else {
            0.0
        };
        let from_cnn = (wanted[band] - rules_gain[band]).abs() > 1e-9;
        if let Some(b) = rules.bands.get_mut(band) {
            b.gain_db = gain;
        }
        if gain == 0.0 {
            continue;
        }
        let hz = EQ_BANDS[band].0;
        let reason = if from_cnn {
            format!(
                "the CNN hears the vocal {:+.1} dB off around {}: {gain:+.1} dB, the part beyond its held-out error of {:.1} dB",
                predicted[band],
                masking_eq::hz_text(hz),
                error_db[band].unwrap_or_default()
            )
        } else {
            rules.filters.iter().find(|f| f.hz == hz).map_or_else(
                || format!("{gain:+.1} dB (the rules)"),
                |f| f.reason.clone(),
            )
        };
        filters.push(EqFilter {
            hz,
            gain_db: gain,
            q: masking_eq::Q,
            reason,
        });
    }
    let trusted_bands = trusted.iter().filter(|t| **t).count();
    rules.filters = filters;
    rules.reason = format!(
        "the EQ CNN's predicted departures (of nine: {}), undone beyond its error in the {trusted_bands} band(s) where it beat the dataset mean held out; the rules elsewhere: {}",
        predicted
            .iter()
            .map(|g| format!("{g:+.1}"))
            .collect::<Vec<_>>()
            .join(", "),
        rules.reason
    );
    rules
}

/// Sets the reverb parameters the model predicts (by their keys in `models.json`), clamped to
/// their ranges. Returns how many it set.
pub(crate) fn apply_by_key(params: &mut MixParams, model: &[(String, f32)]) -> usize {
    let mut set = 0;
    for (key, v) in model {
        if let Some(id) = ParamId::from_key(key) {
            params.set(id, *v);
            set += 1;
        }
    }
    set
}

/// The compressed vocal through the chain's reverb alone (level 0 dB), folded to mono as the
/// features take it: what the level model sees.
pub(crate) fn reverberated(compressed: &[f32], params: &MixParams) -> Vec<f32> {
    let mut p = params.clone();
    for stage in [Stage::Eq, Stage::Compressor, Stage::Level] {
        p.set(stage.bypass(), 1.0);
    }
    p.set(ParamId::LevelGain, 0.0);
    let mut chain = VocalChain::new();
    chain.set_params_immediate(&p);
    chain
        .prepare(ANALYSIS_RATE as f32)
        .expect("the analysis rate is supported");
    // as `automix dataset` renders its examples: the vocal on both sides
    let (mut l, mut r) = (compressed.to_vec(), compressed.to_vec());
    chain.process_stereo(&mut l, &mut r);
    l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eq_undoes_trusted_departures_beyond_the_models_error_and_keeps_the_rules_elsewhere() {
        let mut rules = masking_eq::flat(Some(&[-20.0; 9]), "flat");
        rules.bands[4].gain_db = -3.0;
        let predicted = [1.0, -7.5, 0.2, 12.0, -0.5, 3.0, -2.9, 0.0, 20.0];
        let mut trusted = [true; 9];
        trusted[3] = false;
        let error = [Some(4.0); 9];
        let d = eq_decision(rules, &predicted, &trusted, &error);
        let gains: Vec<f32> = d.bands.iter().map(|b| b.gain_db).collect();
        // 125 Hz: 7.5 − 4 undone; 500 Hz untrusted: nothing; 1 kHz: the rules' −3 stays (the
        // CNN's +0.5 is inside its error); 16 kHz: −(20 − 4), clamped to the band's ±15
        assert_eq!(gains, [0.0, 3.5, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0, -15.0]);
        assert_eq!(d.filters.len(), 3);
        assert!(d.filters.iter().all(|f| f.q == masking_eq::Q));
        // with nothing trusted the rules' EQ comes back as it was
        let mut rules = masking_eq::flat(Some(&[-20.0; 9]), "flat");
        rules.bands[4].gain_db = -3.0;
        let d = eq_decision(rules, &predicted, &[false; 9], &error);
        let gains: Vec<f32> = d.bands.iter().map(|b| b.gain_db).collect();
        assert_eq!(gains, [0.0, 0.0, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0, 0.0]);
    }
}
