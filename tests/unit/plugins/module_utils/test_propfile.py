"""The properties parser/editor, case by case, and against Java's own Properties.load."""

from __future__ import annotations

import importlib.util
import os
import random

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils import _propfile as pf

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, '..', '..', 'fixtures', 'livy.conf.template')
_spec = importlib.util.spec_from_file_location('propsdump', os.path.join(HERE, '..', '..', 'java', 'propsdump.py'))
propsdump = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(propsdump)


def read_template():
    with open(TEMPLATE, 'rb') as handle:
        return handle.read().decode('utf-8')


# (id, text, what Properties.load returns for it)
PARSE_CASES = [
    ('equals', 'a=1\n', {'a': '1'}),
    ('colon', 'a:1\n', {'a': '1'}),
    ('whitespace separator', 'a 1\n', {'a': '1'}),
    ('blanks around equals', 'a \t = \t 1\n', {'a': '1'}),
    ('blanks around colon', 'key   :   value\n', {'key': 'value'}),
    ('only the first separator counts', 'a==1\n', {'a': '=1'}),
    ('whitespace then two equals', 'a = = 1\n', {'a': '= 1'}),
    ('colon in value', 'livy.server.recovery.state-store.url = host1:2181,host2:2181\n',
     {'livy.server.recovery.state-store.url': 'host1:2181,host2:2181'}),
    ('key only', 'a\n', {'a': ''}),
    ('key and separator only', 'a =\n', {'a': ''}),
    ('indented entry', '   a = 1\n', {'a': '1'}),
    ('hash comment', '# a=1\n', {}),
    ('bang comment', '! a=1\n', {}),
    ('indented comment', ' \t# a=1\n', {}),
    ('hash inside a value', 'a=1 # not a comment\n', {'a': '1 # not a comment'}),
    ('blank lines', '\n\n  \n\t\na=1\n\n', {'a': '1'}),
    ('continuation', 'a = one, \\\n      two\n', {'a': 'one, two'}),
    ('continuation over three lines', 'a=x\\\n y\\\n\tz\nb=2\n', {'a': 'xyz', 'b': '2'}),
    ('comment does not continue', '# a=1 \\\nb=2\n', {'b': '2'}),
    ('continued line starting with hash', 'a=1\\\n  #2\n', {'a': '1#2'}),
    ('two backslashes do not continue', 'a=x\\\\\nb=2\n', {'a': 'x\\', 'b': '2'}),
    ('three backslashes continue', 'a=x\\\\\\\nb=2\n', {'a': 'x\\b=2'}),
    ('empty line ends a continuation', 'a=1\\\n\nb=2\n', {'a': '1', 'b': '2'}),
    ('blank line ends a continuation', 'a=1\\\n   \nb=2\n', {'a': '1', 'b': '2'}),
    ('continuation at end of file', 'a=1\\', {'a': '1'}),
    ('continuation then end of file', 'a=1\\\n', {'a': '1'}),
    ('continuation inside the key', 'li\\\n  vy.x = 1\n', {'livy.x': '1'}),
    ('continuation before the separator', 'a \\\n  = 1\n', {'a': '1'}),
    ('lone backslash line joins nothing', 'a=1\n\\\n# c\nb=2\n', {'a': '1', 'b': '2'}),
    ('lone backslash at end of file is an empty key', 'a=1\n\\', {'a': '1', '': ''}),
    ('escaped separators in key', 'a\\=b\\:c\\ d\\#e\\!f = v\n', {'a=b:c d#e!f': 'v'}),
    ('escapes in value', 'a = \\t\\n\\r\\f\\\\\\q\\=\n', {'a': '\t\n\r\f\\q='}),
    ('escaped leading space in value', 'a = \\  x\n', {'a': '  x'}),
    ('trailing whitespace stays in value', 'a = 1  \n', {'a': '1  '}),
    ('unicode escapes', 'a = caf\\u00e9 \\u20AC\n', {'a': 'caf\u00e9 \u20ac'}),
    ('unicode escape split by a continuation', 'a=\\u00\\\n  e9\n', {'a': '\u00e9'}),
    ('surrogate pair escape', 'a = \\uD83D\\uDE00\n', {'a': '\U0001F600'}),
    ('UTF-8 text', 'a = caf\u00e9 \U0001F600\n', {'a': 'caf\u00e9 \U0001F600'}),
    ('duplicates: the last wins', 'a=1\nb=x\na : 2\n', {'a': '2', 'b': 'x'}),
    ('same key written two ways', 'livy.x=1\nliv\\y.x=2\n', {'livy.x': '2'}),
    ('CRLF', 'a=1\r\nb=2\r\n', {'a': '1', 'b': '2'}),
    ('CR alone', 'a=1\rb=2\r', {'a': '1', 'b': '2'}),
    ('continuation over CRLF', 'a=1\\\r\n  2\r\nb=3\r\n', {'a': '12', 'b': '3'}),
    ('continuation over CR then CRLF', 'a=1\\\r\r\nb=2\r\n', {'a': '1', 'b': '2'}),
    ('no trailing newline', 'a=1\nb=2', {'a': '1', 'b': '2'}),
    ('comment without trailing newline', 'a=1\n# end', {'a': '1'}),
    ('form feed is whitespace', '\fa\f=\f1\n', {'a': '1'}),
    ('vertical tab is not whitespace', 'a\x0b=1\n', {'a\x0b': '1'}),
    ('no-break space is not whitespace', 'a\u00a0b=1\n', {'a\u00a0b': '1'}),
    ('byte order mark belongs to the first key', '\ufeffa=1\n', {'\ufeffa': '1'}),
    ('empty key', '=1\n', {'': '1'}),
    ('empty file', '', {}),
]

