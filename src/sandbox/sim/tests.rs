//! Table tests of the controllers.
