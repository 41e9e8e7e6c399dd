import { useState } from "react";
import { NavLink, Outlet } from "react-router-dom";
import { useAuth } from "../lib/auth";
import { useStreamState } from "../lib/hooks";
import { applyTheme, currentTheme, type Theme } from "../lib/theme";

const LINKS: [string, string][] = [
  ["/", "Dashboard"],
  ["/runs", "Runs"],
  ["/trades", "Trades"],
  ["/journal", "Journal"],
  ["/playbooks", "Playbooks"],
  ["/executions", "Executions"],
  ["/rejected", "Rejected"],
  ["/regimes", "Regimes"],
  ["/training", "Training"],
  ["/backtests", "Backtests"],
  ["/instruments", "Instruments"],
  ["/import", "Import"],
  ["/settings", "Settings"],
];

export function Layout() {
  const { user, logout } = useAuth();
  const [theme, setTheme] = useState<Theme>(currentTheme());
  const [menuOpen, setMenuOpen] = useState(false);
  const stream = useStreamState();
  const toggle = () => {
    const next = theme === "dark" ? "light" : "dark";
    applyTheme(next);
    setTheme(next);
  };
  return (
    <div className="shell">
      <header className="topbar">
        <button className="menu-button" aria-label="Menu" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>
          ☰
        </button>
        <span className="brand">Fillbook</span>
        <nav className={menuOpen ? "nav open" : "nav"} aria-label="Main">
          {LINKS.map(([to, text]) => (
            <NavLink key={to} to={to} end={to === "/"} onClick={() => setMenuOpen(false)}>
              {text}
            </NavLink>
          ))}
        </nav>
        <span className={`live-dot ${stream}`} title={`live updates: ${stream}`} data-testid="stream-state">
          {stream === "open" ? "live" : stream}
        </span>
        <button onClick={toggle} aria-label="Toggle theme" title="Toggle light/dark">
          {theme === "dark" ? "☀" : "☾"}
        </button>
        <span className="user">{user?.username}</span>
        <button onClick={logout}>Log out</button>
      </header>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}

export function Loading() {
  return <p className="dim">Loading…</p>;
}

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error.message}
    </p>
  );
}
