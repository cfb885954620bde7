"""Hard negatives: clean inputs that share surface features with attacks.

Prose with SQL/shell words and apostrophes, support tickets and reviews, apostrophe names, code
snippets posted in forum fields (how-tos, not payloads), benign CMS HTML, Markdown, tokens and
other awkward-but-harmless values. No ``<script``, event handlers or ``javascript:`` URLs.
"""

# ruff: noqa: E501

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable

from bastion.waf.datagen import benign as B
from bastion.waf.datagen import vocab as V
from bastion.waf.datagen._fill import Filler, fill
from bastion.waf.datagen.guard import looks_sqli, looks_xss
from bastion.waf.datagen.sample import (
    Sample,
    rand_alnum,
    rand_hex,
    rand_uuid,
    rand_word,
    unique_samples,
    weighted,
)


def _https_url(rng: random.Random) -> str:
    url = B.url_value(rng)
    return "https:" + url if url.startswith("//") else url


_F: dict[str, Filler] = {
    "name": B.person_name,
    "first": lambda r: r.choice(V.FIRST_NAMES),
    "last": lambda r: r.choice(V.LAST_NAMES),
    "apos": lambda r: r.choice(
        [
            "O'Brien",
            "O'Connor",
            "D'Angelo",
            "O'Neill",
            "D'Souza",
            "O'Reilly",
            "D'Arcy",
            "O'Malley",
            "L'Estrange",
            "N'Diaye",
            "Dell'Orto",
            "D'Amico",
        ]
    ),
    "p": lambda r: r.choice(V.PRODUCTS),
    "p2": lambda r: r.choice(V.PRODUCTS),
    "brand": lambda r: r.choice(V.BRANDS),
    "city": lambda r: r.choice(V.CITIES),
    "n": lambda r: str(r.randint(2, 999)),
    "order": lambda r: str(r.randint(10000, 9999999)),
    "day": lambda r: r.choice(
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    ),
    "time": lambda r: (
        f"{r.randint(1, 12)}:{r.choice(['00', '15', '30', '45'])} {r.choice(['am', 'pm'])}"
    ),
    "email": B.email,
    "table": lambda r: r.choice(
        [
            "users",
            "orders",
            "customers",
            "products",
            "invoices",
            "events",
            "posts",
            "accounts",
            "employees",
            "sales",
        ]
    ),
    "col": lambda r: r.choice(
        [
            "name",
            "email",
            "created_at",
            "price",
            "status",
            "total",
            "user_id",
            "title",
            "amount",
            "country",
        ]
    ),
    "col2": lambda r: r.choice(
        ["id", "updated_at", "quantity", "category", "city", "score", "order_id"]
    ),
    "file": lambda r: r.choice(
        [
            "notes.txt",
            "config.yaml",
            "access.log",
            "report.csv",
            "data.json",
            "README.md",
            "main.py",
            "index.js",
            "app.log",
            "backup.tar.gz",
        ]
    ),
    "dir": lambda r: r.choice(
        [
            "~/projects",
            "/var/log/nginx",
            "src/",
            "./build",
            "/home/me/Downloads",
            "C:\\Users\\Me\\Desktop",
            "~/Documents",
            "/opt/app",
        ]
    ),
    "topic": lambda r: r.choice(V.TOPICS),
    "w": lambda r: rand_word(r, 3, 8),
    "lang": lambda r: r.choice(V.OTHER_LANG),
    "url": lambda r: _https_url(r),
    "color": lambda r: r.choice(
        ["#ff0000", "#333", "red", "navy", "#1a73e8", "rgb(0, 128, 0)", "darkgreen"]
    ),
    "price": lambda r: f"{r.randint(1, 499)}.{r.choice(['00', '99', '49', '95'])}",
    "year": lambda r: str(r.randint(1990, 2026)),
    "title": lambda r: B.search_query(r).title(),
}

