//! An assembled lineage as the graph, or straight as its JSON. Both give
//! the lists in `LineageGraph::finish`'s order, so the JSON is the bytes
//! `runlore_core::lineage::to_json` writes for the graph (the tests compare
//! them).

use runlore_core::lineage::{
    AgentKind, AgentRef, GraphRef, InformedRef, LineageAgent, LineageAssociation, LineageGraph,
    LineageInformed, LineageUse, UseRef, write_json,
};

use super::Assembled;

impl Assembled {
    /// Each blob's paths, sorted and once each: (blob, path), by blob.
    fn paths(&self) -> Vec<(usize, &str)> {
        let mut paths: Vec<(usize, &str)> = self
            .records
            .iter()
            .map(|r| (r.blob, r.path.as_str()))
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths
    }

    /// The user and the program behind each run: (run, agent), by run,
    /// the person first.
    fn associations(&self) -> Vec<(usize, AgentRef<'_>)> {
        let mut out = Vec::new();
        for (run, (activity, source)) in self.runs.iter().zip(&self.sources).enumerate() {
            if !activity.user.is_empty() {
                out.push((
                    run,
                    AgentRef {
                        kind: AgentKind::Person,
                        name: &activity.user,
                    },
                ));
            }
            if let Some(source) = source {
                out.push((
                    run,
                    AgentRef {
                        kind: AgentKind::Software,
                        name: source,
                    },
                ));
            }
        }
        out
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        let paths = self.paths();
        let all: Vec<&str> = paths.iter().map(|&(_, p)| p).collect();
        let mut entities = Vec::with_capacity(self.blobs.len());
        let mut at = 0;
        for (blob, entity) in self.blobs.iter().enumerate() {
            let end = at + paths[at..].iter().take_while(|&&(b, _)| b == blob).count();
            entities.push((entity, &all[at..end]));
            at = end;
        }
        let associations: Vec<(&str, AgentRef<'_>)> = self
            .associations()
            .into_iter()
            .map(|(run, agent)| (self.runs[run].run_id.as_str(), agent))
            .collect();
        let mut agents: Vec<AgentRef<'_>> = associations.iter().map(|&(_, a)| a).collect();
        agents.sort_unstable();
        agents.dedup();
        let mut graph = GraphRef {
            activities: self.runs.iter().collect(),
            entities,
            agents,
            associations,
            ..GraphRef::default()
        };
        for r in &self.records {
            let record = UseRef {
                run_id: self.runs[r.run].run_id.as_str(),
                sha256: self.blobs[r.blob].sha256.as_str(),
                path: &r.path,
                time: r.time,
            };
            if r.output {
                graph.generated.push(record);
            } else {
                graph.used.push(record);
            }
        }
        graph.informed = self
            .informed
            .iter()
            .map(|&(run, informant, kind)| InformedRef {
                run_id: self.runs[run].run_id.as_str(),
                informant: self.runs[informant].run_id.as_str(),
                kind,
            })
            .collect();
        write_json(&graph)
    }

    pub(crate) fn into_graph(self) -> LineageGraph {
        let mut paths: Vec<Vec<String>> = vec![Vec::new(); self.blobs.len()];
        for (blob, path) in self.paths() {
            paths[blob].push(path.to_owned());
        }
        let associations: Vec<LineageAssociation> = self
            .associations()
            .into_iter()
            .map(|(run, agent)| LineageAssociation {
                run_id: self.runs[run].run_id.clone(),
                agent: LineageAgent {
                    kind: agent.kind,
                    name: agent.name.to_owned(),
                },
            })
            .collect();
        let mut graph = LineageGraph {
            informed: self
                .informed
                .iter()
                .map(|&(run, informant, kind)| LineageInformed {
                    run_id: self.runs[run].run_id.clone(),
                    informant: self.runs[informant].run_id.clone(),
                    kind,
                })
                .collect(),
            associations,
            ..LineageGraph::default()
        };
        for r in self.records {
            let record = LineageUse {
                run_id: self.runs[r.run].run_id.clone(),
                sha256: self.blobs[r.blob].sha256.clone(),
                path: r.path,
                time: r.time,
            };
            if r.output {
                graph.generated.push(record);
            } else {
                graph.used.push(record);
            }
        }
        graph.entities = self
            .blobs
            .into_iter()
            .zip(paths)
            .map(|(mut entity, paths)| {
                entity.paths = paths;
                entity
            })
            .collect();
        graph.activities = self.runs;
        // Agents, and a check of the order (cheap on sorted lists).
        graph.finish()
    }
}
