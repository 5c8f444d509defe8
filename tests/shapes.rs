//! Proto shapes the Go and Python targets must take without failing the
//! run: services without methods (an API and a hooks service that mirror Go
//! interfaces, so both targets cover them; the tree also holds the two
//! files of `proto/` whose messages the Python runtime imports).

use std::fs;

use mm_bindgen::render::Templates;
use mm_bindgen::{lower, pipeline};

const EMPTY_SERVICES: &str = r#"syntax = "proto3";

package empty.v1;

import "mmbindgen/v1/options.proto";

option go_package = "mmbindgen.dev/generated/go/pluginpb";
option (mmbindgen.v1.file) = {
  go_import: [{alias: "plugin" path: "github.com/mattermost/mattermost/server/public/plugin"}]
};

// An API with nothing in it yet.
service EmptyAPI {
  option (mmbindgen.v1.service).go_interface = "plugin.API";
}

// Hooks with nothing in them yet.
service EmptyHooks {
  option (mmbindgen.v1.service).go_interface = "plugin.Hooks";
  option (mmbindgen.v1.service).hooks = true;
}

message Unused {}
"#;

/// A proto root with the empty services and the files the Python runtime
/// needs.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("empty.proto"), EMPTY_SERVICES).unwrap();
    let shared = dir.path().join("mattermost/plugin/v1");
    fs::create_dir_all(&shared).unwrap();
    for name in ["common.proto", "model_file.proto"] {
        fs::copy(format!("proto/mattermost/plugin/v1/{name}"), shared.join(name)).unwrap();
    }
    dir
}

#[test]
fn services_without_methods_are_lowered_by_the_go_and_python_targets() {
    let dir = tree();
    let model = pipeline::model(dir.path()).unwrap_or_else(|f| panic!("{f}"));
    let files = lower::lower(&model, &Default::default()).unwrap_or_else(|f| panic!("{f}"));
    let from_empty = |prefix: &str| {
        files
            .iter()
            .filter(|f| f.path.starts_with(prefix))
            .filter(|f| {
                let view = serde_json::to_value(&f.view).unwrap();
                view["header"]["sources"].as_array().is_some_and(|s| s.iter().any(|s| s == "empty.proto"))
            })
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>()
    };
    // The Go adapters of both services (their file names are the Go
    // target's business).
    let go = from_empty("go/");
    assert!(go.len() >= 2, "Go files from empty.proto: {go:?}");
    let python = from_empty("python/");
    for wanted in ["client.py", "hooks.py", "_servicer.py"] {
        let path = format!("python/mattermost_plugin/{wanted}");
        assert!(python.contains(&path.as_str()), "{path} in {python:?}");
    }
}

#[test]
fn services_without_methods_render_in_every_target() {
    let dir = tree();
    // The whole run up to the written text: the strict check of every
    // template sees empty lists of methods and hooks.
    let rendered = pipeline::generate(dir.path(), Templates::Embedded, &[], dir.path(), &Default::default())
        .unwrap_or_else(|f| panic!("{f}"));
    for path in ["docs/index.md", "python/mattermost_plugin/client.py", "python/mattermost_plugin/hooks.py"] {
        assert!(rendered.contains_key(path), "{path} in {:?}", rendered.keys().collect::<Vec<_>>());
    }
    assert!(rendered.keys().any(|p| p.starts_with("go/bridge/")), "the Go bridge");
}
