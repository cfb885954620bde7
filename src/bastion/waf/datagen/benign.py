"""Realistic clean traffic values: query/form values, headers, paths, cookies and bodies."""

# ruff: noqa: E501

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from urllib.parse import quote, quote_plus, urlencode

from bastion.waf.datagen import vocab as V
from bastion.waf.datagen._fill import fill
from bastion.waf.datagen.sample import (
    Sample,
    rand_alnum,
    rand_hex,
    rand_ip,
    rand_uuid,
    rand_word,
    unique_samples,
    weighted,
)

Gen = Callable[[random.Random], str]

#: Parameter names shared by benign traffic and attack placement (no label leakage by name).
PARAM_NAMES: tuple[str, ...] = (
    "q", "query", "search", "s", "keyword", "keywords", "term", "id", "user_id", "uid", "pid", "product_id",
    "item", "itemId", "cat", "category", "page", "p", "limit", "offset", "sort", "order", "dir", "lang",
    "locale", "ref", "redirect", "redirect_uri", "next", "return_to", "returnUrl", "url", "callback", "file",
    "filename", "path", "name", "first_name", "last_name", "email", "user", "username", "login", "comment",
    "message", "text", "title", "body", "description", "tag", "tags", "type", "mode", "view", "action",
    "host", "ip", "domain", "date", "from", "to", "start", "end", "year", "month", "token", "session",
    "key", "code", "state", "filter", "fields", "format", "debug", "v", "version", "article", "post",
    "postId", "news_id", "cid", "sid", "tid", "ticket", "order_id", "invoice", "coupon", "promo", "size",
    "color", "qty", "quantity", "price", "min_price", "max_price", "address", "city", "zip", "country",
    "phone", "subject", "content", "note", "data", "value", "input", "field", "target", "dest", "site",
    "src", "img", "image", "doc", "document", "folder", "dirname", "cmd", "command", "exec", "run",
    "template", "theme", "style", "layout", "section", "module", "controller", "method", "op", "task",
    "step", "stage", "event", "source", "medium", "campaign", "ver", "build", "release", "channel",
)  # fmt: skip


# --- small value generators -----------------------------------------------------------------


def person_name(rng: random.Random) -> str:
    first, last = rng.choice(V.FIRST_NAMES), rng.choice(V.LAST_NAMES)
    r = rng.random()
    if r < 0.65:
        return f"{first} {last}"
    if r < 0.75:
        return f"{last}, {first}"
    if r < 0.85:
        return f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
    if r < 0.92:
        return first
    return f"{first} {last} {rng.choice(['Jr.', 'Sr.', 'III', 'PhD', 'MD'])}"


def email(rng: random.Random) -> str:
    first = rng.choice(V.FIRST_NAMES).lower()
    last = rng.choice(V.LAST_NAMES).lower().replace(" ", "")
    ascii_first = first.encode("ascii", "ignore").decode() or "user"
    ascii_last = (
        last.encode("ascii", "ignore").decode().replace("'", rng.choice(["", "'"])) or "mail"
    )
    local = rng.choice(
        [
            f"{ascii_first}.{ascii_last}", f"{ascii_first}{rng.randint(1, 99)}", f"{ascii_first[0]}{ascii_last}",
            f"{ascii_first}_{ascii_last}", f"{ascii_first}+{rand_word(rng, 3, 6)}", f"{ascii_last}.{ascii_first}",
            f"{ascii_first}-{ascii_last}", rand_word(rng, 4, 10), "info", "support", f"{ascii_first}.{ascii_last}{rng.randint(70, 2005)}",
        ]
    )  # fmt: skip
    return f"{local}@{rng.choice(V.DOMAINS)}"


_PHONE_FORMATS = (
    "+1 (###) ###-####",
    "(###) ###-####",
    "###-###-####",
    "+44 #### ######",
    "+49 ### #######",
    "+33 # ## ## ## ##",
    "+34 ### ### ###",
    "0##########",
    "+81-##-####-####",
    "###.###.####",
    "+1-###-###-#### ext. ###",
    "6########",
    "+91 ##### #####",
)


def phone(rng: random.Random) -> str:
    fmt = rng.choice(_PHONE_FORMATS)
    return "".join(str(rng.randint(0, 9)) if c == "#" else c for c in fmt)


def address(rng: random.Random) -> str:
    n = rng.randint(1, 9999)
    street = rng.choice(V.STREETS)
    city = rng.choice(V.CITIES)
    return rng.choice(
        [
            f"{n} {street}", f"{n} {street}, Apt #{rng.randint(1, 40)}{rng.choice('ABCD')}", f"{street} {n}, {city}",
            f"{n} {street}, {city}, {rng.choice(['CA', 'NY', 'TX', 'WA'])} {rng.randint(10000, 99999)}",
            f"c/ {street}, {n}, {rng.randint(1, 9)}º {rng.choice(['izq.', 'dcha.', 'B'])}", f"Flat {rng.randint(1, 30)}/{n} {street}",
            f"{street} {n}\n{rng.randint(10000, 99999)} {city}", f"P.O. Box {n}", f"{n}-{rng.randint(1, 9)} {street}; {city}",
            f"{street}, {n} - {city} ({rng.choice(V.COUNTRIES)})",
        ]
    )  # fmt: skip


