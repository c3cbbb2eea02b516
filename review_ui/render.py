"""Pure rendering helpers for the console: HTML built here escapes everything a submitter wrote.

A prompt is shown as plain text: HTML-escaped, never read as Markdown, with whitespace and
control characters made visible. Only our own markup is added: PII placeholders (``<PERSON>``)
and the words a ``prompt.text`` rule matched are highlighted. Nothing here can make the
reviewer's browser fetch a URL.
"""
from __future__ import annotations

import html
import re
import unicodedata
from typing import Any, Iterable

PLACEHOLDER = re.compile(r"<([A-Z][A-Z_]{1,40})>")
# Invisible or direction-changing characters a submitter may hide text with.
INVISIBLE = set(range(0x200B, 0x2010)) | set(range(0x202A, 0x202F)) | set(range(0x2060, 0x2070)) | {0xFEFF, 0x00AD,
                                                                                                   0x034F, 0x180E}
PII_STYLE = "background:#ffe0b2;color:#7a3b00;border-radius:3px;padding:0 3px;font-weight:600"
MATCH_STYLE = "background:#ffcdd2;color:#8b0000;border-radius:3px;padding:0 2px;outline:1px solid #e57373"
MARK_STYLE = "color:#9e9e9e;background:#f1f1f1;border-radius:2px;font-size:85%"
BOX_STYLE = ("white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,Menlo,Consolas,monospace;"
             "font-size:14px;line-height:1.45;background:#fafafa;border:1px solid #e0e0e0;border-radius:6px;"
             "padding:8px 10px;max-height:190px;overflow-y:auto;margin:0")


def _mark(text: str, title: str) -> str:
    return f'<span style="{MARK_STYLE}" title="{html.escape(title)}">{html.escape(text)}</span>'


def visible_char(char: str) -> str:
    """One character as safe HTML: controls and invisible characters become a visible mark."""
    code = ord(char)
    if char == "\n":
        return _mark("↵", "line break") + "\n"
    if char == "\t":
        return _mark("→", "tab") + "\t"
    if char == "\r":
        return _mark("␍", "carriage return")
    if code < 0x20 or 0x7F <= code < 0xA0:
        return _mark(f"\\x{code:02x}", f"control character U+{code:04X}")
    if code in INVISIBLE or unicodedata.category(char) in ("Cf", "Co", "Cn"):
        return _mark(f"U+{code:04X}", unicodedata.name(char, "invisible character"))
    if char == "\u00a0":
        return _mark("⍽", "no-break space")
    return html.escape(char)


def visible_text(text: str, at_end: bool = True) -> str:
    """Escaped text with every control/invisible character shown, and spaces at a line's end marked
    (``at_end`` False: the text continues after its last line, so those spaces are not trailing)."""
    out = []
    lines = re.split(r"(\n)", text)
    for index, line in enumerate(lines):
        if line == "\n":
            out.append(visible_char("\n"))
            continue
        last = index == len(lines) - 1
        stripped = line.rstrip(" ") if (at_end or not last) else line
        out.extend(visible_char(c) for c in stripped)
        if len(stripped) < len(line):
            out.append(_mark("·" * (len(line) - len(stripped)), "trailing spaces"))
    return "".join(out)


def prompt_html(text: str | None, matched: Iterable[str] = ()) -> str:
    """The redacted prompt as a plain-text block: PII placeholders and rule matches highlighted."""
    if not text:
        return f'<div style="{BOX_STYLE};color:#757575">(no prompt)</div>'
    words = sorted({w for w in matched if isinstance(w, str) and w.strip()}, key=len, reverse=True)
    parts = [PLACEHOLDER.pattern] + [re.escape(w) for w in words]
    pattern = re.compile("|".join(f"({p})" if i else p for i, p in enumerate(parts)), re.IGNORECASE)
    out, position = [], 0
    for found in pattern.finditer(text):
        out.append(visible_text(text[position:found.start()], at_end=False))
        token = found.group(0)
        if PLACEHOLDER.fullmatch(token):
            out.append(f'<span style="{PII_STYLE}" title="removed personal data">{html.escape(token[1:-1])}</span>')
        else:
            out.append(f'<span style="{MATCH_STYLE}" title="matched by a rule">{visible_text(token, at_end=False)}</span>')
        position = found.end()
    out.append(visible_text(text[position:]))
    return f'<div style="{BOX_STYLE}" data-testid="prompt-text">{"".join(out)}</div>'


