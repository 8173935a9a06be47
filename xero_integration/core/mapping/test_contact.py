from decimal import Decimal

import pytest

from xero_integration.core.mapping.contact import (
	contact_match,
	contact_payload,
	contact_to_erpnext,
	content_hash,
	disambiguated_name,
	normalise_name,
)
from xero_integration.core.mapping.context import MappingError

CUSTOMER = {
	"name": "CUST-0001",
	"customer_name": "  Acme   Ltd. ",
	"tax_id": "123-456-789",
	"default_currency": "USD",
}


def test_normalise_name_ignores_case_spacing_and_punctuation():
	assert normalise_name("ACME  Ltd.") == normalise_name("acme ltd") == "acme ltd"
	assert normalise_name("Smith & Sons") == normalise_name("smith and sons")


def test_contact_payload_sends_only_writable_fields():
	payload = contact_payload(
		CUSTOMER,
		is_customer=True,
		is_supplier=False,
		contact_number="CUST-0001",
		email="ap@acme.example",
		phones=[("MOBILE", "+64 21 555 0101"), ("DEFAULT", "")],
		addresses=[
			{
				"address_type": "Billing",
				"address_line1": "PO Box 1",
				"city": "Wellington",
				"country": "New Zealand",
			},
			{"address_type": "Shipping", "address_line1": "1 Quay St", "pincode": "1010"},
			{"address_type": "Billing", "address_line1": "PO Box 2"},
		],
	)
	assert payload == {
		"Name": "Acme Ltd.",
		"ContactNumber": "CUST-0001",
		"EmailAddress": "ap@acme.example",
		"Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "+64 21 555 0101"}],
		"Addresses": [
			{
				"AddressType": "POBOX",
				"AddressLine1": "PO Box 1",
				"City": "Wellington",
				"Country": "New Zealand",
			},
			{"AddressType": "STREET", "AddressLine1": "1 Quay St", "PostalCode": "1010"},
		],
		"TaxNumber": "123-456-789",
		"DefaultCurrency": "USD",
	}


def test_contact_payload_for_update_carries_contact_id_and_supplier_name():
	payload = contact_payload(
		{"name": "SUP-1", "supplier_name": "Bolt Co"},
		is_customer=False,
		is_supplier=True,
		contact_number="SUP-1",
		contact_id="abc",
	)
	assert payload == {"Name": "Bolt Co", "ContactNumber": "SUP-1", "ContactID": "abc"}


def test_long_contact_number_is_shortened_deterministically_and_uniquely():
	first = contact_payload(CUSTOMER, is_customer=True, is_supplier=False, contact_number="C" * 60 + "1")
	second = contact_payload(CUSTOMER, is_customer=True, is_supplier=False, contact_number="C" * 60 + "2")
	again = contact_payload(CUSTOMER, is_customer=True, is_supplier=False, contact_number="C" * 60 + "1")
	assert len(first["ContactNumber"]) == 50
	assert first["ContactNumber"] == again["ContactNumber"] != second["ContactNumber"]


def test_contact_payload_lists_every_problem():
	with pytest.raises(MappingError) as error:
		contact_payload(
			{"name": "CUST-9", "customer_name": " ", "tax_id": "9" * 60},
			is_customer=True,
			is_supplier=False,
			contact_number="CUST-9",
		)
	assert len(error.value.problems) == 2
	assert "Customer name is empty" in error.value.problems[0]
	assert "Tax ID" in error.value.problems[1]


def test_disambiguated_name_is_visible_and_fits():
	assert disambiguated_name("Acme Ltd", "CUST-0001") == "Acme Ltd (CUST-0001)"
	assert disambiguated_name("Acme Ltd (CUST-0001)", "CUST-0001") == "Acme Ltd (CUST-0001)"
	long_name = disambiguated_name("x" * 300, "CUST-0001")
	assert len(long_name) == 255 and long_name.endswith(" (CUST-0001)")


