"""clean_real_queries.jsonl: 400 hand-written benign requests modelled on real traffic.

Every query, filter, token layout and body below was written by hand for this
evaluation set. Identifiers such as session ids are random; the content is not.
Run: ``.venv/bin/python benchmarks/handmade/build_clean_real.py``.
"""

from __future__ import annotations

import base64
import json

from _common import Builder, write_set

b = Builder(seed=20240501, label="clean")
R = b.req
G = b.g


def jwt(payload: dict[str, object], alg: str = "RS256") -> str:
    def enc(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

    return enc({"alg": alg, "typ": "JWT", "kid": G.hexs(8)}) + "." + enc(payload) + "." + G.b64(256 if alg == "RS256" else 32, urlsafe=True)


# ------------------------------------------------------------------------------------
# Web search engines: natural language, operators, non-English scripts
# ------------------------------------------------------------------------------------
GOOGLE = "www.google.com"
for q, extra in [
    ("what's the difference between affect and effect", "sourceid=chrome¦ie=UTF-8"),
    ("how to fix \"permission denied (publickey)\" github", "client=firefox-b-d"),
    ("site:stackoverflow.com pandas merge on multiple columns", "sca_esv=5b3a1c9e¦source=hp"),
    ("\"the quick brown fox\" origin", "sourceid=chrome¦ie=UTF-8"),
    ("best hiking boots -amazon -walmart", "client=safari¦rls=en"),
    ("weather tomorrow berlin", "hl=de¦gl=de"),
    ("tom & jerry full episodes", "tbm=vid"),
    ("marks & spencer opening times sunday", "sourceid=chrome¦ie=UTF-8"),
    ("AT&T customer service number", "client=ms-android-samsung-ss"),
    ("how many ounces in a cup", "oq=how+many+ounces¦aqs=chrome.1.69i57j0i512l9"),
    ("is it \"all intents and purposes\" or \"all intensive purposes\"", "sourceid=chrome¦ie=UTF-8"),
    ("c++ vs rust performance 2024", "sourceid=chrome¦ie=UTF-8"),
    ("recette crêpes sans lait", "hl=fr"),
    ("как приготовить борщ", "hl=ru"),
    ("東京 ラーメン おすすめ", "hl=ja"),
    ("北京 天气 明天", "hl=zh-CN"),
    ("서울 맛집 추천", "hl=ko"),
    ("مواعيد صلاة الجمعة في دبي", "hl=ar"),
    ("पुणे में सबसे अच्छा बिरयानी", "hl=hi"),
    ("İstanbul'da görülecek yerler", "hl=tr"),
    ("filetype:pdf annual report 2023 siemens", "sourceid=chrome¦ie=UTF-8"),
    ("intitle:\"index of\" mp3 beatles", "client=firefox-b-e"),
    ("20 usd to eur", "sourceid=chrome¦ie=UTF-8"),
    ("2*3+4", "sourceid=chrome¦ie=UTF-8"),
    ("sqrt(144) + 5^2", "client=safari"),
    ("x<5 and x>2 solve", "sourceid=chrome¦ie=UTF-8"),
    ("how to use select in sql", "sourceid=chrome¦ie=UTF-8"),
    ("python list comprehension with if else", "sourceid=chrome¦ie=UTF-8"),
    ("git reset --hard vs git revert", "client=ubuntu-sn¦channel=fs"),
    ("who's playing at the o2 tonight", "sourceid=chrome-mobile¦ie=UTF-8"),
    ("don't starve together best character", "sourceid=chrome¦ie=UTF-8"),
    ("macy's return policy without receipt", "client=safari¦hl=en-us"),
    ("l'oréal revitalift review", "hl=fr"),
    ("\"new york\" OR \"boston\" marathon 2024 results", "sourceid=chrome¦ie=UTF-8"),
    ("related:nytimes.com", "sourceid=chrome¦ie=UTF-8"),
    ("flights from lhr to jfk 12 may", "sourceid=chrome¦ie=UTF-8"),
]:
    R(GOOGLE, "/search", f"q={q}¦{extra}", jar="google", ref="https://www.google.com/", tag="search")

R(GOOGLE, "/search", "q=pizza near me¦tbm=lcl¦sxsrf=ACQVn0-gwQ3yKxN0HqCWuW8oc3f1ESp7Rw%3A1713873524120".replace("%3A", ":"), jar="google", tag="search")
R(GOOGLE, "/search", "q=eiffel tower¦tbm=isch¦tbs=isz:l,ic:trans¦sa=X¦ved=2ahUKEwjVx9S7m4iFAxW3BdsEHe2wC1EQ0pQJegQIDRAB", jar="google", tag="search")
R(GOOGLE, "/complete/search", "q=how to tie a b¦cp=15¦client=gws-wiz¦xssi=t¦gs_pcrt=undefined¦hl=en¦authuser=0¦psi=k7QnZqDTJcSM9u8P1rOK-A4.1713873043127¦dpr=1", kind="xhr", style="js", jar="google", tag="search")

for host, path, params in [
    ("www.bing.com", "/search", "q=how to make cold brew coffee at home¦form=QBLH¦sp=-1¦lq=0¦pq=how to make cold brew¦sc=10-20¦qs=n¦sk=¦cvid=4A0C6E7D1F2B4B7CA8A1F9E0C3D2B1A0"),
    ("www.bing.com", "/search", "q=\"machine learning\" site:arxiv.org -survey¦FORM=HDRSC1"),
    ("www.bing.com", "/images/search", "q=golden retriever puppy¦qft= filterui:imagesize-large¦form=IRFLTR"),
    ("duckduckgo.com", "/", "q=rust borrow checker explained¦t=h_¦ia=web"),
    ("duckduckgo.com", "/", "q=!w Ada Lovelace¦t=ffab"),
    ("duckduckgo.com", "/", "q=what does it mean when a cat's tail twitches¦t=brave¦ia=web"),
    ("html.duckduckgo.com", "/html/", "q=privacy friendly analytics self hosted"),
    ("yandex.ru", "/search/", "text=купить велосипед в москве недорого¦lr=213¦clid=2270455"),
    ("yandex.com.tr", "/search/", "text=ankara hava durumu 15 günlük¦lr=11508"),
    ("www.baidu.com", "/s", "wd=人工智能 发展 历史¦rsv_spt=1¦ie=utf-8¦tn=baiduhome_pg"),
    ("search.naver.com", "/search.naver", "where=nexearch¦sm=top_hty¦fbm=0¦ie=utf8¦query=부산 여행 코스"),
    ("www.ecosia.org", "/search", "method=index¦q=plant based protein sources"),
    ("search.brave.com", "/search", "q=linux \"no space left on device\" but df shows space¦source=web"),
    ("www.startpage.com", "/sp/search", "query=vpn for travel¦cat=web¦pl=ext-ff¦language=english"),
    ("search.yahoo.co.jp", "/search", "p=新幹線 時刻表 東京 大阪¦fr=top_ga1_sa¦ei=UTF-8"),
]:
    R(host, path, params, jar="cf" if "duck" in host else "ga", tag="search")

# ------------------------------------------------------------------------------------
# Site search: shops, docs, wikis, forums, code hosts
# ------------------------------------------------------------------------------------
for host, path, params, jar in [
    ("en.wikipedia.org", "/w/index.php", "search=Schrödinger's cat¦title=Special:Search¦ns0=1", None),
    ("en.wikipedia.org", "/w/index.php", "search=\"Battle of Hastings\" 1066¦title=Special:Search¦profile=advanced¦fulltext=1¦ns0=1", None),
    ("de.wikipedia.org", "/w/index.php", "search=Straßenbahn Würzburg¦title=Spezial:Suche¦go=Artikel", None),
    ("ja.wikipedia.org", "/w/index.php", "search=富士山 標高¦title=特別:検索", None),
    ("stackoverflow.com", "/search", "q=[python] \"TypeError: 'NoneType' object is not subscriptable\"", "ga"),
    ("stackoverflow.com", "/search", "q=how to select rows where column is null in sql server", "ga"),
    ("stackoverflow.com", "/questions/tagged/javascript", "tab=Newest¦page=3¦pagesize=50", "ga"),
    ("superuser.com", "/search", "q=is:question windows 11 taskbar disappears", "ga"),
    ("github.com", "/search", "q=language:go stars:>1000 http router¦type=repositories", "ga"),
    ("github.com", "/search", "q=repo:torvalds/linux \"spin_lock_irqsave\" path:drivers/net¦type=code", "ga"),
    ("github.com", "/kubernetes/kubernetes/issues", "q=is:issue is:open label:kind/bug sort:updated-desc", "ga"),
    ("github.com", "/pulls", "q=is:open is:pr author:octocat archived:false", "ga"),
    ("gitlab.com", "/search", "search=merge request approval rules¦group_id=9970¦scope=issues", "ga"),
    ("www.reddit.com", "/r/AskHistorians/search/", "q=why didn't the romans use stirrups¦restrict_sr=1¦sort=relevance¦t=all", "ga"),
    ("www.reddit.com", "/search/", "q=best budget mechanical keyboard under $100¦type=link", "ga"),
    ("news.ycombinator.com", "/item", "id=40129742", None),
    ("hn.algolia.com", "/", "dateRange=pastYear¦page=0¦prefix=true¦query=sqlite in production¦sort=byPopularity¦type=story", None),
    ("developer.mozilla.org", "/en-US/search", "q=Array.prototype.flatMap()", "ga"),
    ("docs.python.org", "/3/search.html", "q=asyncio.gather return_exceptions¦check_keywords=yes¦area=default", None),
    ("docs.djangoproject.com", "/en/5.0/search/", "q=select_related vs prefetch_related", "ga"),
    ("www.postgresql.org", "/search/", "u=%2Fdocs%2F16%2F¦q=create index concurrently", "ga"),
    ("learn.microsoft.com", "/en-us/search/", "terms=Get-ChildItem -Recurse -Filter¦category=Documentation", "consent"),
    ("pkg.go.dev", "/search", "q=uuid¦m=package", None),
    ("pypi.org", "/search/", "q=pdf table extraction¦o=-created", None),
    ("www.npmjs.com", "/search", "q=date-fns%20vs%20dayjs".replace("%20", " "), None),
    ("crates.io", "/search", "q=serde json¦sort=downloads", None),
    ("www.imdb.com", "/find/", "q=Ocean's Eleven¦ref_=nv_sr_sm", "ga"),
    ("www.goodreads.com", "/search", "q=Harry Potter and the Philosopher's Stone¦qid=aB3dE5fG7h", "ga"),
    ("www.allrecipes.com", "/search", "q=mac & cheese baked", "consent"),
    ("www.bbc.co.uk", "/search", "q=eurovision 2024 results¦d=NEWS_PS¦seqId=7f0f3a10-9c2e-11ee-9a0f-b3c9c1d2e3f4", "consent"),
    ("www.ikea.com", "/us/en/search/", "q=billy bookcase white 31 1/2x11x79 1/2\"", "consent"),
    ("www.etsy.com", "/search", "q=personalized dog collar leather¦ref=search_bar", "ga"),
    ("www.ebay.com", "/sch/i.html", "_from=R40¦_trksid=p4432023.m570.l1313¦_nkw=nintendo switch oled used¦_sacat=0¦LH_BIN=1¦_udlo=150¦_udhi=280", "ga"),
    ("www.amazon.com", "/s", "k=usb c hub 4k 60hz¦crid=2M4N9ZQ0Y1K8P¦sprefix=usb c hub 4k%2Caps%2C162".replace("%2C", ","), "ga"),
    ("www.amazon.de", "/s", "k=kaffeemühle elektrisch¦__mk_de_DE=ÅMÅŽÕÑ¦ref=nb_sb_noss", "ga"),
    ("www.zalando.de", "/herren/", "q=jeans slim fit 32/34", "consent"),
    ("www.walmart.com", "/search", "q=paper towels bounty¦typeahead=paper tow", "ga"),
    ("www.homedepot.com", "/s/2x4x8%20pressure%20treated".replace("%20", " ").replace(" ", "%20"), "NCNI-5", "ga"),
    ("support.apple.com", "/kb/index", "page=search¦q=iphone won't charge past 80%¦src=support_site.search", "ga"),
    ("help.netflix.com", "/en/search", "q=can't sign in on tv", "ga"),
    ("www.booking.com", "/searchresults.html", "ss=Lisbon¦checkin=2024-06-14¦checkout=2024-06-18¦group_adults=2¦no_rooms=1¦group_children=1¦age=7¦nflt=review_score%3D80%3Bht_id%3D204".replace("%3D", "=").replace("%3B", ";"), "ga"),
]:
    R(host, path, params, jar=jar, tag="site-search")

# ------------------------------------------------------------------------------------
# E-commerce: filters, sorting, cart, variants
# ------------------------------------------------------------------------------------
SHOP = "shop.northwindoutfitters.com"
for path, params, style in [
    ("/collections/jackets", "sort_by=price-ascending¦filter.v.option.size=M¦filter.v.option.color=Navy¦filter.v.price.gte=50¦filter.v.price.lte=200", "form"),
    ("/products/alpine-down-parka", "variant=44012345678901", "form"),
    ("/search", "q=waterproof hiking boots women's¦options[prefix]=last¦type=product", "form"),
    ("/collections/all", "page=4", "form"),
    ("/cart/add.js", "", None),
    ("/products/trail-runner-2.js", "", None),
    ("/collections/sale", "sort_by=best-selling¦filter.p.product_type=T-Shirts¦filter.p.vendor=Patagonia", "form"),
]:
    if path == "/cart/add.js":
        R(SHOP, path, js={"items": [{"id": 44012345678901, "quantity": 1, "properties": {"Engraving": "J.M. & K.L. – 10 yrs"}}]}, jar="shopify", ref=f"https://{SHOP}/products/alpine-down-parka", tag="shop")
    else:
        R(SHOP, path, params, style=style, kind="xhr" if path.endswith(".js") else None, jar="shopify", ref=True, tag="shop")

for host, path, params in [
    ("www.example-store.com", "/catalog/shoes", "price[min]=40¦price[max]=120¦size[]=42¦size[]=43¦brand=nike,adidas¦sort=price_desc"),
    ("www.example-store.com", "/catalog/shirts", "color=red,blue¦fit=regular¦sleeve=long¦page=2¦per_page=48"),
    ("www.bestgadgets.co.uk", "/laptops", "ram=16GB¦screen=13.3\"-14\"¦cpu=Intel Core i7¦sort=rating¦in_stock=1"),
    ("www.bestgadgets.co.uk", "/compare", "ids=1043,1188,1201"),
    ("www.fnac.com", "/SearchResult/ResultList.aspx", "Search=le petit prince édition collector¦sft=1¦sa=0"),
    ("www.mercadolibre.com.ar", "/celulares-telefonos/celulares-smartphones/samsung/_PriceRange_100000-300000_NoIndex_True", "sb=category"),
    ("www.asos.com", "/women/dresses/cat/", "cid=8799¦currentpricerange=5-475¦refine=attribute_1047:8416,8419|size_1545:3,4|brand:12136"),
    ("www.wayfair.com", "/furniture/sb0/sofas-c413892.html", "redir=sofa¦rtype=9¦itemsperpage=48¦sortby=3¦attributes=68425~81345"),
    ("www.sephora.com", "/search", "keyword=vitamin c serum¦ref=filters[Brand]=The Ordinary,filters[Price]=$0-$25"),
    ("www.uniqlo.com", "/us/en/search", "q=airism crew neck¦path=,,,¦sort=1¦colorCodes=COL09,COL69"),
    ("www.bhphotovideo.com", "/c/buy/mirrorless-cameras/ci/16158", "filters=fct_brand_name:sony|fct_sensor-format_3253:full-frame¦sort=PRICE_LOW_TO_HIGH"),
    ("www.newegg.com", "/p/pl", "N=100007709%20601394305%208000".replace("%20", " ") + "¦Order=1¦PageSize=60"),
    ("www.target.com", "/s", "searchTerm=kids' rain boots¦tref=typeahead%7Cterm%7Ckids%27+rain+boots%7C%7C%7Chistory".replace("%7C", "|").replace("%27", "'").replace("+", " ")),
    ("www.rei.com", "/c/tents", "r=c%3Btents%3Bbrand%3AMSR%7CBig+Agnes%3Bcapacity%3A2-person".replace("%3B", ";").replace("%3A", ":").replace("%7C", "|").replace("+", " ")),
    ("www.costco.com", "/CatalogSearch", "dept=All¦keyword=kirkland olive oil 2 pack"),
    ("www.lego.com", "/en-us/search", "q=millennium falcon 75192¦sort=rating"),
    ("www.zara.com", "/es/es/search", "searchTerm=vestido lino¦section=WOMAN"),
    ("www.alibaba.com", "/trade/search", "SearchText=stainless steel water bottle 500ml custom logo¦indexArea=product_en¦tab=all"),
    ("www.otto.de", "/suche/waschmaschine 8kg a+++/", "sortiertnach=preis-aufsteigend"),
]:
    R(host, path, params, jar="consent" if host.endswith(".de") or host.endswith(".uk") else "ga", ref=True, tag="shop")

for host, path, params in [
    ("api.example-store.com", "/v2/products", "category_id=17¦filter[status]=active¦filter[price][gte]=10¦filter[price][lte]=99.99¦include=variants,images¦fields[products]=id,name,price¦page[number]=2¦page[size]=25"),
    ("api.example-store.com", "/v2/cart/8d6f3a0e-2c4b-4e7f-9a1b-0c5d7e9f1a2b", "include=line_items.product"),
    ("api.example-store.com", "/v2/orders", "customer_id=55812¦created_at[gte]=2024-01-01T00:00:00Z¦sort=-created_at¦limit=20"),
    ("api.example-store.com", "/v2/shipping/rates", "postcode=SW1A 1AA¦country=GB¦weight_kg=2.4"),
    ("checkout.northwindoutfitters.com", "/api/checkouts/7c1e02b9f1e84cce/shipping_rates.json", ""),
    ("www.bestgadgets.co.uk", "/api/stock", "sku=LP-X1C-G11-16-512¦store=MAN01,LDN03,BHM02"),
    ("www.bestgadgets.co.uk", "/api/reviews", "product=1043¦sort=helpful¦rating=4,5¦with_photos=true"),
]:
    R(host, path, params, prof=G.pick(["chrome_win", "safari_ios", "okhttp", "ios_app", "firefox_win"]), kind="xhr", style="raw", jar="jwt", tag="shop-api")

# ------------------------------------------------------------------------------------
# News / CMS / WordPress / blogs
# ------------------------------------------------------------------------------------
for host, path, params, jar in [
    ("blog.greenleafcafe.com", "/", "p=1234¦preview=true¦_thumbnail_id=1290", "wp"),
    ("blog.greenleafcafe.com", "/", "s=gluten free muffins", None),
    ("blog.greenleafcafe.com", "/wp-admin/post.php", "post=1234¦action=edit¦classic-editor", "wp"),
    ("blog.greenleafcafe.com", "/wp-admin/edit.php", "post_type=page¦orderby=title¦order=asc¦paged=2", "wp"),
    ("blog.greenleafcafe.com", "/wp-json/wp/v2/posts", "per_page=10¦_embed=1¦categories=12,15¦orderby=date", None),
    ("blog.greenleafcafe.com", "/wp-admin/admin-ajax.php", "action=heartbeat_tick¦_nonce=3f9a1b2c4d", "wp"),
    ("blog.greenleafcafe.com", "/2024/03/17/spring-menu/", ["replytocom=882", "respond"][0], None),
    ("www.theguardian.com", "/world/2024/apr/22/live-updates", "filterKeyEvents=false¦page=with:block-6626b2d78f08d9e1c0a4b1f3", "consent"),
    ("www.nytimes.com", "/2024/04/21/technology/ai-chips.html", "unlocked_article_code=1.mU0.aBcD.x9Yz3qWerTy¦smid=url-share", "consent"),
    ("www.nytimes.com", "/search", "dropmab=false¦endDate=2024-04-23¦query=supreme court ruling¦sort=best¦startDate=2024-04-01¦types=article", "consent"),
    ("edition.cnn.com", "/2024/04/23/politics/election-polls/index.html", "iid=cnn_buildContentRecirc_end_recirc", "consent"),
    ("www.spiegel.de", "/wissenschaft/", "sara_ref=re-so-app-sh", "consent"),
    ("www.lemonde.fr", "/international/article/2024/04/22/guerre-en-ukraine_6229123_3210.html", "lmd_medium=al¦lmd_campaign=envoye-par-appli¦lmd_creation=ios¦lmd_source=default", "consent"),
    ("medium.com", "/@jane.doe/why-i-stopped-using-orms-3f8a9c1d2e4b", "source=user_profile---------2----------------------------", None),
    ("dev.to", "/search", "q=docker compose healthcheck¦filters=class_name:Article", None),
    ("example-news.com", "/index.php", "option=com_content¦view=article¦id=482:city-council-approves-budget¦catid=8¦Itemid=101", "php"),
    ("forum.example-news.com", "/viewtopic.php", "f=12¦t=98231¦start=45¦sid=6b2a9f1e0c3d4e5f6a7b8c9d0e1f2a3b", "php"),
    ("forum.example-news.com", "/search.php", "keywords=\"timing belt\" +honda -civic¦terms=all¦sf=all¦sr=posts", "php"),
    ("community.spotify.com", "/t5/forums/searchpage/tab/message", "advanced=false¦allow_punctuation=false¦q=playlist won't sync offline", None),
    ("www.drupal-site.org", "/node/77", "destination=/admin/content%3Fstatus%3D1".replace("%3F", "?").replace("%3D", "="), "php"),
    ("www.drupal-site.org", "/admin/content", "title=annual report¦type=article¦status=1¦langcode=All¦order=changed¦sort=desc", "php"),
    ("www.ghost-blog.io", "/ghost/api/admin/posts/", "formats=mobiledoc,lexical¦limit=20¦order=updated_at desc¦filter=status:draft+author:jamie", None),
    ("news.example-local.com", "/amp/story/2024/04/22/bridge-closure", "amp_js_v=0.1¦usqp=mq331AQGsAEggAID", None),
]:
    R(host, path, params, jar=jar, ref=True if jar else G.pick(["https://www.google.com/", "https://news.google.com/", "https://t.co/Ab3xYz9Kq1", None]), tag="cms")

# ------------------------------------------------------------------------------------
# Analytics, ads, tracking, campaign landing pages
# ------------------------------------------------------------------------------------
for host, path, params, ref in [
    ("www.northwindoutfitters.com", "/", "utm_source=google¦utm_medium=cpc¦utm_campaign=spring_sale_2024¦utm_term=rain jacket¦utm_content=ad_variant_b¦gclid=Cj0KCQjwlN6wBhCcARIsAKZvD5gIo1wXy7mK3hM0uPZcWq2Kx8a4Tn9dBzRfV2lF3eYhLk7Hs1uQpWaAq9eEALw_wcB", "https://www.google.com/"),
    ("www.northwindoutfitters.com", "/products/alpine-down-parka", "fbclid=IwAR2x9_UkQ3mVvZt0pJcY8LhR5sN1aW7oE4bG6dF2iK0nM3qT9uX5yZ1cV8", "https://l.facebook.com/"),
    ("www.greenleafcafe.com", "/menu", "utm_source=instagram¦utm_medium=social¦utm_campaign=bio_link¦igshid=MzRlODBiNWFlZA==", "https://l.instagram.com/"),
    ("www.example-saas.io", "/pricing", "ref=producthunt¦utm_source=producthunt¦utm_medium=launch", "https://www.producthunt.com/"),
    ("www.example-saas.io", "/signup", "plan=team¦billing=annual¦coupon=LAUNCH20¦_gl=1*1xk2b7n*_ga*MTIzNDU2Nzg5MC4xNzEzODcwMDAw*_ga_ABC123XYZ9*MTcxMzg3MDAwMC4xLjEuMTcxMzg3MDEyMy4wLjAuMA..", "https://www.example-saas.io/pricing"),
    ("www.example-saas.io", "/blog/kubernetes-cost-optimization", "utm_source=newsletter¦utm_medium=email¦utm_campaign=2024-04-digest¦mc_cid=8a2f9e1c3b¦mc_eid=4d7e0b6a92", None),
    ("www.bestgadgets.co.uk", "/deals", "msclkid=b7c1e8a2f3d94e0a8c6b5d4e3f2a1b0c¦utm_source=bing¦utm_medium=cpc", "https://www.bing.com/"),
    ("www.bestgadgets.co.uk", "/p/1188", "gad_source=1¦gclid=EAIaIQobChMI8vKp3c2ohQMVQ5BoCR3fQw0PEAQYASABEgLZyfD_BwE", "https://www.google.co.uk/"),
    ("www.travelnest.com", "/hotels/lisbon", "ttclid=E.C.P.CrcBHcH3k8aY2cP9mQ1xZ0VwLr7T4nJ6oK2bF5dS8gU0iE3yR1tA9vW6qX4zN7mB2cD5eG8h¦utm_source=tiktok", "https://www.tiktok.com/"),
    ("www.travelnest.com", "/deals/summer", "twclid=2-5x8k1q9z3m7n0b4v6c2x8z1¦utm_source=twitter¦utm_campaign=summer24", "https://t.co/"),
    ("www.readerdigest-example.com", "/article/42", "ref=hn", "https://news.ycombinator.com/"),
    ("www.readerdigest-example.com", "/article/43", "ref=reddit&sh=2a1b3c4d".replace("&", "¦"), "https://www.reddit.com/"),
    ("apps.apple.com", "/us/app/northwind-shop/id1488234567", "pt=118234567¦ct=website_footer¦mt=8", None),
    ("play.google.com", "/store/apps/details", "id=com.northwind.shop¦hl=en_US¦referrer=utm_source%3Dwebsite%26utm_medium%3Dbanner".replace("%3D", "=").replace("%26", "&"), None),
]:
    R(host, path, params, jar="ga", ref=ref, tag="campaign")

for host, path, params, prof in [
    ("www.google-analytics.com", "/g/collect", "v=2¦tid=G-8ZQ4KX2M1P¦gtm=45je44h0v9172341105za200¦_p=1713873600123¦gcd=13l3l3l3l1¦npa=0¦dma=0¦cid=1234567890.1713870000¦ul=en-us¦sr=1920x1080¦uaa=x86¦uab=64¦uafvl=Chromium;124.0.6367.61|Google Chrome;124.0.6367.61|Not-A.Brand;99.0.0.0¦uamb=0¦uam=¦uap=Windows¦uapv=15.0.0¦uaw=0¦are=1¦pae=1¦_s=2¦sid=1713870000¦sct=3¦seg=1¦dl=https://www.northwindoutfitters.com/products/alpine-down-parka?variant=44012345678901¦dr=https://www.google.com/¦dt=Alpine Down Parka – Northwind Outfitters¦en=view_item¦_ee=1¦pr1=idALP-PARKA-M~nmAlpine Down Parka~pr249.00~caJackets~qt1¦tfd=1834", "chrome_win"),
    ("www.google-analytics.com", "/collect", "v=1¦_v=j101¦a=1187265938¦t=pageview¦_s=1¦dl=https://blog.greenleafcafe.com/2024/03/17/spring-menu/¦ul=en-gb¦de=UTF-8¦dt=Our spring menu is here! | Greenleaf Café¦sd=24-bit¦sr=390x844¦vp=390x664¦je=0¦_u=IEBAAEABAAAAACAAI~¦jid=¦gjid=¦cid=1187265938.1713870000¦tid=UA-12345678-1¦_gid=1922334455.1713870000¦z=1755667788", "safari_ios"),
    ("stats.g.doubleclick.net", "/g/collect", "v=2¦tid=G-8ZQ4KX2M1P¦cid=1234567890.1713870000¦gtm=45je44h0v9172341105za200¦aip=1¦dma=0¦gcd=13l3l3l3l1¦npa=0", "chrome_win"),
    ("www.facebook.com", "/tr/", "id=1029384756473829¦ev=PageView¦dl=https://www.northwindoutfitters.com/¦rl=https://www.google.com/¦if=false¦ts=1713873600456¦sw=1920¦sh=1080¦v=2.9.153¦r=stable¦ec=0¦o=4126¦fbp=fb.1.1713870000123.987654321¦it=1713873600001¦coo=false¦rqm=GET", "chrome_win"),
    ("bat.bing.com", "/action/0", "ti=187012345¦tm=gtm002¦Ver=2¦mid=3f2a7c1e-9b8d-4e6f-a5c4-b3d2e1f0a9b8¦sid=1a2b3c4d¦vid=9f8e7d6c¦vids=1¦msclkid=N¦pi=918639831¦lg=en-US¦sw=1536¦sh=864¦sc=24¦tl=Laptops | Best Gadgets¦p=https://www.bestgadgets.co.uk/laptops¦r=¦lt=412¦evt=pageLoad¦sv=1¦rn=482915", "edge_win"),
    ("px.ads.linkedin.com", "/collect/", "pid=4829103¦fmt=gif¦time=1713873600789¦url=https://www.example-saas.io/demo/thank-you", "chrome_mac"),
    ("analytics.tiktok.com", "/i18n/pixel/events.js", "sdkid=C9ABCDE123FGH456IJK7¦lib=ttq", "safari_ios"),
    ("plausible.io", "/js/script.js", "", "firefox_linux"),
    ("cdn.segment.com", "/analytics.js/v1/Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe/analytics.min.js", "", "chrome_linux"),
    ("api.mixpanel.com", "/track/", "ip=1¦_=1713873600999¦ver=2.47.0", "chrome_win"),
    ("www.googletagmanager.com", "/gtag/js", "id=G-8ZQ4KX2M1P¦l=dataLayer¦cx=c", "samsung"),
    ("static.hotjar.com", "/c/hotjar-3456789.js", "sv=6", "firefox_win"),
]:
    R(host, path, params, prof=prof, kind="img" if "collect" in path or path.startswith("/tr") or "action" in path else "beacon", style="js", jar=None, ref="https://www.northwindoutfitters.com/", tag="analytics")

# ------------------------------------------------------------------------------------
# OAuth 2 / OpenID Connect / SAML / SSO
# ------------------------------------------------------------------------------------
for host, path, params in [
    ("accounts.google.com", "/o/oauth2/v2/auth", "client_id=418723651230-8k2b3m4n5o6p7q8r9s0t1u2v3w4x5y6z.apps.googleusercontent.com¦redirect_uri=https://app.example-saas.io/auth/google/callback¦response_type=code¦scope=openid email profile¦state=eyJyZXR1cm5UbyI6Ii9kYXNoYm9hcmQifQ¦access_type=offline¦prompt=consent¦include_granted_scopes=true"),
    ("login.microsoftonline.com", "/common/oauth2/v2.0/authorize", "client_id=3f4e5d6c-7b8a-4c9d-8e0f-1a2b3c4d5e6f¦response_type=code id_token¦redirect_uri=https://portal.contoso-example.com/signin-oidc¦response_mode=form_post¦scope=openid profile offline_access https://graph.microsoft.com/User.Read¦state=OpenIdConnect.AuthenticationProperties=Xy7_kQ2mN9vB4cL1¦nonce=638494703215467890.ZGE4MmY3¦x-client-SKU=ID_NET472¦x-client-ver=6.35.0.0"),
    ("github.com", "/login/oauth/authorize", "client_id=Iv1.8a61f9b3a7aba766¦redirect_uri=https://ci.example-saas.io/oauth/github/callback¦scope=repo read:org user:email¦state=4f8a1c2e9b7d6053¦allow_signup=false"),
    ("www.facebook.com", "/v19.0/dialog/oauth", "client_id=1029384756473829¦redirect_uri=https://www.travelnest.com/auth/facebook/callback¦state={\"st\":\"k29dj3\",\"ds\":\"2024\"}¦scope=email,public_profile¦response_type=code"),
    ("appleid.apple.com", "/auth/authorize", "client_id=com.northwind.shop.web¦redirect_uri=https://www.northwindoutfitters.com/account/apple/callback¦response_type=code id_token¦scope=name email¦response_mode=form_post¦state=a7b3c9d1e5¦nonce=Zm9vYmFyYmF6"),
    ("auth.example-saas.io", "/realms/acme/protocol/openid-connect/auth", "client_id=web-console¦redirect_uri=https://console.example-saas.io/*¦state=b2f1c9e8-3d4a-4b5c-9e6f-7a8b9c0d1e2f¦response_mode=fragment¦response_type=code¦scope=openid¦nonce=e1d2c3b4-a596-4788-9a0b-1c2d3e4f5a6b¦code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM¦code_challenge_method=S256"),
    ("app.example-saas.io", "/auth/google/callback", "state=eyJyZXR1cm5UbyI6Ii9kYXNoYm9hcmQifQ¦code=4/0AeaYSHBx9_qL2mK8nP3rS5tU7vW1xY3zA5bC7dE9fG1hI3jK5lM7nO9pQ1rS3tU5vW¦scope=email profile openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile¦authuser=0¦prompt=consent"),
    ("ci.example-saas.io", "/oauth/github/callback", "code=7a3f9c1e2b8d4f6a0c5e¦state=4f8a1c2e9b7d6053"),
    ("accounts.spotify.com", "/authorize", "response_type=code¦client_id=5fe01282e44241328a84e7c5cc169165¦scope=user-read-private user-read-email playlist-modify-public¦redirect_uri=http://localhost:8888/callback¦state=Q8n2LxV4pR7sT1wY¦show_dialog=true"),
    ("login.example-bank.com", "/idp/SSO.saml2", "SAMLRequest=fZJNT8MwDIbvSPyHKvc2TdeNLWonTZrQJpiYNp4YE4t1pDZzaJ3/e53c2NgQUhT/8dv/axqGb2mIAl5TVhu0JNcgdXnEgFsL9rqCcwIAAAD//wMAUEsHCA==¦RelayState=https://intranet.example-bank.com/hr/payslips¦SigAlg=http://www.w3.org/2001/04/xmldsig-more#rsa-sha256¦Signature=Qm9ndXNTaWduYXR1cmVGb3JFdmFsT25seQ=="),
    ("www.example-saas.io", "/login", "returnUrl=/account/orders?id=5&tab=shipped"),
    ("www.example-saas.io", "/login", "next=/dashboard/projects/42/settings#billing"),
    ("shop.northwindoutfitters.com", "/account/login", "checkout_url=/checkouts/cn/Z2NwLWV1cm9wZS13ZXN0MTowMUhWNjM3MkFRN0s¦return_to=https://shop.northwindoutfitters.com/account"),
    ("id.atlassian.com", "/login", "continue=https://acme.atlassian.net/wiki/spaces/ENG/pages/123456789/Runbook¦application=confluence"),
    ("sso.example-university.edu", "/cas/login", "service=https://lms.example-university.edu/login/index.php?authCAS=CAS&lang=en"),
    ("oauth.vk.com", "/authorize", "client_id=51822345¦display=page¦redirect_uri=https://www.example-saas.io/auth/vk¦scope=email¦response_type=code¦v=5.199"),
    ("app.example-saas.io", "/.well-known/openid-configuration", ""),
    ("auth.example-saas.io", "/realms/acme/protocol/openid-connect/logout", "post_logout_redirect_uri=https://console.example-saas.io/¦id_token_hint=" + jwt({"iss": "https://auth.example-saas.io/realms/acme", "aud": "web-console", "sub": "f3b2c1d0", "exp": 1713877200})),
]:
    R(host, path, params, jar=G.pick(["ga", "consent", None]), ref=G.pick([None, "https://app.example-saas.io/login", "https://www.travelnest.com/signin"]), tag="oauth")

R("oauth2.googleapis.com", "/token", prof="python", form="grant_type=authorization_code¦code=4/0AeaYSHBx9_qL2mK8nP3rS5tU7vW1xY3zA5bC7dE9fG1hI¦client_id=418723651230-8k2b3m4n5o6p7q8r9s0t1u2v3w4x5y6z.apps.googleusercontent.com¦client_secret=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¦redirect_uri=https://app.example-saas.io/auth/google/callback", jar=None, tag="oauth")
R("auth.example-saas.io", "/realms/acme/protocol/openid-connect/token", prof="axios", form="grant_type=refresh_token¦client_id=web-console¦refresh_token=" + jwt({"typ": "Refresh", "sid": "9a8b7c6d", "exp": 1716465600}, alg="HS256"), jar=None, tag="oauth")
R("portal.contoso-example.com", "/signin-oidc", prof="edge_win", form=[("code", "0.AXkA" + G.b64(120, urlsafe=True)), ("id_token", jwt({"aud": "3f4e5d6c", "iss": "https://login.microsoftonline.com/72f988bf/v2.0", "name": "Müller, Jürgen", "preferred_username": "j.mueller@contoso-example.com"})), ("state", "OpenIdConnect.AuthenticationProperties=Xy7_kQ2mN9vB4cL1"), ("session_state", G.uuid())], ref="https://login.microsoftonline.com/", jar="aspnet", tag="oauth")

# ------------------------------------------------------------------------------------
# REST / GraphQL / JSON-in-params APIs
# ------------------------------------------------------------------------------------
for host, path, params, prof, style in [
    ("api.github.com", "/repos/psf/requests/issues", "state=open¦labels=bug,help wanted¦per_page=100¦page=2", "python", "raw"),
    ("api.github.com", "/search/code", "q=addClass in:file language:js repo:jquery/jquery", "curl", "raw"),
    ("api.github.com", "/graphql", "", "node", "raw"),
    ("graph.facebook.com", "/v19.0/me", "fields=id,name,email,picture.width(200).height(200)¦access_token=EAAB" + G.alnum(150), "okhttp", "raw"),
    ("graph.microsoft.com", "/v1.0/me/messages", "$select=subject,from,receivedDateTime¦$top=25¦$orderby=receivedDateTime desc¦$filter=isRead eq false and importance eq 'high'", "dotnet", "raw"),
    ("graph.microsoft.com", "/v1.0/users", "$filter=startswith(displayName,'O''Neil')¦$count=true¦$select=id,displayName,mail", "dotnet", "raw"),
    ("services.odata.org", "/V4/Northwind/Northwind.svc/Orders", "$filter=ShipCountry eq 'France' and Freight gt 50¦$expand=Order_Details($select=ProductID,Quantity)¦$orderby=OrderDate desc¦$top=10", "postman", "raw"),
    ("api.example-saas.io", "/graphql", "query={user(id:1){name,email,projects(first:5){edges{node{id title}}}}}", "chrome_mac", "js"),
    ("api.example-saas.io", "/graphql", "query=query GetOrder($id: ID!) { order(id: $id) { id status total { amount currency } } }¦variables={\"id\":\"gid://shop/Order/5512\"}¦operationName=GetOrder", "chrome_win", "js"),
    ("api.example-saas.io", "/v1/projects", "fields=id,name,owner.email¦filter[status]=active¦filter[tags]=prod,eu-west¦sort=-updated_at¦page[size]=50", "axios", "raw"),
    ("api.example-saas.io", "/v1/metrics", "metric=cpu.utilization¦from=2024-04-22T00:00:00Z¦to=2024-04-23T00:00:00Z¦step=5m¦agg=avg,p95¦group_by=host", "go", "raw"),
    ("api.example-saas.io", "/v1/search", "filter={\"and\":[{\"field\":\"status\",\"op\":\"eq\",\"value\":\"open\"},{\"field\":\"priority\",\"op\":\"gte\",\"value\":2}]}¦limit=20", "chrome_linux", "js"),
    ("api.example-saas.io", "/v1/logs", "query=service:checkout AND level:error AND NOT path:/health¦since=15m¦limit=500", "httpx", "raw"),
    ("api.example-saas.io", "/v1/users/me", "expand[]=organization¦expand[]=roles", "okhttp", "raw"),
    ("api.stripe.com", "/v1/charges", "limit=3¦created[gte]=1711929600¦expand[]=data.customer", "curl", "raw"),
    ("api.stripe.com", "/v1/customers/search", "query=email:'jane.o\\'connor@example.com' AND metadata['tier']:'gold'", "python", "raw"),
    ("api.twitter.com", "/2/tweets/search/recent", "query=(#rustlang OR #golang) -is:retweet lang:en¦tweet.fields=created_at,public_metrics¦max_results=50", "python", "raw"),
    ("www.googleapis.com", "/youtube/v3/search", "part=snippet¦q=lofi hip hop radio¦type=video¦maxResults=25¦key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "okhttp", "raw"),
    ("www.googleapis.com", "/drive/v3/files", "q=mimeType='application/vnd.google-apps.folder' and trashed=false and 'root' in parents¦fields=files(id,name),nextPageToken¦pageSize=100", "python", "raw"),
    ("sheets.googleapis.com", "/v4/spreadsheets/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/values/Class Data!A2:E", "majorDimension=ROWS¦valueRenderOption=FORMATTED_VALUE", "python", "raw"),
    ("api.openweathermap.org", "/data/2.5/weather", "q=São Paulo,BR¦units=metric¦lang=pt_br¦appid=b1b15e88fa797225412429c1c50c122a1", "okhttp", "raw"),
    ("api.example-saas.io", "/v1/export", "format=csv¦columns=date,amount,description¦delimiter=;¦tz=Europe/Berlin", "chrome_win", "js"),
    ("api.example-saas.io", "/v1/items", "ids[]=17¦ids[]=23¦ids[]=42¦include_deleted=false", "ios_app", "raw"),
    ("api.example-saas.io", "/v1/notifications", "since_id=98765432101234¦unread=true", "android_app", "raw"),
    ("registry.npmjs.org", "/-/v1/search", "text=keywords:react-component boost-exact:false¦size=20¦from=0¦quality=0.65¦popularity=0.98¦maintenance=0.5", "node", "raw"),
    ("hub.docker.com", "/v2/repositories/library/postgres/tags/", "page_size=25¦page=1¦ordering=last_updated¦name=16-alpine", "curl", "raw"),
    ("api.example-saas.io", "/v1/tickets", "q=status:open assignee:me priority:>=2 created:2024-04-01..2024-04-30¦sort=created¦order=desc", "chrome_mac", "js"),
    ("api.example-saas.io", "/v1/rates", "base=EUR¦symbols=USD,GBP,JPY,CHF¦date=2024-04-22", "java", "raw"),
    ("elastic.internal.example.com", "/logs-2024.04.23/_search", "q=response:>=500 AND request:\"/api/checkout\"¦size=50¦sort=@timestamp:desc", "curl", "raw"),
    ("prometheus.internal.example.com", "/api/v1/query_range", "query=sum(rate(http_requests_total{job=\"api\",status=~\"5..\"}[5m])) by (instance)¦start=1713830400¦end=1713873600¦step=60", "go", "raw"),
    ("grafana.internal.example.com", "/d/xYz12AbC/service-overview", "orgId=1¦var-env=prod¦var-service=checkout¦from=now-6h¦to=now¦refresh=30s", "firefox_linux", "form"),
    ("kibana.internal.example.com", "/app/discover", "_g=(filters:!(),refreshInterval:(pause:!t,value:0),time:(from:now-24h,to:now))¦_a=(columns:!(message,host.name),query:(language:kuery,query:'http.response.status_code >= 500'))", "chrome_linux", "raw"),
    ("jenkins.internal.example.com", "/job/backend/job/main/lastBuild/api/json", "tree=result,timestamp,duration,changeSets[items[msg,author[fullName]]]", "curl", "raw"),
    ("sentry.io", "/api/0/projects/acme/checkout/issues/", "query=is:unresolved level:error release:2024.04.2¦statsPeriod=24h¦sort=freq", "python", "raw"),
]:
    if path == "/graphql" and not params:
        R(host, path, prof=prof, js={"query": "query($owner:String!,$name:String!){repository(owner:$owner,name:$name){stargazerCount issues(states:OPEN){totalCount}}}", "variables": {"owner": "nodejs", "name": "node"}}, extra=[("Authorization", "bearer ghp_" + G.alnum(36))], jar=None, tag="api")
    else:
        extra = [("Authorization", "Bearer " + jwt({"sub": G.digits(6), "scope": "read write", "exp": 1713877200}))] if G.chance(0.5) and not prof.startswith(("chrome", "firefox")) else None
        R(host, path, params, prof=prof, style=style, kind="xhr" if prof.startswith(("chrome", "firefox")) else None, jar="jwt" if prof.startswith(("chrome", "firefox")) else None, extra=extra, tag="api")

# ------------------------------------------------------------------------------------
# Maps, geo, weather, travel and booking
# ------------------------------------------------------------------------------------
for host, path, params in [
    ("www.google.com", "/maps/search/coffee+near+times+square".replace("+", "%20"), "ll=40.758,-73.9855¦z=16"),
    ("maps.googleapis.com", "/maps/api/geocode/json", "address=1600 Amphitheatre Parkway, Mountain View, CA¦key=AIzaSyB41DRUbKWJHPxaFjMAwdrzWzbVKartNGg"),
    ("maps.googleapis.com", "/maps/api/staticmap", "center=48.8584,2.2945¦zoom=15¦size=600x300¦maptype=roadmap¦markers=color:red|label:E|48.8584,2.2945¦key=AIzaSyB41DRUbKWJHPxaFjMAwdrzWzbVKartNGg"),
    ("www.openstreetmap.org", "/search", "query=Brandenburger Tor"),
    ("nominatim.openstreetmap.org", "/reverse", "format=jsonv2¦lat=52.5163¦lon=13.3777¦zoom=18¦addressdetails=1"),
    ("api.mapbox.com", "/directions/v5/mapbox/cycling/-122.42,37.78;-122.45,37.91", "geometries=geojson¦steps=true¦access_token=pk.eyJ1IjoiZXhhbXBsZSIsImEiOiJjbHY0MiJ9.Xy9z8A7b6C5d4E3f2G1h0i"),
    ("tile.openstreetmap.org", "/15/17602/10745.png", ""),
    ("api.weather.gov", "/points/39.7456,-97.0892", ""),
    ("www.yr.no", "/en/forecast/daily-table/2-3143244/Norway/Oslo/Oslo/Oslo", "i=0"),
    ("www.accuweather.com", "/en/search-locations", "query=Zürich"),
    ("www.skyscanner.net", "/transport/flights/lond/bcn/240614/240618/", "adultsv2=2¦cabinclass=economy¦childrenv2=7¦inboundaltsenabled=false¦outboundaltsenabled=false¦preferdirects=true¦rtn=1"),
    ("www.airbnb.com", "/s/Kyoto--Japan/homes", "checkin=2024-10-02¦checkout=2024-10-07¦adults=2¦price_max=250¦room_types[]=Entire home/apt¦amenities[]=4¦amenities[]=8"),
    ("www.trainline.eu", "/search/paris/lyon/2024-05-03-08:00", "passengers[]=1994-03-11¦card[]=SNCF.CarteJeune"),
    ("www.opentable.com", "/s", "dateTime=2024-04-27T19:30:00¦covers=4¦metroId=8¦term=italian¦prices=2,3"),
    ("www.uber.com", "/global/en/price-estimate/", "pickup=Heathrow Terminal 5¦dropoff=King's Cross St Pancras"),
    ("api.tripadvisor-example.com", "/v1/nearby", "latLong=35.6762,139.6503¦radius=2¦radiusUnit=km¦category=restaurants¦language=ja"),
    ("www.calendly.com", "/acme-sales/30min", "month=2024-05¦date=2024-05-07¦back=1"),
    ("calendar.google.com", "/calendar/render", "action=TEMPLATE¦text=Team offsite – Q2 planning¦dates=20240515T090000Z/20240515T170000Z¦details=Agenda: roadmap, budget & hiring¦location=Room 4.12, 1 Main St¦ctz=Europe/London"),
]:
    R(host, path, params, prof=G.pick(["chrome_win", "safari_ios", "chrome_android", "firefox_mac", "okhttp"]), style="raw" if "api" in host else None, jar="ga", tag="maps-travel")

# ------------------------------------------------------------------------------------
# Downloads, signed URLs, CDNs, images, media
# ------------------------------------------------------------------------------------
for host, path, params, prof in [
    ("files.example-saas.io", "/download", "file=report_2024.pdf¦inline=0", "chrome_win"),
    ("files.example-saas.io", "/download", "file=Q1 Sales (final) v2.xlsx¦folder=/Finance/2024", "edge_win"),
    ("intranet.example-corp.com", "/docs/get.aspx", "path=\\\\fs01\\shared\\HR\\Policies\\Leave Policy 2024.docx¦ver=3", "edge_win"),
    ("acme-uploads.s3.eu-west-1.amazonaws.com", "/invoices/2024/04/INV-2024-0419.pdf", "X-Amz-Algorithm=AWS4-HMAC-SHA256¦X-Amz-Credential=AKIAIOSFODNN7EXAMPLE/20240423/eu-west-1/s3/aws4_request¦X-Amz-Date=20240423T101500Z¦X-Amz-Expires=3600¦X-Amz-SignedHeaders=host¦X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", "chrome_mac"),
    ("acme-uploads.s3.amazonaws.com", "/avatars/u_88213/me%20at%20the%20beach.jpg", "response-content-disposition=attachment; filename=\"me at the beach.jpg\"¦X-Amz-Algorithm=AWS4-HMAC-SHA256¦X-Amz-Credential=AKIAIOSFODNN7EXAMPLE/20240423/us-east-1/s3/aws4_request¦X-Amz-Date=20240423T101500Z¦X-Amz-Expires=900¦X-Amz-SignedHeaders=host¦X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", "safari_mac"),
    ("storage.googleapis.com", "/acme-exports/exports/2024-04-23/users.csv.gz", "X-Goog-Algorithm=GOOG4-RSA-SHA256¦X-Goog-Credential=exporter@acme-prod.iam.gserviceaccount.com/20240423/auto/storage/goog4_request¦X-Goog-Date=20240423T101500Z¦X-Goog-Expires=600¦X-Goog-SignedHeaders=host¦X-Goog-Signature=" + G.hexs(512), "curl"),
    ("acmeprod.blob.core.windows.net", "/backups/db-2024-04-22.bak", "sv=2022-11-02¦ss=b¦srt=o¦sp=r¦se=2024-04-24T10:15:00Z¦st=2024-04-23T02:15:00Z¦spr=https¦sig=" + G.b64(32), "dotnet"),
    ("d1a2b3c4d5e6f7.cloudfront.net", "/video/lesson-12/720p.m3u8", "Policy=" + G.b64(150, urlsafe=True) + "__¦Signature=" + G.b64(128, urlsafe=True).replace("-", "~") + "__¦Key-Pair-Id=K2JCJMDEHXQW5F", "safari_ios"),
    ("images.example-store.com", "/cdn-cgi/image/width=800,quality=75,format=auto/products/boot-1043-side.jpg", "", "chrome_android"),
    ("res.cloudinary.com", "/acme/image/upload/c_fill,g_auto,w_400,h_300/v1713870000/blog/cover_spring.jpg", "", "firefox_win"),
    ("cdn.shopify.com", "/s/files/1/0523/4567/8901/products/parka_navy.jpg", "v=1713870000¦width=1080", "safari_ios"),
    ("i.ytimg.com", "/vi/dQw4w9WgXcQ/hqdefault.jpg", "sqp=-oaymwEcCNACELwBSFXyq4qpAw4IARUAAIhCGAFwAcABBg==¦rs=AOn4CLBv0wHw8t8lq3x1m4g2S9cY0pQ1wA", "chrome_win"),
    ("www.example-univ.edu", "/library/fetch.php", "doc=thesis/2019/o'brien_m_phd.pdf¦dl=1", "firefox_linux"),
    ("updates.example-app.com", "/releases/latest/download/ExampleApp-Setup-4.2.1-x64.exe", "", "chrome_win"),
    ("dl.example-app.com", "/linux/example-app_4.2.1_amd64.deb", "sha256=3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "wget"),
    ("media.example-podcast.fm", "/episodes/ep-212-the-last-mile.mp3", "utm_source=apple_podcasts¦aid=rss_feed¦feed=aBcD1234", "ios_cfnetwork"),
    ("www.example-saas.io", "/exports/invoices.zip", "ids=INV-1001,INV-1002,INV-1003¦token=" + G.b64(24, urlsafe=True), "chrome_mac"),
    ("fonts.googleapis.com", "/css2", "family=Inter:wght@400;600;700¦family=JetBrains+Mono:ital,wght@0,400;1,400¦display=swap".replace("JetBrains+Mono", "JetBrains Mono"), "chrome_win"),
    ("cdn.jsdelivr.net", "/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css", "", "firefox_win"),
    ("unpkg.com", "/react@18.2.0/umd/react.production.min.js", "", "safari_mac"),
]:
    R(host, path, params, prof=prof, style="raw", kind="img" if path.endswith((".jpg", ".png")) else None, jar="ga" if prof.startswith(("chrome", "firefox", "safari", "edge")) else None, tag="download")

# ------------------------------------------------------------------------------------
# Pagination, dates, timestamps, ids, accounts, misc app pages
# ------------------------------------------------------------------------------------
for host, path, params, jar in [
    ("app.example-saas.io", "/projects", "page=3¦per_page=25¦sort=name¦direction=asc", "django"),
    ("app.example-saas.io", "/activity", "before=2024-04-22T18:30:00.000Z¦limit=50", "django"),
    ("app.example-saas.io", "/activity", "cursor=eyJpZCI6MTAyOTMsInRzIjoiMjAyNC0wNC0yMlQxODozMDowMFoifQ¦limit=50", "django"),
    ("app.example-saas.io", "/reports/revenue", "from=2024-01-01¦to=2024-03-31¦granularity=week¦currency=EUR¦compare=previous_period", "django"),
    ("app.example-saas.io", "/settings/team", "invite=accepted¦email=maria.gonzález@example.es", "django"),
    ("app.example-saas.io", "/unsubscribe", "email=jo.o'neill+news@example.ie¦list=product-updates¦sig=9f2c1a7b3e5d", None),
    ("app.example-saas.io", "/verify-email", "token=" + G.b64(48, urlsafe=True) + "¦uid=MjM0NTY", None),
    ("app.example-saas.io", "/reset-password", "token=" + G.hexs(64) + "¦email=t.nguyen@example.com", None),
    ("app.example-saas.io", "/invoices/INV-2024-0419", "print=1", "django"),
    ("www.example-bank.com", "/online/statements", "account=****4821¦month=2024-03¦format=pdf", "java"),
    ("www.example-bank.com", "/online/transfer/confirm", "ref=TX20240423-00017¦amount=1,250.00¦currency=GBP", "java"),
    ("www.example-telco.com", "/my-account/usage", "msisdn=+447700900123¦period=current", "aspnet"),
    ("www.example-telco.com", "/store/phones", "brand=Apple¦model=iPhone 15 Pro¦storage=256GB¦plan=unlimited-5g", "aspnet"),
    ("www.example-clinic.org", "/appointments/book", "doctor=Dr. Siobhán O'Sullivan¦date=2024-05-02¦time=09:40¦type=follow-up", "php"),
    ("www.example-gov.uk", "/vehicle-tax/check", "reg=AB12 CDE", "consent"),
    ("www.example-gov.uk", "/search/all", "keywords=self assessment deadline 2023/24¦order=relevance", "consent"),
    ("www.example-univ.edu", "/courses", "term=Fall 2024¦subject=CS¦level=graduate¦q=machine learning & optimization", "java"),
    ("www.example-univ.edu", "/people/directory", "last_name=D'Angelo¦dept=Physics", "java"),
    ("jobs.example-hr.com", "/search", "title=Senior Backend Engineer (Go/Python)¦location=Remote – EU¦salary_min=80000¦type=full-time,contract¦posted=7d", "ga"),
    ("www.example-realestate.com", "/for-sale", "location=Brooklyn, NY¦beds=2+¦baths=1.5+¦price=500000-900000¦sqft_min=900¦pets=cats,dogs¦sort=newest", "ga"),
    ("www.example-cars.com", "/used", "make=Mercedes-Benz¦model=C-Class¦year_min=2018¦mileage_max=60000¦fuel=diesel|hybrid¦zip=10001¦radius=50", "ga"),
    ("www.example-dating.com", "/browse", "age=28-36¦distance=25mi¦interests=hiking,board games,jazz", "ga"),
    ("app.example-chat.com", "/api/messages", "channel=C04ABCDEF¦oldest=1713830400.000200¦latest=1713873600.999900¦inclusive=true", "jwt"),
    ("app.example-chat.com", "/api/users.lookupByEmail", "email=chloé.dubois@example.fr", "jwt"),
    ("www.example-calendar.com", "/embed", "src=en.usa#holiday@group.v.calendar.google.com¦ctz=America/New_York¦mode=AGENDA", None),
    ("www.example-phone.com", "/lookup", "number=+1 (415) 555-0132¦country=US", "ga"),
    ("www.example-food.com", "/order/track", "order=ORD-88-24619¦phone=0171 555 0199", "ga"),
    ("www.example-pay.com", "/checkout/return", "paymentId=PAYID-MYZ4KXY8AB12345CD6789012¦token=EC-6BK21234AB567890C¦PayerID=QWERTY12ABCDE", "ga"),
    ("www.example-pay.com", "/3ds/complete", "PaRes=eJzVWNmSo0i2fe+vqKh+xHJYQcGdkPT6q8dEPn2Z¦MD=aXJlZjoxMjM0NTY3ODk", None),
    ("status.example-saas.io", "/", "utm_source=status_banner", None),
    ("app.example-saas.io", "/api/feature-flags", "context={\"user\":{\"key\":\"u_88213\",\"country\":\"DE\"},\"app\":{\"version\":\"5.12.1\"}}", "jwt"),
    ("app.example-saas.io", "/api/events", "ts=1713873600123¦tz_offset=-120¦dst=1", "jwt"),
    ("app.example-saas.io", "/calc", "q=2*3+4", None),
    ("app.example-saas.io", "/calc", "expr=(a+b)/2 >= 10%¦vars=a:12,b:9", None),
    ("www.wolframalpha.com", "/input", "i=integrate x^2 sin(x) dx from 0 to pi", "ga"),
    ("www.desmos.com", "/calculator", "lang=en¦expr=y=x^2-4x+3", None),
    ("www.example-univ.edu", "/grades", "filter=score<50¦course=MATH-201", "java"),
    ("translate.google.com", "/", "sl=auto¦tl=en¦text=Je n'ai pas compris ce qu'il a dit, peux-tu répéter ?¦op=translate", "google"),
    ("translate.google.com", "/", "sl=de¦tl=en¦text=Das Leben ist wie Fahrradfahren. Um die Balance zu halten, musst du in Bewegung bleiben.¦op=translate", "google"),
    ("www.deepl.com", "/translator", ["il=en", "en/ja/I'd like to book a table for two at 7 pm, please."][0], "ga"),
    ("www.youtube.com", "/watch", "v=dQw4w9WgXcQ¦t=43s¦list=PL9tY0BWXOZFuFEG_GtOBZ8-8wbkH-NVAr¦index=3", "google"),
    ("www.youtube.com", "/results", "search_query=how to replace a bike chain without chain tool", "google"),
    ("open.spotify.com", "/search/beyoncé texas hold 'em", "", "ga"),
    ("www.twitch.tv", "/directory/category/just-chatting", "sort=VIEWER_COUNT¦tl=English", "ga"),
    ("www.linkedin.com", "/jobs/search/", "currentJobId=3891234567¦keywords=data engineer¦location=Amsterdam, North Holland, Netherlands¦f_WT=2,3¦origin=JOB_SEARCH_PAGE_JOB_FILTER", "ga"),
    ("x.com", "/search", "q=(from:nasa) until:2024-04-20 since:2024-04-01¦src=typed_query¦f=live", "ga"),
    ("www.instagram.com", "/explore/tags/streetphotography/", "hl=en", "ga"),
]:
    R(host, path, params, jar=jar, ref=True if jar else None, tag="app")

# Bots and link previews crawling ordinary URLs
for host, path, params, prof in [
    ("www.northwindoutfitters.com", "/collections/jackets", "page=2", "googlebot"),
    ("www.northwindoutfitters.com", "/sitemap_products_1.xml", "from=6801234567890¦to=7012345678901", "googlebot"),
    ("blog.greenleafcafe.com", "/feed/", "paged=2", "bingbot"),
    ("www.example-saas.io", "/blog/kubernetes-cost-optimization", "", "slackbot"),
    ("www.example-saas.io", "/changelog", "utm_source=twitter", "twitterbot"),
    ("www.travelnest.com", "/hotels/lisbon", "checkin=2024-06-14", "facebook"),
    ("www.bestgadgets.co.uk", "/laptops", "sort=rating¦page=7", "ahrefs"),
    ("yandex-target.example.ru", "/catalog/", "SECTION_ID=187¦PAGEN_1=4", "yandexbot"),
    ("www.example-gov.uk", "/robots.txt", "", "googlebot_mobile"),
    ("status.example-saas.io", "/health", "probe=uptime", "uptime"),
]:
    R(host, path, params, prof=prof, style="raw", jar=None, tag="bot")

# ------------------------------------------------------------------------------------
# POST bodies: logins, checkouts, profiles, comments, beacons, GraphQL (about 10%)
# ------------------------------------------------------------------------------------
R("www.example-saas.io", "/login", form="csrfmiddlewaretoken=" + G.alnum(64) + "¦email=priya.k@example.in¦password=Tr0ub4dor&3!#x¦remember=on", jar="django", ref="https://www.example-saas.io/login", tag="post-login")
R("forum.example-news.com", "/ucp.php", "mode=login", form="username=Zoë_Ledger¦password=correct horse battery staple¦autologin=on¦viewonline=on¦redirect=./index.php¦sid=6b2a9f1e0c3d4e5f6a7b8c9d0e1f2a3b¦login=Login", jar="php", ref="https://forum.example-news.com/ucp.php?mode=login", tag="post-login")
R("blog.greenleafcafe.com", "/wp-login.php", form="log=editor¦pwd=S3cure!Passw0rd¦wp-submit=Log In¦redirect_to=https://blog.greenleafcafe.com/wp-admin/¦testcookie=1", cookies=[("wordpress_test_cookie", "WP%20Cookie%20check")], ref="https://blog.greenleafcafe.com/wp-login.php", tag="post-login")
R("api.example-saas.io", "/v1/auth/login", prof="ios_app", js={"email": "sam.o'hara@example.com", "password": "p@ss'w0rd\"2024", "device": {"id": G.uuid(), "name": "Sam's iPhone", "os": "iOS 17.4.1"}}, jar=None, tag="post-login")
R("shop.northwindoutfitters.com", "/account/register", form=[("form_type", "create_customer"), ("utf8", "✓"), ("customer[first_name]", "Seán"), ("customer[last_name]", "Ó Briain"), ("customer[email]", "sean.obriain@example.ie"), ("customer[password]", "Gaillimh#2024"), ("customer[accepts_marketing]", "true")], jar="shopify", ref=True, tag="post-register")
R("checkout.northwindoutfitters.com", "/checkouts/cn/Z2NwLWV1cm9wZS13ZXN0MTowMUhWNjM3MkFRN0s", form=[("_method", "patch"), ("authenticity_token", G.b64(64)), ("previous_step", "contact_information"), ("step", "shipping_method"), ("checkout[email]", "dana.li@example.com"), ("checkout[shipping_address][first_name]", "Dana"), ("checkout[shipping_address][last_name]", "Li"), ("checkout[shipping_address][address1]", "221B Baker Street"), ("checkout[shipping_address][address2]", "Flat 2, c/o Mrs. Hudson"), ("checkout[shipping_address][city]", "London"), ("checkout[shipping_address][zip]", "NW1 6XE"), ("checkout[shipping_address][country]", "United Kingdom"), ("checkout[shipping_address][phone]", "+44 20 7946 0958"), ("checkout[note]", "Please leave with neighbour at #223 if we're out")], jar="shopify", ref="https://checkout.northwindoutfitters.com/", tag="post-checkout")
R("api.example-store.com", "/v2/checkout/payment", prof="chrome_win", js={"cart_id": "8d6f3a0e-2c4b-4e7f-9a1b-0c5d7e9f1a2b", "payment_method": {"type": "card", "token": "tok_1P8xYzLkdIwHu7ixQ4rT9mNb"}, "billing": {"name": "José Álvarez-Núñez", "line1": "Calle de Alcalá, 42, 3º Izq.", "city": "Madrid", "postal_code": "28014", "country": "ES"}, "save_card": False, "gift_message": "Happy 30th, Marta! Don't spend it all at once :)"}, jar="jwt", ref="https://www.example-store.com/checkout", tag="post-checkout")
R("app.example-saas.io", "/settings/profile", method="PATCH", prof="firefox_mac", js={"display_name": "Renée \"Ren\" Lacroix", "bio": "Designer & illustrator. Previously @ Studio Nord; now freelancing (mostly brand systems, sometimes type).", "website": "https://renee-lacroix.example.fr", "timezone": "Europe/Paris", "pronouns": "she/her"}, jar="django", ref="https://app.example-saas.io/settings/profile", tag="post-profile")
R("app.example-saas.io", "/settings/notifications", prof="chrome_mac", form="csrfmiddlewaretoken=" + G.alnum(64) + "¦email_digest=weekly¦mentions=on¦quiet_hours=22:00-07:30", jar="django", ref=True, tag="post-profile")
R("blog.greenleafcafe.com", "/wp-comments-post.php", form="comment=Loved the rhubarb tart! Could you share whether it works with frozen rhubarb? We're in Minnesota & it's still snowing 😅¦author=Kari Lindqvist¦email=kari.l@example.com¦url=¦submit=Post Comment¦comment_post_ID=1234¦comment_parent=0", ref="https://blog.greenleafcafe.com/2024/03/17/spring-menu/", tag="post-comment")
R("www.reddit-clone.example", "/api/comment", prof="chrome_linux", js={"thing_id": "t3_1c9xk2q", "text": "This is the way. Honestly though, I'd wait for the 2nd gen — first-gen hardware is always a bit rough.", "return_rtjson": True}, jar="jwt", ref=True, tag="post-comment")
R("www.example-store.com", "/reviews/submit", form=[("product_id", "1043"), ("rating", "4"), ("title", "Comfy, but runs half a size small"), ("body", "Great for long walks. I'm usually a 9 and needed a 9.5. The laces are a bit short; otherwise 10/10 would buy again."), ("nickname", "trailmix_88"), ("recommend", "yes")], jar="ga", ref=True, tag="post-review")
R("www.example-saas.io", "/newsletter/subscribe", prof="safari_ios", form="email=hello+newsletter@example.co.uk¦source=footer¦consent=1", jar="ga", ref=True, tag="post-newsletter")
R("www.example-saas.io", "/contact", prof="chrome_win", form=[("name", "Dr. Amara N'Diaye"), ("company", "N'Diaye & Partners LLP"), ("email", "a.ndiaye@example.sn"), ("phone", "+221 77 123 45 67"), ("topic", "sales"), ("message", "Hi — we're a 40-person law firm looking at the Team plan. Do you offer SSO (SAML) and EU data residency? Thanks!")], jar="ga", ref="https://www.example-saas.io/contact", tag="post-contact")
R("api.example-saas.io", "/graphql", prof="chrome_mac", js={"operationName": "UpdateTask", "variables": {"id": "tsk_9x2b", "input": {"title": "Fix login redirect when ?next= has a hash", "status": "IN_PROGRESS", "labels": ["bug", "auth"]}}, "query": "mutation UpdateTask($id: ID!, $input: TaskInput!) { updateTask(id: $id, input: $input) { id title status updatedAt } }"}, jar="jwt", ref="https://app.example-saas.io/board", tag="post-graphql")
R("api.example-saas.io", "/graphql", prof="ios_app", js=[{"operationName": "Feed", "variables": {"first": 20, "after": "Y3Vyc29yOjIw"}, "query": "query Feed($first: Int, $after: String) { feed(first: $first, after: $after) { edges { node { id ... on Post { title author { name } } } } pageInfo { endCursor hasNextPage } } }"}], jar=None, tag="post-graphql")
R("www.google-analytics.com", "/g/collect", "v=2¦tid=G-8ZQ4KX2M1P¦cid=1234567890.1713870000¦_p=1713873600123", prof="chrome_win", kind="beacon", style="js", body="en=scroll&_et=5123&epn.percent_scrolled=90\nen=user_engagement&_et=18234", ctype="text/plain;charset=UTF-8", jar=None, ref="https://www.northwindoutfitters.com/", tag="post-beacon")
R("o123456.ingest.sentry.io", "/api/4504012345678912/envelope/", "sentry_key=a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6¦sentry_version=7¦sentry_client=sentry.javascript.browser/7.110.0", prof="chrome_win", kind="beacon", style="raw", body='{"sent_at":"2024-04-23T10:15:00.123Z","sdk":{"name":"sentry.javascript.browser","version":"7.110.0"}}\n{"type":"session"}\n{"sid":"' + G.hexs(32) + '","init":false,"started":"2024-04-23T10:10:02.001Z","timestamp":"2024-04-23T10:15:00.120Z","status":"ok","errors":0,"attrs":{"release":"web@2024.04.2","environment":"production","user_agent":"Mozilla/5.0"}}', ctype="text/plain;charset=UTF-8", jar=None, ref="https://app.example-saas.io/", tag="post-beacon")
R("api-js.mixpanel.com", "/track/", "verbose=1¦ip=1¦_=1713873600999", prof="safari_mac", kind="beacon", style="raw", form=[("data", base64.b64encode(json.dumps([{"event": "Signup Clicked", "properties": {"$current_url": "https://www.example-saas.io/pricing?plan=team", "plan": "team", "distinct_id": "18f0a1b2c3d-0e1f2a3b4c5d6e-26001d51"}}]).encode()).decode())], jar=None, ref="https://www.example-saas.io/", tag="post-beacon")
R("hooks.example-saas.io", "/stripe/webhook", prof="stripe", js={"id": "evt_1P8xZ2LkdIwHu7ixR5sT0oPc", "object": "event", "type": "invoice.payment_succeeded", "data": {"object": {"id": "in_1P8xYzLkdIwHu7ix", "customer": "cus_PyZ3aB4cD5eF6g", "amount_paid": 4900, "currency": "eur", "customer_email": "billing@example-gmbh.de", "lines": {"data": [{"description": "1 × Team (at €49.00 / month)"}]}}}}, extra=[("Stripe-Signature", f"t=1713873600,v1={G.hexs(64)}")], jar=None, tag="post-webhook")
R("ci.example-saas.io", "/github/webhook", prof="github_hook", js={"ref": "refs/heads/main", "before": G.hexs(40), "after": G.hexs(40), "repository": {"full_name": "acme/checkout-service"}, "head_commit": {"message": "Fix: don't double-apply coupon when cart is re-opened (#1482)\n\nCo-authored-by: Li Wei <li.wei@example.com>", "author": {"name": "Marta Król", "email": "marta.krol@example.pl"}}}, extra=[("X-GitHub-Event", "push"), ("X-GitHub-Delivery", G.uuid()), ("X-Hub-Signature-256", "sha256=" + G.hexs(64))], jar=None, tag="post-webhook")
R("api.example-saas.io", "/v1/tickets", prof="chrome_win", js={"subject": "Can't export CSV — button greyed out", "priority": 2, "body": "Since yesterday's update the 'Export' button on Reports → Revenue is disabled for me (admin role). Tried Chrome & Firefox, cleared cache. Workspace: acme-eu.", "cc": ["ops@acme.example", "finance-team@acme.example"]}, jar="jwt", ref="https://app.example-saas.io/support/new", tag="post-ticket")
R("www.example-clinic.org", "/appointments/book", prof="samsung", form=[("patient_name", "Aoife Ní Bhriain"), ("dob", "14/02/1988"), ("phone", "087 123 4567"), ("reason", "Follow-up on blood test results (iron & B12)"), ("insurance", "VHI – Plan B"), ("slot", "2024-05-02T09:40")], jar="php", ref=True, tag="post-form")
R("www.example-telco.com", "/my-account/address", prof="edge_win", form=[("__RequestVerificationToken", "CfDJ8" + G.b64(90, urlsafe=True)), ("Street", "Rue de la Loi 16"), ("PostalCode", "1000"), ("City", "Bruxelles / Brussel"), ("Country", "BE")], jar="aspnet", ref=True, tag="post-form")
R("www.example-realestate.com", "/api/saved-searches", prof="chrome_android", js={"name": "2BR Brooklyn < $900k", "query": {"location": "Brooklyn, NY", "beds": {"min": 2}, "price": {"max": 900000}, "keywords": ["outdoor space", "in-unit w/d"]}, "alert": "daily"}, jar="jwt", ref=True, tag="post-json")
R("app.example-chat.com", "/api/chat.postMessage", prof="chrome_mac", js={"channel": "C04ABCDEF", "text": "Deploy done ✅ — if you see 502s on /checkout ping me & I'll roll back. cc <@U012AB3CD>", "thread_ts": "1713873600.000200"}, jar="jwt", tag="post-json")
R("www.example-univ.edu", "/forms/feedback", prof="firefox_linux", form=[("course", "CS-540"), ("rating", "5"), ("comments", "Prof. O'Connor's lectures on dynamic programming were excellent; the problem sets (esp. #4 & #7) were tough but fair.")], jar="java", ref=True, tag="post-form")
R("api.example-food.com", "/v3/orders", prof="android_app", js={"restaurant_id": 7781, "items": [{"sku": "PIZ-MARG-12", "qty": 2, "notes": "extra basil, no olives"}, {"sku": "DRK-LEMON", "qty": 1}], "address": {"line1": "Flat 3, 12 Queen's Road", "postcode": "BS8 1QU"}, "tip_pct": 12.5, "instructions": "Ring bell twice - the first one's broken"}, jar=None, extra=[("Authorization", "Bearer " + jwt({"sub": "cust_55812", "exp": 1713877200}))], tag="post-json")
R("www.example-pay.com", "/api/v1/transfers", prof="okhttp", js={"amount": "1250.00", "currency": "GBP", "to": {"iban": "GB33BUKB20201555555555", "name": "O'Donnell & Sons Ltd"}, "reference": "Invoice #INV-0419 / April", "idempotency_key": G.uuid()}, jar=None, tag="post-json")
R("www.example-saas.io", "/search", prof="chrome_win", form="q=how do I select all rows where the date is between two dates?¦scope=docs", jar="ga", ref=True, tag="post-search")
R("www.example-store.com", "/cart/update", prof="safari_ios", form="updates[44012345678901]=2¦updates[44012345678902]=0¦note=Gift wrap please – it's for my mum's 60th!¦checkout=", jar="shopify", ref=True, tag="post-cart")
R("api.example-saas.io", "/v1/files/upload", "uploadType=resumable", prof="chrome_win", style="js", js={"name": "Q1 plan (draft).docx", "size": 48213, "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "parents": ["fld_Finance_2024"]}, jar="jwt", ref="https://app.example-saas.io/files", tag="post-upload")
R("www.example-survey.com", "/r/8XK2Q9", prof="chrome_android", form=[("q1", "Very satisfied"), ("q2[]", "Price"), ("q2[]", "Delivery speed"), ("q3", "Maybe offer a 'notify me' option for sold-out sizes?"), ("nps", "9")], jar="ga", ref=True, tag="post-form")
R("api.example-saas.io", "/v1/rpc", prof="go", js={"jsonrpc": "2.0", "method": "inventory.reserve", "params": {"sku": "LP-X1C-G11-16-512", "qty": 1, "ttl": "15m"}, "id": 42}, jar=None, tag="post-json")

# ------------------------------------------------------------------------------------
# Round out with mobile-app and SPA API traffic
# ------------------------------------------------------------------------------------
for host, path, params, prof in [
    ("api.ridenow-example.com", "/v3/estimates", "start_lat=51.5072¦start_lng=-0.1276¦end_lat=51.4700¦end_lng=-0.4543¦seats=2¦product=comfort", "android_app"),
    ("api.ridenow-example.com", "/v3/places/autocomplete", "input=st pancras int¦session_token=" + G.uuid() + "¦locationbias=circle:2000@51.5072,-0.1276", "android_app"),
    ("api.northwind-example.com", "/mobile/v5/home", "locale=en_GB¦currency=GBP¦segment=returning¦ab=checkout_v2:B,search_ranker:ctrl", "ios_app"),
    ("api.northwind-example.com", "/mobile/v5/wishlist", "since=2024-04-01T00:00:00%2B01:00".replace("%2B", "+"), "ios_app"),
    ("api.example-news.com", "/v2/articles", "section=world¦limit=30¦fields=id,title,summary,thumbnail,published_at¦since=1713830400", "okhttp"),
    ("api.example-news.com", "/v2/search", "q=\"climate summit\" -opinion¦lang=en¦sort=recent", "okhttp"),
    ("api.example-fitness.com", "/v1/workouts", "from=2024-04-15¦to=2024-04-21¦type=run,ride¦units=metric", "dalvik"),
    ("api.example-fitness.com", "/v1/segments/explore", "bounds=37.8,-122.5,37.7,-122.4¦activity_type=running¦min_cat=0¦max_cat=5", "ios_app"),
    ("api.example-music.com", "/v1/search", "q=artist:\"Sigur Rós\" year:1999-2005¦type=album,track¦market=IS¦limit=10", "okhttp"),
    ("api.example-music.com", "/v1/me/player/recently-played", "limit=50¦before=1713873600000", "axios"),
    ("api.example-bank.com", "/mobile/accounts/4821/transactions", "from=2024-03-01¦to=2024-03-31¦category=groceries|dining¦min_amount=-500.00", "ios_app"),
    ("api.example-social.com", "/v1/feed", "max_id=1782736455012¦count=40¦include_entities=true¦tweet_mode=extended", "android_app"),
    ("api.example-social.com", "/v1/users/lookup", "screen_name=jack,jane_doe,o_reilly_media", "android_app"),
    ("app.example-saas.io", "/api/v1/search/autocomplete", "q=o'rei¦types=user,team¦limit=8", "chrome_win"),
    ("app.example-saas.io", "/api/v1/boards/42/cards", "list_id=7¦fields=name,desc,due,labels¦filter=open", "firefox_win"),
    ("app.example-saas.io", "/api/v1/billing/usage", "period=2024-04¦breakdown=daily¦tz=America/Los_Angeles", "safari_mac"),
    ("app.example-saas.io", "/api/v1/audit-log", "actor=jane@acme.example¦action=member.invite,member.remove¦after=2024-04-01", "chrome_linux"),
    ("app.example-saas.io", "/api/v1/dashboards/ops", "panels=latency,errors,saturation¦range=last_7d¦percentiles=50,95,99", "edge_win"),
    ("app.example-saas.io", "/api/v1/translations", "lang=pt-BR¦ns=common,checkout¦v=2024.04.2", "chrome_android"),
    ("app.example-saas.io", "/api/v1/geo/ip", "ip=203.0.113.45", "chrome_win"),
    ("app.example-saas.io", "/api/v1/webhooks/test", "url=https://hooks.acme.example/incoming?secret=abc123&env=staging", "chrome_mac"),
]:
    br = prof.startswith(("chrome", "firefox", "safari", "edge"))
    R(host, path, params, prof=prof, style="js" if br else "raw", kind="xhr" if br else None, jar="jwt" if br else None, extra=None if br else [("Authorization", "Bearer " + jwt({"sub": G.digits(7), "exp": 1713877200}))], tag="app-api")


# ------------------------------------------------------------------------------------
# A few more everyday pages and forms
# ------------------------------------------------------------------------------------
for host, path, params in [
    ("www.example-recipes.com", "/recipes", "ingredients=chickpeas,spinach,coconut milk¦exclude=nuts¦time_max=30¦diet=vegan"),
    ("www.example-recipes.com", "/convert", "amount=1 1/2¦from=cups¦to=ml¦ingredient=all-purpose flour"),
    ("www.example-library.org", "/catalog", "q=author:\"Le Guin, Ursula K.\" AND format:ebook¦available=1"),
    ("www.example-library.org", "/holds/place", "isbn=978-0-441-47812-5¦branch=Central¦notify=sms"),
    ("www.example-cinema.com", "/showtimes", "movie=dune-part-two¦date=2024-04-27¦cinema=leicester-square¦format=IMAX 70mm"),
    ("tickets.example-stadium.com", "/event/2024-05-18-final", "section=112¦row=K¦seats=14-15¦qty=2¦price_level=B"),
    ("www.example-weather.com", "/forecast", "lat=-33.8688¦lon=151.2093¦units=c¦days=10"),
    ("www.example-tv.com", "/guide", "date=2024-04-23¦region=London¦channels=BBC One,ITV1,Channel 4"),
    ("www.example-games.com", "/leaderboard", "mode=ranked¦season=S14¦region=EU-West¦page=12"),
    ("www.example-wiki.org", "/wiki/Special:WhatLinksHere/Rock_'n'_roll", "limit=500"),
    ("www.example-wiki.org", "/index.php", "title=C++_(programming_language)¦action=history¦offset=20240101000000¦limit=100"),
    ("www.example-forum.net", "/threads/what-oil-for-a-2012-civic-5w-20-or-0w-20.112358/", "page=3"),
]:
    R(host, path, params, jar="ga", ref=True, tag="app")

R("www.example-library.org", "/account/login", prof="firefox_win", form="barcode=21234001234567¦pin=4821¦remember=1", jar="java", ref=True, tag="post-login")
R("tickets.example-stadium.com", "/api/basket", prof="chrome_android", js={"event": "2024-05-18-final", "seats": [{"section": "112", "row": "K", "seat": 14}, {"section": "112", "row": "K", "seat": 15}], "promo": "FAN-CLUB-10"}, jar="jwt", ref=True, tag="post-json")
R("www.example-forum.net", "/threads/what-oil-for-a-2012-civic-5w-20-or-0w-20.112358/add-reply", prof="chrome_win", form=[("message_html", "<p>I've run 0w-20 in mine for 80k miles with no issues. Owner's manual says either is fine above -20°F.</p>"), ("_xfToken", "1713873600," + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"), ("_xfRequestUri", "/threads/what-oil-for-a-2012-civic-5w-20-or-0w-20.112358/page-3"), ("_xfWithData", "1"), ("_xfResponseType", "json")], jar="php", ref=True, tag="post-comment")
R("api.example-saas.io", "/v1/invites", prof="chrome_mac", js={"emails": ["li.wei@example.com", "m.o'brien@example.ie", "zoë@example.fr"], "role": "member", "message": "Welcome aboard! Ping me with any questions."}, jar="jwt", ref="https://app.example-saas.io/settings/team", tag="post-json")
R("www.example-recipes.com", "/recipes/chana-saag/rate", prof="safari_ios", form="stars=5¦note=Added a squeeze of lime at the end – perfect.", jar="ga", ref=True, tag="post-review")
R("www.example-cinema.com", "/checkout", prof="edge_win", form=[("showing_id", "88231"), ("seats", "F7,F8"), ("email", "kenji.tanaka@example.jp"), ("name_on_card", "KENJI TANAKA"), ("postcode", "WC2H 7NA")], jar="aspnet", ref=True, tag="post-checkout")

write_set("clean_real_queries.jsonl", b.rows, 400)
