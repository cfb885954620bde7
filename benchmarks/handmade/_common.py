"""Shared plumbing for the hand-written evaluation sets in this directory.

Only transport lives here: browser/client header profiles, cookie jars, the way a
browser, a JS client or a raw tool percent-encodes a query, body builders, attack
placement/encoding, and validation. The request *content* (queries, prose, payloads)
is written by hand in the ``build_*.py`` files next to this one.

Nothing here (or in the sets) is derived from bastion's training-data generators.
"""

from __future__ import annotations

import base64
import html
import json
import random
import re
import string
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------------------
# Client profiles: (user agent, family) -- family decides the extra headers sent.
# --------------------------------------------------------------------------------------

UA = {
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "chrome_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "chrome_linux": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "chrome_android": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.97",
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "firefox_linux": "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
    "firefox_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "safari_ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "safari_ipad": "Mozilla/5.0 (iPad; CPU OS 16_7_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "samsung": "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "opera_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 OPR/108.0.0.0",
    "yabrowser": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "googlebot_mobile": "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    "yandexbot": "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "ahrefs": "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "twitterbot": "Twitterbot/1.0",
    "curl": "curl/8.5.0",
    "wget": "Wget/1.21.4",
    "python": "python-requests/2.31.0",
    "httpx": "python-httpx/0.27.0",
    "aiohttp": "Python/3.11 aiohttp/3.9.5",
    "okhttp": "okhttp/4.12.0",
    "dalvik": "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)",
    "ios_app": "ShopKit/5.12.1 (com.northwind.shop; build:5120; iOS 17.4.1) Alamofire/5.8.1",
    "ios_cfnetwork": "Spotlight/1845 CFNetwork/1494.0.7 Darwin/23.4.0",
    "android_app": "RideNow/3.44.0 (Android 14; SM-A546B; Build/UP1A.231005.007)",
    "postman": "PostmanRuntime/7.37.3",
    "axios": "axios/1.6.8",
    "node": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "go": "Go-http-client/2.0",
    "java": "Java/17.0.10",
    "apache_hc": "Apache-HttpClient/4.5.14 (Java/11.0.22)",
    "dotnet": "Microsoft.Net/8.0 (HttpClient)",
    "stripe": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "github_hook": "GitHub-Hookshot/5a4f0b2",
    "uptime": "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "outlook": "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
}

BROWSERS = [
    "chrome_win",
    "chrome_win",
    "chrome_win",
    "chrome_mac",
    "chrome_linux",
    "chrome_android",
    "chrome_android",
    "edge_win",
    "firefox_win",
    "firefox_linux",
    "firefox_mac",
    "safari_mac",
    "safari_ios",
    "safari_ios",
    "safari_ipad",
    "samsung",
    "opera_win",
]
APP_CLIENTS = [
    "okhttp",
    "dalvik",
    "ios_app",
    "android_app",
    "axios",
    "python",
    "go",
    "postman",
    "curl",
    "node",
    "httpx",
    "java",
    "dotnet",
]

LANGS = [
    "en-US,en;q=0.9",
    "en-GB,en;q=0.9",
    "en-US,en;q=0.5",
    "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7",
    "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7",
    "es-ES,es;q=0.9",
    "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7",
    "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7",
    "ja,en-US;q=0.9,en;q=0.8",
    "zh-CN,zh;q=0.9",
    "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7",
    "nl-NL,nl;q=0.9,en;q=0.8",
    "pl-PL,pl;q=0.9,en-US;q=0.8",
    "tr-TR,tr;q=0.9,en-US;q=0.8,en;q=0.7",
    "it-IT,it;q=0.9,en;q=0.8",
    "en-IN,en;q=0.9,hi;q=0.8",
    "ar,en-US;q=0.9,en;q=0.8",
    "uk-UA,uk;q=0.9,ru;q=0.8,en-US;q=0.7",
]

