//! Rebuilds the binary when the files it embeds change: the templates, the
//! Go runtime and the option vocabulary.

fn main() {
    for path in ["templates", "runtime", "proto/mmbindgen/v1/options.proto"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
