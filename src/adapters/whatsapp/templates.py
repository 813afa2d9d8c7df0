"""Template messages: the only messages a business may send a customer whose 24-hour window
has closed.

A template is approved by Meta beforehand, per name and language; a send names it and fills
its variables (Cloud API ``type: "template"``): the body's ``{{1}}``, ``{{2}}``, ... in
order as ``text`` parameters, and each quick-reply button's payload (what comes back, in
an inbound ``button`` message, when the customer taps it) as a ``button`` component of
``sub_type: "quick_reply"`` with the button's ``index``.

Meta refuses a text parameter with a newline, a tab or more than four spaces in a row, so
parameters are flattened to one line; each is cut to ``PARAMETER_LENGTH`` (the whole body
of a template may be 1,024 characters, its fixed text included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.whatsapp.updates import addressee
from core.conversation.capacity import shorten

PARAMETER_LENGTH = 200
QUICK_REPLIES = 10  # a template has at most 10 buttons; the reminder has 3
# What stands in for an empty parameter: Meta refuses an empty one.
EMPTY = "-"


def flat(parameter: str) -> str:
    """``parameter`` as Meta takes it: one line, no run of spaces, not empty, bounded."""
    return shorten(" ".join(parameter.split()) or EMPTY, PARAMETER_LENGTH)


def template_payload(
    to: str,
    name: str,
    language: str,
    parameters: Sequence[str] = (),
    payloads: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``/messages`` body sending template ``name`` in ``language`` to ``to``, its body
    filled with ``parameters`` and its first quick-reply buttons given ``payloads``, in
    order. No components when there is nothing to fill (Meta refuses an empty list)."""
    if len(payloads) > QUICK_REPLIES:
        raise ValueError(f"a template has at most {QUICK_REPLIES} buttons, got {len(payloads)}")
    components: list[dict[str, Any]] = []
    if parameters:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": flat(p)} for p in parameters]}
        )
    components.extend(
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": str(index),
            "parameters": [{"type": "payload", "payload": payload}],
        }
        for index, payload in enumerate(payloads)
    )
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = components
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **addressee(to),
        "type": "template",
        "template": template,
    }