ACCEPT_NAV_CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
ACCEPT_NAV_FF = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
)
ACCEPT_NAV_SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

SEC_CH_UA = {
    "chrome_win": (
        '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
        '"Windows"',
        "?0",
    ),
    "chrome_mac": (
        '"Google Chrome";v="123", "Not:A-Brand";v="8", "Chromium";v="123"',
        '"macOS"',
        "?0",
    ),
    "chrome_linux": (
        '"Chromium";v="122", "Not(A:Brand";v="24", "Google Chrome";v="122"',
        '"Linux"',
        "?0",
    ),
    "chrome_android": (
        '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
        '"Android"',
        "?1",
    ),
    "edge_win": (
        '"Microsoft Edge";v="123", "Not:A-Brand";v="8", "Chromium";v="123"',
        '"Windows"',
        "?0",
    ),
    "opera_win": ('"Chromium";v="122", "Not(A:Brand";v="24", "Opera";v="108"', '"Windows"', "?0"),
    "samsung": (
        '"Chromium";v="117", "Not;A=Brand";v="8", "Samsung Internet";v="24.0"',
        '"Android"',
        "?1",
    ),
    "yabrowser": (
        '"Chromium";v="122", "Not(A:Brand";v="24", "YaBrowser";v="24.4"',
        '"Windows"',
        "?0",
    ),
}


