"""The fixed wording of the default templates, zh-CN and en: key → (zh-CN, en)."""

from __future__ import annotations

L: dict[str, tuple[str, str]] = {
    "colon": ("：", ": "),
    "page": ("第 | 页 / 共 | 页", "Page | of |"),
    "kind.contract": ("软件销售合同", "Software Sales Contract"),
    "kind.proposal_requirements": ("需求方案", "Requirements Proposal"),
    "kind.proposal_product": ("产品方案", "Product Proposal"),
    "kind.proposal_pricing": ("报价方案", "Pricing Proposal"),
    "kind.quote": ("报价单", "Quotation"),
    "kind.handover": ("客户移交表", "Customer Handover Sheet"),
    "kind.acceptance": ("安装验收单", "Installation Acceptance Note"),
    "acceptance_no": ("验收单编号", "Acceptance no."),
    "acceptance_date": ("验收日期", "Date of acceptance"),
    "project": ("项目名称", "Project"),
    "installed": ("已安装的软件", "Software installed"),
    "acceptance_statement": (
        "乙方已按上述合同完成下列软件的安装、实施与培训，系统已连续稳定运行。经甲方检查确认，同意验收。",
        "Party B has installed, implemented and trained the software below under the contract above, and"
        " the system has run stably since. Party A has checked it and accepts the installation.",
    ),
    "acceptance_upgrade": (
        "自验收之日起，甲方享有 {{ maintenance.free_upgrade_years }} 年免费同版本升级；"
        "尾款按合同约定于验收后支付。",
        "From the date of acceptance Party A receives {{ maintenance.free_upgrade_years }} year(s) of free"
        " same-version upgrades; the balance is paid after acceptance as the contract provides.",
    ),
    # parties
    "party_a": ("甲方（买方）", "Party A (Buyer)"),
    "party_b": ("乙方（卖方）", "Party B (Seller)"),
    "full_name": ("单位全称", "Full legal name"),
    "address": ("地址", "Address"),
    "contact": ("联系人", "Contact"),
    "phone": ("电话", "Phone"),
    "email": ("电子邮箱", "Email"),
    "tax_id": ("统一社会信用代码", "Unified social credit code"),
    "bank": ("开户银行", "Bank"),
    "account": ("账号", "Account"),
    "website": ("网址", "Website"),
    # contract
    "contract_no": ("合同编号", "Contract no."),
    "contract_date": ("签订日期", "Date"),
    "preamble": (
        "甲乙双方经友好协商，就甲方向乙方采购软件产品及服务事宜，达成如下协议，以资共同遵守。",
        "The parties have agreed, after friendly negotiation, on Party A's purchase of software "
        "products and services from Party B, as follows.",
    ),
    "art_products": ("第一条  产品与价格", "Article 1  Products and prices"),
    "art_payment": ("第二条  付款方式", "Article 2  Payment"),
    "art_delivery": ("第三条  交付与安装", "Article 3  Delivery and installation"),
    "delivery_text": (
        "乙方在收到定金后 15 个工作日内交付软件并完成安装，甲方应提供必要的软硬件环境。",
        "Party B delivers and installs the software within 15 working days of receiving the "
        "deposit; Party A provides the required hardware and software environment.",
    ),
    "art_maintenance": ("第四条  售后服务与维护", "Article 4  Support and maintenance"),
    "maint_upgrade": (
        "自验收之日起 {{ maintenance.free_upgrade_years }} 年内，乙方为甲方免费提供同版本升级。",
        "For {{ maintenance.free_upgrade_years }} year(s) from acceptance, Party B provides "
        "same-version upgrades free of charge.",
    ),
    "maint_hotline": (
        "乙方提供电话及远程支持（服务热线 {{ maintenance.hotline }}），"
        "工作日 {{ maintenance.response_hours }} 小时内响应。",
        "Party B provides telephone and remote support (hotline {{ maintenance.hotline }}), "
        "answering within {{ maintenance.response_hours }} working hours.",
    ),
    "maint_onsite": (
        "上门服务收费标准：{{ maintenance.onsite_fee }}；差旅费用由甲方承担。",
        "On-site service rate: {{ maintenance.onsite_fee }}; travel costs are borne by Party A.",
    ),
    "maint_cross": (
        "跨版本升级及二次开发另行签订协议。",
        "Upgrades to another edition and custom development need a separate agreement.",
    ),
    "art_confidential": ("第五条  保密与知识产权", "Article 5  Confidentiality and intellectual property"),
    "confidential_text": (
        "软件著作权归原厂所有，甲方获得合同约定范围内的使用许可；双方对合作中知悉的对方商业"
        "信息负有保密义务。",
        "Copyright in the software stays with its publisher; Party A receives a licence "
        "within the scope of this contract. Each party keeps the other's business "
        "information confidential.",
    ),
    "art_disputes": ("第六条  争议解决", "Article 6  Disputes"),
    "disputes_text": (
        "因本合同引起的争议，双方协商解决；协商不成的，提交乙方所在地人民法院诉讼解决。",
        "Disputes are settled by negotiation, failing which by the people's court where "
        "Party B is domiciled.",
    ),
    "art_misc": ("第七条  其他", "Article 7  Miscellaneous"),
    "misc_text": (
        "本合同一式两份，双方各执一份，自双方签字盖章之日起生效。",
        "This contract is made in two copies, one for each party, and takes effect when both "
        "parties have signed and sealed it.",
    ),
    "no_more_text": ("（以下无正文）", "(No further text)"),
    "signatures": ("签署", "Signatures"),
    "signatory": ("授权代表（签字）", "Authorised signatory"),
    "seal": ("（盖章）", "(seal)"),
    "sign_date": ("日期", "Date"),
    "date_blank": ("　　　年　　月　　日", "______________"),
    # tables
    "no": ("序号", "No."),
    "product": ("产品名称", "Product"),
    "edition": ("版本", "Edition"),
    "quantity": ("数量", "Qty"),
    "unit": ("单位", "Unit"),
    "unit_price": ("单价", "Unit price"),
    "years": ("维护年限", "Years"),
    "amount": ("金额", "Amount"),
    "subtotal": ("标准价合计", "List price total"),
    "discount": ("优惠", "Discount"),
    "tax": ("税额", "Tax"),
    "total": ("总计", "Total"),
    "total_in_words": ("总计（大写）", "Total in words"),
    "milestone": ("付款节点", "Milestone"),
    "percent": ("比例", "Share"),
    "due": ("付款时间", "Due"),
    # proposals
    "prepared_for": ("呈送", "Prepared for"),
    "prepared_by": ("编制", "Prepared by"),
    "doc_control": ("文档控制", "Document control"),
    "version": ("版本", "Version"),
    "date": ("日期", "Date"),
    "author": ("作者", "Author"),
    "note": ("说明", "Notes"),
    "doc_no": ("文档编号", "Document no."),
    "background": ("项目背景", "Background"),
    "requirements": ("需求清单", "Requirements"),
    "area": ("业务领域", "Area"),
    "need": ("需求描述", "Need"),
    "priority": ("优先级", "Priority"),
    "scope": ("实施范围", "Scope"),
    "modules": ("产品模块", "Modules"),
    "module": ("模块", "Module"),
    "description": ("说明", "Description"),
    "services": ("服务内容", "Services"),
    "pricing": ("价格明细", "Prices"),
    "validity": ("有效期", "Validity"),
    "payment_terms": ("付款方式", "Payment terms"),
    "contact_us": ("联系我们", "Contact us"),
    "closing": (
        "以上方案为初步建议，欢迎贵司提出意见，我们随时可以进一步沟通、共同完善。",
        "This proposal is a starting point and open to discussion: we welcome your comments and "
        "are glad to refine it together with you.",
    ),
    "thanks": ("感谢贵司的信任与支持！", "Thank you for your trust."),
    # quote
    "quote_no": ("报价单号", "Quote no."),
    "quote_date": ("报价日期", "Date"),
    "valid_until": ("有效期至", "Valid until"),
    "round": ("报价轮次", "Round"),
    "customer": ("客户", "Customer"),
    "sales": ("销售顾问", "Sales consultant"),
    "terms": ("条款", "Terms"),
    # handover
    "handover_no": ("移交单号", "Handover no."),
    "from_rep": ("移交人", "From"),
    "manager": ("审批主管", "Approved by"),
    "reason": ("移交原因", "Reason"),
    "territory": ("责任区域", "Territory"),
    "grade": ("等级", "Grade"),
    "last_followup": ("最近跟进", "Last follow-up"),
    "open_deals": ("在谈商机", "Open deals"),
    "next_steps": ("下一步", "Next steps"),
    "receiver": ("接收人", "Receiver"),
    "handover_summary": (
        "共移交客户 {{ summary.customers }} 家，在谈商机 {{ summary.open_deals }} 个。",
        "{{ summary.customers }} customers handed over, with {{ summary.open_deals }} open deals.",
    ),
    "handover_sign": ("移交人签字", "Handed over by"),
    "receiver_sign": ("接收人签字", "Received by"),
    "manager_sign": ("主管签字", "Approved by"),
}
