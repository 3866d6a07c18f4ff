from __future__ import annotations

from app.errors import (
    AppError,
    Conflict,
    Forbidden,
    Gone,
    NotAuthenticated,
    NotFound,
    PaymentRequired,
    RateLimited,
    ValidationFailed,
)


def test_validation_failed_field_carries_its_field_message_and_params():
    exc = ValidationFailed.field("slug", "Use at most {n} characters", n=40)
    assert isinstance(exc, AppError)
    assert exc.status == 422 and exc.code == "validation"
    assert exc.extra == {
        "errors": [{"field": "slug", "message": "Use at most {n} characters", "params": {"n": 40}}]
    }


def test_errors_keep_detail_params_and_extra():
    exc = Conflict("The address {slug} is taken", slug="acme", extra={"field": "slug"})
    assert exc.detail == "The address {slug} is taken"
    assert exc.params == {"slug": "acme"} and exc.extra == {"field": "slug"}
    assert str(exc) == "The address {slug} is taken"
    bare = NotFound()
    assert bare.detail is None and bare.params == {} and bare.extra == {} and str(bare) == "Not found"


def test_status_codes_and_problem_codes_are_stable():
    expected = {
        NotAuthenticated: (401, "not-authenticated"),
        PaymentRequired: (402, "payment-required"),
        Forbidden: (403, "forbidden"),
        NotFound: (404, "not-found"),
        Conflict: (409, "conflict"),
        Gone: (410, "gone"),
        ValidationFailed: (422, "validation"),
        RateLimited: (429, "rate-limited"),
    }
    assert {cls: (cls.status, cls.code) for cls in expected} == expected
