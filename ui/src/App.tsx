import { useEffect, useState } from "react";
import { Link, NavLink, Route, Routes, useParams } from "react-router";
import { api, onReachability } from "./api/client";
import { ProjectsView } from "./views/Projects";
import { SettingsView } from "./views/Settings";
import { OverviewView } from "./views/Overview";
import { RunView } from "./views/RunPage";
import { CompareView } from "./views/Compare";
import { GraphView } from "./views/Graph";
import { KanbanView } from "./views/Kanban";

type Theme = "light" | "dark";

function initialTheme(): Theme {
  const saved = localStorage.getItem("runlore.theme");
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function App() {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("runlore.theme", theme);
  }, [theme]);
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          Runlore
        </Link>
        <Routes>
          <Route path="/projects/:project/*" element={<ProjectNav />} />
          <Route path="/runs/:id" element={<RunProjectNav />} />
          <Route path="*" element={null} />
        </Routes>
        <span className="spacer" />
        <button
          className="ghost"
          data-testid="theme-toggle"
          onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
          title="Switch light/dark theme"
        >
          {theme === "dark" ? "☀ Light" : "☾ Dark"}
        </button>
      </header>
      <UnreachableBanner />
      <main>
        <Routes>
          <Route path="/" element={<ProjectsView />} />
          <Route path="/projects/:project" element={<OverviewView />} />
          <Route path="/projects/:project/settings" element={<SettingsView />} />
          <Route path="/projects/:project/compare" element={<CompareView />} />
          <Route path="/projects/:project/graph" element={<GraphView />} />
          <Route path="/projects/:project/kanban" element={<KanbanView />} />
          <Route path="/runs/:id" element={<RunView />} />
          <Route path="*" element={<p className="empty">No such page. <Link to="/">Projects</Link></p>} />
        </Routes>
      </main>
    </div>
  );
}

/** On a run's page, the navigation of the run's project. */
function RunProjectNav() {
  const { id = "" } = useParams();
  const [project, setProject] = useState<string>();
  useEffect(() => {
    api.run(id).then(
      (r) => setProject(r.project),
      () => setProject(undefined),
    );
  }, [id]);
  return project ? <ProjectNav name={project} /> : null;
}

function ProjectNav({ name }: { name?: string }) {
  const params = useParams();
  const project = name ?? params.project ?? "";
  const base = `/projects/${encodeURIComponent(project)}`;
  return (
    <nav className="projnav">
      <span className="projname">{project}</span>
      <NavLink end to={base} className={({ isActive }) => (isActive && !name ? "active" : "")}>
        Runs
      </NavLink>
      <NavLink to={`${base}/graph`}>Graph</NavLink>
      <NavLink to={`${base}/kanban`}>Kanban</NavLink>
      <NavLink to={`${base}/compare`}>Compare</NavLink>
      <NavLink to={`${base}/settings`}>Settings</NavLink>
    </nav>
  );
}

/** Shown while the server cannot be reached; polls /health until it answers. */
export function UnreachableBanner() {
  const [down, setDown] = useState(false);
  useEffect(() => onReachability((ok) => setDown(!ok)), []);
  useEffect(() => {
    if (!down) return;
    const timer = setInterval(() => {
      api.health().catch(() => undefined);
    }, 3000);
    return () => clearInterval(timer);
  }, [down]);
  if (!down) return null;
  return (
    <div className="banner error" role="alert" data-testid="unreachable">
      The Runlore server cannot be reached. Is <code>runlore server</code> running? Retrying every few
      seconds…
    </div>
  );
}
