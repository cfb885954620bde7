// Who is logged in: the whoami answer, and what it allows (for display only; the server
// checks every call itself).
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { ApiError, get, getToken, setToken, setUnauthorizedHandler } from "./api";
import { setQuery, useLocation } from "./router";

export interface WhoAmI {
  auth: boolean;
  token: { id: string; name: string; expires_at: string | null } | null;
  roles: string[];
  all_zones: boolean;
  zones: string[];
  permissions: string[];
  zone_permissions: string[];
}

export class Session {
  constructor(readonly me: WhoAmI) {}

  /** May the caller do `permission` about `zone` (or about no zone in particular)? */
  can(permission: string, zone?: string | null): boolean {
    if (this.me.permissions.includes(permission)) return true;
    return (
      zone !== undefined &&
      zone !== null &&
      this.me.zones.includes(zone) &&
      this.me.zone_permissions.includes(permission)
    );
  }

  /** May the caller do `permission` about at least one zone? */
  canSomewhere(permission: string): boolean {
    return (
      this.me.permissions.includes(permission) ||
      (this.me.zones.length > 0 && this.me.zone_permissions.includes(permission))
    );
  }
}

interface AuthState {
  session: Session | null;
  loading: boolean;
  error: string | null;
  login: (token: string) => Promise<boolean>;
  logout: () => void;
  refresh: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [loading, setLoading] = useState<boolean>(getToken() !== null);
  const [error, setError] = useState<string | null>(null);

  const logout = useCallback(() => {
    setToken(null);
    sessionStorage.removeItem(ZONE_KEY);
    setSession(null);
  }, []);

  const load = useCallback(async (): Promise<boolean> => {
    try {
      const me = await get<WhoAmI>("/v1/auth/whoami");
      setSession(new Session(me));
      setError(null);
      return true;
    } catch (exc) {
      setToken(null);
      setSession(null);
      setError(exc instanceof ApiError ? exc.message : String(exc));
      return false;
    } finally {
      setLoading(false);
    }
  }, []);

  const login = useCallback(
    async (token: string) => {
      setLoading(true);
      setToken(token.trim());
      return load();
    },
    [load],
  );

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setToken(null);
      setSession(null);
      setError("The token is no longer valid (revoked or expired): paste a new one.");
    });
    if (getToken() !== null) void load();
    return () => setUnauthorizedHandler(null);
  }, [load]);

  const refresh = useCallback(async () => {
    await load();
  }, [load]);

  return (
    <AuthContext.Provider value={{ session, loading, error, login, logout, refresh }}>
      {children}
    </AuthContext.Provider>
  );
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (state === null) throw new Error("useAuth outside AuthProvider");
  return state;
}

export function useSession(): Session {
  const { session } = useAuth();
  if (session === null) throw new Error("useSession without a session");
  return session;
}

const ZONE_KEY = "bastion.zone";

/** The zone the pages work on: `?zone=` in the URL, else the last one chosen, else the
 * caller's first zone. */
export function useZone(): [string | null, (zone: string) => void] {
  const session = useSession();
  const { query } = useLocation();
  const zones = session.me.zones;
  let zone = query.get("zone") ?? sessionStorage.getItem(ZONE_KEY);
  if (zone && !session.me.all_zones && !zones.includes(zone)) zone = null;
  if (!zone) zone = zones[0] ?? null;
  const choose = useCallback((next: string) => {
    sessionStorage.setItem(ZONE_KEY, next);
    setQuery({ zone: next });
  }, []);
  return [zone, choose];
}
