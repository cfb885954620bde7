// The script monitor: a zone's scripts and connections, versions with verdicts, alerts,
// and the allow policy with the CSP header generated from it.
import { useEffect, useState } from "react";
import { Badge, Empty, ErrorBox, Loading, Page, Table, when } from "../components";
import { get, put } from "../lib/api";
import { useSession, useZone } from "../lib/auth";
import { useAction, useLoad } from "../lib/hooks";
import { setQuery, useLocation } from "../lib/router";

interface Version {
  id: number;
  content_hash: string;
  size: number;
  class: string;
  scores: Record<string, number>;
  model: string;
  first_seen: string;
  last_seen: string;
}

interface Resource {
  id: number;
  kind: string;
  url: string;
  host: string;
  first_seen: string;
  last_seen: string;
  report_count: number;
  status: string;
  pages: string[];
  fetch?: { state: string; fetched_at: string | null; error: string | null };
  version_count?: number;
  current_version?: Version | null;
  versions?: Version[];
}

interface Alert {
  id: number;
  kind: string;
  severity: string;
  url: string;
  resource_id: number | null;
  detail: Record<string, unknown>;
  created_at: string;
}

interface Policy {
  script_src: string[];
  connect_src: string[];
  report: boolean;
}

interface PolicyAnswer {
  zone: string;
  policy: Policy | null;
  updated_at: string | null;
  updated_by: string | null;
  suggested: Policy;
  enforcing_headers: { name: string; value: string }[];
  report_only_headers: { name: string; value: string }[];
}

export function ScriptsPage() {
  const [zone] = useZone();
  const { query } = useLocation();
  const selected = Number(query.get("resource") ?? "") || null;
  const kind = query.get("kind") ?? "";
  const resources = useLoad(
    (signal) =>
      zone
        ? get<{ resources: Resource[] }>(`/v1/csp/zones/${encodeURIComponent(zone)}/resources`, { kind, limit: 500 }, signal)
        : Promise.resolve({ resources: [] }),
    [zone, kind],
  );
  const alerts = useLoad(
    (signal) =>
      zone
        ? get<{ alerts: Alert[] }>(`/v1/csp/zones/${encodeURIComponent(zone)}/alerts`, { limit: 200 }, signal)
        : Promise.resolve({ alerts: [] }),
    [zone],
  );
  if (!zone) return <Page id="scripts" title="Scripts & CSP" ready={true}><Empty>Choose a zone.</Empty></Page>;
  return (
    <Page id="scripts" title={`Scripts & CSP — ${zone}`} ready={!resources.loading && !alerts.loading}>
      <div className="filters">
        <label>
          Kind{" "}
          <select value={kind} onChange={(e) => setQuery({ kind: e.target.value || null })} data-testid="kind-filter">
            <option value="">any</option>
            <option value="script">scripts</option>
            <option value="connection">connections</option>
          </select>
        </label>
      </div>
      <ErrorBox error={resources.error ?? alerts.error} />
      <h2>Inventory</h2>
      {resources.data && resources.data.resources.length === 0 && <Empty>No scripts reported for this zone yet.</Empty>}
      {resources.data && resources.data.resources.length > 0 && (
        <Table
          testId="resources"
          rows={resources.data.resources}
          rowKey={(r) => r.id}
          selected={selected}
          onRowClick={(r) => setQuery({ resource: String(r.id) })}
          columns={[
            { key: "kind", title: "Kind", render: (r) => r.kind },
            { key: "url", title: "URL", render: (r) => <code>{r.url}</code> },
            { key: "status", title: "Status", render: (r) => <Badge value={r.status} /> },
            { key: "verdict", title: "Verdict", render: (r) => <Badge value={r.current_version?.class ?? (r.kind === "script" ? r.fetch?.state : "")} /> },
            { key: "versions", title: "Versions", render: (r) => r.version_count ?? "—" },
            { key: "reports", title: "Reports", render: (r) => r.report_count },
            { key: "last", title: "Last seen", render: (r) => when(r.last_seen) },
          ]}
        />
      )}
      {selected !== null && <ResourceView zone={zone} id={selected} />}
      <h2>Alerts</h2>
      {alerts.data && alerts.data.alerts.length === 0 && <Empty>No alerts.</Empty>}
      {alerts.data && alerts.data.alerts.length > 0 && (
        <Table
          testId="alerts"
          rows={alerts.data.alerts}
          rowKey={(a) => a.id}
          columns={[
            { key: "at", title: "At", render: (a) => when(a.created_at) },
            { key: "kind", title: "Kind", render: (a) => a.kind },
            { key: "sev", title: "Severity", render: (a) => <Badge value={a.severity} /> },
            { key: "url", title: "URL", render: (a) => <code>{a.url}</code> },
          ]}
        />
      )}
      <PolicyView zone={zone} />
    </Page>
  );
}

