# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m openstack_real [serve|start|stop|status|rss]``: the real OpenStack services on loopback.

``serve`` (default, ``make openstack-real``): start, print the clouds.yaml path, run until SIGINT/SIGTERM, stop.
``start``: start in the background and return once nova-compute and cinder-volume report up. ``stop``: stop them.
``status``: exit 0 when they run. ``rss``: their resident memory in KiB.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from openstack_real import launcher


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openstack_real", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "start", "stop", "status", "rss"))
    args = parser.parse_args(argv)
    paths = launcher.Paths(launcher.state_dir())
    try:
        if args.command == "stop":
            launcher.stop(paths)
            return 0
        if args.command == "status":
            return 0 if launcher.running(paths) else 1
        if args.command == "rss":
            print(launcher.memory_rss_kib(paths))
            return 0
        stop_requested = threading.Event()
        if args.command == "serve":
            signal.signal(signal.SIGINT, lambda *_: stop_requested.set())
            signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
        clouds_yaml = launcher.start(paths)
        print(clouds_yaml, flush=True)
        if args.command == "start":
            return 0
        launcher.log(f"serving; clouds {launcher.CLOUD} (member) and {launcher.ADMIN_CLOUD} (admin, test setup only) in {clouds_yaml};"
                     " Ctrl-C stops")
        while not stop_requested.wait(0.5):
            pass
        launcher.stop(paths)
        return 0
    except launcher.LaunchError as error:
        sys.stderr.write(f"openstack-real: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
