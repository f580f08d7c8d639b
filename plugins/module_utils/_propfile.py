# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Java properties files (livy.conf): parse, edit and render without losing a byte.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone and against Java's own loader.

The reader follows ``java.util.Properties.load`` step by step as JDK 9 and later implement it (the
unit tests compare it with JDK 17), because Livy reads livy.conf with it. JDK 8's reader differs in
corner cases only, such as a '#' right after a line holding nothing but a continuation backslash,
which JDK 8 reads as text rather than a comment.

The format: ``=``, ``:`` or whitespace separate key and value; ``#`` and ``!`` start a comment
line; a line ending in an odd number of backslashes continues on the next line, whose leading
whitespace is dropped; backslash escapes (``\\t``, ``\\uXXXX``, ...) are decoded; the last of
duplicate keys wins. Every physical line of the file is kept, so untouched lines render back
byte for byte.
"""

from __future__ import annotations

import bisect
import re

from ansible_collections.datalake.notebooks.plugins.module_utils._outcome import Outcome
from ansible_collections.datalake.notebooks.plugins.module_utils._values import config_text

# The only characters Properties.load treats as whitespace.
_BLANKS = ' \t\f'
_LINE_BREAK = re.compile(r'\r\n|\r|\n')
_HEX_DIGITS = frozenset('0123456789abcdefABCDEF')
_UNESCAPES = {'t': '\t', 'r': '\r', 'n': '\n', 'f': '\f'}
_ESCAPES = {'\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f',
            '=': '\\=', ':': '\\:', '#': '\\#', '!': '\\!'}
# Separator written for keys that are appended or had no usable separator.
DEFAULT_SEPARATOR = ' = '

BLANK = 'blank'
COMMENT = 'comment'
ENTRY = 'entry'


class PropertiesError(ValueError):
    """The text is not a properties file Java would load, or an edit cannot be made safely."""

    def __init__(self, message, line=None):
        super().__init__(message if line is None else 'line %d: %s' % (line, message))
        self.line = line


class PhysicalLine:
    """One line of the file: its text and the terminator that ended it ('' for a last line without one)."""

    __slots__ = ('text', 'eol')

    def __init__(self, text, eol):
        self.text = text
        self.eol = eol

    def __repr__(self):
        return 'PhysicalLine(%r, %r)' % (self.text, self.eol)


class Token:
    """A run of physical lines [first, last] (0-based, inclusive) with one meaning.

    kind is BLANK (adds nothing to the properties: empty, whitespace only, or a lone continuation
    that joins nothing), COMMENT, or ENTRY. Entries also carry the logical line split the way
    Properties.load splits it, continuations joined: indent (whitespace before the key on the first
    line), raw_key, separator, raw_value (as written, escapes kept) and key, value (decoded).
    """

    __slots__ = ('kind', 'first', 'last', 'indent', 'raw_key', 'separator', 'raw_value', 'key', 'value')

    def __init__(self, kind, first, last, indent='', raw_key=None, separator=None, raw_value=None,
                 key=None, value=None):
        self.kind = kind
        self.first = first
        self.last = last
        self.indent = indent
        self.raw_key = raw_key
        self.separator = separator
        self.raw_value = raw_value
        self.key = key
        self.value = value

    def __repr__(self):
        if self.kind == ENTRY:
            return 'Token(entry, %d-%d, %r=%r)' % (self.first, self.last, self.key, self.value)
        return 'Token(%s, %d-%d)' % (self.kind, self.first, self.last)


def java_trim(value):
    """String.trim(): Livy trims every value it reads (control characters and spaces at both ends)."""
    start, end = 0, len(value)
    while start < end and value[start] <= ' ':
        start += 1
    while end > start and value[end - 1] <= ' ':
        end -= 1
    return value[start:end]


def unescape(raw, line=None):
    """Properties.loadConvert: decode backslash escapes; a bad \\uXXXX fails like Java does."""
    if '\\' not in raw:
        return raw
    out = []
    pos, end = 0, len(raw)
    surrogates = False
    while pos < end:
        char = raw[pos]
        pos += 1
        if char != '\\':
            out.append(char)
            continue
        if pos >= end:
            # The reader never leaves an unpaired backslash at the end of a key or value.
            break
        char = raw[pos]
        pos += 1
        if char == 'u':
            digits = raw[pos:pos + 4]
            if len(digits) < 4 or not _HEX_DIGITS.issuperset(digits):
                # The digits are not shown: they may be part of a secret.
                raise PropertiesError(
                    'malformed \\uxxxx escape: Java\'s Properties.load rejects the whole file', line)
            code = int(digits, 16)
            surrogates = surrogates or 0xD800 <= code <= 0xDFFF
            out.append(chr(code))
            pos += 4
        else:
            out.append(_UNESCAPES.get(char, char))
    text = ''.join(out)
    if surrogates:
        # Java strings are UTF-16: \uD83D\uDE00 is one character.
        text = text.encode('utf-16-le', 'surrogatepass').decode('utf-16-le', 'surrogatepass')
    return text


def _escape(text, escape_space):
    """Properties.saveConvert as store(OutputStream) does it: the result is plain ASCII.

    ASCII output reads the same through Livy's UTF-8 reader and through a Latin-1 stream.
    """
    out = []
    for index, char in enumerate(text):
        code = ord(char)
        if 61 < code < 127:
            out.append('\\\\' if char == '\\' else char)
        elif char == ' ':
            out.append('\\ ' if index == 0 or escape_space else ' ')
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or code > 0x7e:
            if code > 0xFFFF:
                code -= 0x10000
                out.append('\\u%04X\\u%04X' % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
            else:
                out.append('\\u%04X' % code)
        else:
            out.append(char)
    return ''.join(out)


def escape_key(key):
    return _escape(key, True)


def escape_value(value):
    return _escape(value, False)


def _split_logical(chars):
    """Properties.load0: (key_end, value_start, has_separator) of one logical line."""
    limit = len(chars)
    key_end = 0
    value_start = limit
    has_separator = False
    backslash = False
    while key_end < limit:
        char = chars[key_end]
        if char in '=:' and not backslash:
            value_start = key_end + 1
            has_separator = True
            break
        if char in _BLANKS and not backslash:
            value_start = key_end + 1
            break
        backslash = char == '\\' and not backslash
        key_end += 1
    while value_start < limit:
        char = chars[value_start]
        if char not in _BLANKS:
            if not has_separator and char in '=:':
                has_separator = True
            else:
                break
        value_start += 1
    return key_end, value_start, has_separator


def _read_logical_lines(text):
    """Properties.LineReader.readLine over the whole text.

    Returns (logical, comments, pending): logical is a list of (chars, start, end): the logical line
    with continuations joined, the offset of its first character and the offset of the terminator
    (or the text length) that ended it; comments the offsets of comment markers; pending tells
    whether a backslash continuation is still open at the end of the text, so that a line appended
    there would be glued onto the last entry.
    """
    logical = []
    comments = []
    end = len(text)
    pos = 0
    chars = []
    start = None
    skip_blanks = True
    continued = False
    backslash = False
    while pos < end:
        char = text[pos]
        pos += 1
        if skip_blanks:
            if char in _BLANKS:
                continue
            if not continued and char in '\r\n':
                continue
            skip_blanks = False
            continued = False
        if not chars and char in '#!':
            comments.append(pos - 1)
            while pos < end and text[pos] not in '\r\n':
                pos += 1
            pos += 1
            skip_blanks = True
            continue
        if char not in '\r\n':
            if not chars:
                start = pos - 1
            chars.append(char)
            backslash = char == '\\' and not backslash
            continue
        if not chars:
            skip_blanks = True
            continue
        if pos >= end:
            if backslash:
                chars.pop()
            logical.append((''.join(chars), start, pos - 1))
            return logical, comments, backslash
        if backslash:
            # The backslash and the line break vanish; the next line's leading blanks too.
            chars.pop()
            skip_blanks = True
            continued = True
            backslash = False
            if char == '\r' and text[pos] == '\n':
                pos += 1
        else:
            logical.append((''.join(chars), start, pos - 1))
            chars = []
            start = None
            skip_blanks = True
    if chars:
        if backslash:
            chars.pop()
        logical.append((''.join(chars), start, end))
        return logical, comments, True if backslash else continued
    return logical, comments, continued


def _physical_lines(text):
    lines = []
    starts = []
    pos = 0
    for match in _LINE_BREAK.finditer(text):
        starts.append(pos)
        lines.append(PhysicalLine(text[pos:match.start()], match.group()))
        pos = match.end()
    if pos < len(text):
        starts.append(pos)
        lines.append(PhysicalLine(text[pos:], ''))
    return lines, starts


def _template_line(text):
    """(indent, raw_key, key, separator) when a comment line reads like a commented-out entry.

    Only '# key = value' or '# key: value' count (an explicit separator), so prose that merely
    starts with a key name is never taken for a template.
    """
    stripped = text.lstrip(_BLANKS)
    indent = text[:len(text) - len(stripped)]
    body = stripped.lstrip('#!').lstrip(_BLANKS)
    key_end, value_start, has_separator = _split_logical(body)
    if not has_separator or key_end == 0:
        return None
    try:
        key = unescape(body[:key_end])
    except PropertiesError:
        return None
    return indent, body[:key_end], key, _separator_for(body[key_end:value_start], value_start == len(body))


def _separator_for(separator, value_was_empty):
    """The separator to write in front of a new value, in the style of the existing one.

    An empty value leaves a trailing separator clipped ('key =') or bare whitespace; give those the
    space the value would have had.
    """
    if not value_was_empty:
        return separator or DEFAULT_SEPARATOR
    core = separator.strip(_BLANKS)
    if not core:
        return DEFAULT_SEPARATOR
    if separator.rstrip(_BLANKS) == separator:
        # Mirror the blanks in front of '=' or ':' after it.
        return separator + separator[:len(separator) - len(separator.lstrip(_BLANKS))]
    return separator


class PropertiesFile:
    """A parsed properties text: physical lines, tokens covering every line, and the reader's view."""

    def __init__(self, text):
        self.text = text
        self.lines, starts = _physical_lines(text)
        match = _LINE_BREAK.search(text)
        self.newline = match.group() if match else '\n'
        logical, comments, self.pending_continuation = _read_logical_lines(text)
        owner = [None] * len(self.lines)
        tokens = []

        def line_of(offset):
            return bisect.bisect_right(starts, offset) - 1

        def claim(token):
            for index in range(token.first, token.last + 1):
                if owner[index] is not None:
                    raise PropertiesError('internal error: line claimed twice', index + 1)
                owner[index] = token
            tokens.append(token)

        for chars, start, stop in logical:
            first = line_of(start)
            last = line_of(min(stop, len(text) - 1))
            key_end, value_start, dummy = _split_logical(chars)
            raw_key, raw_value = chars[:key_end], chars[value_start:]
            claim(Token(ENTRY, first, last,
                        indent=self.lines[first].text[:start - starts[first]],
                        raw_key=raw_key, separator=chars[key_end:value_start], raw_value=raw_value,
                        key=unescape(raw_key, first + 1), value=unescape(raw_value, first + 1)))
        for offset in comments:
            line = line_of(offset)
            claim(Token(COMMENT, line, line))
        for index, token in enumerate(owner):
            if token is None:
                claim(Token(BLANK, index, index))
        tokens.sort(key=lambda token: token.first)
        self.tokens = tokens

    def entries(self):
        return [token for token in self.tokens if token.kind == ENTRY]

    def as_dict(self):
        """Every key and value as Properties.load returns them (the last duplicate wins)."""
        return dict((token.key, token.value) for token in self.entries())

    def livy_properties(self):
        """The settings Livy takes from this file: keys starting with 'livy.', values trimmed."""
        return dict((key, java_trim(value)) for key, value in self.as_dict().items()
                    if key.startswith('livy.'))

    def token_text(self, token):
        return ''.join(line.text + line.eol for line in self.lines[token.first:token.last + 1])

    def render(self):
        return ''.join(line.text + line.eol for line in self.lines)

    def edit(self, set=None, remove=None, path='the file'):
        """Set the keys in `set` (key -> str) and remove the keys in `remove`; returns an Outcome.

        - An active key is rewritten in place, keeping its indent, raw key and separator style; a value
          that already decodes to the wanted string is left alone, whatever escapes it is written with.
        - Duplicate active keys collapse onto the last one, the one Properties.load keeps.
        - A key with no active entry replaces its first commented-out template line ('# key = ...'),
          else it is appended at the end in the file's newline style.
        - Removing a key removes every active entry of it; template comments stay.
        Lines the edit does not touch are copied byte for byte. The result is read back and compared
        with the intended properties; any difference raises PropertiesError instead of returning a file
        that would read otherwise.
        """
        present = dict(set or {})
        absent = list(dict.fromkeys(remove or []))
        both = sorted(key for key in absent if key in present)
        if both:
            raise PropertiesError('keys both set and removed: %s' % ', '.join(both))
        for key, value in present.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError('keys and values must be strings: %r=%r' % (key, value))

        by_key = {}
        for index, token in enumerate(self.tokens):
            if token.kind == ENTRY:
                by_key.setdefault(token.key, []).append(index)
        templates = {}
        for index, token in enumerate(self.tokens):
            if token.kind == COMMENT:
                template = _template_line(self.lines[token.first].text)
                if template is not None and template[2] in present and template[2] not in templates:
                    templates[template[2]] = (index, template)

        replace = {}
        appended = []
        updated, added, removed, collapsed = [], [], [], []
        for key, value in present.items():
            indexes = by_key.get(key)
            if indexes:
                keep = indexes[-1]
                if len(indexes) > 1:
                    collapsed.append(key)
                    for index in indexes[:-1]:
                        replace[index] = ''
                token = self.tokens[keep]
                if token.value != value:
                    updated.append(key)
                    separator = _separator_for(token.separator, token.raw_value == '')
                    replace[keep] = (token.indent + token.raw_key + separator + escape_value(value)
                                     + self.lines[token.last].eol)
            elif key in templates:
                index, (indent, raw_key, dummy, separator) = templates[key]
                added.append(key)
                replace[index] = (indent + raw_key + separator + escape_value(value)
                                  + self.lines[self.tokens[index].last].eol)
            else:
                added.append(key)
                appended.append(escape_key(key) + DEFAULT_SEPARATOR + escape_value(value))
        for key in absent:
            indexes = by_key.get(key)
            if indexes:
                removed.append(key)
                for index in indexes:
                    replace[index] = ''

        parts = []
        for index, token in enumerate(self.tokens):
            parts.append(replace[index] if index in replace else self.token_text(token))
        tokens = self.tokens
        tail = ''
        if appended and tokens and tokens[-1].kind == ENTRY and not (
                tokens[-1].raw_key or tokens[-1].separator or tokens[-1].raw_value):
            # A lone backslash on the last line is an empty key only because the file ends there;
            # new lines go in front of it so that it keeps meaning what it meant.
            tail = parts.pop()
        text = ''.join(parts)
        if appended:
            newline = self.newline
            if text and not text.endswith(('\r', '\n')):
                text += newline
            if parse(text).pending_continuation:
                # An empty line closes a continuation left open at the end of the file.
                text += newline
            text += ''.join(line + newline for line in appended)
        text += tail

        result = parse(text)
        expected = self.as_dict()
        expected.update(present)
        for key in absent:
            expected.pop(key, None)
        actual = result.as_dict()
        if actual != expected:
            differing = sorted(key for key in {**actual, **expected} if actual.get(key) != expected.get(key))
            raise PropertiesError(
                'refusing to write: the edited file would not read back as intended (keys %s); '
                'the file has a construct this editor cannot change safely, edit it by hand'
                % ', '.join(repr(key) for key in differing))
        warnings = []
        if collapsed:
            warnings.append('%s: %s was set on more than one line; only the last line, the one Livy reads, is'
                            ' kept.' % (path, ', '.join(collapsed)))
        values = dict((key, actual.get(key)) for key in list(present) + absent)
        return Outcome(text, text != self.text, result, values, added=added, updated=updated, removed=removed,
                       collapsed=collapsed, warnings=warnings)


