"""Upload validation of .docx templates: every kind of bad file is rejected with findings that say
what and where; the default templates and harmless extras (web hyperlinks) pass."""

from __future__ import annotations

import pytest

from app.documents import kinds
from app.documents.rendering import default_template_path
from app.documents.validation import MAX_FILE, Finding, validate_template
from tests.unit import docx_cases as cases

GOOD = ["{{ party_a.full_name }}", "{{ contract.number }}"]


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
@pytest.mark.parametrize("locale", kinds.LOCALES)
def test_every_default_template_passes_its_own_validation(kind: str, locale: str) -> None:
    assert validate_template(default_template_path(kind, locale).read_bytes(), kind) == []


def test_a_default_template_fails_as_another_kind() -> None:
    findings = validate_template(default_template_path("contract", "en").read_bytes(), "handover")
    assert "unknown-variable" in codes(findings)
    assert {"party_a", "contract", "lines"} <= {f.params["name"] for f in findings}


def test_a_simple_valid_template_and_a_web_hyperlink_pass() -> None:
    assert validate_template(cases.with_hyperlink(cases.docx_with(GOOD)), "contract") == []


def test_not_a_docx() -> None:
    assert codes(validate_template(b"%PDF-1.7 not a zip", "contract")) == {"not-docx"}
    no_document = cases.rewrite(cases.docx_with(GOOD), lambda n, c: None if n == "word/document.xml" else c)
    assert codes(validate_template(no_document, "contract")) == {"not-docx"}


def test_too_large() -> None:
    findings = validate_template(b"PK" + b"\0" * MAX_FILE, "contract")
    assert codes(findings) == {"too-large"} and findings[0].params["limit"] == 10


def test_zip_bomb_is_refused_without_unpacking() -> None:
    bomb = cases.zip_bomb(cases.docx_with(GOOD))
    assert len(bomb) < MAX_FILE
    findings = validate_template(bomb, "contract")
    assert codes(findings) == {"too-large-unpacked", "compression-ratio"}
    assert next(f for f in findings if f.code == "compression-ratio").part == "word/media/bomb.bin"


def test_macros_are_refused() -> None:
    findings = validate_template(cases.with_macro(cases.docx_with(GOOD)), "contract")
    assert codes(findings) == {"macro"} and findings[0].part == "word/vbaProject.bin"


@pytest.mark.parametrize(
    ("build", "needle"),
    [
        (cases.with_remote_image, "image: http://tracker.example.com/pixel.png"),
        (cases.with_attached_template, "attachedTemplate: file://evil.example.com/share/normal.dotm"),
    ],
)
def test_external_references_are_refused(build: object, needle: str) -> None:
    findings = validate_template(build(cases.docx_with(GOOD)), "contract")  # type: ignore[operator]
    assert codes(findings) == {"external-reference"}
    assert findings[0].params["target"] == needle


def test_fields_loading_external_content_are_refused() -> None:
    findings = validate_template(cases.with_include_picture(cases.docx_with(GOOD)), "contract")
    assert codes(findings) == {"external-field"} and findings[0].params["field"] == "INCLUDEPICTURE"


def test_bad_jinja_syntax_names_the_paragraph() -> None:
    findings = validate_template(
        cases.docx_with(["Intro", "{{ party_a.full_name }}", "{% if x %}no end"]), "contract"
    )
    assert codes(findings) == {"jinja-syntax"}
    assert findings[0].part == "word/document.xml" and findings[0].paragraph is not None
    assert "endif" in findings[0].params["error"] or "end of template" in findings[0].params["error"]


def test_unknown_variables_are_listed_with_part_and_paragraph() -> None:
    data = cases.docx_with(
        [
            "标题",
            "{{ party_a.full_name }}",
            "{{ party_a.fax }}",
            "{{ customer_vip }}",
            "{%tr for line in lines %}",
            "{{ line.product }} {{ line.colour }}",
            "{%tr endfor %}",
        ]
    )
    findings = validate_template(data, "contract")
    found = {(f.params["name"], f.paragraph) for f in findings}
    assert codes(findings) == {"unknown-variable"}
    assert found == {("party_a.fax", 2), ("customer_vip", 3), ("lines[].colour", 5)}
    assert all(f.part == "word/document.xml" for f in findings)


def test_loop_and_set_variables_are_known_inside_their_scope() -> None:
    data = cases.docx_with(
        [
            "{% for m in milestones %}{{ m.percent }} {{ loop.index }}{% endfor %}",
            "{% set t = totals.total %}{{ t }}",
            "{{ lines|length }} {{ lines[0].amount }}",
        ]
    )
    assert validate_template(data, "contract") == []


def test_tags_split_across_runs_are_reported() -> None:
    data = cases.docx_with(
        ["ok {{ contract.date }}", ["甲方：{{ party_a.", "full_name }}"], ["{", "{ totals.total }}"]]
    )
    findings = validate_template(data, "contract")
    assert codes(findings) == {"split-tag"}
    assert [(f.paragraph, f.params["tag"]) for f in findings] == [
        (1, "{{ party_a.full_name }}"),
        (2, "{{ totals.total }}"),
    ]


def test_unclosed_tag_in_a_paragraph_is_reported() -> None:
    findings = validate_template(cases.docx_with(["{{ party_a.full_name", "}}"]), "contract")
    assert codes(findings) == {"unclosed-tag"} and findings[0].paragraph == 0


def test_dunder_attributes_are_refused() -> None:
    findings = validate_template(
        cases.docx_with(["{{ ''.__class__.__mro__ }}", "{{ party_a.__dict__ }}"]), "contract"
    )
    assert codes(findings) == {"unsafe-attribute"}
    assert {f.paragraph for f in findings} == {0, 1}


def test_template_bombs_certain_from_the_template_alone_are_refused_at_upload() -> None:
    nested = ["{% for a in range(100000) %}", "{% for b in range(100000) %}{% endfor %}", "{% endfor %}"]
    findings = validate_template(cases.docx_with(nested), "contract")  # read, never run
    assert [(f.code, f.paragraph, f.params["count"]) for f in findings] == [
        ("too-many-iterations", 1, 100000 + 100000 * 100000)
    ]
    findings = validate_template(cases.docx_with(["{{ 'x' * 200000000 }}"]), "contract")
    assert [(f.code, f.params["count"], f.params["limit"]) for f in findings] == [
        ("value-too-large", 200000000, 5000000)
    ]
    one_after_another = ["{% for a in range(60000) %}{% endfor %}", "{% for b in 'ab' * 30000 %}{% endfor %}"]
    assert codes(validate_template(cases.docx_with(one_after_another), "contract")) == {"too-many-iterations"}
    assert codes(validate_template(cases.docx_with(["{{ party_a.full_name * 9000000 }}"]), "contract")) == {
        "value-too-large"
    }


def test_loops_and_products_that_depend_on_the_data_or_stay_small_pass() -> None:
    fine = [
        "{% for line in lines %}{% for i in range(3) %}{{ line.product }}{% endfor %}{% endfor %}",
        "{% for i in range(10, 0, -3) %}{{ i }}{% endfor %}{{ '-' * 40 }}{{ 3 * 100000000 }}",
        "{% for i in range(99000) %}{% endfor %}",
    ]
    assert validate_template(cases.docx_with(fine), "contract") == []
