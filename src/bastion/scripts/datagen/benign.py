"""Generated benign hard negatives: shop and form code that touches what skimmers touch.

Legitimate checkout pages read card fields, validate them with Luhn, post forms to the
shop's own endpoints, load analytics and send beacons. These snippets do that, with the
same building blocks the skimmer generator uses where the behaviour is legitimate
(same-origin endpoints, tokenization SDKs, field formatting, page-view analytics), so the
model must learn the difference rather than the vocabulary.
"""

# ruff: noqa: E501  (JavaScript templates are kept one statement per line)

from __future__ import annotations

import random

from bastion.scripts.datagen.skimmers import CARD_FIELDS, PERSON_FIELDS


def _q(rng: random.Random, s: str) -> str:
    return ('"' + s + '"') if rng.random() < 0.5 else ("'" + s + "'")


def card_formatter(rng: random.Random) -> str:
    field = rng.choice(CARD_FIELDS[:10])
    return (
        f"var input = document.getElementById({_q(rng, field)});\n"
        "function luhnValid(num) {\n  var sum = 0, dbl = false;\n"
        "  for (var i = num.length - 1; i >= 0; i--) {\n    var d = +num[i];\n"
        "    if (dbl) { d *= 2; if (d > 9) d -= 9; }\n    sum += d; dbl = !dbl;\n  }\n  return sum % 10 === 0;\n}\n"
        "if (input) {\n  input.addEventListener('input', function () {\n"
        "    var digits = input.value.replace(/\\D/g, '').slice(0, 19);\n"
        "    input.value = digits.replace(/(.{4})/g, '$1 ').trim();\n"
        "    input.classList.toggle('is-invalid', digits.length >= 13 && !luhnValid(digits));\n  });\n}"
    )


def checkout_submit(rng: random.Random) -> str:
    endpoint = rng.choice(
        [
            "/checkout/submit",
            "/api/orders",
            "/cart/checkout",
            "./payment/process",
            "/rest/V1/carts/mine/payment-information",
            window_origin(rng),
        ]
    )
    fields = rng.sample(PERSON_FIELDS, 4)
    how = rng.randint(0, 2)
    if how == 0:
        send = (
            f"fetch({_q(rng, endpoint)}, {{ method: 'POST', credentials: 'same-origin', "
            "headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(payload) })\n"
            "    .then(function (r) { return r.json(); })\n"
            "    .then(function (res) { if (res.redirect) window.location.href = res.redirect; else showErrors(res.errors); });"
        )
    elif how == 1:
        send = (
            "var xhr = new XMLHttpRequest();\n"
            f"  xhr.open('POST', {_q(rng, endpoint)});\n"
            "  xhr.setRequestHeader('Content-Type', 'application/json');\n"
            "  xhr.onload = function () { if (xhr.status === 200) form.submit(); };\n"
            "  xhr.send(JSON.stringify(payload));"
        )
    else:
        send = (
            f"$.ajax({{ url: {_q(rng, endpoint)}, type: 'POST', data: payload, "
            "success: function (res) { $('#order-status').text(res.message); } });"
        )
    field_lines = ", ".join(f"{_q(rng, f)}: form.elements[{_q(rng, f)}].value" for f in fields)
    return (
        "var form = document.querySelector('#checkout-form');\n"
        "var csrf = document.querySelector('meta[name=csrf-token]').getAttribute('content');\n"
        "function showErrors(errs) { Object.keys(errs || {}).forEach(function (k) {"
        " var el = form.querySelector('[name=\"' + k + '\"]'); if (el) el.classList.add('error'); }); }\n"
        "form.addEventListener('submit', function (e) {\n  e.preventDefault();\n"
        f"  var payload = {{ {field_lines} }};\n"
        "  payload.paymentToken = form.querySelector('[name=payment_token]').value;\n"
        f"  {send}\n}});"
    )


def window_origin(rng: random.Random) -> str:
    return "/" + rng.choice(["checkout", "order", "account"]) + "/save"


def tokenize_with_sdk(rng: random.Random) -> str:
    sdk = rng.choice(["Stripe", "Braintree", "Adyen", "Square", "PayPal"])
    return (
        f"var client = {sdk}({_q(rng, 'pk_live_' + ''.join(rng.choice('abcdef0123456789') for _ in range(24)))});\n"
        "var elements = client.elements();\nvar card = elements.create('card', { style: { base: { fontSize: '16px' } } });\n"
        "card.mount('#card-element');\n"
        "document.getElementById('payment-form').addEventListener('submit', function (ev) {\n"
        "  ev.preventDefault();\n  client.createToken(card).then(function (result) {\n"
        "    if (result.error) { document.getElementById('card-errors').textContent = result.error.message; }\n"
        "    else { document.getElementById('token').value = result.token.id; ev.target.submit(); }\n  });\n});"
    )


