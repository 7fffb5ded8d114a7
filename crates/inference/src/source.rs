//! Where the models come from: the built-in manifest, a folder the user chose, or the user's
//! own models folder. Shared by the mixing CNNs and the separator and VAD.

use std::path::PathBuf;

/// A folder of retrained models (with its `models.json`) to use instead of the built-in ones.
pub const MODELS_ENV: &str = "VOCAL_AUTOMIX_MODELS";

/// The built-in models' `models.json` (the repository's `models/`, trained by
/// `scripts/train-models.sh`).
pub const BUILT_IN_MANIFEST: &str = include_str!("../../../models/models.json");

/// Where the models came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    BuiltIn,
    Folder(PathBuf),
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelSource::BuiltIn => write!(f, "built in"),
            ModelSource::Folder(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The folder of models to use instead of the built-in ones: [`MODELS_ENV`] when set, else the
/// [`user_models_folder`] when it holds a `models.json`.
pub fn chosen_models_folder() -> Option<PathBuf> {
    std::env::var_os(MODELS_ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| user_models_folder().filter(|d| d.join("models.json").is_file()))
}

/// Where a user's retrained models go: `$XDG_DATA_HOME/vocal-automix/models` (or
/// `~/.local/share/…`) on Linux, `~/Library/Application Support/Vocal Automix/models` on macOS,
/// `%APPDATA%\Vocal Automix\models` on Windows.
pub fn user_models_folder() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(target_os = "windows") {
        env("APPDATA").map(|d| d.join("Vocal Automix").join("models"))
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support/Vocal Automix/models"))
    } else {
        env("XDG_DATA_HOME")
            .or_else(|| env("HOME").map(|h| h.join(".local/share")))
            .map(|d| d.join("vocal-automix").join("models"))
    }
}