_PROSE = (
    "Please select the items you'd like and we'll drop the rest from the order.",
    "I'm trying to union two tables, where am I going wrong?", "Don't cat your files into /tmp, use a proper temp dir.",
    "Select 'Yes' or 'No' from the drop-down menu, then click Update.", "Who's on first, what's on second, I don't know's on third.",
    "Can't update my address - it says 'invalid' or 'expired' every time.", "The kids' table and the adults' table go in the same room, or not?",
    "Insert coin, then select your player and press start.", "We'll sleep for 5 hours and then ping you when we're back.",
    "My cat's name is 'Bash' and my dog's is 'Echo'.", "The script for the school play is due {day}; don't forget!",
    "She said 'or else' and left - what does that mean?", "Rock 'n' roll 'til the end of time.", "1 or 2 people, it's up to you; 'either' works.",
    "Drop me a line at 5 o'clock or after; I'm free from 3 to 6.", "Exec summary: revenue's up, costs are down, and we'll union with the other team next quarter.",
    "The table's legs are loose and the chairs' seats are torn.", "Where's the 'Delete account' button? I can't find it under Settings > Privacy.",
    "Alert: your package has shipped! Track it with the link below.", "Please confirm your email; if you didn't sign up, ignore this message.",
    "It's a 'select all' checkbox, then 'delete' from the menu.", "The 'Update' and 'Insert' keys on my keyboard are stuck.",
    "I'd like to order by phone, or is it online only?", "Can you group my orders by date and ship them together?",
    "What's the difference between 'where' and 'having' in SQL? I always mix them up.", "{apos}'s team won the match 3-1 on {day}.",
    "Is it true that you can't drop a class after week 2?", "I said 'hello' and he said 'goodbye' - classic.",
    "We're out of stock on the {p}; I'll update you when it's back.", "My username is {first}_{last} - or was it {first}.{last}? I can't remember.",
    "Our shell company's address is 12 O'Connell St; mail's forwarded from there.", "The sleep study results came in: 5 hours avg, 'poor' quality.",
    "Does anyone know a good 'from scratch' bread recipe? Mine keeps failing.", "They'll execute the plan on {day} at {time}, weather permitting.",
    "Let's table this discussion until next week's meeting.", "I'll echo what {first} said - great work, everyone!", "Don't kill the messenger, but the deadline moved again.",
    "Union Station is 10 minutes' walk from the hotel, or 2 stops by bus.", "Is the {p} waterproof or just 'water resistant'?",
    "I can't login since the update; it says 'session expired' or 'try again later'.", "Type your name exactly as it's written on your passport, e.g. {apos}.",
    "Press Ctrl+Alt+Del or use the 'Task Manager' to end the process.", "Her 'null and void' argument didn't convince the judge.",
    "What's 1=1 in boolean algebra? Just true, right?", "In my spreadsheet, =A1+B1 works but =SUM(A1:B1) doesn't, why?",
    "I've set my password to something with ' and \" characters - is that OK?", "Please don't 'rm -rf' anything on the shared drive without asking first.",
    "It's 50% off 'til Sunday; or maybe Monday, I'm not sure.", "Order #{order} - I'd like to change the size from M to L, or exchange it.",
    "The teacher's note said: 'Please sign and return by Friday.'", "Ping me when you're free; I'll wait.", "Who's got the 'union' jack flag for the party?",
    "My grandmother's recipe calls for 2 cups flour & 1/2 cup sugar; don't skip the salt.", "The show's called 'Drop Dead Diva' or something like that.",
    "Could you select a different delivery date? The 14th doesn't work for me.", "We're hiring! Backend devs who know SQL, bash and Python - apply by {day}.",
    "I bought the {p} from {brand}; it's OK, but the {p2} is better value.", "Is it 'their', 'there' or 'they're'? I'll never learn.",
    "According to {apos}, the 'select committee' meets on Thursdays.", "The alarm goes off at 6 and I hit snooze - sleep 10 more minutes, repeat.",
    "Who's going to update the wiki page? Not me, I did it last time ;)", "Set 'Auto-update' to 'Off' and restart the app - that fixed it for me.",
    "\"Where's my refund?\" - that's all I want to know.", "Let me know if you'd like the blue one or the red one; or both!",
    "It doesn't matter whether it's 'SELECT' or 'select', SQL keywords aren't case sensitive.", "The exec board will select a new chair from the candidates' list.",
)  # fmt: skip
_TICKETS = (
    "Subject: Can't log in\n\nHi team,\nI'm getting 'Error {n}' when I try to update my profile. I've tried Chrome and Firefox; same issue.\nOrder #{order}.\nThanks,\n{name}",
    "Hello,\n\nMy order #{order} hasn't arrived yet. The tracking page says 'delivered' but there's nothing at my door. Could you check with the courier or send a replacement?\n\nBest regards,\n{apos}",
    "Hi there - I was charged twice for the same order (#{order}). Please refund one of the charges; I've attached a screenshot of my bank statement.",
    "The app crashes when I select 'Export' -> 'CSV'. Version {n}.0.1 on Android 14. Steps: open report, pick date range, tap export. It worked before the update.",
    "Dear support, I'd like to delete my account and all data associated with it (GDPR request). My email is {email}. Thank you.",
    "Problem: the search returns nothing when I type an apostrophe, e.g. \"men's shoes\" or \"children's books\". Without the ' it works fine.",
    "Our team can't access the dashboard since {day}. Error says 'permission denied for table {table}'. Did something change on your side?",
    "Hi, the invoice shows the wrong company name - it should be '{brand} Ltd' not '{brand} Inc'. Can you update and resend?",
    "Ticket: the 'Remember me' checkbox doesn't work; I have to log in every time. Browser: Safari 17 on macOS. Cookies are enabled.",
    "Hello! Is there a way to import contacts from a CSV where the columns are name; email; phone (semicolon separated)?",
    "When I paste a link like {url} into the description field, it gets cut off after the '?'. Is that a bug?",
    "My password has characters like < > & \" ' in it and the form says it's invalid. Which special characters are allowed?",
    "I ran the installer as admin, then rebooted, and it still says 'command not found'. What am I missing?",
    "Urgent: the nightly export job failed with 'timeout after 300 seconds'. Can you increase the limit or split it by date?",
)  # fmt: skip
_REVIEWS = (
    "★★★★☆ Great {p}, but it runs small; order a size up. Don't bother with the 'wide' version.",
    "5/5 - does exactly what it says. My husband's already using it daily.", "Meh. It's OK for the price ($ {price}) but I wouldn't buy it again.",
    "Returned it - the color wasn't what's shown in the pictures (more 'beige' than 'white').", "Best purchase I've made this year!!! <3",
    "Works with my {brand} {p2} out of the box; setup took < 5 minutes.", "The instructions say 'insert tab A into slot B' - there is no slot B. 2 stars.",
    "Battery lasts 2-3 days; charging's fast. Sound is 'good enough' for podcasts.", "Bought it for my kids' room; they love it. Delivery was quick & the box was intact.",
    "Don't believe the 1-star reviews, it's fine if you follow the manual.", "It's a {p}. It does {p} things. What more do you want? 4/5",
    "Update: after 3 months the zipper broke. Customer service replaced it, no questions asked - 5 stars for that.",
    "Quality's gone down since they changed suppliers; the old one's stitching was better.", "Would've given 5 stars but the delivery guy threw it over the fence.",
)  # fmt: skip
_SQL_SNIPPETS = (
    "SELECT {col}, COUNT(*) AS n\nFROM {table}\nGROUP BY {col}\nORDER BY n DESC;",
    "SELECT u.id, u.name, MAX(o.created_at) AS last_order\nFROM users u\nJOIN orders o ON o.user_id = u.id\nGROUP BY u.id, u.name;",
    "SELECT * FROM {table} WHERE {col} = ? AND {col2} > ?", "UPDATE {table} SET {col} = 'archived' WHERE {col2} < NOW() - INTERVAL '30 days';",
    "INSERT INTO {table} ({col}, {col2}) VALUES ('Ann O''Hara', 42);", "CREATE TABLE {table} (\n  id SERIAL PRIMARY KEY,\n  {col} TEXT NOT NULL,\n  created_at TIMESTAMPTZ DEFAULT now()\n);",
    "SELECT a.* FROM a LEFT JOIN b ON a.id = b.a_id WHERE b.id IS NULL;", "SELECT id FROM t1\nUNION ALL\nSELECT id FROM t2\nORDER BY id;",
    "DELETE FROM sessions WHERE expires_at < CURRENT_TIMESTAMP;", "ALTER TABLE {table} ADD COLUMN {col} VARCHAR(255);",
    "SELECT {col}, SUM(amount) FROM {table} GROUP BY {col} HAVING SUM(amount) > 1000;", "WITH ranked AS (\n  SELECT *, ROW_NUMBER() OVER (PARTITION BY {col} ORDER BY {col2} DESC) AS rn\n  FROM {table}\n)\nSELECT * FROM ranked WHERE rn = 1;",
    "SELECT DISTINCT {col} FROM {table} WHERE {col} LIKE 'A%' ORDER BY {col};", "CREATE INDEX idx_{table}_{col} ON {table} ({col});",
    "SELECT COALESCE({col}, 'n/a') FROM {table} LIMIT 10 OFFSET 20;", "SELECT CASE WHEN total > 100 THEN 'big' ELSE 'small' END AS size FROM orders;",
    "DROP TABLE IF EXISTS tmp_import;", "BEGIN;\nUPDATE accounts SET balance = balance - 100 WHERE id = 1;\nUPDATE accounts SET balance = balance + 100 WHERE id = 2;\nCOMMIT;",
)  # fmt: skip
_CODE_SNIPPETS = (
    ("python", "import os\nfor name in os.listdir('.'):\n    print(name)"),
    ("python", "with open('{file}') as f:\n    for line in f:\n        if 'ERROR' in line:\n            print(line.strip())"),
    ("python", "df = pd.read_csv('{file}')\ndf = df[df['{col}'] > 0].sort_values('{col2}')"),
    ("python", "cursor.execute('SELECT * FROM {table} WHERE id = %s', (user_id,))\nrows = cursor.fetchall()"),
    ("python", "def add(a, b):\n    return a + b\n\nprint(add(1, 2))  # 3"),
    ("python", "result = subprocess.run(['git', 'status'], capture_output=True, text=True)\nprint(result.stdout)"),
    ("javascript", "document.getElementById('btn').addEventListener('click', () => {\n  console.log('clicked');\n});"),
    ("javascript", "fetch('/api/items?page=2')\n  .then(r => r.json())\n  .then(data => console.log(data.length));"),
    ("javascript", "const adults = people.filter(p => p.age >= 18 && p.age < 65);"),
    ("javascript", "const total = items.reduce((sum, i) => sum + i.price * i.qty, 0);"),
    ("java", "public static void main(String[] args) {\n    System.out.println(\"Hello, \" + args[0]);\n}"),
    ("java", "PreparedStatement ps = conn.prepareStatement(\"SELECT * FROM users WHERE email = ?\");\nps.setString(1, email);"),
    ("php", "$stmt = $pdo->prepare('SELECT * FROM users WHERE email = :email');\n$stmt->execute(['email' => $email]);"),
    ("php", "echo htmlspecialchars($name, ENT_QUOTES, 'UTF-8');"),
    ("bash", "for f in *.log; do gzip \"$f\"; done"), ("bash", "find . -name '*.tmp' -delete"),
    ("bash", "grep -rn 'TODO' src/ | wc -l"), ("bash", "tar -czf backup.tar.gz ~/Documents"),
    ("bash", "sudo apt-get update && sudo apt-get install -y nginx"), ("bash", "export PATH=\"$HOME/bin:$PATH\""),
    ("bash", "awk '{print $1}' access.log | sort | uniq -c | sort -rn | head"), ("bash", "git log --oneline | head -n 20"),
    ("bash", "docker run --rm -p 8080:80 nginx:latest"), ("bash", "python3 -m venv .venv && source .venv/bin/activate"),
    ("csharp", "var adults = db.Users.Where(u => u.Age > 18).OrderBy(u => u.Name).ToList();"),
    ("go", "if err != nil {\n    return fmt.Errorf(\"open %s: %w\", path, err)\n}"),
    ("ruby", "User.where(active: true).order(created_at: :desc).limit(10)"),
    ("css", ".btn:hover {\n  color: #fff;\n  background: url(\"/img/bg.png\") no-repeat;\n}"),
    ("yaml", "services:\n  web:\n    image: nginx:latest\n    ports:\n      - \"80:80\""),
    ("dockerfile", "FROM python:3.11-slim\nWORKDIR /app\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]"),
    ("powershell", "Get-ChildItem -Path C:\\Logs -Filter *.log | Where-Object { $_.Length -gt 1MB }"),
    ("regex", "^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$"), ("excel", "=IF(A1>10,\"High\",\"Low\")"),
    ("excel", "=VLOOKUP(B2,Sheet2!A:C,3,FALSE)"), ("excel", "=SUMIFS(C:C,A:A,\">=2024-01-01\",B:B,\"<>\")"),
    ("json", "{\n  \"name\": \"my-app\",\n  \"scripts\": {\"build\": \"tsc && vite build\", \"test\": \"jest --coverage\"}\n}"),
    ("html", "<div class=\"card\">\n  <h2>Title</h2>\n  <p>Some text</p>\n</div>"), ("sql", "{sql}"),
)  # fmt: skip
_CODE_WRAPS = (
    "How do I do this properly?\n```{lang}\n{code}\n```\nThanks in advance!", "```{lang}\n{code}\n```",
    "I tried this but it doesn't work:\n\n    {code_indented}\n\nAny idea what's wrong?", "Here's what worked for me:\n```\n{code}\n```",
    "`{code_inline}` should do it.", "Try `{code_inline}` instead - it's faster.", "{code}", "Answer: use {code_inline} (see the docs).",
    "Solved! The issue was in this line:\n{code}", "Why does this give a syntax error?\n\n{code}\n\nI'm on version {n}.",
)  # fmt: skip
_HTML_BLOCKS = (
    "<p>{sent}</p>", "<p><strong>{w}</strong> {sent}</p>", "<h2>{title}</h2>\n<p>{sent}</p>", "<ul>\n<li>{p}</li>\n<li>{p2}</li>\n</ul>",
    "<ol><li>{sent}</li><li>{sent2}</li></ol>", "<p>Read more on <a href=\"{url}\">our blog</a>.</p>", "<p><a href=\"{url}\" target=\"_blank\" rel=\"noopener\">{title}</a></p>",
    "<img src=\"https://cdn.{dom}/images/{w}.jpg\" alt=\"{title}\" width=\"{n}\" height=\"{n}\">", "<figure><img src=\"/uploads/{year}/{w}.png\" alt=\"{p}\"><figcaption>{sent}</figcaption></figure>",
    "<blockquote>{sent}</blockquote>", "<p>{sent}<br>{sent2}</p>", "<span style=\"color: {color};\">{sent}</span>", "<p style=\"text-align: center;\"><em>{sent}</em></p>",
    "<table>\n<tr><th>{col}</th><th>{col2}</th></tr>\n<tr><td>{n}</td><td>{price}</td></tr>\n</table>", "<h1>{title}</h1>", "<h3>{title}</h3><p>{sent}</p>",
    "<p>Price: <del>${price}</del> <b>${price}</b></p>", "<pre><code>{sqlesc}</code></pre>", "<hr>", "<p>H<sub>2</sub>O and E=mc<sup>2</sup></p>",
    "<div class=\"note\"><i>{sent}</i></div>", "<iframe width=\"560\" height=\"315\" src=\"https://www.youtube.com/embed/{yt}\" title=\"YouTube video player\" frameborder=\"0\" allowfullscreen></iframe>",
    "<p>&copy; {year} {brand} &mdash; all rights reserved.</p>", "<p>Tom &amp; Jerry &lt;3 &quot;cartoons&quot;</p>", "<a href=\"mailto:{email}\">{email}</a>",
    "<p><u>{w}</u> &nbsp; <s>{w}</s></p>", "<dl><dt>{col}</dt><dd>{sent}</dd></dl>", "<p><code>{code_inline}</code> returns the {col}.</p>",
)  # fmt: skip
_MARKDOWN = (
    "# {title}\n\n{sent}\n\n- {p}\n- {p2}\n", "**{w}**: {sent}", "See [the docs]({url}) for details.", "![{title}](https://cdn.{dom}/img/{w}.png)",
    "> {sent}\n\n{sent2}", "| {col} | {col2} |\n|---|---|\n| {n} | {price} |", "1. {sent}\n2. {sent2}\n3. Profit!", "_{sent}_ ~~{w}~~",
    "## Steps\n\n1. Select *File* > *Export*\n2. Choose `CSV`\n3. Click **Save**", "- [x] {sent}\n- [ ] {sent2}", "Use `{code_inline}` and then `git push`.",
)  # fmt: skip
_MISC = (
    "{email}", "{email}; {email2}", "{email}, {email2}", "C:\\Program Files (x86)\\{brand}\\bin\\app.exe", "C:\\Users\\{first}\\AppData\\Local\\Temp\\{w}.tmp",
    "\\\\fileserver\\share\\{w}\\{file}", "/usr/local/bin/{w}", "/var/log/nginx/access.log", "~/.config/{w}/settings.json", "../assets/{w}.png", "./{file}",
    "a=1&b=2", "x>=3 and y<=5", "title:\"{title}\" AND year>{year}", "(price > 10 and price < 100) or featured = true", "status != 'closed'",
    "{col}:desc,{col2}:asc", "red; green; blue", "tag1;tag2;tag3", "key1=value1; key2=value2", "{n} + {n} = {n}", "f(x) = 3x^2 - 2x + 1", "|x| < 5",
    "2 * (3 + 4) = 14", "a && b || !c", "if (x > 0) { y = -x; }", "i++; j--;", "SELECT ALL THAT APPLY:", "Order: {order}; Ref: {w}-{n}",
    "{first} \"{w}\" {last}", "{apos}", "{apos}, {first}", "Mr. & Mrs. {apos}", "{first} {last}-{apos}", "Rock 'n' Roll Hall of Fame", "Coeur d'Alene, ID",
    "L'Oréal Paris", "Macy's Herald Sq.", "Ben & Jerry's - Cookie Dough", "AT&T U-verse", "Toys\"R\"Us", "P&G; J&J; AT&T", "50% off + free shipping!",
    "$({price})", "-{price}", "1'000'000", "5' 11\"", "12\" x 18\" poster", "3/4\" plywood", "O'Hare (ORD) -> JFK", "\"quoted\" 'single' `back`",
    "{w}@{w}", "@{first}: thanks!", "#{w} #{w}", "100% <3", "<3 <3 <3", ">_<", "-- {first}", "// TODO: {w}", "/* {w} */", "# {w}", "; comment",
    "<{email}>", "{first} <{email}>", "=> {w}", "<- back", "==> done", "<<< {w} >>>", "x < y > z", "1 < 2 && 3 > 2",
)  # fmt: skip


