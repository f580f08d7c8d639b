# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Read and edit Hadoop *-site.xml files without disturbing what is not edited.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.

ElementTree cannot write a file back byte for byte (comments, the XML declaration, attribute
quoting and whitespace change), so the file is parsed with expat only to learn where each
<property> and each of its children starts and ends; edits replace those byte spans of the
original text, and everything outside them is copied unchanged.

Values are read the way Hadoop 3.3.6's Configuration parser reads them (Configuration.Parser and
loadProperty): the name is trimmed, the value is taken as written, a property is final only when
<final> is exactly "true", the short form <property name="..." value="..." final="..."/> counts as
well. An empty <value></value> leaves the value unset (Parser.handleEndElement keeps it only when
its text is not empty; loadProperty skips a null value) while value="" in the short form is an
empty value. Within one file a later definition of a name replaces an earlier one unless an
earlier one was final; a final definition without a value still locks the name.
"""

from __future__ import annotations

import codecs
import re
import xml.parsers.expat

from ansible_collections.datalake.notebooks.plugins.module_utils import _sensitive
from ansible_collections.datalake.notebooks.plugins.module_utils._outcome import Outcome
from ansible_collections.datalake.notebooks.plugins.module_utils._values import config_text

_SENSITIVE_KEYS_PROPERTY = _sensitive.SENSITIVE_KEYS_PROPERTY

DEFAULT_PROPERTY_INDENT = '  '
DEFAULT_CHILD_INDENT = '    '

_HADOOP_FIELDS = ('name', 'value', 'final', 'description')
_WHITESPACE = b' \t\r\n'
# Characters XML 1.0 cannot carry, not even as a character reference (lone surrogates included).
_NOT_XML_CHAR = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
# Byte order marks and first bytes of '<?' in the encodings XML detects that are not ASCII-compatible.
_WIDE_ENCODINGS = ((b'\x00\x00\xfe\xff', 'UTF-32'), (b'\xff\xfe\x00\x00', 'UTF-32'),
                   (b'\xfe\xff', 'UTF-16'), (b'\xff\xfe', 'UTF-16'),
                   (b'\x00\x00\x00<', 'UTF-32'), (b'<\x00\x00\x00', 'UTF-32'),
                   (b'\x00<', 'UTF-16'), (b'<\x00', 'UTF-16'))
_DECLARED_ENCODING = re.compile(br'^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["\']([^"\']*)["\']')


class SiteXmlError(ValueError):
    """The file is not well-formed XML, or not a Hadoop configuration file."""

    def __init__(self, message, line=None, column=None):
        if line is not None:
            message = 'line %d, column %d: %s' % (line, column, message)
        super().__init__(message)
        self.line = line
        self.column = column


class EncodingError(SiteXmlError):
    """The file is in an encoding this module does not edit, or its bytes are not what it declares."""


class FinalPropertyError(ValueError):
    """A change would touch properties marked final; `names` maps each name to its lines."""

    def __init__(self, message, names):
        super().__init__(message)
        self.names = names


class EditError(RuntimeError):
    """The edited text failed its own read-back check; it must not be written."""


class Element:
    """Byte positions of one element of the original file.

    [start, end) is the whole element; [content_start, content_end) is what lies between its
    start and end tags (empty for <tag/>).
    """

    def __init__(self, tag, attrs, start, line, column):
        self.tag = tag
        self.local = tag.rpartition(':')[2]
        self.attrs = attrs
        self.start = start
        self.line = line
        self.column = column
        self.start_tag_end = None
        self.content_end = None
        self.end = None
        self.empty = False
        self.text_parts = []
        self.children = []

    @property
    def content_start(self):
        return self.start_tag_end

    @property
    def text(self):
        return ''.join(self.text_parts)


class Property:
    """One <property> of the file, read as Hadoop reads it."""

    def __init__(self, element):
        self.element = element
        self.line = element.line
        # The child Hadoop ends up using for each field: the last one of its kind.
        self.fields = {}
        for child in element.children:
            if child.local in _HADOOP_FIELDS:
                self.fields[child.local] = child
        attrs = element.attrs
        name = attrs.get('name')
        value = attrs.get('value')
        final = attrs.get('final') == 'true'
        for child in element.children:
            # Same order of precedence as Hadoop's parser: later fields overwrite earlier ones,
            # an empty <name> or <value> leaves the previous one in place.
            text = child.text
            if child.local == 'name' and text:
                name = text.strip()
            elif child.local == 'value' and text:
                # An empty <value></value> keeps what was there: no value, or the attribute's.
                value = text
            elif child.local == 'final':
                final = text == 'true'
        self.name = name
        self.value = value
        self.final = final
        description = self.fields.get('description')
        self.description = description.text if description is not None else attrs.get('description')


class SiteXml:
    """A parsed *-site.xml: the original bytes plus the positions of root and properties."""

    def __init__(self, data, root, encoding):
        self.data = data
        self.root = root
        self.encoding = encoding
        self.properties = [Property(child) for child in root.children if child.local == 'property']
        self.newline = b'\r\n' if b'\r\n' in data else b'\n'

    def occurrences(self, name):
        return [prop for prop in self.properties if prop.name == name]

    def effective(self, name):
        """(value, final, property used) as Hadoop would load `name` from this file alone.

        A later definition replaces an earlier one, except that once a definition was final,
        later ones are ignored. A definition without a value does not replace a value.
        """
        value, final, used = None, False, None
        for prop in self.occurrences(name):
            if not final and prop.value is not None:
                value, used = prop.value, prop
            final = final or prop.final
        return value, final, used

    def edit(self, set=None, remove=None, force=False, path='the file'):
        """Set the names in `set` (name -> Desired, from normalize()) and remove those in `remove`.

        Returns an Outcome. Raises FinalPropertyError when a property marked final would change and
        `force` is false, and EditError when the edited text does not read back as asked (a bug; the
        text must then not be written). Untouched bytes stay as they were; `path` names the file in
        warnings and errors.
        """
        return _edit(self, set or {}, remove or [], force, path)


def _scan_tag_end(data, start):
    """Index just after the '>' closing the tag that starts at `start` (quotes respected)."""
    quote = None
    index = start + 1
    while index < len(data):
        char = data[index:index + 1]
        if quote:
            if char == quote:
                quote = None
        elif char in (b'"', b"'"):
            quote = char
        elif char == b'>':
            return index + 1
        index += 1
    raise SiteXmlError('unterminated tag at byte %d' % start)


def _encoding_of(declared):
    name = declared or 'utf-8'
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise SiteXmlError('unknown encoding %r in the XML declaration' % name)
    if '<\n'.encode(codec.name) != b'<\n':
        raise SiteXmlError('encoding %s is not supported (only ASCII-compatible encodings are)' % name)
    return codec.name


def _check_encoding(data):
    """Refuse, saying why, what Hadoop reads differently or not at all (Woodstox, 3.3.6).

    Hadoop detects UTF-16 and UTF-32 by their byte order mark or first bytes and reads them; this
    module edits bytes in place and handles ASCII-compatible encodings only. Bytes that are not
    UTF-8 in a file that does not declare another encoding make Hadoop fail ("Invalid UTF-8").
    """
    for mark, name in _WIDE_ENCODINGS:
        if data.startswith(mark):
            raise EncodingError(
                'the file is %s encoded; Hadoop reads such a file when it starts with a byte order mark'
                ' or an XML declaration, but this module edits UTF-8 (or other ASCII-compatible) site'
                ' files only. Convert it first, for example with iconv -f %s -t UTF-8, and change'
                ' encoding= in its XML declaration' % (name, name))
    declared = _DECLARED_ENCODING.match(data)
    name = declared.group(1).decode('ascii', 'replace') if declared else 'UTF-8'
    try:
        is_utf8 = codecs.lookup(name).name == 'utf-8'
    except LookupError:
        is_utf8 = False
    if not is_utf8:
        return
    try:
        data.decode('utf-8')
    except UnicodeDecodeError as exc:
        line = data.count(b'\n', 0, exc.start) + 1
        column = exc.start - (data.rfind(b'\n', 0, exc.start) + 1) + 1
        # Where, not which bytes: they may be part of a secret.
        raise EncodingError(
            'bytes that are not valid UTF-8%s; Hadoop reads the file as UTF-8 and fails on them'
            ' ("Invalid UTF-8"). Re-encode the file as UTF-8, or declare its real encoding in the XML'
            ' declaration' % ('' if declared else ' and no other encoding is declared'), line, column)


def parse(text):
    """Parse the text of a site file into a SiteXml; raises SiteXmlError with line and column.

    `text` is a str as returned by _filewrite.read_text (undecodable bytes kept as surrogates).
    """
    data = text.encode('utf-8', 'surrogateescape')
    _check_encoding(data)
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = False
    stack = []
    found = {'root': None, 'encoding': None}

    def position():
        return parser.CurrentLineNumber, parser.CurrentColumnNumber + 1

    def xml_decl(version, encoding, standalone):
        found['encoding'] = encoding

    def start(tag, attrs):
        line, column = position()
        element = Element(tag, attrs, parser.CurrentByteIndex, line, column)
        element.start_tag_end = _scan_tag_end(data, element.start)
        element.empty = data[element.start_tag_end - 2:element.start_tag_end] == b'/>'
        if stack:
            stack[-1].children.append(element)
        else:
            found['root'] = element
        stack.append(element)

    def end(tag):
        element = stack.pop()
        if element.empty:
            # expat reports the end of <tag/> just after it.
            element.content_end = element.end = element.start_tag_end
        else:
            element.content_end = parser.CurrentByteIndex
            element.end = _scan_tag_end(data, element.content_end)

    def characters(chunk):
        # Like Hadoop, a field's text is all the text inside it, nested elements included.
        for element in stack:
            if element.local in _HADOOP_FIELDS:
                element.text_parts.append(chunk)

    def entity_decl(*args):
        line, column = position()
        # Entity declarations are how "billion laughs" documents blow up; Hadoop files never
        # need them.
        raise SiteXmlError('entity declarations are not allowed in a Hadoop configuration file',
                           line, column)

    parser.XmlDeclHandler = xml_decl
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.EntityDeclHandler = entity_decl
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise SiteXmlError(xml.parsers.expat.ErrorString(exc.code), exc.lineno, exc.offset + 1)
    root = found['root']
    if root is None:
        raise SiteXmlError('the file has no <configuration> element')
    if root.local != 'configuration':
        raise SiteXmlError('the root element is <%s>, not <configuration>' % root.tag,
                           root.line, root.column)
    return SiteXml(data, root, _encoding_of(found['encoding']))


def new_document():
    """Text of a new, empty site file, shaped like the ones Hadoop ships."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>\n'
            '<configuration>\n'
            '</configuration>\n')


