"""When the monitor alerts a site owner, and what the alert says.

Four kinds:

* ``new_script``: a script URL the zone had never reported;
* ``new_domain``: a host the zone's scripts and connections had never named (the zone
  itself and its subdomains excepted);
* ``code_change``: a fetched script whose normalized syntax tree differs from every earlier
  version of it (reformatting or re-minification alone does not alert: the AST hash is
  the same);
* ``malicious``: the classifier's verdict on a version is magecart, cryptomining or
  malware.

Each alert has a ``key`` that is the same for the same event, so a retried or concurrent
ingest writes it once (the outbox deduplicates on it too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from bastion.scripts.monitor.inventory import Observation
from bastion.scripts.result import MALICIOUS_CLASSES, ScriptResult

AlertKind = Literal["new_script", "new_domain", "code_change", "malicious"]
ALERT_KINDS: tuple[AlertKind, ...] = ("new_script", "new_domain", "code_change", "malicious")
Severity = Literal["info", "warning", "critical"]

SEVERITY: dict[AlertKind, Severity] = {
    "new_script": "info",
    "new_domain": "warning",
    "code_change": "info",
    "malicious": "critical",
}


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """An alert to record: kind, the resource it is about, a dedup key and details."""

    kind: AlertKind
    zone: str
    url: str
    key: str
    detail: dict[str, Any]

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def alert_key(kind: AlertKind, zone: str, *parts: str) -> str:
    """``scripts:<kind>:<zone>:<digest of parts>`` (fits the outbox's 512-character key)."""
    return f"scripts:{kind}:{zone}:{_digest(*parts)}"


def is_first_party(host: str, zone: str) -> bool:
    """Whether ``host`` is the zone itself or one of its subdomains (no new-domain alert)."""
    return host == zone or host.endswith("." + zone)


def observation_alerts(
    zone: str, obs: Observation, *, new_item: bool, new_host: bool
) -> list[AlertSpec]:
    """Alerts for a report: a new script and/or a new domain."""
    out: list[AlertSpec] = []
    detail: dict[str, Any] = {"resource": obs.kind, "host": obs.host, "page_url": obs.page_url}
    if new_item and obs.kind == "script":
        out.append(
            AlertSpec("new_script", zone, obs.url, alert_key("new_script", zone, obs.url), detail)
        )
    if new_host and not is_first_party(obs.host, zone):
        out.append(
            AlertSpec("new_domain", zone, obs.url, alert_key("new_domain", zone, obs.host), detail)
        )
    return out


def is_malicious(result: ScriptResult) -> bool:
    """Whether a verdict is worth a ``malicious`` alert."""
    return result.cls in MALICIOUS_CLASSES


def version_alerts(
    zone: str,
    url: str,
    content_hash: str,
    result: ScriptResult,
    *,
    earlier_ast_hashes: Collection[str],
) -> list[AlertSpec]:
    """Alerts for a newly fetched version of the script at ``url``.

    ``earlier_ast_hashes`` holds the AST hashes of the script's earlier versions; when it is
    empty this is the first version, which is not a change.
    """
    out: list[AlertSpec] = []
    detail: dict[str, Any] = {
        "content_hash": content_hash,
        "ast_hash": result.ast_hash,
        "class": result.cls,
        "scores": result.scores(),
    }
    if earlier_ast_hashes and result.ast_hash not in earlier_ast_hashes:
        out.append(
            AlertSpec(
                "code_change",
                zone,
                url,
                alert_key("code_change", zone, url, result.ast_hash),
                detail,
            )
        )
    if is_malicious(result):
        out.append(
            AlertSpec(
                "malicious", zone, url, alert_key("malicious", zone, url, content_hash), detail
            )
        )
    return out


def outbox_payload(spec: AlertSpec, alert_id: int, created_at: str) -> dict[str, Any]:
    """The outbox message body for an alert (delivered to the notification webhook)."""
    return {
        "type": "scripts.alert",
        "alert_id": alert_id,
        "alert": spec.kind,
        "severity": spec.severity,
        "zone": spec.zone,
        "url": spec.url,
        "created_at": created_at,
        **spec.detail,
    }
