"""In Chromium: a representative makes a MARAC referral, the manager screens it in, and the case is
in the list and found by name and date of birth; axe-core finds no WCAG A/AA violation on the way."""
import re

import pytest

from marac.cases import questions
from tests.test_browser import (_prerequisites, assert_accessible, browser, context, live,  # noqa: F401
                                new_context, open_page, sign_in, unused_code, visit)

pytestmark = [pytest.mark.no_db_transaction, pytest.mark.browser]

try:
    from playwright.sync_api import expect
except ImportError:  # the imported fixtures then fail or skip every test, as in test_browser.py
    expect = None


def fill_referral(page):
    page.get_by_label("Your role").fill("IDVA")
    page.locator("#victim-first_names").fill("Brauzina")
    page.locator("#victim-last_name").fill("Fakeperson-Browser")
    page.locator("#victim-date_of_birth-day").fill("14")
    page.locator("#victim-date_of_birth-month").fill("2")
    page.locator("#victim-date_of_birth-year").fill("1991")
    page.locator("#victim-postcode").fill("zz7 7zz")
    page.locator("#victim_aware-0").check()
    page.locator("#victim_consents-0").check()
    page.locator("#perpetrators-0-first_names").fill("Perry")
    page.locator("#perpetrators-0-last_name").fill("Fakeabuser-Browser")
    for number, (key, _) in enumerate(questions.DASH_QUESTIONS):
        page.locator(f"#dash-{key}-{0 if number < 16 else 1}").check()
    page.locator("#criterion-0").check()  # visible high risk: 16 'yes' answers
    page.get_by_label("The most recent incident").fill("Invented incident for the browser test.")


def test_referral_screening_list_and_search(live, browser):
    rep_context, manager_context = new_context(browser, live), new_context(browser, live)
    try:
        rep = open_page(rep_context)
        sign_in(rep, live.users.rep, unused_code(live, live.users.rep))
        rep.get_by_role("link", name=re.compile(f"Make a referral.*{live.panel_name}")).click()
        expect(rep.locator("h1")).to_have_text("Make a referral")
        assert_accessible(rep, "the MARAC referral form")

        rep.get_by_role("button", name="Send referral").click()  # nothing filled in: errors, nothing lost
        expect(rep.locator(".govuk-error-summary")).to_be_visible()
        assert_accessible(rep, "the referral form with errors")

        fill_referral(rep)
        rep.get_by_role("button", name="Send referral").click()
        expect(rep.locator(".govuk-notification-banner")).to_contain_text("sent to the")
        reference = re.search(r"MARAC-\d{4}-\d{4}", rep.locator("h1").inner_text()).group(0)
        assert "ZZ7 7ZZ" in rep.content()  # the postcode was normalised
        assert_accessible(rep, "the new case page")

        manager = open_page(manager_context)
        sign_in(manager, live.users.manager, unused_code(live, live.users.manager))
        manager.get_by_role("link", name=re.compile("Referrals awaiting screening")).click()
        manager.get_by_role("link", name=reference).click()
        manager.get_by_role("link", name="Screen this referral").click()
        assert_accessible(manager, "the screening page")
        manager.get_by_label("Accept the case for a meeting").check()
        manager.get_by_role("button", name="Save decision").click()
        expect(manager.locator(".govuk-notification-banner")).to_contain_text(f"{reference} accepted")

        visit(manager, f"/panels/{live.panel_id}/cases")
        expect(manager.locator("table")).to_contain_text(reference)
        expect(manager.locator("table")).to_contain_text("Brauzina Fakeperson-Browser")
        assert_accessible(manager, "the case list")

        # Search by name and date of birth: spelt differently, the blind index still matches.
        manager.get_by_label("Full name").fill("BRAUZINA fakeperson browser")
        manager.locator("#date_of_birth-day").fill("14")
        manager.locator("#date_of_birth-month").fill("02")
        manager.locator("#date_of_birth-year").fill("1991")
        manager.get_by_role("button", name="Search").click()
        expect(manager.locator("h2", has_text="result")).to_have_text("1 result")
        expect(manager.get_by_role("link", name=reference)).to_be_visible()
        assert "Brauzina" not in manager.url and "1991" not in manager.url  # searched by POST
        assert_accessible(manager, "the search results")

        # Search by how the name sounds, with the year of birth only.
        manager.get_by_label("Full name").fill("")
        for part in ("day", "month", "year"):
            manager.locator(f"#date_of_birth-{part}").fill("")
        manager.get_by_label("Name sounds like").fill("Brauzeena Fakepersun-Browser")
        manager.get_by_label("Year of birth").fill("1991")
        manager.get_by_role("button", name="Search").click()
        expect(manager.locator("h2", has_text="result")).to_have_text("1 result")
        expect(manager.get_by_role("link", name=reference)).to_be_visible()
        expect(manager.locator(".govuk-inset-text")).to_contain_text("check that each case")
        assert_accessible(manager, "the sound-alike search results")
    finally:
        rep_context.close()
        manager_context.close()
