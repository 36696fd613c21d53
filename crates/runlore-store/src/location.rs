//! Where the metadata database lives, parsed once from the `db` setting
//! (`--db URL`, `RUNLORE_DB`, `db` in runlore.toml): `sqlite:` (the data
//! dir's `runlore.db`), `sqlite:PATH`, or `postgres://…`.

use std::fmt;
use std::path::{Path, PathBuf};

use runlore_core::{Error, Result};

/// The forms a `db` URL may take, for error messages and help text.
pub const ACCEPTED_FORMS: &str = "sqlite: (the data dir's runlore.db), sqlite:/absolute/path.db, \
     sqlite:relative/path.db, postgres://user:password@host:port/database or postgresql://…";

/// A parsed `db` setting. Its `Display` (used by `config show` and logs)
/// never shows a PostgreSQL password.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DbLocation {
    /// `sqlite:`: `<data_dir>/runlore.db`.
    #[default]
    SqliteInDataDir,
    /// `sqlite:PATH`: a database file of its own.
    SqliteFile(PathBuf),
    /// `postgres://…` or `postgresql://…`, kept as written (the driver
    /// parses it when connecting).
    Postgres(String),
}

impl DbLocation {
    /// Parses a `db` URL; anything else is an invalid-argument error that
    /// lists the accepted forms (and never echoes a password).
    pub fn parse(text: &str) -> Result<DbLocation> {
        let text = text.trim();
        if let Some(rest) = strip_prefix_ignore_case(text, "sqlite:") {
            return sqlite_location(rest);
        }
        for scheme in ["postgres://", "postgresql://"] {
            if let Some(rest) = strip_prefix_ignore_case(text, scheme) {
                let host_part = rest.split(['/', '?']).next().unwrap_or("");
                if host_part.rsplit('@').next().unwrap_or("").is_empty() && !rest.contains("host=")
                {
                    return Err(Error::invalid(format!(
                        "invalid db URL '{}': a PostgreSQL URL names its host \
                         (postgres://user:password@host:port/database)",
                        redact(text)
                    )));
                }
                return Ok(DbLocation::Postgres(text.to_owned()));
            }
        }
        Err(Error::invalid(format!(
            "invalid db URL '{}': accepted forms are {ACCEPTED_FORMS}",
            redact(text)
        )))
    }

    /// A relative `sqlite:` path read from a config file is relative to
    /// that file's folder, as `data_dir` is.
    pub fn relative_to(self, base: &Path) -> DbLocation {
        match self {
            DbLocation::SqliteFile(path) if path.is_relative() => {
                DbLocation::SqliteFile(base.join(path))
            }
            other => other,
        }
    }

    /// The SQLite file this location names, given the data dir; `None` for
    /// PostgreSQL.
    pub fn sqlite_path(&self, data_dir: &Path) -> Option<PathBuf> {
        match self {
            DbLocation::SqliteInDataDir => Some(data_dir.join(crate::SQLITE_FILE)),
            DbLocation::SqliteFile(path) => Some(path.clone()),
            DbLocation::Postgres(_) => None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DbLocation::Postgres(_))
    }
}

impl fmt::Display for DbLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbLocation::SqliteInDataDir => f.write_str("sqlite:"),
            DbLocation::SqliteFile(path) => write!(f, "sqlite:{}", path.display()),
            DbLocation::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

fn sqlite_location(rest: &str) -> Result<DbLocation> {
    if rest.is_empty() {
        return Ok(DbLocation::SqliteInDataDir);
    }
    // `sqlite:///abs/path.db` (the form other tools write) is the absolute
    // path; `sqlite://name` would be ambiguous, so it is refused.
    let path = match rest.strip_prefix("//") {
        Some(abs) if abs.starts_with('/') => abs,
        Some(_) => {
            return Err(Error::invalid(format!(
                "invalid db URL 'sqlite:{rest}': write sqlite:/absolute/path.db or \
                 sqlite:relative/path.db (accepted forms are {ACCEPTED_FORMS})"
            )));
        }
        None => rest,
    };
    Ok(DbLocation::SqliteFile(PathBuf::from(path)))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// A URL with any password replaced by `***`: the `user:password@` part
/// and a `password=` query parameter.
pub fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| authority_start + i);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            let userinfo = &out[authority_start..authority_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = authority_start + colon + 1;
                out.replace_range(start..authority_start + at, "***");
            }
        }
    }
    redact_query_password(&out)
}

fn redact_query_password(url: &str) -> String {
    let Some((head, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_forms() {
        assert_eq!(
            DbLocation::parse("sqlite:").unwrap(),
            DbLocation::SqliteInDataDir
        );
        assert_eq!(
            DbLocation::parse("sqlite:/tmp/x.db").unwrap(),
            DbLocation::SqliteFile("/tmp/x.db".into())
        );
        assert_eq!(
            DbLocation::parse("SQLite:rel/x.db").unwrap(),
            DbLocation::SqliteFile("rel/x.db".into())
        );
        assert_eq!(
            DbLocation::parse("sqlite:///abs/x.db").unwrap(),
            DbLocation::SqliteFile("/abs/x.db".into())
        );
        assert!(DbLocation::parse("sqlite://host/x.db").is_err());
        assert_eq!(
            DbLocation::parse("sqlite:rel.db")
                .unwrap()
                .relative_to(Path::new("/etc/lab")),
            DbLocation::SqliteFile("/etc/lab/rel.db".into())
        );
    }

    #[test]
    fn postgres_forms_keep_the_url_and_hide_the_password() {
        let url = "postgres://lab:s3cret@db.internal:5432/runlore";
        let location = DbLocation::parse(url).unwrap();
        assert_eq!(location, DbLocation::Postgres(url.to_owned()));
        assert_eq!(
            location.to_string(),
            "postgres://lab:***@db.internal:5432/runlore"
        );
        assert!(DbLocation::parse("postgresql://u@h/db").is_ok());
        assert_eq!(
            redact("postgresql://u@h/db?sslmode=disable&password=x"),
            "postgresql://u@h/db?sslmode=disable&password=***"
        );
    }

    #[test]
    fn bad_urls_name_the_accepted_forms_without_the_password() {
        for bad in ["mysql://u:pw@h/db", "runlore.db", "", "postgres://u:pw@/db"] {
            let err = DbLocation::parse(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                runlore_core::ErrorKind::InvalidArgument,
                "{bad}"
            );
            assert!(!err.message().contains("pw"), "{}", err.message());
            assert!(
                err.message().contains("postgres://"),
                "{bad}: {}",
                err.message()
            );
        }
    }
}
