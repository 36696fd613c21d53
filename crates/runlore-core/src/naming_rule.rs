//! What a project's naming rule decides when a run is created: whether the
//! name is allowed, and which earlier run it names as its parent.
//!
//! Every decision and message lives here; a backend only walks its runs
//! (newest first, deleted ones left out) inside the creating transaction,
//! asking [`ParentSearch::names`] of each, so the parent is chosen from the
//! same snapshot the run is written into.

use regex::Regex;

use crate::error::{Error, Result};
use crate::graph::{EdgeKind, NamingRule, ParentFrom, ParentLink};
use crate::ids::RunId;

/// What creating a run under a naming rule needs next.
#[derive(Debug)]
pub enum NamingOutcome {
    /// The run is created as asked.
    Accept,
    /// The run's primary parent is the newest run this search accepts.
    FindParent(ParentSearch),
}

/// Looks for the run a new run's name points at.
#[derive(Debug)]
pub struct ParentSearch {
    regex: Regex,
    wanted: String,
    name: String,
    project: String,
}

impl NamingRule {
    /// Decides, for a run named `name` in `project` created with `parents`:
    /// parents given when the rule says runs have none are refused; a name
    /// that does not match is refused when the rule is enforced; a name
    /// with a `parent` group, created without parents under `parent_from =
    /// group`, asks for a parent search.
    pub fn for_new_run(
        &self,
        project: &str,
        name: &str,
        parents: &[ParentLink],
    ) -> Result<NamingOutcome> {
        let regex = self.compile()?;
        if self.parent_from == ParentFrom::None && !parents.is_empty() {
            return Err(Error::invalid(format!(
                "runs of project '{project}' have no parents (its naming rule says parent_from = none)"
            )));
        }
        let Some(caps) = regex.captures(name) else {
            if self.enforce {
                return Err(Error::invalid(format!(
                    "run name '{name}' does not match project '{project}''s naming pattern '{}'",
                    self.pattern
                )));
            }
            return Ok(NamingOutcome::Accept);
        };
        if self.parent_from != ParentFrom::Group || !parents.is_empty() {
            return Ok(NamingOutcome::Accept);
        }
        let Some(wanted) = caps.name("parent").map(|m| m.as_str().to_owned()) else {
            return Ok(NamingOutcome::Accept);
        };
        Ok(NamingOutcome::FindParent(ParentSearch {
            regex,
            wanted,
            name: name.to_owned(),
            project: project.to_owned(),
        }))
    }
}

impl ParentSearch {
    /// Whether a run named `candidate` is the one wanted: its `id` group is
    /// the wanted value, or (for names outside the pattern, such as a root
    /// called `8_base`) its name is that value, alone or followed by a
    /// character that is not a letter or digit.
    pub fn names(&self, candidate: &str) -> bool {
        let by_group = self
            .regex
            .captures(candidate)
            .and_then(|c| c.name("id").map(|m| m.as_str() == self.wanted))
            .unwrap_or(false);
        by_group
            || candidate
                .strip_prefix(self.wanted.as_str())
                .is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with(|c: char| !c.is_alphanumeric())
                })
    }

    /// The edge to the run found.
    pub fn link(&self, parent: RunId) -> ParentLink {
        ParentLink {
            run_id: parent,
            kind: EdgeKind::DerivedFrom,
            resume_step: None,
        }
    }

    /// The refusal when no run of the project is the one wanted.
    pub fn not_found(&self) -> Error {
        Error::invalid(format!(
            "run name '{}' names parent '{}', but no run of project '{}' has that id",
            self.name, self.wanted, self.project
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(parent_from: ParentFrom, enforce: bool) -> NamingRule {
        NamingRule {
            pattern: r"(?P<id>\d+)_from_(?P<parent>\d+)_.*".into(),
            parent_from,
            enforce,
        }
    }

    fn search(outcome: NamingOutcome) -> ParentSearch {
        match outcome {
            NamingOutcome::FindParent(search) => search,
            NamingOutcome::Accept => panic!("expected a parent search"),
        }
    }

    #[test]
    fn a_name_with_a_parent_group_asks_for_that_parent() {
        let s = search(
            rule(ParentFrom::Group, false)
                .for_new_run("vision", "12_from_8_lr", &[])
                .unwrap(),
        );
        assert!(s.names("8_from_3_wd"), "by the id group");
        assert!(s.names("8_base") && s.names("8"), "by the name's prefix");
        assert!(!s.names("81_base") && !s.names("18_from_3_x") && !s.names("8x"));
        assert_eq!(
            s.not_found().message(),
            "run name '12_from_8_lr' names parent '8', but no run of project 'vision' has that id"
        );
    }

    #[test]
    fn each_refusal_and_pass_in_order() {
        let given = [ParentLink {
            run_id: RunId::generate(),
            kind: EdgeKind::DerivedFrom,
            resume_step: None,
        }];
        let none = rule(ParentFrom::None, true);
        assert_eq!(
            none.for_new_run("p", "anything", &given)
                .unwrap_err()
                .message(),
            "runs of project 'p' have no parents (its naming rule says parent_from = none)"
        );
        assert_eq!(
            none.for_new_run("p", "free-name", &[])
                .unwrap_err()
                .message(),
            "run name 'free-name' does not match project 'p''s naming pattern \
             '(?P<id>\\d+)_from_(?P<parent>\\d+)_.*'"
        );
        let lenient = rule(ParentFrom::Group, false);
        assert!(matches!(
            lenient.for_new_run("p", "free-name", &[]).unwrap(),
            NamingOutcome::Accept
        ));
        assert!(
            matches!(
                lenient.for_new_run("p", "12_from_8_lr", &given).unwrap(),
                NamingOutcome::Accept
            ),
            "parents given win over the name"
        );
        assert!(matches!(
            rule(ParentFrom::None, false)
                .for_new_run("p", "12_from_8_lr", &[])
                .unwrap(),
            NamingOutcome::Accept
        ));
    }
}
