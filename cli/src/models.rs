//! `automix models`: which CNN models the assistant would use, their held-out figures, and the
//! backend that runs them; `--predict` runs one model on saved feature blocks (the format
//! `automix dataset` writes), for checking the Rust inference against ONNX Runtime in Python.

use std::path::{Path, PathBuf};

use engine::analysis::cnn::{BATCH, CnnModels, Task};
use engine::analysis::cnn_features::BLOCK_LEN;

pub struct ModelsJob {
    /// A folder of models instead of the ones the assistant would pick.
    pub folder: Option<PathBuf>,
    /// (task, features file, output file): raw outputs of one model, examples × outputs, f32 LE.
    pub predict: Option<(String, PathBuf, PathBuf)>,
}

pub fn run(job: &ModelsJob, say: &mut dyn FnMut(String)) -> Result<(), String> {
    let models = match &job.folder {
        Some(dir) => CnnModels::from_folder(dir),
        None => CnnModels::load(),
    };
    if let Some((task, features, out)) = &job.predict {
        return predict(&models, task, features, out);
    }
    println!("models: {}", models.source);
    println!("backend: {}", models.backend);
    for task in Task::ALL {
        match models.get(task) {
            Some(m) => println!(
                "{:<12} {} outputs; {}; Auto uses {}",
                task.name(),
                m.outputs.len(),
                m.auto_reason(),
                if m.beats_mean() {
                    "the CNN"
                } else {
                    "the rules"
                }
            ),
            None => println!("{:<12} not usable: the rules decide", task.name()),
        }
    }
    for w in &models.warnings {
        say(format!("warning: {w}"));
    }
    Ok(())
}

fn predict(models: &CnnModels, task: &str, features: &Path, out: &Path) -> Result<(), String> {
    let task = Task::ALL
        .into_iter()
        .find(|t| t.name() == task)
        .ok_or_else(|| format!("no model called `{task}` (eq, compression, reverb, level)"))?;
    let model = models.get(task).ok_or_else(|| {
        format!(
            "the {} model is not usable: {}",
            task.label(),
            models.warnings.join("; ")
        )
    })?;
    let bytes = std::fs::read(features).map_err(|e| format!("{}: {e}", features.display()))?;
    if bytes.len() % (4 * BLOCK_LEN) != 0 {
        return Err(format!(
            "{}: not whole feature blocks of 2 × 128 × 64 float32 values",
            features.display()
        ));
    }
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut raw = Vec::new();
    for chunk in values.chunks(BATCH * BLOCK_LEN) {
        raw.extend(model.run(chunk.len() / BLOCK_LEN, chunk.to_vec())?);
    }
    let bytes: Vec<u8> = raw.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))
}
