// Keeps the pinned Mattermost packages the gate loads at run time in go.mod
// and go.sum: `go mod tidy` keeps what this file imports, and no build
// compiles it (it needs the `pin` tag).

//go:build pin

package parity

import (
	_ "github.com/mattermost/mattermost/server/public/model"
	_ "github.com/mattermost/mattermost/server/public/plugin"
)
