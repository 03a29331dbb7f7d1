"""Signals of the demo app, for newer apps that add their own demo content (the demo never imports them)."""

from django.dispatch import Signal

# Sent by seed_demo inside its transaction once the hierarchy, the accounts (with e-mail addresses) and the
# task's forms are laid out. kwargs: task.
demo_seeded = Signal()
