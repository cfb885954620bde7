// Shared building blocks: page frame, messages, tables, zone picker and SVG charts.
import { useEffect, type ReactNode } from "react";
import { useSession, useZone } from "./lib/auth";

/** A page's frame. `ready` marks the main content as rendered (tests and the benchmark
 * wait for `[data-ready="true"]`). */
export function Page({
  id,
  title,
  ready,
  actions,
  children,
}: {
  id: string;
  title: string;
  ready: boolean;
  actions?: ReactNode;
  children: ReactNode;
}) {
  useEffect(() => {
    // The moment the main content is on screen, for the benchmark (navigation start = 0).
    if (ready && performance.getEntriesByName(`ready:${id}`).length === 0) performance.mark(`ready:${id}`);
  }, [ready, id]);
  return (
    <section className="page" data-page={id} data-ready={ready ? "true" : "false"}>
      <header className="page-head">
        <h1>{title}</h1>
        <div className="page-actions">{actions}</div>
      </header>
      {children}
    </section>
  );
}

export function ErrorBox({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {error}
    </div>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return <div className="notice">{children}</div>;
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return <div className="loading">{what}…</div>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export interface Column<T> {
  key: string;
  title: string;
  render: (row: T) => ReactNode;
  className?: string;
}

export function Table<T>({
  rows,
  columns,
  rowKey,
  testId,
  onRowClick,
  selected,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  testId?: string;
  onRowClick?: (row: T) => void;
  selected?: string | number | null;
}) {
  return (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.key} className={c.className}>
              {c.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const key = rowKey(row);
          return (
            <tr
              key={key}
              data-key={key}
              className={[onRowClick ? "clickable" : "", selected === key ? "selected" : ""].join(" ")}
              onClick={onRowClick ? () => onRowClick(row) : undefined}
            >
              {columns.map((c) => (
                <td key={c.key} className={c.className}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The zone the page works on; a free-text field for tokens that act on every zone. */
export function ZonePicker() {
  const session = useSession();
  const [zone, setZone] = useZone();
  const zones = session.me.zones;
  return (
    <label className="zone-picker">
      Zone{" "}
      {session.me.all_zones ? (
        <>
          <input
            list="known-zones"
            data-testid="zone-input"
            defaultValue={zone ?? ""}
            key={zone ?? ""}
            placeholder="shop.example"
            onKeyDown={(e) => {
              if (e.key === "Enter") setZone((e.target as HTMLInputElement).value.trim().toLowerCase());
            }}
            onBlur={(e) => {
              const next = e.target.value.trim().toLowerCase();
              if (next && next !== zone) setZone(next);
            }}
          />
          <datalist id="known-zones">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </>
      ) : (
        <select data-testid="zone-select" value={zone ?? ""} onChange={(e) => setZone(e.target.value)}>
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      )}
    </label>
  );
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toISOString().replace("T", " ").slice(0, 19);
}

/** A status word, coloured by its meaning (`tone` overrides the word's own colour). */
export function Badge({ value, tone }: { value: string | null | undefined; tone?: string }) {
  if (!value) return <span className="badge">—</span>;
  return <span className={`badge badge-${(tone ?? value).replace(/[^a-z0-9_-]/gi, "")}`}>{value}</span>;
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

// -- charts (plain SVG) ---------------------------------------------------------------

const PALETTE = ["#c0392b", "#e67e22", "#2980b9", "#27ae60", "#8e44ad", "#7f8c8d", "#16a085"];

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length] ?? "#333";
}

/** Vertical bars, e.g. a score histogram: one bar per label. */
export function BarChart({
  bars,
  height = 160,
  testId,
  color = "#2980b9",
  title,
}: {
  bars: { label: string; value: number; color?: string }[];
  height?: number;
  testId?: string;
  color?: string;
  title: string;
}) {
  const width = Math.max(320, bars.length * 8);
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = width / Math.max(1, bars.length);
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 16}`} role="img" aria-label={title}>
        {bars.map((b, i) => {
          const h = (b.value / max) * height;
          return (
            <rect key={b.label} x={i * step + 0.5} y={height - h} width={Math.max(1, step - 1)} height={h} fill={b.color ?? color}>
              <title>{`${b.label}: ${b.value}`}</title>
            </rect>
          );
        })}
        <line x1={0} x2={width} y1={height} y2={height} stroke="#999" />
        <text x={0} y={height + 13} fontSize={11}>
          {bars[0]?.label ?? ""}
        </text>
        <text x={width} y={height + 13} fontSize={11} textAnchor="end">
          {bars[bars.length - 1]?.label ?? ""}
        </text>
      </svg>
    </figure>
  );
}

/** Lines over time: one series per name, points as (time, value). */
export function LineChart({
  series,
  height = 160,
  testId,
  title,
  domain,
}: {
  series: { name: string; points: { t: number; v: number }[] }[];
  height?: number;
  testId?: string;
  title: string;
  /** The time axis' range (default: the points' own). */
  domain?: [number, number];
}) {
  const width = 400;
  const all = series.flatMap((s) => s.points);
  const t0 = domain ? domain[0] : Math.min(...all.map((p) => p.t));
  const t1 = domain ? domain[1] : Math.max(...all.map((p) => p.t));
  const max = Math.max(1, ...all.map((p) => p.v));
  const x = (t: number) => (t1 > t0 ? ((t - t0) / (t1 - t0)) * width : width / 2);
  const y = (v: number) => height - (v / max) * height;
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 16}`} role="img" aria-label={title}>
        {series.map((s, i) => (
          <g key={s.name}>
            <polyline
              fill="none"
              stroke={colorOf(i)}
              strokeWidth={1.5}
              points={s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")}
            />
            {s.points.length <= 48 &&
              s.points.map((p) => (
                <circle key={p.t} cx={x(p.t)} cy={y(p.v)} r={2.5} fill={colorOf(i)}>
                  <title>{`${s.name}: ${p.v} at ${when(new Date(p.t).toISOString())}`}</title>
                </circle>
              ))}
          </g>
        ))}
        <line x1={0} x2={width} y1={height} y2={height} stroke="#999" />
        <text x={0} y={height + 13} fontSize={11}>
          {all.length ? when(new Date(t0).toISOString()) : ""}
        </text>
        <text x={width} y={height + 13} fontSize={11} textAnchor="end">
          {all.length ? when(new Date(t1).toISOString()) : ""}
        </text>
        <text x={2} y={11} fontSize={11}>
          {max}
        </text>
      </svg>
      <div className="legend">
        {series.map((s, i) => (
          <span key={s.name}>
            <i style={{ background: colorOf(i) }} /> {s.name}
          </span>
        ))}
      </div>
    </figure>
  );
}
