"""The sandbox master node's hub: dummy logins, and one service whose token may manage users."""

from pathlib import Path

# get_config is defined by JupyterHub in the namespace it loads this file into.
c = get_config()  # pylint: disable=undefined-variable  # noqa: F821

c.JupyterHub.bind_url = 'http://:8000'
c.JupyterHub.hub_bind_url = 'http://127.0.0.1:8081'
c.JupyterHub.db_url = 'sqlite:////var/lib/jupyterhub/jupyterhub.sqlite'
c.JupyterHub.cookie_secret_file = '/var/lib/jupyterhub/jupyterhub_cookie_secret'
c.JupyterHub.pid_file = '/var/lib/jupyterhub/jupyterhub.pid'
c.ConfigurableHTTPProxy.pid_file = '/var/lib/jupyterhub/jupyterhub-proxy.pid'

c.JupyterHub.authenticator_class = 'dummy'
c.Authenticator.allow_all = True

# The token is made on the hub container's first start (/usr/local/libexec/dn/hub-token).
c.JupyterHub.services = [
    {'name': 'ops', 'api_token': Path('/etc/jupyterhub/service-token').read_text().strip()},
]
# tokens: the role makes each notebook user's Livy gate token (livy_impersonation_gate).
c.JupyterHub.load_roles = [
    {'name': 'ops', 'scopes': ['admin:users', 'tokens'], 'services': ['ops']},
]