def parse(text):
    return PropertiesFile(text)


_LONE_SURROGATE = re.compile('[\ud800-\udfff]')


def encoding_problem(text):
    """What is wrong with the bytes of a livy.conf for Livy, or None.

    Livy loads livy.conf with Properties.load through an InputStreamReader in UTF-8
    (Utils.getPropertiesFromFile / loadProperties): bytes that are not UTF-8 come out as U+FFFD,
    a byte order mark stays part of the first key, and a UTF-16 file reads as keys full of NUL
    characters. None of these means what its author meant, so the module says so rather than edit.
    `text` is as _filewrite.read_text returns it (undecodable bytes kept as surrogates).
    """
    data = text.encode('utf-8', 'surrogateescape')
    for mark, name in ((b'\xff\xfe\x00\x00', 'UTF-32'), (b'\x00\x00\xfe\xff', 'UTF-32'),
                       (b'\xff\xfe', 'UTF-16'), (b'\xfe\xff', 'UTF-16')):
        if data.startswith(mark):
            return ('the file is %s encoded; Livy reads livy.conf as UTF-8 and would see none of its'
                    ' settings. Convert it, for example with iconv -f %s -t UTF-8' % (name, name))
    if b'\x00' in data:
        line = data.count(b'\n', 0, data.index(b'\x00')) + 1
        return ('line %d holds NUL bytes (a UTF-16 file without byte order mark?); Livy reads livy.conf'
                ' as UTF-8. Convert it to UTF-8' % line)
    if data.startswith(b'\xef\xbb\xbf'):
        return ('the file starts with a UTF-8 byte order mark, which Livy (java.util.Properties through a'
                ' UTF-8 reader) reads as part of the first key, so that setting is ignored. Remove the'
                ' first three bytes')
    try:
        data.decode('utf-8')
    except UnicodeDecodeError as exc:
        # Where, not which bytes: they may be part of a secret.
        line = data.count(b'\n', 0, exc.start) + 1
        column = exc.start - (data.rfind(b'\n', 0, exc.start) + 1) + 1
        return ('line %d, column %d holds bytes that are not valid UTF-8; Livy reads livy.conf as UTF-8 and'
                ' would see U+FFFD in their place. Re-encode the file as UTF-8, or write the characters'
                ' as \\uXXXX escapes' % (line, column))
    return None


