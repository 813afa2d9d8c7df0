"""What a customer sends (``Inbound``) and what the salon answers (``Reply``).

Channels translate their platform's updates into these and these into platform calls;
nothing here knows which channel a message came from.
"""

from __future__ import annotations

from dataclasses import dataclass

# Telegram's callback_data is 1-64 bytes; every channel's ids fit the smallest limit.
MAX_CHOICE_ID_BYTES = 64


@dataclass(frozen=True, slots=True)
class Text:
    """Free text the customer typed."""

    text: str


@dataclass(frozen=True, slots=True)
class Chosen:
    """The customer picked one of the offered choices, by its id."""

    choice_id: str


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command (``/start``, ``/book``, ...) with an optional payload."""

    name: str
    payload: str = ""


@dataclass(frozen=True, slots=True)
class SharedContact:
    """The customer shared their phone number."""

    phone: str


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Something the conversation cannot read (a photo, a voice note, a sticker...)."""

    kind: str


Inbound = Text | Chosen | Command | SharedContact | Unsupported


def check_choice_id(choice_id: str) -> str:
    """Return ``choice_id`` if it is 1-64 bytes of printable ASCII, else raise ValueError."""
    if not choice_id or not choice_id.isascii() or not choice_id.isprintable():
        raise ValueError(f"a choice id is printable ASCII, got {choice_id!r}")
    if len(choice_id.encode()) > MAX_CHOICE_ID_BYTES:
        raise ValueError(f"a choice id is at most {MAX_CHOICE_ID_BYTES} bytes: {choice_id!r}")
    return choice_id


@dataclass(frozen=True, slots=True)
class Choice:
    """One button or list row: an opaque id and the label the customer sees."""

    id: str
    label: str

    def __post_init__(self) -> None:
        check_choice_id(self.id)
        if not self.label.strip():
            raise ValueError(f"choice {self.id!r} has an empty label")


@dataclass(frozen=True, slots=True)
class Form:
    """A message as a pre-approved form: for a channel that takes only such forms from a
    business the customer has not written to for a while (WhatsApp's templates outside the
    24-hour window). The channel maps ``name`` to its own form (``"reminder"``: the
    configured reminder template); ``params`` fill its body in order, ``payloads`` are the
    choice ids its quick-reply buttons send back, in order."""

    name: str
    language: str
    params: tuple[str, ...] = ()
    payloads: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """Localized text and the choices offered with it, in order."""

    text: str
    choices: tuple[Choice, ...] = ()
    # What a channel that folds the choices away (WhatsApp's list) shows on its button.
    button: str = ""
    # The same message as a pre-approved form, sent instead when the channel refuses the
    # reply because the customer's window has closed (a reminder); None: the channel's
    # window reopener is sent instead.
    form: Form | None = None


@dataclass(frozen=True, slots=True)
class ChatContact:
    """Who wrote, as the channel knows them."""

    channel: str
    chat_id: str
    external_id: str
    name: str = ""
    language_code: str | None = None  # the platform's, e.g. "ru" or "en-US"
    # Their number as "+<digits>" when the channel shares it beside its id (WhatsApp).
    phone: str | None = None
    # The id this customer was known by on this channel before ``external_id`` (WhatsApp:
    # their number, from before salonbot keyed them by their username id). A customer
    # still stored under it moves to ``external_id`` on first contact under the new id.
    former_external_id: str | None = None
