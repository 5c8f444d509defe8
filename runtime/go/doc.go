// Package bridge connects the Mattermost plugin interfaces to their gRPC
// services, in both directions:
//
//   - APIServer serves the PluginAPI service by calling a plugin.API, and
//     APIClient implements plugin.API by calling the service;
//   - HooksServer serves the PluginHooks service by calling a plugin.Hooks,
//     and HooksClient implements plugin.Hooks by calling the service, asking
//     the plugin once which hooks it implements and answering the others
//     itself, as each hook's documentation says;
//   - Converter converts every model type to and from its message;
//   - Launch runs a Python plugin: it serves the plugin's API calls with an
//     APIServer and starts the plugin process through go-plugin, as
//     Mattermost starts a Go plugin, and returns the plugin's HooksClient.
//
// Errors follow one convention: an error result crosses as the AppError in
// field 1 of the response, every field kept; gRPC status codes only report
// transport failures.
package bridge
