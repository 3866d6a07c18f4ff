"""Customer spreadsheets without I/O: format sniffing, encoding detection, header mapping, row checks,
formula-injection neutralisation and the files written for export."""

from __future__ import annotations

import codecs
import io
import zipfile
from uuid import uuid4

import pytest
from openpyxl import Workbook, load_workbook

from app.customers import tabular
from app.customers.imports import columns as cols
from app.customers.imports.service import TOO_MANY_ROWS, FileProblem, check_file
from tenants.access import CustomerAccess

CHINESE = "客户全称,电话\r\n上海青禾软件有限公司,021-5555 0000\r\n"


# --- format and encoding --------------------------------------------------------------------------


def _zip(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return out.getvalue()


def _xlsx(rows: list[list[object]], write_only: bool = False) -> bytes:
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet() if write_only else workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_sniff_decides_by_content_not_by_name() -> None:
    assert tabular.sniff_format(CHINESE.encode("utf-8")) == "csv"
    assert tabular.sniff_format(CHINESE.encode("gbk")) == "csv"
    assert tabular.sniff_format(_xlsx([["客户全称"], ["某公司"]])) == "xlsx"
    for refused in (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        _zip("[Content_Types].xml", "word/document.xml"),  # a .docx renamed .csv
        b"PK\x03\x04 not really a zip",
        b"%PDF-1.7\n",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # an old .xls
        b"name\x00value\x00" * 20,
    ):
        with pytest.raises(tabular.NotSpreadsheet):
            tabular.sniff_format(refused)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (CHINESE.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + CHINESE.encode("utf-8"), "utf-8-sig"),
        (CHINESE.encode("gbk"), "gb18030"),
        (CHINESE.encode("gb18030") + "𠀀".encode("gb18030"), "gb18030"),
        (CHINESE.encode("utf-16"), "utf-16"),
        (b"name,phone\r\nACME,1\r\n", "utf-8"),
    ],
)
def test_detect_encoding(data: bytes, expected: str) -> None:
    assert tabular.detect_encoding(io.BytesIO(data)) == expected
    assert next(r for r in tabular.read_rows("csv", io.BytesIO(data)) if any(r))[0] in ("客户全称", "name")


def test_ascii_start_with_gbk_later_is_still_gbk() -> None:
    data = b"full_name\r\n" + b"ACME Ltd\r\n" * 200_000 + "青禾软件".encode("gbk") + b"\r\n"
    assert tabular.detect_encoding(io.BytesIO(data)) == "gb18030"
    assert list(tabular.read_rows("csv", io.BytesIO(data)))[-1] == ["青禾软件"]


def test_undecodable_text_is_refused() -> None:
    with pytest.raises(tabular.UnreadableText):
        tabular.detect_encoding(io.BytesIO(b"abc\xff\xfe\xfd\x80\x80"))


def test_csv_rows_keep_blank_lines_and_find_the_delimiter() -> None:
    data = "客户全称;电话\r\n\r\n甲公司;\r\n乙公司;  021-1 \r\n".encode()
    assert list(tabular.read_rows("csv", io.BytesIO(data))) == [
        ["客户全称", "电话"], [], ["甲公司", None], ["乙公司", "  021-1 "]
    ]  # fmt: skip


def test_xlsx_cells_come_back_as_text() -> None:
    data = _xlsx([["Full name", "Phone", "Headcount"], ["ACME", 13800138000, 12.0], [None, None, None]])
    assert list(tabular.read_rows("xlsx", io.BytesIO(data))) == [
        ["Full name", "Phone", "Headcount"], ["ACME", "13800138000", "12"], [None, None, None]
    ]  # fmt: skip


def test_check_file_counts_rows_against_the_limit() -> None:
    small = _xlsx([["客户全称"], ["甲"], ["乙"]])
    assert check_file("xlsx", small, max_rows=2).names == {"full_name": "客户全称"}
    for fmt, data in (
        ("xlsx", _xlsx([["客户全称"], ["甲"], ["乙"], ["丙"]], write_only=True)),  # no <dimension>: counted
        ("xlsx", _xlsx([["客户全称"], ["甲"], ["乙"], ["丙"]])),
        ("csv", "客户全称\r\n甲\r\n乙\r\n\r\n丙\r\n".encode()),
    ):
        with pytest.raises(FileProblem) as raised:
            check_file(fmt, data, max_rows=2)  # type: ignore[arg-type]
        assert (raised.value.message, raised.value.params) == (TOO_MANY_ROWS, {"max": 2})
    assert check_file("csv", "客户全称\r\n甲\r\n\r\n乙\r\n".encode(), max_rows=2).ignored == []