# (id, text, 1-based line of the malformed escape)
MALFORMED_CASES = [
    ('bad hex digit', 'a=\\u12g4\n', 1),
    ('short escape at end of file', 'x=1\na=\\u12', 2),
    ('bad escape in key', 'ok=1\n\n\\uZZZZ=1\n', 3),
    ('short escape before an empty line', 'a=\\u00\\\n\nb=\\u00e9\n', 1),
]

# (id, text, present, absent, expected text, collapsed keys)
EDIT_CASES = [
    ('change in place', 'a=1\nlivy.x=1\nb=2\n', {'livy.x': '2'}, [], 'a=1\nlivy.x=2\nb=2\n', []),
    ('keep colon style', 'livy.x : 1\n', {'livy.x': '2'}, [], 'livy.x : 2\n', []),
    ('keep whitespace style', 'livy.x \t 1\n', {'livy.x': '2'}, [], 'livy.x \t 2\n', []),
    ('keep indent', '   livy.x=1\n', {'livy.x': '2'}, [], '   livy.x=2\n', []),
    ('keep escaped key', 'liv\\y.x=1\n', {'livy.x': '2'}, [], 'liv\\y.x=2\n', []),
    ('empty value gets a spaced separator', 'livy.x =\n', {'livy.x': 'v'}, [], 'livy.x = v\n', []),
    ('bare key gets a separator', 'livy.x\n', {'livy.x': 'v'}, [], 'livy.x = v\n', []),
    ('set to empty', 'livy.x = 1\n', {'livy.x': ''}, [], 'livy.x = \n', []),
    ('continued value replaced whole', 'livy.x = a,\\\n    b,\\\n    c\nnext=1\n', {'livy.x': 'd'}, [],
     'livy.x = d\nnext=1\n', []),
    ('continuation closed by an empty line', 'livy.x = a\\\n\nnext=1\n', {'livy.x': 'd'}, [],
     'livy.x = d\nnext=1\n', []),
    ('equivalent escaped value untouched', 'livy.x = caf\\u00e9\n', {'livy.x': 'caf\u00e9'}, [],
     'livy.x = caf\\u00e9\n', []),
    ('equivalent continued value untouched', 'livy.x = a\\\n   b\n', {'livy.x': 'ab'}, [],
     'livy.x = a\\\n   b\n', []),
    ('template comment replaced', '# What it does.\n# livy.x = false\n\nother=1\n', {'livy.x': 'true'}, [],
     '# What it does.\nlivy.x = true\n\nother=1\n', []),
    ('template with empty value', '# livy.keystore =\n', {'livy.keystore': '/etc/ks.jks'}, [],
     'livy.keystore = /etc/ks.jks\n', []),
    ('template with colon, indented', '  #livy.x: 1\n', {'livy.x': '2'}, [], '  livy.x: 2\n', []),
    ('bang template', '! livy.x = 1\n', {'livy.x': '2'}, [], 'livy.x = 2\n', []),
    ('first of two templates', '# livy.t = kerberos\n# livy.t = <custom>\n', {'livy.t': 'ldap'}, [],
     'livy.t = ldap\n# livy.t = <custom>\n', []),
    ('prose is not a template', '# livy.x is not set here\n', {'livy.x': '1'}, [],
     '# livy.x is not set here\nlivy.x = 1\n', []),
    ('example inside prose is not a template', '# E.g.: livy.x = 1\n', {'livy.x': '2'}, [],
     '# E.g.: livy.x = 1\nlivy.x = 2\n', []),
    ('active line beats template', '# livy.x = 1\nlivy.x = 2\n', {'livy.x': '3'}, [],
     '# livy.x = 1\nlivy.x = 3\n', []),
    ('duplicates collapse onto the last', 'livy.x=1\na=b\nlivy.x : 2\n', {'livy.x': '2'}, [],
     'a=b\nlivy.x : 2\n', ['livy.x']),
    ('duplicates collapse and change', 'livy.x=1\\\n  1\nlivy.x=2\n', {'livy.x': '3'}, [],
     'livy.x=3\n', ['livy.x']),
    ('duplicates written two ways', 'livy.x=1\nliv\\y.x=2\n', {'livy.x': '2'}, [], 'liv\\y.x=2\n', ['livy.x']),
    ('append', 'a=1\n', {'livy.x': 'v'}, [], 'a=1\nlivy.x = v\n', []),
    ('append in order', '', {'livy.b': '1', 'livy.a': '2'}, [], 'livy.b = 1\nlivy.a = 2\n', []),
    ('append to a file without final newline', 'a=1', {'livy.x': 'v'}, [], 'a=1\nlivy.x = v\n', []),
    ('append with CRLF', 'a=1\r\n', {'livy.x': 'v'}, [], 'a=1\r\nlivy.x = v\r\n', []),
    ('change in place keeps CRLF', 'livy.x=1\r\nb=2\r\n', {'livy.x': '2'}, [], 'livy.x=2\r\nb=2\r\n', []),
    ('change in place keeps the missing final newline', 'a=1\nlivy.x=1', {'livy.x': '2'}, [],
     'a=1\nlivy.x=2', []),
    ('append after a continuation left open', 'a=1\\\n', {'livy.x': 'v'}, [], 'a=1\\\n\nlivy.x = v\n', []),
    ('append after an open continuation without newline', 'a=1\\', {'livy.x': 'v'}, [],
     'a=1\\\n\nlivy.x = v\n', []),
    ('append before a lone final backslash', 'a=1\n\\', {'livy.x': 'v'}, [], 'a=1\nlivy.x = v\n\\', []),
    ('escape on write', '', {'livy.x': ' lead=#!:\\ caf\u00e9 \U0001F600\t'}, [],
     'livy.x = \\ lead\\=\\#\\!\\:\\\\ caf\\u00E9 \\uD83D\\uDE00\\t\n', []),
    ('escape key on write', '', {'livy.a b:c': 'v'}, [], 'livy.a\\ b\\:c = v\n', []),
    ('remove', 'a=1\nlivy.x=1\nb=2\n', {}, ['livy.x'], 'a=1\nb=2\n', []),
    ('remove every duplicate and continuation', 'livy.x=1\\\n 2\na=1\nlivy.x=3\n', {}, ['livy.x'],
     'a=1\n', []),
    ('remove keeps the template comment', '# livy.x = 1\nlivy.x=2\n', {}, ['livy.x'], '# livy.x = 1\n', []),
    ('remove what is not there', '# livy.x = 1\na=1', {}, ['livy.x'], '# livy.x = 1\na=1', []),
    ('remove the last line without newline', 'a=1\nlivy.x=2', {}, ['livy.x'], 'a=1\n', []),
    ('set and remove together', 'livy.a=1\nlivy.b=2\n', {'livy.c': '3'}, ['livy.a'],
     'livy.b=2\nlivy.c = 3\n', []),
]

