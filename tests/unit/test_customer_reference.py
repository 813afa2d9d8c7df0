"""Who ``salonbot customer forget`` is told to forget: an id, a chat or a phone number."""

from __future__ import annotations

import pytest

from core.services.forget_customer import BadCustomerReference, CustomerReference


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("42", CustomerReference("42", customer_id=42)),
        (" 7 ", CustomerReference("7", customer_id=7)),
        (
            "telegram:123456789",
            CustomerReference("telegram:123456789", chat=("telegram", "123456789")),
        ),
        (
            "whatsapp:4915112345678",
            CustomerReference("whatsapp:4915112345678", chat=("whatsapp", "4915112345678")),
        ),
        ("terminal:local", CustomerReference("terminal:local", chat=("terminal", "local"))),
        ("+49 151 1234-567", CustomerReference("+49 151 1234-567", phone_digits="491511234567")),
        ("+1 (555) 010.9999", CustomerReference("+1 (555) 010.9999", phone_digits="15550109999")),
    ],
)
def test_a_customer_is_named_by_id_chat_or_phone(given: str, expected: CustomerReference) -> None:
    assert CustomerReference.parse(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "",
        "   ",
        "ada",
        "+49 abc",
        "+12",
        "Telegram:1",
        "telegram:",
        "telegram:a b",
        "1" * 19,
        "x" * 201,
        "٤٢",
    ],
)
def test_anything_else_is_a_clear_error(given: str) -> None:
    with pytest.raises(BadCustomerReference) as refused:
        CustomerReference.parse(given)
    assert "give their id" in str(refused.value)
    assert len(str(refused.value)) < 300
