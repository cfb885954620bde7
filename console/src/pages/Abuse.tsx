// Abuse cases: staff see every case and act on it; a site owner sees its zones' cases.
import { useState } from "react";
import { Badge, Empty, ErrorBox, Loading, Page, Table, when } from "../components";
import { get, post } from "../lib/api";
import { useSession, useZone } from "../lib/auth";
import { useAction, useLoad } from "../lib/hooks";
import { setQuery, useLocation } from "../lib/router";

interface Case {
  id: number;
  type: string;
  url: string;
  host: string;
  zone: string | null;
  state: string;
  priority: string;
  sla_due_at: string;
  sla_breached?: boolean;
  report_count: number;
  reporter_count: number;
  opened_at: string;
  last_report_at: string;
  assignee?: string | null;
  enforcement: Record<string, unknown> | null;
}

interface CaseDetail extends Case {
  reports?: { id?: number; description?: string; received_at?: string; reporter?: Record<string, unknown> }[];
  actions?: { at: string; action: string; to_state: string; reason: string; by?: string }[];
}

const STATES = ["", "new", "triaged", "actioned", "rejected", "closed"];

/** The reporter as the server let this token see it (withheld fields are not shown). */
function reporterText(reporter: Record<string, unknown> | undefined): string {
  if (!reporter) return "";
  const values = ["name", "email", "organization"].map((k) => reporter[k]);
  if (values.includes("[withheld]")) return "a reporter who did not consent to be named";
  const part = (key: string) => (typeof reporter[key] === "string" ? (reporter[key] as string) : "");
  const name = part("name");
  const email = part("email");
  const org = part("organization");
  return [name, email && `<${email}>`, org && `(${org})`].filter(Boolean).join(" ");
}
const OPEN = ["new", "triaged", "actioned"];
/** Which actions a state allows (the server's table; it answers 409 otherwise). */
const ACTIONS: Record<string, string[]> = {
  triage: ["new"],
  assign: OPEN,
  notify: OPEN,
  interstitial: OPEN,
  block: OPEN,
  geo_block: OPEN,
  escalate: ["new", "triaged"],
  reject: ["new", "triaged"],
  close: ["triaged", "actioned", "rejected"],
};

export function AbusePage() {
  const session = useSession();
  const [zone] = useZone();
  const { query } = useLocation();
  const staff = session.can("abuse.manage");
  const state = query.get("state") ?? "";
  const onlyZone = !staff || query.get("all") === "0";
  const selected = Number(query.get("case") ?? "") || null;
  const cases = useLoad(
    (signal) =>
      get<{ cases: Case[] }>("/v1/abuse/cases", { state, zone: onlyZone ? zone : null, limit: 200 }, signal),
    [state, zone, onlyZone],
  );
  return (
    <Page id="abuse" title="Abuse cases" ready={!cases.loading}>
      <div className="filters">
        <label>
          State{" "}
          <select data-testid="case-state" value={state} onChange={(e) => setQuery({ state: e.target.value || null, case: null })}>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        {staff && (
          <label>
            <input type="checkbox" checked={!onlyZone} onChange={(e) => setQuery({ all: e.target.checked ? null : "0" })} /> every
            zone
          </label>
        )}
      </div>
      <ErrorBox error={cases.error} />
      {cases.data && cases.data.cases.length === 0 && <Empty>No cases.</Empty>}
      {cases.data && cases.data.cases.length > 0 && (
        <Table
          testId="cases"
          rows={cases.data.cases}
          rowKey={(c) => c.id}
          selected={selected}
          onRowClick={(c) => setQuery({ case: String(c.id) })}
          columns={[
            { key: "id", title: "#", render: (c) => c.id },
            { key: "prio", title: "Priority", render: (c) => c.priority },
            { key: "type", title: "Type", render: (c) => c.type },
            { key: "url", title: "URL", render: (c) => <code>{c.url}</code> },
            { key: "zone", title: "Zone", render: (c) => c.zone ?? "—" },
            { key: "state", title: "State", render: (c) => <Badge value={c.state} /> },
            { key: "reports", title: "Reports", render: (c) => `${c.report_count} / ${c.reporter_count} reporters` },
            {
              key: "sla",
              title: "SLA due",
              render: (c) => <span className={c.sla_breached ? "breached" : ""}>{when(c.sla_due_at)}</span>,
            },
          ]}
        />
      )}
      {selected !== null && <CaseView id={selected} staff={staff} onChange={cases.reload} />}
    </Page>
  );
}

function CaseView({ id, staff, onChange }: { id: number; staff: boolean; onChange: () => void }) {
  const detail = useLoad((signal) => get<CaseDetail>(`/v1/abuse/cases/${id}`, undefined, signal), [id]);
  const action = useAction();
  const [reason, setReason] = useState("");
  const [assignee, setAssignee] = useState("");
  const [countries, setCountries] = useState("");
  if (detail.loading && !detail.data) return <Loading />;
  if (detail.error) return <ErrorBox error={detail.error} />;
  const c = detail.data;
  if (!c) return null;
  const act = (name: string) =>
    void action
      .run(() =>
        post(`/v1/abuse/cases/${c.id}/actions`, {
          action: name,
          reason,
          assignee: name === "assign" ? assignee || null : null,
          countries:
            name === "geo_block"
              ? countries
                  .split(/[ ,]+/)
                  .map((x) => x.trim().toUpperCase())
                  .filter(Boolean)
              : [],
        }),
      )
      .then((ok) => {
        if (ok) {
          detail.reload();
          onChange();
        }
      });
  const available = Object.entries(ACTIONS)
    .filter(([, states]) => states.includes(c.state))
    .map(([name]) => name);
  return (
    <div className="detail" data-testid="case-detail">
      <h2>
        Case #{c.id} <Badge value={c.state} /> {c.priority}
      </h2>
      <p>
        {c.type} · <code>{c.url}</code> · zone {c.zone ?? "unknown"} · opened {when(c.opened_at)}
        {c.assignee && <> · assigned to {c.assignee}</>}
      </p>
      {c.enforcement && (
        <p>
          Enforcement: <code>{JSON.stringify(c.enforcement)}</code>
        </p>
      )}
      <h3>Reports ({c.reports?.length ?? 0})</h3>
      <ul className="reports">
        {(c.reports ?? []).slice(0, 50).map((r, i) => (
          <li key={r.id ?? i}>
            {when(r.received_at)} — {r.description || <span className="muted">no description</span>}
            {reporterText(r.reporter) && <span className="muted"> · from {reporterText(r.reporter)}</span>}
          </li>
        ))}
      </ul>
      <h3>History</h3>
      <ul className="history">
        {(c.actions ?? []).map((a, i) => (
          <li key={i}>
            {when(a.at)} <b>{a.action}</b> → {a.to_state} {a.reason && <>({a.reason})</>}
          </li>
        ))}
      </ul>
      {staff && (
        <div className="actions" data-testid="case-actions">
          <ErrorBox error={action.error} />
          <div className="inline-form">
            <input placeholder="Reason (needed to reject)" value={reason} onChange={(e) => setReason(e.target.value)} data-testid="case-reason" />
            <input placeholder="Assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} />
            <input placeholder="Countries (geo block): DE, FR" value={countries} onChange={(e) => setCountries(e.target.value)} />
          </div>
          <div className="buttons">
            {available.map((name) => (
              <button key={name} type="button" disabled={action.busy} onClick={() => act(name)} data-testid={`act-${name}`}>
                {name.replace("_", " ")}
              </button>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}
