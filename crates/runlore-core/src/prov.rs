//! W3C PROV renderings of a [`LineageGraph`]: PROV-JSON (the W3C member
//! submission, as the `prov` Python package reads it) and PROV-N.
//!
//! Every id is derived from what it names (run ids, SHA-256 digests, agent
//! names), so exporting the same lineage twice gives the same document.
//! Relation ids are QNames rather than blank nodes because blank nodes are
//! renumbered by PROV tools.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::lineage::{AgentKind, LineageAgent, LineageEntity, LineageGraph, LineageUse};

/// Namespaces of the ids Runlore mints. URNs, because a Runlore server has
/// no canonical public address.
pub const PREFIXES: [(&str, &str); 5] = [
    ("rl", "urn:runlore:ns#"),
    ("run", "urn:runlore:run:"),
    ("blob", "urn:runlore:blob:sha256:"),
    ("user", "urn:runlore:user:"),
    ("sw", "urn:runlore:software:"),
];

/// A run's inputs times its outputs gives its `wasDerivedFrom` relations;
/// past this many the relation is left out for that run (the `used` and
/// `wasGeneratedBy` records still say everything).
const MAX_DERIVATIONS_PER_RUN: usize = 10_000;

fn time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// A QName local part made only of characters every PROV serialization
/// accepts; anything else becomes `_`, with a short digest of the original
/// appended so that different names stay different ids.
fn local(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean == name && !clean.is_empty() {
        return clean;
    }
    // FNV-1a: stable across builds and platforms, unlike the std hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{clean}_{:08x}", hash >> 32)
}

pub fn agent_id(agent: &LineageAgent) -> String {
    match agent.kind {
        AgentKind::Person => format!("user:{}", local(&agent.name)),
        AgentKind::Software => format!("sw:{}", local(&agent.name)),
    }
}

fn entity_id(sha256: &str) -> String {
    format!("blob:{sha256}")
}

fn run_id(id: &str) -> String {
    format!("run:{id}")
}

fn qname(value: &str) -> Value {
    json!({"$": value, "type": "xsd:QName"})
}

fn typed(value: impl ToString, datatype: &str) -> Value {
    json!({"$": value.to_string(), "type": datatype})
}

/// One value as itself, several as an array (an array of one draws a
/// warning from PROV tools).
fn one_or_many(values: &[String]) -> Value {
    match values {
        [one] => Value::String(one.clone()),
        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
    }
}

fn entity_attributes(e: &LineageEntity) -> Map<String, Value> {
    let mut attrs = Map::new();
    attrs.insert("prov:type".into(), qname("rl:Artifact"));
    if let Some(first) = e.paths.first() {
        attrs.insert("prov:label".into(), Value::String(first.clone()));
    }
    attrs.insert("rl:sha256".into(), typed(&e.sha256, "xsd:hexBinary"));
    attrs.insert("rl:sizeBytes".into(), typed(e.size, "xsd:long"));
    if !e.media_type.is_empty() {
        attrs.insert("rl:mediaType".into(), Value::String(e.media_type.clone()));
    }
    if !e.paths.is_empty() {
        attrs.insert("rl:path".into(), one_or_many(&e.paths));
    }
    if let Some(uri) = &e.uri {
        attrs.insert("prov:location".into(), typed(uri, "xsd:anyURI"));
    }
    attrs
}

/// Relations keyed by their stable id, paths of the same (run, blob) pair
/// folded into one record.
fn uses(list: &[LineageUse], tag: &str) -> BTreeMap<String, (String, String, i64, Vec<String>)> {
    let mut out: BTreeMap<String, (String, String, i64, Vec<String>)> = BTreeMap::new();
    for u in list {
        let id = format!("rl:{tag}-{}-{}", u.run_id, u.sha256);
        let entry = out.entry(id).or_insert_with(|| {
            (
                run_id(u.run_id.as_str()),
                entity_id(u.sha256.as_str()),
                u.time,
                Vec::new(),
            )
        });
        entry.2 = entry.2.min(u.time);
        entry.3.push(u.path.clone());
    }
    out
}

