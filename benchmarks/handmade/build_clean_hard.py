"""clean_hard_negatives.jsonl: 300 hand-written benign requests that look suspicious.

Prose with SQL and shell words, apostrophes, people's names, code pasted into Q&A
fields while asking for help, benign CMS HTML, Markdown, data blobs (JWT, keys,
hashes, base64, PEM, CSV), paths, regexes, cron lines, maths and search syntax.
All of it was written by hand for this evaluation set.
Run: ``.venv/bin/python benchmarks/handmade/build_clean_hard.py``.
"""

from __future__ import annotations

import base64
import json

from _common import Builder, enc_js, write_set

b = Builder(seed=777013, label="clean")
R = b.req
G = b.g


def pick(*xs):  # type: ignore[no-untyped-def]
    return G.pick(list(xs))


# ------------------------------------------------------------------------------------
# Endpoint helpers: each picks one of several real-looking places a text can go
# ------------------------------------------------------------------------------------

def search(text: str, tag: str = "prose") -> None:
    host, path, key, extra = pick(
        ("www.google.com", "/search", "q", "sourceid=chrome¦ie=UTF-8"),
        ("duckduckgo.com", "/", "q", "t=ffab¦ia=web"),
        ("www.example-store.com", "/search", "q", "sort=relevance"),
        ("help.example-saas.io", "/hc/en-us/search", "query", "utf8=✓"),
        ("www.example-forum.net", "/search/", "keywords", "o=date¦c[title_only]=0"),
        ("www.bing.com", "/search", "q", "form=QBLH"),
        ("stackoverflow.com", "/search", "q", ""),
    )
    params = [(key, text)] + [tuple(p.split("=", 1)) for p in extra.split("¦") if p]  # type: ignore[misc]
    R(host, path, params, jar=pick("ga", "google", "consent"), ref=True, tag=tag)


def comment(text: str, author: str | None = None, tag: str = "prose") -> None:
    v = G.r.randint(0, 3)
    author = author or pick("Mike", "Lena K.", "anon", "Priya", "Tomás", "Bjørn H.", "sarah_w")
    if v == 0:
        R("blog.greenleafcafe.com", "/wp-comments-post.php", form=[("comment", text), ("author", author), ("email", "reader@example.com"), ("url", ""), ("submit", "Post Comment"), ("comment_post_ID", str(G.r.randint(200, 2000))), ("comment_parent", "0")], ref=True, jar="ga", tag=tag)
    elif v == 1:
        R("www.example-news.com", "/api/comments", prof=pick("chrome_win", "safari_ios", "firefox_linux"), js={"article_id": G.r.randint(10000, 99999), "body": text, "reply_to": None}, jar="jwt", ref=True, tag=tag)
    elif v == 2:
        R("www.example-forum.net", f"/threads/{G.r.randint(10000, 99999)}/reply", form=[("_xfToken", f"{G.ts()},{G.hexs(32)}"), ("message", text), ("attachment_hash", G.hexs(32))], jar="php", ref=True, tag=tag)
    else:
        R("app.example-chat.com", "/api/chat.postMessage", prof=pick("chrome_mac", "edge_win"), js={"channel": "C0" + G.alnum(8).upper(), "text": text}, jar="jwt", tag=tag)


def review(title: str, text: str, stars: int) -> None:
    if G.chance(0.5):
        R("www.example-store.com", "/reviews/submit", form=[("product_id", str(G.r.randint(1000, 9999))), ("rating", str(stars)), ("title", title), ("body", text), ("recommend", "yes" if stars >= 3 else "no")], jar="ga", ref=True, tag="review")
    else:
        R("api.example-travel.com", "/v1/reviews", prof=pick("ios_app", "android_app", "chrome_win"), js={"listing_id": G.r.randint(100000, 999999), "rating": {"overall": stars, "cleanliness": max(1, stars - 1)}, "title": title, "text": text, "stay": "2024-03"}, jar=None, tag="review")


def ticket(subject: str, body: str) -> None:
    v = G.r.randint(0, 2)
    if v == 0:
        R("support.example-saas.io", "/api/v2/tickets.json", prof=pick("chrome_win", "firefox_mac"), js={"ticket": {"subject": subject, "comment": {"body": body}, "priority": pick("normal", "high", "low"), "tags": ["web"]}}, jar="jwt", ref=True, tag="ticket")
    elif v == 1:
        R("www.example-telco.com", "/help/contact", form=[("topic", pick("billing", "technical", "other")), ("subject", subject), ("message", body), ("contact_pref", "email")], jar="aspnet", ref=True, tag="ticket")
    else:
        R("helpdesk.example-corp.com", "/servicedesk/customer/portal/2/create/17", prof="edge_win", js={"summary": subject, "description": body, "components": ["Laptop"], "urgency": "Medium"}, jar="java", ref=True, tag="ticket")


def qa(title: str, body: str, tags: list[str]) -> None:
    v = G.r.randint(0, 2)
    if v == 0:
        R("stackoverflow.com", "/questions/ask/submit", form=[("fkey", G.hexs(64)), ("title", title), ("post-text", body), ("tagnames", " ".join(tags)), ("post-type", "question")], jar="ga", ref="https://stackoverflow.com/questions/ask", tag="code")
    elif v == 1:
        R("forum.example-dev.org", "/posts.json", prof=pick("chrome_linux", "firefox_linux", "chrome_mac"), js={"title": title, "raw": body, "category": G.r.randint(3, 30), "tags": tags}, extra=[("X-CSRF-Token", G.b64(64))], jar="rails", ref="https://forum.example-dev.org/new-topic", tag="code")
    else:
        R("github.com", f"/{pick('acme', 'pallets', 'tiangolo', 'vercel', 'laravel')}/{pick('app', 'flask', 'fastapi', 'next.js', 'framework')}/issues/create", form=[("authenticity_token", G.b64(64)), ("issue[title]", title), ("issue[body]", body)], jar="ga", ref=True, tag="code")


def answer(body: str) -> None:
    R(pick("stackoverflow.com", "superuser.com", "dba.stackexchange.com", "unix.stackexchange.com"), f"/posts/{G.r.randint(70000000, 78999999)}/answer/submit", form=[("fkey", G.hexs(64)), ("post-text", body), ("post-type", "answer")], jar="ga", ref=True, tag="code")


def cms(html_text: str, title: str) -> None:
    v = G.r.randint(0, 3)
    if v == 0:
        R("blog.greenleafcafe.com", "/wp-json/wp/v2/posts/" + str(G.r.randint(100, 2000)), prof=pick("chrome_win", "firefox_win", "safari_mac"), js={"id": G.r.randint(100, 2000), "title": title, "content": html_text, "status": "draft"}, extra=[("X-WP-Nonce", G.hexs(10))], jar="wp", ref=True, tag="html")
    elif v == 1:
        R("www.drupal-site.org", "/node/add/article", form=[("title[0][value]", title), ("body[0][value]", html_text), ("body[0][format]", "basic_html"), ("form_build_id", "form-" + G.alnum(43)), ("form_token", G.alnum(43)), ("form_id", "node_article_form"), ("op", "Save")], jar="php", ref=True, tag="html")
    elif v == 2:
        R("shop.northwindoutfitters.com", "/admin/api/2024-04/products/" + G.digits(13) + ".json", method="PUT", prof="chrome_mac", js={"product": {"title": title, "body_html": html_text}}, jar="shopify", ref=True, tag="html")
    else:
        R("mail.example-crm.com", "/api/campaigns/draft", prof=pick("chrome_win", "edge_win"), js={"subject": title, "html": html_text, "list_id": G.r.randint(10, 99)}, jar="laravel", ref=True, tag="html")


def form_field(host: str, path: str, fields: list[tuple[str, str]], jar: str = "ga", tag: str = "form") -> None:
    R(host, path, form=fields, jar=jar, ref=True, tag=tag)


