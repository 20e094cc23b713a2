//! Chat: the adapters that bring incidents to people and their decisions and questions back.

pub mod matrix;
