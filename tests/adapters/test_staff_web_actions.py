"""The staff web's actions over the in-memory desk: the booking page and its move, cancel
and mark forms, the walk-in form, time off and the customer pages. Each form is checked
for its CSRF token and its bounds, each refusal for its message and its status, and each
refusal for changing nothing."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.routing import APIRoute

from core.calendar.ports import Role, StaffUser
from core.domain.booking import BookingStatus
from tests.adapters.staff_web_harness import CSRF, OWNER, PASSWORD, StaffDesk, staff_desk

BOOKING = "/staff/booking/1"  # Olga's manicure with Anna, 10:00-11:00, started at 10:30
HELD = "/staff/booking/2"  # Jonas's haircut with Maria at 14:30, held
STAFF = "staff@salon.test"  # Maria's own account, in English


async def _signed(desk: StaffDesk, email: str = OWNER) -> str:
    """Sign ``email`` in; the session's CSRF token."""
    if email == STAFF:
        desk.accounts.add(STAFF, PASSWORD, Role.STAFF, "maria")
    assert (await desk.sign_in(email)).status_code == 303
    return await desk.form_token("/staff/")


def _status(desk: StaffDesk, booking_id: int) -> BookingStatus:
    return next(
        b.status for bs in desk.calendar.bookings.values() for b in bs if b.id == booking_id
    )


def _start(desk: StaffDesk, booking_id: int) -> datetime:
    return next(b.start for bs in desk.calendar.bookings.values() for b in bs if b.id == booking_id)


def _alert(page: httpx.Response) -> str:
    found = re.search(r'role="alert">\s*<p>([^<]*)</p>', page.text)
    assert found is not None, page.text
    return html.unescape(found.group(1))


# The booking page.


async def test_the_booking_page_shows_the_booking_its_customer_and_the_owners_actions() -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        page = await desk.client.get(BOOKING)
        assert page.status_code == 200
        assert "Booking #1" in page.text
        assert "Classic manicure" in page.text
        assert '<a href="/staff/customers/1">Olga Petrova</a>' in page.text
        assert ">10:00</time>–<time" in page.text
        for action in ("move", "cancel", "mark"):
            assert f'action="/staff/booking/1/{action}"' in page.text
        assert 'value="2026-12-08"' in page.text
        assert 'value="10:00"' in page.text
        # The held booking has not started and cannot be moved: only cancelled.
        held = await desk.client.get(HELD)
        assert 'action="/staff/booking/2/cancel"' in held.text
        assert "/move" not in held.text
        assert "/mark" not in held.text


async def test_the_dialog_part_is_a_fragment_of_the_same_booking() -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        part = await desk.client.get(BOOKING + "?part=dialog")
        assert part.status_code == 200
        assert "<html" not in part.text
        assert '<h2 id="dialog-title">Booking #1</h2>' in part.text
        assert 'action="/staff/booking/1/cancel"' in part.text
        assert 'href="/staff/booking/1">Open the booking' in part.text


async def test_a_staff_member_sees_a_colleagues_booking_without_actions_and_is_refused() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk, STAFF)
        page = await desk.client.get(BOOKING)  # Anna's
        assert page.status_code == 200
        assert "Only the owner or the staff member of this booking can change it." in page.text
        assert '<form class="act"' not in page.text
        answer = await desk.client.post(
            BOOKING + "/cancel", data={"csrf": token, "version": "1", "reason": "mine now"}
        )
        assert answer.status_code == 403
        assert _alert(answer).startswith("Your role does not allow this")
        assert _status(desk, 1) is BookingStatus.CONFIRMED
        # Their own booking: the actions are there.
        own = await desk.client.get(HELD)
        assert 'action="/staff/booking/2/cancel"' in own.text


