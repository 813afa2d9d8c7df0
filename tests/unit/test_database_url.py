"""``asyncpg_url``: the DATABASE_URL people paste from their host, in the form asyncpg takes."""

from __future__ import annotations

import inspect

import asyncpg
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import dialect
from sqlalchemy.engine import make_url

from salonbot.database import asyncpg_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://salon:s3cret@db.example:5432/salon",
            "postgresql+asyncpg://salon:s3cret@db.example:5432/salon",
        ),
        ("postgres://salon@db.example/salon", "postgresql+asyncpg://salon@db.example/salon"),
        (
            "postgresql://salon:s3cret@db.example/salon?sslmode=require",
            "postgresql+asyncpg://salon:s3cret@db.example/salon?ssl=require",
        ),
        (
            "postgresql://salon@db.example/salon?application_name=bot&sslmode=verify-full",
            "postgresql+asyncpg://salon@db.example/salon?application_name=bot&ssl=verify-full",
        ),
        (
            "postgresql+asyncpg://salon@db.example/salon?sslmode=disable",
            "postgresql+asyncpg://salon@db.example/salon?ssl=disable",
        ),
        (
            "postgresql://postgres:@/salonbot?host=/tmp/pg%20sock&sslmode=prefer",
            "postgresql+asyncpg://postgres:@/salonbot?host=/tmp/pg%20sock&ssl=prefer",
        ),
        (
            "postgresql://postgres:@/salonbot?host=/var/run/postgresql",
            "postgresql+asyncpg://postgres:@/salonbot?host=/var/run/postgresql",
        ),
        (
            "postgresql://salon@db.example/salon?sslmode=disable&ssl=require",
            "postgresql+asyncpg://salon@db.example/salon?ssl=require",
        ),
    ],
    ids=[
        "plain",
        "postgres scheme",
        "sslmode",
        "sslmode after another parameter",
        "already asyncpg",
        "socket dir with sslmode",
        "socket dir alone",
        "explicit ssl wins",
    ],
)
def test_libpq_sslmode_becomes_asyncpgs_ssl_and_the_rest_is_kept(url: str, expected: str) -> None:
    assert asyncpg_url(url) == expected


@pytest.mark.parametrize(
    "mode", ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
)
def test_sqlalchemy_hands_asyncpg_an_ssl_keyword_it_accepts(mode: str) -> None:
    url = make_url(asyncpg_url(f"postgresql://salon:s3cret@db.example/salon?sslmode={mode}"))

    _, keywords = dialect().create_connect_args(url)

    # What SQLAlchemy will call asyncpg.connect() with: an unknown keyword is a TypeError.
    inspect.signature(asyncpg.connect).bind(**keywords)
    assert keywords["ssl"] == mode
