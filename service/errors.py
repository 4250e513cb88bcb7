"""The typed error tree of csvbot.

Every failure the service can name is one class here. Each class carries:

* ``kind`` — a stable, low-cardinality string. It is the ``outcome`` / ``kind`` label of
  metrics, the ``error_kind`` column of a failed job, and the key the bot uses to pick the
  user's message. Never change a published kind: dashboards and alerts select on it.
* ``retryable`` — whether trying the same thing again later can succeed. Workers retry only
  retryable errors; storage retries only retryable errors of idempotent operations.
* ``user_message`` — what a Telegram user is told. Specific, actionable, no internals.

The module is a leaf: it imports nothing from the service, so every layer can raise these.
"""

from __future__ import annotations


class CsvbotError(Exception):
    """Base of every error the service raises on purpose."""

    kind: str = "internal"
    retryable: bool = False
    user_message: str = "Something went wrong on our side. Please try again later."

    def __init__(self, message: str | None = None, *, user_message: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.kind)
        if user_message is not None:
            self.user_message = user_message


class RetryableError(CsvbotError):
    """A failure that may go away by itself: try again later."""

    retryable = True


class OutageError(RetryableError):
    """A dependency is down or too slow (storage, the database, Telegram, the broker): the same
    work succeeds once it is back, so a job waits the outage out instead of using up its
    attempts (JOB_OUTAGE_RIDE_OUT_SECONDS)."""


class PermanentError(CsvbotError):
    """A failure that the same input will always meet: do not retry."""

    retryable = False


# --- configuration -----------------------------------------------------------------------


class ConfigError(PermanentError):
    """A setting is missing or has a value the service cannot use."""

    kind = "config"

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


# --- storage -------------------------------------------------------------------------------


class StorageTimeoutError(OutageError):
    """A storage operation did not finish within its deadline."""

    kind = "storage_timeout"
    # Nothing here claims the file was kept: where that is true (the upload spool), the message
    # that says so comes from the spool, not from this error.
    user_message = "File storage is slow right now. Please try again in a minute."


class StorageUnavailableError(OutageError):
    """Storage answered 5xx, reset the connection or could not be reached."""

    kind = "storage_unavailable"
    user_message = "File storage is unavailable right now. Please try again in a few minutes."


class StorageNotFoundError(PermanentError):
    """The object does not exist (any more)."""

    kind = "storage_not_found"
    user_message = "That file is no longer stored. Please upload it again."


class StorageRejectedError(PermanentError):
    """Storage refused the request (4xx other than not-found): bad key, auth, size, …"""

    kind = "storage_rejected"


class StorageIntegrityError(RetryableError):
    """A transfer ended early or its size did not match: the data is incomplete."""

    kind = "storage_integrity"
    user_message = "A file transfer was interrupted. Please try again."


# --- database ------------------------------------------------------------------------------


class DatabaseUnavailableError(OutageError):
    """The database cannot be reached or dropped the connection."""

    kind = "db_unavailable"
    user_message = "Our database is unavailable right now. Please try again in a few minutes."


class PoolExhaustedError(OutageError):
    """No database session became free within the acquire timeout."""

    kind = "db_pool_exhausted"
    user_message = "The bot is very busy right now. Please try again in a minute."


class JobNotFoundError(PermanentError):
    """No such job, or it belongs to another user (the two are indistinguishable on purpose)."""

    kind = "job_not_found"
    user_message = "I can't find that job. Send /jobs to see your recent ones."


# --- user input (CSV) ----------------------------------------------------------------------


class InputError(PermanentError):
    """The user's file cannot be processed as sent. Subclasses say why."""

    kind = "invalid_input"
    user_message = "I couldn't process that file."


class NotCsvError(InputError):
    """The file is not text that looks like CSV (binary, an image, an archive, …)."""

    kind = "not_csv"
    user_message = "That doesn't look like a CSV file. Please send a .csv (or .tsv/.txt) text file."


class EmptyFileError(InputError):
    """The file has no data rows."""

    kind = "empty_file"
    user_message = "That file is empty: there are no rows to profile."


class FileTooLargeError(InputError):
    """The upload is larger than the configured maximum."""

    kind = "too_large"


class TooManyRowsError(InputError):
    """More data rows than the configured maximum."""

    kind = "too_many_rows"


class TooManyColumnsError(InputError):
    """More columns than the configured maximum."""

    kind = "too_many_columns"


class FieldTooLongError(InputError):
    """A single cell is longer than the configured maximum."""

    kind = "field_too_long"


class EncodingError(InputError):
    """The text encoding could not be determined."""

    kind = "bad_encoding"
    user_message = "I couldn't work out the file's text encoding. Please save it as UTF-8 and resend."


class MalformedCsvError(InputError):
    """So many rows are malformed (most of them) that the table was not understood."""

    kind = "malformed_csv"


# --- Telegram and rate limits ---------------------------------------------------------------


class FloodLimitedError(PermanentError):
    """A user sent more requests than the per-user flood limit allows."""

    kind = "flood_limited"
    user_message = "You're sending messages too fast. Please wait a few seconds."


class TelegramUnavailableError(OutageError):
    """The Telegram Bot API failed (429, 5xx or network) after our retries."""

    kind = "telegram_unavailable"
    user_message = "Telegram is not answering me right now. Please try again in a minute."


class TelegramFileGoneError(PermanentError):
    """Telegram refused a file for good (a 4xx on its download): asking again changes nothing."""

    kind = "telegram_file_gone"
    user_message = "Telegram would not give me that file. Please send it again."


# --- the job queue and per-user quotas ----------------------------------------------------


class BrokerUnavailableError(OutageError):
    """The task broker (Redis) could not take a job."""

    kind = "broker_unavailable"
    user_message = "Our job queue is unavailable right now. Please try again in a few minutes."


class QuotaExceededError(PermanentError):
    """A user is past a per-user quota (jobs in flight, or bytes per day)."""

    kind = "quota_exceeded"
    user_message = "You have reached your upload quota. Please wait a little and try again."


class ProcessingTimeoutError(PermanentError):
    """A job's CSV processing ran past JOB_PROCESS_TIMEOUT_SECONDS and was stopped."""

    kind = "processing_timeout"
    user_message = "That file took too long to process. Please split it into smaller files."


class InternalError(PermanentError):
    """A bug: an exception the service did not expect. Logged with its stack."""

    kind = "internal"


def kind_of(exc: BaseException) -> str:
    """The stable kind of any exception: its own for ours, ``internal`` for anything else."""
    if isinstance(exc, CsvbotError):
        return exc.kind
    return InternalError.kind


def all_error_kinds() -> tuple[str, ...]:
    """Every kind declared in this module, sorted: the closed label set for metrics."""
    kinds: set[str] = set()
    stack: list[type[CsvbotError]] = [CsvbotError]
    while stack:
        cls = stack.pop()
        kinds.add(cls.kind)
        stack.extend(cls.__subclasses__())
    return tuple(sorted(kinds))
