from __future__ import annotations

import pytest

from app.accounts.service import check_password_strength, normalize_email
from app.errors import ValidationFailed


def _error(exc: ValidationFailed) -> dict[str, object]:
    (error,) = exc.extra["errors"]
    return error


@pytest.mark.parametrize(
    "password", ["Correct-Horse-42", "long enough passphrase 7", "Zhang-San-2026!", "密码-Secure-9"]
)
def test_strong_passwords_pass(password):
    assert check_password_strength(password) is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sh0rt!", "Use at least {n} characters"),
        ("Abcdefg1!", "Use at least {n} characters"),  # 9 characters
        ("x" * 257, "Use at most {n} characters"),
        ("aaaaaaaaaaaa", "This password is too easy to guess"),  # one character class
        ("abcdefghijkl", "This password is too easy to guess"),
        ("1234567890", "This password is too easy to guess"),
        ("aaaaaBBBBB11", "This password is too easy to guess"),  # too few distinct characters
        ("Password", "Use at least {n} characters"),
        ("qwertyuiop", "This password is too easy to guess"),
    ],
)
def test_weak_passwords_are_refused(password, message):
    with pytest.raises(ValidationFailed) as info:
        check_password_strength(password)
    error = _error(info.value)
    assert error["field"] == "password" and error["message"] == message


def test_common_passwords_are_refused_whatever_the_case():
    for password in ("1234567890", "QWERTYUIOP", "Qwertyuiop"):
        with pytest.raises(ValidationFailed):
            check_password_strength(password)


def test_the_field_name_can_be_chosen():
    with pytest.raises(ValidationFailed) as info:
        check_password_strength("short", field="new_password")
    assert _error(info.value)["field"] == "new_password"
    assert _error(info.value)["params"] == {"n": 10}


def test_normalize_email():
    assert normalize_email("  Zhang.San@Example.COM ") == "zhang.san@example.com"
    assert normalize_email("a+tag@sub.example.cn") == "a+tag@sub.example.cn"


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plain",
        "no-at.example.com",
        "a@b",
        "a@b.c",
        "two@@example.com",
        "sp ace@example.com",
        "a@exa mple.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 320 + ".com",
    ],
)
def test_invalid_emails_are_refused(email):
    with pytest.raises(ValidationFailed) as info:
        normalize_email(email)
    assert _error(info.value)["field"] == "email"
    with pytest.raises(ValidationFailed) as info:
        normalize_email(email, field="invitee")
    assert _error(info.value)["field"] == "invitee"
