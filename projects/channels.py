"""Reminders and escalations to group robots (钉钉 / 企业微信), besides the e-mails: what every
app calls to queue a message. docs/architecture.md, "Channels".

`announce` writes one `ChannelMessage` per active channel in the caller's transaction — the
transaction that marks the reminder as sent — so a message is queued exactly when its reminder
commits, and never when it rolls back. Nothing is posted here: once the transaction commits the
send task is queued (projects/webhooks.py posts), and if the broker is down the beat's run every
minute finds the message. A save or a reminder run never waits for a robot."""
import logging

from django.db import transaction
from django.db.models import Q

from .models import Channel, ChannelMessage, Organisation

logger = logging.getLogger(__name__)


def announce(key: str, title: str, text: str, units=(), office: bool = False, organisation=None) -> int:
    """Queue a markdown message to the active channels of `units` and, with `office`, to the
    office channels (no unit: a planning office's group) of `organisation` (the owner of the plan
    concerned) and of the organisations above it, and to those of no organisation (every one).
    `key` names the reminder: the same key queued twice to a channel keeps one message. Returns
    the number of channels."""
    where = Q(unit__in=list(units))
    if office:
        offices = Q(organisation__isnull=True)
        if organisation is not None:
            above = Organisation.objects.ancestors(organisation, include_self=True).values_list("pk", flat=True)
            offices |= Q(organisation__in=list(above))
        where |= Q(unit__isnull=True) & offices
    channels = list(Channel.objects.filter(where, active=True).values_list("pk", flat=True))
    if not channels:
        return 0
    ChannelMessage.objects.bulk_create(
        [ChannelMessage(channel_id=pk, key=key[:200], title=title[:200], text=text) for pk in channels],
        ignore_conflicts=True)
    transaction.on_commit(queue_sending, robust=True)
    return len(channels)


def queue_sending():
    from .tasks import send_channel_messages_task

    try:
        send_channel_messages_task.delay()
    except Exception:  # the broker is down: the beat's next run sends the messages
        logger.warning("群机器人消息已记录，发送任务未能排队（消息代理不可用），将由定时任务发送", exc_info=True)
