# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Serve one OpenStack service's WSGI ``application`` with cheroot (run inside the services' venv).

``serve_wsgi.py MODULE HOST PORT [-- service arguments]``: the service arguments become ``sys.argv[1:]`` before
the module is imported (nova, neutron and cinder parse their ``--config-file`` options from there).
"""

import importlib
import signal
import sys


def main():
    module_name, host, port = sys.argv[1:4]
    rest = sys.argv[4:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    sys.argv = [module_name] + rest
    application = importlib.import_module(module_name).application
    from cheroot import wsgi  # pylint: disable=import-outside-toplevel
    server = wsgi.Server((host, int(port)), application, numthreads=8, server_name=module_name)

    def stop(_signum, _frame):
        server.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    server.start()


if __name__ == "__main__":
    main()
