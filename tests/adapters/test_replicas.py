"""Two ``salonbot serve`` processes on one database against the fake Bot API, which counts
what it is sent: both take webhooks and handle events; the one leading Telegram sends
every reply once, within Telegram's limits (no second over them, no 429 from the fake's
own buckets); a leader killed (SIGKILL) while holding claimed replies is replaced within
10 s and nothing is lost or sent twice; in long polling only the leader polls, and a
leader that freezes (SIGSTOP) is replaced and, woken, sends nothing."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.conversation.messages import Reply
from core.db.outbox_repository import OutboxRepository
from core.db.unit_of_work import UnitOfWorkFactory
from salonbot.database import make_engine
from tests.adapters.telegram_harness import eventually
from tests.adapters.test_serve_process import ROOT, SALONBOT, _env, _free_port, _load_demo
from tests.adapters.test_serve_process import _wait_ready as _ready
from tests.db_state import rows
from tests.fakes.telegram_api import FakeTelegram, busiest_second
from tests.waiting import settled

ROLE = "channel:telegram"
SECRET = "replica_secret-1"
# The pacing salonbot keeps (Pacing()): 28/s after a burst of 2 for the bot, 1/s after a
# burst of 2 per chat; Telegram's limits: 30 a second, about one a second per chat.
MOST_A_SECOND, MOST_A_SECOND_PER_CHAT = 30, 3


@dataclass
class Replica:
    process: asyncio.subprocess.Process
    port: int
    log: Path

    def events(self) -> list[dict[str, Any]]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]

    def said(self, event: str, **fields: object) -> bool:
        return any(
            e["event"] == event and all(e.get(k) == v for k, v in fields.items())
            for e in self.events()
        )

    def leads(self) -> bool:
        """It took the lead of Telegram at some time (its log says so)."""
        return self.said("leading", role=ROLE)

    async def post(self, update: dict[str, Any]) -> int:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(
                f"http://127.0.0.1:{self.port}/webhooks/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
        return answer.status_code


@asynccontextmanager
async def replicas(env: dict[str, str], tmp_path: Path) -> AsyncIterator[tuple[Replica, Replica]]:
    """Two ``serve`` processes on ``env``'s database, ready; killed at the end whatever
    state they are in (a stopped process too)."""
    started: list[Replica] = []
    async with AsyncExitStack() as files:
        try:
            for name in ("one", "two"):
                port, log = _free_port(), tmp_path / f"{name}.log"
                out = files.enter_context(log.open("wb"))
                process = await asyncio.create_subprocess_exec(
                    str(SALONBOT), "serve", env={**env, "PORT": str(port)}, cwd=ROOT, stderr=out
                )
                started.append(Replica(process, port, log))
            await asyncio.gather(*(_ready(r.port) for r in started))
            yield started[0], started[1]
        finally:
            for replica in started:
                if replica.process.returncode is None:
                    replica.process.kill()
                    await replica.process.wait()


async def leader_and_follower(pair: tuple[Replica, Replica]) -> tuple[Replica, Replica]:
    leader: Replica = await eventually(
        lambda: next((r for r in pair if r.leads()), None), within=30
    )
    return leader, pair[1] if leader is pair[0] else pair[0]


async def queue(engine: AsyncEngine, messages: Sequence[tuple[int, str]]) -> None:
    """Replies waiting in the outbox, as ``converse`` leaves them (one chat after another)."""
    async with UnitOfWorkFactory(engine)() as uow:
        outbox = OutboxRepository(uow.connection)
        for chat, said in messages:
            await outbox.add("telegram", str(chat), [Reply(said)], datetime.now(UTC))
        await uow.commit()


async def claims_held(engine: AsyncEngine) -> int:
    """Sessions holding claimed outbox rows (``FOR UPDATE``: a row-share lock on the table)."""
    async with engine.connect() as connection:
        count = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE l.database = (SELECT oid FROM pg_database"
                "                      WHERE datname = current_database())"
                " AND c.relname = 'outbound_messages' AND l.mode = 'RowShareLock'"
                " AND l.pid <> pg_backend_pid()"
            )
        )
    return int(count or 0)


async def all_sent(engine: AsyncEngine) -> bool:
    return not await rows(engine, "SELECT 1 FROM outbound_messages WHERE status <> 'sent'")


def within_telegrams_limits(fake: FakeTelegram, refused_on_purpose: int = 0) -> None:
    """No second over the limits, counted from what the fake took; and no call refused by
    the fake's own buckets (a 429 the test did not inject)."""
    assert fake.requests["sendMessage"] == len(fake.sent) + refused_on_purpose
    assert busiest_second([m.at for m in fake.sent]) <= MOST_A_SECOND
    for chat in {m.chat_id for m in fake.sent}:
        times = [m.at for m in fake.messages_to(chat)]
        assert busiest_second(times) <= MOST_A_SECOND_PER_CHAT, chat


