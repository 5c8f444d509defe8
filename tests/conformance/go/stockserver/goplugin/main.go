// Command goplugin is a Go plugin to compare the shim with: built with
// -tags empty it implements no hook; otherwise it implements
// MessageWillBePosted (the hook that is timed) and ExecuteCommand (which
// times KVGet calls, as the Python plugin's "bench" command does).
package main

import (
	"github.com/mattermost/mattermost/server/public/plugin"
)

func main() {
	plugin.ClientMain(newPlugin())
}
