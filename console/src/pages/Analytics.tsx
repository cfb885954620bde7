// Security analytics of one zone: classes over time, score histograms, top attacked paths
// and clients, sampled requests with their explanations (one click to a rule draft).
import { useEffect, useMemo, useState } from "react";
import { BarChart, Badge, Empty, ErrorBox, LineChart, Loading, Page, Table, when } from "../components";
import { get } from "../lib/api";
import { useSession, useZone } from "../lib/auth";
import { type Loaded, useAction, useLoad } from "../lib/hooks";
import { navigate, setQuery, useLocation } from "../lib/router";
import { FeedbackButtons } from "./feedback";

const CLASSES = ["attack", "likely_attack", "likely_clean", "clean", "unscored"];
const RANGES: Record<string, { ms: number; step: "minute" | "hour"; label: string }> = {
  "1h": { ms: 3_600_000, step: "minute", label: "last hour" },
  "24h": { ms: 86_400_000, step: "hour", label: "last 24 hours" },
  "7d": { ms: 7 * 86_400_000, step: "hour", label: "last 7 days" },
  "30d": { ms: 30 * 86_400_000, step: "hour", label: "last 30 days" },
};

interface Summary {
  total: number;
  classes: Record<string, number>;
  actions: Record<string, number>;
  vectors: Record<string, Record<string, number>>;
}
interface Series {
  series: { t: number; counts: Record<string, number> }[];
}
interface Histograms {
  width: number;
  buckets: number[];
  vectors: Record<string, number[]>;
}
interface Top {
  items: { key: string; count: number }[];
}
export interface Explanation {
  location: string;
  snippet: string;
  score: number;
}
export interface Sampled {
  id: string;
  ts_ms: number;
  time: string;
  zone: string;
  source: string;
  method: string;
  host: string;
  path: string;
  query: string;
  client: string;
  score: number;
  sqli: number;
  xss: number;
  rce: number;
  class: string;
  action: string;
  rule_id: string | null;
  model_version: string;
  explanation: Record<string, Explanation> | null;
}
interface SampledPage {
  requests: Sampled[];
  next_cursor: string | null;
}

/** `GET .../overview`: every panel, each shaped as its own endpoint answers. */
interface Overview {
  summary: Summary;
  classes: Series;
  histograms: Histograms;
  top_attacked_paths: Top;
  top_attacked_clients: Top;
  requests: SampledPage;
}

interface SampledDetail extends Sampled {
  request: { method: string; uri: string; headers: [string, string][]; body_base64: string; body_size: number; body_truncated: boolean };
}

