from xero_integration.core import objects


def test_payments_are_deleted_before_invoices_are_voided_and_created_after():
	order = objects.STAGE_ORDER
	assert order[("Contact", "upsert")] < order[("Invoice", "upsert")] < order[("Payment", "create")]
	assert order[("Payment", "delete")] < order[("Invoice", "void")] < order[("Payment", "create")]


def test_every_synced_object_depends_only_on_objects_before_it():
	for position, kind in enumerate(objects.SYNCED):
		assert set(objects.OBJECTS[kind].depends_on) <= set(objects.SYNCED[:position]), kind


def test_webhook_categories_name_their_objects():
	assert objects.of_category("CREDITNOTE").kind == "CreditNote"
	assert objects.of_category("SUBSCRIPTION") is None
