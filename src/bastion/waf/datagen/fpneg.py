"""Clean inputs from categories the error analysis found scored as attacks (false positives).

Seven grammars, each combining many hand-written fragments: shell vocabulary in prose and
separated lists/CSV rows, developer Q&A posts about shell commands and code, boolean/structured
search and filter syntaxes, expression languages and rules, benign CMS/editor HTML, realistic and
legacy User-Agent strings, and OAuth/redirect values. Every sample is checked with
``guard.looks_malicious`` (and resampled if it fires), so nothing that parses as an attack is
labelled clean.
"""

# ruff: noqa: E501

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from urllib.parse import quote, urlencode

from bastion.waf.datagen import benign as B
from bastion.waf.datagen import vocab as V
from bastion.waf.datagen._fill import Filler, choice_filler, fill
from bastion.waf.datagen.guard import looks_malicious
from bastion.waf.datagen.sample import (
    Sample,
    rand_alnum,
    rand_hex,
    rand_word,
    unique_samples,
    weighted,
    words,
)

# --- shared vocabulary ----------------------------------------------------------------------

_NOUNS = words(
    """
    cat dog fish bird tea coffee juice milk water bread cheese apples pears rice beans soup salad
    kids adults teens seniors books films music games maps notes photos videos songs shoes boots
    socks hats coats jackets gloves scarves chairs tables lamps sofas beds desks shelves rugs
    pizza pasta tacos sushi curry noodles burgers fries cake pie cookies tarts muffins bagels
    red green blue yellow black white orange purple pink grey brown beige navy teal olive
    spring summer autumn winter monday tuesday friday weekend morning evening night noon
    rain snow wind sun fog storm hail frost cloud mist breeze thunder drizzle sleet
    origin main develop release hotfix staging prod trunk master feature bugfix upstream
    """
)
# Words that are also shell/SQL commands (appear in lists and prose, never as commands).
_SHELLISH = words(
    """
    cat dog ls rm kill ping echo find sort head tail more less type set who id top free date
    time make cut join split touch tee wall yes true false test watch file which nice man
    print sleep select drop union table update insert delete order group where from
    exec run shell bash sudo su chmod grep sed awk curl wget mount export source alias
    """
)
_ADJ = words(
    """
    big small new old hot cold fresh quick slow cheap fancy vegan spicy sweet sour bitter
    bright dark light heavy soft loud quiet rainy sunny windy cosy shiny rusty dusty
    """
)
_VERSIONS = (
    "1.0", "1.2.3", "2.0.1", "3.11.4", "10.0.19045", "124.0.6367.61", "17.4.1", "5.15.0-91",
    "0.9.8", "4.2", "8.3", "22.04", "11.0.21", "7.4.33", "2024.1", "99.0.0.0", "1.18.0",
)  # fmt: skip


