use std::collections::HashMap;

use super::*;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn defaults_apply_without_file_env_or_flags() {
    let dir = tempfile::tempdir().unwrap();
    let c = load_from(
        &Flags::default(),
        &dir.path().join(CONFIG_FILE),
        &env_of(&[]),
    )
    .unwrap();
    assert_eq!(c.server.value, None);
    assert_eq!(c.data_dir.value, PathBuf::from(DEFAULT_DATA_DIR));
    assert_eq!(c.project.value, "default");
    assert_eq!(c.host.value, "127.0.0.1");
    assert_eq!(c.port.value, 5000);
    assert_eq!(c.project.source, Source::Default);
    assert_eq!(c.file, None);
}

#[test]
fn file_then_env_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(CONFIG_FILE);
    std::fs::write(
        &file,
        "project = \"from-file\"\nport = 6000\nhost = \"::1\"\ndata_dir = \"data\"\nserver = \"http://file:1\"\nmystery = 1\n",
    )
    .unwrap();
    let c = load_from(&Flags::default(), &file, &env_of(&[])).unwrap();
    assert_eq!(c.project.value, "from-file");
    assert_eq!(c.project.source, Source::File(file.clone()));
    assert_eq!(c.port.value, 6000);
    assert_eq!(c.host.value, "::1");
    assert_eq!(c.data_dir.value, dir.path().join("data"));
    assert_eq!(c.server.value.as_deref(), Some("http://file:1"));
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("mystery"));

    let env = env_of(&[
        (ENV_PROJECT, "from-env"),
        (ENV_PORT, "7000"),
        (ENV_SERVER, ""),
        (ENV_DATA_DIR, ""),
    ]);
    let c = load_from(&Flags::default(), &file, &env).unwrap();
    assert_eq!(c.project.value, "from-env");
    assert_eq!(c.project.source, Source::Env(ENV_PROJECT));
    assert_eq!(c.port.value, 7000);
    assert_eq!(c.server.value, None, "an empty RUNLORE_SERVER means local");
    assert_eq!(
        c.data_dir.value,
        dir.path().join("data"),
        "empty env is unset"
    );

    let flags = Flags {
        project: Some("from-flag".into()),
        port: Some(0),
        server: Some("http://flag:2".into()),
        ..Flags::default()
    };
    let c = load_from(&flags, &file, &env).unwrap();
    assert_eq!(c.project.value, "from-flag");
    assert_eq!(c.project.source, Source::Flag);
    assert_eq!(c.port.value, 0);
    assert_eq!(c.server.value.as_deref(), Some("http://flag:2"));
}

#[test]
fn explicit_config_must_exist_and_be_valid() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Flags {
        config: Some(dir.path().join("nope.toml")),
        ..Flags::default()
    };
    let err = load_from(&missing, Path::new("unused"), &env_of(&[])).unwrap_err();
    assert!(format!("{err:#}").contains("nope.toml"), "{err:#}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "port = \"high\"\n").unwrap();
    let flags = Flags {
        config: Some(bad),
        ..Flags::default()
    };
    let err = load_from(&flags, Path::new("unused"), &env_of(&[])).unwrap_err();
    assert!(format!("{err:#}").contains("'port' must be"), "{err:#}");

    let err = load_from(
        &Flags::default(),
        Path::new("unused"),
        &env_of(&[(ENV_PORT, "x")]),
    )
    .unwrap_err();
    assert!(err.to_string().contains(ENV_PORT), "{err}");
}

#[test]
fn write_project_keeps_other_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(CONFIG_FILE);
    write_project(&file, "alpha").unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "project = \"alpha\"\n"
    );

    std::fs::write(
        &file,
        "# my settings\nport = 6000 # fixed\nproject = \"alpha\"\n\n[extra]\nproject = \"not this one\"\n",
    )
    .unwrap();
    write_project(&file, "beta").unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        "# my settings\nport = 6000 # fixed\nproject = \"beta\"\n\n[extra]\nproject = \"not this one\"\n"
    );

    std::fs::write(&file, "port = 1\n[extra]\nx = 1\n").unwrap();
    write_project(&file, "gamma").unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text, "port = 1\nproject = \"gamma\"\n[extra]\nx = 1\n");
}

#[test]
fn public_names_come_from_file_env_or_repeated_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(CONFIG_FILE);
    std::fs::write(
        &file,
        "public_names = [\"runlore.example\", \"lab:8443\"]\n",
    )
    .unwrap();
    let c = load_from(&Flags::default(), &file, &env_of(&[])).unwrap();
    assert_eq!(c.public_names.value, ["runlore.example", "lab:8443"]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);

    let env = env_of(&[(ENV_PUBLIC_NAME, " a.example, ,b.example:80 ")]);
    let c = load_from(&Flags::default(), &file, &env).unwrap();
    assert_eq!(c.public_names.value, ["a.example", "b.example:80"]);
    assert_eq!(c.public_names.source, Source::Env(ENV_PUBLIC_NAME));

    let flags = Flags {
        public_names: vec!["flag.example".into()],
        ..Flags::default()
    };
    let c = load_from(&flags, &file, &env).unwrap();
    assert_eq!(c.public_names.value, ["flag.example"]);

    std::fs::write(&file, "public_names = 5\n").unwrap();
    let err = load_from(&Flags::default(), &file, &env_of(&[])).unwrap_err();
    assert!(err.to_string().contains("list of strings"), "{err}");
}
