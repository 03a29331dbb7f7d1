"""Celery tasks of the exports app. They take ids and call the action layer."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="exports.run_export", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_export(job_id: int) -> None:
    """Build the workbook of ExportJob `job_id` (queued by exports.actions.export_request)."""
    from .actions import export_run

    export_run(job_id=job_id)


@shared_task(name="exports.sweep_jobs", ignore_result=True)
def sweep_jobs() -> None:
    """Periodic (settings.CELERY_BEAT_SCHEDULE): dispatch undispatched jobs, rerun or fail stale ones."""
    from .actions import jobs_sweep

    jobs_sweep()
