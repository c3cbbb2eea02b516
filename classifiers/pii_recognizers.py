"""Our presidio recognizers, for the ways people write personal data to slip past a scrubber.

Each is a presidio ``PatternRecognizer`` with a ``validate_result`` (a Luhn or
phone-number check, a known public suffix), so a looser pattern does not mean
looser results. They are listed, with presidio's own, in
``classifiers/models/pii/recognizers.yaml``; presidio's registry finds them by
class name once this module is imported.

Patterns run on text that ``pii_normalization`` already cleaned (no zero-width
or fullwidth characters, plain spaces), so they only handle separators and
spelled-out symbols.
"""
from __future__ import annotations

import os
import re
from typing import Optional

# tldextract reads this when first imported and otherwise fetches the public-suffix list.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import phonenumbers  # noqa: E402
import re2  # noqa: E402
import tldextract  # noqa: E402
from presidio_analyzer import Pattern, PatternRecognizer  # noqa: E402
from presidio_analyzer.predefined_recognizers import EmailRecognizer, UrlRecognizer  # noqa: E402

# The bundled suffix-list snapshot only: no network, and no disk cache
# (classify_batch must not touch either), whatever the environment says.
OFFLINE_TLD_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
# Dotted dates and IPv4 addresses are not phone numbers, whatever libphonenumber says.
_DATE_OR_IP = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}|\d{4}\.\d{1,2}\.\d{1,2}|(?:\d{1,3}\.){3}\d{1,3}")
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "CA", "AU")


class _Re2Span:
    __slots__ = ("_span",)

    def __init__(self, span: tuple[int, int]) -> None:
        self._span = span

    def span(self) -> tuple[int, int]:
        return self._span


class _Re2Regex:
    """A linear-time stand-in for the compiled pattern presidio calls ``finditer`` on.

    presidio's flags (DOTALL, MULTILINE, IGNORECASE) are set inline. RE2 has no
    look-around, so a pattern that needs context before its value matches the
    context too and names the value ``(?P<value>...)``; the span is the value's.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled = re2.compile("(?ims)" + pattern)
        self._value = self._compiled.groupindex.get("value", 0)

    def finditer(self, text: str, timeout: float | None = None):
        for match in self._compiled.finditer(text):
            yield _Re2Span(match.span(self._value))


class Re2PatternRecognizer(PatternRecognizer):
    """A ``PatternRecognizer`` whose patterns run on RE2, in time linear in the text.

    presidio's URL pattern takes seconds on 2,000 dots with Python's engine;
    prompts are untrusted input, so our patterns and that one run here."""

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # noqa: D102
        flags = self.global_regex_flags
        for pattern in self.patterns:
            if not isinstance(pattern.compiled_regex, _Re2Regex):
                pattern.compiled_regex = _Re2Regex(pattern.regex)
            pattern.compiled_with_flags = flags
        return super().analyze(text, entities, nlp_artifacts, regex_flags=flags)


class Re2UrlRecognizer(Re2PatternRecognizer, UrlRecognizer):
    """presidio's ``UrlRecognizer``, same patterns and scores, on RE2."""


class OfflineEmailRecognizer(EmailRecognizer):
    """presidio's e-mail recognizer with a domain check that never fetches anything."""

    def validate_result(self, pattern_text: str) -> bool:
        return OFFLINE_TLD_EXTRACT(pattern_text).fqdn != ""


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a digit string (ISO/IEC 7812)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class SeparatedCreditCardRecognizer(Re2PatternRecognizer):
    """Card numbers grouped with dots, slashes, underscores or mixed separators
    (``5500.0000.0000.0004``, ``4111-1111 1111.1111``), or written inside a URL
    or another token (``?card=5500000000000004``). Luhn-checked, 13 to 19 digits,
    issuer digit 2 to 6."""

    PATTERNS = [
        Pattern("card digits, any separators",
                r"(?:^|[^\d.,])(?P<value>[2-6]\d{1,5}(?:(?:[ .\-_/]|\s?[.\-]\s?)?\d{2,6}){2,6})", 0.5),
    ]
    CONTEXT = ["credit", "card", "visa", "mastercard", "amex", "cc", "pay", "payment"]

    def __init__(self, patterns: Optional[list[Pattern]] = None, context: Optional[list[str]] = None,
                 supported_language: str = "en", supported_entity: str = "CREDIT_CARD",
                 name: Optional[str] = None) -> None:
        super().__init__(supported_entity=supported_entity, patterns=patterns or self.PATTERNS,
                         context=context or self.CONTEXT, supported_language=supported_language, name=name)

    def validate_result(self, pattern_text: str) -> bool:
        digits = re.sub(r"\D", "", pattern_text)
        return 13 <= len(digits) <= 19 and luhn_valid(digits)