def api(host: str, path: str, obj: object, method: str = "POST", prof: str | None = None, tag: str = "json") -> None:
    R(host, path, method=method, prof=prof or pick("chrome_win", "okhttp", "ios_app", "axios", "python", "firefox_linux"), js=obj, jar=None, tag=tag)


# ------------------------------------------------------------------------------------
# A. Prose with SQL words and apostrophes
# ------------------------------------------------------------------------------------
for t in [
    "I'd like to select a plan from your list, or maybe drop the premium tier",
    "O'Reilly's book on union workers and where they're from",
    "where can I order a table and chairs for the garden",
    "select all that apply",
    "how to drop a class at university after the deadline",
    "union station to grand central",
    "insert into rice cooker how much water",
    "delete from my watch history youtube",
    "update or create a will online uk",
    "Let's have dinner, or else we'll be late",
    "1 or 2 bedroom apartments where pets are allowed",
    "grant application deadline for artists' residency",
    "show tables for sale near me",
    "drop shipping vs print on demand",
    "join the union or not",
    "kids' table and chairs set",
    "'70s rock songs with 'love' in the title",
    "is it 'sleep in' or 'sleep over'",
    "can't login or reset password",
    "order by phone or online which is cheaper",
]:
    search(t)

for t, a in [
    ("Tried the 'union square' location today — order came out wrong twice, but the manager dropped the charge. Fair enough.", "Dave R."),
    ("We'll select the venue from your shortlist once everyone's voted; please don't drop anyone from the list yet.", "Hannah"),
    ("Where's the 'delete account' option? I've looked under Settings, Privacy and Security and can't find it.", None),
    ("I don't want to sound like a broken record, but the 1=1 exchange rate joke in the podcast made me laugh.", None),
    ("Can someone explain why 'group by' in the Excel pivot is greyed out? It's driving me nuts.", None),
    ("The union rep said we'd get a 3% raise or extra leave, not both -- anyone know if that's final?", "shop_steward_22"),
    ("My grandma's recipe says 'insert the cloves into the ham' and I have no idea where they're supposed to go", None),
    ("Great article! Though I'd argue the 'select few' you mention aren't that few anymore.", "K. Yamamoto"),
    ("Order #4412 arrived with one chair missing; the table's fine. Where do I report it?", None),
    ("\"Drop it like it's hot\" was playing on loop at the party and honestly? No complaints.", None),
    ("Sleep well; tomorrow we begin again -- or so the saying goes.", None),
    ("It's 5 o'clock somewhere, and where I'm from that means tea, not wine.", "Brigid"),
    ("Hi all -- the 'Update' button on the roster page does nothing when I'm logged in as coach. Any ideas?", None),
    ("Honestly the DROP in quality since the new owners took over is massive. Used to be 5 stars.", None),
    ("We had a table for six; the waiter said 'take your pick from any of them' and walked off lol", None),
    ("Anyone else find it odd that 'and/or' is banned in our style guide but 'either/or' isn't?", "copyeditor_jo"),
    ("Note to self: don't union-merge the calendars again, it doubled every birthday.", None),
    ("What's the best way to exec a plan when your team's half on leave? Asking for a friend.", None),
    ("My kid's teacher wrote 'see me' on the test -- that's either very good or very bad.", None),
    ("If it's between the red or blue, I'd choose blue; it's 'less shouty' as my wife puts it.", "Ade O."),
]:
    comment(t, a)

for title, text, stars in [
    ("Worth every penny", "I'd ordered the small one first, then returned it and selected the large. Customer service didn't drop the ball once.", 5),
    ("Meh", "It's OK. The 'premium' cover is the same as the normal one, or close enough that I can't tell where they differ.", 3),
    ("Don't buy", "Stopped charging after a week. Where's the quality control? 1 star and that's generous.", 1),
    ("Love it!", "Bought it for my mum's 70th -- she's 'not a gadget person' but she uses it every day.", 5),
    ("Good but...", "The instructions say 'insert tab A into slot B', and there's no slot B. Figured it out eventually.", 4),
    ("Decent hotel", "Rooms were clean; breakfast was 'continental', i.e. bread and jam. Staff were lovely, though.", 4),
    ("Not as described", "Listing said 'sleeps 4' -- two of those 4 would be on the floor. Location's great or I'd give 1.", 2),
    ("Exactly what I needed", "Select the 'fast' cycle and it's done in 20 min. My old one took an hour & a half.", 5),
    ("Returned", "Size chart's off by one, or maybe two. I'm a 10 and the 12 was tight.", 2),
    ("Solid", "Union-made, sturdy stitching, and the 'lifetime warranty' is real -- they replaced a broken zip, no questions.", 5),
]:
    review(title, text, stars)

for subject, body in [
    ("Can't update my billing address", "Hi, when I try to update the address on my account it says 'An error occurred, please try again or contact support'. I've tried three times today. Thanks, Mark O'Leary"),
    ("Please delete my old account", "I'd like you to delete the account under my old email (j.smith@example.com) and keep the new one. Where do I confirm this?"),
    ("Order shows 'dropped' status", "My order status changed from 'shipped' to 'dropped' -- what does that mean? Was it lost or returned?"),
    ("Selecting a plan for a nonprofit", "We're a small charity; which plan would you select for 15 users? Is there a discount for registered nonprofits, or is that only for schools?"),
    ("Union dues deduction wrong", "Payroll deducted union dues twice on the 31st. Can someone in HR check and refund one of them?"),
    ("Table booking for 12 on Friday", "Hi there -- is it possible to join two tables for a group of 12 this Friday at 7? We'll order from the set menu."),
    ("Login loop", "After entering my password I'm sent back to the login page, again and again. Happens in Chrome & Safari, not in Firefox."),
    ("Wrong item", "I ordered the 'Select' edition and received the standard one. Where should I send it back?"),
]:
    ticket(subject, body)

# ------------------------------------------------------------------------------------
# B. Shell / command words in prose
# ------------------------------------------------------------------------------------
for t in [
    "cat & dog; fish | bird",
    "run my script tonight && then sleep",
    "kill bill vol 2 streaming",
    "cat sitting; dog walking | house sitting rates",
    "echo dot vs echo pop",
    "wget rid of fruit flies naturally",
    "ping pong table dimensions",
    "how to chmod my life together lol",
    "bash the trash: a podcast about bad movies",
    "sudo make me a sandwich t-shirt",
    "rm -rf meme origin",
    "curl bar workout for beginners",
]:
    search(t)

for t, a in [
    ("Kids asleep; wine poured | life is good && tomorrow is Saturday", None),
    ("Who's on cat duty this weekend? I can do Sat AM & Sun PM; Jo can take the rest || we ask the neighbours.", "housemate_ellie"),
    ("Step 1: mix flour & water. Step 2: let it rest; then knead | fold | repeat for 10 min.", None),
    ("I'll sleep 5 minutes, then ping you, then we'll finally kill the old staging box. Deal?", None),
    ("Remember: the cat's name is `Echo`, and `Whoami` is the parrot. Don't mix them up at the vet.", None),
    ("Pipe dreams & tin cans; a memoir -- now $4.99 on e-book!", None),
    ("Our band is called 'Background Process' and we play every Friday at 9 & 11 -- come by!", "bg_process_band"),
    ("Dad joke of the day: why did the shell script break up with the terminal? Too many arguments.", None),
    ("The plumber said the pipe | valve combo needs replacing; quote was $350 & that's before tax.", None),
    ("Reminder -- standup moved to 10:15; bring coffee && good vibes", None),
    ("The recipe literally says: 'cat the onions' -- I think they meant 'cut'?", None),
    ("Tonight's plan: dinner; movie || board games if it rains; bed by 11 (ha!)", None),
]:
    comment(t, a)