async def test_the_owner_moves_a_booking_to_a_colleague_and_the_history_names_them() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        answer = await desk.client.post(
            BOOKING + "/move",
            data={"csrf": token, "version": "1", "day": "2026-12-09", "at": "12:00",
                  "staff": "maria"},
        )  # fmt: skip
        assert answer.status_code == 303
        assert answer.headers["location"] == "/staff/booking/1?done=moved"
        page = await desk.client.get(answer.headers["location"])
        assert "The booking is moved." in page.text
        assert re.search(r"Moved · <span class=\"actor\">owner@salon.test</span>", page.text)
        assert _start(desk, 1) == datetime(2026, 12, 9, 11, 0, tzinfo=UTC)
        assert (1, "rescheduled") in desk.desk.told


async def test_a_move_to_a_taken_time_offers_the_free_times_nearby_and_changes_nothing() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        # Maria's held haircut sits at 14:30: a manicure there is refused.
        answer = await desk.client.post(
            BOOKING + "/move",
            data={"csrf": token, "version": "1", "day": "2026-12-08", "at": "14:30",
                  "staff": "maria"},
        )  # fmt: skip
        assert answer.status_code == 409
        assert _alert(answer) == "That time is no longer free."
        assert "Free times nearby:" in answer.text
        offered = re.findall(r'name="at" value="(\d\d:\d\d)">', answer.text)
        assert offered
        assert "14:30" not in offered
        assert 'name="staff" value="maria"' in answer.text
        assert _start(desk, 1) == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
        # What was typed stays in the form.
        assert 'name="at" type="time" step="300" required value="14:30"' in answer.text


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"day": "2026-12-08", "at": "06:00"}, 409, "That time cannot be booked"),
        ({"day": "2026-02-30", "at": "12:00"}, 422, "Enter a date as YYYY-MM-DD."),
        ({"day": "tomorrow", "at": "12:00"}, 422, "Enter a date as YYYY-MM-DD."),
        ({"day": "2026-12-09", "at": "25:00"}, 422, "Enter a time as HH:MM."),
        ({"day": "2026-12-09"}, 422, "Enter a time as HH:MM."),
        ({"day": "2027-03-28", "at": "02:30"}, 422, "02:30 does not exist on Sunday, 28 March"),
        ({"day": "2026-12-09", "at": "12:00", "staff": "nobody"}, 422, "no such staff member"),
        ({"day": "2026-12-09", "at": "12:00", "version": "0"}, 409, "has changed since"),
    ],
    ids=["outside hours", "no such date", "not a date", "no such time", "no time",
         "dst gap", "unknown staff", "stale version"],
)  # fmt: skip
async def test_a_refused_move_says_why_and_changes_nothing(
    fields: dict[str, str], status: int, message: str
) -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        answer = await desk.client.post(
            BOOKING + "/move", data={"csrf": token, "version": "1", "staff": "anna", **fields}
        )
        assert answer.status_code == status
        assert message in _alert(answer)
        assert _start(desk, 1) == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
        assert desk.desk.history.get(1, []) == []


async def test_a_cancel_with_a_reason_is_recorded_and_the_chat_customer_told() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        answer = await desk.client.post(
            BOOKING + "/cancel", data={"csrf": token, "version": "1", "reason": "Anna is ill"}
        )
        assert answer.status_code == 303
        page = await desk.client.get(answer.headers["location"])
        assert "The booking is cancelled." in page.text
        assert "owner@salon.test</span> · Anna is ill" in page.text
        assert "Nothing more can be done with this booking." in page.text
        assert _status(desk, 1) is BookingStatus.CANCELLED
        assert (1, "cancelled") in desk.desk.told


async def test_a_reason_longer_than_the_desk_takes_is_refused() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        answer = await desk.client.post(
            BOOKING + "/cancel", data={"csrf": token, "version": "1", "reason": "x" * 501}
        )
        assert answer.status_code == 422
        assert _alert(answer) == "The reason is too long."
        assert _status(desk, 1) is BookingStatus.CONFIRMED


@pytest.mark.parametrize(("outcome", "said"), [("no_show", "No-show"), ("completed", "Completed")])
async def test_a_started_visit_is_marked(outcome: str, said: str) -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        answer = await desk.client.post(
            BOOKING + "/mark", data={"csrf": token, "version": "1", "outcome": outcome}
        )
        assert answer.status_code == 303
        assert _status(desk, 1) is BookingStatus(outcome)
        page = await desk.client.get(answer.headers["location"])
        assert f'<dd class="status">{said}' in page.text


