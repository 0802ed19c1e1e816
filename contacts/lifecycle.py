"""Customer data lifecycle: screenshots leave the disk with their attempt, and after
SCREENSHOT_RETENTION_DAYS; an account can be deleted with everything in it.

Files are removed only once the deleting transaction commits, so a rolled-back delete
never leaves a row pointing at a missing file.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.utils import timezone

from contacts.models import ContactAttempt

log = logging.getLogger(__name__)

SCREENSHOT_FIELDS = ("screenshot_form", "screenshot_result")


def screenshot_names(attempt: ContactAttempt) -> list[str]:
    return [getattr(attempt, name).name for name in SCREENSHOT_FIELDS if getattr(attempt, name)]


def delete_files_on_commit(names: list[str]) -> None:
    """Remove these stored files (and their emptied folders) after the transaction commits."""
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: delete_files(names))


def delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError as exc:  # already gone is fine; anything else is logged, not raised
            log.warning("could not delete screenshot %s: %s", name, exc)
        _remove_empty_folders(name)


def _remove_empty_folders(name: str) -> None:
    # screenshots/<owner>/<attempt>/form.jpg: drop the attempt's and owner's folders once empty.
    try:
        root = Path(default_storage.path(""))
        folder = Path(default_storage.path(name)).parent
    except NotImplementedError:  # a storage without local paths has no folders to tidy
        return
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def attempt_deleted(sender, instance: ContactAttempt, **kwargs) -> None:
    # Sent for each attempt however it goes: on its own, with its customer (cascade) or
    # with its user (cascade).
    delete_files_on_commit(screenshot_names(instance))


def connect() -> None:
    post_delete.connect(attempt_deleted, sender=ContactAttempt, dispatch_uid="contacts.attempt_screenshots")


def purge_old_screenshots(days: int | None = None, now=None) -> int:
    """Delete the screenshots of attempts that finished more than `days` days ago.

    The attempt and its outcome stay; only the images (customer details on a dealer's
    form) go. Returns how many files were deleted. days=0 keeps everything.
    """
    days = settings.SCREENSHOT_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = (
        ContactAttempt.objects.filter(Q(finished__lt=cutoff) | Q(finished__isnull=True, created__lt=cutoff))
        .exclude(status__in=("queued", "running", "awaiting_review"))  # a review shows its form
        .exclude(screenshot_form="", screenshot_result="")
    )
    count = 0
    for attempt in old.iterator():
        names = screenshot_names(attempt)
        with transaction.atomic():
            ContactAttempt.objects.filter(pk=attempt.pk).update(screenshot_form="", screenshot_result="")
            delete_files_on_commit(names)
        count += len(names)
    return count


def delete_account(user) -> None:
    """Delete a user and everything they own: customers, searches, attempts, screenshots.

    The database cascades; each attempt's post_delete removes its files once committed.
    """
    with transaction.atomic():
        user.delete()
