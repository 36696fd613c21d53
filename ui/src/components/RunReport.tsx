// A run's REPORT.md, built by the server on demand
// (`GET /api/v1/runs/{id}/report`): what ran, config, provenance, metrics,
// components and artifacts. Rendered with react-markdown, which never
// renders raw HTML, so text from tags or errors cannot inject markup. The
// server escapes the text it interpolates too; this renderer still treats
// the report as untrusted: an image would make the browser fetch its URL
// as soon as the tab opens (a tracking pixel, a request to an internal
// address), so images are shown as their alt text and address, never loaded,
// and links open in a new tab without the referrer.

import Markdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";
import { api } from "../api/client";
import { useAsync } from "../hooks";
import { ErrorBox } from "./common";

const components: Components = {
  img: ({ alt, src }) => (
    <span className="muted" data-testid="report-image" title={typeof src === "string" ? src : undefined}>
      [image not loaded: {alt || "no description"}
      {typeof src === "string" && src ? ` (${src})` : ""}]
    </span>
  ),
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
};

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
      {report.data !== undefined && (
        <Markdown remarkPlugins={[remarkGfm]} components={components}>
          {report.data}
        </Markdown>
      )}
    </div>
  );
}
