# Django discovers an app's models through this module.
from sodium.models.activity import ActivityEvent
from sodium.models.clients import Client, ClientService, Contact, Service, Tag
from sodium.models.content import ContentBlock
from sodium.models.heartbeats import Heartbeat
from sodium.models.messages import MessageEvent, OutboundMessage, Timer
from sodium.models.notifications import Notification
from sodium.models.practices import Membership, Practice, Team
from sodium.models.recurrences import Recurrence, RecurrenceOccurrence
from sodium.models.tasks import Task
from sodium.models.users import User

__all__ = [
    "ActivityEvent",
    "Client",
    "ClientService",
    "Contact",
    "ContentBlock",
    "Heartbeat",
    "Membership",
    "MessageEvent",
    "Notification",
    "OutboundMessage",
    "Practice",
    "Recurrence",
    "RecurrenceOccurrence",
    "Service",
    "Tag",
    "Task",
    "Team",
    "Timer",
    "User",
]
