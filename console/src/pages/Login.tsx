import { useState, type FormEvent } from "react";
import { ErrorBox } from "../components";
import { useAuth } from "../lib/auth";

export function LoginPage() {
  const { login, error } = useAuth();
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    await login(token);
    setBusy(false);
  };
  return (
    <section className="login page" data-page="login" data-ready="true">
      <h1>bastion console</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          data-testid="token-input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="bst_…"
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <button type="submit" disabled={busy || !token.trim()} data-testid="login">
          Sign in
        </button>
      </form>
      <ErrorBox error={error} />
      <p className="muted">
        Paste a token made with <code>bastion token create</code>. It is kept in this tab only
        (sessionStorage) and sent to this server alone.
      </p>
    </section>
  );
}