def _code_snippet(rng: random.Random) -> tuple[str, str]:
    lang, code = rng.choice(_CODE_SNIPPETS)
    if lang == "sql":
        code = rng.choice(_SQL_SNIPPETS)
    code = fill(code, rng, _F)
    wrap = rng.choice(_CODE_WRAPS)
    inline = code.splitlines()[0]
    return fill(
        wrap,
        rng,
        _F,
        {
            "lang": lang,
            "code": code,
            "code_indented": code.replace("\n", "\n    "),
            "code_inline": inline,
        },
    ), f"code:{lang}"


def _sent(rng: random.Random) -> str:
    return B.sentence(rng) if rng.random() < 0.5 else fill(rng.choice(_PROSE), rng, _F)


def _html(rng: random.Random) -> tuple[str, str]:
    blocks = []
    for _ in range(weighted(rng, ((1, 4.0), (2, 3.0), (3, 2.0), (5, 0.8)))):
        code = fill(rng.choice(_SQL_SNIPPETS), rng, _F).splitlines()[0]
        fixed = {
            "sent": _sent(rng).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            "sent2": _sent(rng).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            "title": B.search_query(rng)
            .title()
            .replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace('"', "&quot;"),
            "dom": rng.choice(V.DOMAINS),
            "yt": rand_alnum(
                rng, 11, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
            ),
            "sqlesc": code.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            "code_inline": code.replace("<", "&lt;"),
        }
        blocks.append(fill(rng.choice(_HTML_BLOCKS), rng, _F, fixed))
    return rng.choice(["\n", "", "\n\n"]).join(blocks), "html"