# ---------------------------------------------------------------------------------------------
# The desired state


class Desired:
    """What one name should look like; final/description None means "leave as it is"."""

    def __init__(self, value=None, final=None, description=None):
        self.value = value
        self.final = final
        self.description = description


def _check_text(what, text):
    match = _NOT_XML_CHAR.search(text)
    if match:
        raise ValueError('%s contains U+%04X, which XML cannot represent' % (what, ord(match.group())))


def normalize(properties, state):
    """(set, remove) for SiteXml.edit from the module's `properties` option: set maps each name to a
    Desired, remove lists names (a null value removes its name); raises ValueError."""
    if state == 'absent' and isinstance(properties, (list, tuple)):
        items = [(name, None) for name in dict.fromkeys(properties)]
    elif isinstance(properties, dict):
        items = list(properties.items())
    else:
        raise ValueError('properties must be a dictionary of names to values%s'
                         % (' or, with state=absent, a list of names' if state == 'absent' else ''))
    to_set, to_remove = {}, []
    for name, spec in items:
        if not isinstance(name, str) or not name.strip():
            raise ValueError('property name %r is not a non-empty string' % (name,))
        if name != name.strip():
            raise ValueError('property name %r has leading or trailing whitespace, which Hadoop'
                             ' strips; write it as %r' % (name, name.strip()))
        _check_text('property name %r' % name, name)
        if state == 'absent':
            to_remove.append(name)
            continue
        if isinstance(spec, dict):
            unknown = sorted(set(spec) - {'value', 'final', 'description'})
            if unknown:
                raise ValueError('property %s: unknown key(s) %s; use value, final, description'
                                 % (name, ', '.join(unknown)))
            if spec.get('value') is None:
                raise ValueError('property %s: value is required' % name)
            final = spec.get('final')
            if final is not None and not isinstance(final, bool):
                raise ValueError('property %s: final must be true or false' % name)
            desired = Desired(spec['value'], final, spec.get('description'))
        elif spec is None:
            # null removes the property, so one call can both set and remove.
            to_remove.append(name)
            continue
        else:
            desired = Desired(spec)
        try:
            desired.value = config_text(desired.value)
            if desired.description is not None:
                desired.description = config_text(desired.description)
        except TypeError as exc:
            raise ValueError('property %s: value %s' % (name, exc))
        _check_text('the value of %s' % name, desired.value)
        if desired.description is not None:
            _check_text('the description of %s' % name, desired.description)
        to_set[name] = desired
    return to_set, to_remove


