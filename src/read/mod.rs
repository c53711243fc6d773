//! Readers: one input file -> its usable sheets, as typed rows.
//!
//! Every format sits behind [`read_file`]: the extension picks the reader,
//! each reader streams its rows into a [`collect::Collector`], which keeps
//! the usable sheets ([`collect`]) typed as pandas types them ([`infer`]).

mod collect;
mod csv;
mod encoding;
mod excel;
pub mod gb18030;
mod infer;
pub mod isolate;
mod xlsx;

use std::path::Path;

use crate::error::{FileError, FileErrorKind};

use self::collect::Collector;
pub use self::collect::{find_required, Keep, ReadOptions, Replayed, Sheet, SpillTo, Workbook};
pub use self::encoding::{decode, Encoding};
pub use self::infer::{parse_numeric, reread_value, ColumnKinds, RereadKinds};
pub use self::xlsx::{sheet_cells_for_tests, sheet_cells_parallel_for_tests};

/// Read one input file. The format is chosen by extension.
pub fn read_file(
    path: &Path,
    opts: &ReadOptions,
    keep: &mut Keep<'_>,
) -> Result<Workbook, FileError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let meta = std::fs::metadata(path).map_err(|e| FileError::new(path, FileErrorKind::open(e)))?;
    // A FIFO or a device (a link to /dev/zero, say) could block or never
    // end: only regular files are read.
    if !meta.is_file() {
        let e = std::io::Error::other("not a regular file");
        return Err(FileError::new(path, FileErrorKind::open(e)));
    }
    if meta.len() == 0 {
        return Err(FileError::new(path, FileErrorKind::EmptyFile));
    }
    let mut collector = Collector::new(opts, keep);
    match ext.as_str() {
        "csv" => csv::read(path, opts, &mut collector),
        "xlsx" | "xlsm" => xlsx::read(path, &mut collector),
        _ => excel::read(path, &ext, &mut collector),
    }
    .map_err(|kind| FileError::new(path, kind))?;
    collector
        .finish()
        .map_err(|kind| FileError::new(path, kind))
}
