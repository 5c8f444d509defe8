// Command shim is the executable of a Python plugin's bundle: a Go plugin
// that runs the bundle's Python plugin (bridge.ShimMain). The bundle command
// (python -m mattermost_plugin bundle --shim-package) builds it for every
// platform of the bundle; it lives in this module because this module pins
// the Mattermost version the bridge is generated for.
package main

import "mmbindgen.dev/generated/go/bridge"

func main() {
	bridge.ShimMain()
}
