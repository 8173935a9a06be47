"""One Xero organisation: its objects (Xero JSON, PascalCase) and the rules Xero enforces when they change.

Nothing here knows about HTTP. Every save returns one ElementResult per element of a batch; an element
with errors leaves the organisation untouched, the others are saved (as in Xero).
"""

import copy
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from . import seed
from .clock import Clock
from .xerojson import date_string, ms_date, ms_timestamp, parse_date

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Messages Xero gives for these rules (those marked in README as approximations are not verbatim).
DUPLICATE_CONTACT_NAME = (
	"The contact name {name} is already assigned to another contact. "
	"The contact name must be unique across all active contacts."
)
DUPLICATE_CONTACT_NUMBER = "The contact number {number} is already assigned to another contact."
ARCHIVED_CONTACT = "Unable to assign an Archived contact."
DUPLICATE_INVOICE_NUMBER = "Invoice # must be unique."
HAS_PAYMENT_OR_ALLOCATION = (
	"This document cannot be edited as it has a payment or credit note allocated to it"
)
PAYMENT_EXCEEDS_DUE = "Payment amount exceeds the amount outstanding on this document"
NOT_AUTHORISED_FOR_PAYMENT = "Payments can only be made against Authorised documents"

STATUS_TRANSITIONS = {
	None: {"DRAFT", "SUBMITTED", "AUTHORISED"},
	"DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
	"SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
	"AUTHORISED": {"AUTHORISED", "VOIDED"},
	"PAID": set(),
	"VOIDED": set(),
	"DELETED": set(),
}
# Keys a client may not set: Xero computes them.
COMPUTED_DOCUMENT_KEYS = {
	"SubTotal",
	"TotalTax",
	"AmountDue",
	"AmountPaid",
	"AmountCredited",
	"RemainingCredit",
	"Payments",
	"CreditNotes",
	"Allocations",
	"UpdatedDateUTC",
	"HasErrors",
	"StatusAttributeString",
	"ValidationErrors",
	"Warnings",
	"DateString",
	"DueDateString",
	"FullyPaidOnDate",
	"IsDiscounted",
	"HasAttachments",
}
COMPUTED_CONTACT_KEYS = {
	"UpdatedDateUTC",
	"IsSupplier",
	"IsCustomer",
	"HasValidationErrors",
	"StatusAttributeString",
	"ValidationErrors",
	"Warnings",
	"HasAttachments",
	"Balances",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def money(value) -> Decimal:
	return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value, what: str) -> Decimal:
	try:
		return Decimal(str(value))
	except (InvalidOperation, ValueError):
		raise ElementError(f"{what} must be a number")


class ElementError(Exception):
	"""One element of a batch breaks a rule; the message is what Xero puts in ValidationErrors."""


@dataclass
class ElementResult:
	element: dict
	errors: list[str] = field(default_factory=list)
	warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentKind:
	"""What differs between invoices and credit notes; the rules are shared."""

	collection: str
	id_key: str
	number_key: str
	label: str
	types: tuple[str, str]  # (sales type, purchase type)
	number_prefix: str
	event_category: str
	resource: str


INVOICE = DocumentKind(
	"invoices", "InvoiceID", "InvoiceNumber", "Invoice", ("ACCREC", "ACCPAY"), "INV-", "INVOICE", "Invoices"
)
CREDIT_NOTE = DocumentKind(
	"credit_notes",
	"CreditNoteID",
	"CreditNoteNumber",
	"Credit Note",
	("ACCRECCREDIT", "ACCPAYCREDIT"),
	"CN-",
	"CREDITNOTE",
	"CreditNotes",
)