def surrogate_problem(document):
    """A key or value that decodes to half a surrogate pair (a bad \\uD800 escape), or None."""
    for token in document.entries():
        for what, text in (('key %r' % token.key, token.key), ('value of ' + token.key, token.value)):
            if _LONE_SURROGATE.search(text):
                return ('line %d: the %s holds a \\uD800-\\uDFFF escape without its other half,'
                        ' which is no character (Java keeps it, JSON and UTF-8 cannot). Fix the escape'
                        % (token.first + 1, what))
    return None


def display_text(text, is_sensitive, placeholder):
    """`text` as diff mode may show it: each value of a sensitive key replaced by placeholder(value).

    The whole logical line after the separator is replaced, continuation lines included, so no
    form of the secret shows (raw, escaped, \\u-encoded, split over lines); commented-out template
    lines of a sensitive key are hidden too.
    """
    document = parse(text)
    parts = []
    for token in document.tokens:
        if token.kind == ENTRY and is_sensitive(token.key) and token.raw_value:
            parts.append(token.indent + token.raw_key + token.separator + placeholder(token.value)
                         + document.lines[token.last].eol)
            continue
        if token.kind == COMMENT:
            line = document.lines[token.first]
            template = _template_line(line.text)
            body = line.text.lstrip(_BLANKS).lstrip('#!').lstrip(_BLANKS)
            value_start = _split_logical(body)[1]
            if template is not None and is_sensitive(template[2]) and body[value_start:].strip(_BLANKS):
                prefix = line.text[:len(line.text) - len(body) + value_start]
                parts.append(prefix + placeholder(body[value_start:]) + line.eol)
                continue
        parts.append(document.token_text(token))
    return ''.join(parts)


