//! Where things live inside the store: `sha256/ab/cdef…` for blobs,
//! `sha256/ab/cdef….chunks` for their chunk digests (see `chunks.rs`),
//! `tmp/<uuid>` for uploads in progress.

use object_store::path::Path;
use runlore_core::Sha256Hex;

/// The folder that holds every blob.
pub(crate) const BLOBS: &str = "sha256";
/// The folder that holds uploads in progress.
pub(crate) const TEMP: &str = "tmp";

/// The key of a blob: its digest split after the second hex digit.
pub(crate) fn blob_path(sha256: &Sha256Hex) -> Path {
    let hex = sha256.as_str();
    // Both halves are ASCII hex (Sha256Hex guarantees 64 of them), so the
    // split is on a character boundary.
    let (head, tail) = hex.split_at(2);
    Path::from_iter([BLOBS, head, tail])
}

/// The key of a blob's chunk digests, next to the blob. Listing skips it
/// (the name is not 62 hex digits), so garbage collection never sees it as
/// a blob of its own.
pub(crate) fn sidecar_path(sha256: &Sha256Hex) -> Path {
    let hex = sha256.as_str();
    let (head, tail) = hex.split_at(2);
    let name = format!("{tail}.chunks");
    Path::from_iter([BLOBS, head, name.as_str()])
}

/// A fresh key for one upload; the random name keeps concurrent uploads,
/// from this process or another replica, apart.
pub(crate) fn temp_path() -> Path {
    let name = uuid::Uuid::new_v4().simple().to_string();
    Path::from_iter([TEMP, name.as_str()])
}

/// The digest a listed key stands for, or `None` for anything that does not
/// follow the layout (stray files, other tools' objects).
pub(crate) fn parse_blob_path(path: &Path) -> Option<Sha256Hex> {
    let parts: Vec<_> = path.parts().collect();
    let [root, head, tail] = parts.as_slice() else {
        return None;
    };
    if root.as_ref() != BLOBS || head.as_ref().len() != 2 || tail.as_ref().len() != 62 {
        return None;
    }
    let hex = format!("{}{}", head.as_ref(), tail.as_ref());
    Sha256Hex::parse(&hex).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn blob_paths_round_trip() -> runlore_core::Result<()> {
        let sha = Sha256Hex::parse(HEX)?;
        let path = blob_path(&sha);
        assert_eq!(path.as_ref(), format!("sha256/e3/{}", &HEX[2..]));
        assert_eq!(parse_blob_path(&path), Some(sha.clone()));
        let sidecar = sidecar_path(&sha);
        assert_eq!(sidecar.as_ref(), format!("sha256/e3/{}.chunks", &HEX[2..]));
        assert_eq!(parse_blob_path(&sidecar), None);
        Ok(())
    }

    #[test]
    fn foreign_keys_are_ignored() {
        let tail = &HEX[2..];
        for key in [
            "sha256/e3".to_owned(),
            "tmp/0123".to_owned(),
            format!("sha256/E3/{tail}"),
            format!("sha256/e3/{tail}/x"),
            format!("other/e3/{tail}"),
            format!("sha256/e3b/{}", &HEX[3..]),
            format!("sha256/e3/{}", &tail[1..]),
            format!("sha256/e3/{}g", &tail[1..]),
        ] {
            assert_eq!(parse_blob_path(&Path::from(key.as_str())), None, "{key}");
        }
    }

    #[test]
    fn temp_paths_are_unique_and_under_tmp() {
        let a = temp_path();
        let b = temp_path();
        assert_ne!(a, b);
        assert!(a.as_ref().starts_with("tmp/"));
    }
}
