#!/usr/bin/env python3
"""tools/man_from_md.py FILE.md [DATE]: a man page (roff, man macros) from one of our reference
pages in markdown (docs/vigil.conf.md), on stdout. The markdown is the one source: GitHub shows
it, `man 5 vigil.conf` shows this. Only what those pages use is understood: a "# NAME(S)" title,
"## HEADING" sections, paragraphs, "- `key` (what): text" items, ``` blocks, `code` and **bold**."""
import re, sys
from datetime import date


def inline(text):
    """Escapes roff and turns `code` and **bold** into bold."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    return text.replace("-", "\\-")


def line(text):
    """A text line roff must not read as a request."""
    return ("\\&" + text) if text[:1] in (".", "'") else text


def convert(md, day):
    out, para, block = [], [], None
    lines = md.splitlines()
    m = re.match(r"# (\S+)\((\d)\)", lines[0])
    if not m:
        sys.exit(f"{lines[0]!r}: the first line must be '# NAME(SECTION)'")
    name, section = m.groups()
    out.append(f'.TH "{name.upper()}" "{section}" "{day}" "Vigil" "Vigil Manual"')

    def flush():
        if para:
            out.append(".PP")
            out.extend(line(inline(p)) for p in para)
            para.clear()
    for raw in lines[1:]:
        if block is not None:
            if raw.startswith("```"):
                out += [".nf", ".RS 4"] + [line(b.replace("\\", "\\e")) for b in block] + [".RE", ".fi"]
                block = None
            else:
                block.append(raw)
            continue
        if raw.startswith("```"):
            flush()
            block = []
        elif raw.startswith("## "):
            flush()
            out.append(f'.SH "{inline(raw[3:].strip())}"')
        elif raw.startswith("- "):
            flush()
            item = re.match(r"- `([^`]+)`\s*(\([^)]*\))?:?\s*(.*)", raw)
            if item:
                key, what, text = item.groups()
                out += [".TP", f"\\fB{inline(key)}\\fR" + (f" {inline(what)}" if what else ""), line(inline(text))]
            else:
                out += [".IP \\(bu 2", line(inline(raw[2:]))]
        elif not raw.strip():
            flush()
        else:
            para.append(raw.strip())
    flush()
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: tools/man_from_md.py FILE.md [YYYY-MM-DD]")
    sys.stdout.write(convert(open(sys.argv[1]).read(), sys.argv[2] if len(sys.argv) > 2 else date.today().isoformat()))