async def test_marking_a_visit_that_cannot_be_marked_says_why() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        held = await desk.client.post(
            HELD + "/mark", data={"csrf": token, "version": "3", "outcome": "no_show"}
        )
        assert held.status_code == 409
        assert _alert(held) == ("This booking is held, not yet confirmed: it cannot be changed so.")
        forged = await desk.client.post(
            BOOKING + "/mark", data={"csrf": token, "version": "1", "outcome": "cancelled"}
        )
        assert forged.status_code == 422
        assert _status(desk, 1) is BookingStatus.CONFIRMED
        assert _status(desk, 2) is BookingStatus.HELD


async def test_a_visit_not_yet_started_is_not_marked_and_the_reason_is_in_russian() -> None:
    async with staff_desk() as desk:
        desk.clock.set(datetime(2026, 12, 8, 8, 0, tzinfo=UTC))  # 09:00: Olga comes at 10:00
        await desk.sign_in("anna@salon.test", PASSWORD)
        token = await desk.form_token(BOOKING)
        answer = await desk.client.post(
            BOOKING + "/mark", data={"csrf": token, "version": "1", "outcome": "no_show"}
        )
        assert answer.status_code == 409
        assert _alert(answer) == "Визит ещё не начался: отметьте его, когда он начнётся."
        assert _status(desk, 1) is BookingStatus.CONFIRMED


@pytest.mark.parametrize(
    "path",
    ["/staff/booking/999", "/staff/booking/0", "/staff/booking/abc", "/staff/booking/-1",
     "/staff/booking/99999999999999999999", "/staff/customers/999", "/staff/customers/x",
     "/staff/time-off/nobody/2026-12-08", "/staff/time-off/anna/2026-13-01"],
)  # fmt: skip
async def test_a_forged_id_or_date_is_a_404_page(path: str) -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        answer = await desk.client.get(path)
        assert answer.status_code == 404
        assert "Page not found" in answer.text


async def test_an_action_on_a_booking_that_is_not_there_is_a_404() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        for path in ("/staff/booking/999/cancel", "/staff/booking/x/cancel"):
            answer = await desk.client.post(path, data={"csrf": token, "version": "1"})
            assert answer.status_code == 404


# CSRF and bounds, for every form.

POSTS = [
    (BOOKING + "/move", {"version": "1", "day": "2026-12-09", "at": "12:00", "staff": "anna"}),
    (BOOKING + "/cancel", {"version": "1", "reason": "forged"}),
    (BOOKING + "/mark", {"version": "1", "outcome": "no_show"}),
    ("/staff/new", {"service": "manicure", "staff": "anna", "day": "2026-12-09", "at": "12:00",
                    "customer": "new", "name": "Eve", "phone": ""}),
    ("/staff/time-off/anna/2026-12-09", {"from_day": "2026-12-09", "from_at": "12:00",
                                         "to_day": "2026-12-09", "to_at": "13:00"}),
    ("/staff/time-off/anna/2026-12-09/remove", {"id": "1"}),
    ("/staff/feeds/anna", {}),
    ("/staff/feeds/anna/stop", {}),
    ("/staff/google/alerts/1/dismiss", {"day": "2026-12-08"}),
]  # fmt: skip
# The POST routes with tests of their own (test_staff_web_access): signing in and out.
POSTED_ELSEWHERE = {"/login", "/logout"}
# What the forms above would change, there before they are sent: Anna's time off on
# Thursday morning (the remove form's id 1) and her feed link, made on the command line.
SEEDED_OFF = (datetime(2026, 12, 10, 8, 0, tzinfo=UTC), datetime(2026, 12, 10, 9, 0, tzinfo=UTC))


async def _seed(desk: StaffDesk) -> None:
    owner = StaffUser(1, OWNER, Role.OWNER, None, "en")
    assert await desk.desk.add_time_off(owner, "anna", *SEEDED_OFF, "Seeded") == 1
    await desk.feeds.new_link(None, "anna")