# ---------------------------------------------------------------------------------------------
# Editing by spans


def escape(text, quote=None):
    text = text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
    # A raw CR would come back as LF (XML end-of-line handling).
    text = text.replace('\r', '&#13;')
    if quote == '"':
        text = text.replace('"', '&quot;').replace('\n', '&#10;').replace('\t', '&#9;')
    elif quote == "'":
        text = text.replace("'", '&apos;').replace('\n', '&#10;').replace('\t', '&#9;')
    return text


class _Editor:
    def __init__(self, doc):
        self.doc = doc
        self.data = doc.data
        self.edits = []
        # Attribute changes per start tag, applied together so they never overlap.
        self.attributes = {}

    def encode(self, text):
        return text.encode(self.doc.encoding, 'xmlcharrefreplace')

    def replace(self, start, end, text):
        replacement = self.encode(text) if isinstance(text, str) else text
        self.edits.append((start, end, len(self.edits), replacement))

    def pending(self):
        """How many changes are waiting to be applied (each attribute counts)."""
        return len(self.edits) + sum(len(changes) for dummy, changes in self.attributes.values())

    def apply(self):
        for element, changes in self.attributes.values():
            self._rewrite_start_tag(element, changes)
        self.attributes = {}
        out = []
        pos = 0
        for start, end, _seq, replacement in sorted(self.edits):
            if start < pos:
                raise EditError('overlapping edits at byte %d' % start)
            out.append(self.data[pos:start])
            out.append(replacement)
            pos = end
        out.append(self.data[pos:])
        return b''.join(out)

    # Layout helpers -------------------------------------------------------------------------

    def whitespace_before(self, index):
        """The run of whitespace that ends at `index` (newline and indentation)."""
        start = index
        while start > 0 and self.data[start - 1:start] in (b' ', b'\t', b'\r', b'\n'):
            start -= 1
        return self.data[start:index]

    def line_indent(self, index):
        """Indentation before `index` when only blanks precede it on its line, else None."""
        start = index
        while start > 0 and self.data[start - 1:start] in (b' ', b'\t'):
            start -= 1
        if start == 0 or self.data[start - 1:start] == b'\n':
            return self.data[start:index]
        return None

    def separator(self, index):
        """What separates the thing at `index` from what precedes it, to copy for a new neighbour.

        A newline plus that line's indentation when it starts its line (trailing blanks of the
        previous line are not copied), else the whitespace run in front of it (maybe none).
        """
        indent = self.line_indent(index)
        if indent is not None and index - len(indent) > 0:
            return self.doc.newline + indent
        return self.whitespace_before(index)

    def layout(self):
        """(property indent, separator before each child, separator before </property>)."""
        newline = self.doc.newline
        for prop in reversed(self.doc.properties):
            element = prop.element
            if not element.children:
                continue
            indent = self.line_indent(element.start)
            return (indent or b'', self.separator(element.children[0].start),
                    self.separator(element.content_end))
        indent = self.encode(DEFAULT_PROPERTY_INDENT)
        return (indent, newline + self.encode(DEFAULT_CHILD_INDENT), newline + indent)

    # Operations -----------------------------------------------------------------------------

    def block(self, name, desired):
        indent, child_ws, close_ws = self.layout()
        children = [('name', name), ('value', desired.value)]
        if desired.final:
            children.append(('final', 'true'))
        if desired.description is not None:
            children.append(('description', desired.description))
        parts = [indent, b'<property>']
        for tag, text in children:
            parts += [child_ws, self.encode('<%s>%s</%s>' % (tag, escape(text), tag))]
        parts += [close_ws, b'</property>']
        return b''.join(parts)

    def insert_properties(self, blocks):
        root = self.doc.root
        newline = self.doc.newline
        body = b''.join(block + newline for block in blocks)
        if root.empty:
            tag = self.data[root.start:root.start_tag_end - 2].rstrip(_WHITESPACE)
            self.replace(root.start, root.end,
                         tag + b'>' + newline + body + b'</' + self.encode(root.tag) + b'>')
        elif self.line_indent(root.content_end) is not None:
            # </configuration> starts its line: the new blocks go on the lines before it.
            line_start = root.content_end - len(self.line_indent(root.content_end))
            self.replace(line_start, line_start, body)
        else:
            self.replace(root.content_end, root.content_end, newline + body)

    def set_child_text(self, element, text):
        escaped = escape(text)
        if element.empty:
            self.replace(element.start, element.end,
                         '<%s>%s</%s>' % (element.tag, escaped, element.tag))
        else:
            self.replace(element.content_start, element.content_end, escaped)

    def set_attribute(self, element, attr, text):
        """Set attribute `attr` of the start tag of `element` (the short property form)."""
        self.attributes.setdefault(id(element), (element, {}))[1][attr] = text

    def _rewrite_start_tag(self, element, changes):
        tag = self.data[element.start:element.start_tag_end]
        for attr, text in changes.items():
            match = re.search(br'\s%s\s*=\s*(["\'])' % re.escape(attr.encode('ascii')), tag)
            if match:
                quote = match.group(1)
                value_start = match.end()
                value_end = tag.index(quote, value_start)
                escaped = self.encode(escape(text, quote.decode('ascii')))
                tag = tag[:value_start] + escaped + tag[value_end:]
            else:
                cut = len(tag) - (2 if element.empty else 1)
                tag = (tag[:cut].rstrip(_WHITESPACE)
                       + self.encode(' %s="%s"' % (attr, escape(text, '"'))) + tag[cut:])
        self.replace(element.start, element.start_tag_end, tag)

    def set_field(self, prop, field, text):
        """Set value/final/description of an existing property, in the form it already uses."""
        element = prop.element
        child = prop.fields.get(field)
        if child is not None:
            self.set_child_text(child, text)
        elif field in element.attrs or not element.children:
            self.set_attribute(element, field, text)
        else:
            # After the last field that conventionally comes before it, else after the last child,
            # with the same whitespace in front as that neighbour.
            anchor = element.children[-1]
            for name in _HADOOP_FIELDS[:_HADOOP_FIELDS.index(field)]:
                if name in prop.fields:
                    anchor = prop.fields[name]
            new_child = self.encode('<%s>%s</%s>' % (field, escape(text), field))
            self.replace(anchor.end, anchor.end, self.separator(anchor.start) + new_child)

    def remove(self, prop):
        element = prop.element
        start, end = element.start, element.end
        indent = self.line_indent(start)
        rest = self.data[end:]
        trailing = len(rest) - len(rest.lstrip(b' \t'))
        after = end + trailing
        if indent is not None and self.data[after:after + 1] in (b'\n', b'\r', b''):
            # The block has its lines to itself: the lines go with it.
            start -= len(indent)
            end = after
            if self.data[end:end + 2] == b'\r\n':
                end += 2
            elif self.data[end:end + 1] == b'\n':
                end += 1
        self.replace(start, end, b'')