class ObfuscatedEmailRecognizer(Re2PatternRecognizer):
    """E-mail addresses with the ``@`` and dots spelled out: ``name [at] example [dot] com``,
    ``name(at)example(dot)com``, ``name at example dot com``. The rebuilt
    address must end in a known public suffix."""

    _AT = r"(?:\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s+at\s+|\s*@\s+|\s+@\s*)"
    _DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+|\.)"
    PATTERNS = [
        Pattern("spelled-out e-mail",
                rf"(?:^|[^a-z0-9._%+\-])(?P<value>[a-z0-9][a-z0-9._%+\-]*{_AT}[a-z0-9\-]+(?:{_DOT}[a-z0-9\-]+)+)", 0.6),
    ]
    CONTEXT = ["email", "e-mail", "mail", "contact", "write", "reach"]

    def __init__(self, patterns: Optional[list[Pattern]] = None, context: Optional[list[str]] = None,
                 supported_language: str = "en", supported_entity: str = "EMAIL_ADDRESS",
                 name: Optional[str] = None) -> None:
        super().__init__(supported_entity=supported_entity, patterns=patterns or self.PATTERNS,
                         context=context or self.CONTEXT, supported_language=supported_language, name=name)

    def validate_result(self, pattern_text: str) -> bool:
        rebuilt = re.sub(rf"(?i){self._DOT}", ".", re.sub(rf"(?i){self._AT}", "@", pattern_text, count=1))
        local, _, domain = rebuilt.partition("@")
        if not local or not domain or " " in rebuilt:
            return False
        return bool(OFFLINE_TLD_EXTRACT(domain).suffix) and bool(OFFLINE_TLD_EXTRACT(domain).domain)


class SeparatedPhoneRecognizer(Re2PatternRecognizer):
    """Phone numbers that presidio's phonenumbers matcher misses: split by dots
    (``+44.20.7946.0958``, ``06.12.34.56.78``) or inside a link
    (``wa.me/14155550132``, ``tel:+4930...``, ``?phone=...``). Valid per libphonenumber."""

    PATTERNS = [
        Pattern("dotted phone", r"(?:^|[^\w.+])(?P<value>\+?\d{1,4}(?:\.\d{1,4}){2,6})", 0.4),
        Pattern("phone in a link", r"(?:wa\.me/|tel:|sms:|callto:|phone=|t\.me/)(?P<value>\+?\d[\d\-.()]{5,18}\d)", 0.6),
    ]
    CONTEXT = ["phone", "call", "whatsapp", "text", "tel", "mobile", "number"]

    def __init__(self, patterns: Optional[list[Pattern]] = None, context: Optional[list[str]] = None,
                 supported_language: str = "en", supported_entity: str = "PHONE_NUMBER",
                 name: Optional[str] = None) -> None:
        super().__init__(supported_entity=supported_entity, patterns=patterns or self.PATTERNS,
                         context=context or self.CONTEXT, supported_language=supported_language, name=name)

    def validate_result(self, pattern_text: str) -> bool:
        digits = re.sub(r"\D", "", pattern_text)
        if not 7 <= len(digits) <= 15 or _DATE_OR_IP.fullmatch(pattern_text):
            return False
        candidates = [("+" + digits, None)] + [(digits, region) for region in _PHONE_REGIONS]
        for number, region in candidates:
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
                    return True
            except phonenumbers.NumberParseException:
                continue
        return False
