//! The message modules: `_pb2.py`, `_pb2.pyi` and `_pb2_grpc.py` for every
//! compiled file, written from the descriptors without protoc.

use super::super::OutputFile;
use crate::diag::Result;
use crate::model::Model;

/// The message modules of every file in `model.descriptors`.
pub fn modules(_model: &Model) -> Result<Vec<OutputFile>> {
    Ok(Vec::new())
}
