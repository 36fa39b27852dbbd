//! The first page of racing_mmap's counter file (`--file PATH`): text that
//! says what the file is and where its int is. `--attach --file PATH`
//! maps a file only if its first page is exactly this (see [`super::file`]).

use crate::system::page_size;

/// The first line of racing_mmap's counter file: how a joiner, and a
/// person with `head -1`, know what the file is.
pub const COUNTER_HEADER: &str = "racing_mmap counter";

/// The whole first page of a counter file on this machine: two lines of
/// text, then zero bytes up to the page size (the int must start on a page
/// boundary, because `mmap` maps from a multiple of the page size).
pub fn counter_header() -> Vec<u8> {
    let page = page_size() as usize;
    let text = format!(
        "{COUNTER_HEADER}\n\
         The int is the 4 bytes after this page: od -An -td4 -j {page} -N 4 FILE\n"
    );
    let mut bytes = text.into_bytes();
    bytes.resize(page, 0);
    bytes
}

/// `od -An -td4 -j 4096 -N 4 PATH`: the command that prints a counter file's int.
pub fn od_command(path_word: &str) -> String {
    format!("od -An -td4 -j {} -N 4 {path_word}", page_size())
}
