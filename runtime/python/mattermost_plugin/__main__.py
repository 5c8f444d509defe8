"""`python -m mattermost_plugin`: the command line of the SDK (`bundle`)."""

import sys

from ._bundle import main

if __name__ == "__main__":
    sys.exit(main())
