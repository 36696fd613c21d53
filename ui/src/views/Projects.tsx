import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api } from "../api/client";
import { ErrorBox } from "../components/common";
import { useAsync } from "../hooks";
import { fmtTime } from "../util";

export function ProjectsView() {
  const [showArchived, setShowArchived] = useState(false);
  const projects = useAsync(() => api.projects(showArchived ? "all" : "active"), [showArchived]);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [createError, setCreateError] = useState<Error>();
  const navigate = useNavigate();

  async function create(e: React.FormEvent) {
    e.preventDefault();
    setCreateError(undefined);
    try {
      const p = await api.createProject(name.trim(), description);
      navigate(`/projects/${encodeURIComponent(p.name)}`);
    } catch (err) {
      setCreateError(err as Error);
    }
  }

  return (
    <div>
      <h1>Projects</h1>
      <form className="row card" onSubmit={create} style={{ marginBottom: 16 }}>
        <strong>New project</strong>
        <input
          placeholder="name"
          aria-label="project name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
        />
        <input
          placeholder="description"
          aria-label="project description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          style={{ flex: 1 }}
        />
        <button className="primary" type="submit" disabled={!name.trim()}>
          Create
        </button>
        {createError && <ErrorBox error={createError} />}
      </form>
      <label className="muted">
        <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} /> show
        archived
      </label>
      <ErrorBox error={projects.error} />
      <table className="plain" style={{ marginTop: 8, minWidth: 600 }} data-testid="projects">
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {projects.data?.items.map((p) => (
            <tr key={p.name}>
              <td>
                <Link to={`/projects/${encodeURIComponent(p.name)}`}>{p.name}</Link>
                {p.lifecycle !== "active" && <span className="muted"> ({p.lifecycle})</span>}
              </td>
              <td>{p.description}</td>
              <td className="muted">{fmtTime(p.created_at)}</td>
              <td>
                <Link to={`/projects/${encodeURIComponent(p.name)}/settings`}>settings</Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {projects.loading && !projects.data && <p className="muted">Loading…</p>}
    </div>
  );
}