def password(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.3:
        base = rng.choice(
            [
                "Summer",
                "Winter",
                "Password",
                "Welcome",
                "Dragon",
                "Monkey",
                "Sunshine",
                "Qwerty",
                rng.choice(V.FIRST_NAMES),
            ]
        )
        return f"{base}{rng.randint(1, 2025)}{rng.choice(['!', '@', '#', '$', '', '?', '*'])}"
    if r < 0.5:
        return "-".join(rand_word(rng, 4, 7) for _ in range(rng.randint(3, 4)))
    if r < 0.6:
        return " ".join(rand_word(rng, 4, 7) for _ in range(4))
    pool = (
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 3
        + "!@#$%^&*()-_=+[]{};:'\",.<>/?|\\`~"
    )
    return "".join(rng.choice(pool) for _ in range(rng.randint(8, 24)))


def search_query(rng: random.Random) -> str:
    tmpl = rng.choice(
        [
            "{p}", "{p}", "{adj} {p}", "{brand} {p}", "{p} {color}", "{p} size {size}", "{adj} {p} for {who}",
            "{who}'s {p}", "best {p} {year}", "{p} under ${price}", "{p} vs {p2}", "how to clean {p}",
            "how do i {verb} my {topic}", "what's the best {p}?", "where can i buy {brand} {p}",
            "can't {verb} {topic}", "why isn't my {topic} working", "{brand}", "\"{p}\"", "{p} -{color}",
            "{p} +{color}", "site:{domain} {p}", "{p} near me", "{p} 50% off", "{city} hotels", "{city} to {city2} flights",
            "c++ tutorial", "c# list sort", "node.js vs deno", ".net 8 minimal api", "1/2\" pvc pipe", "24\" monitor",
            "3.5mm jack adapter", "#{word}", "@{word}", "{lang}", "{name}", "{topic} {year}", "rock 'n' roll",
            "o'reilly books", "don't starve together", "assassin's creed", "grey's anatomy", "schindler's list",
            "mother's day gifts", "valentine's day", "new year's eve {city}", "{p} (refurbished)", "{p} & {p2}",
            "{p}, {p2}", "{p} / {p2}", "{p}: reviews", "{adj}-{p}", "{p} 2-pack", "{p} 100% cotton", "is {brand} worth it?",
            "select all that apply", "drop shipping", "union station {city}", "table and chairs", "from {city} with love",
            "order by date", "insert coin", "update firmware {brand}", "delete account", "where is my order",
            "cat toys", "shell jacket", "bash guitar cover", "python book", "sleep mask", "ping pong table",
            "echo dot", "alert bracelet", "script font", "exec chair", "sh*t happens shirt", "whoami documentary",
        ]
    )  # fmt: skip
    return fill(tmpl, rng, _SQ_FILL)


def sentence(rng: random.Random) -> str:
    subject = rng.choice(
        [
            "I",
            "We",
            "My wife",
            "My son",
            "The driver",
            "Your team",
            "The app",
            "It",
            "This",
            "Our office",
        ]
    )
    tmpl = rng.choice(
        [
            "{s} ordered the {p} on {date} but it hasn't arrived yet.", "{s} can't log in to my account since yesterday.",
            "Great {p}, works as described! Would buy again.", "The {p} is ok but the {color} one looks better.",
            "Hi, I'd like to change my {topic} please.", "Thanks for the quick reply :)", "Is it possible to get a refund for order #{n}?",
            "Please call me at {phone} after 5pm.", "Love it <3", "5 stars - fast delivery & great quality!!!",
            "It's the 2nd time this happens; please fix it.", "Could you send the invoice to {email}?",
            "I'm not sure if the size is right - I'm 5'11\" and 180 lbs.", "The {p} arrived damaged (box was crushed).",
            "My {topic} keeps failing with \"error {n}\".", "{name} here, following up on ticket {n}.",
            "Don't forget to bring the {p} tomorrow!", "We'll be there at 7:30 - see you then.", "Meeting moved to Tue 3/14 @ 10am.",
            "Price is ${price}.99 + tax (approx. 8%).", "The answer is 42, obviously.", "See attached: report_{year}.pdf",
            "lol that's hilarious", "ok", "Yes, please.", "No thanks.", "Sounds good -> let's do it.", "a/b testing results: +3.2% ctr",
            "Temperature was 25°C / 77°F today", "My address changed to {addr}.", "{lang}", "Checked in at {city} 😊",
            "The kids' room needs a new {p}.", "It's 50/50 whether we'll make it.", "Q: does it fit? A: yes, perfectly.",
            "I rate it 4/5 - the {p} is good value for money.", "Bought 2x {p} + 1x {p2}, total ${price}.",
        ]
    )  # fmt: skip
    return fill(tmpl, rng, _SENT_FILL, {"s": subject})


_SQ_FILL: dict[str, Gen] = {
    "p": lambda r: r.choice(V.PRODUCTS),
    "p2": lambda r: r.choice(V.PRODUCTS),
    "adj": lambda r: r.choice(V.ADJECTIVES),
    "brand": lambda r: r.choice(V.BRANDS),
    "color": lambda r: r.choice(V.COLORS),
    "size": lambda r: r.choice(V.SIZES),
    "who": lambda r: r.choice(
        ["men", "women", "kid", "children", "girl", "boy", "teen", "dad", "mom"]
    ),
    "year": lambda r: str(r.randint(2015, 2026)),
    "price": lambda r: str(r.choice([10, 20, 25, 50, 100, 200, 500])),
    "verb": lambda r: r.choice(
        ["reset", "change", "cancel", "update", "export", "delete", "find", "connect"]
    ),
    "topic": lambda r: r.choice(V.TOPICS),
    "domain": lambda r: r.choice(V.DOMAINS),
    "city": lambda r: r.choice(V.CITIES),
    "city2": lambda r: r.choice(V.CITIES),
    "word": lambda r: rand_word(r, 4, 9),
    "lang": lambda r: r.choice(V.OTHER_LANG + V.SPANISH),
    "name": lambda r: person_name(r),
}
_SENT_FILL: dict[str, Gen] = {
    "p": lambda r: r.choice(V.PRODUCTS),
    "p2": lambda r: r.choice(V.PRODUCTS),
    "date": lambda r: date_value(r),
    "color": lambda r: r.choice(V.COLORS),
    "topic": lambda r: r.choice(V.TOPICS),
    "n": lambda r: str(r.randint(1000, 999999)),
    "phone": lambda r: phone(r),
    "email": lambda r: email(r),
    "name": lambda r: person_name(r),
    "year": lambda r: str(r.randint(2015, 2026)),
    "price": lambda r: str(r.randint(5, 999)),
    "addr": lambda r: address(r),
    "lang": lambda r: r.choice(V.OTHER_LANG),
    "city": lambda r: r.choice(V.CITIES),
}


def message(rng: random.Random) -> str:
    k = weighted(rng, ((1, 5.0), (2, 3.0), (3, 2.0), (5, 0.7)))
    sep = rng.choice([" ", " ", "\n", "\r\n", "\n\n"])
    return sep.join(sentence(rng) for _ in range(k))


def date_value(rng: random.Random) -> str:
    y, m, d = rng.randint(1950, 2026), rng.randint(1, 12), rng.randint(1, 28)
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return rng.choice(
        [
            f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}", f"{m}/{d}/{y}", f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z",
            f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}.{rng.randint(0, 999):03d}+0{rng.randint(0, 9)}:00", f"{d}.{m}.{y}",
            f"{y}{m:02d}{d:02d}", f"{hh:02d}:{mm:02d}", f"{y}-{m:02d}", f"{rng.choice(['Mon', 'Tue', 'Wed', 'Thu', 'Fri'])}, {d} {rng.choice(['Jan', 'Feb', 'Mar', 'Oct'])} {y} {hh:02d}:{mm:02d}:{ss:02d} GMT",
            str(rng.randint(1500000000, 1800000000)), str(rng.randint(1500000000000, 1800000000000)), f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}",
            f"{y}-{m:02d}-{d:02d}..{y}-{m:02d}-{min(d + 7, 28):02d}", f"last {rng.randint(2, 90)} days", "today", "yesterday",
        ]
    )  # fmt: skip


def url_value(rng: random.Random) -> str:
    host = rng.choice(["www.", "", "shop.", "blog.", "m.", "api.", "cdn."]) + rng.choice(V.DOMAINS)
    path = url_path(rng)
    r = rng.random()
    if r < 0.4:
        q = "?" + urlencode(query_params(rng, rng.randint(1, 3)))
    elif r < 0.5:
        q = f"#{rand_word(rng, 3, 8)}"
    else:
        q = ""
    scheme = rng.choice(["https://", "https://", "http://", "//"])
    return f"{scheme}{host}{path}{q}"


_PATH_WORDS = (
    "javascript", "js", "scripts", "script", "cgi-bin", "cgi-home", "admin", "shell", "exec", "cmd", "console",
    "select", "union-station", "order", "drop", "alert", "alerts", "onload", "print", "printenv", "print-tcp",
    "sleep", "bin", "system", "ping", "echo", "cat", "dir", "type", "net", "wget", "curl", "sql", "mysql", "db",
    "tmp", "passwd-reset", "etc-files", "include", "includes", "eval", "iframe", "img", "svg", "style", "xml",
)  # fmt: skip


def _slug(rng: random.Random) -> str:
    return "-".join(rand_word(rng, 3, 9) for _ in range(rng.randint(1, 5)))


