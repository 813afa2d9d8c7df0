"""The staff JSON API through its real ASGI entry over the in-memory ports: bearer sessions,
the rule that nothing but signing in and the description answers without a token, each
route's answer and refusals in the one error shape, bounded bodies and the headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from adapters.staff_api.app import PUBLIC_ROUTES
from adapters.staff_api.guards import HEADERS, MAX_BODY
from core.domain.booking import BookingStatus
from tests.adapters.staff_api_harness import ANNA, api_desk
from tests.adapters.staff_web_harness import OWNER, PASSWORD

DAY = "2026-12-08"  # the harness's today: Tuesday, 10:30 in Berlin


# Signing in and out.


async def test_signing_in_gives_a_bearer_token_that_opens_the_salons_day() -> None:
    async with api_desk() as api:
        answer = await api.client.post(
            "/api/v1/sessions", json={"email": OWNER, "password": PASSWORD}
        )
        assert answer.status_code == 201
        session = answer.json()
        assert session["token_type"] == "bearer"
        assert session["expires_at"] == "2026-12-08T21:30:00Z"  # 12 idle hours
        assert session["user"] == {
            "id": 1,
            "email": OWNER,
            "role": "owner",
            "staff": None,
            "language": "en",
        }
        headers = {"Authorization": f"Bearer {session['token']}"}
        day = await api.client.get("/api/v1/bookings", params={"date": DAY}, headers=headers)
        assert day.status_code == 200
        view = day.json()
        assert view["date"] == DAY
        assert view["zone"] == "Europe/Berlin"
        assert view["opens"] == "2026-12-08T08:00:00Z"
        anna = next(c for c in view["columns"] if c["staff"] == "anna")
        assert [
            (b["id"], b["start"], b["end"], b["customer_name"], b["status"])
            for b in anna["bookings"]
        ] == [(1, "2026-12-08T09:00:00Z", "2026-12-08T10:00:00Z", "Olga Petrova", "confirmed")]
        assert anna["bookings"][0]["channel"] == "telegram"
        assert {u["kind"] for u in anna["unavailable"]} == {"closed"}


async def test_a_wrong_password_and_an_unknown_email_get_the_same_refusal() -> None:
    async with api_desk() as api:
        wrong = await api.client.post(
            "/api/v1/sessions", json={"email": OWNER, "password": "not it"}
        )
        unknown = await api.client.post(
            "/api/v1/sessions", json={"email": "nobody@salon.test", "password": PASSWORD}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert (
            wrong.json()
            == unknown.json()
            == {
                "error": "sign_in_refused",
                "message": "Wrong email or password.",
            }
        )
        assert api.accounts.live_sessions == 0


async def test_an_address_with_too_many_failures_is_told_when_to_try_again() -> None:
    async with api_desk() as api:
        for n in range(20):
            await api.client.post(
                "/api/v1/sessions", json={"email": f"guess{n}@salon.test", "password": "x"}
            )
        api.clock.advance(timedelta(minutes=5))
        throttled = await api.client.post(
            "/api/v1/sessions", json={"email": OWNER, "password": PASSWORD}
        )
        assert throttled.status_code == 429
        assert throttled.json()["error"] == "too_many_attempts"
        assert throttled.headers["retry-after"] == str(10 * 60)
        assert api.accounts.live_sessions == 0


async def test_signing_out_ends_the_token() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        assert (await client.delete("/api/v1/sessions/current")).status_code == 204
        assert api.accounts.live_sessions == 0
        after = await client.get("/api/v1/bookings", params={"date": DAY})
        assert after.status_code == 401
        assert after.json()["error"] == "not_signed_in"
        assert after.headers["www-authenticate"] == "Bearer"


async def test_a_token_lapses_after_twelve_idle_hours() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        api.clock.advance(timedelta(hours=12, minutes=1))
        assert (await client.get("/api/v1/bookings", params={"date": DAY})).status_code == 401


def _sample_path(path: str) -> str:
    path = path.replace("{booking_id}", "1")
    assert "{" not in path, f"give {path} a sample value in this test"
    return path


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer not-a-session", "Basic b3duZXI6cGFzcw==", "Bearer " + "x" * 200],
)
async def test_every_route_but_signing_in_and_the_description_needs_a_token(
    authorization: str | None,
) -> None:
    """A new route without the bearer dependency fails here."""
    async with api_desk() as api:
        await api.client.post("/api/v1/sessions", json={"email": OWNER, "password": PASSWORD})
        headers = {"Authorization": authorization} if authorization else {}
        checked = 0
        for route in api.api.routes:
            assert isinstance(route, Route), route
            for method in route.methods or ():
                if (route.path, method) in PUBLIC_ROUTES:
                    continue
                assert isinstance(route, APIRoute), (route.path, method)
                answer = await api.client.request(
                    method, "/api/v1" + _sample_path(route.path), headers=headers, json={}
                )
                assert answer.status_code == 401, (route.path, method, answer.text)
                assert answer.json()["error"] == "not_signed_in"
                checked += 1
        assert checked >= 9
        assert api.desk.history == {}


# Reading.


async def test_a_booking_with_its_customer_and_history() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        await client.post("/api/v1/bookings/1/cancel", json={"reason": "ill"})
        answer = await client.get("/api/v1/bookings/1")
        assert answer.status_code == 200
        detail = answer.json()
        assert detail["booking"]["status"] == "cancelled"
        assert detail["staff_name"] == "Anna"
        assert detail["customer"]["name"] == "Olga Petrova"
        assert detail["customer"]["language"] == "ru"
        assert [(h["action"], h["actor"], h["note"]) for h in detail["history"]] == [
            ("cancelled", OWNER, "ill")
        ]
        missing = await client.get("/api/v1/bookings/999")
        assert missing.status_code == 404
        assert missing.json()["error"] == "booking_not_found"


async def test_availability_lists_free_starts_of_a_service_with_a_staff_member() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        answer = await client.get(
            "/api/v1/availability", params={"service": "manicure", "staff": "anna", "date": DAY}
        )
        assert answer.status_code == 200
        starts = answer.json()["starts"]
        # Anna's manicure takes 09:00-10:00 UTC; now is 09:30 UTC; she closes 17:00 UTC.
        assert starts[0] == {"staff": "anna", "start": "2026-12-08T10:00:00Z"}
        assert starts[-1] == {"staff": "anna", "start": "2026-12-08T16:00:00Z"}
        unknown = await client.get(
            "/api/v1/availability", params={"service": "tattoo", "date": DAY}
        )
        assert unknown.status_code == 422
        assert unknown.json()["error"] == "unknown_service"


async def test_customers_are_found_by_part_of_a_name_or_a_phone() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        by_name = await client.get("/api/v1/customers", params={"q": "olg"})
        by_phone = await client.get("/api/v1/customers", params={"q": "160 111"})
        assert [c["name"] for c in by_name.json()] == ["Olga Petrova"]
        assert [c["name"] for c in by_phone.json()] == ["Jonas Weber"]
        assert by_name.json()[0]["channel"] == "telegram"


# Changing.


async def test_a_walk_in_for_a_new_customer_is_booked_and_recorded_with_the_users_email() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        answer = await client.post(
            "/api/v1/bookings",
            json={
                "service": "haircut",
                "staff": "maria",
                "start": "2026-12-08T16:00:00+01:00",
                "customer": {"name": "Ida Berg", "phone": "+49 170 555"},
            },
        )
        assert answer.status_code == 201, answer.text
        made = answer.json()
        assert made["booking"]["start"] == "2026-12-08T15:00:00Z"
        assert made["booking"]["status"] == "confirmed"
        assert made["customer"]["name"] == "Ida Berg"
        assert made["history"][0]["actor"] == OWNER
        assert answer.headers["location"].endswith(f"/api/v1/bookings/{made['booking']['id']}")
        again = await client.get(answer.headers["location"])
        assert again.json() == made


async def test_a_taken_slot_is_refused_with_the_nearest_free_starts_and_changes_nothing() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        before = dict(api.calendar.bookings)
        answer = await client.post(
            "/api/v1/bookings",
            json={
                "service": "haircut",
                "staff": "maria",
                "start": "2026-12-08T13:30:00Z",  # Jonas's haircut, held
                "customer": 1,
            },
        )
        assert answer.status_code == 409
        body = answer.json()
        assert body["error"] == "slot_taken"
        assert body["alternatives"][:2] == [
            {"staff": "maria", "start": "2026-12-08T12:45:00Z"},
            {"staff": "maria", "start": "2026-12-08T14:15:00Z"},
        ]
        assert api.calendar.bookings == before


async def test_a_staff_member_acts_on_their_own_bookings_and_not_a_colleagues() -> None:
    async with api_desk() as api:
        client = await api.as_user(ANNA)
        for path, body in (
            ("/api/v1/bookings/2/cancel", {"reason": "no"}),
            ("/api/v1/bookings/2/move", {"start": "2026-12-08T15:00:00Z"}),
            ("/api/v1/bookings/1/move", {"start": "2026-12-08T15:00:00Z", "staff": "maria"}),
        ):
            refused = await client.post(path, json=body)
            assert refused.status_code == 403, path
            assert refused.json()["error"] == "not_allowed"
        booked_for_maria = await client.post(
            "/api/v1/bookings",
            json={
                "service": "haircut",
                "staff": "maria",
                "start": "2026-12-08T15:00:00Z",
                "customer": 1,
            },
        )
        assert booked_for_maria.status_code == 403
        assert api.desk.history == {}
        moved = await client.post("/api/v1/bookings/1/move", json={"start": "2026-12-08T15:00:00Z"})
        assert moved.status_code == 200
        assert moved.json()["booking"]["start"] == "2026-12-08T15:00:00Z"
        assert moved.json()["booking"]["version"] == 2
        assert moved.json()["history"][-1]["actor"] == ANNA


async def test_a_visit_that_has_started_is_marked_and_then_cannot_be_cancelled() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        held = await client.post("/api/v1/bookings/2/status", json={"status": "completed"})
        assert held.status_code == 409
        assert held.json()["error"] == "invalid_transition"
        done = await client.post("/api/v1/bookings/1/status", json={"status": "no_show"})
        assert done.status_code == 200
        assert done.json()["booking"]["status"] == "no_show"
        cancelled = await client.post("/api/v1/bookings/1/cancel", json={})
        assert cancelled.status_code == 409
        assert cancelled.json()["error"] == "invalid_transition"
        assert api.booking(1)[1].status is BookingStatus.NO_SHOW


# Bad input.


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/bookings/1/move", {"start": "2026-12-08T15:00:00"}),  # naive
        ("/api/v1/bookings/1/move", {"start": "2026-12-08T15:00:00Z", "why": "x"}),
        ("/api/v1/bookings/1/move", {"start": "9999-12-31T23:59:59+00:00"}),
        ("/api/v1/bookings/1/status", {"status": "cancelled"}),
        ("/api/v1/bookings/1/cancel", {"reason": "x" * 501}),
        ("/api/v1/bookings", {"service": "manicure", "start": "2026-12-08T15:00:00Z"}),
        (
            "/api/v1/bookings",
            {
                "service": "manicure",
                "start": "2026-12-08T15:00:00Z",
                "customer": {"name": "", "phone": ""},
            },
        ),
        (
            "/api/v1/bookings",
            {
                "service": "manicure",
                "start": "2026-12-08T15:00:00Z",
                "customer": {"name": " \t ", "phone": ""},  # blanks: the desk refuses
            },
        ),
        # Instants at the calendar's very ends: out of range, never an overflow.
        ("/api/v1/bookings/1/move", {"start": "0001-01-01T00:30:00+01:00"}),
        ("/api/v1/bookings/1/move", {"start": "9999-12-31T23:30:00-01:00"}),
        ("/api/v1/bookings", {"service": "manicure", "start": "0001-01-01T00:00:00+14:00"}),
        ("/api/v1/bookings", [[[[[[[[[[[[]]]]]]]]]]]]),
        ("/api/v1/bookings", "[" * 5000 + "]" * 5000),
    ],
)
async def test_bad_input_is_refused_in_the_one_shape_and_changes_nothing(
    path: str, body: object
) -> None:
    async with api_desk() as api:
        client = await api.as_user()
        if isinstance(body, str):
            answer = await client.post(
                path, content=body, headers={"Content-Type": "application/json"}
            )
        else:
            answer = await client.post(path, json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "bad_input"
        assert api.desk.history == {}


async def test_a_refused_sign_in_never_echoes_the_password() -> None:
    async with api_desk() as api:
        answer = await api.client.post(
            "/api/v1/sessions", json={"email": OWNER, "password": "hunter2-secret", "x": 1}
        )
        assert answer.status_code == 422
        assert "hunter2" not in answer.text
        assert "x: Extra inputs are not permitted" in answer.json()["problems"][0]


@pytest.mark.parametrize(
    "query",
    [{}, {"date": "2026-13-01"}, {"date": "1999-12-31"}, {"date": "08.12.2026"}],
)
async def test_a_day_that_is_not_a_date_in_range_is_bad_input(query: dict[str, str]) -> None:
    async with api_desk() as api:
        client = await api.as_user()
        answer = await client.get("/api/v1/bookings", params=query)
        assert answer.status_code == 422
        assert answer.json()["error"] == "bad_input"
        assert api.calendar.calls == 0


async def test_a_body_over_the_bound_is_refused_before_anything_is_read_into_a_route() -> None:
    async with api_desk() as api:
        big = {"email": OWNER, "password": "x" * MAX_BODY}
        declared = await api.client.post("/api/v1/sessions", json=big)

        async def chunks():  # no Content-Length: the bound is counted as it arrives
            for _ in range(MAX_BODY // 1024 + 2):
                yield b" " * 1024

        streamed = await api.client.post(
            "/api/v1/sessions", content=chunks(), headers={"Content-Type": "application/json"}
        )
        for answer in (declared, streamed):
            assert answer.status_code == 413
            assert answer.json()["error"] == "too_large"
            assert answer.headers["cache-control"] == "no-store"
        assert api.accounts.attempts == []


# Headers and the description.


async def test_every_answer_carries_the_security_headers_and_no_store() -> None:
    async with api_desk() as api:
        answers = [
            await api.client.get("/api/v1/openapi.json"),
            await api.client.get("/api/v1/bookings", params={"date": DAY}),
            await api.client.get("/api/v1/no/such/thing"),
        ]
        client = await api.as_user()
        answers += [
            await client.get("/api/v1/bookings", params={"date": DAY}),
            await client.get("/api/v1/bookings/999"),
            await client.put("/api/v1/bookings/1"),
        ]
        for answer in answers:
            for name, value in HEADERS.items():
                assert answer.headers[name] == value, (answer.request.url, name)
            assert answer.headers["content-type"] == "application/json"
        assert answers[2].status_code == 404
        assert answers[2].json()["error"] == "not_found"
        assert answers[-1].status_code == 405
        assert answers[-1].json()["error"] == "method_not_allowed"
        assert "set-cookie" not in answers[3].headers


async def test_the_description_documents_every_error_each_operation_answers() -> None:
    async with api_desk() as api:
        schema = (await api.client.get("/api/v1/openapi.json")).json()
        assert schema["servers"] == [{"url": "/api/v1"}]
        operations = {
            (method.upper(), path): operation
            for path, methods in schema["paths"].items()
            for method, operation in methods.items()
        }
        assert len(operations) == 10
        for (method, path), operation in operations.items():
            statuses = set(operation["responses"])
            expected = {"422"} | ({"401"} if (path, method) not in PUBLIC_ROUTES else set())
            if method == "POST":
                expected |= {"413"}
            if method == "DELETE":
                expected = {"401"}
            assert expected <= statuses, (method, path, statuses)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Problem", (method, path, status)
            if (path, method) not in PUBLIC_ROUTES:
                assert operation["security"] == [{"HTTPBearer": []}], (method, path)
        problem = schema["components"]["schemas"]["Problem"]
        assert problem["required"] == ["error", "message"]
        assert problem["additionalProperties"] is False