def matched_words(reasons: list[dict] | None) -> list[str]:
    """What ``prompt.text`` conditions matched (a reason's values keep the match)."""
    words = []
    for reason in reasons or []:
        for path, value in (reason.get("values") or {}).items():
            if path.startswith("prompt.") and isinstance(value, str):
                words.append(value)
    return words


def short(value: Any) -> str:
    """A value rounded to what matters: two decimals for scores, text as is (escaped by the caller)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}" if 0 < abs(value) < 0.01 else f"{value:.2f}"
    return str(value)


def score_rows(signals: dict, thresholds: dict[str, list[dict]]) -> list[dict]:
    """One row per score: its path, value in [0, 1] (or None when the classifier failed) and thresholds."""
    rows = []
    for name, signal in (signals or {}).items():
        if not isinstance(signal, dict):
            continue
        if "error" in signal:
            rows.append({"path": name, "value": None, "thresholds": []})
        if isinstance(signal.get("probability"), (int, float)):
            path = f"{name}.probability"
            rows.append({"path": path, "value": float(signal["probability"]), "thresholds": thresholds.get(path, [])})
        for label, value in (signal.get("scores") or {}).items():
            if isinstance(value, (int, float)):
                path = f"{name}.scores.{label}"
                rows.append({"path": path, "value": float(value), "thresholds": thresholds.get(path, [])})
    # Scores that a threshold watches first, then the highest.
    rows.sort(key=lambda r: (not r["thresholds"], -(r["value"] or 0)))
    return rows


def score_bars_html(rows: list[dict], limit: int = 8) -> str:
    """Horizontal bars, with each policy threshold drawn as a tick (orange: review, red: block)."""
    lines = []
    for row in rows[:limit]:
        label = html.escape(row["path"].replace(".scores.", ".").replace(".probability", ""))
        if row["value"] is None:
            lines.append(f'<div style="display:flex;gap:6px;font-size:13px"><span style="width:120px">{label}</span>'
                         f'<span style="color:#c62828">classifier failed</span></div>')
            continue
        value = max(0.0, min(1.0, row["value"]))
        over = [t for t in row["thresholds"] if row["value"] >= t["value"]]
        colour = "#c62828" if any(t["action"] == "block" for t in over) else "#ef6c00" if over else "#607d8b"
        ticks = "".join(
            f'<span title="{html.escape(str(t["rule_id"]))}: {t["action"]} at {t["value"]:.2f}" style="position:absolute;'
            f'left:{t["value"] * 100:.1f}%;top:-2px;bottom:-2px;width:2px;'
            f'background:{"#b71c1c" if t["action"] == "block" else "#e65100"}"></span>' for t in row["thresholds"])
        marks = " ".join(f'{html.escape(str(t["action"]))}≥{t["value"]:.2f}' for t in row["thresholds"])
        lines.append(
            f'<div style="display:flex;align-items:center;gap:6px;font-size:13px;margin:2px 0">'
            f'<span style="width:120px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap" title="{label}">'
            f'{label}</span><span style="position:relative;flex:1;height:10px;background:#eceff1;border-radius:3px">'
            f'<span style="position:absolute;left:0;top:0;bottom:0;width:{value * 100:.1f}%;background:{colour};'
            f'border-radius:3px"></span>{ticks}</span><span style="width:38px;text-align:right;'
            f'font-variant-numeric:tabular-nums">{short(row["value"])}</span>'
            f'<span style="width:130px;color:#757575;font-size:11px">{marks}</span></div>')
    return f'<div data-testid="score-bars">{"".join(lines)}</div>' if lines else ""


def age(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    seconds = int(max(0, seconds))
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    if seconds < 86400 * 2:
        return f"{seconds // 3600}h {(seconds % 3600) // 60}m"
    return f"{seconds // 86400}d {(seconds % 86400) // 3600}h"


def esc(value: Any) -> str:
    return html.escape(str(value if value is not None else ""))