def url_path(rng: random.Random) -> str:
    tmpl = rng.choice(
        [
            "/", "/index.html", "/products/{n}", "/product/{slug}", "/p/{slug}-{n}", "/blog/{y}/{m:02d}/{slug}", "/api/v1/users/{uuid}",
            "/api/v2/orders/{n}/items", "/static/js/main.{hex8}.js", "/static/css/app.{hex8}.css", "/assets/img/{slug}.png",
            "/images/{slug}%20{n}.jpg", "/wp-content/uploads/{y}/{m:02d}/{slug}.jpg", "/wp-admin/admin-ajax.php", "/search",
            "/en-us/docs/{slug}", "/@{word}", "/{word}/status/{big}", "/files/report%20({n}).pdf", "/~{word}/", "/index.php",
            "/cart", "/checkout/step/{d}", "/account/settings", "/login", "/logout", "/user/{n}/profile", "/category/{word}/{word2}",
            "/{lang}/{slug}", "/de/produkte/{slug}", "/fr/catégorie/{word}", "/es/año-{y}", "/news/{y}/{slug}.html", "/feed.xml",
            "/sitemap.xml", "/robots.txt", "/favicon.ico", "/graphql", "/healthz", "/v1/{word}/{uuid}", "/download/{slug}.zip",
            "/shop/{word};jsessionid={HEX32}", "/catalog/{word};v=2", "/t/{slug}/{n}", "/r/{word}/comments/{b36}/{slug}/",
            "/watch", "/maps/place/{word}+{word2}/@40.71,-74.00,15z", "/{word}.aspx", "/{word}.jsp", "/cgi-bin/{word}.cgi",
            "/docs/{word}/{word2}.md", "/{kw}/{word}.{ext}", "/{kw}/{word}/", "/{word}/{kw}/{word2}.{ext}", "/{kw}-{word}/", "/u/{d}/", "/a/b/c/{slug}", "/%E6%97%A5%E6%9C%AC/{word}", "/caf%C3%A9/{word}",
        ]
    )  # fmt: skip
    return tmpl.format(
        n=rng.randint(1, 999999), slug=_slug(rng), y=rng.randint(2010, 2026), m=rng.randint(1, 12), uuid=rand_uuid(rng),
        hex8=rand_hex(rng, 8), word=rand_word(rng, 3, 9), word2=rand_word(rng, 3, 9), big=rng.randint(10**17, 10**18),
        d=rng.randint(1, 5), lang=rng.choice(["en", "de", "fr", "es", "it", "ja", "pt-br", "zh-cn"]), HEX32=rand_hex(rng, 32).upper(),
        b36=rand_alnum(rng, 6, "abcdefghijklmnopqrstuvwxyz0123456789"),
        kw=rng.choice(_PATH_WORDS),
        ext=rng.choice(["js", "css", "htm", "html", "php", "asp", "aspx", "do", "gz", "zip", "conf", "properties", "xls", "pdf", "txt", "json", "xml", "pl", "cgi", "save", "error", "dll", "tmp", "bak"]),
    )  # fmt: skip


def redirect_value(rng: random.Random) -> str:
    path = url_path(rng)
    r = rng.random()
    if r < 0.35:
        return path
    if r < 0.55:
        return quote(path + "?" + urlencode(query_params(rng, 1)), safe="")
    if r < 0.8:
        return url_value(rng)
    return path + "?" + urlencode(query_params(rng, rng.randint(1, 2)))


def token(rng: random.Random) -> str:
    kind = rng.choice(
        ["hex32", "hex40", "hex64", "b64", "b64url", "jwt", "uuid", "alnum", "prefixed", "csrf"]
    )
    if kind.startswith("hex"):
        return rand_hex(rng, int(kind[3:]))
    if kind == "b64":
        return base64.b64encode(rng.randbytes(rng.choice([16, 24, 32, 48]))).decode()
    if kind == "b64url":
        return (
            base64.urlsafe_b64encode(rng.randbytes(rng.choice([16, 32, 43]))).decode().rstrip("=")
        )
    if kind == "jwt":
        return jwt(rng)
    if kind == "uuid":
        return rand_uuid(rng)
    if kind == "prefixed":
        return rng.choice(
            [
                "sk_live_",
                "pk_test_",
                "ghp_",
                "xoxb-",
                "AKIA",
                "AIza",
                "glpat-",
                "npm_",
                "SG.",
                "key-",
            ]
        ) + rand_alnum(rng, rng.randint(20, 40))
    if kind == "csrf":
        return rand_alnum(
            rng, 40, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
        )
    return rand_alnum(rng, rng.randint(12, 48))


def _b64json(obj: object) -> str:
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def jwt(rng: random.Random) -> str:
    header = {"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    payload = {
        "sub": str(rng.randint(1, 10**6)),
        "name": person_name(rng),
        "iat": rng.randint(1600000000, 1800000000),
    }
    if rng.random() < 0.5:
        payload["scope"] = rng.choice(["read write", "openid profile email", "admin"])
    sig = base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")
    return f"{_b64json(header)}.{_b64json(payload)}.{sig}"


def json_value(rng: random.Random) -> str:
    obj = json_object(rng, depth=rng.randint(0, 2))
    return json.dumps(
        obj, ensure_ascii=rng.random() < 0.5, separators=rng.choice([(",", ":"), (", ", ": ")])
    )


def json_object(rng: random.Random, depth: int = 1) -> dict[str, object]:
    keys = rng.sample(
        ["id", "name", "email", "status", "type", "page", "tags", "price", "qty", "active", "created_at", "comment", "items", "meta", "filters", "sort", "lang", "address", "title", "notes", "settings", "user"],
        rng.randint(1, 5),
    )  # fmt: skip
    out: dict[str, object] = {}
    for k in keys:
        r = rng.random()
        if depth > 0 and r < 0.2:
            out[k] = json_object(rng, depth - 1)
        elif depth > 0 and r < 0.3:
            out[k] = [benign_scalar(rng) for _ in range(rng.randint(0, 3))]
        else:
            out[k] = benign_scalar(rng, k)
    return out


def benign_scalar(rng: random.Random, key: str = "") -> object:
    if key in ("id", "page", "qty"):
        return rng.randint(1, 9999)
    if key == "price":
        return round(rng.uniform(1, 999), 2)
    if key == "active":
        return rng.random() < 0.5
    if key == "email":
        return email(rng)
    if key in ("comment", "notes", "title"):
        return sentence(rng)
    if key == "name":
        return person_name(rng)
    r = rng.random()
    if r < 0.3:
        return rng.randint(0, 100000)
    if r < 0.4:
        return None if rng.random() < 0.3 else rng.random() < 0.5
    if r < 0.6:
        return rand_word(rng, 3, 10)
    gen: Gen = rng.choice([search_query, date_value, person_name, sentence, rand_uuid])
    return gen(rng)


def odata_or_filter(rng: random.Random) -> str:
    f, g = (
        rng.choice(["Name", "Price", "Status", "City", "Category", "age", "score"]),
        rng.choice(["Date", "Rating", "Stock"]),
    )
    return rng.choice(
        [
            f"{f} eq '{rand_word(rng).title()}'", f"{f} eq '{rand_word(rng)}' and {g} gt {rng.randint(1, 100)}", f"Price lt {rng.randint(1, 50)}.{rng.randint(0, 99)}",
            f"startswith({f},'{rand_word(rng, 1, 3).upper()}')", f"{f} ne null", f"contains(tolower({f}),'{rand_word(rng)}')",
            f"{f} desc", f"{f} asc,{g} desc", f"{f},{g}", f"title:\"{search_query(rng)}\" AND year>{rng.randint(1990, 2020)}",
            "status:open label:bug", f"is:unread in:inbox from:{email(rng)}", f"(red OR blue) AND size:{rng.choice(V.SIZES)}",
            f"price:[{rng.randint(1, 50)} TO {rng.randint(51, 500)}]", f"-{f.lower()}:archived", f"created>={date_value(rng)}",
            f"{f.lower()}>{rng.randint(1, 9)} and {g.lower()}<={rng.randint(10, 99)}", "x>=3 and y<=5", "a=1&b=2",
            f"{f.lower()}={rand_word(rng)};{g.lower()}={rand_word(rng)}", f"{f.lower()} in ({rng.randint(1, 9)},{rng.randint(10, 99)})",
            f"{{\"{f.lower()}\":\"{rand_word(rng)}\"}}", f"{{\"score\":{{\"$gt\":{rng.randint(1, 1000)}}}}}", f"where {f.lower()} is {rand_word(rng)}",
            f"{f}:{rand_word(rng)} OR {g}:{rand_word(rng)}", "NOT deleted", f"type=page&sort=-{g.lower()}",
        ]
    )  # fmt: skip


