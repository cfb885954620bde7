// A tiny history router for /console/...: enough for a dozen pages, no dependency.
import { createContext, useContext, useEffect, useState, type MouseEvent, type ReactNode } from "react";

export const BASE = "/console";

interface Location {
  path: string; // without BASE, always starting with "/"
  query: URLSearchParams;
}

function current(): Location {
  let path = window.location.pathname;
  if (path.startsWith(BASE)) path = path.slice(BASE.length);
  if (!path.startsWith("/")) path = "/" + path;
  return { path, query: new URLSearchParams(window.location.search) };
}

const RouterContext = createContext<Location>(current());

export function navigate(to: string, replace = false): void {
  const url = BASE + to;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function RouterProvider({ children }: { children: ReactNode }) {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return <RouterContext.Provider value={location}>{children}</RouterContext.Provider>;
}

export function useLocation(): Location {
  return useContext(RouterContext);
}

/** Sets query parameters of the current page (others kept; empty values removed). */
export function setQuery(values: Record<string, string | null>, replace = true): void {
  const { path, query } = current();
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === "") query.delete(key);
    else query.set(key, value);
  }
  const text = query.toString();
  navigate(text ? `${path}?${text}` : path, replace);
}

export function Link({
  to,
  children,
  className,
  testId,
}: {
  to: string;
  children: ReactNode;
  className?: string;
  testId?: string;
}) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={BASE + to} onClick={onClick} className={className} data-testid={testId}>
      {children}
    </a>
  );
}
