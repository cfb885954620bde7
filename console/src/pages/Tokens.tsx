// API tokens (admin): list, create (the token is shown once), revoke.
import { useState, type FormEvent } from "react";
import { Badge, Empty, ErrorBox, Page, Table, when } from "../components";
import { get, post } from "../lib/api";
import { useSession } from "../lib/auth";
import { useAction, useLoad } from "../lib/hooks";

interface Token {
  id: string;
  name: string;
  roles: string[];
  zones: string[];
  rate_limit: number | null;
  status: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_by: string | null;
}

const ROLES = ["admin", "trust_safety", "analyst", "ingest", "site_owner"];

export function TokensPage() {
  const session = useSession();
  const tokens = useLoad((signal) => get<{ tokens: Token[] }>("/v1/admin/tokens", undefined, signal), []);
  const create = useAction();
  const revoke = useAction();
  const [name, setName] = useState("");
  const [roles, setRoles] = useState<string[]>(["analyst"]);
  const [zones, setZones] = useState("");
  const [days, setDays] = useState("");
  const [issued, setIssued] = useState<{ name: string; token: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let answer: (Token & { token: string }) | null = null;
    const ok = await create.run(async () => {
      answer = await post<Token & { token: string }>("/v1/admin/tokens", {
        name,
        roles,
        zones: zones
          .split(/[\s,]+/)
          .map((z) => z.trim())
          .filter(Boolean),
        expires_days: days ? Number(days) : null,
      });
    });
    if (ok && answer !== null) {
      const created: Token & { token: string } = answer;
      setIssued({ name: created.name, token: created.token });
      setName("");
      setZones("");
      tokens.reload();
    }
  };

  return (
    <Page id="tokens" title="API tokens" ready={!tokens.loading}>
      {issued && (
        <div className="issued" data-testid="issued-token">
          <p>
            Token <b>{issued.name}</b> created. Copy it now: it is not shown again.
          </p>
          <pre data-testid="issued-value">{issued.token}</pre>
          <button type="button" onClick={() => setIssued(null)} data-testid="issued-dismiss">
            I have stored it
          </button>
        </div>
      )}
      <form className="create-form" onSubmit={submit} data-testid="token-form">
        <h2>New token</h2>
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} data-testid="token-name" required maxLength={200} />
        </label>
        <fieldset>
          <legend>Roles</legend>
          {ROLES.map((r) => (
            <label key={r} className="check">
              <input
                type="checkbox"
                data-testid={`role-${r}`}
                checked={roles.includes(r)}
                onChange={(e) => setRoles(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))}
              />{" "}
              {r}
            </label>
          ))}
        </fieldset>
        <label>
          Zones (site_owner only) <input value={zones} onChange={(e) => setZones(e.target.value)} data-testid="token-zones" placeholder="shop.example, blog.example" />
        </label>
        <label>
          Expires after (days) <input value={days} onChange={(e) => setDays(e.target.value)} inputMode="decimal" placeholder="never" />
        </label>
        <ErrorBox error={create.error} />
        <button type="submit" disabled={create.busy || !name.trim() || roles.length === 0} data-testid="token-create">
          Create token
        </button>
      </form>
      <h2>Tokens</h2>
      <ErrorBox error={tokens.error ?? revoke.error} />
      {tokens.data && tokens.data.tokens.length === 0 && <Empty>No tokens.</Empty>}
      {tokens.data && tokens.data.tokens.length > 0 && (
        <Table
          testId="tokens"
          rows={tokens.data.tokens}
          rowKey={(t) => t.id}
          columns={[
            { key: "id", title: "Id", render: (t) => <code>{t.id}</code> },
            { key: "name", title: "Name", render: (t) => t.name },
            { key: "roles", title: "Roles", render: (t) => t.roles.join(", ") },
            { key: "zones", title: "Zones", render: (t) => t.zones.join(", ") || "all" },
            { key: "status", title: "Status", render: (t) => <Badge value={t.status} /> },
            { key: "used", title: "Last used", render: (t) => when(t.last_used_at) },
            { key: "created", title: "Created", render: (t) => `${when(t.created_at)} by ${t.created_by ?? "?"}` },
            {
              key: "revoke",
              title: "",
              render: (t) =>
                t.status === "active" ? (
                  <button
                    type="button"
                    disabled={revoke.busy}
                    data-testid={`revoke-${t.id}`}
                    onClick={() => {
                      const self = session.me.token?.id === t.id;
                      const question = self
                        ? "This is the token you are signed in with. Revoke it and sign out?"
                        : `Revoke token "${t.name}"? Clients using it stop working.`;
                      if (window.confirm(question)) {
                        void revoke.run(() => post(`/v1/admin/tokens/${t.id}/revoke`)).then(() => tokens.reload());
                      }
                    }}
                  >
                    Revoke
                  </button>
                ) : null,
            },
          ]}
        />
      )}
    </Page>
  );
}