def _markdown(rng: random.Random) -> tuple[str, str]:
    fixed = {
        "sent": _sent(rng),
        "sent2": _sent(rng),
        "title": B.search_query(rng).title(),
        "dom": rng.choice(V.DOMAINS),
        "code_inline": fill(rng.choice(_SQL_SNIPPETS), rng, _F).splitlines()[0],
    }
    return fill(rng.choice(_MARKDOWN), rng, _F, fixed), "markdown"


def _token(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.18:
        return B.jwt(rng), "token:jwt"
    if r < 0.3:
        obj = B.json_object(rng, 1)
        raw = json.dumps(obj).encode()
        return (
            base64.b64encode(raw) if rng.random() < 0.6 else base64.urlsafe_b64encode(raw)
        ).decode(), "token:b64json"
    if r < 0.42:
        return base64.b64encode(rng.randbytes(rng.randint(12, 120))).decode(), "token:b64bin"
    if r < 0.52:
        return rand_hex(rng, rng.choice([32, 40, 64, 128])), "token:hex"
    if r < 0.6:
        key = rng.choice(
            [
                "sk_live_",
                "sk_test_",
                "pk_live_",
                "ghp_",
                "gho_",
                "xoxb-",
                "xoxp-",
                "AKIA",
                "AIza",
                "glpat-",
                "SG.",
                "shpat_",
                "hf_",
                "npm_",
            ]
        )
        return key + rand_alnum(rng, rng.randint(20, 48)), "token:apikey"
    if r < 0.68:
        state = (
            base64.urlsafe_b64encode(
                json.dumps({"nonce": rand_hex(rng, 16), "redirect": B.url_path(rng)}).encode()
            )
            .decode()
            .rstrip("=")
        )
        return (state if rng.random() < 0.5 else rand_alnum(rng, 32)), "token:oauth"
    if r < 0.8:
        bucket = rand_word(rng, 4, 10)
        d = f"{rng.randint(2022, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        return (
            f"https://{bucket}.s3.amazonaws.com/{rand_word(rng)}/{rand_word(rng)}.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA{rand_alnum(rng, 16).upper()}%2F{d}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date={d}T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature={rand_hex(rng, 64)}"
            if rng.random() < 0.5
            else f"https://d{rand_alnum(rng, 12).lower()}.cloudfront.net/{rand_word(rng)}.mp4?Expires={rng.randint(1700000000, 1800000000)}&Signature={rand_alnum(rng, 80)}~&Key-Pair-Id=K{rand_alnum(rng, 12).upper()}"
        ), "token:signedurl"
    if r < 0.88:
        return rand_uuid(rng), "token:uuid"
    return (
        f"-----BEGIN PUBLIC KEY-----\n{base64.b64encode(rng.randbytes(48)).decode()}\n-----END PUBLIC KEY-----",
        "token:pem",
    )


