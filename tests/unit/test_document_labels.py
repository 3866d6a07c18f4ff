"""Every text variable a document can be refused for has a label in both languages (never its path)."""

from __future__ import annotations

from app import i18n
from app.documents import kinds, labels


def test_every_text_variable_of_every_kind_has_a_label() -> None:
    paths = {
        path
        for kind in kinds.KINDS
        for path, type_ in kinds.variables(kind).items()
        if type_ == "text" and "[]" not in path
    }
    assert len(paths) > 60
    assert sorted(p for p in paths if not labels.has_label(p)) == []
    catalog = i18n._catalog("zh-CN")
    for path in paths:
        zh = labels.label(path, "zh-CN")
        assert zh and path not in zh and not any(c.isascii() and c.isalpha() for c in zh), (path, zh)
        assert labels.label(path, "en") != zh
    assert all(
        m in catalog for m in [*labels.BLOCKS.values(), *labels.FIELDS.values(), *labels.WHOLE.values()]
    )


def test_labels_read_as_people_say_them() -> None:
    assert labels.label("party_a.contact", "zh-CN") == "甲方联系人"
    assert labels.label("party_a.contact", "en") == "Party A contact"
    assert labels.label("party_b.account", "zh-CN") == "乙方银行账号"
    assert labels.label("party_b.tax_id", "en") == "Party B unified social credit code"
    assert labels.label("totals.discount", "zh-CN") == "优惠金额"
    assert labels.join(["甲方联系人", "乙方开户银行"], "zh-CN") == "甲方联系人、乙方开户银行"
    assert labels.join(["Party A contact", "Party B bank"], "en") == "Party A contact, Party B bank"
