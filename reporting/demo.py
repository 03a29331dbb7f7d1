"""Demo values for the seeded task (extended by the review workflow to show every status)."""

from __future__ import annotations

from .models import Task


def fill_demo(task: Task) -> None:
    """Fill demo values: review.demo lays out every workflow state through the real actions."""
    from review.demo import lay_out_states  # review depends on reporting, not the other way round

    lay_out_states(task)