def _word(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return rng.choice(_SHELLISH)
    if r < 0.7:
        return rng.choice(_NOUNS)
    if r < 0.8:
        return f"{rng.choice(_ADJ)} {rng.choice(_NOUNS)}"
    if r < 0.9:
        return rng.choice(V.PRODUCTS).lower()
    return rand_word(rng, 3, 9)


_F: dict[str, Filler] = {
    "w": _word,
    "w2": _word,
    "w3": _word,
    "noun": choice_filler(_NOUNS),
    "noun2": choice_filler(_NOUNS),
    "sh": choice_filler(_SHELLISH),
    "adj": choice_filler(_ADJ),
    "first": lambda r: r.choice(V.FIRST_NAMES),
    "last": lambda r: r.choice(V.LAST_NAMES),
    "name": B.person_name,
    "email": B.email,
    "city": lambda r: r.choice(V.CITIES),
    "city2": lambda r: r.choice(V.CITIES),
    "p": lambda r: r.choice(V.PRODUCTS),
    "brand": lambda r: r.choice(V.BRANDS),
    "dom": lambda r: r.choice(V.DOMAINS),
    "topic": lambda r: r.choice(V.TOPICS),
    "n": lambda r: str(r.randint(2, 99)),
    "big": lambda r: str(r.randint(100, 99999)),
    "port": lambda r: str(
        r.choice([3000, 3001, 4200, 5000, 5173, 8000, 8080, 8081, 8443, 8888, 9000])
    ),
    "year": lambda r: str(r.randint(2015, 2026)),
    "ver": choice_filler(_VERSIONS),
    "ver2": choice_filler(_VERSIONS),
    "hex": lambda r: rand_hex(r, r.choice([7, 8, 12])),
    "code": lambda r: rand_alnum(
        r, r.randint(20, 43), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    ),
    "state": lambda r: rand_alnum(r, r.randint(12, 32)),
    "w_": lambda r: rand_word(r, 3, 9),
    "w_2": lambda r: rand_word(r, 3, 9),
    "svc": choice_filler(
        words(
            "api web worker billing auth search cart orders users gateway frontend backend cron queue mailer"
        )
    ),
    "ns": choice_filler(
        words("default prod staging dev kube-system monitoring payments data ingress")
    ),
    "file": choice_filler(
        words(
            "app.log access.log error.log files.txt hosts.txt list.csv data.json notes.md main.py index.js config.yaml Makefile requirements.txt package.json README.md"
        )
    ),
    "ext": choice_filler(words("log txt csv json py js md tmp bak gz jpg png yaml")),
    "dir": choice_filler(
        (
            "/var/www",
            "/var/www/html",
            "/srv/app",
            "/opt/{w_}",
            "~/projects/{w_}",
            "./build",
            "src/",
            "/home/deploy/app",
            "/data/backups",
            "public/uploads",
        )
    ),
    "user": choice_filler(
        words("www-data nginx deploy ubuntu ec2-user node app root admin git jenkins")
    ),
    "mode": choice_filler(words("755 644 600 700 775 664 g+w u+x o-rwx a+r")),
    "lang": choice_filler(
        words(
            "bash sh python java javascript js php sql ruby go yaml json text console shell powershell"
        )
    ),
}


def _f(template: str, rng: random.Random, fixed: dict[str, str] | None = None) -> str:
    return fill(template, rng, _F, fixed)


# --- 1. shell vocabulary in prose, lists and data rows --------------------------------------

_SEPS = (
    " | ",
    "|",
    "; ",
    ";",
    " & ",
    " ; ",
    " || ",
    " / ",
    ", ",
    " - ",
    " && ",
    "\t",
    " · ",
    " > ",
)
_LIST_PROSE = (
    "{w} & {w2}; {w3} | {noun}", "{w} and {w2}; {w3} or {noun}", "rm -rf {noun} {noun2}", "rm -rf {w} {w2} - lol",
    "{sh} & {noun}", "{sh} | {noun} | {noun2}", "{w}? {w2}? or {w3}?", "pick one: {w} | {w2} | {w3}",
    "favourites: {w}; {w2}; {w3}", "likes: {w} & {w2}", "{noun} > {noun2} > {w}", "{w} vs {w2} vs {w3}",
    "{sh} {noun} (not {noun2})", "{w} {sh} {noun}", "{first}'s list: {w}, {w2} & {w3}", "to do: {sh} the {noun}; {sh} the {noun2}",
    "{noun} | {noun2}", "{adj} {noun} && {adj} {noun2}", "sort by: {w} | {w2}", "tags: {w};{w2};{w3}",
)  # fmt: skip


def _sep_list(rng: random.Random) -> str:
    sep = rng.choice(_SEPS)
    items = [_word(rng) for _ in range(rng.randint(2, 7))]
    if rng.random() < 0.2:
        items = [f"{it} {rng.choice(_VERSIONS)}" if rng.random() < 0.5 else it for it in items]
    return sep.join(items)


def _analytics_pipes(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        fields = [
            rng.choice(words("typeahead search suggest recent autocomplete history trending")),
            rng.choice(words("term query product category brand")),
            B.search_query(rng),
            *[
                rng.choice(["", "", rand_word(rng, 3, 7), str(rng.randint(0, 20))])
                for _ in range(rng.randint(1, 4))
            ],
            rng.choice(words("history recent popular organic paid")),
        ]
        return "|".join(fields)
    if r < 0.65:  # Sec-CH-UA-Full-Version-List-like, lowercase and pipe-joined
        brands = rng.sample(
            [
                "chromium",
                "google chrome",
                "not-a.brand",
                "microsoft edge",
                "brave",
                "opera",
                "not_a brand",
                "yandex",
                "samsung internet",
            ],
            rng.randint(2, 3),
        )
        major = rng.randint(100, 131)
        ver = f"{major}.0.{rng.randint(4000, 6800)}.{rng.randint(10, 250)}"
        sep_in = rng.choice([";", ";", "/", ":"])
        return rng.choice(["|", ",", "; "]).join(
            f"{b}{sep_in}{ver if 'not' not in b else rng.choice(['99.0.0.0', '8.0.0.0', '24.0.0.0'])}"
            for b in brands
        )
    if r < 0.85:  # tracking/consent strings
        return rng.choice(["|", ";", "~", "^"]).join(
            rng.choice(
                [
                    f"{rand_word(rng, 2, 6)}:{rng.randint(0, 1)}",
                    rand_word(rng, 3, 8),
                    str(rng.randint(0, 99999)),
                    rand_hex(rng, 8),
                    "",
                    B.search_query(rng),
                ]
            )
            for _ in range(rng.randint(3, 8))
        )
    return "|".join(f"{_word(rng)};{rng.choice(_VERSIONS)}" for _ in range(rng.randint(2, 5)))


_CSV_HEADERS = (
    ("name", "email", "city"), ("sku", "title", "price", "qty"), ("id", "term", "count"), ("date", "description", "amount"),
    ("title", "author", "year", "tags"), ("keyword", "volume", "difficulty"), ("word", "definition"), ("team", "member", "role", "notes"),
    ("step", "command", "comment"), ("table", "column", "type", "nullable"), ("feature", "status", "owner"), ("pub", "drink", "price"),
)  # fmt: skip
_CSV_PHRASES = (
    "Union Jack flag", "drop-down menu", "select all", "table tennis", "update pending", "insert coin", "from scratch", "where to buy",
    "drop shipping", "union rep", "order by phone", "group discount", "select committee", "coffee table", "delete later", "kill switch",
    "table of contents", "union station", "drop ceiling", "select fit jeans", "cat toys", "sleep mask", "echo dot", "bash party",
    "exec summary", "shell suit", "ping pong", "source code", "join us", "truncate text", "dropped call", "Drop Table (band)",
)  # fmt: skip


def _cell(rng: random.Random, col: str) -> str:
    if col in ("name", "author", "member", "owner"):
        return B.person_name(rng)
    if col == "email":
        return B.email(rng)
    if col in ("city",):
        return rng.choice(V.CITIES)
    if col in ("price", "amount"):
        return f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}"
    if col in ("qty", "count", "volume", "difficulty", "id", "year", "step"):
        return str(rng.randint(1, 9999))
    if col == "date":
        return B.date_value(rng)
    if col == "sku":
        return f"{rand_alnum(rng, 3).upper()}-{rng.randint(100, 9999)}"
    if col == "type":
        return rng.choice(["varchar(255)", "int", "text", "timestamp", "boolean", "numeric(10,2)"])
    if col == "nullable":
        return rng.choice(["yes", "no", "true", "false"])
    if col == "status":
        return rng.choice(["done", "in progress", "blocked", "todo", "drop", "select"])
    if col == "command":
        return rng.choice(
            [
                "make build",
                "npm test",
                "git pull",
                "docker compose up -d",
                "pytest -q",
                "terraform plan",
            ]
        )
    if col == "table":
        return rng.choice(
            ["users", "orders", "union_members", "drop_points", "select_items", "table_bookings"]
        )
    if col == "column":
        return rng.choice(["name", "created_at", "drop_date", "select_flag", "union_id", "status"])
    r = rng.random()
    if r < 0.45:
        return rng.choice(_CSV_PHRASES)
    if r < 0.7:
        return B.search_query(rng)
    if r < 0.85:
        return _word(rng)
    return B.sentence(rng)


def _csv_quote(cell: str, delim: str, rng: random.Random) -> str:
    if delim in cell or '"' in cell or "\n" in cell or rng.random() < 0.25:
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _data_rows(rng: random.Random) -> tuple[str, str]:
    """A CSV/TSV/semicolon table: one row (value) or a multi-line body with a header (raw)."""
    header = rng.choice(_CSV_HEADERS)
    delim = weighted(rng, ((",", 5.0), (";", 3.0), ("\t", 2.0), ("|", 1.5)))
    nrows = rng.choice([1, 1, 2, 3, 5, 8])
    rows = [delim.join(_csv_quote(_cell(rng, c), delim, rng) for c in header) for _ in range(nrows)]
    if nrows == 1 and rng.random() < 0.6:
        return rows[0], "value"
    head = delim.join(header if rng.random() < 0.7 else [h.title() for h in header])
    nl = rng.choice(["\n", "\r\n"])
    return nl.join([head, *rows]) + (nl if rng.random() < 0.5 else ""), "raw"


def _shell_vocab(rng: random.Random) -> tuple[str, str, str]:
    r = rng.random()
    if r < 0.3:
        return _f(rng.choice(_LIST_PROSE), rng), "value", "shellvocab:prose"
    if r < 0.55:
        return _sep_list(rng), "value", "shellvocab:list"
    if r < 0.75:
        return _analytics_pipes(rng), rng.choice(["value", "value", "header"]), "shellvocab:pipes"
    value, kind = _data_rows(rng)
    return value, kind, "shellvocab:csv"


# --- 2. developer Q&A with shell commands and code as the subject ----------------------------

_SHELL_CMDS = (
    "ls | wc -l", "ls -1 | wc -l", "ps aux | grep java", "ps -ef | grep nginx", "ps aux --sort=-%mem | head", "chown -R {user}:{user} {dir}",
    "chmod {mode} {dir}", "chmod -R {mode} {dir}", "sudo chown {user} {dir}", "find . -name \"*.{ext}\" -delete", "find {dir} -type f -mtime +30 -delete",
    "find . -name '*.{ext}' | xargs grep -l TODO", "du -sh * | sort -h", "df -h /", "tail -n 100 {file}", "grep -rn \"{w_}\" src/ | wc -l",
    "for f in *.{ext}; do mv \"$f\" \"${{f%.{ext}}}.bak\"; done", "for i in {{1..10}}; do echo $i; done", "while read line; do echo \"$line\"; done < {file}",
    "for f in $(cat files.txt); do cp \"$f\" backup/; done", "export NODE_ENV=production", "source .venv/bin/activate", "tar -xzf {w_}.tar.gz -C {dir}",
    "zip -r {w_}.zip {dir}", "rsync -avz {dir}/ {user}@{w_}.internal:{dir}/", "scp {file} {user}@{w_}.example.com:/tmp/", "ssh -i ~/.ssh/id_ed25519 {user}@10.0.{n}.{n}",
    "git log --oneline --graph | head -20", "git rebase -i HEAD~{n}", "git push origin {w_} --force-with-lease", "git checkout -b feature/{w_}",
    "git stash && git pull && git stash pop", "docker ps -a", "docker compose up -d --build", "docker run --rm -it -v $PWD:/app -w /app node:20 npm test",
    "docker exec -it {svc} sh", "docker logs -f --tail 100 {svc}", "docker build -t {svc}:latest .", "kubectl get pods -n {ns}", "kubectl logs -f deploy/{svc} -n {ns}",
    "kubectl rollout restart deployment/{svc} -n {ns}", "kubectl describe pod {svc}-{hex} -n {ns}", "kubectl exec -it {svc}-{hex} -- /bin/sh",
    "helm upgrade --install {svc} ./chart -n {ns}", "systemctl status nginx", "sudo systemctl restart {svc}", "journalctl -u {svc} -f", "crontab -e",
    "crontab -l", "*/5 * * * * /usr/bin/php {dir}/artisan schedule:run >> /dev/null 2>&1", "0 3 * * * {dir}/backup.sh > /var/log/backup.log 2>&1",
    "curl -s https://api.{dom}/v1/{w_} | jq '.items[] | .name'", "awk -F, '{{print $2}}' {file} | sort | uniq -c", "sed -i 's/{w_}/{w_2}/g' {file}",
    "npm run build && npm test", "pip install -r requirements.txt", "python -m http.server {port}", "make clean && make -j{n}", "xargs -n 1 echo < {file}",
    "openssl x509 -in cert.pem -noout -dates", "nslookup {dom}", "netstat -tulpn | grep :{port}", "lsof -i :{port}", "kill -9 {big}", "sudo apt install -y {w_}",
)  # fmt: skip
_CODE = (
    "print(f\"{{i=}} {{total=}}\")", "name = f\"{{first}} {{last}}\".strip()", "for i in range({n}):\n    print(i, i ** 2)",
    "@app.route('/{w_}/<int:id>')\ndef show(id):\n    return render_template('{w_}.html', id=id)", "return render_template('index.html', items=items)",
    "subprocess.run([\"ls\", \"-la\"], check=True)", "os.makedirs(path, exist_ok=True)", "with open('{file}') as fh:\n    data = json.load(fh)",
    "PreparedStatement ps = conn.prepareStatement(\"SELECT id, name FROM users WHERE email = ?\");\nps.setString(1, email);\nResultSet rs = ps.executeQuery();",
    "String url = \"jdbc:postgresql://localhost:5432/{w_}\";\nConnection conn = DriverManager.getConnection(url, user, pass);",
    "const res = await fetch(`/api/{w_}?page=${{page}}`);\nconst data = await res.json();", "items.filter(x => x.qty > 0 && !x.hidden).map(x => x.id)",
    "app.get('/{w_}/:id', (req, res) => res.json({{ id: req.params.id }}));", "$rows = $pdo->query('SELECT COUNT(*) FROM {w_}')->fetchColumn();",
    "echo htmlspecialchars($title, ENT_QUOTES);", "foreach ($items as $i => $item) {{ echo $i; }}", "Runtime rt = Runtime.getRuntime();\nlong free = rt.freeMemory();",
    "if err := cmd.Run(); err != nil {{\n    log.Fatal(err)\n}}", "df.groupby('{w_}').agg({{'amount': 'sum'}}).reset_index()", "SELECT name, COUNT(*) FROM {w_} GROUP BY name;",
    "logger.info(\"processed %d rows in %.2fs\", n, elapsed)", "val xs = List(1, 2, 3).map(_ * 2)", "let total = items.iter().map(|i| i.price).sum::<f64>();",
)  # fmt: skip
_Q_OPEN = (
    "How do I", "Why does", "Is there a way to", "What's the best way to", "Can someone explain why", "I'm trying to", "Quick question:",
    "Newbie here -", "Not sure if this is the right forum, but", "Hey all,", "Hi everyone!", "Stuck on this for hours:", "TIL you can",
    "Does anyone know why", "After upgrading to {ver},", "On Ubuntu {ver},", "In our CI pipeline,", "My manager asked me to", "For a school project I",
)  # fmt: skip
_Q_MID = (
    "count the files in a folder", "find which process is eating memory", "fix permissions on the web root", "delete old logs",
    "loop over a list of files", "run a job every night", "restart the service after deploy", "debug a pod that keeps crashing",
    "print variables for debugging", "parameterize a query", "render a template", "copy files to the server", "clean up docker images",
    "rename a bunch of files", "check which port is in use", "compress the build output", "read a file line by line", "schedule the artisan command",
)  # fmt: skip
_Q_CLOSE = (
    "Thanks in advance!", "Any help appreciated.", "What am I missing?", "Is this the right approach?", "Cheers.", "Works on my machine, fails in prod.",
    "It prints nothing.", "Output is empty - why?", "I get 'permission denied'.", "Is this safe to run on prod?", "Edit: solved, see below.",
    "(running as {user})", "This used to work in {ver}.", "Docs weren't clear on this.", "Upvoted the other answer too.", "",
)  # fmt: skip
_ANSWER = (
    "You can use {c}", "Try {c} instead", "The simplest is {c}", "Use {c} - it's faster", "I usually do {c}", "This should work: {c}",
    "Run {c} and check the output", "Don't use {c} on prod without a backup", "{c} is what you want", "Accepted answer: {c}",
    "FWIW {c} does the same thing", "Careful: {c} is recursive", "Why not just {c}?", "Replace your loop with {c}",
)  # fmt: skip


def _wrap_code(code: str, rng: random.Random, lang: str) -> str:
    style = weighted(
        rng, (("inline", 3.0), ("fence", 3.0), ("prompt", 1.5), ("plain", 1.5), ("indent", 1.0))
    )
    if style == "inline" and "\n" not in code:
        return f"`{code}`"
    if style == "fence":
        return f"\n```{rng.choice([lang, '', lang])}\n{code}\n```\n"
    if style == "prompt":
        return (
            "\n"
            + "\n".join(
                rng.choice(["$ ", "# ", "> ", "PS> ", "user@host:~$ "]) + ln
                for ln in code.splitlines()
            )
            + "\n"
        )
    if style == "indent":
        return "\n\n" + "\n".join("    " + ln for ln in code.splitlines()) + "\n\n"
    return code


def _dev_qa(rng: random.Random) -> tuple[str, str, str]:
    r = rng.random()
    if r < 0.18:  # ops/config field set by an admin
        cmd = _f(
            rng.choice(
                (
                    *_SHELL_CMDS,
                    "php artisan schedule:run >> /dev/null 2>&1",
                    "npm run build && npm test",
                    "yarn install --frozen-lockfile && yarn build",
                    "bundle exec rake db:migrate",
                    "./gradlew clean build -x test",
                )
            ),
            rng,
        )
        key = rng.choice(
            [
                "command",
                "script",
                "cron",
                "cmd",
                "run",
                "entrypoint",
                "pre_deploy",
                "post_install",
                "build_command",
                "healthcheck",
            ]
        )
        if rng.random() < 0.5:
            return cmd, "value", f"devqa:config:{key}"
        doc: dict[str, object] = {"name": _f("{svc}-{w_}", rng), key: cmd}
        if rng.random() < 0.5:
            doc["schedule"] = rng.choice(
                ["*/5 * * * *", "0 3 * * *", "@daily", "@hourly", "15 2 * * 1-5"]
            )
        if rng.random() < 0.4:
            doc["enabled"] = rng.random() < 0.8
        return json.dumps(doc, indent=rng.choice([None, 2])), "raw", "devqa:config"
    if r < 0.7:
        code, lang = (
            _f(rng.choice(_SHELL_CMDS), rng),
            rng.choice(["bash", "sh", "console", "shell", ""]),
        )
    else:
        code, lang = (
            _f(rng.choice(_CODE), rng),
            rng.choice(["python", "java", "js", "php", "go", ""]),
        )
    shown = _wrap_code(code, rng, lang)
    form = rng.random()
    if form < 0.45:
        text = f"{_f(rng.choice(_Q_OPEN), rng)} {rng.choice(_Q_MID)}? I tried {shown} {_f(rng.choice(_Q_CLOSE), rng)}"
    elif form < 0.8:
        text = _f(rng.choice(_ANSWER), rng, {"c": shown}) + rng.choice(
            [".", "", " :)", "\n\nHope that helps.", " (see the man page)."]
        )
    else:
        text = f"{_f(rng.choice(_Q_OPEN), rng)} {rng.choice(_Q_MID)}:{shown}{_f(rng.choice(_Q_CLOSE), rng)}"
    text = text.replace("\n\n\n", "\n\n").strip()
    return text, "value" if len(text) < 400 or rng.random() < 0.5 else "raw", "devqa:post"


# --- 3. boolean / structured search and filter syntax ----------------------------------------

_FIELDS = words(
    "status priority assignee reporter project type labels created updated region team category brand price country level host service env"
)
_VALUES = words(
    "open closed done active pending emea apac amer high low medium books electronics toys prod staging eu us backend frontend"
)


def _qv(rng: random.Random) -> str:
    v = rng.choice(_VALUES) if rng.random() < 0.6 else B.search_query(rng)
    return rng.choice([f"'{v}'", f'"{v}"', v if " " not in v else f'"{v}"'])


def _search_syntax(rng: random.Random) -> tuple[str, str, str]:
    k = rng.randrange(12)
    if k == 0:  # plain boolean search
        a, b, c = (B.search_query(rng) for _ in range(3))
        return (
            rng.choice(
                [
                    f"'{a}' or '{b}'",
                    f'"{a}" OR "{b}"',
                    f'("{a}" or "{b}") and ({_word(rng)} or {_word(rng)}) -{_word(rng)}',
                    f'"{a}" AND NOT "{b}"',
                    f"{a} -{b} +{c}",
                    f"({a} OR {b}) AND {c}",
                    f'"{a}" | "{b}"',
                    f"{a} && {b}",
                ]
            ),
            "value",
            "search:boolean",
        )
    if k == 1:  # job / people search
        roles = [
            "data engineer",
            "analytics engineer",
            "product manager",
            "ux designer",
            "backend developer",
            "sre",
            "nurse",
            "teacher",
        ]
        a, b = rng.sample(roles, 2)
        return (
            rng.choice(
                [
                    f'("{a}" or "{b}") and (remote or hybrid) -senior',
                    f'"{a}" AND ({rng.choice(V.CITIES)} OR remote) NOT intern',
                    f'title:("{a}" OR "{b}") AND location:"{rng.choice(V.CITIES)}"',
                    f"{a} or {b} -recruiter -agency",
                ]
            ),
            "value",
            "search:jobs",
        )
    if k == 2:  # natural-ish filter
        f, v1, v2 = rng.choice(_FIELDS), rng.choice(_VALUES), rng.choice(_VALUES)
        return (
            rng.choice(
                [
                    f"revenue where {f} = '{v1}' or '{v2}' (draft)",
                    f"{f} is '{v1}' or '{v2}'",
                    f"show {rng.choice(_NOUNS)} where {f} != '{v1}'",
                    f"{f}='{v1}' and {rng.choice(_FIELDS)}>{rng.randint(1, 500)}",
                    f"{f} in ('{v1}', '{v2}')",
                ]
            ),
            "value",
            "search:filter",
        )
    if k == 3:  # Google Drive API
        parts = rng.sample(
            [
                "mimeType='application/vnd.google-apps.folder'",
                "trashed=false",
                "'root' in parents",
                f"name contains '{rand_word(rng)}'",
                f"'{rand_alnum(rng, 28)}' in parents",
                f"modifiedTime > '{rng.randint(2020, 2025)}-0{rng.randint(1, 9)}-01T00:00:00'",
                "starred = true",
                "mimeType != 'application/vnd.google-apps.folder'",
                f"fullText contains '{B.search_query(rng)}'",
                "sharedWithMe",
            ],
            rng.randint(2, 4),
        )
        return (
            rng.choice([" and ", " and ", " or "])
            .join(parts)
            .replace("mimeType", rng.choice(["mimeType", "mimetype"])),
            "value",
            "search:gdrive",
        )
    if k == 4:  # JQL
        proj = rand_alnum(rng, rng.randint(2, 5), "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        parts = [
            f"project = {proj}",
            *rng.sample(
                [
                    'status in ("In Progress", Done)',
                    "status = Open",
                    "assignee = currentUser()",
                    "priority in (High, Highest)",
                    "labels = backend",
                    "created >= -7d",
                    "resolution = Unresolved",
                    f'sprint = "{proj} Sprint {rng.randint(1, 90)}"',
                    "issuetype != Epic",
                    f'text ~ "{B.search_query(rng)}"',
                    "updated < startOfWeek()",
                    "fixVersion = EMPTY",
                ],
                rng.randint(1, 3),
            ),
        ]
        return (
            " AND ".join(parts)
            + rng.choice(
                [
                    "",
                    " ORDER BY created DESC",
                    " ORDER BY priority DESC, updated ASC",
                    " ORDER BY Rank",
                ]
            ),
            "value",
            "search:jql",
        )
    if k == 5:  # Kibana rison / KQL / Lucene
        q = rng.choice(
            [
                "http.response.status_code >= 500",
                f'host.name : "{rand_word(rng)}-01" and not log.level : debug',
                "event.outcome : failure",
                f"service.name : {_f('{svc}', rng)} and url.path : /api/*",
                "response:404 OR response:503",
                f'user.name : "{B.person_name(rng)}"',
            ]
        )
        if rng.random() < 0.5:
            return q, "value", "search:kql"
        return (
            (
                f"(columns:!(message,host.name),filters:!(),index:'{rand_hex(rng, 8)}',interval:auto,query:(language:kuery,query:'{q}'),sort:!(!('@timestamp',desc)))"
                if rng.random() < 0.6
                else f"(time:(from:now-{rng.randint(1, 72)}h,to:now),refreshInterval:(pause:!t,value:0))"
            ),
            "value",
            "search:rison",
        )
    if k == 6:  # OData
        f1 = rng.choice(
            [
                "Price gt 20",
                "Category eq 'Books'",
                f"contains(Name,'{rand_word(rng)}')",
                "Rating ge 4",
                "Discontinued eq false",
                f"startswith(City,'{rng.choice(V.CITIES)[:3]}')",
                "year(ReleaseDate) eq 2024",
            ]
        )
        f2 = rng.choice(
            [
                "Category eq 'Books'",
                "Price le 100",
                "InStock eq true",
                "Country ne 'US'",
                "not (Status eq 'Archived')",
            ]
        )
        return (
            rng.choice(
                [
                    f"$filter={f1} and {f2}",
                    f"{f1} and {f2}",
                    f"{f1} or {f2}",
                    f"$filter={f1}&$orderby=Name desc&$top={rng.randint(5, 50)}",
                ]
            ),
            "value",
            "search:odata",
        )
    if k == 7:  # SCIM
        return (
            rng.choice(
                [
                    f'userName eq "{B.email(rng)}"',
                    f'name.familyName co "{rng.choice(V.LAST_NAMES)}"',
                    'active eq true and meta.lastModified gt "2024-01-01T00:00:00Z"',
                    f'emails[type eq "work" and value ew "@{rng.choice(V.DOMAINS)}"]',
                    'title pr and userType eq "Employee"',
                    f'displayName sw "{rng.choice(V.FIRST_NAMES)}"',
                ]
            ),
            "value",
            "search:scim",
        )
    if k == 8:  # LDAP-like
        return (
            rng.choice(
                [
                    f"(&(objectClass=user)(sAMAccountName={rand_word(rng)}))",
                    f"(|(cn={rng.choice(V.FIRST_NAMES)}*)(mail=*@{rng.choice(V.DOMAINS)}))",
                    f"(&(objectCategory=person)(memberOf=CN={rand_word(rng).title()},OU=Groups,DC=corp,DC=example))",
                    "(&(objectClass=group)(!(member=*)))",
                    f"(uid={rand_word(rng)})",
                    f"(&(department={rng.choice(['Sales', 'IT', 'HR', 'Finance'])})(title=*Manager*))",
                ]
            ),
            "value",
            "search:ldap",
        )
    if k == 9:  # Splunk / Datadog / Loki
        svc = rng.choice(["api", "web", "checkout", "auth", "billing"])
        return (
            rng.choice(
                [
                    "index=main sourcetype=access_combined status>=500 | stats count by host | sort -count",
                    f"index=prod {svc} error | timechart span=5m count",
                    f"service:{svc} status:error @http.status_code:[500 TO 599]",
                    f'source="/var/log/{svc}.log" "timeout" | top limit=10 uri',
                    f'{{app="{svc}"}} |= "error" | json | line_format "{{{{.msg}}}}"',
                    f"env:prod AND service:{svc} AND -status:ok",
                    "index=web | where bytes > 1024 | table _time, clientip, uri",
                    f"sum:trace.http.request.hits{{service:{svc}}} by {{resource_name}}.as_count()",
                ]
            ),
            "value",
            "search:logs",
        )
    if k == 10:  # GitHub / Gmail style qualifiers
        return (
            rng.choice(
                [
                    f"is:issue is:open label:bug -label:wontfix author:{rand_word(rng)}",
                    f"repo:{rand_word(rng)}/{rand_word(rng)} language:python stars:>100",
                    f"from:{B.email(rng)} has:attachment older_than:1y",
                    "subject:(invoice OR receipt) -from:noreply",
                    f"in:title {B.search_query(rng)} created:>=2024-01-01",
                ]
            ),
            "value",
            "search:qualifiers",
        )
    return (
        _f(
            rng.choice(
                [
                    "{w} OR {w2}",
                    "{w} AND {w2} NOT {w3}",
                    '"{w}"~5',
                    "{w}* AND {w2}?",
                    "title:{w} OR body:{w2}",
                    "price:[10 TO 100] AND brand:{brand}",
                    "{w} -{w2}",
                    "+{w} +{w2} -{w3}",
                    "tag:{w} | tag:{w2}",
                    "({w} | {w2}) & !{w3}",
                ]
            ),
            rng,
        ),
        "value",
        "search:lucene",
    )


# --- 4. expression languages and rules -----------------------------------------------------

_VARS = words("x y z n a b count total score age qty price level retries limit size depth")
_REQ = (
    "request.size",
    "request.method",
    "request.path",
    "user.country",
    "user.plan",
    "user.age",
    "cart.total",
    "device.type",
    "app.version",
    "session.count",
)


def _expr(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth > 1 or r < 0.4:
        a = rng.choice(_VARS + _REQ)
        op = rng.choice([">", "<", ">=", "<=", "==", "!=", "=", "<>"])
        v = rng.choice(
            [
                str(rng.randint(0, 1024)),
                "'POST'",
                '"GET"',
                "'DE'",
                '"pro"',
                "true",
                "null",
                "0.5",
                "'/api'",
            ]
        )
        return f"{a} {op} {v}"
    if r < 0.7:
        return f"{_expr(rng, depth + 1)} {rng.choice(['&&', '||', 'and', 'or', 'AND', 'OR'])} {_expr(rng, depth + 1)}"
    if r < 0.85:
        return (
            f"!({_expr(rng, depth + 1)})" if rng.random() < 0.5 else f"not {_expr(rng, depth + 1)}"
        )
    return f"({_expr(rng, depth + 1)})"


def _expressions(rng: random.Random) -> tuple[str, str, str]:
    k = rng.randrange(7)
    if k == 0:
        return _expr(rng), "value", "expr:rule"
    if k == 1:
        v = rng.choice(_VARS)
        return (
            rng.choice(
                [
                    f"if {v}>0 then 1 else 0",
                    f"if ({v} > {rng.randint(1, 99)}) {{ {v} = 0; }}",
                    f"{v} > 0 ? 'yes' : 'no'",
                    f"case when {v} > 0 then 'pos' else 'neg' end",
                    f"{v} = {v} + 1",
                    f"while ({v} < 10) {v}++",
                    f"{v} := max(0, {v} - 1)",
                ]
            ),
            "value",
            "expr:cond",
        )
    if k == 2:
        return (
            rng.choice(
                [
                    "true && false || !true",
                    "!a || (b && c)",
                    "(a | b) & ~c",
                    "a ^ b",
                    "x && !y",
                    "p -> q",
                    "not (a and b) == (not a or not b)",
                    "1 || 0 && 1",
                ]
            ),
            "value",
            "expr:bool",
        )
    if k == 3:  # spreadsheet
        c = f"{rng.choice('ABCDEFGH')}{rng.randint(1, 99)}"
        return (
            rng.choice(
                [
                    f'=IF({c}>0,"yes","no")',
                    f"=SUM({c}:{c[0]}{rng.randint(100, 200)})",
                    f'=IFERROR(VLOOKUP({c},Sheet2!A:B,2,FALSE),"")',
                    f"=AND({c}>0,{c}<100)",
                    f'=OR({c}="x",{c}="y")',
                    f"=ROUND({c}*1.19,2)",
                    f'=TEXT({c},"yyyy-mm-dd")',
                    f'=COUNTIF(A:A,"<>"&{c})',
                    f'=IF(AND({c}>=18,{c}<65),"adult",IF({c}<18,"minor","senior"))',
                    f'=CONCAT({c}," | ",{rng.choice("ABC")}{rng.randint(1, 9)})',
                ]
            ),
            "value",
            "expr:sheet",
        )
    if k == 4:  # feature-flag rules
        rule_text = _expr(rng)
        rule = {
            "flag": _f("{w_}-{w_2}", rng),
            "rule": rule_text,
            "rollout": rng.choice([5, 10, 25, 50, 100]),
        }
        return json.dumps(rule) if rng.random() < 0.5 else rule_text, "value", "expr:flag"
    if k == 5:  # math
        a, b, m = rng.randint(1, 99), rng.randint(1, 99), rng.randint(1, 9)
        return (
            rng.choice(
                [
                    f"{a} * ({b} + {m}) / 2",
                    f"f(x) = {m}x^2 - {b}x + {a}",
                    f"|x - {a}| < {m}",
                    f"{a} % {m} == {a % m}",
                    f"2^{m} = {2**m}",
                    f"sqrt({a}) ~ {a**0.5:.2f}",
                    "x = (-b ± sqrt(b^2 - 4ac)) / 2a",
                    f"{a} >= {b} || {b} >= {a}",
                    f"sum(i for i in 1..{a})",
                ]
            ),
            "value",
            "expr:math",
        )
    return (
        rng.choice(
            [
                "${{ github.event_name == 'push' && github.ref == 'refs/heads/main' }}",
                "when: ansible_os_family == 'Debian' and ansible_distribution_major_version | int >= 11",
                'rules:\n  - if: $CI_COMMIT_BRANCH == "main"\n    when: always',
                "condition: and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'))",
                "{{ if .Values.ingress.enabled }}enabled{{ end }}",
                "#{ user.admin ? 'Admin' : 'Member' }",
                "size() > 0 && all(x, x.startsWith('v'))",
            ]
        ),
        "value",
        "expr:ci",
    )


# --- 5. benign CMS / WYSIWYG / email-editor HTML ----------------------------------------------


def _img(rng: random.Random) -> str:
    name = _f("{w_}-{w_2}", rng)
    src = rng.choice(
        [
            f"/img/{name}.jpg",
            f"/uploads/{rng.randint(2018, 2026)}/{rng.randint(1, 12):02d}/{name}.png",
            f"../images/{name}.webp",
            f"https://cdn.{rng.choice(V.DOMAINS)}/media/{name}.jpg",
            f"img/{name}.gif",
        ]
    )
    attrs = [f'src="{src}"', f'alt="{B.search_query(rng).title()}"']
    if rng.random() < 0.6:
        attrs.append(
            f'width="{rng.choice([120, 300, 480, 640, 800, 1200])}" height="{rng.choice([90, 200, 320, 480, 600])}"'
        )
    if rng.random() < 0.4:
        base = src.rsplit(".", 1)[0]
        attrs.append(
            f'srcset="{base}-480w.jpg 480w, {base}-800w.jpg 800w, {base}-1200w.jpg 1200w" sizes="(max-width: 600px) 480px, 800px"'
        )
    if rng.random() < 0.5:
        attrs.append('loading="lazy"')
    if rng.random() < 0.3:
        attrs.append(
            f'class="{rng.choice(["img-fluid", "aligncenter size-large", "wp-image-" + str(rng.randint(10, 9999)), "rounded"])}"'
        )
    if rng.random() < 0.2:
        attrs.append('style="border: 0; display: block;"')
    rng.shuffle(attrs)
    return f"<img {' '.join(attrs)}{rng.choice(['', ' /'])}>"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cms_html(rng: random.Random) -> tuple[str, str, str]:
    blocks: list[str] = []
    for _ in range(rng.randint(1, 4)):
        k = rng.randrange(8)
        if k == 0:
            rows = rng.randint(1, 4)
            style = rng.choice(
                [
                    'style="width: 100%; border-collapse: collapse;"',
                    'border="1" cellpadding="4" cellspacing="0"',
                    'width="600" align="center" border="0" cellpadding="0" cellspacing="0" role="presentation"',
                    'class="table table-striped"',
                ]
            )
            td = 'style="padding: 8px; border: 1px solid #ddd;" align="{a}"'
            cells = "".join(
                "<tr>"
                + "".join(
                    f"<td {td.format(a=rng.choice(['left', 'right', 'center']))}>{_esc(_cell(rng, c))}</td>"
                    for c in ("title", "price")
                )
                + "</tr>"
                for _ in range(rows)
            )
            blocks.append(
                f"<table {style}><tbody><tr><th>Item</th><th>Price</th></tr>{cells}</tbody></table>"
            )
        elif k == 1:
            imgs = "".join(
                f'<div class="gallery-item">{_img(rng)}</div>' if rng.random() < 0.5 else _img(rng)
                for _ in range(rng.randint(1, 4))
            )
            blocks.append(
                f'<div class="gallery gallery-columns-{rng.randint(2, 4)}" id="gallery-{rng.randint(1, 9)}">{imgs}</div>'
            )
        elif k == 2:
            blocks.append(
                f'<figure class="{rng.choice(["wp-block-image", "image", "figure"])}">{_img(rng)}<figcaption>{_esc(B.sentence(rng))}</figcaption></figure>'
            )
        elif k == 3:
            href = rng.choice(
                [
                    B.url_path(rng),
                    f"https://{rng.choice(V.DOMAINS)}{B.url_path(rng)}",
                    f"/{rand_word(rng)}/{rand_word(rng)}",
                    "/faq#top",
                    f"mailto:{B.email(rng)}",
                ]
            )
            extra = rng.choice(
                [
                    "",
                    ' target="_blank" rel="noopener"',
                    ' target="_blank" rel="noopener noreferrer"',
                    ' class="btn btn-primary"',
                    ' title="Read more"',
                ]
            )
            blocks.append(
                f'<p>{_esc(B.sentence(rng))} <a href="{_esc(href)}"{extra}>{_esc(B.search_query(rng))}</a></p>'
            )
        elif k == 4:
            blocks.append(
                f'<p style="{rng.choice(["text-align: center;", "margin: 0 0 12px; font-family: Arial, sans-serif; font-size: 14px; color: #333333;", "line-height: 1.5;"])}">{_esc(B.sentence(rng))}</p>'
            )
        elif k == 5:
            blocks.append(
                f'<div class="{rng.choice(["card", "row", "col-md-6", "callout callout-info", "container"])}" id="{rand_word(rng)}-{rng.randint(1, 99)}"><h3>{_esc(B.search_query(rng).title())}</h3><p>{_esc(B.sentence(rng))}</p></div>'
            )
        elif k == 6:
            items = "".join(
                f"<li>{_esc(_cell(rng, 'notes'))}</li>" for _ in range(rng.randint(2, 5))
            )
            tag = rng.choice(["ul", "ol"])
            blocks.append(f"<{tag}>{items}</{tag}>")
        else:
            blocks.append(
                f'<blockquote class="{rng.choice(["quote", "twitter-tweet", "wp-block-quote"])}"><p>{_esc(B.sentence(rng))}</p><cite>{_esc(B.person_name(rng))}</cite></blockquote>'
            )
    html = rng.choice(["", "\n"]).join(blocks)
    return html, "value" if len(html) < 600 or rng.random() < 0.4 else "raw", "html:cms"


# --- 6. User-Agent grammar ------------------------------------------------------------------

_NET_CLR = (
    ".NET CLR 1.1.4322",
    ".NET CLR 2.0.50727",
    ".NET CLR 3.0.04506.648",
    ".NET CLR 3.0.4506.2152",
    ".NET CLR 3.5.30729",
    ".NET CLR 3.0.30729",
    ".NET4.0C",
    ".NET4.0E",
)
_IE_EXTRAS = (
    "SLCC1", "SLCC2", "Media Center PC 5.0", "Media Center PC 6.0", "InfoPath.1", "InfoPath.2", "InfoPath.3", "Zune 4.7", "Zune 4.0", "Tablet PC 2.0",
    "Hotbar 4.1.8.0", "YComp 5.0.0.0", "YComp 5.0.2.6", "GTB7.4", "GTB6.5", "MS-RTC LM 8", "BRI/2", "MALC", "MAAU", "BOIE9;ENUS", "chromeframe/13.0.782.218",
    "AskTbPTV/5.17.0.25589", "Alexa Toolbar", "FunWebProducts", "Comcast Install 1.0", "OfficeLiveConnector.1.5", "OfficeLivePatch.1.3", "SV1", "WOW64",
)  # fmt: skip
_WIN_NT = (
    "Windows NT 5.1",
    "Windows NT 5.2",
    "Windows NT 6.0",
    "Windows NT 6.1",
    "Windows NT 6.2",
    "Windows NT 6.3",
    "Windows NT 10.0",
    "Windows 98",
    "Windows XP",
)
_LINUX_BUILDS = (
    "Ubuntu/10.04 (lucid)",
    "Ubuntu/12.04 (precise)",
    "Debian/6.0.6-1",
    "Debian-3.5.16-1",
    "Fedora/3.6.13-1.fc14",
    "Ubuntu 9.10 (karmic)",
    "CentOS/3.6-3.el5.centos",
    "SUSE/3.6.4-1.1",
)


def _legacy_ua(rng: random.Random) -> str:
    k = rng.randrange(6)
    if k == 0:  # MSIE / Trident
        ie = rng.choice(["6.0", "7.0", "8.0", "9.0", "10.0"])
        tok = ["compatible", f"MSIE {ie}", rng.choice(_WIN_NT)]
        if rng.random() < 0.5:
            tok.append(rng.choice(["WOW64", "Win64; x64", "SV1"]))
        if ie in ("8.0", "9.0", "10.0") or rng.random() < 0.3:
            tok.append(f"Trident/{ {'8.0': '4.0', '9.0': '5.0', '10.0': '6.0'}.get(ie, '4.0') }")
        tok += rng.sample(_NET_CLR, rng.randint(0, 4)) + rng.sample(_IE_EXTRAS, rng.randint(0, 5))
        return f"Mozilla/{rng.choice(['4.0', '4.0', '5.0'])} ({'; '.join(tok)})"
    if k == 1:  # IE11
        tok = [
            rng.choice(["Windows NT 6.1", "Windows NT 6.3", "Windows NT 10.0"]),
            rng.choice(["WOW64", "Win64; x64", "Touch"]),
            "Trident/7.0",
        ]
        tok += rng.sample(
            (
                *_NET_CLR,
                "SLCC2",
                "Media Center PC 6.0",
                "InfoPath.3",
                "Tablet PC 2.0",
                "MAARJS",
                "MASMJS",
            ),
            rng.randint(0, 4),
        )
        return f"Mozilla/5.0 ({'; '.join(tok)}; rv:11.0) like Gecko"
    if k == 2:  # old Firefox / Gecko with distro build tags
        v = rng.choice(
            [
                "3.0.19",
                "3.5.8",
                "3.6.13",
                "3.6.28",
                "4.0.1",
                "10.0.12",
                "17.0",
                "24.0",
                "31.0",
                "45.0",
                "52.9.0",
            ]
        )
        plat = rng.choice(
            [
                "X11; U; Linux i686; en-US",
                "X11; U; Linux x86_64; de; ",
                "Windows; U; Windows NT 5.1; en-GB",
                "Macintosh; U; Intel Mac OS X 10.6; en-US",
                "X11; Linux x86_64",
            ]
        ).rstrip("; ")
        build = f" {rng.choice(_LINUX_BUILDS)}" if "Linux" in plat and rng.random() < 0.6 else ""
        return f"Mozilla/5.0 ({plat}; rv:{v.rsplit('.', 1)[0] if v.count('.') > 1 else v}) Gecko/{rng.randint(2008, 2016)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{build} Firefox/{v}"
    if k == 3:  # old Opera
        return rng.choice(
            [
                f"Opera/9.{rng.randint(20, 80)} ({rng.choice(_WIN_NT)}; U; {rng.choice(['en', 'de', 'ru', 'pl'])}) Presto/2.{rng.randint(1, 12)}.{rng.randint(100, 400)} Version/{rng.randint(10, 12)}.{rng.randint(0, 18)}",
                f"Opera/9.80 (X11; Linux x86_64; U; {rng.choice(['en', 'fr'])}) Presto/2.2.15 Version/10.10",
                f"Opera/8.{rng.randint(0, 54)} (Windows NT 5.1; U; en)",
                f"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; en) Opera 8.{rng.randint(0, 54)}",
                f"Opera/9.80 (J2ME/MIDP; Opera Mini/{rng.randint(4, 9)}.{rng.randint(0, 5)}/{rng.randint(20000, 40000)}; U; en) Presto/2.8.119 Version/11.10",
            ]
        )
    if k == 4:  # old mobile
        return rng.choice(
            [
                f"Mozilla/5.0 (Linux; U; Android {rng.choice(['2.3.6', '4.0.4', '4.1.2', '4.4.2'])}; {rng.choice(['en-us', 'de-de'])}; {rng.choice(['GT-I9100', 'Nexus S', 'HTC Desire', 'SM-T210'])} Build/{rand_alnum(rng, 5).upper()}) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
                f"BlackBerry9700/5.0.0.{rng.randint(300, 900)} Profile/MIDP-2.1 Configuration/CLDC-1.1 VendorID/{rng.randint(100, 600)}",
                "Mozilla/5.0 (compatible; MSIE 9.0; Windows Phone OS 7.5; Trident/5.0; IEMobile/9.0; NOKIA; Lumia 800)",
                f"Mozilla/5.0 (iPhone; U; CPU iPhone OS {rng.randint(3, 5)}_{rng.randint(0, 1)} like Mac OS X; en-us) AppleWebKit/532.9 (KHTML, like Gecko) Version/4.0.5 Mobile/8A293 Safari/6531.22.7",
                f"Nokia{rng.choice(['6300', 'N95', 'E71'])}/2.0 ({rng.randint(4, 7)}.{rng.randint(0, 9)}) Profile/MIDP-2.0 Configuration/CLDC-1.1",
                "Mozilla/5.0 (Symbian/3; Series60/5.2 NokiaN8-00/012.002; Profile/MIDP-2.1 Configuration/CLDC-1.1 ) AppleWebKit/533.4 (KHTML, like Gecko) NokiaBrowser/7.3.0 Mobile Safari/533.4 3gpp-gba",
            ]
        )
    return rng.choice([  # app / SDK / crawler
        f"{rand_word(rng).title()}/{rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 99)} (com.{rand_word(rng)}.{rand_word(rng)}; build:{rng.randint(100, 9999)}; iOS {rng.randint(13, 18)}.{rng.randint(0, 5)}.0) Alamofire/5.{rng.randint(4, 9)}.0",
        f"{rand_word(rng).title()}/{rng.randint(1, 9)}.{rng.randint(0, 30)} (Linux; U; Android {rng.randint(8, 14)}; {rng.choice(['SM-A515F', 'Pixel 6', 'M2007J20CG'])}) okhttp/4.{rng.randint(9, 12)}.0",
        f"Mozilla/5.0 (compatible; {rand_word(rng).title()}Bot/{rng.randint(1, 3)}.{rng.randint(0, 9)}; +https://{rng.choice(V.DOMAINS)}/bot)",
        f"aws-sdk-java/1.12.{rng.randint(100, 600)} Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+9-LTS java/17.0.9 vendor/Amazon.com_Inc.",
        f"Boto3/1.{rng.randint(26, 34)}.{rng.randint(0, 90)} md/Botocore#1.{rng.randint(29, 34)}.{rng.randint(0, 90)} ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy",
        f"google-api-python-client/2.{rng.randint(80, 130)}.0 (gzip)", f"Stripe/v1 PythonBindings/{rng.randint(5, 8)}.{rng.randint(0, 9)}.0",
        "Microsoft-CryptoAPI/10.0", "Microsoft-WNS/10.0", f"Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.{rng.randint(0, 50)}",
        f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/{rng.randint(100, 131)}.0.0.0 Safari/537.36",
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{rng.randint(100, 131)}.0.0.0 Safari/537.36 Edge/44.18363.8131",
        "Roku4640X/DVP-7.70 (297.70E04154A)", f"Dalvik/2.1.0 (Linux; U; Android {rng.randint(7, 14)}; {rng.choice(['Redmi Note 8', 'SM-G960F', 'Pixel 4a'])} Build/{rand_alnum(rng, 6).upper()}.{rng.randint(100, 999)})",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)", "msnbot/2.0b (+http://search.msn.com/msnbot.htm)",
        f"Feedly/1.0 (+http://www.feedly.com/fetcher.html; {rng.randint(1, 999)} subscribers; like FeedFetcher-Google)",
        f"Mozilla/5.0 (Linux; Android {rng.randint(9, 14)}; {rng.choice(['SM-G973F', 'Pixel 5'])}; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{rng.randint(100, 131)}.0.0.0 Mobile Safari/537.36 Line/{rng.randint(10, 14)}.{rng.randint(0, 20)}.1/IAB",
    ])  # fmt: skip


def _user_agents(rng: random.Random) -> tuple[str, str, str]:
    return (_legacy_ua(rng) if rng.random() < 0.8 else B.user_agent(rng)), "header", "ua"


# --- 7. OAuth / redirect values --------------------------------------------------------------


def _oauth(rng: random.Random) -> tuple[str, str, str]:
    local = rng.choice(
        [
            "localhost",
            "127.0.0.1",
            "[::1]",
            "0.0.0.0",
            "host.docker.internal",
            "dev.local",
            f"{rand_word(rng)}.test",
        ]
    )
    path = rng.choice(
        [
            "/callback",
            "/auth",
            "/auth/callback",
            "/oauth2/callback",
            "/login/oauth2/code/google",
            "/signin-oidc",
            "/api/auth/callback/github",
            "/redirect",
            "",
        ]
    )
    scheme_app = rng.choice(
        [
            "myapp",
            "com.example.app",
            f"com.{rand_word(rng)}.{rand_word(rng)}",
            "fb123456789",
            "msauth.com.contoso.app",
            f"{rand_word(rng)}",
        ]
    )
    k = rng.randrange(6)
    if k == 0:
        return f"http://{local}:{_f('{port}', rng)}{path}", "value", "oauth:local"
    if k == 1:
        q = {"code": _f("{code}", rng), "state": _f("{state}", rng)}
        if rng.random() < 0.3:
            q["scope"] = rng.choice(["openid email profile", "read:user", "offline_access"])
        return (
            f"{scheme_app}://{rng.choice(['callback', 'oauth', 'auth/redirect', 'login'])}?{urlencode(q)}",
            "value",
            "oauth:deeplink",
        )
    if k == 2:
        inner = f"{B.url_path(rng)}?{urlencode(B.query_params(rng, rng.randint(1, 3)))}"
        return (
            rng.choice(
                [
                    inner,
                    quote(inner, safe=""),
                    f"https://{rng.choice(V.DOMAINS)}{inner}",
                    f"https://{rng.choice(V.DOMAINS)}/login?next={quote(inner, safe='')}",
                ]
            ),
            "value",
            "oauth:return",
        )
    if k == 3:
        redir = rng.choice(
            [
                f"http://{local}:{_f('{port}', rng)}{path}",
                f"{scheme_app}://callback",
                f"https://{rng.choice(V.DOMAINS)}{path or '/cb'}",
            ]
        )
        params = [
            ("response_type", rng.choice(["code", "token", "code id_token"])),
            ("client_id", rand_alnum(rng, 24)),
            ("redirect_uri", redir),
        ]
        if rng.random() < 0.7:
            params.append(
                (
                    "scope",
                    rng.choice(
                        [
                            "openid profile email",
                            "repo user",
                            "https://www.googleapis.com/auth/drive.readonly",
                        ]
                    ),
                )
            )
        params.append(("state", rand_alnum(rng, 16)))
        if rng.random() < 0.4:
            params += [("code_challenge", rand_alnum(rng, 43)), ("code_challenge_method", "S256")]
        qs = urlencode(params) if rng.random() < 0.6 else "&".join(f"{k_}={v}" for k_, v in params)
        return (
            qs
            if rng.random() < 0.5
            else f"https://{rng.choice(['accounts.google.com/o/oauth2/v2/auth', 'github.com/login/oauth/authorize', 'login.microsoftonline.com/common/oauth2/v2.0/authorize'])}?{qs}",
            "value",
            "oauth:authorize",
        )
    if k == 4:
        return f"redirect_uri=http://{local}:{_f('{port}', rng)}{path}", "value", "oauth:param"
    return (
        rng.choice(
            [
                f"http://{local}:{_f('{port}', rng)}/",
                f"{scheme_app}://",
                f"http://{local}{path}#access_token={rand_alnum(rng, 40)}&token_type=bearer&expires_in=3600",
            ]
        ),
        "value",
        "oauth:misc",
    )


# --- assembly ---------------------------------------------------------------------------------

_Maker = Callable[[random.Random], tuple[str, str, str]]
#: The seven categories with their relative weights.
# --- 8. long, repetitive bodies: bulk CSV, base64 uploads, padding, logs -------------------------

_BULK_WORDS = ("hello world", "lorem ipsum dolor sit amet", "test", "ok", "null", "0", "abc", "na")


def _blob(rng: random.Random) -> bytes:
    """Bytes as uploads carry them: zero padding, a repeated pattern, or random data."""
    n = rng.randint(200, 2400)
    r = rng.random()
    if r < 0.35:
        return bytes(n)
    if r < 0.6:
        unit = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        return (unit * (n // len(unit) + 1))[:n]
    return rng.randbytes(n)


def _bulk(rng: random.Random) -> tuple[str, str, str]:
    """Long clean bodies made of one pattern repeated: a table import, a base64 file in
    JSON or a data URI, padding, a repeated phrase, a number array, log lines."""
    r = rng.random()
    if r < 0.3:
        header = rng.choice(_CSV_HEADERS)
        delim = weighted(rng, ((",", 5.0), (";", 2.0), ("\t", 2.0)))
        rows = [delim.join(_csv_quote(_cell(rng, c), delim, rng) for c in header)]
        if rng.random() < 0.5:  # one product line with varied numbers, as catalogue exports are
            name = _word(rng)
            rows = [
                f"{name}{delim}{rng.randint(1, 999)}{delim}{rng.randint(1, 999)}.{rng.randint(0, 99):02d}"
                for _ in range(rng.randint(30, 250))
            ]
        else:
            rows += [
                delim.join(_csv_quote(_cell(rng, c), delim, rng) for c in header)
                for _ in range(rng.randint(30, 150))
            ]
        return "\n".join(rows) + "\n", "raw", "bulk:csv"
    if r < 0.55:
        data = base64.b64encode(_blob(rng)).decode()
        name = f"{_word(rng)}.{rng.choice(['png', 'jpg', 'pdf', 'bin', 'zip', 'txt'])}"
        form = rng.random()
        if form < 0.4:
            return json.dumps({"filename": name, "content": data}), "raw", "bulk:b64json"
        if form < 0.7:
            mime = rng.choice(["image/png", "image/jpeg", "application/pdf", "font/woff2"])
            return f"data:{mime};base64,{data}", "value", "bulk:datauri"
        return data, "raw", "bulk:b64"
    if r < 0.7:
        unit = rng.choice(_BULK_WORDS) + rng.choice([" ", "", "\n", ", "])
        return unit * rng.randint(20, 200), rng.choice(["raw", "value"]), "bulk:repeat"
    if r < 0.82:
        x = rng.choice(["0", "0.0", "1", "-1", "255", "null", "true"])
        nums = [
            x if rng.random() < 0.7 else str(rng.randint(0, 999))
            for _ in range(rng.randint(50, 600))
        ]
        return (
            json.dumps(
                {
                    "values": nums
                    if rng.random() < 0.5
                    else [float(v) if v.lstrip("-").replace(".", "").isdigit() else 0 for v in nums]
                }
            ),
            "raw",
            "bulk:numbers",
        )
    if r < 0.92:
        lines = []
        for k in range(rng.randint(20, 80)):
            level = rng.choice(["INFO", "INFO", "DEBUG", "WARN"])
            lines.append(
                f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:{k % 60:02d}:00Z {level} worker-{rng.randint(1, 4)} processed batch {rng.randint(1, 99999)} in {rng.randint(1, 900)}ms"
            )
        return "\n".join(lines), "raw", "bulk:log"
    pad = rng.choice(["=", "-", "*", "#", "A", "x", " ", "0", "."])
    return (
        f"{_word(rng)} {pad * rng.randint(300, 3000)} {_word(rng)}",
        rng.choice(["raw", "value"]),
        "bulk:padding",
    )


# --- 9. calculator and unit-conversion queries -------------------------------------------------

_CALC_FUNCS = words("sqrt sin cos tan log ln exp abs floor ceil round cbrt arcsin arctan")
_CALC_WORDS = (
    "", "", "", "what is ", "calculate ", "solve ", "how much is ", "compute ", "= ", "calc ",
)  # fmt: skip
_UNITS = (
    "usd to eur", "eur in gbp", "km to miles", "mph to kmh", "kg in lbs", "f to c", "celsius to fahrenheit",
    "gb to mb", "ml to oz", "cm to inches", "hours to minutes", "jpy to usd", "sq ft to m2",
)  # fmt: skip


def _num(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.6:
        return str(rng.randint(0, 999))
    if r < 0.8:
        return f"{rng.randint(0, 99)}.{rng.randint(0, 99)}"
    return rng.choice(["pi", "e", "x", "2x", "3y", "n", "1e6", "0.5"])


def _arith(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth > 2 or r < 0.35:
        return _num(rng)
    op = rng.choice(["+", "-", "*", "/", "^", "**", " x ", " mod ", "%", " + ", " * ", " / "])
    if r < 0.7:
        return f"{_arith(rng, depth + 1)}{op}{_arith(rng, depth + 1)}"
    if r < 0.85:
        return f"({_arith(rng, depth + 1)}{op}{_arith(rng, depth + 1)})"
    return f"{rng.choice(_CALC_FUNCS)}({_arith(rng, depth + 1)})"


def _calculator(rng: random.Random) -> tuple[str, str, str]:
    k = rng.randrange(6)
    if k <= 2:
        expr = _arith(rng)
        if rng.random() < 0.3:
            expr = f"{expr} {rng.choice(['+', '-', '*', '/'])} {_arith(rng, 1)}"
        if rng.random() < 0.15:
            expr = f"{expr}={rng.randint(0, 999)}"
        return rng.choice(_CALC_WORDS) + expr, "value", "calc:arith"
    if k == 3:
        a, b = rng.randint(1, 99), rng.randint(2, 999)
        return (
            rng.choice(
                [
                    f"{a}% of {b}",
                    f"{a} percent of {b}",
                    f"{b} + {a}%",
                    f"{b} - {a}% discount",
                    f"tip {a}% on {b}",
                    f"{a}/{b} as a percentage",
                    f"{rng.randint(2, 12)}!",
                    f"{rng.randint(5, 20)} choose {rng.randint(1, 5)}",
                ]
            ),
            "value",
            "calc:percent",
        )
    if k == 4:
        return f"{rng.randint(1, 5000)} {rng.choice(_UNITS)}", "value", "calc:units"
    a, b, c = rng.randint(1, 9), rng.randint(1, 20), rng.randint(1, 50)
    return (
        rng.choice(
            [
                f"{a}x^2 - {b}x + {c} = 0",
                f"{a}x + {b} = {c}",
                f"y = {a}x + {b}",
                f"derivative of x^{a} * sin(x)",
                f"integral of {a}x^2 dx from 0 to {b}",
                "limit (1+1/n)^n as n->inf",
                f"gcd({b * a}, {c * a})",
                f"lcm({a}, {b})",
                f"{a}/{b} + {c}/{b + a}",
                f"log_{a}({b})",
                "e^(i*pi) + 1",
                f"sum 1/n^2 n=1 to {c}",
            ]
        ),
        "value",
        "calc:algebra",
    )


# --- 10. regular expressions (regex testers, validation configs, log filters) --------------------

_REGEXES = (
    r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$", r"^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$",
    r"^\d{4}-\d{2}-\d{2}$", r"(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)", r"^\+?[1-9]\d{1,14}$", r"^#?([a-f0-9]{6}|[a-f0-9]{3})$",
    r"^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)(?=.*[^\w\s]).{12,}$", r"<[^>]+>", r"^\s+|\s+$", r"\s{2,}", r"[^\x20-\x7E]",
    r"https?://[^\s/$.?#].[^\s]*", r"^/api/v\d+/users/(\d+)$", r"(?i)\b(error|warn|fatal)\b",
    r"^[a-z0-9-]{3,63}$", r"(\w+)\s\1", r"^(?!.*\.\.)[\w.-]+$", r"\$\{([A-Z_]+)\}", r"^v?(\d+)\.(\d+)\.(\d+)(?:-([\w.]+))?$",
    r"\[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2}) [+-]\d{4}\]", r"^(GET|POST|PUT|DELETE) (\S+) HTTP/1\.[01]$", r"[\u4e00-\u9fff]+",
    r"^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$", r"(?<=\$)\d+(\.\d\d)?", r"^\d{5}(-\d{4})?$", r"\.(jpe?g|png|gif|webp)$", r"^/(?!admin).*",
)  # fmt: skip
_TEST_LINES = (
    "{email}", "10.0.{n}.{n}", "192.168.1.{n}", "/api/v2/users/{big}", "{year}-0{n}-1{n}", "+49 30 {big}", "#{hex}",
    "hello   world", "  padded  ", "v{ver}", "{first} {last}", "{p}", "GET /index.html HTTP/1.1", "order #{big} shipped",
    "error: disk full on {svc}", "WARN retrying in {n}s", "price: ${n}.99", "{w_}_{w_2}.png", "{dom}",
)  # fmt: skip


def _regex(rng: random.Random) -> tuple[str, str, str]:
    """A pattern as a regex tester, a validation config or a log filter holds it (JSON bodies
    reach the scorer as their leaf values, so the leaves are what is generated)."""
    pattern = rng.choice(_REGEXES)
    k = rng.randrange(4)
    if k == 0:
        return pattern, "value", "regex:pattern"
    if k == 1:
        return f"/{pattern}/{rng.choice(['', 'g', 'gm', 'i', 'gi', 'x'])}", "value", "regex:literal"
    if k == 2:
        lines = "\n".join(_f(rng.choice(_TEST_LINES), rng) for _ in range(rng.randint(2, 5)))
        return lines, "value", "regex:teststring"
    field = rng.choice(["email", "username", "path", "message", "sku", "phone"])
    return f"{field} =~ {pattern}", "value", "regex:rule"


CATEGORIES: tuple[tuple[str, _Maker, float], ...] = (
    ("shellvocab", _shell_vocab, 2.0),
    ("devqa", _dev_qa, 2.0),
    ("search", _search_syntax, 2.0),
    ("expr", _expressions, 1.0),
    ("html", _cms_html, 1.2),
    ("ua", _user_agents, 1.2),
    ("oauth", _oauth, 0.8),
    ("bulk", _bulk, 0.6),
    ("calc", _calculator, 0.8),
    ("regex", _regex, 0.6),
)
_BY_NAME = {name: maker for name, maker, _ in CATEGORIES}


def fp_negative(rng: random.Random, category: str | None = None) -> tuple[str, str, str] | None:
    """One clean ``(value, kind, sub)`` from a category (random by weight), or None if the guard fired."""
    maker = _BY_NAME[category] if category else weighted(rng, [(m, w) for _, m, w in CATEGORIES])
    value, kind, sub = maker(rng)
    if not value.strip() or looks_malicious(value):
        return None
    return value, kind, sub


def generate_fp_negatives(rng: random.Random, n: int, category: str | None = None) -> list[Sample]:
    """``n`` distinct clean samples from the false-positive categories (all pass the guard)."""

    def make() -> Sample | None:
        got = fp_negative(rng, category)
        if got is None:
            return None
        value, kind, sub = got
        return Sample(
            value,
            kind,
            "clean",
            f"gen:clean:fpneg:{sub.split(':')[0]}",
            f"gen:clean:fpneg:{sub}:{rng.randrange(16)}",
        )

    return unique_samples(make, n, max_tries_factor=10)
