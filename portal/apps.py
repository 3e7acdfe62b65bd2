from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Client portal"

    def ready(self) -> None:
        # The three client-facing step types, each declared once (label, settings, wizard
        # stages and review, default content, variables, focus-panel part, timers).
        from portal.step_types import register_step_types

        register_step_types()

        # Registers the three client-facing step handlers with the workflow engine and the
        # chase timer with the sweep, and the task page's "Documents & client responses"
        # card (after the workflow's: workflows loads first), and the client-facing parts of
        # the focus panel's steps.
        from portal import access, engine, focus, handlers, staff_views  # noqa: F401
        from sodium.panels import register_task_panel
        from workflows.panels import register_focus_extension

        register_task_panel(staff_views.task_documents_panel)
        register_focus_extension(focus.focus_extension)

        # The portal's built-in emails, in the content library (each step type's declaration
        # names the one its steps fall back on).
        from portal import content

        content.register()

        from portal import demo
        from sodium.demo import register_demo_builder

        register_demo_builder(demo.build)

        # Links were emailed to a contact's address: when it changes, they stop working.
        from sodium.services.clients import register_address_change_hook

        register_address_change_hook(access.revoke_links_sent_to_an_old_address)

        # Emails store a placeholder where a link's token goes; the token is joined in when
        # the email is sent.
        from sodium import outbox

        outbox.register_secret(access.SECRET_KIND, access.secret_for_message)

        # A bounced email sent again to a corrected address gets a fresh link (the old one
        # is revoked).
        from sodium import bounces

        bounces.register_renewer(access.SECRET_KIND, access.renew_for_resend)
