"""Load test of a running marac (`make serve`): Locust, headless, users of mixed roles.

    .venv/bin/python benchmarks/load.py --host http://127.0.0.1:8000                 # 50 users, 10 minutes
    .venv/bin/python benchmarks/load.py --smoke                                      # 5 users, 30 s
    .venv/bin/python benchmarks/load.py --users 50 --duration 120 --no-think         # saturation

The users are the demo accounts (`make serve DEMO=1`, or `flask demo seed`), spread over the roles as a
panel's users are: representatives of agencies, panel managers, chairs and steering group members.
Each account signs in once, with its password and a code from its authenticator (production requires
one): an account without one is enrolled on its first sign-in, the key read from the set-up page and
kept in --totp-secrets (mode 0600), so a later run signs in with codes computed from it (pyotp). A code
is accepted once, so the users of one account share the session its first user signed in, as several
tabs of one browser do; nobody signs in again, and the sign-in limits never come near.

Each user then opens pages as people do, weighted by how often each kind of user opens them, with 1 to
3 s of thought between pages (none with --no-think: the throughput the server saturates at). The case
list is walked as a person walks it: page 1, the next pages, another order, a filter, all by the
links and choices the page itself offers. Searches are by case reference and by postcode (POSTed).

Measured after every user has signed in (stats reset then), for --duration seconds. Prints the
throughput, p50/p95/p99 per page, the errors, and the CPU seconds of each part of the stack (gunicorn
master and workers, the RQ worker, PostgreSQL's backends, Redis), read from /proc before and after.
Exits 1 when any request failed.
"""
import locust  # noqa: F401  (first: it patches the standard library for gevent)

import argparse
import itertools
import json
import os
import random
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import gevent
import gevent.lock
import pyotp
import requests
from locust import HttpUser, between, constant, events
from locust.env import Environment

PASSWORD = "demo-password-2026"  # the demo accounts' (marac/demo/services.py, DEMO_PASSWORD)
ACCOUNTS = {
    "representative": ["marac.rep@example.org", "mace.rep@example.org", "asb.rep@example.org",
                       "crosspanel.rep@example.org"],
    "manager": ["marac.manager@example.org", "mace.manager@example.org", "asb.manager@example.org"],
    "chair": ["marac.chair@example.org", "mace.chair@example.org", "asb.chair@example.org"],
    "steering": ["marac.steering@example.org", "mace.steering@example.org", "asb.steering@example.org"],
}
# Shares of the users: representatives are most of a panel's users; managers use it all day.
SHARES = {"representative": 0.4, "manager": 0.24, "chair": 0.16, "steering": 0.2}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REFERENCE = re.compile(r"\b(?:MARAC|MACE|ASB)-\d{4}-\d{4,}\b")
POSTCODE = re.compile(r"\bZZ\d{1,2} \d[A-Z]{2}\b")
DEFAULT_SECRETS = Path.home() / ".config" / "marac" / "load-totp.json"


class Page(HTMLParser):
    """The links, hidden inputs and select options of a page (no third-party parser needed)."""

    def __init__(self, text):
        super().__init__()
        self.links, self.hidden, self.selects, self._select = [], {}, {}, None
        self.feed(text)
        self.text = text

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href", "").startswith("/"):
            self.links.append(attrs["href"].replace("&amp;", "&"))
        elif tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.hidden.setdefault(attrs["name"], attrs.get("value", ""))
        elif tag == "select":
            self._select = attrs.get("name")
            self.selects.setdefault(self._select, [])
        elif tag == "option" and self._select and attrs.get("value"):
            self.selects[self._select].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None

    def matching(self, pattern):
        """Links whose path matches `pattern` in full (query strings kept)."""
        regex = re.compile(pattern)
        return sorted({link for link in self.links if regex.fullmatch(urlsplit(link).path)})


