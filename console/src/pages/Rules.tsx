// The rules editor: the live rule list, validated as you type (debounced, by the server's
// parser), a dry run over a zone's recent logged traffic, and publishing (rules.write).
import { useEffect, useMemo, useRef, useState } from "react";
import { Badge, Empty, ErrorBox, Loading, Notice, Page, Table } from "../components";
import { get, post, put } from "../lib/api";
import { useSession, useZone } from "../lib/auth";
import { useAction, useDebounced, useLoad } from "../lib/hooks";
import { setQuery, useLocation } from "../lib/router";

export interface Rule {
  id: string;
  expression: string;
  action: string;
  description: string;
}
interface RulesAnswer {
  version: number;
  source: string;
  created_at?: string;
  created_by?: string | null;
  comment?: string;
  rules: Rule[];
}
interface RuleErrorJson {
  message: string;
  reason: string;
  rule_id: string | null;
  /** 1-based position of the rule in the list. */
  index: number | null;
  line: number | null;
  column: number | null;
  expected: string | null;
}
interface Validation {
  ok: boolean;
  rules?: number;
  error?: RuleErrorJson;
}
interface Example {
  id: string;
  method: string;
  host: string;
  path: string;
  query: string;
  score: number;
  class: string;
  logged_action: string;
  action: string;
  rule_id: string | null;
}
interface DryRun {
  ok: boolean;
  evaluated: number;
  actions: Record<string, number>;
  would_block: number;
  changed: number;
  by_rule: Record<string, number>;
  examples: Record<string, Example[]>;
  error?: RuleErrorJson;
}

const ACTIONS = ["block", "challenge", "log", "skip"];

