"""Unallocated credit per customer and supplier, for the Balances view: money received from (or paid to)
a party ahead of the invoices that will take it. In ERPNext, what Payment Entries leave unallocated and
journal rows on the party's account that settle no document; in Xero, the remaining credit of its
overpayments and prepayments. Both in the party account's currency, for what is dated in the period."""

from collections import defaultdict

import frappe
from frappe.utils import flt, getdate

from xero_integration.core.money import from_xero_date
from xero_integration.sync import links

PARTY_TYPES = ("Customer", "Supplier")


def erpnext_unallocated(company: str, from_date, to_date) -> dict[tuple, float]:
	"""(party_type, party, currency) -> unallocated credit, read with the user's permissions."""
	found = defaultdict(float)
	period = ("between", (from_date, to_date))
	for entry in frappe.get_list(
		"Payment Entry",
		filters={
			"company": company,
			"docstatus": 1,
			"posting_date": period,
			"party_type": ("in", PARTY_TYPES),
			"unallocated_amount": ("!=", 0),
		},
		fields=[
			"party_type",
			"party",
			"payment_type",
			"unallocated_amount",
			"paid_from_account_currency",
			"paid_to_account_currency",
		],
	):
		receive = entry.payment_type == "Receive"
		currency = entry.paid_from_account_currency if receive else entry.paid_to_account_currency
		found[(entry.party_type, entry.party, currency)] += flt(entry.unallocated_amount, 2)
	for row in frappe.get_list(
		"Journal Entry",
		filters={"company": company, "docstatus": 1, "posting_date": period},
		fields=[
			"`tabJournal Entry Account`.`party_type`",
			"`tabJournal Entry Account`.`party`",
			"`tabJournal Entry Account`.`account_currency`",
			"`tabJournal Entry Account`.`credit_in_account_currency`",
			"`tabJournal Entry Account`.`debit_in_account_currency`",
			"`tabJournal Entry Account`.`reference_name`",
		],
	):
		if row.party_type not in PARTY_TYPES or not row.party or row.reference_name:
			continue
		credit = flt(row.credit_in_account_currency, 2) - flt(row.debit_in_account_currency, 2)
		found[(row.party_type, row.party, row.account_currency)] += (
			credit if row.party_type == "Customer" else -credit
		)
	return {key: flt(amount, 2) for key, amount in found.items() if flt(amount, 2)}


def xero_unallocated(client, organisation: str, from_date, to_date) -> dict[tuple, float]:
	"""The same from Xero's overpayments and prepayments (two list calls), each under the party its
	contact is linked to (or the contact's name)."""
	found = defaultdict(float)
	for kind in ("Overpayment", "Prepayment"):
		for record in client.list_all(kind):
			if record.get("Status") != "AUTHORISED" or not flt(record.get("RemainingCredit")):
				continue
			if not getdate(from_date) <= getdate(from_xero_date(record.get("Date"))) <= getdate(to_date):
				continue
			party_type = "Customer" if str(record.get("Type")).startswith("RECEIVE") else "Supplier"
			contact = record.get("Contact") or {}
			linked = links.links_of_record(organisation, "Contact", contact.get("ContactID", ""), party_type)
			party = linked[0].reference_name if linked else contact.get("Name")
			found[(party_type, party, record.get("CurrencyCode"))] += flt(record.get("RemainingCredit"), 2)
	return {key: flt(amount, 2) for key, amount in found.items()}