def graphql_with_arg(rng: random.Random, value: str) -> str:
    """A GraphQL query passing ``value`` as a string argument (escaped as GraphQL requires)."""
    arg = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    field = rng.choice(["search", "user", "product", "posts", "login", "comments", "orders"])
    name = rng.choice(["q", "name", "id", "filter", "query", "text", "email"])
    sel = rng.choice(["id name", "id", "id title", "edges { node { id } }", "totalCount"])
    return f'query {{ {field}({name}: "{arg}") {{ {sel} }} }}'


def xml_document(rng: random.Random, text: str, *, escape: bool = False) -> str:
    """A small XML/SOAP document with ``text`` in one element: raw, in CDATA, or (``escape``) as
    entities when it has markup characters."""
    tag = rng.choice(
        [
            "name",
            "comment",
            "search",
            "query",
            "value",
            "title",
            "username",
            "host",
            "file",
            "address",
        ]
    )
    inner = text
    if any(c in text for c in "<&>"):
        if "]]>" not in text and rng.random() < 0.45:
            inner = f"<![CDATA[{text}]]>"
        elif escape:
            inner = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    customer = person_name(rng).replace("&", "&amp;")
    return rng.choice(
        [
            f'<?xml version="1.0" encoding="UTF-8"?>\n<request>\n  <id>{rng.randint(1, 99999)}</id>\n  <{tag}>{inner}</{tag}>\n</request>',
            f'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><{tag}>{inner}</{tag}></soapenv:Body></soapenv:Envelope>',
            f"<{tag}>{inner}</{tag}>",
            f'<order id="{rng.randint(1, 9999)}"><customer>{customer}</customer><{tag}>{inner}</{tag}></order>',
        ]
    )  # fmt: skip


def graphql_query(rng: random.Random) -> str:
    ent = rng.choice(["user", "product", "order", "viewer", "repository", "post"])
    fields = " ".join(
        rng.sample(
            ["id", "name", "email", "title", "createdAt", "price", "status", "url", "avatarUrl"],
            rng.randint(2, 5),
        )
    )
    if rng.random() < 0.35:
        return graphql_with_arg(rng, rng.choice([search_query, person_name, email, sentence])(rng))
    return rng.choice(
        [
            f"query {{ {ent}(id: {rng.randint(1, 9999)}) {{ {fields} }} }}",
            f"query Get{ent.title()}($id: ID!) {{ {ent}(id: $id) {{ {fields} }} }}",
            f"{{ {ent}s(first: {rng.randint(5, 50)}, orderBy: {{field: CREATED_AT, direction: DESC}}) {{ edges {{ node {{ {fields} }} }} }} }}",
            f"mutation {{ update{ent.title()}(input: {{id: \"{rng.randint(1, 999)}\", name: \"{rand_word(rng)}\"}}) {{ {fields} }} }}",
        ]
    )  # fmt: skip


_EMOTICONS = (
    "<3",
    ":)",
    ";)",
    ":-P",
    "^_^",
    ">_<",
    ":-(",
    "xD",
    "¯\\_(ツ)_/¯",
    "(╯°□°)╯︵ ┻━┻",
    "->",
    "=>",
    "<-",
    "<=>",
    "=)",
)


def misc_value(rng: random.Random) -> str:
    gens: list[Callable[[], str]] = [
        lambda: f"{rng.uniform(-90, 90):.4f},{rng.uniform(-180, 180):.4f}", lambda: f"#{rand_hex(rng, 6)}", lambda: f"rgb({rng.randint(0, 255)}, {rng.randint(0, 255)}, {rng.randint(0, 255)})",
        lambda: f"{rng.choice([1280, 1366, 1920, 2560])}x{rng.choice([720, 768, 1080, 1440])}", lambda: f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
        lambda: f"{rng.randint(1, 5)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}-beta.{rng.randint(1, 9)}+build.{rng.randint(1, 999)}",
        lambda: f"{rng.randint(1, 99)}+{rng.randint(1, 99)}", lambda: f"({rng.randint(1, 9)}+{rng.randint(1, 9)})*{rng.randint(2, 9)}",
        lambda: f"x^2 + {rng.randint(1, 9)}x - {rng.randint(1, 9)} = 0", lambda: f"{rng.randint(1, 100)}%", lambda: f"${rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
        lambda: f"€{rng.randint(1, 999)},{rng.randint(0, 99):02d}", lambda: f"{rng.randint(1, 9)}/{rng.randint(2, 9)}", lambda: rng.choice(["true", "false", "yes", "no", "on", "off", "1", "0", "null", "undefined", "none", "N/A", "-", "*"]),
        lambda: rng.choice(["en-US", "en_GB", "de-DE", "fr", "es-419", "pt-BR", "zh-Hans", "ja-JP"]), lambda: rng.choice(["USD", "EUR", "GBP", "JPY", "BRL"]),
        lambda: rng.choice(["asc", "desc", "-created_at", "price:asc", "name,-date", "relevance", "popularity", "newest", "rating desc", "created_at DESC"]),
        lambda: ",".join(str(rng.randint(1, 999)) for _ in range(rng.randint(2, 6))), lambda: "|".join(rng.sample(list(V.COLORS), rng.randint(2, 4))),
        lambda: ";".join(rand_word(rng, 3, 7) for _ in range(rng.randint(2, 4))), lambda: ",".join(rng.sample(["id", "name", "email", "created_at", "price", "status"], 3)),
        lambda: f"jQuery{rng.randint(10**15, 10**16)}_{rng.randint(1600000000000, 1800000000000)}", lambda: f"IMG_{rng.randint(2015, 2026)}{rng.randint(101, 1231)}_{rng.randint(100000, 235959)}.jpg",
        lambda: f"{rand_word(rng)} ({rng.randint(1, 9)}).{rng.choice(['pdf', 'docx', 'xlsx', 'png', 'txt', 'csv'])}", lambda: f"Résumé - {person_name(rng)} (final v{rng.randint(2, 5)}).docx",
        lambda: f"C:\\Users\\{rng.choice(V.FIRST_NAMES)}\\Documents\\{rand_word(rng)}.{rng.choice(['txt', 'xlsx', 'docx'])}", lambda: f"/home/{rand_word(rng)}/{rand_word(rng)}/{rand_word(rng)}.{rng.choice(['py', 'txt', 'log', 'csv'])}",
        lambda: f"D:\\Program Files (x86)\\{rand_word(rng).title()}\\bin", lambda: rng.choice(["image/png", "application/json", "text/html; charset=utf-8", "video/mp4"]),
        lambda: rng.choice(["cpc", "email", "social", "organic"]), lambda: f"{rand_word(rng)}_{rand_word(rng)}_{rng.randint(2020, 2026)}",
        lambda: f"EAIaIQobChMI{rand_alnum(rng, 40)}_BwE", lambda: f"IwAR{rand_alnum(rng, 50)}", lambda: f"GA1.2.{rng.randint(10**8, 10**10)}.{rng.randint(1600000000, 1800000000)}",
        lambda: "openid profile email", lambda: rng.choice(["code", "token", "id_token"]), lambda: "Tom &amp; Jerry", lambda: "&lt;3", lambda: rng.choice(_EMOTICONS),
        lambda: f"{rng.randint(1, 99)} < {rng.randint(100, 999)}", lambda: "a < b && b > c", lambda: f"{rand_word(rng)}@{rand_word(rng)}", lambda: f"@{rand_word(rng, 3, 12)}", lambda: f"#{rand_word(rng, 3, 12)}",
        lambda: f"1 {rng.choice(['or', 'and'])} 2 {rng.choice(['bedrooms', 'nights', 'people', 'items'])}", lambda: f"{rng.randint(1, 9)}' {rng.randint(0, 11)}\"",
    ]  # fmt: skip
    return rng.choice(gens)()


