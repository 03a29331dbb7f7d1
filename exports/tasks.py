"""Celery tasks of the exports app. They take ids and call the action layer."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="exports.run_export", ignore_result=True)
def run_export(job_id: int) -> None:
    """Build the workbook of ExportJob `job_id` (queued by exports.actions.export_request)."""
    from .actions import export_run

    export_run(job_id=job_id)
