#!/usr/bin/env python3
"""Renders a chat template the way HuggingFace transformers does, as a reference for podserve's
ChatTemplate (Jinjava). Needs only jinja2.

usage: render_chat_template.py TEMPLATE_FILE < variables.json
variables.json holds messages, add_generation_prompt, bos_token, eos_token and any extra
variables (tools, enable_thinking, ...). The rendering is written to stdout without a newline.
"""
import json
import sys

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers replaces Jinja's tojson (which HTML-escapes and sorts keys) with plain json.dumps.
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        source = f.read()
    variables = json.load(sys.stdin)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    sys.stdout.write(env.from_string(source).render(**variables))


if __name__ == "__main__":
    main()