for subject, body in [
    ("Cron email every minute", "Since the update I get an email titled 'Cron <root@web01> /usr/local/bin/backup.sh' every minute. How do I turn this off in the hosting panel?"),
    ("Terminal access for my account", "Could you enable SSH/terminal access on my plan? I need to run `composer install` and `php artisan migrate` after deploys."),
    ("Ping times high from Lagos", "Ping to your EU server averages 210 ms from Lagos & spikes to 900 ms in the evening. Any chance of an African PoP?"),
]:
    ticket(subject, body)

# ------------------------------------------------------------------------------------
# C. People's names, companies and addresses with apostrophes and punctuation
# ------------------------------------------------------------------------------------
for fields in [
    [("first_name", "Conan"), ("last_name", "O'Brien"), ("email", "conan.obrien@example.com")],
    [("first_name", "D'Arcy"), ("last_name", "Wretzky-Brown"), ("email", "darcy@example.net")],
    [("first_name", "Mary-Kate"), ("last_name", "O'Sullivan-Ní Dhomhnaill"), ("email", "mk.osullivan@example.ie")],
    [("full_name", "Jean-Luc d'Alembert"), ("company", "d'Alembert & Fils S.A.R.L."), ("vat", "FR 40 303 265 045")],
    [("name", "Ngũgĩ wa Thiong'o"), ("city", "Nairobi"), ("phone", "+254 20 123 4567")],
    [("name", "Anne-Marie N'Guessan"), ("address", "Rue 12, Cocody -- Abidjan"), ("phone", "+225 07 07 07 07")],
    [("name", "Shaquille O'Neal"), ("team", "L.A. Lakers ('96-'04)")],
    [("contact", "Ma'ayan Ben-'Ami"), ("org", "Tel Aviv Uni. -- Dept. of CS")],
    [("customer", "L'Oréal Paris"), ("attn", "Mme. Dupont"), ("ref", "PO#2024/0419-B")],
    [("company", "Ben & Jerry's Homemade Holdings, Inc."), ("dept", "R&D / Flavour Gurus")],
    [("name", "Renée O'Connor-D'Amato"), ("note", "two apostrophes, one hyphen -- please don't 'fix' my surname again")],
    [("street", "1 O'Connell St."), ("city", "Dublin 1"), ("county", "Co. Dublin"), ("eircode", "D01 F5P2")],
    [("first_name", "Zoë"), ("last_name", "D'Souza"), ("dob", "03/11/1991"), ("notes", "Prefers 'Zo'; allergic to penicillin & latex")],
    [("guest", "Mr & Mrs O'Hara + 2 kids (ages 4 & 7)"), ("requests", "cot please; late check-in ~23:00")],
    [("author", "Hawking, S. W.; Penrose, R."), ("title", "The Nature of Space and Time"), ("publisher", "Princeton Univ. Press")],
]:
    host, path = pick(("www.example-saas.io", "/signup"), ("shop.northwindoutfitters.com", "/account/addresses"), ("www.example-clinic.org", "/patients/new"), ("www.travelnest.com", "/booking/guest-details"), ("www.example-library.org", "/requests/new"))
    form_field(host, path, fields, jar=pick("ga", "php", "django", "shopify"), tag="names")

for q in ["O'Neill", "D'Angelo, Maria", "Mc'Kenzie & Sons plumbing", "Côte d'Ivoire embassy", "Martha's Vineyard ferry", "'t Hooft Nobel prize"]:
    R(pick("www.example-univ.edu", "www.example-phonebook.com", "www.linkedin.com"), pick("/people/directory", "/search", "/search/results/people/"), [("name" if G.chance(0.5) else "keywords", q)], jar="ga", ref=True, tag="names")

