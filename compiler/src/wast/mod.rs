//! `.wast` script runner (being written).
use std::path::{Path, PathBuf};
/// Run scripts.
pub fn main(_files: &[PathBuf], _skips: Option<&Path>, _o: &crate::Options) -> anyhow::Result<bool> {
    anyhow::bail!("not yet")
}
