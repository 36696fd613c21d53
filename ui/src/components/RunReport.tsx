// A run's REPORT.md, built by the server on demand
// (`GET /api/v1/runs/{id}/report`): what ran, config, provenance, metrics,
// components and artifacts. Rendered with react-markdown, which never
// renders raw HTML, so text from tags or errors cannot inject markup.

import Markdown from "react-markdown";
import remarkGfm from "remark-gfm";
import { api } from "../api/client";
import { useAsync } from "../hooks";
import { ErrorBox } from "./common";

export function RunReport({ runId }: { runId: string }) {
  const report = useAsync(() => api.report(runId), [runId]);
  return (
    <div className="card report" data-testid="run-report">
      <div className="row" style={{ justifyContent: "flex-end" }}>
        <a href={api.reportUrl(runId)} download={`REPORT-${runId}.md`}>
          Download REPORT.md
        </a>
      </div>
      <ErrorBox error={report.error} />
      {report.loading && !report.data && <p className="muted">Building the report…</p>}
      {report.data !== undefined && <Markdown remarkPlugins={[remarkGfm]}>{report.data}</Markdown>}
    </div>
  );
}
