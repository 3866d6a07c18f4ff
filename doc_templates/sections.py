"""The body of each default template, written with ``build.Builder``."""

from __future__ import annotations

from collections.abc import Callable

from docx.shared import Cm, Pt

from doc_templates.build import ACCENT, GREY, Builder


def _party(b: Builder, key: str, var: str, optional: tuple[str, ...] = ()) -> None:
    """A party's block; the fields in ``optional`` only when filled (the buyer's bank details)."""
    b.heading(key, 2)
    fields = ("full_name", "address", "contact", "phone", "tax_id", "bank", "account")
    b.key_table(
        [
            (name, f"{{{{ {var}.{name} }}}}", f"{var}.{name}")
            if name in optional
            else (name, f"{{{{ {var}.{name} }}}}")
            for name in fields
        ]
    )


def _lines_table(b: Builder) -> None:
    b.loop_table(
        ["no", "product", "edition", "quantity", "unit", "unit_price", "years", "amount"],
        [1.1, 3.5, 2.4, 1.1, 1.6, 2.4, 1.5, 3.0],
        "lines",
        "line",
        ["no", "product", "edition", "quantity", "unit", "unit_price", "years", "amount"],
    )
    b.para()
    b.key_table(
        [
            ("subtotal", "{{ totals.subtotal }}"),
            ("discount", "{{ totals.discount }}"),
            ("tax", "{{ totals.tax }}"),
            ("total", "{{ totals.total }}"),
            ("total_in_words", "{{ totals.total_in_words }}"),
        ]
    )
    b.para("{{ totals.tax_note }}", size=9, color=GREY)


def _signatures(b: Builder) -> None:
    """Both parties side by side in one row that never splits: the block moves to the next page whole,
    its heading with it. Party B's seal picture, when the profile has one, sits on its seal line."""
    heading = b.heading("signatures")
    heading.paragraph_format.keep_with_next = True
    table = b.doc.add_table(rows=1, cols=2)
    table.style = b.doc.styles["Table Grid"]
    b.widths(table, [8.3, 8.3])
    b.padding(table)
    for col, var in enumerate(("party_a", "party_b")):
        cell = table.rows[0].cells[col]
        cell.width = Cm(8.3)
        b.run(cell.paragraphs[0], b.t(var), bold=True, color=ACCENT)
        b.run(cell.add_paragraph(), f"{{{{ {var}.full_name }}}}")
        signatory = cell.add_paragraph()
        signatory.paragraph_format.space_before = Pt(8)
        b.run(signatory, b.t("signatory") + b.t("colon"))
        b.sign_anchor(signatory, var)
        seal = cell.add_paragraph()
        seal.paragraph_format.space_before = Pt(8)
        b.run(seal, b.t("seal"), color=GREY)
        if var == "party_b":
            b.run(seal, "{% if party_b.seal %}{{ party_b.seal }}{% endif %}")
        date = cell.add_paragraph()
        date.paragraph_format.space_before = Pt(8)
        b.run(date, b.t("sign_date") + b.t("colon") + b.t("date_blank"))
    b.keep_together(table)


def contract(b: Builder) -> None:
    b.para(b.t("kind.contract"), style="Title", align="center")
    b.key_table(
        [
            ("contract_no", "{{ contract.number }}"),
            ("contract_date", "{{ contract.date }}"),
        ]
    )
    _party(b, "party_a", "party_a", optional=("tax_id", "bank", "account"))
    _party(b, "party_b", "party_b")
    b.para()
    b.para(b.t("preamble"))
    b.heading("art_products")
    _lines_table(b)
    b.heading("art_payment")
    b.loop_table(
        ["no", "milestone", "percent", "amount", "due"],
        [1.2, 3.4, 1.6, 3.1, 7.2],
        "milestones",
        "m",
        ["no", "name", "percent", "amount", "due"],
    )
    b.heading("art_delivery")
    b.para(b.t("delivery_text"))
    b.heading("art_maintenance")
    for key in ("maint_upgrade", "maint_hotline", "maint_onsite", "maint_cross"):
        b.para(b.t(key), style="List Number")
    b.heading("art_confidential")
    b.para(b.t("confidential_text"))
    b.heading("art_disputes")
    b.para(b.t("disputes_text"))
    b.heading("art_misc")
    b.para(b.t("misc_text"))
    b.para(b.t("no_more_text"), color=GREY, align="center").paragraph_format.keep_with_next = True
    _signatures(b)