_OPENERS = (
    "I'll", "We'll", "Don't", "Please", "You'd better", "Let's", "Can't we", "Why didn't you", "We're going to", "They'd",
    "She'll", "He won't", "You can", "I'd rather", "Could you", "Shouldn't we", "We couldn't", "It's time to", "Remember to", "Never",
)  # fmt: skip
_VERBS = (
    "select", "drop", "update", "insert", "delete", "union", "join", "order", "group", "execute", "exec", "sleep on", "kill",
    "ping", "echo", "print", "alert", "confirm", "prompt", "load", "source", "run", "exit", "cat", "grep", "cut", "sort",
    "type", "set", "declare", "cast", "convert", "merge", "truncate", "script", "eval", "dump", "mount", "shell out for",
)  # fmt: skip
_OBJECTS = (
    "the table", "the old chairs", "your files", "the whole team", "the results", "everything", "the rest", "the script",
    "the order", "that idea", "the {p}", "{first}'s notes", "the kids' toys", "my parents' car", "the database", "the window",
    "the cookies", "the document", "the form", "the user list", "the null values", "all of it", "the top row", "the last one",
)  # fmt: skip
_TAILS = (
    "before it's too late", "or we'll miss the deadline", "and then we're done", "where it says 'Total'", "from the list",
    "if it's not needed", "when you're ready", "by {day}", "at {time}", "or else", "and I'm not joking", "'til it works",
    "- it's 1=1 simple", "and don't look back", "in O'Hare's terminal 3", "from the 'Settings' menu", "like we did in '{year}",
    "or 2, whichever's easier", "and that's that", "so we're on the same page", "with {apos}", "'cause it's broken",
)  # fmt: skip