/// The graph as a PROV-JSON document.
pub fn to_prov_json(graph: &LineageGraph) -> Value {
    let mut doc = Map::new();
    let prefix: Map<String, Value> = PREFIXES
        .iter()
        .map(|(p, iri)| ((*p).to_owned(), Value::String((*iri).to_owned())))
        .collect();
    doc.insert("prefix".into(), Value::Object(prefix));

    let mut entities = Map::new();
    for e in &graph.entities {
        entities.insert(
            entity_id(e.sha256.as_str()),
            Value::Object(entity_attributes(e)),
        );
    }
    let mut activities = Map::new();
    for a in &graph.activities {
        let mut attrs = Map::new();
        attrs.insert("prov:startTime".into(), Value::String(time(a.start_time)));
        if let Some(end) = a.end_time {
            attrs.insert("prov:endTime".into(), Value::String(time(end)));
        }
        attrs.insert("prov:type".into(), qname("rl:Run"));
        attrs.insert("prov:label".into(), Value::String(a.name.clone()));
        attrs.insert(
            "rl:status".into(),
            Value::String(a.status.as_str().to_owned()),
        );
        attrs.insert("rl:project".into(), Value::String(a.project.clone()));
        attrs.insert("rl:experiment".into(), Value::String(a.experiment.clone()));
        activities.insert(run_id(a.run_id.as_str()), Value::Object(attrs));
    }
    let mut agents = Map::new();
    for agent in &graph.agents {
        let kind = match agent.kind {
            AgentKind::Person => "prov:Person",
            AgentKind::Software => "prov:SoftwareAgent",
        };
        agents.insert(
            agent_id(agent),
            json!({"prov:type": qname(kind), "prov:label": agent.name}),
        );
    }
    let mut used = Map::new();
    for (id, (run, blob, time_ms, paths)) in uses(&graph.used, "used") {
        used.insert(
            id,
            json!({"prov:activity": run, "prov:entity": blob, "prov:time": time(time_ms),
                   "rl:path": one_or_many(&paths)}),
        );
    }
    let mut generated = Map::new();
    for (id, (run, blob, time_ms, paths)) in uses(&graph.generated, "gen") {
        generated.insert(
            id,
            json!({"prov:entity": blob, "prov:activity": run, "prov:time": time(time_ms),
                   "rl:path": one_or_many(&paths)}),
        );
    }
    let mut derived = Map::new();
    for (run, outputs, inputs) in derivations(graph) {
        for out in &outputs {
            for input in &inputs {
                if out == input {
                    continue;
                }
                derived.insert(
                    format!("rl:der-{run}-{out}-{input}"),
                    json!({"prov:generatedEntity": entity_id(out),
                           "prov:usedEntity": entity_id(input),
                           "prov:activity": run_id(&run)}),
                );
            }
        }
    }
    let mut informed = Map::new();
    for i in &graph.informed {
        informed.insert(
            format!("rl:inf-{}-{}", i.run_id, i.informant),
            json!({"prov:informed": run_id(i.run_id.as_str()),
                   "prov:informant": run_id(i.informant.as_str()),
                   "rl:edgeKind": i.kind.as_str()}),
        );
    }
    let mut associated = Map::new();
    for a in &graph.associations {
        let agent = agent_id(&a.agent);
        let role = match a.agent.kind {
            AgentKind::Person => "rl:launcher",
            AgentKind::Software => "rl:executor",
        };
        associated.insert(
            format!("rl:assoc-{}-{}", a.run_id, agent.replace(':', "-")),
            json!({"prov:activity": run_id(a.run_id.as_str()), "prov:agent": agent,
                   "prov:role": qname(role)}),
        );
    }
    for (key, group) in [
        ("entity", entities),
        ("activity", activities),
        ("agent", agents),
        ("used", used),
        ("wasGeneratedBy", generated),
        ("wasDerivedFrom", derived),
        ("wasInformedBy", informed),
        ("wasAssociatedWith", associated),
    ] {
        if !group.is_empty() {
            doc.insert(key.into(), Value::Object(group));
        }
    }
    Value::Object(doc)
}

