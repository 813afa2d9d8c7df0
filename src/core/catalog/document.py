"""The whole catalog file as one document, checked across its sections and built into the
domain ``Catalog`` once, when it is validated.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from core.catalog.building import build_catalog
from core.catalog.cross_checks import cross_check
from core.catalog.limits import MAX_CATEGORIES, MAX_SERVICES, MAX_STAFF
from core.catalog.problems import CatalogError
from core.catalog.reminder_sections import (
    ClockTime,
    FollowUpDoc,
    RemindersDoc,
    check_reminders,
)
from core.catalog.sections import (
    CategoryDoc,
    PoliciesDoc,
    SalonDoc,
    ServiceDoc,
    StaffDoc,
    StrictModel,
)
from core.domain.catalog import Catalog


class CatalogDocument(StrictModel):
    """The whole file. Every instance is valid: validating one runs the checks across
    sections too (raising ``CatalogError`` with every problem) and builds its ``catalog``.
    """

    salon: SalonDoc
    policies: PoliciesDoc = PoliciesDoc()
    categories: list[CategoryDoc] = Field([], max_length=MAX_CATEGORIES)
    services: list[ServiceDoc] = Field(min_length=1, max_length=MAX_SERVICES)
    staff: list[StaffDoc] = Field(min_length=1, max_length=MAX_STAFF)
    reminders: RemindersDoc | None = None
    follow_up: FollowUpDoc | None = None
    staff_agenda_at: ClockTime | None = None

    _catalog: Catalog = PrivateAttr()

    @model_validator(mode="after")
    def _checked_and_built(self) -> CatalogDocument:
        # CatalogError is no ValueError, so pydantic lets it through as it is: the owner
        # gets every cross-section problem, not one wrapped validation error.
        problems = cross_check(self.salon, self.categories, self.services, self.staff)
        problems += check_reminders(self.reminders)
        if problems:
            raise CatalogError(problems)
        self._catalog = build_catalog(
            self.salon,
            self.policies,
            self.categories,
            self.services,
            self.staff,
            reminders=self.reminders,
            follow_up=self.follow_up,
            staff_agenda_at=self.staff_agenda_at,
        )
        return self

    @property
    def catalog(self) -> Catalog:
        """The domain catalog this document describes, built once when it was validated."""
        return self._catalog

    def canonical(self) -> dict[str, Any]:
        """The normalized JSON form: equal catalogs give equal documents.

        The optional sections of what is sent unasked, and a staff member's absent
        ``google_calendar``, are left out, so a catalog written before they existed keeps
        its stored form."""
        data = self.model_dump(mode="json", by_alias=True)
        for key in _LEFT_OUT_WHEN_ABSENT:
            if data[key] is None:
                del data[key]
        for member in data["staff"]:
            if member.get("google_calendar") is None:
                member.pop("google_calendar", None)
        return data


_LEFT_OUT_WHEN_ABSENT = ("reminders", "follow_up", "staff_agenda_at")