class Account:
    """One demo account: its shared session, CSRF token and what its home page links to."""

    def __init__(self, email):
        self.email, self.lock, self.ready = email, gevent.lock.Semaphore(), False
        self.cookie, self.csrf = None, None
        self.case_lists, self.meetings, self.panel_actions, self.stats = [], [], [], []
        self.cases, self.references, self.postcodes, self.meeting_pages = set(), set(), set(), set()
        self.list_links = {}  # case list url -> links it offered (sorts, pages, filters)

    def sign_in(self, host, secrets):
        """Sign in once (password, then the code; enrolling if need be) and find this account's pages."""
        with self.lock:
            if not self.ready:
                http = Browser(host)
                http.sign_in(self.email, secrets)
                self.cookie = http.cookie_header()
                self.discover(http)
                self.ready = True

    def discover(self, http):
        """The account's panels' pages from its home page, a first list of its cases and meetings, and
        a CSRF token (from a page with a form, after sign-in, so every user of the session shares it)."""
        home = Page(http.get("/").text)
        self.case_lists = home.matching(f"/panels/{UUID}/cases")
        self.meetings = home.matching(f"/panels/{UUID}/meetings")
        self.panel_actions = home.matching(f"/panels/{UUID}/actions")
        self.stats = home.matching(f"/panels/{UUID}/statistics")
        self.csrf = Page(http.get("/account").text).hidden.get("csrf_token")
        for url in self.case_lists:
            self.learn_list(url, Page(http.get(url).text))
        for url in self.meetings:
            self.meeting_pages.update(Page(http.get(url).text).matching(f"/meetings/{UUID}"))

    def learn_list(self, url, page):
        """Remember what a case-list page offered: its cases, references and links to other orders and pages."""
        path = urlsplit(url).path
        self.cases.update(page.matching(f"/cases/{UUID}"))
        self.references.update(REFERENCE.findall(page.text))
        links = [link for link in page.links if urlsplit(link).path == path and "?" in link]
        for name in ("status", "sort", "risk_level", "repeat", "agency_id"):
            for value in page.selects.get(name, []):
                links.append(f"{path}?{urlencode({name: value})}")
        if len(self.list_links) < 500:
            self.list_links[url] = sorted(set(links))


class Browser:
    """A plain requests session for signing in (not measured). Cookies are kept by hand: the app's are
    Secure, which requests will not send over the http:// of a local trial."""

    def __init__(self, host):
        self.host, self.http, self.cookies = host.rstrip("/"), requests.Session(), {}

    def cookie_header(self):
        """The Cookie header of the cookies kept so far."""
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def _keep(self, response):
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value
        return response

    def get(self, path):
        """GET a page that must answer 200."""
        response = self._keep(self.http.get(self.host + path, headers={"Cookie": self.cookie_header()},
                                            allow_redirects=False, timeout=30))
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code} while signing in")
        return response

    def post(self, path, data):
        """POST a form; the caller reads the redirect."""
        return self._keep(self.http.post(self.host + path, data=data, headers={"Cookie": self.cookie_header()},
                                         allow_redirects=False, timeout=30))

    def sign_in(self, email, secrets):
        token = Page(self.get("/sign-in").text).hidden["csrf_token"]
        response = self.post("/sign-in", {"csrf_token": token, "email": email, "password": PASSWORD})
        step = urlsplit(response.headers.get("Location", "")).path
        if step == "/sign-in/set-up-authenticator":
            page = Page(self.get(step).text)
            match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
            secret = match.group(1).replace(" ", "")
            secrets.remember(email, secret)
            self._code(step, page.hidden["csrf_token"], secret)
        elif step == "/sign-in/code":
            secret = secrets.get(email)
            if secret is None:
                raise SystemExit(f"{email} has an authenticator this script does not know: reset it "
                                 f"(an administrator's 'reset authenticator'), or pass its --totp-secrets file")
            self._code(step, Page(self.get(step).text).hidden["csrf_token"], secret)
        elif step != "/":
            raise RuntimeError(f"signing in {email} led to {step or response.status_code}")

    def _code(self, step, token, secret):
        """Post the current code; a code is good once, so after a rejection wait for the next one."""
        for _ in range(3):
            response = self.post(step, {"csrf_token": token, "code": pyotp.TOTP(secret).now()})
            if response.status_code == 302 and urlsplit(response.headers["Location"]).path in ("/", "/account/password"):
                return
            gevent.sleep(31 - time.time() % 30)
            token = Page(self.get(step).text).hidden.get("csrf_token", token)
        raise RuntimeError("the authenticator code was refused three times")