export function RulesPage() {
  const session = useSession();
  const [zone] = useZone();
  const { query } = useLocation();
  const live = useLoad((s) => get<RulesAnswer>("/v1/rules", undefined, s), []);
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [comment, setComment] = useState("");
  const draftApplied = useRef(false);
  const canWrite = session.can("rules.write");

  // Start from the live rules; a draft from the analytics page goes first.
  useEffect(() => {
    if (!live.data || rules !== null) return;
    const list = live.data.rules.map((r) => ({ ...r, description: r.description ?? "" }));
    const draft = query.get("draft");
    if (draft && !draftApplied.current) {
      draftApplied.current = true;
      const action = query.get("draft_action") ?? "block";
      list.unshift({
        id: `console-${action}-${Date.now().toString(36)}`,
        expression: draft,
        action: ACTIONS.includes(action) ? action : "block",
        description: "drafted from a sampled request",
      });
    }
    setRules(list);
  }, [live.data]); // eslint-disable-line react-hooks/exhaustive-deps

  const settled = useDebounced(rules, 300);
  const validation = useLoad(
    () => (settled ? post<Validation>("/v1/rules/validate", { rules: settled }) : Promise.resolve(null)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [JSON.stringify(settled)],
  );
  const pending = JSON.stringify(settled) !== JSON.stringify(rules);
  const dry = useAction();
  const [dryRun, setDryRun] = useState<DryRun | null>(null);
  const publish = useAction();
  const [published, setPublished] = useState<number | null>(null);
  useEffect(() => setDryRun(null), [rules]);

  const errorAt = validation.data && !validation.data.ok ? validation.data.error : undefined;
  const dirty = useMemo(
    () => live.data !== null && rules !== null && JSON.stringify(live.data.rules.map((r) => ({ ...r, description: r.description ?? "" }))) !== JSON.stringify(rules),
    [live.data, rules],
  );

  if (live.loading && !live.data) return <Page id="rules" title="Rules" ready={false}><Loading /></Page>;
  const update = (index: number, patch: Partial<Rule>) =>
    setRules((current) => (current ?? []).map((r, i) => (i === index ? { ...r, ...patch } : r)));
  const move = (index: number, by: number) =>
    setRules((current) => {
      const list = [...(current ?? [])];
      const [item] = list.splice(index, 1);
      if (item) list.splice(Math.max(0, Math.min(list.length, index + by)), 0, item);
      return list;
    });
  const runDry = () =>
    void dry.run(async () => {
      setDryRun(await post<DryRun>("/v1/rules/dry-run", { zone, rules: rules ?? [], examples: 10 }));
    });
  return (
    <Page
      id="rules"
      title="Rules"
      ready={rules !== null && !validation.loading}
      actions={
        live.data && (
          <span className="muted">
            live: version {live.data.version} ({live.data.source})
          </span>
        )
      }
    >
      <ErrorBox error={live.error} />
      <p className="muted">
        Evaluated in order: <code>log</code> rules record and go on; the first <code>block</code>, <code>challenge</code> or{" "}
        <code>skip</code> decides. Fields: <code>waf.score waf.sqli waf.xss waf.rce waf.class method host path</code>.
      </p>
      <div data-testid="validation" className={validation.data?.ok ? "valid" : "invalid"}>
        {pending || validation.loading
          ? "checking…"
          : validation.data?.ok
            ? `✓ ${validation.data.rules} rule(s) valid`
            : errorAt
              ? `✗ ${errorAt.message}`
              : validation.error ?? ""}
      </div>
      {(rules ?? []).map((rule, index) => {
        const bad = errorAt && (errorAt.index === index + 1 || (errorAt.index === null && errorAt.rule_id === rule.id));
        return (
          <div className={`card rule${bad ? " rule-bad" : ""}`} key={index} data-testid={`rule-${index}`}>
            <div className="inline-form">
              <input value={rule.id} onChange={(e) => update(index, { id: e.target.value })} aria-label="rule id" data-testid={`rule-id-${index}`} />
              <select value={rule.action} onChange={(e) => update(index, { action: e.target.value })} aria-label="action" data-testid={`rule-action-${index}`}>
                {ACTIONS.map((a) => (
                  <option key={a}>{a}</option>
                ))}
              </select>
              <input value={rule.description} placeholder="description" onChange={(e) => update(index, { description: e.target.value })} />
              <button type="button" onClick={() => move(index, -1)} disabled={index === 0} aria-label="move up">
                ↑
              </button>
              <button type="button" onClick={() => move(index, 1)} disabled={index === (rules?.length ?? 0) - 1} aria-label="move down">
                ↓
              </button>
              <button type="button" onClick={() => setRules((c) => (c ?? []).filter((_, i) => i !== index))} data-testid={`rule-remove-${index}`}>
                Remove
              </button>
            </div>
            <textarea
              rows={2}
              value={rule.expression}
              onChange={(e) => update(index, { expression: e.target.value })}
              aria-label="expression"
              data-testid={`rule-expr-${index}`}
              spellCheck={false}
            />
            {bad && errorAt && (
              <div className="invalid" data-testid={`rule-error-${index}`}>
                {errorAt.line !== null && `line ${errorAt.line}, column ${errorAt.column}: `}
                {errorAt.reason}
                {errorAt.expected && <> (expected {errorAt.expected})</>}
              </div>
            )}
          </div>
        );
      })}
      <div className="buttons">
        <button
          type="button"
          data-testid="rule-add"
          onClick={() =>
            setRules((c) => [...(c ?? []), { id: `rule-${(c?.length ?? 0) + 1}`, expression: "waf.score < 20", action: "block", description: "" }])
          }
        >
          Add rule
        </button>
        <button type="button" data-testid="dry-run" disabled={!zone || dry.busy || !validation.data?.ok || pending} onClick={runDry}>
          Dry run on {zone ?? "a zone"}'s recent traffic
        </button>
      </div>
      <ErrorBox error={dry.error} />
      {dryRun && dryRun.ok && (
        <div className="card" data-testid="dry-run-result">
          <p>
            Over the last {dryRun.evaluated.toLocaleString("en")} logged requests of {zone}, these rules would have{" "}
            <b data-testid="would-block">blocked {dryRun.would_block.toLocaleString("en")}</b> request(s), challenged{" "}
            {(dryRun.actions["challenge"] ?? 0).toLocaleString("en")}, and decided differently from what was logged for{" "}
            {dryRun.changed.toLocaleString("en")}.
          </p>
          {Object.keys(dryRun.by_rule).length > 0 && (
            <p>
              Matches per rule:{" "}
              {Object.entries(dryRun.by_rule)
                .map(([id, n]) => `${id}: ${n}`)
                .join(" · ")}
            </p>
          )}
          {(dryRun.examples["changed"] ?? []).length > 0 ? (
            <Table
              testId="dry-run-examples"
              rows={dryRun.examples["changed"] ?? []}
              rowKey={(e) => e.id}
              columns={[
                { key: "r", title: "Request", render: (e) => <code>{`${e.method} ${e.host}${e.path}${e.query ? "?" + e.query : ""}`.slice(0, 140)}</code> },
                { key: "s", title: "Score", render: (e) => e.score },
                { key: "was", title: "Logged", render: (e) => <Badge value={e.logged_action} /> },
                { key: "now", title: "Would be", render: (e) => <Badge value={e.action} /> },
                { key: "rule", title: "Rule", render: (e) => e.rule_id ?? "—" },
              ]}
            />
          ) : (
            <Empty>No logged request would be decided differently.</Empty>
          )}
        </div>
      )}
      {canWrite ? (
        <div className="inline-form">
          <input placeholder="comment for the audit log" value={comment} onChange={(e) => setComment(e.target.value)} data-testid="rules-comment" />
          <button
            type="button"
            data-testid="rules-publish"
            disabled={publish.busy || !dirty || !validation.data?.ok || pending}
            onClick={() =>
              void publish
                .run(async () => {
                  const answer = await put<{ version: number }>("/v1/rules", { rules: rules ?? [], comment });
                  setPublished(answer.version);
                })
                .then((ok) => {
                  if (ok) {
                    setQuery({ draft: null, draft_action: null });
                    setRules(null);
                    live.reload();
                  }
                })
            }
          >
            Publish
          </button>
        </div>
      ) : (
        <Notice>This token may read and try rules but not publish them (rules.write).</Notice>
      )}
      <ErrorBox error={publish.error} />
      {published !== null && <Notice>Published as version {published}; every worker loads it within seconds.</Notice>}
    </Page>
  );
}