_VALUE_GENS: tuple[tuple[Gen, float], ...] = (
    (search_query, 8.0), (person_name, 3.0), (email, 2.5), (phone, 1.0), (address, 1.5), (password, 1.5),
    (message, 4.0), (sentence, 2.0), (date_value, 2.0), (lambda r: str(r.randint(0, 10 ** r.randint(1, 9))), 4.0),
    (rand_uuid, 1.5), (token, 2.0), (url_value, 2.0), (redirect_value, 1.2), (json_value, 1.2),
    (odata_or_filter, 1.2), (graphql_query, 0.4), (misc_value, 6.0), (lambda r: rand_word(r, 2, 12), 2.0),
    (lambda r: r.choice(V.OTHER_LANG + V.SPANISH), 1.2), (lambda r: r.choice(V.CITIES), 0.8), (lambda r: r.choice(V.BRANDS), 0.6),
)  # fmt: skip


def benign_value(rng: random.Random) -> str:
    """One realistic clean parameter value (query/form/JSON/cookie) as the parser would decode it."""
    return weighted(rng, _VALUE_GENS)(rng)


def query_params(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """``n`` realistic (name, value) pairs (values short-ish)."""
    out: list[tuple[str, str]] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.12:
            out.append(
                (
                    rng.choice(
                        ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]
                    ),
                    rng.choice(
                        [
                            "google",
                            "newsletter",
                            "facebook",
                            "cpc",
                            "spring_sale_2024",
                            "twitter",
                            "email",
                            "banner_top",
                            search_query(rng),
                        ]
                    ),
                )
            )
        elif r < 0.2:
            out.append(
                (
                    rng.choice(["page", "limit", "offset", "per_page", "p", "start"]),
                    str(rng.randint(0, 200)),
                )
            )
        elif r < 0.28:
            out.append(
                (
                    rng.choice(["sort", "order", "orderby", "sort_by", "dir"]),
                    misc_value(rng)
                    if rng.random() < 0.3
                    else rng.choice(
                        [
                            "asc",
                            "desc",
                            "price",
                            "-date",
                            "name asc",
                            "created_at:desc",
                            "relevance",
                        ]
                    ),
                )
            )
        elif r < 0.36:
            out.append(
                (rng.choice(["q", "query", "search", "s", "keyword", "term"]), search_query(rng))
            )
        elif r < 0.42:
            out.append(
                (
                    rng.choice(
                        [
                            "price[min]",
                            "price[max]",
                            "filter[status]",
                            "filters[color][]",
                            "tags[]",
                            "ids[]",
                            "user[name]",
                            "options[0][value]",
                        ]
                    ),
                    rng.choice(
                        [str(rng.randint(1, 500)), rng.choice(V.COLORS), rand_word(rng), "active"]
                    ),
                )
            )
        elif r < 0.48:
            out.append(
                (
                    rng.choice(
                        [
                            "gclid",
                            "fbclid",
                            "msclkid",
                            "_ga",
                            "mc_eid",
                            "ref",
                            "src",
                            "affiliate_id",
                        ]
                    ),
                    misc_value(rng) if rng.random() < 0.3 else token(rng),
                )
            )
        elif r < 0.52:
            out.append(
                (
                    rng.choice(["_", "t", "ts", "cb", "v", "nocache"]),
                    str(rng.randint(1600000000000, 1800000000000)),
                )
            )
        else:
            out.append(
                (
                    rng.choice(PARAM_NAMES),
                    benign_value(rng)
                    if rng.random() < 0.6
                    else rng.choice([str(rng.randint(1, 99999)), rand_word(rng), rand_uuid(rng)]),
                )
            )
    return out


# --- headers ----------------------------------------------------------------------------------


def _chrome_version(rng: random.Random) -> str:
    return f"{rng.randint(100, 131)}.0.{rng.randint(4000, 6800)}.{rng.randint(10, 250)}"


_ANDROID_DEV = (
    "Pixel 7",
    "Pixel 8 Pro",
    "SM-G991B",
    "SM-S918B",
    "SM-A536B",
    "Redmi Note 12",
    "M2101K6G",
    "CPH2451",
    "moto g(60)",
    "K",
    "ONEPLUS A6013",
    "Nokia G21",
)


def user_agent(rng: random.Random) -> str:
    """A realistic User-Agent: desktop/mobile browsers, in-app browsers, bots and HTTP libraries."""
    cv = _chrome_version(rng)
    major = cv.split(".")[0]
    ios = f"{rng.randint(14, 18)}_{rng.randint(0, 6)}"
    fx = rng.randint(100, 133)
    kind = weighted(
        rng,
        (
            ("chrome", 30.0),
            ("safari", 10.0),
            ("firefox", 8.0),
            ("edge", 5.0),
            ("android", 14.0),
            ("ios", 14.0),
            ("inapp", 4.0),
            ("bot", 6.0),
            ("lib", 8.0),
            ("other", 3.0),
        ),
    )
    if kind == "chrome":
        os_ = rng.choice(
            [
                "Windows NT 10.0; Win64; x64",
                "Macintosh; Intel Mac OS X 10_15_7",
                "X11; Linux x86_64",
                "X11; CrOS x86_64 14541.0.0",
                "Windows NT 6.1; Win64; x64",
            ]
        )
        return (
            f"Mozilla/5.0 ({os_}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{cv} Safari/537.36"
        )
    if kind == "safari":
        return f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{rng.randint(14, 18)}.{rng.randint(0, 6)} Safari/605.1.15"
    if kind == "firefox":
        os_ = rng.choice(
            [
                "Windows NT 10.0; Win64; x64",
                "Macintosh; Intel Mac OS X 10.15",
                "X11; Ubuntu; Linux x86_64",
                "X11; Linux x86_64",
                "Android 14; Mobile",
            ]
        )
        return f"Mozilla/5.0 ({os_}; rv:{fx}.0) Gecko/20100101 Firefox/{fx}.0"
    if kind == "edge":
        return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{cv} Safari/537.36 Edg/{major}.0.{rng.randint(1000, 2900)}.{rng.randint(10, 99)}"
    if kind == "android":
        dev = rng.choice(_ANDROID_DEV)
        if rng.random() < 0.2:
            return f"Mozilla/5.0 (Linux; Android {rng.randint(10, 14)}; {dev}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/{rng.randint(18, 25)}.0 Chrome/{cv} Mobile Safari/537.36"
        return f"Mozilla/5.0 (Linux; Android {rng.randint(9, 14)}; {dev}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{cv} Mobile Safari/537.36"
    if kind == "ios":
        dev = rng.choice(["iPhone; CPU iPhone OS", "iPad; CPU OS"])
        if rng.random() < 0.2:
            return f"Mozilla/5.0 ({dev} {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/{cv} Mobile/15E148 Safari/604.1"
        return f"Mozilla/5.0 ({dev} {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{ios.split('_')[0]}.0 Mobile/15E148 Safari/604.1"
    if kind == "inapp":
        return rng.choice(
            [
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/{rng.randint(400, 480)}.0.0.{rng.randint(10, 60)}.{rng.randint(100, 120)};FBBV/{rng.randint(10**8, 10**9)};FBDV/iPhone14,{rng.randint(2, 7)};FBMD/iPhone;FBSN/iOS;FBSV/{ios.replace('_', '.')};FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram {rng.randint(250, 330)}.0.0.{rng.randint(10, 40)}.{rng.randint(100, 130)} (iPhone14,5; iOS {ios}; en_US; en-US; scale=3.00; 1170x2532; {rng.randint(10**8, 10**9)})",
                f"Mozilla/5.0 (Linux; Android 13; {rng.choice(_ANDROID_DEV)} Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{cv} Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/{rng.randint(400, 480)}.0.0.{rng.randint(10, 40)}.{rng.randint(100, 120)};]",
                f"{rand_word(rng).title()}App/{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)} (iPhone; iOS {ios.replace('_', '.')}; Scale/3.00)",
                f"Dalvik/2.1.0 (Linux; U; Android {rng.randint(9, 14)}; {rng.choice(_ANDROID_DEV)} Build/{rand_alnum(rng, 6).upper()})",
                f"{rand_word(rng).title()}/{rng.randint(100, 999)} CFNetwork/{rng.randint(1200, 1500)}.0.{rng.randint(1, 9)} Darwin/{rng.randint(20, 24)}.{rng.randint(0, 6)}.0",
            ]
        )  # fmt: skip
    if kind == "bot":
        return rng.choice(
            [
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                f"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{cv} Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
                "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
                "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
                "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "Twitterbot/1.0", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
                "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", f"WhatsApp/2.{rng.randint(22, 24)}.{rng.randint(1, 25)}.{rng.randint(1, 80)} A",
                "TelegramBot (like TwitterBot)", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
                "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)",
                "Amazon CloudFront", "ELB-HealthChecker/2.0", "kube-probe/1.29", "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
            ]
        )  # fmt: skip
    if kind == "lib":
        return rng.choice(
            [
                f"curl/7.{rng.randint(58, 88)}.{rng.randint(0, 1)}", f"curl/8.{rng.randint(0, 11)}.{rng.randint(0, 1)}", f"Wget/1.{rng.randint(19, 21)}.{rng.randint(1, 4)}",
                f"python-requests/2.{rng.randint(20, 32)}.{rng.randint(0, 3)}", f"python-urllib3/{rng.randint(1, 2)}.{rng.randint(20, 26)}.{rng.randint(0, 9)}",
                f"Python-urllib/3.{rng.randint(8, 12)}", f"python-httpx/0.{rng.randint(23, 27)}.0", f"aiohttp/3.{rng.randint(8, 9)}.{rng.randint(0, 5)}",
                "Go-http-client/1.1", "Go-http-client/2.0", f"okhttp/4.{rng.randint(9, 12)}.{rng.randint(0, 3)}", f"Java/{rng.choice(['1.8.0_392', '11.0.21', '17.0.9', '21.0.1'])}",
                f"Apache-HttpClient/4.5.{rng.randint(10, 14)} (Java/17.0.9)", f"axios/1.{rng.randint(4, 7)}.{rng.randint(0, 9)}", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
                "node", "undici", f"PostmanRuntime/7.{rng.randint(30, 40)}.{rng.randint(0, 3)}", f"insomnia/{rng.randint(2022, 2024)}.{rng.randint(1, 7)}.0",
                "Ruby", f"Faraday v2.{rng.randint(5, 9)}.0", "GuzzleHttp/7", f"Dart/3.{rng.randint(0, 5)} (dart:io)", f"Alamofire/5.{rng.randint(4, 9)}.0",
                f"Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.{rng.randint(17000, 22000)}.{rng.randint(1, 3000)}", "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)",
                f"Terraform/1.{rng.randint(3, 9)}.{rng.randint(0, 5)}", f"kubectl/v1.{rng.randint(25, 30)}.0 (linux/amd64) kubernetes/{rand_hex(rng, 7)}", f"aws-cli/2.{rng.randint(10, 15)}.{rng.randint(0, 30)} Python/3.11.6 Linux/5.15.0 exe/x86_64.ubuntu.22 prompt/off command/s3.ls",
                f"Grafana/10.{rng.randint(0, 4)}.0", "Prometheus/2.48.0", "Zabbix", "Mozilla/5.0 (compatible; Let's Encrypt validation server; +https://www.letsencrypt.org)",
            ]
        )  # fmt: skip
    return rng.choice(
        [
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{cv} Safari/537.36 OPR/{rng.randint(90, 110)}.0.0.0",
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{cv} YaBrowser/23.{rng.randint(1, 11)}.0.0 Safari/537.36",
            "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)", "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
            f"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/{cv} TV Safari/537.36",
            "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)", "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
            f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) {rand_word(rng).title()}/{rng.randint(1, 9)}.{rng.randint(0, 9)}.0 Chrome/{cv} Electron/{rng.randint(20, 30)}.0.0 Safari/537.36",
            "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18", "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; .NET CLR 2.0.50727; .NET CLR 3.0.4506.2152)",
        ]
    )  # fmt: skip


