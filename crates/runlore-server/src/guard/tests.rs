use super::*;

#[test]
fn json_types_are_recognised_with_parameters() {
    for json in [
        "application/json",
        "Application/JSON; charset=utf-8",
        "application/merge-patch+json",
    ] {
        assert!(is_json(&HeaderValue::from_static(json)), "{json}");
    }
    for other in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/json",
        "application/jsonx",
        "",
    ] {
        assert!(!is_json(&HeaderValue::from_static(other)), "{other}");
    }
}

#[test]
fn only_artifact_puts_are_uploads() {
    let put = Method::PUT;
    assert!(is_upload(&put, "/api/v1/runs/abc/artifacts/a/b.txt"));
    assert!(is_upload(
        &put,
        "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/x.txt"
    ));
    assert!(!is_upload(
        &Method::POST,
        "/api/v1/runs/abc/artifacts/a.txt"
    ));
    assert!(!is_upload(&put, "/api/v1/runs/abc/artifacts/"));
    assert!(!is_upload(&put, "/api/v1/runs/abc/features"));
    assert!(!is_upload(&put, "/api/v1/projects/p/settings"));
}

#[test]
fn bodies_are_seen_from_length_or_chunking() {
    let mut headers = HeaderMap::new();
    assert!(!has_body(&headers));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    assert!(!has_body(&headers));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
    assert!(has_body(&headers));
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::TRANSFER_ENCODING,
        HeaderValue::from_static("chunked"),
    );
    assert!(has_body(&headers));
}

#[test]
fn mlflow_paths_get_mlflow_errors() {
    assert_eq!(Surface::of("/api/2.0/mlflow/runs/create"), Surface::Mlflow);
    assert_eq!(
        Surface::of("/api/2.0/mlflow-artifacts/artifacts/x"),
        Surface::Mlflow
    );
    assert_eq!(
        Surface::of("/ajax-api/2.0/mlflow/runs/search"),
        Surface::Mlflow
    );
    assert_eq!(Surface::of("/version"), Surface::Mlflow);
    assert_eq!(Surface::of("/api/v1/runs"), Surface::Native);
    assert_eq!(Surface::of("/"), Surface::Native);
}

#[test]
fn public_names_must_be_bare_authorities() {
    assert!(parse_public_name("runlore.example:8443").is_ok());
    for bad in ["https://runlore.example", "runlore.example/ui", ""] {
        assert!(parse_public_name(bad).is_err(), "{bad}");
    }
}
