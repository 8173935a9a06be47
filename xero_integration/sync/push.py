"""The drain job: one organisation's outbox into Xero, in dependency order and batches of 50.

The work itself is done by the object families in sync/outbound/ (contacts, invoices and credit notes,
allocations, payments, advances), on their shared base: per batch, map each document, skip the unchanged, send with
summarizeErrors=false and an idempotency key, then settle each element's outcome on its row, its
document link and one log row, in the batch's transaction.
"""

import time
from typing import ClassVar

import frappe
from frappe import _

from xero_integration.sync import connection, outbox
from xero_integration.sync.outbound.advances import AdvancesOut
from xero_integration.sync.outbound.allocations import AllocationsOut
from xero_integration.sync.outbound.contacts import ContactsOut
from xero_integration.sync.outbound.invoices import TransactionsOut
from xero_integration.sync.outbound.items import ItemsOut
from xero_integration.sync.outbound.payments import PaymentsOut


class Pusher(ContactsOut, TransactionsOut, AllocationsOut, PaymentsOut, AdvancesOut, ItemsOut):
	"""One organisation's drain, doing every object family's work."""

	HANDLES: ClassVar[dict] = {
		**ContactsOut.HANDLES,
		**TransactionsOut.HANDLES,
		**AllocationsOut.HANDLES,
		**PaymentsOut.HANDLES,
		**AdvancesOut.HANDLES,
		**ItemsOut.HANDLES,
	}


def drain_all():
	"""Scheduler safety net: drain every connected organisation that has due work."""
	if not frappe.db.get_single_value("Xero Settings", "enabled"):
		return
	for organisation in outbox.organisations_with_due_work():
		outbox.schedule_drain(organisation)


def drain(organisation: str, max_batches: int | None = None, handed_over: bool = False) -> int:
	"""Send everything due for one organisation; returns the number of batches run."""
	if not frappe.db.get_single_value("Xero Settings", "enabled"):
		return 0
	if not connection.is_connected(organisation):
		return 0
	outbox.drain_started(organisation)
	lock = outbox.DrainLock(organisation)
	if not lock.acquire():
		return 0  # another worker is draining this organisation; it will pick our rows up
	batches, started = 0, time.monotonic()
	try:
		outbox.recover_abandoned(organisation, lock.dead_holder)
		frappe.db.commit()
		pusher = Pusher(organisation)
		# Renewed before every call to Xero: the lock lives as long as the drain does, and a drain that
		# has lost it (another one holds it now) stops before sending or settling anything more.
		pusher.client.before_request = lock.keep
		while max_batches is None or batches < max_batches:
			rows = outbox.due_rows(organisation, pusher.batch_size)
			if not rows:
				break
			stage = rows[0]["stage"]
			batch = distinct_work([row for row in rows if row["stage"] == stage])
			outbox.claim(batch, lock.token)
			stop = pusher.run(batch)
			lock.keep()
			frappe.db.commit()
			batches += 1
			if stop:
				break
			if time.monotonic() - started > outbox.DRAIN_SECONDS:
				outbox.schedule_drain(organisation, handover_from=handed_over)
				break
	except outbox.DrainLockLost:
		# Settle nothing: the rows stay Processing, and whoever holds the lock now takes them back once
		# they are older than a lock lives, looking each up in Xero before sending it again.
		frappe.db.rollback()
	except Exception:
		# An error outside any one document (the database, say) must not commit a half-settled batch;
		# its rows stay Processing and are looked up in Xero before they are sent again.
		frappe.db.rollback()
		raise
	finally:
		lock.release()
	return batches


def distinct_work(rows: list[dict]) -> list[dict]:
	"""One row per piece of work: a second row of the same work (left by an older version, or a merge
	that lost a race) is withdrawn, passing its uncertainty on."""
	kept: dict[tuple, dict] = {}
	for row in rows:
		key = (row["object_type"], row["operation"], row["reference_doctype"], row["reference_name"])
		if key in kept:
			kept[key]["uncertain"] = kept[key]["uncertain"] or row["uncertain"]
			outbox.withdraw([row["name"]], _("Same work as outbox row {0}.").format(kept[key]["name"]))
		else:
			kept[key] = row
	return list(kept.values())
