"""Fixtures the channel tests share: a fake Bot API and the demo salon over empty tables.

A test module may define its own ``fake`` (the fakes' own tests run them on a manual clock).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from salonbot.bootstrap import Salonbot
from tests.adapters.telegram_harness import demo_app
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def demo(clean_engine: AsyncEngine) -> Salonbot:
    return await demo_app(clean_engine)
