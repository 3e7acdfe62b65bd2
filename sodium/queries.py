"""Reads for the core pages. Every function takes the practice and looks only inside it."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from sodium.models import (
    ActivityEvent,
    Client,
    ClientService,
    Contact,
    Membership,
    OutboundMessage,
    Practice,
    Recurrence,
    Service,
    Tag,
    Task,
    Team,
    User,
)


def get_client(practice: Practice, client_id: int) -> Client:
    """Return the practice's client `client_id`, or raise Http404."""
    return get_object_or_404(Client.objects.filter(practice=practice), pk=client_id)


def get_client_for_page(practice: Practice, client_id: int) -> Client:
    """Return the practice's client with its people and tags loaded, or raise Http404."""
    return get_object_or_404(
        Client.objects.filter(practice=practice)
        .select_related(
            "client_manager", "partner", "associate", "default_assignee", "default_reviewer"
        )
        .prefetch_related("tags"),
        pk=client_id,
    )


def get_contact(client: Client, contact_id: int) -> Contact:
    """Return one of the client's contacts, or raise Http404."""
    return get_object_or_404(
        Contact.objects.filter(practice=client.practice, client=client), pk=contact_id
    )


def get_client_service(client: Client, client_service_id: int) -> ClientService:
    """Return one of the client's services, or raise Http404."""
    return get_object_or_404(
        ClientService.objects.filter(practice=client.practice, client=client).select_related(
            "service"
        ),
        pk=client_service_id,
    )


TASK_RELATED = ("client", "service", "owner", "team", "recurrence")


def get_task(practice: Practice, task_id: int, *, related: tuple[str, ...] = TASK_RELATED) -> Task:
    """Return the practice's task `task_id` with the `related` rows joined, or raise Http404.

    A view that shows less (the focus panel: the client's name) joins less; each joined row
    costs its columns' conversion and a model instance.
    """
    return get_object_or_404(
        Task.objects.filter(practice=practice).select_related(*related), pk=task_id
    )


def get_membership(practice: Practice, membership_id: int) -> Membership:
    """Return one membership of the practice, or raise Http404."""
    return get_object_or_404(
        Membership.objects.filter(practice=practice).select_related("user"), pk=membership_id
    )


def get_team(practice: Practice, team_id: int) -> Team:
    return get_object_or_404(Team.objects.filter(practice=practice), pk=team_id)


def get_service(practice: Practice, service_id: int) -> Service:
    return get_object_or_404(Service.objects.filter(practice=practice), pk=service_id)


def get_recurrence(practice: Practice, recurrence_id: int) -> Recurrence:
    return get_object_or_404(
        Recurrence.objects.filter(practice=practice).select_related("practice", "service"),
        pk=recurrence_id,
    )


def get_tag(practice: Practice, tag_id: int) -> Tag:
    return get_object_or_404(Tag.objects.filter(practice=practice), pk=tag_id)


def members_of(practice: Practice) -> QuerySet[User]:
    """Return the users who belong to the practice, by name."""
    return User.objects.filter(
        Exists(Membership.objects.filter(practice=practice, user=OuterRef("pk")))
    ).order_by("full_name")


def clients_for_list(
    practice: Practice, *, search: str = "", tag: Tag | None = None, status: str = "active"
) -> QuerySet[Client]:
    """Return clients matching a search over names, references and contacts, and a tag."""
    qs = Client.objects.filter(practice=practice)
    if status in Client.Status.values:
        qs = qs.filter(status=status)
    search = search.strip()
    if search:
        contact_match = Contact.objects.filter(practice=practice, client=OuterRef("pk")).filter(
            Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
        )
        qs = qs.filter(
            Q(name__icontains=search) | Q(reference__icontains=search) | Exists(contact_match)
        )
    if tag is not None:
        qs = qs.filter(Exists(Client.tags.through.objects.filter(client=OuterRef("pk"), tag=tag)))
    open_tasks = Task.objects.filter(
        practice=practice, client=OuterRef("pk"), status__in=Task.OPEN_STATUSES
    )
    return (
        qs.select_related("client_manager")
        .prefetch_related("tags")
        .annotate(has_open_tasks=Exists(open_tasks))
        .order_by("name", "id")
    )


def client_page_tasks(
    practice: Practice, client: Client, *, open_limit: int = 20, closed_limit: int = 5
) -> list[Task]:
    """Return the client's open tasks, soonest due first, then the few latest finished ones.

    A year of recurring work leaves many done tasks; the page leads with what is still to do
    and links to the task list for the rest.
    """
    tasks = tasks_for_list(practice, client=client, status="all").select_related(None)
    tasks = tasks.select_related("owner")
    open_tasks = list(tasks.filter(status__in=Task.OPEN_STATUSES)[:open_limit])
    closed = tasks.exclude(status__in=Task.OPEN_STATUSES).order_by("-due_date", "-pk")
    return open_tasks + list(closed[:closed_limit])


def tasks_for_list(
    practice: Practice,
    *,
    search: str = "",
    status: str = "open",
    owner: User | None = None,
    client: Client | None = None,
) -> QuerySet[Task]:
    """Return tasks filtered by status ("open", "all" or one status), owner and client."""
    qs = Task.objects.filter(practice=practice)
    if status == "open":
        qs = qs.filter(status__in=Task.OPEN_STATUSES)
    elif status in Task.Status.values:
        qs = qs.filter(status=status)
    if owner is not None:
        qs = qs.filter(owner=owner)
    if client is not None:
        qs = qs.filter(client=client)
    if search.strip():
        term = search.strip()
        qs = qs.filter(
            Q(name__icontains=term)
            | Q(client__name__icontains=term)
            | Q(client__reference__icontains=term)
        )
    return qs.select_related("client", "owner", "service").order_by("due_date", "id")


