"""The exercise console: server-side rules (Flask test client) and a real headless browser.

The browser test drives Debian's chromium through its chromedriver with selenium; it
skips (with the reason) where either is missing. Nothing is downloaded: the driver's
path is given explicitly, so Selenium Manager is never asked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import disruptsim as ds
from disruptsim.exercise.console import ConsoleConfig, create_app

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = ROOT / "exercises" / "antibiotics-api.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
HIDDEN = "The restriction starts on day 10 and lasts 150 days at 70% severity."
EVALUATOR = "Does the group check the early-reporting channel before acting?"


@pytest.fixture
def exercise():
    return ds.Exercise.from_file(EXERCISE)


def csrf_of(page: bytes) -> str:
    return re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()


def test_participants_never_see_hidden_facts(exercise, tmp_path):
    client = create_app(exercise, ConsoleConfig(report_dir=tmp_path)).test_client()
    facilitator = client.get("/facilitator").data.decode()
    assert HIDDEN in facilitator and EVALUATOR in facilitator
    token = csrf_of(facilitator.encode())
    assert (
        client.post("/facilitator/advance", data={"csrf": token, "turns": "2"}).status_code == 302
    )
    participants = client.get("/participants").data.decode()
    assert "Rumours of Chinese export checks" in participants and "day 28" in participants
    for inject in exercise.spec.file.injects:
        for secret in (inject.hidden, inject.evaluator_notes, inject.expected_action):
            if secret:
                assert secret not in participants
    assert "Hidden truth" not in participants and "ends day 160" not in participants
    assert client.post("/participants").status_code == 405


def test_forms_need_the_csrf_token_and_the_right_host(exercise, tmp_path):
    client = create_app(
        exercise, ConsoleConfig(report_dir=tmp_path, allowed_hosts={"127.0.0.1:8750"})
    ).test_client()
    base = {"base_url": "http://127.0.0.1:8750"}
    assert client.post("/facilitator/advance", data={"turns": "1"}, **base).status_code == 403
    assert exercise.day == 0
    assert client.get("/participants", base_url="http://evil.example:8750").status_code == 400


def test_facilitator_token_beyond_loopback(exercise, tmp_path):
    client = create_app(exercise, ConsoleConfig(token="s3cret", report_dir=tmp_path)).test_client()
    assert client.get("/facilitator").status_code == 403
    assert client.get("/facilitator", headers={"X-Facilitator-Token": "wrong"}).status_code == 403
    assert client.get("/facilitator/report.html").status_code == 403
    assert client.get("/participants").status_code == 200  # read only, no token
    response = client.get("/facilitator?token=s3cret")
    assert response.status_code == 302 and "token" not in response.headers["Location"]
    assert client.get("/facilitator").status_code == 200  # the cookie now carries it


def test_errors_are_shown_escaped(exercise, tmp_path):
    client = create_app(exercise, ConsoleConfig(report_dir=tmp_path)).test_client()
    token = csrf_of(client.get("/facilitator").data)
    client.post("/facilitator/note", data={"csrf": token, "text": "<img src=x onerror=alert(1)>"})
    page = client.get("/facilitator").data.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    client.post("/facilitator/decide", data={"csrf": token, "id": "nope"})
    assert "unknown decision &#39;nope&#39;" in client.get("/facilitator").data.decode()


def start_console(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "disruptsim",
            "exercise",
            str(EXERCISE),
            "--port",
            "0",
            "--out",
            str(tmp_path / "session"),
            "--runs",
            "50",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Participants:"):
            facilitator = next(x.split()[1] for x in lines if x.startswith("Facilitator:"))
            return proc, facilitator, line.split()[1]
    proc.kill()
    raise AssertionError("the console did not start:\n" + "".join(lines))


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_beyond_loopback_requests_without_the_token_are_refused(tmp_path):
    proc, facilitator, participants = start_console(tmp_path, "--host", "0.0.0.0")
    try:
        port = participants.split(":")[2].split("/")[0]
        token = facilitator.split("token=")[1]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/facilitator", timeout=30)
        assert refused.value.code == 403
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/facilitator", headers={"X-Facilitator-Token": token}
        )
        assert urllib.request.urlopen(request, timeout=30).status == 200
        assert (
            urllib.request.urlopen(f"http://127.0.0.1:{port}/participants", timeout=30).status
            == 200
        )
    finally:
        stop(proc)


@pytest.fixture
def browser(tmp_path):
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "needs chromium and chromedriver (Debian: apt-get install chromium chromium-driver)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the test extra)")
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never go online
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    driver.downloads = downloads
    yield driver
    driver.quit()


def test_console_in_a_real_browser(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def shows(text: str) -> None:  # after a click: the next page has loaded
        WebDriverWait(browser, 120).until(lambda d: text in d.page_source)

    proc, facilitator, participants = start_console(tmp_path)
    try:
        browser.get(facilitator)
        clock = lambda: browser.find_element(By.ID, "clock").text  # noqa: E731
        assert "Turn 1 of 8" in clock()
        browser.find_element(By.ID, "advance").click()
        shows("advanced")
        assert "Turn 2 of 8" in clock() and "day 14" in clock()
        browser.find_element(By.ID, "inject-I05").click()
        shows("inject sent")
        note = browser.find_element(
            By.CSS_SELECTOR,
            "form[action='/facilitator/decide'] input[value='ration_stock'] ~ input[name=note]",
        )
        note.send_keys("stretch the iron stock")
        browser.find_element(By.ID, "decide-ration_stock").click()
        shows("decision recorded")
        browser.find_element(By.ID, "option-joint_purchase").click()
        runs = browser.find_element(By.CSS_SELECTOR, "#lookahead-form input[name=runs]")
        runs.clear()
        runs.send_keys("300")
        browser.find_element(By.ID, "run-lookahead").click()
        shows("look-ahead done")
        table = browser.find_element(By.ID, "lookahead-table").text
        assert "Join the EU joint purchase of API" in table and "As decided so far" in table

        browser.get(participants)
        page = browser.page_source
        assert "Joint procurement offer from the Commission" in page  # the news of the inject
        assert (
            "Ration the iron stock to half of the gap"
            in browser.find_element(By.ID, "decisions").text
        )
        assert (
            "Join the EU joint purchase of API"
            in browser.find_element(By.ID, "lookahead-table").text
        )
        assert "day 14" in browser.find_element(By.ID, "clock").text
        for secret in (HIDDEN, EVALUATOR, "Pooled sourcing succeeds more often", "Hidden truth"):
            assert secret not in page
        images = browser.find_elements(By.CSS_SELECTOR, "img.chart")
        assert len(images) == 2 and all(
            browser.execute_script("return arguments[0].naturalWidth", img) > 0 for img in images
        )

        browser.get(facilitator)  # the participants' view follows the facilitator's actions
        browser.find_element(By.ID, "advance").click()
        shows("advanced")
        browser.get(participants)
        assert "day 28" in browser.find_element(By.ID, "clock").text
        assert "Wholesalers report falling amoxicillin stock" in browser.page_source

        browser.get(facilitator)
        browser.find_element(By.ID, "finish").click()
        shows("session finished")
        browser.find_element(By.ID, "report").click()
        deadline = time.monotonic() + 120
        report = browser.downloads / "antibiotics-api-after-action-report.html"
        while not report.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        text = report.read_text()
        assert "After-action report" in text and "stretch the iron stock" in text
    finally:
        stop(proc)
    journal = next((tmp_path / "session").glob("*.journal.jsonl"))
    again = ds.Exercise.replay(journal)
    assert (
        again.day == 28
        and again.finished
        and [d["id"] for d in again.decisions] == ["ration_stock"]
    )