/** One point per step over [since, until), zero where the store had no request. */
function filled(
  points: { t: number; counts: Record<string, number> }[],
  since: number,
  until: number,
  step: "minute" | "hour",
  cls: string,
): { t: number; v: number }[] {
  const ms = step === "minute" ? 60_000 : 3_600_000;
  const known = new Map(points.map((p) => [p.t, p.counts[cls] ?? 0]));
  const out: { t: number; v: number }[] = [];
  for (let t = since - (since % ms); t < until; t += ms) out.push({ t, v: known.get(t) ?? 0 });
  return out;
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A narrow rule draft matching a sampled request: its host, path and score band. */
export function ruleDraft(r: Sampled): string {
  const parts = [`host == ${quote(r.host)}`, `path == ${quote(r.path)}`];
  parts.push(`waf.score <= ${Math.max(r.score, 1)}`);
  return parts.join(" and ");
}

export function AnalyticsPage() {
  const [zone] = useZone();
  const { query } = useLocation();
  const rangeKey = query.get("range") ?? "24h";
  const range = RANGES[rangeKey] ?? RANGES["24h"]!;
  const cls = query.get("class") ?? "";
  const selected = query.get("request");
  // The window is fixed when the range or zone changes (not on every render).
  const { since, until } = useMemo(() => {
    const end = Date.now() + 1;
    return { since: end - range.ms, until: end };
  }, [zone, rangeKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const base = zone ? `/v1/analytics/zones/${encodeURIComponent(zone)}` : null;
  const params = { since, until };
  const enabled = base !== null;
  // Every panel in one call (the store is read once per page load); a class filter
  // reloads only the sampled requests.
  const overview = useLoad(
    (s) =>
      enabled
        ? get<Overview>(`${base}/overview`, { ...params, step: range.step, top_limit: 10, requests_limit: 50 }, s)
        : Promise.resolve(null),
    [base, since],
  );
  const pick = <T,>(part: (o: Overview) => T): Loaded<T> => ({
    ...overview,
    data: overview.data ? part(overview.data) : null,
  });
  const summary = pick((o) => o.summary);
  const series = pick((o) => o.classes);
  const hist = pick((o) => o.histograms);
  const paths = pick((o) => o.top_attacked_paths);
  const clients = pick((o) => o.top_attacked_clients);
  const filtered = useLoad(
    (s) =>
      enabled && cls
        ? get<SampledPage>(`${base}/requests`, { ...params, class: cls, limit: 50 }, s)
        : Promise.resolve(null),
    [base, since, cls],
  );
  const requests = cls ? filtered : pick((o) => o.requests);
  // Further pages of sampled requests (cursor from the previous page), reset with the list.
  const [extra, setExtra] = useState<{ rows: Sampled[]; cursor: string | null }>({ rows: [], cursor: null });
  const more = useAction();
  useEffect(() => setExtra({ rows: [], cursor: null }), [requests.data]);
  const nextCursor = extra.cursor ?? requests.data?.next_cursor ?? null;
  const loadMore = () =>
    void more.run(async () => {
      if (!nextCursor || !base) return;
      const page = await get<SampledPage>(`${base}/requests`, {
        ...params,
        class: cls,
        limit: 50,
        cursor: nextCursor,
      });
      setExtra((prev) => ({ rows: [...prev.rows, ...page.requests], cursor: page.next_cursor ?? "" }));
    });
  if (!zone) return <Page id="analytics" title="Security analytics" ready={true}><Empty>Choose a zone.</Empty></Page>;
  const loads = [summary, series, hist, paths, clients, requests];
  const error = loads.find((l) => l.error)?.error;
  // Rendered once every panel has its data (or its error) for this window.
  const ready = enabled && loads.every((l) => !l.loading && (l.data !== null || l.error !== null));
  const s = summary.data;
  return (
    <Page
      id="analytics"
      title={`Security analytics — ${zone}`}
      ready={ready}
      actions={
        <select data-testid="range" value={rangeKey} onChange={(e) => setQuery({ range: e.target.value })}>
          {Object.entries(RANGES).map(([key, r]) => (
            <option key={key} value={key}>
              {r.label}
            </option>
          ))}
        </select>
      }
    >
      <ErrorBox error={error} />
      {s && (
        <div className="stats" data-testid="summary">
          <div className="stat">
            <b data-testid="total">{s.total.toLocaleString("en")}</b> requests logged
          </div>
          {CLASSES.map((c) => (
            <div className="stat" key={c} data-testid={`count-${c}`}>
              <b>{(s.classes[c] ?? 0).toLocaleString("en")}</b> {c.replace("_", " ")}
            </div>
          ))}
          <div className="stat">
            <b>{(s.actions["block"] ?? 0).toLocaleString("en")}</b> blocked
          </div>
        </div>
      )}
      <div className="charts">
        {series.data && series.data.series.length > 0 && (
          <LineChart
            testId="classes-chart"
            title="Classes over time"
            domain={[since, until]}
            series={CLASSES.filter((c) => c !== "unscored").map((c) => ({
              name: c,
              points: filled(series.data!.series, since, until, range.step, c),
            }))}
          />
        )}
        {hist.data &&
          Object.entries(hist.data.vectors).map(([vector, counts]) => (
            <BarChart
              key={vector}
              testId={`hist-${vector}`}
              title={`${vector} score histogram`}
              bars={hist.data!.buckets.map((b, i) => ({
                label: `${b}-${b + hist.data!.width - 1}`,
                value: counts[i] ?? 0,
                color: b <= 20 ? "#c0392b" : b <= 50 ? "#e67e22" : b <= 80 ? "#7f8c8d" : "#27ae60",
              }))}
            />
          ))}
      </div>
      {s && s.total === 0 && <Empty>No logged requests for this zone in this range.</Empty>}
      <div className="charts">
        <div>
          <h2>Top attacked paths</h2>
          {paths.data && paths.data.items.length > 0 ? (
            <Table
              testId="top-paths"
              rows={paths.data.items}
              rowKey={(i) => i.key}
              columns={[
                { key: "path", title: "Path", render: (i) => <code>{i.key}</code> },
                { key: "n", title: "Attacks", render: (i) => i.count.toLocaleString("en") },
              ]}
            />
          ) : (
            <Empty>None.</Empty>
          )}
        </div>
        <div>
          <h2>Top attacking clients</h2>
          {clients.data && clients.data.items.length > 0 ? (
            <Table
              testId="top-clients"
              rows={clients.data.items}
              rowKey={(i) => i.key}
              columns={[
                { key: "client", title: "Client", render: (i) => <code>{i.key || "unknown"}</code> },
                { key: "n", title: "Attacks", render: (i) => i.count.toLocaleString("en") },
              ]}
            />
          ) : (
            <Empty>None.</Empty>
          )}
        </div>
      </div>
      <h2>Sampled requests</h2>
      <div className="filters">
        <label>
          Class{" "}
          <select data-testid="class-filter" value={cls} onChange={(e) => setQuery({ class: e.target.value || null, request: null })}>
            <option value="">any</option>
            {CLASSES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </div>
      {requests.data && requests.data.requests.length > 0 && (
        <Table
          testId="sampled"
          rows={[...requests.data.requests, ...extra.rows]}
          rowKey={(r) => r.id}
          selected={selected}
          onRowClick={(r) => setQuery({ request: r.id })}
          columns={[
            { key: "t", title: "Time", render: (r) => when(r.time) },
            { key: "m", title: "Request", render: (r) => <code>{`${r.method} ${r.path}${r.query ? "?" + r.query : ""}`.slice(0, 140)}</code> },
            { key: "s", title: "Score", render: (r) => `${r.score} (sqli ${r.sqli} · xss ${r.xss} · rce ${r.rce})` },
            { key: "c", title: "Class", render: (r) => <Badge value={r.class} /> },
            { key: "a", title: "Action", render: (r) => <Badge value={r.action} /> },
            { key: "r", title: "Rule", render: (r) => r.rule_id ?? "—" },
          ]}
        />
      )}
      {requests.data && requests.data.requests.length === 0 && <Empty>No sampled requests.</Empty>}
      {nextCursor && (
        <div className="buttons">
          <button type="button" onClick={loadMore} disabled={more.busy} data-testid="sampled-more">
            Older requests
          </button>
        </div>
      )}
      <ErrorBox error={more.error} />
      {selected && base && <RequestDetail base={base} id={selected} />}
    </Page>
  );
}

function RequestDetail({ base, id }: { base: string; id: string }) {
  const session = useSession();
  const [zone] = useZone();
  const item = useLoad((s) => get<SampledDetail>(`${base}/requests/${encodeURIComponent(id)}`, undefined, s), [base, id]);
  if (item.loading && !item.data) return <Loading />;
  if (item.error) return <ErrorBox error={item.error} />;
  const r = item.data;
  if (!r) return null;
  const draft = () =>
    navigate(`/rules?${new URLSearchParams({ zone: zone ?? "", draft: ruleDraft(r), draft_action: "skip" }).toString()}`);
  const block = () =>
    navigate(`/rules?${new URLSearchParams({ zone: zone ?? "", draft: ruleDraft(r), draft_action: "block" }).toString()}`);
  return (
    <div className="detail" data-testid="request-detail">
      <h3>
        <code>
          {r.request.method} {r.request.uri}
        </code>
      </h3>
      <p>
        {when(r.time)} · {r.host} · client {r.client || "unknown"} · model {r.model_version} · source {r.source} · score{" "}
        <b>{r.score}</b> <Badge value={r.class} /> → <Badge value={r.action} /> {r.rule_id && <>by rule {r.rule_id}</>}
      </p>
      <h3>Why</h3>
      {r.explanation && Object.keys(r.explanation).length > 0 ? (
        <Table
          testId="explanation"
          rows={Object.entries(r.explanation)}
          rowKey={([head]) => head}
          columns={[
            { key: "h", title: "Vector", render: ([head]) => head },
            { key: "s", title: "Score", render: ([, e]) => e.score },
            { key: "l", title: "Where", render: ([, e]) => <code>{e.location}</code> },
            { key: "n", title: "Snippet", render: ([, e]) => <code>{e.snippet}</code> },
          ]}
        />
      ) : (
        <Empty>No explanation was logged for this request.</Empty>
      )}
      <details>
        <summary>Headers ({r.request.headers.length})</summary>
        <pre className="json">{r.request.headers.map(([k, v]) => `${k}: ${v}`).join("\n")}</pre>
      </details>
      <div className="buttons">
        {(session.can("rules.read") || session.can("rules.write")) && (
          <>
            <button type="button" onClick={block} data-testid="rule-block">
              New block rule for this request…
            </button>
            <button type="button" onClick={draft} data-testid="rule-skip">
              New exception (skip) for this request…
            </button>
          </>
        )}
        <FeedbackButtons item={r} />
      </div>
    </div>
  );
}