# (value, as a value, as a key): Properties.store rules, written as ASCII.
ESCAPE_CASES = [
    ('plain', 'plain', 'plain'),
    ('a b', 'a b', 'a\\ b'),
    (' a', '\\ a', '\\ a'),
    ('=:#!', '\\=\\:\\#\\!', '\\=\\:\\#\\!'),
    ('back\\slash', 'back\\\\slash', 'back\\\\slash'),
    ('\t\n\r\f', '\\t\\n\\r\\f', '\\t\\n\\r\\f'),
    ('\x00\x1f\x7f', '\\u0000\\u001F\\u007F', '\\u0000\\u001F\\u007F'),
    ('caf\u00e9', 'caf\\u00E9', 'caf\\u00E9'),
    ('\u20ac', '\\u20AC', '\\u20AC'),
    ('\U0001F600', '\\uD83D\\uDE00', '\\uD83D\\uDE00'),
    ('', '', ''),
]


def ids(cases):
    return [case[0] for case in cases]


# --- Java's loader --------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def java_load(tmp_path_factory):
    """load({name: text}) -> {name: dict, or 'refused'}, as Properties.load reads each text."""
    load = propsdump.build(tmp_path_factory.mktemp('propsdump-classes'))
    data = tmp_path_factory.mktemp('propsdump-data')

    def load_texts(texts):
        names = {}
        for index, (name, text) in enumerate(texts.items()):
            path = data / ('%05d.properties' % index)
            path.write_bytes(text.encode('utf-8', 'surrogateescape'))
            names[str(path)] = name
        return dict((names[path], loaded) for path, loaded in load('properties', names).items())
    return load_texts