class Gen:
    """Random *identifiers* (session ids, analytics ids, timestamps); never content."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def hexs(self, n: int) -> str:
        return "".join(self.r.choice("0123456789abcdef") for _ in range(n))

    def alnum(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def digits(self, n: int) -> str:
        return str(self.r.randint(1, 9)) + "".join(
            self.r.choice(string.digits) for _ in range(n - 1)
        )

    def ts(self) -> int:
        return self.r.randint(1_700_000_000, 1_716_000_000)

    def uuid(self) -> str:
        h = self.hexs(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.r.choice('89ab')}{h[17:20]}-{h[20:]}"

    def b64(self, nbytes: int, urlsafe: bool = False) -> str:
        raw = bytes(self.r.getrandbits(8) for _ in range(nbytes))
        enc = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
        return enc.decode().rstrip("=") if urlsafe else enc.decode()

    def pick(self, seq: list[Any] | tuple[Any, ...]) -> Any:
        return self.r.choice(seq)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    # ---- cookie jars ------------------------------------------------------------
    def ga(self) -> list[tuple[str, str]]:
        t = self.ts()
        out = [("_ga", f"GA1.1.{self.digits(10)}.{t}")]
        if self.chance(0.6):
            out.append(
                (
                    f"_ga_{self.alnum(10, string.ascii_uppercase + string.digits)}",
                    f"GS1.1.{t + self.r.randint(1000, 900000)}.{self.r.randint(1, 40)}.1.{t + self.r.randint(1000, 900000)}.0.0.0",
                )
            )
        if self.chance(0.4):
            out.append(("_gid", f"GA1.2.{self.digits(9)}.{t + 86400 * 3}"))
        if self.chance(0.35):
            out.append(("_fbp", f"fb.1.{t}{self.digits(3)}.{self.digits(10)}"))
        if self.chance(0.2):
            out.append(("_gcl_au", f"1.1.{self.digits(10)}.{t}"))
        return out

    def laravel_token(self) -> str:
        """Laravel's encrypted cookie: base64 of {"iv","value","mac","tag"}, URL-encoded."""
        obj = {"iv": self.b64(16), "value": self.b64(48), "mac": self.hexs(64), "tag": ""}
        raw = base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()
        return quote(raw, safe="")

    def hotjar(self) -> str:
        obj = {"id": self.uuid()[:16], "created": self.ts() * 1000 + self.r.randint(0, 999), "existing": True}
        return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

    def jar(self, kind: str | None) -> list[tuple[str, str]]:
        if kind is None:
            return []
        c: list[tuple[str, str]] = []
        if kind == "django":
            c = [
                ("csrftoken", self.alnum(32)),
                ("sessionid", self.alnum(32, string.ascii_lowercase + string.digits)),
            ]
        elif kind == "php":
            c = [("PHPSESSID", self.alnum(26, string.ascii_lowercase + string.digits))]
        elif kind == "java":
            c = [("JSESSIONID", self.hexs(32).upper())]
        elif kind == "aspnet":
            c = [("ASP.NET_SessionId", self.alnum(24, string.ascii_lowercase + string.digits))]
            if self.chance(0.5):
                c.append((".AspNetCore.Antiforgery.Xy3fA1Qk", "CfDJ8" + self.b64(90, urlsafe=True)))
        elif kind == "rails":
            c = [("_shop_session", self.b64(150).replace("=", "%3D") + "--" + self.hexs(40))]
        elif kind == "wp":
            user = self.pick(["editor", "jsmith", "admin_mk", "anna.w"])
            c = [
                (
                    f"wordpress_logged_in_{self.hexs(32)}",
                    f"{user}%7C{self.ts() + 1209600}%7C{self.alnum(43)}%7C{self.hexs(64)}",
                ),
                ("wp-settings-1", "libraryContent%3Dbrowse%26editor%3Dtinymce"),
                ("wp-settings-time-1", str(self.ts())),
            ]
        elif kind == "shopify":
            c = [
                ("_shopify_y", self.uuid()),
                ("_shopify_s", self.uuid()),
                ("cart", f"Z2NwLWV1cm9wZS13ZXN0MzoxSEZ{self.alnum(20)}%3Fkey%3D{self.hexs(32)}"),
                ("localization", self.pick(["US", "GB", "DE", "CA"])),
                ("cart_currency", self.pick(["USD", "EUR", "GBP", "CAD"])),
            ]
        elif kind == "laravel":
            c = [
                (
                    "XSRF-TOKEN",
                    self.laravel_token(),
                ),
                (
                    "laravel_session",
                    self.laravel_token(),
                ),
            ]
        elif kind == "jwt":
            c = [
                (
                    "access_token",
                    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                    + base64.urlsafe_b64encode(
                        json.dumps({"sub": self.digits(6), "iat": (t := self.ts()), "exp": t + 3600}, separators=(",", ":")).encode()
                    ).decode().rstrip("=")
                    + "."
                    + self.b64(32, urlsafe=True),
                )
            ]
        elif kind == "google":
            c = [
                ("NID", f"{self.r.randint(500, 515)}={self.b64(140, urlsafe=True)}"),
                ("AEC", self.b64(48, urlsafe=True)),
                ("SOCS", "CAISHAgBEhJnd3NfMjAyNDA0MTUtMF9SQzIaAmVuIAEaBgiA" + self.alnum(8)),
            ]
        elif kind == "consent":
            c = [
                (
                    "OptanonConsent",
                    f"isGpcEnabled=0&datestamp=Tue+Apr+23+2024+10%3A{self.r.randint(10, 59)}%3A12+GMT%2B0200+(Central+European+Summer+Time)&version=202403.1.0&isIABGlobal=false&hosts=&consentId={self.uuid()}&interactionCount=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A0%2CC0004%3A0",
                ),
                ("OptanonAlertBoxClosed", "2024-04-23T08:41:12.480Z"),
            ]
        elif kind == "cf":
            c = [
                (
                    "__cf_bm",
                    self.b64(40, urlsafe=True)
                    + "-"
                    + str(self.ts())
                    + "-1.0.1.1-"
                    + self.b64(60, urlsafe=True),
                )
            ]
        elif kind == "ga":
            c = []
        else:
            raise ValueError(kind)
        if kind in (
            "django",
            "php",
            "aspnet",
            "rails",
            "wp",
            "shopify",
            "laravel",
            "ga",
            "consent",
            "cf",
            "java",
        ) or self.chance(0.5):
            c = self.ga() + c
        if self.chance(0.15):
            c.append(("_hjSessionUser_" + self.digits(7), self.hotjar()))
        if self.chance(0.15):
            c.append(("ajs_anonymous_id", f"%22{self.uuid()}%22"))
        return c


