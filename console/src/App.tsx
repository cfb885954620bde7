import type { ReactNode } from "react";
import { ErrorBox, Loading, ZonePicker } from "./components";
import { useAuth } from "./lib/auth";
import { Link, navigate, useLocation } from "./lib/router";
import { NAV } from "./nav";
import { AbusePage } from "./pages/Abuse";
import { AnalyticsPage } from "./pages/Analytics";
import { ContentPage } from "./pages/Content";
import { LoginPage } from "./pages/Login";
import { ModelsPage } from "./pages/Models";
import { RulesPage } from "./pages/Rules";
import { ScriptsPage } from "./pages/Scripts";
import { TokensPage } from "./pages/Tokens";
import { ZonesPage } from "./pages/Zones";

const PAGES: Record<string, () => ReactNode> = {
  "/analytics": () => <AnalyticsPage />,
  "/rules": () => <RulesPage />,
  "/models": () => <ModelsPage />,
  "/content": () => <ContentPage />,
  "/abuse": () => <AbusePage />,
  "/scripts": () => <ScriptsPage />,
  "/tokens": () => <TokensPage />,
  "/zones": () => <ZonesPage />,
};

export function App() {
  const { session, loading, logout } = useAuth();
  const { path } = useLocation();
  if (loading) return <Loading what="Signing in" />;
  if (session === null) return <LoginPage />;

  const visible = NAV.filter((item) => item.path in PAGES && item.visible(session));
  const item = NAV.find((n) => n.path in PAGES && (path === n.path || path.startsWith(n.path + "/")));
  let body: ReactNode;
  if (path === "/" || path === "") {
    const first = visible[0];
    if (first) {
      queueMicrotask(() => navigate(first.path + window.location.search, true));
      body = <Loading />;
    } else {
      body = <ErrorBox error="This token's roles give it no page in the console." />;
    }
  } else if (item === undefined) {
    body = (
      <section className="page" data-page="not-found" data-ready="true">
        <h1>No such page</h1>
        <p>
          <Link to="/">Back to the console</Link>
        </p>
      </section>
    );
  } else if (!item.visible(session)) {
    body = (
      <section className="page" data-page="forbidden" data-ready="true">
        <h1>Not allowed</h1>
        <ErrorBox error={`This token's roles do not allow the page "${item.label}".`} />
      </section>
    );
  } else {
    body = PAGES[item.path]?.();
  }
  const me = session.me;
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">bastion</div>
        <nav data-testid="nav">
          {visible.map((n) => (
            <Link
              key={n.path}
              to={n.path + window.location.search}
              className={item?.path === n.path ? "active" : ""}
              testId={`nav-${n.path.slice(1)}`}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="whoami" data-testid="whoami">
          <div>{me.token ? me.token.name : "auth off"}</div>
          <div className="muted">{me.roles.join(", ")}</div>
          {!me.all_zones && <div className="muted">zones: {me.zones.join(", ")}</div>}
          <button type="button" onClick={logout} data-testid="logout">
            Sign out
          </button>
        </div>
      </aside>
      <main className="main">
        <div className="topbar">
          <ZonePicker />
        </div>
        {body}
      </main>
    </div>
  );
}