# --- headers and values ---------------------------------------------------------------------------


def test_headers_in_chinese_or_english_map_to_fields() -> None:
    found = cols.map_headers(
        ["客户全称*", "统一社会信用代码", "联系电话", "Address", "行业", "等级", "责任区域", "名单来源",
         "业务员", "备注", "全称", None, "Full_Name"]
    )  # fmt: skip
    assert found.columns == {
        0: "full_name", 1: "tax_id", 2: "phone", 3: "address", 4: "industry", 5: "grade",
        6: "territory", 7: "source", 8: "owner",
    }  # fmt: skip
    assert found.ignored == ["备注", "全称", "Full_Name"]  # unknown, or a second column for one field
    pairs = (("公司名称", "full_name"), ("税号", "tax_id"), ("客户等级", "grade"), ("区域", "territory"),
             ("来源", "source"), ("负责人", "owner"), ("Full name", "full_name"), ("TAX ID", "tax_id"),
             ("Owner email", "owner"))  # fmt: skip
    for header, field in pairs:
        assert cols.map_headers([header]).columns == {0: field}, header
    for locale in ("en", "zh-CN"):
        assert list(cols.map_headers(cols.headers(locale)).columns.values()) == list(cols.FIELDS)


def _rules(**overrides: object) -> cols.RowRules:
    sh, pd, nj = uuid4(), uuid4(), uuid4()
    rep, other = uuid4(), uuid4()
    defaults: dict[str, object] = dict(
        access=CustomerAccess(False, rep, frozenset(), frozenset({pd})),
        importer=rep,
        may_assign=False,
        territories=cols.TerritoryIndex.build(
            [(sh, None, "上海市"), (pd, sh, "浦东新区"), (nj, None, "浦东新区")]
        ),
        members=cols.MemberIndex.build(
            [(rep, "rep@example.com", "王伟", True), (other, "li@example.com", "李娜", True)]
        ),
        default_territory=None,
        default_owner_is_me=True,
        strip_apostrophes=True,
    )
    defaults.update(overrides)
    return cols.RowRules(**defaults)  # type: ignore[arg-type]


def test_a_good_row_is_normalised() -> None:
    rules = _rules()
    pd = rules.territories.find("上海市/浦东新区")[0]
    values, errors = cols.clean_row(
        {"full_name": " 上海青禾  软件有限公司 ", "tax_id": "9131 0115-ma1h7xxx1a", "grade": "a类",
         "source": "转介绍", "headcount": "1,200人", "it_status": "已用软件", "status": "成交",
         "territory": "上海市 / 浦东新区", "phone": "'+86 21 5555 0000"},
        rules,
    )  # fmt: skip
    assert errors == []
    assert (values["full_name"], values["tax_id"], values["grade"], values["source"]) == (
        "上海青禾 软件有限公司", "91310115MA1H7XXX1A", "A", "referral"
    )  # fmt: skip
    assert (values["headcount"], values["it_status"], values["status"]) == (1200, "uses_software", "won")
    assert values["territory_id"] == pd and values["owner_membership_id"] == rules.importer
    assert values["phone"] == "+86 21 5555 0000" and values["phone_digits"] == "862155550000"
    assert values["identity_key"] == "tax:91310115MA1H7XXX1A"


def test_bad_values_are_row_errors_with_their_column() -> None:
    _, errors = cols.clean_row(
        {"full_name": "长" * 10_000, "grade": "E", "source": "飞鸽传书", "headcount": "很多",
         "territory": "火星", "owner": "nobody@example.com", "tax_id": "123"},
        _rules(),
    )  # fmt: skip
    assert {(field, message) for field, message, _ in errors} == {
        ("full_name", "Use at most {n} characters"),
        ("tax_id", "A unified social credit code has 18 digits and capital letters"),
        ("grade", "Unknown grade {value}: use A, B, C or D"),
        ("source", "Unknown source {value}"),
        ("headcount", "Not a whole number: {value}"),
        ("territory", "No territory {value}"),
        ("owner", "No active member {value}"),
    }