def cookie_header(pairs: list[tuple[str, str]]) -> str:
    return "; ".join(f"{k}={v}" for k, v in pairs)


# --------------------------------------------------------------------------------------
# Header assembly
# --------------------------------------------------------------------------------------


def build_headers(
    g: Gen,
    host: str,
    *,
    prof: str,
    kind: str = "nav",  # nav | xhr | api | form | img | beacon
    ref: str | None = None,
    cookies: list[tuple[str, str]] | None = None,
    ctype: str | None = None,
    extra: list[tuple[str, str]] | None = None,
    ua_override: str | None = None,
    lang: str | None = None,
) -> list[list[str]]:
    ua = ua_override if ua_override is not None else UA[prof]
    h: list[list[str]] = [["Host", host]]
    browser = prof in UA and prof in [*BROWSERS, "yabrowser"]
    bot = prof in (
        "googlebot",
        "googlebot_mobile",
        "bingbot",
        "yandexbot",
        "ahrefs",
        "slackbot",
        "facebook",
        "twitterbot",
        "uptime",
    )
    lang = lang or g.pick(LANGS)
    if browser:
        chromium = prof in SEC_CH_UA
        if chromium and kind in ("nav", "xhr", "form", "beacon"):
            ch, plat, mob = SEC_CH_UA[prof]
            h += [["sec-ch-ua", ch], ["sec-ch-ua-mobile", mob], ["sec-ch-ua-platform", plat]]
        if kind == "nav" and g.chance(0.5):
            h.append(["Upgrade-Insecure-Requests", "1"])
        h.append(["User-Agent", ua])
        if kind in ("nav", "form"):
            acc = (
                ACCEPT_NAV_CHROME
                if chromium
                else (ACCEPT_NAV_FF if prof.startswith("firefox") else ACCEPT_NAV_SAFARI)
            )
        elif kind == "img":
            acc = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
        elif kind == "beacon":
            acc = "*/*"
        else:
            acc = g.pick(
                [
                    "application/json, text/plain, */*",
                    "application/json",
                    "*/*",
                    "application/json, text/javascript, */*; q=0.01",
                ]
            )
        h.append(["Accept", acc])
        if ctype:
            h.append(["Content-Type", ctype])
        if kind == "xhr" and g.chance(0.3):
            h.append(["X-Requested-With", "XMLHttpRequest"])
        if kind in ("xhr", "form", "beacon") and ctype:
            h.append(["Origin", "https://" + host])
        if chromium or prof.startswith("firefox"):
            dest = {"nav": "document", "form": "document", "img": "image", "beacon": "empty"}.get(
                kind, "empty"
            )
            mode = {
                "nav": "navigate",
                "form": "navigate",
                "img": "no-cors",
                "beacon": "no-cors",
            }.get(kind, "cors")
            site = (
                "same-origin"
                if ref and urlsplit(ref).hostname == host
                else ("cross-site" if ref else "none")
            )
            h += [["Sec-Fetch-Site", site], ["Sec-Fetch-Mode", mode], ["Sec-Fetch-Dest", dest]]
            if kind in ("nav", "form"):
                h.append(["Sec-Fetch-User", "?1"])
        if ref:
            h.append(["Referer", ref])
        h.append(
            ["Accept-Encoding", "gzip, deflate, br, zstd" if chromium else "gzip, deflate, br"]
        )
        h.append(["Accept-Language", lang])
    elif bot:
        h.append(["User-Agent", ua])
        h.append(
            [
                "Accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
                if prof != "slackbot"
                else "*/*",
            ]
        )
        h.append(["Accept-Encoding", "gzip, deflate, br"])
        if prof in ("googlebot", "googlebot_mobile", "bingbot"):
            h.append(
                [
                    "From",
                    "googlebot(at)googlebot.com"
                    if "google" in prof
                    else "bingbot(at)microsoft.com",
                ]
            )
    else:  # app / tool clients
        h.append(["User-Agent", ua])
        h.append(
            [
                "Accept",
                "*/*"
                if prof in ("curl", "wget", "postman", "python", "httpx")
                else "application/json",
            ]
        )
        if prof not in ("curl", "wget"):
            h.append(
                [
                    "Accept-Encoding",
                    "gzip" if prof in ("okhttp", "dalvik", "android_app") else "gzip, deflate, br",
                ]
            )
        if ctype:
            h.append(["Content-Type", ctype])
        if prof in ("postman",):
            h.append(["Postman-Token", g.uuid()])
        if prof in ("python", "httpx", "okhttp", "dalvik", "postman"):
            h.append(["Connection", "keep-alive"])
        if prof in ("ios_app", "android_app", "okhttp", "dalvik") and g.chance(0.6):
            h.append(["Accept-Language", lang.split(",")[0]])
        if ref:
            h.append(["Referer", ref])
    if extra:
        h += [list(p) for p in extra]
    if cookies:
        h.append(["Cookie", cookie_header(cookies)])
    return h