def same_value(value, wanted):
    """Whether Hadoop reading `value` (None: no value) gives what `wanted` asks.

    An empty wanted value means "no value from this file", which is what Hadoop makes of an empty
    <value></value>.
    """
    return value == wanted or (wanted == '' and value is None)


def _loaded(occurrences):
    """The definitions Hadoop's loadProperty takes in: up to and including the first final one."""
    loaded = []
    for prop in occurrences:
        loaded.append(prop)
        if prop.final:
            break
    return loaded


def _lines(props):
    return ', '.join(str(prop.line) for prop in props)


def _edit(doc, to_set, to_remove, force, path):
    """SiteXml.edit: the byte-span edits, the final-property guard and the read-back check."""
    editor = _Editor(doc)
    warnings = []
    blocked = {}
    new_blocks = []
    both = sorted(name for name in to_remove if name in to_set)
    if both:
        raise ValueError('names both set and removed: %s' % ', '.join(both))
    added, updated, removed = [], [], []
    desired = list(to_set.items()) + [(name, None) for name in dict.fromkeys(to_remove)]
    for name, want in desired:
        occurrences = doc.occurrences(name)
        if len(occurrences) > 1:
            warnings.append(
                '%s is defined %d times in %s (lines %s); Hadoop uses the last definition, or the'
                ' first one marked final.' % (name, len(occurrences), path, _lines(occurrences)))
        if want is None:
            if not occurrences:
                continue
            finals = [prop for prop in occurrences if prop.final]
            if finals and not force:
                blocked[name] = [prop.line for prop in finals]
                continue
            for prop in occurrences:
                editor.remove(prop)
            removed.append(name)
            continue
        if not occurrences:
            new_blocks.append(editor.block(name, want))
            added.append(name)
            continue
        value, final, used = doc.effective(name)
        loaded = _loaded(occurrences)
        edits_before = editor.pending()
        if used is None:
            # Defined without a value: the definition Hadoop would take a value from is the first
            # final one (later ones are ignored), else the last one.
            used = loaded[-1]
        if not same_value(value, want.value):
            if final and not force:
                blocked[name] = [prop.line for prop in occurrences if prop.final]
                continue
            if want.value == '':
                # An empty value does not replace an earlier one: every definition Hadoop loads
                # must lose its value.
                for prop in loaded:
                    if prop.value:
                        editor.set_field(prop, 'value', '')
            else:
                editor.set_field(used, 'value', want.value)
        if want.final is not None and want.final != used.final:
            editor.set_field(used, 'final', 'true' if want.final else 'false')
        if want.description is not None and want.description != used.description:
            editor.set_field(used, 'description', want.description)
        if editor.pending() > edits_before:
            updated.append(name)
    if blocked:
        raise FinalPropertyError(
            '%s %s marked final (<final>true</final>) in %s: it is locked against changes, and'
            ' Hadoop would ignore any other definition of it. Set force: true to change or'
            ' remove it anyway.'
            % (', '.join('%s (line %s)' % (name, ', '.join(map(str, lines)))
                         for name, lines in blocked.items()),
               'is' if len(blocked) == 1 else 'are', path), blocked)
    if new_blocks:
        editor.insert_properties(new_blocks)
    new_data = editor.apply()
    new_text = new_data.decode('utf-8', 'surrogateescape')
    document, values = _check(new_text, desired)
    return Outcome(new_text, new_data != doc.data, document, values, added=added, updated=updated,
                   removed=removed, warnings=warnings)


