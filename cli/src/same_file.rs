//! No command writes over one of its inputs, nor writes two outputs to one file: a take that is
//! overwritten by its own mix cannot be sung again. Checked before any work, for the file itself
//! whatever the path says — `./take.wav`, a symbolic link, a hard link — by its device and inode
//! on Unix (its canonical path elsewhere).

use std::path::{Path, PathBuf};

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum FileId {
    /// An existing file.
    #[cfg(unix)]
    Inode(u64, u64),
    /// A file by its canonical path (one that does not exist yet: its folder's canonical path and
    /// its name).
    Path(PathBuf),
}

fn id(path: &Path) -> Option<FileId> {
    if let Ok(m) = std::fs::metadata(path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            return Some(FileId::Inode(m.dev(), m.ino()));
        }
        #[cfg(not(unix))]
        {
            let _ = m;
            return std::fs::canonicalize(path).ok().map(FileId::Path);
        }
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
    Some(FileId::Path(parent.join(name)))
}

/// A file a command reads or writes, with how the user named it (`"the vocal (--vocal)"`).
pub struct Named<'a> {
    pub what: &'a str,
    pub path: &'a Path,
}

impl<'a> Named<'a> {
    pub fn new(what: &'a str, path: &'a Path) -> Self {
        Named { what, path }
    }
}

/// Refuses, in one line naming both, an output that is one of the inputs or another output.
pub fn check(inputs: &[Named], outputs: &[Named]) -> Result<(), String> {
    let input_ids: Vec<(&Named, Option<FileId>)> = inputs.iter().map(|n| (n, id(n.path))).collect();
    let mut seen: Vec<(&Named, FileId)> = Vec::new();
    for out in outputs {
        let Some(out_id) = id(out.path) else {
            continue;
        };
        if let Some((input, _)) = input_ids.iter().find(|(_, i)| i.as_ref() == Some(&out_id)) {
            return Err(format!(
                "{} ({}) is the same file as {} ({}): refusing to write over an input; choose another output",
                out.what,
                out.path.display(),
                input.what,
                input.path.display()
            ));
        }
        if let Some((other, _)) = seen.iter().find(|(_, i)| *i == out_id) {
            return Err(format!(
                "{} ({}) and {} ({}) are the same file: give each output its own name",
                other.what,
                other.path.display(),
                out.what,
                out.path.display()
            ));
        }
        seen.push((out, out_id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("automix-same-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn an_input_by_any_path_is_refused_and_other_files_pass() {
        let d = dir("paths");
        let take = d.join("take.wav");
        std::fs::write(&take, b"x").unwrap();
        let input = [Named::new("the vocal (--vocal)", &take)];
        // the same path, through "./" and "..", a symbolic and a hard link
        let dotted = d.join(".").join("sub").join("..").join("take.wav");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        let sym = d.join("sym.wav");
        let hard = d.join("hard.wav");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&take, &sym).unwrap();
        std::fs::hard_link(&take, &hard).unwrap();
        for p in [&take, &dotted, &sym, &hard] {
            if !p.exists() {
                continue;
            }
            let err = check(&input, &[Named::new("the mix (-o)", p)]).unwrap_err();
            assert!(
                err.contains("the mix (-o)") && err.contains("the vocal (--vocal)"),
                "{err}"
            );
        }
        // a new file, and an existing other file, are fine
        std::fs::write(d.join("other.wav"), b"y").unwrap();
        for p in [d.join("new.wav"), d.join("other.wav")] {
            check(&input, &[Named::new("the mix (-o)", &p)]).unwrap();
        }
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn two_outputs_to_one_file_are_refused_even_before_it_exists() {
        let d = dir("outputs");
        let a = d.join("mix.wav");
        let b = d.join(".").join("mix.wav");
        let err = check(
            &[],
            &[
                Named::new("the mix (-o)", &a),
                Named::new("the vocal (--vocal-out)", &b),
            ],
        )
        .unwrap_err();
        assert!(
            err.contains("same file") && err.contains("--vocal-out"),
            "{err}"
        );
        std::fs::remove_dir_all(&d).ok();
    }
}