def accept_language(rng: random.Random) -> str:
    langs = rng.sample(
        [
            "en-US",
            "en",
            "de-DE",
            "de",
            "fr-FR",
            "fr",
            "es-ES",
            "es",
            "it",
            "pt-BR",
            "ja",
            "zh-CN",
            "zh",
            "ru",
            "nl",
            "pl",
            "ko",
            "tr",
        ],
        rng.randint(1, 4),
    )
    parts = [langs[0]] + [f"{lang};q=0.{9 - i}" for i, lang in enumerate(langs[1:])]
    return ",".join(parts) if rng.random() < 0.8 else "*"


def referer(rng: random.Random, host: str | None = None) -> str:
    r = rng.random()
    if r < 0.25:
        return f"https://www.google.com/search?q={quote_plus(search_query(rng))}&{rng.choice(['sca_esv=' + rand_hex(rng, 12), 'source=hp', 'rlz=1C1GCEA_enUS1000US1000', 'oq=' + rand_word(rng)])}"
    if r < 0.35:
        return rng.choice(
            [
                "https://www.google.com/",
                "https://www.bing.com/",
                "https://duckduckgo.com/",
                "https://t.co/" + rand_alnum(rng, 10),
                "android-app://com.google.android.gm/",
                "https://l.facebook.com/",
                "https://www.reddit.com/",
            ]
        )
    if host and r < 0.85:
        q = ("?" + urlencode(query_params(rng, rng.randint(1, 3)))) if rng.random() < 0.4 else ""
        return f"https://{host}{url_path(rng)}{q}"
    return url_value(rng)


def sec_ch_ua(rng: random.Random) -> str:
    v = rng.randint(110, 131)
    brand = rng.choice(
        [
            '"Not_A Brand";v="8"',
            '"Not/A)Brand";v="99"',
            '"Not A(Brand";v="24"',
            '"Not)A;Brand";v="99"',
        ]
    )
    items = [
        brand,
        f'"Chromium";v="{v}"',
        f'"{rng.choice(["Google Chrome", "Microsoft Edge", "Brave", "Opera"])}";v="{v}"',
    ]
    rng.shuffle(items)
    return ", ".join(items)


def header_pairs(rng: random.Random, host: str) -> list[tuple[str, str]]:
    """Browser-ish or client-ish request headers (without Cookie/Content-*)."""
    ua = user_agent(rng)
    browser = ua.startswith("Mozilla/5.0") and "bot" not in ua.lower()
    h: list[tuple[str, str]] = [("Host", host), ("User-Agent", ua)]
    if browser:
        h.append(
            (
                "Accept",
                rng.choice(
                    [
                        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
                        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                        "application/json, text/plain, */*",
                        "*/*",
                        "image/avif,image/webp,*/*",
                    ]
                ),
            )
        )
        h.append(("Accept-Language", accept_language(rng)))
        h.append(
            (
                "Accept-Encoding",
                rng.choice(["gzip, deflate, br", "gzip, deflate, br, zstd", "gzip, deflate"]),
            )
        )
        if "Chrome" in ua and rng.random() < 0.7:
            h += [
                ("Sec-CH-UA", sec_ch_ua(rng)),
                ("Sec-CH-UA-Mobile", rng.choice(["?0", "?1"])),
                (
                    "Sec-CH-UA-Platform",
                    rng.choice(['"Windows"', '"macOS"', '"Android"', '"Linux"']),
                ),
            ]
            h += [
                ("Sec-Fetch-Site", rng.choice(["same-origin", "none", "cross-site", "same-site"])),
                ("Sec-Fetch-Mode", rng.choice(["navigate", "cors", "no-cors"])),
                ("Sec-Fetch-Dest", rng.choice(["document", "empty", "image", "script"])),
            ]
        if rng.random() < 0.5:
            h.append(("Referer", referer(rng, host)))
        if rng.random() < 0.3:
            h.append(("Upgrade-Insecure-Requests", "1"))
        if rng.random() < 0.2:
            h.append(("Cache-Control", rng.choice(["max-age=0", "no-cache", "no-store"])))
        if rng.random() < 0.15:
            h.append(("X-Requested-With", "XMLHttpRequest"))
        if rng.random() < 0.1:
            h.append(("DNT", "1"))
        if rng.random() < 0.2:
            h.append(("Priority", rng.choice(["u=0, i", "u=1", "u=4"])))
    else:
        h.append(
            (
                "Accept",
                rng.choice(
                    [
                        "*/*",
                        "application/json",
                        "application/json, text/plain, */*",
                        "application/vnd.github+json",
                    ]
                ),
            )
        )
        if rng.random() < 0.4:
            h.append(("Authorization", authorization(rng)))
    for name, gen in _OPTIONAL_HEADERS:
        if rng.random() < 0.12:
            h.append((name, gen(rng)))
    if rng.random() < 0.5:
        h.append(("Connection", rng.choice(["keep-alive", "close"])))
    return h


