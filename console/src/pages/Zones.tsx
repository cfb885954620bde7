// Zones (admin): list and create.
import { useState } from "react";
import { Empty, ErrorBox, Page, Table, when } from "../components";
import { get, post } from "../lib/api";
import { useAuth } from "../lib/auth";
import { useAction, useDebounced, useLoad } from "../lib/hooks";

interface ZoneRow {
  name: string;
  created_at: string;
  tokens: number;
}

export function ZonesPage() {
  const { refresh } = useAuth();
  const [prefix, setPrefix] = useState("");
  const settled = useDebounced(prefix, 250);
  const zones = useLoad((signal) => get<{ zones: ZoneRow[] }>("/v1/admin/zones", { prefix: settled, limit: 500 }, signal), [settled]);
  const create = useAction();
  const [name, setName] = useState("");
  return (
    <Page id="zones" title="Zones" ready={!zones.loading}>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run(() => post("/v1/admin/zones", { name })).then((ok) => {
            if (ok) {
              setName("");
              zones.reload();
              void refresh();
            }
          });
        }}
      >
        <input placeholder="new zone, e.g. shop.example" value={name} onChange={(e) => setName(e.target.value)} data-testid="zone-name" />
        <button type="submit" disabled={create.busy || !name.trim()} data-testid="zone-create">
          Create zone
        </button>
      </form>
      <ErrorBox error={create.error} />
      <div className="filters">
        <input placeholder="filter by name prefix" value={prefix} onChange={(e) => setPrefix(e.target.value)} />
      </div>
      <ErrorBox error={zones.error} />
      {zones.data && zones.data.zones.length === 0 && <Empty>No zones.</Empty>}
      {zones.data && zones.data.zones.length > 0 && (
        <Table
          testId="zones"
          rows={zones.data.zones}
          rowKey={(z) => z.name}
          columns={[
            { key: "name", title: "Zone", render: (z) => z.name },
            { key: "tokens", title: "Tokens naming it", render: (z) => z.tokens },
            { key: "created", title: "Known since", render: (z) => when(z.created_at) },
          ]}
        />
      )}
    </Page>
  );
}
