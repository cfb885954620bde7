// Source-to-source transforms of JavaScript TEXT for bastion's training data.
// Reads JSON lines {"id", "code", "mode", "seed"} on stdin and writes JSON lines
// {"id", "code"} or {"id", "error"}. The input code is parsed and rewritten, never run.
"use strict";
const readline = require("readline");
const JavaScriptObfuscator = require("javascript-obfuscator");
const { minify } = require("terser");

function obfuscatorOptions(mode, seed) {
  const base = { seed, sourceMap: false, target: "browser" };
  switch (mode) {
    case "obf-default":
      return { ...base, compact: true };
    case "obf-strings":
      return { ...base, compact: true, stringArray: true, stringArrayThreshold: 1,
               stringArrayEncoding: ["base64"], identifierNamesGenerator: "hexadecimal",
               splitStrings: true, splitStringsChunkLength: 6 };
    case "obf-heavy":
      return { ...base, compact: true, controlFlowFlattening: true,
               controlFlowFlatteningThreshold: 0.5, deadCodeInjection: true,
               deadCodeInjectionThreshold: 0.2, stringArray: true, stringArrayThreshold: 0.8,
               stringArrayEncoding: ["rc4"], stringArrayWrappersCount: 2,
               transformObjectKeys: true, numbersToExpressions: true,
               identifierNamesGenerator: "mangled-shuffled" };
    case "obf-unicode":
      return { ...base, compact: true, unicodeEscapeSequence: true, stringArray: true,
               stringArrayThreshold: 0.75, identifierNamesGenerator: "mangled" };
    default:
      return null;
  }
}

async function transform(code, mode, seed) {
  if (mode === "minify") {
    const out = await minify(code, { compress: true, mangle: true, ecma: 2020 });
    return out.code;
  }
  if (mode === "mangle") {
    const out = await minify(code, { compress: false, mangle: true, ecma: 2020 });
    return out.code;
  }
  if (mode === "beautify") {
    const out = await minify(code, { compress: false, mangle: false,
                                     format: { beautify: true, comments: false } });
    return out.code;
  }
  const opts = obfuscatorOptions(mode, seed);
  if (opts === null) throw new Error("unknown mode " + mode);
  return JavaScriptObfuscator.obfuscate(code, opts).getObfuscatedCode();
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let job;
    try {
      job = JSON.parse(line);
    } catch (e) {
      process.stdout.write(JSON.stringify({ error: "bad json" }) + "\n");
      continue;
    }
    try {
      const code = await transform(job.code, job.mode, job.seed | 0);
      process.stdout.write(JSON.stringify({ id: job.id, code }) + "\n");
    } catch (e) {
      process.stdout.write(JSON.stringify({ id: job.id, error: String(e && e.message || e).slice(0, 200) }) + "\n");
    }
  }
}
main();