# ------------------------------------------------------------------------------------
# D. Code pasted while asking for help (SQL, Python, JS, PHP, Java, bash, PowerShell)
# ------------------------------------------------------------------------------------
qa("Why does my prepared statement return nothing?", "why does `SELECT * FROM orders WHERE id = ?` return nothing when I bind 42? The row definitely exists.\n\n```java\nPreparedStatement ps = conn.prepareStatement(\"SELECT * FROM orders WHERE id = ?\");\nps.setString(1, \"42\");\nResultSet rs = ps.executeQuery();\n```\nColumn `id` is BIGINT.", ["java", "jdbc", "mysql"])
qa("LEFT JOIN returns duplicates", "I have:\n\n```sql\nSELECT c.name, o.total\nFROM customers c\nLEFT JOIN orders o ON o.customer_id = c.id\nWHERE o.created_at >= '2024-01-01';\n```\n\nBut customers without orders disappear. I thought LEFT JOIN keeps them?", ["sql", "postgresql"])
qa("GROUP BY with HAVING count > 1 is slow", "Query takes 40s on 20M rows:\n\n```sql\nSELECT email, COUNT(*) AS n\nFROM users\nGROUP BY email\nHAVING COUNT(*) > 1\nORDER BY n DESC;\n```\nThere's an index on email. EXPLAIN shows a seq scan. Postgres 15.", ["sql", "performance"])
qa("UNION vs UNION ALL removed my rows", "Why does\n```sql\nSELECT city FROM suppliers\nUNION\nSELECT city FROM customers;\n```\ngive 91 rows but `UNION ALL` gives 120? I expected the same count.", ["sql"])
qa("MySQL: how to update with a join?", "I want to set `products.stock = 0` for every product whose supplier is inactive. This errors out:\n\n```sql\nUPDATE products SET stock = 0 WHERE supplier_id IN (SELECT id FROM suppliers WHERE active = 0);\n```\n`ERROR 1093 (HY000): You can't specify target table 'products' for update in FROM clause`", ["mysql"])
qa("SQLite says 'database is locked'", "Two Python processes write to the same file. Sometimes I get `sqlite3.OperationalError: database is locked` on `INSERT INTO events (ts, kind) VALUES (?, ?)`. Is WAL mode the fix?", ["python", "sqlite"])
qa("Oracle: select first row per group", "In Oracle 19c, how do I get the latest order per customer? I tried `ROWNUM = 1` inside a subquery with ORDER BY but it picks random rows.", ["oracle", "sql"])
qa("DELETE with a subquery deletes everything??", "I ran `DELETE FROM sessions WHERE user_id IN (SELECT user_id FROM users WHERE deleted_at IS NOT NULL);` in staging and it wiped the whole table. Turns out `users` has no `user_id` column -- why didn't it error?", ["sql", "postgresql"])
answer("Use a CTE with `ROW_NUMBER()`:\n\n```sql\nWITH ranked AS (\n  SELECT o.*, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY created_at DESC) AS rn\n  FROM orders o\n)\nSELECT * FROM ranked WHERE rn = 1;\n```\nWorks in Oracle 12c+, Postgres, SQL Server and MySQL 8.")
answer("Your `WHERE` clause turns the LEFT JOIN into an inner join. Move the filter into the ON:\n\n```sql\nLEFT JOIN orders o ON o.customer_id = c.id AND o.created_at >= '2024-01-01'\n```")
answer("Never build SQL with string concatenation like `\"... WHERE name = '\" + name + \"'\"` -- use parameters (`cursor.execute(\"SELECT * FROM t WHERE name = %s\", (name,))`). That also fixes the O'Brien quoting bug you're seeing.")
qa("SQL Server: sleep inside a stored procedure?", "Is there something like `sleep(5)` in T-SQL? I need a pause between batches in a maintenance job. Found `WAITFOR DELAY '00:00:05'` -- is that the right approach in a job step?", ["sql-server", "t-sql"])
qa("pandas groupby then filter", "```python\ndf = pd.read_csv('sales.csv')\ntop = df.groupby('region')['amount'].sum().sort_values(ascending=False)\nprint(top[top > 1_000_000])\n```\nHow do I keep the other columns? `.agg()` drops them.", ["python", "pandas"])
qa("subprocess.run hangs forever", "This never returns:\n```python\nimport subprocess\nres = subprocess.run(['ssh', 'backup@nas', 'ls -la /volume1'], capture_output=True, text=True)\nprint(res.stdout)\n```\nRunning the same command in my terminal works fine. Python 3.11 on macOS.", ["python", "subprocess"])
qa("os.system vs subprocess for simple commands?", "I'm maintaining a script that does `os.system('convert ' + infile + ' -resize 50% ' + outfile)`. A reviewer said to switch to `subprocess.run([...])`. Is there a real difference if filenames come from our own bucket?", ["python"])
qa("Python eval() on a config value -- alternatives?", "Our legacy config stores `timeout = \"60*5\"` and the loader does `eval(value)`. What's a safer way? `ast.literal_eval` rejects the multiplication.", ["python", "security"])
qa("Flask: request.args.get returns None", "```python\n@app.route('/search')\ndef search():\n    q = request.args.get('q')\n    return render_template('results.html', q=q)\n```\nCalling `/search?q=tea%20%26%20coffee` gives `tea ` only. Why is the & cut off?", ["python", "flask"])
qa("Django ORM: filter on JSONField key", "`Order.objects.filter(meta__shipping__country='DE')` returns nothing, but `SELECT ... WHERE meta->'shipping'->>'country' = 'DE'` in psql returns 40 rows. What am I missing?", ["django", "postgresql"])
qa("JS: Why does [] + {} give '[object Object]'?", "In the console:\n```js\n[] + {}   // '[object Object]'\n{} + []   // 0\n```\nWhat on earth is happening here?", ["javascript"])
qa("innerHTML vs textContent", "My code does `el.innerHTML = '<b>' + user.name + '</b>'`. A linter flags it. Should I use `textContent` and wrap in a `<b>` created with `document.createElement('b')`? Seems verbose.", ["javascript", "dom"])
qa("fetch() with async/await swallows errors", "```js\nasync function load() {\n  const res = await fetch('/api/items?limit=20&sort=-created');\n  const data = await res.json();\n  return data.items.map(i => i.name);\n}\n```\nA 500 from the server still resolves -- how do I make it throw?", ["javascript", "fetch-api"])
qa("React useEffect runs twice", "`useEffect(() => { console.log('mounted'); return () => console.log('cleanup'); }, []);` logs mounted, cleanup, mounted in dev. Is StrictMode doing this?", ["reactjs"])
qa("Regex to match a US phone number in JS", "I'm using `/^\\(?\\d{3}\\)?[-. ]?\\d{3}[-. ]?\\d{4}$/` and it rejects `+1 415 555 0132`. How do I allow an optional country code?", ["javascript", "regex"])
qa("Node child_process.exec and spaces in paths", "```js\nconst { exec } = require('child_process');\nexec(`ffmpeg -i ${input} -vf scale=1280:-1 ${output}`, (err, stdout) => { ... });\n```\nBreaks when the file is called `My Holiday (2023).mov`. Should I use `execFile` with an args array?", ["node.js"])
qa("Vue v-html warning", "ESLint says `vue/no-v-html` on `<div v-html=\"post.body\"></div>`. Post bodies come from our CMS and are sanitized with DOMPurify on save. Is it safe to disable the rule here?", ["vue.js", "eslint"])
qa("PHP: mysqli prepared statement with LIKE", "```php\n$stmt = $mysqli->prepare(\"SELECT id, title FROM posts WHERE title LIKE ?\");\n$term = \"%\" . $_GET['q'] . \"%\";\n$stmt->bind_param(\"s\", $term);\n$stmt->execute();\n```\nReturns zero rows for `q=o'reilly`. Should I be escaping the quote myself?", ["php", "mysqli"])
qa("PHP shell_exec returns null", "`$out = shell_exec('git rev-parse --short HEAD');` gives null on the server but works in CLI. safe_mode is off. Is `shell_exec` disabled in php.ini disable_functions?", ["php"])
qa("Laravel whereRaw with bindings", "Is `->whereRaw('LOWER(email) = ?', [strtolower($email)])` safe, or should I avoid raw where entirely?", ["laravel", "eloquent"])
qa("Java: Runtime.exec with pipes doesn't work", "`Runtime.getRuntime().exec(\"ps aux | grep java\")` returns nothing. I read that pipes need a shell -- do I need `new String[]{\"/bin/sh\", \"-c\", \"ps aux | grep java\"}`?", ["java"])
qa("Hibernate HQL: select new with join fetch", "```java\nList<OrderDto> list = session.createQuery(\n  \"select new com.acme.OrderDto(o.id, c.name) from Order o join o.customer c where o.status = :st\", OrderDto.class)\n  .setParameter(\"st\", Status.SHIPPED).list();\n```\nWorks, but adding `join fetch` throws `query specified join fetching, but the owner of the fetched association was not present`.", ["java", "hibernate"])
qa("Spring @Query with native SQL and pagination", "`@Query(value = \"SELECT * FROM users WHERE country = :c ORDER BY created_at DESC\", nativeQuery = true)` -- how do I add Pageable? I get `Cannot use native queries with dynamic sorting`.", ["spring-data-jpa"])
qa("Bash: find and delete files older than 30 days", "Is this right? I'm scared of running it on prod:\n```bash\nfind /var/log/myapp -name '*.log' -mtime +30 -exec rm {} \\;\n```\nShould I use `-delete` instead?", ["bash", "find"])
qa("Bash: read a file line by line with spaces", "```bash\nfor f in $(cat files.txt); do\n  echo \"processing $f\"\ndone\n```\nBreaks on filenames with spaces. What's the idiomatic way? `while IFS= read -r line`?", ["bash"])
qa("Why does `ls | wc -l` differ from `ls -1 | wc -l`?", "On macOS they give the same count, but a colleague swears they don't on Linux. Also, does `ls -A` count dotfiles?", ["shell"])
qa("cron job doesn't see my PATH", "My crontab line is `*/5 * * * * cd /home/deploy/app && ./bin/sync.sh >> /tmp/sync.log 2>&1` and the script fails with `node: command not found`. It works when I run it by hand.", ["cron", "linux"])
qa("tar: Removing leading `/' from member names", "When I run `tar -czf backup.tar.gz /etc/nginx /var/www` I get `tar: Removing leading '/' from member names`. Is that a problem for restoring?", ["tar", "linux"])
answer("Use `set -euo pipefail` at the top, quote your variables (`\"$file\"`), and prefer `$(...)` over backticks. For the loop: `while IFS= read -r f; do echo \"$f\"; done < files.txt`.")
answer("`nc -zv db01 5432` checks the port is open without sending data. If it hangs, it's the firewall, not Postgres. Also try `ss -ltnp | grep 5432` on the DB host.")
answer("On Windows use `where python` (not `which`). In PowerShell, `Get-Command python | Select-Object Source` shows the full path.")
qa("PowerShell: pipe output to a file without truncation", "`Get-Process | Sort-Object CPU -Descending | Select-Object -First 20 | Out-File C:\\temp\\top.txt` cuts long names with '...'. How do I keep the full width?", ["powershell"])
qa("Batch file: check if a folder exists", "In a .bat I have `if exist \"C:\\Program Files\\Acme\\\" (echo found) else (echo missing)` -- it always says missing even though the folder is there. Any idea?", ["batch-file", "windows"])
qa("Dockerfile RUN with && vs multiple RUNs", "Is there a difference between\n```dockerfile\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n```\nand three separate `RUN` lines, besides image layers?", ["docker"])
qa("Go: exec.Command with shell redirection", "`exec.Command(\"sh\", \"-c\", \"pg_dump mydb > /backups/db.sql\")` works but my reviewer says avoid `sh -c`. How do I redirect stdout to a file with plain exec.Command?", ["go"])