def _check(new_text, desired):
    """Re-read the edited text; the edit must be well-formed and say what was asked."""
    try:
        doc = parse(new_text)
    except SiteXmlError as exc:
        raise EditError('the edited text does not parse (%s)' % exc)
    values = {}
    for name, want in desired:
        value, final, used = doc.effective(name)
        values[name] = value
        if want is None:
            ok = not doc.occurrences(name)
        else:
            target = used or (_loaded(doc.occurrences(name)) or [None])[-1]
            ok = (same_value(value, want.value) and target is not None
                  and (want.final is None or final == want.final or target.final == want.final)
                  and (want.description is None or target.description == want.description))
        if not ok:
            raise EditError('after editing, %s does not read back as asked' % name)
    return doc, values


# ---------------------------------------------------------------------------------------------
# Secrets in what the module shows


def sensitive_key_patterns(text):
    """The regexes a file's own hadoop.security.sensitive-config-keys adds, as Hadoop reads it."""
    try:
        value = parse(text).effective(_SENSITIVE_KEYS_PROPERTY)[0]
    except SiteXmlError:
        return []
    return _sensitive.split_key_list(value)


# A value longer than this that is a comma-separated list is shown one item a line in diffs.
LONG_LIST = 80


def display_text(text, is_sensitive, placeholder):
    """`text` as diff mode may show it: every value of a sensitive name replaced by placeholder(value).

    The whole value is replaced where the file holds it, whatever its form there (plain,
    entity-encoded, character references, CDATA, split by comments, an attribute), so no form of
    a secret is shown; bytes are decoded with the file's encoding. A long comma-separated value
    (10,000 proxy users) is shown one item a line, so a diff that adds one name shows one line.
    """
    doc = parse(text)
    editor = _Editor(doc)
    for prop in doc.properties:
        if prop.name is None:
            continue
        element = prop.element
        sensitive = is_sensitive(prop.name)
        for child in element.children:
            if child.local == 'value' and not child.empty and child.content_end > child.content_start:
                if sensitive:
                    editor.replace(child.content_start, child.content_end, escape(placeholder(child.text)))
                elif len(child.text) > LONG_LIST and ',' in child.text:
                    # Every item on a line of its own with its comma, the last one too: adding
                    # or removing a name anywhere in the list then changes exactly one line.
                    editor.replace(child.content_start, child.content_end,
                                   escape(''.join('\n%s,' % item for item in child.text.split(',')) + '\n'))
        if sensitive and 'value' in element.attrs:
            editor.set_attribute(element, 'value', placeholder(element.attrs['value']))
    return editor.apply().decode(doc.encoding, 'replace')