def _nothing_changed(desk: StaffDesk) -> None:
    assert _status(desk, 1) is BookingStatus.CONFIRMED
    assert _start(desk, 1) == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    assert sum(len(bs) for bs in desk.calendar.bookings.values()) == 2
    assert [(s.id, s.start, s.end) for s, _ in desk.desk.time_offs.values()] == [(1, *SEEDED_OFF)]
    assert desk.feeds.made_by("anna") == "cli"
    assert desk.linked.open_alerts() == [1]


async def test_the_list_of_forms_covers_every_post_route() -> None:
    """A new POST route must join ``POSTS`` (and so the checks below) or fail here."""
    async with staff_desk() as desk:
        routes = [
            route
            for route in desk.staff_app.routes
            if isinstance(route, APIRoute) and set(route.methods or ()) - {"GET", "HEAD"}
        ]
        assert routes
        for route in routes:
            if route.path in POSTED_ELSEWHERE:
                continue
            matched = [p for p, _ in POSTS if route.path_regex.fullmatch(p.removeprefix("/staff"))]
            assert matched, f"add {route.path} to POSTS"


@pytest.mark.parametrize(("path", "fields"), POSTS, ids=[p for p, _ in POSTS])
async def test_every_form_is_refused_without_the_sessions_csrf_token(
    path: str, fields: dict[str, str]
) -> None:
    async with staff_desk() as desk:
        await _seed(desk)
        await _signed(desk)
        login_token = await desk.form_token()  # a real token, but not the session's
        for data in (fields, {**fields, "csrf": "forged"}, {**fields, "csrf": login_token}):
            answer = await desk.client.post(path, data=data)
            assert answer.status_code == 403, data
        _nothing_changed(desk)


@pytest.mark.parametrize(("path", "fields"), POSTS, ids=[p for p, _ in POSTS])
async def test_every_form_refuses_an_oversized_or_non_form_body(
    path: str, fields: dict[str, str]
) -> None:
    async with staff_desk() as desk:
        await _seed(desk)
        token = await _signed(desk)
        huge = await desk.client.post(path, data={**fields, "csrf": token, "pad": "x" * 17_000})
        as_json = await desk.client.post(path, json={**fields, "csrf": token})
        assert huge.status_code == as_json.status_code == 403
        _nothing_changed(desk)


async def test_a_post_without_a_session_is_401_and_changes_nothing() -> None:
    async with staff_desk() as desk:
        await _seed(desk)
        for path, fields in POSTS:
            assert (await desk.client.post(path, data=fields)).status_code == 401
        _nothing_changed(desk)


async def test_only_known_result_notes_are_shown() -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        page = await desk.client.get(BOOKING + "?done=%3Cscript%3Ealert(1)%3C/script%3E")
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert 'class="done"' not in page.text


# The walk-in form.


async def test_the_walk_in_form_offers_free_times_and_finds_customers() -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        page = await desk.client.get(
            "/staff/new?day=2026-12-08&staff=anna&at=11:15&service=manicure&q=olga"
        )
        assert page.status_code == 200
        assert '<option value="manicure" selected>Classic manicure</option>' in page.text
        assert '<option value="anna" selected>Anna</option>' in page.text
        assert '<option value="11:15" selected>11:15</option>' in page.text
        assert '<option value="10:00"' not in page.text  # Olga's, and past
        assert 'name="customer" value="1"' in page.text
        assert "Olga Petrova" in page.text
        empty = await desk.client.get("/staff/new")
        assert "Choose a service and a day to see the free times." in empty.text
        assert 'method="post"' not in empty.text.split("</header>")[1]


