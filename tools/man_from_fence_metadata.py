#!/usr/bin/env python3
"""tools/man_from_fence_metadata.py AGENT [DATE]: a man page (section 8) for a fence agent from its
own metadata (`action=metadata` on stdin, the fence-agents protocol), as fence-agents makes its
pages: the page can never disagree with what the agent says of itself."""
import subprocess, sys, xml.etree.ElementTree as ET
from datetime import date


def esc(t):
    t = " ".join((t or "").split()).replace("\\", "\\e").replace("-", "\\-")
    return ("\\&" + t) if t[:1] in (".", "'") else t


agent = sys.argv[1]
day = sys.argv[2] if len(sys.argv) > 2 else date.today().isoformat()
meta = ET.fromstring(subprocess.run([agent], input="action=metadata\n", capture_output=True, text=True, check=True).stdout)
name = meta.get("name")
out = [f'.TH "{name.upper()}" "8" "{day}" "Vigil" "Vigil Manual"', ".SH NAME", f"{esc(name)} \\- {esc(meta.get('shortdesc'))}",
       ".SH DESCRIPTION", esc(meta.findtext("longdesc")),
       ".PP", "It speaks the fence-agents protocol: key=value lines on standard input, or the options below.",
       ".SH PARAMETERS"]
for p in meta.iter("parameter"):
    opt = p.find("getopt")
    content = p.find("content")
    default = content.get("default") if content is not None else None
    out += [".TP", f"\\fB{esc(p.get('name'))}\\fR" + (f" ({esc(opt.get('mixed'))})" if opt is not None else ""),
            esc(p.findtext("shortdesc")).rstrip(".") + "." + (f" Default: {esc(default)}." if default else "")
            + (" Required." if p.get("required") == "1" else "")]
actions = [a.get("name") for a in meta.iter("action")]
if actions:
    out += [".SH ACTIONS", esc(", ".join(actions))]
out += [".SH SEE ALSO", "vigil.conf(5), vigild(8)"]
sys.stdout.write("\n".join(out) + "\n")