class Secrets:
    """Authenticator keys of the demo accounts this script enrolled (JSON, mode 0600)."""

    def __init__(self, path):
        self.path, self.lock = Path(path), gevent.lock.Semaphore()
        self.values = json.loads(self.path.read_text()) if self.path.exists() else {}

    def get(self, email):
        """The account's key, if this script enrolled it."""
        return self.values.get(email)

    def remember(self, email, secret):
        """Keep an account's new key (the file rewritten, private)."""
        with self.lock:
            self.values[email] = secret
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(self.values, handle, indent=2)


class Settings:
    """What main() sets before the users start."""

    accounts = {}
    secrets = None
    ready = 0


class MaracUser(HttpUser):
    """A user of one role, on one of the role's accounts (round robin)."""

    abstract = True
    role = None
    wait_time = between(1, 3)
    _next = itertools.count()

    def on_start(self):
        emails = ACCOUNTS[self.role]
        self.account = Settings.accounts[emails[next(self._next) % len(emails)]]
        self.account.sign_in(self.host, Settings.secrets)
        self.last_list = None
        Settings.ready += 1

    # --- requests, measured -------------------------------------------------------------------
    def open(self, url, name, method="GET", data=None):
        """One page; anything but 200 (a redirect to sign-in included) is a failure."""
        with self.client.request(method, url, name=name, data=data, allow_redirects=False, catch_response=True,
                                 headers={"Cookie": self.account.cookie}) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return None
            return response.text

    # --- what people do --------------------------------------------------------------------------
    def home(self):
        self.open("/", "home")

    def case_list(self):
        """Page 1, or a link the last list page offered (next page, another order), or a filter."""
        account = self.account
        if not account.case_lists:
            return self.home()
        if self.last_list and account.list_links.get(self.last_list) and random.random() < 0.6:
            url = random.choice(account.list_links[self.last_list])
            name = "case list, next page" if "after" in url or "page=" in url else "case list, sorted or filtered"
        else:
            url, name = random.choice(account.case_lists), "case list, page 1"
        text = self.open(url, name)
        if text is not None:
            self.last_list = url
            if url not in account.list_links:
                account.learn_list(url, Page(text))

    def case_page(self):
        if not self.account.cases:
            return self.home()
        text = self.open(random.choice(sorted(self.account.cases)), "case page")
        if text is not None and len(self.account.postcodes) < 200:
            self.account.postcodes.update(POSTCODE.findall(text))

    def search(self):
        account = self.account
        if not account.case_lists:
            return self.home()
        url = urlsplit(random.choice(account.case_lists)).path + "/search"
        if account.postcodes and random.random() < 0.5:
            self.open(url, "search by postcode", "POST",
                      {"csrf_token": account.csrf, "postcode": random.choice(sorted(account.postcodes))})
        elif account.references:
            self.open(url, "search by reference", "POST",
                      {"csrf_token": account.csrf, "reference": random.choice(sorted(account.references))})

    def my_actions(self):
        self.open("/actions", "my actions")

    def panel_actions(self):
        if not self.account.panel_actions:
            return self.my_actions()
        self.open(random.choice(self.account.panel_actions), "panel actions")

    def meetings(self):
        if not self.account.meetings:
            return self.home()
        self.open(random.choice(self.account.meetings), "meetings")

    def meeting_page(self):
        if not self.account.meeting_pages:
            return self.meetings()
        self.open(random.choice(sorted(self.account.meeting_pages)), "meeting page")

    def statistics(self):
        if not self.account.stats:
            return self.home()
        self.open(random.choice(self.account.stats), "statistics")

    def my_referrals(self):
        self.open("/referrals/mine", "my referrals")


