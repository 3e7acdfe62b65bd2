from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.test import SimpleTestCase

from sodium import statemachine
from sodium.engine import MACHINE as TASK_MACHINE
from workflows.engine import SUB_STATUS_MACHINE
from workflows.models import Step

SS = Step.SubStatus


class StateMachineDocTests(SimpleTestCase):
    def test_the_doc_in_the_repository_is_generated_from_the_tables(self) -> None:
        out = StringIO()
        call_command("state_machines", "--check", stdout=out)
        self.assertIn("up to date", out.getvalue())

    def test_the_doc_lists_every_move_of_the_task_table(self) -> None:
        text = statemachine.machines_markdown()
        for old, moves in TASK_MACHINE.table.items():
            for new in moves:
                self.assertIn(f"    {old} --> {new}", text)

    def test_the_empty_status_shows_as_none_in_the_table(self) -> None:
        text = SUB_STATUS_MACHINE.markdown()  # its "" means no sub-status
        self.assertIn("| (none) | (final) |", text)
        self.assertNotIn("| `` |", text)

    def test_the_empty_status_is_a_mermaid_state_named_none(self) -> None:
        # No registered table moves from or to "" today; a throwaway one does both.
        name = "test: empty status in diagrams"
        self.addCleanup(statemachine.MACHINES.pop, name, None)
        machine = statemachine.Machine(
            name=name,
            model=Step,
            field="sub_status",
            table={"": {SS.AWAITING_RESPONSE}, SS.AWAITING_RESPONSE: {""}},
            verb="test.sub_status",
            subject=lambda step: {},
        )
        diagram = machine.markdown().split("```mermaid", 1)[1]
        self.assertIn("    none --> awaiting_response\n", diagram)
        self.assertIn("    awaiting_response --> none\n", diagram)
        self.assertIn("| (none) | `awaiting_response` |", machine.markdown())


class PortalWritesNoStepRowsTests(SimpleTestCase):
    def test_the_portal_neither_locks_nor_updates_steps_itself(self) -> None:
        root = Path(__file__).resolve().parents[2] / "portal"
        forbidden = re.compile(
            r"Step\.objects\.[^\n]*(select_for_update|update\(|create\()|set_step_deadline"
            r"|chase_count\s*="
        )
        for path in root.glob("*.py"):
            self.assertIsNone(forbidden.search(path.read_text()), path.name)
