"""Signals of the review app, for newer apps that react to the workflow without review importing them."""

from django.dispatch import Signal

# Sent inside the action's transaction after in-app notifications were written.
# kwargs: notifications (the saved Notification rows, one per recipient), submission (or None), verb.
notifications_created = Signal()