def python_load(text):
    try:
        return pf.parse(text).as_dict()
    except pf.PropertiesError:
        return 'refused'


def random_texts(seed, count):
    """Short texts made of the characters that matter to the format, in every order."""
    pieces = ['a', 'livy.x', ' ', ' ', '\t', '\f', '=', ':', '#', '!', '\\', '\\', '\\\\',
              '\n', '\n', '\r', '\r\n', 'u', '\\u00e9', '\\u00', 'e9', '\u00e9', '\U0001F600',
              '\\uD83D\\uDE00', '# livy.x = 1\n']
    rng = random.Random(seed)
    return [''.join(rng.choice(pieces) for dummy in range(rng.randint(0, 24))) for dummy in range(count)]


def test_parser_reads_what_java_reads(java_load):
    texts = {'template': read_template()}
    texts.update(('case: ' + case[0], case[1]) for case in PARSE_CASES + MALFORMED_CASES)
    texts.update(('random %d' % index, text) for index, text in enumerate(random_texts(20261123, 600)))
    java = java_load(texts)
    mismatches = dict((name, (text, python_load(text), java[name]))
                      for name, text in texts.items() if python_load(text) != java[name])
    assert mismatches == {}


def test_edits_read_back_in_java_as_intended(java_load):
    """Every edit case, and random edits of random files: Java reads exactly the intended properties."""
    rng = random.Random(7)
    keys = ['livy.x', 'livy.y', 'livy.z']
    values = ['', 'v', ' lead', 'trail ', 'a=b:c', '#!', 'caf\u00e9 \U0001F600', 'back\\slash', 'two\nlines']
    jobs = dict(('case: ' + case[0], case[1:4]) for case in EDIT_CASES)
    jobs['template'] = (read_template(), {'livy.impersonation.enabled': 'true', 'livy.superusers': 'hub'}, [])
    for index, text in enumerate(random_texts(99, 600)):
        if python_load(text) == 'refused':
            continue
        present = dict((key, rng.choice(values)) for key in rng.sample(keys, rng.randint(0, 2)))
        absent = [key for key in keys if key not in present and rng.random() < 0.3]
        jobs['random %d' % index] = (text, present, absent)
    edited, expected = {}, {}
    for name, (text, present, absent) in jobs.items():
        document = pf.parse(text)
        outcome = document.edit(set=present, remove=absent)
        edited[name] = outcome.text
        expected[name] = dict(document.as_dict(), **present)
        for key in absent:
            expected[name].pop(key, None)
        # The same edit again changes nothing.
        assert not outcome.document.edit(set=present, remove=absent).changed, name
    java = java_load(edited)
    mismatches = dict((name, (jobs[name], edited[name], java[name]))
                      for name in jobs if java[name] != expected[name])
    assert mismatches == {}


