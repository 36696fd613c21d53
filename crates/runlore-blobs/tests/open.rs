#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! Opening stores from location strings, and digest parsing.

use runlore_core::{ErrorKind, Sha256Hex};

#[tokio::test]
async fn a_missing_folder_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("data").join("blobs");
    let store = runlore_blobs::open(nested.to_str().unwrap()).unwrap();
    assert!(nested.is_dir());
    assert!(store.list().await.unwrap().is_empty());
    let url = format!("file://{}", nested.display());
    let same = runlore_blobs::open(&url).unwrap();
    let info = store.put_bytes("shared".into()).await.unwrap();
    assert_eq!(same.get_bytes(&info.sha256).await.unwrap(), "shared");
}

#[test]
fn an_s3_url_builds_a_store_without_touching_the_network() {
    runlore_blobs::open("s3://runlore-artifacts/team/blobs").unwrap();
    runlore_blobs::open("s3://runlore-artifacts").unwrap();
}

#[test]
fn bad_locations_are_refused_with_a_clear_message() {
    for bad in [
        "",
        "s3://",
        "s3://Bad_Bucket/x",
        "s3://bucket/a//b",
        "s3:bucket/x",
        "gs://bucket/x",
        "https://example.com/blobs",
    ] {
        let Err(err) = runlore_blobs::open(bad) else {
            panic!("'{bad}' must be refused");
        };
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad}: {err}");
        assert!(err.message().contains(bad), "{bad}: {err}");
    }
}

#[test]
fn digest_parsing_accepts_only_64_lowercase_hex_digits() {
    let good = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(Sha256Hex::parse(good).unwrap().as_str(), good);
    for bad in [
        "",
        "e3b0",
        &good[1..],
        &format!("{good}0"),
        &good.to_uppercase(),
        &good.replace('e', "g"),
        &format!("{} ", &good[1..]),
        "../../../../etc/passwd",
    ] {
        let err = Sha256Hex::parse(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad}");
    }
}
