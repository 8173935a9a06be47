"""The errors every Xero call can end in, named by what the caller should do about them."""


class XeroError(Exception):
	"""Base: `retryable` says whether the same request may simply be sent again later."""

	retryable = False

	def __init__(self, message: str, *, status: int | None = None, body=None):
		self.status = status
		self.body = body
		super().__init__(message)


class XeroUnavailable(XeroError):
	"""5xx, timeout or a dropped connection. `uncertain` means the write may have happened."""

	retryable = True

	def __init__(self, message: str, *, status: int | None = None, body=None, uncertain: bool = False):
		super().__init__(message, status=status, body=body)
		self.uncertain = uncertain


class XeroRateLimited(XeroError):
	retryable = True

	def __init__(self, message: str, *, retry_after: float, problem: str, status: int | None = 429):
		super().__init__(message, status=status)
		self.retry_after = retry_after
		self.problem = problem


class XeroAuthError(XeroError):
	"""401/403: the token is refused or the organisation is no longer connected."""


class XeroNotFound(XeroError):
	pass


class XeroValidationError(XeroError):
	"""400: Xero refused the content. Never retried blindly: a person or a mapping must change."""

	def __init__(
		self, message: str, *, status: int | None = 400, body=None, messages: list[str] | None = None
	):
		super().__init__(message, status=status, body=body)
		self.messages = messages or [message]
