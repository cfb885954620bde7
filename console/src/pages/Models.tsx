// Model operations: registered versions per kind, the rollout (active, canary, shadow),
// status history, the shadow disagreement report, drift, and promote / canary / rollback.
import { useState } from "react";
import { Badge, Empty, ErrorBox, Json, Loading, Notice, Page, Table, when } from "../components";
import { get, post } from "../lib/api";
import { useSession } from "../lib/auth";
import { useAction, useLoad } from "../lib/hooks";
import { setQuery, useLocation } from "../lib/router";

interface ModelVersion {
  version: string;
  kind: string;
  status: string;
  sha256: string;
  size: number;
  featurizer: string;
  pipeline: string;
  data_fingerprint: string;
  registered_at: string;
  registered_by: string | null;
  source: string;
  note: string;
  metrics?: Record<string, unknown>;
  card?: unknown;
}
interface Rollout {
  kind: string;
  revision: number;
  active: string | null;
  canary: string | null;
  canary_percent: number;
  canary_key: string;
  shadow: string | null;
  previous: string[];
  worker_revision: number | null;
}
interface StatusEvent {
  id: number;
  version: string;
  from: string | null;
  to: string;
  at: string;
  actor: string;
  reason: string;
  revision: number;
}
interface ShadowVector {
  requests: number;
  class_flips: number;
  flip_rate: number | null;
  mean_delta: number | null;
  mean_abs_delta: number | null;
  flips: Record<string, number>;
}
interface ShadowReport {
  candidate: string;
  baselines: string[];
  vectors: Record<string, ShadowVector>;
}
interface Drift {
  minute: string | null;
  streams: {
    model_version: string;
    zone: string;
    vectors: Record<string, { ks: number; psi: number; ks_threshold: number; psi_threshold: number; samples: number; alarm: boolean }>;
  }[];
}

