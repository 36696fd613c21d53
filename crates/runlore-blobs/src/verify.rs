//! Hashing on the way through: the download stream that checks a blob
//! against its address, and the mapping of object_store errors.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream};
use runlore_core::{Error, Sha256Hex};
use sha2::{Digest, Sha256};

/// The digest a finished hasher holds. (32 bytes always encode to 64
/// lowercase hex digits; the `Result` only avoids a panic path.)
pub(crate) fn digest_hex(hasher: Sha256) -> runlore_core::Result<Sha256Hex> {
    Sha256Hex::try_from(hex::encode(hasher.finalize()))
}

/// The error a download ends with when its bytes do not hash to its address.
pub(crate) fn corrupt(address: &Sha256Hex, actual: &Sha256Hex) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("blob '{address}' is corrupt: its bytes hash to '{actual}'"),
    )
}

/// Passes a blob's bytes through while hashing them; after the last chunk it
/// yields an `InvalidData` error instead of ending when the digest differs
/// from the address, so no consumer can mistake altered bytes for the blob.
pub(crate) struct VerifiedStream {
    inner: BoxStream<'static, object_store::Result<Bytes>>,
    address: Sha256Hex,
    /// `None` once the stream has ended (cleanly or with an error).
    hasher: Option<Sha256>,
}

impl VerifiedStream {
    pub(crate) fn new(
        inner: BoxStream<'static, object_store::Result<Bytes>>,
        address: Sha256Hex,
    ) -> VerifiedStream {
        VerifiedStream {
            inner,
            address,
            hasher: Some(Sha256::new()),
        }
    }
}

impl Stream for VerifiedStream {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Every field is Unpin (the inner stream is boxed), so no projection.
        let this = self.get_mut();
        let Some(hasher) = this.hasher.as_mut() else {
            return Poll::Ready(None);
        };
        match this.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                hasher.update(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.hasher = None;
                Poll::Ready(Some(Err(read_error(&this.address, e))))
            }
            Poll::Ready(None) => {
                let Some(hasher) = this.hasher.take() else {
                    return Poll::Ready(None);
                };
                match digest_hex(hasher) {
                    Ok(actual) if actual == this.address => Poll::Ready(None),
                    Ok(actual) => {
                        tracing::warn!(blob = %this.address, %actual, "corrupt blob read");
                        Poll::Ready(Some(Err(corrupt(&this.address, &actual))))
                    }
                    Err(e) => Poll::Ready(Some(Err(io::Error::other(e)))),
                }
            }
        }
    }
}

/// A failure part way through reading a blob, with the blob named.
fn read_error(address: &Sha256Hex, e: object_store::Error) -> io::Error {
    let kind = match e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("reading blob '{address}' failed: {e}"))
}

/// Maps an unexpected object_store failure to `Internal`, keeping the detail
/// (for logs; the server never shows Internal messages to clients).
pub(crate) fn internal(action: &str, e: object_store::Error) -> Error {
    Error::internal(format!("blob store: {action} failed: {e}"))
}

/// Maps a failure on one blob: a missing object is the caller's `NotFound`,
/// anything else is `Internal`.
pub(crate) fn blob_error(sha256: &Sha256Hex, action: &str, e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { .. } => Error::not_found("blob", sha256),
        e => internal(&format!("{action} blob '{sha256}'"), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn source(chunks: &[&'static [u8]]) -> BoxStream<'static, object_store::Result<Bytes>> {
        let chunks: Vec<_> = chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        futures_util::stream::iter(chunks).boxed()
    }

    fn digest_of(bytes: &[u8]) -> Sha256Hex {
        let mut hasher = Sha256::new();
        hasher.update(bytes);
        digest_hex(hasher).expect("a digest")
    }

    #[tokio::test]
    async fn matching_bytes_end_cleanly() {
        let address = digest_of(b"hello world");
        let items: Vec<_> = VerifiedStream::new(source(&[b"hello", b" world"]), address)
            .collect()
            .await;
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|item| item.is_ok()));
    }

    #[tokio::test]
    async fn altered_bytes_end_with_invalid_data() {
        let address = digest_of(b"hello world");
        let mut items: Vec<_> =
            VerifiedStream::new(source(&[b"hello", b" World"]), address.clone())
                .collect()
                .await;
        assert_eq!(items.len(), 3);
        let Some(Err(last)) = items.pop() else {
            panic!("expected a final error");
        };
        assert_eq!(last.kind(), io::ErrorKind::InvalidData);
        let message = last.to_string();
        assert!(message.contains(address.as_str()), "{message}");
        assert!(
            message.contains(digest_of(b"hello World").as_str()),
            "{message}"
        );
    }
}
