"""Items with Xero's rules (the spec's and XERO-FACTS'), driven through the real xero-python SDK over HTTP."""

from decimal import Decimal

import pytest
from xero_python.accounting import Item, Items, Purchase
from xero_python.exceptions import AccountingBadRequestException

from xero_integration.emulator.test_rules import validation_messages


def create(xero, tenant_id, **fields) -> Item:
	return xero.accounting.create_items(tenant_id, Items(items=[Item(**fields)])).items[0]


def update(xero, tenant_id, item_id, **fields) -> Item:
	return xero.accounting.update_item(tenant_id, item_id, Items(items=[Item(**fields)])).items[0]


def test_an_item_is_sold_and_purchased_and_untracked_unless_told_otherwise(xero, tenant_id):
	item = create(xero, tenant_id, code="HOURS", name="Consulting hours")
	assert (item.is_sold, item.is_purchased, item.is_tracked_as_inventory) == (True, True, False)


def test_an_item_no_longer_sold_loses_its_sales_description_and_details(xero, tenant_id):
	item = create(
		xero,
		tenant_id,
		code="WIDGET",
		name="Widget",
		description="A widget",
		sales_details=Purchase(unit_price=Decimal("12.50"), account_code="200"),
		purchase_details=Purchase(unit_price=Decimal("7.00"), account_code="310"),
	)
	assert item.sales_details.unit_price == Decimal("12.50")
	changed = update(xero, tenant_id, item.item_id, code="WIDGET", is_sold=False)
	assert (changed.is_sold, changed.description, changed.sales_details) == (False, None, None)
	assert changed.purchase_details.account_code == "310"


def test_a_code_already_taken_is_refused_on_create(xero, tenant_id):
	create(xero, tenant_id, code="TAKEN", name="First")
	with pytest.raises(AccountingBadRequestException) as refused:
		create(xero, tenant_id, code="TAKEN", name="Second")
	assert validation_messages(refused.value) == ["Price List Item with Code 'TAKEN' already exists"]


def test_a_tracked_item_needs_an_inventory_account_and_a_cost_of_goods_account(xero, tenant_id):
	with pytest.raises(AccountingBadRequestException) as refused:
		create(xero, tenant_id, code="STOCK-1", name="Stocked", inventory_asset_account_code="630")
	assert "COGSAccountCode" in validation_messages(refused.value)[0]
	with pytest.raises(AccountingBadRequestException) as refused:
		create(
			xero,
			tenant_id,
			code="STOCK-2",
			name="Stocked",
			inventory_asset_account_code="400",
			purchase_details=Purchase(cogs_account_code="310"),
		)
	assert validation_messages(refused.value) == ["Account code '400' is not an inventory account"]
	item = create(
		xero,
		tenant_id,
		code="STOCK-3",
		name="Stocked",
		inventory_asset_account_code="630",
		purchase_details=Purchase(cogs_account_code="310"),
	)
	assert item.is_tracked_as_inventory is True
