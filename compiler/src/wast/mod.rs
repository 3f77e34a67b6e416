//! `.wast` script runner.
