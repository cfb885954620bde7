"""The public abuse form at ``GET /abuse``: plain HTML, no JavaScript, accessible.

Every control has a visible ``<label>``; the type choice is a ``<fieldset>`` of radio
buttons with a ``<legend>``; hints are tied to their fields with ``aria-describedby``;
errors are listed at the top in a ``role="alert"`` region and name the field; the page
works with keyboard only and without styles. Every value written back is HTML-escaped.
The form posts ``application/x-www-form-urlencoded`` to ``POST /abuse``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import parse_qs

from bastion.abuse.reports import MAX_URLS, TYPE_LABELS, Report

#: Largest form body read (the report's own limits are far below it).
MAX_FORM_BYTES = 256 << 10

#: Headers of every form page: nothing external, no framing, no sniffing.
FORM_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#111}
label{display:block;font-weight:600;margin-top:1rem}
input[type=text],input[type=email],textarea{width:100%;box-sizing:border-box;padding:.4rem;
font:inherit;border:1px solid #555}
fieldset{margin-top:1.5rem;border:1px solid #555;padding:.5rem 1rem 1rem}
fieldset label{font-weight:normal;display:inline;margin:0}
.choice{margin:.3rem 0}.hint{color:#333;font-size:.9rem;margin:.2rem 0}
.errors{border:2px solid #a00;padding:.5rem 1rem;color:#a00}
button{margin-top:1.5rem;padding:.5rem 1.5rem;font:inherit}
:focus{outline:3px solid #1a5fb4;outline-offset:2px}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _text(
    name: str,
    label: str,
    values: Mapping[str, str],
    *,
    kind: str = "text",
    hint: str = "",
    required: bool = False,
    autocomplete: str = "",
) -> str:
    hint_id = f"{name}-hint"
    described = f' aria-describedby="{hint_id}"' if hint else ""
    extra = (" required" if required else "") + (
        f' autocomplete="{autocomplete}"' if autocomplete else ""
    )
    return (
        f'<label for="{name}">{escape(label)}</label>\n'
        + (f'<p class="hint" id="{hint_id}">{escape(hint)}</p>\n' if hint else "")
        + f'<input type="{kind}" id="{name}" name="{name}" '
        f'value="{escape(values.get(name, ""))}"{described}{extra}>\n'
    )


def _area(
    name: str,
    label: str,
    values: Mapping[str, str],
    *,
    hint: str = "",
    required: bool = False,
    rows: int = 4,
) -> str:
    hint_id = f"{name}-hint"
    described = f' aria-describedby="{hint_id}"' if hint else ""
    return (
        f'<label for="{name}">{escape(label)}</label>\n'
        + (f'<p class="hint" id="{hint_id}">{escape(hint)}</p>\n' if hint else "")
        + f'<textarea id="{name}" name="{name}" rows="{rows}"{described}'
        f"{' required' if required else ''}>{escape(values.get(name, ''))}</textarea>\n"
    )


def _check(name: str, label: str, values: Mapping[str, str]) -> str:
    checked = " checked" if values.get(name) else ""
    return (
        f'<p class="choice"><input type="checkbox" id="{name}" name="{name}" value="yes"'
        f'{checked}> <label for="{name}">{escape(label)}</label></p>\n'
    )


def render_form(values: Mapping[str, str] | None = None, errors: Sequence[str] = ()) -> str:
    """The form, filled with ``values`` and listing ``errors`` (after a failed submit)."""
    v = values or {}
    parts = ["<h1>Report abuse</h1>"]
    if errors:
        items = "".join(f"<li>{escape(e)}</li>" for e in errors)
        parts.append(
            '<div class="errors" role="alert" tabindex="-1" id="errors">'
            f"<h2>Your report was not sent</h2><ul>{items}</ul></div>"
        )
    parts.append(
        "<p>Tell us about a website that hosts phishing, malware, child sexual abuse "
        "material, infringing or other abusive content. Fields marked required must be "
        "filled in.</p>"
    )
    parts.append('<form method="post" action="/abuse" accept-charset="utf-8">')
    choices = "".join(
        f'<p class="choice"><input type="radio" id="type-{t.value}" name="type" '
        f'value="{t.value}"{" checked" if v.get("type") == t.value else ""} required> '
        f'<label for="type-{t.value}">{escape(label)}</label></p>\n'
        for t, label in TYPE_LABELS.items()
    )
    parts.append(
        f"<fieldset>\n<legend>What kind of abuse? (required)</legend>\n{choices}</fieldset>"
    )
    parts.append(
        _area(
            "urls",
            "Web addresses (URLs), one per line (required unless copyright)",
            v,
            hint=f"Up to {MAX_URLS} addresses, e.g. https://example.com/page.",
        )
    )
    parts.append(
        _area(
            "description",
            "What is wrong with it?",
            v,
            rows=6,
            hint="Do not include personal data you do not want forwarded.",
        )
    )
    parts.append("<fieldset>\n<legend>About you (optional except for copyright)</legend>")
    parts.append(_text("reporter_name", "Your name", v, autocomplete="name"))
    parts.append(_text("reporter_email", "Your email", v, kind="email", autocomplete="email"))
    parts.append(_text("reporter_org", "Organization", v, autocomplete="organization"))
    parts.append(
        _check(
            "consent",
            "I agree that my name, email and organization are shared with the "
            "site owner and the hosting provider",
            v,
        )
    )
    parts.append(
        '<p class="hint">Without this consent they are never shared; reports of child sexual '
        "abuse material never share them.</p>\n</fieldset>"
    )
    parts.append("<fieldset>\n<legend>Copyright notice (only for copyright reports)</legend>")
    parts.append(_area("copyright_work", "The copyrighted work", v, rows=3))
    parts.append(
        _area(
            "copyright_infringing_urls",
            "Infringing URLs, one per line",
            v,
            rows=3,
            hint="Where the infringing material is.",
        )
    )
    parts.append(
        _check(
            "copyright_good_faith",
            "I have a good faith belief that the use of the material "
            "is not authorized by the copyright owner, its agent, or the law.",
            v,
        )
    )
    parts.append(
        _check(
            "copyright_accurate",
            "The information in this notice is accurate, and under "
            "penalty of perjury, I am authorized to act on behalf of the owner.",
            v,
        )
    )
    parts.append(
        _text(
            "copyright_signature", "Signature (type your full legal name)", v, autocomplete="name"
        )
    )
    parts.append("</fieldset>")
    parts.append(
        _text(
            "trademark",
            "Trademark (only for trademark reports)",
            v,
            hint="The mark and where it is registered.",
        )
    )
    parts.append('<button type="submit">Send report</button>\n</form>')
    return _page("Report abuse", "\n".join(parts))


def render_thanks(report: Report) -> str:
    count = len(report.urls)
    return _page(
        "Report received",
        "<h1>Thank you</h1>\n"
        f'<p role="status">Your report was received. Its reference is '
        f"<strong>{escape(report.id)}</strong> ({count} address{'es' if count != 1 else ''}).</p>"
        '\n<p><a href="/abuse">Send another report</a></p>',
    )


def parse_form(body: bytes) -> dict[str, str]:
    """The form's fields (the last value of each; unknown fields are ignored)."""
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=64)
    return {k: vals[-1] for k, vals in fields.items() if vals}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def submission_fields(form: Mapping[str, str]) -> dict[str, Any]:
    """The form's fields as a ``ReportSubmission`` payload."""
    kind = form.get("type", "")
    payload: dict[str, Any] = {
        "type": kind,
        "urls": _lines(form.get("urls", "")),
        "description": form.get("description", ""),
        "reporter": {
            "name": form.get("reporter_name", ""),
            "email": form.get("reporter_email", ""),
            "organization": form.get("reporter_org", ""),
            "consent": bool(form.get("consent")),
        },
        "trademark": form.get("trademark", ""),
    }
    if kind == "copyright":
        payload["copyright"] = {
            "work": form.get("copyright_work", ""),
            "infringing_urls": _lines(form.get("copyright_infringing_urls", "")),
            "good_faith": bool(form.get("copyright_good_faith")),
            "accurate": bool(form.get("copyright_accurate")),
            "signature": form.get("copyright_signature", ""),
        }
    return payload