class Organisation:
	"""State and rules of one Xero organisation (tenant). Callers serialise access (the server holds a lock)."""

	def __init__(
		self,
		tenant_id: str,
		name: str,
		base_currency: str,
		currencies,
		clock: Clock,
		rng: random.Random,
		on_event: Callable[[dict], None],
	):
		self.tenant_id = tenant_id
		self.clock = clock
		self.rng = rng
		self.on_event = on_event
		self.contacts: dict[str, dict] = {}
		self.invoices: dict[str, dict] = {}
		self.credit_notes: dict[str, dict] = {}
		self.payments: dict[str, dict] = {}
		self.items: dict[str, dict] = {}
		self.accounts: dict[str, dict] = {}
		self.tax_rates: dict[str, dict] = {}
		self.currencies: dict[str, dict] = {}
		self.tracking_categories: dict[str, dict] = {}
		self.allocations: dict[str, dict] = {}
		self.notes: list[
			str
		] = []  # accepted but suspicious requests, e.g. CurrencyRate 1 for a foreign currency
		self._daily_rates: dict[str, Decimal] = {}
		self._next_number: dict[str, int] = {}
		self.base_currency = base_currency
		now = self._now()
		self.organisation = {
			"OrganisationID": tenant_id,
			"Name": name,
			"LegalName": name,
			"PaysTax": True,
			"Version": seed.VERSION_BY_BASE_CURRENCY.get(base_currency, "GLOBAL"),
			"OrganisationType": "COMPANY",
			"BaseCurrency": base_currency,
			"CountryCode": seed.VERSION_BY_BASE_CURRENCY.get(base_currency, "NZ").replace("UK", "GB"),
			"IsDemoCompany": False,
			"OrganisationStatus": "ACTIVE",
			"FinancialYearEndDay": 31,
			"FinancialYearEndMonth": 3,
			"SalesTaxBasis": "PAYMENTS",
			"SalesTaxPeriod": "TWOMONTHS",
			"DefaultSalesTax": "Tax Exclusive",
			"DefaultPurchasesTax": "Tax Exclusive",
			"CreatedDateUTC": now,
			"OrganisationEntityType": "COMPANY",
			"Timezone": "NEWZEALANDSTANDARDTIME",
			"ShortCode": "!" + uuid.UUID(int=rng.getrandbits(128)).hex[:5],
			"Edition": "BUSINESS",
			"Class": "PREMIUM",
		}
		self._seed(base_currency, currencies, now)

	# --- setup -----------------------------------------------------------------------------------------

	def _seed(self, base_currency, currencies, now):
		for code, name, type_, tax_type, class_, system_account, payments_enabled in seed.ACCOUNTS:
			account = {
				"AccountID": self._new_id(),
				"Code": code,
				"Name": name,
				"Type": type_,
				"TaxType": tax_type,
				"Status": "ACTIVE",
				"Class": class_,
				"EnablePaymentsToAccount": payments_enabled,
				"ShowInExpenseClaims": False,
				"ReportingCode": class_[:3],
				"UpdatedDateUTC": now,
				"AddToWatchlist": False,
				"HasAttachments": False,
			}
			if type_ == "BANK":
				account |= {"BankAccountNumber": "0209087654321050", "BankAccountType": "BANK"}
				account["CurrencyCode"] = base_currency
			if system_account:
				account["SystemAccount"] = system_account
			self.accounts[account["AccountID"]] = account
		for tax_type, name, rate, report_type in seed.TAX_RATES:
			self.tax_rates[tax_type] = {
				"Name": name,
				"TaxType": tax_type,
				"TaxComponents": [
					{"Name": "GST", "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}
				],
				"Status": "ACTIVE",
				"ReportTaxType": report_type,
				"CanApplyToAssets": True,
				"CanApplyToEquity": True,
				"CanApplyToExpenses": True,
				"CanApplyToLiabilities": True,
				"CanApplyToRevenue": True,
				"DisplayTaxRate": rate,
				"EffectiveRate": rate,
			}
		for code in dict.fromkeys((base_currency, *currencies)):
			self.currencies[code] = {"Code": code, "Description": seed.CURRENCY_NAMES.get(code, code)}
		for name, options in seed.TRACKING_CATEGORIES:
			category = {
				"TrackingCategoryID": self._new_id(),
				"Name": name,
				"Status": "ACTIVE",
				"Options": [
					{"TrackingOptionID": self._new_id(), "Name": option, "Status": "ACTIVE"}
					for option in options
				],
			}
			self.tracking_categories[category["TrackingCategoryID"]] = category

	# --- helpers ---------------------------------------------------------------------------------------

	def _new_id(self) -> str:
		return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

	def _now(self) -> str:
		return ms_timestamp(self.clock.utcnow())

	def _today(self) -> date:
		return self.clock.utcnow().date()

	def _event(self, category: str, resource: str, resource_id: str, created: bool):
		self.on_event(
			{
				"resourceUrl": f"https://api.xero.com/api.xro/2.0/{resource}/{resource_id}",
				"resourceId": resource_id,
				"eventDateUtc": self.clock.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
				"eventType": "CREATE" if created else "UPDATE",
				"eventCategory": category,
				"tenantId": self.tenant_id,
				"tenantType": "ORGANISATION",
			}
		)

	def account_by_code(self, code) -> dict | None:
		return next((a for a in self.accounts.values() if a["Code"] == code), None)

	def _account_ref(self, ref) -> dict | None:
		if not isinstance(ref, dict):
			return None
		if ref.get("AccountID"):
			return self.accounts.get(ref["AccountID"])
		return self.account_by_code(ref.get("Code"))

	def daily_rate(self, currency: str) -> Decimal:
		"""Xero's rate when CurrencyRate is omitted: one made-up but stable rate per currency."""
		if currency == self.base_currency:
			return Decimal("1.000000")
		if currency not in self._daily_rates:
			self._daily_rates[currency] = Decimal(str(round(self.rng.uniform(0.4, 1.6), 6)))
		return self._daily_rates[currency]

	def _next_document_number(self, prefix: str) -> str:
		self._next_number[prefix] = self._next_number.get(prefix, 0) + 1
		return f"{prefix}{self._next_number[prefix]:04d}"

	@staticmethod
	def _batch(elements, save) -> list[ElementResult]:
		results = []
		for element in elements:
			warnings: list[str] = []
			try:
				results.append(ElementResult(save(element, warnings), warnings=warnings))
			except ElementError as error:
				results.append(ElementResult(copy.deepcopy(element), [str(error)], warnings))
		return results

	# --- contacts --------------------------------------------------------------------------------------

	def save_contacts(self, elements: list[dict], *, create_only: bool) -> list[ElementResult]:
		return self._batch(elements, lambda element, _warnings: self._save_contact(element, create_only))

	def _save_contact(self, data: dict, create_only: bool) -> dict:
		existing = None
		if data.get("ContactID"):
			existing = self.contacts.get(str(data["ContactID"]).lower())
			if existing is None or create_only:
				raise ElementError(f"The contact with ID {data['ContactID']} could not be found.")
		elif not create_only and data.get("ContactNumber"):
			existing = self._contact_by_number(data["ContactNumber"])
		contact = copy.deepcopy(existing) if existing else self._new_contact()
		contact |= {key: value for key, value in data.items() if key not in COMPUTED_CONTACT_KEYS}
		contact["ContactID"] = contact["ContactID"].lower()
		self._check_contact(contact)
		contact["UpdatedDateUTC"] = self._now()
		self.contacts[contact["ContactID"]] = contact
		self._event("CONTACT", "Contacts", contact["ContactID"], created=existing is None)
		return copy.deepcopy(contact)

	def _new_contact(self) -> dict:
		return {
			"ContactID": self._new_id(),
			"ContactStatus": "ACTIVE",
			"Name": "",
			"Addresses": [],
			"Phones": [],
			"ContactGroups": [],
			"ContactPersons": [],
			"IsSupplier": False,
			"IsCustomer": False,
			"HasAttachments": False,
			"HasValidationErrors": False,
		}

	def _check_contact(self, contact: dict):
		name = (contact.get("Name") or "").strip()
		if not name:
			raise ElementError("Contact Name cannot be empty.")
		if len(name) > 255:
			raise ElementError("The Contact Name must not be more than 255 characters.")
		if contact.get("ContactStatus") not in ("ACTIVE", "ARCHIVED"):
			raise ElementError("The ContactStatus must be ACTIVE or ARCHIVED.")
		if contact["ContactStatus"] == "ACTIVE":
			clash = self._active_contact_by_name(name)
			if clash and clash["ContactID"] != contact["ContactID"]:
				raise ElementError(DUPLICATE_CONTACT_NAME.format(name=name))
		number = contact.get("ContactNumber")
		if number:
			if len(number) > 50:
				raise ElementError("The Contact Number must not be more than 50 characters.")
			clash = self._contact_by_number(number)
			if clash and clash["ContactID"] != contact["ContactID"]:
				raise ElementError(DUPLICATE_CONTACT_NUMBER.format(number=number))
		email = contact.get("EmailAddress")
		if email and not EMAIL.match(email):
			raise ElementError("Email address must be valid.")

	def _active_contact_by_name(self, name: str) -> dict | None:
		wanted = name.strip().lower()
		return next(
			(
				c
				for c in self.contacts.values()
				if c["ContactStatus"] == "ACTIVE" and c["Name"].strip().lower() == wanted
			),
			None,
		)

	def _contact_by_number(self, number: str) -> dict | None:
		return next((c for c in self.contacts.values() if c.get("ContactNumber") == number), None)

	def _resolve_contact(self, ref) -> dict:
		"""The contact of a new document: by ContactID, ContactNumber, or Name (Xero creates it if new)."""
		if not isinstance(ref, dict) or not (
			ref.get("ContactID") or ref.get("ContactNumber") or ref.get("Name")
		):
			raise ElementError("A Contact must be specified for this type of transaction")
		if ref.get("ContactID"):
			contact = self.contacts.get(str(ref["ContactID"]).lower())
		elif ref.get("ContactNumber"):
			contact = self._contact_by_number(ref["ContactNumber"])
		else:
			contact = self._active_contact_by_name(ref["Name"]) or next(
				(
					c
					for c in self.contacts.values()
					if c["Name"].strip().lower() == ref["Name"].strip().lower()
				),
				None,
			)
			if contact is None:
				contact = self._save_contact({"Name": ref["Name"]}, create_only=True)
				contact = self.contacts[contact["ContactID"]]
		if contact is None:
			raise ElementError("The contact could not be found.")
		if contact["ContactStatus"] == "ARCHIVED":
			raise ElementError(ARCHIVED_CONTACT)
		return contact

	# --- invoices and credit notes ---------------------------------------------------------------------

	def save_invoices(self, elements, *, create_only: bool, unitdp: int = 2) -> list[ElementResult]:
		return self._batch(
			elements,
			lambda element, warnings: self._save_document(INVOICE, element, create_only, unitdp, warnings),
		)

	def save_credit_notes(self, elements, *, create_only: bool, unitdp: int = 2) -> list[ElementResult]:
		return self._batch(
			elements,
			lambda element, warnings: self._save_document(
				CREDIT_NOTE, element, create_only, unitdp, warnings
			),
		)

	def find_document(self, kind: DocumentKind, id_or_number: str) -> dict | None:
		documents = getattr(self, kind.collection)
		found = documents.get(str(id_or_number).lower())
		if found is None:
			found = next(
				(
					d
					for d in documents.values()
					if d.get(kind.number_key) == id_or_number and d["Status"] != "DELETED"
				),
				None,
			)
		return found

	def _save_document(
		self, kind: DocumentKind, data: dict, create_only: bool, unitdp: int, warnings
	) -> dict:
		documents = getattr(self, kind.collection)
		existing = None
		if data.get(kind.id_key):
			existing = documents.get(str(data[kind.id_key]).lower())
			if existing is None or create_only:
				raise ElementError(f"{kind.label} could not be found")
		new_status = data.get("Status") or (existing["Status"] if existing else "DRAFT")
		if existing:
			self._check_transition(kind, existing, new_status)
			if new_status in ("VOIDED", "DELETED"):
				return self._close_document(kind, existing, new_status)
		elif new_status not in STATUS_TRANSITIONS[None]:
			raise ElementError(f"{kind.label} not of valid status for creation")

		document = copy.deepcopy(existing) if existing else self._new_document(kind)
		document |= {key: value for key, value in data.items() if key not in COMPUTED_DOCUMENT_KEYS}
		document[kind.id_key] = document[kind.id_key].lower()
		document["Status"] = new_status
		if document.get("Type") not in kind.types:
			raise ElementError(f"{kind.label} Type must be one of {', '.join(kind.types)}")
		sales = document["Type"] == kind.types[0]
		if not existing or "Contact" in data:
			contact = self._resolve_contact(data.get("Contact"))
			document["Contact"] = {
				"ContactID": contact["ContactID"],
				"Name": contact["Name"],
				**({"ContactNumber": contact["ContactNumber"]} if contact.get("ContactNumber") else {}),
				"ContactStatus": contact["ContactStatus"],
				"HasValidationErrors": False,
			}
		self._set_dates(document)
		self._set_number(kind, document, sales)
		self._set_currency(document, warnings)
		# Lines kept from before were stored at their own precision; re-checking them at 2 dp would break them.
		self._set_lines_and_totals(kind, document, unitdp if "LineItems" in data else 4, data)
		paid = document.get("AmountPaid", ZERO) + document.get("AmountCredited", ZERO)
		outstanding = document["Total"] - paid
		if kind is INVOICE:
			document["AmountDue"] = outstanding
		else:
			document["RemainingCredit"] = outstanding
		document["UpdatedDateUTC"] = self._now()

		contact = self.contacts[document["Contact"]["ContactID"]]
		role = "IsCustomer" if document["Type"] in ("ACCREC", "ACCPAYCREDIT") else "IsSupplier"
		if document["Status"] != "DRAFT" and not contact[role]:
			contact[role] = True
			contact["UpdatedDateUTC"] = document["UpdatedDateUTC"]
		documents[document[kind.id_key]] = document
		self._event(kind.event_category, kind.resource, document[kind.id_key], created=existing is None)
		return copy.deepcopy(document)

	def _new_document(self, kind: DocumentKind) -> dict:
		return {
			kind.id_key: self._new_id(),
			"LineAmountTypes": "Exclusive",
			"Reference": "",
			"HasErrors": False,
			"IsDiscounted": False,
			"HasAttachments": False,
			"SentToContact": False,
			"Payments": [],
			"AmountPaid": ZERO,
			**({"AmountCredited": ZERO, "CreditNotes": []} if kind is INVOICE else {"Allocations": []}),
		}

	def _check_transition(self, kind: DocumentKind, existing: dict, new_status: str):
		settled = existing.get("AmountPaid", ZERO) + existing.get("AmountCredited", ZERO)
		if kind is CREDIT_NOTE:
			settled += sum((a["Amount"] for a in existing.get("Allocations", [])), ZERO)
		if settled > 0:
			raise ElementError(HAS_PAYMENT_OR_ALLOCATION)
		if new_status not in STATUS_TRANSITIONS[existing["Status"]]:
			raise ElementError(f"{kind.label} not of valid status for modification")

	def _close_document(self, kind: DocumentKind, document: dict, status: str) -> dict:
		document["Status"] = status
		document["UpdatedDateUTC"] = self._now()
		if kind is INVOICE:
			document["AmountDue"] = ZERO
		else:
			document["RemainingCredit"] = ZERO
		self._event(kind.event_category, kind.resource, document[kind.id_key], created=False)
		return copy.deepcopy(document)

	def _set_dates(self, document: dict):
		for key in ("Date", "DueDate"):
			value = document.get(key)
			if value is None and key == "Date":
				day = self._today()
			elif value is None:
				document.pop(f"{key}String", None)
				continue
			else:
				try:
					day = parse_date(value)
				except ValueError:
					raise ElementError(f"The {key} '{value}' is not a valid date.")
			document[key] = ms_date(day)
			document[f"{key}String"] = date_string(day)

	def _set_number(self, kind: DocumentKind, document: dict, sales: bool):
		number = document.get(kind.number_key)
		if sales and not number:
			document[kind.number_key] = self._next_document_number(kind.number_prefix)
		elif sales and kind is INVOICE:
			clash = self.find_document(kind, number)
			if clash and clash[kind.id_key] != document[kind.id_key]:
				raise ElementError(DUPLICATE_INVOICE_NUMBER)
		document.setdefault(kind.number_key, "")

	def _set_currency(self, document: dict, warnings: list[str]):
		code = document.get("CurrencyCode") or self.base_currency
		if code not in self.currencies:
			raise ElementError(f"The currency code {code} is not enabled for this organisation.")
		document["CurrencyCode"] = code
		rate = document.get("CurrencyRate")
		if code == self.base_currency:
			document["CurrencyRate"] = Decimal("1.000000")
		elif rate in (None, "", 0):
			document["CurrencyRate"] = self.daily_rate(code)
		else:
			document["CurrencyRate"] = to_decimal(rate, "CurrencyRate")
			if document["CurrencyRate"] == 1:
				# Xero accepts it silently; it is almost always a bug in the sender.
				self.notes.append(f"CurrencyRate 1 sent for foreign currency {code}")

	def _set_lines_and_totals(self, kind: DocumentKind, document: dict, unitdp: int, data: dict):
		amount_types = document.get("LineAmountTypes") or "Exclusive"
		if amount_types not in ("Exclusive", "Inclusive", "NoTax"):
			raise ElementError("LineAmountTypes must be Exclusive, Inclusive or NoTax")
		lines = [
			self._line(line, amount_types, unitdp, document["Status"])
			for line in document.get("LineItems") or []
		]
		document["LineItems"] = lines
		total_tax = sum((line["TaxAmount"] for line in lines), ZERO)
		line_total = sum((line["LineAmount"] for line in lines), ZERO)
		sub_total = line_total - total_tax if amount_types == "Inclusive" else line_total
		total = sub_total + total_tax
		if (
			"Total" in data
			and data["Total"] is not None
			and money(to_decimal(data["Total"], "Total")) != total
		):
			raise ElementError(
				f"The document total {data['Total']} does not equal the sum of the line amounts and tax {total}."
			)
		document |= {"SubTotal": sub_total, "TotalTax": total_tax, "Total": total}
		if document["Status"] != "DRAFT" and not lines:
			raise ElementError(f"{kind.label} must have at least one line item")

	def _line(self, data: dict, amount_types: str, unitdp: int, status: str) -> dict:
		line = copy.deepcopy(data)
		line.setdefault("LineItemID", self._new_id())
		item = None
		if line.get("ItemCode"):
			item = next((i for i in self.items.values() if i["Code"] == line["ItemCode"]), None)
			if item is None:
				raise ElementError(f"Item code '{line['ItemCode']}' is not valid")
			details = item.get("SalesDetails") or {}
			line.setdefault("Description", item.get("Description"))
			line.setdefault("AccountCode", details.get("AccountCode"))
			line.setdefault("UnitAmount", details.get("UnitPrice"))
		quantity = to_decimal(line.get("Quantity") if line.get("Quantity") is not None else 1, "Quantity")
		unit_places = Decimal("0.0001") if unitdp == 4 else CENT
		discount = to_decimal(line.get("DiscountRate") or 0, "DiscountRate")
		given_line_amount = line.get("LineAmount")
		if line.get("UnitAmount") is None and given_line_amount is not None and quantity:
			line["UnitAmount"] = to_decimal(given_line_amount, "LineAmount") / quantity
		unit_amount = to_decimal(line.get("UnitAmount") or 0, "UnitAmount").quantize(
			unit_places, rounding=ROUND_HALF_UP
		)
		line_amount = money(quantity * unit_amount * (1 - discount / 100))
		if (
			given_line_amount is not None
			and money(to_decimal(given_line_amount, "LineAmount")) != line_amount
		):
			raise ElementError(
				f"The line total {given_line_amount} does not match the expected line total {line_amount}"
			)
		account = None
		if line.get("AccountCode"):
			account = self.account_by_code(line["AccountCode"])
			if (
				account is None
				or account["Status"] != "ACTIVE"
				or account.get("SystemAccount")
				in (
					"DEBTORS",
					"CREDITORS",
					"GST",
				)
			):
				raise ElementError(
					f"Account code '{line['AccountCode']}' is not a valid code for this document."
				)
		elif status != "DRAFT" and line_amount:
			raise ElementError("An Account Code must be specified for each line item on an approved document")
		tax_type = line.get("TaxType") or (account["TaxType"] if account else "NONE")
		if amount_types == "NoTax":
			tax_type = line.get("TaxType") or "NONE"
		if tax_type not in self.tax_rates:
			raise ElementError(f"The TaxType code {tax_type} does not exist or cannot be used.")
		rate = self.tax_rates[tax_type]["EffectiveRate"]
		if amount_types == "Exclusive":
			tax = money(line_amount * rate / 100)
		elif amount_types == "Inclusive":
			tax = money(line_amount * rate / (100 + rate))
		else:
			tax = ZERO
		for tracking in line.get("Tracking") or []:
			self._check_tracking(tracking)
		line |= {
			"Quantity": quantity,
			"UnitAmount": unit_amount,
			"LineAmount": line_amount,
			"TaxType": tax_type,
			"TaxAmount": tax,
			"Tracking": line.get("Tracking") or [],
		}
		if discount:
			line["DiscountRate"] = discount
		return line

	def _check_tracking(self, tracking: dict):
		category = next(
			(c for c in self.tracking_categories.values() if c["Name"] == tracking.get("Name")), None
		) or self.tracking_categories.get(str(tracking.get("TrackingCategoryID", "")).lower())
		if category is None:
			raise ElementError(f"The tracking category {tracking.get('Name')} does not exist.")
		if not any(o["Name"] == tracking.get("Option") for o in category["Options"]):
			raise ElementError(
				f"The tracking option {tracking.get('Option')} does not exist in category {category['Name']}."
			)
		tracking["TrackingCategoryID"] = category["TrackingCategoryID"]

	def view_document(self, document: dict, unitdp: int) -> dict:
		"""A document as Xero answers it: UnitAmount at 2 places unless the request asked for unitdp=4."""
		view = copy.deepcopy(document)
		if unitdp != 4:
			for line in view.get("LineItems", []):
				line["UnitAmount"] = money(line["UnitAmount"])
		return view

	# --- payments --------------------------------------------------------------------------------------

	def save_payments(self, elements: list[dict]) -> list[ElementResult]:
		return self._batch(elements, lambda element, _warnings: self._save_payment(element))

	def _payment_target(self, data: dict) -> tuple[DocumentKind, dict]:
		for kind, key in ((INVOICE, "Invoice"), (CREDIT_NOTE, "CreditNote")):
			ref = data.get(key)
			if isinstance(ref, dict) and (ref.get(kind.id_key) or ref.get(kind.number_key)):
				document = self.find_document(kind, ref.get(kind.id_key) or ref.get(kind.number_key))
				if document is None:
					raise ElementError(f"{kind.label} could not be found")
				return kind, document
		raise ElementError("You must specify either an Invoice or a CreditNote for the payment")

	def _save_payment(self, data: dict) -> dict:
		if data.get("PaymentID"):
			raise ElementError("Payments cannot be edited; delete the payment and create it again")
		kind, document = self._payment_target(data)
		account = self._account_ref(data.get("Account"))
		if account is None:
			raise ElementError("Account could not be found")
		if account["Type"] != "BANK" and not account["EnablePaymentsToAccount"]:
			raise ElementError(
				f"Payments can only be made to BANK accounts or accounts with payments enabled ({account['Code']})"
			)
		if document["Status"] != "AUTHORISED":
			raise ElementError(NOT_AUTHORISED_FOR_PAYMENT)
		amount = money(to_decimal(data.get("Amount", 0), "Amount"))
		if amount <= 0:
			raise ElementError("Payment amount must be greater than zero")
		outstanding_key = "AmountDue" if kind is INVOICE else "RemainingCredit"
		if amount > document[outstanding_key]:
			raise ElementError(PAYMENT_EXCEEDS_DUE)
		try:
			day = parse_date(data["Date"]) if data.get("Date") else self._today()
		except ValueError:
			raise ElementError(f"The Date '{data['Date']}' is not a valid date.")
		now = self._now()
		rate = data.get("CurrencyRate")
		payment = {
			"PaymentID": self._new_id(),
			"Date": ms_date(day),
			"Amount": amount,
			"BankAmount": amount,
			"CurrencyRate": to_decimal(rate, "CurrencyRate") if rate else document["CurrencyRate"],
			"Reference": data.get("Reference", ""),
			"PaymentType": {
				"ACCREC": "ACCRECPAYMENT",
				"ACCPAY": "ACCPAYPAYMENT",
				"ACCRECCREDIT": "ARCREDITPAYMENT",
				"ACCPAYCREDIT": "APCREDITPAYMENT",
			}[document["Type"]],
			"Status": "AUTHORISED",
			"UpdatedDateUTC": now,
			"HasAccount": True,
			"IsReconciled": bool(data.get("IsReconciled", False)),
			"HasValidationErrors": False,
			"Account": {"AccountID": account["AccountID"], "Code": account["Code"], "Name": account["Name"]},
			("Invoice" if kind is INVOICE else "CreditNote"): self._document_summary(kind, document),
		}
		document["AmountPaid"] += amount
		document[outstanding_key] -= amount
		document["Payments"].append(
			{
				"PaymentID": payment["PaymentID"],
				"Date": payment["Date"],
				"Amount": amount,
				"Reference": payment["Reference"],
				"CurrencyRate": payment["CurrencyRate"],
				"HasAccount": True,
				"HasValidationErrors": False,
			}
		)
		self._settle(document, outstanding_key, day)
		self.payments[payment["PaymentID"]] = payment
		return copy.deepcopy(payment)

	@staticmethod
	def _document_summary(kind: DocumentKind, document: dict) -> dict:
		return {
			"Type": document["Type"],
			kind.id_key: document[kind.id_key],
			kind.number_key: document[kind.number_key],
			"Contact": {"ContactID": document["Contact"]["ContactID"], "Name": document["Contact"]["Name"]},
			"CurrencyCode": document["CurrencyCode"],
		}

	def _settle(self, document: dict, outstanding_key: str, day: date):
		"""PAID when nothing is outstanding; back to AUTHORISED when a payment is removed."""
		if document[outstanding_key] == 0 and document["Total"] > 0:
			document["Status"] = "PAID"
			document["FullyPaidOnDate"] = ms_date(day)
		elif document["Status"] == "PAID":
			document["Status"] = "AUTHORISED"
			document.pop("FullyPaidOnDate", None)
		document["UpdatedDateUTC"] = self._now()

	def delete_payment(self, payment_id: str, data: dict) -> ElementResult:
		payment = self.payments[payment_id]
		if data.get("Status") != "DELETED":
			return ElementResult(copy.deepcopy(data), ["Payments can only be deleted (Status DELETED)"])
		if payment["Status"] == "DELETED":
			return ElementResult(copy.deepcopy(payment), ["This payment has already been deleted"])
		reference_key, kind = ("Invoice", INVOICE) if "Invoice" in payment else ("CreditNote", CREDIT_NOTE)
		document = getattr(self, kind.collection)[payment[reference_key][kind.id_key]]
		outstanding_key = "AmountDue" if kind is INVOICE else "RemainingCredit"
		document["AmountPaid"] -= payment["Amount"]
		document[outstanding_key] += payment["Amount"]
		document["Payments"] = [p for p in document["Payments"] if p["PaymentID"] != payment_id]
		self._settle(document, outstanding_key, self._today())
		payment["Status"] = "DELETED"
		payment["UpdatedDateUTC"] = self._now()
		return ElementResult(copy.deepcopy(payment))

	# --- credit note allocations -----------------------------------------------------------------------

	def allocate_credit_note(self, credit_note_id: str, elements: list[dict]) -> list[ElementResult]:
		credit_note = self.credit_notes[credit_note_id]
		return self._batch(elements, lambda element, _warnings: self._allocate(credit_note, element))

	def _allocate(self, credit_note: dict, data: dict) -> dict:
		ref = data.get("Invoice") or {}
		invoice = self.find_document(INVOICE, ref.get("InvoiceID") or ref.get("InvoiceNumber") or "")
		if invoice is None:
			raise ElementError("Invoice could not be found")
		if credit_note["Status"] != "AUTHORISED" or invoice["Status"] != "AUTHORISED":
			raise ElementError("Allocations can only be made between Authorised documents")
		expected_type = {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY"}[credit_note["Type"]]
		if invoice["Type"] != expected_type:
			raise ElementError(
				f"A {credit_note['Type']} credit note can only be allocated to an {expected_type}"
			)
		if invoice["Contact"]["ContactID"] != credit_note["Contact"]["ContactID"]:
			raise ElementError("The credit note and the invoice must belong to the same contact")
		amount = money(to_decimal(data.get("Amount", 0), "Amount"))
		if amount <= 0:
			raise ElementError("Allocation amount must be greater than zero")
		if amount > credit_note["RemainingCredit"]:
			raise ElementError("The amount allocated exceeds the remaining credit on the credit note")
		if amount > invoice["AmountDue"]:
			raise ElementError(PAYMENT_EXCEEDS_DUE)
		day = parse_date(data["Date"]) if data.get("Date") else self._today()
		allocation = {
			"AllocationID": self._new_id(),
			"Amount": amount,
			"Date": ms_date(day),
			"Invoice": self._document_summary(INVOICE, invoice),
			"CreditNote": self._document_summary(CREDIT_NOTE, credit_note),
			"IsDeleted": False,
		}
		invoice["AmountCredited"] += amount
		invoice["AmountDue"] -= amount
		invoice["CreditNotes"].append(
			{
				"CreditNoteID": credit_note["CreditNoteID"],
				"CreditNoteNumber": credit_note["CreditNoteNumber"],
				"AppliedAmount": amount,
			}
		)
		credit_note["RemainingCredit"] -= amount
		credit_note["Allocations"].append({k: v for k, v in allocation.items() if k != "CreditNote"})
		self._settle(invoice, "AmountDue", day)
		self._settle(credit_note, "RemainingCredit", day)
		self.allocations[allocation["AllocationID"]] = allocation
		self._event("INVOICE", "Invoices", invoice["InvoiceID"], created=False)
		self._event("CREDITNOTE", "CreditNotes", credit_note["CreditNoteID"], created=False)
		return copy.deepcopy(allocation)

	# --- items -----------------------------------------------------------------------------------------

	def save_items(self, elements: list[dict], *, create_only: bool) -> list[ElementResult]:
		return self._batch(elements, lambda element, _warnings: self._save_item(element, create_only))

	def _save_item(self, data: dict, create_only: bool) -> dict:
		code = data.get("Code")
		if not code:
			raise ElementError("Item Code must be specified")
		if len(code) > 30:
			raise ElementError("Item Code must not be more than 30 characters")
		existing = self.items.get(str(data.get("ItemID", "")).lower()) or next(
			(i for i in self.items.values() if i["Code"] == code), None
		)
		if existing and create_only:
			raise ElementError(f"Item code '{code}' already exists")
		item = (
			copy.deepcopy(existing) if existing else {"ItemID": self._new_id(), "IsTrackedAsInventory": False}
		)
		item |= {k: v for k, v in data.items() if k not in ("ItemID", "UpdatedDateUTC", "ValidationErrors")}
		for details_key in ("SalesDetails", "PurchaseDetails"):
			details = item.get(details_key) or {}
			if details.get("AccountCode") and self.account_by_code(details["AccountCode"]) is None:
				raise ElementError(f"Account code '{details['AccountCode']}' is not a valid code")
			if details.get("UnitPrice") is not None:
				details["UnitPrice"] = to_decimal(details["UnitPrice"], "UnitPrice")
		item.setdefault("Name", code)
		item["IsSold"] = bool(item.get("SalesDetails"))
		item["IsPurchased"] = bool(item.get("PurchaseDetails"))
		item["UpdatedDateUTC"] = self._now()
		self.items[item["ItemID"]] = item
		return copy.deepcopy(item)