def _compositional_prose(rng: random.Random) -> tuple[str, str]:
    """Open-ended English mixing SQL/shell/JS verbs with apostrophes (never an injection)."""
    pieces = [rng.choice(_OPENERS), rng.choice(_VERBS), rng.choice(_OBJECTS), rng.choice(_TAILS)]
    text = " ".join(pieces)
    if rng.random() < 0.4:
        text += rng.choice([". ", "; ", " - ", ", "]) + " ".join(
            [rng.choice(_OPENERS).lower(), rng.choice(_VERBS), rng.choice(_OBJECTS)]
        )
    text = fill(text, rng, _F) + rng.choice([".", "!", "?", "", "...", " :)"])
    return text[0].upper() + text[1:], "prose"


def _benign_sql(rng: random.Random) -> str:
    """A plausible application query (no breakouts, tautologies, system catalogues or comments)."""
    table = fill("{table}", rng, _F)
    cols = ", ".join(
        rng.sample(
            [
                "id",
                "name",
                "email",
                "created_at",
                "total",
                "status",
                "price",
                "title",
                "user_id",
                "country",
            ],
            rng.randint(1, 4),
        )
    )
    q = f"SELECT {rng.choice([cols, '*', 'COUNT(*)', 'DISTINCT ' + cols])} FROM {table}"
    if rng.random() < 0.3:
        q += f" t JOIN {fill('{table}', rng, _F)} u ON u.id = t.{rng.choice(['user_id', 'order_id', 'owner_id'])}"
    if rng.random() < 0.7:
        cond = rng.choice(
            [f"status = '{rng.choice(['active', 'paid', 'open'])}'", f"price > {rng.randint(1, 500)}", f"created_at >= '{rng.randint(2015, 2025)}-01-01'",
             "email LIKE '%@example.com'", f"id IN ({rng.randint(1, 9)}, {rng.randint(10, 99)})", "deleted_at IS NULL", "user_id = ?", "name = :name"]
        )  # fmt: skip
        q += f" WHERE {cond}"
        if rng.random() < 0.4:
            q += rng.choice([" AND ", " OR "]) + rng.choice(
                ["total > 100", "country = 'DE'", "status <> 'closed'", "score BETWEEN 1 AND 5"]
            )
    if rng.random() < 0.4:
        q += f" ORDER BY {rng.choice(['created_at', 'name', 'total', 'id'])} {rng.choice(['DESC', 'ASC'])}"
    if rng.random() < 0.3:
        q += f" LIMIT {rng.choice([10, 20, 50, 100])}"
    q = q if rng.random() < 0.6 else q.lower()
    return q + rng.choice([";", "", ";"])


