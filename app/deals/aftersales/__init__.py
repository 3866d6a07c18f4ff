"""After the sale: a won deal's free-upgrade and maintenance period, and its installation acceptance
(the acceptance note, 验收单, signed by the customer through the signing flow)."""
