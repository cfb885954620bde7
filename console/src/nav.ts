// The console's pages and who sees them in the navigation (the server checks anyway).
import type { Session } from "./lib/auth";

export interface NavItem {
  path: string;
  label: string;
  visible: (s: Session) => boolean;
}

export const NAV: NavItem[] = [
  { path: "/analytics", label: "Security analytics", visible: (s) => s.canSomewhere("analytics.read") },
  {
    path: "/rules",
    label: "Rules",
    visible: (s) => s.canSomewhere("rules.read") || s.canSomewhere("rules.write"),
  },
  {
    path: "/content",
    label: "Content blocks",
    visible: (s) => s.can("content.review") || s.canSomewhere("content.appeal"),
  },
  {
    path: "/abuse",
    label: "Abuse cases",
    visible: (s) => s.can("abuse.manage") || (s.me.roles.includes("site_owner") && s.me.zones.length > 0),
  },
  { path: "/scripts", label: "Scripts & CSP", visible: (s) => s.canSomewhere("analytics.read") },
  {
    path: "/models",
    label: "Models",
    visible: (s) => s.can("analytics.read") || s.can("models.manage"),
  },
  { path: "/tokens", label: "Tokens", visible: (s) => s.can("tokens.manage") },
  { path: "/zones", label: "Zones", visible: (s) => s.can("tokens.manage") },
];