# ------------------------------------------------------------------------------------
# E. Benign HTML from CMS / WYSIWYG editors
# ------------------------------------------------------------------------------------
for title, h in [
    ("Spring menu", "<p>Our <strong>spring menu</strong> is here! Try the <em>wild garlic risotto</em> and the rhubarb tart.</p>\n<p>Book a table <a href=\"https://www.greenleafcafe.com/book\">online</a> or call us.</p>"),
    ("Opening hours", "<h2>Opening hours</h2>\n<table>\n<thead><tr><th>Day</th><th>Hours</th></tr></thead>\n<tbody>\n<tr><td>Mon&ndash;Fri</td><td>8:00 &ndash; 18:00</td></tr>\n<tr><td>Sat</td><td>9:00 &ndash; 16:00</td></tr>\n<tr><td>Sun</td><td>Closed</td></tr>\n</tbody>\n</table>"),
    ("Product description", "<ul>\n<li>100% recycled nylon shell</li>\n<li>650-fill responsibly sourced down</li>\n<li>Packs into its own pocket</li>\n</ul>\n<p><img src=\"https://cdn.shopify.com/s/files/1/0523/4567/8901/files/size-chart.png\" alt=\"Size chart\" width=\"600\" height=\"400\"></p>"),
    ("Quote of the week", "<blockquote><p>&ldquo;The best time to plant a tree was 20 years ago. The second best time is now.&rdquo;</p><footer>&mdash; Chinese proverb</footer></blockquote>"),
    ("Sale banner", "<p style=\"text-align: center;\"><span style=\"color: #c0392b; font-size: 18px;\"><strong>Spring sale: 20% off everything</strong></span><br>Use code <code>SPRING20</code> at checkout.</p>"),
    ("Newsletter April", "<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td align=\"center\" style=\"padding:24px;background:#f4f4f4\"><h1 style=\"font-family:Arial,sans-serif;color:#333\">Hello, {{ first_name }}!</h1><p style=\"font-family:Arial,sans-serif\">Here's what's new this month.</p></td></tr></table>"),
    ("Team page", "<h3>Meet the team</h3>\n<p><img src=\"/wp-content/uploads/2024/03/anna.jpg\" alt=\"Anna smiling in the kitchen\" width=\"300\" height=\"300\" class=\"alignleft size-medium wp-image-1291\"> <strong>Anna</strong> &ndash; head chef, formerly at <em>Le Petit Jardin</em>.</p>"),
    ("FAQ", "<dl>\n<dt>Do you deliver?</dt><dd>Yes, within 5&nbsp;km on orders over &euro;20.</dd>\n<dt>Are you dog-friendly?</dt><dd>Absolutely &ndash; water bowls by the door!</dd>\n</dl>"),
    ("Recipe: pancakes", "<ol>\n<li>Whisk 2 eggs &amp; 300&nbsp;ml milk.</li>\n<li>Add 200&nbsp;g flour, a pinch of salt.</li>\n<li>Rest 30 min; fry in butter.</li>\n</ol>\n<p><em>Tip:</em> the first one is always a disaster &#128578;</p>"),
    ("Press release", "<p><strong>BERLIN, 23 April 2024</strong> &mdash; Acme GmbH today announced &hellip;</p><p>For press enquiries contact <a href=\"mailto:press@acme.example\">press@acme.example</a>.</p>"),
    ("Terms update", "<p>We've updated our <a href=\"https://www.example-saas.io/legal/terms\" target=\"_blank\" rel=\"noopener noreferrer\">Terms of Service</a>. Key changes:</p><ul><li>Section 4.2 (data retention)</li><li>Section 9 (governing law)</li></ul>"),
    ("Event recap", "<figure><img src=\"https://images.example-store.com/events/2024/meetup.jpg\" alt=\"Meetup crowd\" width=\"1200\" height=\"800\" loading=\"lazy\"><figcaption>120 people showed up &mdash; thank you!</figcaption></figure>"),
    ("Shipping info", "<p>Orders placed before <strong>2&nbsp;pm</strong> ship the same day.<br>\nUK: 1&ndash;2 days<br>\nEU: 3&ndash;5 days<br>\nRest of world: 7&ndash;14 days</p>"),
    ("Code tutorial", "<p>To list files, run:</p><pre><code class=\"language-bash\">ls -la ~/projects | grep README</code></pre><p>Then open the one you want with <code>less</code>.</p>"),
    ("SQL tutorial part 2", "<h2>Filtering rows</h2><p>Use <code>WHERE</code> to filter:</p><pre><code class=\"language-sql\">SELECT name, price FROM products WHERE price &lt; 20 ORDER BY price;</code></pre><p>Next week: <em>JOINs</em>.</p>"),
    ("Video embed", "<p>Watch our founder explain the idea:</p><p><a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\"><img src=\"https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg\" alt=\"Video thumbnail\" width=\"480\" height=\"360\"></a></p>"),
    ("Signature", "<div style=\"font-family: Calibri, sans-serif; font-size: 11pt;\"><b>Jürgen Müller</b><br>Head of Sales | Acme GmbH<br>T: +49 30 1234567 | <a href=\"https://acme.example\">acme.example</a></div>"),
    ("Accessibility statement", "<p lang=\"en\">We aim to meet <abbr title=\"Web Content Accessibility Guidelines\">WCAG</abbr> 2.2 AA. If something doesn't work for you, <a href=\"/contact?topic=accessibility\">tell us</a>.</p>"),
    ("Changelog", "<h4>v5.12.1</h4><ul><li><del>Old checkout</del> removed</li><li><ins>Apple Pay</ins> added</li><li>Fixed: totals showed &lt;0.00 for free items</li></ul>"),
    ("Poem", "<p><em>Two roads diverged in a yellow wood,<br>And sorry I could not travel both</em><br>&mdash; Robert Frost</p>"),
    ("Math notes", "<p>If <var>x</var> &gt; 3 and <var>y</var> &le; 5 then <var>x</var> &minus; <var>y</var> &gt; &minus;2. Also <sup>2</sup>&frasl;<sub>3</sub> of 9 is 6.</p>"),
    ("Store locator intro", "<p>Find us at <a href=\"https://maps.google.com/?q=Northwind+Outfitters+Denver\" target=\"_blank\">1234 Larimer St, Denver</a> &middot; <span style=\"white-space:nowrap\">Mon&ndash;Sat 10&ndash;7</span></p>"),
    ("Careers", "<h2>We're hiring!</h2><p>Roles:</p><ul><li><a href=\"/careers/backend-engineer\">Backend Engineer (Go)</a></li><li><a href=\"/careers/designer\">Product Designer</a></li></ul><p>Don't see your role? Email <a href=\"mailto:jobs@acme.example\">jobs@acme.example</a>.</p>"),
    ("Footnote", "<p>Results may vary.<sup><a href=\"#fn1\" id=\"ref1\">1</a></sup></p><hr><p id=\"fn1\"><small>1. Based on an internal survey of 312 customers, March 2024.</small></p>"),
    ("Comparison table", "<table class=\"compare\"><tr><th></th><th>Basic</th><th>Pro</th></tr><tr><td>Users</td><td>3</td><td>Unlimited</td></tr><tr><td>Storage</td><td>10&nbsp;GB</td><td>1&nbsp;TB</td></tr><tr><td>Support</td><td>Email</td><td>24/7 phone &amp; chat</td></tr></table>"),
    ("Welcome email", "<p>Hi {{customer.first_name}},</p><p>Thanks for joining! Your order <strong>#{{order.number}}</strong> is on its way.</p><p>&mdash; The Northwind team</p>"),
    ("Allergens", "<p><span style=\"background-color: #fff3cd;\">&#9888; Contains: <strong>gluten, milk, eggs</strong>. May contain traces of nuts.</span></p>"),
    ("Gallery", "<div class=\"gallery\"><img src=\"/img/g/1.webp\" alt=\"Latte art\" width=\"320\"><img src=\"/img/g/2.webp\" alt=\"Sourdough loaf\" width=\"320\"><img src=\"/img/g/3.webp\" alt=\"Outdoor seating\" width=\"320\"></div>"),
    ("Downloads", "<p>Download the <a href=\"https://files.example-saas.io/download?file=user-guide-v5.pdf\" download>user guide (PDF, 2.4&nbsp;MB)</a>.</p>"),
    ("Inline styles", "<p><span style=\"font-weight:bold;color:rgb(34,34,34)\">Note:</span> <span style=\"font-style:italic\">prices include VAT at 20%</span></p>"),
]:
    cms(h, title)

