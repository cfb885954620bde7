"""Conservative attack recognisers used to keep clean generators (noise, hard negatives) clean."""

# ruff: noqa: E501

from __future__ import annotations

import re

_SQLI = re.compile(
    r"""(?ix)
    ['"`)]\s*(or|\|\||xor|and|&&)\s*\(*\s*['"]?(\w*)['"]?\s*(=|like|<>|!=|>|<)\s*\(*\s*['"]?\2\b  # ' or 'a'='a
    | \b(or|and|\|\||&&)\s+\(?\s*(\d+)\s*(=|>=|<=|like)\s*\5\b                              # or 1=1
    | ['"`)]\s*(or|and|\|\||&&)\s+(true|not\s+false|\d+)\s*($|--|\#|/\*|;)                  # ' or true--
    | \bunion\b[\s/*()!]+(all\s+|distinct\s+)?\(?\s*select\b                                 # union select
    | \b(sleep|benchmark|pg_sleep|extractvalue|updatexml|load_file|randomblob)\s*\(          # functions
    | \bwaitfor\s+(delay|time)\b | \bdbms_pipe\b | \bxp_(cmdshell|dirtree)\b | \butl_(http|inaddr)\b
    | \binformation_schema\b | \binto\s+(out|dump)file\b | @@version\b
    | ['"`]\s*\)*\s*;\s*(drop|delete|insert|update|exec|shutdown|select|declare|truncate)\b   # '; drop
    | ['"`]\s*\)*\s*(--|\#|/\*)                                                                # '--
    | \b(and|or)\s+(\d+|'\w*')\s*(=|<>|>|<)\s*(\d+|'\w*')\s*(--|\#|/\*)                      # and 1=2--
    | \border\s+by\s+\d+\s*(--|\#)
    | \bconvert\s*\(\s*int\b | \bcast\s*\(.*\bas\s+int\s*\)
    """
)
_XSS = re.compile(
    r"""(?ix)
    <\s*/?\s*(script|object|embed|svg|math|base|meta|link|style|frameset|applet|xml|xss)\b
    | <[a-z!][^>]*[\s/"'](on[a-z]{3,}|formaction|srcdoc|xlink:href)\s*=
    | \bon[a-z]{3,}\s*=\s*['"]?[\w$.\[]+\s*[(`=]
    | (java|vb)\s*script\s*: | &\#0*106;?&\#0*97 | data:\s*text/html | expression\s*\(
    | \b(alert|prompt|confirm)\s*(\(|`) | document\s*\.\s*(cookie|domain|location|write)
    | \bwindow\s*\[ | \{\{.*(constructor|\$on|\$eval) | \bstring\.fromcharcode\b | \beval\s*\(
    | \batob\s*\( | \bimport\s*\(\s*['"]//
    """
)
_RCE = re.compile(
    r"""(?ix)
    ([;|&\n`]|\$\(|\|\||&&)\s*(/\S*/)?(cat|id|whoami|uname|ping|nc|ncat|curl|wget|bash|sh|zsh|python\d?|perl|php|ruby|
        nslookup|dig|sleep|rm|echo|chmod|powershell|cmd|dir|type|net|ipconfig|systeminfo|tasklist|certutil|
        busybox|telnet|socat|ls|pwd|env|ps|netstat|ifconfig|hostname|timeout|set|ver|whoami)\b(?!\s*[=:])
    | /etc/(passwd|shadow|hosts|group)\b | /bin/(ba)?sh\b | /dev/(tcp|udp)/ | \$\{?IFS | \bnc\s+-[elvc]
    | \$\((?!\s*\)) | `[^`]*\b(id|whoami|uname|cat|ls)\b[^`]*` | win\.ini | \bcmd(\.exe)?\s+/c\b
    | \bpowershell\b.*\s-(enc|e|c|command)\b | <!--\s*\#\s*exec | \(\)\s*\{\s*:;?\s*\}\s*; | \$\{jndi:
    """
)


_SQLI_WIDE = re.compile(
    r"""(?ix)
    ['"`]\s*\)*\s*(and|or|xor|having|order|group|rlike|union|procedure|waitfor|limit|like|\|\||&&)\b
    | \b(and|or|xor|\|\||&&)\s+\(?\s*\d+\s*[=<>] | \bchar\s*\(\s*\d+ | \b0x[0-9a-f]{4,}
    | ;\s*(create|drop|alter|exec|select|insert|update|delete|shutdown|declare|waitfor)\b
    | \bexists\s*\(\s*select | \(\s*select\b | \bcase\s+when\b | \bselect\b.+\bfrom\b
    | ['"`]\s*\)*\s*;
    | (^|[^\w.])-?\d+\s*\)*\s*(or|and|xor|\|\||&&|group|order|having|union|procedure|limit|rlike|regexp|into)\b
    | \b(or|and|xor)\s+(not\s+)?\(*\d+\)*\s*(--|\#|/\*|;|$) | \b(rlike|regexp)\b | \bgroup\s+by\s+\d | \bprocedure\s+analyse | \bselect\s+[\w@.]+\s*\( | \b(version|database|user)\s*\(\s*\)
    """
)
_XSS_WIDE = re.compile(
    r"""(?ix)
    \bon[a-z]{3,}\s*= | <\s*/?\s*[a-z] | javascript | \b(alert|prompt|confirm|print)\b | &\#
    | \\x[0-9a-f]{2} | \\u00 | \bsrc\s*= | \bhref\s*= | \bconstructor\b | %3c
    """
)
_RCE_WIDE = re.compile(
    r"""(?ix)
    ([;|&`\n]|%0a|%0d|%7c|%26|%3b|\$\()\s*[a-z/]
    | \$[a-z_]+\$ | \$\{ | \bexec\s*\( | \bsystem\s*\( | \bruntime\b
    | ^\s*(cat|ls|id|whoami|uname|ping|nc|curl|wget|bash|sh|sleep|rm|echo|head|tail|more|less|dir|type|net)\s+[-/~.$%]
    | \b(cat|ls|head|tail|more|less|type|dir)\s+[/~.%]\S*(passwd|shadow|win\.ini|hosts|\.env|id_rsa)
    """
)


def looks_sqli(text: str) -> bool:
    """True when ``text`` contains a recognisable SQL-injection construct."""
    return _SQLI.search(text) is not None


def looks_xss(text: str) -> bool:
    """True when ``text`` contains a recognisable XSS construct."""
    return _XSS.search(text) is not None


def looks_rce(text: str) -> bool:
    """True when ``text`` contains a recognisable command-injection construct."""
    return _RCE.search(text) is not None


def looks_malicious(text: str, *, aggressive: bool = False) -> bool:
    """True when any recogniser fires (used to reject accidental attacks in clean generators).

    ``aggressive`` adds broad patterns (breakout quote + keyword, separator + word, any tag or
    handler) that also hit many harmless texts; use it where dropping a clean sample is cheap.
    """
    if looks_sqli(text) or looks_xss(text) or looks_rce(text):
        return True
    if not aggressive:
        return False
    return any(p.search(text) for p in (_SQLI_WIDE, _XSS_WIDE, _RCE_WIDE))
