"""The docs site: every generated page exists, and every page loads in headless Chromium without console
errors, broken internal links or images; env pages show their tables. Screenshots of the front page and
one env page go to ``results/docs-screenshots/`` (the test's artifacts)."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from stackenv.envs import ENV_MODULES
from stackenv.games import list_games

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "results" / "docs-screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
]


def test_every_registered_game_and_env_module_has_a_page(site):
    for name in list_games():
        page = (site / "games" / f"{name}.html").read_text()
        assert "Equilibria at the defaults" in page and "Parameters" in page, name
        assert (site / "img" / f"{name}.png").stat().st_size > 1000
    for module in ENV_MODULES:
        page = (site / "envs" / f"{module}.html").read_text()
        for text in ("Import", "Agents", "action shape", 'feedback="second_order"', "observation shape (AEC)"):
            assert text in page, (module, text)
    assert "::: " not in (site / "api" / "stackenv.games.html").read_text()  # mkdocstrings rendered it


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):
            if attrs.get(key) and tag in ("a", "img", "link", "script"):
                self.links.append((tag, attrs[key]))


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def test_no_broken_internal_links_or_images(site):
    broken = []
    for page in _pages(site):
        parser = _Links()
        parser.feed(page.read_text())
        for tag, link in parser.links:
            url = urlparse(link)
            if url.scheme or link.startswith(("#", "mailto:", "//")):
                continue
            target = (page.parent / url.path).resolve() if url.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: <{tag}> {link}")
    assert not broken, broken


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "headless Chromium not installed (/usr/bin/chromium, /usr/bin/chromedriver): "
            "`make test` installs Debian's chromium and chromium-driver when run as root"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    profile = Path(__import__("tempfile").mkdtemp(prefix="stackenv-chromium-"))
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


_BROKEN_IMAGES = "return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"


def test_every_page_loads_in_chromium(site, browser, server):
    problems = []
    for page in _pages(site):
        url = urljoin(server, page.relative_to(site).as_posix())
        browser.get(url)
        browser.execute_script("return document.readyState")
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        problems += [f"{url}: console: {m}" for m in errors]
        problems += [f"{url}: broken image {src}" for src in browser.execute_script(_BROKEN_IMAGES)]
        if "/envs/" in url:
            n_tables = browser.execute_script("return document.querySelectorAll('article table').length")
            if n_tables < 6:  # overview, actions, four feedback modes (and arguments)
                problems.append(f"{url}: only {n_tables} tables")
    assert not problems, problems
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(server + "index.html")
    browser.save_screenshot(str(SCREENSHOTS / "index.png"))
    browser.get(server + "envs/duopoly_v0.html")
    browser.save_screenshot(str(SCREENSHOTS / "duopoly_v0.png"))
    assert (SCREENSHOTS / "index.png").stat().st_size > 10_000
