"""A Python plugin that implements no hook."""

from mattermost_plugin import Plugin, run

if __name__ == "__main__":
    run(Plugin)
