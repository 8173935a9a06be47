import datetime

from xero_integration.core import pull

UTC = datetime.timezone.utc


def at(second: int, ms: int = 0) -> str:
	moment = datetime.datetime(2026, 11, 22, 3, 0, second, tzinfo=UTC)
	return f"/Date({int(moment.timestamp() * 1000) + ms}+0000)/"


def test_xero_timestamps_in_every_format_compare_equal():
	assert pull.same_moment(at(5, 250), "2026-11-22T03:00:05.250")
	assert pull.same_moment(at(5, 250), "2026-11-22T03:00:05.250Z")
	assert not pull.same_moment(at(5, 250), at(5, 251))
	assert not pull.same_moment(None, None)


def test_if_modified_since_floors_to_the_second_so_that_second_is_read_again():
	assert pull.if_modified_since(at(7, 999)) == datetime.datetime(2026, 11, 22, 3, 0, 7, tzinfo=UTC)
	assert pull.if_modified_since(None) is None


def test_watermark_moves_to_the_newest_applied_record():
	mark = pull.Watermark(at(1))
	for second in (2, 3, 9):
		mark.record(at(second), ok=True)
	assert mark.safe == pull.xero_datetime(at(9))


def test_a_failed_record_holds_the_watermark_at_itself():
	mark = pull.Watermark(at(1))
	mark.record(at(2), ok=True)
	mark.record(at(4), ok=False)
	mark.record(at(6), ok=True)  # applied, but re-read next time because of the failure before it
	mark.record(at(5), ok=False)
	assert mark.safe == pull.xero_datetime(at(4))


def test_a_failure_on_the_first_record_keeps_the_old_watermark_or_less():
	mark = pull.Watermark(None)
	mark.record(at(3), ok=False)
	mark.record(at(8), ok=True)
	assert mark.safe == pull.xero_datetime(at(3))


def test_event_window_looks_back_from_the_earliest_event():
	window = pull.event_window(["2026-11-22T03:10:00.500", "2026-11-22T03:09:00.000"])
	assert window == datetime.datetime(2026, 11, 22, 3, 4, 0, tzinfo=UTC)
	assert pull.event_window([]) is None


def test_conflict_winner_by_policy():
	older, newer = at(1), at(2)
	assert pull.winner(pull.ERPNEXT_WINS, erpnext_changed=False) == "xero"
	assert pull.winner(pull.ERPNEXT_WINS, erpnext_changed=True) == "erpnext"
	assert pull.winner(pull.XERO_WINS, erpnext_changed=True) == "xero"
	assert (
		pull.winner(pull.NEWEST_WINS, erpnext_changed=True, erpnext_modified=older, xero_updated=newer)
		== "xero"
	)
	assert (
		pull.winner(pull.NEWEST_WINS, erpnext_changed=True, erpnext_modified=newer, xero_updated=older)
		== "erpnext"
	)


def booked_invoice(**changes) -> dict:
	line = {
		"Description": "Hours",
		"Quantity": 2.0,
		"UnitAmount": 50.0,
		"AccountCode": "200",
		"TaxType": "OUTPUT2",
		"LineAmount": 100.0,
		"TaxAmount": 15.0,
		"Tracking": [],
	}
	invoice = {
		"Contact": {"ContactID": "c-1", "Name": "Acme"},
		"Date": "/Date(1795305600000+0000)/",
		"CurrencyCode": "NZD",
		"LineAmountTypes": "Exclusive",
		"LineItems": [line | changes.pop("line", {})],
		"Status": "AUTHORISED",
		"AmountDue": 115.0,
	}
	return invoice | changes


def test_booked_hash_ignores_payment_state_and_number_spelling():
	paid = booked_invoice(Status="PAID", AmountDue=0.0, AmountPaid=115.0)
	respelled = booked_invoice(line={"Quantity": 2, "UnitAmount": "50.0000", "DiscountRate": 0})
	assert pull.booked_hash(paid) == pull.booked_hash(booked_invoice()) == pull.booked_hash(respelled)


def test_booked_hash_sees_a_line_edit_that_keeps_the_total():
	# Same 100.00 + 15.00, booked to another account, or as 4 x 25.
	moved = booked_invoice(line={"AccountCode": "260"})
	split = booked_invoice(line={"Quantity": 4, "UnitAmount": 25})
	assert len({pull.booked_hash(booked_invoice()), pull.booked_hash(moved), pull.booked_hash(split)}) == 3


def test_a_failure_held_aside_lets_the_watermark_move_on():
	mark = pull.Watermark(at(1))
	mark.record(at(4), ok=False, held=True)
	mark.record(at(6), ok=True)
	assert mark.safe == pull.xero_datetime(at(6))
	assert mark.failed_at is None


def test_a_held_record_is_retried_until_the_cap_then_parked():
	attempts, parked = 0, False
	for _failure in range(pull.HOLD_ATTEMPTS - 1):
		attempts, parked = pull.after_failure(attempts)
		assert not parked
	assert pull.after_failure(attempts) == (pull.HOLD_ATTEMPTS, True)
