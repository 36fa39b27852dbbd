//! The short assertions on what a program said, under the path most of
//! the kit's files import them from; they live in [`output`](crate::output).

pub use crate::output::{
    exits, fails_without_result, never_says, says, says_first, says_last, says_once,
};
