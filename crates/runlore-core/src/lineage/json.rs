//! The lineage graph as JSON, byte for byte what `serde_json::to_vec`
//! writes for [`LineageGraph`], from a borrowed view ([`GraphRef`]) so that
//! a store can write it straight from its rows without building the graph.
//! A trace through 10,000 runs is 6.7 MB in which nearly every string is a
//! hex id, a path or a name with nothing to escape: those are copied whole
//! after one scan, and the rest goes through `serde_json`.

use serde::Serialize;

use super::{AgentKind, LineageActivity, LineageEntity, LineageGraph};
use crate::graph::EdgeKind;

/// A lineage graph by reference, lists in [`LineageGraph::finish`]'s order.
#[derive(Debug, Default)]
pub struct GraphRef<'a> {
    pub activities: Vec<&'a LineageActivity>,
    /// Entities with their paths (the entity's own `paths` are not read).
    pub entities: Vec<(&'a LineageEntity, &'a [&'a str])>,
    pub agents: Vec<AgentRef<'a>>,
    pub used: Vec<UseRef<'a>>,
    pub generated: Vec<UseRef<'a>>,
    pub informed: Vec<InformedRef<'a>>,
    pub associations: Vec<(&'a str, AgentRef<'a>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AgentRef<'a> {
    pub kind: AgentKind,
    pub name: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UseRef<'a> {
    pub run_id: &'a str,
    pub sha256: &'a str,
    pub path: &'a str,
    pub time: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InformedRef<'a> {
    pub run_id: &'a str,
    pub informant: &'a str,
    pub kind: EdgeKind,
}

/// The JSON of `graph` (the same bytes as `serde_json::to_vec`).
pub fn to_json(graph: &LineageGraph) -> Vec<u8> {
    let paths: Vec<Vec<&str>> = graph
        .entities
        .iter()
        .map(|e| e.paths.iter().map(String::as_str).collect())
        .collect();
    let view = GraphRef {
        activities: graph.activities.iter().collect(),
        entities: graph
            .entities
            .iter()
            .zip(&paths)
            .map(|(e, p)| (e, p.as_slice()))
            .collect(),
        agents: graph.agents.iter().map(agent_ref).collect(),
        used: graph.used.iter().map(use_ref).collect(),
        generated: graph.generated.iter().map(use_ref).collect(),
        informed: graph
            .informed
            .iter()
            .map(|i| InformedRef {
                run_id: i.run_id.as_str(),
                informant: i.informant.as_str(),
                kind: i.kind,
            })
            .collect(),
        associations: graph
            .associations
            .iter()
            .map(|a| (a.run_id.as_str(), agent_ref(&a.agent)))
            .collect(),
    };
    write_json(&view)
}

fn use_ref(u: &super::LineageUse) -> UseRef<'_> {
    UseRef {
        run_id: u.run_id.as_str(),
        sha256: u.sha256.as_str(),
        path: &u.path,
        time: u.time,
    }
}

fn agent_ref(a: &super::LineageAgent) -> AgentRef<'_> {
    AgentRef {
        kind: a.kind,
        name: &a.name,
    }
}

/// The JSON of a graph given by reference.
pub fn write_json(graph: &GraphRef<'_>) -> Vec<u8> {
    // About what a trace's records take, so the buffer grows rarely.
    let guess = 200 * graph.activities.len()
        + 240 * graph.entities.len()
        + 150 * (graph.used.len() + graph.generated.len() + graph.associations.len());
    let mut out = Json(Vec::with_capacity(guess + 128));
    out.raw(b"{\"activities\":");
    out.list(&graph.activities, |out, a| activity(out, a));
    out.raw(b",\"entities\":");
    out.list(&graph.entities, |out, (e, paths)| entity(out, e, paths));
    out.raw(b",\"agents\":");
    out.list(&graph.agents, agent);
    out.raw(b",\"used\":");
    out.list(&graph.used, record);
    out.raw(b",\"generated\":");
    out.list(&graph.generated, record);
    out.raw(b",\"informed\":");
    out.list(&graph.informed, informed);
    out.raw(b",\"associations\":");
    out.list(&graph.associations, |out, (run_id, a)| {
        out.raw(b"{\"run_id\":");
        out.string(run_id);
        out.raw(b",\"agent\":");
        agent(out, a);
        out.raw(b"}");
    });
    out.raw(b"}");
    out.0
}

struct Json(Vec<u8>);

impl Json {
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// A JSON string. serde_json escapes `"`, `\` and control characters
    /// only; a string without them is written as it is.
    fn string(&mut self, text: &str) {
        // Without an early exit, so the check runs 16 bytes at a time.
        let plain = text.as_bytes().chunks(16).all(|chunk| {
            !chunk.iter().fold(false, |odd, &b| {
                odd | (b < 0x20) | (b == b'"') | (b == b'\\')
            })
        });
        if plain {
            self.0.reserve(text.len() + 2);
            self.0.push(b'"');
            self.0.extend_from_slice(text.as_bytes());
            self.0.push(b'"');
        } else {
            self.value(text);
        }
    }

    /// Digits as serde_json (itoa) writes them, without `fmt`'s machinery.
    fn uint(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.0.extend_from_slice(&digits[at..]);
    }

    fn int(&mut self, n: i64) {
        if n < 0 {
            self.0.push(b'-');
        }
        self.uint(n.unsigned_abs());
    }

