import type { RunStatus } from "../api/types";
import { fmtNum } from "../util";

export function Status({ status }: { status: RunStatus }) {
  return <span className={`status ${status}`}>{status}</span>;
}

/** A number cell: NaN and missing values are shown as such, never as 0. */
export function Num({ value }: { value: number | undefined }) {
  if (value === undefined) return <span className="missing" title="not logged">—</span>;
  if (Number.isNaN(value)) return <span className="nan" title="NaN">NaN</span>;
  return <>{fmtNum(value)}</>;
}

export function ErrorBox({ error }: { error?: Error }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {error.message}
    </div>
  );
}
