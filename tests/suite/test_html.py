"""The HTML report: one self-contained page, read in a real browser (headless Chromium, Debian's package).

A faulty server's run (it rents numbers in the wrong country) writes report.html as a user gets
it; the page must open with no console error and no request but the file itself, and show what a
person looks for: the verdict, the first violation's curl, the coverage picture. Records the page
is rendered from directly cover what one run cannot show at once: a baseline, a choice, the
timeline's waits and failures, an old or partial record, bodies that try to be HTML.
"""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from bench.page import CHROMIUM, Chromium, har_timeline
from conformance.serving import Server
from conformance.suite import html
from conformance.suite.cli import main
from tests.suite.faulty import FAULTS, FaultyServer

WRONG_COUNTRY = next(fault for fault in FAULTS if fault.name == "rents in the wrong country")
RUN = ["--mode", "full", "--max-rentals", "30", "--quiet", "--examples", "20", "--assignee", "user_mockMember"]


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each <style> and <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.blocks: dict[str, list[str]] = {"style": [], "script": []}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = tag if tag in self.blocks else None

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.blocks[self._open].append(data)


def escaped(text: str) -> str:
    """Text as the page holds it (Jinja2's autoescape)."""
    return str(escape(text))


def elements(page: str) -> Elements:
    parsed = Elements()
    parsed.feed(page)
    return parsed


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report directory of a full run against a server that rents numbers in the wrong country."""
    reports = tmp_path_factory.mktemp("wrong-country") / "reports"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CLOSE_API_KEY", "mock_admin_key")
        env.setenv("CLOSE_BEARER_TOKEN", "mock_oauth_token")
        with Server(FaultyServer(WRONG_COUNTRY)) as server:
            code = main(["--base-url", server.origin + "/api/v1", "--report-dir", str(reports), *RUN])
    assert code == 1
    return reports


@pytest.fixture(scope="module")
def record(faulty_run: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((faulty_run / "report.json").read_text(encoding="utf-8"))
    return found


@pytest.fixture(scope="module")
def browser() -> Any:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make test-only` installs Debian's chromium"
    with Chromium() as chromium:
        yield chromium


def with_timeline(record: dict[str, Any], reports: Path) -> dict[str, Any]:
    """The record with a timeline: its own, or one from the HAR until report.record carries it."""
    found = copy.deepcopy(record)
    if not found.get("timeline"):
        found["timeline"] = har_timeline(reports / "exchanges.har", found["started"])
    return found


def opened_cleanly(browser: Chromium, page: Path) -> None:
    opened = browser.open(page)
    assert opened.errors == [], f"{page.name} logged errors: {opened.errors}"
    assert opened.requests == [opened.url], f"{page.name} asked for more than itself: {opened.requests}"
    assert opened.blocked == {}


# -- one file, nothing loaded, everything escaped -------------------------------------------


def test_the_page_loads_nothing_and_allows_only_its_own_inline_style_and_script(record: dict[str, Any]) -> None:
    page = html.render(record)
    parsed = elements(page)
    links = [(tag, name, value) for tag, attrs in parsed.tags for name, value in attrs.items()
             if name in ("src", "href", "srcset", "action", "xlink:href", "data", "poster")]  # fmt: skip
    assert all(value == "data:," or (value or "").startswith("#") for _, _, value in links), links
    assert not {tag for tag, _ in parsed.tags} & {"img", "iframe", "object", "embed", "audio", "video", "form"}
    policy = next(
        attrs["content"] or "" for tag, attrs in parsed.tags if attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in policy
    assert f"'{html.csp_hash(''.join(parsed.blocks['style']))}'" in policy  # the one <style>, and nothing else
    assert f"'{html.csp_hash(''.join(parsed.blocks['script']))}'" in policy
    assert not any(name.startswith("on") or name == "style" for _, attrs in parsed.tags for name in attrs)
    assert page.startswith("<!doctype html>")


def test_what_a_server_sent_is_shown_as_text_never_as_markup(record: dict[str, Any]) -> None:
    hostile = copy.deepcopy(record)
    example = hostile["violations"][0]["examples"][0]
    example["response"]["body"] = '</pre><script>alert(1)</script><img src="http://attacker.invalid/x">'
    example["request"]["headers"].append(["x-note", '"><svg onload=alert(2)>'])
    hostile["violations"][0]["message"] = "<b>bold</b> & more"
    page = html.render(hostile)
    parsed = elements(page)
    assert [tag for tag, _ in parsed.tags].count("script") == 1
    assert not any(tag == "img" for tag, _ in parsed.tags)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page


# -- what a person looks for --------------------------------------------------------------


def test_the_verdict_and_fix_first_come_before_the_details(record: dict[str, Any]) -> None:
    page = html.render(record)
    verdict, fix_first = page.index("NOT CONFORMANT"), page.index("Fix first")
    first = record["violations"][0]
    assert verdict < fix_first < page.index('id="violations"')
    assert f"exit {record['exit_code']}" in page
    roots = [v for v in record["violations"] if v["fails"] and not v["explained_by"]]
    listed = re.findall(r'<li value="\d+"><a href="#v(\d+)"', page[fix_first : page.index("</ol>", fix_first)])
    assert listed == [str(record["violations"].index(v) + 1) for v in roots[:3]]
    assert str(escape(first["examples"][0]["curl"])) in page


def test_a_choice_says_what_the_contract_chose_the_other_readings_and_what_to_do(record: dict[str, Any]) -> None:
    chosen = [v for v in record["violations"] if v["basis"]["kind"] == "chosen"]
    assert chosen, "the wrong-country run has a finding against the contract's own choices"
    page = html.render(record)
    section = page[page.index("Findings against the contract's own choices") :]
    basis = chosen[0]["basis"]
    assert escaped(basis["text"]) in section
    assert escaped(basis["reason"]) in section
    for name in basis["readings"]:
        assert f"<b>{name}</b>" in section
    assert f"x-choices.{basis['ref']}" in section
    assert "--assumptions warn" in section
    assert "--baseline" in section


def test_a_baseline_run_shows_what_is_new_known_and_fixed(record: dict[str, Any]) -> None:
    against = copy.deepcopy(record)
    violations = against["violations"]
    violations[0] |= {"baseline": "known", "fails": False}
    for violation in violations[1:]:
        violation["baseline"] = "new"
    against["baseline"] = {
        "path": "accepted.json",
        "known": 1,
        "new": len(violations) - 1,
        "fixed": ["status_code_conformance: 200 for a rental"],
        "not_judged": ["rate_limit_answer: x"],
    }
    page = html.render(against)
    section = page[page.index('id="baseline"') :]
    assert "known from the baseline" in page
    assert "status_code_conformance: 200 for a rental" in section
    assert "rate_limit_answer: x" in section
    assert re.search(r"<b>1</b><span>known</span>", section)
    assert re.search(rf"<b>{len(violations) - 1}</b><span>new</span>", section)


def test_rentals_still_held_come_with_the_release_command(record: dict[str, Any]) -> None:
    holding = copy.deepcopy(record)
    held = holding["rentals"][:2]
    holding["lifecycle"] |= {"held": held, "release_command": "close-conformance release --ledger /x/ledger.jsonl"}
    page = html.render(holding)
    section = page[page.index('id="rentals"') : page.index('id="notes"')]
    assert "Still held after the run (2)" in section
    assert all(rental_id in section for rental_id in held)
    assert "close-conformance release --ledger /x/ledger.jsonl" in section
    released = html.render(record)
    assert f"{record['lifecycle']['released']} released" in released


def test_hundreds_of_causes_with_long_bodies_stay_a_small_page(record: dict[str, Any]) -> None:
    many = copy.deepcopy(record)
    body = json.dumps({f"field_{n}": "x" * 30 for n in range(120)})[:4_000]  # as long as report.json keeps
    causes = []
    for number in range(400):
        cause = copy.deepcopy(record["violations"][0]) | {"key": f"check_{number}: subject"}
        for example in cause["examples"]:
            example["request"]["body"] = example["response"]["body"] = body
        causes.append(cause)
    many["violations"] = causes
    page = html.render(many)
    assert len(page.encode()) < 3_000_000
    assert page.count('class="card violation"') == html.MAX_VIOLATIONS
    assert f"{len(causes) - html.MAX_VIOLATIONS} more violations are in report.json" in page
    assert "more characters in report.json and exchanges.har" in page


def test_a_record_of_a_run_that_could_not_test_or_an_older_record_renders() -> None:
    page = html.render({"result": "cannot test", "exit_code": 2, "reason": "no request reached the server"})
    assert "CANNOT TEST" in page
    assert "no request reached the server" in page
    assert "no per-exchange timings" in page
    assert html.render({})  # nothing at all: still a page, never a traceback


# -- the timeline ----------------------------------------------------------------------------


def test_the_timeline_draws_requests_latency_waits_and_failures() -> None:
    rows = [
        [0.0, 2.5, 201, "rent", 0, 0, None],
        [0.1, 1012.0, 201, "rent", 2, 1000.0, None],  # two 429s waited out, then a rental
        [0.2, 10000.0, None, "rent", 0, 0, "timeout"],
        [0.3, 0.4, 429, "rent", 0, 0, None],
        [0.4, 3.1, 404, "read", 0, 0, None],
    ]
    page = html.render({"result": "not conformant", "timeline": rows})
    chart = page[page.index('id="timeline"') : page.index('id="rentals"')]
    assert chart.count('<circle class="') == 5
    assert chart.count('<rect class="wait"') == 1
    assert chart.count('<line class="mark"') == 1
    assert "rate limited (429): 3 answers, 1.0 s waited out" in chart
    assert "server failures: 1" in chart


def test_a_big_run_is_drawn_per_pixel_column_not_per_exchange() -> None:
    rows = [[index / 1000, 1 + index % 7, 201 if index % 3 else 400, "rent", index % 50 == 0, 5.0, None]
            for index in range(50_000)]  # fmt: skip
    page = html.render({"result": "conformant", "timeline": rows})
    assert len(page.encode()) < 400_000
    assert '<circle class="ok"' not in page  # no dot per exchange
    assert page.count('<line class="band"') <= html.PLOT_RIGHT - html.PLOT_LEFT


def test_timeline_rows_of_another_shape_are_skipped() -> None:
    found = html.points([[0.1, 2, 201, "rent"], "junk", [None, "x", "y", "rent"], [1], {"a": 1}])
    assert [point.status for point in found] == [201, None]
    assert found[1].start is None
    assert found[1].elapsed_ms == 0
    assert html.render({"timeline": "not a list"})


# -- in the browser ----------------------------------------------------------------------------


def test_the_report_of_a_faulty_servers_run_opens_cleanly_and_shows_what_a_person_looks_for(
    faulty_run: Path, record: dict[str, Any], browser: Chromium
) -> None:
    opened_cleanly(browser, faulty_run / "report.html")
    first_screen = browser.evaluate(
        "[...document.querySelectorAll('#verdict, .fixfirst')].map(e => e.getBoundingClientRect().bottom)"
    )
    assert len(first_screen) == 2
    assert max(first_screen) <= 900, "the verdict and Fix first are on the first screen"
    assert "NOT CONFORMANT" in browser.evaluate("document.querySelector('#verdict .result').innerText")
    assert "exit 1" in browser.evaluate("document.querySelector('#verdict').innerText")
    first = record["violations"][0]
    assert browser.evaluate("document.querySelector('.violation h3').textContent") == first["key"]
    curl = browser.evaluate("document.querySelector('.violation .curl pre').textContent")
    assert curl == first["examples"][0]["curl"]
    cells = browser.evaluate(
        "({on: document.querySelectorAll('#coverage .cell.on').length,"
        " off: document.querySelectorAll('#coverage .cell.off').length,"
        " seen: document.querySelector('#coverage .cells').getBoundingClientRect().height > 0})"
    )
    coverage = record["coverage"]
    assert cells == {"on": coverage["exercised"], "off": coverage["items"] - coverage["exercised"], "seen": True}
    statuses = browser.evaluate("[...document.querySelectorAll('#checks .status')].map(e => e.textContent)")
    assert statuses.count("not exercised") == sum(c["status"] == "not exercised" for c in record["checks"].values())


def test_the_copy_button_copies_or_selects_the_curl_without_an_error(faulty_run: Path, browser: Chromium) -> None:
    opened_cleanly(browser, faulty_run / "report.html")
    said = browser.evaluate(
        "new Promise(done => { const b = document.querySelector('.curl .copy'); b.click();"
        " setTimeout(() => done(b.textContent), 200); })"
    )
    assert said in ("Copied", "Selected")
    assert browser.errors() == []


def test_the_page_reads_on_a_phone_without_scrolling_sideways(faulty_run: Path, browser: Chromium) -> None:
    opened_cleanly(browser, faulty_run / "report.html")
    browser.viewport(390, 844, mobile=True, scale=2)
    width = browser.evaluate("new Promise(d => requestAnimationFrame(() => d(document.documentElement.scrollWidth)))")
    assert width <= 390
    assert browser.evaluate("document.querySelector('#verdict').getBoundingClientRect().width") <= 390


def test_the_timeline_of_the_run_is_drawn_in_the_browser(
    faulty_run: Path, record: dict[str, Any], browser: Chromium, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    page.write_text(html.render(with_timeline(record, faulty_run)), encoding="utf-8")
    opened_cleanly(browser, page)
    drawn = browser.evaluate(
        "({bars: document.querySelectorAll('#timeline rect.ok, #timeline rect.refused').length,"
        " dots: document.querySelectorAll('#timeline circle').length,"
        " height: document.querySelector('#timeline svg').getBoundingClientRect().height})"
    )
    assert drawn["bars"] > 0
    assert drawn["dots"] == record["requests"]["exchanges"]
    assert drawn["height"] > 200


def test_the_browser_check_sees_a_request_leaving_a_page_and_an_error_in_it(tmp_path: Path, browser: Chromium) -> None:
    leaking = tmp_path / "leaking.html"
    leaking.write_text('<!doctype html><title>x</title><img src="http://127.0.0.1:9/pixel.png">', encoding="utf-8")
    opened = browser.open(leaking)
    assert "http://127.0.0.1:9/pixel.png" in opened.requests
    broken = tmp_path / "broken.html"
    broken.write_text("<!doctype html><title>x</title><script>undefinedFunction()</script>", encoding="utf-8")
    assert any("undefinedFunction" in error for error in browser.open(broken).errors)
    page = html.render({"result": "conformant"}).replace("</main>", '</main><img src="http://127.0.0.1:9/x.png">')
    blocked = tmp_path / "blocked.html"
    blocked.write_text(page, encoding="utf-8")
    opened = browser.open(blocked)
    assert opened.blocked == {"http://127.0.0.1:9/x.png": "csp"}  # the page's own policy refused to send it
    assert any("Content Security Policy" in error for error in opened.errors), opened.errors


def test_a_replay_of_10000_exchanges_gives_a_small_page_that_renders(tmp_path: Path, browser: Chromium) -> None:
    from bench.traffic import recorded_har

    har, reports = tmp_path / "traffic.har", tmp_path / "reports"
    recorded_har(har, 10_000)
    assert main(["replay", str(har), "--report-dir", str(reports)]) in (0, 1)
    written = json.loads((reports / "report.json").read_text(encoding="utf-8"))
    pages = [reports / "report.html", tmp_path / "with-timeline.html"]
    pages[1].write_text(html.render(with_timeline(written, reports)), encoding="utf-8")
    for page in pages:
        assert page.stat().st_size < 5_000_000, f"{page.name}: {page.stat().st_size:,} bytes"
        opened_cleanly(browser, page)
        assert browser.evaluate("document.querySelector('#verdict .result').innerText").startswith("NOT CONFORMANT")
        assert browser.evaluate("document.querySelectorAll('.violation').length") == len(written["violations"])
