//! Path resolution inside preopened directories.