async def each_sent_once(engine: AsyncEngine, fake: FakeTelegram) -> None:
    """Every outbox row sent, and the fake took exactly one message per row."""
    recorded = await rows(
        engine, "SELECT chat_id, platform_message_id FROM outbound_messages WHERE status='sent'"
    )
    assert len(recorded) == len(await rows(engine, "SELECT 1 FROM outbound_messages"))
    delivered = Counter((str(m.chat_id), str(m.message_id)) for m in fake.sent)
    assert delivered == Counter((chat, platform_id) for chat, platform_id in recorded)


async def test_two_replicas_share_the_work_and_a_killed_leader_is_replaced_losing_nothing(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)
    engine = make_engine(url, pool_size=2)
    async with FakeTelegram() as fake:
        env = _env(
            url,
            tmp_path,
            fake,
            0,
            PUBLIC_BASE_URL="https://salon.example.com",
            TELEGRAM_WEBHOOK_SECRET=SECRET,
        )
        await _load_demo(env)
        try:
            async with replicas(env, tmp_path) as pair:
                leader, follower = await leader_and_follower(pair)
                # Webhooks on both; each process handles events.
                customers = range(7001, 7021)
                for n, customer in enumerate(customers):
                    assert await pair[n % 2].post(fake.text_update(customer, "/start")) == 200
                await eventually(lambda: all(fake.messages_to(c) for c in customers), within=30)
                assert all(r.said("inbound handled", channel="telegram") for r in pair)

                # A burst: 2 replies to each of 50 chats, 4 to one chat.
                burst = [(8000 + n, f"notice {k} to {8000 + n}") for k in (1, 2) for n in range(50)]
                burst += [(9000, f"news {k}") for k in range(4)]
                await queue(engine, burst)
                before = len(fake.sent)
                await eventually(lambda: len(fake.sent) >= before + 20, within=10)
                # The leader's sends are held on their way (Telegram never sees them),
                # its lanes holding the replies they claimed; killed then.
                fake.hold_sends()
                await eventually(lambda: fake.held >= 1, within=5)
                claimed = await claims_held(engine)
                sent_before_kill = len(fake.sent)
                leader.process.kill()
                killed_at = time.monotonic()
                await leader.process.wait()
                await eventually(lambda: fake.held == 0, within=5)  # their clients are gone
                fake.release_sends()
                assert claimed >= 1
                assert len(fake.sent) == sent_before_kill  # nothing reached Telegram

                await eventually(lambda: len(fake.sent) > sent_before_kill, within=15)
                replaced_within = fake.sent[sent_before_kill].at - killed_at
                # The replies the killed leader was sending wait out their sending mark
                # (35 s: a new leader cannot tell a dead sender from a cut-off one).
                await eventually(lambda: all_sent(engine), within=60)
                assert follower.leads()

                # The survivor takes webhooks and answers alone.
                assert await follower.post(fake.text_update(7100, "/start")) == 200
                await eventually(lambda: fake.messages_to(7100), within=15)
                await settled(engine, within=15)
                follower.process.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(follower.process.wait(), 30) == 0
        finally:
            await engine.dispose()
        assert replaced_within < 10.0
        sent = Counter((m.chat_id, m.text) for m in fake.sent)
        assert all(sent[message] == 1 for message in burst)
        within_telegrams_limits(fake)
        engine = make_engine(url, pool_size=1)
        try:
            await each_sent_once(engine, fake)
        finally:
            await engine.dispose()


async def test_in_long_polling_only_the_leader_polls_and_a_frozen_one_is_replaced(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)
    engine = make_engine(url, pool_size=2)
    async with FakeTelegram() as fake:
        env = _env(url, tmp_path, fake, 0)
        await _load_demo(env)
        try:
            async with replicas(env, tmp_path) as pair:
                leader, follower = await leader_and_follower(pair)
                for customer in range(7001, 7006):
                    fake.queue_update(fake.text_update(customer, "/start"))
                await eventually(
                    lambda: all(fake.messages_to(c) for c in range(7001, 7006)), within=30
                )
                await settled(engine, within=15)
                assert not fake.conflicts  # one poller, however many processes

                leader.process.send_signal(signal.SIGSTOP)  # hung: alive, its sessions open
                frozen_at = time.monotonic()
                fake.queue_update(fake.text_update(7006, "/start"))
                [answer] = await eventually(lambda: fake.messages_to(7006), within=20)
                replaced_within = answer.at - frozen_at
                assert follower.leads()

                leader.process.send_signal(signal.SIGCONT)
                await eventually(lambda: leader.said("leadership lost", role=ROLE), within=10)
                fake.queue_update(fake.text_update(7007, "/start"))
                await eventually(lambda: fake.messages_to(7007), within=15)
                await settled(engine, within=15)
                await each_sent_once(engine, fake)
        finally:
            await engine.dispose()
    # The silent session ended after 8 s, the lock taken within 1 s, then 1 s settling.
    assert replaced_within < 12.0
    within_telegrams_limits(fake)
    # At most: the new poller ending the frozen one's poll, and the woken one's last poll.
    assert fake.conflicts["getUpdates"] <= 2