_HOWTO_CMDS = (
    "ls -la", "grep -rn 'TODO' .", "tail -f app.log", "docker ps -a", "kubectl get pods -n {w}", "git status", "git pull --rebase",
    "npm install", "pip install -r requirements.txt", "df -h", "du -sh *", "chmod 644 {file}", "ssh {first}@{w}.example.com",
    "python3 manage.py migrate", "make test", "brew install {w}", "sudo systemctl restart nginx", "cat {file} | head", "echo $PATH",
    "ping example.com", "curl -I https://example.com", "ipconfig /flushdns", "dir /w", "type {file}", "whoami",
)  # fmt: skip


def _howto(rng: random.Random) -> tuple[str, str]:
    cmd = fill(rng.choice(_HOWTO_CMDS), rng, _F)
    sql = _benign_sql(rng)
    tmpl = rng.choice(
        [
            "Run `{cmd}` to check, then restart.", "Try {cmd} first - it's usually enough.", "I ran {cmd} and it printed nothing. What's wrong?",
            "Type `{cmd}` in the terminal and press Enter.", "After `{cmd}` you'll see the list; pick the one you need.",
            "The query `{sql}` returns 0 rows, why?", "How do I speed up this query?\n\n{sql}", "```sql\n{sql}\n```", "{sql}",
            "Use {sql} - it's the simplest way.", "This works: {sql}\nbut it's slow on 10M rows.", "Q: why does `{cmd}` say 'permission denied'?",
        ]
    )  # fmt: skip
    return tmpl.replace("{cmd}", cmd).replace("{sql}", sql).replace("\\n", "\n"), "code:howto"


