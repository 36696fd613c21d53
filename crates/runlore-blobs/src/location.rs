//! Turning a location string (`runlore server --artifacts`,
//! `RUNLORE_ARTIFACTS`, `artifacts` in runlore.toml) into an object store.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use runlore_core::{Error, Result};

/// A parsed location, before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    Local(PathBuf),
    S3 {
        bucket: String,
        prefix: Option<String>,
    },
}

const HINT: &str = "use a folder path, file:///absolute/path or s3://bucket/prefix";

impl Location {
    pub(crate) fn parse(location: &str) -> Result<Location> {
        if location.trim().is_empty() {
            return Err(Error::invalid(format!(
                "blob store location is empty: {HINT}"
            )));
        }
        let Some((scheme, rest)) = location.split_once("://") else {
            // `s3:bucket` or `s3:/bucket` are typos of a URL, not folder
            // names; refusing them beats silently creating a folder called
            // `s3:bucket`. One letter before the colon is a Windows drive.
            if let Some((scheme, _)) = location.split_once(':')
                && scheme.len() > 1
                && is_scheme(scheme)
            {
                return Err(Error::invalid(format!(
                    "blob store location '{location}' looks like a malformed URL: {HINT} \
                     (write ./{location} for a folder with that name)"
                )));
            }
            return Ok(Location::Local(PathBuf::from(location)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "s3" | "s3a" => parse_s3(location, rest),
            // `file:///data/blobs`: the part after `file://` must be absolute
            // (`file://host/…` names another machine, which we cannot open).
            "file" if rest.starts_with('/') => Ok(Location::Local(PathBuf::from(rest))),
            "file" => Err(Error::invalid(format!(
                "blob store location '{location}' must be file:///absolute/path"
            ))),
            _ => Err(Error::invalid(format!(
                "unsupported blob store location '{location}': {HINT}"
            ))),
        }
    }

    /// Builds the object store. Local folders are created when missing.
    pub(crate) fn open(&self) -> Result<Arc<dyn ObjectStore>> {
        match self {
            Location::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::internal(format!(
                        "cannot create blob folder '{}': {e}",
                        dir.display()
                    ))
                })?;
                let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| {
                    Error::internal(format!("cannot open blob folder '{}': {e}", dir.display()))
                })?;
                // fsync each blob and its folder before acknowledging it:
                // blobs are deduplicated by name, so a blob left empty or torn
                // by a power cut would otherwise be trusted by every later
                // upload of the same bytes.
                Ok(Arc::new(store.with_fsync(true)))
            }
            Location::S3 { bucket, prefix } => {
                let store = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(|e| {
                        Error::invalid(format!("cannot configure S3 bucket '{bucket}': {e}"))
                    })?;
                Ok(match prefix {
                    Some(prefix) => Arc::new(PrefixStore::new(store, prefix.as_str())),
                    None => Arc::new(store),
                })
            }
        }
    }
}

/// RFC 3986 scheme characters: a letter, then letters, digits, `+ - .`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn parse_s3(location: &str, rest: &str) -> Result<Location> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "invalid S3 location '{location}': {why} (expected s3://bucket/prefix)"
        ))
    };
    if rest.contains(['?', '#']) {
        return Err(bad("query strings and fragments are not supported"));
    }
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    // S3's bucket naming rules (3–63 lowercase letters, digits, dots and
    // hyphens, starting and ending with a letter or digit); checking here
    // turns a typo into a clear message instead of a failed request later.
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge_ok(bucket.chars().next())
        && edge_ok(bucket.chars().last());
    if !valid_bucket {
        return Err(bad(&format!("'{bucket}' is not a valid bucket name")));
    }
    let prefix = prefix.trim_end_matches('/');
    let prefix = if prefix.is_empty() {
        None
    } else {
        // Path::parse refuses empty, `.` and `..` segments and other keys
        // object_store cannot represent faithfully.
        Path::parse(prefix).map_err(|e| bad(&format!("bad prefix '{prefix}': {e}")))?;
        Some(prefix.to_owned())
    };
    Ok(Location::S3 {
        bucket: bucket.to_owned(),
        prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, prefix: Option<&str>) -> Location {
        Location::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.map(str::to_owned),
        }
    }

    #[test]
    fn parses_good_locations() -> Result<()> {
        assert_eq!(
            Location::parse("data/blobs")?,
            Location::Local("data/blobs".into())
        );
        assert_eq!(
            Location::parse("/var/lib/runlore/blobs")?,
            Location::Local("/var/lib/runlore/blobs".into())
        );
        assert_eq!(
            Location::parse("C:\\blobs")?,
            Location::Local("C:\\blobs".into())
        );
        assert_eq!(
            Location::parse("file:///srv/b")?,
            Location::Local("/srv/b".into())
        );
        assert_eq!(Location::parse("s3://my-bucket")?, s3("my-bucket", None));
        assert_eq!(Location::parse("s3://my-bucket/")?, s3("my-bucket", None));
        assert_eq!(
            Location::parse("S3://my.bucket/team/blobs/")?,
            s3("my.bucket", Some("team/blobs"))
        );
        Ok(())
    }

    #[test]
    fn rejects_bad_locations() {
        for bad in [
            "",
            "  ",
            "s3://",
            "s3:///prefix",
            "s3://ab/x",
            "s3://My_Bucket/x",
            "s3://-bucket/x",
            "s3://bucket/a//b",
            "s3://bucket/a/../b",
            "s3://bucket/x?region=eu",
            "s3:/bucket/x",
            "s3:bucket",
            "gs://bucket/x",
            "http://example.com/blobs",
            "file://host/blobs",
        ] {
            let err = Location::parse(bad).expect_err(bad);
            assert_eq!(
                err.kind(),
                runlore_core::ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
    }
}
