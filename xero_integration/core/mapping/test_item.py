from xero_integration.core.mapping.item import item_payload, plain_text, xero_item_code
from xero_integration.core.mapping.test_invoice import CTX

ITEM_CTX = type(CTX)(
	**{**CTX.__dict__, "account_codes": {"Sales - TC": "200", "Cost of Goods Sold - TC": "310"}}
)


def item(**values) -> dict:
	return {
		"doctype": "Item",
		"name": "CONSULT",
		"item_code": "CONSULT",
		"item_name": "Consulting",
		"description": "<div><p>Senior consultant, <b>per hour</b></p><p>Travel &amp; expenses extra</p></div>",
		"is_sales_item": 1,
		"is_purchase_item": 1,
		**values,
	}


def mapped(values=None, **accounts):
	accounts = {"income_account": "Sales - TC", "expense_account": "Cost of Goods Sold - TC", **accounts}
	return item_payload(item(**(values or {})), ITEM_CTX, **accounts)


def test_an_item_sold_and_bought_carries_both_sides_with_their_mapped_accounts():
	result = mapped()
	assert result.payload == {
		"Code": "CONSULT",
		"Name": "Consulting",
		"IsSold": True,
		"IsPurchased": True,
		"Description": "Senior consultant, per hour\nTravel & expenses extra",
		"SalesDetails": {"AccountCode": "200"},
		"PurchaseDescription": "Senior consultant, per hour\nTravel & expenses extra",
		"PurchaseDetails": {"AccountCode": "310"},
	}
	assert result.notes == []


def test_an_item_only_sold_sends_no_purchase_side_and_an_unmapped_account_is_left_to_xero():
	result = mapped({"is_purchase_item": 0}, income_account="Unmapped Income - TC")
	assert (result.payload["IsPurchased"], result.payload["SalesDetails"]) == (False, {})
	assert "PurchaseDetails" not in result.payload


def test_a_code_longer_than_xero_allows_is_mapped_visibly_and_stably():
	long_code = "ACME-INDUSTRIAL-FASTENER-M12-STAINLESS-A4"
	code = xero_item_code(long_code)
	assert (len(code), code[:22]) == (30, "ACME-INDUSTRIAL-FASTE~")
	assert code == xero_item_code(long_code)  # the same every time
	assert code != xero_item_code(long_code + "0")  # and distinct from a code that begins alike
	result = mapped({"item_code": long_code, "name": long_code})
	assert result.payload["Code"] == code
	assert result.notes == [
		f"Item code {long_code} is longer than Xero's 30 characters: it is {code} in Xero."
	]


def test_a_name_longer_than_xero_allows_is_cut_and_said():
	result = mapped({"item_name": "Consulting " * 6})
	assert len(result.payload["Name"]) == 50 and result.payload["Name"].endswith("…")
	assert "longer than Xero's 50 characters" in result.notes[0]


def test_an_item_already_in_xero_is_updated_by_its_id():
	assert mapped().payload.get("ItemID") is None
	assert (
		item_payload(item(), ITEM_CTX, income_account=None, expense_account=None, item_id="i-1").payload[
			"ItemID"
		]
		== "i-1"
	)


def test_html_descriptions_become_plain_text():
	assert plain_text("<p>A</p><p>B &lt;C&gt;</p>") == "A\nB <C>"
	assert plain_text(None) == ""