_Maker = Callable[[random.Random], tuple[str, str]]
_MAKERS: tuple[tuple[_Maker, float], ...] = (
    (lambda r: (fill(r.choice(_PROSE), r, _F), "prose"), 4.0),
    (
        lambda r: (
            " ".join(fill(r.choice(_PROSE), r, _F) for _ in range(r.randint(2, 4))),
            "prose",
        ),
        1.5,
    ),
    (_compositional_prose, 3.0),
    (_howto, 1.5),
    (lambda r: (fill(r.choice(_TICKETS), r, _F), "ticket"), 1.5),
    (lambda r: (fill(r.choice(_REVIEWS), r, _F), "review"), 1.5),
    (_code_snippet, 3.0),
    (_html, 2.5),
    (_markdown, 1.2),
    (_token, 2.5),
    (lambda r: (fill(r.choice(_MISC), r, _F, {"email2": B.email(r)}), "misc"), 3.0),
    (
        lambda r: (
            fill(r.choice(["{apos}", "{first} {apos}", "{apos}-{last}", "{first} {last}"]), r, _F),
            "name",
        ),
        1.0,
    ),
)


def hard_negative(rng: random.Random) -> tuple[str, str]:
    """One hard-negative value and its category (``prose``, ``code:sql``, ``html``, ``token:jwt``...)."""
    for _ in range(8):
        value, cat = weighted(rng, _MAKERS)(rng)
        if (
            "<script" in value.lower()
            or "javascript:" in value.lower()
            or "onerror=" in value.lower()
        ):
            continue
        if looks_xss(value) or (looks_sqli(value) and not cat.startswith("code")):
            continue
        return value, cat
    return B.sentence(rng), "prose"


def generate_hard_negatives(rng: random.Random, n: int) -> list[Sample]:
    """``n`` distinct clean hard negatives (kind "value", or "raw" for long documents)."""

    def make() -> Sample:
        value, cat = hard_negative(rng)
        kind = (
            "raw"
            if cat in ("html", "markdown") and len(value) > 300 and rng.random() < 0.3
            else "value"
        )
        return Sample(
            value,
            kind,
            "clean",
            f"gen:clean:hardneg:{cat.split(':')[0]}",
            f"gen:clean:hardneg:{cat}:{rng.randrange(16)}",
        )

    return unique_samples(make, n)
