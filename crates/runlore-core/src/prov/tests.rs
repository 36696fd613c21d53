use serde_json::json;

use super::*;
use crate::graph::EdgeKind;
use crate::lineage::*;
use crate::{RunId, RunStatus, Sha256Hex};

fn sha(n: u8) -> Sha256Hex {
    Sha256Hex::parse(&format!("{n:02x}").repeat(32)).expect("sha")
}

fn run(n: u8) -> RunId {
    RunId::parse(&format!("{n:02x}").repeat(16)).expect("run")
}

fn activity(n: u8, name: &str) -> LineageActivity {
    LineageActivity {
        run_id: run(n),
        name: name.into(),
        project: "vision".into(),
        experiment: "Default".into(),
        status: RunStatus::Finished,
        user: "ada lovelace".into(),
        start_time: 1_764_000_000_000,
        end_time: Some(1_764_000_060_250),
        depth: None,
    }
}

fn entity(n: u8, paths: &[&str]) -> LineageEntity {
    LineageEntity {
        sha256: sha(n),
        size: 1024,
        media_type: "text/csv".into(),
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        uri: None,
        first_seen: 1_764_000_000_000,
        depth: None,
    }
}

fn sample() -> LineageGraph {
    let use_ = |r: u8, s: u8, path: &str| LineageUse {
        run_id: run(r),
        sha256: sha(s),
        path: path.into(),
        time: 1_764_000_001_000,
    };
    let person = LineageAgent {
        kind: AgentKind::Person,
        name: "ada lovelace".into(),
    };
    LineageGraph {
        activities: vec![activity(1, "prep"), activity(2, "train")],
        entities: vec![
            entity(10, &["data/train.csv"]),
            entity(11, &["model.pt", "best/model.pt"]),
        ],
        generated: vec![
            use_(1, 10, "data/train.csv"),
            use_(2, 11, "model.pt"),
            use_(2, 11, "best/model.pt"),
        ],
        used: vec![use_(2, 10, "inputs/train.csv")],
        informed: vec![LineageInformed {
            run_id: run(2),
            informant: run(1),
            kind: EdgeKind::DerivedFrom,
        }],
        associations: vec![
            LineageAssociation {
                run_id: run(1),
                agent: person.clone(),
            },
            LineageAssociation {
                run_id: run(2),
                agent: person,
            },
        ],
        agents: Vec::new(),
    }
    .finish()
}

#[test]
fn prov_json_names_everything_by_stable_ids() {
    let doc = to_prov_json(&sample());
    let model = &doc["entity"][format!("blob:{}", sha(11))];
    assert_eq!(
        model["rl:sha256"],
        json!({"$": sha(11).to_string(), "type": "xsd:hexBinary"})
    );
    assert_eq!(model["rl:path"], json!(["best/model.pt", "model.pt"]));
    assert_eq!(
        model["prov:type"],
        json!({"$": "rl:Artifact", "type": "xsd:QName"})
    );
    let train = &doc["activity"][format!("run:{}", run(2))];
    assert_eq!(train["prov:startTime"], "2025-11-24T16:00:00Z");
    assert_eq!(train["prov:endTime"], "2025-11-24T16:01:00.25Z");
    // Two paths of the same bytes from the same run: one generation.
    assert_eq!(doc["wasGeneratedBy"].as_object().map(|m| m.len()), Some(2));
    let derived = doc["wasDerivedFrom"].as_object().expect("derivations");
    assert_eq!(derived.len(), 1);
    let d = derived.values().next().expect("one");
    assert_eq!(d["prov:generatedEntity"], format!("blob:{}", sha(11)));
    assert_eq!(d["prov:usedEntity"], format!("blob:{}", sha(10)));
    // A user name with a space becomes a valid, still distinct, QName.
    let agents = doc["agent"].as_object().expect("agents");
    let id = agents.keys().next().expect("agent");
    assert!(id.starts_with("user:ada_lovelace_"), "{id}");
    assert_eq!(
        to_prov_json(&sample()),
        doc,
        "the same graph, the same document"
    );
}

#[test]
fn only_prov_json_keys_appear_at_the_top() {
    let doc = to_prov_json(&sample());
    let allowed = [
        "prefix",
        "entity",
        "activity",
        "agent",
        "used",
        "wasGeneratedBy",
        "wasDerivedFrom",
        "wasInformedBy",
        "wasAssociatedWith",
    ];
    for key in doc.as_object().expect("object").keys() {
        assert!(allowed.contains(&key.as_str()), "{key}");
    }
    let empty = to_prov_json(&LineageGraph::default());
    assert_eq!(empty.as_object().map(|m| m.len()), Some(1), "{empty}");
}

#[test]
fn prov_n_lists_records_with_formal_arguments_first() {
    let text = to_prov_n(&sample());
    assert!(
        text.starts_with("document\n  prefix rl <urn:runlore:ns#>\n"),
        "{text}"
    );
    assert!(text.ends_with("endDocument\n"));
    let activity = text
        .lines()
        .find(|l| l.contains(&format!("activity(run:{}", run(2))))
        .expect("activity line");
    assert!(
        activity.contains("2025-11-24T16:00:00Z, 2025-11-24T16:01:00.25Z, [prov:label=\"train\", prov:type='rl:Run'"),
        "{activity}"
    );
    assert!(text.contains(&format!(
        "used(rl:used-{}-{}; run:{}, blob:{}, ",
        run(2),
        sha(10),
        run(2),
        sha(10)
    )));
    assert!(text.contains(&format!("rl:sha256=\"{}\" %% xsd:hexBinary", sha(10))));
    assert!(text.contains("wasInformedBy("));
}

#[test]
fn odd_names_make_distinct_valid_local_parts() {
    assert_eq!(local("alice"), "alice");
    let a = local("a b");
    let b = local("a/b");
    assert_ne!(a, b);
    assert!(
        a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)),
        "{a}"
    );
    assert!(local("").starts_with('_'));
}
