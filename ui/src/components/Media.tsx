// Media logged by step: artifacts with a `step`, grouped into series by
// their path with the digits taken out (`media/confusion/step_0100.png` and
// `…/step_0200.png` are one series), each with a slider over its steps.

import { useMemo, useState } from "react";
import { api } from "../api/client";
import type { ArtifactFile } from "../api/types";
import { useAsync } from "../hooks";
import { ErrorBox } from "./common";

export interface Series {
  key: string;
  files: ArtifactFile[]; // sorted by step
}

export function mediaSeries(files: ArtifactFile[]): Series[] {
  const groups = new Map<string, ArtifactFile[]>();
  for (const f of files) {
    if (f.step === null || f.step === undefined) continue;
    const key = f.path.replace(/\d+/g, "#");
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(f);
  }
  return [...groups]
    .map(([key, list]) => ({ key, files: list.sort((a, b) => (a.step ?? 0) - (b.step ?? 0) || a.path.localeCompare(b.path)) }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

export function RunMedia({ runId }: { runId: string }) {
  const files = useAsync(() => api.artifactFiles(runId), [runId]);
  const series = useMemo(() => mediaSeries(files.data ?? []), [files.data]);
  return (
    <div data-testid="run-media">
      <ErrorBox error={files.error} />
      {files.data && series.length === 0 && (
        <p className="muted">No media logged with a step (artifacts uploaded with <code>step=</code>).</p>
      )}
      {series.map((s) => (
        <MediaSeries key={s.key} runId={runId} series={s} />
      ))}
    </div>
  );
}

export function MediaSeries({ runId, series }: { runId: string; series: Series }) {
  const [index, setIndex] = useState(series.files.length - 1);
  const i = Math.min(Math.max(index, 0), series.files.length - 1);
  const file = series.files[i];
  const url = api.artifactUrl(runId, file.path);
  const type = file.media_type || "";
  return (
    <div className="card media" data-series={series.key} style={{ marginBottom: 12 }}>
      <div className="row">
        <strong className="mono">{series.key.replace(/#/g, "…")}</strong>
        <label className="row">
          step
          <input
            type="range"
            aria-label={`step of ${series.key}`}
            min={0}
            max={series.files.length - 1}
            value={i}
            onChange={(e) => setIndex(Number(e.target.value))}
            disabled={series.files.length < 2}
          />
          <span data-testid="media-step">{file.step}</span>
          <span className="muted">
            ({i + 1} of {series.files.length})
          </span>
        </label>
        <a href={url} download className="mono">
          {file.path}
        </a>
      </div>
      {type.startsWith("image/") || /\.(png|jpe?g|gif|webp|svg|bmp)$/i.test(file.path) ? (
        <img src={url} alt={`${file.path} at step ${file.step}`} style={{ maxWidth: "100%", imageRendering: "pixelated", minWidth: 200 }} />
      ) : type.startsWith("audio/") ? (
        <audio controls src={url} />
      ) : type.startsWith("video/") ? (
        <video controls src={url} style={{ maxWidth: "100%" }} />
      ) : (
        <p className="muted">{type || "file"}: open it with the link above.</p>
      )}
    </div>
  );
}
