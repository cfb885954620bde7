// Content blocks and the review queue: site owners appeal, trust & safety claims and decides.
import { useState } from "react";
import { Badge, Empty, ErrorBox, Loading, Page, Table, when } from "../components";
import { get, post } from "../lib/api";
import { useSession, useZone } from "../lib/auth";
import { useAction, useLoad } from "../lib/hooks";
import { setQuery, useLocation } from "../lib/router";

interface Block {
  id: number;
  zone: string;
  url: string;
  state: string;
  bank: string;
  distance: number;
  created_at: string;
  updated_at: string;
}

interface Appeal {
  id: number;
  statement: string;
  requested_by: string;
  requested_at: string | null;
  reviewer: string | null;
  review_started_at: string | null;
  decided_by: string | null;
  decision: string | null;
  reason: string | null;
  decided_at: string | null;
}

const STATES = ["", "active", "pending", "in_review", "resolved"];

export function ContentPage() {
  const session = useSession();
  const [zone] = useZone();
  const { query } = useLocation();
  const reviewer = session.can("content.review");
  const state = query.get("state") ?? (reviewer ? "pending" : "");
  const allZones = reviewer && query.get("all") !== "0";
  const selected = Number(query.get("block") ?? "") || null;
  const blocks = useLoad(
    (signal) =>
      get<{ blocks: Block[] }>(
        "/v1/content/blocks",
        { zone: allZones ? null : zone, state, limit: 200 },
        signal,
      ),
    [zone, state, allZones],
  );
  return (
    <Page id="content" title="Content blocks" ready={!blocks.loading}>
      <div className="filters">
        <label>
          State{" "}
          <select data-testid="state-filter" value={state} onChange={(e) => setQuery({ state: e.target.value || null, block: null })}>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        {reviewer && (
          <label>
            <input
              type="checkbox"
              checked={allZones}
              onChange={(e) => setQuery({ all: e.target.checked ? null : "0" })}
            />{" "}
            every zone (review queue)
          </label>
        )}
      </div>
      <ErrorBox error={blocks.error} />
      {blocks.data && blocks.data.blocks.length === 0 && <Empty>No blocks here.</Empty>}
      {blocks.data && blocks.data.blocks.length > 0 && (
        <Table
          testId="blocks"
          rows={blocks.data.blocks}
          rowKey={(b) => b.id}
          selected={selected}
          onRowClick={(b) => setQuery({ block: String(b.id) })}
          columns={[
            { key: "id", title: "#", render: (b) => b.id },
            { key: "zone", title: "Zone", render: (b) => b.zone },
            { key: "url", title: "URL", render: (b) => <code>{b.url}</code> },
            { key: "state", title: "State", render: (b) => <Badge value={b.state} /> },
            { key: "bank", title: "Bank", render: (b) => `${b.bank} (d=${b.distance})` },
            { key: "updated", title: "Updated", render: (b) => when(b.updated_at) },
          ]}
        />
      )}
      {selected !== null && <BlockDetail id={selected} onChange={blocks.reload} />}
    </Page>
  );
}

function BlockDetail({ id, onChange }: { id: number; onChange: () => void }) {
  const session = useSession();
  const block = useLoad((signal) => get<Block & { appeals: Appeal[] }>(`/v1/content/blocks/${id}`, undefined, signal), [id]);
  const action = useAction();
  const [statement, setStatement] = useState("");
  const [reason, setReason] = useState("");
  if (block.loading && !block.data) return <Loading />;
  if (block.error) return <ErrorBox error={block.error} />;
  const b = block.data;
  if (!b) return null;
  const done = () => {
    block.reload();
    onChange();
  };
  const canAppeal = session.can("content.appeal", b.zone) && b.state === "active";
  const canReview = session.can("content.review");
  return (
    <div className="detail" data-testid="block-detail">
      <h2>
        Block #{b.id} <Badge value={b.state} />
      </h2>
      <p>
        <code>{b.url}</code> on {b.zone}, matched bank {b.bank} at distance {b.distance}, since{" "}
        {when(b.created_at)}
      </p>
      <h3>Appeals</h3>
      {b.appeals.length === 0 ? (
        <Empty>No appeal yet.</Empty>
      ) : (
        <ul className="appeals">
          {b.appeals.map((a) => (
            <li key={a.id}>
              <q>{a.statement}</q> — {when(a.requested_at)}
              {a.reviewer && <> · claimed by {a.reviewer}</>}
              {a.decision && (
                <>
                  {" "}
                  · decided <Badge value={a.decision} /> {a.reason && <>({a.reason})</>}
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <ErrorBox error={action.error} />
      {canAppeal && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(() => post(`/v1/content/blocks/${b.id}/appeal`, { statement })).then((ok) => ok && done());
          }}
        >
          <input
            data-testid="appeal-statement"
            placeholder="Why this block is wrong"
            value={statement}
            onChange={(e) => setStatement(e.target.value)}
          />
          <button type="submit" disabled={action.busy || !statement.trim()} data-testid="appeal">
            Appeal
          </button>
        </form>
      )}
      {canReview && b.state === "pending" && (
        <button
          type="button"
          data-testid="claim"
          disabled={action.busy}
          onClick={() => void action.run(() => post(`/v1/content/blocks/${b.id}/review`)).then((ok) => ok && done())}
        >
          Claim for review
        </button>
      )}
      {canReview && b.state === "in_review" && (
        <div className="inline-form">
          <input data-testid="decision-reason" placeholder="Reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          <button
            type="button"
            data-testid="decide-resolved"
            disabled={action.busy}
            onClick={() =>
              void action
                .run(() => post(`/v1/content/blocks/${b.id}/decision`, { decision: "resolved", reason }))
                .then((ok) => ok && done())
            }
          >
            Lift the block
          </button>
          <button
            type="button"
            data-testid="decide-active"
            disabled={action.busy}
            onClick={() =>
              void action
                .run(() => post(`/v1/content/blocks/${b.id}/decision`, { decision: "active", reason }))
                .then((ok) => ok && done())
            }
          >
            Uphold
          </button>
        </div>
      )}
    </div>
  );
}
