"""The Hadoop rig itself: what the module tests rely on is checked here, against the real daemons."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest


def edit_properties(site_file, props, remove_prefix=None):
    """Set `props` in a Hadoop site file and drop names starting with `remove_prefix`, in place."""
    tree = ET.parse(site_file)
    root = tree.getroot()
    for prop in list(root.findall('property')):
        name = prop.findtext('name') or ''
        if name in props or (remove_prefix and name.startswith(remove_prefix)):
            root.remove(prop)
    for name, value in props.items():
        prop = ET.SubElement(root, 'property')
        ET.SubElement(prop, 'name').text = name
        ET.SubElement(prop, 'value').text = value
    tree.write(site_file, encoding='utf-8', xml_declaration=True)


@pytest.fixture
def core_site_without_livy(hadoop):
    """The rig's core-site.xml with no hadoop.proxyuser.livy.* (whatever earlier tests left there),
    in force; the file as it was is put back, and re-read, afterwards."""
    with hadoop.core_site_restored():
        edit_properties(hadoop.core_site, {}, remove_prefix='hadoop.proxyuser.livy.')
        hadoop.refresh_proxy_users()
        yield hadoop.core_site


def test_webhdfs_lists_the_root(hadoop):
    status, body = hadoop.webhdfs('GET', '/', 'LISTSTATUS', user='shirley')
    assert status == 200, body
    entries = {entry['pathSuffix']: entry for entry in body['FileStatuses']['FileStatus']}
    assert (entries['user']['owner'], entries['user']['group'], entries['user']['permission']) == \
        ('hdfs', 'supergroup', '755')
    assert entries['tmp']['permission'] == '1777'


def test_a_file_goes_through_the_datanode(hadoop):
    status, body = hadoop.webhdfs('PUT', '/tmp/rig-roundtrip.txt', 'CREATE', user='hdfs',
                                  data=b'written through WebHDFS\n', overwrite='true')
    assert status == 201, body
    status, body = hadoop.webhdfs('GET', '/tmp/rig-roundtrip.txt', 'OPEN', user='shirley')
    assert (status, body) == (200, 'written through WebHDFS\n')
    proc = hadoop.hdfs('dfs', '-cat', '/tmp/rig-roundtrip.txt', user='shirley', check=True)
    assert proc.stdout == 'written through WebHDFS\n'
    hadoop.hdfs('dfs', '-rm', '-skipTrash', '/tmp/rig-roundtrip.txt', user='hdfs', check=True)


def test_permissions_are_enforced(hadoop):
    proc = hadoop.hdfs('dfs', '-mkdir', '/user/rig-shirley', user='shirley')
    assert proc.returncode != 0
    assert 'Permission denied: user=shirley, access=WRITE, inode="/user"' in proc.stderr

    status, body = hadoop.webhdfs('PUT', '/user/rig-shirley', 'MKDIRS', user='shirley')
    assert status == 403, body
    assert body['RemoteException']['exception'] == 'AccessControlException'
    refused = [(r['ugi'], r['cmd'], r.get('proto')) for r in hadoop.audit_log()
               if r['src'] == '/user/rig-shirley' and not r['allowed']]
    assert refused == [('shirley', 'mkdirs', 'rpc'), ('shirley', 'mkdirs', 'webhdfs')]

    # The superuser may, and can hand the directory over.
    hadoop.hdfs('dfs', '-mkdir', '/user/rig-shirley', user='hdfs', check=True)
    hadoop.hdfs('dfs', '-chown', 'shirley:shirley', '/user/rig-shirley', user='hdfs', check=True)
    hadoop.hdfs('dfs', '-mkdir', '/user/rig-shirley/notebooks', user='shirley', check=True)
    hadoop.hdfs('dfs', '-rm', '-r', '-skipTrash', '/user/rig-shirley', user='hdfs', check=True)


def test_getconf_reads_the_conf_dir(hadoop):
    proc = hadoop.hdfs('getconf', '-confKey', 'fs.defaultFS', check=True)
    assert proc.stdout.strip() == hadoop.namenode_rpc
    proc = hadoop.hdfs('getconf', '-confKey', 'dfs.permissions.superusergroup', check=True)
    assert proc.stdout.strip() == 'supergroup'


def test_namenode_rereads_core_site_on_refresh(hadoop, core_site_without_livy):
    def impersonate(target):
        return hadoop.webhdfs('GET', '/user', 'GETFILESTATUS', user='livy', doas=target)

    status, body = impersonate('shirley')
    assert status == 403, body
    assert 'User: livy is not allowed to impersonate shirley' in body['RemoteException']['message']

    edit_properties(core_site_without_livy, {
        'hadoop.proxyuser.livy.hosts': '127.0.0.1',
        'hadoop.proxyuser.livy.users': 'shirley',
    })
    # Written, but not yet read: the NameNode keeps its proxy-user table until told.
    assert impersonate('shirley')[0] == 403

    proc = hadoop.hdfs('dfsadmin', '-refreshSuperUserGroupsConfiguration', user='hdfs', check=True)
    assert 'Refresh super user groups configuration successful' in proc.stdout

    status, body = impersonate('shirley')
    assert status == 200, body
    assert body['FileStatus']['owner'] == 'hdfs'
    status, body = impersonate('hdfs')
    assert status == 403, body
    assert 'User: livy is not allowed to impersonate hdfs' in body['RemoteException']['message']


def test_resourcemanager_rereads_core_site_on_refresh(hadoop, core_site_without_livy):
    if not hadoop.yarn_enabled:
        pytest.fail('the rig was started without YARN (start --no-yarn)')

    def list_apps_as_shirley():
        # livy's own identity over RPC, acting for shirley, as Livy submits a user's session.
        return hadoop.yarn('application', '-list', user='livy', proxy_user='shirley')

    proc = list_apps_as_shirley()
    assert proc.returncode != 0
    assert 'User: livy is not allowed to impersonate shirley' in proc.stderr

    edit_properties(core_site_without_livy, {
        'hadoop.proxyuser.livy.hosts': '127.0.0.1',
        'hadoop.proxyuser.livy.users': 'shirley',
    })
    # The NameNode's refresh is not the ResourceManager's.
    hadoop.hdfs('dfsadmin', '-refreshSuperUserGroupsConfiguration', user='hdfs', check=True)
    assert list_apps_as_shirley().returncode != 0

    # yarn.admin.acl is "yarn hadoop": livy is neither.
    proc = hadoop.yarn('rmadmin', '-refreshSuperUserGroupsConfiguration', user='livy')
    assert proc.returncode != 0
    assert 'User livy doesn\'t have permission to call \'refreshSuperUserGroupsConfiguration\'' in proc.stderr

    hadoop.yarn('rmadmin', '-refreshSuperUserGroupsConfiguration', user='yarn', check=True)
    proc = list_apps_as_shirley()
    assert proc.returncode == 0, proc.stderr
    assert 'Total number of applications' in proc.stdout + proc.stderr

    with open(os.path.join(hadoop.run_dir, 'logs', 'resourcemanager.log')) as handle:
        audit = [line for line in handle if 'OPERATION=refreshSuperUserGroupsConfiguration' in line]
    assert any('USER=yarn' in line and 'RESULT=SUCCESS' in line for line in audit), audit