def weighted(**weights):
    """Locust's {task: weight} from method names."""
    return {getattr(MaracUser, name): weight for name, weight in weights.items()}


class Representative(MaracUser):
    """Researches cases for meetings, records actions, refers."""

    abstract, role = False, "representative"
    tasks = weighted(home=3, case_list=3, case_page=5, search=2, my_actions=3, my_referrals=1, meeting_page=1)


class Manager(MaracUser):
    """Runs the panel: screens referrals, builds agendas, chases actions."""

    abstract, role = False, "manager"
    tasks = weighted(home=3, case_list=6, case_page=5, search=2, panel_actions=2, my_actions=1, meetings=2,
                     meeting_page=2, statistics=1)


class Chair(MaracUser):
    """Prepares for and chairs meetings."""

    abstract, role = False, "chair"
    tasks = weighted(home=2, case_list=3, case_page=4, search=1, meetings=2, meeting_page=3)


class Steering(MaracUser):
    """Reads the statistics."""

    abstract, role = False, "steering"
    tasks = weighted(home=2, statistics=6)


CLASSES = {"representative": Representative, "manager": Manager, "chair": Chair, "steering": Steering}


# --- CPU by process ----------------------------------------------------------------------------

def processes():
    """{pid: (group, cpu seconds, cpu seconds of reaped children)} for the stack's processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        ppid, cpu, children = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks, \
            (int(fields[13]) + int(fields[14])) / ticks
        group = "load generator (this script)" if int(entry.name) == os.getpid() else classify(cmdline)
        if group:
            found[int(entry.name)] = (group, cpu, children, ppid)
    return found


def classify(cmdline):
    """The part of the stack a process belongs to, from its command line (None: not the stack's)."""
    if "gunicorn" in cmdline and "gunicorn.conf.py" in cmdline:
        return "gunicorn"
    if "flask" in cmdline and "jobs worker" in cmdline:
        return "RQ worker"
    if cmdline.startswith("postgres: "):
        words = cmdline.split(": ", 2)[-1].split()
        # A backend is "postgres: CLUSTER: USER DATABASE HOST(PORT) STATE"; the rest are the server's own.
        is_backend = len(words) >= 3 and (words[2].endswith(")") or words[2] == "[local]")
        return f"postgres backends, {words[1]}" if is_backend else "postgres (server)"
    if "/postgresql/" in cmdline and "/bin/postgres" in cmdline:
        return "postgres (server)"
    if cmdline.startswith("redis-server"):
        return "redis"
    return None


def cpu_by_group(before, after):
    """CPU seconds used between the two readings per group; gunicorn's master and its workers apart,
    and what exited in between counted through its parent's reaped-children time."""
    pids = {pid for pid, (group, *_rest) in after.items() if group == "gunicorn"}
    totals = {}
    for pid, (group, cpu, children, ppid) in after.items():
        if group == "gunicorn":
            group = "gunicorn workers" if ppid in pids else "gunicorn master"
        start = before.get(pid, (None, 0.0, 0.0))
        totals[group] = totals.get(group, 0.0) + cpu - start[1]
        exited = children - start[2]
        if exited > 0.005 and group in ("gunicorn master", "postgres (server)"):
            label = "gunicorn workers" if group == "gunicorn master" else "postgres (exited backends, any database)"
            totals[label] = totals.get(label, 0.0) + exited
    return totals


# --- running and reporting ----------------------------------------------------------------------

def user_counts(total):
    """Users per role for `total` users, by SHARES, at least one of each when there are four or more."""
    counts = {role: int(total * share) for role, share in SHARES.items()}
    if total >= len(SHARES):
        for role in counts:
            counts[role] = max(counts[role], 1)
    order = sorted(SHARES, key=SHARES.get, reverse=True)
    for role in itertools.islice(itertools.cycle(order), max(0, total - sum(counts.values()))):
        counts[role] += 1
    while sum(counts.values()) > total:
        counts[max(counts, key=counts.get)] -= 1
    return counts


def report(env, elapsed, cpu, counts):
    """Print the figures: per page, in total, the errors, and the CPU by part of the stack."""
    stats = env.stats
    print(f"\nusers: {sum(counts.values())} ({', '.join(f'{n} {role}' for role, n in counts.items())}); "
          f"measured for {elapsed:.0f} s")
    print(f"\n{'page':34} {'requests':>9} {'errors':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for entry in sorted(stats.entries.values(), key=lambda e: -e.num_requests):
        print(f"{entry.name:34} {entry.num_requests:9d} {entry.num_failures:7d} {entry.num_requests / elapsed:7.1f} "
              f"{entry.get_response_time_percentile(0.5):7.0f} {entry.get_response_time_percentile(0.95):7.0f} "
              f"{entry.get_response_time_percentile(0.99):7.0f} {entry.max_response_time or 0:7.0f}")
    total = stats.total
    print(f"{'all pages':34} {total.num_requests:9d} {total.num_failures:7d} {total.num_requests / elapsed:7.1f} "
          f"{total.get_response_time_percentile(0.5):7.0f} {total.get_response_time_percentile(0.95):7.0f} "
          f"{total.get_response_time_percentile(0.99):7.0f} {total.max_response_time or 0:7.0f}")
    if stats.errors:
        print("\nerrors:")
        for error in stats.errors.values():
            print(f"  {error.occurrences:6d}  {error.method} {error.name}: {error.error}")
    print(f"\nCPU seconds over the {elapsed:.0f} s (of {elapsed * (os.cpu_count() or 1):.0f} core-seconds; "
          f"load average {os.getloadavg()[0]:.1f} at the end, other work on the machine included):")
    for group, seconds in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"  {group:42} {seconds:8.1f}  ({seconds / elapsed * 100:5.1f}% of one core)")
    per_request = sum(cpu.values()) / total.num_requests * 1000 if total.num_requests else 0
    print(f"  {'(all of the above, per request)':42} {per_request:8.1f} ms")


def main(argv=None):
    """Sign every user in, reset the figures, measure for --duration, report; 1 when anything failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="http://127.0.0.1:8000")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=600, help="seconds measured, after every user signed in")
    parser.add_argument("--no-think", action="store_true", help="no pause between pages: saturation")
    parser.add_argument("--smoke", action="store_true", help="5 users for 30 s")
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--totp-secrets", default=str(DEFAULT_SECRETS),
                        help=f"authenticator keys of the accounts this script enrolled (default {DEFAULT_SECRETS})")
    args = parser.parse_args(argv)
    if args.smoke:
        args.users, args.duration = 5, 30
    counts = user_counts(args.users)
    for role, cls in CLASSES.items():
        cls.fixed_count = counts[role]
        cls.wait_time = constant(0) if args.no_think else between(1, 3)
    Settings.accounts = {email: Account(email) for emails in ACCOUNTS.values() for email in emails}
    Settings.secrets = Secrets(args.totp_secrets)

    env = Environment(user_classes=list(CLASSES.values()), host=args.host, events=events)
    runner = env.create_local_runner()
    started = time.time()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    while Settings.ready < args.users and time.time() - started < 180:
        gevent.sleep(0.2)
        if runner.state == "stopped" or env.process_exit_code:
            break
    if Settings.ready < args.users:
        print(f"only {Settings.ready} of {args.users} users signed in", file=sys.stderr)
    print(f"{Settings.ready} users signed in ({time.time() - started:.0f} s); measuring {args.duration:.0f} s"
          f"{' with no think time' if args.no_think else ' with 1-3 s think time'}", flush=True)
    env.stats.reset_all()
    before, measure_from = processes(), time.time()
    gevent.sleep(args.duration)
    after, elapsed = processes(), time.time() - measure_from
    runner.quit()
    report(env, elapsed, cpu_by_group(before, after), counts)
    failed = env.stats.total.num_failures or Settings.ready < args.users
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
