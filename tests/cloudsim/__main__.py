# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m cloudsim``: run the local test clouds in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from cloudsim import playbook_files
from cloudsim.server import SIMULATOR_FACTORIES, CloudSimServer, remove_endpoints_if_ours, write_endpoints_atomically, write_text_atomically


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cloudsim", description="Local test clouds for snapkit.cloud.")
    parser.add_argument("--endpoints", metavar="FILE",
                        help="write the endpoints JSON here, and beside it an Ansible vars file, an environment file and a "
                             "clouds.yaml for playbooks (all removed on exit)")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second (default 1; 0 freezes time)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--services", default=",".join(SIMULATOR_FACTORIES),
                        help=f"comma-separated simulators to run (default and known: {','.join(SIMULATOR_FACTORIES)})")
    parser.add_argument("--log-requests", action="store_true", help="log every HTTP request to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="cloudsim %(levelname)s %(name)s: %(message)s")
    services = [service.strip() for service in args.services.split(",") if service.strip()]
    try:
        cloud = CloudSimServer(services, speed=args.speed, host=args.host, log_requests=args.log_requests)
    except ValueError as error:
        sys.stderr.write(f"cloudsim: {error}\n")
        return 2
    stop_requested = threading.Event()

    def request_stop(_signum, _frame):
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    cloud.start()
    endpoints = cloud.endpoints()
    companions = {}
    try:
        if args.endpoints:
            # The playbook files first: a client that waits for the endpoints file finds them too.
            companions = playbook_files.write(args.endpoints, endpoints, clouds_yaml(cloud), write_text_atomically)
            write_endpoints_atomically(args.endpoints, endpoints)
        logging.getLogger("cloudsim").info("serving %s", endpoints)
        # A timeout keeps the main thread responsive to signals on every platform.
        while not stop_requested.wait(0.2):
            pass
    finally:
        if args.endpoints and remove_endpoints_if_ours(args.endpoints):
            for path in companions.values():
                _remove(path)
        cloud.stop()
    return 0


def clouds_yaml(cloud: CloudSimServer) -> dict | None:
    """The clouds.yaml of the OpenStack simulator (cloud ``devstack``), None when it does not run."""
    from cloudsim.openstack import fixtures  # pylint: disable=import-outside-toplevel
    openstack = next((simulator for simulator in cloud.simulators if simulator.name == "openstack"), None)
    if openstack is None:
        return None
    return fixtures.clouds_yaml(openstack.cloud, openstack.endpoint_url, playbook_files.CLOUD_NAME)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    sys.exit(main())
