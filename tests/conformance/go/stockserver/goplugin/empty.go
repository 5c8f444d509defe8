//go:build empty

package main

import "github.com/mattermost/mattermost/server/public/plugin"

type emptyPlugin struct {
	plugin.MattermostPlugin
}

func newPlugin() any { return &emptyPlugin{} }