def analytics(rng: random.Random) -> str:
    host = rng.choice(
        [
            "www.google-analytics.com",
            "stats.example-shop.com",
            "api.segment.io",
            "plausible.io",
            "api.mixpanel.com",
            "collector.newrelic.com",
            "bam.nr-data.net",
        ]
    )
    style = rng.randint(0, 2)
    if style == 0:
        return (
            "(function (w, d, s, u) {\n  var js = d.createElement(s), first = d.getElementsByTagName(s)[0];\n"
            f"  js.async = 1; js.src = u; first.parentNode.insertBefore(js, first);\n}})(window, document, 'script', "
            f"'https://{host}/analytics.js');\n"
            "window.dataLayer = window.dataLayer || [];\nfunction gtag() { dataLayer.push(arguments); }\n"
            "gtag('js', new Date());\ngtag('config', 'G-"
            + "".join(rng.choice("ABCDEFGHJKLMNP23456789") for _ in range(10))
            + "');"
        )
    if style == 1:
        return (
            "function track(event, props) {\n"
            "  var body = JSON.stringify({ event: event, props: props, url: location.href, ref: document.referrer,"
            " ts: Date.now() });\n"
            f"  if (navigator.sendBeacon) navigator.sendBeacon('https://{host}/collect', body);\n"
            f"  else {{ var img = new Image(); img.src = 'https://{host}/p.gif?d=' + encodeURIComponent(body); }}\n}}\n"
            "document.addEventListener('click', function (e) {\n"
            "  var a = e.target.closest('a[data-track]');\n  if (a) track('click', { id: a.dataset.track });\n});\n"
            "track('pageview', { title: document.title });"
        )
    return (
        "var perf = {};\nwindow.addEventListener('load', function () {\n"
        "  var t = performance.timing; perf.load = t.loadEventStart - t.navigationStart;\n"
        f"  fetch('https://{host}/rum', {{ method: 'POST', keepalive: true, body: JSON.stringify(perf) }});\n}});"
    )


def newsletter(rng: random.Random) -> str:
    return (
        "document.querySelectorAll('form.newsletter').forEach(function (f) {\n"
        "  f.addEventListener('submit', function (e) {\n    e.preventDefault();\n"
        "    var data = new FormData(f);\n"
        f"    fetch(f.action || {_q(rng, '/newsletter/subscribe')}, {{ method: 'POST', body: data }})\n"
        "      .then(function () { f.reset(); f.querySelector('.msg').textContent = 'Thanks!'; });\n  });\n});"
    )


def cookie_consent(rng: random.Random) -> str:
    return (
        "function setCookie(name, value, days) {\n  var d = new Date(); d.setTime(d.getTime() + days * 864e5);\n"
        "  document.cookie = name + '=' + encodeURIComponent(value) + '; expires=' + d.toUTCString() + '; path=/';\n}\n"
        "function getCookie(name) {\n  var m = document.cookie.match(new RegExp('(^| )' + name + '=([^;]+)'));\n"
        "  return m ? decodeURIComponent(m[2]) : null;\n}\n"
        "if (!getCookie('consent')) {\n  var bar = document.createElement('div');\n  bar.className = 'cookie-bar';\n"
        "  bar.innerHTML = 'We use cookies. <button id=\"ok\">OK</button>';\n  document.body.appendChild(bar);\n"
        f"  document.getElementById('ok').onclick = function () {{ setCookie('consent', '1', {rng.choice([30, 180, 365])}); bar.remove(); }};\n}}"
    )


def generate(rng: random.Random) -> str:
    """One generated benign snippet."""
    makers = [
        card_formatter,
        checkout_submit,
        tokenize_with_sdk,
        analytics,
        newsletter,
        cookie_consent,
        data_module,
        data_module,
    ]
    return rng.choice(makers)(rng)


CDN_SCRIPTS = [
    "https://code.jquery.com/jquery-3.7.1.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/js/bootstrap.bundle.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/lodash.js/4.17.21/lodash.min.js",
    "https://www.googletagmanager.com/gtag/js?id=G-XXXX",
    "https://js.stripe.com/v3/",
    "https://unpkg.com/react@18/umd/react.production.min.js",
    "/static/js/app.js",
    "js/main.js",
    "/media/js/checkout.js",
]


