"""The staff API as ``salonbot serve`` wires it, fuzzed by schemathesis from its own OpenAPI:
real Postgres, the demo salon, an owner signed in, a few bookings. Every operation, with
valid and invalid input: never a server error, and every answer (status, content type,
headers, body) as the description says.

Schemathesis calls the app in-process on an event loop of its own, in another thread: the
app under test gets its own engine without a pool, so no connection crosses loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.calendar.ports import Role
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor
from salonbot.bootstrap import Salonbot
from salonbot.database import asyncpg_url
from salonbot.web import create_web_app
from tests.fakes.clock import FakeClock

EMAIL = "owner@salon.test"
PASSWORD = "a long enough password"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 10  # per operation and kind of input: about half a minute in all
SPARE_TOKENS = 4  # for ``DELETE /sessions/current``, which ends the token it is sent with


@dataclass
class Fuzzing:
    schema: schemathesis.BaseSchema
    token: str
    spare: list[str]
    bookings: list[int]


@pytest.fixture
async def fuzzing(app: Salonbot, clock: FakeClock, database_url: str) -> Fuzzing:
    """The demo salon on Monday 2026-12-07 with two bookings, an owner and their tokens,
    and the schema of the app under test."""
    await app.accounts.add(EMAIL, PASSWORD, Role.OWNER)
    async with app.uow() as uow:
        customers = CustomerRepository(uow.connection)
        ada, _ = await customers.for_identity(
            "telegram", "501", clock.now(), name="Ada Lovelace", phone="+49 151 1"
        )
        ben = await customers.add("Ben Walker", clock.now(), phone="+49 160 2")
        await uow.commit()
    booked = [
        await app.bookings.book(
            "manicure",
            datetime(2026, 12, 7, hour, tzinfo=UTC),
            Actor.customer(customer),
            staff_key="maria",
            customer_id=customer,
        )
        for customer, hour in ((ada, 9), (ben, 13))
    ]
    tokens = [
        (await app.accounts.sign_in(EMAIL, PASSWORD, "192.0.2.1")).token
        for _ in range(1 + SPARE_TOKENS)
    ]
    engine = create_async_engine(asyncpg_url(database_url), poolclass=NullPool)
    web = create_web_app(Salonbot(engine, clock), [], lambda: True)
    schema = schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json",
        web,
    )
    return Fuzzing(schema, tokens[0], tokens[1:], [b.id for b in booked])


def _aimed(operation: schemathesis.APIOperation, fuzzing: Fuzzing) -> dict[str, Any]:
    """Values that reach past the lookups (a booking that is there, a service the salon
    offers), so valid input also meets the calendar's own rules."""
    if "{booking_id}" in operation.path:
        return {"path_parameters": {"booking_id": fuzzing.bookings[0]}}
    if operation.path == "/availability":
        return {"query": {"service": "manicure", "date": "2026-12-07"}}
    return {}


def test_the_api_answers_every_request_as_its_openapi_says(fuzzing: Fuzzing) -> None:
    # Each operation on its own (not schemathesis's pytest loader, which pytest 9 broke):
    # valid input, valid input aimed at what is there, and invalid input.
    operations = []
    for result in fuzzing.schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) == 10
    for operation in operations:
        for mode, aim in (
            (GenerationMode.POSITIVE, False),
            (GenerationMode.POSITIVE, True),
            (GenerationMode.NEGATIVE, False),
        ):
            if aim and not _aimed(operation, fuzzing):
                continue
            strategy = operation.as_strategy(mode, **(_aimed(operation, fuzzing) if aim else {}))

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def answers_as_described(case: schemathesis.Case) -> None:
                token = fuzzing.token
                if case.method == "DELETE":
                    # It ends the token it is sent with: never the one the others use.
                    token = fuzzing.spare.pop() if fuzzing.spare else "an-ended-session"
                headers = {"Authorization": f"Bearer {token}"}
                case.call_and_validate(headers=headers, checks=CHECKS)

            answers_as_described()
