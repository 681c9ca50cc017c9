"""What every app's Celery tasks share: retried with exponential backoff on database and broker
errors. Tasks are also acknowledged late and rejected when their worker is lost
(config/settings.py: CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), so every task is
idempotent."""
from celery import shared_task
from django.db import DatabaseError, InterfaceError
from kombu.exceptions import OperationalError as BrokerError

RELIABLE = dict(autoretry_for=(DatabaseError, InterfaceError, BrokerError, ConnectionError),
                retry_backoff=10, retry_backoff_max=900, retry_jitter=True, max_retries=10)


@shared_task(**RELIABLE)
def send_channel_messages_task():
    """Post the group-robot messages that are due (queued after each commit that adds some, and by
    beat every minute for retries), and forget those sent 90 days ago. Idempotent: a message is posted once, under a row lock."""
    from .webhooks import prune, send_due

    sent = send_due()
    prune()
    return sent
