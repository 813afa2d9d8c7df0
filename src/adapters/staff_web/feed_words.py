"""The calendar feed page's words, in the staff user's language (``words.PageWords`` and
these)."""

from __future__ import annotations

from adapters.staff_web.words import PageWords
from core.i18n.catalogs import translations


class FeedWords(PageWords):
    def __init__(self, language: str) -> None:
        super().__init__(language)
        _ = translations(self.language).gettext
        self._feed_title = _("Calendar feed: %(name)s")
        self._feed_explain = _(
            "Subscribe to this link in your phone's calendar app to see %(name)s's visits "
            "there, kept up to date."
        )
        self.feed_private = _(
            "Anyone who has the link can read the visits (the service and the customer's "
            "first name): keep it to yourself."
        )
        self.feed_replaces = _("A new link replaces the old one, which stops working.")
        self.feed_make = _("Make a new link")
        self.feed_made = _("The new link, shown only this once: copy it now.")
        self._feed_not_allowed = _("Only the owner or %(name)s can make this link.")
        self.feed_back = _("Back to the week")
        self.feed_stop = _("Stop the link")
        self.feed_stop_explain = _(
            "A lost phone, someone who left: stopping the link makes it open nothing, and "
            "no new one is made."
        )
        self.feed_stopped = _("The link is stopped: it opens nothing now.")
        self.feed_none = _("There was no link to stop.")

    def feed_title(self, name: str) -> str:
        return self._feed_title % {"name": name}

    def feed_explain(self, name: str) -> str:
        return self._feed_explain % {"name": name}

    def feed_not_allowed(self, name: str) -> str:
        return self._feed_not_allowed % {"name": name}
