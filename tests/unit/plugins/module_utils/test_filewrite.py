"""_filewrite: the one edit path of the config modules and its atomic writes, with a real AnsibleModule."""

import json
import os

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.datalake.notebooks.plugins.module_utils import _filewrite

SPEC = dict(path=dict(type='path', required=True), state=dict(type='str', default='present'),
            create=dict(type='bool', default=True), backup=dict(type='bool', default=False))


def module_for(path, check=False, **params):
    """The arguments of a module run on `path`; run_edit makes the AnsibleModule with them."""
    return dict(params, path=str(path), _ansible_check_mode=check, _ansible_diff=True)


def run_edit(capsys, args, path, edit, absent_result=None):
    """edit_config_file's result dict (it always exits)."""
    with patch_module_args(args):
        module = AnsibleModule(argument_spec=SPEC, add_file_common_args=True, supports_check_mode=True)
        with pytest.raises(SystemExit):
            _filewrite.edit_config_file(module, str(path), dict(changed=False, path=str(path)), edit,
                                        absent_result=absent_result)
    return json.loads(capsys.readouterr().out)


def upper(before):
    return (before or 'new\n').upper(), None


def test_an_edit_is_written_atomically_and_a_second_one_changes_nothing(tmp_path, capsys):
    path = tmp_path / 'app.conf'
    path.write_text('a = 1\n')
    os.chmod(path, 0o640)
    result = run_edit(capsys, module_for(path), path, upper)
    assert result['changed'] is True and path.read_text() == 'A = 1\n'
    # The rename kept the file's mode and left no temporary file behind.
    assert os.stat(path).st_mode & 0o777 == 0o640 and sorted(os.listdir(tmp_path)) == ['app.conf']
    assert result['diff'][0]['before'] == 'a = 1\n' and result['diff'][0]['after'] == 'A = 1\n'
    again = run_edit(capsys, module_for(path), path, upper)
    assert again['changed'] is False


def test_check_mode_reports_the_change_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / 'app.conf'
    path.write_text('a = 1\n')
    result = run_edit(capsys, module_for(path, check=True), path, upper)
    assert result['changed'] is True and path.read_text() == 'a = 1\n'


def test_a_link_is_written_through_to_its_target_and_stays_a_link(tmp_path, capsys):
    target = tmp_path / 'real.conf'
    target.write_text('a\n')
    link = tmp_path / 'app.conf'
    link.symlink_to(target)
    run_edit(capsys, module_for(link), link, upper)
    assert link.is_symlink() and target.read_text() == 'A\n'


def test_a_missing_file_is_created_only_when_allowed(tmp_path, capsys):
    path = tmp_path / 'app.conf'
    refused = run_edit(capsys, module_for(path, create=False), path, upper)
    assert refused['failed'] is True and refused['msg'] == '%s does not exist; set create: true to create it.' % path
    assert not path.exists()
    made = run_edit(capsys, module_for(path), path, upper)
    assert made['changed'] is True and path.read_text() == 'NEW\n'
    assert made['diff'][0]['before_header'] == '%s (absent)' % path


def test_removing_from_a_missing_file_changes_nothing_and_says_what_is_absent(tmp_path, capsys):
    path = tmp_path / 'app.conf'
    result = run_edit(capsys, module_for(path, state='absent'), path, upper, absent_result={'properties': {}})
    assert result['changed'] is False and result['properties'] == {} and not path.exists()


def test_the_diff_shows_what_display_makes_of_the_texts(tmp_path, capsys):
    path = tmp_path / 'app.conf'
    path.write_text('secret = s3cr3t\n')
    result = run_edit(capsys, module_for(path), path,
                      lambda before: (before + 'b = 2\n', lambda text: text.replace('s3cr3t', '********')))
    assert 's3cr3t' not in json.dumps(result['diff']) and 'b = 2' in result['diff'][0]['after']
    assert path.read_text() == 'secret = s3cr3t\nb = 2\n'


def test_a_directory_that_does_not_exist_fails_naming_it(tmp_path, capsys):
    path = tmp_path / 'nowhere' / 'app.conf'
    result = run_edit(capsys, module_for(path), path, upper)
    assert result['failed'] is True
    assert result['msg'] == 'Cannot write %s: directory %s does not exist.' % (path, path.parent)