# --- parsing --------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, text, expected', PARSE_CASES, ids=ids(PARSE_CASES))
def test_parse(name, text, expected):
    document = pf.parse(text)
    assert document.as_dict() == expected
    assert document.render() == text


@pytest.mark.parametrize('name, text, line', MALFORMED_CASES, ids=ids(MALFORMED_CASES))
def test_malformed_unicode_escape(name, text, line):
    with pytest.raises(pf.PropertiesError, match='malformed') as raised:
        pf.parse(text)
    assert raised.value.line == line
    assert str(raised.value).startswith('line %d: ' % line)


def test_template_fixture():
    text = read_template()
    document = pf.parse(text)
    assert document.as_dict() == {}
    assert document.render() == text
    assert len(document.lines) == len(document.tokens) == text.count('\n')
    kinds = set(token.kind for token in document.tokens)
    assert kinds == {pf.COMMENT, pf.BLANK}


@pytest.mark.parametrize('text, expected', [
    ('a=1\n', [('entry', 0, 0)]),
    ('# c\n\na=1\\\n  2\\\n  3\n! c\n', [('comment', 0, 0), ('blank', 1, 1), ('entry', 2, 4), ('comment', 5, 5)]),
    ('a=1\\\n\nb=2', [('entry', 0, 1), ('entry', 2, 2)]),
    ('\\\n# c\n  k = v\r\n', [('blank', 0, 0), ('comment', 1, 1), ('entry', 2, 2)]),
    ('a=1\\\r\n b\r\n', [('entry', 0, 1)]),
    ('x\\\n#y\n', [('entry', 0, 1)]),
], ids=['one entry', 'comments, blank, continued entry', 'continuation ended by empty line',
        'lone backslash, comment, CRLF', 'CRLF continuation', 'continued line starting with hash'])
def test_tokens_cover_every_line(text, expected):
    document = pf.parse(text)
    assert [(token.kind, token.first, token.last) for token in document.tokens] == expected


def test_entry_parts():
    token = pf.parse('  liv\\\n   y.x \\\n  : a\\u00e9 \\\n  b\n').entries()[0]
    assert (token.indent, token.raw_key, token.separator, token.raw_value) == ('  ', 'livy.x', ' : ', 'a\\u00e9 b')
    assert (token.key, token.value) == ('livy.x', 'a\u00e9 b')


@pytest.mark.parametrize('text, pending', [
    ('a=1\n', False), ('a=1\\\n', True), ('a=1\\', True), ('a=1\\\r\n', True), ('a=1\\\n  ', True),
    ('a=1\\\n\n', False), ('# a\\\n', False), ('a=1\\\\\n', False), ('', False),
])
def test_pending_continuation(text, pending):
    assert pf.parse(text).pending_continuation is pending


def test_newline_style():
    assert pf.parse('a=1\r\nb=2\n').newline == '\r\n'
    assert pf.parse('a=1').newline == '\n'


@pytest.mark.parametrize('text, expected', [
    ('livy.a = 1\nlivy.b =  two  \nspark.c = 3\n', {'livy.a': '1', 'livy.b': 'two'}),
    ('livy.a = \\t x \\u0001\n', {'livy.a': 'x'}),
    ('Livy.a = 1\n', {}),
])
def test_livy_properties_are_trimmed_livy_keys(text, expected):
    assert pf.parse(text).livy_properties() == expected


# --- editing --------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, text, present, absent, expected, collapsed', EDIT_CASES, ids=ids(EDIT_CASES))
def test_edit(name, text, present, absent, expected, collapsed):
    outcome = pf.parse(text).edit(set=present, remove=absent)
    assert outcome.text == expected
    assert outcome.changed is (expected != text)
    assert outcome.collapsed == collapsed
    assert outcome.document.as_dict() == pf.parse(expected).as_dict()


