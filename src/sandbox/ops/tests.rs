//! Table tests of the operations.