@pytest.mark.parametrize(
    ("start", "day", "at"),
    [
        ("2026-12-09T10:15:00Z", "2026-12-09", "11:15"),
        # Past Saturday's midnight, after the clocks went forward: 01:30 UTC is 03:30.
        ("2027-03-28T01:30:00Z", "2027-03-28", "03:30"),
        ("2027-03-28T00:30:00+00:00", "2027-03-28", "01:30"),
    ],
)
async def test_a_spot_clicked_on_the_day_view_opens_the_form_at_its_local_time(
    start: str, day: str, at: str
) -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        page = await desk.client.get(
            "/staff/new", params={"staff": "anna", "day": "2027-03-27", "start": start}
        )
        assert page.status_code == 200
        assert f'name="day" type="date" required value="{day}"' in page.text
        assert f'<input type="hidden" name="at" value="{at}">' in page.text


@pytest.mark.parametrize(
    "start", ["2026-12-09T10:15:00", "tomorrow", "9999-12-31T23:59:59-23:59", "2" * 41]
)
async def test_a_clicked_instant_that_is_no_instant_is_ignored(start: str) -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        page = await desk.client.get(
            "/staff/new", params={"staff": "anna", "day": "2026-12-09", "start": start}
        )
        assert page.status_code == 200
        assert 'name="day" type="date" required value="2026-12-09"' in page.text
        assert 'name="at"' not in page.text


async def test_a_walk_in_for_a_new_customer_is_booked() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        answer = await desk.client.post(
            "/staff/new",
            data={"csrf": token, "service": "haircut", "staff": "", "day": "2026-12-09",
                  "at": "12:00", "customer": "new", "name": "Eve Adams", "phone": "+49 170 5"},
        )  # fmt: skip
        assert answer.status_code == 303
        assert answer.headers["location"] == "/staff/booking/3?done=booked"
        page = await desk.client.get(answer.headers["location"])
        assert "The booking is made." in page.text
        assert "Eve Adams" in page.text
        assert re.search(r"Booked · <span class=\"actor\">owner@salon.test</span>", page.text)


async def test_a_walk_in_for_a_known_customer_is_booked_for_them() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        answer = await desk.client.post(
            "/staff/new",
            data={"csrf": token, "service": "manicure", "staff": "anna", "day": "2026-12-09",
                  "at": "09:00", "customer": "1", "q": "olga"},
        )  # fmt: skip
        assert answer.status_code == 303
        assert desk.customers.owner_of[3] == 1


async def test_a_walk_in_at_a_taken_time_offers_nearby_times_that_book_in_one_click() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        form = {"csrf": token, "service": "manicure", "staff": "anna", "day": "2026-12-08",
                "at": "11:00", "customer": "new", "name": "Eve Adams", "phone": ""}  # fmt: skip
        taken = await desk.client.post("/staff/new", data={**form, "at": "10:30"})
        assert taken.status_code == 409
        assert "That time is no longer free." in taken.text
        slots = re.findall(r'name="slot" value="([^"]+)"', taken.text)
        assert slots
        assert all(s.startswith("anna 2026-12-08 ") for s in slots)
        assert 'value="Eve Adams"' in taken.text  # the customer stays typed
        assert sum(len(bs) for bs in desk.calendar.bookings.values()) == 2
        picked = await desk.client.post("/staff/new", data={**form, "slot": slots[0]})
        assert picked.status_code == 303


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"service": ""}, 422, "Choose a service."),
        ({"service": "massage"}, 422, "There is no such service."),
        ({"day": "2026-02-30"}, 422, "Enter a date as YYYY-MM-DD."),
        ({"at": "9am"}, 422, "Enter a time as HH:MM."),
        ({"name": "   "}, 422, "Enter the customer's name."),
        ({"name": "x" * 101}, 422, "The name is too long."),
        ({"phone": "call me"}, 422, "A phone number needs digits."),
        ({"customer": "abc"}, 422, "Choose a customer or add a new one."),
        ({"customer": "999"}, 404, "There is no such customer."),
        ({"day": "2026-12-13"}, 409, "That time cannot be booked"),  # a Sunday
        ({"staff": "nobody"}, 422, "There is no such staff member."),
    ],
)
async def test_a_refused_walk_in_says_why_and_books_nothing(
    fields: dict[str, str], status: int, message: str
) -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        form = {"csrf": token, "service": "manicure", "staff": "anna", "day": "2026-12-09",
                "at": "12:00", "customer": "new", "name": "Eve Adams", "phone": ""}  # fmt: skip
        answer = await desk.client.post("/staff/new", data={**form, **fields})
        assert answer.status_code == status
        assert message in html.unescape(answer.text)
        assert sum(len(bs) for bs in desk.calendar.bookings.values()) == 2
        assert len(desk.customers.cards) == 2