def test_edit_template_fixture_touches_only_its_lines():
    text = read_template()
    outcome = pf.parse(text).edit(set={
        'livy.impersonation.enabled': 'true',
        'livy.server.port': '8999',
        'livy.keystore': '/etc/livy/keystore.jks',
        'livy.superusers': 'jupyterhub',
    })
    before, after = text.split('\n'), outcome.text.split('\n')
    changed = [(b, a) for b, a in zip(before[:-1], after) if b != a]
    assert changed == [
        ('# livy.keystore =', 'livy.keystore = /etc/livy/keystore.jks'),
        ('# livy.server.port = 8998', 'livy.server.port = 8999'),
        ('# livy.impersonation.enabled = true', 'livy.impersonation.enabled = true'),
    ]
    assert after[len(before) - 1:] == ['livy.superusers = jupyterhub', '']
    assert outcome.added == ['livy.impersonation.enabled', 'livy.server.port', 'livy.keystore', 'livy.superusers']
    assert outcome.document.livy_properties() == {
        'livy.impersonation.enabled': 'true', 'livy.server.port': '8999',
        'livy.keystore': '/etc/livy/keystore.jks', 'livy.superusers': 'jupyterhub'}


def test_edit_reports_what_it_did():
    outcome = pf.parse('livy.a=1\nlivy.b=2\nlivy.b=2\n# livy.c = 0\nlivy.d=4\n').edit(
        set={'livy.a': '1', 'livy.b': '3', 'livy.c': '3', 'livy.e': '5'}, remove=['livy.d', 'livy.f'], path='livy.conf')
    assert (outcome.updated, outcome.added, outcome.removed, outcome.collapsed) == (
        ['livy.b'], ['livy.c', 'livy.e'], ['livy.d'], ['livy.b'])
    assert outcome.values == {'livy.a': '1', 'livy.b': '3', 'livy.c': '3', 'livy.e': '5', 'livy.d': None, 'livy.f': None}
    assert outcome.warnings == [
        'livy.conf: livy.b was set on more than one line; only the last line, the one Livy reads, is kept.']


def test_unchanged_edit_returns_the_same_text():
    text = 'livy.a = 1\r\n# x\n\\\n  \tlivy.b:caf\\u00e9'
    outcome = pf.parse(text).edit(set={'livy.a': '1', 'livy.b': 'caf\u00e9'}, remove=['livy.c'])
    assert outcome.text == text
    assert not outcome.changed


def test_key_set_and_removed_is_refused():
    with pytest.raises(pf.PropertiesError, match='both set and removed: livy.a'):
        pf.parse('').edit(set={'livy.a': '1'}, remove=['livy.a'])


def test_edit_needs_string_values():
    with pytest.raises(TypeError):
        pf.parse('').edit(set={'livy.a': 1})


def test_undecodable_bytes_survive_an_edit():
    raw = b'# caf\xe9 in Latin-1\nlivy.a = 1\n'
    text = raw.decode('utf-8', 'surrogateescape')
    outcome = pf.parse(text).edit(set={'livy.a': '2'})
    assert outcome.text.encode('utf-8', 'surrogateescape') == b'# caf\xe9 in Latin-1\nlivy.a = 2\n'


# --- escaping and values --------------------------------------------------------------------------

@pytest.mark.parametrize('value, as_value, as_key', ESCAPE_CASES, ids=[case[0] or 'empty' for case in ESCAPE_CASES])
def test_escape(value, as_value, as_key):
    assert pf.escape_value(value) == as_value
    assert pf.escape_key(value) == as_key
    assert pf.unescape(as_value) == value
    assert pf.unescape(as_key) == value
    line = pf.escape_key(value) + '=' + pf.escape_value(value) + '\n'
    assert pf.parse(line).as_dict() == {value: value}


@pytest.mark.parametrize('value, expected', [
    ('  a b \t', 'a b'), ('\x00a\x1f', 'a'), ('\u00a0a', '\u00a0a'), ('', ''), ('   ', ''),
])
def test_java_trim(value, expected):
    assert pf.java_trim(value) == expected


@pytest.mark.parametrize('properties, state, expected', [
    ({'livy.a': True, 'livy.b': 8998, 'livy.c': 'x'}, 'present',
     ({'livy.a': 'true', 'livy.b': '8998', 'livy.c': 'x'}, [])),
    ({'livy.a': 'ignored', 'livy.b': None}, 'absent', ({}, ['livy.a', 'livy.b'])),
    (['livy.a', 'livy.a', 'livy.b'], 'absent', ({}, ['livy.a', 'livy.b'])),
    # null removes, in the same call that sets others.
    ({'livy.a': None, 'livy.b': 1}, 'present', ({'livy.b': '1'}, ['livy.a'])),
])
def test_normalize(properties, state, expected):
    assert pf.normalize(properties, state) == expected


