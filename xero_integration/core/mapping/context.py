"""What every mapping needs to know about one ERPNext company and its Xero organisation."""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MappingContext:
	base_currency: str
	enabled_currencies: frozenset[str]
	# ERPNext account name -> Xero account Code (income, expense, tax heads, bank, rounding, ...)
	account_codes: Mapping[str, str]
	# Item Tax Template, Sales/Purchase Taxes and Charges Template, or tax account_head -> Xero TaxType
	tax_types: Mapping[str, str]
	item_codes: Mapping[str, str] = field(default_factory=dict)
	# ERPNext cost center -> (Xero tracking category name, option name)
	tracking: Mapping[str, tuple[str, str]] = field(default_factory=dict)
	rounding_account_code: str | None = None
	no_tax_type: str = "NONE"
	unitdp: int = 4
	# Decimal places ERPNext keeps in an item's rate (it rounds rates to this before totalling).
	rate_precision: int = 2


class MappingError(Exception):
	"""Everything that stops one document from being mapped, each problem a plain sentence."""

	def __init__(self, problems: list[str]):
		self.problems = list(problems)
		super().__init__("; ".join(self.problems))


class Problems:
	"""Collects a document's problems so the user sees all of them in one error, not one per retry."""

	def __init__(self):
		self.items: list[str] = []

	def add(self, problem: str) -> None:
		if problem not in self.items:
			self.items.append(problem)

	def raise_if_any(self) -> None:
		if self.items:
			raise MappingError(self.items)


def account_code(ctx: MappingContext, account: str | None, problems: Problems, *, purpose: str) -> str | None:
	"""The Xero account Code for an ERPNext account, or a problem naming the account."""
	if not account:
		problems.add(f"No {purpose} account is set.")
		return None
	code = ctx.account_codes.get(account)
	if not code:
		problems.add(f"Account '{account}' has no Xero account code: add it in Xero Account Mapping.")
	return code


def check_currency(ctx: MappingContext, currency: str | None, problems: Problems) -> None:
	if currency and currency != ctx.base_currency and currency not in ctx.enabled_currencies:
		problems.add(
			f"Currency {currency} is not enabled in the Xero organisation: add it under Xero Currencies."
		)