for t in [
    "<p>Thanks so much!! The <b>garlic bread</b> was <i>amazing</i></p>",
    "<p>Agree with <a href=\"https://www.example-forum.net/members/torque_tom.4412/\">@torque_tom</a> -- 0w-20 is fine.</p>",
    "<blockquote>I'd never go back</blockquote><p>Same here.</p>",
    "<p>Here's the diagram:<br><img src=\"https://i.imgur.com/a1B2c3D.png\" alt=\"wiring diagram\"></p>",
    "<ul><li>pros: cheap</li><li>cons: loud</li></ul>",
]:
    comment(t)

# ------------------------------------------------------------------------------------
# F. Markdown
# ------------------------------------------------------------------------------------
for t in [
    "## Release notes\n\n- **Fixed** a crash when the cart had > 99 items\n- *Improved* search for names like O'Brien\n- Removed `--legacy` flag\n\nSee [the docs](https://docs.example-saas.io/changelog) for details.",
    "# Meeting notes 2024-04-23\n\n1. Q2 roadmap -- agreed\n2. Hiring: 2 × backend, 1 × design\n3. AOB: office plants (again)\n\n> Action: @maria to book the room for Friday",
    "| Plan | Price | Users |\n|------|------:|------:|\n| Basic | $9 | 3 |\n| Team | $49 | 25 |\n| Enterprise | call us | ∞ |",
    "Quick tip: wrap inline code in backticks like `SELECT 1;` and blocks in triple backticks:\n\n```\nnpm install && npm run build\n```",
    "- [x] write tests\n- [ ] update README\n- [ ] tag release `v2.3.0`\n\n_ETA: Friday_ :shipit:",
    "**TL;DR:** don't `chmod 777` your web root. Use `chown -R www-data:www-data /var/www/site` and `chmod 755` dirs, `644` files.",
    "![screenshot](https://user-images.githubusercontent.com/12345/abcdef-1234.png)\n\nSteps to reproduce:\n1. Open Settings\n2. Click *Export*\n3. Nothing happens",
    "### Changelog\n\n* `orders.select_related()` now used in the admin list view\n* Dropped support for Python 3.8\n* `DELETE /v1/items/{id}` returns 204 instead of 200",
    "> **Note**\n> The `where` clause is applied *before* `group by`, and `having` *after*.\n\nThat's the whole trick.",
    "Footnotes work too[^1].\n\n[^1]: Like this one, with a [link](https://commonmark.org/help/).",
    "~~Old price: $120~~ **Now $89** -- while stocks last!",
    "```python\nfor i in range(3):\n    print(f\"{i=}\")\n```\nprints `i=0`, `i=1`, `i=2`.",
    "Ping @devops -- the `nightly && deploy` job failed again :( Log: https://ci.example-saas.io/job/nightly/412/console",
    "Keyboard shortcuts: <kbd>Ctrl</kbd> + <kbd>Shift</kbd> + <kbd>P</kbd> opens the command palette.",
    "Definition list hack:\n\nTerm\n: Definition with *emphasis*\n\nAnother term\n: Another definition (see [RFC 7763](https://www.rfc-editor.org/rfc/rfc7763))",
]:
    v = G.r.randint(0, 2)
    if v == 0:
        api("api.github.com", f"/repos/acme/app/issues/{G.r.randint(100, 999)}/comments", {"body": t}, prof=pick("python", "node", "curl"), tag="markdown")
    elif v == 1:
        R("gitlab.example-corp.com", f"/api/v4/projects/{G.r.randint(10, 400)}/merge_requests/{G.r.randint(1, 800)}/notes", form=[("body", t)], prof=pick("chrome_linux", "firefox_linux"), kind="xhr", jar="rails", tag="markdown")
    else:
        R("notes.example-saas.io", "/api/pages/" + G.uuid(), method="PUT", prof=pick("chrome_mac", "safari_mac"), js={"title": t.splitlines()[0].lstrip("#* ")[:60], "markdown": t, "version": G.r.randint(2, 80)}, jar="jwt", tag="markdown")

# ------------------------------------------------------------------------------------
# G. Data blobs: CSV, JWT, keys, UUIDs, hashes, base64, PEM
# ------------------------------------------------------------------------------------


