"""static/js/sms-counter.js counts exactly as sodium.sms.segments does (run under node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sodium.sms.segments import count_segments

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "sms-counter.js"
CASES = [
    "",
    "Hi",
    "a" * 160,
    "a" * 161,
    "a" * 307,
    "a" * 159 + "€",
    "[x]{y}~|^\\",
    "Café £5 à Ñ",
    "a" * 70 + "ç",
    "ç" * 135,
    "Thanks 👍",
    "👍" * 36,
    "line\nbreak",
]
# A page-less stand-in for the browser: the script only wires listeners and exposes count().
HARNESS = """
const fs = require("fs");
global.window = {};
global.Element = function () {};
global.HTMLTextAreaElement = function () {};
global.document = {
  addEventListener() {}, querySelectorAll() { return []; }, querySelector() { return null; },
};
eval(fs.readFileSync(process.argv[process.argv.length - 1], "utf8"));
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const sms = window.SodiumSms;
process.stdout.write(JSON.stringify(cases.map((t) => sms.label(sms.count(t)))));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_the_editor_script_agrees_with_the_server() -> None:
    result = subprocess.run(
        ["node", "-e", HARNESS, "--", str(SCRIPT)],
        input=json.dumps(CASES),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(result.stdout) == [count_segments(text).label for text in CASES]
