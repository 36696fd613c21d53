//! Writing and deleting inside one folder without ever leaving it.
//!
//! Every relative path is walked one component at a time with
//! `symlink_metadata`, which never follows a link: a component that is a
//! symlink (one a hostile manifest had restore create, one a checkout
//! brought, or one already in the folder) is refused instead of followed.
//! Files are created with `create_new` (O_CREAT|O_EXCL), which does not
//! follow a link at the last component either. No capture lists a path
//! through a symlink (git tracks the link, a folder walk does not follow
//! it), so refusing them costs a legitimate restore nothing.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use runlore_core::Error;

/// A folder whose inside is the only place paths may reach.
pub struct Confined {
    root: PathBuf,
}

fn refuse(rel: &Path, why: String) -> anyhow::Error {
    Error::invalid(format!(
        "refusing \"{}\": {why}",
        rel.to_string_lossy().escape_debug()
    ))
    .into()
}

impl Confined {
    /// `root` is resolved once (the user chose it, links and all); nothing
    /// below it is followed.
    pub fn new(root: &Path) -> Result<Confined> {
        let root = root
            .canonicalize()
            .with_context(|| format!("cannot open {}", root.display()))?;
        Ok(Confined { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `rel`'s components, refused unless every one is a plain name.
    fn names(rel: &Path) -> Result<Vec<&OsStr>> {
        let mut names = Vec::new();
        for component in rel.components() {
            match component {
                Component::Normal(name) => names.push(name),
                _ => return Err(refuse(rel, "it is not a plain relative path".to_owned())),
            }
        }
        if names.is_empty() {
            return Err(refuse(rel, "it is empty".to_owned()));
        }
        Ok(names)
    }

    /// Walks (and, with `create`, makes) the folders above `rel`'s last
    /// component. `None` when one is missing and `create` is off.
    fn parent(&self, rel: &Path, create: bool) -> Result<Option<PathBuf>> {
        let names = Self::names(rel)?;
        let mut dir = self.root.clone();
        for name in &names[..names.len() - 1] {
            dir.push(name);
            match std::fs::symlink_metadata(&dir) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(refuse(
                        rel,
                        format!(
                            "{} is a symbolic link; restore never follows one, as it could lead outside {}",
                            dir.display(),
                            self.root.display()
                        ),
                    ));
                }
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(refuse(rel, format!("{} is not a folder", dir.display())));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    match std::fs::create_dir(&dir) {
                        Ok(()) => {}
                        // Another write made it meanwhile: look again.
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                            let meta = std::fs::symlink_metadata(&dir)?;
                            if !meta.is_dir() {
                                return Err(refuse(
                                    rel,
                                    format!("{} is not a folder", dir.display()),
                                ));
                            }
                        }
                        Err(e) => {
                            return Err(anyhow::Error::new(e)
                                .context(format!("cannot create {}", dir.display())));
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => {
                    return Err(
                        anyhow::Error::new(e).context(format!("cannot open {}", dir.display()))
                    );
                }
            }
        }
        Ok(Some(dir))
    }

    /// The place of `rel` with its folders made, anything already at the
    /// last component (a file or a link, never followed) removed.
    fn fresh(&self, rel: &Path) -> Result<PathBuf> {
        let Some(dir) = self.parent(rel, true)? else {
            return Err(refuse(rel, "its folder cannot be made".to_owned()));
        };
        let abs = dir.join(rel.file_name().unwrap_or_default());
        if let Ok(meta) = std::fs::symlink_metadata(&abs) {
            if meta.is_dir() {
                return Err(refuse(rel, format!("{} is a folder", abs.display())));
            }
            std::fs::remove_file(&abs)
                .with_context(|| format!("cannot replace {}", abs.display()))?;
        }
        Ok(abs)
    }

    /// Where `rel` goes, its folders made without following a link; what is
    /// there now (a file or a link) is left for the caller to replace by
    /// rename, which replaces a link itself, never its target.
    pub fn place(&self, rel: &Path) -> Result<PathBuf> {
        let Some(dir) = self.parent(rel, true)? else {
            return Err(refuse(rel, "its folder cannot be made".to_owned()));
        };
        let abs = dir.join(rel.file_name().unwrap_or_default());
        if std::fs::symlink_metadata(&abs).is_ok_and(|m| m.is_dir()) {
            return Err(refuse(rel, format!("{} is a folder", abs.display())));
        }
        Ok(abs)
    }

    /// Writes a regular file with exactly `mode`.
    pub fn write(&self, rel: &Path, bytes: &[u8], mode: u32) -> Result<()> {
        let abs = self.fresh(rel)?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&abs)
            .with_context(|| format!("cannot write {}", abs.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("cannot write {}", abs.display()))?;
        // On the open file, so the umask does not decide and no path is
        // looked up again.
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", abs.display()))?;
        Ok(())
    }

    /// Creates a symlink holding `target` as is; the target is never
    /// looked at, so it may point anywhere or nowhere.
    pub fn symlink(&self, rel: &Path, target: &[u8]) -> Result<()> {
        let abs = self.fresh(rel)?;
        std::os::unix::fs::symlink(OsStr::from_bytes(target), &abs)
            .with_context(|| format!("cannot create link {}", abs.display()))
    }

    /// Removes the file or link at `rel`; `false` when nothing is there.
    pub fn remove(&self, rel: &Path) -> Result<bool> {
        let Some(dir) = self.parent(rel, false)? else {
            return Ok(false);
        };
        let abs = dir.join(rel.file_name().unwrap_or_default());
        match std::fs::symlink_metadata(&abs) {
            Ok(meta) if meta.is_dir() => Err(refuse(
                rel,
                format!("{} is a folder, not a file", abs.display()),
            )),
            Ok(_) => {
                std::fs::remove_file(&abs)
                    .with_context(|| format!("cannot remove {}", abs.display()))?;
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// `rel` as an existing folder reached without links (`""`: the root).
    pub fn folder(&self, rel: &Path) -> Result<PathBuf> {
        if rel.as_os_str().is_empty() {
            return Ok(self.root.clone());
        }
        let Some(dir) = self.parent(rel, false)? else {
            return Err(refuse(rel, "it does not exist".to_owned()));
        };
        let abs = dir.join(rel.file_name().unwrap_or_default());
        let meta = std::fs::symlink_metadata(&abs)
            .with_context(|| format!("cannot open {}", abs.display()))?;
        if !meta.is_dir() {
            return Err(refuse(rel, format!("{} is not a folder", abs.display())));
        }
        Ok(abs)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn links_in_the_folder_are_never_followed_for_writes_or_removals() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        let inside = tmp.path().join("inside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::create_dir_all(&inside).unwrap();
        std::fs::write(outside.join("victim.txt"), b"keep").unwrap();
        std::os::unix::fs::symlink(&outside, inside.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.join("victim.txt"), inside.join("file-link")).unwrap();
        let confined = Confined::new(&inside).unwrap();

        let err = confined
            .write(Path::new("link/pwned.txt"), b"x", 0o644)
            .unwrap_err();
        assert!(format!("{err:#}").contains("symbolic link"), "{err:#}");
        assert!(!outside.join("pwned.txt").exists());
        let err = confined.remove(Path::new("link/victim.txt")).unwrap_err();
        assert!(format!("{err:#}").contains("symbolic link"), "{err:#}");
        assert!(confined.write(Path::new("../x"), b"x", 0o644).is_err());
        assert!(confined.write(Path::new("/tmp/x"), b"x", 0o644).is_err());
        assert!(confined.folder(Path::new("link")).is_err());

        // Writing over a link replaces the link, not what it points at.
        confined
            .write(Path::new("file-link"), b"new", 0o755)
            .unwrap();
        assert_eq!(std::fs::read(outside.join("victim.txt")).unwrap(), b"keep");
        let meta = std::fs::symlink_metadata(inside.join("file-link")).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        assert!(confined.remove(Path::new("file-link")).unwrap());
        assert!(!confined.remove(Path::new("missing/x")).unwrap());
    }
}
