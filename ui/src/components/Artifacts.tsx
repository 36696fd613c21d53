// A run's artifacts as a lazily expanded file tree, with a preview of the
// chosen file: images inline, CSV/TSV as a table, text and JSON as text.

import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { ArtifactEntry } from "../api/types";

const IMAGE = /\.(png|jpe?g|gif|webp|svg|bmp)$/i;
const TABLE = /\.(csv|tsv)$/i;
const TEXT = /\.(txt|log|md|json|ya?ml|toml|py|sh|diff|patch|cfg|ini|xml|html|js|ts|rs|c|h|cpp)$/i;

export function ArtifactBrowser({ runId }: { runId: string }) {
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
          {e.is_dir ? (open.has(e.path) ? "▾ 📁 " : "▸ 📁 ") : "📄 "}
          {e.name}
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
        {chosen ? <Preview runId={runId} entry={chosen} /> : <p className="muted">Choose a file to preview it.</p>}
      </div>
    </div>
  );
}

function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function Preview({ runId, entry }: { runId: string; entry: ArtifactEntry }) {
  const url = api.artifactUrl(runId, entry.path);
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
      {error && <div className="error">{error}</div>}
      {kind === "image" && <img src={url} alt={entry.name} />}
      {kind === "table" && text !== undefined && <CsvTable text={text} sep={entry.name.endsWith(".tsv") ? "\t" : ","} />}
      {kind === "text" && text !== undefined && <pre>{prettyJson(entry.name, text)}</pre>}
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