def html_page(rng: random.Random, scripts: list[str]) -> str:
    """An HTML page embedding ``scripts`` inline, with a few external script tags."""
    ext = "".join(
        f'<script src="{u}"></script>\n' for u in rng.sample(CDN_SCRIPTS, rng.randint(0, 3))
    )
    types = ["", ' type="text/javascript"']
    inline = "".join(f"<script{rng.choice(types)}>\n{s}\n</script>\n" for s in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{rng.choice(['Shop', 'Checkout', 'Home', 'Blog', 'Account'])}</title>\n{ext}</head>\n<body>\n"
        '<div id="app"><form id="checkout-form"><input name="email"><button type="submit">Go</button></form></div>\n'
        f"{inline}</body>\n</html>\n"
    )


def _rand_b64(rng: random.Random, n: int) -> str:
    import base64

    return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(n))).decode()


def data_module(rng: random.Random) -> str:
    """Data-heavy library files: icon maps, embedded images/fonts/wasm, lookup tables.

    Benign bundles are full of encoded blobs (base64 images and WebAssembly, hex
    tables, precomputed numbers); without these the model would take any blob for an
    obfuscated payload.
    """
    kind = rng.randint(0, 6)
    if kind == 0:
        names = [
            "arrow-left",
            "arrow-right",
            "close",
            "menu",
            "search",
            "user",
            "cart",
            "heart",
            "star",
            "home",
            "settings",
            "bell",
            "mail",
            "lock",
            "unlock",
            "edit",
            "trash",
        ]
        entries = ",\n".join(
            f'  \'{n}-{k}\': \'<svg width="24" height="24" viewBox="0 0 24 24"><path d="M'
            + " ".join(
                f"{rng.uniform(0, 24):.2f} {rng.uniform(0, 24):.2f}"
                for _ in range(rng.randint(6, 30))
            )
            + 'Z" fill-rule="evenodd"/></svg>\''
            for k in range(rng.randint(5, 40))
            for n in [rng.choice(names)]
        )
        return f"tinymce.IconManager.add('default', {{\n  icons: {{\n{entries}\n  }}\n}});"
    if kind == 1:
        mime = rng.choice(
            ["image/png", "image/gif", "font/woff2", "image/jpeg", "application/wasm"]
        )
        blob = _rand_b64(rng, rng.randint(200, 6000))
        return (
            f"var DATA = 'data:{mime};base64,{blob}';\n"
            "export function load() {\n  var img = new Image();\n  img.src = DATA;\n  return img;\n}"
        )
    if kind == 2:
        blob = _rand_b64(rng, rng.randint(1000, 20000))
        return (
            f"var wasmB64 = '{blob}';\n"
            "function decode(b64) { var s = atob(b64), out = new Uint8Array(s.length);"
            " for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i); return out; }\n"
            "export async function init() {\n  const { instance } = await WebAssembly.instantiate(decode(wasmB64), {});\n"
            "  return instance.exports;\n}"
        )
    if kind == 3:
        rows = ",\n".join(
            "    ['" + "', '".join(f"{rng.getrandbits(256):064x}" for _ in range(2)) + "']"
            for _ in range(rng.randint(10, 120))
        )
        return f"module.exports = {{\n  doubles: {{\n    step: 4,\n    points: [\n{rows}\n    ]\n  }}\n}};"
    if kind == 4:
        nums = ",".join(str(rng.randint(0, 255)) for _ in range(rng.randint(200, 4000)))
        return f"export const TABLE = new Uint8Array([{nums}]);\nexport const SIZE = TABLE.length;"
    if kind == 5:
        words = [
            "Save",
            "Cancel",
            "Delete",
            "Are you sure?",
            "Loading…",
            "Card number",
            "Expiry date",
            "Security code",
            "Pay now",
            "Billing address",
            "Checkout",
            "Order total",
            "Email",
        ]
        langs = rng.sample(["de", "fr", "es", "it", "nl", "pt", "ja", "zh", "ru", "pl", "sv"], 3)
        body = ",\n".join(
            f"  {lang}: {{ " + ", ".join(f"'{w}': '{w[::-1]}'" for w in rng.sample(words, 8)) + " }"
            for lang in langs
        )
        return f"export default {{\n{body}\n}};"
    chars = "".join(chr(rng.randint(0x1F300, 0x1F64F)) for _ in range(rng.randint(50, 400)))
    return f"var EMOJI = '{chars}';\nexport function list() {{ return Array.from(EMOJI); }}"