async def test_a_staff_member_books_walk_ins_only_with_themselves() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk, STAFF)
        page = await desk.client.get("/staff/new?service=haircut&day=2026-12-09")
        assert '<option value="maria" selected>Maria</option>' in page.text
        assert 'value="anna"' not in page.text
        assert "Anyone free" not in page.text
        form = {"csrf": token, "service": "haircut", "day": "2026-12-09", "at": "12:00",
                "customer": "new", "name": "Eve Adams"}  # fmt: skip
        refused = await desk.client.post("/staff/new", data={**form, "staff": "anna"})
        assert refused.status_code == 403
        assert "Your role does not allow this" in refused.text
        booked = await desk.client.post("/staff/new", data={**form, "staff": ""})
        assert booked.status_code == 303
        assert any(b.id == 3 for b in desk.calendar.bookings["maria"])


async def test_without_a_service_menu_the_service_is_typed() -> None:
    async with staff_desk(menu=False) as desk:
        await _signed(desk)
        page = await desk.client.get("/staff/new?service=manicure&day=2026-12-09")
        assert '<input id="service" name="service" required maxlength="100" value="manicure">' in (
            page.text
        )
        assert '<option value="09:00">09:00</option>' in page.text


# Time off.


async def test_time_off_is_added_shown_and_removed() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        added = await desk.client.post(
            "/staff/time-off/anna/2026-12-09",
            data={"csrf": token, "from_day": "2026-12-09", "from_at": "12:00",
                  "to_day": "2026-12-09", "to_at": "14:00", "reason": "Dentist"},
        )  # fmt: skip
        assert added.status_code == 303
        assert added.headers["location"] == "/staff/time-off/anna/2026-12-09?done=time_off_added"
        page = await desk.client.get(added.headers["location"])
        assert "The time off is added." in page.text
        assert "12:00</time>–<time" in page.text
        assert "Dentist" in page.text
        week = await desk.client.get("/staff/week/anna/2026-12-09")
        assert '<div class="shade time_off' in week.text
        removed = await desk.client.post(
            "/staff/time-off/anna/2026-12-09/remove", data={"csrf": token, "id": "1"}
        )
        assert removed.status_code == 303
        page = await desk.client.get(removed.headers["location"])
        assert "The time off is removed." in page.text
        assert "No time off this week." in page.text


async def test_time_off_over_a_booking_is_refused_with_the_booking_linked() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        answer = await desk.client.post(
            "/staff/time-off/anna/2026-12-08",
            data={"csrf": token, "from_day": "2026-12-08", "from_at": "09:00",
                  "to_day": "2026-12-08", "to_at": "18:00", "reason": ""},
        )  # fmt: skip
        assert answer.status_code == 409
        assert "There are bookings in that time" in answer.text
        assert '<a href="/staff/booking/1">Booking #1</a>' in answer.text
        assert desk.desk.time_offs == {}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"to_at": "11:00"}, "The end must come after the start."),
        ({"from_day": "2026-12-32"}, "Enter a date as YYYY-MM-DD."),
        ({"to_at": ""}, "Enter a time as HH:MM."),
        ({"reason": "x" * 501}, "The reason is too long."),
    ],
)
async def test_a_refused_time_off_says_why(fields: dict[str, str], message: str) -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        form = {"csrf": token, "from_day": "2026-12-09", "from_at": "12:00",
                "to_day": "2026-12-09", "to_at": "14:00"}  # fmt: skip
        answer = await desk.client.post("/staff/time-off/anna/2026-12-09", data={**form, **fields})
        assert answer.status_code == 422
        assert message in html.unescape(answer.text)
        assert desk.desk.time_offs == {}


