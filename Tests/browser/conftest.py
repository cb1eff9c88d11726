"""Fixtures for the console's browser tests: a live vppsim and vppd (the built executables), admins made
with vppctl, and Debian's Chromium driven by Playwright. Run by Scripts/test.sh after `swift test`:

    python3 -m pytest Tests/browser -q

Screenshots of every page go to $CONSOLE_SCREENSHOTS (default .build/console-screenshots)."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".build" / "debug"
CHROMIUM = os.environ.get("CONSOLE_CHROMIUM", "/usr/lib/chromium/chromium")
SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", ROOT / ".build" / "console-screenshots"))
PASSWORDS = {"alice": "alice-console-password", "reader": "reader-console-password"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A started executable whose output goes to a log file; stopped with SIGTERM."""

    def __init__(self, name, args, env, cwd, pattern):
        self.log_path = Path(cwd) / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([str(BIN / name), *args], env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            text = self.log_path.read_text()
            match = re.search(pattern, text)
            if match:
                self.url = match.group(1)
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{text}")
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not start:\n{self.log_path.read_text()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


class Simulator:
    """vppsim's admin API (/sim/...)."""

    def __init__(self, url):
        self.url = url

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def location(self, name, org, assets):
        uid = json.loads(self.call("POST", "/sim/locations", {"name": name, "countryCode": "US", "orgName": org}))["uId"]
        for adam_id, count, app_name in assets:
            self.call("POST", f"/sim/locations/{uid}/assets", {
                "adamId": adam_id, "totalCount": count, "productType": "App", "pricingParam": "STDQ", "deviceAssignable": True,
                "revocable": True, "supportedPlatforms": ["iOS"], "retiredCount": 0, "name": app_name,
                "bundleId": f"com.example.app{adam_id}", "version": "1.0"})
        return uid

    def mint(self, uid, path):
        Path(path).write_bytes(self.call("POST", f"/sim/locations/{uid}/tokens", {"validDays": 365}))
        return str(path)


@pytest.fixture(scope="session")
def stack():
    work = Path(tempfile.mkdtemp(prefix="vpp-console-"))
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("VPP_")]:
        env.pop(key)
    sim = Server("vppsim", ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "warning"], env, work,
                 r"vppsim listening on (http://[0-9.]+:[0-9]+)")
    port = free_port()
    env.update({"VPP_DATABASE_URL": f"sqlite://{work}/vpp.sqlite", "VPP_APPLE_BASE_URL": sim.url + "/mdm/v2",
                "VPP_PUBLIC_URL": f"http://127.0.0.1:{port}", "VPP_LOG_LEVEL": "warning"})
    for user, role in [("alice", "mdm-admin"), ("reader", "read-only")]:
        subprocess.run([str(BIN / "vppctl"), "admin", "create", user, "--role", role], input=PASSWORDS[user] + "\n",
                       text=True, env=env, cwd=work, check=True, capture_output=True)
    vppd = Server("vppd", ["serve", "--port", str(port)], env, work, r"vppd listening on (http://[0-9.]+:[0-9]+)")
    yield {"sim": Simulator(sim.url), "url": vppd.url, "work": work, "env": env}
    vppd.stop()
    sim.stop()
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as p:
        # Debian's Chromium (Playwright cannot download its own here); Playwright adds --no-sandbox, needed as root.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
