// A run's provenance (GET /lineage?run=): the files it used, with the runs
// that produced them (linked), the files it produced, the runs it was
// derived from, and the W3C PROV exports.

import { Link } from "react-router";
import { api } from "../api/client";
import type { Lineage } from "../api/types";
import { useAsync } from "../hooks";
import { ErrorBox, Status } from "./common";
import { shortId } from "../util";

export function Provenance({ runId }: { runId: string }) {
  const lineage = useAsync(() => api.lineage(runId), [runId]);
  return (
    <div data-testid="run-lineage">
      <div className="row" style={{ marginBottom: 8 }}>
        <span className="muted">W3C PROV export:</span>
        <a href={api.lineageUrl(runId, "prov-json")} download={`${runId}.prov.json`}>
          PROV-JSON
        </a>
        <a href={api.lineageUrl(runId, "prov-n")} download={`${runId}.provn`}>
          PROV-N
        </a>
      </div>
      <ErrorBox error={lineage.error} />
      {lineage.data && <ProvenanceTables runId={runId} lineage={lineage.data} />}
    </div>
  );
}

export function ProvenanceTables({ runId, lineage }: { runId: string; lineage: Lineage }) {
  const runs = new Map(lineage.activities.map((a) => [a.run_id, a]));
  const entities = new Map(lineage.entities.map((e) => [e.sha256, e]));
  const inputs = lineage.used.filter((u) => u.run_id === runId);
  const outputs = lineage.generated.filter((g) => g.run_id === runId);
  const informants = lineage.informed.filter((i) => i.run_id === runId);
  const runLink = (id: string) => {
    const a = runs.get(id);
    return (
      <span key={id}>
        <Link to={`/runs/${id}`}>{a?.name ?? shortId(id)}</Link> {a && <Status status={a.status} />}
      </span>
    );
  };
  return (
    <div className="row" style={{ alignItems: "flex-start", gap: 24 }}>
      <div>
        <h2 style={{ marginTop: 0 }}>Inputs</h2>
        {inputs.length === 0 ? (
          <p className="muted">No recorded inputs.</p>
        ) : (
          <table className="plain" data-testid="lineage-inputs">
            <thead>
              <tr><th>path</th><th>sha256</th><th>produced by</th></tr>
            </thead>
            <tbody>
              {inputs.map((u) => {
                const producers = lineage.generated.filter((g) => g.sha256 === u.sha256 && g.run_id !== runId);
                const uri = entities.get(u.sha256)?.uri;
                return (
                  <tr key={u.path}>
                    <td className="mono">{u.path}</td>
                    <td className="mono" title={u.sha256}>{u.sha256.slice(0, 12)}</td>
                    <td>
                      {producers.length ? producers.map((g) => runLink(g.run_id)) : uri ? <span className="mono">{uri}</span> : <span className="muted">—</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <h2>Derived from</h2>
        {informants.length === 0 ? (
          <p className="muted">—</p>
        ) : (
          informants.map((i) => (
            <div key={i.informant}>
              {runLink(i.informant)} <span className="muted">{i.kind}</span>
            </div>
          ))
        )}
      </div>
      <div>
        <h2 style={{ marginTop: 0 }}>Outputs</h2>
        {outputs.length === 0 ? (
          <p className="muted">No outputs.</p>
        ) : (
          <table className="plain" data-testid="lineage-outputs">
            <thead>
              <tr><th>path</th><th>sha256</th><th>size</th></tr>
            </thead>
            <tbody>
              {outputs.map((g) => (
                <tr key={g.path}>
                  <td className="mono">
                    <a href={api.artifactUrl(runId, g.path)} download>{g.path}</a>
                  </td>
                  <td className="mono" title={g.sha256}>{g.sha256.slice(0, 12)}</td>
                  <td>{entities.get(g.sha256)?.size ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