def _cover(b: Builder) -> None:
    for _ in range(4):
        b.para()
    b.para("{{ party_b.full_name }}", size=12, color=GREY, align="center")
    b.para("{{ proposal.type }}", style="Title", align="center")
    b.para("{{ proposal.title }}", style="Subtitle", align="center")
    for _ in range(3):
        b.para()
    p = b.para(align="center")
    b.run(p, b.t("prepared_for") + b.t("colon"), size=13, color=GREY)
    b.run(p, "{{ customer.full_name }}", bold=True, size=15)
    p = b.para(align="center")
    b.run(p, b.t("prepared_by") + b.t("colon"), size=11, color=GREY)
    b.run(p, "{{ party_b.full_name }}", size=11)
    b.para("{{ proposal.date }}", size=11, align="center", color=GREY)
    for _ in range(3):
        b.para()
    b.heading("doc_control", 2)
    b.key_table(
        [
            ("doc_no", "{{ proposal.number }}"),
            ("version", "{{ proposal.version }}"),
            ("date", "{{ proposal.date }}"),
            ("author", "{{ author.name }}"),
        ]
    )
    b.para()
    b.loop_table(
        ["version", "date", "author", "note"],
        [2.2, 3.0, 3.4, 8.0],
        "revisions",
        "rev",
        ["version", "date", "author", "note"],
    )
    b.page_break()


def _last_page(b: Builder) -> None:
    b.page_break()
    b.heading("contact_us")
    b.key_table(
        [
            ("contact", "{{ contact.name }}{% if contact.title %}  {{ contact.title }}{% endif %}"),
            ("phone", "{{ contact.phone }}"),
            ("email", "{{ contact.email }}"),
            ("address", "{{ contact.address }}"),
            ("website", "{{ party_b.website }}", "party_b.website"),
        ]
    )
    b.para()
    b.para(b.t("closing"), size=11)
    b.para(b.t("thanks"), bold=True, size=11, color=ACCENT)
    b.para("{{ party_b.full_name }}", align="right")
    b.para("{{ proposal.date }}", align="right", color=GREY)


def proposal(body: Callable[[Builder], None]) -> Callable[[Builder], None]:
    def build(b: Builder) -> None:
        _cover(b)
        body(b)
        _last_page(b)

    return build


def _requirements(b: Builder) -> None:
    b.heading("background")
    b.para("{{ background }}")
    b.heading("requirements")
    b.loop_table(
        ["no", "area", "need", "priority"],
        [1.2, 3.0, 10.4, 2.0],
        "requirements",
        "req",
        ["no", "area", "need", "priority"],
    )
    b.heading("scope")
    b.para("{{ scope }}")


def _product(b: Builder) -> None:
    b.heading("modules")
    b.loop_table(
        ["no", "module", "description"], [1.2, 4.5, 10.9], "modules", "mod", ["no", "name", "description"]
    )
    b.heading("services")
    b.para("{{ services }}")


def _pricing(b: Builder) -> None:
    b.heading("pricing")
    _lines_table(b)
    b.heading("payment_terms")
    b.para("{{ payment_terms }}")
    b.heading("validity")
    b.para("{{ validity }}")


