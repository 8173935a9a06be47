from decimal import Decimal

from xero_integration.core.diff import Difference, differences, flatten


def test_flatten_names_every_leaf_by_path():
	assert flatten({"Contact": {"ContactID": "c"}, "LineItems": [{"Quantity": 1}]}) == {
		"Contact.ContactID": "c",
		"LineItems[0].Quantity": 1,
	}


def test_equal_documents_have_no_difference_despite_xero_formats():
	payload = {
		"Type": "ACCREC",
		"Date": "2024-03-01",
		"Contact": {"ContactID": "c"},
		"LineItems": [{"UnitAmount": Decimal("100.00"), "Quantity": Decimal("1")}],
	}
	record = {
		"Type": "ACCREC",
		"Date": "/Date(1709251200000+0000)/",
		"Contact": {"ContactID": "c", "Name": "Acme"},
		"LineItems": [{"UnitAmount": Decimal("100.0000"), "Quantity": Decimal("1.0000"), "LineItemID": "l"}],
		"AmountDue": Decimal("100.00"),
	}
	assert differences(payload, record) == []


def test_changed_missing_and_removed_lines_are_reported():
	payload = {"Reference": "PO-7", "LineItems": [{"UnitAmount": Decimal("120.00")}]}
	record = {
		"LineItems": [
			{"UnitAmount": Decimal("100.00")},
			{"UnitAmount": Decimal("5.00"), "Description": "Freight"},
		]
	}
	assert differences(payload, record) == [
		Difference("Reference", "PO-7", None),
		Difference("LineItems[0].UnitAmount", Decimal("120.00"), Decimal("100.00")),
		Difference("LineItems[1]", None, "Freight"),
	]