def test_territories_by_unique_name_or_path_and_owners_by_email_or_name() -> None:
    rules = _rules(may_assign=True)
    _, errors = cols.clean_row({"full_name": "甲", "territory": "浦东新区"}, rules)
    assert [(f, m) for f, m, _ in errors] == [
        ("territory", "Several territories are called {value}: give its path, e.g. {path}")
    ]
    assert errors[0][2]["path"] in ("上海市/浦东新区", "浦东新区")
    values, errors = cols.clean_row(
        {"full_name": "甲", "territory": "上海市/浦东新区", "owner": "公海"}, rules
    )
    assert errors == [] and values["owner_membership_id"] is None
    values, _ = cols.clean_row({"full_name": "甲", "territory": "上海市/浦东新区", "owner": "王伟"}, rules)
    assert values["owner_membership_id"] == rules.importer
    values, _ = cols.clean_row(
        {"full_name": "甲", "territory": "上海市/浦东新区"}, _rules(default_owner_is_me=False)
    )
    assert values["owner_membership_id"] is None


def test_reps_cannot_give_customers_away_nor_work_other_territories() -> None:
    rules = _rules()
    _, errors = cols.clean_row(
        {"full_name": "甲", "territory": "上海市/浦东新区", "owner": "li@example.com"}, rules
    )
    assert [(f, m) for f, m, _ in errors] == [
        ("owner", "A rep can enter customers only for themselves or into the pool")
    ]
    _, errors = cols.clean_row({"full_name": "甲", "territory": "上海市"}, rules)
    assert [(f, m) for f, m, _ in errors] == [
        ("territory", "You can enter customers only in your own territories")
    ]
    manager = _rules(may_assign=True)  # works 浦东新区 but manages nothing
    _, errors = cols.clean_row({"full_name": "甲", "territory": "上海市/浦东新区", "owner": "李娜"}, manager)
    assert [f for f, _, _ in errors] == ["owner"]


# --- formula injection and writing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+86 21 5555 0000", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''+1"]
)
def test_dangerous_texts_are_prefixed_and_come_back_unchanged(text: str) -> None:
    out = tabular.neutralize(text)
    assert out == "'" + text
    assert tabular.unneutralize(out) == text


@pytest.mark.parametrize("text", ["上海青禾", "021-5555", "'quoted", "a=b", ""])
def test_safe_texts_are_left_alone(text: str) -> None:
    assert tabular.neutralize(text) == text and tabular.unneutralize(text) == text


def test_csv_has_a_bom_and_neutralised_cells() -> None:
    data = tabular.csv_bytes(
        [["客户全称", "电话"], ['=HYPERLINK("http://x")', "+86 21 5555 0000"], [None, 7]], bom=True
    )
    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig").splitlines() == [
        "客户全称,电话", '"\'=HYPERLINK(""http://x"")",\'+86 21 5555 0000', ",7"
    ]  # fmt: skip


def test_xlsx_texts_are_string_cells_with_a_quote_prefix_when_dangerous() -> None:
    data = tabular.xlsx_bytes(
        ["客户全称", "电话", "员工人数"], [['=HYPERLINK("http://x")', "+86 21 5555 0000", 12]]
    )
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    name, phone, headcount = sheet[2]
    assert (name.value, name.data_type, name.quotePrefix) == ('=HYPERLINK("http://x")', "s", True)
    assert (phone.value, phone.data_type, phone.quotePrefix) == ("+86 21 5555 0000", "s", True)
    assert (headcount.value, headcount.data_type) == (12, "n")
    assert sheet["A1"].quotePrefix is False
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")  # no formula anywhere


def test_labels_round_trip_through_the_value_parser() -> None:
    for locale in ("en", "zh-CN"):
        for code in ("event", "cold_visit", "referral", "trade_show", "upsell"):
            label = cols.label("source", code, locale)
            assert label is not None
            values, _ = cols.clean_row(
                {"full_name": "甲", "source": label}, _rules(default_territory=uuid4())
            )
            assert values["source"] == code, (locale, label)
    assert cols.label("source", "referral", "zh-CN") == "转介绍"


def test_row_errors_quote_long_values_shortly_and_punctuation_is_no_name() -> None:
    _, errors = cols.clean_row({"full_name": "---", "territory": "火" * 10_000}, _rules())
    assert [(f, m) for f, m, _ in errors] == [
        ("full_name", "Required"),
        ("territory", "No territory {value}"),
    ]
    assert errors[1][2]["value"] == "火" * 49 + "…"
