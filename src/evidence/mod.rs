//! Evidence: what a run leaves behind is written here — the run folder's files created
//! safely and written atomically, masked by the run's redactor on the way out.
mod files;
mod masked;

pub use files::{
    create_in_run_folder, create_new_file, write_atomic, write_atomic_with, write_json_masked,
};
pub use masked::{MaskedFile, MaskedLog, mask_file_in_place, write_masked};