def b64j(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


JWT1 = b64j({"alg": "HS256", "typ": "JWT"}) + "." + b64j({"sub": "1234567890", "name": "Seán O'Connor", "iat": 1713870000, "roles": ["admin", "billing"]}) + "." + G.b64(32, urlsafe=True)
JWT2 = b64j({"alg": "RS256", "kid": "2024-04"}) + "." + b64j({"iss": "https://auth.example-saas.io", "aud": ["api"], "scope": "orders:read orders:write", "exp": 1713877200}) + "." + G.b64(256, urlsafe=True)

api("api.example-saas.io", "/v1/import/csv", {"filename": "contacts.csv", "rows": ["name,email,company,notes", "\"O'Brien, Pat\",pat@example.ie,\"Smith & Sons\",\"likes 'select' wines; call after 5\"", "Ana Lima,ana@example.br,Lima Ltda.,\"VIP; discount=10%\""]}, tag="data")
R("app.example-saas.io", "/api/v1/import", "format=csv¦delimiter=;¦header=true", prof="chrome_win", style="js", body="id;name;price;category\n1;\"Drop-leaf table\";149.00;Furniture\n2;\"Union Jack cushion\";19.99;Decor\n3;\"Select-a-size rug\";89.50;Rugs\n", ctype="text/csv", jar="jwt", tag="data")
form_field("reports.example-corp.com", "/upload/paste", [("data", "date,region,sales\n2024-04-01,EMEA,\"1,204,000\"\n2024-04-01,APAC,\"988,500\"\n2024-04-01,AMER,\"2,001,300\""), ("has_header", "1")], jar="java", tag="data")
R("api.example-saas.io", "/v1/me", prof="curl", extra=[("Authorization", "Bearer " + JWT1)], jar=None, tag="data")
R("api.example-saas.io", "/v1/token/introspect", prof="go", form=[("token", JWT2), ("token_type_hint", "access_token")], extra=[("Authorization", "Basic " + base64.b64encode(b"gateway:s3cr3t-p@ss!").decode())], jar=None, tag="data")
R("jwt-debugger.example.dev", "/", "token=" + JWT1, prof="firefox_linux", jar=None, tag="data")
api("api.example-saas.io", "/v1/integrations", {"provider": "stripe", "secret_key": "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "webhook_secret": "whsec_" + G.alnum(32), "publishable_key": "pk_test_TYooMQauvdEDq54NiTphI7jx"}, prof="chrome_mac", tag="data")
api("api.example-saas.io", "/v1/integrations", {"provider": "aws", "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "region": "eu-central-1"}, prof="chrome_win", tag="data")
R("api.example-maps.com", "/v2/tiles/12/2048/1361.pbf", "key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", prof="okhttp", jar=None, tag="data")
R("api.example-saas.io", "/v1/objects/" + G.uuid(), "expand=owner¦rev=" + G.uuid(), prof="axios", extra=[("X-Request-ID", G.uuid()), ("If-None-Match", "W/\"" + G.hexs(32) + "\"")], jar=None, tag="data")
api("releases.example-app.com", "/v1/verify", {"file": "ExampleApp-4.2.1.dmg", "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "md5": "d41d8cd98f00b204e9800998ecf8427e", "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}, prof="go", tag="data")
R("git.example-corp.com", "/acme/app/commit/" + G.hexs(40), "diff=split¦w=1", jar="ga", tag="data")
R("registry.example-corp.com", "/v2/acme/api/manifests/sha256:" + G.hexs(64), prof="go", extra=[("Accept", "application/vnd.oci.image.manifest.v1+json")], jar=None, tag="data")
api("api.example-saas.io", "/v1/attachments", {"name": "logo.png", "content_type": "image/png", "data": base64.b64encode(bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + bytes(G.r.getrandbits(8) for _ in range(180))).decode()}, prof="chrome_win", tag="data")
api("api.example-saas.io", "/v1/attachments", {"name": "contract.pdf", "content_type": "application/pdf", "data": base64.b64encode(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + bytes(G.r.getrandbits(8) for _ in range(120))).decode()}, prof="python", tag="data")
R("www.example-saas.io", "/share", "d=" + base64.urlsafe_b64encode(json.dumps({"view": "board", "filters": {"assignee": "me", "status": ["todo", "doing"]}, "sort": "-updated"}).encode()).decode(), jar="ga", tag="data")
R("app.example-saas.io", "/embed", "config=" + base64.b64encode(json.dumps({"theme": "dark", "lang": "en", "title": "Sales & Ops"}).encode()).decode(), prof="chrome_win", jar="ga", tag="data")
api("ssh.example-saas.io", "/v1/keys", {"title": "work laptop", "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + G.b64(24).rstrip("=") + " jane@work-laptop"}, prof="chrome_linux", tag="data")
api("vault.example-corp.com", "/v1/pki/issue/web", {"common_name": "shop.example-corp.com", "csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIICvDCCAaQCAQAwdzELMAkGA1UEBhMCVVMxDTALBgNVBAgMBFV0YWgxDzANBgNV\nBAcMBkxpbmRvbjEWMBQGA1UECgwNRGlnaUNlcnQgSW5jLjERMA8GA1UECwwIRGln\naUNlcnQxHTAbBgNVBAMMFGV4YW1wbGUuZGlnaWNlcnQuY29tMIIBIjANBgkqhkiG\n-----END CERTIFICATE REQUEST-----\n", "ttl": "720h"}, prof="go", tag="data")
api("api.example-saas.io", "/v1/sso/saml", {"idp_entity_id": "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/", "idp_cert": "-----BEGIN CERTIFICATE-----\nMIIC8DCCAdigAwIBAgIQd2pDD6Sl+olHUvVnzdwFeDANBgkqhkiG9w0BAQsFADA0\nMTIwMAYDVQQDEylNaWNyb3NvZnQgQXp1cmUgRmVkZXJhdGVkIFNTTyBDZXJ0aWZp\n-----END CERTIFICATE-----", "sso_url": "https://login.microsoftonline.com/72f988bf/saml2"}, prof="chrome_win", tag="data")
R("api.example-saas.io", "/v1/webhooks/verify", prof="python", js={"signature": "t=1713873600,v1=" + G.hexs(64), "payload_sha256": G.hexs(64)}, extra=[("X-Signature", "sha256=" + G.hexs(64)), ("X-Timestamp", "1713873600")], jar=None, tag="data")
R("www.example-saas.io", "/verify", "h=" + G.hexs(40) + "¦e=1713877200¦u=" + G.uuid(), jar=None, tag="data")
api("api.example-pay.com", "/v1/cards/tokenize", {"encrypted": G.b64(256), "key_id": "2024-04-rsa-oaep", "iv": G.b64(12), "tag": G.b64(16)}, prof="ios_app", tag="data")
api("api.example-saas.io", "/v1/devices", {"push_token": G.hexs(64), "fcm": G.alnum(11) + ":APA91b" + G.b64(100, urlsafe=True), "idfv": G.uuid().upper()}, prof="ios_app", tag="data")
R("app.example-saas.io", "/api/v1/ulid/01HW3K9F2Q8Z7X6V5T4R3N2M1P", prof="chrome_mac", kind="xhr", jar="jwt", tag="data")
R("www.example-store.com", "/cart/recover", "token=" + G.b64(48, urlsafe=True) + "¦c=" + base64.b64encode(b'{"items":[{"id":44012345678901,"q":1}]}').decode(), jar="shopify", tag="data")
api("license.example-app.com", "/v1/activate", {"license_key": "ABCD-1234-EFGH-5678-IJKL", "machine_id": G.hexs(32), "hostname": "DESKTOP-7Q2K9ZP", "os": "Windows 11 Pro 23H2"}, prof="dotnet", tag="data")
R("api.example-saas.io", "/v1/hash", prof="curl", body="$2b$12$" + G.alnum(53, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), ctype="text/plain", jar=None, tag="data")
api("api.example-saas.io", "/v1/geo/bulk", {"points": [[40.7128, -74.006], [51.5072, -0.1276], [-33.8688, 151.2093]], "precision": 6}, prof="python", tag="data")

# ------------------------------------------------------------------------------------
# H. Windows paths, regexes, cron expressions
# ------------------------------------------------------------------------------------
for t in [
    "C:\\Users\\Public\\Documents\\Quarterly Report (Q1).xlsx",
    "\\\\fileserver01\\Finance$\\2024\\Budgets\\FY24 v3 - FINAL.xlsx",
    "D:\\Projects\\bastion\\build\\Release\\app.exe",
    "%APPDATA%\\Microsoft\\Teams\\logs.txt",
    "C:\\Program Files (x86)\\Steam\\steamapps\\common\\Half-Life 2",
    "..\\..\\assets\\img\\logo@2x.png",
]:
    v = G.r.randint(0, 2)
    if v == 0:
        R("intranet.example-corp.com", "/docs/open.aspx", [("path", t), ("mode", "view")], prof="edge_win", jar="aspnet", tag="path")
    elif v == 1:
        api("helpdesk.example-corp.com", "/api/tickets/attach-path", {"ticket": "INC0012345", "path": t, "note": "user says file won't open"}, prof="edge_win", tag="path")
    else:
        form_field("backup.example-corp.com", "/jobs/new", [("source", t), ("schedule", "daily"), ("keep", "14")], jar="aspnet", tag="path")

for rx, note in [
    (r"^[\w.+-]+@[\w-]+\.[\w.-]+$", "email validation"),
    (r"(?i)^(?:select|insert|update|delete)\b", "SQL verb detector for our log classifier"),
    (r"\b(\d{1,3}\.){3}\d{1,3}\b", "IPv4 in logs"),
    (r"^/api/v[0-9]+/(users|orders)/\d+$", "route matcher"),
    (r"<[^>]+>", "strip tags (I know, I know)"),
    (r"(\$|\\)\{?[A-Z_]+\}?", "env var placeholders"),
    (r"^\s*#.*$", "comment lines"),
    (r"[|&;$`]", "chars to reject in filenames"),
]:
    v = G.r.randint(0, 1)
    if v == 0:
        R("regex101.example.com", "/api/regex", prof="chrome_win", js={"regex": rx, "flags": "gm", "testString": "jane.doe@example.com\nSELECT 1\n10.0.0.12\n/api/v2/users/42", "delimiter": "/", "flavor": "pcre", "description": note}, jar="ga", ref="https://regex101.example.com/", tag="regex")
    else:
        R("logs.example-saas.io", "/search", [("query", f"message =~ \"{rx}\""), ("range", "1h")], prof="firefox_linux", jar="django", tag="regex")

for cron, cmd in [
    ("*/15 * * * *", "php /var/www/html/artisan schedule:run >> /dev/null 2>&1"),
    ("0 3 * * 1-5", "/usr/local/bin/backup.sh --db main --keep 7"),
    ("30 2 1 * *", "find /tmp -type f -mtime +7 -delete"),
    ("@reboot", "cd /srv/app && ./venv/bin/gunicorn app:app -b 127.0.0.1:8000"),
    ("0 0 * * 0", "certbot renew --quiet && systemctl reload nginx"),
    ("5 4 * * sun", "echo \"weekly report\" | mail -s 'Report' ops@example.com"),
]:
    v = G.r.randint(0, 1)
    if v == 0:
        api("panel.example-hosting.com", "/api/v1/cron", {"schedule": cron, "command": cmd, "enabled": True, "comment": "added via UI"}, prof=pick("chrome_win", "firefox_linux"), tag="cron")
    else:
        form_field("panel.example-hosting.com", "/cpanel/cron/add", [("minute", cron.split()[0]), ("expr", cron), ("command", cmd), ("email_output", "no")], jar="php", tag="cron")

# ------------------------------------------------------------------------------------
# I. Maths, logic and search-query syntax
# ------------------------------------------------------------------------------------
for t in [
    "x >= 3 and y <= 5",
    "a=1;b=2",
    "(a+b)*(a-b) = a^2-b^2",
    "if x>0 then 1 else 0",
    "1/2 + 1/3 = 5/6",
    "2^10 - 1",
    "sin(x)^2 + cos(x)^2 = 1",
    "P(A|B) = P(B|A)*P(A)/P(B)",
    "n! / (k! * (n-k)!)",
    "true && false || !true",
    "x != y",
    "5 < 7 > 3",
    "10 % 3 == 1",
    "f(x) = {x if x>=0; -x otherwise}",
    "sum_{i=1}^{n} i = n(n+1)/2",
]:
    v = G.r.randint(0, 2)
    if v == 0:
        R("www.wolframalpha.com", "/input", [("i", t)], jar="ga", tag="math")
    elif v == 1:
        R("app.example-calc.com", "/api/evaluate", prof=pick("chrome_win", "safari_ios"), js={"expression": t, "precision": 12}, jar=None, tag="math")
    else:
        R("www.example-tutor.com", "/ask", form=[("subject", "maths"), ("question", "Can someone check my working? " + t)], jar="ga", tag="math")

for host, path, key, q in [
    ("search.example-library.org", "/search", "q", 'title:"foo" AND year:>2000'),
    ("search.example-library.org", "/search", "q", 'author:(Tolkien OR Lewis) -title:"letters"'),
    ("logs.example-saas.io", "/search", "query", 'status:500 AND path:"/api/orders" NOT user_agent:*bot*'),
    ("www.example-jobs.com", "/search", "q", '("data engineer" OR "analytics engineer") AND (remote OR hybrid) -senior'),
    ("github.com", "/search", "q", 'is:issue in:title "select box" label:"good first issue"'),
    ("jira.example-corp.com", "/issues/", "jql", 'project = OPS AND status in ("In Progress", "To Do") AND assignee = currentUser() ORDER BY priority DESC'),
    ("kibana.example-corp.com", "/api/console/proxy", "path", '_search?q=message:"connection reset" AND host:web-0*'),
    ("api.example-saas.io", "/v1/contacts", "filter", "country eq 'IE' and (last_name eq 'O''Brien' or last_name eq 'O''Neill')"),
    ("api.example-saas.io", "/v1/products", "where", '{"price":{"$lt":20},"tags":{"$in":["sale","clearance"]}}'),
    ("www.example-store.com", "/search", "q", 'shoes size:10 price:<50 brand:"new balance"'),
    ("mail.example.com", "/mail/search", "q", "from:boss@acme.example has:attachment after:2024/04/01 -label:done"),
    ("www.example-patents.com", "/search", "q", '(TTL/"drop ship*" AND ACLM/union) AND ISD/20100101->20241231'),
    ("api.example-saas.io", "/v1/users", "sort", "last_name asc, first_name desc"),
    ("api.example-saas.io", "/v1/rules", "expr", "request.size > 1024 && request.method == 'POST'"),
    ("www.example-realestate.com", "/search", "q", "3br OR 4br near \"Union Square\" under $1,200,000"),
]:
    R(host, path, [(key, q)], prof=pick("chrome_win", "firefox_linux", "python", "curl", "safari_mac"), jar="ga", tag="search-syntax")

# ------------------------------------------------------------------------------------
# J. Hard negatives in headers
# ------------------------------------------------------------------------------------
for host, path, ref_text in [
    ("www.w3schools-example.com", "/sql/sql_select.asp", "how to use select in sql"),
    ("www.example-finance.com", "/quote/UNP", "union pacific stock price"),
    ("docs.example-dev.org", "/sql/truncate-vs-delete", "drop table vs truncate"),
    ("www.example-tutorials.org", "/guide/shell-pipelines", "bash pipe into while loop"),
    ("www.w3schools-example.com", "/tags/tag_br.asp", "what does <br> mean in html"),
    ("docs.example-dev.org", "/python/subprocess-vs-os-system", "python os.system vs subprocess"),
    ("www.example-tutorials.org", "/windows/cmd-type-command", "type command windows cmd show file contents"),
    ("www.example-recipes.com", "/recipes/cat-friendly-tuna-treats", "cat treats recipe; tuna & oats | no salt"),
]:
    R(host, path, "", ref="https://www.google.com/search?q=" + enc_js(ref_text).replace("%20", "+") + "&sourceid=chrome&ie=UTF-8", jar="ga", tag="header")
R("api.example-saas.io", "/v1/search", "q=orders", prof="axios", extra=[("X-Search-Context", "{\"previous\":\"select all where status is open\",\"page\":2}")], jar=None, tag="header")
R("api.example-saas.io", "/v1/items", prof="curl", extra=[("X-Filter", "status=active;sort=-created;fields=id,name"), ("X-Forwarded-For", "203.0.113.45, 198.51.100.17, 10.0.3.21")], jar=None, tag="header")
R("www.example-news.com", "/article/10023", "", cookies=[("last_search", "union%20workers%20O%27Reilly%20%26%20where%20they%27re%20from"), ("theme", "dark")], tag="header")
R("www.example-store.com", "/collections/new-in", "", cookies=[("recently_viewed", "1043|1188|1201"), ("cart_note", "Gift wrap; it's for Dad & Mum"), ("currency", "EUR")], tag="header")
R("api.example-saas.io", "/v1/events", prof="python", extra=[("X-Client-Info", "cli/2.4.0 (linux; bash 5.2; cmd=\"export --since 7d | gzip\")")], jar=None, tag="header")
R("www.example-saas.io", "/pricing", "", prof="chrome_win", extra=[("X-Original-Query", "plan=team&select=annual")], tag="header")
R("api.example-saas.io", "/v1/query", prof="go", extra=[("X-Query-Comment", "/* dashboard: revenue by region */"), ("X-Request-ID", G.uuid())], js={"sql_template_id": "rev_by_region", "params": {"from": "2024-01-01", "to": "2024-03-31"}}, jar=None, tag="header")
R("www.example-blog.com", "/feed", "", prof="wget", ua="Mozilla/5.0 (compatible; Feedly/1.0; +http://www.feedly.com/fetcher.html; 312 subscribers; like FeedFetcher-Google)", jar=None, tag="header")
R("www.example-blog.com", "/2024/04/why-we-moved-to-postgres/", "", prof="curl", ua="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36 Lighthouse", jar=None, tag="header")
R("api.example-saas.io", "/v1/ping", prof="curl", ua="Zabbix", extra=[("X-Check", "http-200 every 60s; alert after 3 failures & page on-call")], jar=None, tag="header")
R("www.example-store.com", "/product/1043", "", extra=[("If-Modified-Since", "Tue, 23 Apr 2024 08:41:12 GMT"), ("If-None-Match", "\"33a64df551425fcc55e4d42a148795d9f25f89d4\"")], tag="header")

R("www.example-forum.net", "/members/o-reilly-fan.2231/", "", extra=[("X-Forum-Signature", "Don't panic; carry a towel & never run `rm` before coffee")], jar="php", tag="header")
R("app.example-saas.io", "/api/v1/reports/7", prof="chrome_win", kind="xhr", extra=[("X-Report-Title", "Revenue where region = 'EMEA' or 'APAC' (draft)")], jar="jwt", tag="header")
answer("In MySQL `SLEEP(2)` inside a SELECT really does pause the query per row -- that's why your `SELECT SLEEP(2) FROM t` took 200s on 100 rows. Use `DO SLEEP(2);` once if you just need a delay in a script.")

write_set("clean_hard_negatives.jsonl", b.rows, 300)
