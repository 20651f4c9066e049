"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test (ansible_test/_util/target/setup/requirements.py, ``bootstrap()``) fetches
``get-pip-<version>.py`` from the Ansible CI file host, caches it as
``~/.ansible/test/cache/get_pip_<version with dots as underscores>.py`` and runs it as a
module (via quiet_pip.py / runpy) inside each fresh virtual environment with arguments like::

    --disable-pip-version-check pip==25.2 --no-setuptools --no-wheel

That host is unreachable here, so ``tools/install-get-pip-standin.sh`` copies this file to the
cache path and puts ``pip-<version>-py3-none-any.whl`` beside it. Like the real script, this
puts the pip wheel on ``sys.path`` and runs ``pip install`` with the given arguments; pip
installs itself from the configured index (or its local wheel mirror / find-links). The two
flags that only the real get-pip.py understands are dropped.
"""

import glob
import os
import sys

# flags understood by the real get-pip.py, not by `pip install`
GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}


def find_wheel():
    """Return the pip wheel that sits beside this script (name pinned by the installer)."""
    here = os.path.dirname(os.path.abspath(__file__))
    version = os.path.splitext(os.path.basename(__file__))[0][len("get_pip_"):].replace("_", ".")
    exact = os.path.join(here, "pip-%s-py3-none-any.whl" % version)
    if os.path.isfile(exact):
        return exact
    candidates = sorted(glob.glob(os.path.join(here, "pip-*-py3-none-any.whl")))
    if candidates:
        return candidates[-1]
    sys.exit("get-pip stand-in: no pip wheel found beside %s (run `make get-pip-standin`)" % __file__)


def main():
    wheel = find_wheel()
    sys.path.insert(0, wheel)  # pip runs from its own wheel, as in the real get-pip.py
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    requirements = [arg for arg in args if not arg.startswith("-")]
    # offer the wheel itself; when only that pip is asked for (ansible-test's bootstrap),
    # install it without any index: no network needed at all
    options = ["--find-links", os.path.dirname(wheel)]
    wanted = "pip==" + os.path.basename(wheel).split("-")[1]
    if requirements and all(req == wanted for req in requirements):
        options.append("--no-index")
    args = ["install"] + options + args

    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    sys.exit(pip_main(args))


if __name__ == "__main__":
    main()
