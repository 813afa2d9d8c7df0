"""Dismissing a calendar alert from the day page's "Google Calendar" notices:
``POST /staff/google/alerts/{id}/dismiss``.

The owner dismisses anyone's, a staff member their own (the desk refuses anyone else:
``NotAllowed``, a 403 page). An alert dismissed already (a second click, another tab) is
done all the same: back to the day. An id that is no id is the not-found page.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies.
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from adapters.staff_web.desk_words import DeskWords
from adapters.staff_web.forms import parse_id, signed_form
from adapters.staff_web.pages import parse_day
from adapters.staff_web.security import PREFIX
from adapters.staff_web.side import StaffSide
from core.calendar.desk import NotAllowed
from core.calendar.linked import AlertNotFound
from core.calendar.ports import SignedIn


def add_linked_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type

    @router.post("/google/alerts/{alert_id}/dismiss")
    async def dismiss(request: Request, signed: Session, alert_id: str) -> Response:
        """Dismiss one calendar alert, then back to the day the form was on."""
        fields = await signed_form(request, signed)
        words = DeskWords(signed.user.language)
        found = parse_id(alert_id)
        if found is None or side.linked is None:
            return side.page("not_found.html", words, 404)
        day = parse_day(fields.get("day", ""))
        try:
            await side.linked.dismiss(signed.user, found)
        except NotAllowed:
            return Response(words.not_allowed, 403)
        except AlertNotFound:
            pass
        target = f"{PREFIX}/day/{day.isoformat()}" if day is not None else f"{PREFIX}/"
        return RedirectResponse(target, status_code=303)
