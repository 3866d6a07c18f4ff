from __future__ import annotations

import uuid

import pytest

from app.credit_code import check_character, is_valid, is_well_formed, normalize
from app.customers.identity import (
    company_name_key,
    identity_key,
    phone_digits,
    search_query,
    search_text,
)
from app.territories import tree
from tenants.access import SUBTREE_END

SAME_COMPANY = [
    "上海青禾软件有限公司",
    "上海青禾软件有限责任公司",
    "上海青禾软件（有限公司）",
    "上海青禾软件股份有限公司",
    "上海青禾软件公司",
    "  上海 青禾 软件 有限公司 ",
    "上海青禾软件(有限公司)",
    "上海青禾软件集团有限公司",
]


@pytest.mark.parametrize("name", SAME_COMPANY)
def test_chinese_company_form_variants_share_one_key(name: str) -> None:
    assert company_name_key(name) == "上海青禾软件"


@pytest.mark.parametrize(
    "name",
    [
        "Qinghe Software Co., Ltd.",
        "QINGHE SOFTWARE CO.,LTD",
        "Qinghe Software Limited",
        "Qinghe Software Ltd",
        "Qinghe Software Inc.",
        "Qinghe Software Corp",
        "Qinghe Software LLC",
        "ＱＩＮＧＨＥ　Ｓｏｆｔｗａｒｅ　Ｃｏ．，Ｌｔｄ．",
        "qinghe-software co ltd",
    ],
)
def test_latin_suffixes_case_and_width_fold(name: str) -> None:
    assert company_name_key(name) == "qinghesoftware"


def test_full_width_letters_and_digits_fold_to_ascii() -> None:
    assert company_name_key("青禾３６０软件ＡＢＣ有限公司") == "青禾360软件abc"


def test_different_companies_keep_different_keys() -> None:
    assert company_name_key("上海青禾软件有限公司") != company_name_key("北京青禾软件有限公司")
    # a branch (分公司) is its own legal entity
    assert company_name_key("上海青禾软件有限公司南京分公司") != company_name_key("上海青禾软件有限公司")
    # a Latin suffix is stripped only as a whole trailing word
    assert company_name_key("Costco") == "costco"
    assert company_name_key("Disco Ltd") == "disco"


def test_a_name_that_is_only_a_suffix_is_not_emptied() -> None:
    assert company_name_key("有限公司") != ""
    assert company_name_key("Ltd") == "ltd"
    assert company_name_key("Co., Ltd.") == "co"


def test_identity_prefers_the_tax_id() -> None:
    assert identity_key("91310000MA1FL0XX1X", "上海青禾软件有限公司") == "tax:91310000MA1FL0XX1X"
    assert identity_key(" 9131-0000ma1fl0xx1x ", "随便") == "tax:91310000MA1FL0XX1X"
    assert identity_key(None, "上海青禾软件有限公司") == "name:上海青禾软件"
    assert identity_key("", "上海青禾软件（有限公司）") == "name:上海青禾软件"


def test_tax_id_normalisation_and_loose_validation() -> None:
    assert normalize("９１３１ 0000-ma1fl0xx1x") == "91310000MA1FL0XX1X"
    assert is_well_formed("91310000MA1FL0XX1X")
    assert not is_well_formed("91310000MA1FL0XX1")  # 17 characters
    assert not is_well_formed("91310000MA1FL0XX1XX")  # 19
    assert not is_well_formed("91310000MA1FL0OX1X")  # O is not in the code's alphabet
    assert not is_well_formed("9131A000MA1FL0XX1X")  # the region code is digits
    assert not is_well_formed("91310000MA1FL0XX1Z")  # Z neither


def test_credit_code_check_character() -> None:
    # published codes (a bank, a manufacturer, a government-registered example)
    for code in ("91110000802100433B", "91440300708461136T", "91350100M000100Y43"):
        assert is_valid(code) and check_character(code[:17]) == code[17]
    assert is_well_formed("91110000802100433C") and not is_valid("91110000802100433C")  # one off
    assert not is_valid("91110000802100433")  # too short to have a check character
    # every single-character typo in the first 17 changes the check character
    code = "91440300708461136T"
    for i in range(17):
        for char in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            typo = code[:i] + char + code[i + 1 :]
            if typo != code and is_well_formed(typo):
                assert not is_valid(typo), typo


def test_phone_digits() -> None:
    assert phone_digits("+86 (021) 6123-4567") == "8602161234567"
    assert phone_digits("１３９ １２３４ ５６７８") == "13912345678"
    assert phone_digits("n/a") is None
    assert phone_digits(None) is None


def test_search_text_matches_queries_in_the_same_form() -> None:
    text = search_text("上海青禾软件有限公司", "ＱＨ Soft")
    assert search_query("青禾 软件") in text
    assert search_query("qhsoft") in text
    assert search_query("ｑｈｓｏｆｔ") in text
    # no match across the two names
    assert search_query("公司qh") not in text


def test_materialized_path_helpers() -> None:
    root, child, grandchild = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    root_path = tree.child_path(None, root)
    child_path = tree.child_path(root_path, child)
    leaf_path = tree.child_path(child_path, grandchild)
    assert tree.ids_of(leaf_path) == [root, child, grandchild]
    assert [tree.depth(p) for p in (root_path, child_path, leaf_path)] == [1, 2, 3]
    assert tree.is_within(leaf_path, root_path) and tree.is_within(child_path, child_path)
    assert not tree.is_within(root_path, child_path)
    # the subtree is a contiguous range: every descendant sorts in [path, path + "~")
    assert root_path <= leaf_path < root_path + SUBTREE_END
    sibling_path = tree.child_path(None, uuid.uuid4())
    assert not (root_path <= sibling_path < root_path + SUBTREE_END)