async def test_a_staff_member_changes_only_their_own_time_off() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk, STAFF)
        page = await desk.client.get("/staff/time-off/anna/2026-12-09")
        assert page.status_code == 200
        assert "Only the owner or this staff member can change their time off." in page.text
        form = {"csrf": token, "from_day": "2026-12-09", "from_at": "12:00",
                "to_day": "2026-12-09", "to_at": "14:00"}  # fmt: skip
        refused = await desk.client.post("/staff/time-off/anna/2026-12-09", data=form)
        assert refused.status_code == 403
        assert desk.desk.time_offs == {}
        own = await desk.client.post("/staff/time-off/maria/2026-12-09", data=form)
        assert own.status_code == 303
        missing = await desk.client.post(
            "/staff/time-off/maria/2026-12-09/remove", data={"csrf": token, "id": "7"}
        )
        assert missing.status_code == 404
        assert "That time off is no longer there." in missing.text


# Customers.


async def test_customers_are_found_by_name_or_phone_and_show_their_visits() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        by_name = await desk.client.get("/staff/customers?q=OLGA")
        assert '<a href="/staff/customers/1">Olga Petrova</a>' in by_name.text
        by_phone = await desk.client.get("/staff/customers?q=160 111")
        assert '<a href="/staff/customers/2">Jonas Weber</a>' in by_phone.text
        nobody = await desk.client.get("/staff/customers?q=zzz")
        assert "No customer found." in nobody.text
        await desk.client.post(
            BOOKING + "/mark", data={"csrf": token, "version": "1", "outcome": "no_show"}
        )
        card = await desk.client.get("/staff/customers/1")
        assert card.status_code == 200
        assert '<dd class="no_shows">1</dd>' in card.text
        assert '<dd class="completed">0</dd>' in card.text
        assert 'href="/staff/booking/1"' in card.text
        assert "Classic manicure" in card.text


async def test_a_search_too_long_is_told_so() -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        answer = await desk.client.get("/staff/customers?q=" + "a" * 5000)
        assert answer.status_code == 422
        assert "The search is too long." in answer.text


# What the calendar pages give staff.js.


async def test_the_day_view_links_each_block_and_names_its_day_for_the_scripts() -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        page = (await desk.client.get("/staff/day/2026-12-08")).text
        assert '<main class="grid-page" data-days="2026-12-08">' in page
        assert '<a class="open" href="/staff/booking/1">' in page
        assert '<a data-swap href="/staff/day/2026-12-09" rel="next">' in page
        assert '<dialog id="booking-dialog"' in page
        assert '<script src="/staff/static/staff.js" defer></script>' in page
        assert 'data-new="/staff/new?staff=maria"' in page
        # The day view's rows count real time from the grid's first instant (UTC).
        assert 'data-step="15" data-first="09:00" data-top="2026-12-08T08:00:00+00:00"' in page
        week = (await desk.client.get("/staff/week/anna/2026-12-10")).text
        days = " ".join(f"2026-12-{n:02d}" for n in range(7, 14))
        assert f'data-staff="anna" data-days="{days}"' in week
        assert 'href="/staff/time-off/anna/2026-12-07"' in week
        assert "data-top" not in week  # the week's rows are the wall clock
        script = await desk.client.get("/staff/static/staff.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert "salonbot:changed" in script.text


async def test_the_action_pages_speak_the_users_language() -> None:
    async with staff_desk() as desk:
        await desk.sign_in("anna@salon.test", PASSWORD)
        page = await desk.client.get(BOOKING)
        assert "Запись №1" in page.text
        assert "Перенести запись" in page.text
        form = await desk.client.get("/staff/new")
        assert "Новая запись" in form.text
        token = CSRF.search(page.text)
        assert token is not None
        refused = await desk.client.post(
            HELD + "/cancel", data={"csrf": token.group(1), "version": "3"}
        )
        assert refused.status_code == 403
        assert "Ваша роль этого не позволяет" in refused.text
