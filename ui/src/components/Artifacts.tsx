// A run's artifacts as a lazily expanded file tree, with a preview of the
// chosen file: images inline, CSV/TSV as a table, text and JSON as text.

import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { ArtifactEntry, Run } from "../api/types";
import { diffLines } from "../diff";

const IMAGE = /\.(png|jpe?g|gif|webp|svg|bmp)$/i;
const TABLE = /\.(csv|tsv)$/i;
const TEXT = /\.(txt|log|md|json|ya?ml|toml|py|sh|diff|patch|cfg|ini|xml|html|js|ts|rs|c|h|cpp)$/i;

export function ArtifactBrowser({ runId, project }: { runId: string; project?: string }) {
  const [dirs, setDirs] = useState<Record<string, ArtifactEntry[] | "loading">>({});
  const [open, setOpen] = useState<Set<string>>(new Set([""]));
  const [chosen, setChosen] = useState<ArtifactEntry>();
  const [error, setError] = useState<string>();

  const load = (path: string) => {
    setDirs((d) => ({ ...d, [path]: "loading" }));
    api.artifacts(runId, path).then(
      (r) => setDirs((d) => ({ ...d, [path]: r.items })),
      (e: Error) => setError(e.message),
    );
  };
  useEffect(() => {
    setDirs({});
    setChosen(undefined);
    load("");
  }, [runId]); // eslint-disable-line react-hooks/exhaustive-deps

  const toggle = (entry: ArtifactEntry) => {
    if (!entry.is_dir) return setChosen(entry);
    const next = new Set(open);
    if (next.has(entry.path)) next.delete(entry.path);
    else {
      next.add(entry.path);
      if (!dirs[entry.path]) load(entry.path);
    }
    setOpen(next);
  };

  const render = (path: string, depth: number): React.ReactNode => {
    const entries = dirs[path];
    if (entries === "loading" || entries === undefined) return <div className="muted">…</div>;
    if (entries.length === 0 && depth === 0) return <div className="muted">No artifacts.</div>;
    return entries.map((e) => (
      <div key={e.path}>
        <div
          className={chosen?.path === e.path ? "on" : ""}
          style={{ paddingLeft: 4 + depth * 14 }}
          onClick={() => toggle(e)}
          data-artifact={e.path}
        >
          {e.is_dir ? (open.has(e.path) ? "▾ " : "▸ ") : "\u00a0\u00a0 "}
          {e.name}
          {e.is_dir ? "/" : ""}
          {!e.is_dir && e.size !== null && <span className="muted"> {fmtSize(e.size)}</span>}
        </div>
        {e.is_dir && open.has(e.path) && render(e.path, depth + 1)}
      </div>
    ));
  };

  return (
    <div className="split">
      <div className="filetree card" data-testid="artifact-tree">
        {error && <div className="error">{error}</div>}
        {render("", 0)}
      </div>
      <div className="preview card" data-testid="artifact-preview">
        {chosen ? (
          <Preview runId={runId} project={project} entry={chosen} />
        ) : (
          <p className="muted">Choose a file to preview it.</p>
        )}
      </div>
    </div>
  );
}

function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function Preview({ runId, project, entry }: { runId: string; project?: string; entry: ArtifactEntry }) {
  const url = api.artifactUrl(runId, entry.path);
  const [other, setOther] = useState("");
  const [text, setText] = useState<string>();
  const [error, setError] = useState<string>();
  const kind = IMAGE.test(entry.name) ? "image" : TABLE.test(entry.name) ? "table" : "text";
  const tooBig = (entry.size ?? 0) > 5 * 1024 * 1024;
  useEffect(() => {
    setText(undefined);
    setError(undefined);
    if (kind === "image" || tooBig) return;
    if (kind === "text" && !TEXT.test(entry.name) && (entry.size ?? 0) > 256 * 1024) return;
    api.artifactText(runId, entry.path).then(setText, (e: Error) => setError(e.message));
  }, [runId, entry.path, kind, tooBig, entry.name, entry.size]);
  return (
    <div>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <strong className="mono">{entry.path}</strong>
        <a href={url} download>
          download
        </a>
      </div>
      {project && !tooBig && <OtherRunPicker project={project} runId={runId} value={other} onChange={setOther} />}
      {error && <div className="error">{error}</div>}
      {other ? (
        <SideBySide runId={runId} other={other} entry={entry} kind={kind} />
      ) : (
        <>
          {kind === "image" && <img src={url} alt={entry.name} />}
      {kind === "table" && text !== undefined && <CsvTable text={text} sep={entry.name.endsWith(".tsv") ? "\t" : ","} />}
          {kind === "text" && text !== undefined && <pre>{prettyJson(entry.name, text)}</pre>}
        </>
      )}
      {tooBig && <p className="muted">Too large to preview; download it instead.</p>}
    </div>
  );
}

