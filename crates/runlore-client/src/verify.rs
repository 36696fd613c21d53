//! Remote downloads are checked against the listing's SHA-256 and size as
//! they stream. The server already refuses to send bytes that no longer
//! match their address, but a proxy in between, or a server with a bad disk
//! and an old build, could still hand over other bytes; `runlore artifact
//! get` and restore must never keep those as a good file.

use futures_util::StreamExt;
use runlore_core::{Artifact, ByteStream, Sha256Hex};
use sha2::{Digest, Sha256};

struct Check {
    inner: ByteStream,
    hasher: Sha256,
    seen: u64,
    path: String,
    sha256: Sha256Hex,
    size: u64,
    ended: bool,
}

/// `stream` as it came, except that it ends with an `InvalidData` error,
/// instead of ending cleanly, when its bytes are not exactly `artifact`'s:
/// at once when it runs past the size, or after the last byte when the
/// length or the digest differ. A consumer that treats a stream error as a
/// failed download (every one in this workspace does) therefore never
/// takes altered bytes as complete.
pub(crate) fn verified(stream: ByteStream, artifact: &Artifact) -> ByteStream {
    let check = Check {
        inner: stream,
        hasher: Sha256::new(),
        seen: 0,
        path: artifact.path.clone(),
        sha256: artifact.sha256.clone(),
        size: artifact.size,
        ended: false,
    };
    Box::pin(futures_util::stream::unfold(check, next))
}

async fn next(mut check: Check) -> Option<(std::io::Result<bytes::Bytes>, Check)> {
    if check.ended {
        return None;
    }
    match check.inner.next().await {
        Some(Ok(chunk)) => {
            check.seen = check
                .seen
                .saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
            if check.seen > check.size {
                check.ended = true;
                let error = altered(&check.path, format!("more than its {} bytes", check.size));
                return Some((Err(error), check));
            }
            check.hasher.update(&chunk);
            Some((Ok(chunk), check))
        }
        Some(Err(e)) => {
            check.ended = true;
            Some((Err(e), check))
        }
        None => {
            check.ended = true;
            if check.seen != check.size {
                let what = format!("{} of its {} bytes", check.seen, check.size);
                return Some((Err(altered(&check.path, what)), check));
            }
            let actual = hex::encode(check.hasher.finalize_reset());
            if actual != check.sha256.as_str() {
                let what = format!("bytes that hash to {actual}, not {}", check.sha256);
                return Some((Err(altered(&check.path, what)), check));
            }
            None
        }
    }
}

fn altered(path: &str, what: String) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("download of {path} was not the stored file: the server sent {what}"),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use runlore_core::ArtifactDirection;

    fn artifact(bytes: &[u8]) -> Artifact {
        Artifact {
            path: "model.bin".into(),
            sha256: Sha256Hex::parse(&hex::encode(Sha256::digest(bytes))).unwrap(),
            size: bytes.len() as u64,
            media_type: "application/octet-stream".into(),
            direction: ArtifactDirection::Output,
            step: None,
            created_at: 0,
        }
    }

    fn sent(pieces: &[&'static [u8]]) -> ByteStream {
        let items: Vec<std::io::Result<bytes::Bytes>> = pieces
            .iter()
            .map(|p| Ok(bytes::Bytes::from_static(p)))
            .collect();
        Box::pin(futures_util::stream::iter(items))
    }

    async fn collect(stream: ByteStream) -> (Vec<u8>, Option<std::io::Error>) {
        let mut stream = stream;
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => out.extend_from_slice(&chunk),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    #[tokio::test]
    async fn the_stored_bytes_end_cleanly() {
        let (bytes, error) = collect(verified(
            sent(&[b"weights ", b"v1"]),
            &artifact(b"weights v1"),
        ))
        .await;
        assert_eq!(bytes, b"weights v1");
        assert!(error.is_none(), "{error:?}");
    }

    #[tokio::test]
    async fn altered_short_and_long_downloads_end_with_an_error() {
        let expected = artifact(b"weights v1");
        for (pieces, says) in [
            (&[b"weights ".as_slice(), b"v2"][..], "hash to"),
            (&[b"weights ".as_slice()][..], "8 of its 10 bytes"),
            (
                &[b"weights ".as_slice(), b"v1 and more"][..],
                "more than its 10 bytes",
            ),
        ] {
            let pieces: Vec<&'static [u8]> = pieces.to_vec();
            let (_, error) = collect(verified(sent(&pieces), &expected)).await;
            let error = error.expect("an altered download must end with an error");
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
            assert!(error.to_string().contains(says), "{error}");
            assert!(error.to_string().contains("model.bin"), "{error}");
        }
    }
}
