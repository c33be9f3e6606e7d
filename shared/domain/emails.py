"""Render notification emails (plain text and HTML from one template, so both say the same facts)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from importlib import resources
from string import Template

from shared.domain.determinations import Severity, determination_id
from shared.domain.notifications import Notification, NotificationKind

SUBJECTS = {
    NotificationKind.ABUSE_CONFIRMED: "[Liveness Guard] Abuse confirmed for correlation ID $correlation_id",
    NotificationKind.CUSTOMER_SUSPENDED: "[Liveness Guard] Your application's access is suspended",
}


@dataclass(frozen=True)
class Email:
    subject: str
    plain_text: str
    html: str


def _template(kind: NotificationKind) -> Template:
    return Template(resources.files("shared.templates").joinpath(f"{kind.value}.txt").read_text(encoding="utf-8"))


def _to_html(text: str, subject: str) -> str:
    """The same text as accessible HTML: paragraphs, lists and a definition list for the facts."""
    blocks, out = re.split(r"\n\s*\n", text.strip()), []
    for block in blocks:
        lines = block.splitlines()
        if all(line.startswith("- ") for line in lines[1:]) and len(lines) > 1:
            items = "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines[1:])
            out.append(f"<p>{html.escape(lines[0])}</p><ul>{items}</ul>")
        elif all(re.match(r"^[^:]{2,30}:\s{2,}", line) for line in lines):
            rows = "".join(
                f"<dt>{html.escape(k.strip())}</dt><dd>{html.escape(v.strip())}</dd>"
                for k, v in (line.split(":", 1) for line in lines)
            )
            out.append(f"<dl>{rows}</dl>")
        else:
            out.append(f"<p>{'<br>'.join(html.escape(line) for line in lines)}</p>")
    body = "\n".join(out)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(subject)}</title></head>'
        f'<body style="font-family: sans-serif; line-height: 1.5">\n{body}\n</body></html>'
    )


def _respond_line(note: Notification) -> str:
    """How the customer answers a determination (the API call and the deadline), or why it cannot."""
    if note.severity is Severity.SEVERE:
        return "This abuse was judged severe: your application's access is suspended at once."
    if note.respond_by is None:
        return "Explain what happened and how you remediated it to the contact below."
    the_id = determination_id(note.customer_id, note.notification_id)
    return (
        f"Send your explanation and remediation with POST /api/v1/determinations/{the_id}/response "
        f"by {note.respond_by.strftime('%Y-%m-%d %H:%M')} (UTC); without an accepted response by then, "
        "your application's access is suspended."
    )


def render(note: Notification, customer_name: str, support_contact: str, window_days: int) -> Email:
    """The email for a notification. Only the GUID identifies anyone, and only where it is needed."""
    values = {
        "customer_name": customer_name,
        "reason": note.reason or "abuse of liveness detection",
        "correlation_id": note.correlation_id or "",
        "determined_at": note.determined_at.strftime("%Y-%m-%d %H:%M"),
        "support_contact": support_contact,
        "notification_id": note.notification_id,
        "window_days": str(window_days),
        "confirmations": str(note.confirmations_in_window or ""),
        "determination_id": determination_id(note.customer_id, note.notification_id),
        "respond_line": _respond_line(note),
    }
    text = _template(note.kind).substitute(values)
    subject = Template(SUBJECTS[note.kind]).substitute(values)
    return Email(subject=subject, plain_text=text, html=_to_html(text, subject))
