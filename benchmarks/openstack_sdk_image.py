# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The anchor for ``os_instance_snapshot`` in ``make bench``: an instance snapshot done by hand with openstacksdk.

What a user without our module writes: find the server, Nova createImage, wait until Glance says the image is active.
Run as an ``ansible.builtin.command`` task; the cloud comes from clouds.yaml (``OS_CLIENT_CONFIG_FILE``).
"""

from __future__ import annotations

import argparse
import json

import openstack


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", required=True)
    parser.add_argument("--server", required=True, help="name or id")
    parser.add_argument("--name", required=True, help="name of the image to make")
    parser.add_argument("--timeout", type=int, default=1800)
    args = parser.parse_args()
    conn = openstack.connect(cloud=args.cloud)
    server = conn.compute.find_server(args.server, ignore_missing=False)
    image = conn.compute.create_server_image(server, name=args.name)
    image = conn.image.wait_for_status(image, status="active", failures=["killed", "deleted"], interval=2, wait=args.timeout)
    print(json.dumps({"id": image.id, "name": image.name, "status": image.status}))


if __name__ == "__main__":
    main()