XERO_CONTACTS = [
	{"ContactID": "archived-acme", "Name": "ACME LTD", "ContactStatus": "ARCHIVED"},
	{"ContactID": "acme", "Name": "Acme Ltd.", "ContactStatus": "ACTIVE", "EmailAddress": "AP@acme.example"},
	{"ContactID": "numbered", "Name": "Other", "ContactStatus": "ARCHIVED", "ContactNumber": "CUST-0001"},
	{
		"ContactID": "erased",
		"Name": "Gone",
		"ContactStatus": "GDPRREQUEST",
		"EmailAddress": "gone@example.com",
	},
]


@pytest.mark.parametrize(
	"name, number, email, expected_id, rule",
	[
		("Acme Ltd", "CUST-0001", None, "numbered", "ContactNumber"),
		("Nobody", "CUST-0002", "ap@acme.example", "acme", "EmailAddress"),
		("acme  ltd", "CUST-0002", None, "acme", "Name"),
	],
)
def test_contact_match_rules_in_order(name, number, email, expected_id, rule):
	match = contact_match(name, number, email, XERO_CONTACTS)
	assert (match["contact"]["ContactID"], match["matched_by"]) == (expected_id, rule)


def test_a_contact_numbered_for_another_party_is_not_matched_by_name_or_email():
	other_party = [
		{
			"ContactID": "theirs",
			"Name": "Acme Ltd",
			"ContactNumber": "CUST-0009",
			"EmailAddress": "ap@acme.example",
		}
	]
	assert contact_match("Acme Ltd", "CUST-0002", "ap@acme.example", other_party) is None
	assert contact_match("Acme Ltd", "CUST-0009", None, other_party)["matched_by"] == "ContactNumber"


def test_contact_match_never_returns_erased_contacts_or_guesses():
	assert contact_match("Gone", None, "gone@example.com", XERO_CONTACTS) is None
	assert contact_match("Unknown", "CUST-0404", None, XERO_CONTACTS) is None


def test_contact_to_erpnext():
	contact = {
		"ContactID": "c1",
		"ContactNumber": "CUST-0001",
		"Name": "Acme Ltd",
		"IsCustomer": True,
		"IsSupplier": False,
		"EmailAddress": "ap@acme.example",
		"TaxNumber": "123",
		"DefaultCurrency": "USD",
		"Phones": [
			{
				"PhoneType": "DEFAULT",
				"PhoneCountryCode": "64",
				"PhoneAreaCode": "4",
				"PhoneNumber": "555 0101",
			},
			{"PhoneType": "MOBILE", "PhoneNumber": "021 555"},
			{"PhoneType": "FAX"},
		],
		"Addresses": [
			{
				"AddressType": "POBOX",
				"AddressLine1": "PO Box 1",
				"AddressLine3": "Te Aro",
				"City": "Wellington",
			},
			{"AddressType": "STREET"},
		],
	}
	result = contact_to_erpnext(contact)
	assert result["customer_name"] == "Acme Ltd"
	assert (result["is_customer"], result["is_supplier"]) == (True, False)
	assert (result["phone"], result["mobile_no"]) == ("64 4 555 0101", "021 555")
	assert result["addresses"] == [
		{
			"address_title": "Acme Ltd",
			"address_type": "Billing",
			"address_line1": "PO Box 1",
			"address_line2": "Te Aro",
			"city": "Wellington",
			"state": None,
			"pincode": None,
			"country": None,
		}
	]
	assert (result["xero_contact_id"], result["contact_number"], result["tax_id"]) == (
		"c1",
		"CUST-0001",
		"123",
	)


def test_contact_without_name_is_an_error():
	with pytest.raises(MappingError, match="no name"):
		contact_to_erpnext({"ContactID": "c2", "Name": "  "})


def test_content_hash_is_stable_across_key_order_and_decimal_scale():
	assert content_hash({"a": Decimal("1.50"), "b": [1]}) == content_hash({"b": [1], "a": Decimal("1.5")})
	assert content_hash({"a": Decimal("1.50")}) != content_hash({"a": Decimal("1.51")})
