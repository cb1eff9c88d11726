"""The web console in a real browser (Debian's Chromium through Playwright) against a live vppd and vppsim.

The walk an MDM admin does, then the refusals that must hold: a read-only admin sees no write control and
a forged POST is refused, a POST without the CSRF token is refused, an organisation named <script> is text,
and axe-core finds no serious or critical accessibility violation on any page."""
import re
import time

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from conftest import PASSWORDS, SCREENSHOTS

AXE = Axe()
SEEN = set()


def check(page, name):
    """Screenshot and axe-core on the page now shown (once per page name)."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if name in SEEN:
        return
    SEEN.add(name)
    results = AXE.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)


def sign_in(page, url, user):
    page.goto(url + "/console/")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/tokens$"))


def nav(page, section):
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=section, exact=True).click()


def csrf_of(page):
    return page.locator("input[name=csrf]").first.get_attribute("value")


def upload(page, path, emails=""):
    page.get_by_label("Content token file").set_input_files(path)
    if emails:
        page.get_by_label("Notice e-mail addresses").fill(emails)
    page.get_by_role("button", name="Upload").click()


def test_admin_walk(stack, page):
    url, sim, work = stack["url"], stack["sim"], stack["work"]
    uid = sim.location("Main Campus", "Example School", [("361285480", 10, "Keynote")])
    token_file = sim.mint(uid, work / "main.vpptoken")

    page.goto(url + "/console/")
    check(page, "sign-in")
    sign_in(page, url, "alice")
    check(page, "tokens-empty")

    # Upload: the token is stored and synced at once.
    upload(page, token_file, "it@school.example")
    expect(page.locator(".notice")).to_have_text("Token uploaded and synced.")
    expect(page.locator("#token-status")).to_have_text("Active")
    expect(page.locator("#sync-result")).to_have_text("OK")
    check(page, "token")
    nav(page, "Tokens")
    row = page.locator("tbody tr", has_text="Main Campus")
    expect(row).to_contain_text("Example School")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("0 of 10 assigned")
    check(page, "tokens")

    # Three devices join the inventory.
    nav(page, "Devices")
    page.get_by_label("Serial numbers").fill("C02WALK00001\nC02WALK00002\nC02WALK00003")
    page.get_by_role("button", name="Add devices").click()
    expect(page.locator(".notice")).to_have_text("Devices added.")
    check(page, "devices")
    # The total over the list's filter, and sorting by a column header (a link: no JavaScript needed); the
    # current column again reverses it.
    expect(page.locator(".pager")).to_contain_text("Rows 1–3 of 3")
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Serial number")
    page.get_by_role("link", name="Serial number").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Serial number")
    expect(page.locator("tbody tr").first).to_contain_text("C02WALK00003")
    page.get_by_role("link", name="Serial number").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Serial number")
    expect(page.locator("tbody tr").first).to_contain_text("C02WALK00001")

    # The pooled app, then its page: assign the three devices and watch them become active.
    nav(page, "Apps")
    app_row = page.locator("tbody tr", has_text="Keynote")
    expect(app_row).to_contain_text("Main Campus: 0 of 10")
    check(page, "apps")
    app_row.get_by_role("link", name="Keynote").click()
    for serial in ("C02WALK00001", "C02WALK00002", "C02WALK00003"):
        page.get_by_label(serial).check()
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".notice")).to_contain_text("Licences requested from Apple")
    deadline = time.time() + 30
    while page.locator(".state-active").count() < 3 and time.time() < deadline:
        time.sleep(1)
        page.reload()
    expect(page.locator(".state-active")).to_have_count(3)
    expect(page.locator("#pool-assigned")).to_have_text("3")
    check(page, "app")
    expect(page.locator(".pager")).to_contain_text("Rows 1–3 of 3")
    page.get_by_role("link", name="Assignee").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Assignee")
    page.get_by_role("link", name="Assignee").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Assignee")
    licences = page.locator("table", has=page.locator("caption", has_text="Who holds")).locator("tbody tr")
    expect(licences.first).to_contain_text("C02WALK00003")

    # The device page: the licence, how the app reaches the device, what the device reported.
    app_url = page.url
    nav(page, "Devices")
    page.get_by_role("link", name="C02WALK00001").click()
    expect(page.locator("#device-apps")).to_contain_text("active")
    expect(page.locator("#device-apps")).to_contain_text("command")
    check(page, "device")
    page.goto(app_url)

    # Revoke one licence: the consequences in plain words first, then confirmation.
    page.get_by_label("Select C02WALK00003").check()
    page.get_by_role("button", name="Revoke selected…").click()
    expect(page.locator("#revoke-consequence")).to_contain_text("uninstall")
    check(page, "revoke")
    page.get_by_role("button", name="Confirm revoke").click()
    expect(page.locator(".notice")).to_contain_text("Revocation requested")
    deadline = time.time() + 30
    while page.locator("#pool-assigned").inner_text() != "2" and time.time() < deadline:
        time.sleep(1)
        page.reload()
    expect(page.locator("#pool-assigned")).to_have_text("2")

    # Apple Configurator claims the token: a sync notices it, the banner names it, the admin takes it over.
    sim.call("PUT", f"/sim/locations/{uid}/mdm-info", {"appleConfigurator": True})
    nav(page, "Tokens")
    page.get_by_role("link", name="Main Campus").click()
    page.get_by_role("button", name="Sync").click()
    expect(page.locator("#token-status")).to_have_text("In use by Apple Configurator")
    expect(page.locator(".banner")).to_contain_text("in use by Apple Configurator")
    check(page, "token-held-elsewhere")
    page.get_by_role("link", name="Take over…").click()
    expect(page.locator("#take-over-licences li")).to_have_count(2)
    expect(page.locator("#take-over-licences")).to_contain_text("Keynote on device C02WALK00001")
    expect(page.locator("main")).to_contain_text("2 licences")
    check(page, "take-over")
    page.get_by_role("button", name="Confirm take-over").click()
    expect(page.locator(".notice")).to_contain_text("Token taken over")
    expect(page.locator("#token-status")).to_have_text("Active")
    expect(page.locator(".banner")).to_have_count(0)

    # Removal: the plan in plain words, then confirmation.
    page.get_by_role("link", name="Remove…").click()
    expect(page.locator("#removal-plan")).to_contain_text("stay")
    check(page, "remove")
    page.get_by_role("button", name="Confirm removal").click()
    expect(page.locator(".notice")).to_have_text("Token removed.")
    expect(page.locator("tbody tr", has_text="Main Campus")).to_have_count(0)

    # The other pages, and the audit log naming the admin.
    nav(page, "Users")
    check(page, "users")
    nav(page, "Reports")
    check(page, "reports")
    nav(page, "Audit log")
    page.get_by_label("Who").fill("alice")
    page.get_by_role("button", name="Filter").click()
    for action in ("token.upload", "token.take-over", "console.sign-in"):
        expect(page.locator("tbody tr", has_text=action).first).to_contain_text("alice")
    check(page, "audit")

    # Sign out: the session is gone, pages send the browser back to sign-in.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    page.goto(url + "/console/tokens")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))


def test_read_only_admin_sees_no_write_control_and_forged_posts_are_refused(stack, page, browser):
    url, sim, work = stack["url"], stack["sim"], stack["work"]
    uid = sim.location("North Campus", "Example School North", [("408709785", 5, "Pages")])
    sign_in(page, url, "alice")
    upload(page, sim.mint(uid, work / "north.vpptoken"))
    expect(page.locator("#token-status")).to_have_text("Active")
    token_path = page.url.split("?")[0].replace(url, "")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, url, "reader")
    expect(page.locator("tbody tr", has_text="North Campus")).to_have_count(1)
    expect(page.get_by_label("Content token file")).to_have_count(0)
    expect(page.get_by_role("button", name="Upload")).to_have_count(0)
    check(page, "tokens-read-only")
    page.get_by_role("link", name="North Campus").click()
    for control in ("Sync", "Renew", "Take over…", "Remove…"):
        expect(page.get_by_role("button", name=control)).to_have_count(0)
        expect(page.get_by_role("link", name=control)).to_have_count(0)
    nav(page, "Apps")
    page.get_by_role("link", name="Pages", exact=True).click()
    expect(page.get_by_role("button", name="Assign")).to_have_count(0)
    nav(page, "Devices")
    expect(page.get_by_role("button", name="Add devices")).to_have_count(0)

    # A forged POST with the reader's own valid session and CSRF token is refused by the server.
    csrf = csrf_of(page)
    for path, form in [(token_path + "/remove", {}), (token_path + "/sync", {}), ("/console/devices", {"serials": "C02FORGED001"})]:
        response = page.request.post(url + path, form={"csrf": csrf, **form}, headers={"Origin": url}, max_redirects=0)
        assert response.status == 403, (path, response.status)
        assert "lacks" in response.text()
    page.goto(url + "/console/devices")
    expect(page.locator("main")).not_to_contain_text("C02FORGED001")
    page.goto(url + token_path)
    expect(page.locator("#token-status")).to_have_text("Active")
    # Opening a write page by its address shows the refusal, not the form.
    page.goto(url + token_path + "/remove")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm removal")).to_have_count(0)
    check(page, "refused")


def test_posts_without_csrf_token_or_from_another_origin_are_refused(stack, page):
    url = stack["url"]
    sign_in(page, url, "alice")
    csrf = csrf_of(page)
    missing = page.request.post(url + "/console/devices", form={"serials": "C02NOCSRF001"}, headers={"Origin": url}, max_redirects=0)
    assert missing.status == 403 and "Form refused" in missing.text()
    wrong = page.request.post(url + "/console/devices", form={"serials": "C02NOCSRF002", "csrf": "0" * 64}, headers={"Origin": url},
                              max_redirects=0)
    assert wrong.status == 403
    elsewhere = page.request.post(url + "/console/devices", form={"serials": "C02NOCSRF003", "csrf": csrf},
                                  headers={"Origin": "http://evil.example"}, max_redirects=0)
    assert elsewhere.status == 403
    page.goto(url + "/console/devices")
    expect(page.locator("main")).not_to_contain_text("C02NOCSRF00")
    # The same form with the token and this origin goes through.
    ok = page.request.post(url + "/console/devices", form={"serials": "C02NOCSRF004", "csrf": csrf}, headers={"Origin": url},
                           max_redirects=0)
    assert ok.status == 303


def test_organisation_named_script_is_shown_as_text(stack, page):
    url, sim, work = stack["url"], stack["sim"], stack["work"]
    name = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"
    uid = sim.location("Script Campus", name, [("284417350", 3, "<b>Bold</b> App")])
    sign_in(page, url, "alice")
    upload(page, sim.mint(uid, work / "script.vpptoken"))
    expect(page.locator("#token-status")).to_have_text("Active")
    nav(page, "Tokens")
    expect(page.locator("tbody tr", has_text="Script Campus")).to_contain_text(name)
    nav(page, "Apps")
    expect(page.locator("main")).to_contain_text("<b>Bold</b> App")
    assert page.evaluate("window.pwned") is None
    assert page.locator("main script, main img").count() == 0


def test_bad_input_is_shown_on_the_form_with_input_kept(stack, page):
    url, work = stack["url"], stack["work"]
    bad = work / "not-a-token.vpptoken"
    bad.write_text("this is not a token")
    sign_in(page, url, "alice")
    upload(page, bad, "keep@school.example")
    expect(page.locator("#upload-error")).to_contain_text("Base64")
    expect(page.get_by_label("Notice e-mail addresses")).to_have_value("keep@school.example")
    check(page, "tokens-upload-error")
    nav(page, "Apps")
    page.get_by_role("link", name="<b>Bold</b> App").click()
    page.get_by_label("Or paste serial numbers").fill("C02UNKNOWN99")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#assign-error")).to_contain_text("Unknown device: C02UNKNOWN99")
    expect(page.get_by_label("Or paste serial numbers")).to_have_value("C02UNKNOWN99")
    check(page, "app-assign-error")
    nav(page, "Reports")
    page.get_by_role("link", name="Drift report").click()
    expect(page.get_by_role("heading", name="Drift", exact=True)).to_be_visible()
    check(page, "drift")


def test_renew_takes_a_new_file_for_the_same_location_and_names_both_otherwise(stack, page):
    url, sim, work = stack["url"], stack["sim"], stack["work"]
    uid = sim.location("Renew Campus", "Renew School", [("361309726", 2, "Numbers")])
    other = sim.location("Elsewhere Campus", "Other School", [])
    sign_in(page, url, "alice")
    upload(page, sim.mint(uid, work / "renew-1.vpptoken"))
    expect(page.locator("#token-status")).to_have_text("Active")
    page.get_by_label("New content token file for this location").set_input_files(sim.mint(other, work / "elsewhere.vpptoken"))
    page.get_by_role("button", name="Renew").click()
    expect(page.locator("#action-error")).to_contain_text('for location "Elsewhere Campus"')
    expect(page.locator("#action-error")).to_contain_text('"Renew Campus"')
    check(page, "token-renew-error")
    page.get_by_label("New content token file for this location").set_input_files(sim.mint(uid, work / "renew-2.vpptoken"))
    page.get_by_role("button", name="Renew").click()
    expect(page.locator(".notice")).to_have_text("Token renewed.")
    expect(page.locator("#token-status")).to_have_text("Active")


def test_failed_sign_in_is_refused_and_keeps_the_username(stack, page):
    url = stack["url"]
    page.goto(url + "/console/sign-in")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-in-error")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Username")).to_have_value("alice")
    check(page, "sign-in-failed")


def test_scope_preview_then_save_and_the_forecast_chart(stack, page):
    """Desired state in the console: a scope is previewed (nothing stored, nothing at Apple), then saved and
    carried out; the app page draws the forecast as SVG with a data table, and axe passes on each page."""
    url, sim, work = stack["url"], stack["sim"], stack["work"]
    uid = sim.location("Scope Campus", "Example School", [("777000111", 5, "Pages")])
    token_file = sim.mint(uid, work / "scopes.vpptoken")
    sign_in(page, url, "alice")
    upload(page, token_file)
    expect(page.locator(".notice")).to_contain_text("Token uploaded")

    nav(page, "Scopes")
    check(page, "scopes-empty")
    page.get_by_label("Name").fill("pages-lab")
    page.get_by_label("App (Adam ID)").fill("777000111")
    page.get_by_label("Serial numbers (one per line)").fill("C02SCOPE0001\nC02SCOPE0002\nC02SCOPE0003")
    page.get_by_role("button", name="Preview plan").click()
    preview = page.get_by_role("region", name=re.compile("^Preview: what saving does"))
    expect(preview).to_contain_text("Add now")
    expect(preview.locator("dd").first).to_have_text("3")
    expect(page.get_by_role("link", name="pages-lab")).to_have_count(0)  # not stored
    check(page, "scope-preview")

    page.get_by_role("button", name="Save scope").click()
    expect(page.locator(".notice")).to_contain_text("Scope saved")
    deadline = time.time() + 30
    while "Licensed3" not in page.locator(".card dl.plan").first.inner_text().replace("\n", "").replace(" ", "") \
            and time.time() < deadline:
        time.sleep(1)
        page.reload()
    expect(page.locator(".card dl.plan").first).to_contain_text("3")
    check(page, "scope")

    nav(page, "Scopes")
    expect(page.locator("tbody tr", has_text="pages-lab")).to_contain_text("777000111")
    check(page, "scopes")

    page.goto(url + "/console/apps/777000111?pp=STDQ")
    chart = page.locator("figure.chart svg")
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("title")).to_contain_text("licences used over the last 90 days")
    expect(page.locator("#forecast-summary")).to_contain_text("2 left")
    expect(page.locator("table", has_text="Licences in use, weekly")).to_have_count(1)
    check(page, "app-forecast")