def quote(b: Builder) -> None:
    b.para(b.t("kind.quote"), style="Title", align="center")
    b.key_table(
        [
            ("quote_no", "{{ quote.number }}"),
            ("quote_date", "{{ quote.date }}"),
            ("valid_until", "{{ quote.valid_until }}"),
            ("round", "{{ quote.round }}"),
        ]
    )
    b.heading("customer", 2)
    b.key_table(
        [
            ("full_name", "{{ customer.full_name }}"),
            ("contact", "{{ customer.contact }}"),
            ("phone", "{{ customer.phone }}"),
            ("address", "{{ customer.address }}"),
        ]
    )
    b.heading("pricing")
    _lines_table(b)
    b.heading("terms", 2)
    b.para("{{ terms }}")
    b.heading("sales", 2).paragraph_format.keep_with_next = True
    sales = b.key_table(
        [
            ("contact", "{{ author.name }}{% if author.title %}  {{ author.title }}{% endif %}"),
            ("phone", "{{ author.phone }}"),
            ("email", "{{ author.email }}"),
            ("full_name", "{{ party_b.full_name }}"),
            ("address", "{{ party_b.address }}"),
        ]
    )
    b.keep_together(sales, with_next=True)  # the seal below stays with the block it stamps
    p = b.para(align="right")
    b.run(p, "{% if party_b.seal %}{{ party_b.seal }}{% endif %}")


def handover(b: Builder) -> None:
    b.para(b.t("kind.handover"), style="Title", align="center")
    b.key_table(
        [
            ("handover_no", "{{ handover.number }}"),
            ("date", "{{ handover.date }}"),
            ("from_rep", "{{ handover.from_rep }}"),
            ("territory", "{{ handover.territory }}"),
            ("reason", "{{ handover.reason }}"),
            ("manager", "{{ handover.manager }}"),
        ]
    )
    b.para()
    table = b.loop_table(
        ["no", "customer", "grade", "last_followup", "open_deals", "next_steps", "receiver"],
        [1.0, 4.5, 1.4, 2.8, 2.0, 3.0, 1.9],
        "customers",
        "c",
        ["no", "full_name", "grade", "last_followup", "open_deals", "next_steps", "to"],
    )
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8.5)
    b.para()
    b.para(b.t("handover_summary"), bold=True)
    b.para()
    sign = b.doc.add_table(rows=1, cols=3)
    sign.style = b.doc.styles["Table Grid"]
    b.widths(sign, [5.5, 5.5, 5.5])
    b.padding(sign)
    for col, key in enumerate(("handover_sign", "receiver_sign", "manager_sign")):
        cell = sign.rows[0].cells[col]
        b.run(cell.paragraphs[0], b.t(key), bold=True)
        date = cell.add_paragraph()
        date.paragraph_format.space_before = Pt(24)
        b.run(date, b.t("sign_date") + b.t("colon") + b.t("date_blank"))
    b.keep_together(sign)


def acceptance(b: Builder) -> None:
    b.para(b.t("kind.acceptance"), style="Title", align="center")
    b.key_table(
        [
            ("acceptance_no", "{{ acceptance.number }}"),
            ("project", "{{ acceptance.title }}"),
            ("contract_no", "{{ contract.number }}"),
            ("party_a", "{{ party_a.full_name }}"),
            ("party_b", "{{ party_b.full_name }}"),
        ]
    )
    b.para()
    b.heading("installed")
    b.loop_table(
        ["no", "product", "edition", "quantity", "unit", "amount"],
        [1.2, 6.0, 3.0, 1.8, 1.8, 2.8],
        "lines",
        "line",
        ["no", "product", "edition", "quantity", "unit", "amount"],
    )
    b.para()
    b.para(b.t("acceptance_statement"))
    b.para(b.t("acceptance_upgrade"))
    b.para()
    _signatures(b)


BUILDERS: dict[str, Callable[[Builder], None]] = {
    "contract": contract,
    "proposal_requirements": proposal(_requirements),
    "proposal_product": proposal(_product),
    "proposal_pricing": proposal(_pricing),
    "quote": quote,
    "handover": handover,
    "acceptance": acceptance,
}