def authorization(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.55:
        return f"Bearer {jwt(rng) if rng.random() < 0.7 else token(rng)}"
    if r < 0.75:
        return "Basic " + base64.b64encode(f"{rand_word(rng)}:{password(rng)}".encode()).decode()
    if r < 0.85:
        return f"Token {rand_hex(rng, 40)}"
    d = f"{rng.randint(2020, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return f"AWS4-HMAC-SHA256 Credential=AKIA{rand_alnum(rng, 16).upper()}/{d}/us-east-1/{rng.choice(['s3', 'execute-api', 'sts'])}/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={rand_hex(rng, 64)}"


def forwarded_for(rng: random.Random) -> str:
    ips = [rand_ip(rng, private=False)] + [rand_ip(rng) for _ in range(rng.randint(0, 2))]
    return rng.choice([", ", ","]).join(ips)


_OPTIONAL_HEADERS: tuple[tuple[str, Gen], ...] = (
    ("X-Forwarded-For", forwarded_for), ("X-Forwarded-Proto", lambda r: r.choice(["https", "http"])), ("X-Real-IP", lambda r: rand_ip(r, private=False)),
    ("X-Request-ID", lambda r: rand_uuid(r)), ("traceparent", lambda r: f"00-{rand_hex(r, 32)}-{rand_hex(r, 16)}-0{r.choice('01')}"),
    ("tracestate", lambda r: f"rojo=00f067aa0ba902b7,congo={rand_alnum(r, 12)}"), ("baggage", lambda r: f"userId={rand_word(r)},serverNode=DF%20{r.randint(1, 99)},isProduction=false"),
    ("X-Amzn-Trace-Id", lambda r: f"Root=1-{rand_hex(r, 8)}-{rand_hex(r, 24)};Parent={rand_hex(r, 16)};Sampled=1"), ("Forwarded", lambda r: f"for={rand_ip(r)};proto=https;by={rand_ip(r)}"),
    ("If-None-Match", lambda r: r.choice([f'W/"{r.randint(10, 999)}-{rand_hex(r, 12)}"', f'"{rand_hex(r, 32)}"'])), ("If-Modified-Since", lambda r: f"Wed, {r.randint(1, 28)} Oct 2024 07:28:00 GMT"),
    ("Range", lambda r: f"bytes={r.randint(0, 1000)}-{r.randint(1001, 99999)}"), ("Origin", lambda r: f"https://{r.choice(V.DOMAINS)}"), ("X-CSRF-Token", token),
    ("X-Api-Key", lambda r: rand_alnum(r, 32)), ("Via", lambda r: r.choice(["1.1 varnish", "1.1 vegur", "2 cloudfront.net (CloudFront)", "1.1 google"])),
    ("CF-Connecting-IP", lambda r: rand_ip(r, private=False)), ("X-Client-Data", lambda r: base64.b64encode(r.randbytes(30)).decode()),
    ("Pragma", lambda r: "no-cache"), ("X-Correlation-ID", lambda r: rand_uuid(r)), ("X-Device-Id", lambda r: rand_hex(r, 16)),
    ("X-Timezone", lambda r: r.choice(["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"])), ("X-App-Version", lambda r: f"{r.randint(1, 9)}.{r.randint(0, 40)}.{r.randint(0, 9)} ({r.randint(100, 9999)})"),
)  # fmt: skip


def cookie_pairs(rng: random.Random) -> list[tuple[str, str]]:
    """Realistic cookies (name, value as sent on the wire)."""
    ts = rng.randint(1600000000, 1800000000)
    pool: list[tuple[str, Gen]] = [
        ("session", lambda r: token(r)), ("sessionid", lambda r: rand_alnum(r, 32, "abcdefghijklmnopqrstuvwxyz0123456789")), ("PHPSESSID", lambda r: rand_alnum(r, 26, "abcdefghijklmnopqrstuvwxyz0123456789")),
        ("JSESSIONID", lambda r: rand_hex(r, 32).upper() + r.choice(["", ".node1", f".{rand_word(r, 4, 6)}"])), ("ASP.NET_SessionId", lambda r: rand_alnum(r, 24, "abcdefghijklmnopqrstuvwxyz012345")),
        ("_ga", lambda r: f"GA1.{r.randint(1, 3)}.{r.randint(10**8, 10**10)}.{ts}"), ("_gid", lambda r: f"GA1.2.{r.randint(10**8, 10**10)}.{ts}"), ("_ga_" + rand_alnum(rng, 10).upper(), lambda r: f"GS1.1.{ts}.{r.randint(1, 50)}.1.{ts + 100}.0.0.0"),
        ("_fbp", lambda r: f"fb.1.{ts}{r.randint(100, 999)}.{r.randint(10**8, 10**10)}"), ("_gcl_au", lambda r: f"1.1.{r.randint(10**8, 10**10)}.{ts}"), ("csrftoken", lambda r: rand_alnum(r, 32)),
        ("XSRF-TOKEN", lambda r: quote(base64.b64encode(r.randbytes(40)).decode(), safe="")), ("cookieconsent_status", lambda r: r.choice(["dismiss", "allow", "deny"])),
        ("OptanonConsent", lambda r: f"isGpcEnabled=0&datestamp=Mon+Jan+{r.randint(1, 28):02d}+2024+10%3A{r.randint(10, 59)}%3A00+GMT%2B0100+(Central+European+Standard+Time)&version=202310.1.0&isIABGlobal=false&hosts=&consentId={rand_uuid(r)}&interactionCount=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A{r.randint(0, 1)}%2CC0003%3A1%2CC0004%3A0"),
        ("euconsent-v2", lambda r: "CP" + rand_alnum(r, 60, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") + ".YAAAAAAAAAAA"), ("lang", lambda r: r.choice(["en", "en-US", "de", "fr-FR", "es"])),
        ("tz", lambda r: quote(r.choice(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]), safe="")), ("theme", lambda r: r.choice(["dark", "light", "system"])),
        ("cart", lambda r: quote(json.dumps([{"id": r.randint(1, 999), "qty": r.randint(1, 3)}], separators=(",", ":")), safe="")),
        ("prefs", lambda r: base64.b64encode(json.dumps({"theme": r.choice(["dark", "light"]), "lang": "en", "tz": r.randint(-12, 12)}).encode()).decode()),
        ("ajs_anonymous_id", lambda r: quote(f'"{rand_uuid(r)}"', safe="")), ("_hjSessionUser_" + str(rng.randint(10**5, 10**7)), lambda r: base64.b64encode(json.dumps({"id": rand_uuid(r), "created": ts * 1000, "existing": True}).encode()).decode()),
        ("mp_" + rand_hex(rng, 32) + "_mixpanel", lambda r: quote(json.dumps({"distinct_id": rand_uuid(r), "$device_id": rand_hex(r, 14), "$initial_referrer": "$direct"}), safe="")),
        ("__cf_bm", lambda r: f"{rand_alnum(r, 43)}-{ts}-0-{base64.b64encode(r.randbytes(60)).decode()}"), ("AWSALB", lambda r: base64.b64encode(r.randbytes(90)).decode()),
        ("remember_token", lambda r: f"{r.randint(1, 99999)}|{rand_hex(r, 64)}"), ("auth_token", jwt), ("intercom-id-" + rand_alnum(rng, 8).lower(), lambda r: rand_uuid(r)),
        ("recently_viewed", lambda r: "%2C".join(str(r.randint(1, 9999)) for _ in range(r.randint(1, 5)))), ("wp-settings-1", lambda r: "libraryContent%3Dbrowse%26editor%3Dtinymce"),
        ("wordpress_logged_in_" + rand_hex(rng, 32), lambda r: f"{rand_word(r)}%7C{ts}%7C{rand_alnum(r, 43)}%7C{rand_hex(r, 64)}"), ("visitor", lambda r: quote(person_name(r)))
    ]  # fmt: skip
    chosen = rng.sample(pool, rng.randint(1, 7))
    return [(name, gen(rng)) for name, gen in chosen]


# --- bodies -----------------------------------------------------------------------------------


def form_fields(rng: random.Random) -> list[tuple[str, str]]:
    """A realistic HTML form submission (decoded field values)."""
    kind = rng.choice(
        ["login", "signup", "contact", "checkout", "search", "comment", "profile", "generic"]
    )
    csrf = [("csrf_token", token(rng))] if rng.random() < 0.5 else []
    if kind == "login":
        return [
            *csrf,
            (
                rng.choice(["username", "email", "login"]),
                email(rng) if rng.random() < 0.5 else rand_word(rng),
            ),
            ("password", password(rng)),
            ("remember", rng.choice(["on", "1", "true"])),
        ]
    if kind == "signup":
        pw = password(rng)
        return [
            *csrf,
            ("first_name", rng.choice(V.FIRST_NAMES)),
            ("last_name", rng.choice(V.LAST_NAMES)),
            ("email", email(rng)),
            ("password", pw),
            ("password_confirm", pw),
            ("terms", "on"),
        ]
    if kind == "contact":
        return [
            *csrf,
            ("name", person_name(rng)),
            ("email", email(rng)),
            ("subject", sentence(rng)[:60]),
            ("message", message(rng)),
        ]
    if kind == "checkout":
        return [
            *csrf,
            ("full_name", person_name(rng)),
            ("address1", address(rng)),
            ("city", rng.choice(V.CITIES)),
            ("zip", str(rng.randint(1000, 99999))),
            ("country", rng.choice(V.COUNTRIES)),
            ("phone", phone(rng)),
            ("shipping", rng.choice(["standard", "express"])),
        ]
    if kind == "search":
        return [("q", search_query(rng)), ("category", rand_word(rng)), ("sort", "relevance")]
    if kind == "comment":
        return [
            *csrf,
            ("author", person_name(rng)),
            ("email", email(rng)),
            ("url", url_value(rng) if rng.random() < 0.3 else ""),
            ("comment", message(rng)),
            ("post_id", str(rng.randint(1, 9999))),
        ]
    if kind == "profile":
        return [
            *csrf,
            ("display_name", person_name(rng)),
            ("bio", message(rng)),
            ("website", url_value(rng)),
            ("location", rng.choice(V.CITIES)),
            ("timezone", rng.choice(["Europe/Berlin", "America/Los_Angeles", "UTC"])),
        ]
    return query_params(rng, rng.randint(1, 6))


def json_body(rng: random.Random) -> str:
    """A realistic JSON request body (API call, analytics event, GraphQL, form-as-JSON)."""
    r = rng.random()
    if r < 0.15:
        body: object = {
            "query": graphql_query(rng),
            "variables": {"id": str(rng.randint(1, 9999))},
            "operationName": rng.choice([None, "GetUser", "ListOrders"]),
        }
    elif r < 0.3:
        body = {
            "event": rng.choice(["page_view", "click", "add_to_cart", "purchase", "signup"]),
            "properties": {
                "url": url_value(rng),
                "referrer": referer(rng),
                "title": search_query(rng),
            },
            "timestamp": date_value(rng),
            "anonymousId": rand_uuid(rng),
        }
    elif r < 0.45:
        body = dict(form_fields(rng))
    elif r < 0.55:
        body = [json_object(rng, 1) for _ in range(rng.randint(1, 3))]
    else:
        body = json_object(rng, depth=2)
    return json.dumps(
        body, ensure_ascii=rng.random() < 0.3, separators=rng.choice([(",", ":"), (", ", ": ")])
    )


def xml_body(rng: random.Random) -> str:
    """A small realistic XML/SOAP request body."""
    name = person_name(rng).replace("&", "&amp;")
    q = search_query(rng).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return rng.choice(
        [
            f'<?xml version="1.0" encoding="UTF-8"?><order><id>{rng.randint(1, 99999)}</id><customer>{name}</customer><note>{q}</note></order>',
            f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:web="http://www.example.com/webservice"><soapenv:Header/><soapenv:Body><web:GetQuote><web:symbol>{rand_word(rng, 3, 4).upper()}</web:symbol></web:GetQuote></soapenv:Body></soapenv:Envelope>',
            f'<?xml version="1.0"?><methodCall><methodName>{rand_word(rng)}.{rand_word(rng)}</methodName><params><param><value><string>{q}</string></value></param></params></methodCall>',
            f'<search><term>{q}</term><page>{rng.randint(1, 9)}</page><lang>en</lang></search>',
            f'<?xml version="1.0" encoding="utf-8"?>\n<user>\n  <name>{name}</name>\n  <email>{email(rng)}</email>\n  <bio><![CDATA[{sentence(rng)}]]></bio>\n</user>',
        ]
    )  # fmt: skip


# --- sample generation ------------------------------------------------------------------------


def _header_sample(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.35:
        return user_agent(rng), "ua"
    if r < 0.5:
        return referer(rng, rng.choice(V.DOMAINS) if rng.random() < 0.5 else None), "referer"
    if r < 0.56:
        return accept_language(rng), "al"
    if r < 0.62:
        return forwarded_for(rng), "xff"
    if r < 0.68:
        return authorization(rng), "auth"
    if r < 0.72:
        return sec_ch_ua(rng), "ch"
    if r < 0.82:
        return "; ".join(f"{k}={v}" for k, v in cookie_pairs(rng)), "cookie"
    _name, gen = rng.choice(_OPTIONAL_HEADERS)
    return gen(rng), "other"


def _value_sample(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.08:
        _name, v = rng.choice(cookie_pairs(rng))
        return v, "cookie"
    return benign_value(rng), "value"


def generate_benign(rng: random.Random, n: int) -> list[Sample]:
    """``n`` distinct realistic clean inputs: parameter values, header values, URL paths, bodies."""

    def make() -> Sample:
        kind = weighted(rng, (("value", 0.62), ("header", 0.18), ("path", 0.12), ("raw", 0.08)))
        if kind == "value":
            value, sub = _value_sample(rng)
        elif kind == "header":
            value, sub = _header_sample(rng)
        elif kind == "path":
            value, sub = url_path(rng), "path"
            if rng.random() < 0.3:
                value += "?" + urlencode(query_params(rng, rng.randint(1, 4)))
        else:
            r = rng.random()
            if r < 0.2:
                value, sub = json_body(rng), "json"
            elif r < 0.4:
                value, sub = xml_body(rng), "xml"
            elif r < 0.6:
                value, sub = xml_document(rng, benign_value(rng), escape=rng.random() < 0.6), "xml"
            elif r < 0.75:
                value, sub = urlencode(form_fields(rng)), "form"
            else:
                value, sub = message(rng), "text"
        return Sample(
            value,
            kind,
            "clean",
            f"gen:clean:benign:{sub}",
            f"gen:clean:benign:{sub}:{rng.randrange(64)}",
        )

    return unique_samples(make, n)