/// Per run: the blobs it generated and the blobs it used, when both exist
/// and their product stays within bounds.
fn derivations(graph: &LineageGraph) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut by_run: BTreeMap<&str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for g in &graph.generated {
        by_run
            .entry(g.run_id.as_str())
            .or_default()
            .0
            .push(g.sha256.to_string());
    }
    for u in &graph.used {
        by_run
            .entry(u.run_id.as_str())
            .or_default()
            .1
            .push(u.sha256.to_string());
    }
    by_run
        .into_iter()
        .filter_map(|(run, (mut outs, mut ins))| {
            outs.sort();
            outs.dedup();
            ins.sort();
            ins.dedup();
            let n = outs.len() * ins.len();
            (n > 0 && n <= MAX_DERIVATIONS_PER_RUN).then(|| (run.to_owned(), outs, ins))
        })
        .collect()
}

fn provn_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A PROV-JSON attribute value written as a PROV-N literal.
fn provn_value(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![provn_string(s)],
        Value::Array(items) => items.iter().flat_map(provn_value).collect(),
        Value::Object(o) => match (o.get("$").and_then(Value::as_str), o.get("type")) {
            (Some(v), Some(Value::String(t))) if t == "xsd:QName" => vec![format!("'{v}'")],
            (Some(v), Some(Value::String(t))) => vec![format!("{} %% {t}", provn_string(v))],
            _ => Vec::new(),
        },
        other => vec![provn_string(&other.to_string())],
    }
}

/// Attributes other than the formal ones a record already took, as
/// `[k=v, …]` (repeated keys for several values).
fn provn_attributes(attrs: &Map<String, Value>, formal: &[&str]) -> String {
    let pairs: Vec<String> = attrs
        .iter()
        .filter(|(k, _)| !formal.contains(&k.as_str()))
        .flat_map(|(k, v)| provn_value(v).into_iter().map(move |v| format!("{k}={v}")))
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!(", [{}]", pairs.join(", "))
    }
}

/// The graph in PROV-N, the W3C's human-readable notation.
pub fn to_prov_n(graph: &LineageGraph) -> String {
    let doc = to_prov_json(graph);
    let group = |key: &str| {
        doc.get(key)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let field = |attrs: &Map<String, Value>, key: &str| {
        attrs
            .get(key)
            .and_then(Value::as_str)
            .map_or_else(|| "-".to_owned(), str::to_owned)
    };
    let mut out = String::from("document\n");
    for (p, iri) in PREFIXES {
        let _ = writeln!(out, "  prefix {p} <{iri}>");
    }
    for (id, attrs) in group("entity") {
        let attrs = attrs.as_object().cloned().unwrap_or_default();
        let list = provn_attributes(&attrs, &[]);
        let _ = writeln!(out, "  entity({id}{list})");
    }
    for (id, attrs) in group("activity") {
        let attrs = attrs.as_object().cloned().unwrap_or_default();
        let formal = ["prov:startTime", "prov:endTime"];
        let list = provn_attributes(&attrs, &formal);
        let (start, end) = (field(&attrs, formal[0]), field(&attrs, formal[1]));
        let _ = writeln!(out, "  activity({id}, {start}, {end}{list})");
    }
    for (id, attrs) in group("agent") {
        let attrs = attrs.as_object().cloned().unwrap_or_default();
        let _ = writeln!(out, "  agent({id}{})", provn_attributes(&attrs, &[]));
    }
    let relations: [(&str, &[&str]); 5] = [
        ("used", &["prov:activity", "prov:entity", "prov:time"]),
        (
            "wasGeneratedBy",
            &["prov:entity", "prov:activity", "prov:time"],
        ),
        (
            "wasDerivedFrom",
            &[
                "prov:generatedEntity",
                "prov:usedEntity",
                "prov:activity",
                "prov:generation",
                "prov:usage",
            ],
        ),
        ("wasInformedBy", &["prov:informed", "prov:informant"]),
        (
            "wasAssociatedWith",
            &["prov:activity", "prov:agent", "prov:plan"],
        ),
    ];
    for (name, formal) in relations {
        for (id, attrs) in group(name) {
            let attrs = attrs.as_object().cloned().unwrap_or_default();
            let args: Vec<String> = formal.iter().map(|f| field(&attrs, f)).collect();
            let list = provn_attributes(&attrs, formal);
            let _ = writeln!(out, "  {name}({id}; {}{list})", args.join(", "));
        }
    }
    out.push_str("endDocument\n");
    out
}

#[cfg(test)]
mod tests;
