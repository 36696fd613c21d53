// A run's stdout and stderr (the `logs/stdout.log` and `logs/stderr.log`
// artifacts `runlore exec` uploads while the command runs). While the run is
// RUNNING both are re-read every few seconds; polling stops once it ends.
// The view follows the end of the log unless the reader scrolled up. Only
// the end of each log is read (an HTTP range request), so a long run's huge
// log costs the same on every poll.

import { useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import type { RunStatus } from "../api/types";
import { ErrorBox, Status } from "./common";

export const LOG_PATHS = { stdout: "logs/stdout.log", stderr: "logs/stderr.log" } as const;
/** At most this much of the end of a log is shown. */
export const TAIL_CHARS = 500_000;

export function tail(text: string, limit = TAIL_CHARS): { text: string; cut: boolean } {
  if (text.length <= limit) return { text, cut: false };
  const start = text.indexOf("\n", text.length - limit);
  return { text: text.slice(start < 0 ? text.length - limit : start + 1), cut: true };
}

/** Bytes read from the end of a log on each poll. */
export const TAIL_BYTES = 512 * 1024;

type LogTail = { text: string; cut: boolean } | null;

interface Logs {
  stdout: LogTail;
  stderr: LogTail;
  status: RunStatus;
}

export function RunLogs({ runId, intervalMs = 3000 }: { runId: string; intervalMs?: number }) {
  const [logs, setLogs] = useState<Logs>();
  const [error, setError] = useState<Error>();
  const [stream, setStream] = useState<keyof typeof LOG_PATHS>("stdout");
  const [polls, setPolls] = useState(0);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      try {
        const [run, stdout, stderr] = await Promise.all([
          api.run(runId),
          api.artifactTail(runId, LOG_PATHS.stdout, TAIL_BYTES),
          api.artifactTail(runId, LOG_PATHS.stderr, TAIL_BYTES),
        ]);
        if (!live) return;
        setLogs({ stdout, stderr, status: run.status });
        setError(undefined);
        setPolls((n) => n + 1);
        if (run.status === "RUNNING") timer = setTimeout(read, Math.min(Math.max(intervalMs, 500), 30_000));
      } catch (e) {
        if (!live) return;
        setError(e as Error);
        // keep trying (bounded) while the server comes back
        timer = setTimeout(read, Math.min(Math.max(intervalMs, 500) * 3, 30_000));
      }
    };
    read();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [runId, intervalMs]);

  const log = logs?.[stream];
  const text = log?.text;
  return (
    <div data-testid="run-logs">
      <div className="row" style={{ marginBottom: 6 }}>
        <div className="tabs" role="tablist" style={{ marginBottom: 0, border: "none" }}>
          {(Object.keys(LOG_PATHS) as (keyof typeof LOG_PATHS)[]).map((s) => (
            <button key={s} role="tab" aria-selected={stream === s} className={stream === s ? "on" : ""} onClick={() => setStream(s)}>
              {s}
              {logs && logs[s] === null ? " (none)" : ""}
            </button>
          ))}
        </div>
        {logs && <Status status={logs.status} />}
        {logs?.status === "RUNNING" ? (
          <span className="muted" data-testid="log-live">
            live: re-read every {Math.round(intervalMs / 1000)} s ({polls} reads)
          </span>
        ) : (
          logs && <span className="muted">finished: not polling</span>
        )}
        {text != null && (
          <a href={api.artifactUrl(runId, LOG_PATHS[stream])} download>
            download
          </a>
        )}
      </div>
      <ErrorBox error={error} />
      {!logs && !error && <p className="muted">Loading…</p>}
      {logs && text == null && (
        <p className="muted">
          No {LOG_PATHS[stream]} artifact. <code>runlore exec -- COMMAND</code> uploads the command's output there while it runs.
        </p>
      )}
      {text != null && <LogText text={text} cut={log?.cut} />}
    </div>
  );
}

/** The log, scrolled to its end on every change unless the reader scrolled up. */
export function LogText({ text, cut = false }: { text: string; cut?: boolean }) {
  const ref = useRef<HTMLPreElement>(null);
  const follow = useRef(true);
  const shown = tail(text);
  // The first line of a ranged read is usually a fragment: drop it.
  const lines = cut && !shown.cut ? { text: shown.text.slice(shown.text.indexOf("\n") + 1), cut: true } : shown;
  useEffect(() => {
    const el = ref.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [lines.text]);
  return (
    <>
      {lines.cut && <p className="muted">Showing the end of the log (download it for the whole).</p>}
      <pre
        ref={ref}
        className="log"
        data-testid="log-text"
        onScroll={(e) => {
          const el = e.currentTarget;
          follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.text}
      </pre>
    </>
  );
}