export function ModelsPage() {
  const session = useSession();
  const { query } = useLocation();
  const kind = query.get("kind") ?? "waf";
  const selected = query.get("version");
  const canManage = session.can("models.manage");
  const models = useLoad((s) => get<{ models: ModelVersion[] }>("/v1/models", { kind }, s), [kind]);
  const rollout = useLoad((s) => get<Rollout>("/v1/models/rollout", { kind }, s), [kind]);
  const drift = useLoad((s) => get<Drift>("/v1/models/drift", undefined, s), []);
  const action = useAction();
  const [percent, setPercent] = useState("5");
  const [reason, setReason] = useState("");
  const refresh = () => {
    models.reload();
    rollout.reload();
  };
  const change = (path: string, body: unknown) =>
    void action.run(() => post(path, body)).then((ok) => ok && refresh());
  const r = rollout.data;
  return (
    <Page
      id="models"
      title="Models"
      ready={!models.loading && !rollout.loading}
      actions={
        <select value={kind} onChange={(e) => setQuery({ kind: e.target.value, version: null })} data-testid="model-kind">
          <option value="waf">WAF attack score</option>
          <option value="scripts">script classifier</option>
        </select>
      }
    >
      <ErrorBox error={models.error ?? rollout.error} />
      {r && (
        <div className="stats" data-testid="rollout">
          <div className="stat">
            <b data-testid="active-version">{r.active ?? "—"}</b> active
          </div>
          <div className="stat">
            <b>{r.canary ? `${r.canary} (${r.canary_percent}% by ${r.canary_key})` : "—"}</b> canary
          </div>
          <div className="stat">
            <b>{r.shadow ?? "—"}</b> shadow
          </div>
          <div className="stat">
            <b>
              {r.revision}
              {r.worker_revision !== null && r.worker_revision !== r.revision && ` (this worker: ${r.worker_revision})`}
            </b>{" "}
            rollout revision
          </div>
        </div>
      )}
      {canManage && r && (
        <div className="card">
          <div className="inline-form">
            <input placeholder="reason (audit log)" value={reason} onChange={(e) => setReason(e.target.value)} data-testid="model-reason" />
            <button
              type="button"
              data-testid="model-rollback"
              disabled={action.busy || (!r.canary && r.previous.length === 0)}
              onClick={() => {
                if (window.confirm(r.canary ? `Stop the canary ${r.canary}?` : `Re-activate ${r.previous[r.previous.length - 1]}?`))
                  change("/v1/models/rollback", { kind, reason });
              }}
            >
              Roll back {r.canary ? "the canary" : "to the previous model"}
            </button>
            <button type="button" disabled={action.busy || !r.shadow} onClick={() => change("/v1/models/shadow/stop", { kind, reason })} data-testid="shadow-stop">
              Stop shadow
            </button>
          </div>
        </div>
      )}
      <ErrorBox error={action.error} />
      <h2>Versions</h2>
      {models.data && models.data.models.length === 0 && <Empty>No registered versions of this kind.</Empty>}
      {models.data && models.data.models.length > 0 && (
        <Table
          testId="models"
          rows={models.data.models}
          rowKey={(m) => m.version}
          selected={selected}
          onRowClick={(m) => setQuery({ version: m.version })}
          columns={[
            { key: "v", title: "Version", render: (m) => <code>{m.version}</code> },
            { key: "s", title: "Status", render: (m) => <Badge value={m.status} tone={m.status === "active" ? "ok" : m.status} /> },
            { key: "at", title: "Registered", render: (m) => `${when(m.registered_at)} (${m.source})` },
            { key: "h", title: "SHA-256", render: (m) => <code>{m.sha256.slice(0, 12)}</code> },
            { key: "f", title: "Featurizer", render: (m) => <code>{m.featurizer}</code> },
            {
              key: "do",
              title: "",
              render: (m) =>
                canManage && m.status !== "retired" && m.status !== "active" ? (
                  <span className="buttons" onClick={(e) => e.stopPropagation()}>
                    {m.status !== "shadow" && (
                      <button type="button" disabled={action.busy} data-testid={`shadow-${m.version}`} onClick={() => change(`/v1/models/${m.version}/shadow`, { reason })}>
                        Shadow
                      </button>
                    )}
                    <input className="percent" value={percent} onChange={(e) => setPercent(e.target.value)} aria-label="canary percent" size={3} />
                    <button
                      type="button"
                      disabled={action.busy}
                      data-testid={`canary-${m.version}`}
                      onClick={() => change(`/v1/models/${m.version}/canary`, { percent: Number(percent), key: "zone", reason })}
                    >
                      Canary %
                    </button>
                    <button
                      type="button"
                      disabled={action.busy}
                      data-testid={`promote-${m.version}`}
                      onClick={() => {
                        if (window.confirm(`Make ${m.version} the active ${kind} model for all traffic?`)) change(`/v1/models/${m.version}/promote`, { reason });
                      }}
                    >
                      Promote
                    </button>
                    <button type="button" disabled={action.busy} data-testid={`retire-${m.version}`} onClick={() => change(`/v1/models/${m.version}/retire`, { reason })}>
                      Retire
                    </button>
                  </span>
                ) : null,
            },
          ]}
        />
      )}
      {!canManage && <Notice>This token may read model status but not change the rollout (models.manage).</Notice>}
      {selected && <VersionDetail version={selected} revision={r?.revision ?? 0} />}
      <h2>Drift (this worker's last reading)</h2>
      <ErrorBox error={drift.error} />
      {drift.data && drift.data.streams.length === 0 && <Empty>No drift reading yet.</Empty>}
      {drift.data && drift.data.streams.length > 0 && (
        <Table
          testId="drift"
          rows={drift.data.streams.flatMap((s) => Object.entries(s.vectors).map(([vector, v]) => ({ ...v, vector, stream: `${s.model_version} · ${s.zone || "all zones"}` })))}
          rowKey={(row) => `${row.stream}|${row.vector}`}
          columns={[
            { key: "s", title: "Model · zone", render: (row) => row.stream },
            { key: "v", title: "Vector", render: (row) => row.vector },
            { key: "psi", title: "PSI (limit)", render: (row) => `${row.psi} (${row.psi_threshold})` },
            { key: "ks", title: "KS (limit)", render: (row) => `${row.ks} (${row.ks_threshold})` },
            { key: "n", title: "Samples", render: (row) => row.samples },
            { key: "a", title: "", render: (row) => (row.alarm ? <Badge value="alarm" /> : <Badge value="ok" />) },
          ]}
        />
      )}
    </Page>
  );
}

/** One version; reloaded whenever the rollout changes (its status and history move). */
function VersionDetail({ version, revision }: { version: string; revision: number }) {
  const path = `/v1/models/${encodeURIComponent(version)}`;
  const item = useLoad((s) => get<ModelVersion>(path, undefined, s), [path, revision]);
  const history = useLoad((s) => get<{ events: StatusEvent[] }>(`${path}/history`, undefined, s), [path, revision]);
  const shadow = useLoad((s) => get<ShadowReport>(`${path}/shadow-report`, undefined, s), [path, revision]);
  if (item.loading && !item.data) return <Loading />;
  if (item.error) return <ErrorBox error={item.error} />;
  const m = item.data;
  if (!m) return null;
  const vectors = shadow.data ? Object.entries(shadow.data.vectors) : [];
  return (
    <div className="detail" data-testid="model-detail">
      <h2>
        <code>{m.version}</code> <Badge value={m.status} tone={m.status === "active" ? "ok" : m.status} />
      </h2>
      <p>
        {m.size.toLocaleString("en")} bytes · data fingerprint <code>{m.data_fingerprint.slice(0, 16)}</code> · pipeline{" "}
        <code>{m.pipeline.slice(0, 16)}</code> {m.note && <>· {m.note}</>}
      </p>
      <h3>Status history</h3>
      {history.data && history.data.events.length > 0 ? (
        <Table
          testId="model-history"
          rows={history.data.events}
          rowKey={(e) => e.id}
          columns={[
            { key: "at", title: "At", render: (e) => when(e.at) },
            { key: "ch", title: "Change", render: (e) => `${e.from ?? "—"} → ${e.to}` },
            { key: "by", title: "By", render: (e) => e.actor },
            { key: "why", title: "Reason", render: (e) => e.reason || "—" },
            { key: "rev", title: "Revision", render: (e) => e.revision },
          ]}
        />
      ) : (
        <Empty>No status changes recorded.</Empty>
      )}
      <h3>Shadow disagreement with the active model</h3>
      {vectors.length > 0 && vectors.some(([, v]) => v.requests > 0) ? (
        <Table
          testId="shadow-report"
          rows={vectors}
          rowKey={([vector]) => vector}
          columns={[
            { key: "v", title: "Vector", render: ([v]) => v },
            { key: "n", title: "Requests", render: ([, v]) => v.requests.toLocaleString("en") },
            { key: "f", title: "Class flips", render: ([, v]) => `${v.class_flips} (${v.flip_rate === null ? "—" : (v.flip_rate * 100).toFixed(2) + "%"})` },
            { key: "d", title: "Mean Δ / |Δ|", render: ([, v]) => `${v.mean_delta ?? "—"} / ${v.mean_abs_delta ?? "—"}` },
            {
              key: "p",
              title: "Most frequent flips",
              render: ([, v]) =>
                Object.entries(v.flips)
                  .slice(0, 3)
                  .map(([pair, n]) => `${pair}: ${n}`)
                  .join(" · ") || "—",
            },
          ]}
        />
      ) : (
        <Empty>No shadow traffic compared for this version.</Empty>
      )}
      {m.metrics && (
        <details>
          <summary>Metrics</summary>
          <Json value={m.metrics} />
        </details>
      )}
      {m.card !== undefined && m.card !== null && (
        <details>
          <summary>Model card</summary>
          <Json value={m.card} />
        </details>
      )}
    </div>
  );
}
