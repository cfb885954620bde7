"""The abuse desk's notices to hosting providers also as X-ARF at delivery.

Wraps the outbox's ``abuse_notice`` sender: a notice whose audience is a host gets an
``xarf`` list in its payload, one X-ARF v0.2 message (:func:`bastion.abuse.arf.xarf_notice`:
a readable part and the YAML report) per case, urgent notices and daily digests alike (a
digest is complete only when it is delivered, hence at delivery). Owners' notices are
unchanged. The X-ARF carries the case only, never a reporter's details.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from bastion.abuse.arf import xarf_notice

if TYPE_CHECKING:
    from bastion.service.outbox import Message, Sender


def with_xarf(inner: Sender, sender: str) -> Sender:
    """``inner`` (an outbox sender), adding X-ARF to notices for hosts."""

    def send(message: Message) -> None:
        payload: dict[str, Any] = message.payload
        if payload.get("audience") == "host":
            cases = [payload["case"]] if "case" in payload else list(payload.get("cases", []))
            contact = payload.get("contact")
            xarf = [
                xarf_notice(case, sender=sender, recipient=contact)
                for case in cases
                if isinstance(case, dict) and case.get("url")
            ]
            message = dataclasses.replace(message, payload={**payload, "xarf": xarf})
        inner(message)

    return send