@pytest.mark.parametrize('properties, state, message', [
    (['livy.a'], 'present', 'must be a dictionary'),
    ({'livy.a': [1]}, 'present', 'value of livy.a'),
    ('livy.a', 'absent', 'must be a list of keys or a dictionary'),
    ([3], 'absent', 'key 3 is not a string'),
])
def test_normalize_refuses(properties, state, message):
    with pytest.raises(ValueError, match=message):
        pf.normalize(properties, state)


# --- Encodings: what Livy's UTF-8 reader makes of the bytes ------------------------------------

def raw(data):
    return data.decode('utf-8', 'surrogateescape')


@pytest.mark.parametrize('data, message', [
    ('livy.a = 1\n'.encode('utf-16'), 'the file is UTF-16 encoded; Livy reads livy.conf as UTF-8'),
    ('livy.a = 1\n'.encode('utf-16-le'), 'line 1 holds NUL bytes (a UTF-16 file without byte order mark?)'),
    ('livy.a = 1\n'.encode('utf-32'), 'the file is UTF-32 encoded'),
    (b'\xef\xbb\xbflivy.a = 1\n', 'the file starts with a UTF-8 byte order mark, which Livy'),
    (b'livy.a = 1\nlivy.b = caf\xe9\n', 'line 2, column 13 holds bytes that are not valid UTF-8; Livy reads'),
    (b'livy.b = x\xed\xa0\x80\n', 'line 1, column 11 holds bytes that are not valid UTF-8'),
])
def test_encoding_problems_are_named(data, message):
    assert message in pf.encoding_problem(raw(data))


def test_plain_utf8_has_no_encoding_problem():
    assert pf.encoding_problem('livy.a = caf\u00e9 \U0001F600\n') is None


def test_lone_surrogate_escape_is_named():
    document = pf.parse('livy.a = 1\nlivy.b = x\\uD800y\n')
    assert pf.surrogate_problem(document).startswith(
        'line 2: the value of livy.b holds a \\uD800-\\uDFFF escape without its other half')
    assert pf.surrogate_problem(pf.parse('livy.b = \\uD83D\\uDE00\n')) is None


def test_lone_surrogate_in_a_wanted_value_is_refused():
    with pytest.raises(ValueError, match='half of a UTF-16 surrogate pair'):
        pf.normalize({'livy.a': 'x\ud800'}, 'present')


# --- Secrets in diffs --------------------------------------------------------------------------

def is_secret(key):
    return key.endswith('password')


def test_display_hides_every_form_of_a_secret():
    from ansible_collections.datalake.notebooks.plugins.module_utils import _sensitive
    text = ('# livy.keystore.password = t3mplate\n'
            '# livy.key-password =\n'
            'livy.keystore.password = S3cr\\=t\\!pw\n'
            'livy.key-password : caf\\u00e9\\\n'
            '    c0nt\r\n'
            'livy.server.port = 8998\n')
    shown = pf.display_text(text, is_secret, _sensitive.Placeholders())
    assert shown == ('# livy.keystore.password = ********(secret 1)\n'
                     '# livy.key-password =\n'
                     'livy.keystore.password = ********(secret 2)\n'
                     'livy.key-password : ********(secret 3)\r\n'
                     'livy.server.port = 8998\n')


def test_display_hides_every_value_java_reads(java_load):
    """Random files with every key taken for a secret: what Java reads from the text a diff shows
    holds placeholders only, so no form of a value survives (continuations, escapes, \\u)."""
    from ansible_collections.datalake.notebooks.plugins.module_utils import _sensitive
    texts = dict(('random %d' % index, text) for index, text in enumerate(random_texts(20261201, 600))
                 if python_load(text) != 'refused')
    texts['template'] = read_template()
    shown = dict((name, pf.display_text(text, lambda key: True, _sensitive.Placeholders()))
                 for name, text in texts.items())
    java = java_load(shown)
    leaks = dict((name, (texts[name], shown[name], java[name])) for name in texts
                 if any(value and not value.startswith('********(secret ') for value in java[name].values()))
    assert leaks == {}
    assert len(texts) > 400
