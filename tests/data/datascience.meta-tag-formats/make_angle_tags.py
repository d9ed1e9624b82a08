#!/usr/bin/env python3
"""Derive Posts.angle-tags.xml from Posts.pipe-tags.xml.

The shared "angle-tags" file turned out to carry `|a|b|` tags too (it differs
from the pipe file only in its CRLF line ends), so this script writes the same
real rows with every Tags="|a|b|" rewritten to the older dump format
Tags="&lt;a&gt;&lt;b&gt;", and CRLF line ends, as older dumps have. Nothing
else changes: both files must give identical studies.

usage: python3 make_angle_tags.py   (in this folder)
"""
import re

src = open("Posts.pipe-tags.xml", "rb").read()


def angle(m):
    tags = [t for t in m.group(1).split(b"|") if t]
    return b' Tags="' + b"".join(b"&lt;" + t + b"&gt;" for t in tags) + b'"'


out = re.sub(rb' Tags="(\|[^"]*)"', angle, src)
out = out.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
open("Posts.angle-tags.xml", "wb").write(out)