def normalize(properties, state):
    """(present, absent): present maps key -> string value, absent lists keys (a null value removes its
    key); ValueError if unusable."""
    if state == 'absent':
        if isinstance(properties, dict):
            keys = list(properties)
        elif isinstance(properties, list):
            keys = properties
        else:
            raise ValueError('with state=absent, properties must be a list of keys or a dictionary')
        for key in keys:
            if not isinstance(key, str):
                raise ValueError('key %r is not a string' % (key,))
        return {}, list(dict.fromkeys(keys))
    if not isinstance(properties, dict):
        raise ValueError('with state=present, properties must be a dictionary of keys to values')
    present = {}
    absent = []
    for key, value in properties.items():
        if not isinstance(key, str):
            raise ValueError('key %r is not a string' % (key,))
        if value is None:
            # null removes the key, so one call can both set and remove.
            absent.append(key)
            continue
        try:
            present[key] = config_text(value)
        except TypeError as exc:
            raise ValueError('value of %s: %s' % (key, exc)) from None
        for what, text in (('key %r' % key, key), ('the value of %s' % key, present[key])):
            match = _LONE_SURROGATE.search(text)
            if match:
                raise ValueError('%s holds U+%04X, half of a UTF-16 surrogate pair, which is no character'
                                 % (what, ord(match.group())))
    return present, absent