def dashboard_figures(practice: Practice, user: User) -> dict[str, int]:
    """Return the counts shown on the dashboard, in one query over tasks and one over clients."""
    today = timezone.localdate()
    week_end = today + dt.timedelta(days=7)
    open_q = Q(status__in=Task.OPEN_STATUSES)
    figures = Task.objects.filter(practice=practice).aggregate(
        open=Count("pk", filter=open_q),
        mine=Count("pk", filter=open_q & Q(owner=user)),
        overdue=Count("pk", filter=open_q & Q(due_date__lt=today)),
        due_this_week=Count("pk", filter=open_q & Q(due_date__gte=today, due_date__lte=week_end)),
        done_30_days=Count(
            "pk",
            filter=Q(status=Task.Status.DONE, completed_at__gte=timezone.now() - dt.timedelta(30)),
        ),
    )
    figures["clients"] = Client.objects.filter(
        practice=practice, status=Client.Status.ACTIVE
    ).count()
    return figures


def my_open_tasks(practice: Practice, user: User, limit: int = 8) -> list[Task]:
    """Return the user's open tasks, soonest due first."""
    return list(
        Task.objects.filter(practice=practice, owner=user, status__in=Task.OPEN_STATUSES)
        .select_related("client")
        .order_by("due_date", "id")[:limit]
    )


def overdue_tasks(practice: Practice, limit: int = 8) -> list[Task]:
    """Return the practice's overdue open tasks, oldest due date first."""
    return list(
        Task.objects.filter(
            practice=practice,
            status__in=Task.OPEN_STATUSES,
            due_date__lt=timezone.localdate(),
        )
        .select_related("client", "owner")
        .order_by("due_date", "id")[:limit]
    )


def recent_activity(
    practice: Practice,
    *,
    client: Client | None = None,
    task: Task | None = None,
    limit: int = 20,
) -> list[ActivityEvent]:
    """Return the newest activity events of the practice, a client or a task."""
    qs = ActivityEvent.objects.filter(practice=practice)
    if client is not None:
        qs = qs.filter(client=client)
    if task is not None:
        qs = qs.filter(task=task)
    return list(qs.select_related("actor", "client", "task").order_by("-created_at", "-id")[:limit])


def memberships_for_list(practice: Practice) -> QuerySet[Membership]:
    """Return the practice's memberships with users and their open-task counts."""
    return (
        Membership.objects.filter(practice=practice)
        .select_related("user")
        .annotate(
            open_tasks=Count(
                "user__owned_tasks",
                filter=Q(
                    user__owned_tasks__practice=practice,
                    user__owned_tasks__status__in=Task.OPEN_STATUSES,
                ),
            )
        )
        .order_by("user__full_name")
    )


def get_message(practice: Practice, message_id: int) -> OutboundMessage:
    """Return the practice's outbound message `message_id` with its events, or raise Http404."""
    return get_object_or_404(
        OutboundMessage.objects.filter(practice=practice)
        .select_related("client", "task")
        .prefetch_related("events"),
        pk=message_id,
    )


def messages_for_list(
    practice: Practice,
    *,
    search: str = "",
    status: str = "",
    client: Client | None = None,
    task: Task | None = None,
    channel: str = "",
) -> QuerySet[OutboundMessage]:
    """Return the practice's outbound messages, newest first, filtered and searched.

    The search matches the subject, the To and Cc addresses, and a text's body.
    """
    qs = OutboundMessage.objects.filter(practice=practice)
    if status in OutboundMessage.Status.values:
        qs = qs.filter(status=status)
    if channel in OutboundMessage.Channel.values:
        qs = qs.filter(channel=channel)
    if client is not None:
        qs = qs.filter(client=client)
    if task is not None:
        qs = qs.filter(task=task)
    term = search.strip()
    if term:
        qs = qs.filter(
            Q(subject__icontains=term)
            | Q(to__icontains=term)
            | Q(cc__icontains=term)
            | Q(channel=OutboundMessage.Channel.SMS, body_text__icontains=term)
        )
    return qs.select_related("client", "task").order_by("-created_at", "-id")


def clients_with_messages(practice: Practice) -> list[Client]:
    """Return the practice's clients that have at least one outbound message, by name."""
    sent_to = OutboundMessage.objects.filter(practice=practice, client=OuterRef("pk"))
    return list(
        Client.objects.filter(practice=practice).filter(Exists(sent_to)).order_by("name", "id")
    )


def task_ids_matching(tasks: QuerySet[Task], limit: int) -> list[int]:
    """Return the ids of up to `limit` tasks of a task-list query (one query), so a bulk
    action over "all that match" knows when a filter matches more than it may change."""
    return list(tasks.order_by("pk").values_list("pk", flat=True)[:limit])


def tasks_chosen(practice: Practice, ids: list[int]) -> QuerySet[Task]:
    """Return the practice's tasks among `ids` (another practice's ids match nothing)."""
    return (
        Task.objects.filter(practice=practice, pk__in=ids)
        .select_related("client", "owner")
        .order_by("pk")
    )