    /// Anything else (enums, strings to escape) the way serde_json writes it.
    fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        // Serialising these plain values into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.0, value);
    }

    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Json, &T)) {
        self.0.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.0.push(b',');
            }
            each(self, item);
        }
        self.0.push(b']');
    }
}

fn activity(out: &mut Json, a: &LineageActivity) {
    out.raw(b"{\"run_id\":");
    out.string(a.run_id.as_str());
    out.raw(b",\"name\":");
    out.string(&a.name);
    out.raw(b",\"project\":");
    out.string(&a.project);
    out.raw(b",\"experiment\":");
    out.string(&a.experiment);
    out.raw(b",\"status\":");
    out.value(&a.status);
    out.raw(b",\"user\":");
    out.string(&a.user);
    out.raw(b",\"start_time\":");
    out.int(a.start_time);
    if let Some(end) = a.end_time {
        out.raw(b",\"end_time\":");
        out.int(end);
    }
    if let Some(depth) = a.depth {
        out.raw(b",\"depth\":");
        out.uint(depth.into());
    }
    out.raw(b"}");
}

fn entity(out: &mut Json, e: &LineageEntity, paths: &[&str]) {
    out.raw(b"{\"sha256\":");
    out.string(e.sha256.as_str());
    out.raw(b",\"size\":");
    out.uint(e.size);
    out.raw(b",\"media_type\":");
    out.string(&e.media_type);
    out.raw(b",\"paths\":");
    out.list(paths, |out, p| out.string(p));
    if let Some(uri) = &e.uri {
        out.raw(b",\"uri\":");
        out.string(uri);
    }
    out.raw(b",\"first_seen\":");
    out.int(e.first_seen);
    if let Some(depth) = e.depth {
        out.raw(b",\"depth\":");
        out.uint(depth.into());
    }
    out.raw(b"}");
}

fn agent(out: &mut Json, a: &AgentRef<'_>) {
    out.raw(b"{\"kind\":");
    out.value(&a.kind);
    out.raw(b",\"name\":");
    out.string(a.name);
    out.raw(b"}");
}

fn record(out: &mut Json, u: &UseRef<'_>) {
    out.raw(b"{\"run_id\":");
    out.string(u.run_id);
    out.raw(b",\"sha256\":");
    out.string(u.sha256);
    out.raw(b",\"path\":");
    out.string(u.path);
    out.raw(b",\"time\":");
    out.int(u.time);
    out.raw(b"}");
}

fn informed(out: &mut Json, i: &InformedRef<'_>) {
    out.raw(b"{\"run_id\":");
    out.string(i.run_id);
    out.raw(b",\"informant\":");
    out.string(i.informant);
    out.raw(b",\"kind\":");
    out.value(&i.kind);
    out.raw(b"}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lineage::{LineageAgent, LineageAssociation, LineageInformed, LineageUse};
    use crate::model::RunStatus;
    use crate::{RunId, Sha256Hex};

    fn sha(n: u32) -> Sha256Hex {
        Sha256Hex::parse(&format!("{n:064x}")).expect("sha")
    }

    #[test]
    fn the_bytes_are_serde_jsons() {
        let odd = [
            "",
            "plain",
            "q\"uote",
            "back\\slash",
            "tab\tnew\nline\u{1}",
            "é ☃ 𝄞",
            "\u{7f}",
        ];
        let run = |i: usize| RunId::parse(&format!("{i:032x}")).expect("run id");
        let mut graph = LineageGraph::default();
        assert_eq!(to_json(&graph), serde_json::to_vec(&graph).expect("json"));
        for (i, text) in odd.iter().enumerate() {
            let status = RunStatus::ALL[i % RunStatus::ALL.len()];
            graph.activities.push(LineageActivity {
                run_id: run(i),
                name: (*text).into(),
                project: format!("p{text}"),
                experiment: (*text).into(),
                status,
                user: (*text).into(),
                start_time: if i == 3 {
                    i64::MIN
                } else {
                    -5 + i as i64 * 1_700_000_000_000
                },
                end_time: (i % 2 == 0).then_some(i as i64),
                depth: (i % 3 != 0).then_some(i as u32 * 1000),
            });
            graph.entities.push(LineageEntity {
                sha256: sha(i as u32),
                size: u64::MAX - i as u64,
                media_type: (*text).into(),
                paths: odd[..i].iter().map(|p| (*p).into()).collect(),
                uri: (i % 2 == 1).then(|| format!("s3://b/{text}")),
                first_seen: i as i64,
                depth: (i % 2 == 0).then_some(0),
            });
            let kind = if i % 2 == 0 {
                AgentKind::Person
            } else {
                AgentKind::Software
            };
            graph.agents.push(LineageAgent {
                kind,
                name: (*text).into(),
            });
            let record = LineageUse {
                run_id: run(i),
                sha256: sha(i as u32),
                path: (*text).into(),
                time: i as i64,
            };
            graph.used.push(record.clone());
            graph.generated.push(record);
            graph.informed.push(LineageInformed {
                run_id: run(i),
                informant: run(i + 1),
                kind: [
                    EdgeKind::DerivedFrom,
                    EdgeKind::ResumedFrom,
                    EdgeKind::MergedFrom,
                    EdgeKind::AblationOf,
                ][i % 4],
            });
            graph.associations.push(LineageAssociation {
                run_id: run(i),
                agent: LineageAgent {
                    kind,
                    name: (*text).into(),
                },
            });
            assert_eq!(
                String::from_utf8(to_json(&graph)).expect("utf-8"),
                serde_json::to_string(&graph).expect("json")
            );
        }
    }
}
