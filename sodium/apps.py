from django.apps import AppConfig


class SodiumConfig(AppConfig):
    name = "sodium"
    verbose_name = "Sodium core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking

        from sodium import engine, nav, outbox, reminders, timers  # noqa: F401 - they register
        from sodium.messaging import context  # noqa: F401 - the groups every message has
        from sodium.sms import messages as sms_messages

        sms_messages.register_message_use()  # the contact composer's variables

        nav.register_core_entries()

        # The task list's bulk actions (apps add theirs in their own ready()).
        from sodium import bulk_actions

        bulk_actions.register()

        # Provider webhooks (delivered, opened, bounced) move outbound messages forward.
        tracking.connect(outbox.on_tracking, dispatch_uid="sodium.outbox.on_tracking")
        # The sweep re-dispatches messages whose on_commit enqueue was lost.
        timers.register_safety_net("outbox.stale_messages", outbox.redispatch_stale)

        # Recurring tasks: the task name's variables, and generation on every sweep (an idle
        # sweep reads one index; see sodium/recurring.py).
        from sodium import recurring

        recurring.register_message_use()
        from sodium import panels
        from sodium.views import recurrences as recurrence_views

        panels.register_client_panel(recurrence_views.client_panel)
        timers.register_safety_net("recurrences.generate", recurring.sweep_net)