# --------------------------------------------------------------------------------------
# Query/body encoders (how different clients percent-encode)
# --------------------------------------------------------------------------------------


def enc_form(s: str) -> str:
    """HTML form submission (application/x-www-form-urlencoded): space -> '+'."""
    return quote_plus(s, safe="*-._")


def enc_js(s: str) -> str:
    """JavaScript encodeURIComponent."""
    return quote(s, safe="-_.!~*'()")


def enc_raw(s: str) -> str:
    """A hand-built/API client URL: only what must be escaped in a query value is."""
    return quote(s, safe="-_.~!*'(),:/@[]{}$;?|^`")


def enc_key(k: str, style: str) -> str:
    if style == "form":
        return enc_form(k)
    if style == "js":
        return enc_js(k)
    return quote(k, safe="-_.~[]")


STYLES = {"form": enc_form, "js": enc_js, "raw": enc_raw}


def parse_params(spec: str | list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``"k=v¦k2=v2"`` (values decoded, as a person would read them) -> pairs."""
    if isinstance(spec, list):
        return spec
    if not spec:
        return []
    out = []
    for part in spec.split("¦"):
        k, eq, v = part.partition("=")
        out.append((k, v if eq else None))
    return out


def build_query(pairs: list[tuple[str, str]], style: str) -> str:
    f = STYLES[style]
    return "&".join(enc_key(k, style) + ("=" + f(v) if v is not None else "") for k, v in pairs)


# --------------------------------------------------------------------------------------
# Request builder for the clean sets
# --------------------------------------------------------------------------------------


class Builder:
    def __init__(self, seed: int, label: str) -> None:
        self.g = Gen(seed)
        self.label = label
        self.rows: list[dict[str, Any]] = []

    def _ref(self, host: str, ref: str | bool | None) -> str | None:
        if ref is True:
            return (
                "https://"
                + host
                + self.g.pick(["/", "/", "/search", "/account", "/products", "/blog/", "/home"])
            )
        if ref is False or ref is None:
            return None
        return ref

    def req(
        self,
        host: str,
        path: str,
        params: str | list[tuple[str, str]] = "",
        *,
        method: str = "GET",
        style: str | None = None,
        prof: str | None = None,
        kind: str | None = None,
        ref: str | bool | None = None,
        jar: str | None = "ga",
        cookies: list[tuple[str, str]] | None = None,
        body: str | None = None,
        form: str | list[tuple[str, str]] | None = None,
        js: Any = None,
        ctype: str | None = None,
        extra: list[tuple[str, str]] | None = None,
        tag: str = "",
        raw_query: str | None = None,
        ua: str | None = None,
    ) -> dict[str, Any]:
        g = self.g
        if prof is None:
            prof = g.pick(BROWSERS)
        is_browser = prof in BROWSERS or prof == "yabrowser"
        if style is None:
            style = (
                "form"
                if (is_browser and kind in (None, "nav", "form"))
                else ("js" if is_browser else "raw")
            )
        pairs = parse_params(params)
        uri = quote(path, safe="/%:@!$&'()*+,;=-._~")
        if raw_query is not None:
            uri += "?" + raw_query
        elif pairs:
            uri += "?" + build_query(pairs, style)
        if form is not None:
            body = build_query(parse_params(form), "form")
            ctype = ctype or "application/x-www-form-urlencoded"
            method = "POST" if method == "GET" else method
        elif js is not None:
            body = json.dumps(
                js, ensure_ascii=False, separators=(",", ":") if g.chance(0.7) else None
            )
            ctype = ctype or g.pick(
                ["application/json", "application/json", "application/json;charset=UTF-8"]
            )
            method = "POST" if method == "GET" else method
        if body is not None and method == "GET":
            method = "POST"
        if kind is None:
            kind = (
                ("form" if form is not None else "xhr" if body is not None else "nav")
                if is_browser
                else "api"
            )
        ck = (
            list(cookies)
            if cookies is not None
            else g.jar(jar if (is_browser or jar not in ("ga",)) else None)
        )
        if not is_browser and jar == "ga":
            ck = []
        hdrs = build_headers(
            g,
            host,
            prof=prof,
            kind=kind,
            ref=self._ref(host, ref),
            cookies=ck,
            ctype=ctype,
            extra=extra,
            ua_override=ua,
        )
        if body is not None:
            hdrs.insert(1, ["Content-Length", str(len(body.encode("utf-8")))])
        row: dict[str, Any] = {"method": method, "uri": uri, "headers": hdrs}
        if body is not None:
            row["body"] = body
        row["label"] = self.label
        if tag:
            row["meta"] = {"kind": tag}
        self.rows.append(row)
        return row


def multipart_body(
    g: Gen, fields: list[tuple[str, str, str | None, str | None]]
) -> tuple[str, str]:
    """fields: (name, value, filename or None, content-type or None) -> (body, content-type)."""
    boundary = "----WebKitFormBoundary" + g.alnum(16)
    parts = []
    for name, value, filename, ct in fields:
        disp = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disp += f'; filename="{filename}"'
        head = disp + (f"\r\nContent-Type: {ct}" if ct else "")
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n{value}\r\n")
    return "".join(parts) + f"--{boundary}--\r\n", f"multipart/form-data; boundary={boundary}"


def parse_multipart(body: str, ctype: str) -> dict[str, str]:
    boundary = ctype.split("boundary=", 1)[1]
    out = {}
    for chunk in body.split("--" + boundary)[1:]:
        if chunk.startswith("--"):
            break
        head, _, val = chunk[2:].partition("\r\n\r\n")
        name = re.search(r'name="([^"]*)"', head).group(1)  # type: ignore[union-attr]
        out[name] = val[:-2]
    return out


# --------------------------------------------------------------------------------------
# Attack transport encodings
# --------------------------------------------------------------------------------------


def enc_minimal_query(s: str, charset: str = "utf-8", space: str = "+") -> str:
    """What a raw attack tool sends: escape only what would break query parsing."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch == " ":
            out.append(space)
        elif ch in "&#+%=" or o < 0x21 or o > 0x7E:
            out.append(quote(ch, safe="", encoding=charset))
        else:
            out.append(ch)
    return "".join(out)


def enc_minimal_path(s: str, charset: str = "utf-8") -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch in "/?#%" or o < 0x21 or o > 0x7E:
            out.append(quote(ch, safe="", encoding=charset))
        else:
            out.append(ch)
    return "".join(out)


def enc_full(s: str, charset: str = "utf-8") -> str:
    return quote(s, safe="", encoding=charset)


def enc_double(s: str, charset: str = "utf-8") -> str:
    return quote(quote(s, safe="", encoding=charset), safe="")


def enc_u(s: str) -> str:
    """IIS-style %uXXXX for every non-alphanumeric character."""
    return "".join(ch if ch.isascii() and ch.isalnum() else f"%u{ord(ch):04x}" for ch in s)


def dec_u(s: str) -> str:
    return re.sub(r"%u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), s)


_NAMED = {
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "&": "&amp;",
    "'": "&apos;",
    "(": "&lpar;",
    ")": "&rpar;",
    "/": "&sol;",
    "=": "&equals;",
    ":": "&colon;",
}


def enc_html(s: str, g: Gen) -> str:
    out = []
    for ch in s:
        if ch.isalnum() or not (0x21 <= ord(ch) <= 0x7E):
            out.append(ch)
        else:
            style = g.r.randint(0, 2)
            if style == 0 and ch in _NAMED:
                out.append(_NAMED[ch])
            elif style == 1:
                out.append(f"&#{ord(ch)};")
            else:
                out.append(f"&#x{ord(ch):x};")
    return "".join(out)


def enc_json_u(s: str) -> str:
    """JSON string content with every non-alphanumeric char as \\u00XX (returned already quoted)."""
    return (
        '"'
        + "".join(ch if ch.isascii() and ch.isalnum() else f"\\u{ord(ch):04x}" for ch in s)
        + '"'
    )


def b64(s: str, charset: str = "utf-8") -> str:
    return base64.b64encode(s.encode(charset)).decode()


# --------------------------------------------------------------------------------------
# Validation and output
# --------------------------------------------------------------------------------------

_PCT_BAD = re.compile(r"%(?![0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})")


def check_uri(uri: str) -> None:
    assert uri.startswith("/"), uri
    assert not any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in uri), f"unescaped char in {uri!r}"
    assert not _PCT_BAD.search(uri), f"bad percent escape in {uri!r}"


def query_pairs(uri: str, charset: str = "utf-8") -> list[tuple[str, str]]:
    q = uri.split("?", 1)[1] if "?" in uri else ""
    out = []
    for part in q.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        out.append((unquote_plus(k, encoding=charset), unquote_plus(v, encoding=charset)))
    return out


def write_set(name: str, rows: list[dict[str, Any]], expect: int) -> None:
    sys.path.insert(0, str(HERE.parents[1] / "src"))
    from bastion.waf.request import HttpRequest

    keys = set()
    for row in rows:
        HttpRequest.from_json(row)
        check_uri(row["uri"])
        for k, v in row["headers"]:
            assert "\n" not in v and "\r" not in v, (k, v)
        key = (
            row["method"],
            row["uri"],
            row.get("body"),
            tuple(tuple(h) for h in row["headers"]),
        )
        assert key not in keys, f"duplicate request {row['uri']}"
        keys.add(key)
    # distinct in substance too: the same (uri, body) must not recur with other headers
    sub = {(r["uri"], r.get("body"), r.get("meta", {}).get("payload")) for r in rows}
    assert len(sub) == len(rows), f"{name}: {len(rows) - len(sub)} requests differ only in headers"
    assert len(rows) == expect, f"{name}: {len(rows)} rows, expected {expect}"
    with open(HERE / name, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)} rows")


__all__ = [
    "APP_CLIENTS",
    "BROWSERS",
    "UA",
    "Builder",
    "Gen",
    "b64",
    "build_headers",
    "check_uri",
    "dec_u",
    "enc_double",
    "enc_form",
    "enc_full",
    "enc_html",
    "enc_js",
    "enc_json_u",
    "enc_minimal_path",
    "enc_minimal_query",
    "enc_raw",
    "enc_u",
    "html",
    "multipart_body",
    "parse_multipart",
    "query_pairs",
    "unquote",
    "write_set",
]
