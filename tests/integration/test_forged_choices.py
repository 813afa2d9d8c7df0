"""Forged button ids with extreme dates, through the inbox worker and the real ``converse``
on Postgres: the customer gets the stale-button answer at once and the event is done, not
retried and parked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import ChatContact, Chosen, Command
from core.domain.availability import SlotQuery
from core.domain.booking import Actor
from core.domain.errors import SlotNotOffered
from core.ports import Translated
from core.services.inbox_store import StoreInbound
from core.services.inbox_worker import InboxWorker
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from tests.db_state import rows

STALE = "That button is from an earlier message. Here is where we are now:"


class ButtonChannel:
    """A channel whose events are ``{"chat": ..., "tap": id}`` or ``{"chat": ..., "say": cmd}``."""

    name = "test"
    capacity = ChannelCapacity(choices_per_message=10, label_length=40)

    def translate(self, payload: Mapping[str, Any]) -> Translated:
        chat = str(payload["chat"])
        contact = ChatContact("test", chat, chat, "Ada", "en")
        if "tap" in payload:
            return Translated(contact, Chosen(payload["tap"]))
        return Translated(contact, Command(payload["say"]))

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        pass


class Customer:
    """One chat, each event stored then handled by the worker; replies read from the outbox."""

    def __init__(self, app: Salonbot) -> None:
        self.app = app
        self.store = StoreInbound(app.uow, app.clock, Wakeup())
        self.worker = InboxWorker(
            app.uow, app.clock, app.inbox_handler({"test": ButtonChannel()}), Wakeup()
        )
        self.sent = 0

    async def send(self, **event: str) -> dict[str, Any]:
        self.sent += 1
        await self.store("test", f"e{self.sent}", "7", {"chat": 7, **event})
        assert await self.worker.handle_one()
        [(status, attempts)] = await rows(
            self.app.engine,
            f"SELECT status, attempts FROM inbound_events WHERE platform_id = 'e{self.sent}'",
        )
        assert (status, attempts) == ("done", 1)
        [(body,)] = await rows(
            self.app.engine, "SELECT body FROM outbound_messages ORDER BY id DESC LIMIT 1"
        )
        assert isinstance(body, dict)
        return body

    async def tap(self, label: str, body: dict[str, Any]) -> dict[str, Any]:
        [choice_id] = [c["id"] for c in body["choices"] if label in c["label"]]
        return await self.send(tap=choice_id)


async def _marias_days(customer: Customer) -> dict[str, Any]:
    """From the start to the days Maria has time for a manicure: that screen's reply."""
    body = await customer.send(say="start")
    for label in ("Book a visit", "Nails", "Manicure", "Maria"):
        body = await customer.tap(label, body)
    return body


def _generation(body: dict[str, Any]) -> str:
    return str(next(c["id"] for c in body["choices"] if "." in c["id"]).split(".")[0])


@pytest.mark.parametrize("day", ["00010101", "99991231"])
async def test_a_forged_extreme_day_is_answered_as_stale_and_the_event_is_done(
    app: Salonbot, day: str
) -> None:
    customer = Customer(app)
    body = await _marias_days(customer)

    answer = await customer.send(tap=f"{_generation(body)}.d.{day}")

    assert answer["text"] == f"{STALE}\n\n{body['text']}"
    assert answer["choices"] == [
        {**c, "id": c["id"].replace(f"{_generation(body)}.", f"{_generation(answer)}.")}
        for c in body["choices"]
    ]


@pytest.mark.parametrize("start", ["000101010000", "999912312359"])
async def test_a_forged_extreme_time_is_answered_as_stale_and_the_event_is_done(
    app: Salonbot, start: str
) -> None:
    customer = Customer(app)
    body = await customer.send(tap=(await _marias_days(customer))["choices"][2]["id"])

    answer = await customer.send(tap=f"{_generation(body)}.t.{start}")

    assert answer["text"].startswith(STALE)
    assert answer["text"].endswith(body["text"])
    assert await rows(app.engine, "SELECT count(*) FROM bookings") == [(0,)]
    assert await rows(app.engine, "SELECT count(*) FROM inbound_events WHERE status <> 'done'") == [
        (0,)
    ]


@pytest.mark.parametrize(
    "start",
    [
        datetime.min.replace(tzinfo=UTC),
        datetime(1, 1, 1, 1, 0, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
    ],
    ids=str,
)
async def test_the_booking_use_cases_refuse_a_start_at_the_ends_of_the_calendar(
    app: Salonbot, start: datetime
) -> None:
    staff = Actor.staff("anna")
    with pytest.raises(SlotNotOffered):
        await app.bookings.book("manicure", start, staff, staff_key="maria")
    with pytest.raises(SlotNotOffered):
        await app.bookings.hold("manicure", start, staff)
    day = start.date()
    assert await app.find_slots(SlotQuery("manicure", day, day)) == []
    assert await rows(app.engine, "SELECT count(*) FROM bookings") == [(0,)]
