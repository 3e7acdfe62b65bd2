"""Members pages: adding people, changing roles and removing members with their work."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from sodium.models import ActivityEvent, Membership, Task, User
from sodium.roles import Role
from tests import factories as f
from tests.base import BaseTestCase

LIST_URL = reverse("sodium:member-list")
NEW_PASSWORD = "Marmalade-Harbour-91"


class MemberListViewTests(BaseTestCase):
    def test_it_shows_the_members_to_owners_and_admins(self) -> None:
        for user in (self.owner, self.admin):
            with self.subTest(user=user.email):
                self.client.force_login(user)
                r = self.client.get(LIST_URL)
                self.assertEqual(r.status_code, 200)
                self.assertTemplateUsed(r, "sodium/member_list.html")
                self.assertContains(r, self.staff.email)
                self.assertNotContains(r, self.outsider.email)

    def test_it_forbids_everyone_else(self) -> None:
        for user in (self.manager, self.staff, self.ar_manager, self.ar_specialist):
            with self.subTest(user=user.email):
                self.client.force_login(user)
                self.assertEqual(self.client.get(LIST_URL).status_code, 403)

    def test_it_forbids_a_manager_from_adding_a_member(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.post(
            LIST_URL, {"full_name": "Nia Newman", "email": "nia@example.com", "role": "staff"}
        )
        self.assertEqual(r.status_code, 403)
        self.assertFalse(User.objects.filter(email="nia@example.com").exists())


class AddMemberViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.owner)

    def _add(self, email: str, role: str = Role.STAFF, full_name: str = "Nia Newman"):
        return self.client.post(LIST_URL, {"full_name": full_name, "email": email, "role": role})

    def test_it_adds_a_new_person_and_emails_them_a_link(self) -> None:
        users_before = User.objects.count()
        r = self._add("Nia@Example.com", role=Role.MANAGER)
        self.assertRedirects(r, LIST_URL)
        self.assertEqual(User.objects.count(), users_before + 1)
        user = User.objects.get(email="nia@example.com")
        self.assertEqual(user.full_name, "Nia Newman")
        self.assertFalse(user.has_usable_password())
        membership = Membership.objects.get(practice=self.practice, user=user)
        self.assertEqual(membership.role, Role.MANAGER)
        self.assertTrue(
            ActivityEvent.objects.filter(practice=self.practice, verb="member.added").exists()
        )
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["nia@example.com"])
        self.assertIn("Ledger & Co", mail.outbox[0].subject)
        self.assertRegex(mail.outbox[0].body, r"https?://testserver/set-password/\S+/\S+/")

    def test_the_emailed_link_lets_them_choose_a_password(self) -> None:
        self._add("nia@example.com")
        link = re.search(r"https?://testserver(/set-password/\S+/)", mail.outbox[0].body)[1]
        self.client.logout()

        r = self.client.get(link, follow=True)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/set_password.html")
        self.assertTrue(r.context["validlink"])
        form_url = r.redirect_chain[-1][0]

        r = self.client.post(
            form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
        )
        self.assertRedirects(r, reverse("sodium:dashboard"))
        self.assertTemplateUsed(r, "sodium/dashboard.html")
        self.assertTrue(User.objects.get(email="nia@example.com").check_password(NEW_PASSWORD))

    def test_it_adds_a_user_from_another_practice_without_a_new_account(self) -> None:
        users_before = User.objects.count()
        r = self._add(self.outsider.email, full_name="Ignored Name", role=Role.STAFF)
        self.assertRedirects(r, LIST_URL)
        self.assertEqual(User.objects.count(), users_before)
        membership = Membership.objects.get(practice=self.practice, user=self.outsider)
        self.assertEqual(membership.role, Role.STAFF)
        self.assertTrue(
            Membership.objects.filter(practice=self.other_practice, user=self.outsider).exists()
        )
        self.assertEqual(len(mail.outbox), 0)
        self.outsider.refresh_from_db()
        self.assertNotEqual(self.outsider.full_name, "Ignored Name")
        self.assertTrue(self.outsider.check_password("pw-for-tests-1"))

    def test_it_refuses_someone_who_is_already_a_member(self) -> None:
        memberships_before = Membership.objects.filter(practice=self.practice).count()
        r = self._add(self.staff.email.upper(), role=Role.MANAGER)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/member_list.html")
        self.assertFormError(
            r.context["form"],
            "email",
            f"{self.staff.email} is already a member of Ledger & Co.",
        )
        self.assertEqual(
            Membership.objects.filter(practice=self.practice).count(), memberships_before
        )
        self.assertEqual(self.memberships[Role.STAFF].role, Role.STAFF)
        self.assertEqual(len(mail.outbox), 0)

    def test_an_admin_cannot_make_an_owner(self) -> None:
        self.client.force_login(self.admin)
        r = self._add("nia@example.com", role=Role.OWNER)
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["form"].has_error("role", code="invalid_choice"))
        self.assertFalse(User.objects.filter(email="nia@example.com").exists())
        self.assertEqual(len(mail.outbox), 0)

    def test_an_admin_can_add_an_admin(self) -> None:
        self.client.force_login(self.admin)
        r = self._add("nia@example.com", role=Role.ADMIN)
        self.assertRedirects(r, LIST_URL)
        self.assertEqual(
            Membership.objects.get(practice=self.practice, user__email="nia@example.com").role,
            Role.ADMIN,
        )


class ChangeRoleViewTests(BaseTestCase):
    def _url(self, role: str) -> str:
        return reverse("sodium:member-role", args=[self.memberships[role].pk])

    def _role_of(self, role: str) -> str:
        return Membership.objects.get(pk=self.memberships[role].pk).role

    def test_it_changes_a_role_and_logs_it(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.post(self._url(Role.STAFF), {"role": Role.MANAGER}, follow=True)
        self.assertRedirects(r, LIST_URL)
        self.assertContains(r, f"{self.staff} is now manager.")
        self.assertEqual(self._role_of(Role.STAFF), Role.MANAGER)
        event = ActivityEvent.objects.get(practice=self.practice, verb="member.role")
        self.assertEqual((event.old_status, event.new_status), (Role.STAFF, Role.MANAGER))
        self.assertEqual(event.actor, self.owner)

    def test_an_admin_cannot_give_the_owner_role(self) -> None:
        self.client.force_login(self.admin)
        r = self.client.post(self._url(Role.STAFF), {"role": Role.OWNER}, follow=True)
        self.assertContains(r, "Your role cannot give that role.")
        self.assertEqual(self._role_of(Role.STAFF), Role.STAFF)
        self.assertFalse(ActivityEvent.objects.filter(verb="member.role").exists())

    def test_an_admin_cannot_demote_an_owner(self) -> None:
        self.client.force_login(self.admin)
        f.MembershipFactory(practice=self.practice, role=Role.OWNER)
        r = self.client.post(self._url(Role.OWNER), {"role": Role.STAFF}, follow=True)
        self.assertContains(r, "Only an owner can change another owner&#x27;s role.")
        self.assertEqual(self._role_of(Role.OWNER), Role.OWNER)

    def test_it_cannot_demote_the_last_owner(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.post(self._url(Role.OWNER), {"role": Role.ADMIN}, follow=True)
        self.assertContains(r, "The practice needs at least one owner.")
        self.assertEqual(self._role_of(Role.OWNER), Role.OWNER)
        self.assertFalse(ActivityEvent.objects.filter(verb="member.role").exists())

    def test_an_owner_can_step_down_when_another_owner_remains(self) -> None:
        self.client.force_login(self.owner)
        f.MembershipFactory(practice=self.practice, role=Role.OWNER)
        self.client.post(self._url(Role.OWNER), {"role": Role.ADMIN})
        self.assertEqual(self._role_of(Role.OWNER), Role.ADMIN)

    def test_it_forbids_a_manager(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.post(self._url(Role.STAFF), {"role": Role.ADMIN})
        self.assertEqual(r.status_code, 403)
        self.assertEqual(self._role_of(Role.STAFF), Role.STAFF)


class RemoveMemberViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.leaving = self.memberships[Role.STAFF]
        self.url = reverse("sodium:member-remove", args=[self.leaving.pk])
        self.client.force_login(self.owner)

    def _give_work(self) -> None:
        person_fields = dict.fromkeys(
            ["client_manager", "partner", "associate", "default_assignee", "default_reviewer"],
            self.staff,
        )
        self.work_client = f.ClientFactory(practice=self.practice, **person_fields)
        self.open_task = f.TaskFactory(client=self.work_client, owner=self.staff)
        self.held_task = f.TaskFactory(
            client=self.work_client, owner=self.staff, status=Task.Status.ON_HOLD
        )
        self.done_task = f.TaskFactory(
            client=self.work_client, owner=self.staff, status=Task.Status.DONE
        )
        self.client_service = f.ClientServiceFactory(
            client=self.work_client, service_manager=self.staff
        )
        self.team = f.TeamFactory(practice=self.practice)
        self.team.members.add(self.staff, self.manager)

    def _is_member(self, user: User) -> bool:
        return Membership.objects.filter(practice=self.practice, user=user).exists()

    def test_it_removes_a_member_with_no_work(self) -> None:
        r = self.client.post(self.url, follow=True)
        self.assertRedirects(r, LIST_URL)
        self.assertContains(r, f"Removed {self.staff} from Ledger &amp; Co.")
        self.assertFalse(self._is_member(self.staff))
        self.assertTrue(User.objects.filter(pk=self.staff.pk).exists())
        event = ActivityEvent.objects.get(practice=self.practice, verb="member.removed")
        self.assertEqual(event.actor, self.owner)

    def test_it_explains_the_work_a_member_holds(self) -> None:
        self._give_work()
        r = self.client.get(self.url)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/member_remove.html")
        self.assertContains(r, "2 open tasks they own")
        self.assertContains(r, "5 client roles")
        self.assertContains(r, "1 client service they manage")

    def test_it_will_not_remove_a_member_with_work_until_someone_takes_it(self) -> None:
        self._give_work()
        r = self.client.post(self.url, {"reassign_to": ""})
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/member_remove.html")
        self.assertFormError(
            r.context["form"],
            None,
            f"Choose who takes over {self.staff}'s work before removing them.",
        )
        self.assertContains(r, "2 open tasks they own")
        self.assertTrue(self._is_member(self.staff))
        self.open_task.refresh_from_db()
        self.work_client.refresh_from_db()
        self.assertEqual(self.open_task.owner, self.staff)
        self.assertEqual(self.work_client.client_manager, self.staff)
        self.assertFalse(ActivityEvent.objects.filter(verb="member.removed").exists())

    def test_it_hands_open_work_to_the_chosen_member(self) -> None:
        self._give_work()
        r = self.client.post(self.url, {"reassign_to": self.manager.pk})
        self.assertRedirects(r, LIST_URL)
        self.assertFalse(self._is_member(self.staff))
        for task in (self.open_task, self.held_task):
            task.refresh_from_db()
            self.assertEqual(task.owner, self.manager)
        self.done_task.refresh_from_db()
        self.assertEqual(self.done_task.owner, self.staff)
        self.work_client.refresh_from_db()
        for field in (
            "client_manager",
            "partner",
            "associate",
            "default_assignee",
            "default_reviewer",
        ):
            with self.subTest(field=field):
                self.assertEqual(getattr(self.work_client, field), self.manager)
        self.client_service.refresh_from_db()
        self.assertEqual(self.client_service.service_manager, self.manager)
        self.assertEqual(list(self.team.members.all()), [self.manager])
        event = ActivityEvent.objects.get(practice=self.practice, verb="member.removed")
        self.assertEqual(event.data, {"reassigned_to": self.manager.pk})

    def test_it_refuses_to_hand_work_to_someone_outside_the_practice(self) -> None:
        self._give_work()
        r = self.client.post(self.url, {"reassign_to": self.outsider.pk})
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["form"].has_error("reassign_to", code="invalid_choice"))
        self.assertTrue(self._is_member(self.staff))
        self.open_task.refresh_from_db()
        self.assertEqual(self.open_task.owner, self.staff)

    def test_it_refuses_to_remove_the_last_owner(self) -> None:
        url = reverse("sodium:member-remove", args=[self.memberships[Role.OWNER].pk])
        r = self.client.post(url)
        self.assertEqual(r.status_code, 200)
        self.assertFormError(
            r.context["form"],
            None,
            "The practice needs at least one owner. Make someone else owner first.",
        )
        self.assertTrue(self._is_member(self.owner))

    def test_an_admin_cannot_remove_an_owner(self) -> None:
        second_owner = f.MembershipFactory(practice=self.practice, role=Role.OWNER)
        url = reverse("sodium:member-remove", args=[second_owner.pk])
        self.client.force_login(self.admin)
        r = self.client.post(url)
        self.assertEqual(r.status_code, 200)
        self.assertFormError(r.context["form"], None, "Only an owner can remove an owner.")
        self.assertTrue(self._is_member(second_owner.user))

    def test_an_owner_can_remove_another_owner(self) -> None:
        second_owner = f.MembershipFactory(practice=self.practice, role=Role.OWNER)
        url = reverse("sodium:member-remove", args=[second_owner.pk])
        r = self.client.post(url)
        self.assertRedirects(r, LIST_URL)
        self.assertFalse(self._is_member(second_owner.user))

    def test_a_removed_member_with_no_other_practice_is_told_so_on_sign_in(self) -> None:
        self.client.post(self.url)
        self.client.logout()
        r = self.client.post(
            reverse("sodium:login"),
            {"username": self.staff.email, "password": "pw-for-tests-1"},
            follow=True,
        )
        self.assertEqual(r.status_code, 403)
        self.assertTemplateUsed(r, "sodium/no_practice.html")
        self.assertContains(r, "You are not in a practice yet", status_code=403)

    def test_a_removed_member_of_another_practice_lands_in_that_one(self) -> None:
        f.MembershipFactory(practice=self.other_practice, user=self.staff, role=Role.STAFF)
        self.client.post(self.url)
        self.client.force_login(self.staff)
        r = self.client.get(reverse("sodium:dashboard"))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.context["practice"], self.other_practice)