function ResourceView({ zone, id }: { zone: string; id: number }) {
  const item = useLoad(
    (signal) => get<Resource>(`/v1/csp/zones/${encodeURIComponent(zone)}/resources/${id}`, undefined, signal),
    [zone, id],
  );
  if (item.loading && !item.data) return <Loading />;
  if (item.error) return <ErrorBox error={item.error} />;
  const r = item.data;
  if (!r) return null;
  return (
    <div className="detail" data-testid="resource-detail">
      <h3>
        <code>{r.url}</code>
      </h3>
      <p>
        Seen on {r.pages.length} page(s): {r.pages.slice(0, 5).join(", ")}
        {r.fetch && (
          <>
            {" "}
            · fetch {r.fetch.state} {r.fetch.error && <span className="muted">({r.fetch.error})</span>}
          </>
        )}
      </p>
      {(r.versions ?? []).length > 0 ? (
        <Table
          testId="versions"
          rows={r.versions ?? []}
          rowKey={(v) => v.id}
          columns={[
            { key: "hash", title: "Content hash", render: (v) => <code>{v.content_hash.slice(0, 16)}</code> },
            { key: "size", title: "Bytes", render: (v) => v.size },
            { key: "class", title: "Verdict", render: (v) => <Badge value={v.class} /> },
            { key: "model", title: "Model", render: (v) => v.model },
            { key: "seen", title: "First seen", render: (v) => when(v.first_seen) },
          ]}
        />
      ) : (
        <Empty>No fetched version yet.</Empty>
      )}
    </div>
  );
}

function PolicyView({ zone }: { zone: string }) {
  const session = useSession();
  const policy = useLoad(
    (signal) => get<PolicyAnswer>(`/v1/csp/zones/${encodeURIComponent(zone)}/policy`, undefined, signal),
    [zone],
  );
  const canWrite = session.can("rules.write", zone);
  const [scripts, setScripts] = useState("");
  const [connects, setConnects] = useState("");
  const [report, setReport] = useState(true);
  const save = useAction();
  const current = policy.data ? (policy.data.policy ?? policy.data.suggested) : null;
  useEffect(() => {
    if (current) {
      setScripts(current.script_src.join("\n"));
      setConnects(current.connect_src.join("\n"));
      setReport(current.report);
    }
  }, [policy.data]); // eslint-disable-line react-hooks/exhaustive-deps
  if (policy.loading && !policy.data) return <Loading />;
  if (policy.error) return <ErrorBox error={policy.error} />;
  const p = policy.data;
  if (!p) return null;
  const lines = (text: string) =>
    text
      .split(/\s+/)
      .map((s) => s.trim())
      .filter(Boolean);
  return (
    <div className="policy" data-testid="policy">
      <h2>Content-Security-Policy</h2>
      <p className="muted">
        {p.policy ? `Allow policy set ${when(p.updated_at)} by ${p.updated_by ?? "?"}` : "No allow policy yet: the headers below use the suggestion from the inventory."}
      </p>
      <h3>Enforcing header</h3>
      {p.enforcing_headers.map((h) => (
        <pre key={h.name} className="header" data-testid="csp-header">
          {h.name}: {h.value}
        </pre>
      ))}
      <h3>Report-only header (for monitoring)</h3>
      {p.report_only_headers.map((h) => (
        <pre key={h.name} className="header">
          {h.name}: {h.value}
        </pre>
      ))}
      {canWrite && (
        <form
          className="policy-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save
              .run(() => put(`/v1/csp/zones/${encodeURIComponent(zone)}/policy`, { script_src: lines(scripts), connect_src: lines(connects), report }))
              .then((ok) => ok && policy.reload());
          }}
        >
          <h3>Edit the allow policy</h3>
          <label>
            script-src (one source per line)
            <textarea rows={4} value={scripts} onChange={(e) => setScripts(e.target.value)} data-testid="policy-scripts" />
          </label>
          <label>
            connect-src
            <textarea rows={3} value={connects} onChange={(e) => setConnects(e.target.value)} />
          </label>
          <label>
            <input type="checkbox" checked={report} onChange={(e) => setReport(e.target.checked)} /> send violation reports
          </label>
          <ErrorBox error={save.error} />
          <button type="submit" disabled={save.busy} data-testid="policy-save">
            Save policy
          </button>
        </form>
      )}
    </div>
  );
}
