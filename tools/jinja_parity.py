#!/usr/bin/env python3
"""Fills in the expected renderings of podserve's Jinja parity cases with Jinja itself, set up as
transformers sets it up (render_chat_template.py). ChatTemplate must print the same for every case.

usage: jinja_parity.py CASES_JSON
CASES_JSON holds "variables" (passed to every template) and "cases", each with a "template"; the
file is rewritten with each case's "expected" output (or "error": true where Jinja raises). Cases
under "known_gaps" (each with its "reason") get their expected output too, for the record; the
test does not run them.
"""
import json
import sys

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from render_chat_template import raise_exception, tojson


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    for case in spec["cases"] + spec.get("known_gaps", []):
        case.pop("expected", None)
        case.pop("error", None)
        try:
            case["expected"] = env.from_string(case["template"]).render(**spec["variables"])
        except TemplateError:
            case["error"] = True
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