function prettyJson(name: string, text: string): string {
  if (!name.endsWith(".json")) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function CsvTable({ text, sep }: { text: string; sep: string }) {
  const lines = text.split(/\r?\n/).filter(Boolean).slice(0, 201);
  const rows = lines.map((l) => l.split(sep));
  return (
    <div style={{ overflow: "auto", maxHeight: "60vh" }}>
      <table className="plain">
        <thead>
          <tr>{rows[0]?.map((c, i) => <th key={i}>{c}</th>)}</tr>
        </thead>
        <tbody>
          {rows.slice(1).map((r, i) => (
            <tr key={i}>{r.map((c, j) => <td key={j}>{c}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function OtherRunPicker({
  project,
  runId,
  value,
  onChange,
}: {
  project: string;
  runId: string;
  value: string;
  onChange: (id: string) => void;
}) {
  const [runs, setRuns] = useState<Run[]>([]);
  useEffect(() => {
    api.runsPage({ project, limit: 500 }).then(
      (page) => setRuns(page.items.filter((r) => r.id !== runId)),
      () => setRuns([]),
    );
  }, [project, runId]);
  return (
    <label className="row" style={{ margin: "6px 0" }}>
      compare with{" "}
      <select aria-label="compare artifact with run" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">(no other run)</option>
        {runs.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The same path in two runs, side by side; text as a line diff computed by
 * the server (`GET /runs/{a}/artifact-diff/{b}?path=`, files up to 1 MiB),
 * else in the browser (JSON pretty-printed first). */
function SideBySide({ runId, other, entry, kind }: { runId: string; other: string; entry: ArtifactEntry; kind: string }) {
  const [ops, setOps] = useState<LineOp[] | "missing">();
  const [error, setError] = useState<string>();
  useEffect(() => {
    setOps(undefined);
    setError(undefined);
    if (kind === "image") return;
    let live = true;
    loadDiff(runId, other, entry).then(
      (r) => live && setOps(r),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [runId, other, entry, kind]);
  if (kind === "image")
    return (
      <div className="row" style={{ alignItems: "flex-start" }} data-testid="artifact-side-by-side">
        <img src={api.artifactUrl(runId, entry.path)} alt="this run" style={{ maxWidth: "48%" }} />
        <img src={api.artifactUrl(other, entry.path)} alt="other run" style={{ maxWidth: "48%" }} />
      </div>
    );
  if (error) return <div className="error">{error}</div>;
  if (!ops) return <p className="muted">Loading…</p>;
  if (ops === "missing") return <p className="muted">The other run has no {entry.path}.</p>;
  const changed = ops.filter((o) => o.type !== "same").length;
  return (
    <div data-testid="artifact-side-by-side">
      <p className="muted">{changed ? `${changed} changed lines` : "Identical."}</p>
      <table className="plain mono" style={{ width: "100%", tableLayout: "fixed" }}>
        <thead>
          <tr>
            <th>this run</th>
            <th>other run</th>
          </tr>
        </thead>
        <tbody>
          {ops.slice(0, 5000).map((o, i) => (
            <tr key={i}>
              <td className={o.type === "del" ? "worse" : ""} style={{ whiteSpace: "pre-wrap" }}>
                {o.type !== "add" ? o.text : ""}
              </td>
              <td className={o.type === "add" ? "better" : ""} style={{ whiteSpace: "pre-wrap" }}>
                {o.type !== "del" ? o.text : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type LineOp = { type: "same" | "del" | "add"; text: string };

async function loadDiff(runId: string, other: string, entry: ArtifactEntry): Promise<LineOp[] | "missing"> {
  const answer = await api.artifactDiff(runId, other, entry.path).catch(() => undefined);
  const lines = answer?.changed.find((c) => c.path === entry.path)?.lines;
  // JSON is compared pretty-printed, which only the browser does
  if (lines && !entry.name.endsWith(".json"))
    return lines.map((l) => ({ type: l.tag === "equal" ? "same" : l.tag === "delete" ? "del" : "add", text: l.text }));
  const [mine, theirs] = await Promise.all([api.artifactText(runId, entry.path), api.artifactTextOrNull(other, entry.path)]);
  if (theirs === null) return "missing";
  return diffLines(prettyJson(entry.name, mine).split("\n"), prettyJson(entry.name, theirs).split("\n"));
}
